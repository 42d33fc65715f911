"""Personal data in a post: identifiers that let someone be found, charged or impersonated.

Every number is validated before it counts, so prices, dates, order references and typos are
not reported: Spanish DNI/NIE by their control letter, IBANs by ISO 7064 mod 97, Spanish bank
account codes (CCC) by their two check digits, card numbers by Luhn plus a known issuer
prefix (all with python-stdnum), and phone numbers by Google's libphonenumber metadata (the
`phonenumbers` port; Spanish numbers without a prefix, international ones with `+`/`00`).

What is *not* personal data: an IBAN or card number offered as an example ("en la captura
de ejemplo he puesto el típico ES91 2100 …", `classifiers.leaks.examples`), the brand's own
published contact points (its helpline, press address…, `BrandProfile.contact_points`), role
mailboxes such as `info@`, `soporte@` or `noreply@`, which name a function, not a person,
documentation domains (`example.com`), and freephone / premium / shared-cost numbers (900,
902, 800…), which belong to businesses.

Context rules, for things with no checksum: a home address is a street with a number plus a
floor/door ("3ºB", "2º izda"), a personal or delivery cue before it ("vivo en", "my address",
"ship to") or a person's full name and a comma ("Pilar Romero Díaz, calle Fuentecilla 12");
a passport number needs the word passport nearby; a customer/account/contract number counts
when a person's name (two or more capitalised words) is close to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import phonenumbers
from stdnum import iban, luhn
from stdnum.es import ccc, dni, nie

from classifiers.hints import HintIndex, any_of
from classifiers.leaks.examples import offered_as_example
from classifiers.leaks.spans import without_overlaps
from classifiers.tags import Evidence
from monitor.core.textfold import fold

# ---------------------------------------------------------------- patterns
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]+)"
    r"(?![\w-])"
)
# What every address has around its '@' (the last local-part and the first domain character).
_EMAIL_AT = re.compile(r"[\w.+-]@[A-Za-z0-9-]")
_DNI = re.compile(r"(?<![\w/.-])(\d{7,8}|\d{1,2}\.\d{3}\.\d{3})[ -]?([A-Za-z])(?![\w-])")
_NIE = re.compile(r"(?<![\w/-])([XYZxyz])[ -]?(\d{7})[ -]?([A-Za-z])(?![\w-])")
_IBAN = re.compile(
    r"(?<![\w-])[A-Z]{2}\d{2}(?:[A-Z0-9]{10,30}|(?:[ -][A-Z0-9]{4}){2,7}(?:[ -][A-Z0-9]{1,4})?)"
    r"(?![\w-])"
)
_CCC = re.compile(r"(?<![\w-])\d{4}[ -]?\d{4}[ -]?\d{2}[ -]?\d{10}(?![\w-])")
_CARD = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){12,18}(?![\w-]|[.,]\d)")
# How card numbers are written: unbroken, in fours (4-4-4-4[-3]), or Amex/Diners 4-6-5 / 4-6-4.
_CARD_SHAPE = re.compile(r"\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|"
                         r"\d{4}([ -])\d{6}\2\d{4,5}")
# The start of an IBAN whose checksum failed: its digits are not a card number either.
_IBAN_HEAD = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?:[ -][A-Z0-9]{4})*[ -]$")
# Enough digits for a phone number (7+), so libphonenumber only runs where one can be.
_PHONE_HINT = re.compile(r"\d(?:[\s().-]{0,3}\d){6,}")
# A national number as written: digits with single spaces, dots, dashes or a bracketed area code.
_PHONE_RUN = re.compile(r"(?<![\w+])\(?\d{2,5}\)?(?:[ .-]?\d{2,4}){2,4}(?!\w)")
_DIGIT = re.compile(r"\d")
# A chunk of text with a letter in it ("hunter2", "4G", "Cx-Oficina#7781"), up to a space or ':'.
_LETTER_WORD = re.compile(r"[^\s:]*[^\W\d_][^\s:]*")
# Freephone, premium-rate and shared-cost numbers (900, 902, 800…) belong to businesses.
_BUSINESS_NUMBER_TYPES = frozenset({
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN,
})
_PHONE_CUE = re.compile(
    r"\b(?:phone|number|call|tel[eé]fono|tel|tlf|tfno|m[oó]vil|mobile|cell|whats\w*|llam\w+|"
    r"n[uú]mero|contact\w*)\b", re.IGNORECASE)
_OTHER_REGIONS = ("US", "GB", "MX", "AR", "CO", "CL", "PE", "FR", "DE", "IT", "PT", "IL", "JP",
                  "CN", "IN")
_PASSPORT = re.compile(r"(?<![\w-])[A-Za-z]{3}\d{6}(?![\w-])")
_PASSPORT_CUE = re.compile(r"pasaporte|passport", re.IGNORECASE)
# Issuer prefix (IIN) → lengths in use: UATP, Diners, Amex, JCB, Visa, Mastercard (2-series
# and 51-55), Maestro, Discover/UnionPay. The Luhn check then does the real work.
_CARD_ISSUERS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = tuple(
    (re.compile(prefix), frozenset(lengths)) for prefix, lengths in (
        (r"1", (15,)),
        (r"3(?:0[0-5]|[689])", (14, 16, 19)),
        (r"3[47]", (15,)),
        (r"35", (16, 17, 18, 19)),
        (r"4", (13, 16, 19)),
        (r"2(?:2[2-9]|[3-6]\d|7[01]|720)|5[1-5]", (16,)),
        (r"5[06-9]|6", (12, 13, 14, 15, 16, 17, 18, 19)),
    )
)
_STREET = re.compile(
    r"(?<!\w)(?:c/|calle|avda\.?|av\.|avenida|plaza|pza\.?|paseo|p[º°]|camino|carretera|"
    r"ctra\.?|ronda|traves[ií]a|glorieta|urbanizaci[oó]n|urb\.)"
    r"\s+(?:(?:de|del|la|las|los|el)\s+)*[A-ZÁÉÍÓÚÑ\d][\w'.-]*(?:\s+(?:de|del|la|las|los|el)?\s*"
    r"[A-ZÁÉÍÓÚÑ][\w'.-]*){0,3},?\s*(?:n[º°o]\.?\s*)?\d{1,4}(?![\d.,]\d)"
    r"(?:\s*,?\s*(?:\d{1,2}\s*[º°ª]\s*-?\s*(?:(?:izq(?:da|uierda)?|dcha|derecha)\.?|"
    r"[A-Za-z](?![a-z]))?|"
    r"(?:piso|planta|puerta|bajo|esc(?:alera)?\.?)\s*\w{1,3}))*",
    re.IGNORECASE,
)
_STREET_EN = re.compile(
    r"(?<![\w-])\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|"
    r"Dr|Boulevard|Blvd|Court|Ct|Place|Pl|Terrace|Way|Close|Crescent)\.?"
    r"(?:,?\s*(?:Apt|Apartment|Flat|Unit|Suite)\.?\s*#?\w+)?(?!\w)"
)
_FLOOR = re.compile(r"\d{1,2}\s*[º°ª]|\b(?:piso|planta|puerta|bajo|izq|izda|dcha|apt|apartment"
                    r"|flat|unit)\b", re.IGNORECASE)
_HOME_CUE = re.compile(
    r"\b(?:vivo|vive|viven|vivimos|mi casa|su casa|domicilio|direcci[oó]n|residencia|"
    r"empadronad[oa]|live[sd]?|living|home|address|house|"
    r"ship(?:ped|ping)?|deliver(?:ed|y)?|send|env[ií](?:adlo|ad|o|e|ar|amelo)|"
    r"mand(?:adlo|ad|ar|amelo)|entrega)\b",
    re.IGNORECASE,
)
_ACCOUNT = re.compile(
    r"\b(?:cliente|cuenta|contrato|p[oó]liza|abonado|customer|account|contract|policy|client|"
    r"member(?:ship)?)"
    r"(?:\s+(?:n[º°o]\.?|n[uú]m(?:ero)?\.?|number|no\.|#|id))?\s*[:#]?\s*"
    r"(?P<value>[A-Z]{0,4}-?\d{5,14})(?![\w-])",
    re.IGNORECASE,
)
# Substrings (of the lower-cased text) or a cheap pattern without which a rule cannot match:
# they spare most posts the big case-insensitive regexes.
_STREET_HINTS = ("calle", "c/", "avda", "av.", "avenida", "plaza", "pza", "paseo", "pº", "p°",
                 "camino", "carretera", "ctra", "ronda", "traves", "glorieta", "urb")
_STREET_EN_HINT = re.compile(r"\d\s+[A-Z][a-z]+\s")
_ACCOUNT_HINTS = ("client", "cuenta", "contrato", "liza", "abonado", "customer", "account",
                  "contract", "policy", "member")
_PASSPORT_HINTS = ("pasaporte", "passport")
# Every lower-case hint of this module, found in one scan (`classifiers.hints`); the leak
# component scans once for the hints of all three detectors and passes what it found.
HINTS = (*_STREET_HINTS, *_ACCOUNT_HINTS, *_PASSPORT_HINTS)
_HINTS = HintIndex(HINTS)
_STREET_SET, _ACCOUNT_SET, _PASSPORT_SET = (
    frozenset(hints) for hints in (_STREET_HINTS, _ACCOUNT_HINTS, _PASSPORT_HINTS)
)
# A street address right after a person's full name and a comma ("Pilar Romero Díaz, calle
# Fuentecilla 12") is where that person lives, unless the words around say it is a business.
_BUSINESS_CUE = re.compile(
    r"\b(?:tienda|store|shop|oficina|office|sede|local|centro|restaurante|bar|hotel|"
    r"sucursal|branch|abrimos|abre|cierra|closing|opening|inaugura\w*)\b",
    re.IGNORECASE,
)
_PERSON_NAME = re.compile(
    r"(?<![\w@#])[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+(?:\s+(?:de\s+(?:la\s+)?|del\s+)?[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+)+"
)
_NAME_THEN_COMMA = re.compile(_PERSON_NAME.pattern + r",\s*$")
_ACCOUNT_NAME_WINDOW = 80
# Domains reserved for documentation and tests (RFC 2606 / RFC 6761): nobody's mailbox.
_RESERVED_DOMAIN = re.compile(r"(?:^|\.)example\.(?:com|org|net)$|\.(?:test|example|invalid|"
                              r"localhost)$")
_ZERO_NUMBER = re.compile(r"(?<![\d])0+(?!\d)")
_ROLE_MAILBOXES = frozenset(
    re.split(r"\s+", """info informacion contact contacto hello hola help ayuda support soporte
    prensa press
    media comunicacion communications atencion atencionalcliente cliente clientes customer customers
    customerservice service servicio sac noreply no-reply donotreply do-not-reply admin
    webmaster postmaster abuse privacy privacidad dpo legal sales ventas comercial billing
    facturacion rrhh hr jobs empleo careers marketing newsletter notifications notificaciones
    team equipo office oficina reservas bookings pedidos orders""".strip())
)


# ---------------------------------------------------------------- contact points
class ContactPoints:
    """The brand's public numbers and addresses, normalised for comparison."""

    def __init__(self, points: Iterable[str] = ()) -> None:
        self.emails: set[str] = set()
        self.mailbox_prefixes: set[str] = set()
        self.numbers: set[str] = set()
        for raw in points:
            point = fold(raw.strip())
            if "@" in point:
                local, _, domain = point.partition("@")
                if domain:
                    self.emails.add(point)
                else:
                    self.mailbox_prefixes.add(local + "@")
            else:
                digits = re.sub(r"\D", "", point)
                if digits:
                    self.numbers.add(_national_digits(point) or digits)

    def has_email(self, email: str) -> bool:
        email = fold(email)
        return email in self.emails or any(email.startswith(p) for p in self.mailbox_prefixes)

    def has_number(self, number: str) -> bool:
        return bool(self.numbers) and (_national_digits(number) or "") in self.numbers


