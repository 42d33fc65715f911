"""The embedded process pool: feed parsing and classification on every core of one machine.

A pass's CPU work is parsing feed bodies (feedparser) and classifying mentions (spaCy); under
the GIL the pipeline's threads only overlap their I/O. So those two steps are plain functions
over picklable values, run here in a `ProcessPoolExecutor` while the threads keep fetching and
storing:

- `parse_feed_task(content, source, headers, base_url) -> ParsedFeed` (bytes in, RawPosts out);
- `analyse_task(brands, posts) -> list[list[BrandAnalysis]]` (RawPosts and the brands'
  settings in, tags out).

A Celery task can call the same two functions unchanged when the pipeline scales past one
machine. Each worker builds its Analyzer (and so imports spaCy and builds its pipelines) once,
on its first classification, and again when the deployment models it is handed have a new
version (a model adopted by `monitor train`).

The pool costs its workers' start-up (a fresh interpreter each, then spaCy), so it is started
only when a run has enough work to repay that: `POOL_MIN_BYTES` of feed bodies to parse or
`POOL_MIN_POSTS` posts to classify, counted from the start of the run; below that, work stays
in-process. A re-poll of unchanged feeds parses and classifies nothing, so it never starts the
pool nor imports spaCy. `[pipeline] workers` sizes it (default: the CPU count; 0 or 1: always
in-process). If the pool breaks (a worker killed, say by the OOM killer), the run goes on
in-process, and so does the rest of that pipeline's life.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from classifiers.analyzer import Analyzer
    from classifiers.learned.deployment import DeploymentModels
    from classifiers.tags import BrandAnalysis
    from connectors.feed_parse import ParsedFeed
    from monitor.core.rawpost import RawPost
    from monitor.core.settings import BrandSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Feed bytes to parse in one run from which the pool is worth starting (about two feeds).
POOL_MIN_BYTES = 100_000
#: Posts to classify in one run from which the pool is worth starting.
POOL_MIN_POSTS = 100

_analyzers: dict[str, tuple[int, Analyzer]] = {}
_analyzers_lock = threading.Lock()


def brands_key(brands: Sequence[BrandSettings]) -> str:
    """A stable key for a set of brand settings (workers cache one Analyzer per key)."""
    return "\n".join(brand.model_dump_json() for brand in brands)


def analyzer_for(
    brands: Sequence[BrandSettings], deployment: DeploymentModels | None = None
) -> Analyzer:
    """This process's Analyzer for these brands and deployment models (`monitor train`),
    built on first use (imports spaCy); a new models version replaces the old Analyzer."""
    key = brands_key(brands)
    version = deployment.version if deployment is not None else 0
    found = _analyzers.get(key)
    if found is None or found[0] != version:
        from classifiers.analyzer import Analyzer

        with _analyzers_lock:
            found = _analyzers.get(key)
            if found is None or found[0] != version:
                found = _analyzers[key] = (version, Analyzer(brands, deployment=deployment))
    return found[1]


def parse_feed_task(
    content: bytes, source: str, headers: Mapping[str, str] | None, base_url: str | None
) -> ParsedFeed:
    """Parse one feed body (the pool's and a future Celery task's entry point)."""
    from connectors.feed_parse import parse_feed

    return parse_feed(
        content, source=source, headers=dict(headers or {}), base_url=base_url
    )


def analyse_task(
    brands: Sequence[BrandSettings],
    posts: Sequence[RawPost],
    deployment: DeploymentModels | None = None,
) -> list[list[BrandAnalysis]]:
    """Match, identify and classify posts for these brands (pool and Celery entry point),
    with the deployment models in force (their texts travel with the task: a worker
    process has no database of its own)."""
    return analyzer_for(brands, deployment).analyse(posts)


def default_workers() -> int:
    """The CPUs this process may run on (`[pipeline] workers` when unset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one (Linux), else spawn; never fork, because the parent has
    threads (HTTP, SQLite) whose held locks a forked child would inherit.

    The fork server imports the classifiers (spaCy) once and forks every worker from that,
    instead of each worker importing them again; the fork server starts with the pool, so
    this costs nothing to a run that never starts one.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["monitor.app.workers", "classifiers.analyzer"])
        return context
    return multiprocessing.get_context("spawn")


class WorkPool:
    """The pipeline's lazily started process pool, with its "worth it yet?" accounting.

    `run` executes a task in the pool when the pool is running or the current run's work
    has reached the thresholds, else in the calling thread. Thread-safe: the pipeline's
    worker threads share one WorkPool.
    """

    def __init__(self, workers: int | None) -> None:
        self.size = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._bytes = 0
        self._posts = 0

    @property
    def enabled(self) -> bool:
        return self.size > 1

    @property
    def started(self) -> bool:
        return self._pool is not None

    def new_run(self) -> None:
        """Start counting a run's work from zero (a started pool stays up).

        When runs overlap (the scheduler's jobs) they share the counts, which then only
        approximate "this run's work": they decide when the pool starts, nothing else.
        """
        with self._lock:
            self._bytes = self._posts = 0

    def _pool_for(self, nbytes: int, posts: int) -> ProcessPoolExecutor | None:
        if not self.enabled:
            return None
        with self._lock:
            self._bytes += nbytes
            self._posts += posts
            if self._pool is None and (
                self._bytes >= POOL_MIN_BYTES or self._posts >= POOL_MIN_POSTS
            ):
                log.debug("starting %d pipeline worker processes", self.size)
                self._pool = ProcessPoolExecutor(max_workers=self.size, mp_context=_context())
            return self._pool

    def run(
        self,
        task: Callable[..., T],
        *args: object,
        nbytes: int = 0,
        posts: int = 0,
        local: Callable[..., T] | None = None,
    ) -> T:
        """`task(*args)`, in the pool when it is (or becomes) worth it, else right here
        (through `local` when given: the same work with this process's own guards)."""
        pool = self._pool_for(nbytes, posts)
        if pool is not None:
            try:
                return pool.submit(task, *args).result()
            except BrokenProcessPool:
                log.warning("pipeline worker processes died; going on in-process")
                self._discard(pool)
        return (local or task)(*args)

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self.size = 1  # for the rest of this pipeline's life: no restart storms
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
