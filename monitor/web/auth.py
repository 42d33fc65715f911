"""Who is asking: the signed-in user of a page, or the owner of an API token.

A page request is signed in by the session cookie (signed with itsdangerous by Starlette's
SessionMiddleware), which holds only the user's id; the user is read again on every request,
so a removed user or a changed role takes effect at once, not when the cookie expires.
An API request brings `Authorization: Bearer <token>`; for convenience a signed-in browser
may also GET the API (the inbox's export links), but any other method needs the token, or
the session with its CSRF header.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from monitor.app.users import UserInfo, user_by_id, user_for_token
from monitor.core import access
from monitor.web.context import Context, WebContext
from monitor.web.security import CSRF_FIELD, CSRF_HEADER

SESSION_USER = "uid"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def session_user(request: Request, context: WebContext) -> UserInfo | None:
    user_id = request.session.get(SESSION_USER)
    return user_by_id(context.db, user_id) if isinstance(user_id, int) else None


def page_user(request: Request, context: Context) -> UserInfo:
    """Dependency of every page: the signed-in user, or a redirect to the login form."""
    user = session_user(request, context)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return user


def acting_user(user: Annotated[UserInfo, Depends(page_user)]) -> UserInfo:
    """Dependency of review actions: a read-only role gets 403."""
    if not access.may_act(user.role):
        raise HTTPException(403, f"the {user.role} role may read but not review")
    return user


def api_user(request: Request, context: Context) -> UserInfo:
    """Dependency of every API route: 401 without valid credentials."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = user_for_token(context.db, token.strip())
        if user is not None:
            return user
        raise _unauthorized("the API token is not valid (create one: monitor users token NAME)")
    user = session_user(request, context)
    if user is not None and (request.method in SAFE_METHODS or _csrf_header_ok(request)):
        return user
    raise _unauthorized("send Authorization: Bearer TOKEN (create one: monitor users token NAME)")


def _csrf_header_ok(request: Request) -> bool:
    expected, given = request.session.get(CSRF_FIELD), request.headers.get(CSRF_HEADER)
    return bool(expected and given and hmac.compare_digest(str(given), str(expected)))


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="vigia"'})


PageUser = Annotated[UserInfo, Depends(page_user)]
ActingUser = Annotated[UserInfo, Depends(acting_user)]
ApiUser = Annotated[UserInfo, Depends(api_user)]
