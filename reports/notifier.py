"""Delivering one stored chat or webhook notification through Apprise, once per call.

The outbox (`reports.outbox`) is the one retry policy, so Apprise's own is switched off: the
plugin is called directly (`plugin.notify`, not `Apprise.notify`, whose dispatcher retries),
with `retry` forced to 0 whatever the URL says, and with overflow set to truncate so a long
message is never split into several requests that could half succeed. A plugin that returns
False or raises becomes a `DeliveryError`, the outbox's failed attempt with backoff; its reason
is what Apprise logged during the call.

Secrets: the URL stored in the outbox is the template (`slack://${VIGIA_SLACK_ALERTS}`); it is
expanded from the environment here, at delivery, and every value it took is scrubbed from
everything that can be shown: the records of the `apprise` and `urllib3` loggers (Apprise logs
full request URLs at debug level, urllib3 the request path), the captured reason, and the
error text stored in `last_error`. The plugin is shown only as `url(privacy=True)`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from monitor.core.errors import DeliveryError
from monitor.core.targets import MissingSecret, mask_template, resolve, scrub

log = logging.getLogger(__name__)

#: The loggers that can print a request URL; each gets the scrubbing filter.
SCRUBBED_LOGGERS = ("apprise", "urllib3", "urllib3.connectionpool", "requests")
MAX_REASON = 500
#: The json:// plugin's own fields (docs/webhooks.md): Vigía's fields go beside them.
ENVELOPE = frozenset({"title", "message", "type", "version", "attachments"})


class Notifier(Protocol):
    """Delivers one stored notification; raises DeliveryError when the outbox should retry."""

    def send(
        self, channel: str, target: str, payload: bytes, on_accepted: Callable[[], None]
    ) -> None: ...


class _Scrubber(logging.Filter):
    """Rewrites a record's message with every secret in use replaced by ***.

    Installed once on each logger of SCRUBBED_LOGGERS; the secrets of the delivery in
    progress are registered for its duration (thread-safe: deliverers may run in threads).
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[int, tuple[str, ...]] = {}

    def active(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(s for group in self._secrets.values() for s in group)

    def register(self, secrets: tuple[str, ...]) -> int:
        with self._lock:
            token = id(secrets) ^ threading.get_ident()
            self._secrets[token] = secrets
            return token

    def forget(self, token: int) -> None:
        with self._lock:
            self._secrets.pop(token, None)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.active()
        if secrets:
            text = scrub(record.getMessage(), secrets)
            record.msg, record.args = text, None
        return True


SCRUBBER = _Scrubber()
_installed = False


def install_scrubber() -> None:
    """Attach the scrubbing filter to the loggers that print URLs (idempotent)."""
    global _installed
    if _installed:
        return
    for name in SCRUBBED_LOGGERS:
        logging.getLogger(name).addFilter(SCRUBBER)
    _installed = True


class _Capture(logging.Handler):
    """Apprise's warnings and errors during one call: the reason a delivery failed."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class AppriseNotifier:
    """Sends through the Apprise plugin a URL names, reading its secrets from `environ`."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ

    def __repr__(self) -> str:
        return "AppriseNotifier()"

    def send(
        self, channel: str, target: str, payload: bytes, on_accepted: Callable[[], None]
    ) -> None:
        shown = mask_template(target)
        try:
            resolved = resolve(target, self.environ)
        except MissingSecret as exc:
            raise DeliveryError(f"{channel} {shown}: {exc}") from None
        message = json.loads(payload)
        install_scrubber()
        token = SCRUBBER.register(resolved.secrets)
        try:
            ok, reason = self._notify(resolved.url, message)
        except Exception as exc:  # a plugin bug must not leak its URL through a traceback
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        finally:
            SCRUBBER.forget(token)
        if not ok:
            reason = scrub(reason, resolved.secrets)[:MAX_REASON] or "the service refused it"
            raise DeliveryError(f"{channel} {shown}: {reason}")
        on_accepted()
        log.info("sent %s notification to %s", channel, shown)

    def verify(self, target: str) -> str:
        """Check a target without sending: its variables are set and Apprise accepts the URL.

        Returns Apprise's privacy-masked form of the URL (tokens hidden); raises DeliveryError
        (scrubbed) otherwise. For `monitor check`.
        """
        import apprise

        shown = mask_template(target)
        try:
            resolved = resolve(target, self.environ)
        except MissingSecret as exc:
            raise DeliveryError(f"{shown}: {exc}") from None
        install_scrubber()
        token = SCRUBBER.register(resolved.secrets)
        try:
            plugin = apprise.Apprise.instantiate(resolved.url, asset=_asset())
        finally:
            SCRUBBER.forget(token)
        if plugin is None:
            raise DeliveryError(
                f"{shown}: Apprise cannot use this URL (unknown scheme or malformed token) — "
                "check it against https://appriseit.com/services/"
            )
        return scrub(str(plugin.url(privacy=True)), resolved.secrets)

    def _notify(self, url: str, message: dict[str, Any]) -> tuple[bool, str]:
        import apprise
        from apprise import NotifyFormat, OverflowMode

        capture = _Capture()
        logger = logging.getLogger("apprise")
        logger.addHandler(capture)
        previous = logger.level
        if logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)
        try:
            plugin = apprise.Apprise.instantiate(url, asset=_asset(), suppress_exceptions=True)
            if plugin is None:
                return False, "Apprise cannot use this URL (unknown scheme or malformed token)"
            plugin.retry = 0  # the outbox is the retry policy
            if hasattr(plugin, "include_image"):
                plugin.include_image = False  # no icon fetched from GitHub by the service
            webhook = message.get("webhook")
            if webhook is not None and hasattr(plugin, "payload_extras"):
                # The json:// plugin's own `:key=value` mechanism: it still builds and sends
                # the request, with Vigía's documented fields beside its envelope.
                # A key the envelope already has would be *renamed* by that mechanism: the
                # envelope's own title is the notice's, and attachments are dropped.
                extras = {k: v for k, v in webhook.items() if k not in ENVELOPE}
                plugin.payload_extras = {**plugin.payload_extras, **extras, "attachments": None}
            body_format = (
                NotifyFormat.MARKDOWN if message["body_format"] == "markdown" else NotifyFormat.TEXT
            )
            ok = bool(
                plugin.notify(
                    body=message["body"],
                    title=message["title"],
                    body_format=body_format,
                    overflow=OverflowMode.TRUNCATE,
                )
            )
        finally:
            logger.removeHandler(capture)
            logger.setLevel(previous)
        return ok, "; ".join(capture.lines)


def _asset() -> Any:
    import apprise

    return apprise.AppriseAsset(
        app_id="Vigía", app_desc="Vigía brand monitor", default_service_retry=0
    )
