"""The daily digest: golden renders (en/es), escaping, inlined CSS, once per day, periods.

Goldens live in tests/golden/; after an intended change to the templates, regenerate them
with `VIGIA_UPDATE_GOLDEN=1 pytest tests/test_digest.py` and review the diff.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from monitor.core.models import (
    DigestRun,
    OutboxMessage,
    Source,
)
from monitor.core.storage import Database
from reports import digest_data, excerpts
from reports.digest import preview_digest, write_daily_digest
from reports.digest_data import collect_digest
from reports.excerpts import Segment, excerpt
from reports.render import is_http_url
from tests.digest_support import NOW, add_mention, seed, settings_for
from tests.email_support import check_golden, parse, scrub


@pytest.mark.parametrize("language", ["en", "es"])
def test_digest_matches_golden(db: Database, make_settings: Any, language: str) -> None:
    seed(db)
    row = write_daily_digest(db, settings_for(make_settings, language), now=NOW).message
    assert row is not None and row.key == "digest:2025-11-21"
    message = parse(row.message)
    check_golden(f"digest_{language}.eml", scrub(row.message))
    check_golden(f"digest_{language}.html", message.get_body(("html",)).get_content())
    check_golden(f"digest_{language}.txt", message.get_body(("plain",)).get_content())


def test_digest_content_ranking_and_escaping(db: Database, make_settings: Any) -> None:
    seed(db)
    row = write_daily_digest(db, settings_for(make_settings), now=NOW).message
    assert row is not None and row.recipients == ["comms@example.com", "ceo@example.com"]
    message = parse(row.message)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Vigía daily digest, 21 Nov 2025 — mentions: 11, negative: 4"
    # Hostile content is inert: no tags, no handlers, no javascript: links.
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "Calderix &lt;script&gt;alert('x')&lt;/script&gt;" in html
    assert 'by "&gt;&lt;img src=x onerror=alert(2)&gt;' in html
    assert all(href.startswith("https://") for href in re.findall(r'href="([^"]*)"', html))
    # CSS is inlined: clients that drop <style> still see the design.
    assert "<style" not in html and 'class="badge' in html
    assert re.search(r'<body style="[^"]+"', html) and re.search(
        r'<mark style="[^"]+">faulty</mark>', html
    )
    # Ranking: negative and high reach first; the unrated and the old/other-brand ones handled.
    order = [html.index(t) for t in ("boiler explodes", "&lt;script&gt;", "Zaragoza", "heat pump")]
    assert order == sorted(order)
    assert "Old Calderix story" not in html and "Redalia news" not in html
    assert "11</span> mentions" in html and "1 no sentiment" in html
    assert "No new mentions in this period." in html  # Fonaris
    assert (
        "Foro Hogar" in html and "HTTP 503" in html and "moved to https://blog.example/feed" in html
    )
    # The plain-text part is real text, not HTML.
    assert "Calderix boiler explodes in Valencia flat" in text and "[[faulty]]" in text
    assert "<p" not in text and "&amp;" not in text and "&lt;script&gt;" not in text


def test_only_http_urls_become_links() -> None:
    assert is_http_url("https://example.com/a?b=1&c=2") and is_http_url("HTTP://EXAMPLE.COM")
    for bad in [
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JaVaScRiPt:x",
        "data:text/html,x",
        "vbscript:x",
        "//example.com",
        "https://",
        "https://ex ample.com",
        'https://e.com/"onmouseover="x',
        "https://e.com/\nx",
        "ftp://e.com",
        None,
        42,
    ]:
        assert not is_http_url(bad), bad


def test_a_days_digest_is_written_once(db: Database, make_settings: Any) -> None:
    seed(db)
    settings = settings_for(make_settings)
    assert write_daily_digest(db, settings, now=NOW).message is not None
    assert write_daily_digest(db, settings, now=NOW + timedelta(hours=3)).message is None
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_an_empty_period_goes_to_no_list_and_a_later_run_covers_it(
    db: Database, make_settings: Any
) -> None:
    """A new deployment's first pass found nothing yet: no empty email; the user fixes a
    source, runs again that day, and that day's digest shows the first mentions."""
    settings = settings_for(make_settings)
    empty = write_daily_digest(db, settings, now=NOW)
    assert (empty.status, empty.message) == ("empty", None)
    assert write_daily_digest(db, settings, now=NOW, force=True).status == "empty"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        source = Source(name="El Diario", kind="rss")
        add_mention(
            session, source, "a", title="Calderix A", text="", seen=NOW + timedelta(hours=1)
        )
    later = write_daily_digest(db, settings, now=NOW + timedelta(hours=2))
    assert later.status == "written" and later.message is not None
    assert "Calderix A" in parse(later.message.message).get_body(("html",)).get_content()


