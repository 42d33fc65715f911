"""The JSON API at /api/v1 on both databases: who may call it, what each role sees, the
review actions, keyset pages, filters and the errors a reader can cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.core.inbox import encode_cursor
from monitor.core.models import Source
from tests.digest_support import add_mention
from tests.review_support import COMMS
from tests.web_api_support import ApiWorld, sign_in, world_fixture  # noqa: F401  (world)

#: role → the seeded mentions it sees (tests/review_support.py: leak has a DNI, staff is an
#: employee's post; both matched a competitor first)
VISIBLE = {
    "admin": {"plain", "negative", "leak", "staff", "both"},
    "comms": {"plain", "negative", "both"},
    "security": {"plain", "negative", "leak", "both"},
    "hr": {"plain", "negative", "staff", "both"},
    "viewer": {"plain", "negative", "both"},
}
ENDPOINTS = [
    ("GET", "/mentions"), ("GET", "/mentions.csv"), ("GET", "/mentions.jsonl"),
    ("GET", "/mentions/1"), ("POST", "/mentions/1/actions"),
    ("GET", "/brands/Calderix/stats"), ("GET", "/sources"), ("GET", "/alerts"),
]


def names(world: ApiWorld, ids: list[int]) -> set[str]:
    by_id = {v: k for k, v in world.ids.items()}
    return {by_id[i] for i in ids}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer vigia_not-a-real-token", "Basic YW5hOng="])
def test_every_endpoint_needs_credentials(
    world: ApiWorld, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    answer = world.client.request(method, f"/api/v1{path}", headers=headers,
                                  json={"action": "reviewed"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "token" in answer.json()["detail"]


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_lists_and_opens_only_what_it_may_see(world: ApiWorld, role: str) -> None:
    assert names(world, world.listed(role)) == VISIBLE[role]
    for name, mention_id in world.ids.items():
        answer = world.get(f"/mentions/{mention_id}", role)
        if name in VISIBLE[role]:
            assert answer.status_code == 200 and answer.json()["id"] == mention_id
        else:
            assert answer.status_code == 404
            assert answer.json() == {"detail": "no such mention"}


def test_a_hidden_mention_is_found_by_no_search(world: ApiWorld) -> None:
    assert names(world, world.listed("security", q="invoice")) == {"leak"}
    assert world.listed("comms", q="invoice") == []
    assert world.listed("comms", tag="pii") == []
    assert names(world, world.listed("hr", q="engineer")) == {"staff"}
    assert world.listed("security", q="engineer") == []


def test_items_are_masked_and_carry_review_state_tags_and_sources(world: ApiWorld) -> None:
    body = world.get(f"/mentions/{world.ids['leak']}", "security").json()
    assert "48215763N" not in str(body)
    assert "DNI 4821" in body["text"]
    (leak,) = [t for t in body["tags"] if t["family"] == "leak"]
    assert leak["label"] == "pii" and leak["score"] == pytest.approx(0.97)
    assert "48215763N" not in leak["evidence"][0]["text"]
    assert body["sources"] == ["Foro Hogar"] and body["urls"] == ["https://foro.example/3"]
    assert body["review_status"] == "new" and body["assigned_to"] is None
    assert body["history"] == []


def test_an_action_answers_the_updated_mention_and_lands_in_its_history(
    world: ApiWorld,
) -> None:
    mention = world.ids["negative"]
    answer = world.post(f"/mentions/{mention}/actions", "comms", json={"action": "escalate",
                                                                      "value": "call them"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["review_status"] == "escalated"
    answer = world.post(f"/mentions/{mention}/actions", "comms",
                        json={"action": "assign", "value": COMMS.name})
    assert answer.json()["assigned_to"] == COMMS.name
    answer = world.post(f"/mentions/{mention}/actions", "comms",
                        json={"action": "tag", "value": {"family": "policy", "label": "crude"}})
    assert ("policy", "crude") in {(t["family"], t["label"]) for t in answer.json()["tags"]}
    history = world.get(f"/mentions/{mention}", "viewer").json()["history"]
    assert [(h["user"], h["action"]) for h in history] == [
        (COMMS.name, "escalate"), (COMMS.name, "assign"), (COMMS.name, "tag")]
    assert history[0]["detail"]["note"] == "call them"
    assert history[1]["detail"] == {"from": None, "to": COMMS.name}
    assert world.listed("admin", status="escalated", assigned=COMMS.name) == [mention]


def test_a_viewer_reads_but_may_not_act(world: ApiWorld) -> None:
    answer = world.post(f"/mentions/{world.ids['plain']}/actions", "viewer",
                        json={"action": "reviewed"})
    assert answer.status_code == 403
    assert "viewer" in answer.json()["detail"]
    assert world.get(f"/mentions/{world.ids['plain']}", "viewer").json()["history"] == []


def test_acting_on_a_hidden_mention_is_a_404_not_a_403(world: ApiWorld) -> None:
    answer = world.post(f"/mentions/{world.ids['leak']}/actions", "comms",
                        json={"action": "reviewed"})
    assert answer.status_code == 404
    assert world.get(f"/mentions/{world.ids['leak']}", "admin").json()["history"] == []


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"action": "approve"}, 422, "action"),
    ({"action": "sentiment", "value": "furious"}, 422, "sentiment"),
    ({"action": "tag", "value": {"family": "gossip"}}, 422, "family"),
    ({"action": "assign", "value": "nobody"}, 422, "nobody"),
    ({"action": "reviewed", "brand": "Acme"}, 422, "brand"),
    ({"action": "note"}, 422, "note"),
    ({"action": "note", "value": "x" * 5000}, 422, "value"),
])
def test_a_bad_action_is_a_422_saying_what_is_wrong(
    world: ApiWorld, body: dict[str, object], status: int, says: str
) -> None:
    answer = world.post(f"/mentions/{world.ids['plain']}/actions", "comms", json=body)
    assert answer.status_code == status, answer.text
    assert says in str(answer.json()["detail"])


def test_a_cookie_signed_post_needs_the_csrf_header(world: ApiWorld) -> None:
    csrf = sign_in(world.client, COMMS.name)
    path = f"/api/v1/mentions/{world.ids['plain']}/actions"
    assert world.client.get("/api/v1/mentions").status_code == 200  # GET by cookie is fine
    refused = world.client.post(path, json={"action": "reviewed"})
    assert refused.status_code == 401
    forged = world.client.post(path, json={"action": "reviewed"},
                               headers={"X-CSRF-Token": "guessed"})
    assert forged.status_code == 401
    done = world.client.post(path, json={"action": "reviewed"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["review_status"] == "reviewed"


@pytest.fixture
def many(world: ApiWorld) -> ApiWorld:
    """40 more mentions, two per minute (ties broken by id), every fifth a leak."""
    with world.db.transaction() as session:
        source = session.scalars(select(Source)).one()
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for n in range(40):
            tags = [("leak", "secret", 0.9, ["Calderix"])] if n % 5 == 0 else []
            mention = add_mention(session, source, f"more-{n}", title=None,
                                  text=f"Calderix post number {n}",
                                  seen=start + timedelta(minutes=n // 2), tags=tags)
            session.flush()
            world.ids[f"more-{n}"] = mention.id
    return world


@pytest.mark.parametrize("limit", [1, 7, 200])
def test_keyset_pages_walk_every_visible_mention_exactly_once(many: ApiWorld, limit: int) -> None:
    for role in ("admin", "comms"):
        ids = many.listed(role, limit=limit)
        assert len(ids) == len(set(ids))
        expected = {i for name, i in many.ids.items()
                    if name in VISIBLE[role] or (name.startswith("more-")
                                                 and (role == "admin" or int(name[5:]) % 5))}
        assert set(ids) == expected
    first = many.get("/mentions", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]


def test_filters_and_search_are_query_parameters(world: ApiWorld) -> None:
    assert names(world, world.listed(sentiment="negative")) == {"negative"}
    assert names(world, world.listed(tag="complaint")) == {"negative"}
    assert names(world, world.listed(brand="Redalia")) == {"both"}
    assert names(world, world.listed(q="zaragoza")) == {"plain"}
    assert names(world, world.listed(q='"raised prices"')) == {"both"}
    assert world.listed(since="2026-11-21") == []
    assert len(world.listed(until="2026-11-20", source="Foro Hogar")) == 5


@pytest.mark.parametrize(("params", "says"), [
    ({"cursor": "not-a-cursor"}, "page link"),
    ({"cursor": encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), 10**30)}, "page link"),
    ({"q": '"unclosed'}, "quote"),
    ({"q": "title:x"}, "field"),
])
def test_a_bad_cursor_or_search_is_a_400_saying_why(
    world: ApiWorld, params: dict[str, str], says: str
) -> None:
    paths = ["/mentions"] if "cursor" in params else ["/mentions", "/mentions.csv",
                                                       "/mentions.jsonl"]
    for path in paths:
        answer = world.get(path, params=params)
        assert answer.status_code == 400, answer.text
        assert says in answer.json()["detail"]


@pytest.mark.parametrize("params", [
    {"until": "9999-12-31"}, {"since": "0001-01-01"}, {"sentiment": "furious"},
    {"limit": "0"}, {"limit": "201"}, {"brand": "a\x00b"}, {"q": "\x00"},
])
def test_bad_parameters_are_a_422_naming_them(world: ApiWorld, params: dict[str, str]) -> None:
    answer = world.get("/mentions", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] in params


def test_a_huge_mention_id_is_a_422(world: ApiWorld) -> None:
    assert world.get(f"/mentions/{2**40}").status_code == 422


def test_brand_stats_sources_and_alerts(world: ApiWorld) -> None:
    body = world.get("/brands/Calderix/stats", "comms",
                     params={"since": "2026-11-19", "until": "2026-11-20"}).json()
    assert body["bucket"] == "day" and len(body["series"]) == 2
    assert body["totals"]["total"] == 3  # plain, negative, both: not the leak or staff post
    admin = world.get("/brands/Calderix/stats",
                      params={"since": "2026-11-19", "until": "2026-11-20"}).json()
    assert admin["totals"]["total"] == 5
    hours = world.get("/brands/Calderix/stats", params={
        "since": "2026-11-20T00:00:00+01:00", "until": "2026-11-20T12:00:00+01:00",
        "bucket": "hour"}).json()
    assert len(hours["series"]) == 12
    default = world.get("/brands/Calderix/stats")
    assert default.status_code == 200 and default.json()["bucket"] == "day"
    assert world.get("/brands/Acme/stats").status_code == 404
    assert world.get("/brands/Calderix/stats", params={"bucket": "week"}).status_code == 422
    backwards = world.get("/brands/Calderix/stats",
                          params={"since": "2026-11-20", "until": "2026-11-01"})
    assert backwards.status_code == 422 and "until" in backwards.json()["detail"]
    sources = world.get("/sources")
    assert sources.status_code == 200 and isinstance(sources.json(), list)
    alerts = world.get("/alerts", params={"limit": 5, "brand": "Calderix"})
    assert alerts.status_code == 200 and alerts.json() == []


def test_unknown_api_paths_answer_json(world: ApiWorld) -> None:
    answer = world.get("/nothing-here")
    assert answer.status_code == 404 and answer.json() == {"detail": "Not Found"}
