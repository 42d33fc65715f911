"""Chat and webhook alerts end to end: Apprise's Slack, Teams and JSON plugins against a local
HTTPS server, through an outage and its recovery.

What must hold: each message reaches each service exactly once; hostile post content is
escaped for each format (Slack mrkdwn, the Teams card, the webhook's JSON); no identifier is
shown unmasked; no secret from the environment appears in a log line, an error or the outbox.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.core.models import OutboxMessage
from monitor.core.settings import Settings
from monitor.core.storage import Database
from reports import outbox
from reports.mailer import FileMailer
from reports.outbox import CLAIM_LEASE, deliver_pending, list_outbox
from tests import notify_support, test_smtp
from tests.notify_support import SECRETS, Services
from tests.test_alerts import DNI, NOW, STRIPE, add_post, evaluate, source_in

certificate = test_smtp.certificate  # the loopback TLS certificate, shared with test_smtp
services = notify_support.services  # the HTTPS stand-in for the three services

HOSTILE = (
    "<!channel> <@U024BE7LH> *Calderix* [gana un iPhone](https://evil.example/x) "
    "<at>everyone</at> & <script>alert(1)</script>"
)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


def routed_settings(make_settings: Any, services: Services, **web: Any) -> Settings:
    return make_settings(
        email={"recipients": {"alerts": ["crisis@example.com"]}},
        routes={"alerts": services.routes()},
        web=web,
    )


def seed_hostile_leak(db: Database) -> None:
    with db.transaction() as session:
        add_post(
            session,
            source_in(session),
            "hostile",
            title=HOSTILE,
            text=f"DNI {DNI} y la clave {STRIPE} del técnico de Calderix",
            published=NOW - timedelta(minutes=5),
            seen=NOW,
            tags=[
                ("leak", "pii", 0.95, [(DNI, "pii:dni")]),
                ("leak", "secret", 0.9, [(STRIPE, "secret:stripe_key")]),
            ],
        )


def rows(db: Database) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert DNI not in text and STRIPE not in text


def test_an_outage_then_recovery_delivers_each_message_once(
    db: Database, make_settings: Any, services: Services, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = routed_settings(make_settings, services, base_url="https://vigia.example.com")
    seed_hostile_leak(db)
    mailer = FileMailer(tmp_path / "outbox")
    with caplog.at_level(logging.DEBUG):
        [written] = evaluate(settings, db)
        assert written.channel == "email"
        stored = rows(db)
        assert [r.channel for r in stored] == ["email", "slack", "workflows", "jsons"]
        for row in stored[1:]:
            assert row.target is not None and "${VIGIA_TEST_" in row.target
            no_secret_in(row.message.decode() + row.target + " ".join(row.recipients))

        services.status = 500  # every service is down
        report = deliver_pending(db, mailer, NOW)
        assert (report.sent, report.failed) == (1, 3)  # the email went to the file outbox
        failed = {e.channel: e for e in list_outbox(db) if e.channel != "email"}
        assert all(e.state == "retrying" and e.attempts == 1 for e in failed.values())
        assert all(e.next_attempt_at > NOW + timedelta(minutes=1) for e in failed.values())
        assert "500" in (failed["slack"].last_error or "")
        assert deliver_pending(db, mailer, NOW + timedelta(seconds=30)).sent == 0  # backoff

        services.status = 200  # recovery
        later = NOW + timedelta(minutes=3)
        assert deliver_pending(db, mailer, later).sent == 3
        assert deliver_pending(db, mailer, later + timedelta(hours=1)).sent == 0
        outbox.make_due(db, later + timedelta(hours=2))  # --retry: nothing unsent is left
        assert deliver_pending(db, mailer, later + timedelta(hours=2)).sent == 0

    assert {name: len(bodies) for name, bodies in services.accepted.items()} == {
        "slack": 1, "teams": 1, "webhook": 1,
    }
    assert {name: len(bodies) for name, bodies in services.received.items()} == {
        "slack": 2, "teams": 2, "webhook": 2,
    }
    first, retry = (body["attachments"][0] for body in services.received["slack"])
    assert (first["title"], first["text"]) == (retry["title"], retry["text"])  # same message
    for row in rows(db):
        assert row.status == "sent"
        no_secret_in(row.last_error or "")
    # Every log line but the stand-in server's own access log (werkzeug prints its paths).
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")
    )
    no_secret_in(logged)
    assert "Slack POST URL" in logged and "***" in logged  # Apprise's debug lines, scrubbed


def test_slack_gets_escaped_mrkdwn_with_only_vigia_links(
    db: Database, make_settings: Any, services: Services, tmp_path: Path
) -> None:
    settings = routed_settings(make_settings, services, base_url="https://vigia.example.com")
    seed_hostile_leak(db)
    evaluate(settings, db)
    deliver_pending(db, FileMailer(tmp_path), NOW)
    [payload] = services.accepted["slack"]
    no_secret_in(json.dumps(payload))
    attachment = payload["attachments"][0]
    assert payload["mrkdwn"] is True
    text = attachment["text"]
    assert "possible leak about Calderix" in attachment["title"]
    # Slack's control sequences from the post arrive as entities: no ping, no forged link.
    for forged in ("<!channel>", "<@U024BE7LH>", "<https://evil.example", "<script>", "<at>"):
        assert forged not in text
    assert "&lt;!channel&gt;" in text and "&lt;script&gt;" in text and "&amp;" in text
    links = re.findall(r"<(https?://[^|>]+)\|", text)
    assert links and all(
        link.startswith(("https://social.example/", "https://vigia.example.com/mentions/"))
        for link in links
    )
    assert "4821****N" in text  # the masked DNI, as the email shows it


def test_teams_card_and_webhook_json_are_escaped_and_masked(
    db: Database, make_settings: Any, services: Services, tmp_path: Path
) -> None:
    settings = routed_settings(make_settings, services, base_url="https://vigia.example.com")
    seed_hostile_leak(db)
    evaluate(settings, db)
    deliver_pending(db, FileMailer(tmp_path), NOW)

    [card] = services.accepted["teams"]
    content = card["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    assert "entities" not in content["msteams"]  # `<at>everyone</at>` mentioned no one
    body = next(block["text"] for block in content["body"] if block.get("id") == "body")
    assert "<at>" not in body and "<script>" not in body and "<!channel>" not in body
    assert "\\[gana un iPhone\\]" in body  # the post's "link" is text, not a link
    assert not re.search(r"(?<!\\)\]\(https://evil", body)
    assert "](https://social.example/hostile)" in body
    assert "4821****N" in body and DNI not in body

    [hook] = services.accepted["webhook"]
    no_secret_in(json.dumps(hook))
    assert hook["schema_version"] == 1 and hook["kind"] == "alert-leak"
    assert hook["brand"] == "Calderix" and hook["route"] == "alerts"
    assert hook["why"]["figures"]["rule"] == "leak"
    [post] = hook["posts"]
    assert post["title"] == HOSTILE  # JSON needs no escaping: the receiver gets the text
    assert "4821****N" in post["excerpt"]
    assert post["link"].startswith("https://vigia.example.com/mentions/")
    assert_matches_documented_shape(hook)


def documented_example() -> dict[str, Any]:
    """The example body in docs/webhooks.md (its first ```json block)."""
    block = re.search(r"```json\n(.*?)\n```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block, "docs/webhooks.md must show an example body in a ```json block"
    return json.loads(block.group(1))


def assert_matches_documented_shape(body: dict[str, Any]) -> None:
    """Same keys at every level and the same JSON types as the documented example."""

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items() if key != "figures"}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        if value is None or isinstance(value, str):
            return "string-or-null"
        return type(value).__name__

    assert shape(body) == shape(documented_example())


