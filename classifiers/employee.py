"""The `vigia_employee` spaCy component: is an employee talking about work in public?

A comms team wants to know when staff post about the company, whatever the tone: a proud
anniversary, a complaint about the boss, a leaked launch. Four kinds of evidence, in Spanish
and English, all relative to the brand in `doc._.vigia_brand`:

* `employee:roster_author`: the post's author (`doc._.vigia_author`) is on the brand's roster,
  by handle or by name.
* `employee:self_identified`: the author says they work there: "trabajo en X", "mi jefe en X",
  "mi primer día en X", "compis de X", "en X estamos/llevamos…", "desde la oficina de X",
  "I work at X", "as an X engineer", "X staff here", "our team at X", "two years at X today",
  "como técnico de X", "Soy Lucía, de X", "Lucía from X sales here", "we at X",
  or a staff hashtag ("#XTeam", "#TeamX", "#SomosX", "#XFamily"). A relative ("mi cuñado
  trabaja en X") is not the author.
* `employee:former_staff`: the author used to work there: "trabajé dos años en el call
  center de X", "fui agente de X", "ex empleada de X", "I worked at X", "got laid off from
  X", "former X engineer". Departing and former staff speak from inside as much as staff do
  (their posts are what an HR team most wants to see), so they count; each pattern needs a
  work verb or a role, since a customer leaves a company too ("dejé X", "I quit X").
* `employee:staff_blog`: an article whose author is a staff-written outlet of the brand
  ("Acme Engineering", "Blog de ingeniería de Acme": the brand's name and a word of
  `patterns/staff_outlets.txt`) and that speaks in the first person plural ("we moved…",
  "hemos reescrito…"). The brand's plain blog or newsroom is corporate voice, not staff.
* `employee:insider_context`: in a post that names the brand, the author speaks in the first
  person of things only staff have: the intranet, the all-hands, overtime, the works council,
  "solo para el equipo".
* `employee:roster_mention`: the post names a rostered employee (name or handle), e.g. a
  customer thanking or insulting them, or the employee signing "— @handle".

Self-identification, former-staff, insider and first-person patterns are spaCy `Matcher`
patterns in `patterns/employee.jsonl` (data: `classifiers.token_patterns` says how they are
written), loaded once per pipeline; the brand's place in them is wherever
`classifiers.mentions` finds the brand's name, so one Matcher serves every brand. Staff
hashtag affixes are `patterns/staff_hashtags.txt`. The cheap pre-filter (which patterns a
post's words allow, `token_patterns.PatternMatchers.candidates`) is derived from the
patterns themselves.

An article (`doc._.vigia_article`: a news item or blog post, see `classifiers.context`)
names people: it quotes a rostered spokesperson, interviews the CTO. Naming someone on the
roster there is not a post *by* an employee, so in an article `roster_mention` counts only
when the author is rostered too, and a self-identification inside quotation marks belongs to
the quoted person, not the author.
"""

from __future__ import annotations

import bisect
import re
from functools import cached_property, lru_cache
from typing import NamedTuple

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.batching import BatchedComponent
from classifiers.context import (
    BrandProfile,
    add_tags,
    doc_author,
    doc_brand,
    doc_is_article,
    doc_lowered,
    doc_text,
    may_have_terms,
    terms_regex,
)
from classifiers.lexicons import read_terms
from classifiers.mentions import brand_names, name_ends, names_anywhere
from classifiers.sentences import ends_sentence
from classifiers.tags import Evidence, TagResult
from classifiers.termlists import doc_offsets, doc_orths
from classifiers.token_patterns import (
    PATTERN_DIR,
    PatternMatchers,
    TokenPattern,
    max_length,
    read_patterns,
    required_spellings,
)
from monitor.core.textfold import fold

MAX_EVIDENCE = 6
CONFIDENCE = {
    "employee:roster_author": 0.95,
    "employee:self_identified": 0.85,
    "employee:former_staff": 0.8,
    "employee:team_hashtag": 0.8,
    "employee:staff_blog": 0.8,
    "employee:insider_context": 0.7,
    "employee:roster_mention": 0.75,
}
PATTERNS_FILE = PATTERN_DIR / "employee.jsonl"
HASHTAGS_FILE = PATTERN_DIR / "staff_hashtags.txt"
OUTLETS_FILE = PATTERN_DIR / "staff_outlets.txt"
LABELS = ("self", "former", "insider", "first_person", "we")
# Quotation marks: what is between them in an article is someone else's voice.
_QUOTED = re.compile(r"[\"“«„][^\"“”«»„]{1,400}[\"”»]")


