"""One run of one source: fetch → match → classify → store, state included, in one transaction.

A crash anywhere leaves either the old state and none of the run's mentions, or the new state
and all of them, so a rerun never loses or duplicates a mention. Failures are handled here,
once, by outcome (`monitor.core.errors.outcome_for` and its `POLICY`): every failure is recorded
on the source with its outcome, which source health reads (a misconfigured source is failing
at once, in `monitor sources` and the digest), and the report carries `retry_at` when the
server said when to come back, for the scheduler. Anything unexpected is also logged with its
traceback; no failure ever stops the other sources. Items a connector could not read
(`FetchResult.skipped`) are counted on the source.

A multi-source run (`run_sources`) does its per-source bookkeeping in bulk: it reads every
source's state in one query at the start, and records the polls that found nothing new (most
of them, all day long) in one UPDATE per batch. Those polls change no state and store no
mention, so batching them cannot lose or duplicate one; a crash loses at most a batch of
health timestamps. Runs that bring something new still commit their mentions and new state
together, one transaction per source.

Parsing and classification, the CPU-bound steps, go through the pipeline's `WorkPool`
(monitor/app/workers.py): in worker processes once a run has enough work, in-process otherwise.
Nothing here imports spaCy: the Analyzer is built on the first in-process classification, so a
re-poll that finds nothing new costs its HTTP requests and little more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from classifiers.tags import BrandAnalysis
from connectors.base import FetchResult, SourceState
from monitor.app.mention_store import store_matches
from monitor.app.source_state import (
    UnchangedPoll,
    read_state,
    record_failure,
    record_success,
    record_unchanged,
    source_row,
    source_rows,
    write_state,
)
from monitor.app.sources import build_connector
from monitor.app.story_cache import StoryCache
from monitor.app.training import deployment_models_in_force, deployment_version
from monitor.app.workers import WorkPool, analyse_task, analyzer_for, parse_feed_task
from monitor.core.errors import POLICY, Outcome, SourceError, outcome_for
from monitor.core.http import HttpClient
from monitor.core.rawpost import RawPost
from monitor.core.settings import Settings, SourceSettings
from monitor.core.storage import Database, database_unreachable

if TYPE_CHECKING:
    from classifiers.analyzer import Analyzer
    from classifiers.learned.deployment import DeploymentModels
    from connectors.feed_parse import ParsedFeed

log = logging.getLogger(__name__)

#: Unchanged polls recorded per transaction by a multi-source run.
UNCHANGED_BATCH = 100
#: A source's row id and its state as read at the start of a run.
KnownSource = tuple[int, SourceState]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunReport:
    """What one source run did, for progress bars, logs and `monitor fetch`."""

    source: str
    fetched: int = 0
    matched: int = 0
    new_mentions: int = 0
    new_sightings: int = 0
    not_modified: bool = False
    skipped: int = 0
    warning: str | None = None
    error: str | None = None
    #: The failure's outcome (None when the run worked) and, when the server said when to
    #: come back, the time the source's next run should move to.
    outcome: Outcome | None = None
    retry_at: datetime | None = None
    seconds: float = 0.0
    #: The run failed because the database could not be reached (it is worth running again
    #: once it answers: a queued run retries, monitor.app.queue.tasks).
    database_unreachable: bool = False
    #: Items of a first run published before the `[fetch] backfill` horizon: seen, not stored.
    too_old: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class UnchangedBatch:
    """The unchanged polls of a multi-source run, recorded `size` at a time.

    Worker threads add to it; the one that fills a batch records it, and the run records the
    rest when it ends. A batch that cannot be written is logged, not raised: it holds only
    health timestamps, and the sources it names already reported their runs.
    """

    def __init__(self, db: Database, size: int) -> None:
        self._db = db
        self._size = size
        self._pending: list[UnchangedPoll] = []
        self._lock = threading.Lock()

    def add(self, poll: UnchangedPoll) -> None:
        with self._lock:
            self._pending.append(poll)
            if len(self._pending) < self._size:
                return
            batch, self._pending = self._pending, []
        self._record(batch)

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        self._record(batch)

    def _record(self, batch: list[UnchangedPoll]) -> None:
        if not batch:
            return
        try:
            with self._db.transaction() as session:
                record_unchanged(session, batch)
        except Exception:
            log.exception("could not record %d unchanged polls", len(batch))


class Pipeline:
    """Runs sources against one database with one shared HTTP client and one analyzer."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        http: HttpClient | None = None,
        analyzer: Analyzer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.http = http or HttpClient(settings.http)
        self._analyzer = analyzer
        self._deployment: DeploymentModels | None = None
        self._deployment_version = 0
        self.clock = clock
        self.pool = WorkPool(settings.pipeline.workers)
        self.stories = StoryCache(settings.stories.window_delta)
        # spaCy pipelines are not documented as thread-safe, and analysis is CPU-bound under
        # the GIL anyway: worker threads overlap their I/O, not their classification.
        self._analysis_lock = threading.Lock()

    @property
    def analyzer(self) -> Analyzer:
        """The in-process Analyzer (an injected one as given), built (and spaCy imported) on
        first use and again when a new deployment model was adopted."""
        if self._analyzer is not None:
            return self._analyzer
        return analyzer_for(self.settings.brands, self.deployment_models())

    def deployment_models(self) -> DeploymentModels | None:
        """The deployment models in force, read again only when their version changed (one
        indexed query per classification batch)."""
        with self.db.reading() as session:
            version = deployment_version(session)
            if version != self._deployment_version:
                self._deployment = deployment_models_in_force(session) if version else None
                self._deployment_version = version
        return self._deployment

    def close(self) -> None:
        self.http.close()
        self.pool.close()

    def _parse_feed(
        self, content: bytes, source: str, headers: dict[str, str] | None, base_url: str | None
    ) -> ParsedFeed:
        """Connectors' feed parsing (`ConnectorContext.feed_parser`), through the pool."""
        return self.pool.run(
            parse_feed_task, content, source, headers, base_url, nbytes=len(content)
        )

    def _analyse(self, posts: list[RawPost]) -> list[list[BrandAnalysis]]:
        # An injected analyzer (tests, embedding code) is used as given, in this process.
        if self._analyzer is None and self.pool.enabled:
            return self.pool.run(
                analyse_task, self.settings.brands, posts, self.deployment_models(),
                posts=len(posts), local=lambda _brands, chosen, _models: self._analyse_here(chosen),
            )
        return self._analyse_here(posts)

    def _analyse_here(self, posts: list[RawPost]) -> list[list[BrandAnalysis]]:
        with self._analysis_lock:
            return self.analyzer.analyse(posts)

    def run_source(self, source: SourceSettings) -> RunReport:
        """One source on its own (the scheduler's jobs): every write happens before it returns."""
        self.pool.new_run()
        return self._run_source(source, None, None)

    def _run_source(
        self, source: SourceSettings, known: KnownSource | None, batch: UnchangedBatch | None
    ) -> RunReport:
        report = RunReport(source=source.name)
        started = time.perf_counter()
        try:
            self._run(source, report, known, batch)
        except SourceError as exc:
            self._failed(source, report, exc, str(exc))
        except Exception as exc:  # a bug or an unforeseen input: report it, keep going
            log.exception("source %s failed unexpectedly", source.name)
            report.database_unreachable = database_unreachable(exc)
            self._failed(source, report, exc, f"internal error: {type(exc).__name__}: {exc}")
        report.seconds = time.perf_counter() - started
        return report

    def run_sources(
        self,
        sources: Sequence[SourceSettings] | None = None,
        *,
        workers: int = 4,
        on_done: Callable[[RunReport], None] | None = None,
    ) -> list[RunReport]:
        """Run several sources in parallel threads; per-host limits live in the HTTP client."""
        chosen = [
            s for s in (sources if sources is not None else self.settings.sources) if s.enabled
        ]
        reports: list[RunReport] = []
        self.pool.new_run()
        known = self._read_states(chosen)
        batch = UnchangedBatch(self.db, UNCHANGED_BATCH)
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen) or 1))) as pool:
                futures = [
                    pool.submit(self._run_source, source, known.get(source.name), batch)
                    for source in chosen
                ]
                for future in as_completed(futures):
                    report = future.result()
                    reports.append(report)
                    if on_done:
                        on_done(report)
        finally:
            batch.flush()
        order = {s.name: i for i, s in enumerate(chosen)}
        return sorted(reports, key=lambda r: order[r.source])

    def _read_states(self, sources: Sequence[SourceSettings]) -> dict[str, KnownSource]:
        """Every source's row id and state in one transaction (rows created on first use).

        If that fails, each source reads its own state, as a single run does, so that one
        bad read can still only fail the sources it concerns.
        """
        if not sources:
            return {}
        try:
            with self.db.transaction() as session:
                rows = source_rows(session, {s.name: s.kind for s in sources})
                return {name: (row.id, read_state(row)) for name, row in rows.items()}
        except Exception:
            log.exception("could not read the sources' states at once; reading them one by one")
            return {}

    def _run(
        self,
        source: SourceSettings,
        report: RunReport,
        known: KnownSource | None,
        batch: UnchangedBatch | None,
    ) -> None:
        if known is None:
            with self.db.transaction() as session:
                row = source_row(session, source.name, source.kind)
                known = (row.id, read_state(row))
        source_id, state = known
        connector = build_connector(
            self.settings, source, self.http, self.clock(), feed_parser=self._parse_feed
        )
        result = connector.fetch(state)
        report.fetched = len(result.posts)
        report.not_modified = result.not_modified
        report.skipped = result.skipped
        report.warning = result.warning
        if not result.posts and not result.skipped and result.new_state == state:
            # The common case of a poll: nothing new (a 304, an identical body, or an API with
            # nothing past its cursor). Health only, batched in a multi-source run.
            poll = UnchangedPoll(source_id, self.clock(), result.warning)
            if batch is not None:
                batch.add(poll)
            else:
                with self.db.transaction() as session:
                    record_unchanged(session, [poll])
            return
        first_run = state == SourceState()
        posts = self._within_backfill(result.posts, report) if first_run else result.posts
        analyses = self._analyse(posts) if posts else []
        matched = [(post, found) for post, found in zip(posts, analyses, strict=True) if found]
        report.matched = len(matched)
        for attempt in (1, 2):
            try:
                self._store(source, result, matched, report)
                return
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("source %s: concurrent write detected, retrying the store", source.name)

    def _within_backfill(self, posts: list[RawPost], report: RunReport) -> list[RawPost]:
        """A source's first run stores only posts newer than `[fetch] backfill`.

        A first poll returns a feed's whole archive; its ids still go into the new state, so
        the old items are remembered as seen and never offered again, only not stored.
        Posts without a date are kept: nothing says they are old.
        """
        horizon = self.settings.fetch.horizon
        if horizon is None:
            return posts
        cutoff = self.clock() - horizon
        kept = [p for p in posts if p.published_at is None or p.published_at >= cutoff]
        report.too_old = len(posts) - len(kept)
        return kept

    def _store(
        self,
        source: SourceSettings,
        result: FetchResult,
        matched: list[tuple[RawPost, list[BrandAnalysis]]],
        report: RunReport,
    ) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            row = source_row(session, source.name, source.kind, lock=True)
            counts = store_matches(
                session, row, matched, now, window=self.settings.stories.window_delta,
                stories=self.stories,
            )
            write_state(row, result.new_state)
            record_success(
                row, now, result.warning, len(result.posts), counts.new_mentions, result.skipped
            )
        report.new_mentions = counts.new_mentions
        report.new_sightings = counts.new_sightings

    def _failed(
        self, source: SourceSettings, report: RunReport, error: Exception, message: str
    ) -> None:
        """The one place a failed run's outcome becomes actions (`monitor.core.errors.POLICY`)."""
        outcome = outcome_for(error)
        report.error, report.outcome = message, outcome
        wait = getattr(error, "retry_after", None)
        if POLICY[outcome].honour_retry_after and wait:
            report.retry_at = self.clock() + timedelta(seconds=wait)
        self._record_failure(source, message, outcome)

    def _record_failure(self, source: SourceSettings, message: str, outcome: Outcome) -> None:
        try:
            with self.db.transaction() as session:
                row = source_row(session, source.name, source.kind, lock=True)
                record_failure(row, message, self.clock(), outcome)
        except Exception:
            log.exception("could not record the failure of source %s", source.name)
