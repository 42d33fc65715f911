"""Training a deployment model on the team's corrections and judging it on held-out reviews.

Measured before this was built: a linear layer over the rules' signals and hashed words,
trained on a deployment's own labels, gave +3 to +7 points at 800 labels but was worse than
the shipped layer below about 100. So a candidate is never trusted on its training figures:

* the labelled posts are split once, by a hash of the mention id (`is_held_out`, about
  `HELD_OUT_PERCENT` %), so the same review always lands on the same side, whichever night
  the training runs, and a post's brands share a side;
* each family's candidate is trained on the rest, over the shipped base model
  (`classifiers.learning.with_base`, `train(..., any_setting=True)`);
* candidate and current (the deployment model in force for that family, else the shipped
  layer) decide the held-out posts exactly as the learned layer would
  (`classifiers.learning.decisions`), and the candidate is adopted only when its macro-F1
  there is strictly higher. A family with too few labels, or one class only, is skipped.

Pure: examples in, figures and models out; storing and scheduling are `monitor.app.training`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.metrics import f1_score

from classifiers.analyzer import is_article_item
from classifiers.learned.component import FAMILIES
from classifiers.learned.model import LinearModel
from classifiers.learning import (
    Example,
    Prepared,
    TrainingDataError,
    decisions,
    gold,
    prepare,
    train,
    with_base,
)
from classifiers.tags import SENTIMENT_LABELS
from monitor.core.settings import BrandSettings

#: Share of the labelled posts kept aside to judge candidates (by mention id).
HELD_OUT_PERCENT = 22
#: Fewer held-out labels than this for a family: too few to tell two models apart.
MIN_HELD_OUT = 15
#: The source name training examples from reviews carry (cross-validation scores these).
SOURCE = "review"


def is_held_out(mention_id: int | str, percent: int = HELD_OUT_PERCENT) -> bool:
    """Whether a labelled post is kept aside for judging (fixed per mention id): `percent`
    of them, the same ones every time."""
    digest = hashlib.sha256(f"vigia-held-out:{mention_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def macro_f1(family: str, golds: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Macro-F1 over the family's labels (negative/neutral/positive, or False/True)."""
    labels: list[Any] = list(SENTIMENT_LABELS) if family == "sentiment" else [False, True]
    return round(float(f1_score(list(golds), list(predicted), labels=labels, average="macro",
                                zero_division=0)), 4)


@dataclass(frozen=True)
class FamilyResult:
    """One family's outcome: the figures, and the candidate when it was adopted."""

    family: str
    trained_on: int
    held_out: int
    current_model: str  # "base" or "deployment"
    current: float | None = None
    candidate: float | None = None
    model: LinearModel | None = None
    reason: str = ""

    @property
    def adopted(self) -> bool:
        return self.model is not None

    def as_json(self) -> dict[str, Any]:
        return {"trained_on": self.trained_on, "held_out": self.held_out,
                "current_model": self.current_model, "current": self.current,
                "candidate": self.candidate, "adopted": self.adopted, "reason": self.reason}


def example_of(row: Mapping[str, Any]) -> Example | None:
    """A training example from a `labelled_rows` row (None when it labels no learned family);
    a post marked "not about the brand" keeps its tags' labels but not its sentiment."""
    labels = {f: row[f] for f in FAMILIES if row.get(f) is not None}
    if row.get("about_brand") is False:
        labels.pop("sentiment", None)
    if not labels:
        return None
    return Example(str(row["id"]), row["text"], row.get("lang"), row.get("author"),
                   row["brand"], labels, SOURCE, row.get("title"),
                   is_article_item(row.get("title"), row.get("channel")))


def train_candidates(
    examples: Sequence[Example],
    brands: Sequence[BrandSettings],
    base: Mapping[str, LinearModel],
    current: Mapping[str, LinearModel],
    *,
    min_labels: int,
    seed: int = 0,
) -> list[FamilyResult]:
    """Per learned family: train on the non-held-out examples over `base[family]`, judge
    against `current[family]` (else the base) on the held-out ones (see module docstring)."""
    items = prepare(examples, brands)
    results = []
    for family in FAMILIES:
        if family not in base:
            continue
        results.append(_family(items, family, base[family], current.get(family),
                               min_labels=min_labels, seed=seed))
    return results


def _family(items: Sequence[Prepared], family: str, base: LinearModel,
            current: LinearModel | None, *, min_labels: int, seed: int) -> FamilyResult:
    labelled = [i for i in items if gold(i, family) is not None]
    held = [i for i in labelled if is_held_out(i.example.id)]
    rest = [i for i in labelled if not is_held_out(i.example.id)]
    if current is not None and current.base != base.digest:
        current = None  # stacked on another base: not in force, the base decides
    kind = "deployment" if current is not None else "base"
    figures = {"trained_on": len(rest), "held_out": len(held), "current_model": kind}
    if len(labelled) < min_labels:
        return FamilyResult(family, **figures,
                            reason=f"{len(labelled)} labels, {min_labels} needed")
    if len(held) < MIN_HELD_OUT:
        return FamilyResult(family, **figures,
                            reason=f"{len(held)} held-out labels, {MIN_HELD_OUT} needed")
    stack = {family: base}
    stacked_rest, stacked_held = with_base(rest, stack), with_base(held, stack)
    golds = [gold(i, family) for i in held]
    now = macro_f1(family, golds, decisions(current, stacked_held) if current is not None
                   else decisions(base, held))
    try:
        candidate = train(stacked_rest, family, seed=seed, base=base.digest, held=SOURCE,
                          any_setting=True)
    except TrainingDataError as exc:
        return FamilyResult(family, **figures, current=now, reason=str(exc))
    after = macro_f1(family, golds, decisions(candidate, stacked_held))
    if after <= now:
        return FamilyResult(family, **figures, current=now, candidate=after,
                            reason="not better on the held-out reviews")
    return FamilyResult(family, **figures, current=now, candidate=after, model=candidate)
