"""What the learned layer reads of a Doc: the rules' signals and the post's hashed words.

Two blocks, one sparse row per Doc, hashed into N_FEATURES columns, so the feature space is
stateless: no vocabulary is stored or shipped, only the weights of the columns training met.

* **Words**: every token's folded form ("Pésimo" → "pesimo", elongations cut to two
  letters, "#fail" → "fail"), hashed with MurmurHash3 (scikit-learn's, the hash of its
  HashingVectorizer), and every pair of neighbours (their two columns mixed), as counts
  scaled to unit length. Names are generalised, so a model trained on one brand's posts
  reads another's: the brand's own terms become "<brand>", its competitors "<rival>", other
  handles "@user", links "<url>", numbers "<num>".
* **Rules**: the labels and scores of the TagResults the rule components left on the Doc
  (sentiment polarity, complaint and employee strength, policy and leak labels), each kind
  of evidence they cite ("negated positive word", "complaint:outage",
  "employee:roster_author") and the language; for a deployment model trained over a base,
  the base model's probabilities (`extra`).

Speed (the layer runs on every matching post, after five rule components): a word type's
column is computed once and cached by ORTH id, a Doc's columns are read with one C-level
`map` over a table per brand profile in which the brand's and its rivals' names already read
"<brand>" / "<rival>" (kept per profile object: hashing a BrandProfile costs a microsecond),
and a batch's pairs, counts and scaling are done at once with numpy (counted after one
stable sort, scaled with scikit-learn's in-place kernel: the arithmetic `normalize` runs,
without its input checks). A batch's signals are read in one loop into one flat list and
one sparse matrix, each tag's columns and evidence counts looked up by its shape (family,
label, reasons). `rows` hands back each Doc's word columns with the matrix, so explaining a
decision does not read them again. The matrices are the same, bit for bit, as building
them entry by entry with scipy and `normalize` (`make models` checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
from scipy import sparse
from sklearn.utils import murmurhash3_32
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
from spacy.tokens import Doc

from classifiers.context import BrandProfile
from classifiers.tags import TagResult
from classifiers.termlists import doc_orths
from monitor.core.textfold import fold

#: Columns of the hashed feature space (2**18: few collisions for a post's vocabulary,
#: and a model file stores only the columns it uses).
N_FEATURES = 2**18
#: Evidence kinds counted per tag at most this many times (a long rant repeats itself).
MAX_KIND_COUNT = 3
MAX_CACHED = 200_000
_PAIR_MIX = 1_000_003
_ELONGATED = re.compile(r"(\w)\1{2,}")
_NUMBER = re.compile(r"^[\d.,:/%€$£+-]*\d[\d.,:/%€$£+-]*$")
SPACE = -1
#: Stop words that do explain a decision ("no funciona", "never again", "sin fibra").
EVIDENT_STOP_WORDS = frozenset({"no", "ni", "nunca", "jamás", "sin", "not", "never", "nothing",
                                "nada", "nadie", "nobody", "without", "mal", "bien"})


@lru_cache(maxsize=65_536)
def column(name: str) -> int:
    """The hashed column of a feature name (MurmurHash3, seed 0, as scikit-learn hashes)."""
    return int(murmurhash3_32(name, seed=0, positive=True)) % N_FEATURES


def word_column(word: str) -> int:
    return column(f"w:{word}")


BRAND, RIVAL, HANDLE = word_column("<brand>"), word_column("<rival>"), word_column("@user")


def pair_columns(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The columns of neighbouring words, from the columns of the first and second ones."""
    return (first * _PAIR_MIX + second + 7) % N_FEATURES  # type: ignore[no-any-return]


Names = tuple[frozenset[str], frozenset[str], frozenset[str]]
_NAMES: dict[int, tuple[BrandProfile, Names]] = {}


