"""A `Notice` written for one channel: Markdown escaped for where it is going, or webhook JSON.

Vigía writes CommonMark and declares it (`body_format=markdown`), so that each Apprise plugin
turns it into its service's own markup: Slack `mrkdwn`, Telegram Markdown, Matrix HTML. Post
content is hostile, and what makes it inert depends on the converter downstream, so each
dialect has its escaper:

- `slack`: `\\ [ ] < >` are backslash-escaped, and Apprise's CommonMark-to-mrkdwn converter
  writes them (and `&`) as `[`, `]`, `&lt;`, `&gt;`, `&amp;`, so a post can neither ping
  `<!channel>` nor forge a `<url|link>`. Emphasis characters are left alone: Slack shows a
  backslash literally, and a masked `4821****N` must read as the email's;
- `commonmark` (Telegram, and any other plugin that converts CommonMark): every character
  that starts markup (`\\ * _ ~ ` [ ] < > # !`) is backslash-escaped;
- `html-markdown` (Matrix, which renders Markdown to HTML with Python-Markdown, where raw HTML
  passes through): `& < >` become entities first, then the Markdown specials are escaped;
- `teams` (Teams Workflows: the Markdown goes as is into an Adaptive Card TextBlock, and
  `<at>…</at>` would become a mention): entities for `& < >` and backslashes for `\\ [ ]`,
  so neither a mention nor a link can come from a post;
- `text` (every other service): plain text, declared as such; Apprise escapes it for its
  service.

Links are Vigía's own (the post's http(s) URL, the web app), written `[label](url)` with any
parenthesis in the URL percent-encoded. The webhook body (`json://`, `jsons://`) is documented
in docs/webhooks.md, versioned by `schema_version`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reports.notice import Notice, NoticePost
from reports.render import is_http_url

SCHEMA_VERSION = 1
MARKDOWN, TEXT = "markdown", "text"

DIALECTS: dict[str, str] = {
    "slack": "slack",
    "tgram": "commonmark",
    "telegram": "commonmark",
    "matrix": "html-markdown",
    "matrixs": "html-markdown",
    "workflow": "teams",
    "workflows": "teams",
    "json": "webhook",
    "jsons": "webhook",
}

_SLACK_SPECIALS = re.compile(r"([\\\[\]<>])")
_COMMONMARK_SPECIALS = re.compile(r"([\\`*_~\[\]<>#!])")
_TEAMS_SPECIALS = re.compile(r"([\\\[\]])")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_~\[\]|#!])")


def dialect(channel: str) -> str:
    return DIALECTS.get(channel, "text")


def escape_slack(text: str) -> str:
    return _SLACK_SPECIALS.sub(r"\\\1", text)


def escape_commonmark(text: str) -> str:
    return _COMMONMARK_SPECIALS.sub(r"\\\1", text)


def escape_html_markdown(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def escape_teams(text: str) -> str:
    return _TEAMS_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def _plain(text: str) -> str:
    return text


ESCAPERS: dict[str, Callable[[str], str]] = {
    "slack": escape_slack,
    "commonmark": escape_commonmark,
    "html-markdown": escape_html_markdown,
    "teams": escape_teams,
    "webhook": _plain,
    "text": _plain,
}


@dataclass(frozen=True)
class ChatMessage:
    """What the notifier hands Apprise: fixed when the outbox row is written."""

    title: str
    body: str
    body_format: str  # "markdown" or "text"
    webhook: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "body_format": self.body_format,
            "webhook": self.webhook,
        }


def render_message(notice: Notice, channel: str, *, key: str, created: datetime) -> ChatMessage:
    """The notice for `channel` (an Apprise scheme)."""
    kind = dialect(channel)
    escape = ESCAPERS[kind]
    markdown = kind not in ("text", "webhook")
    lines: list[str] = []
    if notice.summary:
        lines.append(escape(notice.summary))
    for post in notice.posts:
        lines.append(_post_line(post, escape, markdown))
    if notice.more:
        lines.append(escape(f"… +{notice.more}"))
    if notice.link and is_http_url(notice.link):
        lines.append(_link("Vigía", notice.link, escape) if markdown else notice.link)
    title = notice.title
    body = "\n\n".join(lines) or escape(title)
    webhook = webhook_body(notice, key=key, created=created) if kind == "webhook" else None
    return ChatMessage(title, body, MARKDOWN if markdown else TEXT, webhook)


def _post_line(post: NoticePost, escape: Callable[[str], str], markdown: bool) -> str:
    label = post.title or post.excerpt or f"#{post.id}"
    if markdown:
        head = _link(label, post.url, escape) if post.url else escape(label)
        head = f"• {head}"
    else:
        head = f"• {label}" + (f" <{post.url}>" if post.url else "")
    details = [part for part in (post.source, post.author, f"reach {post.reach}") if part]
    line = head + " — " + escape(" · ".join(details))
    if post.title and post.excerpt:
        line += "\n  " + escape(post.excerpt)
    if post.link and is_http_url(post.link):
        line += "  " + (_link("open in Vigía", post.link, escape) if markdown else post.link)
    return line


def _link(label: str, url: str | None, escape: Callable[[str], str]) -> str:
    if not url or not is_http_url(url):
        return escape(label)
    safe_url = url.replace("(", "%28").replace(")", "%29")
    return f"[{escape(label)}]({safe_url})"


def webhook_body(notice: Notice, *, key: str, created: datetime) -> dict[str, Any]:
    """The versioned JSON a generic webhook receives (docs/webhooks.md): `id` is the same on
    every retry of one notification, so a receiver can drop a duplicate."""
    return {
        "schema_version": SCHEMA_VERSION,
        "id": key,
        "kind": notice.kind,
        "route": notice.route,
        "brand": notice.brand,
        "title": notice.title,
        "created_at": created.isoformat(),
        "why": {"summary": notice.summary, "figures": dict(notice.figures)},
        "posts": [
            {
                "id": post.id,
                "title": post.title,
                "excerpt": post.excerpt,
                "author": post.author,
                "url": post.url,
                "source": post.source,
                "reach": post.reach,
                "published_at": post.published.isoformat(),
                "link": post.link,
            }
            for post in notice.posts
        ],
        "more": notice.more,
        "link": notice.link if notice.link and is_http_url(notice.link) else None,
    }
