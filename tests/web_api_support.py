"""The JSON API's test world: the review seed (tests/review_support.py), one API token per
role, and a TestClient on `create_app` (the API mounted at /api/v1, as in production)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.app import users
from monitor.app.users import new_token, set_password
from monitor.core.settings import Settings
from monitor.core.storage import Database
from monitor.web.app import create_app
from tests.review_support import ADMIN, COMMS, HR, SECURITY, VIEWER, review_settings, seed
from tests.users_support import CHEAP

ROLES = {p.role: p.name for p in (ADMIN, COMMS, SECURITY, HR, VIEWER)}
PASSWORD = "correct horse battery staple"


@dataclass
class ApiWorld:
    client: TestClient
    db: Database
    settings: Settings
    ids: dict[str, int]
    tokens: dict[str, str]  # role → token

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.auth(role), **kwargs)

    def post(self, path: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.auth(role), **kwargs)

    def listed(self, role: str = "admin", **params: Any) -> list[int]:
        """Every id the listing gives `role`, walking next_cursor to the end."""
        ids: list[int] = []
        cursor = None
        while True:
            answer = self.get("/mentions", role, params={**params, **(
                {"cursor": cursor} if cursor else {})})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            ids += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return ids


def sign_in(client: TestClient, name: str) -> str:
    """Sign `name` in through the login form; the session's CSRF token (read off a page)."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = client.post("/login", data={"name": name, "password": PASSWORD,
                                         "csrf_token": token.group(1)},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get("/")
    header = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert header, page.text
    return header.group(1)


@pytest.fixture(name="world")
def world_fixture(
    make_settings: Callable[..., Settings],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ApiWorld]:
    monkeypatch.setattr(users, "HASHER", CHEAP)  # as tests.users_support.cheap_passwords
    settings = review_settings(make_settings)
    monkeypatch.setenv(settings.web.secret_key_env, "s" * 43)
    ids = seed(db)
    tokens = {role: new_token(db, name) for role, name in ROLES.items()}
    for name in ROLES.values():
        set_password(db, name, PASSWORD)
    # https: the session cookie is Secure (the settings' base_url is https).
    with TestClient(create_app(settings, db), base_url="https://testserver") as client:
        yield ApiWorld(client, db, settings, ids, tokens)
