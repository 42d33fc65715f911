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
* **questions**: blame said in a question counts ×0.75 ("¿todavía no ha llegado el 5G?"
  asks, it does not complain), praise ×0.6 ("any good?", "¿merece la pena?" ask for an
  opinion).
* **reported news**: in a post with a reporting marker ("according to", "según", "confirmed",
  "portavoz"; `reporting_<lang>.txt`) everything counts ×0.5: it describes events.
* **sarcastic thanks**: thanks closing a post that only complains and asks nothing count
  against ("... y ahora 150€ de penalización. Gracias, de verdad").
* **irony**: with an irony emoji (🙃 🙄 😒) and a negative word or phrase in the post, its
  praise words count against ("genial, otra vez sin fibra 🙃").
* **brand targeting**: each judgement belongs to the mention it is most likely about; one
  about a competitor is dropped, unless it compares the competitor favourably with the brand
  ("Fonaris es mejor que Calderix"), which counts against the brand; blame on a competitor in
  a post that names the brand counts for the brand at half weight (the brand is offered as the
  better choice). That rule is `classifiers.sentiment_target`.

Inflections (`classifiers.valence`): look-ups try the folded word, then it de-elongated, then suffix
stripping (es: plural -s/-es, gender -a/-as/-os → -o, -ísimo, -mente; en: -s/-es/-ies,
-ed/-ing with or without a final e or doubled consonant, -ly), and finally stems (`estaf*`).

The total is squashed to a polarity in (−1, 1) with total/√(total² + 15) (VADER's
normalisation); |polarity| < NEUTRAL_BAND is neutral. `doc._.sentiment` is a `TagResult` whose
score is that signed polarity and whose evidence lists the terms behind the label.

