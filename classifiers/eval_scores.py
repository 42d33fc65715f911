"""`monitor eval`'s data and arithmetic: labelled items, predictions, and their scores.

Apart from `classifiers.evaluation` (reading files, running the Analyzer), so that the
breakdowns (`classifiers.eval_groups`) score subsets with the same code and no import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from classifiers.tags import BOOLEAN_FAMILIES, MULTI_LABEL, SENTIMENT_LABELS, TagResult
from monitor.core.errors import VigiaError


class EvaluationInputError(VigiaError):
    """The labelled file cannot be read; the message names the file, line and the fix."""


@dataclass(frozen=True, slots=True)
class LabelledItem:
    """One labelled post; None for a field the item does not label."""

    text: str
    lang: str | None = None
    author: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # where in the file (for --errors)
    id: str | None = None
    brand: str | None = None  # None: the brand being evaluated (the first, or --brand)
    title: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # string fields, for --by


@dataclass(frozen=True, slots=True)
class Prediction:
    """What Vigía says about one item for the evaluated brand."""

    about_brand: bool
    sentiment: str
    labels: dict[str, frozenset[str]]  # family → labels tagged
    tags: tuple[TagResult, ...] = ()  # what the Analyzer gave, with the evidence


@dataclass(slots=True)
class Counts:
    """True/false positives and false negatives for one label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: bool, predicted: bool) -> None:
        self.tp += gold and predicted
        self.fp += predicted and not gold
        self.fn += gold and not predicted

    def __iadd__(self, other: Counts) -> Counts:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        return self

    def scores(self) -> dict[str, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


# -------------------------------------------------------------------------------- scores


def sentiment_scores(pairs: list[tuple[str, str]]) -> dict[str, float] | None:
    if not pairs:
        return None
    f1s = []
    for label in SENTIMENT_LABELS:
        counts = Counts()
        for gold, predicted in pairs:
            counts.add(gold == label, predicted == label)
        f1s.append(counts.scores()["f1"])
    accuracy = sum(gold == predicted for gold, predicted in pairs) / len(pairs)
    return {"accuracy": round(accuracy, 4), "macro_f1": round(sum(f1s) / len(f1s), 4)}


def score(items: Sequence[LabelledItem], predictions: Sequence[Prediction],
          seconds: float) -> dict[str, Any]:
    """The report `monitor eval --json` prints (None for a family no item labels)."""
    about = Counts()
    about_seen = False
    sentiment_pairs: list[tuple[str, str]] = []
    per_label = {family: {label: Counts() for label in labels}
                 for family, labels in MULTI_LABEL.items()}
    multi_seen = dict.fromkeys(MULTI_LABEL, False)
    booleans = {family: Counts() for family in BOOLEAN_FAMILIES}
    boolean_seen = dict.fromkeys(BOOLEAN_FAMILIES, False)
    for item, predicted in zip(items, predictions, strict=True):
        gold = item.labels
        if "about_brand" in gold:
            about_seen = True
            about.add(gold["about_brand"], predicted.about_brand)
        if "sentiment" in gold:
            sentiment_pairs.append((gold["sentiment"], predicted.sentiment))
        for family, labels in MULTI_LABEL.items():
            if family in gold:
                multi_seen[family] = True
                for label in labels:
                    per_label[family][label].add(
                        label in gold[family], label in predicted.labels[family]
                    )
        for family in BOOLEAN_FAMILIES:
            if family in gold:
                boolean_seen[family] = True
                booleans[family].add(gold[family], bool(predicted.labels[family]))
    report: dict[str, Any] = {
        "n": len(items),
        "about_brand": about.scores() if about_seen else None,
        "sentiment": sentiment_scores(sentiment_pairs),
    }
    for family in MULTI_LABEL:
        if not multi_seen[family]:
            report[family] = None
            continue
        micro = Counts()
        for counts in per_label[family].values():
            micro += counts
        report[family] = {label: c.scores() for label, c in per_label[family].items()}
        report[family]["micro"] = micro.scores()
    for family in BOOLEAN_FAMILIES:
        report[family] = booleans[family].scores() if boolean_seen[family] else None
    report["docs_per_second"] = round(len(items) / seconds, 1) if seconds > 0 else None
    # Key order as documented: n, about_brand, sentiment, leak, employee, policy, complaint.
    order = ("n", "about_brand", "sentiment", "leak", "employee", "policy", "complaint",
             "docs_per_second")
    return {key: report[key] for key in order}
