"""Secrets in a post: passwords, API keys, tokens and credentials in URLs.

Three kinds of evidence, most specific first:

* **Known formats**: providers prefix their tokens so that scanners can find them (`sk_live_`,
  `AKIA`, `ghp_`, `xoxb-`, `glpat-`, `npm_`, …). The patterns follow the published formats (the
  same ones GitHub secret scanning and Yelp's detect-secrets use); a JWT must also decode to a
  JSON header and payload, so a random `eyJ…` string is not reported.
* **Passwords**: a password word ("contraseña", "clave", "password", "pwd", "PIN") followed by a
  value (`: x`, `= x`, `es x`, `is x`, or directly a value that looks like a password), plus
  credentials in URLs (`scheme://user:pass@host`) and credentials shown in a screenshot or photo
  ("captura … con la contraseña"). Placeholders (`****`, `<password>`, `${PASS}`, `changeme`,
  `xxxx-xxxx`) are not secrets, and neither is a value the sentence offers as an example
  ("for example, suppose your password is amazon21$", "p. ej. contraseña: Hola1234"): a
  tutorial or an article explaining passwords, not somebody's credentials.
* **Entropy**: a value assigned to a key-like name (`api_key=`, `TOKEN:`, `client_secret`) or to
  any name when long and random enough, scored by Shannon entropy per character, as
  detect-secrets does (hex ≥ 3.0, base64 ≥ 4.0 bits/char with the keyword; 4.5 without).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import NamedTuple

from classifiers.hints import HintIndex, any_of
from classifiers.leaks.examples import offered_as_example
from classifiers.leaks.spans import without_overlaps
from classifiers.tags import Evidence


class TokenFormat(NamedTuple):
    """A provider's token format: evidence reason, pattern and an optional extra check."""

    reason: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool] | None = None


def _jwt_is_valid(token: str) -> bool:
    """Header and payload are base64url-encoded JSON objects (signature not checked)."""
    parts = token.split(".")
    if len(parts) not in (2, 3):  # an unsigned JWT may drop the signature
        return False
    for part in parts[:2]:
        try:
            decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            if not isinstance(json.loads(decoded), dict):
                return False
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
    return True


