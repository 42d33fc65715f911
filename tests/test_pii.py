"""Personal data: every number validated, the brand's own contact points never reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.leaks.pii import find_pii

CONTACT_POINTS = ("1575", "900 101 202", "+34 910 48 22 00", "prensa@", "info@calderix.es")


def reasons(text: str, points: tuple[str, ...] = CONTACT_POINTS) -> list[tuple[str, str]]:
    return [(e.reason, e.text) for e in find_pii(text, points)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mi DNI es 30111213G por si acaso", [("pii:dni", "30111213G")]),
        ("dni 30111213-g", [("pii:dni", "30111213-g")]),
        ("DNI 30.111.213-G", [("pii:dni", "30.111.213-G")]),
        ("NIE X7829127L, para que me llaméis", [("pii:nie", "X7829127L")]),
        ("My NIE: Y8063915-Z", [("pii:nie", "Y8063915-Z")]),
        ("IBAN ES22 2100 0508 0451 6672 3720 y ya",
         [("pii:iban", "ES22 2100 0508 0451 6672 3720")]),
        ("refund to GB82WEST12345698765432 please", [("pii:iban", "GB82WEST12345698765432")]),
        ("Cuenta 2100 0418 45 0200051332 de mi madre", [("pii:bank_account",
                                                         "2100 0418 45 0200051332")]),
        ("la tarjeta 4111 1111 1111 1111 caduca", [("pii:card", "4111 1111 1111 1111")]),
        ("card 378282246310005 (amex)", [("pii:card", "378282246310005")]),
        ("escribidme a juan.perez@gmail.com", [("pii:email", "juan.perez@gmail.com")]),
        ("Llamadme al 612 48 39 07", [("pii:phone", "612 48 39 07")]),
        ("call me on +44 7911 123456 tonight", [("pii:phone", "+44 7911 123456")]),
        ("mi fijo: 0034 915 12 34 56", [("pii:phone", "0034 915 12 34 56")]),
        ("Vivo en Calle Mayor 12, 3º B, Madrid", [("pii:address", "Calle Mayor 12, 3º B")]),
        ("enviad la carta a C/ del Pez 4, 2ºizq", [("pii:address", "C/ del Pez 4, 2ºizq")]),
        ("My home address is 42 Baker Street, London", [("pii:address", "42 Baker Street")]),
        ("el primero: Pilar Romero Díaz, calle Fuentecilla 12, Móstoles",
         [("pii:address", "calle Fuentecilla 12")]),
        ("Cliente Rocío Manzano Vera, nº de cliente 7720441893.",
         [("pii:account", "7720441893")]),
        ("Mi pasaporte es AAA123456", [("pii:passport", "AAA123456")]),
    ],
)
def test_validated_personal_data_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert reasons(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mi DNI es 30111213A",  # wrong control letter
        "NIE X7829127Q",  # wrong control letter
        "IBAN ES22 2100 0508 0451 6672 3721",  # mod-97 fails
        "la tarjeta 4111 1111 1111 1112",  # Luhn fails
        "pedido 1234 5678 9012 3456 sin enviar",  # Luhn fails
        "Llamad al 1575 o al 900 101 202",  # the brand's helplines
        "Call 866-970-8267 for our daily special",  # US freephone: a business line
        "Pedidos al 902 123 456 o al 800 123 456",  # shared-cost and freephone numbers
        "Prensa: prensa@calderix.es · +34 910 48 22 00",  # the brand's press contacts
        "Escribid a info@calderix.es o a soporte@otraempresa.com",  # role mailboxes
        "Me cobráis 89,90€ cuando tengo contratado 45€ desde 2019",
        "Número de seguimiento CXR-2024-558103, sigue en preparación",
        "Ticket #INC-778213 and my card ending 4091",
        "La tienda de Calle Mayor 12 cierra el lunes",  # a shop, not a home
        "Tienda Calderix Gran Vía: Calle Mayor 12, abrimos a las 10",
        "Store closing on Calle Portales next month",
        "Valoración 4,5 sobre 5 en 1.234.567 reseñas",
        "Mi pasaporte caducó en 2020",
        "AAA123456 es un código de producto",  # passport shape without the word
        "The test email is someone@example.com, for demo?",  # RFC 2606 documentation domain
    ],
)
def test_look_alikes_are_not_personal_data(text: str) -> None:
    assert reasons(text) == []


def test_an_iban_is_not_also_a_phone_or_card() -> None:
    found = find_pii("IBAN: ES91 2100 0418 4502 0005 1332")
    assert [e.reason for e in found] == ["pii:iban"]


def test_adjacent_numbers_are_each_found() -> None:
    text = ("ES91 2100 0418 4502 0005 1332 ES91 2100 0418 4502 0005 1332 4111111111111111, "
            "clave Cx-Oficina#7781 612 48 39 07")
    assert [e.reason for e in find_pii(text)] == ["pii:iban", "pii:iban", "pii:card", "pii:phone"]


@pytest.mark.parametrize(
    "text",
    [
        # A scam warning on a blog: the manuals' example IBAN, shown as an example.
        "en la captura de ejemplo he puesto el típico ES91 2100 0418 4502 0005 1332 que sale "
        "en todos los manuales",
        "Por ejemplo, un IBAN español tiene esta forma: ES91 2100 0418 4502 0005 1332.",
        "Use a test card such as 4111 1111 1111 1111 in the sandbox.",
        "The sample IBAN GB29 NWBK 6016 1331 9268 19 shows the layout.",
    ],
)
def test_a_number_offered_as_an_example_is_not_personal_data(text: str) -> None:
    assert reasons(text) == []


def test_a_number_after_an_example_in_another_sentence_is_still_found() -> None:
    text = "Por ejemplo, ayer llamé al banco. Mi IBAN es ES91 2100 0418 4502 0005 1332."
    assert reasons(text) == [("pii:iban", "ES91 2100 0418 4502 0005 1332")]


def test_offsets_slice_the_text() -> None:
    text = "Hola, soy Ana (ana.ruiz@correo.es), DNI 30111213G, móvil 612 48 39 07 🙂"
    for evidence in find_pii(text):
        assert text[evidence.start:evidence.end] == evidence.text


def _presidio_spanish(shared_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in
            (shared_dir / "corpora/nlp/pii.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["source"] == "presidio_unit_tests" and r["lang"] == "es"]


def test_presidio_spanish_nif_nie_vectors_all_pass(shared_dir: Path) -> None:
    """Every checksum-valid NIF/NIE positive found, every invalid negative rejected."""
    rows = [r for r in _presidio_spanish(shared_dir) if "passport" not in r["id"]]
    assert len(rows) >= 20
    wanted = {"ES_NIF": "pii:dni", "ES_NIE": "pii:nie"}
    for row in rows:
        found = find_pii(row["text"])
        if row["label"]:
            span = row["spans"][0]
            assert [(e.reason, e.start, e.end) for e in found] == [
                (wanted[span["type"]], span["start"], span["end"])
            ], row["text"]
        else:
            assert found == [], row["text"]


def test_presidio_ibans_and_cards(shared_dir: Path) -> None:
    rows = [json.loads(line) for line in
            (shared_dir / "corpora/nlp/pii.jsonl").read_text(encoding="utf-8").splitlines()]
    for kind, reason in (("iban", "pii:iban"), ("credit_card", "pii:card")):
        subset = [r for r in rows if r["id"].startswith(f"presidio_{kind}_recognizer")]
        assert len(subset) >= 10
        for row in subset:
            found = {e.reason for e in find_pii(row["text"])}
            assert (reason in found) == bool(row["label"]), row["text"]
            assert found <= {reason}, row["text"]
