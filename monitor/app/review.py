"""The review workflow's write side: every action a team member takes is a stored fact.

`apply_action` is what the web pages and the JSON API both call. It checks the role rules
(monitor.core.access, the one place they live), records one `Action` row (who, when, what,
and for a correction what it was before), updates the mention's review state or tags, and
keeps each correction as a `Label` (monitor.app.labels), so the team's reviews become
labelled examples for `monitor eval` and later for a learned model.

A mention the actor's role may not see is answered `NotFound`, never `Forbidden`: telling a
comms user "you may not act on mention 812" would confirm that a leak or an employee post
exists there. The mention row is locked (FOR UPDATE on PostgreSQL; SQLite has one writer
anyway) for the action, so two reviewers acting on one mention at once are serialised: the
second sees the first's result, and its Action's "from" says so.

Brand: a mention may match several brands (and competitors, stored for share of voice);
an action concerning a brand takes `brand`, by default the first of the mention's brands
that is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from classifiers.tags import LEAK_LABELS, POLICY_LABELS, SENTIMENT_LABELS
from monitor.app.labels import family_answer, set_label
from monitor.core.access import may_act, may_reveal, may_see
from monitor.core.errors import VigiaError
from monitor.core.models import Action, Mention, Tag, User
from monitor.core.settings import Settings
from reports.escalation import EscalationEmail, enqueue_escalation

ACTIONS = ("reviewed", "false_positive", "escalate", "assign", "sentiment", "tag", "untag",
           "note")
#: The tag families a reviewer may add or remove, and their labels.
TAG_FAMILIES: dict[str, tuple[str, ...]] = {
    "leak": LEAK_LABELS,
    "employee": ("employee",),
    "policy": POLICY_LABELS,
    "complaint": ("complaint",),
}
#: A corrected sentiment's score, on the sentiment tag's signed polarity scale.
SENTIMENT_SCORES = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
MAX_NOTE = 2000
MAX_REVEAL_WHAT = 200


class Actor(Protocol):
    """Whoever acts: monitor.app.users.UserInfo, or anything with a name and a role."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


class Forbidden(VigiaError):
    """The actor's role may not do this (a viewer acting, a non-revealer unmasking)."""


class NotFound(VigiaError):
    """No such mention, or one the actor's role may not see (the two read the same)."""


class InvalidAction(VigiaError):
    """An unknown action or a bad value; the message names the field and what is allowed."""


@dataclass(frozen=True)
class ActionOutcome:
    """What an action did: the audit row, and the mention's review state after it."""

    action: Action
    review_status: str
    assigned_to: str | None
    #: For `escalate`: what became of the email (None for every other action).
    email: EscalationEmail | None = None

    @property
    def detail(self) -> dict[str, Any]:
        """What the action carried (its audit row's detail)."""
        return self.action.detail

    @property
    def email_written(self) -> bool:
        return self.email is not None and self.email.written


@dataclass
class _Step:
    """One action in progress: the locked mention, the brand it concerns, its Action detail."""

    session: Session
    settings: Settings
    mention: Mention
    actor: Actor
    brand: str
    value: Any
    now: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    email: EscalationEmail | None = None
    record_brand: bool = True

    def label(self, family: str, value: Any, *, replace: bool = True) -> None:
        set_label(self.session, mention_id=self.mention.id, brand=self.brand, family=family,
                  value=value, user_name=self.actor.name, now=self.now, replace=replace)

    def set_status(self, status: str) -> None:
        self.detail.update({"from": self.mention.review_status, "to": status})
        self.mention.review_status = status


