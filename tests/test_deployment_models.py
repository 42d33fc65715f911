"""Deployment models: `monitor train` learns from the team's corrections, adopts a model only
when it beats the current one on held-out reviews, and everything classifying picks it up.

The team's corrections are stood in for by the team set (classifiers/training/posts.jsonl):
its posts go through a real pipeline run as an RSS feed of its eight fictional brands, and a
reviewer then answers every stored mention through the real review path (`apply_action`:
sentiment set, complaint/employee tags added or removed, marked reviewed) from the set's
gold labels. That is the realistic volume and shape of a team's corrections; but the shipped
base models were trained on these very posts, so the base's probabilities on them are
in-sample and the held-out figures here say nothing about the gain on a real deployment
(benchmarks/deployment_bench.py measures that, on brands the base never saw).
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from classifiers.deployment_training import is_held_out
from classifiers.learning import Example, read_team_set
from monitor.app.review import apply_action
from monitor.app.scheduler import Jobs, add_jobs, new_scheduler
from monitor.app.training import (
    deployment_models_in_force,
    nightly_training,
    train_scope,
    training_rows,
)
from monitor.app.workers import analyse_task
from monitor.core.errors import VigiaError
from monitor.core.learning_models import DeploymentModel, TrainingRun
from monitor.core.models import BrandMatch, MentionSource, Tag, User
from monitor.core.rawpost import RawPost
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.conftest import _database_backends
from tests.database_support import Snapshot
from tests.pipeline_support import make_pipeline
from tests.review_support import Person

REVIEWER = Person("rita", "admin")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
#: The team set's first eight brands (931 posts): a deployment's volume of corrections.
BRANDS = read_team_set()[0][:8]
TEAM = [e for e in read_team_set()[1] if e.brand in {b.name for b in BRANDS}]
BY_ID = {e.id: e for e in TEAM}


def team_feed(tmp_path: Path, examples: list[Example]) -> str:
    """The posts as one RSS feed (no titles: they are social posts, not articles)."""
    items = "".join(
        f"<item><guid>{e.id}</guid><link>https://social.example/{e.id}</link>"
        f"<pubDate>Fri, 20 Nov 2026 10:00:00 +0100</pubDate>"
        + (f"<author>{escape(e.author)}</author>" if e.author else "")
        + f"<description>{escape(e.text)}</description></item>"
        for e in examples)
    (tmp_path / "team.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"{items}</channel></rss>", encoding="utf-8")
    return "team.xml"


def team_settings(make_settings, database_url: str, tmp_path: Path, **extra: Any) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(
        database_url,
        brands=[b.model_dump(exclude_defaults=True) for b in BRANDS],
        sources=[{"kind": "rss", "name": "team", "url": team_feed(tmp_path, TEAM)}],
        **extra)


def stored(db: Database) -> list[tuple[int, str, Example]]:
    """(mention id, brand, the team set's example) for each mention of its own brand."""
    with db.reading() as session:
        rows = session.execute(
            select(MentionSource.mention_id, MentionSource.external_id, BrandMatch.brand)
            .join(BrandMatch, BrandMatch.mention_id == MentionSource.mention_id)
            .order_by(MentionSource.mention_id))
        return [(m, brand, BY_ID[external]) for m, external, brand in rows.all()
                if BY_ID[external].brand == brand]


def review(db: Database, settings: Settings, items: list[tuple[int, str, Example]],
           labels: dict[str, dict[str, Any]] | None = None, *, at: datetime = NOW) -> None:
    """A reviewer answers each mention from its labels (default: the gold ones)."""
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.name == REVIEWER.name)) is None:
            session.add(User(name=REVIEWER.name, role=REVIEWER.role, password_hash="x",
                             created_at=at))
    for mention_id, brand, example in items:
        gold = (labels or {}).get(example.id, example.labels)
        with db.transaction() as session:
            def act(action: str, value: Any = None, m: int = mention_id, b: str = brand) -> None:
                apply_action(session, settings, m, REVIEWER, action, brand=b, value=value,
                             now=at)

            if "sentiment" in gold:
                act("sentiment", gold["sentiment"])
            for family in ("complaint", "employee"):
                has = session.scalar(select(Tag.id).where(
                    Tag.mention_id == mention_id, Tag.brand == brand, Tag.family == family))
                if gold.get(family) and has is None:
                    act("tag", {"family": family})
                elif gold.get(family) is False and has is not None:
                    act("untag", {"family": family})
            act("reviewed")


