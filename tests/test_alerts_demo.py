"""`make demo` produces the leak and spike alerts, to the right lists, on any day, once."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import time_machine
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.app.configuration import load_settings
from monitor.cli.main import app
from monitor.core.models import OutboxMessage
from monitor.core.storage import open_database
from tests.demo_support import write_demo_settings


def demo_settings(tmp_path: Path) -> Path:
    """The demo's settings, with its storage and outbox moved into tmp_path."""
    return write_demo_settings(tmp_path)


def run_once(settings: Path) -> str:
    result = CliRunner().invoke(
        app, ["--settings", str(settings), "run", "--once"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_alerts_once_to_the_right_lists_months_later(tmp_path: Path) -> None:
    path = demo_settings(tmp_path)
    with time_machine.travel("2027-03-01 10:00Z"):  # long after the demo data (Nov 2026)
        output = run_once(path)
        assert "Alert written" in output
        outbox = sorted((tmp_path / "var" / "outbox").iterdir())
        assert run_once(path).count("Alert written") == 0
        assert sorted((tmp_path / "var" / "outbox").iterdir()) == outbox  # nothing new
    settings = load_settings(path)
    db = open_database(settings.database_url)
    with db.sessions() as session:
        rows = {row.kind: row for row in session.scalars(select(OutboxMessage))}
    db.dispose()
    lists = settings.email.recipients
    assert rows["alert-spike"].recipients == lists.alerts
    assert rows["alert-leak"].recipients == lists.alerts + lists.leaks
    assert rows["complaints"].recipients == lists.complaints
    assert rows["employees"].recipients == lists.employees
    assert rows["digest"].recipients == lists.digest

    spike = _text(rows["alert-spike"].message)
    assert "== 20 nov 2026 08:00–09:00 ==" in spike  # the outage hour, in Madrid time
    leak = _text(rows["alert-leak"].message)
    assert "4821****N" in leak and "Proyecto Halcón" in leak
    for file in outbox:  # no email or browsable page spreads the DNI
        if file.suffix == ".eml":
            message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
            shown = "".join(
                part.get_content()
                for part in message.walk()
                if part.is_attachment() is False and part.get_content_maintype() == "text"
            )
        else:
            shown = file.read_text(encoding="utf-8")
        assert "48215763" not in shown, file.name


def _text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_scheduler_job_alerts_right_after_its_source_run(tmp_path: Path) -> None:
    from monitor.app.jobs import flush_and_deliver, run_source_job
    from monitor.app.pipeline import Pipeline

    settings = load_settings(demo_settings(tmp_path))
    db = open_database(settings.database_url)
    pipeline = Pipeline(settings, db)
    mastodon = next(s for s in settings.sources if s.name == "Mastodon #calderix")
    try:
        assert run_source_job(settings, pipeline, mastodon).new_mentions > 0
        with db.sessions() as session:
            kinds = sorted(session.scalars(select(OutboxMessage.kind)))
            sent = set(session.scalars(select(OutboxMessage.status)))
        assert kinds == ["alert-leak", "alert-spike"] and sent == {"sent"}  # delivered at once
        assert run_source_job(settings, pipeline, mastodon).new_mentions == 0
        # the every-minute job: nothing held, nothing new
        flush_and_deliver(settings, db, now=pipeline.clock())
        with db.sessions() as session:
            assert len(session.scalars(select(OutboxMessage.id)).all()) == 2
    finally:
        pipeline.close()
        db.dispose()
