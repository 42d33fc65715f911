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
- Queue workers (issue 11): `monitor run --once` through Celery, timed from the enqueue to
  the end of the last source run (monitor.app.queue.once, in this process; the digest and
  delivery after it are left out). CPU-bound: the same feeds as above with 1 and 2
  `monitor worker --concurrency 1` processes (goal: 1.8x with 2 on 2 cores). I/O-bound:
  the same sources as above with one `monitor worker --pool threads --concurrency N` for N
  in BENCH_QUEUE_WORKERS ("1,2,4,8"): a run mostly waits on the network, so N fetch slots
  are what counts, and threads share one process's models and HTTP client (N prefork
  processes would load the models N times for no gain). Needs a broker and PostgreSQL:
  VIGIA_BENCH_BROKER_URL or VIGIA_TEST_REDIS_URL, VIGIA_BENCH_DATABASE_URL or
  VIGIA_TEST_DATABASE_URL (its schema is dropped and made again); skipped with the reason
  otherwise. Each run uses queues of its own (`[queue] prefix`).

Then a projection for BENCH_PROJECT_SOURCES (100,000) sources polled every 15 minutes from
the measured figures (`benchmarks.scale_projection`). Environment knobs above, and
BENCH_REPEATS (1).
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

from benchmarks import process_cpu
from benchmarks.local_feed_server import serve_feeds_on_ports
from benchmarks.pipeline_bench import BRAND, make_feeds
from benchmarks.process_bench import REPO, _timed, settings_file
from benchmarks.scale_projection import projection
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


