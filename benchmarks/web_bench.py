"""The inbox at scale: 1,000,000 mentions, pages and an export, against bare SQL.

The web app, the API and the exports all read through monitor.core.inbox. This benchmark
generates a realistic SQLite database, or fills an empty PostgreSQL one (`--database-url`):
mixed Spanish/English texts, brands and a competitor, a sentiment tag on every mention,
some leak/employee/complaint tags, one or two sources each, review statuses (bulk Core
executemany, the full-text index of migration 0006 kept on). Then it measures, as the comms
role sees it (leak and employee mentions hidden):

- the first inbox page (50, newest first);
- a filtered page: brand + sentiment=negative + status=new;
- a full-text search page for common words ("fibra OR router", about a third of the rows)
  and one for a rare word (a reference number: a handful of rows);
- a page deep in the listing, reached by keyset cursor;

each through `inbox_page`, against hand-written SQL over the raw driver connection (sqlite3
or psycopg) that returns the same rows and columns (checked equal), alternating in the same
run. The bare SQL is the best plan we know for that database, written by hand, knowing which
search is common: on SQLite a common search is `+m.id IN (FTS matches)`, so SQLite walks the
date index instead of sorting every match (the naive `m.id IN (...)` takes seconds at a
million rows), and a rare word FTS-first; on PostgreSQL a common search is the plain
`search_vector @@ tsquery`, which the planner walks the date index with, and a rare word a
MATERIALIZED CTE of the GIN index's matches (the plain condition walks the whole index for
it). Both use the range-scannable keyset condition monitor.core.inbox uses. Printed: p95
of each over `repeats` runs and the ratio (goal <= 3x). Then a CSV export of every visible
row as `GET /api/v1/mentions.csv` streams it (masked), in a fresh process, with its peak RSS
and the growth of it during the export (goal: peak < 100 MB), and its time against the bare
SQL rows written unmasked by the csv module.

`python -m benchmarks.web_bench [--mentions N] [--repeats R] [--database-url URL]`;
BENCH_WEB_MENTIONS also sets N. The PostgreSQL database must be empty (the bench fills it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, make_url

from monitor.core.access import hidden_families
from monitor.core.inbox import MentionFilter, inbox_page, iter_mentions
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.storage import Database, open_database

REPO = Path(__file__).resolve().parents[1]
BRAND, COMPETITOR = "Calderix", "Fonaris"
START = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 10_000
PAGE = 50
ES = [
    "La fibra de {b} lleva caída desde ayer en mi barrio",
    "Pésima atención al cliente de {b}, nadie responde",
    "El técnico de {b} vino rápido y arregló el router",
    "Me han cobrado dos veces la factura este mes",
    "Nueva oferta de {b}: 600 megas por menos dinero",
    "¿Alguien más sin cobertura móvil en Sevilla?",
    "Cambio de compañía, {b} me sube el precio otra vez",
    "Muy contento con el servicio, la instalación fue un éxito",
    "La tienda de la calle Mayor cierra los domingos",
]
EN = [
    "{b} fibre has been down since this morning",
    "Great support from {b} today, issue fixed in minutes",
    "Why is my {b} invoice so high this month?",
    "The router they sent keeps dropping the connection",
    "Thinking about switching away from {b}, prices keep rising",
    "Outage reported across Madrid, engineers on site",
    "Loving the new 5G coverage in the city centre",
]
STATUSES = ["new"] * 14 + ["reviewed"] * 4 + ["false_positive", "escalated"]
SENTIMENTS = [("negative", -0.7), ("neutral", 0.0), ("positive", 0.6)]
#: (one mention in N, family, label): restricted families (hidden from comms) and complaints
EXTRA_TAGS = ((200, "leak", "pii"), (150, "employee", "employee"), (20, "complaint", "complaint"))
SOURCES = ["El Diario", "Foro Hogar", "Mastodon", "Bluesky", "Reddit", "YouTube", "Blog"]
COLUMNS = ("id, title, text, url, author, author_handle, lang, first_seen_at, published_at, "
           "reach, metrics, review_status, assigned_to")


def generate(path: Path, mentions: int, seed: int = 7, url: str | None = None) -> Database:
    """A migrated database (SQLite at `path`, or the empty database `url`) with `mentions`
    mentions (bulk Core inserts)."""
    rng = random.Random(seed)
    db = open_database(url or f"sqlite:///{path}")
    with db.engine.begin() as connection:
        source_ids = [
            connection.execute(insert(Source).values(name=name, kind="rss", seen_ids=[])
                               .returning(Source.id)).scalar_one()
            for name in SOURCES
        ]
        for offset in range(0, mentions, CHUNK):
            rows, links, matches, tags = [], [], [], []
            for n in range(offset, min(offset + CHUNK, mentions)):
                mention_id = n + 1
                when = START + timedelta(seconds=n * 30 + rng.randrange(30))
                spanish = rng.random() < 0.6
                pool = ES if spanish else EN
                brand = COMPETITOR if n % 6 == 0 else BRAND
                body = " ".join(rng.choice(pool).format(b=brand) for _ in range(rng.randint(1, 3)))
                rows.append({
                    "id": mention_id, "fingerprint": f"{n:x}", "url": f"https://example.com/{n}",
                    "title": pool[n % len(pool)].format(b=brand)[:60] if n % 3 else None,
                    "text": f"{body} #{brand.lower()} ref{rng.randrange(100_000)}",
                    "author": f"user {n % 5000}", "author_handle": f"@user{n % 5000}",
                    "lang": "es" if spanish else "en", "published_at": when,
                    "first_seen_at": when, "reach": int(rng.paretovariate(1.2) * 10),
                    "metrics": {"likes": n % 97}, "media": [],
                    "review_status": rng.choice(STATUSES),
                    "assigned_to": "ana" if n % 40 == 0 else None,
                })
                for k, source_id in enumerate(rng.sample(source_ids, 2 if n % 9 == 0 else 1)):
                    links.append({"mention_id": mention_id, "source_id": source_id,
                                  "external_id": f"{n}-{k}", "url": f"https://example.com/{n}/{k}",
                                  "first_seen_at": when})
                matches.append({"mention_id": mention_id, "brand": brand, "terms": [brand]})
                label, score = rng.choice(SENTIMENTS)
                evidence = [{"start": 0, "end": 8, "text": brand, "reason": "cue"}]
                tags.append(_tag(mention_id, brand, "sentiment", label, score, evidence))
                for every, family, tag_label in EXTRA_TAGS:
                    if n % every == 7:
                        tags.append(_tag(mention_id, brand, family, tag_label, 0.9, evidence))
            connection.execute(insert(Mention), rows)
            connection.execute(insert(MentionSource), links)
            connection.execute(insert(BrandMatch), matches)
            connection.execute(insert(Tag), tags)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return db


def _tag(mention_id: int, brand: str, family: str, label: str, score: float,
         evidence: list[Any]) -> dict[str, Any]:
    return {"mention_id": mention_id, "brand": brand, "family": family, "label": label,
            "score": score, "evidence": evidence}


# --------------------------------------------------------------------------- the baseline


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


def _key(raw: Any, when: datetime) -> Any:
    """A datetime as the bare keyset compares it: as SQLAlchemy stores it in SQLite's text
    column, or as is for PostgreSQL's timestamptz."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if _is_sqlite(raw) else when


