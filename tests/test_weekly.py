"""The weekly reputation report: week arithmetic, the numbers, charts, goldens, sending once.

The seeded week (2025-W46, Mon 10 – Sun 16 Nov 2025, Europe/Madrid) is small enough that
every expected figure below was worked out by hand from `seed_week`. Goldens live in
tests/golden/; regenerate with `VIGIA_UPDATE_GOLDEN=1 pytest tests/test_weekly.py`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.app.configuration import load_settings
from monitor.core.errors import SettingsError, VigiaError
from monitor.core.models import OutboxMessage, Source
from monitor.core.settings import Settings
from monitor.core.storage import Database, open_database
from reports import charts
from reports.weekly import (
    CHART_IDS,
    enqueue_weekly_reports,
    last_complete_week,
    parse_week,
    preview_weekly,
    report_path,
)
from reports.weekly_data import DayPoint, SentimentCounts, ShareItem, collect_weekly
from tests.digest_support import add_mention
from tests.email_support import check_golden, parse, scrub
from tests.weekly_support import MADRID, MONDAY, NOW, said, seed_week, weekly_settings


def test_week_parsing_and_the_default_week(make_settings: Callable[..., Settings]) -> None:
    settings = weekly_settings(make_settings)
    for text in ("2025-W46", "2025w46", "2025-11-13", " 2025-11-10 "):
        week = parse_week(text, settings)
        assert (week.label, week.start) == ("2025-W46", MONDAY), text
    week = last_complete_week(settings, NOW)
    assert (week.label, week.start) == ("2025-W46", MONDAY)
    # Sunday night in Madrid is still inside W46, so the last complete week is W45.
    assert last_complete_week(settings, datetime(2025, 11, 16, 22, tzinfo=UTC)).label == "2025-W45"
    assert parse_week("2026-W01", settings).start == datetime(2025, 12, 29, tzinfo=MADRID)
    for bad in ("2025-W54", "W46", "last week", "2025-13-01"):
        with pytest.raises(ValueError, match="ISO week like 2025-W47"):
            parse_week(bad, settings)


def test_weekly_numbers(db: Database, make_settings: Callable[..., Settings]) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings)
    with db.sessions() as session:
        data = collect_weekly(session, settings, settings.brands[0], "2025-W46", MONDAY)
    totals = data.totals.counts
    assert (totals.total, totals.negative, totals.neutral, totals.positive) == (10, 5, 2, 2)
    assert totals.unrated == 1 and totals.net_sentiment == -33.3
    assert (data.totals.leaks, data.totals.policy) == (1, 1)
    prev = data.previous.counts
    assert (prev.total, prev.negative, prev.neutral, prev.positive) == (4, 1, 1, 2)
    assert prev.net_sentiment == 25.0 and data.previous.leaks == 0
    # Days are local (Madrid) days: Monday 00:30 local is Sunday in UTC but counts on Monday.
    assert [d.day.day for d in data.days] == list(range(10, 17))
    assert [d.counts.total for d in data.days] == [2, 1, 1, 2, 1, 1, 2]
    assert [d.counts.negative for d in data.days] == [2, 0, 0, 2, 1, 0, 0]
    assert [d.counts.net_sentiment for d in data.days] == [-100, 100, 0, -100, -100, 100, 0]
    share = {
        s.name: (s.mentions, s.share, s.previous, s.previous_share) for s in data.share_of_voice
    }
    assert share == {
        "Calderix": (10, 58.8, 4, 50.0),
        "Fonaris": (5, 29.4, 4, 50.0),
        "Redalia": (2, 11.8, 0, 0.0),
    }
    assert data.share_of_voice[0].is_brand and data.has_competitors
    assert [(s.name, s.mentions, s.reach) for s in data.top_sources] == [
        ("El Diario", 3, 5910),
        ("Foro Hogar", 4, 442),
        ("Mastodon", 3, 90),
    ]
    authors = [(a.name, a.mentions, a.reach) for a in data.top_authors]
    assert authors[:4] == [
        ("Ana Ruiz", 1, 5000),
        ("Redacción", 1, 900),
        ("@pepe", 1, 300),
        ("@filtrador", 1, 120),
    ]
    assert ("@maria", 2, 90) in authors and all(a[0] for a in authors)
    assert [(t.text, t.count) for t in data.hashtags] == [("#apagon", 2), ("#eficiencia", 2)]
    terms = dict((t.text, t.count) for t in data.terms)
    assert terms["heating"] == 5 and terms["outage"] == 2
    assert "calderix" not in terms and "redalia" not in terms and "again" not in terms
    assert data.incidents_total == 2
    assert [m.title for m in data.incidents] == ["Calderix invoice posted", ""]
    assert [t.label for t in data.incidents[0].tags] == ["pii", "negative"]
    changes = {c.key: (c.current, c.previous, c.delta, c.percent) for c in data.changes}
    assert changes["mentions_column"] == (10, 4, 6, 150.0)
    assert changes["negative_label"] == (5, 1, 4, 400.0)
    assert changes["net_sentiment"] == (-33.3, 25.0, -58.3, None)
    assert changes["share_of_voice_brand"] == (58.8, 50.0, 8.8, None)
    assert changes["leaks"][:2] == (1, 0) and changes["policy_incidents"][:2] == (1, 0)


def test_an_empty_week_without_competitors(db: Database, make_settings: Any) -> None:
    settings = make_settings(brands=[{"name": "Fonaris"}])
    with db.sessions() as session:
        data = collect_weekly(session, settings, settings.brands[0], "2025-W46", MONDAY)
    assert data.totals.counts.total == 0 and data.totals.counts.net_sentiment is None
    assert not data.has_competitors and data.hashtags == [] and data.incidents == []
    assert [c.percent for c in data.changes] == [None] * len(data.changes)
    rendered = preview_weekly(db, settings, week=parse_week("2025-W46", settings))[0]
    assert "No competitors configured" in rendered.email.html
    assert CHART_IDS["share"] not in rendered.images


def _colours(png: bytes) -> dict[tuple[int, int, int], int]:
    """Pixel count per colour."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour: count for count, colour in image.getcolors(maxcolors=1 << 20) or []}


