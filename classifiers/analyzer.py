"""The pipeline's entry point to NLP: match brand queries, identify language, run spaCy.

Matching is cheap and most fetched items mention no brand, so posts are matched first and
only the matching ones are identified and run through spaCy, batched per language with
`nlp.pipe` for throughput.

Context: leaks, employees and competitor disparagement are judged relative to a brand, so one
Doc is run per (post, matching brand), with `doc._.vigia_brand` (the brand's `BrandProfile`)
and `doc._.vigia_author` set before the components run (`classifiers.context`). The post is
tokenised once; further brands of the same post get a copy of that Doc.

Tags: a component either leaves a document-level `TagResult` on a Doc extension listed in
`TAG_EXTENSIONS` (sentiment) or appends TagResults with `classifiers.context.add_tags`; both
end up in `BrandAnalysis.tags`. A new component only needs registering in
`classifiers.nlp.COMPONENTS`.

Competitors: each brand's configured competitor names are matched too (as quoted phrases, so
with the query compiler's word-boundary, case- and accent-insensitive rules). A post naming a
competitor gets a `BrandAnalysis(role="competitor")` for it, with no tags (no classification
is spent on it), whether or not the brand itself matched: share of voice counts those rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import groupby
from typing import TYPE_CHECKING

from spacy.tokens import Doc

from classifiers.context import BrandProfile, extension_key, set_context
from classifiers.language import detect_languages
from classifiers.nlp import pipeline_for
from classifiers.query import BrandQuery, compile_query
from classifiers.tags import BrandAnalysis, TagResult
from classifiers.text import MatchText
from classifiers.windows import brand_window
from monitor.core.rawpost import RawPost, post_author

if TYPE_CHECKING:
    from classifiers.learned.deployment import DeploymentModels
    from monitor.core.settings import BrandSettings

# Doc extensions holding a document-level TagResult, in the order tags are reported: plain
# value extensions (set with `doc._.name = tag`, no getter), read from `doc.user_data`.
TAG_EXTENSIONS: list[str] = ["sentiment"]
BATCH_SIZE = 256
_TAGS_KEY = extension_key("vigia_tags")


def registered_extensions() -> list[str]:
    """The TAG_EXTENSIONS registered on Doc (checked once per batch, not once per Doc)."""
    return [name for name in TAG_EXTENSIONS if Doc.has_extension(name)]


def doc_tags(doc: Doc, extensions: list[str] | None = None) -> tuple[TagResult, ...]:
    """The TagResults the pipeline's components left on a Doc (extensions, then vigia_tags)."""
    if extensions is None:
        extensions = [name for name in TAG_EXTENSIONS if doc.has_extension(name)]
    # Read from the extensions' storage, not through a `doc._` object (see extension_key).
    user_data = doc.user_data
    tags = [tag for tag in map(user_data.get, map(extension_key, extensions))
            if isinstance(tag, TagResult)]
    added = user_data.get(_TAGS_KEY)
    if added:
        tags += [tag for tag in added if isinstance(tag, TagResult)]
    return tuple(tags)


def context_docs(
    make_doc: Callable[[str], Doc],
    posts: Iterable[tuple[str, str | None, Sequence[BrandProfile]]
                    | tuple[str, str | None, Sequence[BrandProfile], bool]],
) -> Iterator[Doc]:
    """One Doc per (post, brand), from (text, author, brand profiles[, is an article]) per
    post, lazily.

    The context is set with `classifiers.context.set_context`. A post is tokenised once; its
    further brands get copies, made before the first Doc goes through the pipeline so that
    they carry nothing a component wrote. Lazy, so that `nlp.pipe` holds one Doc at a time.
    The classification benchmark runs this same function.
    """
    for text, author, profiles, *article in posts:
        base = make_doc(text)
        is_article = bool(article and article[0])
        if len(profiles) == 1:  # the common case: no copies to make
            yield set_context(base, text, profiles[0], author, is_article)
            continue
        docs = [base, *(base.copy() for _ in profiles[1:])]
        for profile, doc in zip(profiles, docs, strict=True):
            yield set_context(doc, text, profile, author, is_article)


#: Channels of labelled items that are articles (news pieces, blog posts), headline or not.
ARTICLE_CHANNELS = frozenset({"news", "blog"})


def is_article(post: RawPost) -> bool:
    """A post with a headline (news item, blog post, forum thread) is read as an article:
    its text names and quotes people (`doc._.vigia_article`)."""
    return bool((post.title or "").strip())


def is_article_item(title: str | None, channel: str | None) -> bool:
    """A labelled item is read as the pipeline reads a feed entry: with a headline, or from a
    news or blog channel (a labelled export may not carry the headline)."""
    return bool((title or "").strip()) or (channel or "").strip().lower() in ARTICLE_CHANNELS


