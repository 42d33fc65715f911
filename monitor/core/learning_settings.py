"""`[learning]`: when Vigía trains a model on the team's corrections (README "Learning from
your corrections").

The nightly job (`train_at`, in `[schedule] timezone`) trains only when at least
`min_new_labels` corrections came in since the last training and at least `min_labels`
exist in all: measured, a model trained on a deployment's own labels was worse than the
shipped one below about 100 labels, so fewer are not worth a try.
"""

from __future__ import annotations

import re
from datetime import time

from pydantic import Field, field_validator

from monitor.core.settings_types import Strict

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class LearningSettings(Strict):
    """`[learning]`: the nightly training on the team's corrections."""

    #: false: no nightly training (`monitor train` still works by hand).
    enabled: bool = True
    train_at: str = "03:30"
    #: Labelled posts a family needs before a model is trained for it.
    min_labels: int = Field(100, ge=20)
    #: New or changed corrections since the last training that make the nightly job train.
    min_new_labels: int = Field(50, ge=1)

    @field_validator("train_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f'invalid time {value!r} — use 24-hour "HH:MM", like "03:30"')
        return value

    @property
    def train_time(self) -> time:
        hours, minutes = self.train_at.split(":")
        return time(int(hours), int(minutes))
