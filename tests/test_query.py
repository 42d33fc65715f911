"""Brand query semantics: Lucene syntax, folding, word boundaries, look-alike exclusions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.query import QuerySyntaxError, compile_query
from classifiers.text import MatchText
from monitor.core.textfold import fold

BRAND = '"Calderix" OR @calderix OR #calderix NOT "Calle Calderix"'


def matches(query: str, text: str) -> bool:
    return compile_query(query).match(text) is not None


@pytest.mark.parametrize(
    "text",
    ["calderix", "CALDERIX", "#Calderix", "@calderix", "Calderix's app", "Me encanta Calderix.",
     "(Calderix)", "¡¡Calderix!!", "CALDÉRIX"],
)
def test_word_matches_on_word_boundaries_any_case(text: str) -> None:
    assert matches("Calderix", text)


@pytest.mark.parametrize("text", ["Calderixa", "supercalderix", "calderi x", "Calder"])
def test_word_does_not_match_inside_other_words(text: str) -> None:
    assert not matches("Calderix", text)


def test_phrase_is_accent_and_case_insensitive_and_adjacent() -> None:
    assert matches('"calderix movil"', "Tengo Calderix Móvil desde enero")
    assert matches('"Calderix Móvil"', "calderix movil")
    assert not matches('"calderix movil"', "Calderix y su móvil")


def test_handles_and_hashtags_are_exact_tokens() -> None:
    assert matches("@calderix", "Hola @Calderix, ¿qué pasa?")
    assert not matches("@calderix", "Calderix no contesta")
    assert not matches("@calderix", "#calderix caído")
    assert not matches("@calderix", "@calderix_es responde")
    assert not matches("@calderix", "escribid a prensa@calderix.es")
    assert matches("#calderix", "#CALDERIX caído")
    assert not matches("#calderix", "@calderix caído")
    assert not matches("#calderix", "#CalderixTeam")


def test_domain_matches_only_the_domain() -> None:
    assert matches("calderix.es", "Más info en https://www.calderix.es/tarifas")
    assert matches("calderix.es", "escribid a prensa@Calderix.es")
    assert not matches("calderix.es", "Calderix es genial")
    assert not matches("calderix.es", "calderix.esx")


def test_trailing_wildcard() -> None:
    assert matches("calder*", "Calderix")
    assert matches("calder*", "CALDERÍA")
    assert not matches("calder*", "escalder")
    assert matches("cal?erix", "Calderix")
    assert compile_query("fonar* OR redal*").match("Redalia y Fonaris") == ("fonar*", "redal*")


def test_proximity() -> None:
    query = '"calderix fibra"~3'
    assert matches(query, "Calderix y su fibra")
    assert matches(query, "la fibra de Calderix")
    assert not matches(query, "Calderix es una empresa que vende fibra")


def test_near_proximity_either_order() -> None:
    query = "calderix NEAR/3 caida"
    assert matches(query, "Calderix: otra caída")
    assert matches(query, "caída de red de Calderix")  # 3 words between
    assert not matches(query, "caída de la red de Calderix")  # 4 words between
    assert matches("calderix NEAR/0 movil", "Calderix Móvil")
    assert not matches("calderix NEAR/0 movil", "Calderix y su móvil")


def test_near_with_phrases_groups_and_exclusions() -> None:
    query = 'calderix NEAR/4 ("sin fibra" OR caida OR cortes)'
    assert compile_query(query).match("Otra vez sin fibra, gracias Calderix") == (query,)
    assert not matches(query, "Sin fibra en casa desde hace tres días y hoy Calderix nada")
    assert matches('"calderix movil" NEAR/2 roaming', "roaming con Calderix Móvil")
    assert not matches('"calderix movil" NEAR/2 roaming', "roaming con Calderix")
    assert matches("(calderix NEAR/2 fibra) AND NOT sorteo", "fibra de Calderix")
    assert not matches("(calderix NEAR/2 fibra) AND NOT sorteo", "sorteo: fibra de Calderix")
    excluding = 'calderix NEAR/3 obras -"calle calderix"'
    assert not matches(excluding, "obras en la calle Calderix")
    assert matches(excluding, "obras en la calle Calderix, y Calderix cortada por obras")


@pytest.mark.parametrize(
    ("query", "message"),
    [("NEAR/3 fibra", "needs a word"), ("calderix NEAR/3", "needs a word"),
     ("calderix NEAR/3 (a AND b)", "NEAR/n joins words")],
)
def test_near_errors_say_how_to_write_it(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        compile_query(query)


@pytest.mark.parametrize("query", ["acme NEAR/x outage", "acme NEAR outage", "acme NEAR/ outage"])
def test_near_without_a_distance_is_refused(query: str) -> None:
    """Unchecked, a NEAR without a number was the plain word "near" OR'ed into the query."""
    with pytest.raises(QuerySyntaxError, match="needs a distance in words, like acme NEAR/5"):
        compile_query(query)


