"""The outbox: idempotent enqueue, injection-proof headers, file delivery, retries, claims."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.core.errors import DeliveryError
from monitor.core.models import OutboxMessage
from monitor.core.storage import Database, insert_if_absent
from reports import outbox
from reports.mailer import FileMailer, SmtpMailer, mailer_for
from reports.outbox import DeliveryReport, backoff, deliver_pending, enqueue

NOW = datetime(2025, 11, 21, 7, 0, tzinfo=UTC)
SENDER = "Vigía <vigia@example.com>"


def put(
    db: Database,
    key: str,
    *,
    subject: str = "Hello",
    recipients: list[str] | None = None,
    now: datetime = NOW,
) -> OutboxMessage | None:
    with db.transaction() as session:
        return enqueue(
            session,
            key=key,
            kind="test",
            sender=SENDER,
            recipients=["comms@example.com"] if recipients is None else recipients,
            subject=subject,
            html="<p>Hi &amp; bye</p>",
            text="Hi & bye",
            now=now,
        )


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)


class Recording:
    """A mailer that records what it is given and fails while `failing` is set."""

    def __init__(self, failing: bool = False, delay: float = 0.0) -> None:
        self.failing = failing
        self.delay = delay
        self.sent: list[str] = []
        self.calls = 0
        self.lock = threading.Lock()

    def send(self, message: EmailMessage, on_accepted: object = None) -> None:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.failing:
            raise DeliveryError("SMTP mail.example.com:587: 451 try later")
        with self.lock:
            self.sent.append(str(message["Message-ID"]))


def test_enqueue_builds_a_complete_multipart_message(db: Database) -> None:
    row = put(db, "k1", subject="Résumé du jour")
    assert row is not None and row.status == "pending" and row.next_attempt_at == NOW
    message = parse(row.message)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] == row.message_id and row.message_id.endswith("@example.com>")
    assert message["Subject"] == "Résumé du jour"
    assert message["From"].addresses[0].addr_spec == "vigia@example.com"
    assert message["From"].addresses[0].display_name == "Vigía"
    assert str(message["To"]) == "comms@example.com"
    assert message["Date"].datetime == NOW
    assert message["List-Unsubscribe"] == "<mailto:vigia@example.com?subject=unsubscribe>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)).get_content().strip() == "Hi & bye"
    assert message.get_body(("html",)).get_content().strip() == "<p>Hi &amp; bye</p>"


def test_enqueue_is_idempotent_per_key(db: Database) -> None:
    first = put(db, "digest:2025-11-21")
    assert first is not None
    assert put(db, "digest:2025-11-21", subject="another") is None
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert session.scalars(select(OutboxMessage)).one().message_id == first.message_id


def test_a_lost_race_returns_none_and_keeps_the_transaction_usable(db: Database) -> None:
    """Two workers both passed the existence check: the database decides, without an error."""
    put(db, "race")
    values = {
        "key": "race",
        "kind": "test",
        "message_id": "<other@example.com>",
        "subject": "s",
        "recipients": [],
        "message": b"x",
        "html": "",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }
    with db.transaction() as session:
        assert insert_if_absent(session, OutboxMessage, OutboxMessage.key, values) is None
        assert put_in(session, "after-race") is not None  # the transaction still works
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def put_in(session: Session, key: str) -> OutboxMessage | None:
    return enqueue(
        session,
        key=key,
        kind="test",
        sender=SENDER,
        recipients=[],
        subject="s",
        html="",
        text="",
        now=NOW,
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Crisis\r\nBcc: victim@evil.example",
        "Crisis\nBcc: victim@evil.example\n\n<html>body</html>",
        "Crisis\rBcc: victim@evil.example",
        "Crisis\u2028Bcc: victim@evil.example\x0bX-Evil: 1",
    ],
)
def test_line_breaks_in_a_subject_cannot_add_headers(db: Database, subject: str) -> None:
    row = put(db, "inject", subject=subject)
    assert row is not None
    message = parse(row.message)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"].startswith("Crisis Bcc: victim@evil.example")
    headers = row.message.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert not any(line.startswith(("Bcc", "X-Evil")) for line in headers.split("\r\n"))


def test_addresses_with_line_breaks_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="line break"):
        put(db, "bad-to", recipients=["comms@example.com\r\nBcc: x@evil.example"])


def test_no_recipients_is_written_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="reports.outbox"):
        row = put(db, "nobody", recipients=[])
    assert row is not None and row.recipients == []
    assert parse(row.message)["To"] is None
    assert "no recipients" in caplog.text


def test_file_mailer_writes_eml_and_html_once_per_message_id(db: Database, tmp_path: Path) -> None:
    row = put(db, "file", subject="Resumen diario: 3 negativas")
    assert row is not None
    mailer = FileMailer(tmp_path / "outbox")
    assert deliver_pending(db, mailer, NOW) == DeliveryReport(sent=1, failed=0, pending=0)
    # A retry after a crash between "written" and "marked sent" must not write a second copy.
    with db.transaction() as session:
        session.execute(update(OutboxMessage).values(status="pending", sent_at=None))
    assert deliver_pending(db, mailer, NOW).sent == 1
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(files) == 2, files
    assert files[0].startswith("20251121T070000-resumen-diario-3-negativas-")
    assert {Path(f).suffix for f in files} == {".eml", ".html"}
    eml = next((tmp_path / "outbox").glob("*.eml"))
    html = next((tmp_path / "outbox").glob("*.html"))
    assert eml.read_bytes() == row.message
    assert html.read_text(encoding="utf-8") == "<p>Hi &amp; bye</p>\n"


def test_failures_back_off_and_die_after_max_attempts(db: Database) -> None:
    row = put(db, "doomed")
    assert row is not None
    mailer = Recording(failing=True)
    clock = NOW
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        report = deliver_pending(db, mailer, clock)
        assert report.failed == 1 and report.sent == 0
        with db.transaction() as session:
            current = session.get(OutboxMessage, row.id)
            assert current is not None and current.attempts == attempt
            assert current.next_attempt_at == clock + backoff(attempt, row.message_id)
            assert current.last_error == "SMTP mail.example.com:587: 451 try later"
        # Nothing happens before the backoff has elapsed.
        assert (
            deliver_pending(db, mailer, current.next_attempt_at - timedelta(seconds=1)).failed == 0
        )
        clock = current.next_attempt_at
    assert current.status == "dead"
    assert report == DeliveryReport(sent=0, failed=1, pending=0, dead=1)
    calls = mailer.calls
    assert deliver_pending(db, mailer, clock + timedelta(days=30)).failed == 0
    assert mailer.calls == calls == outbox.MAX_ATTEMPTS


def test_backoff_doubles_from_one_minute_and_caps_at_six_hours() -> None:
    for attempts, minutes in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 256)]:
        delay = backoff(attempts, "<m@x>")
        assert timedelta(minutes=minutes) <= delay <= timedelta(minutes=minutes) * 1.1
    assert timedelta(hours=6) <= backoff(20, "<m@x>") <= timedelta(hours=6.6)
    assert backoff(3, "<m@x>") == backoff(3, "<m@x>")  # deterministic on a fake clock


def test_a_successful_retry_sends_the_same_bytes(db: Database) -> None:
    row = put(db, "retry")
    assert row is not None
    mailer = Recording(failing=True)
    deliver_pending(db, mailer, NOW)
    mailer.failing = False
    assert deliver_pending(db, mailer, NOW + timedelta(hours=1)).sent == 1
    assert mailer.sent == [row.message_id]
    with db.transaction() as session:
        done = session.get(OutboxMessage, row.id)
        assert (
            done is not None and done.status == "sent" and done.sent_at == NOW + timedelta(hours=1)
        )


def test_concurrent_workers_never_send_a_row_twice(db: Database) -> None:
    ids = [put(db, f"c{i}") for i in range(12)]
    mailer = Recording(delay=0.01)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            deliver_pending(db, mailer, NOW)
        except BaseException as exc:  # surfaced below; a thread would swallow it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Counter(mailer.sent) == Counter(row.message_id for row in ids if row)


def test_mailer_for_picks_smtp_only_when_a_host_is_set(make_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VIGIA_SMTP_PASSWORD", "s3cret-pw")
    assert isinstance(mailer_for(make_settings()), FileMailer)
    settings = make_settings(email={"smtp_host": "mail.example.com", "username": "vigia"})
    mailer = mailer_for(settings)
    assert isinstance(mailer, SmtpMailer)
    assert "s3cret-pw" not in repr(mailer)
    file_mailer = mailer_for(make_settings())
    assert (
        isinstance(file_mailer, FileMailer) and file_mailer.directory == make_settings().outbox_dir
    )


def test_file_mailer_html_twin_shows_inline_images(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\nfake-but-bytes"
    message = outbox.build_message(
        sender="vigia@example.com",
        recipients=["a@example.com"],
        subject="Weekly",
        html='<p><img src="cid:chart-volume" alt="volume"></p>',
        text="Weekly",
        now=datetime(2026, 11, 21, tzinfo=UTC),
        images={"chart-volume": png},
    )
    mailer = FileMailer(tmp_path)
    mailer.send(message)
    twin = mailer.path_for(message).with_suffix(".html").read_text(encoding="utf-8")
    assert "cid:" not in twin
    assert "data:image/png;base64,iVBORw0KGgpmYWtlLWJ1dC1ieXRlcw==" in twin
