"""The learned layer: its file format, its evidence, its reproducible build, and that it
beats the rules alone on posts it was not trained on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from spacy.tokens import Doc

from classifiers.context import BrandProfile, set_context, veto
from classifiers.learned.component import FAMILIES, MODEL_DIR, LearnedLayer, load_models
from classifiers.learned.features import N_FEATURES, Featurizer, word_column
from classifiers.learned.model import LinearModel, ModelFileError
from classifiers.learning import (
    FOLDS,
    SHIPPED_SURE,
    TEAM_DIR,
    decisions,
    fit,
    fold_of,
    prepare,
    quality,
    read_team_set,
    rules_decision,
)
from classifiers.nlp import pipeline_for

PROFILE = BrandProfile(name="Calderix", terms=("calderix",), competitors=("Fonaris",))


def _doc(text: str, lang: str = "es"):
    nlp = pipeline_for(lang)
    return next(iter(nlp.pipe([set_context(nlp.make_doc(text), text, PROFILE, None)])))


def test_shipped_models_exist_and_load() -> None:
    models = load_models()
    assert set(models) == set(FAMILIES)
    assert models["sentiment"].classes == ("negative", "neutral", "positive")
    assert models["complaint"].classes == (False, True)
    for family in FAMILIES:
        assert (MODEL_DIR / f"{family}.json").stat().st_size < 3_000_000  # "a few MB"


def test_names_are_generalised_so_a_model_reads_any_brand() -> None:
    featurizer = Featurizer()
    columns = featurizer.columns(_doc("Calderix mejor que Fonaris, dice @pepe"), PROFILE)
    assert columns[0] == word_column("<brand>")
    assert word_column("<rival>") in columns and word_column("@user") in columns


def test_a_file_round_trips_and_a_bad_one_names_the_fix(tmp_path: Path) -> None:
    weights = np.zeros((N_FEATURES, 1), dtype=np.float32)
    weights[5, 0], weights[7, 0] = 0.123456789, -2.0
    model = LinearModel("complaint", (False, True), weights, np.array([0.5]), ("es",))
    model.save(tmp_path / "m.json")
    again = LinearModel.load(tmp_path / "m.json")
    assert again.to_json() == model.to_json() and float(again.weights[5, 0]) == pytest.approx(
        0.123457)
    rng = np.random.default_rng(0)
    dense = LinearModel("sentiment", ("negative", "neutral", "positive"),
                        (rng.normal(size=(N_FEATURES, 3)) * (rng.random((N_FEATURES, 3)) < 0.01)
                         / rng.choice([1, 1e3, 1e7], size=(N_FEATURES, 1))).astype(np.float32),
                        np.array([0.1234567891, -1e-9, 3.0]), ("es", "en"),
                        training={"z": 1, "a": (1, 2)})
    stored, read = dense.as_stored(), LinearModel.from_json(dense.to_json())
    assert np.array_equal(stored.weights, read.weights) and stored.weights.dtype == np.float32
    assert stored.intercept.tolist() == read.intercept.tolist()
    assert stored.to_json() == read.to_json() == dense.to_json()
    assert list(stored.training) == list(read.training) == ["a", "z"]
    (tmp_path / "bad.json").write_text('{"format": "pickle"}\n')
    with pytest.raises(ModelFileError, match="make models"):
        LinearModel.load(tmp_path / "bad.json")


def test_a_learned_decision_names_the_words_that_weighed_most() -> None:
    """Whatever the model decides, a tag it wrote cites words of the text, not fillers."""
    texts = ["Llevo tres días esperando que alguien de Calderix me devuelva el dinero",
             "Calderix ha abierto una tienda nueva en el centro",
             "Otra vez sin fibra en casa, gracias Calderix por nada"]
    for text in texts:
        doc = _doc(text)
        for tag in [doc._.sentiment, *(doc._.vigia_tags or [])]:
            for evidence in tag.evidence:
                assert text[evidence.start:evidence.end] == evidence.text
                if evidence.reason.startswith("learned"):
                    assert evidence.text.lower() not in {",", ".", "de", "el", "la", "que"}


def _always_a_complaint() -> LearnedLayer:
    """A Spanish layer whose complaint model says yes to every post."""
    always = LinearModel("complaint", (False, True), np.zeros((N_FEATURES, 1), np.float32),
                         np.array([10.0]), ("es",))
    return LearnedLayer("es", {"complaint": always})


def _has_complaint(doc: Doc) -> bool:
    return any(t.family == "complaint" for t in doc._.vigia_tags or ())


def test_the_model_never_adds_back_a_family_a_rule_ruled_out() -> None:
    """Staff or the brand's own account writing: the complaint rules veto the family
    (`context.veto`), and a model that would say yes to anything does not add it back."""
    layer = _always_a_complaint()
    text = "Hola, Noelia. Si la fibra sigue sin funcionar, mándanos un DM con tu número."
    nlp = pipeline_for("es")
    for vetoed, tagged in ((False, True), (True, False)):
        doc = set_context(nlp.make_doc(text), text, PROFILE, None)
        if vetoed:
            veto(doc, "complaint")
        layer.decide([doc])
        assert _has_complaint(doc) is tagged


def test_on_an_article_the_model_removes_but_never_adds_a_complaint_or_employee_tag() -> None:
    """Who speaks in a news item or blog post is the rules' call (a customer's own voice, a
    letter, a rostered author): the shipped model, trained mostly on social posts, reads a
    report's words ("sin servicio", "clientes") as a customer's and may not add the tag."""
    layer = _always_a_complaint()
    text = "Miles de clientes de Calderix siguen sin servicio tras la avería del martes."
    nlp = pipeline_for("es")
    for article, tagged in ((False, True), (True, False)):
        doc = set_context(nlp.make_doc(text), text, PROFILE, None, article)
        layer.decide([doc])
        assert _has_complaint(doc) is tagged


@pytest.fixture(scope="module")
def team() -> tuple[list, list]:
    if not (TEAM_DIR / "posts.jsonl").is_file():
        pytest.skip(f"the team's training set is not at {TEAM_DIR}")
    brands, examples = read_team_set()
    return brands, prepare(examples, brands)


@pytest.mark.timeout(600)
def test_trained_model_beats_the_rules_on_held_out_posts(team: tuple[list, list]) -> None:
    """Combined with the rules as shipped (C=1), each fold of the team's posts scored by a
    model fitted on the other four: out of fold, it beats the rules alone."""
    _, items = team
    # measured (1,951 posts, 5 folds, C=1): sentiment rules 0.567 -> 0.657; complaint
    # 0.628 -> 0.697; employee 0.805 -> 0.820 when its rules were weaker, 0.897 -> 0.900 since
    # they read staff collectives, sites, roles and workmates addressed. On these posts, which
    # the employee rules were written against, the model only adds where they are silent, so
    # here it must not lose; on the held-out set it must win (test_holdout).
    margins = {"sentiment": 0.06, "complaint": 0.04, "employee": 0.0}
    for family, margin in margins.items():
        golds, rules, learned = [], [], []
        for fold in range(FOLDS):
            train = [i for i in items if fold_of(i.example) != fold]
            held = [i for i in items
                    if fold_of(i.example) == fold and i.example.labels.get(family) is not None]
            model = replace(fit(train, family, c=1.0, stored=False),
                            combine="rules_where_sure", sure=SHIPPED_SURE[family])
            golds += [i.example.labels[family] for i in held]
            rules += [rules_decision(i, family) for i in held]
            learned += decisions(model, held)
        ours, theirs = quality(family, golds, learned), quality(family, golds, rules)
        assert ours >= theirs + margin, f"{family}: learned {ours:.3f}, rules {theirs:.3f}"


@pytest.mark.timeout(300)
def test_make_models_reproduces_the_shipped_files(tmp_path: Path) -> None:
    """`make models` (python -m classifiers.learning) gives the shipped bytes again."""
    if not (TEAM_DIR / "posts.jsonl").is_file():
        pytest.skip(f"the team's training set is not at {TEAM_DIR}")
    from classifiers.learning import main

    main(["--out", str(tmp_path)])
    for family in FAMILIES:
        shipped = (MODEL_DIR / f"{family}.json").read_bytes()
        assert (tmp_path / f"{family}.json").read_bytes() == shipped, (
            f"{family}.json differs from a rebuild: run `make models` and commit the files")
        header = json.loads(shipped.splitlines()[0])
        assert header["training"]["sources"] == {"team": header["training"]["sources"]["team"]}
