"""Analyzer end to end: match brands, identify language, tag sentiment with evidence."""

from __future__ import annotations

import pytest

from classifiers.analyzer import Analyzer
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings

BRANDS = [
    BrandSettings(
        name="Calderix", query='"Calderix" OR @calderix OR #calderix NOT "Calle Calderix"'
    ),
    BrandSettings(name="Fonaris"),
]


def post(text: str, title: str | None = None, lang: str | None = None) -> RawPost:
    return RawPost(source="test", external_id=text[:20], text=text, title=title, lang=lang)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(BRANDS)


def test_only_matching_posts_are_analysed_in_order(analyzer: Analyzer) -> None:
    posts = [
        post("Tercer día sin fibra y @calderix sin dar señales de vida. Qué vergüenza 😡"),
        post("Mercadillo en la calle Calderix como cada jueves, venid pronto"),
        post("Honestly Calderix has been rock solid for me, highly recommend them"),
        post("Nothing to see here, just a post about the weather in Seville today"),
        post("Me cambié de Fonaris a Calderix y es otro mundo, todo perfecto"),
    ]
    result = analyzer.analyse(posts)
    assert [[a.brand for a in found] for found in result] == [
        ["Calderix"], [], ["Calderix"], [], ["Calderix", "Fonaris"]
    ]
    first, third, fifth = result[0][0], result[2][0], result[4]
    assert first.terms == ("Calderix", "@calderix") and first.lang == "es"
    assert first.sentiment is not None and first.sentiment.label == "negative"
    assert third.terms == ("Calderix",) and third.lang == "en"
    assert third.sentiment is not None and third.sentiment.label == "positive"
    assert fifth[1].terms == ("Fonaris",)
    assert fifth[0].sentiment == fifth[1].sentiment  # document sentiment for now


def test_evidence_offsets_slice_the_full_text(analyzer: Analyzer) -> None:
    item = post("La app no funciona desde ayer, pésimo servicio 👎", title="Calderix caído")
    [[analysis]] = analyzer.analyse([item])
    text = item.full_text()
    assert analysis.sentiment is not None and analysis.sentiment.evidence
    for evidence in analysis.sentiment.evidence:
        assert text[evidence.start : evidence.end] == evidence.text
    found = " | ".join(e.text for e in analysis.sentiment.evidence)
    assert "no funciona" in found and "pésimo" in found and "👎" in found


def test_source_language_hint_is_trusted(analyzer: Analyzer) -> None:
    [[analysis]] = analyzer.analyse([post("Calderix terrible service", lang="es")])
    assert analysis.lang == "es"


def test_empty_input_and_no_matches(analyzer: Analyzer) -> None:
    assert analyzer.analyse([]) == []
    assert analyzer.analyse([post("nada"), post("")]) == [[], []]


def test_default_query_is_the_quoted_brand_name() -> None:
    [[analysis]] = Analyzer([BrandSettings(name="Calderix Móvil")]).analyse(
        [post("Mi línea de calderix movil va genial")]
    )
    assert analysis.brand == "Calderix Móvil" and analysis.terms == ("Calderix Móvil",)
