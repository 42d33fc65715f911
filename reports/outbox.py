"""The outbox: an email is written to the database first and delivered afterwards.

`enqueue` builds the whole MIME message (stdlib `email`, never strings) and stores its bytes
in the caller's transaction, so a report and the record that it was made commit together.
Its Message-ID is fixed there: every retry sends the very same bytes, and a recipient's
client can tell a retry from a new email. A `key` names what the email is about
(`digest:2025-11-21`); the unique constraint on it makes a second enqueue a no-op, even
from another worker at the same moment (`INSERT … ON CONFLICT DO NOTHING`, no exception).

`deliver_pending` claims one due row at a time with a single UPDATE (`FOR UPDATE SKIP
LOCKED` inside it on PostgreSQL; SQLite's one writer serialises it) that writes a lease,
`claimed_until` and `claimed_by`; then it sends outside any transaction, so a slow SMTP
server never holds a database lock. The row is marked sent the moment the server has
accepted the message (the mailer calls back right after the 250 reply, before QUIT and
before any log line), so a slow QUIT, a closed terminal or a broken pipe cannot undo it.
No deliverer, not even `monitor outbox --retry` (`make_due`), takes a row whose lease is
still running.

What SMTP cannot close: from the end of DATA until the server's 250 has been read and
that one UPDATE committed, the server may hold the message while the row is not yet sent
(there is no two-phase commit between a mail server and a database). The window is as long
as the server takes to answer DATA, which a slow server stretches to seconds (RFC 1047);
tests/test_queue_faults.py measures it. A deliverer killed by `kill -9` or a power cut in
it leaves the row claimed; when the lease ends (`CLAIM_LEASE`) it is sent again, with the
same Message-ID, so at worst a recipient sees one duplicate that clients can thread or drop.

Chat and webhook notifications (`reports.notify_outbox`) are rows of this same table, with
their `channel` (the Apprise scheme) and `target` (the URL template, never a secret): the same
claim, lease, backoff and "marked sent once accepted", handed to a `Notifier` instead of the
mailer. An HTTP webhook has the same window as SMTP (between the service's 2xx and the UPDATE);
a webhook body carries the row's key as `id`, so a receiver can drop that duplicate too.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from monitor.core.errors import DeliveryError
from monitor.core.models import OutboxMessage
from monitor.core.storage import Database, insert_if_absent
from reports.mailer import Mailer
from reports.notifier import AppriseNotifier, Notifier
from reports.render import one_line

log = logging.getLogger(__name__)

PENDING, SENT, DEAD = "pending", "sent", "dead"
EMAIL = "email"  # the channel of an email row; notifications carry their Apprise scheme
MAX_ATTEMPTS = 20
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
JITTER = 0.1  # up to +10 %, so a fleet of workers does not retry in lockstep
CLAIM_LEASE = timedelta(minutes=15)
MAX_SUBJECT = 250
MAX_ERROR = 1000


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    pending: int
    dead: int = 0
    #: Why this call's failed attempts failed (scrubbed of the SMTP password); diagnostics,
    #: left out of equality so that reports compare by their counts.
    errors: tuple[str, ...] = field(default=(), compare=False)


def backoff(attempts: int, message_id: str = "") -> timedelta:
    """Delay after the `attempts`-th failure: 1m, 2m, 4m … capped at 6h, plus ≤10 % jitter.

    The jitter is derived from the Message-ID and the attempt number rather than a random
    generator, so it spreads messages apart while a test on a fake clock stays exact.
    """
    base = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    seed = hashlib.sha256(f"{message_id}:{attempts}".encode()).digest()
    fraction = int.from_bytes(seed[:4], "big") / 2**32
    return base + base * (JITTER * fraction)


def build_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    html: str,
    text: str,
    now: datetime,
    images: Mapping[str, bytes] | None = None,
) -> EmailMessage:
    """A multipart/alternative message whose headers cannot be injected into.

    The subject usually quotes fetched content, so every line break (CR, LF and the Unicode
    ones) is collapsed to a space before it becomes a header; addresses come from settings
    and are parsed, and one carrying a line break is refused outright.
    """
    message = EmailMessage(policy=email.policy.SMTP)
    from_address = _address(sender)
    message["From"] = from_address
    if recipients:
        message["To"] = [_address(r) for r in recipients]
    clean_subject = one_line(subject)
    if len(clean_subject) > MAX_SUBJECT:
        clean_subject = clean_subject[: MAX_SUBJECT - 1] + "…"
    message["Subject"] = clean_subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=from_address.domain or "localhost")
    message["List-Unsubscribe"] = f"<mailto:{from_address.addr_spec}?subject=unsubscribe>"
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the body 7-bit with short lines: no reliance on 8BITMIME, and
    # inlined CSS (very long lines) cannot break the 998-character SMTP line limit.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if images:
        # Charts travel inside the email (multipart/related), shown by `src="cid:<name>"`:
        # clients block remote images by default, and a report must not phone home.
        html_part = message.get_payload()[1]
        for content_id, png in images.items():
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{content_id}>")
    return message


def _address(value: str) -> Address:
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"line break in email address {value!r}")
    name, addr = parseaddr(value)
    if "@" not in addr:
        raise ValueError(f"not an email address: {value!r}")
    username, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=username, domain=domain)


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    html: str,
    text: str,
    now: datetime,
    images: Mapping[str, bytes] | None = None,
) -> OutboxMessage | None:
    """Write an email to the outbox in `session`'s transaction; None if `key` already exists.

    A message without recipients is still written (the file outbox needs none) and logged,
    so that a missing `[email.recipients]` is visible rather than a silently dropped email.
    """
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return None
    message = build_message(
        sender=sender,
        recipients=recipients,
        subject=subject,
        html=html,
        text=text,
        now=now,
        images=images,
    )
    values = {
        "key": key,
        "kind": kind,
        "message_id": str(message["Message-ID"]),
        "subject": str(message["Subject"]),
        "recipients": list(recipients),
        "message": message.as_bytes(),
        "html": html,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "channel": EMAIL,
    }
    new_id = insert_if_absent(session, OutboxMessage, OutboxMessage.key, values)
    if new_id is None:
        return None
    if not recipients:
        log.warning("outbox %s has no recipients — only a file outbox can deliver it", key)
    return session.get(OutboxMessage, new_id)


def parse_stored(raw: bytes) -> EmailMessage:
    """The stored bytes back as a message: exactly what was written, for every retry."""
    return email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.SMTP)  # type: ignore[return-value]


def worker_name() -> str:
    """Who holds a claim (`host:pid`), shown by `monitor outbox` while a row is being sent."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now)


