"""Labelled term lists (data files) matched on the tokens of a spaCy Doc, with exact offsets.

The policy and complaint components look for hundreds of words and phrases ("tonto del culo",
"me han cobrado", "still waiting"). Terms are split by the same tokenizer as the posts and
indexed by their first token's folded form (no case, no accents, see `monitor.core.textfold.fold`;
a leading '#' or '@' is ignored, so "#BuildTheWall" is the word "buildthewall"). A Doc is
read through its ORTH ids (`Doc.to_array`, in C) and each distinct id is folded once and
cached; the set of a Doc's ids, built once and shared by every matcher, is intersected (in C)
with the ids a matcher's terms start with, so a post costs a set operation, then a few dict
look-ups per candidate start, whatever the number of terms (large token-Matcher pattern
sets, or one big regex alternation, measure tens of times slower);
evidence offsets come from the tokens, so they point straight into the analysed text.

File format (UTF-8, `#` starts a comment line, blank lines ignored): `term<TAB>label`. A term
matches whole tokens, whatever the case and accents. A trailing `*` makes the last word a
prefix (`estaf*`: estafa, estafadores).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import compress
from pathlib import Path
from typing import NamedTuple

from spacy.attrs import IDX, ORTH
from spacy.tokens import Doc

from classifiers.context import doc_text, extension_key, remember_text
from classifiers.lexicons import LEXICON_DIR
from monitor.core.textfold import fold

__all__ = ["TermHit", "TermMatcher", "doc_lower_ids", "doc_lowers", "doc_offsets",
           "doc_orth_set", "doc_orths", "doc_text", "fold_token", "read_labelled_terms",
           "remember_text", "split_words"]

_WORDS = re.compile(r"\w+|[^\w\s]")
MAX_CACHED_TOKENS = 200_000
# The token columns, read once per Doc and shared (`doc._.vigia_orths`, `doc._.vigia_offsets`,
# `doc._.vigia_lower_ids`, and the sets of those, `doc._.vigia_kinds` and `doc._.vigia_lowers`).
for _name in ("vigia_orths", "vigia_offsets", "vigia_lower_ids", "vigia_lowers", "vigia_kinds"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)
_ORTHS_KEY, _OFFSETS_KEY = extension_key("vigia_orths"), extension_key("vigia_offsets")
_LOWER_IDS_KEY, _LOWERS_KEY = extension_key("vigia_lower_ids"), extension_key("vigia_lowers")
_KINDS_KEY = extension_key("vigia_kinds")
_LOWER_OF: dict[int, int] = {}  # ORTH id → LOWER id, for `doc_lower_ids`


def fold_token(token: str) -> str:
    """A token as terms are compared: folded, without emoji variation selectors or a leading
    '#'/'@' ("#SinInternet" → "sininternet")."""
    folded = fold(token).replace("\ufe0f", "")
    return folded.lstrip("#@") or folded


def split_words(text: str) -> list[str]:
    """Words and symbols, for terms matched without a spaCy tokenizer (brand names)."""
    return _WORDS.findall(text)


def doc_orths(doc: Doc) -> list[int]:
    """The ORTH id of every token, read once per Doc and shared by the matchers and the
    sentiment scorer (see `_read_columns`)."""
    orths = doc.user_data.get(_ORTHS_KEY)
    if orths is None:
        orths = _read_columns(doc)[0]
    return orths  # type: ignore[no-any-return]


def doc_offsets(doc: Doc) -> list[int]:
    """The character offset of every token, read with `doc_orths`."""
    offsets = doc.user_data.get(_OFFSETS_KEY)
    if offsets is None:
        offsets = _read_columns(doc)[1]
    return offsets  # type: ignore[no-any-return]


def doc_orth_set(doc: Doc) -> set[int]:
    """The distinct ORTH ids of the Doc (its word types), built once per Doc and shared by
    every TermMatcher: each one learns the types it has not seen and finds which of them
    start one of its terms by set operations in C (`TermMatcher.find`)."""
    kinds = doc.user_data.get(_KINDS_KEY)
    if kinds is None:
        kinds = doc.user_data[_KINDS_KEY] = set(doc_orths(doc))
    return kinds  # type: ignore[no-any-return]


def _lower_id(orth: int, doc: Doc) -> int:
    """The LOWER id of a word type (the hash of its lower-cased text, as spaCy's `LOWER`
    attribute has it), cached: a hash of text is the same in every vocabulary."""
    strings = doc.vocab.strings
    lower = strings[strings[orth].lower()]
    if len(_LOWER_OF) >= MAX_CACHED_TOKENS:
        _LOWER_OF.clear()
    _LOWER_OF[orth] = lower
    return lower  # type: ignore[no-any-return]


def doc_lower_ids(doc: Doc) -> list[int]:
    """The LOWER id of every token, in order: from the ORTH ids through a cache of word
    types, a C-level map for the usual post (reading the LOWER column as well costs more:
    a new Python int per token)."""
    lowers = doc.user_data.get(_LOWER_IDS_KEY)
    if lowers is None:
        orths = doc_orths(doc)
        try:
            lowers = list(map(_LOWER_OF.__getitem__, orths))
        except KeyError:
            lowers = [_LOWER_OF.get(orth) or _lower_id(orth, doc) for orth in orths]
        doc.user_data[_LOWER_IDS_KEY] = lowers
    return lowers  # type: ignore[no-any-return]


def doc_lowers(doc: Doc) -> set[int]:
    """The LOWER ids of the Doc's tokens, as a set: which lower-case words the post holds,
    for the token patterns' pre-filter (`classifiers.token_patterns`)."""
    lowers = doc.user_data.get(_LOWERS_KEY)
    if lowers is None:
        lowers = doc.user_data[_LOWERS_KEY] = set(doc_lower_ids(doc))
    return lowers  # type: ignore[no-any-return]


