"""Every failure is classified once, here, so the HTTP client and the pipeline agree on it.

A source error has one of three outcomes, and `POLICY` says what each part of Vigía does
about it (the HTTP client's retry decision and the pipeline's bookkeeping both read it):

- `TRANSIENT` (`RetryLater(..., transient=True)`): connection errors, 5xx, 408 and 429. The
  same request may well work seconds later, so the HTTP client retries it inside the run;
  when the retries are spent the run fails like `RETRY_LATER`.
- `RETRY_LATER` (`RetryLater`): the source cannot be read now and the same request would fail
  the same way within the run — a body slower than `[http] max_download_seconds`, a body
  over `[http] max_body_bytes`, a garbled answer. Never retried inside the run: the run
  stores nothing, the failure counter goes up, the next run tries again (and, when the
  server said when, the scheduler moves that run to `retry_after`).
- `MISCONFIGURED` (`SourceMisconfigured`): retrying will not help until a human fixes the
  settings or the remote side (404, 401/403, other 4xx, a redirect loop, a refused private
  address, a body that is not a feed at all). Never retried; the source is failing at once
  and the digest says so.

`SkipItem` is not a source outcome: one item is unusable, the connector drops it and counts
it (`FetchResult.skipped`, kept in source health), and the rest of the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VigiaError(Exception):
    """Base class for errors Vigía reports to the user (never with a traceback)."""


class SettingsError(VigiaError):
    """A settings file problem; every entry names the key and says how to fix it."""

    def __init__(self, problems: list[tuple[str, str]], path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        lines = [
            f"{where}{key}: {message}" if key else f"{where}{message}" for key, message in problems
        ]
        super().__init__("\n".join(lines))


class Outcome(StrEnum):
    """What a failed run means for its source (stored on the source row as its value)."""

    TRANSIENT = "transient"
    RETRY_LATER = "retry later"
    MISCONFIGURED = "misconfigured"


@dataclass(frozen=True, slots=True)
class Action:
    """What Vigía does about one outcome."""

    #: The HTTP client sends the same request again within the run (with backoff).
    retry_in_run: bool
    #: Source health calls the source failing after this one failure (not after N in a row).
    failing_at_once: bool
    #: The scheduler moves the source's next run to the error's `retry_after`, when it has one.
    honour_retry_after: bool


POLICY: dict[Outcome, Action] = {
    Outcome.TRANSIENT: Action(retry_in_run=True, failing_at_once=False, honour_retry_after=True),
    Outcome.RETRY_LATER: Action(
        retry_in_run=False, failing_at_once=False, honour_retry_after=True
    ),
    Outcome.MISCONFIGURED: Action(
        retry_in_run=False, failing_at_once=True, honour_retry_after=False
    ),
}


def outcome_for(error: BaseException) -> Outcome:
    """The outcome of any exception a run raised.

    Anything that is not a `SourceError` (a connector bug, an unforeseen input) is
    `RETRY_LATER`: an upgrade may fix it, and `[health] max_failures` reports it if not.
    """
    if isinstance(error, SourceMisconfigured):
        return Outcome.MISCONFIGURED
    if isinstance(error, RetryLater) and error.transient:
        return Outcome.TRANSIENT
    return Outcome.RETRY_LATER


def action_for(error: BaseException) -> Action:
    return POLICY[outcome_for(error)]


def retry_in_run(error: BaseException, max_wait: float) -> bool:
    """The HTTP client's retry decision: a transient error, unless the server asks for a
    wait (`retry_after`) longer than `max_wait`, which is left to the scheduler."""
    if not action_for(error).retry_in_run:
        return False
    wait = getattr(error, "retry_after", None)
    return wait is None or wait <= max_wait


class SourceError(VigiaError):
    """A problem fetching one source; `outcome_for` says what should be done about it."""

    @property
    def retryable(self) -> bool:
        """Whether the HTTP client may send the same request again within the run."""
        return action_for(self).retry_in_run


class RetryLater(SourceError):
    """Try again later: on the next run (not before `retry_after` seconds when given), and
    also within this run when `transient` (connection errors, 5xx, 408, 429)."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, transient: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.transient = transient


class SourceMisconfigured(SourceError):
    """Permanent until someone changes the settings or the remote side."""


class SkipItem(VigiaError):
    """One item of a source cannot be used; the rest of the batch goes on."""


class DeliveryError(VigiaError):
    """An email could not be handed to the mail server; the outbox will retry it."""


class StorageUnavailable(VigiaError):
    """The database in `[storage] url` cannot be opened; the message says what to change."""
