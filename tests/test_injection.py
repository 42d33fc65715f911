"""Hostile post content cannot inject headers or markup into any alert or routed email."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from monitor.app.review import apply_action
from monitor.core.models import Mention, OutboxMessage
from monitor.core.storage import Database
from reports.outbox import build_message
from reports.routed import enqueue_routed_reports
from tests.email_support import parse
from tests.review_support import Person
from tests.test_alerts import NOW, add_post, alert_settings, bodies, evaluate, source_in

HOSTILE_TITLE = "Calderix\r\nBcc: victim@evil.example\r\nX-Injected: yes\n\nbody?"
HOSTILE_TEXT = (
    'Calderix <script>alert(1)</script> "><img src=x onerror=alert(2)> '
    '<a href="javascript:alert(3)">click</a> <svg onload=alert(4)> &amp; <style>*{}</style>'
)
HOSTILE_AUTHOR = '"><svg/onload=alert(5)>\r\nX-Author: 1'


def seed_hostile(db: Database) -> None:
    with db.transaction() as session:
        mention = add_post(
            session,
            source_in(session, 'Foro "><b>x</b>'),
            "evil",
            title=HOSTILE_TITLE,
            text=HOSTILE_TEXT,
            published=NOW,
            seen=NOW,
            reach=99_000,
            author=HOSTILE_AUTHOR,
            tags=[
                ("sentiment", "negative", -0.9, ()),
                ("complaint", "complaint", 0.9, [("Calderix", "complaint:x")]),
                ("policy", "insult", 0.9, [("Calderix", "policy:insult")]),
            ],
        )
        mention.url = "javascript:alert(document.cookie)"
        mention.sources[0].url = "data:text/html,<script>alert(6)</script>"


class Elements(HTMLParser):
    """The tags, attribute names and link targets a browser would really see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name in ("href", "src"):
                self.hrefs.append(value or "")


def assert_inert(raw: bytes) -> None:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "Bcc" not in head and "X-Injected" not in head and "X-Author" not in head
    message = parse(raw)
    assert message["Bcc"] is None and message["X-Injected"] is None
    html = message.get_body(("html",)).get_content()
    elements = Elements()
    elements.feed(html)
    assert not elements.tags & {"script", "img", "svg", "style", "b", "iframe"}, elements.tags
    assert not [name for name in elements.attributes if name.startswith("on")]
    assert all(href.startswith("https://") for href in elements.hrefs), elements.hrefs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = message.get_body(("plain",)).get_content()
    # The post's own URLs are not http(s): never offered as links, even in plain text.
    assert "javascript:alert(document.cookie)" not in text and "data:text/html" not in text


def test_alert_emails_are_inert(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings)
    seed_hostile(db)
    written = evaluate(settings, db)
    assert [m.kind for m in written] == ["alert-reach"]
    assert_inert(written[0].message)
    text, _ = bodies(written[0])
    # Shown as one flattened line (the address masked or not, as classifiers.masking decides).
    assert re.search(r"- Calderix Bcc: \S+@evil\.example X-Injected: yes body\?\r?\n", text)


def test_routed_emails_are_inert(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings)
    seed_hostile(db)
    written = enqueue_routed_reports(db, settings, now=NOW + timedelta(minutes=1))
    assert {m.kind for m in written} == {"complaints", "employees"}
    for message in written:
        assert_inert(message.message)


def test_escalation_emails_are_inert(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings)
    settings = settings.model_copy(
        update={"web": settings.web.model_copy(update={"base_url": "https://vigia.example"})}
    )
    seed_hostile(db)
    reviewer = Person('"><img src=x onerror=alert(8)>', "comms")
    with db.transaction() as session:
        mention_id = session.scalar(select(Mention.id))
        assert mention_id is not None
        outcome = apply_action(
            session, settings, mention_id, reviewer, "escalate",
            value=HOSTILE_TEXT + "\r\nBcc: victim@evil.example\n<iframe src=//evil.example>",
            now=NOW,
        )
    assert outcome.email is not None and outcome.email.written
    with db.sessions() as session:
        raw = session.scalars(select(OutboxMessage.message)).one()
    assert_inert(raw)
    html = parse(raw).get_body(("html",)).get_content()
    assert "&lt;iframe" in html and "&lt;img src=x onerror=alert(8)&gt;" in html


def message_with_subject(subject: str) -> EmailMessage:
    """A one-line email to crisis@ with `subject`, as the outbox builds it."""
    return build_message(
        sender="Vigía <vigia@example.com>",
        recipients=["crisis@example.com"],
        subject=subject,
        html="<p>x</p>",
        text="x",
        now=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\x85", "\r\n\t"])
def test_a_subject_cannot_carry_a_header(breaker: str) -> None:
    message = message_with_subject(f"Alert{breaker}Bcc: victim@evil.example")
    raw = message.as_bytes()
    assert parse(raw)["Bcc"] is None
    assert parse(raw)["Subject"] == "Alert Bcc: victim@evil.example"
    for header in ("Message-ID", "Date", "List-Unsubscribe"):
        assert message[header]
    assert message.get_body(("plain",)) is not None  # a plain-text part, always


def test_an_address_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        build_message(
            sender="Vigía <vigia@example.com>",
            recipients=["crisis@example.com\r\nBcc: victim@evil.example"],
            subject="x",
            html="x",
            text="x",
            now=datetime(2026, 11, 20, 9, tzinfo=UTC),
        )


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def assert_no_bidi(raw: bytes) -> None:
    message = parse(raw)
    parts = [str(message["Subject"])]
    parts += [message.get_body((kind,)).get_content() for kind in ("plain", "html")]
    for part in parts:
        assert not set(part) & set(BIDI), [hex(ord(c)) for c in part if c in BIDI]


def test_bidi_controls_never_reach_an_email(db: Database, make_settings) -> None:
    """'factura\u202egpj.exe' would read as 'factura exe.jpg': every email drops the controls."""
    settings = alert_settings(make_settings)
    with db.transaction() as session:
        add_post(
            session,
            source_in(session, "Foro \u2067abc\u2069"),
            "bidi",
            title="Calderix factura\u202egpj.exe",
            text="Calderix \u202dadjunto\u202c \u200fhola\u200e \u061c\u2066x\u2069 \u202a\u202b",
            published=NOW,
            seen=NOW,
            reach=99_000,
            author="\u202eevil",
            tags=[
                ("sentiment", "negative", -0.9, ()),
                ("complaint", "complaint", 0.9, [("Calderix", "complaint:x")]),
            ],
        )
    written = evaluate(settings, db) + enqueue_routed_reports(
        db, settings, now=NOW + timedelta(minutes=1)
    )
    assert {m.kind for m in written} >= {"alert-reach", "complaints"}
    for message in written:
        assert_no_bidi(message.message)
        assert "gpj.exe" in parse(message.message).get_body(("plain",)).get_content()


def test_a_subject_loses_its_bidi_controls() -> None:
    message = message_with_subject(f"Alert {BIDI}gpj.exe")
    assert parse(message.as_bytes())["Subject"] == "Alert gpj.exe"
