"""Read-side queries used by the command line (`monitor mentions`, `monitor sources`), and the
role filter every reader of mentions applies (`visible_mentions`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session, selectinload

from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag


def visible_mentions(hidden_families: frozenset[str]) -> ColumnElement[bool]:
    """A WHERE condition on `Mention`: none of its tags (for any brand) is of a hidden family.

    `hidden_families` comes from monitor.core.access.hidden_families(role); the rule that a
    restricted tag hides the whole mention lives there, this only expresses it in SQL.
    """
    if not hidden_families:
        return true()
    return ~Mention.tags.any(Tag.family.in_(sorted(hidden_families)))


def find_mentions(
    session: Session,
    *,
    brand: str | None = None,
    brands: Sequence[str] = (),
    since: datetime | None = None,
    tag: str | None = None,
    limit: int | None = None,
) -> Iterator[Mention]:
    """Newest first; `tag` matches a tag label (e.g. "negative") for the brand if given.

    `brands` limits the listing to posts about any of those names: the command line passes the
    configured brands, so posts stored only because they name a competitor (kept for share of
    voice) do not crowd the brand's own listing unless asked for with `brand=`.
    """
    query = (
        select(Mention)
        .options(
            selectinload(Mention.sources).selectinload(MentionSource.source),
            selectinload(Mention.brands),
            selectinload(Mention.tags),
        )
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc())
    )
    if brand:
        query = query.where(Mention.brands.any(BrandMatch.brand == brand))
    elif brands:
        query = query.where(Mention.brands.any(BrandMatch.brand.in_(list(brands))))
    if since:
        query = query.where(Mention.first_seen_at >= since)
    if tag:
        condition = Tag.label == tag
        if brand:
            condition = condition & (Tag.brand == brand)
        query = query.where(Mention.tags.any(condition))
    if limit is not None:
        query = query.limit(limit)
    # Stream in chunks: `--json` with no limit must not load every mention into memory.
    yield from session.scalars(query.execution_options(yield_per=500))


def _unchanged(text: str) -> str:
    return text


def mention_as_dict(
    mention: Mention, show: Callable[[str], str] = _unchanged
) -> dict[str, Any]:
    """The stable JSON shape of `monitor mentions --json` (one object per line).

    `show` is applied to every text a post brought (title, text, author, URLs, evidence):
    the command line passes `mask_text` unless `--reveal` is given.
    """

    def opt(value: str | None) -> str | None:
        return None if value is None else show(value)

    return {
        "id": mention.id,
        "title": opt(mention.title),
        "text": opt(mention.text),
        "url": opt(mention.url),
        "urls": [show(s.url) for s in mention.sources if s.url],
        "sources": [s.source.name for s in mention.sources],
        "author": opt(mention.author),
        "author_handle": opt(mention.author_handle),
        "lang": mention.lang,
        "published_at": mention.published_at.isoformat() if mention.published_at else None,
        "first_seen_at": mention.first_seen_at.isoformat(),
        "metrics": mention.metrics,
        "reach": mention.reach,
        "brands": [b.brand for b in mention.brands],
        "tags": [
            {
                "brand": t.brand,
                "family": t.family,
                "label": t.label,
                "score": t.score,
                "evidence": [
                    {**span, "text": show(span["text"])} if isinstance(span.get("text"), str)
                    else span
                    for span in (t.evidence or [])
                ],
            }
            for t in mention.tags
        ],
    }


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))
