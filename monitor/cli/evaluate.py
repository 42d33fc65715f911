"""`monitor eval`'s output: the scores table (or one JSON object) and the worst mistakes.

The scoring itself is `classifiers.evaluation`; this module only prints. Labelled posts are
content from the internet, so their text and evidence are escaped for Rich's markup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from monitor.cli.common import console
from monitor.core.settings import BrandSettings

#: Characters of a mistaken post's text shown in the table (the JSON has it whole).
EXCERPT = 280


def print_report(file: Path, brand: BrandSettings, *, as_json: bool, errors: int) -> None:
    """Evaluate `file` for `brand` and print the report."""
    from classifiers.evaluation import evaluate, report_rows

    report = evaluate(file, brand, errors=errors)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    table = Table(title=escape(f"{file} — {report['n']} items, brand {brand.name}"))
    for column in ("label", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for row in report_rows(report):
        table.add_row(*row)
    console.print(table)
    if report["sentiment"] is not None:
        console.print(
            f"sentiment: accuracy {report['sentiment']['accuracy']:.3f}, "
            f"macro-F1 {report['sentiment']['macro_f1']:.3f}"
        )
    console.print(f"{report['docs_per_second']} documents per second")
    for mistake in report.get("errors", []):
        print_mistake(mistake)


def print_mistake(mistake: dict[str, Any]) -> None:
    """One mistake: where, what was expected and said, the post, and the evidence cited."""
    where = f"line {mistake['line']}" + (f" ({mistake['id']})" if mistake["id"] else "")
    text = mistake["text"]
    if len(text) > EXCERPT:
        text = text[:EXCERPT] + "…"
    wrong = "; ".join(f"{w['family']}: expected {w['gold']}, got {w['predicted']}"
                      for w in mistake["wrong"])
    console.print(f"\n[bold]{escape(where)}[/] {escape(wrong)}")
    console.print(f"  {escape(text)}", highlight=False)
    for tag in mistake["tags"]:
        cited = ", ".join(f"“{e['text']}” ({e['reason']})" for e in tag["evidence"]) or "none"
        console.print(f"  {escape(tag['family'])} {escape(tag['label'])} "
                      f"{tag['score']:+.2f}: {escape(cited)}", highlight=False)