def _flat(items: Iterable[Any]) -> list[tuple[Any, ...]]:
    """InboxItems as the bare rows, to check both return the same thing."""
    return [
        (i.id, i.title, i.text, i.url, i.author, i.author_handle, i.lang, i.first_seen_at,
         i.published_at, i.reach, i.metrics, i.review_status, i.assigned_to, i.brands,
         tuple((t.brand, t.family, t.label, t.score, t.evidence) for t in i.tags),
         tuple((s.name, s.url) for s in i.sources))
        for i in items
    ]


# --------------------------------------------------------------------------- measuring


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def compare(db: Database, raw: Any, flt: MentionFilter, repeats: int,
            cursor: str | None = None, after: tuple[Any, int] | None = None) -> dict[str, float]:
    """p95 of inbox_page and of the bare page, alternating; their rows must be equal."""
    ours, bare = [], []
    with db.reading() as session:
        expected = _flat(inbox_page(session, flt, limit=PAGE, cursor=cursor).items)
    if expected != bare_page(raw, flt, PAGE, after):
        raise SystemExit(f"inbox_page and the bare SQL disagree for {flt}")
    for _ in range(repeats):
        started = time.perf_counter()
        with db.reading() as session:
            inbox_page(session, flt, limit=PAGE, cursor=cursor)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare_page(raw, flt, PAGE, after)
        bare.append(time.perf_counter() - started)
    return {"rows": len(expected), "inbox_p95_s": _p95(ours), "bare_p95_s": _p95(bare),
            "ratio": _p95(ours) / _p95(bare)}


