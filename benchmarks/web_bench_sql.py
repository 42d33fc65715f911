"""The web bench's baseline: the inbox's pages written by hand, on the driver's own
connection (sqlite3 or psycopg), with the best plan we know for each database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import make_url

from monitor.core.inbox import MentionFilter

COLUMNS = ("id, title, text, url, author, author_handle, lang, first_seen_at, published_at, "
           "reach, metrics, review_status, assigned_to")


def connect_raw(url: str) -> Any:
    """The driver's own connection (sqlite3 or psycopg) to the bench database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite3.connect(parsed.database or "")
    import psycopg

    return psycopg.connect(parsed.set(drivername="postgresql").render_as_string(False))


def _is_sqlite(raw: Any) -> bool:
    return isinstance(raw, sqlite3.Connection)


def bare_page(raw: Any, flt: MentionFilter, limit: int,
              after: tuple[Any, int] | None = None) -> list[tuple[Any, ...]]:
    """The same page by hand: the same queries the inbox needs, no SQLAlchemy."""
    lite = _is_sqlite(raw)
    mark = "?" if lite else "%s"

    def marks(n: int) -> str:
        return ",".join([mark] * n)

    where, args = ["NOT EXISTS (SELECT 1 FROM tags t WHERE t.mention_id = m.id AND t.family IN "
                   f"({marks(len(flt.hidden_families))}))"], [*flt.hidden_families]
    if flt.brand:
        where.append("EXISTS (SELECT 1 FROM brand_matches b WHERE b.mention_id = m.id "
                     f"AND b.brand = {mark})")
        args.append(flt.brand)
    else:
        where.append("EXISTS (SELECT 1 FROM brand_matches b WHERE b.mention_id = m.id "
                     f"AND b.brand IN ({marks(len(flt.brands))}))")
        args += flt.brands
    if flt.sentiment:
        where.append(f"EXISTS (SELECT 1 FROM tags s WHERE s.mention_id = m.id AND s.label = {mark} "
                     f"AND s.family = 'sentiment' AND s.brand = {mark})")
        args += [flt.sentiment, flt.brand]
    if flt.status:
        where.append(f"m.review_status = {mark}")
        args.append(flt.status)
    with_hits = ""
    if flt.search:
        # The hand-written choice: walk the date index for a common search, FTS-first for
        # a rare one (what the product decides by counting matches up to a cap).
        words = flt.search.split(" OR ")
        common = len(words) > 1
        if lite:
            where.append(f"{'+' if common else ''}m.id IN (SELECT rowid FROM mentions_fts "
                         "WHERE mentions_fts MATCH ?)")
            args.append(" OR ".join(f'"{w}"' for w in words))
        elif common:
            where.append("m.search_vector @@ to_tsquery('simple', %s)")
            args.append(" | ".join(words))
        else:
            with_hits = ("WITH hits AS MATERIALIZED (SELECT id FROM mentions "
                         "WHERE search_vector @@ to_tsquery('simple', %s)) ")
            where.append("m.id IN (SELECT id FROM hits)")
            args.insert(0, " | ".join(words))
    if after:
        where.append(f"(m.first_seen_at <= {mark} AND (m.first_seen_at < {mark} OR m.id < {mark}))")
        args += [after[0], after[0], after[1]]
    rows = raw.execute(
        f"{with_hits}SELECT {COLUMNS} FROM mentions m WHERE {' AND '.join(where)} "
        f"ORDER BY m.first_seen_at DESC, m.id DESC LIMIT {mark}", [*args, limit]
    ).fetchall()
    ids = [row[0] for row in rows]
    related: list[dict[int, list[Any]]] = [{}, {}, {}]
    for index, sql in enumerate((
        f"SELECT mention_id, brand FROM brand_matches WHERE mention_id IN ({marks(len(ids))}) "
        "ORDER BY id",
        f"SELECT mention_id, brand, family, label, score, evidence FROM tags "
        f"WHERE mention_id IN ({marks(len(ids))}) ORDER BY id",
        f"SELECT ms.mention_id, s.name, ms.url FROM mention_sources ms JOIN sources s "
        f"ON s.id = ms.source_id WHERE ms.mention_id IN ({marks(len(ids))}) ORDER BY ms.id",
    )):
        for mention_id, *values in raw.execute(sql, ids) if ids else ():
            if index == 1 and lite:
                values[-1] = json.loads(values[-1])
            related[index].setdefault(mention_id, []).append(tuple(values))
    return [
        (*(_decoded(row) if lite else row[:11]), *row[11:],
         tuple(b for (b,) in related[0].get(row[0], [])), tuple(related[1].get(row[0], [])),
         tuple(related[2].get(row[0], [])))
        for row in rows
    ]


def _decoded(row: Any) -> tuple[Any, ...]:
    """SQLite's text columns (dates, metrics) as the typed values psycopg returns."""
    return (*row[:7], _when(row[7]), _when(row[8]), row[9], json.loads(row[10]))


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def keyset_value(raw: Any, when: datetime) -> Any:
    """A datetime as the bare keyset compares it: as SQLAlchemy stores it in SQLite's text
    column, or as is for PostgreSQL's timestamptz."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if _is_sqlite(raw) else when


def as_rows(items: Iterable[Any]) -> list[tuple[Any, ...]]:
    """InboxItems as the bare rows, to check both return the same thing."""
    return [
        (i.id, i.title, i.text, i.url, i.author, i.author_handle, i.lang, i.first_seen_at,
         i.published_at, i.reach, i.metrics, i.review_status, i.assigned_to, i.brands,
         tuple((t.brand, t.family, t.label, t.score, t.evidence) for t in i.tags),
         tuple((s.name, s.url) for s in i.sources))
        for i in items
    ]
