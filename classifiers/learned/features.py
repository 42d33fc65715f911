"""What the learned layer reads of a Doc: the rules' signals and the post's hashed words.

Two blocks, one sparse row per Doc, hashed into N_FEATURES columns with MurmurHash3
(scikit-learn's, the hash its HashingVectorizer uses), so the feature space is stateless:
no vocabulary is stored or shipped, only the weights of the columns training met.

* **Words**: every token's folded form ("Pésimo" → "pesimo", elongations cut to two
  letters, "#fail" → "fail") and every pair of neighbours, as counts scaled to unit length.
  Names are generalised, so a model trained on one brand's posts reads another's: the
  brand's own terms become "<brand>", its competitors "<rival>", other handles "@user",
  links "<url>", numbers "<num>".
* **Rules**: the labels and scores of the TagResults the rule components left on the Doc
  (sentiment polarity, complaint and employee strength, policy and leak labels), each kind
  of evidence they cite ("negated positive word", "complaint:outage",
  "employee:roster_author"), the language, and, for a deployment model trained over a base,
  the base model's probabilities.

`token_columns` gives the word columns per token again, so a decision can name the words
that weighed most (`classifiers.learned.model.LinearModel.word_contributions`).
Speed: a token's folded form is cached by ORTH id and a column by feature name, as the
sentiment scorer caches its word facts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

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
_ELONGATED = re.compile(r"(\w)\1{2,}")
_NUMBER = re.compile(r"^[\d.,:/%€$£+-]*\d[\d.,:/%€$£+-]*$")


class Row(NamedTuple):
    """One Doc's features: hashed columns (sorted, distinct) and their values."""

    columns: list[int]
    values: list[float]


@lru_cache(maxsize=65_536)
def column(name: str) -> int:
    """The hashed column of a feature name (MurmurHash3, seed 0, as scikit-learn hashes)."""
    return int(murmurhash3_32(name, seed=0, positive=True)) % N_FEATURES


@lru_cache(maxsize=256)
def _names(profile: BrandProfile | None) -> tuple[frozenset[str], frozenset[str]]:
    """(the brand's one-word terms, its competitors' words), folded, without '@'/'#'."""
    if profile is None:
        return frozenset(), frozenset()
    brand = {t.lstrip("@#") for t in profile.terms if " " not in t}
    brand.update(fold(profile.name).split())
    rivals = {w.lstrip("@#") for name in profile.competitors for w in fold(name).split()}
    return frozenset(brand - {""}), frozenset(rivals - brand - {""})


class Featurizer:
    """Turns Docs into feature rows; one per pipeline (its caches are keyed by ORTH id)."""

    def __init__(self) -> None:
        self._norms: dict[int, str] = {}
        self._unigrams: dict[str, int] = {}
        self._pairs: dict[tuple[str, str], int] = {}

    def _norm(self, doc: Doc, orth: int) -> str:
        norm = self._norms.get(orth)
        if norm is None:
            lexeme = doc.vocab[orth]
            text = lexeme.orth_
            if lexeme.is_space:
                norm = ""
            elif lexeme.like_url:
                norm = "<url>"
            elif lexeme.like_email:
                norm = "<email>"
            elif _NUMBER.match(text):
                norm = "<num>"
            else:
                norm = _ELONGATED.sub(r"\1\1", fold(text).replace("\ufe0f", ""))
            if len(self._norms) >= MAX_CACHED:
                self._norms.clear()
            self._norms[orth] = norm
        return norm

    def words(self, doc: Doc, profile: BrandProfile | None) -> list[str]:
        """Each token's word as the model reads it ("" for whitespace)."""
        brand, rivals = _names(profile)
        words = []
        for orth in doc_orths(doc):
            word = self._norm(doc, orth)
            bare = word.lstrip("@#") or word
            if bare in brand:
                word = "<brand>"
            elif bare in rivals:
                word = "<rival>"
            elif word.startswith("@") and len(word) > 1:
                word = "@user"
            else:
                word = bare
            words.append(word)
        return words

    def token_columns(self, words: list[str]) -> list[tuple[int, int | None]]:
        """Per token: its word's column and the column of the pair it starts (or None);
        (-1, None) for whitespace."""
        found: list[tuple[int, int | None]] = []
        unigrams, pairs = self._unigrams, self._pairs
        spoken = [i for i, w in enumerate(words) if w]
        following = dict(zip(spoken, [*spoken[1:], None], strict=True))
        for i, word in enumerate(words):
            if not word:
                found.append((-1, None))
                continue
            unigram = unigrams.get(word)
            if unigram is None:
                unigram = unigrams[word] = column(f"w:{word}")
            after = following[i]
            pair = None
            if after is not None:
                key = (word, words[after])
                pair = pairs.get(key)
                if pair is None:
                    if len(pairs) >= MAX_CACHED:
                        pairs.clear()
                    pair = pairs[key] = column(f"b:{word} {words[after]}")
            found.append((unigram, pair))
        if len(unigrams) >= MAX_CACHED:
            unigrams.clear()
        return found

    def row(self, doc: Doc, profile: BrandProfile | None, lang: str,
            tags: Iterable[TagResult], extra: Mapping[str, float] | None = None) -> Row:
        """The Doc's feature row: word block (unit length) plus the rules' signals."""
        counts: dict[int, float] = {}
        get = counts.get
        for unigram, pair in self.token_columns(self.words(doc, profile)):
            if unigram >= 0:
                counts[unigram] = get(unigram, 0.0) + 1.0
                if pair is not None:
                    counts[pair] = get(pair, 0.0) + 1.0
        if counts:
            scale = 1.0 / math.sqrt(sum(c * c for c in counts.values()))
            values = {col: c * scale for col, c in counts.items()}
        else:
            values = {}
        for name, value in signal_features(lang, tags, extra):
            col = column(name)
            values[col] = values.get(col, 0.0) + value
        columns = sorted(values)
        return Row(columns, [values[c] for c in columns])


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
        kinds = Counter(e.reason for e in tag.evidence)
        found += [(prefix + kind, float(min(n, MAX_KIND_COUNT))) for kind, n in kinds.items()]
    if extra:
        found += sorted(extra.items())
    return found
