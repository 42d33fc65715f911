"""Term lists: data-file format, folding, stems, phrases and exact offsets on spaCy Docs."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from classifiers.termlists import TermMatcher, doc_folded, read_labelled_terms

NLP = spacy.blank("es")


def hits(terms: dict[str, list[str]], text: str) -> list[tuple[str, str]]:
    matcher = TermMatcher(terms, lambda t: [tok.text for tok in NLP.make_doc(t)])
    doc = NLP.make_doc(text)
    found = list(matcher.find(doc))
    for hit in found:
        assert text[hit.start : hit.end] == hit.text
    return [(h.text, h.label) for h in found]


def test_case_accents_and_word_boundaries() -> None:
    terms = {"insult": ["imbecil"]}
    assert hits(terms, "Eres un IMBÉCIL.") == [("IMBÉCIL", "insult")]
    assert hits(terms, "imbecilidad") == []


def test_phrases_stems_and_longest_match() -> None:
    terms = {"crude": ["tonto", "tonto del culo"], "fraud": ["estaf*"]}
    assert hits(terms, "es tonto del culo") == [("tonto del culo", "crude")]
    assert hits(terms, "unos estafadores") == [("estafadores", "fraud")]
    assert hits(terms, "la estafa, otra estafa") == [("estafa", "fraud"), ("estafa", "fraud")]


def test_hashtags_and_handles_count_as_words() -> None:
    assert hits({"outage": ["sininternet"]}, "Otra vez #SinInternet") == [
        ("SinInternet", "outage")
    ]


def test_file_format_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("# comment\nbueno\tok\nsin tab\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.tsv: line 3"):
        read_labelled_terms(path)
    path.write_text("a*b\tlabel\n", encoding="utf-8")
    with pytest.raises(ValueError, match="may only end a term"):
        read_labelled_terms(path)
    path.write_text("Pésimo Servicio\tneg\n", encoding="utf-8")
    assert read_labelled_terms(path) == {"neg": ["pesimo servicio"]}


def test_automaton_and_token_by_token_agree() -> None:
    """The automaton only says where to look: trying every token (the path for a post with
    a token holding SEP) gives the same hits, labels in the same order."""
    terms = {
        "b": ["me han cobrado", "han", "estaf*", "#estafa"],
        "a": ["me han", "estafa", "cobrado dos veces", "no funciona*"],
        "c": ["estaf*", "han cobrado"],
    }
    split = lambda t: [tok.text for tok in NLP.make_doc(t)]  # noqa: E731
    fast, slow = TermMatcher(terms, split), TermMatcher(terms, split)
    slow._automaton = None
    for text in ("Me han cobrado dos veces, ESTAFADORES", "no funcionan y me han estafado",
                 "han", "estafa me han cobrado", ""):
        doc = NLP.make_doc(text)
        assert fast.find(doc) == slow.find(doc)
    doc = NLP.make_doc("me\x00 han cobrado")  # SEP inside a token: every token is tried
    assert doc_folded(doc).joined is None
    assert [(h.text, h.label) for h in fast.find(doc)] == [("han", "b"), ("han cobrado", "c")]
