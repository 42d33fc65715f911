"""Crashes around the server's 250: a deliverer killed there, or one whose stdout is gone.

Each uses a real aiosmtpd server on loopback. What must hold: an email the server accepted is
never sent a second time while its claim lasts, not even by `monitor outbox --retry`, and a
broken pipe on the terminal never keeps a delivered row from being marked sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.app.configuration import load_settings
from monitor.core.models import OutboxMessage
from monitor.core.storage import Database, open_database
from reports.mailer import SmtpMailer
from reports.outbox import CLAIM_LEASE, deliver_pending, enqueue, list_outbox, make_due
from tests import test_smtp
from tests.test_smtp import Inbox, Server, email_settings, put

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 11, 21, 7, 0, tzinfo=UTC)
server = test_smtp.server  # the running aiosmtpd fixture, shared with test_smtp


class Killed(BaseException):
    """Stands for SIGKILL at one exact point: nothing after it runs, no handler catches it."""


def message_ids(inbox: Inbox) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in inbox.parsed())


def test_a_deliverer_dying_after_the_250_is_not_resent_within_its_lease(
    db: Database, make_settings: Any, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = email_settings(make_settings, server.port)
    put(db, "a")
    real_send = SmtpMailer.send

    def die_after_accept(self: SmtpMailer, message: Any, on_accepted: Any = None) -> None:
        def killed() -> None:  # the server said 250; the process dies before recording it
            raise Killed

        real_send(self, message, on_accepted=killed)

    monkeypatch.setattr(SmtpMailer, "send", die_after_accept)
    with pytest.raises(Killed):
        deliver_pending(db, SmtpMailer(settings.email, None), NOW)
    monkeypatch.undo()
    assert len(server.inbox.messages) == 1

    # `monitor outbox --retry` a minute later, from another process: the claim holds.
    later = NOW + timedelta(minutes=1)
    assert make_due(db, later) == 0
    report = deliver_pending(db, SmtpMailer(settings.email, None), later)
    assert report.sent == 0 and len(server.inbox.messages) == 1
    (entry,) = list_outbox(db)
    assert entry.claimed_until == NOW + CLAIM_LEASE and entry.claimed_by

    # What SMTP cannot close: once the lease is over the email goes again, same Message-ID.
    after_lease = NOW + CLAIM_LEASE + timedelta(seconds=1)
    assert deliver_pending(db, SmtpMailer(settings.email, None), after_lease).sent == 1
    assert list(message_ids(server.inbox).values()) == [2]


def test_a_row_is_marked_sent_before_quit_and_before_any_log_line(
    db: Database, make_settings: Any, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A QUIT that fails, or a log handler that dies, comes after the row is recorded."""
    settings = email_settings(make_settings, server.port)
    row = put(db, "b")

    def broken_log(*_args: Any, **_kwargs: Any) -> None:
        raise SystemExit(1)  # what Rich does on a broken pipe

    monkeypatch.setattr("reports.mailer.log.info", broken_log)
    with pytest.raises(SystemExit):
        deliver_pending(db, SmtpMailer(settings.email, None), NOW)
    with db.sessions() as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None
        assert stored.status == "sent" and stored.claimed_until is None


def test_kill_9_in_the_window_then_retry_sends_once(
    tmp_path: Path, make_settings: Any
) -> None:
    """A real SIGKILL: the server kills the deliverer when the message has arrived."""
    database_url = f"sqlite:///{tmp_path / 'kill.db'}"
    db = open_database(database_url)
    put(db, "c")

    class KillingInbox(Inbox):
        victim = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            reply = await super().handle_DATA(server, session, envelope)
            os.kill(self.victim, signal.SIGKILL)
            return reply

    smtp = Server()
    smtp.inbox = KillingInbox()
    smtp.start()
    try:
        script = textwrap.dedent(
            f"""
            from datetime import datetime, UTC
            from monitor.core.settings import EmailSettings
            from monitor.core.storage import open_database
            from reports.mailer import SmtpMailer
            from reports.outbox import deliver_pending
            email = EmailSettings(smtp_host="127.0.0.1", smtp_port={smtp.port}, starttls=False)
            deliver_pending(open_database({database_url!r}), SmtpMailer(email, None),
                            datetime.fromisoformat({NOW.isoformat()!r}))
            """
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
        )
        smtp.inbox.victim = child.pid  # type: ignore[attr-defined]
        assert child.wait(timeout=120) == -signal.SIGKILL
        assert len(smtp.inbox.messages) == 1

        later = NOW + timedelta(minutes=2)
        make_due(db, later)
        settings = email_settings(make_settings, smtp.port)
        assert deliver_pending(db, SmtpMailer(settings.email, None), later).sent == 0
        assert len(smtp.inbox.messages) == 1
    finally:
        smtp.stop()
        db.dispose()


SETTINGS = """
[storage]
url = "sqlite:///vigia.db"

[email]
from = "Vigía <vigia@example.com>"
smtp_host = "127.0.0.1"
smtp_port = {port}
starttls = false

[[brands]]
name = "Calderix"
"""


def test_outbox_retry_with_stdout_closed_marks_every_delivered_row_sent(
    tmp_path: Path, server: Server
) -> None:
    """`monitor outbox --retry | head -1`: the pipe breaks, nothing is sent twice."""
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS.format(port=server.port), encoding="utf-8")
    settings = load_settings(path)
    db = open_database(settings.database_url)
    with db.transaction() as session:
        for n in range(3):
            enqueue(
                session,
                key=f"k{n}",
                kind="test",
                sender=settings.email.from_,
                recipients=["comms@example.com"],
                subject=f"Alert {n}",
                html="<p>x</p>",
                text="x",
                now=NOW,
            )
    command = [sys.executable, "-m", "monitor", "--settings", str(path), "outbox", "--retry"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    for _ in range(3):  # each run may die at its first write; none may resend
        read_end, write_end = os.pipe()
        os.close(read_end)  # like `head -1` that has already exited
        try:
            subprocess.run(
                command, cwd=REPO, env=env, stdout=write_end, stderr=write_end, timeout=120
            )
        finally:
            os.close(write_end)
    with db.sessions() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert len(server.inbox.messages) == sum(s == "sent" for s in statuses)
    assert all(count == 1 for count in message_ids(server.inbox).values())
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(message_ids(server.inbox).values()) == [1, 1, 1]
    db.dispose()
