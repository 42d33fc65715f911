"""Cooldown and storm handling: one alert, then at most one update per `update_every`.

A rule (per brand) is "in a storm" while it keeps finding something new less than
`cooldown` after the last time it did. The first finding of a storm is an alert; later
findings are held and sent together as an update once `update_every` has passed since the
last email, so a storm of 200 leaked posts is one alert and a few updates, never 200 emails.
Pure, so the timing rules are tested on plain datetimes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

Decision = Literal["alert", "update", "hold"]


def decide(
    *,
    now: datetime,
    last_fired_at: datetime | None,
    last_sent_at: datetime | None,
    cooldown: timedelta,
    update_every: timedelta,
) -> Decision:
    """What to do with a new finding: start a storm, send an update, or hold it for later."""
    if last_fired_at is None or now - last_fired_at >= cooldown:
        return "alert"
    return (
        "update" if update_due(now=now, last_sent_at=last_sent_at, every=update_every) else "hold"
    )


def update_due(*, now: datetime, last_sent_at: datetime | None, every: timedelta) -> bool:
    """Whether held findings may go out now."""
    return last_sent_at is None or now - last_sent_at >= every
