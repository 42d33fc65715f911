"""The one HTTP client every connector uses.

Centralising HTTP means every source gets the same protections and manners for free:
timeouts, a User-Agent that names us (so site owners can reach us instead of blocking us),
a bounded body (a hostile or broken server cannot fill the memory), redirects followed by
hand so each hop passes the private-address guard (`monitor.core.netguard`), per-host
politeness when sources run in parallel threads, and error classification in exactly one
place (`monitor.core.http_status` for statuses, `monitor.core.errors.POLICY` for what each outcome
means). Only transient failures (network errors and timeouts, 5xx, 408, 429) are retried
inside a run, with tenacity on an injectable sleep so tests run on a fake clock. A body
slower than `max_download_seconds` or larger than `max_body_bytes` is `RetryLater` without a
retry (the same request would fail the same way seconds later), and a redirect loop or any
other 4xx is `SourceMisconfigured`.

Rate limits are honoured per host: when a response says the budget is spent
(`x-ratelimit-remaining: 0` as Mastodon and Reddit send it, `RateLimit-Remaining: 0` as
Bluesky does) or a 429/503 asks for a wait longer than a run may take, the host is marked
busy until the reset, and every later request to it (from any source) waits, or raises
`RetryLater` with the wait when it is longer than `max_retry_after`, instead of hammering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import tenacity

from monitor import __version__
from monitor.core.errors import RetryLater, SourceMisconfigured, retry_in_run
from monitor.core.http_body import BodyDecoder
from monitor.core.http_status import (
    MAX_RETRY_AFTER,
    classify_status,
    parse_retry_after,
    rate_limit_wait,
)
from monitor.core.netguard import (
    GuardedBackend,
    IPNetwork,
    Resolver,
    check_url,
    parse_networks,
    redact_url,
    resolve_host,
)
from monitor.core.settings import HttpSettings

log = logging.getLogger("vigia.http")

USER_AGENT = f"Vigia/{__version__} (+https://github.com/vigia-monitor/vigia)"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
#: Headers that must not follow a redirect to another origin.
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A fully read response. `headers` keys are lower-case; a 304 has empty `content`.

    `warning` reports a non-fatal problem with the body (e.g. labelled gzip but not
    compressed, so the raw bytes were used).
    """

    status: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    warning: str | None = None


def guarded_transport(resolve: Resolver, trusted: Sequence[IPNetwork]) -> httpx.HTTPTransport:
    """httpx's transport with its connection pool on a `GuardedBackend` (see netguard).

    httpx does not expose the pool's network backend, so it is set on the pool it built;
    tests/test_http.py fails loudly if a new httpx stops honouring it.
    """
    transport = httpx.HTTPTransport()
    transport._pool._network_backend = GuardedBackend(resolve, trusted)
    return transport


