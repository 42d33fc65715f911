"""`[queue]`: where jobs go when one machine is not enough (README "Scale out").

An empty `broker` (the default) keeps the embedded scheduler and its thread pool in one
process; a `redis://` or `amqp://` URL turns every job into a Celery task, run by
`monitor worker` processes and enqueued by one `monitor scheduler`. The broker's password is a
secret: it is refused in the file and read from `VIGIA_QUEUE_BROKER`, which replaces the
file's URL as a whole.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta

from pydantic import Field, field_validator

from monitor.core.errors import SettingsError
from monitor.core.settings_problems import hide_password
from monitor.core.settings_types import Interval, Strict, parse_interval

BROKER_ENV = "VIGIA_QUEUE_BROKER"
_BROKER = re.compile(r"^(redis|rediss|amqp|amqps|pyamqp)://")


def check_broker(url: str) -> str:
    """The URL if it names a broker Vigía supports; ValueError with the accepted forms."""
    if url and not _BROKER.match(url):
        raise ValueError(
            f"unsupported broker URL {hide_password(url)!r} — use redis://host:6379/0 or "
            'amqp://user@host:5672/vhost, or "" for the embedded scheduler'
        )
    return url


class QueueSettings(Strict):
    """`[queue]`: the broker, the queues' names and the leases that keep runs single."""

    broker: str = ""
    #: Names the queues (`vigia.sources`, `vigia.reports`), the workers' node names and the
    #: control exchange, so two deployments (or two test runs) can share one broker.
    prefix: str = Field("vigia", pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    #: Redis: how long a task taken by a worker that died stays invisible before another
    #: worker gets it. Must exceed the longest run (RabbitMQ redelivers at once instead).
    visibility_timeout: Interval = "1h"
    #: How long a source run's lease lasts without renewal (renewed every third of it).
    source_lease: Interval = "5m"
    #: How long the scheduler's leadership lasts without renewal: a standby scheduler takes
    #: over about this long after the leader died.
    scheduler_lease: Interval = "30s"
    #: How long finished task records are kept for `monitor status`.
    keep_runs: Interval = "1d"
    #: How long the unfinished tasks of a waiting `monitor run --once` may all stand still
    #: (none queued, no worker holding one) before they are taken for lost and published
    #: again: a Redis that keeps nothing on disk loses its queue when it restarts.
    republish_after: Interval = "30s"

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        return check_broker(value)

    @property
    def visibility(self) -> timedelta:
        return parse_interval(self.visibility_timeout)

    @property
    def source_lease_delta(self) -> timedelta:
        return parse_interval(self.source_lease)

    @property
    def scheduler_lease_delta(self) -> timedelta:
        return parse_interval(self.scheduler_lease)

    @property
    def keep_delta(self) -> timedelta:
        return parse_interval(self.keep_runs)

    @property
    def republish_delta(self) -> timedelta:
        return parse_interval(self.republish_after)

    def queue(self, short: str) -> str:
        """The full name of one of Vigía's queues (`sources` → `vigia.sources`)."""
        return f"{self.prefix}.{short}"

    @property
    def broker_url(self) -> str:
        """The broker to use: `$VIGIA_QUEUE_BROKER` when set (it may hold a password), else
        the file's `broker`; "" for the embedded mode."""
        from_env = os.environ.get(BROKER_ENV, "").strip()
        if not from_env:
            return self.broker
        try:
            return check_broker(from_env)
        except ValueError as exc:
            raise SettingsError([(f"${BROKER_ENV}", str(exc))], None) from None

    @property
    def enabled(self) -> bool:
        return bool(self.broker_url)
