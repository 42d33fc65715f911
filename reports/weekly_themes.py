"""A week's themes: the hashtags and content words its mentions share.

Counted over the week's stream of mentions, one mention at a time, with the brand's and
competitors' own names and the stop words of both languages left out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.es.stop_words import STOP_WORDS as SPANISH_STOP_WORDS

from classifiers.text import TAG, WORD, words
from monitor.core.settings import BrandSettings
from monitor.core.textfold import fold

MAX_THEMES = 12
MIN_THEME_LETTERS = 4
# Words that say nothing about what a week was about, on top of spaCy's stop words.
_NOISE = frozenset({"http", "https", "www", "com", "html", "amp", "via", "rt"})
_STOP_WORDS = frozenset(fold(w) for w in ENGLISH_STOP_WORDS | SPANISH_STOP_WORDS) | _NOISE
_HASHTAG = re.compile(r"(?<!\w)#\w+")


@dataclass(frozen=True)
class Theme:
    text: str
    count: int



def brand_words(brand: BrandSettings) -> frozenset[str]:
    """Folded words of the brand's and competitors' names: never a "theme" of their report."""
    names = [brand.name, *brand.competitors]
    return frozenset(word for name in names for word in words(name))


@dataclass
class Themes:
    """Theme counts over a stream of mentions, keyed by folded form.

    Counting folded words merges "atención", "Atención" and "atencion"; `spellings` keeps how
    accented words were really written, so the report shows "atención", not "atencion".
    Only words with a non-ASCII character are looked at for that (and only in texts that
    have one), because this runs once per mention of the week.
    """

    excluded: frozenset[str]
    hashtags: Counter[str] = field(default_factory=Counter)
    terms: Counter[str] = field(default_factory=Counter)
    spellings: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, text: str) -> None:
        """Count the hashtags and content words of one mention, each once."""
        folded = fold(text)
        tags = set(_HASHTAG.findall(folded))
        self.hashtags.update(tag for tag in tags if tag[1:] not in self.excluded)
        # a hashtag counts as a hashtag only, not also as a word
        vocabulary = set(words(TAG.sub(" ", folded))) - _STOP_WORDS - self.excluded
        self.terms.update(w for w in vocabulary if len(w) >= MIN_THEME_LETTERS and not w.isdigit())
        if text.isascii():
            return
        for word in {w.lower() for w in WORD.findall(text) if not w.isascii()}:
            self.spellings.setdefault(fold(word), Counter())[word] += 1

    def top_hashtags(self) -> list[Theme]:
        return [Theme("#" + self._spelt(t.text[1:]), t.count) for t in _top(self.hashtags)]

    def top_terms(self) -> list[Theme]:
        return [Theme(self._spelt(t.text), t.count) for t in _top(self.terms)]

    def _spelt(self, key: str) -> str:
        found = self.spellings.get(key)
        return found.most_common(1)[0][0] if found else key


def _top(counter: Counter[str]) -> list[Theme]:
    """The most frequent themes; a theme seen in a single mention is not a theme."""
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [Theme(text, count) for text, count in ranked[:MAX_THEMES] if count > 1]
