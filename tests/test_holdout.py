"""Floors on the frozen held-out set (tests/holdout/): the figures that count.

The set was written blind (README.md there) and is never used for tuning: nobody changes a
rule, lexicon, pattern or model to raise a figure here. The floors sit a little below what
the code measured when they were set (`python -m benchmarks.classifier_figures` prints them),
so a regression fails and nothing is claimed that the code does not reach. When a change
lowers a figure for a reason worth it, lower the floor in the same commit and say why.

The set lives in the repository, so these tests never skip. It is scored exactly as a team
scores its own labelled posts:

    monitor --settings tests/holdout/brands.toml eval tests/holdout/posts.jsonl --by lang
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from classifiers.evaluation import evaluate
from monitor.app.configuration import load_settings
from monitor.cli.main import app

HOLDOUT = Path(__file__).resolve().parent / "holdout"
#: The frozen files. A change here is a change to the set: only with a note in its README
#: ("Change after freezing"), never to labels, and never to match a classifier's output.
FROZEN = {
    "posts.jsonl": "210baa50be031b374e6d213814f7bdd47285bfd083af0402921a7cfb4059bcfd",
    "brands.toml": "4104112e4536b47704d916680cc0d511d186124c34afce89635e699d8ccfc388",
}
#: Press and blogs against people's posts: where the routed lists' precision is measured.
CHANNELS = "channel=news+blog,social+forum+review"


def held_out(by: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--settings", str(HOLDOUT / "brands.toml"), "eval",
                                      str(HOLDOUT / "posts.jsonl"), "--json", "--by", by])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def by_lang() -> dict[str, Any]:
    return held_out("lang")


@pytest.fixture(scope="module")
def by_channel() -> dict[str, Any]:
    return held_out(CHANNELS)


@pytest.mark.parametrize(("name", "digest"), FROZEN.items())
def test_the_set_is_frozen(name: str, digest: str) -> None:
    assert hashlib.sha256((HOLDOUT / name).read_bytes()).hexdigest() == digest, (
        f"tests/holdout/{name} changed: the held-out set is frozen (see its README)"
    )


def test_every_item_is_scored_for_its_own_brand(by_lang: dict[str, Any]) -> None:
    assert by_lang["n"] == 503
    assert by_lang["brands"] == ["Banco Sarriel", "Celesta Airways", "Loomfield", "Zampa"]
    assert {g: r["n"] for g, r in by_lang["by"]["groups"].items()} == {"es": 292, "en": 211}


# Measured with the shipped models (rules alone in brackets), issue 12.
@pytest.mark.parametrize(
    ("lang", "floor"),
    [
        ("es", 0.64),  # measured 0.663 (0.552)
        ("en", 0.59),  # measured 0.600 (0.512); 0.615 before stop 20's policy cues retrained it
    ],
)
def test_sentiment_per_language(by_lang: dict[str, Any], lang: str, floor: float) -> None:
    score = by_lang["by"]["groups"][lang]["sentiment"]["macro_f1"]
    assert score >= floor, f"held-out {lang} sentiment macro-F1 {score:.3f} fell below {floor}"


@pytest.mark.parametrize(
    ("family", "key", "floor"),
    [
        ("sentiment", "macro_f1", 0.62),  # measured 0.637 (0.536)
        ("about_brand", "f1", 0.93),  # measured 0.951
        ("employee", "f1", 0.66),  # measured 0.693 (0.639)
        ("complaint", "f1", 0.76),  # measured 0.785 (0.736)
        ("leak", "micro", 0.87),  # measured micro-F1 0.897
        ("policy", "micro", 0.51),  # measured micro-F1 0.533 (0.493 before stop 20)
    ],
)
def test_pooled_family_floors(by_lang: dict[str, Any], family: str, key: str,
                              floor: float) -> None:
    value = by_lang[family][key]
    score = value["f1"] if key == "micro" else value
    assert score >= floor, f"held-out {family} {score:.3f} fell below {floor}"


@pytest.fixture(scope="module")
def rules_alone() -> dict[str, Any]:
    """The set scored by the rules alone: the same Analyzer without its learned layer."""
    brands = load_settings(HOLDOUT / "brands.toml").brands
    return evaluate(HOLDOUT / "posts.jsonl", brands, learned=False)


def _family_score(report: dict[str, Any], family: str) -> float:
    value = report[family]["macro_f1" if family == "sentiment" else "f1"]
    return float(value)


# The learned layer earns its place on posts nobody tuned it on. Measured at issue 12's stop
# 20: sentiment 0.536 -> 0.637, employee 0.639 -> 0.693, complaint 0.736 -> 0.785.
@pytest.mark.parametrize(("family", "margin"),
                         [("sentiment", 0.08), ("employee", 0.03), ("complaint", 0.03)])
def test_the_shipped_models_beat_the_rules_alone(by_lang: dict[str, Any],
                                                 rules_alone: dict[str, Any], family: str,
                                                 margin: float) -> None:
    shipped, rules = _family_score(by_lang, family), _family_score(rules_alone, family)
    assert shipped >= rules + margin, (
        f"held-out {family}: shipped {shipped:.3f} against the rules' {rules:.3f}")


# Precision of each routed list, press and blogs apart from posts (rules alone in brackets).
# News and blog items (146, of which 3 are complaints and 6 employee or policy posts) are
# read as articles: a complaint needs the author's own voice or a letter to the brand, and
# the learned layer may not add complaint or employee tags to them. Before that (issue 12)
# the lists took in 14 and 10 of them, 1 right each; the floors stop it getting worse.
@pytest.mark.parametrize(
    ("group", "route", "floor"),
    [
        ("news+blog", "complaints", 0.45),  # measured 0.500: 1 of 2 (rules alone the same)
        ("news+blog", "employees", 0.45),  # measured 0.667: 2 of 3 (rules alone the same)
        ("news+blog", "leak alerts", 0.95),  # measured 1.000: 3 of 3
        ("social+forum+review", "complaints", 0.74),  # measured 0.770 (0.800)
        ("social+forum+review", "employees", 0.94),  # measured 1.000 (1.000)
        ("social+forum+review", "leak alerts", 0.95),  # measured 1.000: 16 of 16
    ],
)
def test_routed_list_precision(by_channel: dict[str, Any], group: str, route: str,
                               floor: float) -> None:
    scores = by_channel["by"]["groups"][group]["routed"][route]
    assert scores["precision"] >= floor, (
        f"held-out {route} list on {group} items: precision {scores['precision']:.3f} "
        f"({scores['listed']} listed) fell below {floor}"
    )