def test_unclosed_quote_is_said_in_words() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query('Microsoft OR "Visual Studio')
    assert "unclosed quote" in str(caught.value) and "position 13" in str(caught.value)
    assert "Illegal character" not in str(caught.value)
    assert compile_query(r'"say \"hi\""').match('they say "hi" there')


def test_near_is_not_a_brand_term() -> None:
    from classifiers.context import brand_terms

    assert brand_terms("Calderix", "calderix NEAR/3 fibra") == ("calderix", "fibra")


def test_boolean_operators() -> None:
    assert matches("calderix AND fibra", "Fibra de Calderix")
    assert not matches("calderix AND fibra", "Calderix móvil")
    assert matches("calderix fonaris", "solo Fonaris")  # implicit operator is OR
    assert matches("+calderix fibra", "Calderix")
    assert not matches("+calderix fibra", "fibra")
    assert not matches("calderix -sorteo", "Sorteo de Calderix")
    assert matches("calderix AND (fibra OR movil)", "Calderix Móvil")
    assert not matches("calderix AND (fibra OR movil)", "Calderix tarifas")
    assert not matches("calderix NOT sorteo", "Calderix sorteo")


def test_matched_terms_are_reported() -> None:
    query = compile_query(BRAND)
    assert query.match("Hola @calderix, sois #Calderix") == ("Calderix", "@calderix", "#calderix")
    assert query.match("nada que ver") is None


def test_look_alike_exclusion_masks_the_phrase_only() -> None:
    assert not matches(BRAND, "Vivo en la Calle Calderix, 14")
    assert not matches(BRAND, "mercadillo en la calle calderix")
    assert not matches(BRAND, "Calle Calderix y calle Calderix otra vez")
    # the street and a genuine mention of the brand elsewhere: still a mention
    assert matches(BRAND, "Vivo en la calle Calderix y mi fibra también es de Calderix")
    assert matches(BRAND, "Calle Calderix #calderix")
    query = 'Calderix NOT ("Calle Calderix" OR "Calderix Star")'
    assert not matches(query, "Calderix Star gana en Sanlúcar")
    assert matches(query, "Calderix Star gana y Calderix patrocina")


def test_plain_not_still_excludes() -> None:
    assert not matches('Calderix NOT "sorteo gratis"', "Sorteo gratis de Calderix")


@pytest.mark.parametrize(
    ("query", "construct"),
    [("title:calderix", "field"), ("calderix~", "fuzzy"), ("[a TO b]", "range"),
     ("/calder.x/", "regular expression"), ("calderix^2", "boost"), ("NOT calderix", "positive"),
     ("(calderix", "Syntax"), ("", "empty"), ("*", "wildcard")],
)
def test_unsupported_constructs_are_errors(query: str, construct: str) -> None:
    with pytest.raises(QuerySyntaxError, match=construct):
        compile_query(query)


def test_settings_reject_bad_query(tmp_path) -> None:
    from monitor.app.configuration import parse_settings
    from monitor.core.errors import SettingsError

    with pytest.raises(SettingsError, match=r"brands\[0\] \('Calderix'\)\.query: .*field searches"):
        parse_settings({"brands": [{"name": "Calderix", "query": "title:calderix"}]}, tmp_path)


def _variants(text: str) -> st.SearchStrategy[str]:
    accents = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")
    return st.sampled_from([text, text.upper(), text.lower(), text.translate(accents),
                            text.title(), text.swapcase()])


_WORDS = st.sampled_from(["calderix", "movil", "fibra", "calle", "Fonaris", "no", "va", "la"])
_TEXTS = st.lists(_WORDS, max_size=8).map(" ".join)
_QUERIES = st.sampled_from(
    [BRAND, "calderix", '"calderix movil"', "calder*", "fibra AND calderix", "movil -fibra",
     '"calderix fibra"~2', "fonaris OR (calle AND movil)"]
)


@settings(max_examples=200, deadline=None)
@given(query=_QUERIES, text=_TEXTS, data=st.data())
def test_folding_never_changes_the_result(query: str, text: str, data: st.DataObject) -> None:
    variant = data.draw(_variants(text))
    compiled = compile_query(query)
    assert (compiled.match(text) is None) == (compiled.match(variant) is None)


@settings(max_examples=200, deadline=None)
@given(text=_TEXTS, before=_TEXTS, after=_TEXTS)
def test_word_found_exactly_when_present_as_a_word(text: str, before: str, after: str) -> None:
    full = f"{before}, {text}! {after}"
    expected = "calderix" in fold(full).replace(",", " ").replace("!", " ").split()
    assert (compile_query("Calderix").match(MatchText.of(full)) is not None) == expected


@settings(max_examples=100, deadline=None)
@given(text=_TEXTS)
def test_query_case_does_not_matter(text: str) -> None:
    assert (compile_query("CALDERIX AND Fibra").match(text) is None) == (
        compile_query("calderix AND fibra").match(text) is None
    )