def _read_columns(doc: Doc) -> tuple[list[int], list[int]]:
    """ORTH ids and offsets from one `Doc.to_array` (in C), as Python lists (what the
    per-token look-ups need): ~3 µs a post, where Token objects would cost several times more
    and two separate reads 50% more."""
    orths, offsets = doc.to_array([ORTH, IDX]).T.tolist() if len(doc) else ([], [])
    doc.user_data[_ORTHS_KEY], doc.user_data[_OFFSETS_KEY] = orths, offsets
    return orths, offsets


class TermHit(NamedTuple):
    """One occurrence of a listed term: character offsets into the text, and its label."""

    start: int
    end: int
    text: str
    label: str


def read_labelled_terms(path: Path) -> dict[str, list[str]]:
    """`term<TAB>label` lines → {label: [folded terms]}; a malformed line names its file."""
    found: dict[str, list[str]] = {}
    if not path.is_file():
        return found
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        term, sep, label = line.rpartition("\t")
        term = " ".join(fold(term).split())
        if not sep or not term or not label.strip():
            raise ValueError(f"{path.name}: line {number} {raw!r} is not term<TAB>label")
        if term.rstrip("*") == "" or "*" in term[:-1]:
            raise ValueError(f"{path.name}: line {number}: '*' may only end a term ({term!r})")
        found.setdefault(label.strip(), []).append(term)
    return found


class _Term(NamedTuple):
    words: tuple[str, ...]  # folded tokens; with `stem`, the last one is a prefix
    label: str
    stem: bool


class _Token(NamedTuple):
    """What the matcher caches per ORTH id."""

    folded: str
    size: int  # characters
    first: bool  # some term starts with it (or with a stem of it)
    stems: tuple[str, ...]  # labels of the one-word stems it continues
    loose: tuple[_Term, ...]  # terms starting with it, tried whatever the next token
    # By the next token's folded form: the terms with that exact second word together with
    # the loose ones, in listing order (the candidates to try when that word follows).
    pairs: dict[str, tuple[_Term, ...]]


