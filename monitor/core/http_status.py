"""What an HTTP answer means for a source: status codes and rate-limit headers → error policy.

Pure functions over a status, headers and the clock, kept apart from the client that sends
requests so the policy (retry later, or fix the settings; how long a host asks to be left
alone) can be read and tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from monitor.core.errors import RetryLater, SourceError, SourceMisconfigured
from monitor.core.netguard import redact_url

#: A Retry-After longer than this is not waited for inside a run: the scheduler waits instead.
MAX_RETRY_AFTER = 60.0
#: How long a host that says its rate limit is spent, without saying until when, is left alone.
DEFAULT_RATE_LIMIT_WAIT = 60.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def parse_rate_limit_reset(value: str | None, now: float) -> float | None:
    """Seconds until a rate-limit window resets, from the forms the APIs we poll send.

    Reddit and the IETF draft send delta-seconds ("15"), Bluesky an epoch ("1747676784"),
    Mastodon an ISO 8601 time ("2026-11-21T06:30:00.000Z"); anything else is None.
    """
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if number != number or number < 0:  # NaN or negative: meaningless
            return None
        # A plain number that large can only be an epoch (delta of 30+ years otherwise).
        return max(0.0, number - now) if number > 1e9 else number
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return parse_retry_after(value, now)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before the next request when the response says no budget is left.

    None while requests remain (or the host sends no rate-limit headers). A spent budget
    without a usable reset time waits `DEFAULT_RATE_LIMIT_WAIT`.
    """
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining = headers.get(prefix + "remaining")
        if remaining is None:
            continue
        try:
            left = float(remaining.strip())
        except ValueError:
            return None
        if left >= 1:
            return None
        reset = parse_rate_limit_reset(headers.get(prefix + "reset"), now)
        return DEFAULT_RATE_LIMIT_WAIT if reset is None else reset
    return None


#: 4xx answers that say "not now" rather than "not this request": retried like a 5xx.
TRANSIENT_4XX = frozenset({408, 429})


def classify_status(status: int, url: str, headers: Mapping[str, str], now: float) -> SourceError:
    """The one mapping from an HTTP error status to its outcome (monitor/core/errors.py's POLICY):
    5xx, 408 and 429 are transient, every other status is a misconfigured source."""
    shown = redact_url(url)
    if status in TRANSIENT_4XX or status >= 500:
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        if retry_after is None and status in (429, 503):
            retry_after = rate_limit_wait(headers, now)
        wait = f" (server asks to wait {retry_after:.0f}s)" if retry_after is not None else ""
        return _with_status(
            RetryLater(
                f"HTTP {status} from {shown}{wait}", retry_after=retry_after, transient=True
            ),
            status,
        )
    hints = {
        401: "the source needs credentials Vigía does not have",
        403: "the server refuses access; the URL may need a login or block bots",
        404: "the URL does not exist; check it in a browser",
        410: "the source was removed; delete or replace it",
    }
    hint = hints.get(status, "check the source's URL and options")
    return _with_status(SourceMisconfigured(f"HTTP {status} from {shown} — {hint}"), status)


def _with_status(error: SourceError, status: int) -> SourceError:
    error.http_status = status  # type: ignore[attr-defined]
    return error


def http_status_of(error: BaseException) -> int | None:
    """The HTTP status behind a SourceError raised for an error response (else None).

    For connectors that react to one refusal in particular (Reddit's 403 to anonymous
    JSON clients), without parsing messages.
    """
    status = getattr(error, "http_status", None)
    return status if isinstance(status, int) else None
