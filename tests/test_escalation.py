"""Escalating a mention writes one masked email, to the right list, exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from monitor.app.review import apply_action, history
from monitor.core.models import OutboxMessage
from monitor.core.storage import Database
from tests.email_support import parse
from tests.review_support import ADMIN, COMMS, DNI, HR, NOW, SECURITY, review_settings, seed


def escalate(db: Database, settings, mention_id: int, actor=COMMS, note: str | None = None):  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return apply_action(session, settings, mention_id, actor, "escalate", value=note, now=NOW)


def outbox(db: Database) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def parts(row: OutboxMessage) -> tuple[str, str]:
    message = parse(row.message)
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_an_escalation_is_one_email_with_the_note_and_a_link(db: Database, make_settings):
    settings = review_settings(make_settings)
    ids = seed(db)
    outcome = escalate(db, settings, ids["negative"], note="Call them today, please.")
    assert outcome.review_status == "escalated" and outcome.email_written
    [row] = outbox(db)
    assert (row.key, row.kind) == (f"escalation:{ids['negative']}", "escalation")
    assert row.recipients == ["comms-lead@example.com"]
    assert row.subject == "Vigía: carlos escalated a post about Calderix"
    text, html = parts(row)
    link = f"https://vigia.example.com/mentions/{ids['negative']}"
    for body in (text, html):
        assert "carlos escalated this post about Calderix" in body
        assert "Call them today, please." in body
        assert "Calderix support is awful" in body
        assert link in body
    assert f'href="{link}"' in html
    assert outcome.action.detail == {"from": "new", "to": "escalated",
                                     "note": "Call them today, please.",
                                     "recipient_list": "escalations", "email": row.key}


def test_a_second_escalation_is_audited_but_sends_nothing(db: Database, make_settings):
    settings = review_settings(make_settings)
    ids = seed(db)
    escalate(db, settings, ids["plain"])
    again = escalate(db, settings, ids["plain"], actor=ADMIN, note="Again!")
    assert not again.email_written and again.action.detail["email"] is None
    assert len(outbox(db)) == 1
    with db.sessions() as session:
        trail = history(session, ids["plain"])
    assert [(a.action, a.user_name) for a in trail] == [("escalate", "carlos"),
                                                        ("escalate", "ana")]
    text, _ = parts(outbox(db)[0])
    assert "No note was left." in text and "Again!" not in text


def test_escalations_fall_back_to_alerts_and_nobody_means_no_email(db: Database, make_settings):
    ids = seed(db)
    settings = review_settings(make_settings, recipients={"alerts": ["crisis@example.com"]})
    assert escalate(db, settings, ids["plain"]).email.recipients == ["crisis@example.com"]
    assert outbox(db)[0].recipients == ["crisis@example.com"]
    nobody = review_settings(make_settings, recipients={"digest": ["comms@example.com"]})
    outcome = escalate(db, nobody, ids["negative"])
    assert outcome.review_status == "escalated" and not outcome.email_written
    assert outcome.email is not None and outcome.email.recipients == []
    assert outcome.action.detail["email"] is None
    assert len(outbox(db)) == 1


def test_a_leak_goes_to_the_leaks_list_masked(db: Database, make_settings) -> None:
    settings = review_settings(make_settings)
    ids = seed(db)
    outcome = escalate(db, settings, ids["leak"], actor=SECURITY,
                       note=f"Juan's DNI {DNI} again, ask the forum to remove it.")
    assert outcome.email is not None and outcome.email.recipient_list == "leaks"
    [row] = outbox(db)
    assert row.recipients == ["security@example.com"]
    for body in (*parts(row), row.message.decode("ascii", "replace")):
        assert DNI not in body
    text, _ = parts(row)
    assert "tagged as a possible leak" in text and "Why: pii cue" in text


def test_a_leak_without_a_leaks_list_goes_to_alerts_not_escalations(db: Database, make_settings):
    settings = review_settings(make_settings, recipients={
        "alerts": ["crisis@example.com"], "escalations": ["comms-lead@example.com"]})
    ids = seed(db)
    escalate(db, settings, ids["leak"], actor=SECURITY)
    assert outbox(db)[0].recipients == ["crisis@example.com"]


def test_an_employee_post_goes_to_hr_only(db: Database, make_settings) -> None:
    recipients = {"alerts": ["crisis@example.com"], "escalations": ["comms-lead@example.com"],
                  "employees": ["hr@example.com"]}
    ids = seed(db)
    outcome = escalate(db, review_settings(make_settings, recipients=recipients), ids["staff"],
                       actor=HR)
    assert outcome.email is not None and outcome.email.recipient_list == "employees"
    assert outbox(db)[0].recipients == ["hr@example.com"]


def test_an_employee_post_without_an_hr_list_is_not_emailed_to_comms(db: Database, make_settings):
    recipients = {"alerts": ["crisis@example.com"], "escalations": ["comms-lead@example.com"]}
    ids = seed(db)
    outcome = escalate(db, review_settings(make_settings, recipients=recipients), ids["staff"],
                       actor=HR)
    assert not outcome.email_written and outbox(db) == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_base_url_no_link_and_spanish(db: Database, make_settings, language: str) -> None:
    settings = review_settings(make_settings, language=language)
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"base_url": ""})})
    ids = seed(db)
    escalate(db, settings, ids["plain"])
    [row] = outbox(db)
    text, html = parts(row)
    assert "/mentions/" not in text and "/mentions/" not in html
    expected: dict[str, Any] = {
        "en": ("Vigía: carlos escalated a post about Calderix", "No note was left."),
        "es": ("Vigía: carlos escaló una publicación sobre Calderix", "No dejó ninguna nota."),
    }
    assert row.subject == expected[language][0] and expected[language][1] in text