def _day(n: int, neg: int, neu: int, pos: int) -> DayPoint:
    return DayPoint(
        MONDAY.date() + timedelta(days=n), SentimentCounts(neg + neu + pos, neg, neu, pos)
    )


def test_charts_are_pngs_that_draw_the_data() -> None:
    labels = [f"D{i}" for i in range(7)]
    legend = ["negative", "neutral", "positive", "none"]
    red = (0xDC, 0x26, 0x26)
    with_negatives = charts.volume_chart([_day(i, i % 2, 1, 1) for i in range(7)], labels, legend)
    all_positive = charts.volume_chart([_day(i, 0, 0, 2) for i in range(7)], labels, legend)
    for png in (with_negatives, all_positive):
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert Image.open(io.BytesIO(png)).size == (960, 390)  # 6.4 × 2.6 in at 150 dpi
    assert red in _colours(with_negatives)
    # The legend draws a red swatch even with no negative bar: compare amounts, not presence.
    reds = [_colours(png).get(red, 0) for png in (with_negatives, all_positive)]
    assert reds[0] > reds[1] * 5
    sentiment = charts.sentiment_chart([_day(i, 1, 0, i % 3) for i in range(7)], labels)
    assert sentiment.startswith(b"\x89PNG") and (0x25, 0x63, 0xEB) in _colours(sentiment)
    share = charts.share_chart(
        [ShareItem("Calderix", True, 6, 0, 60.0, 0.0), ShareItem("Fonaris", False, 4, 0, 40.0, 0)]
    )
    assert (0x25, 0x63, 0xEB) in _colours(share) and (0x9C, 0xA3, 0xAF) in _colours(share)
    assert charts.volume_chart([_day(i, 0, 0, 0) for i in range(7)], labels, legend)  # empty week


