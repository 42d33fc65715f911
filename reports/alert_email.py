"""Rendering a crisis alert: what fired, why (numbers and baseline), and the posts behind it.

Posts are loaded here into plain dataclasses (no ORM object reaches a template). Everything
a post contributes is masked twice over: the values a leak classifier flagged are replaced
before rendering, and the templates pass every title, text and author through the `masked`
filter (classifiers.masking.mask_text), so an alert about a leaked DNI never repeats it.
Subjects carry only numbers, the brand and labels, never post content.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from classifiers.masking import mask_value
from monitor.core.models import Mention, MentionSource
from monitor.core.settings import Settings
from reports import alert_i18n, i18n
from reports.render import RenderedEmail, render_email

SECRET_PREFIXES = ("pii:", "secret:")
HOUR = timedelta(hours=1)
MAX_FINDINGS_SHOWN = 10


@dataclass(frozen=True)
class PostLink:
    source: str
    url: str | None


@dataclass(frozen=True)
class AlertPost:
    """A post as an alert or routed email shows it; `title`/`text` already have flagged
    values replaced (templates still mask them)."""

    id: int
    title: str
    text: str
    url: str | None
    author: str | None
    published: datetime
    reach: int
    sentiment: str | None
    links: list[PostLink] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def load_posts(
    session: Session,
    settings: Settings,
    brand: str,
    mention_ids: Iterable[int],
    families: Collection[str] | None = None,
) -> dict[int, AlertPost]:
    """The mentions as AlertPosts, in one query with their sources and tags.

    `families` limits the reasons listed under each post to those tag families (a leak
    alert explains the leak, not that the same post is also a complaint).
    """
    ids = sorted(set(mention_ids))
    if not ids:
        return {}
    zone = settings.schedule.zone
    rows = session.scalars(
        select(Mention)
        .where(Mention.id.in_(ids))
        .options(
            selectinload(Mention.sources).selectinload(MentionSource.source),
            selectinload(Mention.tags),
        )
    )
    posts = {}
    for mention in rows:
        tags = [tag for tag in mention.tags if tag.brand == brand]
        flagged = {
            str(item["text"]): str(item["reason"])
            for tag in tags
            for item in tag.evidence
            if isinstance(item, dict)
            and str(item.get("reason", "")).startswith(SECRET_PREFIXES)
            and item.get("text")
        }
        links = [PostLink(ms.source.name, ms.url) for ms in mention.sources]
        posts[mention.id] = AlertPost(
            id=mention.id,
            title=hide(mention.title or "", flagged),
            text=hide(mention.text or "", flagged),
            url=mention.url or next((link.url for link in links if link.url), None),
            author=mention.author or mention.author_handle,
            published=(mention.published_at or mention.first_seen_at).astimezone(zone),
            reach=mention.reach or 0,
            sentiment=next((t.label for t in tags if t.family == "sentiment"), None),
            links=links,
            reasons=sorted(
                {
                    str(item.get("reason"))
                    for tag in tags
                    if tag.family != "sentiment" and (families is None or tag.family in families)
                    for item in tag.evidence
                    if isinstance(item, dict) and item.get("reason")
                }
            ),
        )
    return posts


def hide(text: str, flagged: Mapping[str, str]) -> str:
    """Replace each value a classifier flagged (value → evidence reason) by its masked form.

    The templates mask the whole text again with `mask_text`; this first pass covers what
    only the classifier knew (e.g. an identifier found in context), longest values first so
    a value inside another is not half-replaced.
    """
    for value in sorted(flagged, key=len, reverse=True):
        if value in text:
            text = text.replace(value, mask_value(value, flagged[value]))
    return text


def render_alert(
    session: Session,
    settings: Settings,
    *,
    rule: str,
    brand: str,
    kind: str,
    findings: Sequence[dict[str, Any]],
    started: datetime,
    sent: int,
) -> RenderedEmail:
    """The email for `findings` of `rule` about `brand`; `kind` is "alert" or "update"."""
    language = settings.email.language
    zone = settings.schedule.zone
    shown = most_important(rule, findings)
    ids = [
        mention_id
        for finding in shown
        for mention_id in finding.get("mention_ids", [finding.get("mention_id")])
        if mention_id is not None
    ]
    posts = load_posts(session, settings, brand, ids, families={"leak"} if rule == "leak" else None)
    t = alert_i18n.alert_strings(language)
    context = {
        "rule": rule,
        "kind": kind,
        "brand": brand,
        "findings": shown,
        "not_shown": len(findings) - len(shown),
        "posts": posts,
        "t": t,
        "lang": language,
        "timezone": settings.schedule.timezone,
        "started": i18n.format_datetime(started.astimezone(zone), language),
        "sent": sent,
        "every": settings.alerts.update_every,
        "num": lambda value: i18n.format_number(value, language),
        "fmt": lambda value: i18n.format_datetime(value, language),
        "hour_label": lambda iso: _hour_label(iso, zone, language),
        "hour_end": lambda iso: f"{datetime.fromisoformat(iso).astimezone(zone) + HOUR:%H:%M}",
        "reason_label": lambda reason: alert_i18n.reason_label(reason, language),
        "reasons_text": lambda reasons: ", ".join(
            alert_i18n.reason_label(r, language) for r in reasons
        ),
        "subject_line": _subject(t, rule, brand, kind, findings, language),
    }
    return render_email("alert", context)


def most_important(rule: str, findings: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_FINDINGS_SHOWN findings, biggest first for spikes and reach, so an alert
    after a backfill of old posts stays readable (the subject still counts them all)."""
    if rule == "spike":
        ordered = sorted(findings, key=lambda f: (-f["total"]["count"], f["hour"]))
    elif rule == "reach":
        ordered = sorted(findings, key=lambda f: -f["reach"])
    else:
        ordered = list(findings)
    return ordered[:MAX_FINDINGS_SHOWN]


def _hour_label(iso: str, zone: Any, language: str) -> str:
    return i18n.format_datetime(datetime.fromisoformat(iso).astimezone(zone), language)


def _subject(
    t: dict[str, str],
    rule: str,
    brand: str,
    kind: str,
    findings: Sequence[dict[str, Any]],
    language: str,
) -> str:
    prefix = t[kind]
    if rule == "spike":
        worst = max(findings, key=lambda f: f["total"]["count"])
        metric = "negative" if "negative" in worst["fired"] else "total"
        base = worst[metric]["baseline"] or {"median": 0}
        return t["spike_subject"].format(
            prefix=prefix,
            brand=brand,
            count=worst[metric]["count"],
            metric=t[metric],
            usual=i18n.format_number(base["median"], language),
        )
    if rule == "leak":
        reasons = sorted(
            {
                r
                for f in findings
                for r in f["reasons"]
                if r.startswith(("pii:", "secret", "confidential"))
            }
        )
        kinds = ", ".join(alert_i18n.reason_label(r, language) for r in reasons) or ", ".join(
            sorted({label for f in findings for label in f["labels"]})
        )
        return t["leak_subject"].format(
            prefix=prefix, brand=brand, count=len(findings), kinds=kinds
        )
    top = max(findings, key=lambda f: f["reach"])
    return t["reach_subject"].format(
        prefix=prefix, brand=brand, reach=i18n.format_number(top["reach"], language)
    )
