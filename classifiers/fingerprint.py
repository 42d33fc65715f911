"""The text a post is grouped into stories by, and its hash.

News is syndicated: the same headline appears in a news site's feed, in Google News and in an
aggregator, each with its own URL and a slightly different summary, so a headline of at least
`MIN_TITLE_WORDS` words is what a titled item is compared by. Shorter headlines ("Hola",
"Quote #17703") do not tell stories apart, and untitled social posts have none: those are
compared by their title and text together.

The key is only what near-duplicate matching (`classifiers.stories`) compares; it is no identity.
The same headline a year later, or five people opening threads with the same title, are
different stories with equal keys. `fingerprint()` hashes the key for the `mentions` column
of that name: an index for exact copies, never a unique constraint.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from classifiers.text import words
from monitor.core.rawpost import RawPost

MIN_TITLE_WORDS = 4
#: How much of an untitled post's text is compared: enough to tell posts apart, and bounded.
TEXT_CHARS = 600
# " - El País", " | Europa Press", " — Reuters": the outlet an aggregator appends to a headline.
_OUTLET_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,60}$")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> tuple[str, ...]:
    """The numbers in `text` in order, separators dropped ("3,000" and "3.000" are one).

    In order: "(3-12)" and "(12-3)" are different items; a copy keeps its numbers' order.
    """
    return tuple(re.sub(r"[.,]", "", number) for number in _NUMBER.findall(text))


def fold_words(text: str) -> str:
    """Case- and accent-insensitive words separated by single spaces (the matcher's folding)."""
    return " ".join(words(text))


@dataclass(frozen=True, slots=True)
class StoryText:
    """What a post is compared by.

    `key` is the folded headline (titled) or the folded title and text; `bare` the headline
    without a trailing " - Outlet" (equal to `key` when there is none or the rest would be too
    short); `numbers` the numbers it contains, because "fortify-headers 2.0" and "2.1", or
    "30 despidos" and "300 despidos", are different stories however alike they read.
    """

    key: str
    bare: str
    titled: bool
    numbers: tuple[str, ...]


def story_text(title: str | None, text: str) -> StoryText:
    headline = (title or "").strip()
    key = fold_words(headline)
    if key.count(" ") + 1 >= MIN_TITLE_WORDS:
        bare = fold_words(_OUTLET_SUFFIX.sub("", headline))
        if bare.count(" ") + 1 < MIN_TITLE_WORDS:
            bare = key
        return StoryText(key, bare, True, _numbers(headline))
    body = f"{headline}\n{text}" if headline and not text.startswith(headline) else text
    key = fold_words(body[:TEXT_CHARS])
    return StoryText(key, key, False, _numbers(body[:TEXT_CHARS]))


def post_text(post: RawPost) -> StoryText:
    return story_text(post.title, post.text)


def fingerprint(text: StoryText) -> str:
    """The key's hash (exact copies share it; different stories may too)."""
    kind = "title" if text.titled else "text"
    return hashlib.sha256(f"{kind}:{text.key}".encode()).hexdigest()
