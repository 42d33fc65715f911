"""Masking personal data and secrets before they are shown anywhere.

A digest that quotes "mi IBAN es ES91 2100 0418 4502 0005 1332" would spread the leak it warns
about to every recipient's inbox. Every post title, text, evidence span and author shown in an
email, a page or a log line goes through `mask_text` (the `masked` Jinja filter in reports),
which finds each checksum-validated identifier and secret (the same detectors as the `leak`
classifier, `classifiers.leaks`) and replaces it with `mask_value`'s form: enough left to
recognise which one it is ("the card ending 4091"), not enough to use it.
"""

from __future__ import annotations

import re

from classifiers.leaks.pii import find_pii
from classifiers.leaks.secrets import find_secrets
from classifiers.leaks.spans import without_overlaps
from classifiers.tags import Evidence

STAR = "*"
# Evidence that is words about a leak ("captura con la contraseña"), not the leaked value.
_NOTHING_TO_HIDE = frozenset({"secret:credentials_image"})
ELLIPSIS = "…"
# Secret prefixes worth keeping visible: they tell the reader which provider's key leaked.
_SECRET_PREFIX = re.compile(
    r"^(?:sk|rk|pk)_(?:live|test)_|^sk-(?:proj-|svcacct-|admin-)?|^(?:ghp|gho|ghu|ghs|ghr)_|"
    r"^github_pat_|^gl[a-z]{2,5}-|^xox[a-z]-|^xapp-|^npm_|^pypi-|^SG\.|^AIza|^AKIA|^ASIA|"
    r"^eyJ|^sq0[a-z]{3}-|^AccountKey=|^AKC|^AP"
)


def _star_digits(value: str, keep_start: int, keep_end: int) -> str:
    """Replace alphanumerics by '*' except the first keep_start and last keep_end of them,
    preserving spaces and separators so the masked value keeps its familiar shape."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    if len(positions) <= keep_start + keep_end:
        keep_start, keep_end = 0, min(keep_end, max(0, len(positions) // 3))
    hidden = set(positions[keep_start:len(positions) - keep_end])
    return "".join(STAR if i in hidden else ch for i, ch in enumerate(value))


def _mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return _star_digits(value, 1, 0)
    return f"{local[:1]}{STAR * 3}@{domain}"


def _mask_phone(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    keep_start = 2 if value.lstrip().startswith("+") else 0  # "+34" is not identifying
    keep_end = 3 if digits >= 9 else 2
    return _star_digits(value, min(keep_start, max(0, digits - keep_end - 4)), keep_end)


def _mask_secret(value: str) -> str:
    prefix = _SECRET_PREFIX.match(value)
    head = prefix.group() if prefix else ""
    tail = value[-2:] if len(value) - len(head) >= 12 else ""
    return f"{head}{ELLIPSIS}{tail}"


def mask_value(value: str, kind: str) -> str:
    """The masked form of one identifier or secret; `kind` is its evidence reason or its
    detail ('pii:dni' or 'dni', 'secret:stripe_key' or 'secret').

    DNI `48215763N` → `4821****N`; IBAN `ES9121000418450200051332` → `ES91 **** **** …1332`
    shape-preserving (`ES91 **** **** **** **** 1332`); card → last four; email
    `juan@x.com` → `j***@x.com`; phone → last 2–3 digits; secrets → provider prefix, '…'
    and the last two characters (`sk_live_…9f`); passwords and anything else → stars.
    """
    family, _, detail = kind.partition(":")
    detail = detail or family
    if family == "secret" or detail in {"password", "token", "key"}:
        if detail in {"password", "url_credentials", "credentials_image"}:
            return _mask_url_credentials(value) if detail == "url_credentials" else STAR * 8
        return _mask_secret(value)
    if detail in {"dni", "nie", "nif"}:
        return _star_digits(value, 4, 1)
    if detail in {"iban", "bank_account"}:
        compact = re.sub(r"[\s-]", "", value)
        if detail == "iban" and len(compact) > 8:
            return f"{compact[:4]} {STAR * 4} {STAR * 4} {compact[-4:]}"
        return _star_digits(value, 0, 4)
    if detail == "card":
        return _star_digits(value, 0, 4)
    if detail == "email":
        return _mask_email(value)
    if detail == "phone":
        return _mask_phone(value)
    if detail in {"address", "account", "passport"}:
        return _star_digits(value, 0, 0) if detail != "address" else _mask_address(value)
    return _star_digits(value, 1, 1)


def _mask_address(value: str) -> str:
    """Keep the street type and name, hide numbers, floor and door ('Calle Mayor **, *º*')."""
    return re.sub(r"\d", STAR, re.sub(r"(\d\s*[º°ª]\s*-?\s*)[A-Za-z]\b", r"\1" + STAR, value))


def _mask_url_credentials(value: str) -> str:
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1" + STAR * 8 + "@", value)


def identifier_spans(text: str, contact_points: tuple[str, ...] = ()) -> list[Evidence]:
    """Where `mask_text` would mask, in text order: a caller that cuts a text into pieces
    (the web page's evidence highlights) keeps every cut outside these spans, so each piece
    masked on its own still hides whole identifiers."""
    if not text:
        return []
    secrets = [e for e in find_secrets(text) if e.reason not in _NOTHING_TO_HIDE]
    return without_overlaps([*secrets, *find_pii(text, contact_points)])


def mask_text(text: str, contact_points: tuple[str, ...] = ()) -> str:
    """text with every personal identifier and secret replaced by its masked form.

    Safe on any string (None-like empty input returns as is); the brand's public contact
    points, which are not personal data, stay readable when given.
    """
    if not text:
        return text
    found = identifier_spans(text, contact_points)
    if not found:
        return text
    parts: list[str] = []
    position = 0
    for evidence in found:
        parts.append(text[position:evidence.start])
        parts.append(mask_value(evidence.text, evidence.reason))
        position = evidence.end
    parts.append(text[position:])
    return "".join(parts)
