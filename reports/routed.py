"""The routed daily emails: complaints for customer care, employee posts and policy issues for HR.

Each list gets only what it is for (`[email.recipients] complaints` / `employees`), once a
day at digest time. Periods chain like the digest's: each starts where the previous one of
its kind ended (24 hours back the first time), so nothing is missed or sent twice. A day's
`ReportRun` is written even when there is nothing to report (then no email), and it is
inserted before the email with ON CONFLICT DO NOTHING, so two workers cannot both send it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.core.models import Mention, OutboxMessage, ReportRun, Tag
from monitor.core.routes import DAILY_LISTS, has_targets
from monitor.core.settings import Settings
from monitor.core.storage import Database, insert_if_absent
from reports import alert_i18n, i18n
from reports.alert_email import AlertPost, load_posts
from reports.notice import routed_notice
from reports.notify_outbox import enqueue_for_routes
from reports.render import RenderedEmail, render_email

# Which tag families each list is for.
ROUTES = DAILY_LISTS
FIRST_PERIOD = timedelta(hours=24)
MAX_POSTS_PER_BRAND = 50


@dataclass(frozen=True)
class BrandPosts:
    name: str
    posts: list[AlertPost]
    total: int

    @property
    def not_listed(self) -> int:
        return self.total - len(self.posts)


def enqueue_routed_reports(
    db: Database, settings: Settings, *, now: datetime
) -> list[OutboxMessage]:
    """Write today's complaints and HR emails (and their chat notifications) to the outbox,
    for each route that has a target."""
    written = []
    for kind in ROUTES:
        if not has_targets(settings, kind):
            continue
        with db.transaction() as session:
            message = _send_one(session, settings, kind, now)
        if message is not None:
            written.append(message)
    return written


def _send_one(
    session: Session, settings: Settings, kind: str, now: datetime
) -> OutboxMessage | None:
    day = now.astimezone(settings.schedule.zone).date()
    previous_end = session.scalar(
        select(func.max(ReportRun.period_end)).where(ReportRun.kind == kind)
    )
    start = min(previous_end or now - FIRST_PERIOD, now)
    run_key = f"{kind}:{day}"
    run_id = insert_if_absent(
        session,
        ReportRun,
        ReportRun.run_key,
        {
            "kind": kind,
            "day": day,
            "period_start": start,
            "period_end": now,
            "run_key": run_key,
            "outbox_key": None,
            "created_at": now,
        },
    )
    if run_id is None:
        return None  # today's was already decided
    brands = collect(session, settings, kind, start, now)
    if not any(brand.total for brand in brands):
        return None
    rendered = render_routed(settings, kind, brands, start, now)
    total = sum(brand.total for brand in brands)
    message = enqueue_for_routes(
        session,
        settings,
        routes=(kind,),
        key=run_key,
        kind=kind,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        now=now,
        notice=lambda: routed_notice(settings, kind, rendered.subject, brands, total),
    )
    run = session.get(ReportRun, run_id)
    assert run is not None
    run.outbox_key = run_key if message is not None else None
    return message


def collect(
    session: Session, settings: Settings, kind: str, start: datetime, end: datetime
) -> list[BrandPosts]:
    """Per configured brand, the mentions first seen in [start, end) tagged for `kind`."""
    result = []
    for brand in settings.brands:
        rows = session.execute(
            select(Mention.id, Mention.reach)
            .join(Tag, Tag.mention_id == Mention.id)
            .where(
                Tag.brand == brand.name,
                Tag.family.in_(ROUTES[kind]),
                Mention.first_seen_at >= start,
                Mention.first_seen_at < end,
            )
            .distinct()
            .order_by(Mention.reach.desc(), Mention.id)
        ).all()
        chosen = [mention_id for mention_id, _ in rows[:MAX_POSTS_PER_BRAND]]
        posts = load_posts(session, settings, brand.name, chosen)
        result.append(BrandPosts(brand.name, [posts[i] for i in chosen if i in posts], len(rows)))
    return result


def render_routed(
    settings: Settings, kind: str, brands: list[BrandPosts], start: datetime, end: datetime
) -> RenderedEmail:
    language = settings.email.language
    zone = settings.schedule.zone
    return render_email(
        "routed",
        {
            "kind": kind,
            "brands": brands,
            "total": sum(brand.total for brand in brands),
            "brand_names": ", ".join(brand.name for brand in brands),
            "t": alert_i18n.alert_strings(language),
            "lang": language,
            "timezone": settings.schedule.timezone,
            "day_label": i18n.format_date(end.astimezone(zone), language),
            "period_start": i18n.format_datetime(start.astimezone(zone), language),
            "period_end": i18n.format_datetime(end.astimezone(zone), language),
            "num": lambda value: i18n.format_number(value, language),
            "fmt": lambda value: i18n.format_datetime(value, language),
            "reason_label": lambda reason: alert_i18n.reason_label(reason, language),
        },
    )
