"""Review actions from the pages: one call into the application's review store, errors mapped
to HTTP answers once for every page route (the API maps the same errors the same way)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException

from monitor.app.review import (
    ActionOutcome,
    Forbidden,
    InvalidAction,
    NotFound,
    apply_action,
)
from monitor.app.users import UserInfo
from monitor.core import access
from monitor.core.inbox import get_mention
from monitor.core.inbox_items import InboxItem
from monitor.web.context import WebContext

ACTION_ERRORS = (Forbidden, InvalidAction, NotFound)


def http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, Forbidden):
        return HTTPException(403, str(exc))
    if isinstance(exc, NotFound):
        return HTTPException(404, "no such mention")
    return HTTPException(422, str(exc))


def store(
    context: WebContext,
    user: UserInfo,
    mention_id: int,
    action: str,
    *,
    brand: str | None = None,
    value: Any = None,
) -> ActionOutcome:
    """Apply one action in its own transaction; raises the review errors (ACTION_ERRORS)."""
    with context.db.transaction() as session:
        return apply_action(
            session, context.settings, mention_id, user, action,
            brand=brand, value=value, now=datetime.now(UTC),
        )


def act(
    context: WebContext, user: UserInfo, mention_id: int, action: str, **change: Any
) -> InboxItem:
    """`store` (`change`: its brand and value), and the mention as it is now (for the
    re-rendered row, or the API's answer), with the review errors as HTTP answers."""
    try:
        store(context, user, mention_id, action, **change)
    except ACTION_ERRORS as exc:
        raise http_error(exc) from exc
    with context.db.reading() as session:
        mention = get_mention(session, mention_id, access.hidden_families(user.role))
    if mention is None:
        raise HTTPException(404, "no such mention")
    return mention
