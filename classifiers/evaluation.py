"""`monitor eval`: score the classifiers against labelled posts (JSONL), offline.

Why a built-in command rather than a notebook: a comms team tuning its brand query or lexicons
needs the same figures the project reports (precision, recall, F1 per label, sentiment
macro-F1, documents per second) from one command, on its own labelled posts.

Input: one JSON object per line with `text` and any of `about_brand` (bool), `sentiment`
("negative" | "neutral" | "positive"), `leak` (list of pii/secret/confidential), `employee`
(bool), `policy` (list of labels), `complaint` (bool), plus optional `lang` and `author`.
A field that is absent (or null) leaves that item out of that family's scores only, so a
sentiment-only corpus can be scored too. Each item is classified exactly as the Analyzer
classifies a post for a brand: the query decides `about_brand`, and the spaCy pipeline of the
item's language, with the brand's profile and the author on the Doc, produces the tags.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.analyzer import Analyzer
from classifiers.language import detect_languages
from classifiers.learned.deployment import DeploymentModels
from classifiers.nlp import pipeline_for
from classifiers.tags import (
    BOOLEAN_FAMILIES,
    MULTI_LABEL,
    SENTIMENT_LABELS,
    TagResult,
)
from monitor.core.errors import VigiaError
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings


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


# ------------------------------------------------------------------------------ input


def _check_labels(family: str, value: Any, where: str) -> Any:
    """The field's value if well-formed; EvaluationInputError naming the fix otherwise."""
    if value is None:
        return None
    if family in ("about_brand", *BOOLEAN_FAMILIES):
        if not isinstance(value, bool):
            raise EvaluationInputError(f"{where}: {family!r} must be true or false")
    elif family == "sentiment":
        if value not in SENTIMENT_LABELS:
            raise EvaluationInputError(
                f"{where}: sentiment {value!r} — use one of {', '.join(SENTIMENT_LABELS)}"
            )
    else:
        allowed = MULTI_LABEL[family]
        if not isinstance(value, list) or any(label not in allowed for label in value):
            raise EvaluationInputError(
                f"{where}: {family!r} must be a list of labels from {', '.join(allowed)}"
                f" (got {value!r})"
            )
        value = frozenset(value)
    return value


def read_items(path: Path) -> list[LabelledItem]:
    """Labelled items from a JSONL file; raises EvaluationInputError naming the bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationInputError(f"{path}: cannot read the file ({exc})") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationInputError(
                f"{where}: not valid JSON ({exc.msg}) — write one JSON object per line"
            ) from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise EvaluationInputError(f'{where}: each line needs a "text" string')
        labels = {
            family: _check_labels(family, row.get(family), where)
            for family in ("about_brand", "sentiment", *MULTI_LABEL, *BOOLEAN_FAMILIES)
        }
        lang, author = row.get("lang"), row.get("author")
        items.append(LabelledItem(
            text=row["text"],
            lang=lang if isinstance(lang, str) and lang else None,
            author=author if isinstance(author, str) and author else None,
            labels={k: v for k, v in labels.items() if v is not None},
            line=number,
            id=str(row["id"]) if row.get("id") is not None else None,
        ))
    if not items:
        raise EvaluationInputError(f"{path}: no labelled items (the file is empty)")
    return items


# ----------------------------------------------------------------------- classification


def _prediction(about_brand: bool, tags: Iterable[TagResult]) -> Prediction:
    found: dict[str, set[str]] = {family: set() for family in (*MULTI_LABEL, *BOOLEAN_FAMILIES)}
    sentiment = "neutral"
    tags = tuple(tags)
    for tag in tags:
        if tag.family == "sentiment":
            sentiment = tag.label
        elif tag.family in found:
            found[tag.family].add(tag.label)
    return Prediction(
        about_brand=about_brand,
        sentiment=sentiment,
        labels={family: frozenset(labels) for family, labels in found.items()},
        tags=tags,
    )


def classify(items: Sequence[LabelledItem], brand: BrandSettings,
             deployment: DeploymentModels | None = None) -> list[Prediction]:
    """Run the pipeline's own Analyzer over every item, for the brand: its query decides
    `about_brand`, and every item is classified as a post of the brand (the Analyzer's
    `assume_brand`), so that items the query misses are scored on their tags too. With
    `deployment`, the team's own models decide where they apply, as in the pipeline."""
    analyzer = Analyzer([brand], deployment=deployment)
    posts = [RawPost(source="eval", external_id=str(n), text=item.text, lang=item.lang,
                     author_handle=item.author) for n, item in enumerate(items)]
    matched = [any(name == brand.name for name, _ in analyzer.match(post)) for post in posts]
    results = analyzer.analyse(posts, assume_brand=brand.name)
    return [_prediction(about, analysis.tags)
            for about, (analysis,) in zip(matched, results, strict=True)]