@pytest.mark.parametrize("language", ["en", "es"])
def test_weekly_matches_golden(db: Database, make_settings: Any, language: str) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings, language)
    [message] = enqueue_weekly_reports(db, settings, now=NOW).written
    assert message.key == "weekly:Calderix:2025-W46" and message.recipients == ["board@example.com"]
    email = parse(message.message)
    html = email.get_body(("html",)).get_content()
    check_golden(f"weekly_{language}.html", html)
    check_golden(f"weekly_{language}.txt", email.get_body(("plain",)).get_content())
    # The headers and MIME structure (chart bytes depend on the matplotlib build: not golden).
    headers = scrub(message.message).split("\n\n", 1)[0]
    # Two random MIME boundaries (alternative, related): scrub() can number them either way.
    headers = re.sub(r'boundary="[^"]+"', 'boundary="BOUNDARY"', headers)
    check_golden(f"weekly_{language}.headers", headers + "\n")


def test_charts_travel_inline_by_content_id(db: Database, make_settings: Any) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings)
    [message] = enqueue_weekly_reports(db, settings, now=NOW).written
    email = parse(message.message)
    html = email.get_body(("html",)).get_content()
    related = [part for part in email.walk() if part.get_content_type() == "multipart/related"]
    assert len(related) == 1
    images = {
        part["Content-ID"].strip("<>"): part.get_content()
        for part in email.walk()
        if part.get_content_type() == "image/png"
    }
    assert set(images) == set(CHART_IDS.values())
    for content_id, png in images.items():
        assert f'src="cid:{content_id}"' in html and png.startswith(b"\x89PNG")
    assert "data:image" not in html and "http" not in "".join(re.findall(r'src="([^"]*)"', html))
    # The archived standalone page: the same HTML, charts as data: URIs, nothing remote.
    page = report_path(
        settings, preview_weekly(db, settings, week=parse_week("2025-W46", settings))[0]
    )
    assert page.name == "weekly-calderix-2025-W46.html" and page.exists()
    saved = page.read_text(encoding="utf-8")
    assert "cid:" not in saved and saved.count('src="data:image/png;base64,') == 3

    def without_sources(page_html: str) -> str:
        return re.sub(r'src="[^"]*"', "", page_html).replace("\r\n", "\n").strip()

    assert without_sources(saved) == without_sources(html)


def test_a_week_is_sent_once_per_brand(db: Database, make_settings: Any) -> None:
    seed_week(db)
    settings = make_settings(
        brands=[
            {"name": "Calderix", "competitors": ["Fonaris"]},
            {"name": "Fonaris"},
        ],
        email={"recipients": {"weekly": ["board@example.com"]}},
    )
    first = enqueue_weekly_reports(db, settings, now=NOW).written
    again = enqueue_weekly_reports(db, settings, now=NOW + timedelta(hours=2)).written
    assert [m.key for m in first] == ["weekly:Calderix:2025-W46", "weekly:Fonaris:2025-W46"]
    assert again == []
    next_week = enqueue_weekly_reports(db, settings, now=NOW + timedelta(days=7)).written
    assert [m.key for m in next_week] == ["weekly:Calderix:2025-W47", "weekly:Fonaris:2025-W47"]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4


