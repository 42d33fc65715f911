"""The per-brand dashboard (`/brands/{name}`, `/dashboard` picks the first brand) and the
sources page (`/sources`).

Figures come from monitor.app.dashboard (the weekly report's queries, so page, email and
alerts agree) for the reader's role, and the charts are PNG data: URIs drawn on the server
(monitor.app.dashboard_charts): no script, and the CSP allows `img-src data:`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor.app.dashboard import DAY, HOUR, brand_stats, find_brand, source_health_rows
from monitor.app.dashboard_charts import dashboard_charts
from monitor.core import access
from monitor.web.auth import PageUser
from monitor.web.context import Context
from monitor.web.templating import page_context

router = APIRouter(include_in_schema=False)
PERIODS = (1, 7, 30, 90)
DEFAULT_DAYS = 30
#: Periods this short are drawn by the hour unless the reader asks otherwise.
HOURLY_UP_TO_DAYS = 2


@router.get("/dashboard")
def dashboard(
    request: Request,
    user: PageUser,
    context: Context,
    brand: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The first configured brand's dashboard, or the one the picker chose (the picker is a
    plain GET form, so it works without script), keeping the period asked for."""
    if not context.brand_names:
        raise HTTPException(404, "no brand is configured (add one to settings.toml)")
    name = brand if brand in context.brand_names else context.brand_names[0]
    kept = {k: v for k, v in request.query_params.items() if k in ("days", "bucket") and v}
    query = f"?{urlencode(kept)}" if kept else ""
    return RedirectResponse(f"/brands/{quote(name, safe='')}{query}", status_code=303)


@router.get("/brands/{name}", response_class=HTMLResponse)
def brand_dashboard(
    request: Request,
    user: PageUser,
    context: Context,
    name: str,
    days: Annotated[int, Query(ge=1, le=93)] = DEFAULT_DAYS,
    bucket: Annotated[Literal["hour", "day"] | None, Query()] = None,
) -> Response:
    try:
        find_brand(context.settings, name)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from exc
    until = datetime.now(UTC)
    chosen = bucket or (HOUR if days <= HOURLY_UP_TO_DAYS else DAY)
    try:
        with context.db.reading() as session:
            stats = brand_stats(
                session, context.settings, name, since=until - timedelta(days=days),
                until=until, bucket=chosen, hidden_families=access.hidden_families(user.role),
                now=until,
            )
    except ValueError as exc:  # too many buckets (hours over a long period)
        raise HTTPException(422, str(exc)) from exc
    return context.templates.TemplateResponse(
        request,
        "dashboard.html",
        page_context(
            request, user, active="dashboard", stats=stats, charts=dashboard_charts(stats),
            brands=context.brand_names, days=days, periods=PERIODS, bucket=chosen,
        ),
    )


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, user: PageUser, context: Context) -> Response:
    with context.db.reading() as session:
        rows = source_health_rows(session, context.settings)
    return context.templates.TemplateResponse(
        request, "sources.html", page_context(request, user, active="sources", sources=rows)
    )