def warm_up(items: Sequence[LabelledItem]) -> None:
    """Load the language detector and every pipeline the items need, outside the timing."""
    hints = {item.lang for item in items}
    for lang in detect_languages([items[0].text], [items[0].lang]) + [
        h for h in hints if h
    ]:
        pipeline_for(lang)("warm up")


# -------------------------------------------------------------------------------- scores


def _sentiment_scores(pairs: list[tuple[str, str]]) -> dict[str, float] | None:
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
        "sentiment": _sentiment_scores(sentiment_pairs),
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


def evaluate(path: Path, brand: BrandSettings, errors: int = 0,
             deployment: DeploymentModels | None = None) -> dict[str, Any]:
    """Read, classify (timed, after warming the models up) and score a labelled file;
    with `errors`, the report's "errors" lists that many of the worst mistakes."""
    items = read_items(path)
    warm_up(items)
    started = time.perf_counter()
    predictions = classify(items, brand, deployment)
    seconds = time.perf_counter() - started
    report = score(items, predictions, seconds)
    if errors > 0:
        report["errors"] = worst_errors(items, predictions, errors)
    return report


def _mistakes(item: LabelledItem, predicted: Prediction) -> list[tuple[str, Any, Any, int]]:
    """(family, gold, predicted, weight) for each family the prediction gets wrong; a
    sentiment read the opposite way weighs 2, any other mistake 1."""
    found = []
    for family, gold in item.labels.items():
        if family == "about_brand":
            said: Any = predicted.about_brand
        elif family == "sentiment":
            said = predicted.sentiment
        elif family in BOOLEAN_FAMILIES:
            said = bool(predicted.labels[family])
        else:
            said, gold = sorted(predicted.labels[family]), sorted(gold)
        if said != gold:
            weight = 2 if family == "sentiment" and "neutral" not in (gold, said) else 1
            found.append((family, gold, said, weight))
    return found


def worst_errors(items: Sequence[LabelledItem], predictions: Sequence[Prediction],
                 limit: int) -> list[dict[str, Any]]:
    """The `limit` worst mistakes: most weight first (see `_mistakes`), then the most
    confident wrong tags, then file order; each with what the classifiers cited."""
    ranked = []
    for item, predicted in zip(items, predictions, strict=True):
        wrong = _mistakes(item, predicted)
        if not wrong:
            continue
        families = {family for family, *_ in wrong}
        tags = [t for t in predicted.tags if t.family in families]
        confidence = max((abs(t.score) for t in tags), default=0.0)
        ranked.append((-sum(w for *_, w in wrong), -confidence, item.line, item, wrong, tags))
    ranked.sort(key=lambda r: r[:3])
    return [
        {
            "line": item.line, "id": item.id, "text": item.text,
            "wrong": [{"family": f, "gold": g, "predicted": p} for f, g, p, _ in wrong],
            "tags": [{"family": t.family, "label": t.label, "score": t.score,
                      "evidence": [e.as_dict() for e in t.evidence]} for t in tags],
        }
        for *_, item, wrong, tags in ranked[:limit]
    ]


def report_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(label, precision, recall, F1) rows for the human-readable table, family by family."""
    rows: list[tuple[str, str, str, str]] = []

    def add(name: str, scores: dict[str, float]) -> None:
        rows.append((name, *(f"{scores[key]:.3f}" for key in ("precision", "recall", "f1"))))

    for family in ("about_brand", "leak", "employee", "policy", "complaint"):
        value = report[family]
        if value is None:
            continue
        if family in MULTI_LABEL:
            for label, scores in value.items():
                add(f"{family} {label}", scores)
        else:
            add(family, value)
    return rows
