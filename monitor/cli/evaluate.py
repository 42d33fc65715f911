"""`monitor eval`'s output: the scores table (or one JSON object) and the worst mistakes.

The scoring itself is `classifiers.evaluation`; this module only prints. Labelled posts are
content from the internet, so their text and evidence are escaped for Rich's markup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from monitor.cli.common import console
from monitor.core.errors import VigiaError
from monitor.core.settings import BrandSettings, Settings

if TYPE_CHECKING:
    from classifiers.learned.deployment import DeploymentModels

#: Characters of a mistaken post's text shown in the table (the JSON has it whole).
EXCERPT = 280


MODEL_CHOICES = ("base", "deployment", "both")


def models_to_score(settings: Settings, choice: str | None) -> dict[str, DeploymentModels | None]:
    """`--model`: "base" (the shipped layer), "deployment" (the team's models from
    `monitor train`) or "both"; by default both when the team has a model, else the base.
    The database is only read: one that does not exist yet holds no model."""
    from monitor.app.training import deployment_models_in_force
    from monitor.core.storage import open_database

    if choice not in (None, *MODEL_CHOICES):
        raise VigiaError(f"--model {choice!r} — use one of: {', '.join(MODEL_CHOICES)}")
    found = None
    if choice != "base":
        url = make_url(settings.database_url)
        missing = url.get_backend_name() == "sqlite" and not (
            url.database and Path(url.database).is_file())
        if not missing:
            db = open_database(settings.database_url)
            try:
                with db.reading() as session:
                    found = deployment_models_in_force(session)
            finally:
                db.dispose()
    if found is None:
        if choice in ("deployment", "both"):
            raise VigiaError("--model: no deployment model has been adopted yet — train one "
                             "with `monitor train` (it needs reviewed mentions)")
        return {"base": None}
    if choice == "deployment":
        return {"deployment": found}
    return {"base": None, "deployment": found}


def print_reports(file: Path, brands: Sequence[BrandSettings],
                  models: dict[str, DeploymentModels | None], *, only: str | None = None,
                  as_json: bool, errors: int, by: str | None = None) -> None:
    """One report per model set (`models_to_score`); with two, JSON keys them by name."""
    if as_json and len(models) > 1:
        from classifiers.evaluation import evaluate

        print(json.dumps({name: evaluate(file, brands, errors=errors, only=only, by=by,
                                         deployment=deployment)
                          for name, deployment in models.items()}, ensure_ascii=False))
        return
    for name, deployment in models.items():
        print_report(file, brands, only=only, as_json=as_json, errors=errors, by=by,
                     deployment=deployment, model=name if "deployment" in models else None)


def print_report(file: Path, brands: Sequence[BrandSettings], *, only: str | None = None,
                 as_json: bool, errors: int, by: str | None = None,
                 deployment: DeploymentModels | None = None, model: str | None = None) -> None:
    """Evaluate `file` (each item for its brand; `only` keeps one brand's), with the
    deployment models when given, and print it."""
    from classifiers.evaluation import evaluate, report_rows

    report = evaluate(file, brands, errors=errors, only=only, by=by, deployment=deployment)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    scored = report["brands"]
    whose = f"brand {scored[0]}" if len(scored) == 1 else f"{len(scored)} brands"
    which = f", {model} model" if model else ""
    table = Table(title=escape(f"{file} — {report['n']} items, {whose}{which}"))
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
    print_routed({"all": report["routed"]}, "Routed lists: what each list's readers get")
    if "by" in report:
        print_groups(report["by"])
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


def _figure(value: dict[str, Any] | None, *keys: str) -> str:
    for key in keys:
        if value is None:
            return "–"
        value = value[key]
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_routed(groups: dict[str, dict[str, Any]], title: str) -> None:
    """One row per (group, list): how many items the list got, its precision and recall."""
    table = Table(title=escape(title))
    for column in ("group", "list", "listed", "belong", "precision", "recall"):
        table.add_column(column, justify="left" if column in ("group", "list") else "right")
    for group, routed in groups.items():
        for name, scores in routed.items():
            if scores is not None:
                table.add_row(escape(group), escape(name), str(scores["listed"]),
                              str(scores["belong"]), f"{scores['precision']:.3f}",
                              f"{scores['recall']:.3f}")
    console.print(table)


def print_groups(by: dict[str, Any]) -> None:
    """`--by`: the headline figures per group, then the routed lists per group."""
    field = by["field"]
    table = Table(title=escape(f"F1 by {field}"),
                  caption="sentiment: macro-F1; leak, policy: micro-F1")
    columns = {
        "sentiment": ("sentiment", "macro_f1"), "about": ("about_brand", "f1"),
        "complaint": ("complaint", "f1"), "employee": ("employee", "f1"),
        "leak": ("leak", "micro", "f1"), "policy": ("policy", "micro", "f1"),
    }
    table.add_column(escape(field))
    table.add_column("n", justify="right")
    for column in columns:
        table.add_column(column, justify="right")
    for group, report in by["groups"].items():
        table.add_row(escape(group), str(report["n"]),
                      *(_figure(report[keys[0]], *keys[1:]) for keys in columns.values()))
    console.print(table)
    print_routed({group: report["routed"] for group, report in by["groups"].items()},
                 f"Routed lists by {field}")
