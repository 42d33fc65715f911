"""The digest's "what the classifiers learned" line: deployment models adopted in the period.

A team that reviews mentions in the web app is teaching Vigía; the digest says when that
paid off: which family's model was replaced (for which brand, or for every brand), its
held-out macro-F1 before and after, and how many corrections it learned from. A period with
no adoption shows nothing (the section is absent, so such digests stay byte-identical).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.core.learning_models import DeploymentModel


@dataclass(frozen=True)
class ModelChange:
    scope: str  # a brand, or "" for every brand
    family: str
    replaced: str  # "base" (the shipped model) or "deployment" (the team's previous one)
    before: float
    after: float
    labels: int


def model_changes(session: Session, start: datetime, end: datetime) -> list[ModelChange]:
    """Models adopted in [start, end), oldest first."""
    rows = session.scalars(
        select(DeploymentModel).where(DeploymentModel.created_at >= start,
                                      DeploymentModel.created_at < end)
        .order_by(DeploymentModel.id))
    return [
        ModelChange(
            scope=row.scope, family=row.family,
            replaced=str(row.metrics.get("current_model", "base")),
            before=float(row.metrics.get("current") or 0.0),
            after=float(row.metrics.get("candidate") or 0.0),
            labels=row.trained_on + row.held_out,
        )
        for row in rows
    ]
