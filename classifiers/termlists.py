"""Labelled term lists (data files) matched on the tokens of a spaCy Doc, with exact offsets.

The policy and complaint components look for hundreds of words and phrases ("tonto del culo",
"me han cobrado", "still waiting"). Terms are split by the same tokenizer as the posts and
indexed by their first token's folded form (no case, no accents, see `monitor.core.textfold.fold`;
a leading '#' or '@' is ignored, so "#BuildTheWall" is the word "buildthewall"). A Doc is
read through its ORTH ids (`Doc.to_array`, in C) and each distinct id is folded once and
cached, so a post costs a few dict look-ups per token whatever the number of terms (large
token-Matcher pattern sets, or one big regex alternation, measure tens of times slower);
evidence offsets come from the tokens, so they point straight into the analysed text.

File format (UTF-8, `#` starts a comment line, blank lines ignored): `term<TAB>label`. A term
matches whole tokens, whatever the case and accents. A trailing `*` makes the last word a
prefix (`estaf*`: estafa, estafadores).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from spacy.attrs import IDX, ORTH
from spacy.tokens import Doc

from classifiers.context import doc_text, extension_key, remember_text
from classifiers.lexicons import LEXICON_DIR
from monitor.core.textfold import fold

__all__ = ["TermHit", "TermMatcher", "doc_lower_ids", "doc_lowers", "doc_offsets", "doc_orths",
           "doc_text", "fold_token", "read_labelled_terms", "remember_text", "split_words"]

_WORDS = re.compile(r"\w+|[^\w\s]")
MAX_CACHED_TOKENS = 200_000
# The token columns, read once per Doc and shared (`doc._.vigia_orths`, `doc._.vigia_offsets`,
# `doc._.vigia_lower_ids`, and the set of those, `doc._.vigia_lowers`).
for _name in ("vigia_orths", "vigia_offsets", "vigia_lower_ids", "vigia_lowers"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)
_ORTHS_KEY, _OFFSETS_KEY = extension_key("vigia_orths"), extension_key("vigia_offsets")
_LOWER_IDS_KEY, _LOWERS_KEY = extension_key("vigia_lower_ids"), extension_key("vigia_lowers")
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
    pairs: dict[str, tuple[_Term, ...]]  # terms starting with it, by their exact 2nd word


_FIRST = itemgetter(_Token._fields.index("first"))


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
        # The same terms by first word, split into those whose exact second word is known
        # (by that word) and the rest (one-word terms, two-word ones ending in a stem): a
        # common first word ("de", "me", "the") then costs a look-up, not a test per term.
        self._loose: dict[str, tuple[_Term, ...]] = {}
        self._pairs: dict[str, dict[str, tuple[_Term, ...]]] = {}
        for first, listed in self._by_first.items():
            by_second: dict[str, list[_Term]] = {}
            loose = []
            for term in listed:
                if len(term.words) > 2 or (len(term.words) == 2 and not term.stem):
                    by_second.setdefault(term.words[1], []).append(term)
                else:
                    loose.append(term)
            self._loose[first] = tuple(loose)
            self._pairs[first] = {second: tuple(t) for second, t in by_second.items()}
        # Position of each term in its first word's listing: candidates are tried in it.
        self._rank = {term: rank for listed in self._by_first.values()
                      for rank, term in enumerate(listed)}

    @classmethod
    def for_pipeline(cls, name: str, make_doc: Callable[[str], Doc],
                     directory: Path = LEXICON_DIR) -> TermMatcher:
        """The matcher for `lexicons/<name>.tsv`, terms split by the pipeline's tokenizer."""
        return cls(read_labelled_terms(directory / f"{name}.tsv"),
                   lambda term: [token.text for token in make_doc(term)])

    def _token(self, orth: int, doc: Doc) -> _Token:
        text = doc.vocab.strings[orth]
        folded = fold_token(text)
        stems = tuple(
            label for size in self._stem_sizes if size <= len(folded)
            for label in self._stems.get(folded[:size], ())
        )
        info = _Token(folded, len(text), folded in self._by_first or bool(stems), stems,
                      self._loose.get(folded, ()), self._pairs.get(folded, {}))
        if len(self._tokens) >= MAX_CACHED_TOKENS:
            self._tokens.clear()
        self._tokens[orth] = info
        return info

    def find(self, doc: Doc) -> list[TermHit]:
        """Hits label by label; within a label, leftmost-longest and never overlapping."""
        if not len(doc):
            return []
        orths = doc_orths(doc)
        try:  # one C-level pass when every word type is cached (the usual case)
            toks = list(map(self._tokens.__getitem__, orths))
        except KeyError:
            toks = [self._tokens.get(orth) or self._token(orth, doc) for orth in orths]
        starts = list(compress(range(len(toks)), map(_FIRST, toks)))
        if not starts:
            return []
        n = len(toks)
        by_label: dict[str, list[tuple[int, int]]] = {}
        for i in starts:
            token = toks[i]
            for label in token.stems:
                by_label.setdefault(label, []).append((i, -(i + 1)))
            loose = token.loose
            fixed = token.pairs.get(toks[i + 1].folded, ()) if i + 1 < n else ()
            if not fixed:
                if not loose:
                    continue  # "de", "the": no term of theirs goes on with this next word
                candidates = loose
            else:  # listing order, as if every term of this first word were tried in turn
                candidates = sorted(loose + fixed, key=self._rank.__getitem__) if loose else fixed
            for term in candidates:
                size = len(term.words)
                if i + size > n:
                    continue
                last = toks[i + size - 1].folded
                if not (last.startswith(term.words[-1]) if term.stem else last == term.words[-1]):
                    continue
                if all(toks[i + k].folded == term.words[k] for k in range(1, size - 1)):
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
                stop = offsets[end - 1] + toks[end - 1].size
                hits.append(TermHit(start, stop, text[start:stop], label))
        return hits

    def by_label(self, doc: Doc) -> dict[str, list[TermHit]]:
        """Hits grouped by label (labels without a hit are absent)."""
        grouped: dict[str, list[TermHit]] = {}
        for hit in self.find(doc):
            grouped.setdefault(hit.label, []).append(hit)
        return grouped
