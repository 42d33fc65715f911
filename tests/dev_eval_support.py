"""The labelled dev set (../shared/eval/dev.jsonl) run through the real Analyzer, for floors.

The brand is configured exactly as a user would, by examples/calderix/settings.toml.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from classifiers.analyzer import Analyzer
from classifiers.tags import TagResult
from monitor.app.configuration import load_settings
from monitor.core.rawpost import RawPost

EXAMPLE_SETTINGS = Path(__file__).resolve().parents[1] / "examples/calderix/settings.toml"


@cache
def dev_predictions(dev_file: Path) -> list[tuple[dict, tuple[TagResult, ...]]]:
    """(labelled row, tags the Analyzer gave the brand) for every dev post; () if unmatched."""
    rows = [json.loads(line) for line in dev_file.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    analyzer = Analyzer(load_settings(EXAMPLE_SETTINGS).brands)
    posts = [RawPost(source="dev", external_id=row["id"], text=row["text"], lang=row.get("lang"),
                     author_handle=row.get("author")) for row in rows]
    result = []
    for row, found in zip(rows, analyzer.analyse(posts), strict=True):
        brand = next((a for a in found if a.role == "brand"), None)
        result.append((row, brand.tags if brand else ()))
    return result


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