def _hashtag_affixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(prefixes, suffixes) of staff hashtags from the data file ("team*", "*team")."""
    prefixes, suffixes = [], []
    for raw in HASHTAGS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip().lower()
        if not line or line.startswith("#"):
            continue
        if line.endswith("*") and "*" not in line[:-1]:
            prefixes.append(line[:-1])
        elif line.startswith("*") and "*" not in line[1:]:
            suffixes.append(line[1:])
        else:
            raise ValueError(f"{HASHTAGS_FILE.name}: {raw!r} must be 'affix*' or '*affix'")
    return tuple(prefixes), tuple(suffixes)


_PREFIXES, _SUFFIXES = _hashtag_affixes()
STAFF_OUTLET_WORDS = read_terms(OUTLETS_FILE)  # folded: "ingeniería" also reads "ingenieria"
_WORDS = re.compile(r"[^\W_]+")


def _staff_outlet(author: str | None, names: tuple[str, ...]) -> bool:
    """Is the author a staff-written outlet of the brand: its name and an outlet word?"""
    return bool(author) and not STAFF_OUTLET_WORDS.isdisjoint(
        _WORDS.findall(fold(author))) and names_anywhere(author, names)


@lru_cache(maxsize=256)
def _hashtag_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Staff hashtags of a brand: #<prefix><brand> or #<brand><suffix>."""
    glued = sorted({re.escape("".join(t.split())) for t in terms if t.strip()}, key=len,
                   reverse=True)
    if not glued:
        return None
    names = "(?:" + "|".join(glued) + ")"
    prefixes = "|".join(map(re.escape, _PREFIXES)) or "(?!)"
    suffixes = "|".join(map(re.escape, _SUFFIXES)) or "(?!)"
    return re.compile(rf"#(?:(?:{prefixes}){names}|{names}(?:{suffixes}))(?!\w)", re.IGNORECASE)


class EmployeePatterns(PatternMatchers):
    """The pattern file compiled for one pipeline's vocabulary (`PatternMatchers`), with
    what anchoring its parts on the brand needs."""

    def __init__(self, nlp: Language, patterns: list[TokenPattern]) -> None:
        unknown = {p.label for p in patterns} - set(LABELS)
        if unknown:
            raise ValueError(f"{PATTERNS_FILE.name}: unknown labels {sorted(unknown)}")
        super().__init__(nlp.vocab, patterns)
        # How far before / after the brand each pattern's parts reach (tokens).
        self.reach = [(max_length(p.before), max_length(p.after)) for p in patterns]
        # The spellings the tokens touching the brand must have (None: any), checked before
        # a Matcher runs: "trabajo en X" needs "en" or "para" right before the name.
        self.touching = [
            (required_spellings(p.before[-1]) if p.before else None,
             required_spellings(p.after[0]) if p.after else None)
            for p in patterns
        ]

    def by_label(self, doc: Doc) -> dict[str, list[int]]:
        """label → the Doc's candidate patterns of that label (`PatternMatchers.candidates`)."""
        found: dict[str, list[int]] = {label: [] for label in LABELS}
        for index in self.candidates(doc):
            found[self.patterns[index].label].append(index)
        return found


def _token_span(offsets: list[int], start: int, end: int) -> tuple[int, int]:
    """The tokens covering characters [start, end): first token, one past the last."""
    return (bisect.bisect_right(offsets, start) - 1, bisect.bisect_left(offsets, end))


class _Reader:
    """One Doc's tokens, sentence starts and brand positions, for anchoring patterns."""

    def __init__(self, doc: Doc, text: str, names: tuple[str, ...]) -> None:
        self.doc, self.text = doc, text
        self.offsets = doc_offsets(doc)
        strings = doc.vocab.strings
        self.orths = doc_orths(doc)
        self.n = len(self.orths)
        self.strings = strings
        self._names = names

    @cached_property
    def brands(self) -> list[tuple[int, int]]:
        """Brand readings: (first token, token after it), every reading of each start; found
        only when a pattern with the brand is a candidate."""
        return sorted({
            _token_span(self.offsets, start, end)
            for start, ends in name_ends(self.text, self._names).items() for end in ends
        })

    def lower(self, token: int) -> str | None:
        """The token's lower-case text (None outside the Doc)."""
        return self.strings[self.orths[token]].lower() if 0 <= token < self.n else None

    def starts_sentence(self, token: int) -> bool:
        return token == 0 or ends_sentence(self.strings[self.orths[token - 1]])

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        last = end - 1
        return self.offsets[start], self.offsets[last] + len(self.strings[self.orths[last]])


