"""Review actions: role rules, every action a stored fact, state and tags updated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.app.review import (
    Forbidden,
    InvalidAction,
    NotFound,
    apply_action,
    history,
    record_reveal,
)
from monitor.core.models import Action, Mention, Tag
from monitor.core.storage import Database
from tests.review_support import ADMIN, COMMS, HR, NOW, SECURITY, VIEWER, review_settings, seed


@pytest.fixture
def world(db: Database, make_settings) -> tuple[Database, Any, dict[str, int]]:
    return db, review_settings(make_settings), seed(db)


def act(world, name: str, actor, action: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    db, settings, ids = world
    with db.transaction() as session:
        return apply_action(session, settings, ids[name], actor, action,
                            now=kwargs.pop("now", NOW), **kwargs)


def tags_of(db: Database, mention_id: int) -> dict[tuple[str, str], Tag]:
    with db.sessions() as session:
        rows = session.scalars(select(Tag).where(Tag.mention_id == mention_id))
        return {(t.brand, t.label): t for t in rows}


def test_every_action_is_one_stored_fact_in_order(world) -> None:
    db, _, ids = world
    steps = [
        ("assign", {"value": "sara"}),
        ("sentiment", {"value": "negative"}),
        ("tag", {"value": {"family": "policy", "label": "insult"}}),
        ("untag", {"value": {"family": "policy", "label": "insult"}}),
        ("note", {"value": "Asked care to call them."}),
        ("reviewed", {}),
    ]
    for minute, (action, kwargs) in enumerate(steps):
        act(world, "plain", COMMS, action, now=NOW + timedelta(minutes=minute), **kwargs)
    with db.sessions() as session:
        trail = history(session, ids["plain"])
        mention = session.get(Mention, ids["plain"])
        assert mention is not None
        assert (mention.review_status, mention.assigned_to) == ("reviewed", "sara")
    assert [a.action for a in trail] == [action for action, _ in steps]
    assert {a.user_name for a in trail} == {"carlos"}
    assert [a.created_at for a in trail] == [NOW + timedelta(minutes=m) for m in range(6)]
    assert trail[0].detail == {"from": None, "to": "sara"} and trail[0].brand is None
    assert trail[1].detail == {"from": "neutral", "to": "negative"}
    assert trail[1].brand == "Calderix"
    assert trail[4].detail == {"text": "Asked care to call them."}
    assert trail[5].detail == {"from": "new", "to": "reviewed"}


def test_sentiment_correction_replaces_the_tag_and_keeps_the_old_label(world) -> None:
    db, _, ids = world
    outcome = act(world, "negative", COMMS, "sentiment", value="positive")
    assert outcome.detail == {"from": "negative", "to": "positive"}
    tags = tags_of(db, ids["negative"])
    assert ("Calderix", "negative") not in tags
    assert tags["Calderix", "positive"].score == 1.0
    assert tags["Calderix", "positive"].evidence == [{"reason": "corrected by carlos"}]


def test_tag_and_untag(world) -> None:
    db, _, ids = world
    outcome = act(world, "plain", COMMS, "tag", value={"family": "complaint"})
    assert outcome.detail == {"family": "complaint", "label": "complaint", "already": False}
    added = tags_of(db, ids["plain"])["Calderix", "complaint"]
    assert (added.family, added.score) == ("complaint", 1.0)
    assert added.evidence == [{"reason": "added by carlos"}]
    again = act(world, "plain", COMMS, "tag", value={"family": "complaint", "label": "complaint"})
    assert again.detail["already"] is True
    removed = act(world, "negative", COMMS, "untag", value={"family": "complaint"})
    assert removed.detail["score"] == 0.8  # what the classifier had said, kept in the audit
    assert ("Calderix", "complaint") not in tags_of(db, ids["negative"])
    with pytest.raises(InvalidAction, match="no complaint tag"):
        act(world, "negative", COMMS, "untag", value={"family": "complaint"})


def test_the_brand_defaults_to_the_first_configured_one(world) -> None:
    db, _, ids = world
    assert act(world, "both", COMMS, "sentiment", value="negative").action.brand == "Calderix"
    outcome = act(world, "both", COMMS, "sentiment", value="positive", brand="Redalia")
    assert outcome.action.brand == "Redalia"
    assert {key for key in tags_of(db, ids["both"])} == {("Calderix", "negative"),
                                                        ("Redalia", "positive")}
    with pytest.raises(InvalidAction, match="Redalia, Calderix"):
        act(world, "both", COMMS, "reviewed", brand="Fonaris")


def test_a_viewer_may_not_act(world) -> None:
    db, _, ids = world
    with pytest.raises(Forbidden, match="read-only"):
        act(world, "plain", VIEWER, "reviewed")
    with db.sessions() as session:
        assert history(session, ids["plain"]) == []


@pytest.mark.parametrize(("name", "actor"), [("leak", COMMS), ("leak", HR), ("staff", COMMS),
                                             ("staff", SECURITY)])
def test_a_hidden_mention_reads_as_missing(world, name: str, actor) -> None:  # type: ignore[no-untyped-def]
    db, _, ids = world
    with pytest.raises(NotFound, match=rf"no mention {ids[name]}$"):
        act(world, name, actor, "reviewed")
    with db.sessions() as session:
        assert history(session, ids[name]) == []
    _, settings, _ = world
    with db.transaction() as session, pytest.raises(NotFound, match=r"no mention 999999$"):
        apply_action(session, settings, 999_999, actor, "reviewed", now=NOW)


def test_the_family_readers_and_admin_may_act_on_restricted_mentions(world) -> None:
    assert act(world, "leak", SECURITY, "reviewed").review_status == "reviewed"
    assert act(world, "staff", HR, "note", value="HR will talk to Luis.").review_status == "new"
    assert act(world, "staff", ADMIN, "false_positive").review_status == "false_positive"


@pytest.mark.parametrize(
    ("action", "value", "message"),
    [
        ("archive", None, "action 'archive' — use one of: reviewed, false_positive, escalate"),
        ("sentiment", "angry", "value: sentiment 'angry' — use one of: negative, neutral"),
        ("sentiment", None, "use one of: negative, neutral, positive"),
        ("tag", {"family": "sentiment", "label": "negative"}, "family one of: leak, employee"),
        ("tag", {"family": "leak", "label": "password"}, "value.label: 'password' — leak "
         "labels are: pii, secret, confidential"),
        ("tag", {"family": "policy"}, "value.label: None — policy labels are: insult"),
        ("tag", "complaint", 'needs {"family", "label"}'),
        ("note", "", "value \\(the note\\): a text of 1 to 2000"),
        ("note", "x" * 2001, "1 to 2000 characters"),
        ("escalate", "x" * 2001, "escalation note"),
        ("assign", "nobody", "no user named 'nobody'"),
        ("assign", 7, "a user name to assign to, or null"),
        ("reviewed", "yes", "'reviewed' takes no value"),
    ],
)
def test_bad_actions_name_the_field_and_the_choices(world, action, value, message) -> None:  # type: ignore[no-untyped-def]
    db, _, ids = world
    with pytest.raises(InvalidAction, match=message):
        act(world, "plain", COMMS, action, value=value)
    with db.sessions() as session:
        assert history(session, ids["plain"]) == []
        mention = session.get(Mention, ids["plain"])
        assert mention is not None and mention.review_status == "new"


def test_assign_and_unassign(world) -> None:
    assert act(world, "plain", COMMS, "assign", value="sara").assigned_to == "sara"
    outcome = act(world, "plain", COMMS, "assign", value=None)
    assert outcome.assigned_to is None and outcome.detail == {"from": "sara", "to": None}


def test_reveal_is_audited_and_for_revealers_only(world) -> None:
    db, _, ids = world
    with db.transaction() as session:
        row = record_reveal(session, ids["leak"], SECURITY, "text", NOW)
        assert (row.action, row.user_name, row.detail) == ("reveal", "sara", {"what": "text"})
    for actor in (COMMS, HR, VIEWER):
        with db.transaction() as session, pytest.raises(Forbidden, match="unmasked"):
            record_reveal(session, ids["plain"], actor, "text", NOW)
    with db.transaction() as session, pytest.raises(NotFound):
        record_reveal(session, ids["staff"], SECURITY, "text", NOW)  # HR's, not security's
    with db.sessions() as session:
        assert session.scalars(select(Action.action)).all() == ["reveal"]