_B = r"(?<![\w-])"  # token start: not inside a longer word
_E = r"(?![\w-])"
FORMATS: tuple[TokenFormat, ...] = (
    TokenFormat("secret:private_key",
                re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    TokenFormat("secret:jwt", re.compile(
        _B + r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?" + _E),
        _jwt_is_valid),
    TokenFormat("secret:stripe_key",
                re.compile(_B + r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,99}" + _E)),
    TokenFormat("secret:aws_key",
                re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}"
                           r"(?![A-Za-z0-9])")),
    TokenFormat("secret:github_token", re.compile(
        _B + r"(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,100})" + _E)),
    TokenFormat("secret:gitlab_token", re.compile(
        _B + r"(?:(?:glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_-]{20,50}|"
        r"GR1348941[A-Za-z0-9_-]{20,50}|glcbt-(?:[0-9a-fA-F]{1,5}_)?[A-Za-z0-9_-]{20,50}|"
        r"glimt-[A-Za-z0-9_-]{25}|glptt-[A-Za-z0-9_-]{40}|glagent-[A-Za-z0-9_-]{50,1024}|"
        r"gloas-[A-Za-z0-9_-]{64})" + _E)),
    TokenFormat("secret:slack_token", re.compile(
        _B + r"(?:xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+|"
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)"
        + _E, re.IGNORECASE)),
    TokenFormat("secret:discord_token", re.compile(
        _B + r"[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,38}" + _E)),
    TokenFormat("secret:openai_key", re.compile(
        _B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}" + _E)),
    TokenFormat("secret:google_api_key", re.compile(_B + r"AIza[0-9A-Za-z_-]{35}" + _E)),
    TokenFormat("secret:npm_token", re.compile(
        _B + r"npm_[A-Za-z0-9]{36}" + _E
        + r"|//registry\.npmjs\.org/:_authToken=\s*[A-Za-z0-9_-]{8,}")),
    TokenFormat("secret:pypi_token", re.compile(
        _B + r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{70,}")),
    TokenFormat("secret:sendgrid_key",
                re.compile(_B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _E)),
    TokenFormat("secret:mailchimp_key", re.compile(_B + r"[0-9a-f]{32}-us\d{1,2}" + _E)),
    TokenFormat("secret:telegram_token",
                re.compile(r"(?<![\w:])\d{8,10}:AA[0-9A-Za-z_-]{32,33}" + _E)),
    TokenFormat("secret:twilio_key", re.compile(_B + r"(?:AC|SK)[a-z0-9]{32}" + _E)),
    TokenFormat("secret:square_secret", re.compile(
        _B + r"(?:sq0csp-[0-9A-Za-z_-]{43}|sq0atp-[0-9A-Za-z_-]{22})" + _E)),
    TokenFormat("secret:azure_storage_key",
                re.compile(r"AccountKey=[A-Za-z0-9+/=]{88}")),
    TokenFormat("secret:artifactory_token", re.compile(
        r"(?:(?<=[\s=:\"'])|^)(?:AKC[A-Za-z0-9]{10,}|AP[\dA-F][A-Za-z0-9]{8,})" + _E),
        lambda token: not token.isupper() or any(c.isdigit() for c in token)),
)

# Literals every match of a format contains (its documented prefix): a format is searched
# for only in posts that have one of them, found for all formats in one scan. Formats absent
# here (Slack's are case-insensitive, Discord's have no fixed part) are always searched.
_FORMAT_HINTS: dict[str, tuple[str, ...]] = {
    "secret:private_key": ("-----BEGIN",),
    "secret:jwt": ("eyJ",),
    "secret:stripe_key": ("k_live_", "k_test_"),
    "secret:aws_key": ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
    "secret:github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "secret:gitlab_token": ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "GR1348941",
                            "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-"),
    "secret:openai_key": ("T3BlbkFJ",),
    "secret:google_api_key": ("AIza",),
    "secret:npm_token": ("npm_", "_authToken"),
    "secret:pypi_token": ("pypi-",),
    "secret:sendgrid_key": ("SG.",),
    "secret:mailchimp_key": ("-us",),
    "secret:telegram_token": (":AA",),
    "secret:twilio_key": ("AC", "SK"),
    "secret:square_secret": ("sq0csp-", "sq0atp-"),
    "secret:azure_storage_key": ("AccountKey=",),
    "secret:artifactory_token": ("AKC", "AP"),
}
_FORMAT_INDEX = HintIndex(hint for hints in _FORMAT_HINTS.values() for hint in hints)
_GATED_FORMATS = tuple(
    (frozenset(_FORMAT_HINTS[f.reason]) if f.reason in _FORMAT_HINTS else None, f)
    for f in FORMATS
)
_UNGATED = [f for hints, f in _GATED_FORMATS if hints is None]
# What a match of a format without such literals needs inside one token run (`_token_runs`:
# ASCII characters only, so lower-casing the run is exact): Slack's prefixes in any case,
# Discord's three parts (24 + 1 + 6 + 1 + 27 characters at least).
_RUN_NEEDS: dict[str, Callable[[str], bool]] = {
    "secret:slack_token": lambda run: any(
        word in run.lower() for word in ("xox", "xapp-", "hooks.slack.com")),
    "secret:discord_token": lambda run: len(run) >= 59,
}

_PASSWORD_WORD = (
    r"(?:contrase(?:ñ|n)a|clave(?:\s+(?:del?\s+)?(?:wi-?fi|acceso))?|password|passwd|passcode|pwd|pass|"
    r"pin|wi-?fi(?:\s+(?:key|password))?|mot\s+de\s+passe|otp|cvv|cvc|one[-\s]time\s+(?:code|password)|"
    r"c[oó]digo\s+(?:de\s+)?(?:verificaci[oó]n|seguridad|acceso)|(?:security|verification)\s+code)"
)
_AMBIGUOUS_WORDS = frozenset({"clave", "pass", "pin", "wifi", "wi-fi"})
_CODE_WORD = re.compile(r"pin|otp|cvv|cvc|.*\bcode|c[oó]digo.*", re.IGNORECASE)
_PASSWORD = re.compile(
    r"(?<![\w-])(?P<word>" + _PASSWORD_WORD + r")(?:\s+(?:del?|of|for)\s+[\w@.-]+)?"
    r"(?P<sep>\s*[:=]\s*|\s+(?:es|is|era|was)\s*:?\s*|\s+)"
    r"[\"'«“]?(?P<value>[^\s\"'»”]{3,64})",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(
    r"\b[a-z][a-z0-9+.-]{1,15}://(?P<user>[^\s:/@'\"]+):(?P<value>[^\s/@'\"]{3,})@[\w.-]+",
    re.IGNORECASE,
)
_CREDENTIAL_WORDS = (
    r"contrase(?:ñ|n)as?|claves?\s+(?:de\s+acceso|del?\s+wi-?fi)|passwords?|credenciales|"
    r"credentials|login|logins"
)
_PICTURE_WORDS = r"captura|pantallazo|screenshot|screen\s*shot|foto|photo|pic|p[oó]sit|post-?it"
_SCREENSHOT = re.compile(
    r"\b(?:" + _PICTURE_WORDS + r")\b[^.!?\n]{0,80}?\b(?:" + _CREDENTIAL_WORDS + r")\b|"
    r"\b(?:" + _CREDENTIAL_WORDS + r")\b[^.!?\n]{0,80}?\b(?:" + _PICTURE_WORDS + r")\b",
    re.IGNORECASE,
)
_KEY_NAME = r"[A-Za-z_][\w.-]{0,40}"
_ASSIGNMENT = re.compile(
    r"(?<![\w.-])(?P<name>" + _KEY_NAME + r")\s*(?P<sep>[:=])\s*[\"']?"
    r"(?P<value>[A-Za-z0-9+/_.=-]{16,200})"
)
# What every assignment has after its name: cheap to look for (no look-behind, a one-character
# start), so posts with none skip _ASSIGNMENT, which tries a name at every position.
_ASSIGNED_VALUE = re.compile(r"[:=]\s*[\"']?[A-Za-z0-9+/_.=-]{16}")
_SECRET_NAME = re.compile(
    r"key|token|secret|passw|pwd|auth|credential|bearer|api|private|session|cookie",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\bBearer\s+(?P<value>[A-Za-z0-9._~+/-]{20,}=*)")
_PLACEHOLDER = re.compile(
    r"^(?:(.)\1*|<.*>|\$\{.*\}|\$\w+|%s|\{\{.*\}\}|\[.*\]|"
    r"(?:your|tu|su|my|mi|the|new|nueva?)[_-]\w+|"
    r"(?:your|my|the)(?:password|passwd|pass|key|token|secret|apikey)\w*|changeme|password\d*|contrase(?:ñ|n)a|"
    r"secret|example\w*|test\w*|dummy\w*|fake\w*|insert\w*|none|null|true|false|undefined|"
    r"required|optional|hidden|oculta)$",
    re.IGNORECASE,
)
_PLAIN_WORD = re.compile(r"^[^\W\d_]+$")
# The word after a value, on the same line, and the function words that continue a sentence.
_NEXT_WORD = re.compile(r"[ \t]+([^\W\d_]+)")
_PROSE_WORDS = frozenset({
    "en", "de", "del", "la", "el", "los", "las", "un", "una", "al", "por", "para", "con", "sobre",
    "bajo", "detrás", "in", "on", "at", "the", "of", "from", "with", "under", "below", "behind",
    "inside",
})
_X_PLACEHOLDER = re.compile(r"^(?:[xX]{3,}[\W_]*)+$")  # "xxxx-xxxx", "XXXXXX"
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_./+=:-]{11,}")
# Substrings (of the lower-cased text) without which the password / screenshot rules cannot
# match: plain `in` checks are far cheaper than running those regexes on every post.
_PASSWORD_HINTS = ("contrase", "clave", "pass", "pwd", "pin", "wifi", "otp", "cvv", "cvc",
                   "code", "código", "codigo")
_CREDENTIAL_HINTS = ("contrase", "clave", "password", "credencial", "credential", "login")
# Every lower-case hint of this module, found in one scan (`classifiers.hints`); the leak
# component scans once for the hints of all three detectors and passes what it found.
HINTS = (*_PASSWORD_HINTS, *_CREDENTIAL_HINTS)
_HINTS = HintIndex(HINTS)
_PASSWORD_SET, _CREDENTIAL_SET = frozenset(_PASSWORD_HINTS), frozenset(_CREDENTIAL_HINTS)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
HEX_ENTROPY, BASE64_ENTROPY, BASE64_ENTROPY_NO_NAME = 3.0, 4.0, 4.5


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character of value's own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def looks_random(value: str, named: bool) -> bool:
    """True when value is long and random enough to be a key rather than a word or an id."""
    value = value.rstrip("=")
    if len(value) < 16 or not any(c.isdigit() for c in value) or not any(
        c.isalpha() for c in value
    ):
        return False
    if _HEX.match(value):
        return shannon_entropy(value) >= HEX_ENTROPY and len(value) >= 20
    limit = BASE64_ENTROPY if named else BASE64_ENTROPY_NO_NAME
    return shannon_entropy(value) >= limit


def _looks_like_password(value: str, separator: str, word: str) -> bool:
    """A password value after its separator: never a placeholder; the weaker the separator,
    the more the value must look like a password."""
    if _PLACEHOLDER.match(value) or _X_PLACEHOLDER.match(value):
        return False  # "****", "0000", "<password>", "changeme", "xxxx-xxxx"
    if "***" in value or "…" in value:
        return False  # already masked ("3011****G", "sk_live_…9f"): nothing left to leak
    if _CODE_WORD.fullmatch(word) and value.isdigit() and 3 <= len(value) <= 8:
        return True  # "OTP 198614", "CVV 789", "PIN 4821"
    if len(value) < 4 or "://" in value or value.lower().startswith("www."):
        return False
    if word.lower() in _AMBIGUOUS_WORDS:
        # "clave" is also "key/crucial", "pass" and "pin" everyday verbs and nouns: only an
        # explicit "clave: x" / "pass = x" whose value is not a plain word counts.
        return bool(separator.strip()) and not _PLAIN_WORD.match(value)
    if ":" in separator or "=" in separator:  # "password: x", "pwd=x"
        return True
    if separator.strip():  # "la contraseña es x": x must not be a plain word ("muy", "débil")
        return not _PLAIN_WORD.match(value)
    # "contraseña Cx-Oficina#7781": no separator, so require a password-like shape.
    return _password_shaped(value)


def _password_shaped(value: str) -> bool:
    """6+ characters mixing at least three of digits, capitals, lower case and symbols."""
    classes = sum((any(c.isdigit() for c in value), any(c.isupper() for c in value),
                   any(c.islower() for c in value), any(not c.isalnum() for c in value)))
    return len(value) >= 6 and classes >= 3 and "..." not in value


def _token_runs(text: str) -> list[tuple[int, int]]:
    """Where a token can be: runs of 11+ token characters that are not plain words.

    A hashtag-like "SinInternet" is letters only; tokens have digits or symbols, are in
    capitals (AKIA…) or carry a known letters-only prefix (Artifactory AP…/AKC…, Twilio
    SK…/AC…). Searching the ~20 format patterns only there (and in a run only those whose
    literals it holds), not over the whole post, keeps the component cheap on the posts
    that have none.
    """
    spans = []
    for match in _TOKEN_RUN.finditer(text):
        run = match.group()
        if not run.isalpha() or run.isupper() or run.startswith(("AP", "AKC", "SK", "AC")):
            spans.append(match.span())
    return spans


def _formats(text: str) -> Iterator[Evidence]:
    """Known token formats. Each is searched only inside the token runs that hold one of its
    literals (a match lies inside one run and contains one), or what `_RUN_NEEDS` asks."""
    if "-----BEGIN" in text or "_authToken" in text:
        # Formats that can span a space (PEM headers, "_authToken= value") need the whole
        # text, and every format whose literals the text has.
        present = _FORMAT_INDEX.found(text)
        yield from _format_matches(text, 0, len(text), [
            f for hints, f in _GATED_FORMATS if hints is None or not present.isdisjoint(hints)])
        return
    for start, end in _token_runs(text):
        run = text[start:end]
        present = _FORMAT_INDEX.found(run)
        formats = _UNGATED if not present else [
            f for hints, f in _GATED_FORMATS if hints is None or not present.isdisjoint(hints)]
        yield from _format_matches(text, start, end, [
            f for f in formats if f.reason not in _RUN_NEEDS or _RUN_NEEDS[f.reason](run)])


def _format_matches(text: str, start: int, end: int,
                    formats: list[TokenFormat]) -> Iterator[Evidence]:
    for token_format in formats:
        for match in token_format.pattern.finditer(text, start, end):
            value = match.group()
            if token_format.valid is None or token_format.valid(value):
                yield Evidence(match.start(), match.end(), value, token_format.reason)


def _passwords(text: str, hints: set[str] | None = None) -> Iterator[Evidence]:
    if hints is None:
        hints = _HINTS.found(text.lower())
    if any_of(hints, _PASSWORD_SET):
        yield from _password_values(text)
    if "://" in text and "@" in text:
        for match in _URL_CREDENTIALS.finditer(text):
            if not _PLACEHOLDER.match(match.group("value")) and not offered_as_example(
                    text, match.start()):
                yield Evidence(match.start(), match.end(), match.group(),
                               "secret:url_credentials")
    if any_of(hints, _CREDENTIAL_SET):
        for match in _SCREENSHOT.finditer(text):
            yield Evidence(match.start(), match.end(), match.group(),
                           "secret:credentials_image")


def _prose_after(text: str, value: str, end: int) -> bool:
    """Is a lower-case plain word after "contraseña:" the start of a sentence rather than a
    password? Prose goes on with a preposition or an article ("Usuario y contraseña: vienen
    en la etiqueta", "password: printed on the sticker"); a password is followed by the next
    field, a line break or the end."""
    if not (_PLAIN_WORD.match(value) and value.islower()):
        return False
    following = _NEXT_WORD.match(text, end)
    return following is not None and following.group(1).lower() in _PROSE_WORDS


def _password_values(text: str) -> Iterator[Evidence]:
    for match in _PASSWORD.finditer(text):
        value = match.group("value").rstrip(".,;:!?)")
        if _looks_like_password(value, match.group("sep"), match.group("word")) and (
                not offered_as_example(text, match.start())) and not (
                ":" in match.group("sep")
                and _prose_after(text, value, match.start("value") + len(value))):
            begin = match.start("value")
            yield Evidence(begin, begin + len(value), value, "secret:password")


def _high_entropy(text: str) -> Iterator[Evidence]:
    for match in _BEARER.finditer(text) if "earer" in text else ():
        if looks_random(match.group("value"), named=True):
            yield Evidence(match.start("value"), match.end("value"), match.group("value"),
                           "secret:bearer_token")
    if ("=" not in text and ":" not in text) or not _ASSIGNED_VALUE.search(text):
        return
    for match in _ASSIGNMENT.finditer(text):
        value = match.group("value").rstrip(".")  # a sentence's full stop is not the key's
        named = bool(_SECRET_NAME.search(match.group("name")))
        if not named and match.group("sep") != "=":
            continue  # "Ref: X" is prose; only "name=value" is assignment-like enough
        if looks_random(value, named) and not value.startswith(("http", "www.")):
            start = match.start("value")
            yield Evidence(start, start + len(value), value, "secret:high_entropy")


def find_secrets(text: str, hints: set[str] | None = None) -> list[Evidence]:
    """Every secret in text, earliest first; overlapping detections keep the longest."""
    found = [*_formats(text), *_passwords(text, hints), *_high_entropy(text)]
    return without_overlaps(found)
