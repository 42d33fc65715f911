"""Routing: recipient lists are validated, and each list gets only the emails it is for."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app.configuration import load_settings
from monitor.app.jobs import send_daily_emails
from monitor.core.errors import SettingsError
from monitor.core.models import OutboxMessage, ReportRun
from monitor.core.storage import Database
from reports.routed import enqueue_routed_reports
from tests.email_support import check_golden, parse
from tests.test_alerts import DNI, NOW, add_post, alert_settings, bodies, source_in

SETTINGS = """
[[brands]]
name = "Calderix"

[email.recipients]
{lists}
"""


def write(tmp_path: Path, lists: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS.format(lists=lists), encoding="utf-8")
    return path


def test_every_list_is_validated_and_the_error_names_it(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            'leaks = ["legal@example.com"]\nemployees = ["hr@example.com"]\n'
            'complaints = ["care@example.com"]\nweekly = ["board@example.com"]',
        )
    )
    lists = settings.email.recipients
    assert (lists.leaks, lists.employees, lists.complaints, lists.weekly) == (
        ["legal@example.com"],
        ["hr@example.com"],
        ["care@example.com"],
        ["board@example.com"],
    )
    for key in ("leaks", "employees", "complaints", "weekly"):
        with pytest.raises(SettingsError) as caught:
            load_settings(write(tmp_path, f'{key} = ["HR team <hr@example.com>\\nBcc: x@evil"]'))
        message = str(caught.value)
        assert f"email.recipients.{key}" in message and "write plain addresses" in message
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, 'legal = ["legal@example.com"]'))
    assert "email.recipients.legal: unknown setting" in str(caught.value)


def test_alert_settings_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[[brands]]\nname = "C"\n[alerts]\ncooldown = "soon"\nspike_min_count = 0\n',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "alerts.cooldown: invalid interval 'soon'" in message
    assert "alerts.spike_min_count" in message and "use a larger number" in message


def seed_day(db: Database) -> None:
    """One post per routed kind, plus a plain negative one that no routed list should get."""
    with db.transaction() as session:
        source = source_in(session)
        seen = NOW - timedelta(hours=2)
        add_post(
            session,
            source,
            "complaint",
            text="Calderix me cobra dos veces la factura de noviembre",
            published=seen,
            seen=seen,
            reach=120,
            author="@cliente_harto",
            tags=[
                ("sentiment", "negative", -0.7, ()),
                ("complaint", "complaint", 0.9, [("cobra dos veces", "complaint:billing")]),
            ],
        )
        add_post(
            session,
            source,
            "employee",
            text=f"Trabajo en Calderix y el DNI de mi jefe es {DNI}",
            published=seen,
            seen=seen,
            author="@apombo_dev",
            tags=[
                ("employee", "employee", 1.0, [("Trabajo en Calderix", "employee:roster_author")]),
                ("leak", "pii", 0.95, [(DNI, "pii:dni")]),
            ],
        )
        add_post(
            session,
            source,
            "insult",
            text="Calderix sois una panda de inútiles",
            published=seen,
            seen=seen,
            author="@kike",
            tags=[("policy", "insult", 0.8, [("panda de inútiles", "policy:insult")])],
        )
        add_post(
            session,
            source,
            "plain",
            text="Calderix sube precios",
            published=seen,
            seen=seen,
            tags=[("sentiment", "negative", -0.5, ())],
        )


def test_each_list_gets_only_what_it_is_for(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings, "es")
    seed_day(db)
    written = {m.kind: m for m in enqueue_routed_reports(db, settings, now=NOW)}
    assert set(written) == {"complaints", "employees"}
    complaints, employees = written["complaints"], written["employees"]
    assert complaints.recipients == ["care@example.com"]
    assert employees.recipients == ["hr@example.com"]
    text, html = bodies(complaints)
    assert "me cobra dos veces" in text and "inútiles" not in text and "sube precios" not in text
    text, html = bodies(employees)
    assert "Trabajo en Calderix" in text and "panda de inútiles" in text
    assert "me cobra" not in text and "sube precios" not in text
    assert DNI not in text and DNI not in html and "4821****N" in text
    check_golden("routed_complaints_es.txt", bodies(complaints)[0])
    check_golden("routed_employees_es.txt", bodies(employees)[0])
    check_golden(
        "routed_employees_es.html", parse(employees.message).get_body(("html",)).get_content()
    )
    # Once a day: a second call the same day writes nothing and records nothing new.
    assert enqueue_routed_reports(db, settings, now=NOW + timedelta(hours=3)) == []


def test_periods_chain_and_quiet_days_send_nothing(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings)
    assert enqueue_routed_reports(db, settings, now=NOW) == []  # nothing to report: no email
    seed_day(db)  # these were first seen before the first period ended: already covered
    assert enqueue_routed_reports(db, settings, now=NOW + timedelta(days=1)) == []
    with db.sessions() as session:
        runs = session.scalars(select(ReportRun).order_by(ReportRun.id)).all()
        assert [(r.kind, r.outbox_key) for r in runs] == [
            ("complaints", None),
            ("employees", None),
            ("complaints", None),
            ("employees", None),
        ]
        assert runs[2].period_start == runs[0].period_end == NOW


def test_lists_without_recipients_get_nothing(db: Database, make_settings) -> None:
    settings = make_settings()  # BASE_SETTINGS: only digest and alerts lists
    seed_day(db)
    assert enqueue_routed_reports(db, settings, now=NOW) == []


def test_the_daily_job_sends_the_digest_and_the_routed_emails(
    db: Database, make_settings
) -> None:
    settings = alert_settings(make_settings)
    seed_day(db)
    send_daily_emails(settings, db, now=NOW)
    with db.sessions() as session:
        kinds = {m.kind: m.recipients for m in session.scalars(select(OutboxMessage))}
    assert kinds == {
        "digest": ["comms@example.com"],
        "complaints": ["care@example.com"],
        "employees": ["hr@example.com"],
    }