def _national_digits(text: str) -> str | None:
    """'+34 910 48 22 00' / '910482200' → '910482200' (None when it is no phone number)."""
    try:
        parsed = phonenumbers.parse(text, "ES")
    except phonenumbers.NumberParseException:
        return None
    return str(parsed.national_number)


@lru_cache(maxsize=256)
def contact_points(points: tuple[str, ...]) -> ContactPoints:
    """ContactPoints for a brand, built once per distinct tuple of settings values."""
    return ContactPoints(points)


# ---------------------------------------------------------------- detectors
def _compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value)


def _may_have_email(text: str) -> bool:
    """Is some '@' between a local-part character and a domain character? Most '@' in
    posts start a handle ("@calderix"), and this spares those posts the address regex."""
    at = text.find("@", 1)
    while at != -1:
        if _EMAIL_AT.match(text, at - 1):
            return True
        at = text.find("@", at + 1)
    return False


def _emails(text: str, points: ContactPoints) -> Iterator[Evidence]:
    if not _may_have_email(text):
        return
    for match in _EMAIL.finditer(text):
        value = match.group()
        local = fold(value.split("@", 1)[0])
        domain = value.rsplit("@", 1)[1].lower()
        if (points.has_email(value) or local.split("+")[0] in _ROLE_MAILBOXES
                or _RESERVED_DOMAIN.search(domain)):
            continue
        yield Evidence(match.start(), match.end(), value, "pii:email")