def _names(profile: BrandProfile | None) -> Names:
    """(the brand's one-word terms, its competitors' words, both), folded, without '@'/'#';
    kept per profile object (the Analyzer shares one per brand), at most 256 of them."""
    if profile is None:
        return _NO_NAMES
    known = _NAMES.get(id(profile))
    if known is not None and known[0] is profile:
        return known[1]
    brand = {t.lstrip("@#") for t in profile.terms if " " not in t}
    brand.update(fold(profile.name).split())
    rivals = {w.lstrip("@#") for name in profile.competitors for w in fold(name).split()}
    found = (frozenset(brand - {""}), frozenset(rivals - brand - {""}))
    names = (*found, found[0] | found[1])
    if len(_NAMES) >= 256:
        _NAMES.clear()
    _NAMES[id(profile)] = (profile, names)
    return names


_NO_NAMES: Names = (frozenset(), frozenset(), frozenset())


class Featurizer:
    """Turns Docs into feature rows; its caches are keyed by ORTH id (a string's hash, the
    same in every spaCy vocabulary), so one Featurizer may serve several pipelines."""

    def __init__(self) -> None:
        self._columns: dict[int, int] = {}
        self._bare: dict[int, str] = {}
        self._filler: dict[int, bool] = {}
        self._tables: dict[int, tuple[BrandProfile, dict[int, int]]] = {}
        self._tabled = 0  # entries in all the tables

    def _learn(self, doc: Doc, orth: int) -> None:
        lexeme = doc.vocab[orth]
        text = lexeme.orth_
        if lexeme.is_space:
            word = ""
        elif lexeme.like_url:
            word = "<url>"
        elif lexeme.like_email:
            word = "<email>"
        elif _NUMBER.match(text):
            word = "<num>"
        else:
            word = _ELONGATED.sub(r"\1\1", fold(text).replace("\ufe0f", ""))
        bare = word.lstrip("@#") or word
        self._bare[orth] = bare
        self._filler[orth] = bool(lexeme.is_punct or lexeme.like_num or not word or (
            lexeme.is_stop and lexeme.lower_ not in EVIDENT_STOP_WORDS))
        if not word:
            self._columns[orth] = SPACE
        elif word.startswith("@") and len(word) > 1:
            self._columns[orth] = HANDLE
        else:
            self._columns[orth] = word_column(bare)

    def _learn_doc(self, doc: Doc, orths: list[int]) -> None:
        """Learn the Doc's unknown word types, emptying the caches first when they would
        outgrow MAX_CACHED (never halfway through a Doc, whose types must all be known)."""
        known = self._columns
        if len(known) + len(orths) > MAX_CACHED:
            known.clear()
            self._bare.clear()
            self._filler.clear()
        for orth in orths:
            if orth not in known:
                self._learn(doc, orth)

    def fillers(self, doc: Doc) -> list[bool]:
        """Per token: too common to explain a decision to a reader (punctuation, a number, a
        stop word of the language, except negators)."""
        orths = doc_orths(doc)
        try:
            return list(map(self._filler.__getitem__, orths))
        except KeyError:  # the caches were emptied since `columns` saw the Doc
            self._learn_doc(doc, orths)
            return list(map(self._filler.__getitem__, orths))

    def columns(self, doc: Doc, profile: BrandProfile | None) -> list[int]:
        """Each token's word column (SPACE for whitespace), the brand's names generalised."""
        orths = doc_orths(doc)
        table = self._table(profile)
        try:
            return list(map(table.__getitem__, orths))
        except KeyError:
            self._fill(doc, orths, profile, table)
            return list(map(table.__getitem__, orths))

    def _table(self, profile: BrandProfile | None) -> dict[int, int]:
        """ORTH id → column as read for `profile`: the plain columns when it names nothing,
        else its own table, where its names' words read "<brand>" / "<rival>" (nearly every
        post names its brand, and one look-up per token beats finding the names each time)."""
        if profile is None or not _names(profile)[2]:
            return self._columns
        known = self._tables.get(id(profile))
        if known is not None and known[0] is profile:
            return known[1]
        if len(self._tables) >= 256:
            self._tables.clear()
            self._tabled = 0
        table: dict[int, int] = {}
        self._tables[id(profile)] = (profile, table)
        return table

    def _fill(self, doc: Doc, orths: list[int], profile: BrandProfile | None,
              table: dict[int, int]) -> None:
        """Put the Doc's word types in `table` (see `_table`), learning the unknown ones."""
        known = self._columns
        if any(orth not in known for orth in orths):
            self._learn_doc(doc, orths)
        if table is known:
            return
        if self._tabled + len(orths) > MAX_CACHED:  # every profile's table counts
            for _, other in self._tables.values():
                other.clear()
            self._tabled = 0
        brand, _, names = _names(profile)
        bare = self._bare
        before = len(table)
        for orth in orths:
            if orth not in table:
                word = bare[orth]
                table[orth] = ((BRAND if word in brand else RIVAL) if word in names
                               else known[orth])
        self._tabled += len(table) - before

    def rows(self, docs: Sequence[Doc], profiles: Sequence[BrandProfile | None],
             langs: Sequence[str], tags: Sequence[Iterable[TagResult]],
             extras: Sequence[Mapping[str, float] | None] | None = None
             ) -> tuple[sparse.csr_matrix, list[list[int]]]:
        """`matrix` of the Docs given as parallel sequences, and each Doc's word columns
        (`columns`) it was built from."""
        per_doc: list[list[int]] = []
        last: object = None
        table = self._columns
        for doc, profile in zip(docs, profiles, strict=True):
            if profile is not last:  # a batch's Docs mostly share their profile
                last, table = profile, self._table(profile)
            orths = doc_orths(doc)
            try:
                per_doc.append(list(map(table.__getitem__, orths)))
            except KeyError:
                self._fill(doc, orths, profile, table)
                per_doc.append(list(map(table.__getitem__, orths)))
        words = word_matrix(per_doc)
        signals = signal_matrix(langs, tags, extras)
        return (words + signals).tocsr(), per_doc

    def matrix(self, docs: Sequence[tuple[Doc, BrandProfile | None, str,
                                          Iterable[TagResult], Mapping[str, float] | None]]
               ) -> sparse.csr_matrix:
        """One row per (doc, profile, lang, rules' tags, extra features): words, then signals."""
        found, profiles, langs, tags, extras = zip(*docs, strict=True) if docs else ((),) * 5
        return self.rows(found, profiles, langs, tags, extras)[0]


