"""Settings: one TOML file, validated with pydantic, secrets only from the environment.

Every problem is reported as `key: what is wrong — how to fix it`, all at once, so a user
fixing a settings file never plays whack-a-mole with one traceback at a time.
Relative paths (the SQLite file, local feed files, the outbox folder) are resolved against
the folder that holds the settings file, so `--settings examples/x/settings.toml` works from
anywhere.
"""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from monitor.core.delivery_settings import EmailSettings, RouteSettings
from monitor.core.learning_settings import LearningSettings
from monitor.core.queue_settings import QueueSettings
from monitor.core.settings_problems import hide_password
from monitor.core.settings_types import Interval, Strict, parse_interval

if TYPE_CHECKING:
    from monitor.core.env_secrets import Secrets

# A source's interval when neither the file nor its connector says (a stored source that
# is no longer configured, say).
FALLBACK_EVERY = "30m"

_WEEKLY_SLOT = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):[0-5]\d$")


class StorageSettings(Strict):
    url: str = "sqlite:///var/vigia.db"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError(
                f"unsupported database URL {hide_password(value)!r} — use "
                "sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
            )
        return value


class HttpSettings(Strict):
    allow_private_addresses: bool = False
    timeout: float = Field(20.0, gt=0, le=300)
    # A body may arrive no slower than this in total: a server dripping one byte per
    # `timeout` would otherwise hold a worker for hours without tripping any other bound.
    max_download_seconds: float = Field(120.0, gt=0, le=3600)
    max_body_bytes: int = Field(10_000_000, gt=1000)
    max_redirects: int = Field(5, ge=0, le=20)
    per_host_concurrency: int = Field(2, ge=1, le=32)
    retries: int = Field(2, ge=0, le=10)


class PipelineSettings(Strict):
    """`[pipeline]`: worker processes for parsing and classification (monitor/app/workers.py).

    `workers` defaults to the machine's CPU count; 0 or 1 keeps all work in one process.
    """

    workers: int | None = Field(None, ge=0, le=256)


class HealthSettings(Strict):
    """`[health]`: when `monitor sources` and the digest call a source failing or silent.

    `max_failures` consecutive failed runs make a source failing. A source is silent when it
    has produced no new item for longer than its own `silent_after`, else this section's
    `silent_after`, else a default derived from its interval (monitor/core/source_health.py).
    """

    max_failures: int = Field(3, ge=1, le=1000)
    silent_after: Interval | None = None


class FetchSettings(Strict):
    """`[fetch]`: how far back a source's very first run reads.

    A feed's first poll returns its whole archive (years, for some blogs) and an API's first
    page whatever it holds; without a horizon the first digest of a new brand is a history
    lesson. On a source's first run, items published before `backfill` ago are remembered as
    seen (never offered again) but not stored as mentions; `"all"` keeps everything.
    """

    backfill: str = "3d"

    @field_validator("backfill")
    @classmethod
    def _horizon(cls, value: str) -> str:
        if value.strip().lower() != "all":
            try:
                parse_interval(value)
            except ValueError:
                raise ValueError(
                    f"invalid backfill {value!r} — use an interval like \"3d\" or \"12h\", "
                    'or "all" to store everything a source gives on its first run'
                ) from None
        return value

    @property
    def horizon(self) -> timedelta | None:
        """How far back a first run stores mentions; None for "all"."""
        return None if self.backfill.strip().lower() == "all" else parse_interval(self.backfill)


