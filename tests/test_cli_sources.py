"""`monitor sources` (health table and --json) and `monitor check` (live, stores nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import main as cli
from monitor.cli.main import app, main
from tests.corpus_server import CorpusServer
from tests.feed_support import feed_responder

GOOD = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><guid>1</guid><title>Calderix sube precios</title></item>"
    "<item><guid>2</guid><title>Otra cosa</title></item></channel></rss>"
)


def write_settings(tmp_path: Path, sources: str, extra: str = "") -> Path:
    (tmp_path / "good.xml").write_text(GOOD, encoding="utf-8")
    path = tmp_path / "settings.toml"
    path.write_text(
        f"""
[storage]
url = "sqlite:///var/vigia.db"
[http]
allow_private_addresses = true
{extra}
[[brands]]
name = "Calderix"
{sources}
""",
        encoding="utf-8",
    )
    return path


SOURCES = """
[[sources]]
name = "Good feed"
kind = "rss"
url = "good.xml"

[[sources]]
name = "Gone feed"
kind = "rss"
url = "gone.xml"

[[sources]]
name = "Paused feed"
kind = "rss"
url = "good.xml"
enabled = false
"""


def invoke(settings: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--settings", str(settings), *args], catch_exceptions=False)


def test_sources_json_reports_each_status(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, SOURCES, "[health]\nmax_failures = 1\n")
    before = [json.loads(x) for x in invoke(settings, "sources", "--json").output.splitlines()]
    assert [(r["name"], r["status"]) for r in before] == [
        ("Good feed", "never run"), ("Gone feed", "never run"), ("Paused feed", "disabled")
    ]
    assert invoke(settings, "fetch").exit_code == 0
    rows = {
        r["name"]: r
        for r in map(json.loads, invoke(settings, "sources", "--json").output.splitlines())
    }
    good, gone = rows["Good feed"], rows["Gone feed"]
    assert (good["status"], good["items_seen"], good["mentions_stored"]) == ("ok", 2, 1)
    assert good["last_success_at"] and good["consecutive_failures"] == 0
    assert gone["status"] == "failing" and gone["consecutive_failures"] == 1
    assert gone["last_outcome"] == "misconfigured" and good["last_outcome"] is None
    assert good["items_skipped"] == 0
    assert "cannot read local feed" in gone["last_error"]
    assert rows["Paused feed"]["status"] == "disabled"


def test_sources_table_shows_status_and_last_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = write_settings(tmp_path, SOURCES)
    invoke(settings, "fetch")
    monkeypatch.setattr(cli.console, "width", 250)  # one table row per line
    table = invoke(settings, "sources").output
    good = next(line for line in table.splitlines() if "Good feed" in line)
    gone = next(line for line in table.splitlines() if "Gone feed" in line)
    assert " ok " in good and " 2 " in good
    # A missing file is misconfigured: failing at its first failure (it used to show `ok`).
    assert " failing " in gone and "cannot read local feed" in gone
    assert "Sources (3 failures in a row = failing)" in table
    assert "disabled" in table and "never" in table


def test_check_fails_when_a_source_fails_and_stores_nothing(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, SOURCES)
    result = invoke(settings, "check")
    assert result.exit_code == 1
    assert "✓ Good feed (rss): 2 items" in result.output
    assert "✗ Gone feed (rss): cannot read local feed" in result.output
    assert "Paused feed: disabled, not checked" in result.output
    assert "1 of 2 sources failed" in result.output
    rows = [json.loads(x) for x in invoke(settings, "sources", "--json").output.splitlines()]
    assert all(r["status"] in ("never run", "disabled") for r in rows)  # nothing stored

    only_good = invoke(settings, "check", "Good feed")
    assert only_good.exit_code == 0 and "Gone feed" not in only_good.output


def test_check_reports_http_errors_per_source(tmp_path: Path) -> None:
    with CorpusServer() as server:
        server.routes["/ok.xml"] = feed_responder(GOOD.encode(), "application/rss+xml")
        sources = f"""
[[sources]]
name = "Served"
kind = "rss"
url = "{server.base_url}/ok.xml"

[[sources]]
name = "Missing"
kind = "rss"
url = "{server.base_url}/missing.xml"
"""
        result = invoke(write_settings(tmp_path, sources), "check")
    assert result.exit_code == 1
    assert "✓ Served (rss): 2 items" in result.output
    assert "✗ Missing (rss): HTTP 404" in result.output


def test_check_of_an_unknown_source_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = write_settings(tmp_path, SOURCES)
    monkeypatch.setattr("sys.argv", ["monitor", "--settings", str(settings), "check", "Nope"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "no source named 'Nope'" in capsys.readouterr().err
