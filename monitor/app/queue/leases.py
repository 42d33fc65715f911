"""Named leases with an expiry, in the database: one holder at a time, never forever.

`acquire` is one statement (`INSERT … ON CONFLICT DO UPDATE … WHERE expired OR same holder`,
monitor.core.storage.upsert_when), so two processes reaching for a free or expired lease at
once cannot both get it, on SQLite and PostgreSQL alike; the holder renews by acquiring
again, and releases by deleting its own row. A holder that dies stops renewing, and the
lease is anyone's once it expires: a source run's lease is how a redelivered task (its
worker killed) runs again, the scheduler's is how a standby takes over.

Expiry is compared with the callers' clocks (aware UTC): machines sharing a database must
keep their clocks in sync (NTP), to well under a lease period.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from monitor.core.queue_models import Lease
from monitor.core.storage import Database, upsert_when

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def process_holder(tag: str = "") -> str:
    """A holder name unique to this process (`tag host:pid:random`)."""
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return f"{tag} {me}" if tag else me


def acquire(db: Database, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease `name` until `now + ttl`; False while another holds it."""
    with db.transaction() as session:
        return upsert_when(
            session,
            Lease,
            Lease.name,
            {"name": name, "holder": holder, "expires_at": now + ttl},
            ("holder", "expires_at"),
            lambda proposed: or_(Lease.expires_at <= now, Lease.holder == proposed.holder),
        )


def release(db: Database, name: str, holder: str) -> None:
    """Give the lease up, if `holder` still has it (an expired, retaken lease is left alone)."""
    with db.transaction() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


@dataclass(frozen=True)
class Holding:
    holder: str
    expires_at: datetime


def holding(db: Database, name: str) -> Holding | None:
    """Who holds `name` and until when (expired or not); None when nobody took it."""
    with db.reading() as session:
        row = session.execute(
            select(Lease.holder, Lease.expires_at).where(Lease.name == name)
        ).first()
    return Holding(row[0], row[1]) if row else None


@contextmanager
def kept(
    db: Database, name: str, holder: str, ttl: timedelta, clock: Clock
) -> Iterator[threading.Event]:
    """Renew an acquired lease every third of `ttl` while the block runs, then release it.

    Yields an Event that is set if a renewal found the lease taken by someone else (this
    holder stalled for longer than the lease): the work goes on, since every write is
    idempotent, but the caller may say so.
    """
    stop, lost = threading.Event(), threading.Event()

    def renew() -> None:
        while not stop.wait(ttl.total_seconds() / 3):
            try:
                if not acquire(db, name, holder, ttl, clock()):
                    log.warning("lease %s was taken over while %s still held it", name, holder)
                    lost.set()
                    return
            except Exception:
                log.exception("could not renew lease %s (will try again)", name)

    thread = threading.Thread(target=renew, name=f"lease {name}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join()
        try:
            release(db, name, holder)
        except Exception:  # it expires by itself
            log.exception("could not release lease %s", name)
