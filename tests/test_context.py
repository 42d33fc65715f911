"""Brand context on Docs, one Doc per (post, brand), and competitor mentions end to end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import Doc
from sqlalchemy import select

import classifiers.nlp as nlp_module
from classifiers.analyzer import Analyzer
from classifiers.context import (
    BrandProfile,
    EmployeeRef,
    add_tags,
    brand_terms,
    doc_text,
    remember_text,
    terms_regex,
)
from classifiers.tags import TagResult
from monitor.app.pipeline import Pipeline
from monitor.core.models import BrandMatch, Mention, Tag
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings, Settings
from monitor.core.storage import Database

CALDERIX = BrandSettings(
    name="Calderix",
    query='"Calderix" OR "Calderix Móvil" OR @calderix NOT "Calle Calderix"',
    competitors=["Fonaris", "Redalia"],
    employees=[{"name": "Marta Gil", "handles": ["@martagil_cx"]}],
    codenames=["Proyecto Halcón"],
    internal_domains=["intranet.calderix.local"],
    contact_points=["900 101 202"],
)
FONARIS = BrandSettings(name="Fonaris", competitors=["Calderix"])


def post(text: str, **fields: str) -> RawPost:
    return RawPost(source="test", external_id=text[:20], text=text, **fields)


def test_profile_from_settings_keeps_every_fact() -> None:
    profile = BrandProfile.from_settings(CALDERIX)
    assert profile.name == "Calderix"
    assert profile.terms == ("calderix movil", "calderix")  # excluded look-alike left out
    assert profile.competitors == ("Fonaris", "Redalia")
    assert profile.employees == (EmployeeRef("Marta Gil", ("@martagil_cx",)),)
    assert profile.codenames == ("Proyecto Halcón",)
    assert profile.internal_domains == ("intranet.calderix.local",)
    assert profile.contact_points == ("900 101 202",)
    hash(profile)  # immutable and hashable: shared by every Doc, usable as a cache key


def test_employee_for_author_by_handle_or_name() -> None:
    profile = BrandProfile.from_settings(CALDERIX)
    assert profile.employee_for_author("@MartaGil_CX") is not None
    assert profile.employee_for_author("martagil_cx") is not None
    assert profile.employee_for_author("marta  gil") is not None
    assert profile.employee_for_author("@martagil") is None
    assert profile.employee_for_author(None) is None


def test_brand_terms_and_accent_insensitive_regex() -> None:
    assert brand_terms("Calderix", '"Calderix" OR calder* NOT "Calle Calderix"') == (
        "calderix", "calder",
    )
    pattern = terms_regex(("Proyecto Halcón",))
    assert pattern is not None
    text = "El PROYECTO HALCON y el proyecto halcón, no el proyectohalcon"
    assert [m.group() for m in pattern.finditer(text)] == ["PROYECTO HALCON", "proyecto halcón"]
    assert terms_regex(()) is None


def test_add_tags_appends() -> None:
    doc = Doc(nlp_module.pipeline_for("es").vocab, words=["hola"])
    first = TagResult("leak", "pii", 0.9)
    add_tags(doc, [])
    assert doc._.vigia_tags is None
    add_tags(doc, [first])
    add_tags(doc, [TagResult("employee", "employee", 0.8)])
    assert [t.family for t in doc._.vigia_tags] == ["leak", "employee"]


def test_doc_text_is_built_once_and_survives_copies() -> None:
    nlp = nlp_module.pipeline_for("es")
    doc = nlp.make_doc("Hola  @calderix,\n¿qué tal? 🙂")
    assert doc_text(doc) == doc.text == "Hola  @calderix,\n¿qué tal? 🙂"
    other = nlp.make_doc("texto")
    remember_text(other, "texto")
    assert doc_text(other.copy()) == "texto"


@Language.component("test_context_probe")
def _probe(doc: Doc) -> Doc:
    """Records the context each Doc carried when the components ran."""
    brand = doc._.vigia_brand
    add_tags(doc, [TagResult("probe", f"{brand.name}|{doc._.vigia_author}", 1.0)])
    return doc


def test_one_doc_per_post_and_brand_with_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nlp_module, "COMPONENTS", [*nlp_module.COMPONENTS,
                                                   ("test_context_probe", {})])
    monkeypatch.setattr(nlp_module, "_pipelines", {})
    analyzer = Analyzer([CALDERIX, FONARIS])
    posts = [
        post("Me paso de Fonaris a Calderix, por fin", author_handle="@ana", author="Ana"),
        post("Calderix sin cobertura otra vez", author="Luis Pérez"),
    ]
    first, second = analyzer.analyse(posts)
    probes = {a.brand: [t.label for t in a.tags if t.family == "probe"] for a in first}
    assert probes == {"Calderix": ["Calderix|@ana"], "Fonaris": ["Fonaris|@ana"]}
    assert [t.label for t in second[0].tags if t.family == "probe"] == ["Calderix|Luis Pérez"]
    # Each brand's Doc ran the real components too: sentiment plus its own tags.
    assert all(a.sentiment is not None for a in first)


def test_competitor_mentions_are_reported_without_classification() -> None:
    analyzer = Analyzer([CALDERIX])
    only_rival, both, neither, inside_word = analyzer.analyse([
        post("FONARIS me ha subido la tarifa otra vez, qué desastre"),
        post("Calderix o Redalia, ¿cuál tiene mejor fibra?"),
        post("Nada que ver con operadoras"),
        post("Fonarisimo no es una marca"),
    ])
    assert [(a.brand, a.role, a.tags) for a in only_rival] == [("Fonaris", "competitor", ())]
    assert [(a.brand, a.role) for a in both] == [("Calderix", "brand"), ("Redalia", "competitor")]
    assert both[0].tags and both[1].terms == ("Redalia",)
    assert neither == [] and inside_word == []


def test_a_configured_brand_is_never_also_a_competitor_row() -> None:
    [[calderix, fonaris]] = Analyzer([CALDERIX, FONARIS]).analyse(
        [post("Calderix contra Fonaris")]
    )
    assert (calderix.role, fonaris.role) == ("brand", "brand") and fonaris.tags


def test_competitor_only_post_is_stored_with_a_competitor_match(
    tmp_path: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>r1</guid><title>Redalia baja precios</title><link>https://n.example/r1</link>"
        "<description>La operadora Redalia rebaja su fibra.</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    source = {"kind": "rss", "name": "n", "url": "feed.xml"}
    settings = make_settings(database_url, sources=[source])
    pipeline = Pipeline(settings, db, clock=lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
    report = pipeline.run_source(settings.sources[0])
    assert report.ok, report.error
    with db.sessions() as session:
        assert session.scalars(select(Mention.title)).all() == ["Redalia baja precios"]
        assert session.scalars(select(BrandMatch.brand)).all() == ["Redalia"]
        assert session.scalars(select(Tag)).all() == []
