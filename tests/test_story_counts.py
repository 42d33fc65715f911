"""Volume and spike counts count posts: a story carried by eight outlets is eight posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.core.models import Mention, MentionSource
from monitor.core.storage import Database
from tests.test_alerts import NEGATIVE, NOW, add_post, alert_settings, evaluate, source_in

OUTLETS = 8


def seed_syndicated_storm(db: Database) -> None:
    """Three quiet days, then one negative story carried by eight outlets within an hour."""
    with db.transaction() as session:
        source = source_in(session, "Google News")
        for k in range(6):
            moment = NOW - timedelta(hours=80) + k * timedelta(hours=12)
            add_post(session, source, f"quiet{k}", text=f"Calderix news {k}",
                     published=moment, seen=moment)
        story = add_post(session, source, "story", title="Calderix deja sin fibra a Vallecas",
                         text="", published=datetime(2026, 11, 20, 7, 2, tzinfo=UTC),
                         seen=NOW, author="El País", tags=[NEGATIVE])
        for k in range(1, OUTLETS):
            story.sources.append(MentionSource(
                source=source, external_id=f"story-{k}", author=f"Outlet {k}",
                published_at=datetime(2026, 11, 20, 7, 2 + 5 * k, tzinfo=UTC), first_seen_at=NOW,
            ))


def test_a_spike_counts_every_post_of_a_syndicated_story(db: Database, make_settings) -> None:
    seed_syndicated_storm(db)
    written = evaluate(alert_settings(make_settings), db)
    assert [m.kind for m in written] == ["alert-spike"]
    assert written[0].subject.startswith(
        f"Alert: Calderix mention spike — {OUTLETS} negative in one hour"
    )


def test_weekly_volume_counts_every_post_of_a_story(db: Database, make_settings) -> None:
    from reports.weekly_data import collect_weekly
    from tests.weekly_support import MONDAY, said, weekly_settings

    with db.transaction() as session:
        source = source_in(session, "Google News")
        story = add_post(session, source, "story", title="Calderix deja sin fibra a Vallecas",
                         text="", published=said(0, 9), seen=said(0, 10), tags=[NEGATIVE])
        for k in (1, 2):  # two more outlets carried it, the second on Tuesday
            story.sources.append(MentionSource(
                source=source, external_id=f"story-{k}", published_at=said(k - 1, 11),
                first_seen_at=said(k - 1, 12),
            ))
        add_post(session, source, "other", text="Calderix abre tienda",
                 published=said(2, 9), seen=said(2, 10))
    settings = weekly_settings(make_settings)
    with db.sessions() as session:
        data = collect_weekly(session, settings, settings.brands[0], "2025-W46", MONDAY)
    assert (data.totals.counts.total, data.totals.counts.negative) == (4, 3)
    assert [d.counts.total for d in data.days] == [2, 1, 1, 0, 0, 0, 0]
    assert [d.counts.negative for d in data.days] == [2, 1, 0, 0, 0, 0, 0]
    assert {s.name: s.mentions for s in data.share_of_voice}["Calderix"] == 4


def test_copies_arriving_in_a_later_run_still_make_a_spike(db: Database, make_settings) -> None:
    """The story is stored by one run, its seven copies by the next: the spike is found then."""
    settings = alert_settings(make_settings)
    with db.transaction() as session:
        source = source_in(session, "Google News")
        for k in range(6):
            moment = NOW - timedelta(hours=80) + k * timedelta(hours=12)
            add_post(session, source, f"quiet{k}", text=f"Calderix news {k}",
                     published=moment, seen=moment)
        add_post(session, source, "story", title="Calderix deja sin fibra a Vallecas", text="",
                 published=datetime(2026, 11, 20, 7, 2, tzinfo=UTC),
                 seen=NOW - timedelta(minutes=30), author="El País", tags=[NEGATIVE])
    assert evaluate(settings, db, NOW - timedelta(minutes=29)) == []
    with db.transaction() as session:
        story = session.get(Mention, session.scalar(select(Mention.id).where(
            Mention.fingerprint == "story")))
        for k in range(1, OUTLETS):
            story.sources.append(MentionSource(
                source=source_in(session, "Google News"), external_id=f"story-{k}",
                published_at=datetime(2026, 11, 20, 7, 2 + 5 * k, tzinfo=UTC), first_seen_at=NOW,
            ))
    assert [m.kind for m in evaluate(settings, db)] == ["alert-spike"]