def test_hostile_content_is_inert_and_leaks_are_masked(db: Database, make_settings: Any) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings)
    [report] = preview_weekly(db, settings, week=parse_week("2025-W46", settings))
    html, text = report.email.html, report.email.text
    assert "<script" not in html and "<b>" not in html and "<img src=x" not in html
    assert all('src="cid:' in tag for tag in re.findall(r"<img[^>]*>", html))  # only charts
    assert "onerror=alert(1)&gt;" in html  # shown, escaped, as the author's name
    assert all(href.startswith("https://") for href in re.findall(r'href="([^"]*)"', html))
    assert "48215763N" not in html and "48215763N" not in text
    assert "4821****N" in html and "4821****N" in text
    assert "<p" not in text and "&lt;" not in text
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_weekly_slot_setting(make_settings: Any) -> None:
    slot = make_settings(schedule={"timezone": "Europe/Madrid", "weekly": "Mon 08:30"})
    assert slot.schedule.weekly_slot is not None
    assert slot.schedule.weekly_slot[0] == "mon" and slot.schedule.weekly_slot[1].minute == 30
    assert make_settings().schedule.weekly_slot is None
    for bad in ("monday 8:30", "mon", "08:30", "mon 25:00"):
        with pytest.raises(SettingsError, match=r"schedule\.weekly.*like \"mon 08:30\""):
            make_settings(schedule={"weekly": bad})


def test_scheduler_runs_the_weekly_report(make_settings: Any, tmp_path: Path) -> None:
    from apscheduler.triggers.cron import CronTrigger

    from monitor.app.pipeline import Pipeline
    from monitor.app.scheduler import build_scheduler
    from monitor.core.storage import open_database

    settings = make_settings(
        f"sqlite:///{tmp_path / 'v.db'}",
        schedule={"timezone": "Europe/Madrid", "weekly": "mon 08:30"},
    )
    pipeline = Pipeline(settings, open_database(settings.database_url))
    jobs = {job.id: job for job in build_scheduler(settings, pipeline).get_jobs()}
    trigger = jobs["weekly"].trigger
    assert isinstance(trigger, CronTrigger) and str(trigger.timezone) == "Europe/Madrid"
    assert "day_of_week='mon'" in str(trigger) and "hour='8'" in str(trigger)
    assert "minute='30'" in str(trigger)
    pipeline.close()
    unscheduled = make_settings(f"sqlite:///{tmp_path / 'w.db'}")
    pipeline = Pipeline(unscheduled, open_database(unscheduled.database_url))
    assert "weekly" not in {job.id for job in build_scheduler(unscheduled, pipeline).get_jobs()}
    pipeline.close()