def _csv_row(i: Any) -> list[Any]:
    return [i.id, i.first_seen_at.isoformat(), i.title, i.text, i.url, i.author, i.lang,
            i.reach, i.review_status, i.assigned_to, "|".join(i.brands),
            "|".join(f"{t.family}:{t.label}" for t in i.tags), "|".join(s.name for s in i.sources)]


def export(url: str, how: str) -> dict[str, float]:
    """Every visible row as CSV to /dev/null; run in a fresh process by `run`.

    "inbox" is the product's export, the very generator `GET /api/v1/mentions.csv` streams
    (monitor.web.exports.csv_chunks over iter_mentions: masked, formula-neutralised cells);
    the baseline writes the bare SQL's rows with the csv module, unmasked.
    """
    db = open_database(url, migrate=False)
    with db.reading() as session:
        if how == "inbox":
            from monitor.web.exports import csv_chunks

            return _measure(lambda sink: _write_chunks(
                csv_chunks(_counted(iter_mentions(session, COMMS_INBOX))), sink))
        rows = _bare_export(connect_raw(url), COMMS_INBOX)
        return _measure(lambda sink: _write_rows(rows, sink))


_exported = [0]


def _counted(items: Iterable[Any]) -> Iterable[Any]:
    for item in items:
        _exported[0] += 1
        yield item


def _write_chunks(chunks: Iterable[str], sink: Any) -> int:
    for chunk in chunks:
        sink.write(chunk)
    return _exported[0]


def _write_rows(rows: Iterable[Any], sink: Any) -> int:
    writer = csv.writer(sink)
    count = 0
    for item in rows:
        writer.writerow(_csv_row(item))
        count += 1
    return count


