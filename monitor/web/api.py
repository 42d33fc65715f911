"""The JSON API, mounted at /api/v1 by `monitor.web.app.create_app`.

It reads through the same functions as the pages and the command line (monitor.core.inbox,
monitor.app.dashboard, monitor.app.alert_log) and writes through the same review store, via
`monitor.web.actions.act`, so a page and the API answer one mistake with the same status and
message. Role rules are applied by those functions (the filter of `to_filter`, the hidden
families passed down), never here: a mention a role may not see is absent from lists and
exports and is a 404 by id, exactly as on the pages.

Authentication is `monitor.web.auth.api_user`: a Bearer token (`monitor users token NAME`),
or the browser's session for GET (the inbox's export links) and, with its X-CSRF-Token
header, for POST. Errors are JSON `{"detail": ...}`; a filter, search or cursor that cannot
be read is a 400 saying why, never a 500.

No interactive docs: Swagger UI loads its scripts from a CDN, which the Content-Security-
Policy forbids. The OpenAPI document is at /api/v1/openapi.json.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Security
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBearer
from pydantic import BeforeValidator

from monitor.app.alert_log import AlertItem, recent_alerts
from monitor.app.dashboard import BUCKETS, brand_stats, find_brand, source_health_rows
from monitor.app.review import history
from monitor.core import access
from monitor.core.inbox import MAX_ID, InvalidCursor, InvalidFilter, get_mention, inbox_page
from monitor.core.search import SearchSyntaxError
from monitor.web.actions import act
from monitor.web.api_models import (
    ActionIn,
    BrandStatsOut,
    ErrorOut,
    MentionDetail,
    MentionOut,
    MentionPage,
    SourceOut,
    history_json,
    mention_json,
)
from monitor.web.auth import ApiUser
from monitor.web.context import Context
from monitor.web.exports import FORMATS, export_response
from monitor.web.filters import FIRST_DAY, LAST_DAY, MAX_LIMIT, InboxQuery, to_filter

#: What a reader's filter, search or page cursor can get wrong (a 400 with the message).
QUERY_ERRORS = (InvalidCursor, InvalidFilter, SearchSyntaxError)
STATS_DAYS = 30
EARLIEST = datetime.combine(FIRST_DAY, time(), tzinfo=UTC)
LATEST = datetime.combine(LAST_DAY + timedelta(days=1), time(), tzinfo=UTC)

# Declared for the OpenAPI document only; `api_user` reads the header itself.
_bearer = HTTPBearer(auto_error=False, description="an API token: monitor users token NAME")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no valid token or session"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such mention, or one the role may not see"},
}
BAD_QUERY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "a search, filter or cursor that cannot be read"},
}
router = APIRouter(dependencies=[Security(_bearer)], responses=ERRORS)

MentionId = Annotated[int, Path(ge=1, le=MAX_ID, description="the mention's id")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of a page")]


def _day_or_moment(value: Any) -> Any:
    """YYYY-MM-DD is a day; anything longer a datetime (pydantic alone would read a bare
    date as a datetime, or a midnight datetime as a date)."""
    if isinstance(value, str) and len(value.strip()) == len("YYYY-MM-DD"):
        return date.fromisoformat(value.strip())
    return value


Moment = Annotated[datetime | date, BeforeValidator(_day_or_moment)]


def create_api() -> FastAPI:
    """The API application; `create_app` sets its `state.vigia` and mounts it."""
    api = FastAPI(
        title="Vigía API",
        version="1",
        description=__doc__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    for error in QUERY_ERRORS:
        api.add_exception_handler(error, _bad_query)
    api.include_router(router)
    return api


async def _bad_query(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=400)


# --------------------------------------------------------------------------- mentions


@router.get("/mentions", response_model=MentionPage, responses=BAD_QUERY)
def list_mentions(
    user: ApiUser,
    context: Context,
    query: Annotated[InboxQuery, Query()],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The inbox, newest first, filtered; keyset-paged: pass `next_cursor` back as `cursor`."""
    with context.db.reading() as session:
        page = inbox_page(session, to_filter(query, user, context), limit=limit, cursor=cursor)
    return {"items": [mention_json(item) for item in page.items],
            "next_cursor": page.next_cursor}


