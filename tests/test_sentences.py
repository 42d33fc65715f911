"""The shared sentence splitter, negator reach and brand finder (one implementation each)."""

from __future__ import annotations

import pytest

from classifiers.context import BrandProfile
from classifiers.mentions import find_mentions, names_anywhere
from classifiers.negation import negated_at
from classifiers.nlp import pipeline_for
from classifiers.sentences import ends_sentence, sentence_starts
from classifiers.windows import brand_window

PROFILE = BrandProfile(name="Calderix", terms=("calderix movil", "calderix"),
                       competitors=("Fonaris",))


def test_sentences_end_at_punctuation_followed_by_a_space_or_the_end() -> None:
    text = "Mira calderix.es: 3.5 euros. ¿Qué tal?\nBien; gracias"
    starts = sentence_starts(text)
    assert [text[s:s + 4] for s in starts] == ["Mira", "¿Qué", "Bien", "grac"]
    assert ends_sentence(".") and ends_sentence("?!") and ends_sentence("\n")
    assert not ends_sentence("calderix.es") and not ends_sentence(",")


@pytest.mark.parametrize(("lang", "text", "cue", "negated"), [
    ("es", "sin cortes", "cortes", True), ("es", "ni se corta", "corta", True),
    ("es", "no me cobran", "cobran", True),
    ("es", "nunca he tenido un problema", "problema", True),
    ("en", "never had a single issue", "issue", True),
    ("en", "I don't get charged", "charged", True),
    ("es", "no sé por qué me cobran", "cobran", False),
    ("es", "dicen que 'no valida'. Me cobran", "cobran", False),
    ("es", "me cobran", "cobran", False),
])
def test_negators_reach_within_their_sentence(lang: str, text: str, cue: str,
                                               negated: bool) -> None:
    assert negated_at(text, text.rfind(cue), lang) is negated


def test_brand_names_as_words_handles_and_hashtags_not_in_addresses() -> None:
    text = "@calderix y #Calderix: CALDÉRIX Móvil, escribid a prensa@calderix.es o Fonaris"
    found = [(m.text, m.label) for m in find_mentions(text, PROFILE)]
    assert found == [("@calderix", "brand"), ("#Calderix", "brand"),
                     ("CALDÉRIX Móvil", "brand"), ("Fonaris", "competitor")]
    assert names_anywhere("https://intranet.calderix.local", PROFILE.terms)


def test_windows_and_components_find_the_brand_alike() -> None:
    filler = "Otra frase sin interés ninguno para nadie. " * 14
    text = filler + "Calderix sube precios. Los clientes protestan. " + filler
    window = brand_window(text, PROFILE)
    assert window is not None and window.text.startswith("Calderix sube precios.")


def test_components_declare_what_they_need_beyond_the_context() -> None:
    """Every `requires` is assigned by an earlier component, or is the context the Analyzer
    sets before the pipeline runs."""
    context = {"doc._.vigia_brand", "doc._.vigia_author", "doc._.vigia_article"}
    problems = pipeline_for("es").analyze_pipes(pretty=False)["problems"]
    assert problems and all(set(missing) <= context for missing in problems.values()), problems