class HttpClient:
    """Thread-safe GET client shared by all connectors (use as a context manager)."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        allow_private: bool | None = None,
        transport: httpx.BaseTransport | None = None,
        resolver: Resolver = resolve_host,
        trusted_networks: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_retry_after: float = MAX_RETRY_AFTER,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.allow_private = (
            self.settings.allow_private_addresses if allow_private is None else allow_private
        )
        self._resolver = resolver
        self._trusted = parse_networks(trusted_networks)
        self._sleep = sleep
        self._clock = clock
        self.max_retry_after = max_retry_after
        # With the guarded transport, addresses are vetted once, when connecting (see
        # netguard.GuardedBackend); the per-hop check then only looks at scheme and host.
        self._vetted_when_connecting = transport is None and not self.allow_private
        if self._vetted_when_connecting:
            transport = guarded_transport(resolver, self._trusted)
        self._client = httpx.Client(
            timeout=self.settings.timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        #: host key → clock time before which the host must not be asked again.
        self._busy_until: dict[str, float] = {}

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- public API -------------------------------------------------------------------
    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET `url` with retries; returns 2xx and 304 responses, raises SourceError otherwise."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self._should_retry),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._get_once, url, dict(headers or {}))

    def check_url(self, url: str) -> None:
        """Raise SourceMisconfigured if `url` may not be fetched (scheme or address)."""
        check_url(
            url,
            allow_private=self.allow_private or self._vetted_when_connecting,
            resolve=self._resolver,
            trusted=self._trusted,
        )

    # -- retries ----------------------------------------------------------------------
    def _should_retry(self, exc: BaseException) -> bool:
        return retry_in_run(exc, self.max_retry_after)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryLater) and exc.retry_after is not None:
            return exc.retry_after
        return tenacity.wait_exponential_jitter(initial=1, max=30, jitter=1)(state)

    @staticmethod
    def _log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.info("retrying in %.1fs (attempt %d): %s", delay, state.attempt_number, exc)

    # -- one attempt, following redirects by hand ---------------------------------------
    def _get_once(self, url: str, headers: dict[str, str]) -> HttpResponse:
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            self.check_url(current)
            self._wait_for_host(current)
            with self._host_slot(current), self._send(current, headers) as response:
                status = response.status_code
                lower = {k.lower(): v for k, v in response.headers.items()}
                log.debug("GET %s -> %d", redact_url(current), status)
                self._note_rate_limit(current, status, lower)
                if status in REDIRECT_CODES:
                    location = lower.get("location")
                    if not location:
                        raise SourceMisconfigured(
                            f"HTTP {status} redirect without a Location from {redact_url(current)}"
                        )
                    target = urljoin(current, location.strip())
                    if _origin(target) != _origin(current):
                        headers = {
                            k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS
                        }
                    current = target
                    continue
                if status == 304:
                    # Read the (empty) body so the connection goes back to the pool: without
                    # it every unchanged poll pays a new TCP (and TLS) handshake.
                    response.read()
                    return HttpResponse(status, current, lower, b"")
                if not 200 <= status < 300:
                    raise classify_status(status, current, lower, self._clock())
                content, warning = self._read_body(response, lower, current)
                return HttpResponse(status, current, lower, content, warning)
        raise SourceMisconfigured(
            f"too many redirects (more than {self.settings.max_redirects}) from {redact_url(url)}"
            " — use the feed's final URL"
        )

    @contextmanager
    def _send(self, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        shown = redact_url(url)
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            message = f"timed out after {self.settings.timeout:g}s fetching {shown}"
            raise RetryLater(message, transient=True) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise SourceMisconfigured(f"cannot fetch {shown}: {exc}") from exc
        except httpx.TransportError as exc:
            message = f"network error fetching {shown}: {type(exc).__name__}"
            raise RetryLater(message, transient=True) from exc
        try:
            yield response
        except httpx.TimeoutException as exc:
            message = f"timed out after {self.settings.timeout:g}s reading {shown}"
            raise RetryLater(message, transient=True) from exc
        except httpx.TransportError as exc:
            message = f"network error reading {shown}: {type(exc).__name__}"
            raise RetryLater(message, transient=True) from exc
        finally:
            response.close()

    def _read_body(
        self, response: httpx.Response, headers: Mapping[str, str], url: str
    ) -> tuple[bytes, str | None]:
        """Stream and decode the body, refusing it once it passes max_body_bytes.

        Both refusals here are `RetryLater` without a retry in the run: the same body would
        be as big, or as slow, seconds later (monitor/core/errors.py).
        """
        limit = self.settings.max_body_bytes
        too_big = RetryLater(
            f"response larger than {limit} bytes from {redact_url(url)} — raise "
            "[http] max_body_bytes if this source is really that big"
        )
        encoding = headers.get("content-encoding", "").strip().lower()
        declared = headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > limit:
            raise too_big
        decoder = BodyDecoder(encoding)
        parts: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.settings.max_download_seconds
        for chunk in response.iter_raw():
            if time.monotonic() > deadline:
                raise RetryLater(
                    f"{redact_url(url)} took longer than [http] max_download_seconds = "
                    f"{self.settings.max_download_seconds:g} to send its body"
                )
            out = decoder.feed(chunk, limit - size)
            size += len(out)
            if size > limit:
                raise too_big
            parts.append(out)
        tail = decoder.finish()
        size += len(tail)
        if size > limit:
            raise too_big
        parts.append(tail)
        return b"".join(parts), decoder.warning

    # -- politeness -------------------------------------------------------------------
    def _note_rate_limit(self, url: str, status: int, headers: Mapping[str, str]) -> None:
        """Mark the host busy when it says its budget is spent or asks for a long wait."""
        now = self._clock()
        wait = rate_limit_wait(headers, now)
        if status in (429, 503):
            asked = parse_retry_after(headers.get("retry-after"), now)
            # A short Retry-After is waited for by the retry loop itself; a long one is left
            # to the scheduler, and meanwhile no other source may knock on the same door.
            if asked is not None and asked > self.max_retry_after:
                wait = max(wait or 0.0, asked)
        if wait is None:
            return
        key = _host_key(url)
        with self._hosts_lock:
            self._busy_until[key] = max(self._busy_until.get(key, 0.0), now + wait)
        log.info("%s: rate limit reached, pausing it for %.0fs", key, wait)

    def _wait_for_host(self, url: str) -> None:
        """Wait out a host's rate-limit pause, or raise RetryLater when it is too long."""
        key = _host_key(url)
        with self._hosts_lock:
            until = self._busy_until.get(key)
        if until is None:
            return
        wait = until - self._clock()
        if wait <= 0:
            with self._hosts_lock:
                if self._busy_until.get(key) == until:
                    del self._busy_until[key]
            return
        if wait > self.max_retry_after:
            raise RetryLater(
                f"{key} rate limit is spent; it resets in {wait:.0f}s — not asking before then",
                retry_after=wait,
            )
        self._sleep(wait)

    @contextmanager
    def _host_slot(self, url: str) -> Iterator[None]:
        """At most `per_host_concurrency` requests to one host at a time, across threads."""
        key = _host_key(url)
        with self._hosts_lock:
            semaphore = self._hosts.get(key)
            if semaphore is None:
                semaphore = threading.BoundedSemaphore(self.settings.per_host_concurrency)
                self._hosts[key] = semaphore
        with semaphore:
            yield


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or ''}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port