class TermMatcher:
    """All the labelled terms of one data file, indexed by their first folded token.

    `split` is the tokenizer terms are split with: the pipeline's own (`nlp.make_doc`, via
    `for_pipeline`) so that terms and posts are cut the same way.
    """

    def __init__(self, terms: dict[str, list[str]],
                 split: Callable[[str], list[str]] = split_words) -> None:
        self._by_first: dict[str, list[_Term]] = {}
        self._stems: dict[str, list[str]] = {}  # one-word stems → labels
        for label, found in terms.items():
            for term in dict.fromkeys(found):
                stem = term.endswith("*")
                words = tuple(w for w in map(fold_token, split(term.rstrip("*"))) if w)
                if not words:
                    continue
                if stem and len(words) == 1:
                    self._stems.setdefault(words[0], []).append(label)
                else:
                    self._by_first.setdefault(words[0], []).append(_Term(words, label, stem))
        self._stem_sizes = sorted({len(s) for s in self._stems}, reverse=True)
        self._tokens: dict[int, _Token] = {}
        self._known: set[int] = set()  # the keys of `_tokens`, as a set for `<=` and `-`
        self._firsts: set[int] = set()  # those of them some term starts with
        # The same terms by first word, split into those whose exact second word is known
        # (by that word) and the rest (one-word terms, two-word ones ending in a stem): a
        # common first word ("de", "me", "the") then costs a look-up, not a test per term.
        # Each second word's candidates are merged with the loose ones here, in listing
        # order (as if every term of the first word were tried in turn), not per post.
        self._loose: dict[str, tuple[_Term, ...]] = {}
        self._pairs: dict[str, dict[str, tuple[_Term, ...]]] = {}
        rank = {term: rank for listed in self._by_first.values()
                for rank, term in enumerate(listed)}
        for first, listed in self._by_first.items():
            by_second: dict[str, list[_Term]] = {}
            loose: list[_Term] = []
            for term in listed:
                if len(term.words) > 2 or (len(term.words) == 2 and not term.stem):
                    by_second.setdefault(term.words[1], []).append(term)
                else:
                    loose.append(term)
            self._loose[first] = tuple(loose)
            self._pairs[first] = {
                second: tuple(sorted(loose + fixed, key=rank.__getitem__) if loose else fixed)
                for second, fixed in by_second.items()
            }

    @classmethod
    def for_pipeline(cls, name: str, make_doc: Callable[[str], Doc],
                     directory: Path = LEXICON_DIR) -> TermMatcher:
        """The matcher for `lexicons/<name>.tsv`, terms split by the pipeline's tokenizer."""
        return cls(read_labelled_terms(directory / f"{name}.tsv"),
                   lambda term: [token.text for token in make_doc(term)])

    def _learn(self, orths: set[int], doc: Doc) -> None:
        """Cache what each new word type means to this matcher (`_Token`), and which of
        them start a term (`_firsts`). The cache is emptied before it would outgrow
        MAX_CACHED_TOKENS, never in the middle of a Doc, so every word type of the Doc at
        hand stays known while it is matched."""
        if len(self._tokens) + len(orths) > MAX_CACHED_TOKENS:
            self._tokens.clear()
            self._known.clear()
            self._firsts.clear()
            orths = doc_orth_set(doc)
        strings = doc.vocab.strings
        for orth in orths:
            text = strings[orth]
            folded = fold_token(text)
            stems = tuple(
                label for size in self._stem_sizes if size <= len(folded)
                for label in self._stems.get(folded[:size], ())
            )
            first = folded in self._by_first or bool(stems)
            self._tokens[orth] = _Token(folded, len(text), first, stems,
                                        self._loose.get(folded, ()), self._pairs.get(folded, {}))
            if first:
                self._firsts.add(orth)
        self._known.update(orths)

    def find(self, doc: Doc) -> list[TermHit]:
        """Hits label by label; within a label, leftmost-longest and never overlapping."""
        orths = doc_orths(doc)
        if not orths:
            return []
        kinds = doc_orth_set(doc)
        if not kinds <= self._known:  # set operations in C: the usual post is all known
            self._learn(kinds - self._known, doc)
        present = self._firsts & kinds  # the word types some term starts with
        if not present:
            return []
        tokens = self._tokens
        n = len(orths)
        by_label: dict[str, list[tuple[int, int]]] = {}
        for i in compress(range(n), map(present.__contains__, orths)):
            token = tokens[orths[i]]
            for label in token.stems:
                by_label.setdefault(label, []).append((i, -(i + 1)))
            # "de", "the": most of their terms are ruled out by the next word alone.
            candidates = (token.pairs.get(tokens[orths[i + 1]].folded, token.loose)
                          if i + 1 < n else token.loose)
            for term in candidates:
                words = term.words
                size = len(words)
                if i + size > n:
                    continue
                last = tokens[orths[i + size - 1]].folded
                if not (last.startswith(words[-1]) if term.stem else last == words[-1]):
                    continue
                if size < 3 or all(tokens[orths[i + k]].folded == words[k]
                                   for k in range(1, size - 1)):
                    # (first token, -end): plain tuple order is then leftmost-longest.
                    by_label.setdefault(term.label, []).append((i, -(i + size)))
        if not by_label:
            return []
        text, offsets = doc_text(doc), doc_offsets(doc)
        hits = []
        for label, spans in by_label.items():
            done = 0
            for first, negative_end in sorted(spans):
                if first < done:
                    continue
                done = end = -negative_end
                start = offsets[first]
                stop = offsets[end - 1] + tokens[orths[end - 1]].size
                hits.append(TermHit(start, stop, text[start:stop], label))
        return hits

    def by_label(self, doc: Doc) -> dict[str, list[TermHit]]:
        """Hits grouped by label (labels without a hit are absent)."""
        grouped: dict[str, list[TermHit]] = {}
        for hit in self.find(doc):
            grouped.setdefault(hit.label, []).append(hit)
        return grouped