def phrase_query(name: str) -> BrandQuery:
    """A query matching exactly this name as a phrase (quotes and backslashes escaped)."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return compile_query(f'"{escaped}"')


class Analyzer:
    """Brand matching plus classification for a fixed set of brands (compiled once).

    Thread-safe for concurrent `analyse` calls: queries are immutable closures, the spaCy
    pipelines are shared, and the only state they write is the sentiment scorer's per-word
    caches, bounded dicts updated with single (GIL-atomic) operations.
    """

    def __init__(self, brands: Sequence[BrandSettings], *, learned: bool = True,
                 deployment: DeploymentModels | None = None) -> None:
        self.brands = list(brands)
        # learned=False: the rules' tags alone (what the learned layer is trained on).
        self.disabled: list[str] = [] if learned else ["vigia_learned"]
        # The team's own models (`monitor train`), handed to the learned layer per batch.
        self.deployment = deployment if learned else None
        self.component_cfg = ({"vigia_learned": {"deployment": deployment}}
                              if self.deployment is not None else None)
        self.queries: list[tuple[str, BrandQuery]] = [
            (brand.name, compile_query(brand.effective_query)) for brand in self.brands
        ]
        self.profiles: dict[str, BrandProfile] = {
            brand.name: BrandProfile.from_settings(brand) for brand in self.brands
        }
        brand_names = {brand.name for brand in self.brands}
        competitors = dict.fromkeys(
            name.strip() for brand in self.brands for name in brand.competitors
            if name.strip() and name.strip() not in brand_names
        )
        self.competitor_queries: list[tuple[str, BrandQuery]] = [
            (name, phrase_query(name)) for name in competitors
        ]

    def match(self, post: RawPost) -> list[tuple[str, tuple[str, ...]]]:
        """(brand, matched terms) for every brand whose query matches the post."""
        return self._match_text(MatchText.of(post.full_text()), self.queries)

    @staticmethod
    def _match_text(
        text: MatchText, queries: list[tuple[str, BrandQuery]]
    ) -> list[tuple[str, tuple[str, ...]]]:
        found = []
        for name, query in queries:
            terms = query.match(text)
            if terms is not None:
                found.append((name, terms))
        return found

    def analyse(
        self, posts: Sequence[RawPost], *, assume_brand: str | None = None,
        articles: Sequence[bool] | None = None,
    ) -> list[list[BrandAnalysis]]:
        """For each post, in order, one BrandAnalysis per matching brand, then one per
        competitor named in it (role "competitor", no tags); [] when none.

        With `assume_brand`, every post gets exactly one BrandAnalysis, for that brand,
        as if its query had matched (with the terms it did match, if any): how `monitor
        eval` and training read labelled posts; `match` says whether the query matched.

        A post is classified on its full_text, or, when it is long, on the sentence windows
        around each brand's mentions (`classifiers.windows`); evidence offsets always refer
        to the full_text. Every family is judged with the brand's profile as context.

        `articles`: whether each post is an article (`is_article` by default), for callers
        that know better than the post's headline (`monitor eval` reads a labelled item's
        channel).
        """
        full_texts = [post.full_text() for post in posts]  # built once, matched and analysed
        prepared = [MatchText.of(text) for text in full_texts]
        matches = [self._match_text(text, self.queries) for text in prepared]
        rivals = [
            self._match_text(text, self.competitor_queries) if self.competitor_queries else []
            for text in prepared
        ]
        if assume_brand is not None:
            matches = [[(assume_brand, dict(found).get(assume_brand, ()))] for found in matches]
            rivals = [[] for _ in prepared]
        todo = [i for i in range(len(posts)) if matches[i] or rivals[i]]
        langs = dict(
            zip(todo, detect_languages([full_texts[i] for i in todo],
                                       [posts[i].lang for i in todo]), strict=True)
        )
        by_lang: dict[str, list[int]] = defaultdict(list)
        for i in todo:
            if matches[i]:
                by_lang[langs[i]].append(i)
        tags: dict[tuple[int, str], tuple[TagResult, ...]] = {}
        for lang, indices in by_lang.items():
            nlp = pipeline_for(lang)
            # (post, brand, window or None); a post's brands that read the same text are
            # consecutive, so they share one tokenisation (see context_docs).
            units = [
                (i, name, brand_window(full_texts[i], self.profiles[name], terms))
                for i in indices for name, terms in matches[i]
            ]
            contexts = (
                (text, post_author(posts[i]), [self.profiles[name] for _, name, _ in group],
                 articles[i] if articles is not None else is_article(posts[i]))
                for (i, text), group in groupby(
                    units, key=lambda u: (u[0], u[2].text if u[2] else full_texts[u[0]])
                )
            )
            docs = nlp.pipe(context_docs(nlp.make_doc, contexts), batch_size=BATCH_SIZE,
                            disable=self.disabled, component_cfg=self.component_cfg)
            extensions = registered_extensions()
            for (i, name, window), doc in zip(units, docs, strict=True):
                found = doc_tags(doc, extensions)
                tags[(i, name)] = window.remap(found) if window else found
        return [
            [
                BrandAnalysis(brand=name, terms=terms, lang=langs[i], tags=tags[(i, name)])
                for name, terms in matches[i]
            ] + [
                BrandAnalysis(brand=name, terms=terms, lang=langs[i], tags=(), role="competitor")
                for name, terms in rivals[i]
            ]
            for i in range(len(posts))
        ]
