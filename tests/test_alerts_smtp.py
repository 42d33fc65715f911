"""Alerts over real SMTP (aiosmtpd on loopback): an outage, then recovery, each email once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.app.jobs import deliver_outbox, send_alerts
from monitor.core.models import OutboxMessage
from monitor.core.storage import Database
from tests.test_alerts import DNI, NOW, alert_settings, seed_leak, seed_outage
from tests.test_smtp import Server

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_alerts_survive_an_outage_and_arrive_once_to_the_right_lists(
    db: Database, make_settings: Any
) -> None:
    base = alert_settings(make_settings)
    server = Server()  # not started: the SMTP server is down
    settings = make_settings(
        email={
            **base.email.model_dump(by_alias=True, exclude={"recipients"}),
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "starttls": False,
            "recipients": base.email.recipients.model_dump(),
        }
    )
    seed_outage(db)
    seed_leak(db)
    report = send_alerts(settings, db, now=NOW)
    assert sorted(m.kind for m in report.written) == ["alert-leak", "alert-spike"]
    with db.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
    assert all("ConnectionRefusedError" in (r.last_error or "") for r in rows)

    # The next run finds the same mentions: nothing new is written.
    later = NOW + timedelta(minutes=1)
    assert send_alerts(settings, db, now=later).written == []

    server.start()
    try:
        delivered = deliver_outbox(settings, db, now=NOW + timedelta(hours=1))
        assert (delivered.sent, delivered.failed, delivered.pending) == (2, 0, 0)
        assert deliver_outbox(settings, db, now=NOW + timedelta(days=1)).sent == 0
    finally:
        server.stop()

    received = server.inbox.messages
    by_id = Counter(str(m["Message-ID"]) for m in server.inbox.parsed())
    assert by_id == Counter({row.message_id: 1 for row in rows})
    envelopes = {
        ("leak" if "leak" in parsed["Subject"] else "spike"): sorted(rcpt)
        for (_, rcpt, _, _), parsed in zip(received, server.inbox.parsed(), strict=True)
    }
    assert envelopes == {
        "spike": ["crisis@example.com", "oncall@example.com"],
        "leak": ["crisis@example.com", "oncall@example.com", "security@example.com"],
    }
    for _, _, raw, _ in received:
        assert DNI.encode() not in raw
    for message in server.inbox.parsed():
        assert message["Date"] and message["List-Unsubscribe"] and message["Message-ID"]
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
