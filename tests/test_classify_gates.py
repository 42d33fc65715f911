"""The speed-ups of the classifiers must not change a single answer.

Cheap pre-tests (hint scans, lower-cased regex twins, first-word gates) may only skip work
that would have found nothing, and running the components batch by batch (`pipe`) must give
the tags that calling them Doc by Doc gives.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from classifiers.analyzer import context_docs, doc_tags
from classifiers.caseless import Caseless, lowered_for_twins
from classifiers.context import (
    BrandProfile,
    EmployeeRef,
    doc_added_tags,
    doc_author,
    doc_brand,
    lowered_for_gates,
    may_have_terms,
    set_context,
    terms_regex,
)
from classifiers.hints import HintIndex
from classifiers.leaks import confidential, pii, secrets
from classifiers.nlp import pipeline_for
from classifiers.tags import TagResult
from classifiers.termlists import doc_offsets, doc_orths

HINTS = ("contrase", "pass", "pin", "nda", "aún no", "c/", "pº", "here's", "staff here")
# Letters that case-insensitive matching and lower-casing treat in unusual ways, plus the
# accented letters Spanish posts use, plus the letters of the hints and terms themselves.
ALPHABET = st.sampled_from([
    *"aeinoprstcdhlmgfuyAEINOPRSTCDHLMGFUY ÁÉÍÓÚÑáéíóúñüÜçÇ.,:/º'-_#@!?\n",
    "İ", "ı", "ſ", "K", "ß", "ς", "Σ", "ﬁ", "🙂",
])
TEXTS = st.text(ALPHABET, max_size=60)


@given(st.lists(st.sampled_from(HINTS), max_size=4), TEXTS)
def test_hint_index_finds_exactly_the_hints_present(inserted: list[str], text: str) -> None:
    text = " ".join([text, *inserted, text[::-1]])
    assert HintIndex(HINTS).found(text) == {hint for hint in HINTS if hint in text}


def test_hint_index_rejects_empty_hints() -> None:
    with pytest.raises(ValueError, match="empty"):
        HintIndex(["ok", ""])


CASELESS = [
    re.compile(r"\b(?:confidencial|under\s+NDA|uso\s+interno)\b", re.IGNORECASE),
    re.compile(r"(?<![\w@#])(?:pr[oó]yecto[\s_-]+h[aá]lc[oó]n|Straße|kelvin)(?!\w)", re.I),
    confidential._EVENT,
]


@settings(max_examples=300)
@given(st.sampled_from(CASELESS), TEXTS, st.sampled_from(
    ["CONFIDENCIAL", "Proyecto Halcón", "PROYECTO_HALCON", "Under NDA", "ERE", "Q3",
     "fusión", "FUSIÓN", "STRASSE", "Straße", "KELVIN", "Kelvin", "layoffs"]))
def test_caseless_twin_never_misses_a_match(
    pattern: re.Pattern[str], text: str, phrase: str
) -> None:
    text = f"{text[:30]}{phrase}{text[30:]}"
    caseless = Caseless(pattern)
    lowered = lowered_for_twins(text)
    if pattern.search(text):
        assert caseless.may_match(lowered)
    if lowered is not None and caseless.twin is not None:
        twin_spans = [m.span() for m in caseless.twin.finditer(lowered)]
        assert twin_spans == [m.span() for m in pattern.finditer(text)]


def test_caseless_requires_ignorecase_and_falls_back_on_unsafe_text() -> None:
    with pytest.raises(ValueError, match="IGNORECASE"):
        Caseless(re.compile("abc"))
    assert Caseless(re.compile(r"\Sbc", re.I)).twin is None  # \S would become \s
    assert lowered_for_twins("İstanbul") is None  # lower() changes its length
    assert lowered_for_twins("ſecret") is None  # re folds 'ſ' into 's'
    assert not Caseless(re.compile("nda", re.I)).may_match(lowered_for_twins("hola"))


NAMES = ("Proyecto Halcón", "Orca", "Marta Gil", "José-Luis Núñez")


@settings(max_examples=300)
@given(TEXTS, st.sampled_from(["PROYECTO  HALCON", "proyecto_halcón", "ÓRCA", "orca",
                               "MÁRTA gil", "Jose-Luis NUNEZ", "josé-luis núñez", "Orcas"]))
def test_first_word_gate_never_misses_a_term(text: str, phrase: str) -> None:
    text = f"{text[:30]} {phrase} {text[30:]}"
    regex = terms_regex(NAMES)
    assert regex is not None
    if regex.search(text):
        assert may_have_terms(lowered_for_gates(text), NAMES)


def test_first_word_gate_skips_posts_without_the_terms() -> None:
    assert not may_have_terms(lowered_for_gates("Nada que ver con la marca"), NAMES)
    assert may_have_terms(lowered_for_gates("El proyecto halcón"), NAMES)
    assert may_have_terms(None, NAMES)  # unsafe text: the real regex decides


def test_context_is_stored_where_the_doc_extensions_read_it() -> None:
    nlp = pipeline_for("es")
    profile = BrandProfile("Calderix", terms=("calderix",))
    doc = set_context(nlp.make_doc("Hola Calderix"), "Hola Calderix", profile, "@ana")
    assert doc._.vigia_brand is profile is doc_brand(doc)
    assert doc._.vigia_author == "@ana" == doc_author(doc)
    assert doc._.vigia_tags is None and doc_added_tags(doc) == []
    doc._.vigia_tags = [TagResult("leak", "pii", 0.9)]
    assert doc_added_tags(doc) == [TagResult("leak", "pii", 0.9)]


def test_token_columns_match_spacy_tokens() -> None:
    doc = pipeline_for("es").make_doc("¡Hola  @calderix!\nQué tal 🙂")
    assert doc_orths(doc) == [token.orth for token in doc]
    assert doc_offsets(doc) == [token.idx for token in doc]
    empty = pipeline_for("es").make_doc("")
    assert doc_orths(empty) == [] and doc_offsets(empty) == []


PROFILE = BrandProfile(
    name="Calderix",
    terms=("calderix movil", "calderix"),
    competitors=("Fonaris", "Redalia"),
    employees=(EmployeeRef("Marta Gil", ("@martagil_cx",)),),
    codenames=("Proyecto Halcón", "Orca"),
    internal_domains=("intranet.calderix.local",),
    contact_points=("900 101 202", "prensa@calderix.es"),
    industry="telecom",
)


def test_batched_pipeline_gives_the_tags_of_doc_by_doc_calls(shared_dir: Path) -> None:
    rows = [json.loads(line) for line in
            (shared_dir / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    for lang in ("es", "en"):
        texts = [row["text"] for row in rows if row["lang"] == lang]
        nlp = pipeline_for(lang)
        posts = [(text, None, (PROFILE,)) for text in texts]
        batched = [doc_tags(doc) for doc in nlp.pipe(context_docs(nlp.make_doc, posts),
                                                      batch_size=7)]
        one_by_one = []
        for doc in context_docs(nlp.make_doc, posts):
            for _, component in nlp.pipeline:
                doc = component(doc)
            one_by_one.append(doc_tags(doc))
        assert batched == one_by_one
        assert any(tags for tags in batched)  # the check compares real tags


def test_shared_leak_hints_give_each_detector_its_own_answer(shared_dir: Path) -> None:
    rows = [json.loads(line) for line in
            (shared_dir / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    index = HintIndex([*pii.HINTS, *secrets.HINTS, *confidential.HINTS])
    for text in (row["text"] for row in rows):
        hints = index.found(text.lower())
        assert pii.find_pii(text, PROFILE.contact_points, hints) == pii.find_pii(
            text, PROFILE.contact_points)
        assert secrets.find_secrets(text, hints) == secrets.find_secrets(text)
        assert confidential.find_confidential(text, PROFILE, hints) == (
            confidential.find_confidential(text, PROFILE))


def test_docs_of_every_context_are_real_docs() -> None:
    nlp = pipeline_for("en")
    docs = list(context_docs(nlp.make_doc, [("a b", "x", (PROFILE, PROFILE))]))
    assert len(docs) == 2 and all(isinstance(doc, Doc) for doc in docs)
    assert docs[0] is not docs[1] and docs[1].text == "a b"