def _national_ids(text: str) -> Iterator[Evidence]:
    for match in _DNI.finditer(text):
        number, letter = match.groups()
        if dni.is_valid(number.replace(".", "").zfill(8) + letter):  # "12.345.678-Z" too
            yield Evidence(match.start(), match.end(), match.group(), "pii:dni")
    for match in _NIE.finditer(text):
        if nie.is_valid("".join(match.groups())):
            yield Evidence(match.start(), match.end(), match.group(), "pii:nie")


def _ibans(text: str) -> Iterator[Evidence]:
    position = 0
    while (match := _IBAN.search(text, position)) is not None:
        valid_end = _valid_iban_end(text, match.start(), match.group())
        if valid_end is None:
            position = match.start() + 1
            continue
        if not offered_as_example(text, match.start()):
            yield Evidence(match.start(), valid_end, text[match.start():valid_end], "pii:iban")
        position = valid_end  # the next IBAN may start in what the grouped pattern swallowed


def _valid_iban_end(text: str, start: int, value: str) -> int | None:
    """End of the longest valid IBAN that the candidate starts with: a grouped IBAN may
    swallow what follows it (a word, another IBAN), so it is shrunk group by group."""
    while value:
        # ISO 13616 structure and mod-97 check digits; national BBAN checks are skipped,
        # as the published test IBANs of several countries fail them.
        if iban.is_valid(value, check_country=False):
            return start + len(value)
        cut = max(value.rfind(" "), value.rfind("-"))
        if cut <= 4:
            return None
        value = value[:cut]
    return None