def deliver_pending(
    db: Database,
    mailer: Mailer,
    now: datetime,
    *,
    limit: int = 50,
    notifier: Notifier | None = None,
) -> DeliveryReport:
    """Send up to `limit` due messages, each claimed, sent and recorded on its own.

    Emails go to `mailer`; chat and webhook notifications to `notifier` (Apprise, reading the
    URLs' secrets from the environment, when none is given).
    """
    notifier = notifier or AppriseNotifier()
    sent = failed = 0
    worker = worker_name()
    errors: list[str] = []
    for _ in range(limit):
        claimed = _claim(db, now, worker)
        if claimed is None:
            break
        row_id, message_id, raw, attempts, channel, target = claimed
        marked = False

        def accepted(row_id: int = row_id) -> None:
            nonlocal marked
            if not marked:
                _mark_sent(db, row_id, now)
                marked = True

        try:
            if channel == EMAIL:
                mailer.send(parse_stored(raw), on_accepted=accepted)
            else:
                notifier.send(channel, target or "", raw, accepted)
        except DeliveryError as exc:
            failed += 1
            errors.append(str(exc))
            _record_failure(db, row_id, message_id, attempts + 1, str(exc), now)
            continue
        except Exception as exc:
            _record_failure(
                db, row_id, message_id, attempts + 1, f"{type(exc).__name__}: {exc}", now
            )
            raise
        accepted()  # a mailer that does not call back: delivered once send returns
        sent += 1
    with db.transaction() as session:
        counts = dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    return DeliveryReport(
        sent, failed, counts.get(PENDING, 0), counts.get(DEAD, 0), tuple(dict.fromkeys(errors))
    )