def apply_action(
    session: Session,
    settings: Settings,
    mention_id: int,
    actor: Actor,
    action: str,
    *,
    brand: str | None = None,
    value: Any = None,
    now: datetime,
) -> ActionOutcome:
    """Apply one review action to a mention in `session`'s transaction (see the module doc).

    Raises Forbidden (role), NotFound (missing or hidden mention) or InvalidAction.
    """
    if not may_act(actor.role):
        raise Forbidden(f"role {actor.role!r} is read-only: it may not act on mentions")
    handler = _HANDLERS.get(action)
    if handler is None:
        raise InvalidAction(f"action {action!r} — use one of: {', '.join(ACTIONS)}")
    mention = _visible_mention(session, mention_id, actor, lock=True)
    step = _Step(session, settings, mention, actor, _brand_of(settings, mention, brand), value,
                 now)
    handler(step)
    row = Action(mention_id=mention.id, user_name=actor.name, action=action,
                 brand=step.brand if step.record_brand else None, detail=step.detail,
                 created_at=now)
    session.add(row)
    session.flush()
    return ActionOutcome(row, mention.review_status, mention.assigned_to, step.email)


def record_reveal(
    session: Session, mention_id: int, actor: Actor, what: str, now: datetime
) -> Action:
    """Audit an unmasked view of a mention (`what`: which part, e.g. "text"); revealers only."""
    if not may_reveal(actor.role):
        raise Forbidden(f"role {actor.role!r} may not see unmasked personal data or secrets")
    if not isinstance(what, str) or not what.strip() or len(what) > MAX_REVEAL_WHAT:
        raise InvalidAction(f"what: say what was revealed, 1 to {MAX_REVEAL_WHAT} characters")
    mention = _visible_mention(session, mention_id, actor, lock=False)
    row = Action(mention_id=mention.id, user_name=actor.name, action="reveal", brand=None,
                 detail={"what": what}, created_at=now)
    session.add(row)
    session.flush()
    return row


def history(session: Session, mention_id: int) -> list[Action]:
    """The mention's audit trail, oldest first (the caller has checked it may see it)."""
    return list(session.scalars(
        select(Action).where(Action.mention_id == mention_id)
        .order_by(Action.created_at, Action.id)
    ))


# --------------------------------------------------------------------------- lookups


def _visible_mention(session: Session, mention_id: int, actor: Actor, *, lock: bool) -> Mention:
    query = (select(Mention).where(Mention.id == mention_id)
             .options(selectinload(Mention.tags), selectinload(Mention.brands)))
    if lock:
        query = query.with_for_update(of=Mention)
    mention = session.scalars(query).first()
    if mention is None or not may_see(actor.role, {tag.family for tag in mention.tags}):
        raise NotFound(f"no mention {mention_id}")
    return mention


def _brand_of(settings: Settings, mention: Mention, brand: str | None) -> str:
    matched = [match.brand for match in mention.brands]
    if brand is not None:
        if brand not in matched:
            raise InvalidAction(
                f"brand {brand!r} — this mention is about: {', '.join(matched) or 'no brand'}"
            )
        return brand
    configured = {b.name for b in settings.brands}
    chosen = next((name for name in matched if name in configured), None)
    if chosen is None and not matched:
        raise InvalidAction(f"mention {mention.id} matched no brand: nothing to act on")
    return chosen or matched[0]


# -------------------------------------------------------------------------- handlers


def _no_value(step: _Step, action: str) -> None:
    if step.value is not None:
        raise InvalidAction(f"value: {action!r} takes no value (got {step.value!r})")