def _export_route(kind: str) -> None:
    media_type = FORMATS[kind][0].split(";")[0]

    def export(user: ApiUser, context: Context,
               query: Annotated[InboxQuery, Query()]) -> StreamingResponse:
        return export_response(context, to_filter(query, user, context), kind)

    export.__doc__ = (f"Every mention of the filtered inbox as {kind.upper()} (no limit), "
                      "streamed, identifiers masked.")
    router.add_api_route(
        f"/mentions.{kind}", export, methods=["GET"], name=f"export_{kind}",
        response_class=StreamingResponse,
        responses={200: {"content": {media_type: {"schema": {"type": "string"}}},
                         "description": "an attachment"}, **BAD_QUERY},
    )


# Before /mentions/{id}: the exports' paths must be matched as themselves.
for _kind in FORMATS:
    _export_route(_kind)


@router.get("/mentions/{mention_id}", response_model=MentionDetail, responses=NOT_FOUND)
def mention_detail(user: ApiUser, context: Context, mention_id: MentionId) -> dict[str, Any]:
    """One mention with its review history (oldest first)."""
    with context.db.reading() as session:
        item = get_mention(session, mention_id, access.hidden_families(user.role))
        if item is None:
            raise HTTPException(404, "no such mention")
        actions = [history_json(action) for action in history(session, mention_id)]
    return {**mention_json(item), "history": actions}


@router.post(
    "/mentions/{mention_id}/actions", response_model=MentionOut,
    responses={**NOT_FOUND, 403: {"model": ErrorOut, "description": "a read-only role"},
               422: {"description": "an unknown action or a bad value (detail says which)"}},
)
def mention_action(
    user: ApiUser, context: Context, mention_id: MentionId, body: ActionIn
) -> dict[str, Any]:
    """Apply one review action; the answer is the mention as it is now."""
    value = body.value
    if not isinstance(value, str | None):
        value = value.model_dump(exclude_none=True)
    item = act(context, user, mention_id, body.action, brand=body.brand, value=value)
    return mention_json(item)


# --------------------------------------------------------------------------- dashboards


def _moment(value: date | datetime, zone: tzinfo, *, end: bool) -> datetime:
    """A date is a whole day of the dashboard's time zone (`until`: inclusive); a datetime
    without an offset is in that zone too."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
    else:
        moment = datetime.combine(value, time(), tzinfo=zone) + timedelta(days=int(end))
    if not EARLIEST <= moment <= LATEST:
        raise HTTPException(422, f"dates from {FIRST_DAY} to {LAST_DAY} only")
    return moment


@router.get(
    "/brands/{name}/stats", response_model=BrandStatsOut,
    responses={404: {"model": ErrorOut, "description": "not a configured brand"},
               422: {"description": "a bad period (detail says why)"}},
)
def stats(
    user: ApiUser,
    context: Context,
    name: Annotated[str, Path(max_length=200)],
    since: Annotated[Moment | None, Query(description="a day or a time; default: 30 days ago")]
    = None,
    until: Annotated[Moment | None, Query(description="a day (inclusive) or a time; default: now")]
    = None,
    bucket: Annotated[Literal[BUCKETS], Query()] = "day",  # type: ignore[valid-type]
) -> dict[str, Any]:
    """A brand's dashboard: volume by sentiment per bucket, share of voice, top sources and
    authors, alerts and source health (buckets in the settings' time zone)."""
    try:
        find_brand(context.settings, name)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None
    zone = context.settings.schedule.zone
    end = _moment(until, zone, end=True) if until else datetime.now(UTC)
    start = _moment(since, zone, end=False) if since else end - timedelta(days=STATS_DAYS)
    with context.db.reading() as session:
        try:
            result = brand_stats(
                session, context.settings, name, since=start, until=end, bucket=bucket,
                hidden_families=access.hidden_families(user.role),
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    return result.as_dict()


@router.get("/sources", response_model=list[SourceOut])
def sources(user: ApiUser, context: Context) -> list[dict[str, Any]]:
    """Every source's health, as `monitor sources --json` gives it."""
    with context.db.reading() as session:
        return [row.as_dict() for row in source_health_rows(session, context.settings)]


@router.get("/alerts", response_model=list[AlertItem])
def alerts(
    user: ApiUser,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    brand: Annotated[str | None, Query(max_length=200)] = None,
) -> list[dict[str, Any]]:
    """The newest alert emails (what fired, why, whether sent), leak alerts only for the
    roles that may see leaks."""
    with context.db.reading() as session:
        rows = recent_alerts(session, hidden_families=access.hidden_families(user.role),
                             limit=limit, brand=brand)
    return [row.as_dict() for row in rows]
