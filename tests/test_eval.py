"""`monitor eval`: the JSON report's shape, input errors, and the floors on the dev set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.eval_groups import parse_groups
from classifiers.evaluation import Counts, EvaluationInputError, read_items
from monitor.cli.main import app, main

REPO = Path(__file__).resolve().parents[1]
CALDERIX = REPO / "examples" / "calderix" / "settings.toml"
SCORES = {"precision", "recall", "f1"}


def run_eval(path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--settings", str(CALDERIX), "eval", str(path), *extra])
    return result.exit_code, result.output


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_json_report_has_the_documented_shape(tmp_path: Path) -> None:
    rows = [
        {"text": "Tercer día sin fibra, @calderix. Qué puta vergüenza", "lang": "es",
         "about_brand": True, "sentiment": "negative", "leak": [], "employee": False,
         "policy": ["crude"], "complaint": True},
        {"text": "Calderix Star gana en Sanlúcar", "lang": "es", "about_brand": False,
         "sentiment": "neutral", "leak": [], "employee": False, "policy": [], "complaint": False},
        {"text": "Love my new Calderix router, super fast", "lang": "en", "about_brand": True,
         "sentiment": "positive", "leak": [], "employee": False, "policy": [],
         "complaint": False},
    ]
    code, output = run_eval(write_jsonl(tmp_path / "set.jsonl", rows), "--json")
    assert code == 0, output
    report = json.loads(output)
    assert list(report) == ["n", "about_brand", "sentiment", "leak", "employee", "policy",
                            "complaint", "docs_per_second", "brands", "routed"]
    assert report["brands"] == ["Calderix"]
    assert list(report["routed"]) == ["complaints", "employees", "leak alerts"]
    # the first post complains (and is crude): on both daily lists, rightly
    assert report["routed"]["complaints"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                              "listed": 1, "belong": 1}
    assert report["routed"]["employees"]["listed"] == 1
    assert report["n"] == 3
    assert set(report["about_brand"]) == SCORES and set(report["employee"]) == SCORES
    assert set(report["complaint"]) == SCORES
    assert set(report["sentiment"]) == {"accuracy", "macro_f1"}
    assert set(report["leak"]) == {"pii", "secret", "confidential", "micro"}
    assert set(report["policy"]) == {"insult", "discrimination", "sexual", "crude",
                                     "political_religious", "competitor_disparagement", "micro"}
    assert all(set(v) == SCORES for v in (*report["leak"].values(), *report["policy"].values()))
    assert report["about_brand"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert report["policy"]["crude"]["f1"] == 1.0 and report["complaint"]["recall"] == 1.0
    assert report["docs_per_second"] > 0


def test_items_without_a_field_are_skipped_for_that_family(tmp_path: Path) -> None:
    rows = [{"text": "Estoy encantada con la fibra nueva", "sentiment": "positive"},
            {"text": "El servicio es pésimo", "sentiment": "negative"}]
    code, output = run_eval(write_jsonl(tmp_path / "s.jsonl", rows), "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["sentiment"] == {"accuracy": 1.0, "macro_f1": pytest.approx(2 / 3, abs=1e-3)}
    for family in ("about_brand", "leak", "employee", "policy", "complaint"):
        assert report[family] is None


def test_table_output(tmp_path: Path) -> None:
    rows = [{"text": "Calderix me ha cobrado dos veces", "lang": "es", "complaint": True}]
    code, output = run_eval(write_jsonl(tmp_path / "t.jsonl", rows))
    assert code == 0, output
    assert "complaint" in output and "documents per second" in output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"label": "x"}', 'line 2: each line needs a "text" string'),
        ('{"text": "x", "sentiment": "angry"}', "sentiment 'angry'"),
        ('{"text": "x", "policy": ["rude"]}', "'policy' must be a list of labels"),
        ('{"text": "x", "complaint": "yes"}', "'complaint' must be true or false"),
    ],
)
def test_bad_input_names_the_line_and_the_fix(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationInputError, match=message):
        read_items(path)


def test_cli_reports_input_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": 3}\n', encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["monitor", "--settings", str(CALDERIX), "eval", str(bad)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = " ".join(capsys.readouterr().err.split())  # Rich wraps long lines
    assert "bad.jsonl, line 2" in err and '"text"' in err and "Traceback" not in err
    with pytest.raises(EvaluationInputError, match="cannot read"):
        read_items(tmp_path / "missing.jsonl")


def test_counts_scores() -> None:
    counts = Counts()
    for gold, predicted in [(True, True), (True, False), (False, True), (False, False)]:
        counts.add(gold, predicted)
    assert counts.scores() == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert Counts().scores() == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


TWO_BRANDS = """
[[brands]]
name = "Calderix"
query = "Calderix"

