"""The daily digest: which period to cover, rendering it, and writing it to the outbox.

A day's digest is sent once: its `DigestRun` and its outbox message (key `digest:<day>`)
are written in one transaction, so a crash leaves either both or neither, and a rerun on
the same day finds the run and does nothing. Periods chain: each digest starts where the
previous one ended (or 24 hours back for the very first), so a late or missed digest never
loses mentions and none is counted twice. `force` re-sends a day's digest for the same
period as that day's original, under a new key (`digest:<day>:resend-<n>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.core.models import DigestRun, OutboxMessage
from monitor.core.settings import Settings
from monitor.core.storage import Database
from reports import i18n
from reports.digest_data import DigestData, collect_digest
from reports.notice import report_notice
from reports.notify_outbox import enqueue_for_routes
from reports.render import RenderedEmail, render_email

FIRST_PERIOD = timedelta(hours=24)


@dataclass(frozen=True)
class DigestPlan:
    day: date
    period_start: datetime
    period_end: datetime
    key: str
    forced: bool


def plan_digest(
    session: Session, settings: Settings, *, now: datetime, day: date | None, force: bool
) -> DigestPlan | None:
    """The period and outbox key of `day`'s digest, or None when it was already sent."""
    day = day or now.astimezone(settings.schedule.zone).date()
    original = session.scalars(
        select(DigestRun).where(DigestRun.day == day, DigestRun.forced.is_(False)).limit(1)
    ).first()
    if original is not None:
        if not force:
            return None
        resends = (
            session.scalar(
                select(func.count())
                .select_from(DigestRun)
                .where(DigestRun.day == day, DigestRun.forced.is_(True))
            )
            or 0
        )
        return DigestPlan(
            day,
            original.period_start,
            original.period_end,
            f"digest:{day}:resend-{resends + 1}",
            True,
        )
    previous_end = session.scalar(
        select(func.max(DigestRun.period_end)).where(DigestRun.forced.is_(False))
    )
    start = previous_end if previous_end is not None else now - FIRST_PERIOD
    return DigestPlan(day, min(start, now), now, f"digest:{day}", False)


def digest_context(settings: Settings, data: DigestData, day: date) -> dict[str, Any]:
    """What digest.html/.txt receive: the data, the label table and two formatting helpers."""
    language = settings.email.language
    return {
        "data": data,
        "lang": language,
        "t": i18n.strings(language),
        "day_label": i18n.format_date(datetime(day.year, day.month, day.day), language),
        "brand_names": ", ".join(brand.name for brand in data.brands),
        "fmt": lambda value: i18n.format_datetime(value, language),
        "tag_label": lambda label: i18n.tag_label(label, language),
    }


def _render(session: Session, settings: Settings, plan: DigestPlan) -> RenderedEmail:
    data = collect_digest(session, settings, plan.period_start, plan.period_end)
    return render_email("digest", digest_context(settings, data, plan.day))


@dataclass(frozen=True)
class DigestOutcome:
    """What writing a day's digest did: `written` (with its message), `already` (that day's
    digest exists and was not forced) or `empty` (no mention and no source problem in the
    period: nothing goes to the list and nothing is recorded, so the next digest, even later
    the same day, covers this period too)."""

    status: Literal["written", "already", "empty"]
    message: OutboxMessage | None = None
    period_start: datetime | None = None


def write_daily_digest(
    db: Database, settings: Settings, *, now: datetime, day: date | None = None, force: bool = False
) -> DigestOutcome:
    """Write `day`'s digest (default: today in the configured zone) to the outbox.

    Delivery is `outbox.deliver_pending`'s job. A period with nothing to say sends nothing
    (an empty email to a list teaches its readers to ignore the next one) and is not
    recorded: a user who fixes a source and runs again the same day gets that day's digest.
    """
    with db.transaction() as session:
        plan = plan_digest(session, settings, now=now, day=day, force=force)
        if plan is None:
            return DigestOutcome("already")
        data = collect_digest(session, settings, plan.period_start, plan.period_end)
        if not data.total and not data.source_problems:
            return DigestOutcome("empty", period_start=plan.period_start)
        rendered = render_email("digest", digest_context(settings, data, plan.day))
        message = enqueue_for_routes(
            session,
            settings,
            routes=("digest",),
            key=plan.key,
            kind="digest",
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            now=now,
            notice=lambda: report_notice(
                settings, kind="digest", route="digest", title=rendered.subject,
                figures={
                    "mentions": data.total, "negative": data.negative,
                    "day": plan.day.isoformat(),
                },
            ),
        )
        if message is None:
            return DigestOutcome("already")
        session.add(
            DigestRun(
                day=plan.day,
                period_start=plan.period_start,
                period_end=plan.period_end,
                forced=plan.forced,
                outbox_key=plan.key,
                created_at=now,
            )
        )
        return DigestOutcome("written", message, plan.period_start)


def preview_digest(
    db: Database, settings: Settings, *, now: datetime, day: date | None = None
) -> RenderedEmail:
    """Render what `write_daily_digest` would send (or did send, for a day already done).

    Nothing is written: the session is only read from and then rolled back.
    """
    with db.reading() as session:
        plan = plan_digest(session, settings, now=now, day=day, force=True)
        assert plan is not None  # force=True always plans
        return _render(session, settings, plan)
