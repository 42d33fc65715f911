"""The web app in tests: an app over the review seed, and a browser-like signed-in client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from monitor.app import users
from monitor.core.settings import Settings
from monitor.core.storage import Database
from monitor.web.app import create_app
from tests.review_support import ADMIN, COMMS, HR, SECURITY, VIEWER, review_settings, seed

PASSWORD = "a long test password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_world(
    db: Database, make_settings: Callable[..., Settings], monkeypatch: Any
) -> tuple[FastAPI, dict[str, int]]:
    """The app over the review seed; every seeded user's password is PASSWORD."""
    monkeypatch.setenv("VIGIA_SECRET_KEY", "k" * 40)
    settings = review_settings(make_settings)
    ids = seed(db)
    for person in (ADMIN, COMMS, SECURITY, HR, VIEWER):
        users.set_password(db, person.name, PASSWORD)
    return create_app(settings, db), ids


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in(app: FastAPI, name: str, password: str = PASSWORD) -> TestClient:
    """A client holding the session cookie of `name`; `client.csrf` is its form token."""
    # https, as the seed's base_url promises: the session cookie is Secure there.
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    client.csrf = csrf_of(client.get("/").text)  # type: ignore[attr-defined]
    return client
