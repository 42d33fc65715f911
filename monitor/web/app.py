"""`create_app`: the ASGI application behind `monitor web`.

Two FastAPI applications share one process: the pages (server-rendered, signed in by
cookie, left out of any schema) and the JSON API mounted at /api/v1 (Bearer tokens, with its
OpenAPI document at /api/v1/openapi.json). Both read through the same query functions as the
command line and write through the same store; the role rules of monitor.core.access apply
to both.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from monitor.app.web_secret import secret_key
from monitor.core.settings import Settings
from monitor.core.storage import Database
from monitor.web import routes_dashboard, routes_inbox, routes_login, routes_mention
from monitor.web.api import create_api
from monitor.web.auth import LoginRequired, session_user
from monitor.web.context import WebContext
from monitor.web.security import SecurityHeaders
from monitor.web.templating import TEMPLATES, make_templates, page_context

STATIC = TEMPLATES.with_name("static")
SESSION_DAYS = 14


def create_app(settings: Settings, db: Database) -> FastAPI:
    context = WebContext(settings=settings, db=db, templates=make_templates())
    app = FastAPI(title="Vigía", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.vigia = context
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (routes_login, routes_inbox, routes_mention, routes_dashboard):
        app.include_router(module.router)
    api = create_api()
    api.state.vigia = context
    app.mount("/api/v1", api)
    # The middleware added last is the outermost: the security headers wrap every answer
    # (errors included), the session cookie inside them.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie="vigia_session",
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=settings.web.base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeaders)
    return app


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.headers.get("hx-request"):
        # A partial (a polled count, a row) is no place to land: back to the page it was on.
        current = urlsplit(request.headers.get("hx-current-url", "/"))
        back = current.path + (f"?{current.query}" if current.query else "")
        return Response(status_code=401, headers={"HX-Redirect": _login_url(back)})
    return RedirectResponse(_login_url(exc.next_path), status_code=303)


def _login_url(next_path: str) -> str:
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='/')}"


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if "text/html" not in request.headers.get("accept", "") or request.headers.get("hx-request"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    context: WebContext = request.app.state.vigia
    user = session_user(request, context)
    return context.templates.TemplateResponse(
        request,
        "error.html",
        page_context(request, user, status=exc.status_code, message=exc.detail),
        status_code=exc.status_code,
        headers=headers,
    )
