"""A cheap, exact pre-test for big case-insensitive regexes.

Python's `re` runs an IGNORECASE pattern about three times slower than the same pattern
without the flag: every literal becomes a case-folding comparison and the literal-prefix
optimisations are lost. Most posts match none of the detectors' large alternations, so a
detector can first ask `Caseless.may_match` on the lower-cased text, with a lower-cased twin
of the pattern compiled *without* IGNORECASE, and run the real pattern on the real text (whose
matches give the evidence, with its original spelling) only when the twin found something
(the confidential detector does so for its material-event alternation).

The twin is a necessary condition, never a guess: on text whose characters have no case
variants beyond `str.lower()` (checked by `lowered_for_twins`), a case-insensitive match of the
pattern in the text is a case-sensitive match of the lower-cased pattern in the lower-cased
text at the same offsets. Where that cannot be guaranteed (a pattern that cannot be lowered
safely, or text with characters such as 'ſ', 'ı' or 'ς' that `re` folds specially, or that
change length when lower-cased) the pre-test answers True and the real pattern decides.
"""

from __future__ import annotations

import re

from classifiers.context import SPECIAL_FOLDS

# Escapes whose meaning changes when lower-cased (\S → \s, \W → \w, \B, \D, \A, \Z, \N{…}…).
_UPPER_ESCAPE = re.compile(r"\\[A-Z]")


def lowered_for_twins(text: str) -> str | None:
    """`text.lower()` when twins give exact answers on it, else None (the real patterns run)."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    if len(lowered) != len(text) or SPECIAL_FOLDS.search(lowered):
        return None
    return lowered


class Caseless:
    """A case-insensitive compiled pattern and its lower-cased, case-sensitive twin."""

    __slots__ = ("pattern", "twin")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        if not pattern.flags & re.IGNORECASE:
            raise ValueError(f"Caseless needs an IGNORECASE pattern: {pattern.pattern[:60]!r}")
        self.pattern = pattern
        source = pattern.pattern
        twin = None
        if not _UPPER_ESCAPE.search(source):
            try:
                twin = re.compile(source.lower(), pattern.flags & ~re.IGNORECASE)
            except re.error:  # e.g. a range such as [Z-a] that lower-casing inverts
                twin = None
        self.twin = twin

    def may_match(self, lowered: str | None) -> bool:
        """False only when the pattern certainly has no match in the text whose
        `lowered_for_twins` is `lowered` (None: cannot tell, so True)."""
        if lowered is None or self.twin is None:
            return True
        return self.twin.search(lowered) is not None