def test_a_service_down_is_retried_and_its_error_shows_no_secret(
    db: Database, make_settings: Any, services: Services, tmp_path: Path
) -> None:
    closed = services.port
    services.server.stop()  # connection refused: nothing listens any more
    settings = routed_settings(make_settings, services)
    seed_hostile_leak(db)
    evaluate(settings, db)
    report = deliver_pending(db, FileMailer(tmp_path), NOW)
    assert (report.sent, report.failed) == (1, 3)  # the email to the file outbox
    for entry in list_outbox(db):
        if entry.channel != "email":
            assert entry.state == "retrying" and entry.last_error
            no_secret_in(entry.last_error)
    assert closed  # the port is what the URLs named


def test_a_missing_variable_is_a_retried_failure_that_names_it(
    db: Database, make_settings: Any, services: Services, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = routed_settings(make_settings, services)
    monkeypatch.delenv("VIGIA_TEST_SLACK")
    seed_hostile_leak(db)
    evaluate(settings, db)
    deliver_pending(db, FileMailer(tmp_path), NOW)
    slack = next(e for e in list_outbox(db) if e.channel == "slack")
    assert slack.state == "retrying"
    assert "VIGIA_TEST_SLACK is not set" in (slack.last_error or "")
    assert services.received["slack"] == [] and len(services.accepted["teams"]) == 1


class Killed(BaseException):
    """Stands for SIGKILL right after the service accepted, before the row is marked."""


def test_a_deliverer_killed_after_the_service_accepted_does_not_resend_within_its_lease(
    db: Database, make_settings: Any, services: Services, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = make_settings(  # the webhook alone: no email in the way
        email={"recipients": {}}, routes={"alerts": services.routes()[2:]}
    )
    seed_hostile_leak(db)
    evaluate(settings, db)
    mailer = FileMailer(tmp_path)
    real_mark = outbox._mark_sent

    def killed(*_a: Any, **_k: Any) -> None:
        raise Killed

    monkeypatch.setattr(outbox, "_mark_sent", killed)
    with pytest.raises(Killed):
        deliver_pending(db, mailer, NOW)
    monkeypatch.setattr(outbox, "_mark_sent", real_mark)
    assert len(services.accepted["webhook"]) == 1
    for moment in (NOW + timedelta(minutes=1), NOW + CLAIM_LEASE - timedelta(seconds=1)):
        outbox.make_due(db, moment)
        assert deliver_pending(db, mailer, moment).sent == 0  # claimed: not even --retry
    assert len(services.accepted["webhook"]) == 1
    after = NOW + CLAIM_LEASE + timedelta(seconds=1)
    assert deliver_pending(db, mailer, after).sent == 1  # the documented duplicate …
    first, second = services.accepted["webhook"]
    assert first["id"] == second["id"]  # … which a receiver can drop by its id
