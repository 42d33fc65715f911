"""Confidential company information in a post, judged against the brand's profile.

Evidence, strongest first:

* `confidential:codename`: one of the brand's internal codenames ("Proyecto Halcón", "Orca").
* `confidential:internal_link`: a link or host on the brand's internal domains, or on a private
  zone that never resolves publicly (`.local`, `.internal`, `.corp`, `.lan`, `intranet.*`).
* `confidential:marker`: the document says what it is ("confidencial", "uso interno",
  "internal only", "under NDA", "no lo compartáis", "do not share").
* `confidential:insider`: corporate news that is not public yet *told as insider knowledge*:
  an insider cue ("me acaban de contar en el curro", "internal all-hands", "documentos
  internos", "you didn't hear it from me", "staff here") in the same post as a material
  event (layoffs/ERE, a launch, results or targets, a merger or acquisition, a price change).
  A news item about an announced event has the event but no insider cue, so it is not a leak.
* `confidential:internal_document`: a screenshot, photo or copy of an internal document,
  email, chat or system ("captura del Slack interno", "leaked memo").

Markers, insider cues, events and documents are spaCy Matcher patterns in
`patterns/confidential.jsonl` (data, read by `classifiers.token_patterns`, which derives
each pattern's pre-filter from its words; their hint words are in the leak component's one
scan of the text, so most posts skip them), matched on the post's tokens; codenames and
internal domains come from the brand's profile, private hosts from one regex on the text.
General cues only: an industry's vocabulary ("la operadora") belongs to an industry pack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from spacy.tokens import Doc
from spacy.vocab import Vocab

from classifiers.context import (
    BrandProfile,
    doc_lowered,
    doc_text,
    may_have_terms,
    terms_regex,
)
from classifiers.hints import HintIndex, any_of
from classifiers.leaks.spans import without_overlaps
from classifiers.tags import Evidence
from classifiers.token_patterns import PATTERN_DIR, PatternMatchers, read_patterns

_PRIVATE_HOST = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:[a-z0-9-]+\.)*(?:intranet|extranet|internal|corp|wiki|jira|"
    r"confluence)\.[a-z0-9.-]+\.[a-z]{2,}(?:/[^\s]*)?|"
    r"(?<![\w.-])(?:https?://)?(?:[a-z0-9-]+\.)+(?:local|internal|corp|lan|intra|intranet|"
    r"private|localdomain|home\.arpa)(?![\w-])(?::\d+)?(?:/[^\s]*)?",
    re.IGNORECASE,
)
PATTERNS_FILE = PATTERN_DIR / "confidential.jsonl"
LABELS = ("marker", "insider", "event", "document")

# Substrings of the lower-cased text without which the private-host regex cannot match (a
# host is characters, not words: the token patterns above do not apply to it).
_PRIVATE_HOST_HINTS = ("intranet", "extranet", "internal", "corp", "wiki", "jira", "confluence",
                       ".local", ".lan", ".intra", ".private", "home.arpa")
_PATTERNS = read_patterns(PATTERNS_FILE)
# The words the patterns' REGEX tokens must contain (derived from them, see
# `classifiers.token_patterns`): found in the text, like the private-host hints.
_INSIDE_WORDS = sorted({w for p in _PATTERNS for r in p.required if not r.whole
                        for w in r.words})
# Every pattern's hint words: a post with none of them is a candidate for no pattern.
_HINT_WORDS = sorted({w for p in _PATTERNS for w in p.hints})
# The lower-case text hints of this module, for the leak component's shared scan
# (`classifiers.hints`), which passes what it found to `find_confidential`.
HINTS = (*_PRIVATE_HOST_HINTS, *_INSIDE_WORDS, *_HINT_WORDS)
_HINTS = HintIndex(HINTS)
_PRIVATE_HOST_SET = frozenset(_PRIVATE_HOST_HINTS)


class ConfidentialPatterns(PatternMatchers):
    """`patterns/confidential.jsonl` compiled for one vocabulary."""

    def __init__(self, vocab: Vocab) -> None:
        unknown = {p.label for p in _PATTERNS} - set(LABELS)
        if unknown:
            raise ValueError(f"{PATTERNS_FILE.name}: unknown labels {sorted(unknown)}")
        super().__init__(vocab, _PATTERNS)

    def spans(self, doc: Doc, candidates: list[int], label: str) -> list[tuple[int, int]]:
        """Token (start, end) of every match of the label's candidate patterns, sorted."""
        return sorted({span for index in candidates if self.patterns[index].label == label
                       for span in self.find(doc, index).get("before", [])})


