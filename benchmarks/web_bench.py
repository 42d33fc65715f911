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
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from benchmarks.web_bench_data import BRAND, PAGE, generate
from benchmarks.web_bench_sql import as_rows, bare_page, connect_raw, keyset_value
from monitor.core.access import hidden_families
from monitor.core.inbox import MentionFilter, inbox_page, iter_mentions
from monitor.core.storage import Database, open_database

REPO = Path(__file__).resolve().parents[1]
# --------------------------------------------------------------------------- measuring


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def compare(db: Database, raw: Any, flt: MentionFilter, repeats: int,
            cursor: str | None = None, after: tuple[Any, int] | None = None) -> dict[str, float]:
    """p95 of inbox_page and of the bare page, alternating; their rows must be equal."""
    ours, bare = [], []
    with db.reading() as session:
        expected = as_rows(inbox_page(session, flt, limit=PAGE, cursor=cursor).items)
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
            return _measure(lambda sink: _write_export(session, sink))
        rows = _bare_export(connect_raw(url), COMMS_INBOX)
        return _measure(lambda sink: _write_rows(rows, sink))


def _write_export(session: Any, sink: Any) -> int:
    """The product's CSV export of the comms inbox into `sink`; the rows it wrote. (The web
    stack is imported here, in the export's own process, not by the bench.)"""
    from monitor.web.exports import csv_chunks

    count = 0

    def counted() -> Iterable[Any]:
        nonlocal count
        for item in iter_mentions(session, COMMS_INBOX):
            count += 1
            yield item

    sink.writelines(csv_chunks(counted()))
    return count


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
        after = (keyset_value(raw, last[7]), last[0])


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
                (keyset_value(raw, last.first_seen_at), last.id)),
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