def _text(value: Any, field_name: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NOTE:
        raise InvalidAction(f"{field_name}: a text of 1 to {MAX_NOTE} characters")
    return value


def _reviewed(step: _Step) -> None:
    """Reviewed implies "about the brand" but does not overwrite an answer already given:
    marking reviewed is also how a post leaves the inbox (after escalating, say), and must
    not erase an earlier "not about the brand". The one exception is a post whose status is
    false_positive now: marking it reviewed is a reviewer disagreeing, and the later answer
    wins."""
    _no_value(step, "reviewed")
    reversal = step.mention.review_status == "false_positive"
    step.set_status("reviewed")
    step.label("about_brand", True, replace=reversal)


def _false_positive(step: _Step) -> None:
    _no_value(step, "false_positive")
    step.set_status("false_positive")
    step.label("about_brand", False)


def _escalate(step: _Step) -> None:
    note = _text(step.value, "value (the escalation note)", required=False)
    step.set_status("escalated")
    step.email = enqueue_escalation(
        step.session, step.settings, mention_id=step.mention.id, brand=step.brand,
        families={tag.family for tag in step.mention.tags}, escalated_by=step.actor.name,
        note=note, now=step.now,
    )
    step.detail.update({"note": note, "recipient_list": step.email.recipient_list,
                        "email": step.email.key if step.email.written else None})


def _assign(step: _Step) -> None:
    name = step.value
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidAction("value: a user name to assign to, or null to unassign")
        if step.session.scalar(select(User.id).where(User.name == name)) is None:
            raise InvalidAction(f"value: no user named {name!r} to assign the mention to")
    step.detail.update({"from": step.mention.assigned_to, "to": name})
    step.mention.assigned_to = name
    step.record_brand = False


def _sentiment(step: _Step) -> None:
    label = step.value
    if label not in SENTIMENT_LABELS:
        raise InvalidAction(f"value: sentiment {label!r} — use one of: "
                            f"{', '.join(SENTIMENT_LABELS)}")
    tag = next((t for t in step.mention.tags
                if t.family == "sentiment" and t.brand == step.brand), None)
    step.detail.update({"from": tag.label if tag else None, "to": label})
    evidence = [{"reason": f"corrected by {step.actor.name}"}]
    if tag is None:
        step.mention.tags.append(Tag(brand=step.brand, family="sentiment", label=label,
                                     score=SENTIMENT_SCORES[label], evidence=evidence))
    else:
        tag.label, tag.score, tag.evidence = label, SENTIMENT_SCORES[label], evidence
    step.label("sentiment", label)


def _tag_value(step: _Step, action: str) -> tuple[str, str]:
    value = step.value
    family = value.get("family") if isinstance(value, dict) else None
    if family not in TAG_FAMILIES:
        raise InvalidAction(f'value: {action} needs {{"family", "label"}} with family one of: '
                            f"{', '.join(TAG_FAMILIES)}")
    label = value.get("label", family if len(TAG_FAMILIES[family]) == 1 else None)
    if label not in TAG_FAMILIES[family]:
        raise InvalidAction(f"value.label: {label!r} — {family} labels are: "
                            f"{', '.join(TAG_FAMILIES[family])}")
    return family, label


def _find_tag(step: _Step, family: str, label: str) -> Tag | None:
    return next((t for t in step.mention.tags if t.brand == step.brand
                 and t.family == family and t.label == label), None)


def _tag(step: _Step) -> None:
    family, label = _tag_value(step, "tag")
    present = _find_tag(step, family, label) is not None
    step.detail.update({"family": family, "label": label, "already": present})
    if not present:
        step.mention.tags.append(Tag(brand=step.brand, family=family, label=label, score=1.0,
                                     evidence=[{"reason": f"added by {step.actor.name}"}]))
    step.label(family, family_answer(step.session, step.mention.id, step.brand, family))


def _untag(step: _Step) -> None:
    family, label = _tag_value(step, "untag")
    tag = _find_tag(step, family, label)
    if tag is None:
        raise InvalidAction(f"value: the mention has no {family} tag {label!r} for {step.brand}")
    step.detail.update({"family": family, "label": label, "score": tag.score,
                        "evidence": tag.evidence})
    step.mention.tags.remove(tag)
    step.label(family, family_answer(step.session, step.mention.id, step.brand, family))


def _note(step: _Step) -> None:
    step.detail["text"] = _text(step.value, "value (the note)", required=True)
    step.record_brand = False


_HANDLERS: dict[str, Callable[[_Step], None]] = {
    "reviewed": _reviewed,
    "false_positive": _false_positive,
    "escalate": _escalate,
    "assign": _assign,
    "sentiment": _sentiment,
    "tag": _tag,
    "untag": _untag,
    "note": _note,
}
