"""Brand and competitor mentions: the competitor gate never hides a mention."""

from __future__ import annotations

from classifiers.context import BrandProfile
from classifiers.mentions import _gate, find_mentions

PROFILE = BrandProfile(name="Calderix", terms=("calderix",), competitors=("Fonaris", "Grupo Ñu"))


def spans(text: str, profile: BrandProfile = PROFILE) -> list[tuple[str, str]]:
    return [(m.text, m.label) for m in find_mentions(text, profile)]


def test_competitors_in_any_case_accent_or_handle_are_found() -> None:
    assert spans("FONÁRIS, #fonaris y @Fonaris peor que Calderix") == [
        ("FONÁRIS", "competitor"), ("#fonaris", "competitor"), ("@Fonaris", "competitor"),
        ("Calderix", "brand"),
    ]
    assert spans("GRUPO  ÑU y grupo_nu") == [
        ("GRUPO  ÑU", "competitor"), ("grupo_nu", "competitor"),
    ]
    assert spans("solo Calderix") == [("Calderix", "brand")]


def test_texts_the_gate_cannot_read_are_scanned() -> None:
    # The long s and the Kelvin sign match 's' and 'k' case-insensitively: no gate.
    assert spans("FONARIſ") == [("FONARIſ", "competitor")]
    kelvin = BrandProfile(name="Acme", terms=("acme",), competitors=("kora",))
    assert spans("\u212aora", kelvin) == [("\u212aora", "competitor")]


def test_non_ascii_names_have_no_gate() -> None:
    assert _gate(("fonaris",)) is not None
    assert _gate(("ωmega",)) is None
    omega = BrandProfile(name="Acme", terms=("acme",), competitors=("Ωmega",))
    assert spans("ΩMEGA", omega) == [("ΩMEGA", "competitor")]


def test_brand_found_through_its_anchor_as_by_a_full_scan() -> None:
    assert spans("x@calderix, a.calderix, @#calderix, ##Calderix y CALDÉRIX!") == [
        ("CALDÉRIX", "brand"),
    ]
    assert spans("calderixcalderix, #CalderixTeam, calderix.es/x") == []
    assert spans("ldld @Calderix #calderix Calderix.") == [
        ("@Calderix", "brand"), ("#calderix", "brand"), ("Calderix", "brand"),
    ]