def test_force_resends_the_same_period_under_a_new_key(db: Database, make_settings: Any) -> None:
    seed(db)
    settings = settings_for(make_settings)
    first = write_daily_digest(db, settings, now=NOW).message
    later = NOW + timedelta(hours=5)
    again = write_daily_digest(db, settings, now=later, force=True).message
    third = write_daily_digest(db, settings, now=later, force=True).message
    assert first and again and third
    assert (again.key, third.key) == ("digest:2025-11-21:resend-1", "digest:2025-11-21:resend-2")
    assert again.message_id != first.message_id
    assert parse(again.message)["Subject"] == parse(first.message)["Subject"]
    with db.transaction() as session:
        runs = session.scalars(select(DigestRun).order_by(DigestRun.id)).all()
        assert [(r.forced, r.period_start, r.period_end) for r in runs] == [
            (False, NOW - timedelta(hours=24), NOW),
            (True, NOW - timedelta(hours=24), NOW),
            (True, NOW - timedelta(hours=24), NOW),
        ]
    # The next day chains from the original run, not from the re-sends' creation time.
    tomorrow = write_daily_digest(db, settings, now=NOW + timedelta(days=1)).message
    assert tomorrow is not None
    with db.transaction() as session:
        last = session.scalars(select(DigestRun).order_by(DigestRun.id.desc())).first()
        assert last is not None and last.period_start == NOW and last.day == date(2025, 11, 22)


def test_periods_chain_so_nothing_is_lost_or_doubled(db: Database, make_settings: Any) -> None:
    settings = settings_for(make_settings)
    with db.transaction() as session:
        source = Source(name="El Diario", kind="rss")
        add_mention(
            session, source, "a", title="Calderix A", text="", seen=NOW - timedelta(hours=2)
        )
    first = write_daily_digest(db, settings, now=NOW).message
    late = NOW + timedelta(days=1, hours=6)  # the next digest runs late, at 14:00
    with db.transaction() as session:
        source = session.scalars(select(Source)).one()
        add_mention(
            session, source, "b", title="Calderix B", text="", seen=NOW + timedelta(minutes=1)
        )
        add_mention(
            session, source, "c", title="Calderix C", text="", seen=late - timedelta(hours=1)
        )
    second = write_daily_digest(db, settings, now=late).message
    assert first and second
    first_html, second_html = (
        parse(m.message).get_body(("html",)).get_content() for m in (first, second)
    )
    assert "Calderix A" in first_html and "Calderix B" not in first_html
    assert (
        "Calderix A" not in second_html
        and "Calderix B" in second_html
        and "Calderix C" in second_html
    )
    with db.transaction() as session:
        run = session.scalars(select(DigestRun).where(DigestRun.day == date(2025, 11, 22))).one()
        assert (run.period_start, run.period_end) == (NOW, late)


def test_preview_writes_nothing(db: Database, make_settings: Any) -> None:
    seed(db)
    settings = settings_for(make_settings, "es")
    rendered = preview_digest(db, settings, now=NOW)
    assert rendered.subject.startswith("Resumen diario de Vigía, 21 nov 2025")
    assert (
        "Menciones más importantes" in rendered.html
        and "Menciones más importantes" in rendered.text
    )
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert write_daily_digest(db, settings, now=NOW).message is not None


