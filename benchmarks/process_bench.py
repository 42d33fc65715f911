"""`monitor fetch` as a user runs it: whole processes, against a feedparser process.

pipeline_bench measures the pipeline inside one warm interpreter, with spaCy already loaded.
A user (or cron) runs `monitor fetch` as a fresh process each time, so what they wait for
includes the interpreter, every import and every model the command loads. This benchmark times
that: 100 feeds x 50 items served over loopback (benchmarks/local_feed_server.py, ETags like
real servers), then

- cold: `python -m monitor fetch` on a fresh SQLite database (everything is new);
- re-poll: the same command again (every feed answers 304 Not Modified);
- baseline: a process that imports feedparser and runs `feedparser.parse()` with its defaults
  on the same bytes (read from files), measured in the same run, alternating with the others
  so that load from other processes on the machine hits both alike.

Each is repeated and the fastest kept; printed as ratios to the baseline. Goals (issue 9):
cold <= 1.0x, re-poll <= 0.10x. Environment: BENCH_FEEDS (100), BENCH_ITEMS (50),
BENCH_REPEATS (3), BENCH_PIPELINE_WORKERS (unset: the settings' default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from benchmarks.local_feed_server import serve_feeds
from benchmarks.pipeline_bench import BRAND, make_feeds

REPO = Path(__file__).resolve().parents[1]
BASELINE = (
    "import sys, pathlib, feedparser\n"
    "for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):\n"
    "    feedparser.parse(path.read_bytes())\n"
)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_settings(
    folder: Path, base_url: str, paths: list[str], database: Path, workers: int | None = None
) -> Path:
    """A settings file for `monitor fetch` over the served feeds."""
    return settings_file(folder, database, [base_url + path for path in paths], workers)


def settings_file(
    folder: Path,
    database: Path | str,
    urls: list[str],
    workers: int | None = None,
    *,
    http: dict[str, int] | None = None,
    backfill_all: bool = False,
    extra: str = "",
) -> Path:
    """A settings file with one `rss` source per URL; `database` is a SQLite file or a URL,
    `http` more `[http]` keys, `backfill_all` stores every item however old (the synthetic
    feeds have fixed dates), `extra` more TOML tables."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    lines = ["[storage]", f"url = {_toml_string(url)}", "[http]", "allow_private_addresses = true"]
    lines += [f"{key} = {value}" for key, value in (http or {}).items()]
    if backfill_all:
        lines += ["[fetch]", 'backfill = "all"']
    if workers is not None:
        lines += ["[pipeline]", f"workers = {workers}"]
    lines += ["[[brands]]", f"name = {_toml_string(BRAND['name'])}",
              f"query = {_toml_string(BRAND['query'])}"]
    for source in urls:
        name = "feed " + source.split("://", 1)[-1].split("/", 1)[-1]
        lines += ["[[sources]]", f"name = {_toml_string(name)}", 'kind = "rss"',
                  f"url = {_toml_string(source)}"]
    stem = Path(database).stem if isinstance(database, Path) else "queue"
    file = folder / f"{stem}.toml"
    file.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return file


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time of one whole process and its stdout; a failing process stops the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"benchmark process failed ({done.returncode}): {' '.join(command)}\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed, done.stdout


def run(
    feeds: int = 100, items: int = 50, repeats: int = 3, workers: int | None = None
) -> dict[str, float]:
    bodies = make_feeds(feeds, items)
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("VIGIA_SETTINGS", None)
    python = sys.executable
    baseline_times, cold_times, repoll_times = [], [], []
    with (
        serve_feeds(partial(make_feeds, feeds, items)) as base_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        raw = folder / "bodies"
        raw.mkdir()
        for index, body in enumerate(bodies.values()):
            (raw / f"{index:04}.xml").write_bytes(body)
        for attempt in range(repeats):
            baseline_times.append(_timed([python, "-c", BASELINE, str(raw)], env)[0])
            settings = write_settings(
                folder, base_url, list(bodies), folder / f"bench{attempt}.db", workers
            )
            fetch = [python, "-m", "monitor", "--settings", str(settings), "fetch"]
            elapsed, out = _timed(fetch, env)
            cold_times.append(elapsed)
            if out.count("not modified") or out.count(" ok") < feeds:
                raise SystemExit(f"cold pass was expected to fetch every feed:\n{out[-2000:]}")
            elapsed, out = _timed(fetch, env)
            repoll_times.append(elapsed)
            if out.count("not modified") != feeds:
                raise SystemExit(f"re-poll was expected to be all 304 Not Modified:\n{out[-2000:]}")
    baseline, cold, repoll = min(baseline_times), min(cold_times), min(repoll_times)
    results = {
        "feeds": feeds,
        "items": feeds * items,
        "feedparser_process_s": baseline,
        "cold_process_s": cold,
        "repoll_process_s": repoll,
        "cold_ratio": cold / baseline,
        "repoll_ratio": repoll / baseline,
    }
    print(
        f"processes: `monitor fetch` over {feeds} feeds x {items} items "
        f"({sum(map(len, bodies.values())) / 1e6:.1f} MB), best of {repeats}\n"
        f"  feedparser.parse default, whole process (baseline) {baseline:.2f} s\n"
        f"  cold `monitor fetch` (fresh database)   {cold:.2f} s  "
        f"ratio {results['cold_ratio']:.2f} (goal <= 1.0)\n"
        f"  re-poll `monitor fetch` (all 304)       {repoll:.2f} s  "
        f"ratio {results['repoll_ratio']:.2f} (goal <= 0.10)"
    )
    return results


if __name__ == "__main__":
    configured = os.environ.get("BENCH_PIPELINE_WORKERS")
    run(
        feeds=int(os.environ.get("BENCH_FEEDS", "100")),
        items=int(os.environ.get("BENCH_ITEMS", "50")),
        repeats=int(os.environ.get("BENCH_REPEATS", "3")),
        workers=int(configured) if configured else None,
    )
