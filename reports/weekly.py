"""The weekly reputation report: which week, rendering it with charts, saving and sending it.

One report per brand and ISO week. Sending writes it to the outbox under the key
`weekly:<brand>:<YYYY-Www>`, so a week's report is sent once however often the job or the
command runs (the unique key makes a second enqueue a no-op, even from another worker). Each
report is also saved as a standalone HTML page (charts embedded as data: URIs) next to the
outbox, `var/reports/weekly-<brand>-<week>.html` by default, for the team's archive.

In the email the charts are PNG parts of a multipart/related message, shown by
`src="cid:…"`; the standalone page is the very same HTML with those sources swapped for data:
URIs, so the page and the email can never show different numbers.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.core.models import OutboxMessage
from monitor.core.settings import BrandSettings, Settings
from monitor.core.storage import Database
from reports import charts, i18n
from reports.notice import report_notice
from reports.notify_outbox import enqueue_for_routes
from reports.render import RenderedEmail, render_email
from reports.weekly_data import WeeklyData, collect_weekly

log = logging.getLogger(__name__)

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)
CHART_IDS = {
    "volume": "volume-chart@vigia",
    "sentiment": "sentiment-chart@vigia",
    "share": "share-chart@vigia",
}


@dataclass(frozen=True)
class Week:
    """An ISO week in the configured zone: `label` like "2025-W47", `start` its Monday 00:00."""

    label: str
    start: datetime


@dataclass(frozen=True)
class WeeklyReport:
    brand: str
    week: Week
    email: RenderedEmail
    images: dict[str, bytes]  # Content-ID → PNG
    #: No mention of the brand this week nor the week before: nothing to tell management.
    empty: bool = False

    @property
    def standalone_html(self) -> str:
        """The email's HTML with every `cid:` chart swapped for a data: URI."""
        html = self.email.html
        for content_id, png in self.images.items():
            data_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            html = html.replace(f'src="cid:{content_id}"', f'src="{data_uri}"')
        return html

    @property
    def key(self) -> str:
        return f"weekly:{self.brand}:{self.week.label}"


def parse_week(value: str, settings: Settings) -> Week:
    """ "2025-W47" (ISO week) or any day "2025-11-19" (its week) → the week in the zone."""
    text = value.strip()
    match = _ISO_WEEK.match(text)
    try:
        if match:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        else:
            day = date.fromisoformat(text)
            monday = day - timedelta(days=day.weekday())
    except ValueError:
        raise ValueError(
            f"--week {value!r}: use an ISO week like 2025-W47, or a day like 2025-11-19 "
            "(its week is used)"
        ) from None
    return _week_of(monday, settings)


def last_complete_week(settings: Settings, now: datetime) -> Week:
    """The most recent Monday-to-Sunday week that has fully ended at `now`, in the zone."""
    today = now.astimezone(settings.schedule.zone).date()
    return _week_of(today - timedelta(days=today.weekday() + 7), settings)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def slot_passed_this_week(settings: Settings, now: datetime) -> bool:
    """True when this week's `[schedule] weekly` slot is already behind `now`.

    The scheduler keeps its jobs in memory, so a service (re)started after Monday 08:30 would
    otherwise wait a whole week; it catches up at once instead (sending is once per week and
    brand, so a report already sent is not sent again).
    """
    slot = settings.schedule.weekly_slot
    if slot is None:
        return False
    weekday, at = slot
    local = now.astimezone(settings.schedule.zone)
    day = local.date() - timedelta(days=local.weekday() - _WEEKDAYS.index(weekday))
    due = datetime.combine(day, at, tzinfo=settings.schedule.zone)
    return local >= due


def _week_of(monday: date, settings: Settings) -> Week:
    year, week, _ = monday.isocalendar()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=settings.schedule.zone)
    return Week(f"{year}-W{week:02d}", start)


def weekly_context(settings: Settings, data: WeeklyData) -> dict[str, Any]:
    """What weekly.html/.txt receive: the data, labels, formatting helpers and chart sources."""
    language = settings.email.language
    return {
        "data": data,
        "lang": language,
        "t": i18n.strings(language),
        "charts": {name: f"cid:{content_id}" for name, content_id in CHART_IDS.items()},
        "fmt": lambda value: i18n.format_datetime(value, language),
        "fmt_date": lambda value: i18n.format_date(value, language),
        "fmt_day": lambda value: i18n.format_weekday(value, language),
        "tag_label": lambda label: i18n.tag_label(label, language),
    }