[[brands]]
name = "Zorvan"
query = "Zorvan"
employees = [{ name = "Ana Prieto", handles = ["@anaprieto"] }]
"""


def two_brand_file(tmp_path: Path) -> tuple[Path, Path]:
    """A brands-only settings file (what a labelled set ships) and items for both brands."""
    settings = tmp_path / "brands.toml"
    settings.write_text(TWO_BRANDS, encoding="utf-8")
    rows = [
        # about Zorvan, by Zorvan's staff: right only when scored against Zorvan's settings
        {"brand": "Zorvan", "text": "Zorvan lanza hoy su nueva app", "lang": "es",
         "author": "@anaprieto", "channel": "social", "about_brand": True, "employee": True,
         "policy": []},
        {"brand": "Zorvan", "text": "Zorvan abre tienda en Vigo", "lang": "es",
         "channel": "news", "about_brand": True, "employee": False, "policy": []},
        # no brand field: the first brand's
        {"text": "Calderix me ha cobrado dos veces la factura", "lang": "es",
         "channel": "social", "about_brand": True, "employee": False},
    ]
    return settings, write_jsonl(tmp_path / "two.jsonl", rows)


def run_with(settings: Path, path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--settings", str(settings), "eval", str(path), *extra])
    return result.exit_code, result.output


def test_each_item_is_scored_for_its_own_brand(tmp_path: Path) -> None:
    settings, path = two_brand_file(tmp_path)
    code, output = run_with(settings, path, "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["n"] == 3 and report["brands"] == ["Calderix", "Zorvan"]
    # Zorvan's query and roster decide: Calderix's would miss both
    assert report["about_brand"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert report["employee"]["recall"] == 1.0
    code, output = run_with(settings, path, "--json", "--brand", "Calderix")
    assert code == 0, output
    only = json.loads(output)
    assert only["n"] == 1 and only["brands"] == ["Calderix"]


def test_an_item_of_an_unknown_brand_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    settings, _ = two_brand_file(tmp_path)
    path = write_jsonl(tmp_path / "bad.jsonl", [{"text": "x"}, {"brand": "Zorban", "text": "y"}])
    result = CliRunner().invoke(app, ["--settings", str(settings), "eval", str(path)])
    assert isinstance(result.exception, EvaluationInputError)  # main() prints it, exit 2
    message = str(result.exception)
    assert "bad.jsonl, line 2" in message and "'Zorban'" in message and "[[brands]]" in message
    # --brand picks one brand's items and leaves the others out, unknown ones included
    code, output = run_with(settings, path, "--json", "--brand", "Calderix")
    assert code == 0 and json.loads(output)["n"] == 1


def test_by_breaks_the_figures_down_by_a_field(tmp_path: Path) -> None:
    settings, path = two_brand_file(tmp_path)
    code, output = run_with(settings, path, "--json", "--by", "channel")
    assert code == 0, output
    by = json.loads(output)["by"]
    assert by["field"] == "channel" and list(by["groups"]) == ["social", "news"]
    social = by["groups"]["social"]
    assert social["n"] == 2 and "docs_per_second" not in social
    assert social["routed"]["employees"]["belong"] == 1
    code, output = run_with(settings, path, "--json", "--by", "channel=news+blog")
    assert list(json.loads(output)["by"]["groups"]) == ["other", "news+blog"]
    code, output = run_with(settings, path, "--by", "channel")
    assert code == 0 and "F1 by channel" in output and "Routed lists by channel" in output
    result = CliRunner().invoke(
        app, ["--settings", str(settings), "eval", str(path), "--by", "outlet"])
    assert isinstance(result.exception, EvaluationInputError)
    assert "no item has a 'outlet' field" in str(result.exception)


@pytest.mark.parametrize("spec", ["", "=news", "channel=", "channel=news,news+blog"])
def test_bad_groupings_say_how_to_write_them(spec: str) -> None:
    with pytest.raises(EvaluationInputError, match="--by"):
        parse_groups(spec)


def test_groupings() -> None:
    assert parse_groups("lang") == ("lang", {})
    assert parse_groups("channel=news+blog, social") == (
        "channel", {"news": "news+blog", "blog": "news+blog", "social": "social"})


def test_dev_set_meets_the_goals(shared_dir: Path) -> None:
    """`monitor --settings examples/calderix/settings.toml eval dev.jsonl` (issue #4 goals):
    regression checks; the held-out floors (tests/test_holdout.py) are the ones that count."""
    code, output = run_eval(shared_dir / "eval" / "dev.jsonl", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["n"] == 150
    # Regression checks, not figures that count (the rules' authors had read this set):
    # measured about_brand 1.000, sentiment 0.849 by the rules alone after the lines lifted
    # from single dev sentences were removed (issue 12), less with the learned layer; policy
    # 0.980. Public floors: test_sentiment.py, test_policy.py, test_secrets.py, test_pii.py.
    assert report["about_brand"]["f1"] >= 0.97
    assert report["sentiment"]["macro_f1"] >= 0.80
    assert report["policy"]["micro"]["f1"] >= 0.95
    assert report["complaint"]["f1"] >= 0.86  # 1.000 by the rules alone, 0.889 with the layer


def test_news_and_blog_items_are_read_as_articles_headline_or_not(tmp_path: Path) -> None:
    """A labelled news item without its headline is still an article (the pipeline reads
    every feed entry with one): an article quoting a rostered person is not that person's
    post, while the same words on a social channel are."""
    settings = tmp_path / "settings.toml"
    settings.write_text('[[brands]]\nname = "Calderix"\nquery = "Calderix"\n'
                        '[[brands.employees]]\nname = "Marta Gil"\n', encoding="utf-8")
    text = "Calderix abre centro en Ourense. Lo explicó Marta Gil, directora de atención."
    rows = [{"text": text, "channel": channel, "employee": channel == "social"}
            for channel in ("news", "Blog", "social")]
    code, output = run_with(settings, write_jsonl(tmp_path / "c.jsonl", rows), "--json")
    assert code == 0, output
    assert json.loads(output)["employee"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
