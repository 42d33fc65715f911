"""The speed-ups of the classifiers must not change a single answer.

Cheap pre-tests (hint scans, token-pattern candidates, first-word gates) may only skip work
that would have found nothing, and running the components batch by batch (`pipe`) must give
the tags that calling them Doc by Doc gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from classifiers.analyzer import context_docs, doc_tags
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
from classifiers.token_patterns import PatternMatchers

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


PHRASES = ["I'm on call", "no lo compartáis", "you didn't hear it from me", "all-hands",
           "Trabajo en", "staff here", "ex-empleado", "intranet.calderix.local", "ERE",
           "despidos", "captura del Slack", "Q3", "here's the memo", "mi jefe", "ALL HANDS"]


@settings(max_examples=200)
@given(TEXTS, st.lists(st.sampled_from(PHRASES), max_size=3), st.sampled_from(["es", "en"]))
def test_token_pattern_candidates_never_skip_a_match(text: str, phrases: list[str],
                                                     lang: str) -> None:
    """A pattern left out of a Doc's candidates has no match in it: some part of it (the
    tokens before the brand, or after it) finds nothing, as its Matcher says; a candidate
    matched around its hint's tokens finds what a run over the whole Doc finds."""
    nlp = pipeline_for(lang)
    doc = nlp.make_doc(" ".join([text[:30], *phrases, "Calderix", text[30:]]))
    for patterns in (dict(nlp.pipeline)["vigia_employee"].patterns,
                     confidential.patterns_for(nlp.vocab)):
        candidates = set(patterns.candidates(doc))
        for index, pattern in enumerate(patterns.patterns):
            found = patterns.matches(doc, index)
            if index in candidates:
                if not pattern.brand:  # matched only around its hint: the same matches
                    assert {part: sorted(spans) for part, spans in
                            patterns.find(doc, index).items()} == {
                        part: sorted(spans) for part, spans in found.items()}, pattern.key
                continue
            sides = [side for side in ("before", "after") if getattr(pattern, side)]
            assert not all(found.get(side) or found.get(f"{side}_end") for side in sides), (
                pattern.key, doc.text)


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
    nlp = pipeline_for("es")
    for text in (row["text"] for row in rows):
        hints = index.found(text.lower())
        assert pii.find_pii(text, PROFILE.contact_points, hints) == pii.find_pii(
            text, PROFILE.contact_points)
        assert secrets.find_secrets(text, hints) == secrets.find_secrets(text)
        doc = nlp.make_doc(text)
        assert confidential.find_confidential(doc, PROFILE, hints) == (
            confidential.find_confidential(doc, PROFILE))


def test_docs_of_every_context_are_real_docs() -> None:
    nlp = pipeline_for("en")
    docs = list(context_docs(nlp.make_doc, [("a b", "x", (PROFILE, PROFILE))]))
    assert len(docs) == 2 and all(isinstance(doc, Doc) for doc in docs)
    assert docs[0] is not docs[1] and docs[1].text == "a b"


def _matcher_matches(patterns: PatternMatchers, doc: Doc, index: int, start: int,
                     end: int) -> dict[str, list[tuple[int, int]]]:
    """What the pattern's spaCy Matcher finds within tokens [start, end)."""
    found: dict[str, list[tuple[int, int]]] = {}
    for rule, first, last in patterns._matchers[index](doc[start:end]):
        found.setdefault(patterns._parts[index][rule], []).append((start + first, start + last))
    return found


@settings(max_examples=200)
@given(TEXTS, st.lists(st.sampled_from([*PHRASES, "mi jefe en", "MIS COMPIS DE", "internal",
                                         "Strictly Confidential"]), max_size=3),
       st.sampled_from(["es", "en"]), st.integers(0, 8), st.integers(1, 12))
def test_literal_patterns_match_as_their_matcher(text: str, phrases: list[str], lang: str,
                                                 start: int, size: int) -> None:
    """Patterns of spelled-out tokens are matched on token ids: the same matches as their
    Matcher, over the whole Doc and over a window of it."""
    nlp = pipeline_for(lang)
    doc = nlp.make_doc(" ".join([text[:30], *phrases, "Calderix", text[30:]]))
    start = min(start, len(doc))
    windows = [(0, len(doc)), (start, min(len(doc), start + size))]
    for patterns in (dict(nlp.pipeline)["vigia_employee"].patterns,
                     confidential.patterns_for(nlp.vocab)):
        literal = [i for i, parts in enumerate(patterns._literal) if parts is not None]
        assert literal  # the fast path is in use
        for index in literal:
            for low, high in windows:
                assert patterns.matches(doc, index, low, high) == _matcher_matches(
                    patterns, doc, index, low, high), patterns.patterns[index].key


@settings(max_examples=200)
@given(TEXTS, st.lists(st.sampled_from(PHRASES), max_size=3), st.sampled_from(["es", "en"]))
def test_token_pattern_candidates_with_the_callers_scan(text: str, phrases: list[str],
                                                        lang: str) -> None:
    """A caller's scan of the text for the hint and REGEX words (as the leak component's)
    gives the candidates that the patterns' own look at the tokens gives."""
    nlp = pipeline_for(lang)
    doc = nlp.make_doc(" ".join([text[:30], *phrases, "Calderix", text[30:]]))
    for patterns in (dict(nlp.pipeline)["vigia_employee"].patterns,
                     confidential.patterns_for(nlp.vocab)):
        scan = HintIndex(sorted(patterns.hint_words | patterns.inside_words))
        assert patterns.candidates(doc, scan.found(doc.text.lower())) == \
            patterns.candidates(doc)
