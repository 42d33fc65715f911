"""`monitor train` and the nightly job: deployment models from the team's corrections.

Where the models live: in the database (`deployment_models`, one row per adopted version,
with `training_runs` recording every training and its figures), not in files beside it.
The queued mode runs workers on other machines against the same PostgreSQL; a file beside
the database would not reach them, a row does, and it is backed up, migrated and
transaction-safe with everything else (a model is adopted in the same transaction as the
run that measured it, so a crash leaves both or neither).

How a model is picked up: `deployment_models_in_force` reads the newest model per (scope,
family); its `version` is the newest row's id, which `deployment_version` reads in one
indexed query. The pipeline asks for the version before classifying and rebuilds its
Analyzer when it changed (monitor.app.workers.analyzer_for is keyed by it), so embedded
runs, the process pool and Celery workers all classify with a new model from their next
batch on, without a restart.

Scopes: `--brand B` trains on B's corrections only and its models decide B's posts; without
it the model is the deployment's, trained on every brand's corrections, deciding for every
brand without its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.app.labels import labelled_rows
from monitor.core.errors import VigiaError
from monitor.core.learning_models import DeploymentModel, TrainingRun
from monitor.core.models import Label, Tag
from monitor.core.settings import Settings
from monitor.core.storage import Database

# The classifiers (spaCy, scikit-learn) are imported by the functions that need them, so
# the pipeline's version check costs one query and no import.
if TYPE_CHECKING:
    from classifiers.deployment_training import FamilyResult
    from classifiers.learned.deployment import DeploymentModels
    from classifiers.learned.model import LinearModel

log = logging.getLogger(__name__)
DEPLOYMENT_SCOPE = ""  # as classifiers.learned.deployment names it


@dataclass
class TrainingReport:
    """What one training did for one scope (`status`: trained, too_few or not_due)."""

    scope: str
    status: Literal["trained", "too_few", "not_due"]
    labels: int
    new_labels: int = 0
    needed: int = 0
    results: list[FamilyResult] = field(default_factory=list)
    run_id: int | None = None

    @property
    def adopted(self) -> list[FamilyResult]:
        return [r for r in self.results if r.adopted]

    def as_json(self) -> dict[str, object]:
        return {"scope": self.scope, "status": self.status, "labels": self.labels,
                "new_labels": self.new_labels, "needed": self.needed, "run_id": self.run_id,
                "families": {r.family: r.as_json() for r in self.results}}


# ------------------------------------------------------------------------------ reading


def deployment_version(session: Session) -> int:
    """The newest adopted model's id (0 when none): changes with every adoption."""
    return session.scalar(select(func.max(DeploymentModel.id))) or 0


def models_in_force(session: Session) -> dict[tuple[str, str], DeploymentModel]:
    """The newest model row per (scope, family)."""
    newest = (select(func.max(DeploymentModel.id)).group_by(DeploymentModel.scope,
                                                            DeploymentModel.family))
    rows = session.scalars(select(DeploymentModel).where(DeploymentModel.id.in_(newest)))
    return {(row.scope, row.family): row for row in rows}


def deployment_models_in_force(session: Session) -> DeploymentModels | None:
    """The models the Analyzer applies (None when the team has none adopted)."""
    from classifiers.learned.deployment import DeploymentModels

    rows = models_in_force(session)
    if not rows:
        return None
    return DeploymentModels(
        version=max(row.id for row in rows.values()),
        files=tuple((scope, family, rows[scope, family].model) for scope, family in sorted(rows)),
    )


#: Families a reviewed post answers implicitly: the tags it was left with are right.
IMPLIED = ("complaint", "employee")


def training_rows(session: Session, brand: str | None = None) -> list[dict[str, object]]:
    """`labelled_rows` plus what "reviewed" implies: a post the team marked reviewed (about
    the brand) and left without a complaint or employee correction keeps its tags as they
    are, so its current tag (or its absence) is that family's answer. Without this, the
    only "no" answers would be removed tags, and a model would learn to tag everything."""
    rows = labelled_rows(session, brand)
    pending = [r for r in rows if r.get("about_brand") is True
               and any(f not in r for f in IMPLIED)]
    if pending:
        tagged = set(session.execute(
            select(Tag.mention_id, Tag.brand, Tag.family).where(
                Tag.mention_id.in_({r["id"] for r in pending}), Tag.family.in_(IMPLIED))).all())
        for row in pending:
            for family in IMPLIED:
                row.setdefault(family, (row["id"], row["brand"], family) in tagged)
    return rows


def label_count(session: Session, scope: str, since: datetime | None = None) -> int:
    """Labelled posts (mention and brand) of the scope, or those labelled after `since`."""
    query = select(func.count(func.distinct(Label.mention_id)))
    if scope != DEPLOYMENT_SCOPE:
        query = query.where(Label.brand == scope)
    if since is not None:
        query = query.where(Label.created_at > since)
    return session.scalar(query) or 0


