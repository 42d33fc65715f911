"""A real SMTP round trip (aiosmtpd on 127.0.0.1): headers, TLS, auth, outage and recovery."""

from __future__ import annotations

import email
import email.policy
import logging
import shutil
import socket
import ssl
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from monitor.core.errors import DeliveryError
from monitor.core.models import BrandMatch, Mention, MentionSource, OutboxMessage, Source, Tag
from monitor.core.settings import Settings
from monitor.core.storage import Database
from reports.digest import write_daily_digest
from reports.mailer import SmtpMailer
from reports.outbox import DeliveryReport, backoff, deliver_pending, enqueue

NOW = datetime(2025, 11, 21, 7, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple-7"

# The plain-SMTP AUTH test needs it, and aiosmtpd warns about that (rightly, outside tests).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Inbox:
    """An aiosmtpd handler that keeps accepted messages, or answers `reply` while it is set."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes, dict[str, Any]]] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        tls = server.transport.get_extra_info("ssl_object") is not None
        info = {"authenticated": session.authenticated, "tls": tls}
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, info))
        return "250 Message accepted"

    def parsed(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
            for _, _, raw, _ in self.messages
        ]


def check_password(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"vigia"
        and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """Start/stop an aiosmtpd controller on a fixed free port (stopping simulates an outage)."""

    def __init__(self, **options: Any) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.options = options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl not found; the STARTTLS/SSL paths need a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def email_settings(make_settings: Any, port: int, **extra: Any) -> Settings:
    return make_settings(
        email={
            "from": "Vigía <vigia@example.com>",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "starttls": False,
            "recipients": {"digest": ["comms@example.com", "pr@example.com"]},
            **extra,
        }
    )


def put(db: Database, key: str) -> OutboxMessage:
    with db.transaction() as session:
        row = enqueue(
            session,
            key=key,
            kind="test",
            sender="Vigía <vigia@example.com>",
            recipients=["comms@example.com"],
            subject=f"Alert {key}",
            html=f"<p>{key}</p>",
            text=key,
            now=NOW,
        )
    assert row is not None
    return row


def test_a_digest_arrives_with_its_headers_and_both_parts(
    db: Database, make_settings: Any, server: Server
) -> None:
    with db.transaction() as session:
        mention = Mention(
            fingerprint="f1",
            title="Calderix recall",
            text="Calderix recalls boilers.",
            url="https://news.example/recall",
            first_seen_at=NOW - timedelta(hours=1),
            reach=5000,
        )
        mention.sources.append(
            MentionSource(
                source=Source(name="News", kind="rss"),
                external_id="1",
                url="https://news.example/recall",
                first_seen_at=NOW - timedelta(hours=1),  # as the store does: with its story
            )
        )
        mention.brands.append(BrandMatch(brand="Calderix", terms=["Calderix"]))
        mention.tags.append(
            Tag(
                brand="Calderix",
                family="sentiment",
                label="negative",
                score=0.9,
                evidence=[{"start": 9, "end": 16, "text": "recalls", "reason": "cue"}],
            )
        )
        session.add(mention)
    settings = email_settings(make_settings, server.port)
    row = write_daily_digest(db, settings, now=NOW).message
    assert row is not None
    mailer = SmtpMailer(settings.email, None, timeout=5)
    assert deliver_pending(db, mailer, NOW) == DeliveryReport(sent=1, failed=0, pending=0)

    [(mail_from, rcpt_tos, _, _)] = server.inbox.messages
    [message] = server.inbox.parsed()
    assert mail_from == "vigia@example.com" and rcpt_tos == ["comms@example.com", "pr@example.com"]
    assert message["Message-ID"] == row.message_id
    assert message["Subject"] == "Vigía daily digest, 21 Nov 2025 — mentions: 1, negative: 1"
    assert message["From"].addresses[0].display_name == "Vigía"
    assert message["To"] == "comms@example.com, pr@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == "<mailto:vigia@example.com?subject=unsubscribe>"
    assert message["Date"].datetime == NOW
    assert message.get_content_type() == "multipart/alternative"
    assert "Calderix recall" in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert '<a href="https://news.example/recall"' in html and "<mark" in html
    with db.transaction() as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None and stored.status == "sent" and stored.sent_at == NOW


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login(
    db: Database,
    make_settings: Any,
    certificate: tuple[Path, Path],
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    options: dict[str, Any] = {"authenticator": check_password, "auth_required": True}
    if mode == "ssl":
        options.update(ssl_context=server_context, auth_require_tls=False)  # aiosmtpd quirk
    else:
        options.update(tls_context=server_context, require_starttls=True)
    running = Server(**options)
    running.start()
    try:
        settings = email_settings(
            make_settings,
            running.port,
            username="vigia",
            starttls=mode == "starttls",
            ssl=mode == "ssl",
        )
        client_context = ssl.create_default_context(cafile=str(cert))
        put(db, "tls")
        with caplog.at_level(logging.DEBUG):
            good = SmtpMailer(settings.email, PASSWORD, timeout=5, ssl_context=client_context)
            assert deliver_pending(db, good, NOW).sent == 1
        [(_, _, _, info)] = running.inbox.messages
        assert info == {"authenticated": True, "tls": True}
    finally:
        running.stop()
    assert PASSWORD not in caplog.text


def test_a_refused_login_is_retried_and_never_reveals_the_password(
    db: Database, make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    running = Server(authenticator=check_password, auth_required=True, auth_require_tls=False)
    running.start()
    try:
        settings = email_settings(make_settings, running.port, username="vigia")
        row = put(db, "auth")
        wrong = "wrong-" + PASSWORD
        with caplog.at_level(logging.DEBUG):
            assert (
                deliver_pending(db, SmtpMailer(settings.email, wrong, timeout=5), NOW).failed == 1
            )
            with pytest.raises(DeliveryError) as raised:
                SmtpMailer(settings.email, wrong, timeout=5).send(
                    email.message_from_bytes(
                        row.message, _class=EmailMessage, policy=email.policy.SMTP
                    )
                )
            later = NOW + timedelta(hours=1)
            assert (
                deliver_pending(db, SmtpMailer(settings.email, PASSWORD, timeout=5), later).sent
                == 1
            )
        assert "login as 'vigia' refused" in str(raised.value)
        assert "VIGIA_SMTP_PASSWORD" in str(raised.value)
    finally:
        running.stop()
    with db.transaction() as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None and stored.status == "sent" and stored.attempts == 1
        assert stored.last_error and PASSWORD not in stored.last_error
    assert PASSWORD not in caplog.text and "refused" in caplog.text
    assert len(running.inbox.messages) == 1


def test_an_outage_then_recovery_delivers_each_email_exactly_once(
    db: Database, make_settings: Any, server: Server
) -> None:
    rows = [put(db, f"m{i}") for i in range(3)]
    mailer = SmtpMailer(email_settings(make_settings, server.port).email, None, timeout=5)

    # 1. The server is up but answers "451 try later" to every message.
    server.inbox.reply = "451 4.3.0 Mailbox temporarily unavailable"
    assert deliver_pending(db, mailer, NOW) == DeliveryReport(sent=0, failed=3, pending=3)
    due = expect_backoff(db, rows, NOW, attempts=1, error="451")
    # Before the backoff has elapsed nothing is tried.
    assert deliver_pending(db, mailer, min(due) - timedelta(seconds=1)) == DeliveryReport(0, 0, 3)

    # 2. The server is down altogether.
    server.stop()
    second = max(due)
    assert deliver_pending(db, mailer, second).failed == 3
    due = expect_backoff(db, rows, second, attempts=2, error="ConnectionRefusedError")
    assert all(d - second >= timedelta(minutes=2) for d in due)

    # 3. Back up and healthy: every message arrives, once.
    server.inbox.reply = None
    server.start()
    assert deliver_pending(db, mailer, max(due)) == DeliveryReport(sent=3, failed=0, pending=0)
    assert deliver_pending(db, mailer, max(due) + timedelta(days=1)) == DeliveryReport(0, 0, 0)
    received = Counter(str(m["Message-ID"]) for m in server.inbox.parsed())
    assert received == Counter({row.message_id: 1 for row in rows})


def expect_backoff(
    db: Database, rows: list[OutboxMessage], at: datetime, *, attempts: int, error: str
) -> list[datetime]:
    with db.transaction() as session:
        stored = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .order_by(OutboxMessage.id)
        ).all()
    for row in stored:
        assert row.status == "pending" and row.attempts == attempts
        assert row.next_attempt_at == at + backoff(attempts, row.message_id)
        assert row.last_error is not None and error in row.last_error
    return [row.next_attempt_at for row in stored]
