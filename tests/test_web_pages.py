"""The server-rendered pages: one mention (review forms, reveal), the dashboard, sources."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from monitor.app.users import set_password
from monitor.core.models import Action, Mention, Source
from monitor.core.settings import Settings
from monitor.core.storage import Database
from monitor.web.app import create_app
from monitor.web.highlight import highlight
from reports.render import masked
from tests.digest_support import add_mention
from tests.review_support import ADMIN, COMMS, DNI, HR, SECURITY, VIEWER, review_settings, seed
from tests.users_support import cheap_passwords  # noqa: F401  (a fixture)

PASSWORD = "correct horse battery"
CLIENT_DNI = "12345678Z"
HOSTILE_TITLE = 'Calderix <script>alert(1)</script> "><img src=x onerror=alert(2)>'
HTML = {"accept": "text/html"}


@pytest.fixture
def site(
    db: Database, make_settings: Callable[..., Settings], cheap_passwords: object  # noqa: F811
) -> Iterator[tuple[Callable[[str], TestClient], dict[str, int]]]:
    ids = seed(db)
    with db.transaction() as session:
        source = session.scalars(select(Source)).one()
        dni = add_mention(
            session, source, "dni", title="Calderix cobra dos veces",
            text=f"Calderix cobró dos veces al cliente {CLIENT_DNI}, qué vergüenza.",
            seen=datetime.now(UTC) - timedelta(hours=2), url="https://foro.example/5",
            author="@cliente",
            # The span ends inside the DNI: the highlight must still mask it whole.
            tags=[("sentiment", "negative", -0.7, ["cliente 123456"])],
        )
        hostile = add_mention(
            session, source, "hostile", title=HOSTILE_TITLE, text="Calderix & co",
            seen=datetime.now(UTC) - timedelta(hours=3), author='"><svg/onload=alert(5)>',
            tags=[("complaint", "complaint", 0.9, ["<script>"])],
        )
        hostile.sources[0].url = "javascript:alert(document.cookie)"
        session.flush()
        ids.update(dni=dni.id, hostile=hostile.id)
    for person in (ADMIN, COMMS, SECURITY, HR, VIEWER):
        set_password(db, person.name, PASSWORD)
    app = create_app(review_settings(make_settings), db)
    clients: list[TestClient] = []

    def login(name: str) -> TestClient:
        client = TestClient(app, base_url="https://testserver", headers=HTML)
        clients.append(client)
        page = client.get("/login")
        answer = client.post("/login", data={"name": name, "password": PASSWORD,
                                              "csrf_token": csrf_of(page.text)},
                             follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return client

    yield login, ids
    for client in clients:
        client.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def actions(db: Database, mention_id: int, action: str | None = None) -> int:
    query = select(func.count()).select_from(Action).where(Action.mention_id == mention_id)
    if action:
        query = query.where(Action.action == action)
    with db.reading() as session:
        return session.scalar(query) or 0


def test_evidence_highlighted_and_identifiers_masked(site) -> None:
    login, ids = site
    page = login(COMMS.name).get(f"/mentions/{ids['dni']}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert CLIENT_DNI not in page.text and "123456" not in page.text
    assert f'<mark title="negative cue">{masked("cliente " + CLIENT_DNI)}</mark>' in page.text
    assert "foro.example/5" in page.text and "Mark reviewed" in page.text
    assert "Reveal identifiers" not in page.text


def test_highlight_cuts_title_and_body_at_the_full_texts_newline() -> None:
    post = highlight("Calderix fails", "Support is awful", [(9, 14, "title cue"),
                                                            (26, 31, "body cue")])
    assert [(s.text, s.reason) for s in post.title] == [("Calderix ", None),
                                                         ("fails", "title cue")]
    assert [(s.text, s.reason) for s in post.body] == [("Support is ", None),
                                                        ("awful", "body cue")]


def test_hostile_content_is_escaped(site) -> None:
    login, ids = site
    page = login(COMMS.name).get(f"/mentions/{ids['hostile']}")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "alert(1)&lt;/script&gt;" in page.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "<svg" not in page.text and "javascript:" not in page.text
    assert '<mark title="complaint cue">&lt;script&gt;</mark>' in page.text


@pytest.mark.parametrize(("who", "mention"), [(COMMS, "leak"), (COMMS, "staff"),
                                              (HR, "leak"), (SECURITY, "staff")])
def test_a_hidden_mention_is_not_found(site, who, mention) -> None:
    login, ids = site
    assert login(who.name).get(f"/mentions/{ids[mention]}").status_code == 404
    assert login(who.name).get("/mentions/999999").status_code == 404


FORMS = [
    ({"action": "reviewed"}, "reviewed", "Marked reviewed."),
    ({"action": "false_positive"}, "false positive", "Marked false positive"),
    ({"action": "escalate", "note": "call the customer"}, "call the customer", "Escalated."),
    ({"action": "assign", "assignee": "ana"}, "assign", "Assignment saved."),
    ({"action": "sentiment", "sentiment": "positive"}, "positive", "Sentiment corrected."),
    ({"action": "tag", "tag": "policy:insult"}, "insult", "Tag added."),
    ({"action": "untag", "tag": "complaint:complaint", "brand": "Calderix"}, "untag",
     "Tag removed."),
    ({"action": "note", "note": f"the customer is {CLIENT_DNI}"}, masked(CLIENT_DNI),
     "Note added."),
]


@pytest.mark.parametrize(("form", "shown", "flash"), FORMS)
def test_each_review_form_lands_in_the_history(site, db, form, shown, flash) -> None:
    login, ids = site
    client = login(COMMS.name)
    url = f"/mentions/{ids['negative']}"
    token = csrf_of(client.get(url).text)
    answer = client.post(f"{url}/review", data={**form, "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"{url}?done=")
    page = client.get(answer.headers["location"])
    assert flash in page.text and shown in page.text
    assert actions(db, ids["negative"], form["action"]) == 1
    history = page.text.split("<h2>History</h2>", 1)[1]
    assert form["action"].replace("_", " ") in history and COMMS.name in history
    assert CLIENT_DNI not in page.text


def test_unassign_and_second_escalation_say_what_happened(site, db) -> None:
    login, ids = site
    client = login(COMMS.name)
    url = f"/mentions/{ids['negative']}"
    token = csrf_of(client.get(url).text)
    client.post(f"{url}/review", data={"action": "assign", "assignee": "ana",
                                       "csrf_token": token})
    client.post(f"{url}/review", data={"action": "assign", "assignee": "", "csrf_token": token})
    with db.reading() as session:
        assert session.get(Mention, ids["negative"]).assigned_to is None
    page = client.post(f"{url}/review", data={"action": "escalate", "csrf_token": token})
    assert "Already escalated: the escalation email was written once" in page.text


def test_a_form_without_its_token_is_refused(site, db) -> None:
    login, ids = site
    client = login(COMMS.name)
    answer = client.post(f"/mentions/{ids['plain']}/review", data={"action": "reviewed"})
    assert answer.status_code == 403
    answer = client.post(f"/mentions/{ids['plain']}/review",
                         data={"action": "reviewed", "csrf_token": "forged"})
    assert answer.status_code == 403
    assert actions(db, ids["plain"]) == 0


def test_reveal_as_security_shows_the_raw_text_once_and_audits_it(site, db) -> None:
    login, ids = site
    client = login(SECURITY.name)
    url = f"/mentions/{ids['leak']}"
    page = client.get(url)
    assert DNI not in page.text and "Reveal identifiers" in page.text
    revealed = client.post(f"{url}/reveal", data={"csrf_token": csrf_of(page.text)})
    assert revealed.status_code == 200
    assert DNI in revealed.text
    assert "Unmasked view — recorded in the audit log" in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    assert actions(db, ids["leak"], "reveal") == 1
    again = client.get(url)
    assert DNI not in again.text and "reveal" in again.text.split("<h2>History</h2>", 1)[1]


@pytest.mark.parametrize(("who", "mention"), [(HR, "staff"), (COMMS, "dni"), (VIEWER, "dni"),
                                              (HR, "leak")])
def test_reveal_is_refused_to_other_roles(site, db, who, mention) -> None:
    login, ids = site
    client = login(who.name)
    url = f"/mentions/{ids[mention]}"
    page = client.get(url)
    if page.status_code == 200:
        assert "Reveal identifiers" not in page.text and "/reveal" not in page.text
    token = csrf_of(client.get("/").text)
    answer = client.post(f"{url}/reveal", data={"csrf_token": token})
    assert answer.status_code in (403, 404)
    assert CLIENT_DNI not in answer.text and DNI not in answer.text
    assert actions(db, ids[mention]) == 0


def test_a_viewer_sees_no_forms_and_may_not_post(site, db) -> None:
    login, ids = site
    client = login(VIEWER.name)
    page = client.get(f"/mentions/{ids['negative']}")
    assert page.status_code == 200 and "awful" in page.text
    assert "/review" not in page.text and "<textarea" not in page.text
    token = csrf_of(page.text)  # the log-out form's
    answer = client.post(f"/mentions/{ids['negative']}/review",
                         data={"action": "reviewed", "csrf_token": token})
    assert answer.status_code == 403
    assert actions(db, ids["negative"]) == 0


def test_pages_need_a_login(site) -> None:
    login, ids = site
    client = login(COMMS.name)
    client.cookies.clear()
    for path in (f"/mentions/{ids['plain']}", "/dashboard", "/brands/Calderix", "/sources"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


# ------------------------------------------------------------------------- dashboard


@pytest.fixture
def rivals_site(
    db: Database, make_settings: Callable[..., Settings], cheap_passwords: object  # noqa: F811
) -> Iterator[TestClient]:
    """The base settings: Calderix with competitors Fonaris and Redalia."""
    seed(db)
    with db.transaction() as session:
        source = session.scalars(select(Source)).one()
        for i, brand in enumerate(("Calderix", "Fonaris", "Calderix")):
            add_mention(session, source, f"recent{i}", title=None, text=f"{brand} news {i}",
                        seen=datetime.now(UTC) - timedelta(days=1), brand=brand, reach=10 * i,
                        author=f"autor{i}@gmail.com",
                        tags=[("sentiment", "negative", -0.5, [])])
    set_password(db, COMMS.name, PASSWORD)
    app = create_app(make_settings(sources=[{"name": "Foro Hogar", "kind": "rss",
                                             "url": "https://foro.example/feed"}]), db)
    with TestClient(app, base_url="https://testserver", headers=HTML) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"name": COMMS.name, "password": PASSWORD,
                                    "csrf_token": token})
        yield client


def test_dashboard_redirects_to_the_first_brand_and_draws_two_charts(rivals_site) -> None:
    answer = rivals_site.get("/dashboard", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/brands/Calderix"
    page = rivals_site.get("/brands/Calderix?days=7")
    assert page.status_code == 200
    assert page.text.count('<img src="data:image/png;base64,') == 2
    assert 'alt="Posts about Calderix per day' in page.text
    assert "Share of voice" in page.text and "Fonaris" in page.text
    assert "Top authors by reach" in page.text
    assert "autor2@gmail.com" not in page.text  # authors are masked
    assert "Foro Hogar" in page.text


def test_dashboard_periods_and_buckets(rivals_site) -> None:
    assert "by hour" in rivals_site.get("/brands/Calderix?days=1").text.split("</form>")[1]
    assert rivals_site.get("/brands/Calderix?days=7&bucket=hour").status_code == 200
    assert rivals_site.get("/brands/Calderix?bucket=week").status_code == 422
    picked = rivals_site.get("/dashboard?brand=Calderix&days=7", follow_redirects=False)
    assert picked.headers["location"] == "/brands/Calderix?days=7"


def test_an_unknown_brand_is_not_found(rivals_site) -> None:
    assert rivals_site.get("/brands/Fonaris").status_code == 404  # a competitor, not a brand
    assert rivals_site.get("/brands/Nadie").status_code == 404


def test_sources_page_lists_every_source(rivals_site) -> None:
    page = rivals_site.get("/sources")
    assert page.status_code == 200
    assert "Foro Hogar" in page.text and "rss" in page.text
    assert 'aria-current="page">Sources' in page.text
