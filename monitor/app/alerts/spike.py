"""The spike detector: is this hour's count far above what is normal for it?

Pure functions over hourly counts, so the statistics are tested on generated histories
without a database or a clock. "Normal" is a robust baseline: the median and the MAD
(median absolute deviation) of the same hour-of-week, and its two neighbouring hours, over
the previous weeks, because mention volume follows the week (Monday mornings are busy) and
a median ignores the odd past storm that a mean would drag along. With fewer than
`MIN_WEEKS` weeks of history the baseline falls back to the recent hours before the one
being judged.

The spread used is max(1.4826 × MAD, √(median + 1)): 1.4826 × MAD estimates a standard
deviation for normal data, and the Poisson-style floor stops a flat history (MAD = 0) from
turning every extra post into a crisis. The "+ 1" matters for small counts, where the median
of a few samples often sits below the true rate: on generated Poisson(3) histories it halved
false alarms (1.5 → 0.75 per brand-week at sensitivity 3, tests/test_spike.py).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
MIN_WEEKS = 3
MIN_RECENT_HOURS = 6
# Each past week contributes the same hour and its two neighbours: four weeks give twelve
# samples instead of four, which steadies the median without blurring the weekly shape.
NEIGHBOURS = (-1, 0, 1)
MAD_TO_SIGMA = 1.4826

WEEKLY, RECENT = "weekly", "recent"


def hour_of(moment: datetime) -> datetime:
    """The UTC hour a moment falls in (its bucket)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Baseline:
    """What an hour is compared with: how it was computed, over how many weeks (weekly) or
    hours (recent), and its spread."""

    method: str
    samples: int
    median: float
    mad: float

    @property
    def spread(self) -> float:
        return max(MAD_TO_SIGMA * self.mad, math.sqrt(self.median + 1.0))

    def threshold(self, sensitivity: float) -> float:
        """The count an hour must exceed to be a spike."""
        return self.median + sensitivity * self.spread

    def score(self, count: int) -> float:
        """How many spreads above the median `count` is (a robust z-score)."""
        return (count - self.median) / self.spread


def baseline(
    counts: Mapping[datetime, int],
    hour: datetime,
    data_start: datetime,
    *,
    weeks: int,
    recent_hours: int,
) -> Baseline | None:
    """The baseline for `hour` from `counts` (hour → count, missing hours count 0).

    Only hours at or after `data_start` (the first hour anything was collected) are samples:
    an hour before monitoring began is unknown, not zero. None when there is too little
    history to say what is normal.
    """
    start = hour_of(data_start)
    past_weeks = [hour - k * WEEK for k in range(1, weeks + 1) if hour - k * WEEK >= start]
    if len(past_weeks) >= min(MIN_WEEKS, weeks):
        weekly = [
            counts.get(same + shift * HOUR, 0)
            for same in past_weeks
            for shift in NEIGHBOURS
            if same + shift * HOUR >= start
        ]
        return _summarise(WEEKLY, weekly, len(past_weeks))
    recent = [
        counts.get(hour - k * HOUR, 0)
        for k in range(1, recent_hours + 1)
        if hour - k * HOUR >= start
    ]
    if len(recent) >= MIN_RECENT_HOURS:
        return _summarise(RECENT, recent)
    return None


def _summarise(method: str, samples: list[int], periods: int | None = None) -> Baseline:
    median = float(statistics.median(samples))
    mad = float(statistics.median(abs(value - median) for value in samples))
    return Baseline(method, periods if periods is not None else len(samples), median, mad)


def is_spike(count: int, base: Baseline | None, *, min_count: int, sensitivity: float) -> bool:
    """A spike: at least `min_count`, and above the baseline's threshold."""
    return base is not None and count >= min_count and count > base.threshold(sensitivity)
