"""Which posts are one story: near-duplicate grouping within a time window.

A story is what syndication makes: copies of one article across outlets (its own feed, Google
News, an aggregator) within `[stories] window` (72 h by default). Each copy is still a post of
its own (one `MentionSource` row per source and external id), so volume counts posts while the
digest lists stories. Two posts are the same story when all of these hold:

* they were published within the window of each other (the same headline a year later is
  news again);
* neither comes from a social or forum source (`SOCIAL_KINDS`) unless both have the same
  author: five people writing "Calderix caída total, sin fibra ni móvil" are five complaints;
* they do not come from the same feed under different authors: an outlet does not publish
  its own story twice, so that is a forum (aggregators such as Google News credit each outlet
  as the author and are exempt);
* both are titled or both are not, and no number differs ("fortify-headers 2.0" / "2.1");
* their texts (`classifiers.fingerprint.story_text`) score at least `SIMILARITY` with rapidfuzz's
  `token_sort_ratio` (word order ignored), comparing also each headline without an appended
  " - Outlet".

`StoryIndex` holds the candidate stories (those already stored within the window, and the
ones a batch creates) and finds a post's story with rapidfuzz's C++ `process.extract`, so a
batch costs one vectorised scan of the candidates per post. The thresholds were chosen on the
labelled pairs in `benchmarks/data/story_pairs.tsv` (`python -m benchmarks.story_eval`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process

from classifiers.fingerprint import StoryText, fold_words

DEFAULT_WINDOW = timedelta(hours=72)
SIMILARITY = 90.0
SOCIAL_KINDS = frozenset({"mastodon", "bluesky", "reddit", "hackernews", "youtube"})
AGGREGATOR_KINDS = frozenset({"google_news"})


@dataclass(frozen=True, slots=True)
class StoryPost:
    """One post (or a stored story's lead post) as grouping sees it."""

    text: StoryText
    author: str
    source: Hashable
    kind: str
    at: datetime


def story_post(
    text: StoryText, author: str | None, source: Hashable, kind: str, at: datetime
) -> StoryPost:
    return StoryPost(text, fold_words(author or ""), source, kind, at)


def outlet_name(source_name: str, kind: str, author: str | None) -> str:
    """Who carried a post: the source, or for an aggregator the outlet it credits."""
    return author if kind in AGGREGATOR_KINDS and author else source_name


def may_merge(a: StoryPost, b: StoryPost, window: timedelta) -> bool:
    """Every rule of the module docstring except the text similarity."""
    if abs(a.at - b.at) > window or a.text.titled != b.text.titled:
        return False
    social = a.kind in SOCIAL_KINDS or b.kind in SOCIAL_KINDS
    if social and (not a.author or a.author != b.author):
        return False
    if (
        a.source == b.source
        and a.kind not in AGGREGATOR_KINDS
        and a.author
        and b.author
        and a.author != b.author
    ):
        return False
    return not (a.text.numbers and b.text.numbers and a.text.numbers != b.text.numbers)


def _sorted(text: str) -> str:
    """Words in order: `fuzz.ratio` of sorted words is `token_sort_ratio`, sorted once."""
    return " ".join(sorted(text.split()))


def similarity(a: StoryText, b: StoryText) -> float:
    """The best score of the two texts, stripping a " - Outlet" suffix from at most one."""
    return max(
        fuzz.ratio(_sorted(a.key), _sorted(b.key)),
        fuzz.ratio(_sorted(a.bare), _sorted(b.key)),
        fuzz.ratio(_sorted(a.key), _sorted(b.bare)),
    )


def same_story(a: StoryPost, b: StoryPost, window: timedelta = DEFAULT_WINDOW) -> bool:
    return may_merge(a, b, window) and similarity(a.text, b.text) >= SIMILARITY


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story as `StoryIndex` scans it: its id, lead post and the lead's sorted texts
    (sorted once, so a cache of candidates is not sorted again for every batch)."""

    story_id: Hashable
    post: StoryPost
    key: str
    bare: str


def candidate(story_id: Hashable, post: StoryPost) -> Candidate:
    return Candidate(story_id, post, _sorted(post.text.key), _sorted(post.text.bare))


@dataclass(frozen=True, slots=True)
class Match:
    """The story a post joins, and how similar they are."""

    story_id: Hashable
    score: float


def better(a: Match | None, b: Match | None) -> Match | None:
    """The better of two matches from two indexes, `a`'s holding the older candidates: the
    higher score wins, and on a tie `a`, as one index over both would choose."""
    if a is None or (b is not None and b.score > a.score):
        return b
    return a


class _Group:
    """Some of an index's candidates: their places in it and their sorted texts."""

    __slots__ = ("bares", "keys", "places")

    def __init__(self) -> None:
        self.places: list[int] = []
        self.keys: list[str] = []
        self.bares: list[str] = []

    def add(self, place: int, found: Candidate) -> None:
        self.places.append(place)
        self.keys.append(found.key)
        self.bares.append(found.bare)


class StoryIndex:
    """Candidate stories, each known by an id and its lead post; finds a post's story.

    A post is scanned only against the candidates `may_merge` could allow by their texts
    alone: those titled as it is and, when it has numbers, with the same numbers or none.
    That is exact (the rules reject the rest anyway) and spares most of the scan where
    headlines carry numbers (dates, figures, versions).
    """

    def __init__(
        self,
        window: timedelta = DEFAULT_WINDOW,
        stories: Iterable[tuple[Hashable, StoryPost]] = (),
        *,
        candidates: Iterable[Candidate] = (),
    ) -> None:
        self.window = window
        self._ids: list[Hashable] = []
        self._posts: list[StoryPost] = []
        self._titled: dict[bool, _Group] = {}  # every candidate, by titled
        self._numbered: dict[tuple[bool, tuple[str, ...]], _Group] = {}  # by titled, numbers
        for found in candidates:
            self.add_candidate(found)
        for story_id, post in stories:
            self.add(story_id, post)

    def add(self, story_id: Hashable, post: StoryPost) -> None:
        self.add_candidate(candidate(story_id, post))

    def add_candidate(self, found: Candidate) -> None:
        place = len(self._ids)
        self._ids.append(found.story_id)
        self._posts.append(found.post)
        text = found.post.text
        self._titled.setdefault(text.titled, _Group()).add(place, found)
        self._numbered.setdefault((text.titled, text.numbers), _Group()).add(place, found)

    def _groups(self, text: StoryText) -> list[_Group]:
        if not text.numbers:
            return [self._titled[text.titled]] if text.titled in self._titled else []
        keys = ((text.titled, text.numbers), (text.titled, ()))
        return [self._numbered[key] for key in keys if key in self._numbered]

    def find(self, post: StoryPost) -> Hashable | None:
        """The id of the story `post` belongs to, or None for a new story."""
        match = self.best(post)
        return None if match is None else match.story_id

    def best(self, post: StoryPost) -> Match | None:
        """The most similar candidate that the rules allow, on a tie the oldest one; None
        for a new story."""
        if not post.text.key:
            return None
        key, bare = _sorted(post.text.key), _sorted(post.text.bare)
        scores: dict[int, float] = {}
        for group in self._groups(post.text):
            scans = [(key, group.keys), (key, group.bares)]
            if bare != key:  # the post's own suffix stripped, against the candidates as is
                scans.append((bare, group.keys))
            for query, choices in scans:
                for _, score, index in process.extract(
                    query, choices, scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=None
                ):
                    place = group.places[index]
                    scores[place] = max(score, scores.get(place, 0.0))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        for place, score in ranked:
            if may_merge(post, self._posts[place], self.window):
                return Match(self._ids[place], score)
        return None
