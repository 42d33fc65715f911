"""Token patterns kept as data (`classifiers/patterns/*.jsonl`), for spaCy's `Matcher`.

Rules such as "trabajo en X" or "I work at X" are spaCy Matcher patterns (JSON lists of token
dicts) in data files, one pattern per line, so a reader can see, correct or extend them
without touching Python (DESIGN.md: lexicons and pattern lists are data, never code).

File format (UTF-8; blank lines and lines starting with `#` are ignored): one JSON object per
line with

* `label`: what a match means to the component reading the file ("self", "former", …);
* `pattern`: a spaCy Matcher pattern. A token `{"BRAND": true}` stands for the brand's name
  (found by `classifiers.mentions`, whatever the brand): the pattern is split there into the
  tokens that must end right before the name and those that must start right after it;
* `sentence_start` (optional): the match must start a sentence (`classifiers.sentences`);
* `or_end` (optional): the last token may also be the end of the text ("X staff here").

The cheap pre-filter of each pattern (`classifiers.hints`) is *derived* from it: the words of
its most selective required literal token (LOWER/ORTH/TEXT/NORM, a value or an `IN` list,
or a `REGEX` that is one plain word), lower-cased. A pattern that any text could match
without one of those words cannot exist, and a pattern with no required literal token is
refused on load: a new alternative can never lack its hint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

PATTERN_DIR = Path(str(resources.files("classifiers") / "patterns"))
BRAND = {"BRAND": True}
# Token attributes whose values are literal text (so a match means the text holds them).
_LITERAL_ATTRS = ("LOWER", "ORTH", "TEXT", "NORM")
_PLAIN = re.compile(r"[a-z0-9]+")
_REPEAT = re.compile(r"^\{(\d*),?(\d*)\}$")

Token = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TokenPattern:
    """One pattern line: its label and the Matcher patterns it splits into."""

    key: str  # "<file>:<line>", for error messages and Matcher rule names
    label: str
    before: tuple[Token, ...]  # tokens ending right before the brand (the whole pattern
    after: tuple[Token, ...]  # when `brand` is False); tokens starting right after it
    brand: bool
    sentence_start: bool
    or_end: bool
    hints: frozenset[str]
    # The spellings of every required literal token: a match holds one of each.
    required: tuple[frozenset[str], ...] = ()

    def tokens(self) -> list[Token]:
        return [*self.before, *((BRAND,) if self.brand else ()), *self.after]


def _required(token: Token) -> bool:
    """Must the token be there for the pattern to match (no `?`/`*`, no zero repeat)?"""
    op = token.get("OP")
    if op is None or op == "+":
        return True
    if op in ("?", "*", "!"):
        return False
    repeat = _REPEAT.match(op)
    return bool(repeat and repeat.group(1) and int(repeat.group(1)) > 0)


def max_length(tokens: tuple[Token, ...] | list[Token]) -> int | None:
    """The most tokens the pattern can cover (None when `+` or `*` make it unbounded)."""
    total = 0
    for token in tokens:
        op = token.get("OP")
        if op in ("+", "*"):
            return None
        repeat = _REPEAT.match(op) if op else None
        total += int(repeat.group(2) or repeat.group(1) or 0) if repeat else 1
    return total


def _literals(token: Token) -> list[str] | None:
    """The lower-cased literal spellings one of which the token must have, or None."""
    for attr in _LITERAL_ATTRS:
        value = token.get(attr)
        if isinstance(value, str):
            return [value.lower()]
        if isinstance(value, dict) and isinstance(value.get("IN"), list) and value["IN"]:
            return [str(v).lower() for v in value["IN"]]
        # A regular expression that is a plain word needs that word in the token.
        if isinstance(value, dict) and isinstance(value.get("REGEX"), str) \
                and _PLAIN.fullmatch(value["REGEX"]):
            return [value["REGEX"].lower()]
    return None


def required_spellings(token: Token) -> frozenset[str] | None:
    """The lower-cased spellings the token must have, when it is required and literal."""
    found = _literals(token) if _required(token) else None
    return frozenset(found) if found else None


def derived_hints(tokens: list[Token]) -> frozenset[str]:
    """The spellings of the pattern's most selective required literal token (the one whose
    shortest spelling is longest): every match holds one of them, lower-cased."""
    choices = [found for token in tokens if token != BRAND and _required(token)
               if (found := _literals(token))]
    if not choices:
        return frozenset()
    return frozenset(max(choices, key=lambda spellings: (min(map(len, spellings)),
                                                         -len(spellings))))


def _parse(path: Path, number: int, line: str) -> TokenPattern:
    where = f"{path.name}:{number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not a JSON object ({error.msg})") from None
    tokens = row.get("pattern") if isinstance(row, dict) else None
    label = row.get("label") if isinstance(row, dict) else None
    if not isinstance(label, str) or not label or not isinstance(tokens, list) or not tokens \
            or not all(isinstance(t, dict) for t in tokens):
        raise ValueError(f"{where}: needs a \"label\" and a \"pattern\" (a list of token dicts)")
    brands = [i for i, token in enumerate(tokens) if token == BRAND]
    if len(brands) > 1:
        raise ValueError(f"{where}: a pattern names the brand at most once")
    for token in tokens:
        lower = token.get("LOWER")
        spelled = [lower] if isinstance(lower, str) else (
            lower.get("IN", []) + lower.get("NOT_IN", []) if isinstance(lower, dict) else [])
        if any(str(value) != str(value).lower() for value in spelled):
            raise ValueError(f"{where}: LOWER values must be lower-case: {spelled}")
    hints = derived_hints(tokens)
    if not hints:
        raise ValueError(f"{where}: the pattern has no required word (LOWER/ORTH/TEXT/NORM) "
                         "to derive its hint from; add one")
    cut = brands[0] if brands else len(tokens)
    return TokenPattern(
        key=where, label=label, before=tuple(tokens[:cut]), after=tuple(tokens[cut + 1:]),
        brand=bool(brands), sentence_start=bool(row.get("sentence_start")),
        or_end=bool(row.get("or_end")), hints=hints,
        required=tuple(dict.fromkeys(
            found for token in tokens if token != BRAND
            if (found := required_spellings(token)) is not None)),
    )


def read_patterns(path: Path) -> list[TokenPattern]:
    """Every pattern of a pattern file; a malformed line names its file and line."""
    return [
        _parse(path, number, raw)
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
