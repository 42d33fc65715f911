"""Which of many literal hints occur in a text, found in one pass (Aho–Corasick).

The detectors guard their big regexes with hints, substrings without which a rule cannot
match ("contrase" before the password rule, "trabaj" before "trabajo en X"). Checked one by
one with `in`, a few hundred hints cost more than the rules they spare (each `in` rescans the
post); an Aho–Corasick automaton (pyahocorasick) finds every occurrence of all of them in a
single scan, and each rule then asks whether any of *its* hints was among those found.
The answer is the same as `any(hint in text for hint in hints)`, so no rule sees fewer posts.
The lower-cased text they scan is made once per Doc (`classifiers.context.doc_lowered`).
No spaCy here: the leak detectors that masking reuses (`classifiers.masking`, imported by
every email path) need only this, and `import spacy` costs about a second.
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick

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
