"""The sentiment scorer's unit of meaning and the rules that adjust what each unit contributes.

`Word` is what one word type (or a matched phrase) brings; a `Contribution` is one unit's value
in a text, `(first token, unit, value, negated, intensified)`. The rules here are pure: they
take the text's words and contributions and return adjusted contributions (contrast weights,
questions, irony, sarcastic thanks), so each can be read and tested on its own;
`classifiers.sentiment` applies them.
"""

from __future__ import annotations

from typing import NamedTuple

from classifiers.valence import Phrase

# A question asks rather than judges ("¿sigue sin llegar el 5G?", "is this legit?").
QUESTION = 0.75
# Praise inside a question mostly asks for an opinion ("¿merece la pena?", "any good?", "¿qué
# tal va?"), while blame inside one is often rhetorical, so praise is damped further.
ASKED_PRAISE = 0.6
# Sarcastic thanks count against by their own value plus this much: a thanks worth 1 reads -2.
SARCASM = 1.0
# Irony markers: with them, praise next to a complaint is sarcastic ("genial, otra vez sin
# fibra 🙃", "great, down again 🙄"), so it counts against.
IRONY_MARKERS = frozenset({"🙃", "🙄", "😒"})
# Thanking words: closing a post that only complains, they are sarcastic ("... y ahora 150€ de
# penalización. Gracias Calderix, de verdad").
_THANKS = frozenset({"gracias", "thanks", "thank", "thx", "cheers", "ty"})
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5


class Word(NamedTuple):
    """What one word type (or a matched phrase, as one unit) brings to the rules.

    Everything here depends only on the token's text, so it is cached per orth id. `kind` is
    "end", "scope", "contrast", "neg", "int", "sent" or "other"; `caps` marks a word that gets
    the CAPS boost unless the whole text shouts; `loud` one that counts towards shouting.
    """

    norm: str
    kind: str
    value: float = 0.0
    emphasis: float = 1.0
    caps: bool = False
    emoji: bool = False
    loud: bool = False
    bangs: int = 0
    # Phrases starting with this word, by their second word (None: one-token phrases),
    # longest first; None when no phrase starts here.
    follow: dict[str | None, tuple[Phrase, ...]] | None = None
    size: int = 1  # tokens covered (phrases)
    bare: str = ""  # norm without a leading '#'/'@', as competitor names are compared


Contribution = tuple[int, Word, float, bool, bool]


def irony_flipped(
    words: list[Word], contributions: list[Contribution]
) -> list[Contribution]:
    """With an irony marker and a complaint in the post, its praise words count against.

    Only words and phrases flip, never emoji, and only when a word or phrase says something
    negative too (the marker itself does not count): "¡Genial! 🙃" alone stays as scored.
    """
    if not any(c[2] < 0 and not c[1].emoji for c in contributions) or IRONY_MARKERS.isdisjoint(
        word.norm for word in words
    ):
        return contributions
    return [
        (first, unit, -value, True, intensified) if value > 0 and not unit.emoji
        else (first, unit, value, negated, intensified)
        for first, unit, value, negated, intensified in contributions
    ]


def sarcastic_thanks(
    words: list[Word], contributions: list[Contribution]
) -> list[Contribution]:
    """Thanks that close a post of complaints count against ("Thanks a lot.").

    Fires only when the thanks (a word or a phrase starting with one) come last, every word
    or phrase before them is negative, and the post asks nothing: sincere thanks follow a
    fix (positive) or close a request ("¿cómo cambio el titular? Gracias.").
    """
    last = contributions[-1]
    if last[2] <= 0 or words[last[0]].norm not in _THANKS or any(
        "?" in word.norm or "¿" in word.norm for word in words
    ):
        return contributions
    before = [c for c in contributions[:-1] if not c[1].emoji]
    if not before or any(c[2] > 0 for c in before):
        return contributions
    return [*contributions[:-1], (last[0], last[1], -last[2] - SARCASM, True, last[4])]


def questions_damped(
    words: list[Word], contributions: list[Contribution]
) -> list[Contribution]:
    """Scale down what is said inside a question (× QUESTION).

    A question is the run of tokens up to a sentence end that holds a "?" ("¿Alguien sabe si
    todavía no ha llegado?"), or one opened by "¿". Rhetorical questions keep most of their
    weight, so "¿cómo podéis ser tan inútiles?" still counts.
    """
    in_question = [False] * len(words)
    start = 0
    opened = False
    for index, word in enumerate([*words, Word("", "end")]):
        if word.norm.startswith("¿"):
            opened = True
        if word.kind == "end" and not word.norm.startswith("¿"):
            if opened or "?" in word.norm:
                in_question[start:index] = [True] * (index - start)
            start, opened = index + 1, False
    return [
        (first, unit, value * (QUESTION if value < 0 else ASKED_PRAISE) if in_question[first]
         else value, negated, intensified)
        for first, unit, value, negated, intensified in contributions
    ]


def contrast_weights(kinds: list[str]) -> list[float]:
    """Per-unit weights: ×0.5 before and ×1.5 after the last contrast of a sentence."""
    weights = [1.0] * len(kinds)
    sentence_start = 0
    contrast_at: int | None = None
    for index, kind in enumerate([*kinds, "end"]):
        if kind == "contrast":
            contrast_at = index
        elif kind == "end":
            if contrast_at is not None:
                for j in range(sentence_start, min(index, len(kinds))):
                    weights[j] = BEFORE_CONTRAST if j < contrast_at else AFTER_CONTRAST
                contrast_at = None
            sentence_start = index + 1
    return weights