def _claim(
    db: Database, now: datetime, worker: str
) -> tuple[int, str, bytes, int, str, str | None] | None:
    """Take the next due, unclaimed message by writing a lease on it, atomically."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
            _unclaimed(now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id == due, OutboxMessage.status == PENDING, _unclaimed(now))
        .values(claimed_until=now + CLAIM_LEASE, claimed_by=worker)
        .returning(
            OutboxMessage.id,
            OutboxMessage.message_id,
            OutboxMessage.message,
            OutboxMessage.attempts,
            OutboxMessage.channel,
            OutboxMessage.target,
        )
        .execution_options(synchronize_session=False)
    )
    with db.transaction() as session:
        row = session.execute(claim).first()
    return (row[0], row[1], bytes(row[2]), row[3], row[4] or EMAIL, row[5]) if row else None


def _mark_sent(db: Database, row_id: int, now: datetime) -> None:
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
            .values(
                status=SENT, sent_at=now, next_attempt_at=now, claimed_until=None, claimed_by=None
            )
        )


def _record_failure(
    db: Database, row_id: int, message_id: str, attempts: int, error: str, now: datetime
) -> None:
    dead = attempts >= MAX_ATTEMPTS
    next_at = now + backoff(attempts, message_id)
    log.warning(
        "delivery of %s failed (attempt %d%s): %s",
        message_id,
        attempts,
        ", giving up" if dead else f", next at {next_at:%Y-%m-%d %H:%M:%S}",
        error,
    )
    with db.transaction() as session:
        session.execute(
            # Only a row still pending: an error raised after the server accepted the message
            # (and the row was marked sent) must not turn it back into a retry.
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
            .values(
                attempts=attempts,
                last_error=error[:MAX_ERROR],
                next_attempt_at=next_at,
                status=DEAD if dead else PENDING,
                claimed_until=None,
                claimed_by=None,
            )
        )


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as `monitor outbox` lists it (without the message bytes)."""

    id: int
    key: str
    kind: str
    subject: str
    recipients: list[str]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    claimed_until: datetime | None = None
    claimed_by: str | None = None
    channel: str = EMAIL

    @property
    def state(self) -> str:
        """sent, pending, retrying (failed, will try again) or failed (gave up)."""
        if self.status == PENDING and self.attempts:
            return "retrying"
        return "failed" if self.status == DEAD else self.status


def list_outbox(db: Database, *, limit: int = 50, unsent_only: bool = False) -> list[OutboxEntry]:
    """The newest `limit` messages (only those not yet sent when `unsent_only`), newest first."""
    query = select(
        OutboxMessage.id,
        OutboxMessage.key,
        OutboxMessage.kind,
        OutboxMessage.subject,
        OutboxMessage.recipients,
        OutboxMessage.status,
        OutboxMessage.attempts,
        OutboxMessage.next_attempt_at,
        OutboxMessage.last_error,
        OutboxMessage.created_at,
        OutboxMessage.sent_at,
        OutboxMessage.claimed_until,
        OutboxMessage.claimed_by,
        OutboxMessage.channel,
    ).order_by(OutboxMessage.id.desc())
    if unsent_only:
        query = query.where(OutboxMessage.status != SENT)
    with db.sessions() as session:
        return [OutboxEntry(*row) for row in session.execute(query.limit(limit)).all()]


def make_due(db: Database, now: datetime) -> int:
    """Every unsent message (pending, retrying, or given up) becomes due now; returns how many.

    Attempts are kept: a message that had given up gets exactly one more try, and the
    backoff resumes from where it was if that fails too. A message another deliverer has
    claimed is left alone until its lease ends: it may already be in the recipient's inbox.
    """
    with db.transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status.in_((PENDING, DEAD)), _unclaimed(now))
            .values(status=PENDING, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)
