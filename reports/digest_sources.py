"""The digest's "sources with problems" section: source health as the digest shows it.

A team that reads only the digest must learn there that a source stopped working, so every
failing or silent source (and any with a warning) is listed with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.core.settings import Settings
from monitor.core.source_health import SILENT, problems, source_health


@dataclass(frozen=True)
class SourceProblem:
    name: str
    kind: str
    failures: int
    error: str | None
    warning: str | None
    last_success: datetime | None
    #: the source health verdict ("failing", "silent", or "ok" with a warning) and why;
    #: a silent source's reason is also put in `warning` so that every template shows it.
    status: str = "failing"
    reason: str = ""



def source_problems(session: Session, settings: Settings, now: datetime) -> list[SourceProblem]:
    """Failing and silent sources (and any with a warning), as source health judges them.

    Stored sources no longer in the settings are judged too (with default thresholds): a
    source removed while failing is still worth one last mention.
    """
    zone = settings.schedule.zone
    found = problems(source_health(session, settings, now, include_unconfigured=True))
    return [
        SourceProblem(
            name=health.name,
            kind=health.kind,
            failures=health.failures,
            error=health.last_error if health.failures > 0 else None,
            warning="; ".join(
                w
                for w in (health.reason if health.status == SILENT else None, health.last_warning)
                if w
            )
            or None,
            last_success=health.last_success_at.astimezone(zone)
            if health.last_success_at
            else None,
            status=health.status,
            reason=health.reason,
        )
        for health in found
    ]
