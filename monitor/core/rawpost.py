"""The one shape every connector produces, whatever the source.

Connectors differ wildly (feeds, JSON APIs); everything downstream (normalising, matching,
classifying, storing) only ever sees a `RawPost`, so a new source never touches the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RawPost:
    """One public post or article as the source gave it, already converted to plain text.

    `published_at` is timezone-aware UTC (None when the source gives no usable date).
    `metrics` holds whatever reach figures the source exposes (likes, reposts, replies,
    followers, views); `media` lists attachment URLs.
    """

    source: str
    external_id: str
    url: str | None = None
    author: str | None = None
    author_handle: str | None = None
    title: str | None = None
    text: str = ""
    published_at: datetime | None = None
    lang: str | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    media: tuple[str, ...] = ()

    def full_text(self) -> str:
        """Title and body together: what the brand query and the classifiers read."""
        return full_text(self.title, self.text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "external_id": self.external_id,
            "url": self.url,
            "author": self.author,
            "author_handle": self.author_handle,
            "title": self.title,
            "text": self.text,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "lang": self.lang,
            "metrics": dict(self.metrics),
            "media": list(self.media),
        }


def full_text(title: str | None, text: str) -> str:
    """Title and body as one string: the text classifiers' evidence offsets index into, so a
    stored mention's spans can be located again from its title and text columns."""
    if title and text:
        if text.startswith(title):
            return text
        return f"{title}\n{text}"
    return title or text


def post_author(post: RawPost) -> str | None:
    """Who the classifiers take as the author (`doc._.vigia_author`): the handle when the
    source gives one, else the name; also what a labelled export writes as `author`."""
    return (post.author_handle or "").strip() or (post.author or "").strip() or None