def _start_workers(
    settings: Path, folder: Path, count: int, *args: str
) -> list[subprocess.Popen[bytes]]:
    """`count` `monitor worker` processes, returned once each has logged Celery's "ready"
    (their logs go to files: a pipe nobody reads would block a busy worker)."""
    command = [sys.executable, "-m", "monitor", "--settings", str(settings), "worker", *args]
    env = _process_env() | {"VIGIA_QUEUE_BROKER": _broker_url()}
    logs = [folder / f"worker{i}.log" for i in range(count)]
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 120
    for worker, log in zip(workers, logs, strict=True):
        while " ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                _stop_workers(workers)
                raise SystemExit(f"`monitor worker` did not get ready:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
    return workers


def _stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()  # Celery's warm shutdown
    for worker in workers:
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def _queued_pass(settings_path: Path, sources: int) -> tuple[float, int]:
    """Seconds from the enqueue of a `monitor run --once` pass to its last source run's
    end (in this process, as the command does it: monitor.app.queue.once), and the
    mentions stored; the digest and delivery that follow a pass are left out."""
    from monitor.app.configuration import load_settings
    from monitor.app.queue.celery_app import make_app
    from monitor.app.queue.once import run_once_queued

    before = os.environ.get("VIGIA_QUEUE_BROKER")
    os.environ["VIGIA_QUEUE_BROKER"] = _broker_url()
    done: list[float] = []
    try:
        settings = load_settings(settings_path)
        database = open_database(settings.database_url)
        try:
            started = time.perf_counter()
            queued = run_once_queued(settings, database, make_app(settings), timeout=1800,
                                     on_done=lambda _r: done.append(time.perf_counter()))
        finally:
            database.dispose()
    finally:
        if before is None:
            os.environ.pop("VIGIA_QUEUE_BROKER", None)
        else:
            os.environ["VIGIA_QUEUE_BROKER"] = before
    if queued.broken or len(done) != sources:
        raise SystemExit(f"queued pass failed: {queued.broken[:3]} ({len(done)}/{sources})")
    return max(done) - started, count_mentions(settings.database_url)


def queue_passes(
    counts: tuple[int, ...], feeds: int, items: int, *, latency: float = 0.0, hosts: int = 1,
    brand_share: float = 1.0, threads: bool = False,
) -> dict[str, Any]:
    """One queued pass with each number of workers: with `threads`, one `monitor worker
    --pool threads --concurrency N` (N fetch slots: I/O-bound runs wait on the network,
    and threads share one process's models and HTTP client); without, N `monitor worker
    --concurrency 1` processes (N cores' worth of classification)."""
    reason = queue_missing()
    if reason:
        print(f"scale, queue workers {list(counts)}: {reason}")
        return {"skipped": reason}
    from tests.conftest import _reset_postgres  # the same reset the test suite uses

    passes: dict[int, float] = {}
    stored: dict[int, int] = {}
    worker_cpu: dict[int, float | None] = {}
    database_cpu: dict[int, float | None] = {}
    with (
        serve_feeds_on_ports(partial(make_feeds, feeds, items, brand_share),
                             servers=hosts, latency=latency) as base_urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for count in counts:
            _reset_postgres(_queue_database_url())
            prefix = f"bench{os.getpid()}n{count}"
            settings = settings_file(
                Path(tmp), _queue_database_url(), _spread(base_urls, feeds), backfill_all=True,
                extra=f'[queue]\nprefix = "{prefix}"\n',
            )
            args = (["--pool", "threads", "--concurrency", str(count)] if threads
                    else ["--concurrency", "1"])
            workers = _start_workers(settings, Path(tmp), 1 if threads else count, *args)
            pids = [w.pid for w in workers]
            try:
                workers_before, database_before = _cpu_now(pids)
                passes[count], stored[count] = _queued_pass(settings, feeds)
                workers_after, database_after = _cpu_now(pids)
                worker_cpu[count] = _spent(workers_before, workers_after)
                database_cpu[count] = _spent(database_before, database_after)
            finally:
                _stop_workers(workers)
    if len(set(stored.values())) != 1 or not stored[counts[0]]:
        raise SystemExit(f"every queued pass must store the same mentions: {stored}")
    base = counts[0]
    mentions = stored[base]
    kind = ("one worker, --pool threads --concurrency N" if threads
            else "N worker processes, --concurrency 1")
    print(f"scale, queue: `monitor run --once` on Celery ({kind}), {feeds} sources, "
          f"{mentions} mentions, enqueue to last run done\n" + "\n".join(
              f"  N={n:3d} {passes[n]:7.2f} s  {mentions / passes[n]:7.1f} mentions/s  "
              f"speed-up over N={base} {passes[base] / passes[n]:5.2f}x"
              + (f"  (floor {feeds * latency / n:6.2f} s)" if latency else "")
              + _cpu_line(worker_cpu[n], database_cpu[n], passes[n], feeds)
              for n in counts))
    return {"passes": passes, "mentions": mentions, "sources": feeds, "latency": latency,
            "worker_cpu_s": worker_cpu, "database_cpu_s": database_cpu,
            "mentions_per_s": {n: mentions / passes[n] for n in counts},
            "speedup": {n: passes[base] / passes[n] for n in counts}}


def _cpu_now(pids: list[int]) -> tuple[float | None, float | None]:
    """CPU seconds so far of the worker processes (and their pools) and of PostgreSQL."""
    return process_cpu.tree_cpu(pids), process_cpu.named_cpu("postgres")


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _cpu_line(worker: float | None, database: float | None, seconds: float, runs: int) -> str:
    """The pass's CPU: workers' and PostgreSQL's seconds, per run, and the cores busy."""
    if worker is None or database is None:
        return ""
    return (f"\n         CPU: workers {worker:6.1f} s ({worker / runs * 1000:5.1f} ms a run), "
            f"PostgreSQL {database:5.1f} s ({database / runs * 1000:5.1f} ms a run); "
            f"{(worker + database) / seconds:4.2f} of {os.cpu_count() or 1} cores busy")


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
    queue_cpu = queue_passes((1, 2), feeds, items)
    queue_io = queue_passes(tuple(_env_ints("BENCH_QUEUE_WORKERS", "1,2,4,8")), io_sources, 2,
                            latency=latency, hosts=hosts, brand_share=IO_BRAND_SHARE,
                            threads=True)
    projected = projection(cpu, io, int(os.environ.get("BENCH_PROJECT_SOURCES", "100000")),
                           queue_cpu=queue_cpu, queue_io=queue_io)
    return {"cpu": cpu, "io": io, "queue_io": queue_io, "queue_cpu": queue_cpu,
            "projection": projected}


if __name__ == "__main__":
    run()
