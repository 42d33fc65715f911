"""`monitor eval`'s output: the scores table (or one JSON object) and the worst mistakes.

The scoring itself is `classifiers.evaluation`; this module only prints. Labelled posts are
content from the internet, so their text and evidence are escaped for Rich's markup.
"""

from __future__ import annotations

import json
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


def print_reports(file: Path, brand: BrandSettings, models: dict[str, DeploymentModels | None],
                  *, as_json: bool, errors: int) -> None:
    """One report per model set (`models_to_score`); with two, JSON keys them by name."""
    if as_json and len(models) > 1:
        from classifiers.evaluation import evaluate

        print(json.dumps({name: evaluate(file, brand, errors=errors, deployment=deployment)
                          for name, deployment in models.items()}, ensure_ascii=False))
        return
    for name, deployment in models.items():
        print_report(file, brand, as_json=as_json, errors=errors, deployment=deployment,
                     model=name if "deployment" in models else None)


def print_report(file: Path, brand: BrandSettings, *, as_json: bool, errors: int,
                 deployment: DeploymentModels | None = None, model: str | None = None) -> None:
    """Evaluate `file` for `brand` (with the deployment models, when given) and print it."""
    from classifiers.evaluation import evaluate, report_rows

    report = evaluate(file, brand, errors=errors, deployment=deployment)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    which = f", {model} model" if model else ""
    table = Table(title=escape(f"{file} — {report['n']} items, brand {brand.name}{which}"))
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
