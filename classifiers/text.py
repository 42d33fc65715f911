"""Text normalisation shared by the query matcher and the classifiers.

People write brand names and opinions without accents, in capitals, with hashtags and handles
("PESIMO servicio #calderix"), so every comparison in Vigía happens on *folded* text: casefolded
and stripped of combining accents ("Móvil" → "movil", "PÉSIMO" → "pesimo"). Note that folding
also maps "ñ" to "n" ("año" = "ano"); that is the price of accent-insensitivity and is harmless
for matching and lexicon look-ups.

`MatchText` is the form a post is turned into *once*, so that every brand query can then be
evaluated with a few set look-ups and substring checks on a padded string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.core.textfold import fold

# Words: runs of letters/digits/underscore. Handles and hashtags: '@'/'#' at a word start
# (so the '@' inside "prensa@calderix.es" does not make "@calderix" a handle).
WORD = re.compile(r"\w+")
TAG = re.compile(r"(?<!\w)[@#]\w+")
# Masked tokens are replaced by this placeholder, which can never equal a folded word.
MASK = "\x00"
# For ASCII text (most folded posts), word tokens are the runs left after mapping every
# ASCII non-word character to a space: the same tokens as WORD.findall, about twice as fast.
_ASCII_NON_WORD = {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}


def words(text: str) -> list[str]:
    """Folded word tokens for matching: '@Calderix's Móvil!' → ['calderix', 's', 'movil']."""
    return _word_tokens(fold(text))


def _word_tokens(folded: str) -> list[str]:
    """WORD.findall(folded), with a faster path for ASCII text."""
    if folded.isascii():
        return folded.translate(_ASCII_NON_WORD).split()
    return WORD.findall(folded)


@dataclass(frozen=True, slots=True)
class MatchText:
    """A post prepared once for matching against every brand query.

    `padded` is the folded word tokens joined by single spaces with a space at each end, so a
    phrase matches on word boundaries with one substring check (`" calderix movil " in padded`)
    and a prefix wildcard with another (`" calder" in padded`). `vocab` is the set of those
    words; `tags` the set of folded handles and hashtags ("@calderix", "#calderix"); `folded`
    the whole folded text, for the rare terms (domains such as "calderix.es") that need the
    punctuation between words.
    """

    folded: str
    padded: str
    vocab: frozenset[str]
    tags: frozenset[str]

    @classmethod
    def of(cls, text: str) -> MatchText:
        folded = fold(text)
        tokens = _word_tokens(folded)
        return cls(
            folded=folded,
            padded=f" {' '.join(tokens)} ",
            vocab=frozenset(tokens),
            tags=frozenset(TAG.findall(folded) if ("@" in folded or "#" in folded) else ()),
        )

    def masked(self, phrases: tuple[str, ...]) -> MatchText:
        """The same text with every occurrence of the given padded phrases blanked out.

        Used for look-alike exclusions: masking " calle calderix " leaves a genuine "calderix"
        elsewhere in the post matchable. Token positions are preserved (one mask per word).
        """
        padded = self.padded
        changed = False
        for phrase in phrases:
            if phrase in padded:
                blank = " " + " ".join(MASK for _ in phrase.split()) + " "
                while phrase in padded:  # loop: replace() skips overlapping occurrences
                    padded = padded.replace(phrase, blank)
                changed = True
        if not changed:
            return self
        return MatchText(
            folded=self.folded, padded=padded, vocab=frozenset(padded.split()), tags=self.tags
        )


def positions(text: MatchText) -> dict[str, list[int]]:
    """Word → token positions of a MatchText, for proximity queries."""
    index: dict[str, list[int]] = {}
    for position, token in enumerate(text.padded.split()):
        index.setdefault(token, []).append(position)
    return index
