"""Is a cue negated? The one negator list per language, `lexicons/negators_<lang>.txt`.

The sentiment scorer flips a judgement after a negator ("no está mal"); the complaint tagger
drops a cue after one ("sin cortes", "never down"). Both read the same data file, so adding
a negator to it teaches both.

Reach: a negator negates a cue with at most one word between them ("no me cobran"), except
the far-reaching ones (negative adverbs and determiners, `FAR_REACHING`), which reach over an
auxiliary and an article ("nunca he tenido un problema", "never had a single issue"); and
never across a sentence end (`classifiers.sentences`): "dicen que 'no valida'. Es la
tercera vez…" does not negate the second sentence.
"""

from __future__ import annotations

import re
from functools import cache

from classifiers.lexicons import LEXICON_DIR, read_terms
from classifiers.sentences import last_sentence_start
from monitor.core.textfold import fold

#: Negators that reach up to three words ahead (a subset of each language's list).
FAR_REACHING = frozenset({"nunca", "jamas", "never", "ningun", "ninguna", "ninguno"})
NEAR_WORDS, FAR_WORDS = 1, 3
#: How far back (characters) a negator is looked for.
LOOK_BACK = 40


@cache
def negators(lang: str) -> frozenset[str]:
    """The folded negators of `lang` (English for a language without its own list)."""
    path = LEXICON_DIR / f"negators_{lang}.txt"
    return read_terms(path if path.is_file() else LEXICON_DIR / "negators_en.txt")


_WORDS = re.compile(r"\w+(?:['’]\w+)?")


def negated_at(text: str, start: int, lang: str) -> bool:
    """Is what starts at `start` in text negated by a negator just before it, in the same
    sentence? Read backwards over the last few words (a negator glued to its verb, "don't",
    counts as "n't")."""
    window = text[max(0, start - LOOK_BACK) : start]
    window = window[last_sentence_start(window):]
    terms = negators(lang)
    folded = fold(window)
    words = _WORDS.findall(folded)[-(FAR_WORDS + 1):]
    if "'" not in folded and "’" not in folded and terms.isdisjoint(words):
        return False  # no negator among them, and no "n't" (the usual cue): one C-level test
    for distance, word in enumerate(reversed(words)):
        word = word.replace("’", "'")
        negator = word in terms or (word.endswith("n't") and "n't" in terms)
        if negator and distance <= (FAR_WORDS if word in FAR_REACHING else NEAR_WORDS):
            return True
    return False
