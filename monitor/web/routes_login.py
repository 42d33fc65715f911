"""Signing in and out.

The login form is CSRF-protected like every form (a forged login would sign a victim into an
attacker's account). A successful login starts a fresh session (no fixation: the old cookie's
values, CSRF token included, are dropped). Failures are rate-limited (monitor.web.throttle);
the answer never says whether the name exists.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from monitor.app.users import authenticate
from monitor.web.auth import SESSION_USER, session_user
from monitor.web.context import Context, WebContext
from monitor.web.security import require_csrf
from monitor.web.templating import page_context

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _form(request: Request, context: WebContext, status: int = 200, **values: object) -> Response:
    return context.templates.TemplateResponse(
        request,
        "login.html",
        page_context(request, None, next=safe_next(request.query_params.get("next")), **values),
        status_code=status,
    )


@router.get("/login")
def login_form(request: Request, context: Context) -> Response:
    if session_user(request, context) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _form(request, context)


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(
    request: Request,
    context: Context,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    address = request.client.host if request.client else "?"
    wait = context.throttle.retry_after(address, name)
    if wait:
        return _form(
            request, context, 429, error="Too many failed logins: try again later.", name=name,
            retry_after=wait,
        )
    user = authenticate(context.db, name, password)
    if user is None:
        context.throttle.failed(address, name)
        return _form(request, context, 401, error="Wrong name or password.", name=name)
    context.throttle.succeeded(name)
    request.session.clear()
    request.session[SESSION_USER] = user.id
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