Speed: the scorer runs on every matching post, so it works from the Doc's ORTH ids, never from
spaCy Token objects. What a word type contributes (folded form, role, valence, emphasis,
capitals, "!") depends on its text alone, so it is computed once per distinct word and cached
by orth id (`Word`); phrases are matched on those folded forms. Results are identical to the
token-by-token formulation, which the equivalence check in the change notes compared.
"""

from __future__ import annotations

import math
from itertools import compress
from operator import itemgetter

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.batching import BatchedComponent
from classifiers.context import extension_key
from classifiers.lexicons import LEXICON_DIR, Lexicon, load, read_terms
from classifiers.sentences import ends_sentence
from classifiers.sentiment_rules import (
    IRONY_MARKERS,
    Contribution,
    Word,
    contrast_weights,
    irony_flipped,
    questions_damped,
    sarcastic_thanks,
)
from classifiers.sentiment_target import about_the_brand
from classifiers.tags import Evidence, TagResult
from classifiers.termlists import doc_offsets, doc_orths, doc_text
from classifiers.valence import Phrase, Valence, compile_phrases
from monitor.core.textfold import fold

NEUTRAL_BAND = 0.3
NEGATION_FACTOR = -0.74
NEGATION_WINDOW = 3
INTENSIFIER_WINDOW = 2
CAPS = 1.25
EXCLAMATION, MAX_EXCLAMATIONS = 0.25, 3
# A post attributing what it says to a source ("according to", "según", "confirmed") reports
# news: its sentiment words describe events, not the writer's judgement.
REPORTED = 0.5
MAX_EVIDENCE = 8
# Word types remembered per scorer; past this the cache is emptied and refilled (a long-running
# process meets an unbounded stream of names, numbers and URLs).
MAX_CACHED_WORDS = 200_000
_SCOPE_END = frozenset({",", ":", "—", "(", ")"})
_BREAKS = frozenset({"end", "scope", "contrast"})
_SIGNS = {"positive": 1, "negative": -1}

if not Doc.has_extension("sentiment"):
    Doc.set_extension("sentiment", default=None)
# Where `doc._.sentiment` lives in doc.user_data (written and read without a `doc._` object).
SENTIMENT_KEY = extension_key("sentiment")


def doc_sentiment(doc: Doc) -> TagResult | None:
    """The sentiment TagResult the component left on the Doc (`doc._.sentiment`), or None."""
    found = doc.user_data.get(SENTIMENT_KEY)
    return found if isinstance(found, TagResult) else None


# C-level field getters, so per-token passes run in map()/compress() rather than Python loops.
_KIND, _LOUD, _BANGS, _FOLLOW, _BARE = (
    itemgetter(Word._fields.index(name)) for name in ("kind", "loud", "bangs", "follow", "bare")
)


class SentimentScorer(BatchedComponent):
    """The rules above for one language; `__call__` is the spaCy component."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.vocab = nlp.vocab
        self.valence = Valence(lexicon)
        self._words: dict[int, Word] = {}
        self._phrases = compile_phrases(nlp, lexicon)
        reporting = LEXICON_DIR / f"reporting_{lexicon.lang}.txt"
        self._reporting = read_terms(reporting) if reporting.exists() else frozenset()

    # ------------------------------------------------------------------ word types

    def _word(self, orth: int) -> Word:
        """The cached facts about a word type, computed on first sight."""
        lexeme = self.vocab[orth]
        text = lexeme.orth_
        word = fold(text).replace("\ufe0f", "")
        lexicon = self.lexicon
        loud = lexeme.is_upper and len(text) > 1
        facts = {"loud": loud, "bangs": text.count("!"), "follow": self._phrases.get(word),
                 "bare": word.lstrip("#@")}
        if ends_sentence(text):  # the shared sentence rule (`classifiers.sentences`)
            info = Word(word, "end", **facts)
        elif word in _SCOPE_END:
            info = Word(word, "scope", **facts)
        elif word in lexicon.contrast:
            info = Word(word, "contrast", **facts)
        elif word in lexicon.negators:
            info = Word(word, "neg", **facts)
        elif word in lexicon.intensifiers:
            info = Word(word, "int", lexicon.intensifiers[word], **facts)
        else:
            found = self.valence.lookup(word) if not lexeme.is_space else None
            if found is None or found[0] == 0:
                info = Word(word, "other", **facts)
            else:
                info = Word(word, "sent", found[0], found[1], loud and lexeme.is_alpha,
                             not lexeme.is_alpha, **facts)
        if len(self._words) >= MAX_CACHED_WORDS:
            self._words.clear()
        self._words[orth] = info
        return info

    def _units(self, words: list[Word]) -> tuple[list[Word], list[int] | None]:
        """Units (words, with matched phrases as one unit) and each unit's first token.

        Without phrases the units are the words themselves and the starts None (identity).
        Phrases are matched leftmost-longest, never overlapping, as the rules require. Most
        candidates are common first words ("de", "no", "a"), rejected by their next word.
        """
        spans: list[tuple[int, Word]] = []
        n = len(words)
        done = 0
        for i in compress(range(n), map(_FOLLOW, words)):
            if i < done:
                continue
            follow: dict[str | None, tuple[Phrase, ...]] = words[i].follow or {}
            found = None
            for phrase in follow.get(words[i + 1].norm, ()) if i + 1 < n else ():
                size = len(phrase.norms)
                if i + size <= n and all(
                    words[i + k].norm == phrase.norms[k] for k in range(2, size)
                ):
                    found = phrase
                    break
            else:
                found = follow.get(None, (None,))[0]
            if found is not None:
                size = len(found.norms)
                spans.append((i, Word("", found.kind, found.value, size=size)))
                done = i + size
        if not spans:
            return words, None
        units: list[Word] = []
        starts: list[int] = []
        done = 0
        for start, unit in spans:
            units += words[done:start]
            starts += range(done, start)
            units.append(unit)
            starts.append(start)
            done = start + unit.size
        units += words[done:]
        starts += range(done, n)
        return units, starts

    # ------------------------------------------------------------------ scoring

    def __call__(self, doc: Doc) -> Doc:
        orths = doc_orths(doc)
        try:
            words = list(map(self._words.__getitem__, orths))
        except KeyError:  # a word type not seen yet (or the cache was just emptied)
            words = [self._words.get(orth) or self._word(orth) for orth in orths]
        units, starts = self._units(words)
        kinds = list(map(_KIND, units))
        weights = contrast_weights(kinds) if "contrast" in kinds else None
        shouting: bool | None = None  # computed only if a word in capitals needs it
        # (first token, unit, contribution, negated, intensified)
        contributions: list[Contribution] = []
        for index in compress(range(len(kinds)), map("sent".__eq__, kinds)):
            unit = units[index]
            if unit.value == 0:
                continue
            emphasis = unit.emphasis
            if unit.caps and shouting is None:
                shouting = sum(map(_LOUD, words)) > 0.5 * max(1, len(words))
            if unit.caps and not shouting:
                emphasis *= CAPS
            value = unit.value * emphasis
            negated = intensified = False
            context = [] if unit.emoji else units[max(0, index - NEGATION_WINDOW) : index]
            for back, prev in enumerate(reversed(context)):
                if prev.kind in _BREAKS:
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
            intensified = intensified or emphasis > 1
            if weights is not None:
                value *= weights[index]
            start = index if starts is None else starts[index]
            contributions.append((start, unit, value, negated, intensified))
        if contributions:
            # Substring tests on the text first: C-speed, and most posts ask nothing.
            text = doc_text(doc)
            if "?" in text or "¿" in text:
                contributions = questions_damped(words, contributions)
            if any(marker in text for marker in IRONY_MARKERS):
                contributions = irony_flipped(words, contributions)
            contributions = sarcastic_thanks(words, contributions)
            contributions = about_the_brand(doc, words, contributions)
            if not self._reporting.isdisjoint(map(_BARE, words)):
                contributions = [(c[0], c[1], c[2] * REPORTED, *c[3:]) for c in contributions]
        total = sum(c[2] for c in contributions)
        if total:
            bangs = min(MAX_EXCLAMATIONS, sum(map(_BANGS, words)))
            total += math.copysign(EXCLAMATION * bangs, total)
        polarity = total / math.sqrt(total * total + 15) if total else 0.0
        label = "neutral"
        if polarity >= NEUTRAL_BAND:
            label = "positive"
        elif polarity <= -NEUTRAL_BAND:
            label = "negative"
        doc.user_data[SENTIMENT_KEY] = TagResult(
            family="sentiment",
            label=label,
            score=round(polarity, 4),
            evidence=self._evidence(doc, contributions, label),
        )
        return doc

    def _evidence(
        self, doc: Doc, contributions: list[Contribution], label: str
    ) -> tuple[Evidence, ...]:
        if not contributions:
            return ()
        sign = _SIGNS.get(label, 0)
        chosen = [c for c in contributions if sign == 0 or c[2] * sign > 0]
        chosen = sorted(chosen, key=lambda c: -abs(c[2]))[:MAX_EVIDENCE]
        evidence = []
        orths, offsets, strings = doc_orths(doc), doc_offsets(doc), doc.vocab.strings
        text = doc_text(doc)
        for start, unit, _, negated, intensified in sorted(chosen, key=itemgetter(0)):
            # Offsets from the shared token columns: the same as the Span's, without making
            # Token or Span objects.
            last = start + unit.size - 1
            start_char, end_char = offsets[start], offsets[last] + len(strings[orths[last]])
            base = "positive" if unit.value > 0 else "negative"
            kind = "emoji" if unit.emoji else "phrase" if unit.size > 1 else "word"
            reason = f"{base} {kind}"
            if negated:
                reason = f"negated {reason}"
            if intensified:
                reason = f"intensified {reason}"
            evidence.append(Evidence(start_char, end_char, text[start_char:end_char], reason))
        return tuple(evidence)


@Language.factory(
    "vigia_sentiment", default_config={"lang": ""}, requires=["doc._.vigia_brand"],
    assigns=["doc._.sentiment"],
)
def make_sentiment(nlp: Language, name: str, lang: str) -> SentimentScorer:
    """spaCy factory: the lexicon of `lang` (defaults to the pipeline's language)."""
    return SentimentScorer(nlp, load(lang or nlp.lang))
