"""Policy component: rules in Spanish and English, evidence, and measured floors on real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.context import BrandProfile
from classifiers.nlp import pipeline_for
from classifiers.tags import TagResult

PROFILE = BrandProfile(
    name="Calderix", terms=("calderix movil", "calderix"), competitors=("Fonaris", "Redalia")
)


def policy(text: str, lang: str, profile: BrandProfile | None = PROFILE) -> dict[str, TagResult]:
    nlp = pipeline_for(lang)
    doc = nlp.make_doc(text)
    doc._.vigia_brand = profile
    doc = nlp(doc)
    return {t.label: t for t in doc._.vigia_tags or () if t.family == "policy"}


CASES = [
    # crude
    ("Menuda mierda de cobertura tiene Calderix en el pueblo", "es", {"crude"}),
    ("JODER, otra vez sin datos con Calderix", "es", {"crude"}),
    ("Calderix's app is such crap, honestly", "en", {"crude"}),
    ("what the fuck is Calderix doing with my bill", "en", {"crude"}),
    # insult
    ("El dependiente de Calderix es un imbécil", "es", {"insult"}),
    ("Los comerciales de Calderix son unos sinvergüenzas", "es", {"insult"}),
    ("The Calderix rep was a total idiot", "en", {"insult"}),
    # discrimination: slurs, sexism, a group named next to hostility
    ("Seguro que el técnico de Calderix era un sudaca", "es", {"discrimination", "insult"}),
    ("Odio a los inmigrantes que atienden en Calderix", "es", {"discrimination"}),
    ("Calderix hiring immigrants again. Send them back, they don't belong here", "en",
     {"discrimination"}),
    ("Pues claro que falla Calderix, la dirige una mujer", "es", {"discrimination"}),
    # sexual
    ("La de la tienda de Calderix está buenorra", "es", {"sexual"}),
    ("Calderix support girl sent me nudes lol", "en", {"sexual"}),
    # political or religious advocacy
    ("Calderix apoya a los de siempre. Votad a Vox el domingo", "es", {"political_religious"}),
    ("Dios os bendiga a todos los de Calderix, rezad por nosotros", "es",
     {"political_religious"}),
    ("Calderix staff: vote for the Republicans on Tuesday! 🗳️", "en", {"political_religious"}),
    # competitor disparagement: the judgement is about a configured competitor
    ("Redalia es una porquería, me quedo con Calderix", "es", {"competitor_disparagement"}),
    ("Fonaris are crooks, Calderix at least is honest", "en", {"competitor_disparagement"}),
    # nothing to report
    ("Calderix sube las tarifas un 3% en julio", "es", set()),
    ("Por Dios, qué rápida la fibra de Calderix", "es", set()),
    ("Oh my god, Calderix fixed it in ten minutes", "en", set()),
    ("Calderix, Fonaris y Redalia pujarán por el espectro", "es", set()),
    ("Calderix sponsors the women's basketball league", "en", set()),
    ("El soporte de Calderix es un desastre", "es", set()),  # an opinion, not a policy breach
    # insult: abusive words said to someone ("address" + at most a few fillers + "abusive")
    ("Los instaladores de Calderix son unos vagos redomados", "es", {"insult"}),
    ("Menuda panda de ineptos tenéis en la tienda de Calderix", "es", {"insult"}),
    ("You're a total disgrace, Calderix billing department", "en", {"insult"}),
    ("Calderix support staff are a bunch of clueless buffoons", "en", {"insult"}),
    ("El comercial de Calderix es un mentiroso", "es", {"insult"}),
    ("The Calderix engineers are cowards and liars", "en", {"insult"}),
    # ... but the same words about a thing are an opinion
    ("El módem de Calderix es inútil en el segundo piso", "es", set()),
    ("The Calderix app is useless on older phones", "en", set()),
    ("You are going to love the new Calderix tariff", "en", set()),
    # discrimination: discriminatory statements on their own, groups with hostile words
    ("Calderix pone a extranjeros en el teléfono. Que contraten españoles de una vez", "es",
     {"discrimination"}),
    ("Calderix support is all foreigners now, send them back where they came from", "en",
     {"discrimination"}),
    ("Calderix hires refugees, those savages don't belong in our towns", "en",
     {"discrimination"}),
    ("Los gitanos que venden móviles de Calderix te roban la cartera", "es",
     {"discrimination"}),
    ("Salgo a pasear con mi perra y sin cobertura de Calderix", "es", set()),
    # political: parties, ideologies and politicians; an institution only with a partisan cue
    ("En Calderix mandan los socialistas, así nos va", "es", {"political_religious"}),
    ("Calderix's board is full of far-right cranks", "en", {"political_religious"}),
    ("Calderix vive de subvenciones de este Gobierno corrupto y del chiringuito", "es",
     {"political_religious"}),
    ("El Gobierno adjudica a Calderix el despliegue 5G rural", "es", set()),
    ("The government approved the Calderix merger on Monday", "en", set()),
    ("Las elecciones del comité de empresa de Calderix son el jueves", "es", set()),
    ("Calderix closes its shops on election day so staff can vote", "en", set()),
    ("Calderix financia a la derecha rancia, no les deis ni un euro", "es",
     {"political_religious"}),
    ("La tienda de Calderix está a la derecha del banco, gira a la izquierda", "es", set()),
    # religious: preaching, not figures of speech
    ("Compañeros de Calderix: Jesús te ama, arrepiéntete y ora por tu alma", "es",
     {"political_religious"}),
    ("Calderix team, praise God! Jesus saves", "en", {"political_religious"}),
    ("Rezando para que la fibra de Calderix aguante esta noche", "es", set()),
]


@pytest.mark.parametrize(("text", "lang", "expected"), CASES)
def test_policy_rules(text: str, lang: str, expected: set[str]) -> None:
    assert set(policy(text, lang)) == expected


def test_insult_aimed_at_the_brand_is_an_insult_not_disparagement() -> None:
    assert set(policy("Calderix son unos ladrones", "es")) == {"insult"}
    assert set(policy("Fonaris son unos ladrones", "es")) == {"competitor_disparagement"}


def test_abuse_said_to_a_competitor_is_disparagement() -> None:
    found = policy("Los de Redalia son unos ineptos, me quedo en Calderix", "es")
    assert set(found) == {"competitor_disparagement"}
    assert {e.text for e in found["competitor_disparagement"].evidence} == {"Redalia", "ineptos"}


def test_only_fillers_may_sit_between_address_and_abuse() -> None:
    assert "insult" in policy("Sois unos auténticos inútiles, Calderix", "es")
    assert "insult" not in policy("Sois los únicos que no lo hacen inútil, Calderix", "es")
    assert "insult" in policy("you're so fucking useless, Calderix", "en")
    assert "insult" not in policy("you're going to find the old Calderix app useless", "en")


def test_partisan_institution_evidence_names_both_cues() -> None:
    found = policy("Calderix chupando del bote del Gobierno, como siempre", "es")
    texts = {e.text for e in found["political_religious"].evidence}
    assert texts == {"chupando del bote", "Gobierno"}


def test_without_a_brand_profile_there_are_no_competitors() -> None:
    assert set(policy("Fonaris son unos ladrones", "es", profile=None)) == {"insult"}


def test_disparagement_reaches_back_to_the_previous_sentence() -> None:
    found = policy("I have seen how Redalia runs its network. Trust me, it's a dumpster fire.",
                   "en")
    assert set(found) == {"competitor_disparagement"}
    texts = {e.text for e in found["competitor_disparagement"].evidence}
    assert texts == {"Redalia", "dumpster fire"}


def test_evidence_slices_the_text_with_reasons() -> None:
    text = "Qué puto asco, el de Calderix es un gilipollas"
    found = policy(text, "es")
    assert set(found) == {"crude", "insult"}
    for tag in found.values():
        assert 0 < tag.score <= 1
        for item in tag.evidence:
            assert text[item.start : item.end] == item.text
            assert item.reason.startswith("policy:")
    assert [e.text for e in found["insult"].evidence] == ["gilipollas"]


def test_accents_and_case_do_not_matter() -> None:
    assert "insult" in policy("EL DE CALDERIX ES UN IMBECIL", "es")
    assert "insult" in policy("el de calderix es un imbécil", "es")


# ----------------------------------------------------------------- measured floors


def _macro_f1(gold: list[bool], pred: list[bool]) -> float:
    scores = []
    for label in (True, False):
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        precision = tp / pred.count(label) if pred.count(label) else 0.0
        recall = tp / gold.count(label) if gold.count(label) else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return sum(scores) / 2


OFFENSIVE = {"insult", "discrimination", "sexual", "crude"}


@pytest.mark.parametrize(
    ("file", "source", "lang", "labels", "floor"),
    [
        # OLID 2019 (offensive or not), test: measured 0.695; FastText 0.734, majority 0.419
        ("offensive_en.jsonl", "tweeteval_offensive_olid2019", "en", OFFENSIVE, 0.67),
        # HatEval 2019 EN (hateful or not), test: measured 0.542; FastText 0.506, majority 0.366
        ("offensive_en.jsonl", "tweeteval_hate_hateval2019", "en", {"discrimination"}, 0.52),
        # Multilingual HateCheck ES (hateful or not, 3,745 functional tests, CC BY 4.0):
        # measured 0.411, about the majority class (all hateful: 0.41). Weak: the rules find
        # few of its slur-free, identity-plus-hostility templates; a floor against regression.
        ("offensive_es.jsonl", "mhc_hatecheck_es", "es", {"discrimination"}, 0.39),
    ],
)
def test_floor_on_public_offensive_sets(
    shared_dir: Path, file: str, source: str, lang: str, labels: set[str], floor: float
) -> None:
    lines = (shared_dir / "corpora/nlp" / file).read_text(encoding="utf-8").splitlines()
    rows = [r for r in map(json.loads, lines) if r["source"] == source and r["split"] == "test"]
    assert rows, f"no {source}/test rows in {file}"
    gold = [r["label"] in ("offensive", "hateful") for r in rows]
    pred = []
    for doc in pipeline_for(lang).pipe([r["text"] for r in rows], batch_size=256):
        pred.append(any(t.family == "policy" and t.label in labels
                        for t in doc._.vigia_tags or ()))
    score = _macro_f1(gold, pred)
    assert score >= floor, f"{source}/test macro-F1 {score:.3f} fell below {floor}"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # Regional swearing and name-calling (Spain, Mexico, Río de la Plata; British English).
        ("Me cortaron la luz en plena partida, la cagó Calderix otra vez", "es", {"crude"}),
        ("Neta, qué chingón servicio el de Calderix", "es", {"crude"}),
        ("LPM Calderix, tres veces me rechazó la tarjeta", "es", {"crude"}),
        ("Calderix lost my bloody luggage again", "en", {"crude"}),
        ("El director de Calderix es un ratero de cuello blanco", "es", {"insult"}),
        ("La encargada de Calderix es una amargada, trata fatal a la gente", "es", {"insult"}),
        ("Mi jefe en Calderix es el típico inútil que se cuelga las medallas", "es", {"insult"}),
        ("Los de Calderix son una banda de chantas", "es", {"insult"}),
    ],
)
def test_regional_swearing_and_name_calling(text: str, lang: str, expected: set[str]) -> None:
    assert expected <= set(policy(text, lang))


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Es el típico problema de cobertura de Calderix en verano", "es"),
        ("La banda de música tocó en la tienda de Calderix", "es"),
        ("Una bola de nieve de reclamaciones para Calderix", "es"),
    ],
)
def test_address_words_alone_insult_nobody(text: str, lang: str) -> None:
    assert "insult" not in policy(text, lang)