def _bank_accounts(text: str) -> Iterator[Evidence]:
    for match in _CCC.finditer(text):
        if ccc.is_valid(_compact(match.group())):
            yield Evidence(match.start(), match.end(), match.group(), "pii:bank_account")


def _card_issuer_known(digits: str) -> bool:
    return any(prefix.match(digits) and len(digits) in lengths
               for prefix, lengths in _CARD_ISSUERS)


def _cards(text: str) -> Iterator[Evidence]:
    for match in _CARD.finditer(text):
        digits = _compact(match.group())
        if (_card_issuer_known(digits) and luhn.is_valid(digits)
                and _CARD_SHAPE.fullmatch(match.group())
                and not _continues_invalid_iban(text, match.start())
                and not offered_as_example(text, match.start())):
            yield Evidence(match.start(), match.end(), match.group(), "pii:card")


def _continues_invalid_iban(text: str, start: int) -> bool:
    """True when the digits at start follow the head of an IBAN that failed its checksum."""
    head = _IBAN_HEAD.search(text, max(0, start - 40), start)
    return head is not None and not iban.is_valid(head.group().strip(" -"), check_country=False)


def _glued(text: str, start: int, end: int) -> bool:
    """True when the span is part of a longer code (letters, '-', '/' or '_' attached)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before.isalnum() or before in "-_/#" or after.isalnum() or after in "-_/"


def _blanked(text: str, spans: Iterable[Evidence]) -> str:
    """text with the given spans replaced by spaces (same length, so offsets still hold)."""
    for span in spans:
        text = text[:span.start] + " " * (span.end - span.start) + text[span.end:]
    return text


def _phones(text: str, points: ContactPoints) -> Iterator[Evidence]:
    """Spanish numbers as written at home, international ones with '+'/'00' (libphonenumber's
    matcher, region ES); when the post talks about a phone number, each digit run the matcher
    left is also tried as a national number of the other regions users meet."""
    if not _PHONE_HINT.search(text):
        return
    # Chunks with letters blanked out, offsets kept: their digits would
    # otherwise be read as the start of the next number and spoil it.
    digits_only = _LETTER_WORD.sub(lambda m: " " * len(m.group()), text)
    seen: list[tuple[int, int]] = []
    matcher = phonenumbers.PhoneNumberMatcher(digits_only, "ES",
                                              leniency=phonenumbers.Leniency.VALID)
    spanish = list(matcher)
    candidates = [(m.start, m.end, m.raw_string) for m in spanish
                  if phonenumbers.number_type(m.number) not in _BUSINESS_NUMBER_TYPES]
    if _PHONE_CUE.search(text):  # digit runs no Spanish reading claimed, business ones included
        claimed = [(m.start, m.end, m.raw_string) for m in spanish]
        candidates += _other_region_numbers(digits_only, claimed)
    for start, end, raw in candidates:
        if _glued(text, start, end) or any(start < e and s < end for s, e in seen):
            continue  # "CXR-2024-558103" is a reference code, not a phone number
        seen.append((start, end))
        if not points.has_number(raw):
            yield Evidence(start, end, raw, "pii:phone")


def _other_region_numbers(
    text: str, found: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Digit runs the Spanish pass did not claim that are valid numbers of another region."""
    extra = []
    for run in _PHONE_RUN.finditer(text):
        if any(run.start() < end and start < run.end() for start, end, _ in found):
            continue
        if not 8 <= sum(ch.isdigit() for ch in run.group()) <= 12:
            continue  # national numbers are 8-12 digits; longer runs are cards or accounts
        for region in _OTHER_REGIONS:
            try:
                number = phonenumbers.parse(run.group(), region)
            except phonenumbers.NumberParseException:
                break
            if phonenumbers.is_valid_number(number):  # the first region that reads it decides
                if phonenumbers.number_type(number) not in _BUSINESS_NUMBER_TYPES:
                    extra.append((run.start(), run.end(), run.group()))
                break
    return extra


