"""Reading a settings file and validating it against the schema, every problem at once.

The schema is `monitor.core.settings`; this module finds the file (`--settings`,
`$VIGIA_SETTINGS`, ./settings.toml), reads the TOML, and runs the schema plus the checks the
application passes in (`SettingsCheck`), so the core never imports the floors above it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.core.errors import SettingsError
from monitor.core.settings import Settings
from monitor.core.settings_problems import inline_secrets, validation_problems

DEFAULT_SETTINGS = "settings.toml"
SETTINGS_ENV = "VIGIA_SETTINGS"


SettingsCheck = Callable[[dict[str, Any], Path], list[tuple[str, str]]]
"""A check the schema cannot make by itself (a connector's options, a query's syntax), run on
the raw TOML tables so that it reports its problems even when other parts of the file are
wrong: `(key, "what is wrong — how to fix it")`. The application passes its checks in, so the
core never imports the floors above it."""


def _duplicate_names(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Brands and sources need unique names (they key the database rows and the outbox).

    Checked on the raw tables rather than in the model: pydantic runs no model validator
    once a field is wrong, and a duplicate must be reported with every other problem.
    """
    problems = []
    for label in ("brands", "sources"):
        entries = data.get(label)
        if not isinstance(entries, list):
            continue
        names = [e.get("name") for e in entries if isinstance(e, dict) and e.get("name")]
        dupes = sorted({str(n) for n in names if names.count(n) > 1})
        if dupes:
            problems.append((label, f"duplicate name {dupes[0]!r} — give each a unique name"))
    return problems



def parse_settings(
    data: dict[str, Any],
    base_dir: Path,
    path: str | None = None,
    checks: Sequence[SettingsCheck] = (),
) -> Settings:
    """Validate an already-parsed TOML document; raises SettingsError listing every problem.

    Most callers want `monitor.app.configuration.parse_settings`, which adds the checks of
    the connectors and classifiers; this one validates the schema alone.
    """
    problems = inline_secrets(data) + _duplicate_names(data)
    settings: Settings | None = None
    try:
        settings = Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        problems += validation_problems(exc, data)
    for check in checks:
        problems += check(data, base_dir)
    if problems or settings is None:
        raise SettingsError(problems, path)
    return settings


def settings_path(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(SETTINGS_ENV) or DEFAULT_SETTINGS)


def read_settings_file(path: str | Path | None = None) -> tuple[dict[str, Any], Path, str]:
    """The settings file's TOML document, its folder and its name, or a SettingsError."""
    file = settings_path(path)
    if not file.is_file():
        raise SettingsError(
            [
                (
                    "",
                    "settings file not found — copy examples/settings.example.toml to "
                    "settings.toml or pass --settings PATH",
                )
            ],
            str(file),
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            [("", f"not valid TOML: {exc} — check quotes and brackets there")], str(file)
        ) from None
    except UnicodeDecodeError:
        raise SettingsError([("", "not UTF-8 text — save the file as UTF-8")], str(file)) from None
    return data, file.resolve().parent, str(file)
