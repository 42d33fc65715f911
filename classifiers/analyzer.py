"""The pipeline's entry point to NLP: match brand queries, identify language, run spaCy.

Matching is cheap and most fetched items mention no brand, so posts are matched first and
only the matching ones are identified and run through spaCy, batched per language with
`nlp.pipe` for throughput.

Tags: each component of the per-language pipeline leaves a `TagResult` on a Doc extension;
`TAG_EXTENSIONS` lists those extensions, so a new component (leak, employee, policy,
complaint) only needs registering in `classifiers.nlp.COMPONENTS` and naming here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from spacy.tokens import Doc

from classifiers.language import detect_languages
from classifiers.nlp import pipeline_for
from classifiers.query import BrandQuery, compile_query
from classifiers.tags import BrandAnalysis, TagResult
from classifiers.text import MatchText
from monitor.rawpost import RawPost

if TYPE_CHECKING:
    from monitor.config import BrandSettings

# Doc extensions holding a document-level TagResult, in the order tags are reported.
TAG_EXTENSIONS: list[str] = ["sentiment"]
BATCH_SIZE = 256


def _registered_extensions() -> list[str]:
    """The TAG_EXTENSIONS registered on Doc (checked once per batch, not once per Doc)."""
    return [name for name in TAG_EXTENSIONS if Doc.has_extension(name)]


def doc_tags(doc: Doc, extensions: list[str] | None = None) -> tuple[TagResult, ...]:
    """The TagResults the pipeline's components left on a Doc."""
    if extensions is None:
        extensions = [name for name in TAG_EXTENSIONS if doc.has_extension(name)]
    underscore = doc._
    found = (getattr(underscore, name, None) for name in extensions)
    return tuple(tag for tag in found if isinstance(tag, TagResult))


class Analyzer:
    """Brand matching plus classification for a fixed set of brands (compiled once).

    Thread-safe for concurrent `analyse` calls: queries are immutable closures, the spaCy
    pipelines are shared, and the only state they write is the sentiment scorer's per-word
    caches, bounded dicts updated with single (GIL-atomic) operations.
    """

    def __init__(self, brands: Sequence[BrandSettings]) -> None:
        self.brands = list(brands)
        self.queries: list[tuple[str, BrandQuery]] = [
            (brand.name, compile_query(brand.effective_query)) for brand in self.brands
        ]

    def match(self, post: RawPost) -> list[tuple[str, tuple[str, ...]]]:
        """(brand, matched terms) for every brand whose query matches the post."""
        return self._match_text(post.full_text())

    def _match_text(self, full_text: str) -> list[tuple[str, tuple[str, ...]]]:
        text = MatchText.of(full_text)
        found = []
        for name, query in self.queries:
            terms = query.match(text)
            if terms is not None:
                found.append((name, terms))
        return found

    def analyse(self, posts: Sequence[RawPost]) -> list[list[BrandAnalysis]]:
        """For each post, in order, one BrandAnalysis per matching brand ([] when none).

        The sentiment reported for each brand is, for now, the sentiment of the whole post
        (its full_text, which evidence offsets refer to); brand-targeted sentiment comes with
        the classifiers issue.
        """
        full_texts = [post.full_text() for post in posts]  # built once, matched and analysed
        matches = [self._match_text(text) for text in full_texts]
        todo = [i for i, found in enumerate(matches) if found]
        texts = {i: full_texts[i] for i in todo}
        langs = dict(
            zip(todo, detect_languages([texts[i] for i in todo], [posts[i].lang for i in todo]),
                strict=True)
        )
        by_lang: dict[str, list[int]] = defaultdict(list)
        for i in todo:
            by_lang[langs[i]].append(i)
        tags: dict[int, tuple[TagResult, ...]] = {}
        for lang, indices in by_lang.items():
            nlp = pipeline_for(lang)
            docs = nlp.pipe((texts[i] for i in indices), batch_size=BATCH_SIZE)
            extensions = _registered_extensions()
            for i, doc in zip(indices, docs, strict=True):
                tags[i] = doc_tags(doc, extensions)
        return [
            [
                BrandAnalysis(brand=name, terms=terms, lang=langs[i], tags=tags[i])
                for name, terms in found
            ]
            for i, found in enumerate(matches)
        ]
