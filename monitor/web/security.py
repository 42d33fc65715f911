"""Security headers on every response, and the CSRF check of every form.

Post content is hostile (DESIGN.md): templates escape it, and the Content-Security-Policy is
the second wall: scripts only from our own static files (no inline script, no eval), no
framing (clickjacking of the review buttons), no external connections. Pages carrying
personal data are never cached by a browser or a proxy.

CSRF: the session holds a random token; every form carries it in a hidden field and every
htmx request in the `X-CSRF-Token` header (set once on <body>). A state-changing request
signed in by cookie without the matching token is refused with 403. API calls with a Bearer
token need none: a browser never adds that header by itself.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
NO_STORE = (b"cache-control", b"no-store")
STATIC_CACHE = (b"cache-control", b"public, max-age=3600")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering, so streamed exports stay streamed)."""

    def __init__(self, app: ASGIApp, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(self.static_prefix)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                headers += HEADERS
                headers.append(STATIC_CACHE if static else NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


async def require_csrf(request: Request) -> None:
    """FastAPI dependency for every state-changing page route."""
    expected = request.session.get(CSRF_FIELD)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "The form's security token is missing or stale: reload the page")
