"""Brand-targeted sentiment: keep what a post says about the brand, not about its competitors.

The last rule `classifiers.sentiment` applies (see "brand targeting" there). Like the rules in
`classifiers.sentiment_rules` it takes the text's words and contributions and returns adjusted
contributions; unlike them it reads the Doc, for the brand profile and the mentions' offsets.
"""

from __future__ import annotations

import re
from functools import lru_cache
from operator import itemgetter

from spacy.tokens import Doc

from classifiers.context import doc_brand
from classifiers.sentiment_rules import Contribution, Word
from classifiers.termlists import doc_offsets, doc_text
from classifiers.textspans import Segments, mentions, target_of
from monitor.core.textfold import fold

# Blame on a competitor next to the brand's name reads as preference for the brand, weaker
# than direct praise (see `about_the_brand`).
RIVAL_DISPARAGED = 0.5
# What sits between a judgement and the brand in "Fonaris is better than Calderix" /
# "Fonaris es mejor que Calderix": the comparison puts the brand on the losing side.
_COMPARED_WITH = re.compile(r"\b(?:than|que)(?:\s+(?:with|at|con|en|el|la|los|las|lo))?\s*[@#]?$")
_BARE = itemgetter(Word._fields.index("bare"))


def about_the_brand(
    doc: Doc, words: list[Word], contributions: list[Contribution]
) -> list[Contribution]:
    """Keep what is said about the brand (brand-targeted sentiment).

    "Fonaris es una basura, me quedo con Calderix" is not negative about Calderix. Each
    judgement is attributed to the mention it is most likely about (`target_of`: the
    nearest mention before it in its clause, else after it, else earlier in its sentence),
    so "los routers de Redalia son basura, se cuelgan cada dos días" is about Redalia in
    both clauses. A judgement about a competitor is dropped, unless it compares the
    competitor with the brand ("Fonaris is better than Calderix"): then it counts against
    the brand, sign flipped. Blame on a competitor in a post that also names the brand
    offers the brand as the better choice ("Fonaris' coverage is a joke, Calderix actually
    works", "me he cambiado a Calderix, Fonaris son unos ladrones"), so it counts for the
    brand at RIVAL_DISPARAGED weight. A post with no brand profile, or naming no
    competitor, is scored whole.
    """
    brand = doc_brand(doc)
    if brand is None or not brand.competitors:
        return contributions
    firsts = _competitor_first_words(brand.competitors)
    if firsts.isdisjoint(map(_BARE, words)):
        return contributions  # the usual case, decided without the mention matcher
    named = mentions(doc, brand)
    if not any(m.label == "competitor" for m in named):
        return contributions
    segments = Segments.of_doc(doc)
    offsets, text = doc_offsets(doc), doc_text(doc)
    brand_named = any(m.label == "brand" for m in named)
    kept = []
    for contribution in contributions:
        start = offsets[contribution[0]]
        target = target_of(start, named, segments)
        if target is None or target.label != "competitor":
            kept.append(contribution)
            continue
        compared = next(
            (m for m in named if m.label == "brand" and m.start > start
             and segments.clause(m.start) == segments.clause(start)), None)
        if compared is not None and _COMPARED_WITH.search(fold(text[start:compared.start])):
            kept.append((*contribution[:2], -contribution[2], *contribution[3:]))
        elif contribution[2] < 0 and brand_named:
            kept.append(
                (*contribution[:2], -contribution[2] * RIVAL_DISPARAGED, *contribution[3:])
            )
    return kept


@lru_cache(maxsize=64)
def _competitor_first_words(competitors: tuple[str, ...]) -> frozenset[str]:
    """The folded first word of each competitor name ("Grupo Fonaris" → "grupo")."""
    return frozenset(fold(name).split()[0] for name in competitors if name.strip())