def _anchored(index: int, patterns: EmployeePatterns, reader: _Reader
              ) -> list[tuple[int, int]]:
    """Token spans where pattern `index` matches with the brand in its place. Each part is
    matched only on the few tokens next to a brand reading that it can reach."""
    pattern, doc = patterns.patterns[index], reader.doc
    if not pattern.brand:
        parts = patterns.find(doc, index)
        whole = parts.get("before", []) + [(s, e) for s, e in parts.get("before_end", [])
                                           if e == reader.n]
        return [(s, e) for s, e in whole
                if not pattern.sentence_start or reader.starts_sentence(s)]
    reach_before, reach_after = patterns.reach[index]
    touch_before, touch_after = patterns.touching[index]
    spans = []
    for first, past in reader.brands:
        if (touch_before is not None and reader.lower(first - 1) not in touch_before) or (
                touch_after is not None and reader.lower(past) not in touch_after):
            continue
        starts, ends = [first], [past]
        if pattern.before:
            low = 0 if reach_before is None else max(0, first - reach_before)
            before = patterns.matches(doc, index, low, first)
            starts = [s for s, e in before.get("before", []) if e == first]
        if starts and pattern.sentence_start:
            starts = [s for s in starts if reader.starts_sentence(s)]
        if starts and pattern.after:
            high = None if reach_after is None else min(reader.n, past + reach_after)
            after = patterns.matches(doc, index, past, high)
            ends = [e for s, e in after.get("after", []) if s == past]
            ends += [e for s, e in after.get("after_end", []) if s == past and e == reader.n]
        if starts and ends:
            spans.append((min(starts), max(ends)))
    return spans


def _evidence(reader: _Reader, spans: list[tuple[int, int]], reason: str) -> list[Evidence]:
    found = []
    for start, end in spans:
        first, last = reader.char_span(start, end)
        found.append(Evidence(first, last, reader.text[first:last], reason))
    return found


def _quoted(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTED.finditer(text)]


