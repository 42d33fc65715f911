"""The `vigia_leak` component: pii / secret / confidential tags in the brand's context."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from classifiers.analyzer import Analyzer
from classifiers.context import BrandProfile
from classifiers.leaks.component import strength
from classifiers.leaks.confidential import find_confidential
from classifiers.tags import Evidence, TagResult
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings
from tests.dev_eval_support import dev_predictions, f1

CALDERIX = BrandSettings(
    name="Calderix",
    query='Calderix OR @calderix -"Calle Calderix"',
    codenames=["Proyecto Halcón", "Project Falcon", "Orca"],
    internal_domains=["intranet.calderix.local"],
    contact_points=["1575", "900 101 202", "+34 910 48 22 00", "prensa@calderix.es"],
)
PROFILE = BrandProfile.from_settings(CALDERIX)
# Spanish and English tokenise differently ("don't" is one token or two): the confidential
# patterns are asked of both, and both must agree.
BLANK = {lang: spacy.blank(lang) for lang in ("es", "en")}


def confidential_in(text: str) -> list[Evidence]:
    found = [find_confidential(nlp.make_doc(text), PROFILE) for nlp in BLANK.values()]
    assert found[0] == found[1], (text, found)
    return found[0]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer([CALDERIX])


def leak_tags(analyzer: Analyzer, text: str) -> dict[str, TagResult]:
    [[analysis]] = analyzer.analyse([RawPost(source="t", external_id="x", text=text)])
    return {t.label: t for t in analysis.tags if t.family == "leak"}


def test_one_tag_per_label_with_evidence_offsets(analyzer: Analyzer) -> None:
    text = ("@calderix mi DNI 30111213G y mi móvil 612 48 39 07; la clave del wifi: Gato#2024. "
            "Por cierto, el Proyecto Halcón sale en mayo")
    tags = leak_tags(analyzer, text)
    assert set(tags) == {"pii", "secret", "confidential"}
    assert [e.reason for e in tags["pii"].evidence] == ["pii:dni", "pii:phone"]
    assert [e.reason for e in tags["secret"].evidence] == ["secret:password"]
    assert [e.reason for e in tags["confidential"].evidence] == ["confidential:codename"]
    for tag in tags.values():
        assert 0 < tag.score <= 1
        for evidence in tag.evidence:
            assert text[evidence.start:evidence.end] == evidence.text


def test_brand_contact_points_are_not_pii(analyzer: Analyzer) -> None:
    text = "Calderix: llama al 1575, al 900 101 202 o escribe a prensa@calderix.es"
    assert leak_tags(analyzer, text) == {}
    # The same landline is PII for another brand whose contact points do not include it.
    [[other]] = Analyzer([BrandSettings(name="Fonaris")]).analyse(
        [RawPost(source="t", external_id="x", text="Fonaris: llama al +34 910 48 22 00")]
    )
    assert [t.label for t in other.tags if t.family == "leak"] == ["pii"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("El Project Falcon va con retraso", "confidential:codename"),
        ("hoy ORCA no deja facturar", "confidential:codename"),
        ("https://intranet.calderix.local/rrhh/plan.pdf", "confidential:internal_link"),
        ("mirad la wiki: https://wiki.calderix.local/precios", "confidential:internal_link"),
        ("Documento CONFIDENCIAL: plan de precios 2025", "confidential:marker"),
        ("Internal only - do not forward", "confidential:marker"),
        ("solo para el equipo, no lo compartáis", "confidential:marker"),
        ("Ojo, en la reunión interna dijeron que habrá despidos en marzo",
         "confidential:insider"),
        ("Heard at our internal town hall: layoffs coming in Q3", "confidential:insider"),
        ("Me han chivado en el curro que lanzan la tarifa Ultra en junio",
         "confidential:insider"),
        ("Lo que os cuento no es público aún: van a comprar a Redalia", "confidential:insider"),
        ("You didn't hear it from me, but the new tier launches in October",
         "confidential:insider"),
        ("Me cuentan desde dentro que despedirán a 200 personas", "confidential:insider"),
        ("Según fuentes de la empresa, subirán los precios en enero", "confidential:insider"),
        ("We were told today the merger with Fonaris is happening", "confidential:insider"),
        ("Aquí tenéis captura del Slack interno, flipad", "confidential:internal_document"),
        ("Leaked memo from HR about the new bonus scheme", "confidential:internal_document"),
    ],
)
def test_confidential_rules(text: str, reason: str) -> None:
    assert reason in {e.reason for e in confidential_in(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Calderix lanza hoy su nueva tarifa de fibra, según ha anunciado la compañía",
        "Calderix presenta resultados: beneficios del 12% en el tercer trimestre",
        "Calderix anuncia un ERE de 300 personas, según comunicó a los sindicatos",
        "Calderix launches Fibra 10G today at €59.90",
        "Calderix subirá los precios en enero, según anunció hoy",
        "Calderix despide a su CEO, según informa El País",
        "Thread: Calderix vs Fonaris speed test results below",
        "Me encantan las orcas del documental",
        "I signed an NDA-free contract lol",
        "pero el NDA es poderoso",  # talking about NDAs is not being under one
        "¿Alguien sabe si Calderix va a subir precios? Leo rumores",
        "Documentación en developers.calderix.es, cualquier feedback es bienvenido",
    ],
)
def test_public_news_and_look_alikes_are_not_confidential(text: str) -> None:
    assert confidential_in(text) == []


def test_strength_combines_independent_evidence() -> None:
    one = [Evidence(0, 1, "x", "pii:address")]
    two = [*one, Evidence(2, 3, "y", "pii:account")]
    assert strength(one) == 0.7
    assert strength(one) < strength(two) < 1


def test_dev_set_leak_micro_f1_floor(shared_dir: Path) -> None:
    """Measured micro-F1 1.0 over pii/secret/confidential on dev.jsonl (goal 0.85); the
    floors leave room for one slip per label, so a real regression fails. A regression check
    only (the rules' authors had read dev.jsonl): the floors that count are the held-out
    set's (tests/test_holdout.py) and the public vectors' (test_pii.py, test_secrets.py)."""
    counts = {label: [0, 0, 0] for label in ("pii", "secret", "confidential")}
    for row, tags in dev_predictions(shared_dir / "eval/dev.jsonl"):
        predicted = {t.label for t in tags if t.family == "leak"}
        for label, (tp_fp_fn) in counts.items():
            gold, said = label in row["leak"], label in predicted
            tp_fp_fn[0] += gold and said
            tp_fp_fn[1] += said and not gold
            tp_fp_fn[2] += gold and not said
    micro = [sum(c[k] for c in counts.values()) for k in range(3)]
    assert f1(*micro) >= 0.95, counts
    for label, c in counts.items():
        assert f1(*c) >= 0.88, (label, c)