class ScheduleSettings(Strict):
    timezone: str = "UTC"
    digest_at: str = "08:00"
    # The weekly report's day and time, like "mon 08:30"; empty (the default) sends none.
    weekly: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} — use an IANA name such as "
                '"Europe/Madrid", "America/Mexico_City" or "UTC"'
            ) from None
        return value

    @field_validator("digest_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f'invalid time {value!r} — use 24-hour "HH:MM", like "08:00"')
        return value

    @field_validator("weekly")
    @classmethod
    def _weekly_slot(cls, value: str) -> str:
        if value.strip() and not _WEEKLY_SLOT.match(value.strip().lower()):
            raise ValueError(
                f'invalid weekly slot {value!r} — use a day and a 24-hour time, like "mon 08:30" '
                '(mon, tue, wed, thu, fri, sat, sun), or "" for no weekly report'
            )
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekly_slot(self) -> tuple[str, time] | None:
        """("mon", 08:30) for weekly = "mon 08:30"; None when no weekly report is scheduled."""
        if not self.weekly.strip():
            return None
        day, clock = self.weekly.strip().lower().split()
        hours, minutes = clock.split(":")
        return day, time(int(hours), int(minutes))

    @property
    def digest_time(self) -> time:
        hours, minutes = self.digest_at.split(":")
        return time(int(hours), int(minutes))


class AlertSettings(Strict):
    """`[alerts]`: when a crisis alert fires and how often a storm may send updates.

    A spike fires when an hour's count reaches `spike_min_count` and exceeds the baseline's
    median by more than `spike_sensitivity` robust deviations (lower = more alerts).
    """

    enabled: bool = True
    spike_min_count: int = Field(5, ge=1)
    spike_sensitivity: float = Field(3.0, gt=0, le=50)
    spike_history_weeks: int = Field(4, ge=1, le=52)
    spike_recent_hours: int = Field(72, ge=6, le=24 * 28)
    reach_threshold: int = Field(10_000, ge=1)
    cooldown: Interval = "6h"
    update_every: Interval = "1h"

    @property
    def cooldown_delta(self) -> timedelta:
        return parse_interval(self.cooldown)

    @property
    def update_delta(self) -> timedelta:
        return parse_interval(self.update_every)


class StorySettings(Strict):
    """`[stories]`: copies of one article within `window` are one story (classifiers/stories.py).

    Longer merges a story's late copies; shorter keeps a recurring headline ("Calderix sube
    el precio de la fibra" every year) from being taken for last time's story.
    """

    window: Interval = "72h"

    @property
    def window_delta(self) -> timedelta:
        return parse_interval(self.window)


class Employee(Strict):
    name: str = Field(min_length=1)
    handles: list[str] = []


# Industry cue packs (classifiers/lexicons/industry/<pack>_*.tsv): a brand opts in with
# `industry = "telecom"`, so that a bank or a retailer is not judged with a phone company's
# complaint cues ("sin fibra", "no signal", "portabilidad"). Listed here, in the core, because
# the settings are validated before any classifier loads; tests check each has its files.
INDUSTRY_PACKS: tuple[str, ...] = ("telecom",)


class BrandSettings(Strict):
    name: str = Field(min_length=1)
    # None: the quoted brand name. An explicit "" is an error, not a silent fallback.
    query: str | None = None
    competitors: list[str] = []
    employees: list[Employee] = []
    codenames: list[str] = []
    internal_domains: list[str] = []
    contact_points: list[str] = []
    # "" (the default): general cues only; otherwise one of INDUSTRY_PACKS.
    industry: str = ""

    @field_validator("industry")
    @classmethod
    def _known_industry(cls, value: str) -> str:
        pack = value.strip().lower()
        if pack and pack not in INDUSTRY_PACKS:
            raise ValueError(
                f"unknown industry {value!r} — use one of: {', '.join(INDUSTRY_PACKS)}, or "
                "remove the key to use the general cues only"
            )
        return pack

    @field_validator("query")
    @classmethod
    def _query_not_empty(cls, value: str | None) -> str | None:
        # Its syntax is checked by the application with the matcher that will run it
        # (monitor.app.configuration.check_queries), reported with every other problem.
        if value is not None and not value.strip():
            raise ValueError(
                "the query is empty — write one, like 'Acme OR \"Acme Cloud\"', or remove "
                "the key to match the quoted brand name"
            )
        return value

    @property
    def effective_query(self) -> str:
        """The query, or the quoted brand name when none is given."""
        return self.query.strip() if self.query is not None else f'"{self.name}"'


class SourceSettings(BaseModel):
    """Common keys of a `[[sources]]` entry; the rest belongs to the connector's Options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    every: Interval | None = None
    # Strict like every other boolean: "off" or "no" must not quietly mean disabled.
    enabled: StrictBool = True
    silent_after: Interval | None = None

    @property
    def interval(self) -> timedelta:
        """How often the source is polled: its `every`, which the application fills with the
        connector's default when the file gives none (`FALLBACK_EVERY` before that)."""
        return parse_interval(self.every or FALLBACK_EVERY)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class WebSettings(Strict):
    """`[web]`: where `monitor web` listens and how it signs its session cookies.

    `base_url` is the address users open (links in escalation emails; `https://…` also makes
    the session cookie Secure). The signing key is read from the environment variable named by
    `secret_key_env`, never from this file; without it the app keeps a random key in a file
    beside the database (`web-secret`), so sessions survive a restart.
    """

    host: str = "127.0.0.1"
    port: int = Field(8080, gt=0, lt=65536)
    base_url: str = ""
    secret_key_env: str = Field("VIGIA_SECRET_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(
                f"{value!r} is not a web address — write it like \"https://vigia.example.com\""
            )
        return value.rstrip("/")


class Settings(Strict):
    storage: StorageSettings = StorageSettings()
    http: HttpSettings = HttpSettings()
    health: HealthSettings = HealthSettings()
    pipeline: PipelineSettings = PipelineSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    email: EmailSettings = EmailSettings()
    alerts: AlertSettings = AlertSettings()
    fetch: FetchSettings = FetchSettings()
    stories: StorySettings = StorySettings()
    web: WebSettings = WebSettings()
    queue: QueueSettings = QueueSettings()
    learning: LearningSettings = LearningSettings()
    routes: RouteSettings = RouteSettings()
    brands: list[BrandSettings] = Field(min_length=1)
    sources: list[SourceSettings] = []
    base_dir: Path = Path(".")


    def resolve_path(self, value: str | Path) -> Path:
        """A path from settings, relative to the settings file's folder."""
        path = Path(value).expanduser()
        # normpath, not resolve(): "../../var/demo" reads as var/demo, symlinks stay as given
        return Path(os.path.normpath(path if path.is_absolute() else self.base_dir / path))

    @property
    def database_url(self) -> str:
        """The storage URL with a relative SQLite path anchored at the settings folder."""
        url = self.storage.url
        prefix, _, rest = url.partition(":///")
        if prefix.startswith("sqlite") and rest and rest != ":memory:" and not rest.startswith("/"):
            return f"{prefix}:///{self.resolve_path(rest)}"
        return url

    @property
    def outbox_dir(self) -> Path:
        return self.resolve_path(self.email.outbox_dir)

    @property
    def secrets(self) -> Secrets:
        # pydantic-settings is imported only by the commands that need a secret.
        from monitor.core.env_secrets import Secrets

        return Secrets()

    def source(self, name: str) -> SourceSettings | None:
        return next((s for s in self.sources if s.name == name), None)
