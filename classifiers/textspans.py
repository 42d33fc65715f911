"""Sentences, clauses and brand/competitor mentions located in a post, by character offsets.

Policy and complaint rules need to know *who* a judgement is about ("Fonaris son unos
ladrones" is about a competitor, "el soporte de Calderix es horrible" about the brand) and
which words belong together. Sentences are split by `classifiers.sentences` and mentions
found by `classifiers.mentions` (re-exported here), by character offsets in the analysed text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from spacy.tokens import Doc

from classifiers.context import extension_key
from classifiers.mentions import mentions
from classifiers.sentences import sentence_starts
from classifiers.termlists import TermHit, doc_text

__all__ = ["Segments", "mentions", "sentence_starts", "target_of"]

# Clauses end at punctuation and at coordinating / contrastive conjunctions.
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014]|\s(?:y|e|pero|aunque|mientras|and|but|while|although|though)\s", re.IGNORECASE
)
if not Doc.has_extension("vigia_segments"):
    Doc.set_extension("vigia_segments", default=None)
_SEGMENTS_KEY = extension_key("vigia_segments")


def _starts(pattern: re.Pattern[str], text: str) -> list[int]:
    return [0] + [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]


@dataclass(frozen=True, slots=True)
class Segments:
    """Sentence and clause start offsets of one text, for "which sentence is offset x in"."""

    sentences: list[int]
    clauses: list[int]

    @classmethod
    def of(cls, text: str) -> Segments:
        sentences = sentence_starts(text)
        clauses = sorted(set(sentences) | set(_starts(_CLAUSE_BREAK, text)))
        return cls(sentences, clauses)

    @classmethod
    def of_doc(cls, doc: Doc) -> Segments:
        """The Doc's segments, computed once and shared by the components that need them
        (`doc._.vigia_segments`)."""
        found = doc.user_data.get(_SEGMENTS_KEY)
        if found is None:
            found = doc.user_data[_SEGMENTS_KEY] = cls.of(doc_text(doc))
        return found

    def sentence(self, offset: int) -> int:
        """Index of the sentence holding the character at offset."""
        return bisect.bisect_right(self.sentences, offset) - 1

    def clause(self, offset: int) -> int:
        return bisect.bisect_right(self.clauses, offset) - 1


def target_of(start: int, found: list[TermHit], segments: Segments) -> TermHit | None:
    """The mention a judgement at `start` is most likely about.

    The nearest mention before it in its clause, else the first after it in its clause, else
    the nearest before it in its sentence, else the last of the previous sentence ("Fonaris?
    Held together with duct tape").
    """
    if not found:
        return None
    clause, sentence = segments.clause(start), segments.sentence(start)
    before = [m for m in found if m.start < start]
    in_clause = [m for m in before if segments.clause(m.start) == clause]
    if in_clause:
        return in_clause[-1]
    after = [m for m in found if m.start >= start and segments.clause(m.start) == clause]
    if after:
        return after[0]
    in_sentence = [m for m in before if segments.sentence(m.start) == sentence]
    if in_sentence:
        return in_sentence[-1]
    previous = [m for m in before if segments.sentence(m.start) == sentence - 1]
    return previous[-1] if previous else None