@lru_cache(maxsize=256)
def _roster_regex(profile: BrandProfile) -> re.Pattern[str] | None:
    """Rostered names (accent-insensitive, word-bounded) and @handles, as one regex."""
    names = terms_regex(tuple(e.name for e in profile.employees))
    handles = sorted({h for e in profile.employees for h in e.normal_handles}, key=len,
                     reverse=True)
    parts = [names.pattern] if names is not None else []
    if handles:
        parts.append(r"(?<!\w)@(?:" + "|".join(re.escape(h) for h in handles) + r")(?!\w)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class _BrandFacts(NamedTuple):
    """What the detector reads of a brand profile on every post, worked out once."""

    profile: BrandProfile
    names: tuple[str, ...]  # `brand_names`
    roster: re.Pattern[str] | None  # `_roster_regex`
    roster_names: tuple[str, ...]  # the rostered names, for `may_have_terms`
    roster_handles: tuple[str, ...]  # "@" + each rostered handle, lower-cased


_FACTS: dict[int, _BrandFacts] = {}  # id(profile) → its facts (the profile kept alive in them)


def _brand_facts(profile: BrandProfile) -> _BrandFacts:
    """The profile's facts, found by identity: the lru_caches behind them hash the whole
    (frozen) profile, employees included, on every call."""
    facts = _FACTS.get(id(profile))
    if facts is None or facts.profile is not profile:
        if len(_FACTS) >= 256:
            _FACTS.clear()
        facts = _FACTS[id(profile)] = _BrandFacts(
            profile, brand_names(profile), _roster_regex(profile),
            tuple(e.name for e in profile.employees),
            tuple(sorted({"@" + h.lower() for e in profile.employees for h in e.normal_handles})))
    return facts


def _may_name_roster(lowered: str | None, facts: _BrandFacts) -> bool:
    """False only when `facts.roster` certainly finds nothing: no rostered name's first
    word (`may_have_terms`) and no "@handle" in the lower-cased text (which, without the
    characters `lowered_for_gates` refuses, holds every case-insensitive match lower-cased)."""
    return lowered is None or may_have_terms(lowered, facts.roster_names) or any(
        map(lowered.__contains__, facts.roster_handles))


def employee_evidence(doc: Doc, patterns: EmployeePatterns) -> list[Evidence]:
    """Every piece of evidence that an employee of the brand is posting or being named."""
    profile = doc_brand(doc)
    if profile is None:
        return []
    text, author = doc_text(doc), doc_author(doc)
    article = doc_is_article(doc)
    found: list[Evidence] = []
    rostered = profile.employee_for_author(author)
    if rostered is not None:
        # The author is not part of the text: an empty span, the reason says it all.
        found.append(Evidence(0, 0, "", "employee:roster_author"))
    facts = _brand_facts(profile)
    names = facts.names
    candidates = patterns.by_label(doc)
    # Every pattern below needs the brand named.
    named = candidates["self"] or candidates["former"] or candidates["insider"]
    if named and names and names_anywhere(text, names):
        found.extend(_pattern_evidence(doc, text, names, patterns, candidates, article))
    if article and candidates["we"] and names and _staff_outlet(author, names) and any(
            patterns.find(doc, index).get("before") for index in candidates["we"]):
        # The author is not part of the text: an empty span, the reason says it all.
        found.append(Evidence(0, 0, "", "employee:staff_blog"))
    hashtag = _hashtag_regex(names) if "#" in text else None
    if hashtag is not None:
        found.extend(Evidence(m.start(), m.end(), m.group(), "employee:team_hashtag")
                     for m in hashtag.finditer(text))
    roster = facts.roster
    if roster is not None and (not article or rostered is not None) and _may_name_roster(
            doc_lowered(doc)[1], facts):
        found.extend(Evidence(m.start(), m.end(), m.group(), "employee:roster_mention")
                     for m in roster.finditer(text))
    return list(dict.fromkeys(found))  # two patterns may find the same span


def _pattern_evidence(doc: Doc, text: str, names: tuple[str, ...], patterns: EmployeePatterns,
                      candidates: dict[str, list[int]], article: bool) -> list[Evidence]:
    """Self-identifications, former staff and insider cues in the first person, from the
    patterns the hints allow."""
    reader = _Reader(doc, text, names)

    def spans(label: str, first_only: bool = False) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for index in candidates[label]:
            found.extend(_anchored(index, patterns, reader))
            if found and first_only:
                break
        return sorted(set(found))

    found: list[Evidence] = []
    if reader.brands:
        if candidates["self"]:
            found.extend(_evidence(reader, spans("self"), "employee:self_identified"))
        if candidates["former"]:
            found.extend(_evidence(reader, spans("former"), "employee:former_staff"))
    if found and article:  # a quoted person's words are theirs, not the author's
        quoted = _quoted(text)
        found = [e for e in found if not any(qs <= e.start < qe for qs, qe in quoted)]
    insider = spans("insider", first_only=True) if candidates["first_person"] else []
    if insider and spans("first_person", first_only=True):
        found.extend(_evidence(reader, insider[:1], "employee:insider_context"))
    return found


def strength(evidence: list[Evidence]) -> float:
    """1 − Π(1 − confidence) over the distinct kinds of evidence."""
    missing = 1.0
    for reason in {e.reason for e in evidence}:
        missing *= 1.0 - CONFIDENCE[reason]
    return round(1.0 - missing, 4)


class EmployeeDetector(BatchedComponent):
    """The spaCy component: adds one `employee` tag when there is any evidence."""

    def __init__(self, nlp: Language) -> None:
        self.patterns = EmployeePatterns(nlp, read_patterns(PATTERNS_FILE))

    def __call__(self, doc: Doc) -> Doc:
        evidence = employee_evidence(doc, self.patterns)
        if evidence:
            add_tags(doc, [TagResult("employee", "employee", strength(evidence),
                                     tuple(evidence[:MAX_EVIDENCE]))])
        return doc


@Language.factory(
    "vigia_employee",
    requires=["doc._.vigia_brand", "doc._.vigia_author", "doc._.vigia_article"],
    assigns=["doc._.vigia_tags"],
)
def make_employee_detector(nlp: Language, name: str) -> EmployeeDetector:
    return EmployeeDetector(nlp)