def test_counts_stay_complete_when_the_list_is_capped_without_n_plus_1(
    db: Database, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(make_settings)
    with db.transaction() as session:
        source = Source(name="El Diario", kind="rss")
        for i in range(30):
            add_mention(
                session,
                source,
                f"n{i}",
                title=f"Calderix story {i}",
                text=f"Calderix text {i}",
                seen=NOW - timedelta(minutes=i + 1),
                reach=i,
                tags=[
                    (
                        "sentiment",
                        "negative" if i % 3 == 0 else "neutral",
                        -0.8 if i % 3 == 0 else 0.0,
                        [f"text {i}"],
                    )
                ],
            )
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    monkeypatch.setattr(digest_data, "MAX_MENTIONS_PER_BRAND", 5)
    with db.transaction() as session:
        small = collect_digest(session, settings, NOW - timedelta(days=1), NOW)
    few = len(statements)
    monkeypatch.setattr(digest_data, "MAX_MENTIONS_PER_BRAND", 25)
    with db.transaction() as session:
        large = collect_digest(session, settings, NOW - timedelta(days=1), NOW)
    many = len(statements) - few
    brand = small.brands[0]
    assert (brand.total, brand.negative, brand.neutral, brand.not_listed) == (30, 10, 20, 25)
    assert [m.title for m in brand.mentions][:2] == ["Calderix story 27", "Calderix story 24"]
    assert len(large.brands[0].mentions) == 25
    assert few == many, "query count must not grow with the number of listed mentions"


def test_excerpt_centres_on_far_evidence_and_marks_it() -> None:
    body = "word " * 200 + "the boiler exploded " + "tail " * 100
    full = "Title\n" + body
    start = full.index("exploded")
    segments = excerpt(full, 6, [(start, start + len("exploded"))])
    assert segments[0] == Segment("…") and segments[-1] == Segment("…")
    assert Segment("exploded", mark=True) in segments
    assert sum(len(s.text) for s in segments) <= excerpts.EXCERPT_CHARS + 2
    assert excerpt("Title\nshort body", 6, []) == [Segment("short body")]


def test_trends_sections_and_stories(db: Database, make_settings: Any) -> None:
    seed(db)
    with db.transaction() as session:
        data = collect_digest(session, settings_for(make_settings), NOW - timedelta(days=1), NOW)
    calderix, fonaris = data.brands
    # The period has 11 posts (the recall story has three); the day before it had 4 (1
    # negative), the 7 days before it 4 as well.
    assert (calderix.volume.current, calderix.volume.previous_day) == (11, 4)
    assert calderix.volume.week_average == 0.6 and calderix.volume.change_vs_previous_day == 175.0
    assert (calderix.negatives.current, calderix.negatives.previous_day) == (4, 2)
    assert fonaris.volume.change_vs_previous_day is None  # no baseline, no made-up ratio
    # One section per incident family present, most urgent first, with the evidence.
    assert [(s.family, s.total) for s in calderix.sections] == [
        ("leak", 1),
        ("employee", 1),
        ("policy", 1),
        ("complaint", 1),
    ]
    leak = calderix.sections[0].items[0]
    assert Segment("48215763N", mark=True) in leak.excerpt
    # Top stories skip what the sections already show; the recall story's three posts are
    # one card carried by three outlets, and count three in the volume.
    titles = [m.title for m in calderix.mentions]
    assert "Calderix customer list posted" not in titles
    assert "Calderix boiler explodes in Valencia flat" not in titles
    recall = calderix.mentions[0]
    assert recall.title == "Calderix recalls 3,000 boilers after safety review"
    assert recall.copies == 3 and recall.outlets == ["El Diario", "Blog", "Agencia Norte"]
    assert sum("recalls" in t for t in titles) == 1
    assert calderix.stories == 9 and calderix.not_listed == 0


def test_digest_masks_personal_data_everywhere(db: Database, make_settings: Any) -> None:
    seed(db)
    row = write_daily_digest(db, settings_for(make_settings), now=NOW).message
    assert row is not None
    message = parse(row.message)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "48215763N" not in html and "48215763N" not in text
    assert "<mark" in html and "4821****N</mark>" in html and "[[4821****N]]" in text
    assert "3 outlets" in html and "[3 outlets]" in text
