"""`monitor outbox [--retry]`: what is waiting, failing or sent, and a retry that sends once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from monitor.app.configuration import load_settings
from monitor.cli import main as cli
from monitor.cli.main import app
from monitor.core.models import OutboxMessage
from monitor.core.storage import open_database
from reports.outbox import DEAD, enqueue

SETTINGS = """
[storage]
url = "sqlite:///var/vigia.db"

[email]
from = "Vigía <vigia@example.com>"
outbox_dir = "var/outbox"

[email.recipients]
alerts = ["crisis@example.com"]

[[brands]]
name = "Calderix"
"""


def invoke(settings: Path, *args: str) -> str:
    result = CliRunner().invoke(
        app, ["--settings", str(settings), *args], catch_exceptions=False, terminal_width=200
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_list_retry_and_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 200)  # one table row per email
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    settings = load_settings(path)
    db = open_database(settings.database_url)
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    with db.transaction() as session:
        for n in (1, 2, 3):
            enqueue(
                session,
                key=f"alert:test:{n}",
                kind="alert-spike",
                sender=settings.email.from_,
                recipients=settings.email.recipients.alerts,
                subject=f"Alert {n}: DNI 48215763N in a post",
                html=f"<p>{n}</p>",
                text=str(n),
                now=now,
            )
        session.execute(update(OutboxMessage).where(OutboxMessage.id == 3).values(status=DEAD))
    # The outbox folder cannot be created (a file is in the way): every delivery fails.
    (tmp_path / "var" / "outbox").write_text("not a folder", encoding="utf-8")

    failing = invoke(path, "outbox", "--retry")
    assert "3 email(s) made due: 0 sent, 3 failed" in failing
    listing = invoke(path, "outbox")
    assert listing.count("retrying") == 3 and "last error: cannot write" in listing
    assert "48215763N" not in listing and "4821****N" in listing  # subjects are masked

    (tmp_path / "var" / "outbox").unlink()
    recovered = invoke(path, "outbox", "--retry")
    assert "3 email(s) made due: 3 sent, 0 failed" in recovered
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == 3
    assert invoke(path, "outbox").count(" sent ") == 3

    again = invoke(path, "outbox", "--retry", "--unsent")
    assert "0 email(s) made due: 0 sent, 0 failed" in again
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == 3  # nothing twice
    db.dispose()
