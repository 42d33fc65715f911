"""`monitor check`: try every source live once, store nothing, say which ones work.

The check starts each source from an empty state, so it makes the same request a first run
would (a full fetch, no conditional GET) and exercises the real parsing; nothing is written
to the database, so running it never moves a cursor or hides a post from the next real run.
Sources are tried in parallel threads, like `monitor run`: a check of hundreds of feeds
should take as long as the slowest host, not the sum of all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from connectors.base import SourceState
from monitor.app.sources import build_connector
from monitor.core.errors import VigiaError
from monitor.core.http import HttpClient
from monitor.core.settings import Settings, SourceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One source's live check: `error` is None when it worked."""

    name: str
    kind: str
    items: int = 0
    seconds: float = 0.0
    warning: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_source(
    settings: Settings, source: SourceSettings, http: HttpClient, now: datetime
) -> CheckResult:
    """One fetch of `source` from an empty state; every failure becomes the result's error."""
    started = time.perf_counter()
    try:
        result = build_connector(settings, source, http, now).fetch(SourceState())
    except VigiaError as exc:
        error = str(exc)
    except Exception as exc:  # a connector bug must not hide the other sources' results
        log.debug("checking %s failed unexpectedly", source.name, exc_info=True)
        error = f"internal error: {type(exc).__name__}: {exc}"
    else:
        return CheckResult(
            source.name,
            source.kind,
            items=len(result.posts),
            seconds=time.perf_counter() - started,
            warning=result.warning,
        )
    return CheckResult(
        source.name, source.kind, seconds=time.perf_counter() - started, error=error
    )


def check_sources(
    settings: Settings,
    sources: Sequence[SourceSettings],
    http: HttpClient,
    now: datetime,
    *,
    workers: int = 4,
    on_done: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check `sources` in parallel (per-host limits live in the HTTP client), in their order."""
    if not sources:
        return []

    def run(source: SourceSettings) -> CheckResult:
        result = check_source(settings, source, http, now)
        if on_done:
            on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sources)))) as pool:
        return list(pool.map(run, sources))