def test_cli_preview_and_send(tmp_path: Path) -> None:
    from monitor.cli.main import app

    settings = tmp_path / "settings.toml"
    settings.write_text(
        '[schedule]\ntimezone = "Europe/Madrid"\n\n'
        '[email]\nrecipients = { weekly = ["board@example.com"] }\n\n'
        '[[brands]]\nname = "Calderix"\ncompetitors = ["Fonaris"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--settings", str(settings), "report", "weekly", *args])

    preview = tmp_path / "report.html"
    result = run("--week", "2025-W46", "--preview", str(preview))
    assert result.exit_code == 0, result.output
    page = preview.read_text(encoding="utf-8")
    assert "Weekly reputation report" in page and page.count("data:image/png;base64,") == 3
    bad = run("--week", "next")
    assert isinstance(bad.exception, VigiaError)  # main() prints it and exits with 2
    assert "ISO week like 2025-W47" in str(bad.exception)
    empty = run("--week", "2025-W46", "--send")
    assert empty.exit_code == 0, empty.output
    assert "Calderix 2025-W46: no mentions" in empty.output and "nothing sent" in empty.output
    assert not (tmp_path / "var" / "outbox").exists()
    db = open_database(load_settings(settings).database_url)
    seed_week(db)
    db.dispose()
    sent = run("--week", "2025-W46", "--send")
    assert sent.exit_code == 0, sent.output
    assert "Weekly report written" in sent.output
    again = run("--week", "2025-W46", "--send")
    assert "already sent" in again.output
    outbox = tmp_path / "var" / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 1
    assert (tmp_path / "var" / "reports" / "weekly-calderix-2025-W46.html").exists()


def test_a_week_with_a_clock_change_keeps_its_local_days(db: Database, make_settings: Any) -> None:
    """2025-W43 ends on the Sunday clocks go back in Madrid: that week lasts 169 hours."""
    settings = weekly_settings(make_settings)
    week = parse_week("2025-W43", settings)
    with db.transaction() as session:
        source = Source(name="El Diario", kind="rss")
        for key, local in [
            ("first", datetime(2025, 10, 20, 0, 10, tzinfo=MADRID)),
            ("last", datetime(2025, 10, 26, 23, 50, tzinfo=MADRID)),  # 22:50 UTC
            ("after", datetime(2025, 10, 27, 0, 10, tzinfo=MADRID)),  # the next week
        ]:
            add_mention(
                session,
                source,
                key,
                title=None,
                text="Calderix",
                seen=local + timedelta(minutes=30),
            )
    with db.sessions() as session:
        data = collect_weekly(session, settings, settings.brands[0], week.label, week.start)
    assert data.end - data.start == timedelta(days=7)  # wall clock; 169 real hours
    assert [d.counts.total for d in data.days] == [1, 0, 0, 0, 0, 0, 1]
    assert data.totals.counts.total == 2


def test_themes_merge_spellings_and_show_the_accented_one(db: Database, make_settings: Any) -> None:
    settings = weekly_settings(make_settings, "es")
    texts = [
        "Pésima atención de Calderix #Atención",
        "Calderix: ATENCIÓN al cliente nula, ¿alguien más? #atencion",
        "la atencion de Calderix, otra vez sin fibra",
        "Sin fibra en Móstoles desde ayer, Calderix",
    ]
    with db.transaction() as session:
        source = Source(name="Foro", kind="html")
        for i, text in enumerate(texts):
            add_mention(session, source, f"t{i}", title=None, text=text, seen=said(i, 10))
    with db.sessions() as session:
        data = collect_weekly(session, settings, settings.brands[0], "2025-W46", MONDAY)
    assert [(t.text, t.count) for t in data.hashtags] == [("#atención", 2)]
    terms = {t.text: t.count for t in data.terms}
    # "atención" counted once per mention (the hashtag does not count twice), spelt as written
    assert terms == {"atención": 3, "fibra": 2}


def test_a_restart_after_the_slot_catches_up(make_settings: Any, tmp_path: Path) -> None:
    from monitor.app.pipeline import Pipeline
    from monitor.app.scheduler import build_scheduler
    from monitor.core.storage import open_database
    from reports.weekly import slot_passed_this_week

    settings = make_settings(
        f"sqlite:///{tmp_path / 'v.db'}",
        schedule={"timezone": "Europe/Madrid", "weekly": "mon 08:30"},
    )
    monday_0829 = datetime(2025, 11, 17, 7, 29, tzinfo=UTC)
    assert not slot_passed_this_week(settings, monday_0829)
    assert slot_passed_this_week(settings, monday_0829 + timedelta(minutes=1))
    assert slot_passed_this_week(settings, datetime(2025, 11, 23, 22, 59, tzinfo=UTC))  # Sun
    assert not slot_passed_this_week(settings, datetime(2025, 11, 23, 23, 0, tzinfo=UTC))  # Mon
    assert not slot_passed_this_week(make_settings(), NOW)  # no weekly report configured
    for now, expected in [(monday_0829, False), (NOW, True)]:
        pipeline = Pipeline(settings, open_database(settings.database_url), clock=lambda n=now: n)
        jobs = {job.id: job for job in build_scheduler(settings, pipeline).get_jobs()}
        assert ("weekly-catch-up" in jobs) is expected and "weekly" in jobs
        if expected:  # run the job: the last complete week is written and delivered, once
            seed_week(pipeline.db)
            jobs["weekly-catch-up"].func()
            jobs["weekly"].func()
            with pipeline.db.sessions() as session:
                rows = session.execute(select(OutboxMessage.key, OutboxMessage.status)).all()
            assert rows == [("weekly:Calderix:2025-W46", "sent")]
        pipeline.close()
