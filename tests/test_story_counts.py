"""Volume and spike counts count posts: a story carried by eight outlets is eight posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import MentionSource
from monitor.storage import Database
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
