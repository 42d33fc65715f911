"""What the sentiment lexicons say about a word or phrase, inflections included.

Separate from the scorer (`classifiers.sentiment`), which applies the rules: this module only
answers "what valence does this folded word carry, and how emphasised is it" (trying the word,
then it de-elongated, then simple Spanish or English suffix stripping, then stems), and
indexes the lexicons' multi-word terms for the scorer's left-to-right pass.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from classifiers.lexicons import Lexicon
from monitor.core.textfold import fold

ELONGATED, SUPERLATIVE = 1.2, 1.3
MAX_CACHED = 200_000
_ELONGATION = re.compile(r"(\w)\1{2,}")
_SUPERLATIVE = re.compile(r"isim([oa])s?$")


class Phrase(NamedTuple):
    """A multi-word term as the folded forms of its tokens, with its role and value."""

    norms: tuple[str, ...]
    kind: str
    value: float


def compile_phrases(
    nlp: Language, lexicon: Lexicon
) -> dict[str, dict[str | None, tuple[Phrase, ...]]]:
    """Multi-word terms by first and second folded token, longest first.

    A spaCy PhraseMatcher over the same patterns decides which term wins when two terms
    tokenise to the same forms ("kind of" is both a phrase and an intensifier): the one it
    reports first, as the original matcher-based scorer did.
    """
    matcher = PhraseMatcher(nlp.vocab, attr="NORM")
    patterns: dict[tuple[str, ...], Doc] = {}
    roles: dict[int, tuple[str, float]] = {}
    for kind, terms in (
        ("sent", lexicon.phrases),
        ("int", {t: v for t, v in lexicon.intensifiers.items() if " " in t}),
        ("neg", dict.fromkeys((t for t in lexicon.negators if " " in t), 1.0)),
        ("contrast", dict.fromkeys((t for t in lexicon.contrast if " " in t), 1.0)),
    ):
        for term, value in terms.items():
            pattern = nlp.make_doc(term)
            for token in pattern:
                token.norm_ = fold(token.text)
            key = f"{kind}\t{term}"
            matcher.add(key, [pattern])
            roles[nlp.vocab.strings[key]] = (kind, value)
            patterns.setdefault(tuple(token.norm_ for token in pattern), pattern)
    grouped: dict[str, dict[str | None, list[Phrase]]] = {}
    for norms, pattern in patterns.items():
        if not norms:
            continue
        key = next(k for k, s, e in matcher(pattern) if s == 0 and e == len(pattern))
        second = norms[1] if len(norms) > 1 else None
        grouped.setdefault(norms[0], {}).setdefault(second, []).append(
            Phrase(norms, *roles[key])
        )
    return {
        first: {
            second: tuple(sorted(found, key=lambda p: -len(p.norms)))
            for second, found in by_second.items()
        }
        for first, by_second in grouped.items()
    }


class Valence:
    """Word look-ups in one language's lexicon, memoised (the same words recur in every post)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._cache: dict[str, tuple[float, float] | None] = {}


    def lookup(self, word: str) -> tuple[float, float] | None:
        """(valence, emphasis multiplier) for a folded word, or None; memoised."""
        found = self._cache.get(word, False)
        if found is not False:
            return found  # type: ignore[return-value]
        result = self._lookup(word)
        if len(self._cache) < MAX_CACHED:
            self._cache[word] = result
        return result

    def _lookup(self, word: str) -> tuple[float, float] | None:
        words, stems = self.lexicon.words, self.lexicon.stems
        if word in words:
            return words[word], 1.0
        candidates: list[tuple[str, float]] = [(word, 1.0)]
        squeezed = _ELONGATION.sub(r"\1\1", word)
        if squeezed != word:
            candidates += [(squeezed, ELONGATED), (_ELONGATION.sub(r"\1", word), ELONGATED)]
        for base, emphasis in list(candidates):
            candidates += [(form, emphasis * boost) for form, boost in self._inflections(base)]
        for form, emphasis in candidates:
            if form in words:
                return words[form], emphasis
        for form, emphasis in candidates:
            for size in range(len(form), 3, -1):
                if form[:size] in stems:
                    return stems[form[:size]], emphasis
        return None

    def _inflections(self, word: str) -> list[tuple[str, float]]:
        forms: list[tuple[str, float]] = []
        if len(word) < 4:
            return forms
        if self.lexicon.lang == "es":
            superlative = _SUPERLATIVE.search(word)
            if superlative:
                stem = word[: superlative.start()]
                forms += [(stem + end, SUPERLATIVE) for end in (superlative.group(1), "o", "e", "")]
                forms.append((stem.removesuffix("qu") + "co", SUPERLATIVE))  # riquísimo
            if word.endswith("mente"):
                forms += [(word[:-5], 1.0), (word[:-6] + "o", 1.0)]
            if word.endswith("es"):
                forms.append((word[:-2], 1.0))
            if word.endswith("s"):
                forms.append((word[:-1], 1.0))
            for end in ("as", "os", "a"):
                if word.endswith(end):
                    forms.append((word[: -len(end)] + "o", 1.0))
        else:
            if word.endswith("ies") or word.endswith("ied"):
                forms.append((word[:-3] + "y", 1.0))
            for end in ("es", "s", "ed", "ing", "ly", "d"):
                # A bare "-d" only ends a past form after an "e" ("liked"): "fund" is not "fun".
                if word.endswith(end) and (end != "d" or word.endswith("ed")):
                    base = word[: -len(end)]
                    forms += [(base, 1.0), (base + "e", 1.0)]
                    if len(base) > 2 and base[-1] == base[-2]:
                        forms.append((base[:-1], 1.0))
        return forms