@pytest.fixture(scope="module")
def built_worlds() -> dict[str, Snapshot]:
    """The stored team set, per database kind, once the first test has built it."""
    return {}


@pytest.fixture
def world(db: Database, database_url: str, make_settings, tmp_path: Path,  # type: ignore[no-untyped-def]
          built_worlds: dict[str, Snapshot], tmp_path_factory: pytest.TempPathFactory):
    """The team set stored by a real pipeline run. The run costs seconds and every test
    changes the world (reviews, trainings): it runs once per database kind and each test
    gets a copy of its rows."""
    settings = team_settings(make_settings, database_url, tmp_path)
    kind = db.engine.dialect.name
    if kind in built_worlds:
        built_worlds[kind].restore(db)
    else:
        report = make_pipeline(settings, db).run_source(settings.sources[0])
        assert report.ok and report.new_mentions > 700, report
        built_worlds[kind] = Snapshot(db, tmp_path_factory.mktemp(f"world-{kind}"))
    return db, settings, stored(db)


def shuffled(items: list[tuple[int, str, Example]], seed: int = 7) -> dict[str, dict[str, Any]]:
    """Deliberately useless corrections on the posts a model trains on (random answers),
    the held-out posts keeping their gold ones: a careless reviewer's batch."""
    rnd = random.Random(seed)
    return {
        e.id: e.labels if is_held_out(m) else {
            f: rnd.choice(["negative", "neutral", "positive"]) if f == "sentiment"
            else rnd.random() < 0.5 for f in e.labels}
        for m, _, e in items
    }


#: The adoption test trains three times (half a minute): on PostgreSQL when it is configured.
#: SQLite adopts a model in the pipeline test below, and both run the nightly and CLI tests.
ADOPTION_DATABASE = _database_backends()[-1:]


@pytest.mark.parametrize("database_url", ADOPTION_DATABASE, indirect=True)
def test_good_corrections_are_adopted_and_a_worse_model_is_not(world) -> None:
    """Too few labels trains nothing; the gold corrections give a model that beats the base
    on the held-out reviews and is adopted (per family, recorded with its figures and the
    base it stacks on); a later training on shuffled corrections loses on the held-out
    reviews to that model and is not adopted, so the model in force stays the same."""
    db, settings, items = world
    review(db, settings, items[:60])
    too_few = train_scope(db, settings, now=NOW)
    assert too_few.status == "too_few" and too_few.labels == 60 and too_few.needed == 100
    with db.reading() as session:
        assert session.scalar(select(TrainingRun.id)) is None

    review(db, settings, items[60:])
    good = train_scope(db, settings, now=NOW + timedelta(hours=1))
    assert good.status == "trained" and good.labels == len(items)
    adopted = {r.family: r for r in good.adopted}
    assert "sentiment" in adopted, good.as_json()
    for result in adopted.values():
        assert result.candidate > result.current and result.current_model == "base"
        assert result.held_out >= 100 and result.trained_on > 3 * result.held_out
    from classifiers.learned.component import load_models

    base = load_models()
    with db.reading() as session:
        first = deployment_models_in_force(session)
        rows = [(r.family, r.scope, r.base_digest, r.trained_on, r.metrics)
                for r in session.scalars(select(DeploymentModel))]
    assert {family for family, *_ in rows} == set(adopted)
    for family, scope, base_digest, trained_on, metrics in rows:
        assert scope == "" and base_digest == base[family].digest
        assert trained_on == adopted[family].trained_on
        assert metrics["candidate"] == adopted[family].candidate

    review(db, settings, [i for i in items if not is_held_out(i[0])], shuffled(items),
           at=NOW + timedelta(hours=2))
    worse = train_scope(db, settings, now=NOW + timedelta(hours=3))
    for result in worse.results:
        if result.family in adopted:
            assert result.current_model == "deployment"
        assert not result.adopted and result.candidate is not None
        assert result.candidate < result.current, result
    with db.reading() as session:
        assert deployment_models_in_force(session) == first
        assert session.scalar(select(TrainingRun.adopted).order_by(TrainingRun.id.desc())
                              .limit(1)) is False


