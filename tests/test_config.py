"""Settings: a malformed setting gives one clear message naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.app.configuration import load_settings
from monitor.core.errors import SettingsError
from monitor.core.settings import parse_interval
from monitor.core.settings_file import settings_path

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """
[[brands]]
name = "Calderix"
query = 'Calderix OR @calderix'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, text))
    return str(caught.value)


def test_minimal_settings_get_documented_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.storage.url == "sqlite:///var/vigia.db"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var/vigia.db'}"
    assert settings.http.allow_private_addresses is False
    assert settings.schedule.digest_at == "08:00"
    assert settings.email.smtp_host == ""
    assert settings.outbox_dir == tmp_path / "var/outbox"


def test_bundled_settings_files_are_valid() -> None:
    for path in sorted((REPO / "examples").glob("**/settings*.toml")):
        settings = load_settings(path)
        assert settings.brands, path


@pytest.mark.parametrize(
    ("snippet", "key", "hint"),
    [
        (
            '[[sources]]\nname = "a"\nkind = "rss"\nurl = "x.xml"\nevery = "soon"\n',
            "sources[0] ('a').every",
            '"15m"',
        ),
        ('[schedule]\ndigest_at = "8am"\n', "schedule.digest_at", '"HH:MM"'),
        ('[schedule]\ntimezone = "Madrid"\n', "schedule.timezone", "Europe/Madrid"),
        (
            '[http]\nallow_private_addresses = "yes"\n',
            "http.allow_private_addresses",
            "true or false",
        ),
        ('[email]\nsmtp_port = "587x"\n', "email.smtp_port", "whole number"),
        ('[email]\npassword = "hunter2"\n', "email.password", "VIGIA_SMTP_PASSWORD"),
        (
            '[email.recipients]\ndigest = ["not an address"]\n',
            "email.recipients.digest",
            "comms@example.com",
        ),
        ('[storage]\nurl = "mysql://x"\n', "storage.url", "postgresql+psycopg"),
        ('[storage]\nurl = "mysql://u:hunter2@x/db"\n', "storage.url", "u:***@x"),
        (
            '[storage]\nurl = "postgresql+psycopg://vigia:hunter2@db.internal/vigia"\n',
            "storage.url",
            "PGPASSWORD",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "rss"\nurl = "x"\nenabled = "off"\n',
            "sources[0] ('a').enabled",
            "true or false",
        ),
        ('[schedul]\ntimezone = "UTC"\n', "schedul", "spelling"),
        (
            '[[sources]]\nname = "a"\nkind = "carrier-pigeon"\nurl = "x"\n',
            "sources[0] ('a').kind",
            "rss",
        ),
        (
            '[[sources]]\nname = "a"\nkind = "rss"\nurll = "x"\n',
            "sources[0] ('a').urll",
            "spelling",
        ),
    ],
)
def test_malformed_setting_names_key_and_fix(
    tmp_path: Path, snippet: str, key: str, hint: str
) -> None:
    message = problems_of(tmp_path, snippet + MINIMAL)
    assert f"{key}:" in message
    assert hint in message
    assert "Traceback" not in message
    assert "hunter2" not in message


def test_bad_query_is_reported_on_the_brand(tmp_path: Path) -> None:
    message = problems_of(tmp_path, "[[brands]]\nname = \"X\"\nquery = '(Calderix OR'\n")
    assert "brands[0] ('X').query" in message or "brands[0] ('X')" in message
    assert "Lucene" in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    message = problems_of(
        tmp_path, '[schedule]\ndigest_at = "25:00"\ntimezone = "Nowhere"\n' + MINIMAL
    )
    assert "schedule.digest_at" in message and "schedule.timezone" in message


def test_six_problems_in_one_round(tmp_path: Path) -> None:
    """Field errors, cross-field checks, duplicate names, a bad query and a connector's own
    options used to surface in three rounds (pydantic skips model validators after a field
    error, and source options were checked only once the rest was valid)."""
    text = """
[schedule]
digest_at = "25:00"

[email]
ssl = true

[[brands]]
name = "Acme"
query = 'Acme OR "Visual Studio'

[[sources]]
name = "a"
kind = "rss"
url = "x.xml"
every = "soon"

[[sources]]
name = "a"
kind = "mastodon"
instance = "https://mastodon.social"
tagz = ["acme"]
"""
    message = problems_of(tmp_path, text)
    for expected in (
        "schedule.digest_at:",
        "email.ssl: ssl and starttls are both true",
        "brands[0] ('Acme').query: cannot parse query",
        "unclosed quote",
        "sources[0] ('a').every:",
        "sources: duplicate name 'a'",
        "sources[1] ('a').tagz: unknown setting",
    ):
        assert expected in message, (expected, message)


def test_an_empty_query_is_refused_not_ignored(tmp_path: Path) -> None:
    message = problems_of(tmp_path, '[[brands]]\nname = "Acme"\nquery = "  "\n')
    assert "brands[0] ('Acme').query: the query is empty" in message
    assert load_settings(write(tmp_path, '[[brands]]\nname = "Acme"\n')).brands[
        0
    ].effective_query == '"Acme"'


def test_backfill_horizon(tmp_path: Path) -> None:
    from datetime import timedelta

    assert load_settings(write(tmp_path, MINIMAL)).fetch.horizon == timedelta(days=3)
    all_of_it = load_settings(write(tmp_path, '[fetch]\nbackfill = "all"\n' + MINIMAL))
    assert all_of_it.fetch.horizon is None
    message = problems_of(tmp_path, '[fetch]\nbackfill = "forever"\n' + MINIMAL)
    assert "fetch.backfill: invalid backfill 'forever'" in message and '"all"' in message


def test_brands_are_required(tmp_path: Path) -> None:
    assert "brands" in problems_of(tmp_path, "[storage]\n")


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid TOML" in problems_of(tmp_path, "[[brands]\nname=")
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml")


def test_duplicate_source_names(tmp_path: Path) -> None:
    source = '[[sources]]\nname = "a"\nkind = "rss"\nurl = "x.xml"\n'
    assert "duplicate name 'a'" in problems_of(tmp_path, source + source + MINIMAL)


def test_settings_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIA_SETTINGS", raising=False)
    assert settings_path(None) == Path("settings.toml")
    monkeypatch.setenv("VIGIA_SETTINGS", "/etc/vigia.toml")
    assert settings_path(None) == Path("/etc/vigia.toml")
    assert settings_path("mine.toml") == Path("mine.toml")


def test_password_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIA_SMTP_PASSWORD", "s3cret")
    settings = load_settings(write(tmp_path, MINIMAL))
    password = settings.secrets.smtp_password
    assert password is not None and password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings.secrets)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400)]
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "0m", "15", "m", "1w", "-5m"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError, match="15m"):
        parse_interval(text)


def test_industry_names_a_known_pack_or_is_refused(tmp_path: Path) -> None:
    message = problems_of(tmp_path, '[[brands]]\nname = "Acme"\nindustry = "banking"\n')
    assert "brands[0] ('Acme').industry: unknown industry 'banking'" in message
    assert "use one of: telecom" in message and "Traceback" not in message
    general = load_settings(write(tmp_path, '[[brands]]\nname = "Acme"\n')).brands[0]
    assert general.industry == ""
    telecom = load_settings(
        write(tmp_path, '[[brands]]\nname = "Acme"\nindustry = " Telecom "\n')).brands[0]
    assert telecom.industry == "telecom"
