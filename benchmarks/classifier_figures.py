"""The classifiers' figures in one table: the rules alone against the rules plus the learned layer.

What the project reports about its classifiers, measured in one run with the same code the
tests gate: sentiment macro-F1 on the public test sets (UMSAB-es, InterTASS 2017, SemEval-2017
4A English; read from ../shared/corpora/nlp/ and skipped with the reason when absent), on the
development set (`dev.jsonl`: a regression check only, the rules' authors had read it) and on
the frozen held-out set (tests/holdout/: pooled and per language), then employee and
complaint F1 on dev and held-out, then the routed lists' precision on the held-out set,
news and blog items apart from posts. Public sets are scored as tests/test_sentiment.py
scores them (each language's pipeline on the bare text); dev and held-out through
`monitor eval` (each item for its brand, the Analyzer's `learned` switch for rules alone).

    python -m benchmarks.classifier_figures [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from classifiers.eval_scores import sentiment_scores
from classifiers.evaluation import evaluate
from classifiers.nlp import pipeline_for
from monitor.app.configuration import load_settings

REPO = Path(__file__).resolve().parents[1]
HOLDOUT = REPO / "tests" / "holdout"
CALDERIX = REPO / "examples" / "calderix" / "settings.toml"
PUBLIC = (  # (row name, file, source, language): the test splits the tests gate
    ("umsab_es/test", "sentiment_es.jsonl", "umsab_es", "es"),
    ("intertass2017/test", "sentiment_es.jsonl", "intertass2017", "es"),
    ("SemEval-2017 4A EN test", "sentiment_en.jsonl", "tweeteval_sentiment_semeval2017", "en"),
)
#: `--by` grouping for the routed lists: press and blogs against people's posts.
CHANNELS = "channel=news+blog,social+forum+review"
LEARNED = {"rules": False, "rules+learned": True}


def public_macro_f1(path: Path, source: str, lang: str, learned: bool) -> float:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["source"] == source and r["split"] == "test"]
    disable = [] if learned else ["vigia_learned"]
    docs = pipeline_for(lang).pipe([r["text"] for r in rows], batch_size=256, disable=disable)
    pairs = [(r["label"], doc._.sentiment.label) for r, doc in zip(rows, docs, strict=True)]
    scores = sentiment_scores(pairs)
    assert scores is not None
    return scores["macro_f1"]


def _f1(report: dict[str, Any], family: str) -> float:
    return report[family]["f1"] if report.get(family) else float("nan")


def measure(shared: Path) -> tuple[list[tuple[str, dict[str, str]]], list[tuple[str, ...]]]:
    """(figure rows: name → value per configuration, routed-list rows)."""
    rows: dict[str, dict[str, str]] = {}
    routed: list[tuple[str, ...]] = []
    notes: list[str] = []
    holdout_brands = load_settings(HOLDOUT / "brands.toml").brands
    dev = shared / "eval" / "dev.jsonl"
    for config, learned in LEARNED.items():
        for name, file, source, lang in PUBLIC:
            path = shared / "corpora" / "nlp" / file
            key = f"sentiment macro-F1, {name}"
            if path.is_file():
                figure = f"{public_macro_f1(path, source, lang, learned):.3f}"
            else:
                figure = "skipped"
                notes.append(f"{key}: skipped, {path} is absent")
            rows.setdefault(key, {})[config] = figure
        dev_report = None
        if dev.is_file():
            dev_report = evaluate(dev, load_settings(CALDERIX).brands, learned=learned)
        else:
            notes.append(f"dev.jsonl: skipped, {dev} is absent")
        by_lang = evaluate(HOLDOUT / "posts.jsonl", holdout_brands, by="lang", learned=learned)
        by_channel = evaluate(HOLDOUT / "posts.jsonl", holdout_brands, by=CHANNELS,
                              learned=learned)
        dash = "skipped"
        rows.setdefault("sentiment macro-F1, dev.jsonl (regression check)", {})[config] = (
            f"{dev_report['sentiment']['macro_f1']:.3f}" if dev_report else dash)
        rows.setdefault("sentiment macro-F1, held-out pooled", {})[config] = (
            f"{by_lang['sentiment']['macro_f1']:.3f}")
        for lang in ("es", "en"):
            group = by_lang["by"]["groups"][lang]
            rows.setdefault(f"sentiment macro-F1, held-out {lang}", {})[config] = (
                f"{group['sentiment']['macro_f1']:.3f}")
        for family in ("employee", "complaint"):
            rows.setdefault(f"{family} F1, dev.jsonl (regression check)", {})[config] = (
                f"{_f1(dev_report, family):.3f}" if dev_report else dash)
            rows.setdefault(f"{family} F1, held-out", {})[config] = (
                f"{_f1(by_lang, family):.3f}")
        for group, report in by_channel["by"]["groups"].items():
            for name, scores in report["routed"].items():
                if scores is not None:
                    routed.append((config, group, name, str(scores["listed"]),
                                   str(scores["belong"]), f"{scores['precision']:.3f}",
                                   f"{scores['recall']:.3f}"))
    for note in dict.fromkeys(notes):
        print(note)
    return list(rows.items()), routed


def markdown(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                        help="the shared data folder (corpora/nlp, eval/dev.jsonl)")
    args = parser.parse_args()
    figures, routed = measure(args.shared)
    print(markdown(("figure", *LEARNED), [(name, *(v[c] for c in LEARNED))
                                          for name, v in figures]))
    print()
    print("Routed lists on the held-out set (news+blog: press and blogs; the rest: posts)")
    print(markdown(("model", "items", "list", "listed", "belong", "precision", "recall"),
                   routed))


if __name__ == "__main__":
    main()