def peak_rss_kb() -> float:
    """This process's peak resident memory, in KiB.

    /proc's VmHWM where there is one: `ru_maxrss` survives exec on Linux, so a child that
    subprocess started with vfork reports its parent's peak (the bench's, with its million
    generated rows) instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _measure(write: Any) -> dict[str, float]:
    before = peak_rss_kb()
    started = time.perf_counter()
    with open(os.devnull, "w", newline="", encoding="utf-8") as sink:
        count = write(sink)
    elapsed = time.perf_counter() - started
    peak = peak_rss_kb()
    grown = peak - before
    return {"rows": count, "seconds": elapsed, "peak_growth_mb": grown / 1024,
            "peak_rss_mb": peak / 1024}


def _bare_export(raw: Any, flt: MentionFilter) -> Iterable[Any]:
    from types import SimpleNamespace
    after = None
    while rows := bare_page(raw, flt, 1000, after):
        for row in rows:
            yield SimpleNamespace(
                id=row[0], title=row[1], text=row[2], url=row[3], author=row[4], lang=row[6],
                first_seen_at=row[7], reach=row[9], review_status=row[11], assigned_to=row[12],
                brands=row[13], tags=[SimpleNamespace(family=t[1], label=t[2]) for t in row[14]],
                sources=[SimpleNamespace(name=s[0]) for s in row[15]])
        last = rows[-1]
        after = (_key(raw, last[7]), last[0])


def _export_process(url: str, how: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "benchmarks.web_bench", "--export", url,
                           "--how", how], capture_output=True, text=True, env=env, cwd=REPO,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"export process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


COMMS_INBOX = MentionFilter(brands=(BRAND,), hidden_families=hidden_families("comms"))


def run(mentions: int = 1_000_000, repeats: int = 30, folder: Path | None = None,
        database_url: str | None = None) -> dict[str, Any]:
    """The whole bench on a new SQLite file (in `folder`, or a temporary one) or on the
    empty PostgreSQL database `database_url`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(folder or tmp) / "web_bench.db"
        path.unlink(missing_ok=True)
        url = database_url or f"sqlite:///{path}"
        started = time.perf_counter()
        db = generate(path, mentions, url=database_url)
        generated = time.perf_counter() - started
        raw = connect_raw(url)
        filtered = MentionFilter(brand=BRAND, sentiment="negative", status="new",
                                 hidden_families=COMMS_INBOX.hidden_families)
        searched = MentionFilter(brands=(BRAND,), search="fibra OR router",
                                 hidden_families=COMMS_INBOX.hidden_families)
        rare = MentionFilter(brands=(BRAND,), search="ref4242",
                             hidden_families=COMMS_INBOX.hidden_families)
        with db.reading() as session:
            deep = inbox_page(session, COMMS_INBOX, limit=min(mentions // 2, 20_000))
        last = deep.items[-1]
        cases: dict[str, Callable[[], dict[str, float]]] = {
            "first page": lambda: compare(db, raw, COMMS_INBOX, repeats),
            "brand+negative+new": lambda: compare(db, raw, filtered, repeats),
            "search 'fibra OR router'": lambda: compare(db, raw, searched, repeats),
            "search 'ref4242' (rare)": lambda: compare(db, raw, rare, repeats),
            "deep page (keyset)": lambda: compare(
                db, raw, COMMS_INBOX, repeats, deep.next_cursor,
                (_key(raw, last.first_seen_at), last.id)),
        }
        results: dict[str, Any] = {"mentions": mentions, "generate_s": generated,
                                   "database": db.engine.dialect.name,
                                   "pages": {name: case() for name, case in cases.items()}}
        db.dispose()
        raw.close()
        results["export"] = _export_process(url, "inbox")
        results["export_bare"] = _export_process(url, "bare")
        results["export"]["ratio"] = (results["export"]["seconds"]
                                      / results["export_bare"]["seconds"])
    _print(results, repeats)
    return results


def _print(results: dict[str, Any], repeats: int) -> None:
    database = "PostgreSQL" if results["database"] == "postgresql" else "SQLite"
    print(f"web inbox over {results['mentions']:,} mentions ({database}; generated in "
          f"{results['generate_s']:.0f} s), p95 of {repeats}, comms role:")
    for name, page in results["pages"].items():
        print(f"  {name:26} ({page['rows']:2} rows) inbox_page "
              f"{page['inbox_p95_s'] * 1000:7.1f} ms  bare SQL "
              f"{page['bare_p95_s'] * 1000:7.1f} ms  ratio {page['ratio']:.2f} (goal <= 3)")
    ours, bare = results["export"], results["export_bare"]
    print(f"  CSV export of {ours['rows']:,} rows   mentions.csv {ours['seconds']:.1f} s, process "
          f"peak {ours['peak_rss_mb']:.0f} MB (goal < 100), +{ours['peak_growth_mb']:.0f} MB "
          f"while exporting  bare SQL {bare['seconds']:.1f} s  ratio {ours['ratio']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int,
                        default=int(os.environ.get("BENCH_WEB_MENTIONS", "1000000")))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--database-url", help="an empty PostgreSQL database to fill and "
                        "measure (default: a new SQLite file)")
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--how", default="inbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        print(json.dumps(export(args.export, args.how)))
    else:
        run(args.mentions, args.repeats, database_url=args.database_url)


if __name__ == "__main__":
    main()
