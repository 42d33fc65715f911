"""Corrections are labels (latest answer wins) and `monitor labels export` feeds `monitor eval`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from classifiers.evaluation import classify, read_items, score
from monitor.app.labels import export_labels
from monitor.app.review import apply_action
from monitor.cli.main import app
from monitor.core.models import Label
from monitor.core.storage import Database
from tests.review_support import ADMIN, COMMS, DNI, NOW, SECURITY, review_settings, seed


@pytest.fixture
def world(db: Database, make_settings) -> tuple[Database, Any, dict[str, int]]:
    return db, review_settings(make_settings), seed(db)


def act(world, name: str, actor, action: str, value: Any = None, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
    db, settings, ids = world
    with db.transaction() as session:
        apply_action(session, settings, ids[name], actor, action, value=value, now=NOW, **kwargs)


def labels(db: Database, mention_id: int) -> dict[tuple[str, str], Any]:
    with db.sessions() as session:
        rows = session.scalars(select(Label).where(Label.mention_id == mention_id))
        return {(row.brand, row.family): row.value for row in rows}


def test_each_correction_is_the_familys_current_answer(world) -> None:
    db, _, ids = world
    act(world, "plain", COMMS, "sentiment", "negative")
    act(world, "plain", ADMIN, "sentiment", "positive")  # the latest answer wins
    act(world, "plain", COMMS, "tag", {"family": "policy", "label": "crude"})
    act(world, "plain", COMMS, "tag", {"family": "policy", "label": "insult"})
    act(world, "negative", COMMS, "untag", {"family": "complaint"})
    act(world, "leak", SECURITY, "tag", {"family": "leak", "label": "secret"})
    act(world, "leak", SECURITY, "untag", {"family": "leak", "label": "pii"})
    act(world, "plain", COMMS, "note", "notes are not labels")
    act(world, "plain", COMMS, "assign", "sara")
    assert labels(db, ids["plain"]) == {("Calderix", "sentiment"): "positive",
                                        ("Calderix", "policy"): ["insult", "crude"]}
    assert labels(db, ids["negative"]) == {("Calderix", "complaint"): False}
    assert labels(db, ids["leak"]) == {("Calderix", "leak"): ["secret"]}
    with db.sessions() as session:
        row = session.scalars(select(Label).where(Label.family == "sentiment")).one()
        assert row.user_name == "ana"


def test_reviewed_implies_about_the_brand_but_never_undoes_a_false_positive(world) -> None:
    db, _, ids = world
    act(world, "plain", COMMS, "reviewed")
    assert labels(db, ids["plain"]) == {("Calderix", "about_brand"): True}
    act(world, "plain", COMMS, "false_positive")
    assert labels(db, ids["plain"]) == {("Calderix", "about_brand"): False}
    act(world, "plain", COMMS, "escalate")
    act(world, "plain", COMMS, "reviewed")  # closing it after escalating: still not ours
    assert labels(db, ids["plain"]) == {("Calderix", "about_brand"): False}
    act(world, "plain", COMMS, "false_positive")
    act(world, "plain", ADMIN, "reviewed")  # reviewing a false positive: disagreeing with it
    assert labels(db, ids["plain"]) == {("Calderix", "about_brand"): True}


def test_export_writes_one_line_per_mention_and_brand(world) -> None:
    db, _, ids = world
    act(world, "both", COMMS, "false_positive")
    act(world, "both", COMMS, "sentiment", "neutral", brand="Redalia")
    act(world, "leak", SECURITY, "reviewed")
    act(world, "staff", ADMIN, "untag", {"family": "employee"})
    out = io.StringIO()
    with db.reading() as session:
        assert export_labels(session, out) == 4
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["id"], r["brand"]) for r in rows] == sorted(
        [(ids["both"], "Calderix"), (ids["both"], "Redalia"), (ids["leak"], "Calderix"),
         (ids["staff"], "Calderix")])
    by_key = {(r["id"], r["brand"]): r for r in rows}
    assert by_key[ids["both"], "Calderix"] == {
        "id": ids["both"], "brand": "Calderix", "text": "Redalia and Calderix both raised prices.",
        "lang": "en", "author": None, "about_brand": False}
    assert by_key[ids["both"], "Redalia"]["sentiment"] == "neutral"
    leak = by_key[ids["leak"], "Calderix"]
    assert leak["text"] == (
        f"Calderix invoice\nThe Calderix invoice of Juan (DNI {DNI}) is on the forum."
    )
    assert (leak["author"], leak["about_brand"]) == ("@filtrador", True)
    assert leak["title"] == "Calderix invoice"  # so that eval reads it as an article
    assert by_key[ids["staff"], "Calderix"]["employee"] is False
    with db.reading() as session:
        assert export_labels(session, io.StringIO(), brand="Redalia") == 1


def test_the_export_round_trips_through_monitor_eval(world, tmp_path: Path) -> None:
    db, settings, _ = world
    act(world, "plain", COMMS, "reviewed")
    act(world, "negative", COMMS, "sentiment", "negative")
    act(world, "negative", COMMS, "tag", {"family": "policy", "label": "insult"})
    act(world, "leak", SECURITY, "false_positive")
    act(world, "staff", ADMIN, "tag", {"family": "complaint"})
    path = tmp_path / "labels.jsonl"
    with db.reading() as session, path.open("w", encoding="utf-8") as out:
        assert export_labels(session, out, brand="Calderix") == 4
    items = read_items(path)
    assert len(items) == 4
    assert [sorted(item.labels) for item in items] == [
        ["about_brand"], ["policy", "sentiment"], ["about_brand"], ["complaint"]]
    report = score(items, classify(items, settings.brands[0]), seconds=1.0)
    assert report["n"] == 4
    # "Calderix" is in every text: the query says about_brand for both labelled items, one of
    # which the team called a false positive.
    assert report["about_brand"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667}
    assert report["sentiment"] is not None and report["policy"] is not None
    assert report["complaint"] is not None and report["leak"] is None


def test_cli_export_then_eval(world, tmp_path: Path, database_url: str) -> None:
    act(world, "plain", COMMS, "reviewed")
    act(world, "negative", COMMS, "sentiment", "negative")
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(
        f'[storage]\nurl = "{database_url}"\n\n[[brands]]\nname = "Calderix"\n'
        'query = "Calderix"\n', encoding="utf-8")
    path = tmp_path / "out" / "labels.jsonl"
    path.parent.mkdir()
    runner = CliRunner()
    exported = runner.invoke(app, ["--settings", str(settings_file), "labels", "export",
                                   str(path)], catch_exceptions=False)
    assert exported.exit_code == 0, exported.output
    assert "2 labelled post(s)" in exported.output and "unmasked" in exported.output
    evaluated = runner.invoke(app, ["--settings", str(settings_file), "eval", str(path),
                                    "--json"], catch_exceptions=False)
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.output)
    assert report["n"] == 2 and report["about_brand"]["recall"] == 1.0
    assert report["sentiment"]["accuracy"] == 1.0
