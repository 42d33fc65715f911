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
`map`, the brand's names are found with one set intersection, and a batch's pairs, counts
and scaling are done at once with numpy and scipy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32
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


def pair_column(first: int, second: int) -> int:
    """The column of two neighbouring words (as `pair_columns` computes it)."""
    return (first * _PAIR_MIX + second + 7) % N_FEATURES


@lru_cache(maxsize=256)
def _names(profile: BrandProfile | None) -> tuple[frozenset[str], frozenset[str]]:
    """(the brand's one-word terms, its competitors' words), folded, without '@'/'#'."""
    if profile is None:
        return frozenset(), frozenset()
    brand = {t.lstrip("@#") for t in profile.terms if " " not in t}
    brand.update(fold(profile.name).split())
    rivals = {w.lstrip("@#") for name in profile.competitors for w in fold(name).split()}
    return frozenset(brand - {""}), frozenset(rivals - brand - {""})


def token_pairs(columns: Sequence[int]) -> list[tuple[int, int | None]]:
    """Per token: its word column and the column of the pair it starts with the next word
    (None for the last word); (SPACE, None) for whitespace. Used to explain decisions."""
    spoken = [i for i, c in enumerate(columns) if c != SPACE]
    following = dict(zip(spoken, [*spoken[1:], None], strict=True))
    found: list[tuple[int, int | None]] = []
    for i, col in enumerate(columns):
        after = following.get(i)
        found.append((col, pair_column(col, columns[after]) if after is not None else None))
    return found


class Featurizer:
    """Turns Docs into feature rows; its caches are keyed by ORTH id (a string's hash, the
    same in every spaCy vocabulary), so one Featurizer may serve several pipelines."""

    def __init__(self) -> None:
        self._columns: dict[int, int] = {}
        self._bare: dict[int, str] = {}
        self._filler: dict[int, bool] = {}

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
        if len(self._columns) >= MAX_CACHED:
            self._columns.clear()
            self._bare.clear()
            self._filler.clear()
        self._bare[orth] = bare
        self._filler[orth] = bool(lexeme.is_punct or lexeme.like_num or not word or (
            lexeme.is_stop and lexeme.lower_ not in EVIDENT_STOP_WORDS))
        if not word:
            self._columns[orth] = SPACE
        elif word.startswith("@") and len(word) > 1:
            self._columns[orth] = HANDLE
        else:
            self._columns[orth] = word_column(bare)

    def fillers(self, doc: Doc) -> list[bool]:
        """Per token: too common to explain a decision to a reader (punctuation, a number, a
        stop word of the language, except negators), after `columns` has seen the Doc."""
        return list(map(self._filler.__getitem__, doc_orths(doc)))

    def columns(self, doc: Doc, profile: BrandProfile | None) -> list[int]:
        """Each token's word column (SPACE for whitespace), the brand's names generalised."""
        orths = doc_orths(doc)
        known = self._columns
        try:
            found = list(map(known.__getitem__, orths))
        except KeyError:
            for orth in orths:
                if orth not in known:
                    self._learn(doc, orth)
            found = list(map(known.__getitem__, orths))
        brand, rivals = _names(profile)
        if brand or rivals:
            bare = self._bare
            named = (brand | rivals).intersection(map(bare.__getitem__, orths))
            if named:
                special = {orth: BRAND if bare[orth] in brand else RIVAL
                           for orth in set(orths) if bare[orth] in named}
                found = list(map(special.get, orths, found))
        return found

    def matrix(self, docs: Sequence[tuple[Doc, BrandProfile | None, str,
                                          Iterable[TagResult], Mapping[str, float] | None]]
               ) -> sparse.csr_matrix:
        """One row per (doc, profile, lang, rules' tags, extra features): words, then signals."""
        per_doc = [self.columns(doc, profile) for doc, profile, *_ in docs]
        words = word_matrix(per_doc)
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for index, (_, _, lang, tags, extra) in enumerate(docs):
            found = signal_columns(lang, tags, extra)
            rows += [index] * len(found[0])
            cols += found[0]
            values += found[1]
        signals = sparse.csr_matrix(
            (np.asarray(values, dtype=np.float32), (np.asarray(rows, dtype=np.int64),
                                                     np.asarray(cols, dtype=np.int64))),
            shape=(len(docs), N_FEATURES),
        )
        return (words + signals).tocsr()


def word_matrix(per_doc: Sequence[Sequence[int]]) -> sparse.csr_matrix:
    """The word block of a batch: word and neighbour-pair counts, each row of unit length."""
    lengths = np.fromiter(map(len, per_doc), dtype=np.int64, count=len(per_doc))
    flat = np.fromiter((c for cols in per_doc for c in cols), dtype=np.int64,
                       count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(per_doc), dtype=np.int64), lengths)
    spoken = flat != SPACE
    flat, owner = flat[spoken], owner[spoken]
    same = owner[1:] == owner[:-1]
    pairs = ((flat[:-1] * _PAIR_MIX + flat[1:] + 7) % N_FEATURES)[same]
    cols = np.concatenate([flat, pairs])
    rows = np.concatenate([owner, owner[:-1][same]])
    counts = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                               shape=(len(per_doc), N_FEATURES))
    counts.sum_duplicates()
    return normalize(counts, norm="l2", copy=False)  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def _tag_columns(family: str, label: str) -> tuple[int, ...]:
    """The columns of a tag's own signals (see `signal_features`, same names)."""
    if family == "sentiment":
        return column(f"s:{label}"), column("s:pol"), column("s:abs")
    return column(f"t:{family}:{label}"), column(f"t:{family}:{label}:score")


@lru_cache(maxsize=4096)
def _kind_column(family: str, kind: str) -> int:
    return column(("s:ev:" if family == "sentiment" else f"e:{family}:") + kind)


def signal_columns(lang: str, tags: Iterable[TagResult],
                   extra: Mapping[str, float] | None = None) -> tuple[list[int], list[float]]:
    """`signal_features` as (columns, values), with the columns cached (the hot path)."""
    cols = [column(f"lang:{lang}")]
    values = [1.0]
    for tag in tags:
        cols += _tag_columns(tag.family, tag.label)
        values += ((1.0, tag.score, abs(tag.score)) if tag.family == "sentiment"
                   else (1.0, tag.score))
        if tag.evidence:
            kinds: dict[str, int] = {}
            for evidence in tag.evidence:
                kinds[evidence.reason] = kinds.get(evidence.reason, 0) + 1
            for kind, n in kinds.items():
                cols.append(_kind_column(tag.family, kind))
                values.append(float(min(n, MAX_KIND_COUNT)))
    if extra:
        for name, value in sorted(extra.items()):
            cols.append(column(name))
            values.append(value)
    return cols, values


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
