"""Where a post names the brand (or a competitor): the one brand finder every classifier uses.

The windows of a long article (`classifiers.windows`), the targets of judgements (sentiment,
policy, complaint, via `mentions`), the brand @handle a complaint is addressed to, and the
brand position employee patterns are anchored on (`classifiers.employee`) all find names
here. A name matches whatever its case and accents ("calderix" finds "CALDÉRIX"), as a whole
word, bare or as a @handle or #hashtag ("@calderix", "#Calderix"), but not inside an email
address or a domain ("prensa@calderix.es", "calderix.es/tarifas"), which name a contact or a
link rather than the brand. Offsets are characters of the analysed text, so they serve raw
text (before it is tokenised) and Docs alike.

On a Doc the mentions are computed once and kept on the `doc._.vigia_mentions` extension.
Speed: a profile's patterns are looked up by the profile's identity (profiles are immutable
and shared; hashing one costs more than the look-up), and the competitors' pattern, which
most posts do not match, runs only after a quick case-sensitive search of the lower-cased
text for their names says it can match (`_may_name`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from spacy.tokens import Doc

from classifiers.context import (
    BrandProfile,
    accent_insensitive,
    doc_text,
    extension_key,
    lowered_for_gates,
)
from classifiers.termlists import TermHit
from monitor.core.textfold import fold

if not Doc.has_extension("vigia_mentions"):
    Doc.set_extension("vigia_mentions", default=None)
_MENTIONS_KEY = extension_key("vigia_mentions")


@lru_cache(maxsize=1024)
def names_regex(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case- and accent-insensitive alternation of the names (longest first), each bare or
    as a @handle/#hashtag, whole words only; None when there are no names."""
    sources = sorted({accent_insensitive(n) for n in names if n.strip()}, key=len, reverse=True)
    if not sources:
        return None
    return re.compile(r"(?<![\w@#.])[@#]?(?:" + "|".join(sources) + r")(?!\w|[.@/]\w)",
                      re.IGNORECASE)


@lru_cache(maxsize=1024)
def _anywhere(names: tuple[str, ...]) -> re.Pattern[str] | None:
    sources = sorted({accent_insensitive(n) for n in names if n.strip()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(sources) + r")(?!\w)", re.IGNORECASE) \
        if sources else None


def names_anywhere(text: str, names: tuple[str, ...]) -> bool:
    """Does the text name one of them at all, in a domain or an address too
    ("intranet.calderix.local")? Looser than `find_names`: whether a post is about the brand,
    not where the brand is."""
    pattern = _anywhere(names)
    return pattern is not None and pattern.search(text) is not None


def find_names(text: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, end) of each occurrence of the names, leftmost-longest, in text order."""
    pattern = names_regex(names)
    return [m.span() for m in pattern.finditer(text)] if pattern is not None else []


def name_ends(text: str, names: tuple[str, ...]) -> dict[int, set[int]]:
    """start → every end at which one of the names ends there ("Calderix es…" is both the
    name "calderix" and the domain-derived term "calderix es"): patterns anchored on the name
    try each reading."""
    found: dict[int, set[int]] = {}
    for name in names:
        for start, end in find_names(text, (name,)):
            found.setdefault(start, set()).add(end)
    return found


def _competitor_names(profile: BrandProfile) -> tuple[str, ...]:
    return tuple(c for c in (" ".join(fold(n).split()) for n in profile.competitors) if c)


@lru_cache(maxsize=256)
def brand_names(profile: BrandProfile) -> tuple[str, ...]:
    """The names the brand goes by (`BrandProfile.terms`), minus its competitors' names."""
    competitors = set(_competitor_names(profile))
    return tuple(t for t in profile.terms if t not in competitors)


@lru_cache(maxsize=1024)
def _gate(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """The names as `names_regex` spells them, without its look-arounds, case-sensitive, for
    lower-cased text: a match of `names_regex` holds a match of this in the lower-cased
    text. None (no gate) unless every name is ASCII once folded: an ASCII letter (or an
    accented variant of one) matches only its own case forms, besides the characters that
    make `lowered_for_gates` refuse the text."""
    sources = sorted({accent_insensitive(n) for n in names if n.strip()}, key=len, reverse=True)
    if not sources or not all(n.isascii() for n in names):
        return None
    return re.compile("|".join(sources))


def _may_name(text: str, gate: re.Pattern[str] | None) -> bool:
    """False only when the names behind `gate` certainly do not occur in text."""
    if gate is None:
        return True
    lowered = lowered_for_gates(text)
    return lowered is None or gate.search(lowered) is not None


class _Patterns(NamedTuple):
    profile: BrandProfile  # kept so that its id is not reused while cached
    brand: re.Pattern[str] | None
    competitor: re.Pattern[str] | None
    competitor_gate: re.Pattern[str] | None


_PATTERNS: dict[int, _Patterns] = {}
MAX_CACHED_PROFILES = 1024


def _patterns(profile: BrandProfile) -> _Patterns:
    """The profile's brand and competitor patterns, by the profile's identity."""
    found = _PATTERNS.get(id(profile))
    if found is None or found.profile is not profile:
        competitors = _competitor_names(profile)
        found = _Patterns(profile, names_regex(brand_names(profile)), names_regex(competitors),
                          _gate(competitors))
        if len(_PATTERNS) >= MAX_CACHED_PROFILES:
            _PATTERNS.clear()
        _PATTERNS[id(profile)] = found
    return found


def find_mentions(text: str, profile: BrandProfile) -> list[TermHit]:
    """Brand ("brand") and competitor ("competitor") mentions in text order."""
    patterns = _patterns(profile)
    hits = [] if patterns.brand is None else [
        TermHit(m.start(), m.end(), m.group(), "brand") for m in patterns.brand.finditer(text)]
    if patterns.competitor is not None and _may_name(text, patterns.competitor_gate):
        hits += [TermHit(m.start(), m.end(), m.group(), "competitor")
                 for m in patterns.competitor.finditer(text)]
    return sorted(hits)


def mentions(doc: Doc, profile: BrandProfile | None) -> list[TermHit]:
    """Brand and competitor mentions of the Doc in text order (none without a profile),
    computed once per Doc and profile (`doc._.vigia_mentions`)."""
    if profile is None:
        return []
    cached = doc.user_data.get(_MENTIONS_KEY)
    if cached is not None and cached[0] is profile:
        return cached[1]  # type: ignore[no-any-return]
    found = find_mentions(doc_text(doc), profile)
    doc.user_data[_MENTIONS_KEY] = (profile, found)
    return found


def addressed(doc: Doc, profile: BrandProfile | None) -> list[TermHit]:
    """The brand's mentions written as a @handle ("@calderix"): the post speaks to it."""
    return [m for m in mentions(doc, profile) if m.label == "brand" and m.text.startswith("@")]
