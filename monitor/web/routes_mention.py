"""One mention (`/mentions/{id}`): its text with the evidence highlighted, its tags, outlets,
review state and history, and the review forms.

Every form is a plain POST (with the CSRF token) answered by a 303 back to the page with a
flash message, so the page works without JavaScript. One route takes every review action:
the form names the action and its value, and `monitor.web.actions.act` (the same call as the
inbox rows) checks the role rules and records it.

"Reveal identifiers" is an audited unmasked view for the revealer roles: the POST records
the audit row first and then answers with the page rendered once unmasked (still escaped),
never cached (the security middleware sends no-store on every page) and never redirected, so
the raw text is not reachable again by reloading a URL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from monitor.app.review import TAG_FAMILIES, history, record_reveal
from monitor.app.users import UserInfo, list_users
from monitor.core import access
from monitor.core.inbox import SENTIMENTS, get_mention
from monitor.core.inbox_items import InboxItem
from monitor.core.models import OutboxMessage
from monitor.web.actions import ACTION_ERRORS, act, http_error
from monitor.web.auth import ActingUser, PageUser
from monitor.web.context import Context, WebContext
from monitor.web.highlight import evidence_spans, highlight, tag_reasons
from monitor.web.security import require_csrf
from monitor.web.templating import page_context
from reports.escalation import outbox_key
from reports.render import masked

router = APIRouter(include_in_schema=False)
FLASH = {
    "reviewed": "Marked reviewed.",
    "false_positive": "Marked false positive (not about the brand).",
    "escalate": "Escalated.",
    "assign": "Assignment saved.",
    "sentiment": "Sentiment corrected.",
    "tag": "Tag added.",
    "untag": "Tag removed.",
    "note": "Note added.",
}
FIELD = Annotated[str, Form(max_length=2000)]


@router.get("/mentions/{mention_id}", response_class=HTMLResponse)
def mention_page(request: Request, user: PageUser, context: Context, mention_id: int) -> Response:
    return _render(request, context, user, mention_id, reveal=False)


@router.post("/mentions/{mention_id}/reveal", dependencies=[Depends(require_csrf)])
def reveal(request: Request, user: PageUser, context: Context, mention_id: int) -> Response:
    try:
        with context.db.transaction() as session:
            record_reveal(session, mention_id, user, "text", datetime.now(UTC))
    except ACTION_ERRORS as exc:
        raise http_error(exc) from exc
    return _render(request, context, user, mention_id, reveal=True)


@router.post("/mentions/{mention_id}/review", dependencies=[Depends(require_csrf)])
def review(
    user: ActingUser,
    context: Context,
    mention_id: int,
    action: Annotated[str, Form(max_length=30)],
    brand: FIELD = "",
    note: FIELD = "",
    assignee: FIELD = "",
    sentiment: FIELD = "",
    tag: FIELD = "",
) -> Response:
    """Every review form posts here; `tag` is "family:label" (add or remove)."""
    if action not in FLASH:
        raise HTTPException(422, f"action {action!r} — use one of: {', '.join(FLASH)}")
    value = _value(action, note=note, assignee=assignee, sentiment=sentiment, tag=tag)
    act(context, user, mention_id, action, brand=brand or None, value=value)
    query = urlencode({"done": FLASH[action]})
    return RedirectResponse(f"/mentions/{mention_id}?{query}", status_code=303)


def _value(action: str, *, note: str, assignee: str, sentiment: str, tag: str) -> Any:
    """The form's fields as the value `apply_action` takes for `action` (it validates)."""
    if action in ("escalate", "note"):
        return note.strip() or None
    if action == "assign":
        return assignee or None
    if action == "sentiment":
        return sentiment
    if action in ("tag", "untag"):
        family, _, label = tag.partition(":")
        return {"family": family, "label": label}
    return None


def _render(
    request: Request, context: WebContext, user: UserInfo, mention_id: int, *, reveal: bool
) -> Response:
    with context.db.reading() as session:
        mention = get_mention(session, mention_id, access.hidden_families(user.role))
        if mention is None:
            raise HTTPException(404, "no such mention")
        actions = [_history_row(row) for row in history(session, mention_id)]
        emailed = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.key == outbox_key(mention_id))
        ) is not None
    show = (lambda value: "" if value is None else str(value)) if reveal else masked
    values = {
        "mention": mention,
        "post": highlight(mention.title, mention.text, evidence_spans(mention.tags),
                          reveal=reveal),
        "tags": tag_reasons(mention.title, mention.text, mention.tags, reveal=reveal),
        "show": show,
        "revealed": reveal,
        "history": actions,
        "escalation_emailed": emailed,
        "flash": request.query_params.get("done"),
        "tag_choices": _tag_choices(user),
        "sentiments": SENTIMENTS,
        "users": [u.name for u in list_users(context.db)] if access.may_act(user.role) else [],
        "acts_on": _brands_acted_on(context, mention),
    }
    return context.templates.TemplateResponse(
        request, "mention.html", page_context(request, user, active="inbox", **values)
    )


def _tag_choices(user: UserInfo) -> list[tuple[str, list[str]]]:
    """Families a reviewer may add, among those the role may see: a tag that hid the mention
    from its own reviewer would make the page answer 404 right after the action."""
    return [
        (family, list(labels)) for family, labels in TAG_FAMILIES.items()
        if access.may_see(user.role, {family})
    ]


def _brands_acted_on(context: WebContext, mention: InboxItem) -> list[str]:
    """The mention's brands, configured ones first (the default brand of an action)."""
    configured = set(context.brand_names)
    return sorted(mention.brands, key=lambda name: name not in configured)


def _history_row(row: Any) -> dict[str, Any]:
    """An Action row for the page: who, what, when, and its detail masked (notes are typed
    by people and may quote the post)."""
    detail = [(key, masked(_plain(value))) for key, value in (row.detail or {}).items()
              if value is not None and value != ""]
    return {"who": row.user_name, "what": row.action.replace("_", " "), "when": row.created_at,
            "brand": row.brand, "detail": detail}


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items() if k not in ("start", "end"))
    return str(value)
