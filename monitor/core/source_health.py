"""Each source's health — ok, failing, silent, never run or disabled — and why.

A monitor that quietly stops seeing a source is worse than one that crashes: the team trusts
an empty digest. So one function judges every source from what its row records, and both
`monitor sources` and the daily digest show that verdict:

- failing: `[health] max_failures` runs in a row have failed (the last error says why), or
  the last run failed with an outcome that no retry can fix (misconfigured: a 404, a
  redirect loop, a refused address; monitor/core/errors.py's POLICY), at once — whether or not
  the source ever worked;
- silent: runs succeed but no new item has come for longer than `silent_after` (a feed
  that moved, a query that no longer matches, an API that answers with stale data);
- never run / disabled: nothing to judge yet, or switched off in the settings.

"New item" means a post the source had not given before, whether or not it named a brand:
a general news feed may go weeks without the brand and is still alive. Without a
`silent_after` for the source or in `[health]`, the default is `SILENCE_INTERVALS` polling
intervals, and never less than `MIN_SILENCE`, so a blog polled hourly is not called silent
after one quiet afternoon.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.core.errors import POLICY, Outcome
from monitor.core.models import Source
from monitor.core.settings import Settings, SourceSettings, parse_interval

OK, FAILING, SILENT, NEVER_RUN, DISABLED = "ok", "failing", "silent", "never run", "disabled"
#: Statuses that the digest reports as problems.
PROBLEMS = frozenset({FAILING, SILENT})
SILENCE_INTERVALS = 12
MIN_SILENCE = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """The verdict on one source, with the figures behind it."""

    name: str
    kind: str
    status: str
    reason: str
    enabled: bool
    configured: bool
    last_success_at: datetime | None
    last_new_at: datetime | None
    items_seen: int
    mentions_stored: int
    failures: int
    last_error: str | None
    last_warning: str | None
    silent_after: timedelta
    #: Items the source gave that could not be read, over all runs.
    items_skipped: int = 0
    #: The last failure's outcome ("retry later", "misconfigured", ...); None after a success.
    last_outcome: str | None = None

    @property
    def is_problem(self) -> bool:
        return self.status in PROBLEMS

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `monitor sources --json`."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "enabled": self.enabled,
            "configured": self.configured,
            "last_success_at": when(self.last_success_at),
            "last_new_at": when(self.last_new_at),
            "items_seen": self.items_seen,
            "items_skipped": self.items_skipped,
            "mentions_stored": self.mentions_stored,
            "consecutive_failures": self.failures,
            "last_error": self.last_error,
            "last_outcome": self.last_outcome,
            "last_warning": self.last_warning,
            "silent_after_seconds": int(self.silent_after.total_seconds()),
        }


def polling_interval(kind: str, source: SourceSettings | None) -> timedelta:
    """The interval the scheduler polls the source at (for a stored source no longer in the
    settings: the fallback interval)."""
    return (source or SourceSettings(name="(not configured)", kind=kind)).interval


def silence_limit(kind: str, source: SourceSettings | None, settings: Settings) -> timedelta:
    """How long the source may go without a new item before it is called silent."""
    if source is not None and source.silent_after:
        return parse_interval(source.silent_after)
    if settings.health.silent_after:
        return parse_interval(settings.health.silent_after)
    return max(MIN_SILENCE, SILENCE_INTERVALS * polling_interval(kind, source))


def assess(
    row: Source | None, source: SourceSettings | None, settings: Settings, now: datetime
) -> SourceHealth:
    """Judge one source from its stored row (None: never run) and its settings (None: no
    longer configured, judged with defaults)."""
    if source is not None:
        name, kind = source.name, source.kind
    elif row is not None:
        name, kind = row.name, row.kind
    else:
        raise ValueError("assess() needs a stored row or a configured source")
    limit = silence_limit(kind, source, settings)
    failures = (row.consecutive_failures or 0) if row is not None else 0
    status, reason = _verdict(row, source, settings.health.max_failures, failures, limit, now)
    return SourceHealth(
        name=name,
        kind=kind,
        status=status,
        reason=reason,
        enabled=source.enabled if source is not None else False,
        configured=source is not None,
        last_success_at=row.last_success_at if row is not None else None,
        last_new_at=row.last_new_at if row is not None else None,
        items_seen=(row.items_seen or 0) if row is not None else 0,
        mentions_stored=(row.mentions_stored or 0) if row is not None else 0,
        failures=failures,
        last_error=row.last_error if row is not None else None,
        last_warning=row.last_warning if row is not None else None,
        silent_after=limit,
        items_skipped=(row.items_skipped or 0) if row is not None else 0,
        last_outcome=row.last_outcome if row is not None and failures else None,
    )


def _verdict(
    row: Source | None,
    source: SourceSettings | None,
    max_failures: int,
    failures: int,
    limit: timedelta,
    now: datetime,
) -> tuple[str, str]:
    if source is not None and not source.enabled:
        return DISABLED, "enabled = false in the settings"
    if row is None or (row.last_attempt_at is None and row.last_success_at is None):
        return NEVER_RUN, "not fetched yet"
    since = (
        f"last success {_ago(now - row.last_success_at)} ago"
        if row.last_success_at
        else "never succeeded"
    )
    if failures and _failing_at_once(row.last_outcome):
        return FAILING, f"{row.last_outcome} ({since}): {row.last_error or '?'}"
    if failures >= max_failures:
        return FAILING, f"{failures} failed runs in a row ({since}): {row.last_error or '?'}"
    if row.last_new_at is not None and now - row.last_new_at > limit:
        return SILENT, (
            f"no new item for {_ago(now - row.last_new_at)} (expected within {_ago(limit)})"
        )
    if failures:
        never = "" if row.last_success_at else "never succeeded; "
        return OK, f"{never}{failures} failed run(s) in a row, failing at {max_failures}"
    if row.last_new_at is None:
        return OK, "no items yet"
    return OK, ""


def _failing_at_once(outcome: str | None) -> bool:
    """Whether the stored outcome of the last failure makes the source failing by itself."""
    try:
        return outcome is not None and POLICY[Outcome(outcome)].failing_at_once
    except ValueError:  # a value written by a newer version: judge by the count alone
        return False


def source_health(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    include_unconfigured: bool = False,
) -> list[SourceHealth]:
    """Every configured source in settings order; with `include_unconfigured`, then the stored
    sources that are no longer in the settings (by name)."""
    rows = {row.name: row for row in session.scalars(select(Source))}
    found = [assess(rows.pop(s.name, None), s, settings, now) for s in settings.sources]
    if include_unconfigured:
        found += [assess(rows[name], None, settings, now) for name in sorted(rows)]
    return found


def problems(healths: Iterable[SourceHealth]) -> list[SourceHealth]:
    """Failing and silent sources, plus any with a warning, worst first."""
    chosen = [
        h for h in healths if h.is_problem or (h.last_warning and h.status != DISABLED)
    ]
    return sorted(chosen, key=lambda h: (-h.failures, h.name))


def _ago(delta: timedelta) -> str:
    """A short human duration: '3d 4h', '5h 10m', '12m'."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"
