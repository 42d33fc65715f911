"""The inbox page: role rules, filters and search, review in place, bulk actions, new mentions."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from monitor.core.models import Action, Mention, Source
from tests.digest_support import add_mention
from tests.review_support import DNI, NOW
from tests.users_support import cheap_passwords  # noqa: F401  (fixture)
from tests.web_support import signed_in, web_world

pytestmark = pytest.mark.usefixtures("cheap_passwords")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(db, make_settings, monkeypatch):  # type: ignore[no-untyped-def]
    app, ids = web_world(db, make_settings, monkeypatch)
    return app, ids, db


def rows(html: str) -> int:
    return html.count('class="mention-row')


def shown(html: str, ids: dict[str, int]) -> set[str]:
    return {name for name, mention_id in ids.items() if f'id="mention-{mention_id}"' in html}


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("ana", {"plain", "negative", "leak", "staff", "both"}),
        ("carlos", {"plain", "negative", "both"}),
        ("sara", {"plain", "negative", "leak", "both"}),
        ("hugo", {"plain", "negative", "staff", "both"}),
        ("vera", {"plain", "negative", "both"}),
    ],
)
def test_each_role_sees_only_what_it_may(world, user: str, visible: set[str]) -> None:
    app, ids, _ = world
    html = signed_in(app, user).get("/").text
    assert shown(html, ids) == visible
    assert DNI not in html  # masked even for security, until revealed on the mention page


def test_filters_and_search_narrow_the_list(world) -> None:
    app, ids, _ = world
    client = signed_in(app, "ana")
    assert shown(client.get("/?sentiment=negative").text, ids) == {"negative"}
    assert shown(client.get("/?tag=complaint").text, ids) == {"negative"}
    assert shown(client.get("/?q=fibre").text, ids) == {"negative"}
    assert shown(client.get("/?q=router OR zaragoza").text, ids) == {"plain", "staff"}
    assert shown(client.get("/?brand=Redalia").text, ids) == {"both"}
    assert shown(client.get("/?status=reviewed").text, ids) == set()
    day = NOW.date().isoformat()
    assert len(shown(client.get(f"/?since={day}&until={day}").text, ids)) == 5
    assert shown(client.get("/?until=2026-01-01").text, ids) == set()


def test_a_search_it_cannot_read_is_explained_not_a_server_error(world) -> None:
    app, _, _ = world
    answer = signed_in(app, "ana").get('/?q="unclosed')
    assert answer.status_code == 200
    assert 'role="alert"' in answer.text


def test_a_bad_filter_value_is_a_422_naming_the_parameter(world) -> None:
    app, _, _ = world
    answer = signed_in(app, "ana").get("/?sentiment=furious", headers={"accept": "text/html"})
    assert answer.status_code == 422


def test_a_row_is_reviewed_in_place_and_the_action_is_audited(world) -> None:
    app, ids, db = world
    client = signed_in(app, "carlos")
    answer = client.post(
        f"/mentions/{ids['negative']}/act", data={"action": "reviewed"},
        headers={**HTMX, "X-CSRF-Token": client.csrf},
    )
    assert answer.status_code == 200
    assert f'id="mention-{ids["negative"]}"' in answer.text and "status-reviewed" in answer.text
    assert rows(answer.text) == 1
    with db.reading() as session:
        assert session.get(Mention, ids["negative"]).review_status == "reviewed"
        action = session.scalars(select(Action)).one()
        assert (action.user_name, action.action) == ("carlos", "reviewed")


def test_an_action_without_the_csrf_header_is_refused(world) -> None:
    app, ids, db = world
    client = signed_in(app, "carlos")
    answer = client.post(f"/mentions/{ids['plain']}/act", data={"action": "reviewed"},
                         headers=HTMX)
    assert answer.status_code == 403
    with db.reading() as session:
        assert session.get(Mention, ids["plain"]).review_status == "new"


def test_a_viewer_reads_but_cannot_act(world) -> None:
    app, ids, _ = world
    client = signed_in(app, "vera")
    html = client.get("/").text
    assert "data-action=" not in html and 'id="bulk"' not in html
    answer = client.post(f"/mentions/{ids['plain']}/act", data={"action": "reviewed"},
                         headers={**HTMX, "X-CSRF-Token": client.csrf})
    assert answer.status_code == 403


def test_a_hidden_mention_cannot_be_acted_on_from_the_inbox(world) -> None:
    app, ids, _ = world
    client = signed_in(app, "carlos")
    answer = client.post(f"/mentions/{ids['leak']}/act", data={"action": "reviewed"},
                         headers={**HTMX, "X-CSRF-Token": client.csrf})
    assert answer.status_code == 404


def test_bulk_actions_apply_to_the_selection_and_skip_what_is_hidden(world) -> None:
    app, ids, db = world
    client = signed_in(app, "carlos")
    selection = [ids["plain"], ids["negative"], ids["leak"]]
    answer = client.post(
        "/mentions/bulk",
        data={"ids": selection, "action": "false_positive", "csrf_token": client.csrf,
              "back": "/?status=new"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/?status=new&done=2+marked+false+positive")
    with db.reading() as session:
        statuses = {i: session.get(Mention, i).review_status for i in selection}
    assert statuses == {ids["plain"]: "false_positive", ids["negative"]: "false_positive",
                        ids["leak"]: "new"}


def test_a_bulk_action_must_be_one_of_the_row_actions(world) -> None:
    app, ids, _ = world
    client = signed_in(app, "carlos")
    answer = client.post("/mentions/bulk", data={"ids": [ids["plain"]], "action": "assign",
                                                 "csrf_token": client.csrf})
    assert answer.status_code == 422


def test_keyset_pages_walk_every_mention_once(world) -> None:
    app, _, db = world
    with db.transaction() as session:
        source = session.scalars(select(Source)).one()
        for n in range(60):
            add_mention(session, source, f"more-{n}", title=f"Calderix note {n}", text="x",
                        seen=NOW - timedelta(minutes=n))
    client = signed_in(app, "ana")
    first = client.get("/").text
    assert rows(first) == 50 and "/inbox/rows?cursor=" in first
    cursor = first.split("/inbox/rows?cursor=")[1].split('"')[0]
    second = client.get(f"/inbox/rows?cursor={cursor}").text
    assert rows(second) == 15 and "cursor=" not in second
    ids_first = set(first.split('data-id="')[1:])
    ids_second = set(second.split('data-id="')[1:])
    assert not ids_first & ids_second


def poller_after(html: str) -> str:
    found = re.search(r'id="new-mentions"[^>]*hx-get="/inbox/new\?([^"]*)"', html)
    assert found, "no poller in the page"
    return dict(parse_qsl(unescape(found.group(1))))["after"]


def test_new_mentions_appear_at_the_top_without_a_reload(world) -> None:
    app, _, db = world
    client = signed_in(app, "ana")
    after = poller_after(client.get("/?status=new").text)
    quiet = client.get("/inbox/new", params={"after": after, "status": "new"}).text
    assert rows(quiet) == 0 and poller_after(quiet) == after  # polls on from the same row
    with db.transaction() as session:
        source = session.scalars(select(Source)).one()
        fresh = add_mention(session, source, "fresh", title="Calderix fresh news", text="y",
                            seen=NOW)
        add_mention(session, source, "fresh-fp", title="Calderix noise", text="z",
                    seen=NOW).review_status = "false_positive"
        session.flush()
        fresh_id = fresh.id
    answer = client.get("/inbox/new", params={"after": after, "status": "new"}).text
    assert rows(answer) == 1 and f'id="mention-{fresh_id}"' in answer  # the filter applies
    assert 'hx-swap-oob="true"' in answer and poller_after(answer) != after
    again = client.get("/inbox/new", params={"after": poller_after(answer), "status": "new"})
    assert rows(again.text) == 0  # announced once


def test_a_damaged_page_cursor_is_a_400_not_a_server_error(world) -> None:
    app, _, _ = world
    answer = signed_in(app, "ana").get("/inbox/rows", params={"cursor": "garbage"})
    assert answer.status_code == 400 and "damaged" in answer.text


def test_a_damaged_poll_key_stops_the_poll_quietly(world) -> None:
    app, _, _ = world
    answer = signed_in(app, "ana").get("/inbox/new", params={"after": "garbage"})
    assert answer.status_code == 200 and answer.text == ""


def test_hostile_post_content_is_escaped_in_the_inbox(world) -> None:
    app, _, db = world
    with db.transaction() as session:
        source = session.scalars(select(Source)).one()
        add_mention(session, source, "hostile", title='Calderix <script>alert(1)</script>',
                    text='"><img src=x onerror=alert(2)> Calderix', seen=NOW)
    html = signed_in(app, "ana").get("/").text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)" in html
