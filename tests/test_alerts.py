"""Crisis alerts end to end on a database: rules, routing, masking, storms, exactly-once, goldens.

Goldens live in tests/golden/alert_*; regenerate after an intended template change with
`VIGIA_UPDATE_GOLDEN=1 pytest tests/test_alerts.py` and review the diff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.app.alerts import evaluate_alerts, recipients_for
from monitor.core.models import (
    AlertState,
    BrandMatch,
    Mention,
    MentionSource,
    OutboxMessage,
    Source,
    Tag,
)
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.email_support import check_golden, parse, scrub

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DNI = "48215763N"
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc9f"

Span = tuple[str, str]  # (text found in the post, evidence reason)


def alert_settings(make_settings: Callable[..., Settings], language: str = "en", **alerts: Any):
    return make_settings(
        email={
            "from": "Vigía <vigia@example.com>",
            "language": language,
            "recipients": {
                "digest": ["comms@example.com"],
                "alerts": ["crisis@example.com", "oncall@example.com"],
                "leaks": ["security@example.com", "crisis@example.com"],
                "employees": ["hr@example.com"],
                "complaints": ["care@example.com"],
            },
        },
        alerts=alerts,
    )


def add_post(
    session: Session,
    source: Source,
    key: str,
    *,
    text: str,
    published: datetime,
    seen: datetime,
    title: str | None = None,
    reach: int = 0,
    author: str | None = "@someone",
    brand: str = "Calderix",
    tags: Sequence[tuple[str, str, float, Sequence[Span]]] = (),
) -> Mention:
    """A stored mention with tags whose evidence spans are located in title + text."""
    full = f"{title}\n{text}" if title else text
    mention = Mention(
        fingerprint=key,
        title=title,
        text=text,
        url=f"https://social.example/{key}",
        author=author,
        reach=reach,
        published_at=published,
        first_seen_at=seen,
        lang="es",
    )
    mention.sources.append(
        MentionSource(source=source, external_id=key, url=mention.url, first_seen_at=seen)
    )
    mention.brands.append(BrandMatch(brand=brand, terms=[brand]))
    for family, label, score, spans in tags:
        evidence = [
            {"start": full.index(s), "end": full.index(s) + len(s), "text": s, "reason": reason}
            for s, reason in spans
        ]
        mention.tags.append(
            Tag(brand=brand, family=family, label=label, score=score, evidence=evidence)
        )
    session.add(mention)
    return mention


def source_in(session: Session, name: str = "Mastodon #calderix") -> Source:
    found = session.scalars(select(Source).where(Source.name == name)).first()
    if found is None:
        found = Source(name=name, kind="rss")
        session.add(found)
    return found


NEGATIVE = ("sentiment", "negative", -0.8, ())


def seed_outage(db: Database) -> None:
    """Three quiet days (a post every 12 hours), then eight negative posts in one hour."""
    with db.transaction() as session:
        source = source_in(session)
        for k in range(6):
            moment = NOW - timedelta(hours=80) + k * timedelta(hours=12)
            add_post(
                session,
                source,
                f"quiet{k}",
                text=f"Calderix news {k}",
                published=moment,
                seen=moment,
            )
        for k in range(8):
            add_post(
                session,
                source,
                f"outage{k}",
                text=f"Sin fibra de Calderix en Vallecas desde las 8, van {k} horas <b>¡!</b>",
                published=datetime(2026, 11, 20, 7, 4 + 6 * k, tzinfo=UTC),
                seen=NOW,
                reach=100 * k,
                author=f"@vecino{k}",
                tags=[NEGATIVE],
            )


def seed_leak(db: Database, seen: datetime = NOW, key: str = "leak") -> None:
    with db.transaction() as session:
        add_post(
            session,
            source_in(session),
            key,
            text=f"El técnico de Calderix Juan Pérez, DNI {DNI}, no vino. Filtró esto: {STRIPE}",
            published=seen - timedelta(minutes=5),
            seen=seen,
            tags=[
                ("leak", "pii", 0.95, [(DNI, "pii:dni")]),
                ("leak", "secret", 0.9, [(STRIPE, "secret:stripe_key")]),
            ],
        )


def outbox(db: Database) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def evaluate(settings: Settings, db: Database, now: datetime = NOW) -> list[OutboxMessage]:
    return evaluate_alerts(settings, db, now=now).written


def bodies(row: OutboxMessage) -> tuple[str, str]:
    message = parse(row.message)
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_a_spike_alerts_once_with_its_numbers_and_posts(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings)
    seed_outage(db)
    written = evaluate(settings, db)
    assert [m.kind for m in written] == ["alert-spike"]
    row = written[0]
    assert row.recipients == ["crisis@example.com", "oncall@example.com"]
    assert row.subject == ("Alert: Calderix mention spike — 8 negative in one hour (usual: 0)")
    text, html = bodies(row)
    assert "== 20 Nov 2026 08:00–09:00 ==" in text  # the hour, in Madrid time
    assert "8 mentions (negative) in this hour" in text
    assert "against a usual 0 (median; spread 1)" in text
    assert "Baseline: the previous 72 hours" in text
    assert "https://social.example/outage7" in html  # the posts are linked
    assert "<b>" not in html and "&lt;b&gt;" in html
    # Exactly once: evaluating the same mentions again writes nothing.
    assert evaluate(settings, db, NOW + timedelta(minutes=5)) == []
    assert len(outbox(db)) == 1


def test_a_high_severity_leak_goes_to_alerts_and_leaks_masked(db: Database, make_settings):
    settings = alert_settings(make_settings)
    seed_leak(db)
    written = evaluate(settings, db)
    assert [m.kind for m in written] == ["alert-leak"]
    row = written[0]
    assert row.recipients == ["crisis@example.com", "oncall@example.com", "security@example.com"]
    raw = row.message.decode("ascii")
    text, html = bodies(row)
    for shown in (raw, text, html, row.subject):
        assert DNI not in shown and STRIPE not in shown
    assert "4821****N" in text and "sk_live_…9f" in text
    assert "a DNI number" in row.subject and "a secret" in row.subject


def test_low_severity_leaks_and_other_brands_do_not_alert(db: Database, make_settings):
    settings = alert_settings(make_settings)
    with db.transaction() as session:
        source = source_in(session)
        add_post(  # an email address alone is digest material, not a crisis
            session,
            source,
            "mail",
            text="Escribid a pepe@example.com sobre Calderix",
            published=NOW,
            seen=NOW,
            tags=[("leak", "pii", 0.9, [("pepe@example.com", "pii:email")])],
        )
        add_post(  # a brand that is not configured (a competitor row) never alerts
            session,
            source,
            "other",
            text=f"Redalia DNI {DNI}",
            published=NOW,
            seen=NOW,
            brand="Redalia",
            tags=[("leak", "pii", 0.9, [(DNI, "pii:dni")])],
        )
    assert evaluate(settings, db) == []


def test_a_negative_post_with_high_reach_alerts(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings, reach_threshold=20_000)
    with db.transaction() as session:
        source = source_in(session, "El Diario")
        add_post(
            session,
            source,
            "big-bad",
            title="Calderix deja sin fibra a Madrid",
            text="Miles de clientes sin servicio.",
            published=NOW,
            seen=NOW,
            reach=48_000,
            tags=[NEGATIVE],
        )
        add_post(
            session,
            source,
            "big-good",
            text="Calderix mola",
            published=NOW,
            seen=NOW,
            reach=90_000,
            tags=[("sentiment", "positive", 0.9, ())],
        )
        add_post(
            session,
            source,
            "small-bad",
            text="Calderix falla",
            published=NOW,
            seen=NOW,
            reach=19_999,
            tags=[NEGATIVE],
        )
    written = evaluate(settings, db)
    assert [m.kind for m in written] == ["alert-reach"]
    text, _ = bodies(written[0])
    assert "Calderix deja sin fibra a Madrid" in text and "reach of 48,000" in text
    assert "Calderix mola" not in text and "Calderix falla" not in text


def test_a_storm_is_one_alert_then_at_most_hourly_updates(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings, cooldown="6h", update_every="1h")
    t0 = NOW
    steps = [  # (minutes after t0, a new leaked post?)
        (0, True),  # alert
        (10, True),  # held
        (20, True),  # held
        (70, False),  # nothing new, but the held two are due: update
        (80, True),  # held
        (150, True),  # update with both
        (151, False),  # nothing
        (150 + 6 * 60, True),  # quiet for the cooldown: a new storm, a new alert
    ]
    for minutes, new_post in steps:
        moment = t0 + timedelta(minutes=minutes)
        with time_machine.travel(moment, tick=False):
            now = datetime.now(UTC)
            if new_post:
                seed_leak(db, seen=now, key=f"leak-{minutes}")
            evaluate_alerts(settings, db, now=now)
    rows = outbox(db)
    keys = [row.key.split(":", 2)[2] for row in rows]
    assert keys == ["leak:1.1", "leak:1.2", "leak:1.3", "leak:2.1"]
    subjects = [row.subject.split(":")[0] for row in rows]
    assert subjects == ["Alert", "Update", "Update", "Alert"]
    counts = [row.subject.split("— ")[1].split(" ")[0] for row in rows]
    assert counts == ["1", "2", "2", "1"]
    text, _ = bodies(rows[1])
    assert "This storm started 20 Nov 2026 10:00" in text and "1 sent so far" in text
    with db.sessions() as session:
        state = session.scalars(select(AlertState).where(AlertState.rule == "leak")).one()
        assert (state.episode, state.sequence, state.pending) == (2, 1, [])


def test_alerts_can_be_turned_off(db: Database, make_settings) -> None:
    seed_leak(db)
    assert evaluate(alert_settings(make_settings, enabled=False), db) == []


def test_recipients_per_rule(make_settings) -> None:
    settings = alert_settings(make_settings)
    assert recipients_for(settings, "spike") == ["crisis@example.com", "oncall@example.com"]
    assert recipients_for(settings, "leak") == [
        "crisis@example.com",
        "oncall@example.com",
        "security@example.com",
    ]


def test_an_alert_and_its_state_commit_together(db: Database, make_settings, monkeypatch):
    """A failure while writing the email leaves no state behind: the next run alerts."""
    settings = alert_settings(make_settings)
    seed_leak(db)
    import monitor.app.alerts.engine as engine

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine, "enqueue_for_routes", broken)
    with pytest.raises(RuntimeError):
        evaluate(settings, db)
    with db.sessions() as session:  # the leak rule's state did not move past the post
        leak_states = select(func.count()).select_from(AlertState).where(AlertState.rule == "leak")
        assert session.scalar(leak_states) == 0
    monkeypatch.undo()
    assert [m.kind for m in evaluate(settings, db)] == ["alert-leak"]


@pytest.mark.parametrize(
    ("name", "language", "seed"),
    [("spike", "es", seed_outage), ("leak", "en", seed_leak), ("reach", "es", None)],
)
def test_alert_emails_match_golden(db: Database, make_settings, name, language, seed) -> None:
    settings = alert_settings(make_settings, language)
    if seed is not None:
        seed(db)
    else:
        with db.transaction() as session:
            add_post(
                session,
                source_in(session, "El Diario"),
                "big",
                title="Calderix, caída total",
                text="Ni fibra ni móvil en todo Madrid. Llamad al 612 345 678 si sabéis algo.",
                published=NOW,
                seen=NOW,
                reach=48_000,
                author="Ana Ruiz",
                tags=[NEGATIVE],
            )
    (row,) = evaluate(settings, db)
    message = parse(row.message)
    check_golden(f"alert_{name}_{language}.eml", scrub(row.message))
    check_golden(f"alert_{name}_{language}.txt", message.get_body(("plain",)).get_content())
    check_golden(f"alert_{name}_{language}.html", message.get_body(("html",)).get_content())


def test_a_burst_of_leaks_is_one_readable_alert(db: Database, make_settings) -> None:
    settings = alert_settings(make_settings)
    for k in range(12):
        seed_leak(db, key=f"burst{k}")
    (row,) = evaluate(settings, db)
    assert "— 12 post(s)" in row.subject
    text, _ = bodies(row)
    assert text.count("https://social.example/burst") == 10
    assert "2 more finding(s) not shown here" in text


def test_a_run_interrupted_before_alerting_is_caught_up_later(db: Database, make_settings):
    """Mentions stored by a run whose alerting never happened (a crash, a kill) are examined
    by the next evaluation, e.g. the scheduler's minutely flush; and only once."""
    settings = alert_settings(make_settings)
    seed_leak(db, seen=NOW)  # stored, then the process died before evaluating alerts
    later = NOW + timedelta(minutes=30)
    assert [m.kind for m in evaluate(settings, db, now=later)] == ["alert-leak"]
    assert evaluate(settings, db, now=later + timedelta(minutes=1)) == []


def test_mentions_older_than_the_catch_up_window_never_alert(db: Database, make_settings):
    settings = alert_settings(make_settings)
    seed_leak(db, seen=NOW)
    assert evaluate(settings, db, now=NOW + timedelta(days=3)) == []
