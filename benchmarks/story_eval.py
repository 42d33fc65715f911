"""Precision and recall of story grouping on labelled pairs of real feed items.

`python -m benchmarks.story_eval` parses every feed file that `data/story_pairs.tsv` names
with the rss connector's parser (each file is one source of kind "rss"), runs all their
items, oldest first, through the same `StoryIndex` the store uses, and checks each labelled
pair: was it put in one story? It also lists the groups no labelled pair explains, so a
false merge outside the labelled set is seen too. The items stay in ../shared/corpora/feeds/
(set VIGIA_SHARED_DIR to move it); the data file only references them.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from classifiers.fingerprint import post_text, story_text
from classifiers.stories import DEFAULT_WINDOW, StoryIndex, story_post
from classifiers.text import words
from connectors.feed_parse import parse_feed
from monitor.core.rawpost import RawPost

PAIRS = Path(__file__).with_name("data") / "story_pairs.tsv"
REPO = Path(__file__).resolve().parents[1]
#: Items without a date are treated as fetched at one moment, as one run would store them.
UNDATED = datetime(2026, 1, 1, tzinfo=UTC)


def feeds_dir() -> Path:
    return Path(os.environ.get("VIGIA_SHARED_DIR", REPO.parent / "shared")) / "corpora" / "feeds"


@dataclass(frozen=True)
class Pair:
    a: tuple[str, str]
    b: tuple[str, str]
    same: bool
    note: str


@dataclass(frozen=True)
class Scores:
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int
    unexplained: list[list[tuple[str, str]]]

    @property
    def precision(self) -> float:
        grouped = self.true_pos + self.false_pos
        return self.true_pos / grouped if grouped else 1.0

    @property
    def recall(self) -> float:
        same = self.true_pos + self.false_neg
        return self.true_pos / same if same else 1.0


def read_pairs(path: Path = PAIRS) -> list[Pair]:
    with path.open(encoding="utf-8") as handle:
        rows = csv.DictReader(
            (line for line in handle if not line.startswith("#")), delimiter="\t"
        )
        return [
            Pair(
                (row["file_a"], row["id_a"]),
                (row["file_b"], row["id_b"]),
                row["label"] == "same",
                row["note"],
            )
            for row in rows
        ]


def group(posts: list[RawPost]) -> dict[tuple[str, str], Hashable]:
    """(file, external id) → story id, grouping the posts oldest first like the store does."""
    index = StoryIndex(DEFAULT_WINDOW)
    story_of: dict[tuple[str, str], Hashable] = {}
    ordered = sorted(posts, key=lambda p: (p.published_at or UNDATED, p.source, p.external_id))
    for post in ordered:
        item = story_post(
            post_text(post),
            post.author_handle or post.author,
            post.source,
            "rss",
            post.published_at or UNDATED,
        )
        key = (post.source, post.external_id)
        found = index.find(item)
        if found is None:
            index.add(key, item)
            found = key
        story_of[key] = found
    return story_of


def group_by_headline(posts: list[RawPost]) -> dict[tuple[str, str], Hashable]:
    """The baseline: the rule Vigía had before stories, one key forever per folded headline
    (six words or more), else per author and text."""
    story_of: dict[tuple[str, str], Hashable] = {}
    for post in posts:
        title = " ".join(words(post.title or ""))
        if title.count(" ") + 1 >= 6:
            key: Hashable = ("title", title)
        else:
            author = " ".join(words(post.author_handle or post.author or ""))
            key = ("post", author, " ".join(words(post.full_text()))[:2000])
        story_of[(post.source, post.external_id)] = key
    return story_of


def _posts(pairs: list[Pair], feeds: Path) -> list[RawPost]:
    """Every item of every feed file the pairs name (the unlabelled ones are distractors)."""
    files = sorted({p.a[0] for p in pairs} | {p.b[0] for p in pairs})
    return [
        post
        for name in files
        for post in parse_feed((feeds / name).read_bytes(), source=name).posts
    ]


def evaluate(
    pairs: list[Pair],
    feeds: Path,
    grouping: Callable[[list[RawPost]], dict[tuple[str, str], Hashable]] = group,
) -> Scores:
    story_of = grouping(_posts(pairs, feeds))
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for pair in pairs:
        if pair.a not in story_of or pair.b not in story_of:
            continue  # an item the feed parser does not yield under that id (see `unparsed`)
        together = story_of[pair.a] == story_of[pair.b]
        outcome = ("tp" if together else "fn") if pair.same else ("fp" if together else "tn")
        counts[outcome] += 1
    explained = {frozenset((p.a, p.b)) for p in pairs if p.same}
    groups: dict[Hashable, list[tuple[str, str]]] = {}
    for key, story in story_of.items():
        groups.setdefault(story, []).append(key)
    unexplained = [
        members
        for members in groups.values()
        if len(members) > 1
        and not all(
            frozenset((members[0], other)) in explained for other in members[1:]
        )
    ]
    return Scores(counts["tp"], counts["fp"], counts["fn"], counts["tn"], unexplained)


def speed(posts: list[RawPost], stories: int = 5000, batch: int = 200) -> float:
    """Milliseconds to place one post among `stories` candidates (a busy brand's 72 h).

    Candidate headlines are eight words drawn from the corpus's own title words, so many of
    them share words with the batch, as a brand's stories do.
    """
    rng = random.Random(7)
    vocabulary = sorted({w for p in posts for w in (p.title or "").split() if len(w) > 3})
    at = UNDATED

    def headline() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(8))

    index = StoryIndex(DEFAULT_WINDOW)
    for n in range(stories):
        index.add(n, story_post(story_text(headline(), ""), f"author{n}", n % 50, "rss", at))
    queries = [story_post(story_text(headline(), ""), "x", "new", "rss", at) for _ in range(batch)]
    started = time.perf_counter()
    for query in queries:
        index.find(query)
    return (time.perf_counter() - started) * 1000 / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=Path, default=feeds_dir())
    parser.add_argument("--pairs", type=Path, default=PAIRS, help="the labelled pairs (TSV)")
    args = parser.parse_args()
    pairs = read_pairs(args.pairs)
    scores, posts = evaluate(pairs, args.feeds), _posts(pairs, args.feeds)
    baseline = evaluate(pairs, args.feeds, group_by_headline)
    same = sum(p.same for p in pairs)
    print(f"labelled pairs: {len(pairs)} ({same} same story, {len(pairs) - same} different)")
    known = {(post.source, post.external_id) for post in posts}
    unparsed = [p for p in pairs if p.a not in known or p.b not in known]
    if unparsed:
        print(f"left out: {len(unparsed)} pairs naming an item the feed parser does not yield")
    for name, result in (("stories", scores), ("baseline: one key per headline", baseline)):
        print(
            f"{name}: precision {result.precision:.3f}  recall {result.recall:.3f}  "
            f"(tp {result.true_pos}, fp {result.false_pos}, fn {result.false_neg}, "
            f"tn {result.true_neg})"
        )
    print(f"groups outside the labelled pairs: {len(scores.unexplained)}")
    for members in scores.unexplained:
        print("  " + " + ".join(f"{name}#{ident}" for name, ident in members))
    print(f"speed: {speed(posts):.2f} ms per post against 5000 candidate stories")


if __name__ == "__main__":
    main()
