"""Which of many literal hints occur in a text, found in one pass (Aho–Corasick).

The detectors guard their big regexes with hints, substrings without which a rule cannot
match ("contrase" before the password rule, "trabaj" before "trabajo en X"). Checked one by
one with `in`, a few hundred hints cost more than the rules they spare (each `in` rescans the
post); an Aho–Corasick automaton (pyahocorasick) finds every occurrence of all of them in a
single scan, and each rule then asks whether any of *its* hints was among those found.
The answer is the same as `any(hint in text for hint in hints)`, so no rule sees fewer posts.
The lower-cased text they scan is made once per Doc (`doc_lowered`).
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick
from spacy.tokens import Doc

from classifiers.context import doc_text, extension_key, lowered_for_gates

_LOWERED_KEY = extension_key("vigia_lowered")
FEW = 3  # up to this many hints, `found` checks each with `in`


class HintIndex:
    """An automaton over a fixed set of hints (matched case-sensitively: pass lower-cased
    text and lower-case hints)."""

    def __init__(self, hints: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        unique = tuple(dict.fromkeys(hints))
        for hint in unique:
            if not hint:
                raise ValueError("a hint must not be empty")
            self._automaton.add_word(hint, hint)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()
        # A few hints are found faster one `in` each than by walking the automaton.
        self._few = unique if len(unique) <= FEW else None

    def found(self, text: str) -> set[str]:
        """Every hint occurring in text (overlapping occurrences included)."""
        if self._few is not None:
            return {hint for hint in self._few if hint in text}
        return {hint for _, hint in self._automaton.iter(text)}


def any_of(found: set[str], hints: frozenset[str]) -> bool:
    """Did one of `hints` occur (`found` from `HintIndex.found`)?"""
    return not found.isdisjoint(hints)


def doc_lowered(doc: Doc) -> tuple[str, str | None]:
    """The Doc's text lower-cased, and as `context.lowered_for_gates` gives it (None where
    term gates cannot be trusted): made once per Doc for the hint scans and term gates of
    the leak and employee detectors, which would otherwise lower-case the post four times."""
    found = doc.user_data.get(_LOWERED_KEY)
    if found is None:
        text = doc_text(doc)
        gates = lowered_for_gates(text)
        found = doc.user_data[_LOWERED_KEY] = (text.lower() if gates is None else gates, gates)
    return found  # type: ignore[no-any-return]
