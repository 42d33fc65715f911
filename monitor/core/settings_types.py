"""What every settings section shares: `Strict` (unknown keys are errors) and interval
strings ("30s", "15m", "2h", "1d").

Apart from monitor.core.settings so that sections kept in their own modules
(monitor.core.queue_settings) use them without importing the schema that includes them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors: a typo in settings must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_interval(value: str) -> timedelta:
    """'15m' → 15 minutes. Raises ValueError with the accepted forms."""
    match = _INTERVAL.match(value)
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"invalid interval {value!r} — use a positive number and a unit, like "
            '"30s", "15m", "2h" or "1d"'
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _check_interval(value: str) -> str:
    parse_interval(value)
    return value


Interval = Annotated[str, AfterValidator(_check_interval)]