def render_charts(settings: Settings, data: WeeklyData) -> dict[str, bytes]:
    """The report's PNG charts by Content-ID (the share chart only with competitors)."""
    language = settings.email.language
    t = i18n.strings(language)
    labels = [i18n.format_weekday(point.day, language).replace(" ", "\n") for point in data.days]
    legend = [t["negative"], t["neutral"], t["positive"], t["unrated"]]
    images = {
        CHART_IDS["volume"]: charts.volume_chart(data.days, labels, legend),
        CHART_IDS["sentiment"]: charts.sentiment_chart(data.days, labels),
    }
    if data.has_competitors:
        images[CHART_IDS["share"]] = charts.share_chart(data.share_of_voice)
    return images


def build_weekly(
    session: Session, settings: Settings, brand: BrandSettings, week: Week
) -> WeeklyReport:
    """Collect, chart and render one brand's report (nothing is written)."""
    data = collect_weekly(session, settings, brand, week.label, week.start)
    email = render_email("weekly", weekly_context(settings, data))
    empty = not data.totals.counts.total and not data.previous.counts.total
    return WeeklyReport(brand.name, week, email, render_charts(settings, data), empty)


def _brands(settings: Settings, brand: str | None) -> list[BrandSettings]:
    if brand is None:
        return list(settings.brands)
    chosen = [b for b in settings.brands if b.name == brand]
    if not chosen:
        names = ", ".join(b.name for b in settings.brands)
        raise ValueError(f"--brand {brand!r} is not a configured brand — use one of: {names}")
    return chosen


def preview_weekly(
    db: Database, settings: Settings, *, week: Week, brand: str | None = None
) -> list[WeeklyReport]:
    """Every brand's report for `week` (or just `brand`'s), nothing written to the database."""
    with db.reading() as session:
        return [build_weekly(session, settings, b, week) for b in _brands(settings, brand)]


def report_path(settings: Settings, report: WeeklyReport) -> Path:
    """Where a sent report's standalone page is archived: beside the outbox folder."""
    slug = re.sub(r"[^a-z0-9]+", "-", report.brand.lower()).strip("-") or "brand"
    return settings.outbox_dir.parent / "reports" / f"weekly-{slug}-{report.week.label}.html"


def save_standalone(report: WeeklyReport, path: Path) -> Path:
    """Write the report as one self-contained HTML file (charts embedded); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(report.standalone_html, encoding="utf-8")
    partial.replace(path)  # atomic: a reader never sees half a report
    return path


@dataclass
class WeeklySend:
    """What `enqueue_weekly_reports` did: the messages written now, and the brands whose week
    was empty (nothing sent, nothing recorded: a later mention can still make it a report)."""

    written: list[OutboxMessage]
    empty: list[str]


def enqueue_weekly_reports(
    db: Database, settings: Settings, *, now: datetime, week: Week | None = None
) -> WeeklySend:
    """Write each brand's report for `week` (default: the last complete one) to the outbox.

    A brand whose report for that week is already in the outbox is skipped without rendering;
    one with no mention that week nor the week before is not sent (a service's first start
    used to mail leadership an empty report). Delivery is `outbox.deliver_pending`'s job.
    """
    week = week or last_complete_week(settings, now)
    result = WeeklySend([], [])
    for brand in settings.brands:
        key = f"weekly:{brand.name}:{week.label}"
        # Built from a read-only snapshot, then written in a short transaction: building over
        # a busy week takes seconds, during which the sources' runs must not wait. The outbox
        # key stays the guard against a second copy if two processes race.
        with db.reading() as session:
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
                log.debug("weekly report %s already in the outbox", key)
                continue
            report = build_weekly(session, settings, brand, week)
        if report.empty:
            log.info("weekly report %s: no mentions, not sent", key)
            result.empty.append(brand.name)
            continue
        with db.transaction() as session:
            message = enqueue_for_routes(
                session,
                settings,
                routes=("weekly",),
                key=report.key,
                kind="weekly",
                subject=report.email.subject,
                html=report.email.html,
                text=report.email.text,
                now=now,
                images=report.images,
                notice=lambda report=report: report_notice(
                    settings, kind="weekly", route="weekly", title=report.email.subject,
                    brand=report.brand, figures={"week": report.week.label},
                ),
            )
        if message is not None:
            result.written.append(message)
            try:
                save_standalone(report, report_path(settings, report))
            except OSError as exc:  # the email is what matters; the archive copy can be redone
                log.warning("weekly report %s sent, but not archived: %s", report.key, exc)
    return result
