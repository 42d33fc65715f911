"""Labelled term lists (data files) matched on the tokens of a spaCy Doc, with exact offsets.

The policy and complaint components look for hundreds of words and phrases ("tonto del culo",
"me han cobrado", "still waiting"). Terms are split by the same tokenizer as the posts and
indexed by their first token's folded form (no case, no accents, see `monitor.core.textfold.fold`;
a leading '#' or '@' is ignored, so "#BuildTheWall" is the word "buildthewall"). A Doc is
read through its ORTH ids (`Doc.to_array`, in C); each word type is folded once (a cache
shared by every matcher) and the Doc's folded tokens, joined by a separator, are built once
and shared too (`doc_folded`). Each matcher holds an Aho–Corasick automaton (pyahocorasick)
of its terms spelt the same way, so one scan in C finds the tokens where a term starts;
the matching rules (`TermMatcher.find`) then run at those tokens only,
a handful per post, whatever the number of terms (large token-Matcher pattern sets, or
one big regex alternation, measure tens of times slower); evidence offsets come from the
tokens, so they point straight into the analysed text.

File format (UTF-8, `#` starts a comment line, blank lines ignored): `term<TAB>label`. A term
matches whole tokens, whatever the case and accents. A trailing `*` makes the last word a
prefix (`estaf*`: estafa, estafadores).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

import ahocorasick
from spacy.attrs import IDX, ORTH
from spacy.tokens import Doc

from classifiers.context import doc_text, extension_key, remember_text
from classifiers.lexicons import LEXICON_DIR
from monitor.core.textfold import fold

__all__ = ["TermHit", "TermMatcher", "doc_folded", "doc_lower_ids", "doc_lowers", "doc_offsets",
           "doc_orths", "doc_text", "fold_token", "read_labelled_terms",
           "remember_text", "split_words"]

_WORDS = re.compile(r"\w+|[^\w\s]")
MAX_CACHED_TOKENS = 200_000
# The token columns, read once per Doc and shared (`doc._.vigia_orths`, `doc._.vigia_offsets`,
# `doc._.vigia_lower_ids`, the set of those, `doc._.vigia_lowers`, and the folded tokens the
# term matchers read, `doc._.vigia_folded`).
for _name in ("vigia_orths", "vigia_offsets", "vigia_lower_ids", "vigia_lowers", "vigia_folded"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)
_ORTHS_KEY, _OFFSETS_KEY = extension_key("vigia_orths"), extension_key("vigia_offsets")
_LOWER_IDS_KEY, _LOWERS_KEY = extension_key("vigia_lower_ids"), extension_key("vigia_lowers")
_FOLDED_KEY = extension_key("vigia_folded")
_LOWER_OF: dict[int, int] = {}  # ORTH id → LOWER id, for `doc_lower_ids`
_FOLDED: dict[int, str] = {}  # ORTH id → fold_token(text), for `doc_folded`
_SIZES: dict[int, int] = {}  # ORTH id → len(text), for the end offsets of hits
# What joins the folded tokens for the automata: a character no term word holds, so a term
# found in the joined string starts and ends at token boundaries.
SEP = "\x00"


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


class FoldedDoc:
    """A Doc's tokens as the term matchers compare them (`fold_token`), and joined:
    `SEP` + the tokens separated by `SEP` + `SEP` (None when a token itself holds `SEP`:
    the matchers then try every token)."""

    __slots__ = ("joined", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        joined = SEP + SEP.join(tokens) + SEP
        self.joined = joined if joined.count(SEP) == len(tokens) + 1 else None

    def token_at(self, position: int) -> int:
        """The token that the `SEP` at `position` of `joined` opens (a count in C: a post
        has a few matches, cheaper than an index of every token's position)."""
        return self.joined.count(SEP, 0, position)  # type: ignore[union-attr]


def _fold_orth(orth: int, doc: Doc) -> str:
    text = doc.vocab.strings[orth]
    folded = fold_token(text)
    if len(_FOLDED) >= MAX_CACHED_TOKENS:
        _FOLDED.clear()
        _SIZES.clear()
    _FOLDED[orth], _SIZES[orth] = folded, len(text)
    return folded


def doc_folded(doc: Doc) -> FoldedDoc:
    """The Doc's folded tokens, built once per Doc (each word type folded once, in a cache
    shared by every matcher) and shared by every TermMatcher (`doc._.vigia_folded`)."""
    found = doc.user_data.get(_FOLDED_KEY)
    if found is None:
        orths = doc_orths(doc)
        try:  # one C-level pass when every word type is cached (the usual case)
            tokens = list(map(_FOLDED.__getitem__, orths))
        except KeyError:
            tokens = [_FOLDED[orth] if orth in _FOLDED else _fold_orth(orth, doc)
                      for orth in orths]
        found = doc.user_data[_FOLDED_KEY] = FoldedDoc(tokens)
    return found  # type: ignore[no-any-return]


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


# TermHit from a tuple, in C (the generated `TermHit(...)` is a Python-level call).
_new_hit = partial(tuple.__new__, TermHit)


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
        self._stem_cache: dict[str, tuple[str, ...]] = {}  # folded token → `_stem_labels`
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
        self._automaton = _automaton(self._by_first, self._stems)

    @classmethod
    def for_pipeline(cls, name: str, make_doc: Callable[[str], Doc],
                     directory: Path = LEXICON_DIR) -> TermMatcher:
        """The matcher for `lexicons/<name>.tsv`, terms split by the pipeline's tokenizer."""
        return cls(read_labelled_terms(directory / f"{name}.tsv"),
                   lambda term: [token.text for token in make_doc(term)])

    def _stem_labels(self, folded: str) -> tuple[str, ...]:
        """Labels of the one-word stems the token continues, longest stem first (cached per
        word: a lexicon has stems of many lengths)."""
        labels = self._stem_cache.get(folded)
        if labels is None:
            labels = tuple(
                label for size in self._stem_sizes if size <= len(folded)
                for label in self._stems.get(folded[:size], ())
            )
            if len(self._stem_cache) >= MAX_CACHED_TOKENS:
                self._stem_cache.clear()
            self._stem_cache[folded] = labels
        return labels

    def _matched(self, folded: FoldedDoc) -> dict[str, list[tuple[int, int]]]:
        """(first token, -end) of every term found, by label, from one automaton scan.

        Labels come in the order the rules try terms: token by token, at each its stems
        (longest first), then its candidate terms (`_candidates`, in their order)."""
        at: dict[int, list[_Term]] = {}  # SEP position → the terms that start there
        for end, (size, terms) in self._automaton.iter(folded.joined):
            at.setdefault(end - size + 1, []).extend(terms)
        by_label: dict[str, list[tuple[int, int]]] = {}
        tokens = folded.tokens
        for position in sorted(at):
            i = folded.token_at(position)
            if self._stems:
                for label in self._stem_labels(tokens[i]):
                    by_label.setdefault(label, []).append((i, -(i + 1)))
            terms = at[position]
            if len(terms) > 1:
                terms = sorted(terms, key=self._candidates(tokens, i).index)
            for term in terms:
                by_label.setdefault(term.label, []).append((i, -(i + len(term.words))))
        return by_label

    def _candidates(self, tokens: list[str], i: int) -> tuple[_Term, ...]:
        """The terms to try at token i, in order: by the next token when the first word has
        terms with a known second word ("de", "the": most are ruled out by it alone)."""
        loose = self._loose.get(tokens[i], ())
        pairs = self._pairs.get(tokens[i])
        return pairs.get(tokens[i + 1], loose) if pairs and i + 1 < len(tokens) else loose

    def _tried(self, tokens: list[str]) -> dict[str, list[tuple[int, int]]]:
        """What `_matched` finds, by trying every token in turn (for a Doc that a token
        holding `SEP` keeps from the automaton, or a matcher without one)."""
        n = len(tokens)
        by_label: dict[str, list[tuple[int, int]]] = {}
        for i in range(n):
            for label in self._stem_labels(tokens[i]):
                by_label.setdefault(label, []).append((i, -(i + 1)))
            for term in self._candidates(tokens, i):
                words = term.words
                size = len(words)
                if i + size > n:
                    continue
                last = tokens[i + size - 1]
                if not (last.startswith(words[-1]) if term.stem else last == words[-1]):
                    continue
                if all(tokens[i + k] == words[k] for k in range(1, size - 1)):
                    # (first token, -end): plain tuple order is then leftmost-longest.
                    by_label.setdefault(term.label, []).append((i, -(i + size)))
        return by_label

    def find(self, doc: Doc) -> list[TermHit]:
        """Hits label by label; within a label, leftmost-longest and never overlapping."""
        if not len(doc):
            return []
        folded = doc_folded(doc)
        if self._automaton is not None and folded.joined is not None:
            by_label = self._matched(folded)
        else:
            by_label = self._tried(folded.tokens)
        if not by_label:
            return []
        text, offsets = doc_text(doc), doc_offsets(doc)
        orths, strings = doc_orths(doc), doc.vocab.strings
        hits = []
        for label, spans in by_label.items():
            if len(spans) > 1:
                spans.sort()
            done = 0
            for first, negative_end in spans:
                if first < done:
                    continue
                done = end = -negative_end
                start = offsets[first]
                last = orths[end - 1]  # its length, cached when it was folded
                stop = offsets[end - 1] + (_SIZES.get(last) or len(strings[last]))
                hits.append(_new_hit((start, stop, text[start:stop], label)))
        return hits

    def by_label(self, doc: Doc) -> dict[str, list[TermHit]]:
        """Hits grouped by label (labels without a hit are absent)."""
        grouped: dict[str, list[TermHit]] = {}
        for hit in self.find(doc):
            grouped.setdefault(hit.label, []).append(hit)
        return grouped


def _automaton(by_first: dict[str, list[_Term]],
               stems: dict[str, list[str]]) -> ahocorasick.Automaton | None:
    """Every term spelt as `FoldedDoc.joined` would hold it (`SEP`-bounded words; a stem
    without the closing `SEP`, so any token it begins matches), valued by its length and
    the terms spelt so (none for a one-word stem: `_stem_labels` gives those). None without
    terms, or when a term word holds `SEP` itself: `find` then tries every token."""
    keys: dict[str, list[_Term]] = {}
    for listed in by_first.values():
        for term in listed:
            keys.setdefault(SEP + SEP.join(term.words) + ("" if term.stem else SEP),
                            []).append(term)
    for stem in stems:
        keys.setdefault(SEP + stem, [])
    words = [word for terms in keys.values() for term in terms for word in term.words]
    if not keys or any(SEP in word for word in [*words, *stems]):
        return None
    automaton = ahocorasick.Automaton()
    for key, terms in keys.items():
        automaton.add_word(key, (len(key), tuple(terms)))
    automaton.make_automaton()
    return automaton
