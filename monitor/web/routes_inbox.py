"""The inbox (`/`): the newest mentions first, filtered, searched, paged by keyset.

Rows are reviewed in place: each action posts with htmx and gets back the row, re-rendered
(no reload, and the keyboard selection stays). Bulk actions post the selected ids as a plain
form, so they work without JavaScript too. New mentions are announced by polling
`/inbox/new` every 30 s, which answers with a count of those newer than the page's first row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor.app.users import UserInfo
from monitor.core import access
from monitor.core.errors import VigiaError
from monitor.core.inbox import encode_cursor, inbox_page, newer_than
from monitor.core.inbox_items import InboxPage
from monitor.core.queries import list_sources
from monitor.web.actions import ACTION_ERRORS, act, store
from monitor.web.auth import ActingUser, PageUser
from monitor.web.context import Context, WebContext
from monitor.web.filters import InboxQuery, to_filter
from monitor.web.security import require_csrf
from monitor.web.templating import page_context

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
TAG_CHOICES = (
    "complaint", "pii", "secret", "confidential", "employee", "insult", "discrimination",
    "sexual", "crude", "political_religious", "competitor_disparagement",
)
BULK_LIMIT = 500
#: The actions a row (and a selection) offers; the others need a value: the mention page.
ROW_ACTIONS = ("reviewed", "false_positive", "escalate")


def _page(context: WebContext, query: InboxQuery, user: UserInfo, cursor: str | None) -> InboxPage:
    with context.db.reading() as session:
        return inbox_page(
            session, to_filter(query, user, context), limit=PAGE_SIZE, cursor=cursor
        )


def _visible_tags(user: UserInfo) -> list[str]:
    hidden = access.hidden_families(user.role)
    restricted = {"pii": "leak", "secret": "leak", "confidential": "leak", "employee": "employee"}
    return [t for t in TAG_CHOICES if restricted.get(t) not in hidden]


@router.get("/", response_class=HTMLResponse)
def inbox(
    request: Request,
    user: PageUser,
    context: Context,
    query: Annotated[InboxQuery, Query()],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    error = None
    try:
        page = _page(context, query, user, cursor)
    except VigiaError as exc:  # a search the parser cannot read, a stale cursor
        error, page = str(exc), InboxPage(items=[], next_cursor=None)
    with context.db.reading() as session:
        sources = [s.name for s in list_sources(session)]
    filters = query.active()
    top = _top_cursor(page) if cursor is None else ""
    return context.templates.TemplateResponse(
        request,
        "inbox.html",
        page_context(
            request, user, active="inbox", page=page, query=query, filters=filters,
            filter_query=urlencode(filters),
            more_query=_more_query(query, page),
            new_query=urlencode({**filters, "after": top}) if top else "", error=error,
            flash=request.query_params.get("done"),
            brands=context.brand_names, competitors=context.competitor_names, sources=sources,
            tags=_visible_tags(user), statuses=access.REVIEW_STATUSES,
        ),
    )


@router.get("/inbox/rows", response_class=HTMLResponse)
def more_rows(
    request: Request,
    user: PageUser,
    context: Context,
    query: Annotated[InboxQuery, Query()],
    cursor: Annotated[str, Query(max_length=200)],
) -> Response:
    try:
        page = _page(context, query, user, cursor)
    except VigiaError as exc:  # an edited or stale cursor
        raise HTTPException(400, str(exc)) from exc
    return context.templates.TemplateResponse(
        request, "_rows.html",
        page_context(request, user, page=page, more_query=_more_query(query, page)),
    )


def _more_query(query: InboxQuery, page: InboxPage) -> str:
    """The query string of the "Older mentions" link: the filters and the next cursor."""
    return urlencode({**query.active(), "cursor": page.next_cursor or ""})


def _top_cursor(page: InboxPage) -> str:
    """The key new mentions are newer than: the first row's, or now for an empty page."""
    if page.items:
        return encode_cursor(page.items[0].first_seen_at, page.items[0].id)
    return encode_cursor(datetime.now(UTC), 0)


@router.get("/inbox/new", response_class=HTMLResponse)
def new_mentions(
    request: Request,
    user: PageUser,
    context: Context,
    query: Annotated[InboxQuery, Query()],
    after: Annotated[str, Query(max_length=200)],
) -> Response:
    """The rows that arrived since the page (or the last poll) was drawn, for the top of the
    list, and the poller again with the new top row's key (an out-of-band swap)."""
    try:
        with context.db.reading() as session:
            items, more = newer_than(
                session, to_filter(query, user, context), after, limit=PAGE_SIZE
            )
    except VigiaError:  # a damaged key: stop polling rather than fail every 30 s
        return HTMLResponse("")
    top = encode_cursor(items[0].first_seen_at, items[0].id) if items else after
    return context.templates.TemplateResponse(
        request, "_new.html",
        page_context(request, user, items=items, more=more,
                     filter_query=urlencode(query.active()),
                     new_query=urlencode({**query.active(), "after": top})),
    )


@router.post("/mentions/{mention_id}/act", dependencies=[Depends(require_csrf)])
def act_on_row(
    request: Request,
    user: ActingUser,
    context: Context,
    mention_id: int,
    action: Annotated[str, Form(max_length=30)],
) -> Response:
    mention = act(context, user, mention_id, action)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/mentions/{mention_id}", status_code=303)
    return context.templates.TemplateResponse(
        request, "_row.html", page_context(request, user, mention=mention)
    )


@router.post("/mentions/bulk", dependencies=[Depends(require_csrf)])
def bulk(
    ids: Annotated[list[int], Form(max_length=BULK_LIMIT)],
    user: ActingUser,
    context: Context,
    action: Annotated[str, Form(max_length=30)],
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if action not in ROW_ACTIONS:
        raise HTTPException(422, f"a selection can be marked {', '.join(ROW_ACTIONS)}")
    done = 0
    for mention_id in dict.fromkeys(ids):
        try:
            store(context, user, mention_id, action)
            done += 1
        except ACTION_ERRORS:
            continue  # gone or hidden meanwhile: the others still count
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    separator = "&" if "?" in target else "?"
    label = action.replace("_", " ")
    return RedirectResponse(
        f"{target}{separator}{urlencode({'done': f'{done} marked {label}'})}", status_code=303
    )
