"""Sentence windows: what of a long article the classifiers read for one brand.

A news article that names the brand once in its fifth paragraph is about the brand in that
paragraph; its other sentences say how the author feels about something else, and reading
them costs classification time in proportion to their length. So a text longer than any
social post (`LONG_TEXT`: Mastodon's default limit, above X's and Bluesky's) is classified
on windows: every sentence naming the brand (its name or a positive term of its query, as
`classifiers.mentions` finds them; sentences as `classifiers.sentences` splits them) and
the `FOLLOWING` sentences after it (which refer back to it: "Calderix sube precios. Sus
clientes están furiosos."), the windows joined by line breaks (a sentence end for every
component). Sentiment is then the sentiment *at the brand*, and evidence offsets are mapped
back to the full text (`Window.remap`), which is what excerpts and stored tags refer to.

Short texts, texts where no brand term can be located (a query that matched on a wildcard,
say) and texts whose windows would cover everything are classified whole.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from classifiers.context import BrandProfile
from classifiers.mentions import brand_names, find_names
from classifiers.sentences import sentence_starts
from classifiers.tags import TagResult

#: Texts longer than this (characters) are classified on windows around the brand.
LONG_TEXT = 500
#: Sentences kept after each sentence that names the brand (none before: a sentence
#: rarely refers forward to a name it has not met yet).
FOLLOWING = 1
#: Between two windows: a line break ends a sentence for the splitter and the sentiment scorer.
SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class Window:
    """The windowed text and, per piece, (start in `text`, start in the full text)."""

    text: str
    pieces: tuple[tuple[int, int], ...]

    def to_full(self, offset: int) -> int:
        """The full text's offset for an offset of the window text."""
        index = max(0, bisect.bisect_right([start for start, _ in self.pieces], offset) - 1)
        start, full_start = self.pieces[index]
        return full_start + (offset - start)

    def _end_to_full(self, start: int, end: int) -> int:
        # An end offset is exclusive: map its last character, so that a span ending where a
        # piece ends is not moved to where the next piece starts in the full text.
        return self.to_full(end - 1) + 1 if end > start else self.to_full(end)

    def remap(self, tags: tuple[TagResult, ...]) -> tuple[TagResult, ...]:
        """The tags with their evidence spans moved to the full text's offsets."""
        return tuple(
            replace(tag, evidence=tuple(
                replace(e, start=self.to_full(e.start), end=self._end_to_full(e.start, e.end))
                for e in tag.evidence
            )) if tag.evidence else tag
            for tag in tags
        )


def brand_window(
    text: str, profile: BrandProfile, matched: tuple[str, ...] = ()
) -> Window | None:
    """The windows of `text` around the brand's mentions; None to classify the whole text."""
    if len(text) <= LONG_TEXT:
        return None
    hits = [start for start, _ in find_names(text, brand_names(profile) + tuple(matched))]
    if not hits:
        return None
    starts = sentence_starts(text)
    if len(starts) < 2 or min(hits) < starts[1]:
        return None
    ends = [*starts[1:], len(text)]
    chosen: set[int] = set()
    for hit in hits:
        sentence = bisect.bisect_right(starts, hit) - 1
        chosen.update(range(sentence, min(len(starts), sentence + FOLLOWING + 1)))
    if len(chosen) == len(starts):
        return None
    spans: list[list[int]] = []
    for sentence in sorted(chosen):
        if spans and spans[-1][1] == starts[sentence]:
            spans[-1][1] = ends[sentence]
        else:
            spans.append([starts[sentence], ends[sentence]])
    parts, pieces, length = [], [], 0
    for start, end in spans:
        if parts:
            parts.append(SEPARATOR)
            length += len(SEPARATOR)
        pieces.append((length, start))
        parts.append(text[start:end])
        length += end - start
    return Window("".join(parts), tuple(pieces))
