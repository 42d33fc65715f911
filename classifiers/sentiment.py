"""Lexicon- and rule-based sentiment as a spaCy component (`vigia_sentiment`).

Why rules and not a model: the project must run offline on blank pipelines, in Spanish and
English, and every tag must show its evidence. The component sums the valence of sentiment
words, multi-word expressions and emoji (data files, see `classifiers.lexicons`), adjusted by:

* **negation**: a negator ("no", "nunca", "sin", "not", "n't", "without") up to 3 words before
  a sentiment word or phrase (never an emoji) flips and dampens it (× −0.74, as VADER does):
  "no está mal" is mildly positive, "no es bueno" negative. Spanish negative concord
  ("no … nada mal") flips once. Commas and sentence ends close the scope.
* **intensifiers / diminishers** up to 2 words before ("muy", "super", "really" ×1.3–1.5;
  "un poco", "slightly" ×0.6; "apenas", "barely" flip and dampen).
* **contrast**: in a sentence with "pero" / "but" / "sin embargo" / "however", what comes
  before counts ×0.5 and what comes after ×1.5.
* **emphasis**: a word in CAPITALS (in a text that is not all capitals) ×1.25, an elongated
  word ("malísimoooo") ×1.2, a Spanish superlative ("carísimo" → "caro") ×1.3, and each "!"
  (up to 3) adds 0.25 to the total's magnitude.

Inflections: look-ups try the folded word, then it de-elongated, then simple suffix
stripping (es: plural -s/-es, gender -a/-as/-os → -o, -ísimo, -mente; en: -s/-es/-ies,
-ed/-ing with or without a final e or doubled consonant, -ly), and finally stems (`estaf*`).

The total is squashed to a polarity in (−1, 1) with total/√(total² + 15) (VADER's
normalisation); |polarity| < NEUTRAL_BAND is neutral. `doc._.sentiment` is a `TagResult` whose
score is that signed polarity and whose evidence lists the terms behind the label.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from classifiers.lexicons import Lexicon, load
from classifiers.tags import Evidence, TagResult
from classifiers.text import fold

NEUTRAL_BAND = 0.3
NEGATION_FACTOR = -0.74
NEGATION_WINDOW = 3
INTENSIFIER_WINDOW = 2
CAPS, ELONGATED, SUPERLATIVE = 1.25, 1.2, 1.3
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
EXCLAMATION, MAX_EXCLAMATIONS = 0.25, 3
MAX_EVIDENCE = 8
_SENTENCE_END = frozenset({".", "!", "?", ";", "...", "…", "¡", "¿", "\n"})
_SCOPE_END = _SENTENCE_END | {",", ":", "—", "(", ")"}
_ELONGATION = re.compile(r"(\w)\1{2,}")
_SUPERLATIVE = re.compile(r"isim([oa])s?$")

if not Doc.has_extension("sentiment"):
    Doc.set_extension("sentiment", default=None)


@dataclass(slots=True)
class _Unit:
    """A word, phrase or emoji with its role in the sentence (one pass builds these)."""

    start: int
    end: int
    kind: str  # "sent", "neg", "int", "contrast", "end", "scope", "other"
    value: float = 0.0
    emphasis: float = 1.0
    emoji: bool = False


class SentimentScorer:
    """The rules above for one language; `__call__` is the spaCy component."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self._cache: dict[str, tuple[float, float] | None] = {}
        # One match key per term, so a match maps straight back to its role and value.
        self._keys: dict[int, tuple[str, float]] = {}
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
                self.matcher.add(key, [pattern])
                self._keys[nlp.vocab.strings[key]] = (kind, value)

    # ------------------------------------------------------------------ look-ups

    def lookup(self, word: str) -> tuple[float, float] | None:
        """(valence, emphasis multiplier) for a folded word, or None; memoised."""
        found = self._cache.get(word, False)
        if found is not False:
            return found  # type: ignore[return-value]
        result = self._lookup(word)
        if len(self._cache) < 200_000:
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
                if word.endswith(end):
                    base = word[: -len(end)]
                    forms += [(base, 1.0), (base + "e", 1.0)]
                    if len(base) > 2 and base[-1] == base[-2]:
                        forms.append((base[:-1], 1.0))
        return forms

    # ------------------------------------------------------------------ scoring

    def _units(self, doc: Doc) -> list[_Unit]:
        lexicon = self.lexicon
        folded = [fold(token.text).replace("\ufe0f", "") for token in doc]
        for token, norm in zip(doc, folded, strict=True):
            token.norm_ = norm
        phrase_at: dict[int, tuple[int, str, float]] = {}
        for match_id, start, end in sorted(
            self.matcher(doc), key=lambda m: (m[1], -(m[2] - m[1]))
        ):
            if start not in phrase_at and not any(
                s < start < e for s, (e, _, _) in phrase_at.items()
            ):
                label, value = self._keys[match_id]
                phrase_at[start] = (end, label, value)
        shouting = sum(1 for t in doc if t.is_upper and len(t) > 1) > 0.5 * max(1, len(doc))
        units: list[_Unit] = []
        i = 0
        while i < len(doc):
            if i in phrase_at:
                end, label, value = phrase_at[i]
                units.append(_Unit(i, end, label, value))
                i = end
                continue
            word, token = folded[i], doc[i]
            if word in _SENTENCE_END or "\n" in token.text:
                units.append(_Unit(i, i + 1, "end"))
            elif word in _SCOPE_END:
                units.append(_Unit(i, i + 1, "scope"))
            elif word in lexicon.contrast:
                units.append(_Unit(i, i + 1, "contrast"))
            elif word in lexicon.negators:
                units.append(_Unit(i, i + 1, "neg"))
            elif word in lexicon.intensifiers:
                units.append(_Unit(i, i + 1, "int", lexicon.intensifiers[word]))
            else:
                found = self.lookup(word) if not token.is_space else None
                if found is None or found[0] == 0:
                    units.append(_Unit(i, i + 1, "other"))
                else:
                    emphasis = found[1]
                    if not shouting and token.is_upper and len(token) > 1 and token.is_alpha:
                        emphasis *= CAPS
                    units.append(_Unit(i, i + 1, "sent", found[0], emphasis, not token.is_alpha))
            i += 1
        return units

    def __call__(self, doc: Doc) -> Doc:
        units = self._units(doc)
        contributions: list[tuple[_Unit, float, bool, bool]] = []
        sentence_start = 0
        contrast_at: int | None = None
        weights = [1.0] * len(units)
        for index, unit in enumerate([*units, _Unit(len(doc), len(doc), "end")]):
            if unit.kind == "contrast":
                contrast_at = index
            if unit.kind == "end" and contrast_at is not None:
                for j in range(sentence_start, min(index, len(units))):
                    weights[j] = BEFORE_CONTRAST if j < contrast_at else AFTER_CONTRAST
                contrast_at = None
            if unit.kind == "end":
                sentence_start = index + 1
        for index, unit in enumerate(units):
            if unit.kind != "sent" or unit.value == 0:
                continue
            value = unit.value * unit.emphasis
            negated = intensified = False
            context = [] if unit.emoji else units[max(0, index - NEGATION_WINDOW) : index]
            for back, prev in enumerate(reversed(context)):
                if prev.kind in ("end", "scope", "contrast"):
                    break
                if prev.kind == "neg" and not negated:
                    value *= NEGATION_FACTOR
                    negated = True
                elif prev.kind == "int" and back < INTENSIFIER_WINDOW:
                    value *= prev.value
                    if prev.value < 0:
                        negated = True
                    else:
                        intensified = intensified or prev.value > 1
            intensified = intensified or unit.emphasis > 1
            contributions.append((unit, value * weights[index], negated, intensified))
        total = sum(c[1] for c in contributions)
        if total:
            bangs = min(MAX_EXCLAMATIONS, doc.text.count("!"))
            total += math.copysign(EXCLAMATION * bangs, total)
        polarity = total / math.sqrt(total * total + 15) if total else 0.0
        label = "neutral"
        if polarity >= NEUTRAL_BAND:
            label = "positive"
        elif polarity <= -NEUTRAL_BAND:
            label = "negative"
        doc._.sentiment = TagResult(
            family="sentiment",
            label=label,
            score=round(polarity, 4),
            evidence=self._evidence(doc, contributions, label),
        )
        return doc

    def _evidence(
        self, doc: Doc, contributions: list[tuple[_Unit, float, bool, bool]], label: str
    ) -> tuple[Evidence, ...]:
        sign = {"positive": 1, "negative": -1}.get(label, 0)
        chosen = [c for c in contributions if sign == 0 or c[1] * sign > 0]
        chosen = sorted(chosen, key=lambda c: -abs(c[1]))[:MAX_EVIDENCE]
        evidence = []
        for unit, _, negated, intensified in sorted(chosen, key=lambda c: c[0].start):
            span = doc[unit.start : unit.end]
            base = "positive" if unit.value > 0 else "negative"
            kind = "emoji" if unit.emoji else "phrase" if unit.end - unit.start > 1 else "word"
            reason = f"{base} {kind}"
            if negated:
                reason = f"negated {reason}"
            if intensified:
                reason = f"intensified {reason}"
            evidence.append(Evidence(span.start_char, span.end_char, span.text, reason))
        return tuple(evidence)


@Language.factory("vigia_sentiment", default_config={"lang": ""})
def make_sentiment(nlp: Language, name: str, lang: str) -> SentimentScorer:
    """spaCy factory: the lexicon of `lang` (defaults to the pipeline's language)."""
    return SentimentScorer(nlp, load(lang or nlp.lang))
