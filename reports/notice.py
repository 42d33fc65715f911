"""What a chat message or a webhook says, before any format: a `Notice`.

A notice is the short twin of an email: its title (the email's subject, which carries only
numbers, the brand and labels), why it fired (one sentence and the figures behind it), the top
posts, and a link into the web app when `[web] base_url` is set. Everything a post contributes
is masked here, once, with the email path's masking (`reports.render.masked`: flagged values
already replaced by `load_posts`, then every identifier and secret `mask_text` finds), so no
format downstream can forget it. Post links are kept only when they are plain http(s).
Escaping for each format is `reports.chat_format`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor.core.settings import Settings
from reports import alert_i18n, i18n
from reports.alert_email import AlertPost, load_posts, most_important
from reports.render import is_http_url, masked, one_line, truncate_text

MAX_POSTS = 3
EXCERPT = 160


@dataclass(frozen=True)
class NoticePost:
    """A post as a chat message shows it: masked, one line each, links only if http(s)."""

    id: int
    title: str
    excerpt: str
    author: str | None
    url: str | None
    source: str | None
    reach: int
    published: datetime
    link: str | None = None  # the mention in the web app


@dataclass(frozen=True)
class Notice:
    """One notification's content, whatever the channel. `figures` are JSON-safe numbers and
    labels (the webhook's `why.figures`); `summary` says them in a sentence."""

    kind: str
    route: str
    brand: str | None
    title: str
    summary: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    posts: Sequence[NoticePost] = ()
    link: str | None = None
    more: int = 0  # posts behind the message that it does not list


def mention_link(settings: Settings, mention_id: int) -> str | None:
    """The mention's page in the web app, when `[web] base_url` says where that is."""
    base = settings.web.base_url.rstrip("/")
    return f"{base}/mentions/{mention_id}" if base else None


def notice_post(settings: Settings, post: AlertPost) -> NoticePost:
    url = post.url if is_http_url(post.url) else None
    source = next((link.source for link in post.links), None)
    title = truncate_text(masked(post.title), 140) if post.title else ""
    excerpt = truncate_text(masked(post.text), EXCERPT) if post.text else ""
    return NoticePost(
        id=post.id,
        title=title,
        excerpt=excerpt if excerpt != title else "",
        author=one_line(masked(post.author)) or None,
        url=url,
        source=one_line(source) if source else None,
        reach=post.reach,
        published=post.published,
        link=mention_link(settings, post.id),
    )


def _posts(
    settings: Settings, posts: Mapping[int, AlertPost], ids: Sequence[int]
) -> list[NoticePost]:
    chosen = [posts[i] for i in dict.fromkeys(ids) if i in posts][:MAX_POSTS]
    return [notice_post(settings, post) for post in chosen]


def alert_notice(
    session: Session,
    settings: Settings,
    *,
    rule: str,
    brand: str,
    kind: str,
    findings: Sequence[dict[str, Any]],
    title: str,
) -> Notice:
    """The chat twin of `render_alert`'s email: the worst finding's why, its top posts."""
    language = settings.email.language
    t = alert_i18n.alert_strings(language)
    shown = most_important(rule, findings)
    ids = [
        mention_id
        for finding in shown
        for mention_id in finding.get("mention_ids", [finding.get("mention_id")])
        if mention_id is not None
    ]
    families = {"leak"} if rule == "leak" else None
    posts = load_posts(session, settings, brand, ids, families=families)
    summary, figures = _why(t, rule, shown, language)
    listed = _posts(settings, posts, ids)
    return Notice(
        kind=f"alert-{rule}" if kind == "alert" else f"alert-{rule}-update",
        route="alerts",
        brand=brand,
        title=one_line(title),
        summary=summary,
        figures={"rule": rule, "findings": len(findings), **figures},
        posts=listed,
        link=listed[0].link if listed else None,
        more=max(len(dict.fromkeys(ids)) - len(listed), 0),
    )


def _why(
    t: Mapping[str, str], rule: str, shown: Sequence[dict[str, Any]], language: str
) -> tuple[str, dict[str, Any]]:
    worst = shown[0]
    num = lambda value: i18n.format_number(value, language)  # noqa: E731
    if rule == "spike":
        metric = "negative" if "negative" in worst["fired"] else "total"
        base = worst[metric]["baseline"] or {}
        figures = {
            "metric": metric,
            "count": worst[metric]["count"],
            "hour": worst["hour"],
            "baseline_median": base.get("median"),
            "baseline_spread": base.get("spread"),
            "threshold": base.get("threshold"),
            "min_count": worst["min_count"],
        }
        summary = t["spike_why"].format(
            count=worst[metric]["count"], metric=t[metric], median=num(base.get("median", 0)),
            spread=num(base.get("spread", 0)), score=num(base.get("score", 0)),
            min_count=worst["min_count"], threshold=num(base.get("threshold", 0)),
            sensitivity=num(worst["sensitivity"]),
        )
        return summary, figures
    if rule == "leak":
        reasons = sorted({r for f in shown for r in f["reasons"]})
        kinds = ", ".join(alert_i18n.reason_label(r, language) for r in reasons)
        return t["leak_why"].format(kinds=kinds), {"reasons": reasons}
    summary = t["reach_why"].format(reach=num(worst["reach"]), threshold=num(worst["threshold"]))
    return summary, {"reach": worst["reach"], "threshold": worst["threshold"]}


def routed_notice(
    settings: Settings, kind: str, title: str, brands: Sequence[Any], total: int
) -> Notice:
    """The complaints or HR day in a few lines: how many per brand, the top posts."""
    t = alert_i18n.alert_strings(settings.email.language)
    names = ", ".join(brand.name for brand in brands if brand.total)
    posts = [notice_post(settings, p) for brand in brands for p in brand.posts][:MAX_POSTS]
    return Notice(
        kind=kind,
        route=kind,
        brand=names if len([b for b in brands if b.total]) == 1 else None,
        title=one_line(title),
        summary=one_line(t[f"{kind}_intro"].format(brands=names)),
        figures={"total": total, "per_brand": {b.name: b.total for b in brands if b.total}},
        posts=posts,
        link=settings.web.base_url or None,
        more=max(total - len(posts), 0),
    )


def escalation_notice(
    settings: Settings, *, post: AlertPost, brand: str, route: str, title: str,
    escalated_by: str, note: str | None,
) -> Notice:
    """One escalated post: who escalated it and their note (masked: reviewers paste too)."""
    listed = notice_post(settings, post)
    note_text = truncate_text(masked(note), 300) if note else ""
    summary = one_line(masked(escalated_by)) + (f": {note_text}" if note_text else "")
    return Notice(
        kind="escalation",
        route=route,
        brand=brand,
        title=one_line(title),
        summary=summary,
        figures={"escalated_by": one_line(masked(escalated_by))},
        posts=[listed],
        link=listed.link,
    )


def report_notice(settings: Settings, *, kind: str, route: str, title: str,
                  brand: str | None = None, figures: Mapping[str, Any] | None = None) -> Notice:
    """A long report (the digest, the weekly) in one line: its title says the numbers; the
    full report is in the email and, with `[web] base_url`, in the web app."""
    return Notice(
        kind=kind, route=route, brand=brand, title=one_line(title), summary="",
        figures=dict(figures or {}), link=settings.web.base_url or None,
    )
