"""The tables of learning from the team's corrections: each `monitor train` and the
deployment models it adopted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.core.models import Base


class TrainingRun(Base):
    """One `monitor train` (by hand or nightly) for one scope: what it learned from, how each
    family's candidate did against the current model on the held-out reviews, and whether it
    was adopted (`result`: family → {"current", "candidate", "current_model", "adopted",
    "trained_on", "held_out", "reason"}).

    `scope` is the brand whose labels it read, or "" for the whole deployment; `labels` is
    how many labelled posts existed then, so the nightly job can tell when enough new
    corrections have come in since.
    """

    __tablename__ = "training_runs"
    __table_args__ = (Index("ix_training_runs_scope_at", "scope", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    labels: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    adopted: Mapped[bool] = mapped_column(default=False)


class DeploymentModel(Base):
    """An adopted deployment model: one family's `LinearModel` file, trained on the team's
    corrections over the shipped base model (`base_digest`), kept with the figures that won
    it its place. The current model of a (scope, family) is its newest row; older rows are
    the previous versions, kept for the record (and to go back to by hand)."""

    __tablename__ = "deployment_models"
    __table_args__ = (Index("ix_deployment_models_scope_family", "scope", "family", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(30))
    model: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    base_digest: Mapped[str] = mapped_column(String(64))
    trained_on: Mapped[int] = mapped_column(Integer)
    held_out: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
