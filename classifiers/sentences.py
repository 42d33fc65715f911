"""Where sentences end: the one definition every classifier uses.

Windows around the brand (`classifiers.windows`), the sentences and clauses judgements are
attributed in (`classifiers.textspans.Segments`), the reach of a negator
(`classifiers.negation`), the sentiment scorer's scopes (`classifiers.sentiment`) and the
"starts a sentence" condition of token patterns (`classifiers.token_patterns`) all split
text here, so they agree on what a sentence is. Two views of the same rule: on characters
(`sentence_starts`, for raw text before it is tokenised) and on tokens (`ends_sentence`).

A sentence ends at a run of `.`, `!`, `?`, `…` or `;` followed by a space or the end of the
text (so "calderix.es" and "3.5" are not cut), at a line break, and before an opening `¡`/`¿`
that follows a space (Spanish opens questions and exclamations).
"""

from __future__ import annotations

import re

#: Characters whose run ends a sentence (when a space or the end follows).
END_CHARS = ".!?…;"
#: Marks that open a Spanish question or exclamation: a new sentence starts there.
OPENERS = "¡¿"
_BREAK = re.compile(
    "[" + re.escape(END_CHARS) + r"\n]+(?=\s|$)\s*|\n\s*|\s+(?=[" + OPENERS + "])"
)
_TOKEN_CHARS = frozenset(END_CHARS + OPENERS + ".")
# Every break holds one of these: a text without any has a single sentence (a quick search
# that spares the full pattern most of the short windows `negation` reads).
_BREAK_CHARS = re.compile("[" + re.escape(END_CHARS + OPENERS) + r"\n]")


def sentence_starts(text: str) -> list[int]:
    """Start offsets of the text's sentences (the first is 0)."""
    return [0] + [m.end() for m in _BREAK.finditer(text) if 0 < m.end() < len(text)]


def ends_sentence(token: str) -> bool:
    """Is this token a sentence boundary ("." "?!" "…" ";" "¿" a line break)?"""
    return "\n" in token or (bool(token) and all(c in _TOKEN_CHARS for c in token))


def last_sentence_start(text: str) -> int:
    """Where the sentence that `text` ends in starts (len(text) if a break ends the text)."""
    if _BREAK_CHARS.search(text) is None:
        return 0
    last = 0
    for match in _BREAK.finditer(text):
        last = match.end()
    return last