@lru_cache(maxsize=16)
def patterns_for(vocab: Vocab) -> ConfidentialPatterns:
    """The compiled patterns of a pipeline's vocabulary (built once)."""
    return ConfidentialPatterns(vocab)


def _leftmost_longest(spans: list[tuple[int, int]]) -> tuple[int, int]:
    return min(spans, key=lambda span: (span[0], -span[1]))


def _shortest_per_start(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping, left to right, each the shortest match from its start (a copy of
    a document is named by its nearest words: "captura del Slack", not "… y del Teams")."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if kept and (start < kept[-1][1] or start == kept[-1][0]):
            continue
        kept.append((start, end))
    return kept


@lru_cache(maxsize=256)
def _internal_domains(domains: tuple[str, ...]) -> re.Pattern[str] | None:
    """Hosts on (or under) the brand's configured internal domains."""
    cleaned = [d.strip().lower().lstrip(".") for d in domains if d.strip()]
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(d) for d in sorted(cleaned, key=len, reverse=True))
    return re.compile(
        r"(?<![\w-])(?:https?://)?(?:[a-z0-9-]+\.)*(?:" + alternatives + r")(?![\w-])"
        r"(?::\d+)?(?:/[^\s]*)?",
        re.IGNORECASE,
    )


@lru_cache(maxsize=256)
def _lowered(domains: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(d.lower() for d in domains)


def _links(text: str, lowered: str, profile: BrandProfile | None,
           private_hint: bool) -> Iterator[Evidence]:
    configured = (
        _internal_domains(profile.internal_domains)
        if profile and any(map(lowered.__contains__, _lowered(profile.internal_domains)))
        else None
    )
    private = _PRIVATE_HOST if private_hint else None
    for pattern in (configured, private):
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            value = match.group().rstrip(".,;:!?)'\"")
            yield Evidence(match.start(), match.start() + len(value), value,
                           "confidential:internal_link")


def find_confidential(doc: Doc, profile: BrandProfile | None,
                      hints: set[str] | None = None) -> list[Evidence]:
    """Evidence that the Doc's text discloses the brand's confidential information (see
    module doc). `hints`: the leak component's shared scan of the lower-cased text."""
    found: list[Evidence] = []
    text = doc_text(doc)
    lowered, gates = doc_lowered(doc)
    if hints is None:
        hints = _HINTS.found(lowered)
    codenames = terms_regex(profile.codenames) if profile else None
    if codenames is not None and may_have_terms(gates, profile.codenames):
        found.extend(Evidence(m.start(), m.end(), m.group(), "confidential:codename")
                     for m in codenames.finditer(text))
    if "." in text:
        found.extend(_links(text, lowered, profile, any_of(hints, _PRIVATE_HOST_SET)))
    patterns = patterns_for(doc.vocab)
    candidates = patterns.candidates(doc, hints)
    if not candidates:
        return without_overlaps(found)
    labels = {patterns.patterns[i].label for i in candidates}

    def evidence(spans: list[tuple[int, int]], reason: str) -> list[Evidence]:
        return [Evidence(s.start_char, s.end_char, text[s.start_char:s.end_char], reason)
                for s in (doc[start:end] for start, end in spans)]

    if "marker" in labels:
        found.extend(evidence(patterns.spans(doc, candidates, "marker"), "confidential:marker"))
    if {"insider", "event"} <= labels:
        cues = patterns.spans(doc, candidates, "insider")
        events = patterns.spans(doc, candidates, "event") if cues else []
        if events:
            found.extend(evidence([_leftmost_longest(cues), _leftmost_longest(events)],
                                  "confidential:insider"))
    if "document" in labels:
        found.extend(evidence(_shortest_per_start(patterns.spans(doc, candidates, "document")),
                              "confidential:internal_document"))
    return without_overlaps(found)
