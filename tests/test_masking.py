"""Masking: what a digest may show of a leaked identifier or secret."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.leaks.pii import find_pii
from classifiers.leaks.secrets import find_secrets
from classifiers.masking import mask_text, mask_value


@pytest.mark.parametrize(
    ("value", "kind", "masked"),
    [
        ("48215763N", "pii:dni", "4821****N"),
        ("X7829127L", "nie", "X782****L"),
        ("ES9121000418450200051332", "pii:iban", "ES91 **** **** 1332"),
        ("ES91 2100 0418 4502 0005 1332", "iban", "ES91 **** **** 1332"),
        ("4111 1111 1111 1111", "pii:card", "**** **** **** 1111"),
        ("juan.perez@gmail.com", "pii:email", "j***@gmail.com"),
        ("612 48 39 07", "pii:phone", "*** ** *9 07"),
        ("+34 612 48 39 07", "pii:phone", "+34 *** ** *9 07"),
        ("sk_live_64AX6VM2ewMuBY6rfNcAKE9f", "secret:stripe_key", "sk_live_…9f"),
        ("ghp_z5eRTpPWzUB4q60sskDI1EDL0Y6wu1JOSNta", "secret:github_token", "ghp_…ta"),
        ("AKIA317BD9G2LBC7RD0S", "secret:aws_key", "AKIA…0S"),
        ("Cx-Oficina#7781", "secret:password", "********"),
        ("postgres://app:Sup3rS3cret@db.local", "secret:url_credentials",
         "postgres://app:********@db.local"),
        ("Calle de Cuba 14, 3ºB", "pii:address", "Calle de Cuba **, *º*"),
    ],
)
def test_mask_value(value: str, kind: str, masked: str) -> None:
    assert mask_value(value, kind) == masked


def test_mask_text_hides_every_identifier_and_secret_and_keeps_the_rest() -> None:
    text = ("@calderix mi IBAN ES2221000508045166723720, DNI 30111213G, tlf 612 48 39 07, "
            "mail lucia.benitez@calderix.es y STRIPE_KEY=sk_live_64AX6VM2ewMuBY6rfNcAKEIO. "
            "Llamad al 900 101 202 😠")
    masked = mask_text(text, ("900 101 202",))
    for secret in ("ES2221000508045166723720", "30111213G", "612 48 39 07",
                   "lucia.benitez@", "sk_live_64AX6VM2ewMuBY6rfNcAKEIO"):
        assert secret not in masked
    assert masked.startswith("@calderix mi IBAN ES22 **** **** 3720, DNI 3011****G")
    assert "l***@calderix.es" in masked and "sk_live_…IO" in masked
    assert masked.endswith("Llamad al 900 101 202 😠")  # a contact point stays readable
    assert find_pii(masked, ("900 101 202",)) == [] and find_secrets(masked) == []


@pytest.mark.parametrize("text", ["", "Nada que ocultar aquí: 45€, 3 días, ticket #778213"])
def test_text_without_leaks_is_unchanged(text: str) -> None:
    assert mask_text(text) == text


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([
            "30111213G", "ES2221000508045166723720", "4111111111111111", "ana.ruiz@correo.es",
            "612 48 39 07", "sk_live_64AX6VM2ewMuBY6rfNcAKEIO", "password: hunter2",
            "AKIA317BD9G2LBC7RD0S", "PANTALLAZO", "+34 612 48 39 07", "Calle Mayor 3, 2ºB",
            "ES91 2100 0418 4502 0005 1332", "contraseña Cx-Oficina#7781",
            "https://u:p4ssw0rd!@h.com", "nº de cliente 7720441893 Rocío Vera",
        ]) | st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
        max_size=8,
    )
)
def test_masked_text_never_still_contains_a_finding(parts: list[str]) -> None:
    text = " ".join(parts)
    masked = mask_text(text)
    assert find_pii(masked) == []
    # Words about a screenshot of credentials are evidence, but there is nothing to hide.
    assert [e for e in find_secrets(masked) if e.reason != "secret:credentials_image"] == []