def test_an_adopted_model_changes_decisions_in_the_pipeline_and_its_workers(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    """After an adoption the pipeline's Analyzer is rebuilt with the model (its version
    changed), decides held-out posts differently from the shipped layer, and a worker
    process given the models in force decides exactly as the pipeline does."""
    if not database_url.startswith("sqlite"):  # before the world is built: it costs seconds
        pytest.skip("classification only: storage is covered by the adoption test")
    db, settings, items = request.getfixturevalue("world")
    pipeline = make_pipeline(settings, db)
    before = pipeline.analyzer
    assert pipeline.deployment_models() is None
    review(db, settings, items)
    assert train_scope(db, settings, now=NOW).adopted
    models = pipeline.deployment_models()
    assert models is not None and models.version > 0
    after = pipeline.analyzer
    assert after is not before and after.deployment == models

    held = [e for m, _, e in items if is_held_out(m)][:120]
    posts = [RawPost(source="t", external_id=e.id, text=e.text, author=e.author) for e in held]
    base_says = [_sentiments(r) for r in before.analyse(posts)]
    team_says = [_sentiments(r) for r in after.analyse(posts)]
    gold = [e.labels.get("sentiment") for e in held]
    changed = [i for i, (b, t) in enumerate(zip(base_says, team_says, strict=True)) if b != t]
    assert changed
    right = sum(team_says[i] == [gold[i]] for i in changed)
    assert right > len(changed) - right  # the changes mostly fix mistakes
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        in_worker = pool.submit(analyse_task, settings.brands, posts, models).result()
    assert [_sentiments(r) for r in in_worker] == team_says


def _sentiments(analyses: list[Any]) -> list[str]:
    return [t.label for a in analyses for t in a.tags if t.family == "sentiment"]


def test_reviewed_posts_answer_the_tags_they_kept(world) -> None:
    """A reviewed post left without a complaint correction counts as "no complaint" (or
    "complaint" when the pipeline had tagged it): the negatives a model needs."""
    db, settings, items = world
    review(db, settings, items[:40])
    with db.reading() as session:
        rows = training_rows(session)
    assert len(rows) == 40
    for row, (_, _, example) in zip(rows, items[:40], strict=True):
        assert row["complaint"] == bool(example.labels.get("complaint"))
        assert row["employee"] == bool(example.labels.get("employee"))


def test_the_nightly_job_trains_only_with_enough_new_corrections(
    db: Database, database_url: str, make_settings, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """On a fake clock: scheduled at [learning] train_at; not due below min_new_labels new
    corrections since the last training; due (and training) once they came in."""
    settings = team_settings(make_settings, database_url, tmp_path,
                             learning={"train_at": "02:15", "min_new_labels": 30,
                                       "min_labels": 20})
    scheduler = new_scheduler(settings, 1)
    calls: list[str] = []
    add_jobs(scheduler, settings, Jobs(source=lambda s: None, daily=lambda: None,
                                       weekly=lambda: None, outbox=lambda: None,
                                       train=lambda: calls.append("train")), NOW)
    job = next(j for j in scheduler.get_jobs() if j.id == "train")
    fire = job.trigger.get_next_fire_time(None, NOW)
    assert fire.astimezone(settings.schedule.zone).strftime("%H:%M") == "02:15"

    sample = [e for e in TEAM if e.brand == BRANDS[0].name][:45]
    settings = settings.model_copy(update={"sources": [settings.sources[0].model_copy(
        update={"url": team_feed(tmp_path, sample)})]})
    make_pipeline(settings, db).run_source(settings.sources[0])
    items = stored(db)
    review(db, settings, items[:25])
    [not_due] = nightly_training(settings, db, now=NOW)
    assert not_due.status == "not_due" and not_due.new_labels == 25
    review(db, settings, items[25:], at=NOW + timedelta(minutes=5))
    [trained] = nightly_training(settings, db, now=NOW + timedelta(days=1))
    assert trained.status == "trained" and trained.new_labels == len(items)
    [again] = nightly_training(settings, db, now=NOW + timedelta(days=2))
    assert again.status == "not_due" and again.new_labels == 0
    disabled = settings.model_copy(update={"learning": settings.learning.model_copy(
        update={"enabled": False})})
    assert nightly_training(disabled, db, now=NOW + timedelta(days=3)) == []


def test_the_digest_says_what_a_new_model_changed(db: Database, make_settings) -> None:  # type: ignore[no-untyped-def]
    """An adoption in the digest's period shows as one line per family, in the digest's
    language; a period without one shows nothing (the golden digests do not change)."""
    from reports.digest_data import collect_digest

    settings = make_settings()
    with db.transaction() as session:
        run = TrainingRun(scope="", at=NOW, labels=412, result={}, adopted=True)
        session.add(run)
        session.flush()
        session.add(DeploymentModel(
            run_id=run.id, scope="", family="sentiment", model="{}", digest="d" * 64,
            base_digest="b" * 64, trained_on=320, held_out=92, created_at=NOW,
            metrics={"current": 0.612, "candidate": 0.684, "current_model": "base"}))
    from reports.digest import digest_context
    from reports.render import render_email

    with db.reading() as session:
        data = collect_digest(session, settings, NOW - timedelta(hours=1), NOW + timedelta(1))
        empty = collect_digest(session, settings, NOW + timedelta(1), NOW + timedelta(2))
    assert len(data.model_changes) == 1 and empty.model_changes == []
    text = render_email("digest", digest_context(settings, data, NOW.date())).text
    assert ("New sentiment model for every brand, learned from 412 reviewed posts: "
            "held-out macro-F1 0.61 → 0.68 (it replaces the shipped one).") in text
    spanish = settings.model_copy(update={"email": settings.email.model_copy(
        update={"language": "es"})})
    html = render_email("digest", digest_context(spanish, data, NOW.date())).html
    assert "Nuevo modelo de sentimiento para todas las marcas" in html
    assert "Learned from" not in render_email(
        "digest", digest_context(settings, empty, NOW.date())).text


def test_monitor_train_says_why_it_did_not_train(
    db: Database, database_url: str, make_settings, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from monitor.cli.main import app

    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(
        f'[storage]\nurl = "{database_url}"\n[[brands]]\nname = "Calderix"\n',
        encoding="utf-8")
    result = CliRunner().invoke(app, ["-s", str(settings_file), "train"])
    assert result.exit_code == 1
    assert "Not trained for the deployment: 0 labelled posts, 100 needed" in " ".join(
        result.output.split())
    result = CliRunner().invoke(app, ["-s", str(settings_file), "train", "--brand", "Nope"])
    assert isinstance(result.exception, VigiaError)
    assert "--brand 'Nope' is not in the settings" in str(result.exception)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[brands]]\nname = "C"\n[learning]\ntrain_at = "3am"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["-s", str(bad), "train"])
    assert isinstance(result.exception, VigiaError)
    assert "learning.train_at" in str(result.exception), result.exception
