"""Every failure is classified once, here, so the pipeline handles each class in one place.

- `RetryLater`: the source is temporarily unavailable (timeouts, 429, 5xx, network errors).
  The run stores nothing, the failure counter goes up and the scheduler tries again later.
- `SourceMisconfigured`: retrying will not help until a human fixes settings or the URL
  (404, 401/403, a refused private address, a body that is not a feed at all).
- `SkipItem`: one item is unusable; the connector drops it and carries on with the rest.
"""

from __future__ import annotations


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


class SourceError(VigiaError):
    """A problem fetching one source; subclasses say what the pipeline should do about it."""

    retryable: bool = True


class RetryLater(SourceError):
    """Temporary: try again on the next run (optionally not before `retry_after` seconds)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceMisconfigured(SourceError):
    """Permanent until someone changes the settings or the remote side."""

    retryable = False


class SkipItem(VigiaError):
    """One item of a source cannot be used; the rest of the batch goes on."""


class DeliveryError(VigiaError):
    """An email could not be handed to the mail server; the outbox will retry it."""


class StorageUnavailable(VigiaError):
    """The database in `[storage] url` cannot be opened; the message says what to change."""
