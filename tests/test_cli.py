"""The `monitor` command line, end to end on the bundled demo feeds (what `make demo` runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.main import app, main
from monitor.core.errors import VigiaError
from tests.demo_support import write_demo_settings


@pytest.fixture
def demo_settings(tmp_path: Path) -> Path:
    """The demo's settings, with its storage and outbox moved into tmp_path."""
    return write_demo_settings(tmp_path)


def invoke(settings: Path, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["--settings", str(settings), *args], catch_exceptions=False)
    return result


def outbox_files(settings: Path) -> list[Path]:
    outbox = settings.parent / "var" / "outbox"
    return sorted(outbox.iterdir()) if outbox.exists() else []


def test_run_once_twice_is_idempotent(demo_settings: Path) -> None:
    first = invoke(demo_settings, "run", "--once")
    assert first.exit_code == 0, first.output
    files = outbox_files(demo_settings)
    assert {f.suffix for f in files} == {".eml", ".html"}
    stored = invoke(demo_settings, "mentions", "--json").output.splitlines()
    assert len(stored) > 30

    second = invoke(demo_settings, "run", "--once")
    assert second.exit_code == 0, second.output
    assert "already written" in second.output
    assert outbox_files(demo_settings) == files
    assert invoke(demo_settings, "mentions", "--json").output.splitlines() == stored


def test_mentions_json_filters(demo_settings: Path) -> None:
    assert invoke(demo_settings, "fetch").exit_code == 0
    rows = [
        json.loads(line) for line in invoke(demo_settings, "mentions", "--json").output.splitlines()
    ]
    assert rows and all("Calderix" in r["brands"] for r in rows)
    competitor = [json.loads(x) for x in invoke(
        demo_settings, "mentions", "--json", "--brand", "Fonaris").output.splitlines()]
    assert competitor and all("Fonaris" in r["brands"] for r in competitor)
    assert all(any(t["family"] == "sentiment" for t in r["tags"]) for r in rows)
    limited = invoke(demo_settings, "mentions", "--json", "--limit", "3").output.splitlines()
    assert len(limited) == 3
    negative = [
        json.loads(x)
        for x in invoke(
            demo_settings, "mentions", "--json", "--tag", "negative"
        ).output.splitlines()
    ]
    assert negative and len(negative) < len(rows)
    assert all(any(t["label"] == "negative" for t in r["tags"]) for r in negative)
    future = invoke(demo_settings, "mentions", "--json", "--since", "2099-01-01").output
    assert future == ""


def test_mentions_search_status_sentiment_and_source(demo_settings: Path) -> None:
    assert invoke(demo_settings, "fetch").exit_code == 0

    def listed(*args: str) -> list[dict]:  # type: ignore[type-arg]
        output = invoke(demo_settings, "mentions", "--json", *args).output
        return [json.loads(line) for line in output.splitlines()]

    rows = listed()
    searched = listed("--search", "calderix")
    assert searched and len(searched) <= len(rows)
    negative = listed("--sentiment", "negative")
    assert negative and all(any(t["label"] == "negative" for t in r["tags"]) for r in negative)
    assert listed("--status", "new") == rows  # nothing reviewed yet
    assert listed("--status", "reviewed") == []
    source = rows[0]["sources"][0]
    assert all(source in r["sources"] for r in listed("--source", source))
    with pytest.raises(VigiaError, match="unknown sentiment"):
        invoke(demo_settings, "mentions", "--sentiment", "angry")
    with pytest.raises(VigiaError, match="add a word"):
        invoke(demo_settings, "mentions", "--search", "-spam")


def test_fetch_one_source_and_sources_table(demo_settings: Path) -> None:
    result = invoke(demo_settings, "fetch", "Telco Weekly")
    assert result.exit_code == 0, result.output
    table = invoke(demo_settings, "sources").output
    assert "Telco Weekly" in table and "never" in table  # the others were not fetched yet


def test_digest_preview_and_force(demo_settings: Path, tmp_path: Path) -> None:
    invoke(demo_settings, "fetch")
    preview = tmp_path / "preview.html"
    assert invoke(demo_settings, "digest", "--preview", str(preview)).exit_code == 0
    assert "Calderix" in preview.read_text(encoding="utf-8")
    assert outbox_files(demo_settings) == []  # a preview sends nothing
    assert invoke(demo_settings, "digest").exit_code == 0
    sent = outbox_files(demo_settings)
    assert "already written" in invoke(demo_settings, "digest").output
    assert invoke(demo_settings, "digest", "--force").exit_code == 0
    assert len(outbox_files(demo_settings)) == len(sent) + 2


def test_check_validates_and_tries_sources(demo_settings: Path) -> None:
    result = invoke(demo_settings, "check")
    assert result.exit_code == 0, result.output
    assert "settings" in result.output and "Telco Weekly" in result.output


def test_bad_settings_exit_with_a_clear_message(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "settings.toml"
    bad.write_text('[schedule]\ndigest_at = "8am"\n[[brands]]\nname = "X"\n', encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["monitor", "--settings", str(bad), "sources"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "schedule.digest_at" in err and "HH:MM" in err and "Traceback" not in err


def test_mentions_mask_personal_data_unless_revealed(demo_settings: Path) -> None:
    """The demo holds a post with a customer's DNI and mobile number."""
    assert invoke(demo_settings, "fetch").exit_code == 0
    listed = invoke(demo_settings, "mentions", "--json").output
    table = invoke(demo_settings, "mentions").output
    for output in (listed, table):
        assert "48215763N" not in output and "612 483 907" not in output
    assert "4821****N" in listed
    revealed = invoke(demo_settings, "mentions", "--json", "--reveal").output
    assert "48215763N" in revealed


def test_an_unknown_brand_is_an_error_naming_the_configured_ones(demo_settings: Path) -> None:
    args = ["--settings", str(demo_settings), "mentions", "--brand", "Nope"]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, VigiaError)
    message = str(result.exception)
    assert "'Nope' is not a configured brand" in message
    assert "Calderix" in message and "Fonaris" in message


def test_help_shows_flags_without_a_value() -> None:
    for command in (["run"], ["mentions"], ["digest"], ["report", "weekly"]):
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "<bool>" not in result.output, result.output
    assert "--once " in CliRunner().invoke(app, ["run", "--help"]).output
