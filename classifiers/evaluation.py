"""`monitor eval`: score the classifiers against labelled posts (JSONL), offline.

Why a built-in command rather than a notebook: a comms team tuning its brand query or lexicons
needs the same figures the project reports (precision, recall, F1 per label, sentiment
macro-F1, documents per second) from one command, on its own labelled posts.

Input: one JSON object per line with `text` and any of `about_brand` (bool), `sentiment`
("negative" | "neutral" | "positive"), `leak` (list of pii/secret/confidential), `employee`
(bool), `policy` (list of labels), `complaint` (bool), plus optional `lang`, `author`,
`title` (a headline: the item is then read as an article, as a news item is), `channel`
(`news` or `blog` is read as an article too, headline or not: the pipeline reads every feed
entry with the headline its source gives, and a labelled export may not carry it) and `brand`
(which of the settings' brands the labels refer to; `monitor labels export` writes it).
A field that is absent (or null) leaves that item out of that family's scores only, so a
sentiment-only corpus can be scored too. Each item is classified exactly as the Analyzer
classifies a post for its brand: the query decides `about_brand`, and the spaCy pipeline of
the item's language, with the brand's profile and the author on the Doc, produces the tags.
Any other string field (`channel`, `source`...) can break the figures down
(`classifiers.eval_groups`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from classifiers.analyzer import Analyzer, is_article_item
from classifiers.eval_groups import breakdown, routed_scores
from classifiers.eval_scores import (
    Counts,
    EvaluationInputError,
    LabelledItem,
    Prediction,
    score,
)
from classifiers.language import detect_languages
from classifiers.learned.deployment import DeploymentModels
from classifiers.nlp import pipeline_for
from classifiers.tags import (
    BOOLEAN_FAMILIES,
    MULTI_LABEL,
    SENTIMENT_LABELS,
    TagResult,
)
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings

__all__ = ["Counts", "EvaluationInputError", "LabelledItem", "Prediction", "classify",
           "classify_items", "evaluate", "read_items", "report_rows", "score"]


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
        strings = {key: value.strip() for key, value in row.items()
                   if isinstance(value, str) and value.strip() and key != "text"}
        items.append(LabelledItem(
            text=row["text"],
            lang=strings.get("lang"),
            author=strings.get("author"),
            labels={k: v for k, v in labels.items() if v is not None},
            line=number,
            id=str(row["id"]) if row.get("id") is not None else None,
            brand=strings.get("brand"),
            title=strings.get("title"),
            fields=strings,
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


def classify(items: Sequence[LabelledItem], brand: BrandSettings, *,
             learned: bool = True,
             deployment: DeploymentModels | None = None) -> list[Prediction]:
    """Run the pipeline's own Analyzer over every item, for the brand: its query decides
    `about_brand`, and every item is classified as a post of the brand (the Analyzer's
    `assume_brand`), so that items the query misses are scored on their tags too.
    `learned=False`: the rules alone (the Analyzer without its learned layer). With
    `deployment`, the team's own models decide where they apply, as in the pipeline."""
    analyzer = Analyzer([brand], learned=learned, deployment=deployment)
    articles = [is_article_item(item.title, item.fields.get("channel")) for item in items]
    posts = [RawPost(source="eval", external_id=str(n), title=item.title, text=item.text,
                     lang=item.lang, author_handle=item.author) for n, item in enumerate(items)]
    matched = [any(name == brand.name for name, _ in analyzer.match(post)) for post in posts]
    results = analyzer.analyse(posts, assume_brand=brand.name, articles=articles)
    return [_prediction(about, analysis.tags)
            for about, (analysis,) in zip(matched, results, strict=True)]


def for_brands(items: Sequence[LabelledItem], brands: Sequence[BrandSettings],
               path: Path | None = None) -> dict[str, list[int]]:
    """brand name → the indices of its items: an item's `brand` field, else the first brand.

    Raises EvaluationInputError for an item whose brand the settings do not hold, naming the
    line and the fix; so a typo never scores posts against the wrong brand's profile."""
    names = {brand.name: brand for brand in brands}
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        name = item.brand or brands[0].name
        if name not in names:
            where = f"{path}, line {item.line}" if path else f"line {item.line}"
            raise EvaluationInputError(
                f"{where}: brand {item.brand!r} is not in the settings (brands: "
                f"{', '.join(names)}) — add a [[brands]] entry with that name, fix the "
                'item\'s "brand" field, or choose one brand with --brand'
            )
        groups.setdefault(name, []).append(index)
    return groups


def classify_items(items: Sequence[LabelledItem], brands: Sequence[BrandSettings], *,
                   learned: bool = True, deployment: DeploymentModels | None = None,
                   path: Path | None = None) -> list[Prediction]:
    """Classify every item for its own brand (see `for_brands`), in file order."""
    by_name = {brand.name: brand for brand in brands}
    predictions: list[Prediction | None] = [None] * len(items)
    for name, indices in for_brands(items, brands, path).items():
        found = classify([items[i] for i in indices], by_name[name], learned=learned,
                         deployment=deployment)
        for index, prediction in zip(indices, found, strict=True):
            predictions[index] = prediction
    return [p for p in predictions if p is not None]


def of_brand(items: Sequence[LabelledItem], brand: str) -> list[LabelledItem]:
    """The items labelled for `brand` (`--brand`): its own, and those naming no brand."""
    return [item for item in items if item.brand in (None, brand)]


def warm_up(items: Sequence[LabelledItem]) -> None:
    """Load the language detector and every pipeline the items need, outside the timing."""
    hints = {item.lang for item in items}
    for lang in detect_languages([items[0].text], [items[0].lang]) + [
        h for h in hints if h
    ]:
        pipeline_for(lang)("warm up")



def evaluate(path: Path, brands: Sequence[BrandSettings], errors: int = 0, *,
             only: str | None = None, by: str | None = None,
             learned: bool = True,
             deployment: DeploymentModels | None = None) -> dict[str, Any]:
    """Read, classify (timed, after warming the models up) and score a labelled file, each
    item for its own brand; `only` keeps one brand's items (`--brand`). With `errors`, the
    report's "errors" lists that many of the worst mistakes; with `by`, "by" breaks the
    figures down by that field (`classifiers.eval_groups`). "routed" is always there. With
    `deployment`, the team's own models decide where they apply."""
    items = read_items(path)
    if only is not None:
        brands = [brand for brand in brands if brand.name == only]
        items = of_brand(items, only)
        if not items:
            raise EvaluationInputError(f"{path}: no items for brand {only!r}")
    warm_up(items)
    started = time.perf_counter()
    predictions = classify_items(items, brands, learned=learned, deployment=deployment,
                                 path=path)
    seconds = time.perf_counter() - started
    report = score(items, predictions, seconds)
    report["brands"] = sorted({item.brand or brands[0].name for item in items})
    report["routed"] = routed_scores(items, predictions)
    if by:
        report["by"] = breakdown(items, predictions, by)
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
