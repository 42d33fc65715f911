"""What every `monitor` command shares: the consoles, the settings context, the database.

Kept apart from the commands so that command modules (`monitor.cli.main`, `monitor.cli.emails`)
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console

from monitor.app.configuration import load_settings
from monitor.core.errors import VigiaError
from monitor.core.settings import Settings

console = Console(soft_wrap=True)
errors = Console(stderr=True)

#: Plain click help for every command group. Typer's Rich help panels print a boolean flag
#: as `--once <bool>`, as if it took a value; click's own help prints `--once`.
HELP_MODE = None


@dataclass
class Context:
    settings_file: Path

    def settings(self) -> Settings:
        return load_settings(self.settings_file)


def context_of(ctx: typer.Context) -> Context:
    return ctx.obj  # type: ignore[no-any-return]


def open_db(settings: Settings):  # type: ignore[no-untyped-def]
    from monitor.core.storage import open_database

    return open_database(settings.database_url)


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise VigiaError(
            f"--since {value!r}: use a date like 2026-11-20 or 2026-11-20T08:00"
        ) from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise VigiaError(f"--date {value!r}: use YYYY-MM-DD, like 2026-11-20") from None
