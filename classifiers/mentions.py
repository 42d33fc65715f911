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
text for their names says it can match (`_gate`); the brand's, which most posts do match,
is tried only where a plain-letter run of a name is found in that text (`_anchors`).
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


MIN_ANCHOR = 2  # characters: a one-letter anchor ("r", "x") would stop at every word


@lru_cache(maxsize=1024)
def _anchors(names: tuple[str, ...]) -> tuple[tuple[str, int], ...] | None:
    """For each name, the longest run of its first word that `names_regex` spells with
    plain characters ("ld" in "c[aá…]ld[eé…]r[ií…]x"), and where it starts in the name:
    found with `str.find` in the lower-cased text, it says where a mention can start.
    None (no anchors) unless every name is ASCII once folded (see `_gate`) and has a run of
    MIN_ANCHOR characters or more."""
    found = []
    for name in names:
        if not name.strip():
            continue
        if not name.isascii():
            return None
        first = name.split()[0]
        plain = [accent_insensitive(char) == re.escape(char) for char in first]
        best, best_start, start = "", 0, 0
        for index in range(len(first) + 1):
            if index == len(first) or not plain[index]:
                if index - start > len(best):
                    best, best_start = first[start:index], start
                start = index + 1
        if len(best) < MIN_ANCHOR:
            return None
        found.append((best, best_start))
    return tuple(found) or None


def _scan(pattern: re.Pattern[str], anchors: tuple[tuple[str, int], ...] | None, text: str,
          lowered: str | None) -> list[re.Match[str]]:
    """`pattern.finditer(text)`, as a list. With anchors (and a text `lowered_for_gates`
    reads, whose offsets are the text's), the pattern is only tried where an anchor puts
    the start of a name (or of its '@'/'#'), in order, never inside the previous match:
    the same matches, without running the look-behind at every character."""
    if anchors is None or lowered is None:
        return list(pattern.finditer(text))
    starts = set()
    for run, offset in anchors:
        found = lowered.find(run)
        while found >= 0:
            start = found - offset
            if start >= 0:
                starts.add(start)
                if start and lowered[start - 1] in "@#":
                    starts.add(start - 1)
            found = lowered.find(run, found + 1)
    matches = []
    done = 0
    for start in sorted(starts):
        if start >= done and (match := pattern.match(text, start)) is not None:
            matches.append(match)
            done = match.end()
    return matches


class _Patterns(NamedTuple):
    profile: BrandProfile  # kept so that its id is not reused while cached
    brand: re.Pattern[str] | None
    brand_anchors: tuple[tuple[str, int], ...] | None
    competitor: re.Pattern[str] | None
    competitor_gate: re.Pattern[str] | None


_PATTERNS: dict[int, _Patterns] = {}
MAX_CACHED_PROFILES = 1024


def _patterns(profile: BrandProfile) -> _Patterns:
    """The profile's brand and competitor patterns, by the profile's identity."""
    found = _PATTERNS.get(id(profile))
    if found is None or found.profile is not profile:
        brands, competitors = brand_names(profile), _competitor_names(profile)
        found = _Patterns(profile, names_regex(brands), _anchors(brands),
                          names_regex(competitors), _gate(competitors))
        if len(_PATTERNS) >= MAX_CACHED_PROFILES:
            _PATTERNS.clear()
        _PATTERNS[id(profile)] = found
    return found


def find_mentions(text: str, profile: BrandProfile) -> list[TermHit]:
    """Brand ("brand") and competitor ("competitor") mentions in text order."""
    patterns = _patterns(profile)
    lowered = lowered_for_gates(text)
    hits = [] if patterns.brand is None else [
        TermHit(m.start(), m.end(), m.group(), "brand")
        for m in _scan(patterns.brand, patterns.brand_anchors, text, lowered)]
    gate = patterns.competitor_gate
    if patterns.competitor is not None and (
            gate is None or lowered is None or gate.search(lowered) is not None):
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
