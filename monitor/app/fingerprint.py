"""A normalised-text fingerprint that makes one story from many copies.

News is syndicated: the same headline appears in a news site's feed, in Google News and in an
aggregator, each with its own URL and a slightly different summary. Headlines are distinctive
enough on their own, so a titled item with a headline of at least `MIN_TITLE_WORDS` words is
fingerprinted by its folded headline. Untitled social posts are fingerprinted by author and
text: two people writing "Calderix is down again" are two mentions, not one.
"""

from __future__ import annotations

import hashlib

from classifiers.text import words
from monitor.core.rawpost import RawPost

MIN_TITLE_WORDS = 6


def fold_words(text: str) -> str:
    """Case- and accent-insensitive words separated by single spaces (the matcher's folding)."""
    return " ".join(words(text))


def fingerprint(post: RawPost) -> str:
    title = fold_words(post.title or "")
    if title.count(" ") + 1 >= MIN_TITLE_WORDS:
        basis = "title:" + title
    else:
        author = fold_words(post.author_handle or post.author or "")
        basis = f"post:{author}:{fold_words(post.full_text())[:2000]}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()
