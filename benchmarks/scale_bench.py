"""Scaling: the embedded pool against one process, I/O-bound passes, and queue workers.

Three measurements, each printed as ratios against a baseline measured in the same run:

- CPU-bound, embedded: `monitor fetch` as whole processes (benchmarks/process_bench.py's
  way) over BENCH_FEEDS (200) local feeds x BENCH_ITEMS (50) items, every item a mention,
  with `[pipeline] workers = 1` (one process: the baseline) and with the default pool (one
  worker process per CPU). Printed: mentions stored per second and the pool's speed-up.
- I/O-bound, embedded: BENCH_IO_SOURCES (1,000) sources, each answering after
  BENCH_LATENCY (0.2) seconds, one full pass in-process with BENCH_THREADS ("1,2,4,8")
  fetching threads (`Pipeline.run_sources(workers=...)`; `monitor run` uses 4). The client
  allows `[http] per_host_concurrency` (2) requests per host and port at a time, so one
  loopback server would cap every pass at 2 requests in flight; the sources are spread over
  BENCH_HOSTS (100) ports of one server process instead, as real sources are spread over
  many hosts. Printed: seconds per pass, the speed-up over the first thread count, and the
  floor `sources x latency / threads`.
- Queue workers (issue 11): N `monitor worker` processes and one `monitor run --once`
  against a broker, for N in BENCH_QUEUE_WORKERS ("1,2,4,8"), on the I/O-bound sources and
  (N in 1, 2) on the CPU-bound feeds. Reported as "skipped: needs the queue (issue 11
  core)" until `monitor worker` exists and a broker and a PostgreSQL database are given
  (VIGIA_BENCH_BROKER_URL or VIGIA_TEST_REDIS_URL; VIGIA_BENCH_DATABASE_URL or
  VIGIA_TEST_DATABASE_URL: its schema is dropped and made again).

Then a projection for BENCH_PROJECT_SOURCES (100,000) sources polled every 15 minutes from
the measured figures (see `projection`). Environment knobs above, and BENCH_REPEATS (1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.local_feed_server import serve_feeds_on_ports
from benchmarks.pipeline_bench import BRAND, make_feeds
from benchmarks.process_bench import REPO, _timed, settings_file
from monitor.app.configuration import parse_settings
from monitor.app.pipeline import Pipeline
from monitor.core.models import Mention
from monitor.core.rawpost import RawPost
from monitor.core.storage import open_database

SKIPPED = "skipped: needs the queue (issue 11 core)"
#: Share of the I/O-bound sources' items that mention the brand (general news feeds).
IO_BRAND_SHARE = 0.2


def _env_ints(name: str, default: str) -> list[int]:
    return [int(n) for n in os.environ.get(name, default).split(",") if n.strip()]


def _process_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("VIGIA_SETTINGS", None)
    return env


def count_mentions(url: str) -> int:
    database = open_database(url)
    try:
        with database.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Mention)) or 0)
    finally:
        database.dispose()


def _spread(base_urls: list[str], sources: int) -> list[str]:
    """Source i is /feed/i.xml on port number i modulo the ports."""
    return [f"{base_urls[i % len(base_urls)]}/feed/{i}.xml" for i in range(sources)]


# -- CPU-bound, embedded -------------------------------------------------------------------
def cpu_embedded(feeds: int = 200, items: int = 50, repeats: int = 1) -> dict[str, Any]:
    """`monitor fetch` with one process against the default pool; mentions per second."""
    env, python = _process_env(), sys.executable
    times: dict[str, list[float]] = {"single": [], "pool": []}
    stored: dict[str, int] = {}
    with (
        serve_feeds_on_ports(partial(make_feeds, feeds, items)) as base_urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        urls = _spread(base_urls, feeds)
        for attempt in range(repeats):
            # Alternating, so that load from elsewhere on the machine hits both alike.
            for label, workers in (("single", 1), ("pool", None)):
                database = Path(tmp) / f"{label}{attempt}.db"
                settings = settings_file(Path(tmp), database, urls, workers, backfill_all=True)
                elapsed, _ = _timed(
                    [python, "-m", "monitor", "--settings", str(settings), "fetch"], env
                )
                times[label].append(elapsed)
                stored[label] = count_mentions(f"sqlite:///{database}")
    if stored["single"] != stored["pool"] or not stored["single"]:
        raise SystemExit(f"both passes must store the same mentions: {stored}")
    single, pool = min(times["single"]), min(times["pool"])
    result = {
        "feeds": feeds, "items": feeds * items, "mentions": stored["single"],
        "single_s": single, "pool_s": pool,
        "single_mentions_per_s": stored["single"] / single,
        "pool_mentions_per_s": stored["pool"] / pool,
        "pool_speedup": single / pool,
        "cpus": os.cpu_count() or 1,
    }
    print(
        f"scale, CPU-bound: `monitor fetch` over {feeds} feeds x {items} items "
        f"({result['mentions']} mentions), best of {repeats}, {result['cpus']} CPUs\n"
        f"  [pipeline] workers = 1 (one process, baseline) {single:6.2f} s  "
        f"{result['single_mentions_per_s']:7.1f} mentions/s\n"
        f"  default pool                                   {pool:6.2f} s  "
        f"{result['pool_mentions_per_s']:7.1f} mentions/s  speed-up {result['pool_speedup']:.2f}x"
    )
    return result


# -- I/O-bound, embedded -------------------------------------------------------------------
def io_embedded(
    sources: int = 1000,
    items: int = 2,
    latency: float = 0.2,
    hosts: int = 100,
    threads: tuple[int, ...] = (1, 2, 4, 8),
    repeats: int = 1,
) -> dict[str, Any]:
    """One full pass in-process with each thread count; seconds and speed-up."""
    passes: dict[int, float] = {}
    with (
        serve_feeds_on_ports(
            partial(make_feeds, sources, items, IO_BRAND_SHARE), servers=hosts, latency=latency
        ) as base_urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        entries = [{"name": f"source {i}", "kind": "rss", "url": url}
                   for i, url in enumerate(_spread(base_urls, sources))]
        for attempt in range(repeats):
            for count in threads:
                settings = parse_settings(
                    {
                        "storage": {"url": f"sqlite:///{tmp}/io{count}-{attempt}.db"},
                        "http": {"allow_private_addresses": True},
                        "fetch": {"backfill": "all"},
                        "pipeline": {"workers": 1},  # the waits are what is measured
                        "brands": [BRAND],
                        "sources": entries,
                    },
                    Path(tmp),
                )
                pipeline = Pipeline(settings, open_database(settings.database_url))
                # Models load once at start-up; that is not what a pass costs.
                pipeline.analyzer.analyse([RawPost(source="warm", external_id="1", text="x")])
                started = time.perf_counter()
                reports = pipeline.run_sources(workers=count)
                elapsed = time.perf_counter() - started
                pipeline.close()
                pipeline.db.dispose()
                failed = [r for r in reports if r.error]
                if failed:
                    raise SystemExit(f"I/O pass failed: {failed[0].source}: {failed[0].error}")
                passes[count] = min(elapsed, passes.get(count, elapsed))
    base = threads[0]
    lines = [
        f"scale, I/O-bound: one pass over {sources} sources answering after {latency * 1000:.0f}"
        f" ms, spread over {hosts} ports (per-host limit 2), in-process, best of {repeats}"
    ]
    for count in threads:
        lines.append(
            f"  {count:3d} threads {passes[count]:7.2f} s  speed-up over {base} "
            f"{passes[base] / passes[count]:5.2f}x  (floor {sources * latency / count:6.2f} s)"
        )
    print("\n".join(lines))
    return {"sources": sources, "latency": latency, "hosts": hosts, "passes": passes,
            "speedup": {c: passes[base] / passes[c] for c in threads}}


# -- queue workers (issue 11) --------------------------------------------------------------
def queue_missing() -> str | None:
    """Why the queue measurement cannot run here, or None when it can."""
    import typer.main

    from monitor.cli.main import app

    if "worker" not in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        return SKIPPED
    if not _broker_url() or not _queue_database_url():
        return ("skipped: set VIGIA_BENCH_BROKER_URL (or VIGIA_TEST_REDIS_URL) and "
                "VIGIA_BENCH_DATABASE_URL (or VIGIA_TEST_DATABASE_URL, PostgreSQL)")
    return None


def _broker_url() -> str:
    return os.environ.get("VIGIA_BENCH_BROKER_URL") or os.environ.get("VIGIA_TEST_REDIS_URL", "")


def _queue_database_url() -> str:
    return os.environ.get("VIGIA_BENCH_DATABASE_URL") or os.environ.get(
        "VIGIA_TEST_DATABASE_URL", ""
    )


def _start_workers(settings: Path, count: int, concurrency: int) -> list[subprocess.Popen[str]]:
    """`count` worker processes, returned once each has logged Celery's "ready"."""
    command = [sys.executable, "-m", "monitor", "--settings", str(settings), "worker",
               "--concurrency", str(concurrency)]
    workers = [subprocess.Popen(command, cwd=REPO, env=_process_env(), text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(count)]
    for worker in workers:
        assert worker.stderr is not None
        deadline = time.monotonic() + 120
        for line in worker.stderr:
            if " ready." in line or time.monotonic() > deadline:
                break
        if worker.poll() is not None:
            raise SystemExit(f"`monitor worker` exited ({worker.returncode}) before ready")
    return workers


def _stop_workers(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        worker.terminate()  # Celery's warm shutdown
    for worker in workers:
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def queue_passes(
    counts: tuple[int, ...], feeds: int, items: int, *, latency: float = 0.0, hosts: int = 1,
    brand_share: float = 1.0, concurrency: int = 1,
) -> dict[str, Any]:
    """Seconds for `monitor run --once` through the queue with each number of workers."""
    reason = queue_missing()
    if reason:
        print(f"scale, queue workers {list(counts)}: {reason}")
        return {"skipped": reason}
    from tests.conftest import _reset_postgres  # the same reset the test suite uses

    passes: dict[int, float] = {}
    with (
        serve_feeds_on_ports(partial(make_feeds, feeds, items, brand_share),
                             servers=hosts, latency=latency) as base_urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for count in counts:
            _reset_postgres(_queue_database_url())
            settings = settings_file(
                Path(tmp), _queue_database_url(), _spread(base_urls, feeds), backfill_all=True,
                extra=f'[queue]\nbroker = "{_broker_url()}"\n',
            )
            workers = _start_workers(settings, count, concurrency)
            try:
                once = [sys.executable, "-m", "monitor", "--settings", str(settings), "run",
                        "--once"]
                passes[count] = _timed(once, _process_env())[0]
            finally:
                _stop_workers(workers)
    base = counts[0]
    print(f"scale, queue: `monitor run --once` over {feeds} sources, workers of concurrency "
          f"{concurrency}\n" + "\n".join(
              f"  {n:3d} workers {passes[n]:7.2f} s  speed-up over {base} "
              f"{passes[base] / passes[n]:5.2f}x" for n in counts))
    return {"passes": passes, "speedup": {n: passes[base] / passes[n] for n in counts}}


# -- projection ------------------------------------------------------------------------------
def projection(
    cpu: dict[str, Any], io: dict[str, Any], sources: int = 100_000, interval_s: float = 900.0,
    new_mentions_per_poll: float = 0.5,
) -> dict[str, float]:
    """Fetching slots and CPU cores for `sources` polled every `interval_s`, from the figures.

    A slot (a thread, or a prefork worker process) holds one source run for the remote
    server's latency plus our per-run overhead, read off the widest I/O pass; CPU is the
    one-process cost per stored mention times the mentions a poll brings on average
    (`new_mentions_per_poll`: most polls of a steady deployment are 304 Not Modified).
    The CPU figure includes the measured process's start-up, so it errs on the high side.
    """
    widest = max(io["passes"])
    slot_s = io["passes"][widest] * widest / io["sources"]  # one run's wall time in a slot
    rate = sources / interval_s
    cpu_per_mention = cpu["single_s"] / cpu["mentions"]
    result = {
        "runs_per_s": rate,
        "slot_s": slot_s,
        "slots": rate * slot_s,
        "cores": rate * new_mentions_per_poll * cpu_per_mention,
        "mentions_per_s": rate * new_mentions_per_poll,
    }
    print(
        f"scale, projection: {sources:,} sources every {interval_s / 60:.0f} min = "
        f"{rate:.0f} runs/s; a run holds a slot {slot_s:.3f} s (at {io['latency'] * 1000:.0f} ms"
        f" latency) → {result['slots']:.0f} concurrent fetch slots;\n"
        f"  at {new_mentions_per_poll} new mentions per poll, {result['mentions_per_s']:.0f} "
        f"mentions/s x {cpu_per_mention * 1000:.1f} ms each → {result['cores']:.1f} CPU cores "
        f"of workers; the database takes {rate:.0f} source-state transactions/s"
    )
    return result


def run() -> dict[str, Any]:
    repeats = int(os.environ.get("BENCH_REPEATS", "1"))
    feeds = int(os.environ.get("BENCH_FEEDS", "200"))
    items = int(os.environ.get("BENCH_ITEMS", "50"))
    io_sources = int(os.environ.get("BENCH_IO_SOURCES", "1000"))
    latency = float(os.environ.get("BENCH_LATENCY", "0.2"))
    hosts = int(os.environ.get("BENCH_HOSTS", "100"))
    cpu = cpu_embedded(feeds, items, repeats)
    io = io_embedded(io_sources, 2, latency, hosts, tuple(_env_ints("BENCH_THREADS", "1,2,4,8")),
                     repeats)
    queue_io = queue_passes(tuple(_env_ints("BENCH_QUEUE_WORKERS", "1,2,4,8")), io_sources, 2,
                            latency=latency, hosts=hosts, brand_share=IO_BRAND_SHARE)
    queue_cpu = queue_passes((1, 2), feeds, items)
    projected = projection(cpu, io, int(os.environ.get("BENCH_PROJECT_SOURCES", "100000")))
    return {"cpu": cpu, "io": io, "queue_io": queue_io, "queue_cpu": queue_cpu,
            "projection": projected}


if __name__ == "__main__":
    run()