def _passports(text: str) -> Iterator[Evidence]:
    if not _PASSPORT_CUE.search(text):
        return
    for match in _PASSPORT.finditer(text):
        yield Evidence(match.start(), match.end(), match.group(), "pii:passport")


def _addresses(text: str) -> Iterator[Evidence]:
    for pattern in (_STREET, _STREET_EN):
        for match in pattern.finditer(text):
            window = text[max(0, match.start() - 60):match.start()]
            if _ZERO_NUMBER.search(match.group()):
                continue  # "000 Business St": a template, not somebody's home
            if (_FLOOR.search(match.group()) or _HOME_CUE.search(window)
                    or (_NAME_THEN_COMMA.search(window) and not _BUSINESS_CUE.search(window))):
                yield Evidence(match.start(), match.end(), match.group().rstrip(", "),
                               "pii:address")


def _accounts(text: str) -> Iterator[Evidence]:
    for match in _ACCOUNT.finditer(text):
        start, end = match.span("value")
        around = text[max(0, start - _ACCOUNT_NAME_WINDOW):end + _ACCOUNT_NAME_WINDOW]
        if _PERSON_NAME.search(around.replace(match.group(), " ")):
            yield Evidence(start, end, match.group("value"), "pii:account")


def find_pii(text: str, contact_points_: Iterable[str] = (),
             hints: set[str] | None = None) -> list[Evidence]:
    """Every validated personal identifier in text, earliest first, without overlaps.

    Where two detections overlap (an IBAN's digits also look like a phone number) the longer,
    more specific one is kept.
    """
    points = contact_points(tuple(contact_points_))
    found: list[Evidence] = []
    found.extend(_emails(text, points))
    digit = _DIGIT.search(text)
    if digit is None:
        return found  # every other identifier has digits
    first = digit.start()  # the digit hints below cannot start before it
    if _PHONE_HINT.search(text, first):  # 7+ digits: what IDs, IBANs, cards and phones need
        found.extend(_ibans(text))
        found.extend(_national_ids(text))
        found.extend(_bank_accounts(text))
        found.extend(_cards(text))
        found.extend(_phones(_blanked(text, found), points))
    if hints is None:
        hints = _HINTS.found(text.lower())
    if any_of(hints, _PASSPORT_SET):
        found.extend(_passports(text))
    if any_of(hints, _STREET_SET) or _STREET_EN_HINT.search(text, first):
        found.extend(_addresses(text))
    if any_of(hints, _ACCOUNT_SET):
        found.extend(_accounts(text))
    return without_overlaps(found)
