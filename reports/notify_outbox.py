"""Writing chat and webhook notifications to the outbox, beside the email they accompany.

Each producer (alerts, the digest, the routed and weekly emails, escalations) calls
`enqueue_for_routes` in the transaction that writes its email, so the email, its notifications
and the state that decided them commit together or not at all. One row per target: its key is
the email's key plus the channel and a digest of the URL template (`alert:3:spike:1.1>slack:
5f0c…`), so a second enqueue is a no-op for each target, even from another worker. The
message is rendered for its channel here and stored whole: every retry sends the same text.
Delivery, retries and the lease are `reports.outbox`'s, shared with email.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.core.models import OutboxMessage
from monitor.core.routes import emails, urls
from monitor.core.settings import Settings
from monitor.core.storage import insert_if_absent
from monitor.core.targets import Target, mask_template
from reports.chat_format import render_message
from reports.notice import Notice
from reports.outbox import MAX_SUBJECT, PENDING, enqueue

log = logging.getLogger(__name__)

MAX_KEY = 200


def target_key(key: str, target: Target) -> str:
    """The outbox key of `key`'s notification to `target` (unique per event and target)."""
    digest = hashlib.sha256(target.value.encode()).hexdigest()[:12]
    suffix = f">{target.channel}:{digest}"
    return key[: MAX_KEY - len(suffix)] + suffix


def enqueue_notice(
    session: Session, target: Target, *, key: str, kind: str, notice: Notice, now: datetime
) -> OutboxMessage | None:
    """Write `notice` for `target`; None when that event already has its row for this target."""
    row_key = target_key(key, target)
    message = render_message(notice, target.channel, key=row_key, created=now)
    title = message.title if len(message.title) <= MAX_SUBJECT else message.title[:249] + "…"
    values = {
        "key": row_key,
        "kind": kind,
        "message_id": f"<{uuid.uuid4().hex}@notify.vigia>",
        "subject": title,
        "recipients": [mask_template(target.value)],
        "message": json.dumps(message.as_json(), ensure_ascii=False).encode("utf-8"),
        "html": "",
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "channel": target.channel,
        "target": target.value,
    }
    new_id = insert_if_absent(session, OutboxMessage, OutboxMessage.key, values)
    if new_id is None:
        return None
    log.debug("outbox %s: %s notification written", row_key, target.channel)
    return session.get(OutboxMessage, new_id)


def enqueue_for_routes(
    session: Session,
    settings: Settings,
    *,
    routes: Sequence[str],
    key: str,
    kind: str,
    subject: str,
    html: str,
    text: str,
    now: datetime,
    notice: Callable[[], Notice],
    images: Mapping[str, bytes] | None = None,
) -> OutboxMessage | None:
    """The email for `routes`' addresses and a notification for each chat/webhook target.

    The email is written when the routes have an address, or when they have no target at all
    (then, as always, it goes to the file outbox or is listed with "no recipients"); a route of
    chat targets only gets no email. `notice` is built only when some target needs it.
    Returns the email row, else the first notification written, else None (all existed).
    """
    addresses = emails(settings, *routes)
    chats = urls(settings, *routes)
    written: OutboxMessage | None = None
    if addresses or not chats:
        written = enqueue(
            session, key=key, kind=kind, sender=settings.email.from_, recipients=addresses,
            subject=subject, html=html, text=text, now=now, images=images,
        )
    if chats:
        built = notice()
        rows = [
            row
            for target in chats
            if (row := enqueue_notice(session, target, key=key, kind=kind, notice=built, now=now))
        ]
        written = written or (rows[0] if rows else None)
    return written