def last_training(session: Session, scope: str) -> TrainingRun | None:
    return session.scalars(select(TrainingRun).where(TrainingRun.scope == scope)
                           .order_by(TrainingRun.at.desc(), TrainingRun.id.desc()).limit(1)).first()


# ----------------------------------------------------------------------------- training


def _scope_of(settings: Settings, brand: str | None) -> str:
    if brand is None:
        return DEPLOYMENT_SCOPE
    if brand not in {b.name for b in settings.brands}:
        names = ", ".join(b.name for b in settings.brands)
        raise VigiaError(f"--brand {brand!r} is not in the settings — use one of: {names}")
    return brand


def _current(found: dict[tuple[str, str], DeploymentModel], scope: str,
             families: Sequence[str]) -> dict[str, LinearModel]:
    """Per family, the deployment model deciding the scope's posts now (its own, else the
    deployment's)."""
    from classifiers.learned.deployment import parse

    current = {}
    for family in families:
        row = found.get((scope, family)) or found.get((DEPLOYMENT_SCOPE, family))
        if row is not None:
            current[family] = parse(row.model)
    return current


def train_scope(db: Database, settings: Settings, *, now: datetime, brand: str | None = None,
                min_labels: int | None = None, force: bool = False) -> TrainingReport:
    """Train the scope's candidates, adopt the better ones, record the run (module doc).

    Fewer labelled posts than `min_labels` (default `[learning] min_labels`) trains nothing
    and records nothing, unless `force`; the held-out gate is never skipped.
    """
    from classifiers.deployment_training import example_of, train_candidates
    from classifiers.learned.component import FAMILIES, load_models

    scope = _scope_of(settings, brand)
    needed = settings.learning.min_labels if min_labels is None else min_labels
    names = {b.name for b in settings.brands}
    with db.reading() as session:
        rows = [r for r in training_rows(session, brand) if r["brand"] in names]
        current = _current(models_in_force(session), scope, FAMILIES)
    examples = [e for e in map(example_of, rows) if e is not None]
    if len(examples) < needed and not force:
        return TrainingReport(scope, "too_few", len(examples), needed=needed)
    results = train_candidates(examples, settings.brands, load_models(), current,
                               min_labels=0 if force else needed)
    with db.transaction() as session:
        run = TrainingRun(scope=scope, at=now, labels=label_count(session, scope),
                          result={r.family: r.as_json() for r in results},
                          adopted=any(r.adopted for r in results))
        session.add(run)
        session.flush()
        for result in results:
            if result.model is not None:
                session.add(DeploymentModel(
                    run_id=run.id, scope=scope, family=result.family,
                    model=result.model.to_json(), digest=result.model.digest,
                    base_digest=result.model.base or "", trained_on=result.trained_on,
                    held_out=result.held_out, metrics=result.as_json(), created_at=now))
        run_id = run.id
    report = TrainingReport(scope, "trained", len(examples), needed=needed, results=results,
                            run_id=run_id)
    for result in report.adopted:
        log.info("adopted a %s model for %s: held-out macro-F1 %.3f → %.3f (%d labels)",
                 result.family, scope or "the deployment", result.current, result.candidate,
                 result.trained_on + result.held_out)
    return report


# ------------------------------------------------------------------------------ nightly


def nightly_scopes(session: Session, settings: Settings) -> list[str]:
    """The deployment, then each configured brand that has a model of its own."""
    names = {b.name for b in settings.brands}
    own = sorted({scope for scope, _ in models_in_force(session)} & names)
    return [DEPLOYMENT_SCOPE, *own]


def new_labels(session: Session, scope: str) -> int:
    """Corrections made (or changed) since the scope's last training (all, before one)."""
    last = last_training(session, scope)
    return label_count(session, scope, last.at if last is not None else None)


def nightly_training(settings: Settings, db: Database, *, now: datetime) -> list[TrainingReport]:
    """The nightly job: train each scope that has `[learning] min_new_labels` new
    corrections (and `min_labels` in all); report the others as not due."""
    learning = settings.learning
    if not learning.enabled:
        return []
    reports = []
    with db.reading() as session:
        todo = [(scope, new_labels(session, scope)) for scope in nightly_scopes(session, settings)]
    for scope, fresh in todo:
        if fresh < learning.min_new_labels:
            log.info("training for %s not due: %d new corrections, %d needed",
                     scope or "the deployment", fresh, learning.min_new_labels)
            reports.append(TrainingReport(scope, "not_due", 0, new_labels=fresh,
                                          needed=learning.min_new_labels))
            continue
        report = train_scope(db, settings, now=now, brand=scope or None)
        report.new_labels = fresh
        reports.append(report)
    return reports
