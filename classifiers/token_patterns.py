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

The cheap pre-filter of each pattern is *derived* from it: the spellings of each required
literal token (LOWER/ORTH/TEXT, a value or an `IN` list, or a `REGEX` that is one plain
word, optionally anchored with `^`), lower-cased. A Doc is a candidate for a pattern only when
its tokens hold one spelling of each (`PatternMatchers.candidates`: each required token is a
bit, the bits a word type meets are cached per ORTH id, so a Doc costs one dict look-up per
token, no text scan), and its hint (the most selective of those tokens)
says where in the Doc its matches can be (`PatternMatchers.find`). A
pattern with no required literal token is refused on load: a new alternative can never lack
its hint. (NORM is not a literal: a token's norm may differ from its text, "n't" → "not".)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import reduce
from importlib import resources
from itertools import compress
from operator import or_
from pathlib import Path
from typing import Any, NamedTuple

from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from classifiers.context import doc_lowered
from classifiers.hints import HintIndex
from classifiers.termlists import doc_lower_ids, doc_orths

PATTERN_DIR = Path(str(resources.files("classifiers") / "patterns"))
BRAND = {"BRAND": True}
# Token attributes whose values are literal text (so a match means the text holds them).
_LITERAL_ATTRS = ("LOWER", "ORTH", "TEXT")
# A REGEX that is one plain word, optionally anchored at the token's start ("^despid").
_PLAIN = re.compile(r"\^?([^\W_]+)")
_REPEAT = re.compile(r"^\{(\d*),?(\d*)\}$")
MAX_CACHED = 200_000  # word types (and sets of requirement bits) cached before starting over

Token = dict[str, Any]


class Requirement(NamedTuple):
    """A required literal token: its lower-case spellings; `whole` when the token is one of
    them (LOWER/ORTH/TEXT), not when it only contains one (a REGEX word)."""

    words: frozenset[str]
    whole: bool


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
    # Every required literal token (the hint's among them): a match holds one of each.
    required: tuple[Requirement, ...] = ()
    hint_whole: bool = True  # are the hints whole tokens (else words inside a token)?

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


def _literals(token: Token) -> Requirement | None:
    """The lower-cased literal spellings one of which the token must have, or None."""
    for attr in _LITERAL_ATTRS:
        value = token.get(attr)
        if isinstance(value, str):
            return Requirement(frozenset([value.lower()]), True)
        if isinstance(value, dict) and isinstance(value.get("IN"), list) and value["IN"]:
            return Requirement(frozenset(str(v).lower() for v in value["IN"]), True)
        # A regular expression that is a plain word needs that word in the token.
        plain = _PLAIN.fullmatch(value["REGEX"]) if isinstance(value, dict) \
            and isinstance(value.get("REGEX"), str) else None
        if plain:
            return Requirement(frozenset([plain.group(1).lower()]), False)
    return None


def required_spellings(token: Token) -> frozenset[str] | None:
    """The lower-cased spellings the token must have, when it is required and spelled out
    whole."""
    found = _literals(token) if _required(token) else None
    return found.words if found and found.whole else None


def requirements(tokens: list[Token]) -> tuple[Requirement, ...]:
    """Every required literal token of the pattern (the brand excluded), once each."""
    return tuple(dict.fromkeys(
        found for token in tokens if token != BRAND and _required(token)
        if (found := _literals(token)) is not None))


def hint_of(required: tuple[Requirement, ...]) -> Requirement | None:
    """The most selective requirement (the one whose shortest spelling is longest, then the
    one with fewest spellings): every match holds one of its words."""
    if not required:
        return None
    return max(required, key=lambda r: (min(map(len, r.words)), -len(r.words)))


def derived_hints(tokens: list[Token]) -> frozenset[str]:
    """The spellings of the pattern's most selective required literal token (`hint_of`)."""
    hint = hint_of(requirements(tokens))
    return hint.words if hint is not None else frozenset()


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
    required = requirements(tokens)
    hint = hint_of(required)
    if hint is None:
        raise ValueError(f"{where}: the pattern has no required word (LOWER/ORTH/TEXT, or a "
                         "plain-word REGEX) to derive its hint from; add one")
    cut = brands[0] if brands else len(tokens)
    return TokenPattern(
        key=where, label=label, before=tuple(tokens[:cut]), after=tuple(tokens[cut + 1:]),
        brand=bool(brands), sentence_start=bool(row.get("sentence_start")),
        or_end=bool(row.get("or_end")), hints=hint.words, required=required,
        hint_whole=hint.whole,
    )


def read_patterns(path: Path) -> list[TokenPattern]:
    """Every pattern of a pattern file; a malformed line names its file and line."""
    return [
        _parse(path, number, raw)
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]


class PatternMatchers:
    """A pattern file compiled for one pipeline's vocabulary: which patterns a Doc may match,
    and each pattern's matches.

    One small Matcher per pattern, run only for the Doc's candidates: a Matcher's cost grows
    with its rules' set predicates times the tokens, so one Matcher for every pattern
    measured ~0.9 ms a post, where most posts are candidates for none or one or two. A
    pattern's rules are its parts (`part_rules`), so that a caller can anchor them. A pattern
    whose parts are sequences of spelled-out tokens (no other attribute, no operator but a
    few "?") is matched on the token ids instead: a Matcher call on a Span costs several µs
    even for four tokens, the comparison a fraction of that, with the same matches.
    """

    def __init__(self, vocab: Vocab, patterns: list[TokenPattern]) -> None:
        self.patterns = patterns
        strings = vocab.strings
        self._matchers: list[Matcher] = []
        self._parts: list[dict[int, str]] = []  # per pattern: Matcher rule id → its part
        for pattern in patterns:
            matcher = Matcher(vocab, validate=True)
            roles = {}
            for part, tokens in part_rules(pattern).items():
                key = f"{pattern.key}:{part}"
                matcher.add(key, [tokens])
                roles[strings[key]] = part
            self._matchers.append(matcher)
            self._parts.append(roles)
        # Patterns whose every part is a fixed sequence of spelled-out tokens are matched by
        # comparing token ids (`_literal_matches`), not by a Matcher call on a Span.
        self._literal = [_literal_parts(pattern, vocab) for pattern in patterns]
        # Each distinct requirement is a bit; a pattern needs the bits of its requirements, a
        # Doc has the bits of the requirements some of its tokens (or text words) meet.
        bit_of: dict[Requirement, int] = {}
        for pattern in patterns:
            for requirement in pattern.required:
                bit_of.setdefault(requirement, 1 << len(bit_of))
        self._needs = [sum(bit_of[r] for r in p.required) for p in patterns]
        self._id_bits: dict[int, int] = {}  # LOWER id → bits of the whole requirements it meets
        self._word_bits: dict[str, int] = {}  # word → bits of the REGEX requirements it meets
        for requirement, bit in bit_of.items():
            for word in requirement.words:
                if requirement.whole:
                    self._id_bits[strings[word]] = self._id_bits.get(strings[word], 0) | bit
                else:
                    self._word_bits[word] = self._word_bits.get(word, 0) | bit
        # Every word a REGEX token must contain, found in one scan of the lower-cased text.
        self.inside_words = frozenset(self._word_bits)
        # Every pattern's hint spellings: a Doc whose lower-cased text holds none of them (as
        # a substring) is a candidate for no pattern, whatever its tokens.
        self.hint_words = frozenset(w for p in patterns for w in p.hints)
        self._words = HintIndex(sorted(self.inside_words)) if self.inside_words else None
        # ORTH id → bits (cached per word type, see `_orth_bits`); bits held by a Doc → its
        # candidates (few distinct sets occur).
        self._orth_cache: dict[int, int] = {}
        self._by_bits: dict[int, list[int]] = {0: []}
        # Where a pattern without the brand can match: within its length of a hint token.
        self._lengths = [max_length(p.before) if not p.brand else None for p in patterns]
        self._hint_spellings = [frozenset(strings[w] for w in p.hints) if p.hint_whole
                                else p.hints for p in patterns]

    def candidates(self, doc: Doc, found_words: set[str] | None = None) -> list[int]:
        """The patterns (in file order) for which the Doc holds a spelling of each required
        token: no other pattern can match it. `found_words`: the words occurring in the Doc's
        lower-cased text, every one of `inside_words` and `hint_words` that does among them,
        when the caller's own scan found them (`classifiers.hints`): a Doc with no hint word
        is then done without a look at its tokens. Otherwise the text is scanned here for the
        `inside_words`, if a pattern needs them.

        No Python step per token or per requirement: the bits each word type meets are
        cached (`_orth_bits`), and the candidates of each set of bits too (the list is
        shared: callers must not change it)."""
        if found_words is not None and self.hint_words.isdisjoint(found_words):
            return []
        have = self._orth_bits(doc)
        if self._words is not None:
            if found_words is None:
                found_words = self._words.found(doc_lowered(doc)[0])
            for word in self.inside_words.intersection(found_words):
                have |= self._word_bits[word]
        found = self._by_bits.get(have)
        if found is None:
            if len(self._by_bits) >= MAX_CACHED:
                self._by_bits = {0: []}
            found = self._by_bits[have] = [
                i for i, needs in enumerate(self._needs) if needs & have == needs]
        return found

    def _orth_bits(self, doc: Doc) -> int:
        """The bits of the whole-token requirements that some token of the Doc meets: one
        dict look-up per token (in C), then an OR of the few distinct values."""
        bits = self._orth_cache
        orths = doc_orths(doc)
        try:
            found = set(map(bits.__getitem__, orths))
        except KeyError:  # a word type not seen yet
            if len(bits) >= MAX_CACHED:
                bits = self._orth_cache = {}
            strings = doc.vocab.strings
            for orth in orths:
                if orth not in bits:
                    bits[orth] = self._id_bits.get(strings[strings[orth].lower()], 0)
            found = set(map(bits.__getitem__, orths))
        return reduce(or_, found, 0)

    def matches(self, doc: Doc, index: int, start: int = 0, end: int | None = None
                ) -> dict[str, list[tuple[int, int]]]:
        """part → token (start, end) of pattern `index`'s matches within tokens [start, end)
        of the Doc (a short Span costs a fraction of the Doc)."""
        literal = self._literal[index]
        if literal is not None:
            return _literal_matches(doc, literal, start, len(doc) if end is None else end)
        found: dict[str, list[tuple[int, int]]] = {}
        roles = self._parts[index]
        span = doc[start:len(doc) if end is None else end] if start or end is not None else doc
        for rule, first, last in self._matchers[index](span):
            found.setdefault(roles[rule], []).append((start + first, start + last))
        return found

    def _hint_tokens(self, doc: Doc, index: int) -> list[int]:
        """Positions of the tokens that hold pattern `index`'s hint."""
        spellings = self._hint_spellings[index]
        if self.patterns[index].hint_whole:
            lowers = doc_lower_ids(doc)
            return list(compress(range(len(lowers)), map(spellings.__contains__, lowers)))
        strings = doc.vocab.strings
        return [i for i, orth in enumerate(doc_orths(doc))
                if any(word in strings[orth].lower() for word in spellings)]

    def find(self, doc: Doc, index: int) -> dict[str, list[tuple[int, int]]]:
        """`matches` of a pattern without the brand over the whole Doc, run only on the
        tokens around its hint's occurrences (every match holds one, and is no longer than
        the pattern): a few short Spans cost a fraction of the Doc."""
        length = self._lengths[index]
        if length is None:
            return self.matches(doc, index)
        n = len(doc)
        windows: list[list[int]] = []
        for position in self._hint_tokens(doc, index):
            low, high = max(0, position - length + 1), min(n, position + length)
            if windows and low <= windows[-1][1]:
                windows[-1][1] = high
            else:
                windows.append([low, high])
        found: dict[str, list[tuple[int, int]]] = {}
        for low, high in windows:
            for part, spans in self.matches(doc, index, low, high).items():
                found.setdefault(part, []).extend(spans)
        return found


# A literal token: whether its ids are LOWER ids (else ORTH ids), and the ids it may have.
LiteralToken = tuple[bool, frozenset[int]]
MAX_OPTIONAL = 3  # optional tokens of a part spelled out as every sequence they allow


def _literal_token(token: Token, vocab: Vocab) -> tuple[LiteralToken, bool] | None:
    """The token as ids, and whether it is optional (`"OP": "?"`), when it is one
    LOWER/ORTH/TEXT spelling or `IN` list of them and nothing else; None otherwise."""
    optional = token.get("OP") == "?"
    rest = [(attr, value) for attr, value in token.items() if attr != "OP" or not optional]
    if len(rest) != 1:
        return None
    ((attr, value),) = rest
    if attr not in _LITERAL_ATTRS:
        return None
    if isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
        values = value["IN"]
    else:
        values = [value]
    if not values or not all(isinstance(v, str) for v in values):
        return None
    return (attr == "LOWER", frozenset(vocab.strings[v] for v in values)), optional


def _literal_parts(pattern: TokenPattern, vocab: Vocab
                   ) -> dict[str, list[tuple[LiteralToken, ...]]] | None:
    """part → the sequences of literal tokens it matches (each way of leaving its optional
    tokens out), when every part of the pattern is literal (else None)."""
    parts = {}
    for part, tokens in part_rules(pattern).items():
        literal = [_literal_token(token, vocab) for token in tokens]
        if None in literal or sum(t[1] for t in literal if t) > MAX_OPTIONAL:
            return None
        sequences: list[tuple[LiteralToken, ...]] = [()]
        for found in literal:
            if found is not None:
                token, optional = found
                sequences = [*((*seq, token) for seq in sequences),
                             *(sequences if optional else ())]
        parts[part] = [seq for seq in sequences if seq]  # the Matcher has no empty matches
    return parts


def _literal_matches(doc: Doc, parts: dict[str, list[tuple[LiteralToken, ...]]], start: int,
                     end: int) -> dict[str, list[tuple[int, int]]]:
    """What the Matcher finds for literal parts within tokens [start, end): every (start,
    end) where each token of one of the part's sequences has one of its ids, in order."""
    lowers, orths = doc_lower_ids(doc), doc_orths(doc)
    found: dict[str, list[tuple[int, int]]] = {}
    for part, sequences in parts.items():
        spans = set()
        for tokens in sequences:
            size = len(tokens)
            for first in range(start, end - size + 1):
                if all(ids.__contains__((lowers if lower else orths)[first + k])
                       for k, (lower, ids) in enumerate(tokens)):
                    spans.add((first, first + size))
        if spans:
            found[part] = sorted(spans)
    return found


def part_rules(pattern: TokenPattern) -> dict[str, list[Token]]:
    """The Matcher rules of a pattern: "before" (the tokens before the brand, or the whole
    pattern without one) and "after" the brand; with `or_end`, "<side>_end", the side
    without its last token (which the end of the text may replace)."""
    parts = {"before": list(pattern.before), "after": list(pattern.after)}
    if pattern.or_end:
        side = "after" if pattern.after else "before"
        parts[f"{side}_end"] = parts[side][:-1]
    return {part: tokens for part, tokens in parts.items() if tokens}
