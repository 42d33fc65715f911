"""Signing in, sessions, CSRF, the login throttle and the security headers of every page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from monitor.core.models import User
from tests.users_support import cheap_passwords  # noqa: F401  (fixture)
from tests.web_support import PASSWORD, csrf_of, signed_in, web_world

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def world(db, make_settings, monkeypatch):  # type: ignore[no-untyped-def]
    app, ids = web_world(db, make_settings, monkeypatch)
    return app, ids, db


def anonymous(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def login(client: TestClient, name: str, password: str, token: str | None = None):  # type: ignore[no-untyped-def]
    if token is None:
        token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def test_pages_send_a_visitor_to_the_login_form_and_back(world) -> None:
    app, _, _ = world
    client = anonymous(app)
    assert client.get("/").headers["location"] == "/login"
    answer = client.get("/?status=new")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/%3Fstatus%3Dnew"
    form = client.get(answer.headers["location"]).text
    assert 'name="next" value="/?status=new"' in form
    answer = client.post(
        "/login", data={"name": "carlos", "password": PASSWORD, "csrf_token": csrf_of(form),
                        "next": "/?status=new"})
    assert answer.status_code == 303 and answer.headers["location"] == "/?status=new"


def test_an_htmx_request_without_a_session_is_redirected_by_header(world) -> None:
    app, _, _ = world
    answer = anonymous(app).get("/inbox/new", headers={"HX-Request": "true"})
    assert answer.status_code == 401 and answer.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_the_site(world, target: str) -> None:
    app, _, _ = world
    client = anonymous(app)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": "carlos", "password": PASSWORD,
                                         "csrf_token": token, "next": target})
    assert answer.headers["location"] == "/"


def test_a_wrong_password_says_so_without_telling_which_part(world) -> None:
    app, _, _ = world
    client = anonymous(app)
    wrong_password = login(client, "carlos", "not the password")
    no_such_user = login(client, "nobody", "not the password")
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert "Wrong name or password." in wrong_password.text
    assert "Wrong name or password." in no_such_user.text
    assert client.get("/").headers["location"] == "/login"  # still signed out


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(world) -> None:
    app, _, _ = world
    answer = login(anonymous(app), "carlos", PASSWORD)
    cookie = answer.headers["set-cookie"].lower()
    assert "vigia_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


def test_login_starts_a_fresh_session_with_a_new_csrf_token(world) -> None:
    app, _, _ = world
    client = anonymous(app)
    before = csrf_of(client.get("/login").text)
    assert login(client, "carlos", PASSWORD, before).status_code == 303
    after = csrf_of(client.get("/").text)
    assert after != before


def test_a_form_without_its_csrf_token_is_refused(world) -> None:
    app, _, _ = world
    client = anonymous(app)
    client.get("/login")
    refused = client.post("/login", data={"name": "carlos", "password": PASSWORD})
    assert refused.status_code == 403
    forged = client.post(
        "/login", data={"name": "carlos", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    signed = signed_in(app, "carlos")
    assert signed.post("/logout").status_code == 403  # no token: still signed in
    assert signed.get("/").status_code == 200


def test_logout_ends_the_session(world) -> None:
    app, _, _ = world
    client = signed_in(app, "carlos")
    answer = client.post("/logout", data={"csrf_token": client.csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/").headers["location"] == "/login"


def test_failed_logins_are_throttled_even_with_the_right_password_then(world) -> None:
    app, _, _ = world
    client = anonymous(app)
    for _ in range(5):
        assert login(client, "carlos", "guess").status_code == 401
    blocked = login(client, "carlos", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.text
    # another name is not blocked by carlos's limit (5 failures are under the address's 10)
    assert login(anonymous(app), "ana", PASSWORD).status_code == 303


def test_failed_logins_from_one_address_are_throttled_whatever_the_names(world) -> None:
    app, _, _ = world
    client = anonymous(app)
    for n in range(10):
        assert login(client, f"guess{n}", "guess").status_code == 401
    assert login(client, "ana", PASSWORD).status_code == 429


def test_a_removed_user_is_signed_out_at_once(world) -> None:
    app, _, db = world
    client = signed_in(app, "carlos")
    with db.transaction() as session:
        session.execute(delete(User).where(User.name == "carlos"))
    assert client.get("/").headers["location"] == "/login"


def test_every_answer_carries_the_security_headers(world) -> None:
    app, _, _ = world
    client = signed_in(app, "carlos")
    for answer in (client.get("/"), client.get("/login"), client.get("/no-such-page")):
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
    static = client.get("/static/htmx.min.js")
    assert static.status_code == 200 and "max-age" in static.headers["cache-control"]