def word_matrix(per_doc: Sequence[Sequence[int]]) -> sparse.csr_matrix:
    """The word block of a batch: word and neighbour-pair counts, each row of unit length
    (as scikit-learn's `normalize(norm="l2")` scales them)."""
    n = len(per_doc)
    lengths = np.fromiter(map(len, per_doc), dtype=np.int64, count=n)
    flat = np.fromiter(chain.from_iterable(per_doc), dtype=np.int64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    spoken = flat != SPACE
    flat, owner = flat[spoken], owner[spoken]
    same = owner[1:] == owner[:-1]
    pairs = pair_columns(flat[:-1], flat[1:])[same]
    # One sort gives what a COO → CSR conversion and `sum_duplicates` give: each row's
    # columns in order, a repeated column's count summed (exactly: counts are integers).
    # The keys come in row order already, which a stable sort (timsort) makes use of.
    keys = np.sort(np.concatenate([owner * N_FEATURES + flat,
                                   owner[:-1][same] * N_FEATURES + pairs]), kind="stable")
    starts = np.flatnonzero(np.concatenate([[keys.size > 0], keys[1:] != keys[:-1]]))
    counts = np.diff(np.append(starts, len(keys)))
    keys = keys[starts]
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(keys // N_FEATURES, minlength=n), out=indptr[1:])
    matrix = sparse.csr_matrix((counts.astype(np.float32), (keys % N_FEATURES).astype(np.int32),
                                indptr), shape=(n, N_FEATURES))
    matrix.has_canonical_format = True
    inplace_csr_row_normalize_l2(matrix)
    return matrix


def signal_matrix(langs: Sequence[str], tags: Sequence[Iterable[TagResult]],
                  extras: Sequence[Mapping[str, float] | None] | None = None
                  ) -> sparse.csr_matrix:
    """The signal block of a batch (`signal_features`, by column), one row per (lang, rules'
    tags, extra features), a column found twice in a row summed (as a COO → CSR conversion
    sums it). One loop over the batch's tags: they repeat a few shapes (family, label, the
    reasons of their evidence), whose columns and evidence counts are kept in `_SHAPES`."""
    cols: list[int] = []
    values: list[float] = []
    ends = [0]
    shapes = _SHAPES
    for lang, found, extra in zip(langs, tags, extras or repeat(None), strict=False):
        cols.append(_lang_column(lang))
        values.append(1.0)
        for tag in found:
            family = tag.family
            key = (family, tag.label, tuple(map(_REASON, tag.evidence)))
            shape = shapes.get(key)
            if shape is None:
                shape = _shape(*key)
            cols += shape[0]
            score = tag.score
            if family == "sentiment":
                values += (1.0, score, abs(score))
            else:
                values += (1.0, score)
            values += shape[1]
        if extra:
            for name, value in sorted(extra.items()):
                cols.append(column(name))
                values.append(value)
        ends.append(len(cols))
    matrix = sparse.csr_matrix((np.array(values, dtype=np.float32),
                                np.array(cols, dtype=np.int32), np.array(ends, dtype=np.int32)),
                               shape=(len(langs), N_FEATURES))
    matrix.sum_duplicates()
    return matrix


_REASON = attrgetter("reason")
#: (family, label, the reasons of a tag's evidence) → the tag's columns and evidence counts.
_SHAPES: dict[tuple[str, str, tuple[str, ...]], tuple[tuple[int, ...], tuple[float, ...]]] = {}


def _shape(family: str, label: str, reasons: tuple[str, ...]
           ) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A tag's columns (its own, then one per kind of evidence, in order of appearance) and
    its evidence kinds' counts (at most MAX_KIND_COUNT), kept in `_SHAPES`."""
    kinds: dict[str, int] = {}
    for reason in reasons:
        kinds[reason] = kinds.get(reason, 0) + 1
    if family == "sentiment":
        own = (column(f"s:{label}"), column("s:pol"), column("s:abs"))
        prefix = "s:ev:"
    else:
        own = (column(f"t:{family}:{label}"), column(f"t:{family}:{label}:score"))
        prefix = f"e:{family}:"
    shape = ((*own, *(column(prefix + kind) for kind in kinds)),
             tuple(float(min(n, MAX_KIND_COUNT)) for n in kinds.values()))
    if len(_SHAPES) >= 8192:
        _SHAPES.clear()
    _SHAPES[(family, label, reasons)] = shape
    return shape


@lru_cache(maxsize=64)
def _lang_column(lang: str) -> int:
    return column(f"lang:{lang}")


def signal_features(lang: str, tags: Iterable[TagResult],
                    extra: Mapping[str, float] | None = None) -> list[tuple[str, float]]:
    """The rules' signals as (feature name, value) pairs."""
    found: list[tuple[str, float]] = [(f"lang:{lang}", 1.0)]
    for tag in tags:
        if tag.family == "sentiment":
            found += [(f"s:{tag.label}", 1.0), ("s:pol", tag.score), ("s:abs", abs(tag.score))]
            prefix = "s:ev:"
        else:
            found += [(f"t:{tag.family}:{tag.label}", 1.0),
                      (f"t:{tag.family}:{tag.label}:score", tag.score)]
            prefix = f"e:{tag.family}:"
        kinds: dict[str, int] = {}
        for evidence in tag.evidence:
            kinds[evidence.reason] = kinds.get(evidence.reason, 0) + 1
        found += [(prefix + kind, float(min(n, MAX_KIND_COUNT))) for kind, n in kinds.items()]
    if extra:
        found += sorted(extra.items())
    return found
