"""Read-side queries used by the command line (`monitor mentions`, `monitor sources`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from monitor.core.inbox import MentionFilter, conditions
from monitor.core.inbox_items import InboxItem, item_of
from monitor.core.models import Mention, MentionSource, Source


def find_mentions(
    session: Session,
    *,
    brand: str | None = None,
    brands: Sequence[str] = (),
    since: datetime | None = None,
    tag: str | None = None,
    limit: int | None = None,
) -> Iterator[Mention]:
    """ORM mentions, newest first, filtered as the inbox filters (monitor.core.inbox).

    For callers that need the ORM objects; listings and exports read through
    `inbox.inbox_page` / `inbox.iter_mentions`, which are much cheaper.
    """
    flt = MentionFilter(brands=tuple(brands), brand=brand, since=since, tag=tag)
    query = (
        select(Mention)
        .options(
            selectinload(Mention.sources).selectinload(MentionSource.source),
            selectinload(Mention.brands),
            selectinload(Mention.tags),
        )
        .where(*conditions(flt, session.get_bind().dialect.name))
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    yield from session.scalars(query.execution_options(yield_per=500))


def _unchanged(text: str) -> str:
    return text


def mention_as_dict(
    mention: InboxItem | Mention, show: Callable[[str], str] = _unchanged
) -> dict[str, Any]:
    """The stable JSON shape of `monitor mentions --json` (one object per line).

    `show` is applied to every text a post brought (title, text, author, URLs, evidence):
    the command line passes `mask_text` unless `--reveal` is given.
    """
    item = mention if isinstance(mention, InboxItem) else item_of(mention)

    def opt(value: str | None) -> str | None:
        return None if value is None else show(value)

    return {
        "id": item.id,
        "title": opt(item.title),
        "text": opt(item.text),
        "url": opt(item.url),
        "urls": [show(s.url) for s in item.sources if s.url],
        "sources": [s.name for s in item.sources],
        "author": opt(item.author),
        "author_handle": opt(item.author_handle),
        "lang": item.lang,
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "first_seen_at": item.first_seen_at.isoformat(),
        "metrics": item.metrics,
        "reach": item.reach,
        "brands": list(item.brands),
        "tags": [
            {
                "brand": t.brand,
                "family": t.family,
                "label": t.label,
                "score": t.score,
                "evidence": [
                    {**span, "text": show(span["text"])} if isinstance(span.get("text"), str)
                    else span
                    for span in t.evidence
                ],
            }
            for t in item.tags
        ],
    }


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))
