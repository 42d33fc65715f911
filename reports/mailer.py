"""Mailers hand a finished message to the world: an SMTP server, or `.eml` files on disk.

A mailer only delivers; retries, backoff and "send at most once" live in `reports.outbox`.
`send` calls `on_accepted` the moment the message is accepted (for SMTP: right after the
250 reply to DATA, before QUIT and before any log line), so the outbox records the delivery
before anything else can fail or hang.
Both mailers raise `DeliveryError` for anything the outbox should retry, with a message that
never contains the SMTP password (it is scrubbed even from server replies that echo it).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from classifiers.masking import mask_text
from monitor.core.errors import DeliveryError
from monitor.core.settings import EmailSettings, Settings
from monitor.core.settings_problems import SMTP_PASSWORD_ENV

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class Mailer(Protocol):
    """Delivers one message; raises DeliveryError when the outbox should try again later."""

    def send(
        self, message: EmailMessage, on_accepted: Callable[[], None] | None = None
    ) -> None: ...


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """(MAIL FROM, RCPT TO) from the headers; recipients are To + Cc, without duplicates."""
    sender = parseaddr(str(message.get("From", "")))[1]
    fields = [str(value) for name in ("To", "Cc") for value in message.get_all(name, [])]
    recipients = list(dict.fromkeys(addr for _, addr in getaddresses(fields) if addr))
    return sender, recipients


class SmtpMailer:
    """smtplib with STARTTLS (port 587) or implicit TLS (465), login when a username is set."""

    def __init__(
        self,
        settings: EmailSettings,
        password: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._password = password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:  # never show the password, even in a debugger or a log line
        s = self.settings
        return f"SmtpMailer({s.smtp_host}:{s.smtp_port}, user={s.username or None!r})"

    def send(
        self, message: EmailMessage, on_accepted: Callable[[], None] | None = None
    ) -> None:
        sender, recipients = envelope(message)
        if not recipients:
            raise DeliveryError(
                "message has no recipients — add addresses to [email.recipients] in settings"
            )
        where = self._where
        smtp: smtplib.SMTP | None = None
        with self._errors_explained(lambda: smtp):
            smtp = self._connect()
            refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
        assert smtp is not None
        # Accepted: record it first; QUIT (which waits for one more reply) and logs come after.
        try:
            if on_accepted is not None:
                on_accepted()
        finally:
            _quit(smtp)
        if refused:
            # Some recipients were accepted: the message went out and must not be resent.
            log.warning("SMTP %s refused some recipients: %s", where, self._scrub(str(refused)))
        log.info(
            "sent %s to %d recipient(s) via %s", message.get("Message-ID"), len(recipients), where
        )

    def verify(self) -> None:
        """Connect, negotiate TLS and log in as `send` would, then quit (`monitor check`)."""
        smtp: smtplib.SMTP | None = None
        with self._errors_explained(lambda: smtp):
            smtp = self._connect()
            smtp.noop()
        _quit(smtp)

    @property
    def _where(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    @contextlib.contextmanager
    def _errors_explained(
        self, connection: Callable[[], smtplib.SMTP | None]
    ) -> Iterator[None]:
        """smtplib's exceptions as one DeliveryError each, with the server's reason and a fix;
        on any failure the connection (if one was opened) is closed without a QUIT."""
        where = self._where
        try:
            yield
        except smtplib.SMTPAuthenticationError as exc:
            _close(connection())
            raise DeliveryError(
                f"SMTP {where}: login as {self.settings.username!r} refused "
                f"({exc.smtp_code}) — check the username and {SMTP_PASSWORD_ENV}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            _close(connection())
            hint = ""
            if self.settings.starttls and "STARTTLS" in str(exc).upper():
                hint = (
                    " — this server offers no STARTTLS: set [email] starttls = false (only on a "
                    "trusted network), or ssl = true with its TLS port (465)"
                )
            elif "AUTH" in str(exc).upper():
                hint = " — this server offers no login: remove [email] username"
            reason = self._scrub(str(exc)).rstrip(".")
            raise DeliveryError(f"SMTP {where}: {reason}{hint}") from None
        except (smtplib.SMTPException, OSError) as exc:
            _close(connection())
            raise DeliveryError(f"SMTP {where}: {self._scrub(_describe(exc))}") from None
        except BaseException:
            _close(connection())
            raise

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.ssl:
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=self.timeout, context=self.ssl_context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if s.starttls and not s.ssl:
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if s.username:
                if not self._password:
                    raise DeliveryError(
                        f"SMTP {self._where}: username {s.username!r} is set but the "
                        f"environment variable {SMTP_PASSWORD_ENV} is not — export it "
                        "(see README, Set up email), or remove [email] username"
                    )
                smtp.login(s.username, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye after an accepted message; a server that fails to answer changes nothing."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Keep each refusal's code and reason: "550 5.1.1 mailbox unknown" is the fix.
        return "all recipients refused: " + "; ".join(
            f"{address} ({code} {_text(reason)})"
            for address, (code, reason) in exc.recipients.items()
        )
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class FileMailer:
    """Writes `<stamp>-<slug>-<id>.eml` (the message's bytes) and a browsable `.html` twin.

    This is the embedded default when no SMTP host is configured: a user opens the folder
    and double-clicks. The file name is derived from the Date, Subject and Message-ID only,
    so a retry of the same message finds its file and writes nothing new; both files are
    written to a temporary name and renamed, so a reader never sees half a message.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, message: EmailMessage) -> Path:
        message_id = str(message.get("Message-ID", "")).strip()
        if not message_id:
            raise DeliveryError("message has no Message-ID; the outbox always sets one")
        try:
            stamp = parsedate_to_datetime(str(message["Date"])).strftime("%Y%m%dT%H%M%S")
        except (TypeError, ValueError):
            stamp = "undated"
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:10]
        # The subject is masked first: a file name shows up in listings and log lines.
        subject = mask_text(str(message.get("Subject", "")))
        return self.directory / f"{stamp}-{slugify(subject)}-{digest}.eml"

    def send(
        self, message: EmailMessage, on_accepted: Callable[[], None] | None = None
    ) -> None:
        path = self.path_for(message)
        if path.exists():
            if on_accepted is not None:
                on_accepted()
            log.info("%s already written to %s", message.get("Message-ID"), path)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            html = browsable_html(message)
            if html is not None:
                _atomic_write(path.with_suffix(".html"), html.encode("utf-8"))
            _atomic_write(path, message.as_bytes())  # last: its presence means "delivered"
        except OSError as exc:
            raise DeliveryError(f"cannot write {path}: {exc.strerror or exc}") from None
        if on_accepted is not None:
            on_accepted()
        log.info("wrote %s", path)


def browsable_html(message: EmailMessage) -> str | None:
    """The HTML part with its inline images (`cid:` links) turned into data: URIs.

    A mail client resolves `cid:` against the message's other parts; a browser opening the
    `.html` twin on its own cannot, so the charts of a weekly report would show as broken.
    """
    body = message.get_body(preferencelist=("html",))
    if body is None:
        return None
    html = str(body.get_content())
    for part in message.walk():
        content_id = str(part.get("Content-ID", "")).strip().strip("<>")
        if not content_id or part.get_content_maintype() != "image":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        data = base64.b64encode(payload).decode("ascii")
        html = html.replace(f"cid:{content_id}", f"data:{part.get_content_type()};base64,{data}")
    return html


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def slugify(text: str, length: int = 50) -> str:
    """'Resumen diario: 3 negativas' → 'resumen-diario-3-negativas' (ASCII, safe as a name)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:length].rstrip("-") or "message"


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when `[email] smtp_host` is set, `.eml` files in the outbox folder otherwise."""
    if settings.email.smtp_host:
        secret = settings.secrets.smtp_password
        return SmtpMailer(settings.email, secret.get_secret_value() if secret else None)
    return FileMailer(settings.outbox_dir)
