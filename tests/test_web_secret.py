"""The web session-signing key: from the environment, or a private file kept beside the data."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.app import web_secret
from monitor.app.web_secret import key_file, secret_key
from monitor.core.errors import VigiaError
from monitor.core.settings import Settings

ENV_KEY = "k" * 40


@pytest.fixture(autouse=True)
def no_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIA_SECRET_KEY", raising=False)


def test_the_environment_variable_wins_and_no_file_is_made(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'data' / 'vigia.db'}")
    monkeypatch.setenv("VIGIA_SECRET_KEY", ENV_KEY)
    assert secret_key(settings) == ENV_KEY
    assert not key_file(settings).exists()


def test_the_variable_named_in_the_settings_is_read(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(web={"secret_key_env": "OUR_KEY"})
    monkeypatch.setenv("VIGIA_SECRET_KEY", "not this one, it is not the configured name")
    monkeypatch.setenv("OUR_KEY", ENV_KEY)
    assert secret_key(settings) == ENV_KEY


def test_a_short_key_in_the_environment_is_refused(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIA_SECRET_KEY", "secret")
    with pytest.raises(VigiaError, match=r"\$VIGIA_SECRET_KEY is shorter than 32"):
        secret_key(make_settings())


def test_without_the_variable_a_private_file_beside_the_sqlite_database_keeps_the_key(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("VIGIA_SECRET_KEY", "")  # set but empty counts as unset
    settings = make_settings(f"sqlite:///{tmp_path / 'data' / 'vigia.db'}")
    with caplog.at_level(logging.INFO, logger=web_secret.__name__):
        key = secret_key(settings)
        again = secret_key(settings)
    path = tmp_path / "data" / "web-secret"
    assert key == again == path.read_text(encoding="utf-8").strip()
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["web-secret"]  # nothing left aside
    announced = [r.getMessage() for r in caplog.records]
    assert len(announced) == 1  # once, not per call
    assert str(path) in announced[0] and key not in announced[0]


def test_a_relative_sqlite_path_is_anchored_at_the_settings_folder(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings("sqlite:///var/vigia.db")
    assert key_file(settings) == tmp_path / "var" / "web-secret"


def test_on_postgresql_the_key_file_is_in_var_under_the_settings_folder(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings("postgresql+psycopg://vigia@db.example/vigia")
    key = secret_key(settings)  # no connection needed
    assert (tmp_path / "var" / "web-secret").read_text(encoding="utf-8").strip() == key


def test_a_key_file_made_by_another_process_first_is_used_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "web-secret"
    theirs = "t" * 43
    path.write_text(theirs + "\n", encoding="utf-8")
    path.chmod(0o600)
    assert web_secret._create(path) == theirs  # the race's losing side
    assert path.read_text(encoding="utf-8") == theirs + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["web-secret"]


def test_a_damaged_key_file_is_one_clear_error(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings("sqlite:///var/vigia.db")
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "web-secret").write_text("\n", encoding="utf-8")
    with pytest.raises(VigiaError, match="delete the file"):
        secret_key(settings)


def test_a_folder_that_cannot_be_written_is_one_clear_error(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be", encoding="utf-8")
    settings = make_settings(f"sqlite:///{tmp_path / 'blocked' / 'vigia.db'}")
    with pytest.raises(VigiaError, match=r"cannot keep the web session key.*VIGIA_SECRET_KEY"):
        secret_key(settings)
