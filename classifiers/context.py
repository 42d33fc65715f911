"""What a classifier knows about the brand and the author while it reads one post.

Leaks, employees and competitor disparagement are judged *relative to a brand*: a phone number
is PII unless it is the brand's own public helpline, a word is confidential because it is this
brand's codename, a poster is an employee because they are on this brand's roster. The
Analyzer therefore runs one Doc per (post, matching brand) and puts that context on the Doc
before the components run:

* `doc._.vigia_brand`: the `BrandProfile` (None when a pipeline is used on bare text);
* `doc._.vigia_author`: the post's author handle, or name when it has no handle (None if unknown);
* `doc._.vigia_article`: True for an article (the source gave it a headline: a news item, a
  blog post), whose text names and quotes people, False for a social post;
* `doc._.vigia_tags`: the TagResults components have added (via `add_tags`), collected by the
  Analyzer into `BrandAnalysis.tags`;
* `doc._.vigia_vetoed`: the families a rule has ruled out for the post whatever its cues say
  (`veto`: a complaint written by staff or by the brand's own account), which the learned
  layer does not add back either.

Components should read the text with `doc_text(doc)`, not `doc.text`: spaCy rebuilds
`doc.text` from the tokens on every access, which costs as much as tokenising the post. They
read the context with `doc_brand` / `doc_author` and add tags with `add_tags`, which go to the
extensions' storage in `doc.user_data` directly (see `extension_key`); `set_context` puts it
all on a fresh Doc in one go.

`BrandProfile` is built once per brand from its settings (`BrandProfile.from_settings`) and is
immutable, so the same instance is shared by every Doc of that brand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from luqum.parser import parser
from spacy.attrs import ORTH, SPACY
from spacy.tokens import Doc
from spacy.vocab import Vocab

from classifiers.query import _positive_sequences
from classifiers.tags import TagResult
from monitor.core.textfold import fold

if TYPE_CHECKING:
    from monitor.core.settings import BrandSettings

# The context (set before the pipeline runs), the components' tags, and the Doc's text as
# read once (`doc_text`). Every value components share lives on a registered extension.
CONTEXT_EXTENSIONS = ("vigia_brand", "vigia_author", "vigia_article", "vigia_text")
for _name in (*CONTEXT_EXTENSIONS, "vigia_tags", "vigia_vetoed"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


@lru_cache(maxsize=256)
def extension_key(name: str) -> tuple[object, ...]:
    """The `doc.user_data` key under which spaCy keeps the Doc extension `name`.

    Every `doc._` access builds an `Underscore` object (about 1 µs) and five components read
    the context several times per post, so the hot paths below use the key directly. It is
    asked of spaCy itself, not spelled out here, so a spaCy that changes it changes it here.
    """
    return Doc(Vocab(), words=[])._._get_key(name)  # type: ignore[no-any-return]


_BRAND_KEY = extension_key("vigia_brand")
_AUTHOR_KEY = extension_key("vigia_author")
_ARTICLE_KEY = extension_key("vigia_article")
_TAGS_KEY = extension_key("vigia_tags")
_TEXT_KEY = extension_key("vigia_text")
_VETOED_KEY = extension_key("vigia_vetoed")
_LOWERED_KEY = extension_key("vigia_lowered")


def normal_handle(handle: str) -> str:
    """'@MartaGil_CX ' → 'martagil_cx': how handles are compared (case-insensitive, no '@')."""
    return fold(handle.strip()).lstrip("@")


@dataclass(frozen=True, slots=True)
class EmployeeRef:
    """A rostered employee: their name and the social handles they post under."""

    name: str
    handles: tuple[str, ...] = ()

    @property
    def normal_handles(self) -> frozenset[str]:
        return frozenset(normal_handle(h) for h in self.handles if normal_handle(h))


@dataclass(frozen=True, slots=True)
class BrandProfile:
    """The brand facts the classifiers need, from one `[[brands]]` entry of the settings.

    `terms` are the names the brand goes by: its configured name plus the positive words and
    phrases of its query (folded: "calderix", "calderix movil"), which is what an employee
    writes in "trabajo en Calderix" or "#CalderixTeam". `contact_points` are the brand's own
    published phone numbers and addresses, which are never personal data. `industry` names
    the opt-in cue pack the complaint component adds for this brand ("telecom"; "" for none).
    """

    name: str
    terms: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    employees: tuple[EmployeeRef, ...] = ()
    codenames: tuple[str, ...] = ()
    internal_domains: tuple[str, ...] = ()
    contact_points: tuple[str, ...] = ()
    industry: str = ""

    @classmethod
    def from_settings(cls, brand_settings: BrandSettings) -> BrandProfile:
        """The profile for a validated BrandSettings (its query is known to parse)."""
        return cls(
            name=brand_settings.name,
            terms=brand_terms(brand_settings.name, brand_settings.effective_query),
            competitors=tuple(brand_settings.competitors),
            employees=tuple(
                EmployeeRef(name=e.name, handles=tuple(e.handles))
                for e in brand_settings.employees
            ),
            codenames=tuple(brand_settings.codenames),
            internal_domains=tuple(brand_settings.internal_domains),
            contact_points=tuple(brand_settings.contact_points),
            industry=brand_settings.industry,
        )

    def employee_for_author(self, author: str | None) -> EmployeeRef | None:
        """The rostered employee whose handle or name is `author`, if any."""
        if not author:
            return None
        handle = normal_handle(author)
        name = " ".join(fold(author).split())
        for employee in self.employees:
            if handle in employee.normal_handles or name == " ".join(fold(employee.name).split()):
                return employee
        return None


def brand_terms(name: str, query: str) -> tuple[str, ...]:
    """The brand's name and its query's positive words/phrases, folded, longest first."""
    found = {" ".join(fold(name).split())}
    try:
        node = parser.parse(query)
    except Exception:  # settings validation reports bad queries; the name is enough here
        node = None
    if node is not None:
        found.update(" ".join(seq) for seq in _positive_sequences(node) if seq)
    found.discard("")
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


def add_tags(doc: Doc, tags: Iterable[TagResult]) -> None:
    """Append TagResults to `doc._.vigia_tags` (creating the list on first use)."""
    new = list(tags)
    if not new:
        return
    current = doc.user_data.get(_TAGS_KEY)
    if current is None:
        doc.user_data[_TAGS_KEY] = new
    else:
        current.extend(new)


def veto(doc: Doc, family: str) -> None:
    """Rule the family out for this Doc (`doc._.vigia_vetoed`): no layer may tag it."""
    doc.user_data[_VETOED_KEY] = frozenset({family, *(doc.user_data.get(_VETOED_KEY) or ())})


def vetoed(doc: Doc, family: str) -> bool:
    """Has a rule ruled the family out for this Doc (`veto`)?"""
    return family in (doc.user_data.get(_VETOED_KEY) or ())


@lru_cache(maxsize=256)
def brand_accounts(profile: BrandProfile) -> frozenset[str]:
    """The brand's own accounts, as `normal_handle` spells them: the one-word names of its
    query ("@fibrenza", "@FibrenzaHelp" read as words) and the handles among its contact
    points ("@SolvaraAyuda")."""
    words = {term for term in profile.terms if " " not in term}
    handles = {normal_handle(point) for point in profile.contact_points
               if point.strip().startswith("@")}
    return frozenset(words | handles) - {""}


def by_brand_account(doc: Doc) -> bool:
    """Is the post written by the brand itself (its care team replying, its own news)? The
    author is one of `brand_accounts`."""
    author, profile = doc_author(doc), doc_brand(doc)
    return bool(author and profile) and normal_handle(author) in brand_accounts(profile)


def doc_added_tags(doc: Doc) -> list[TagResult]:
    """What `add_tags` collected on the Doc (`doc._.vigia_tags`), [] when nothing."""
    return doc.user_data.get(_TAGS_KEY) or []


def set_context(doc: Doc, text: str, profile: BrandProfile | None, author: str | None,
                article: bool = False) -> Doc:
    """Put what the components need on a Doc made with `make_doc(text)`: its text (see
    `doc_text`), `doc._.vigia_brand`, `doc._.vigia_author`, `doc._.vigia_article` and an
    empty `doc._.vigia_tags`."""
    user_data = doc.user_data
    user_data[_ARTICLE_KEY] = article
    user_data[_TEXT_KEY] = text
    user_data[_BRAND_KEY] = profile
    user_data[_AUTHOR_KEY] = author
    user_data[_TAGS_KEY] = None
    user_data[_VETOED_KEY] = None
    return doc


def doc_text(doc: Doc) -> str:
    """`doc.text`, built at most once per Doc.

    spaCy rebuilds `doc.text` from Token objects on every access, which costs as much as
    tokenising the post; the text given to `remember_text` / `set_context`, or one rebuilt
    from the ORTH ids and trailing-space flags (no Token objects), is kept on the
    `doc._.vigia_text` extension.
    """
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        strings = doc.vocab.strings
        text = "".join(
            strings[orth] + " " if space else strings[orth]
            for orth, space in doc.to_array([ORTH, SPACY]).tolist()
        )
        doc.user_data[_TEXT_KEY] = text
    return text


def remember_text(doc: Doc, text: str) -> Doc:
    """Record the text a Doc was made from (`make_doc(text)`), so `doc_text` is free."""
    doc.user_data[_TEXT_KEY] = text
    return doc


def doc_brand(doc: Doc) -> BrandProfile | None:
    """The brand profile set on the Doc, or None."""
    brand = doc.user_data.get(_BRAND_KEY)
    return brand if isinstance(brand, BrandProfile) else None


def doc_is_article(doc: Doc) -> bool:
    """Is the post an article (`doc._.vigia_article`: a news item or blog post with a
    headline), where people are named and quoted, rather than a social post?"""
    return bool(doc.user_data.get(_ARTICLE_KEY))


def doc_author(doc: Doc) -> str | None:
    """The post's author set on the Doc (`doc._.vigia_author`), or None."""
    return doc.user_data.get(_AUTHOR_KEY)  # type: ignore[no-any-return]


# Accented variants per base letter, so a folded term matches the original text in place
# (evidence offsets must slice RawPost.full_text(), which folding would shift).
_VARIANTS = {
    "a": "aáàâäã", "e": "eéèêë", "i": "iíìîï", "o": "oóòôöõ", "u": "uúùûü", "n": "nñ", "c": "cç",
}


def accent_insensitive(term: str) -> str:
    """Regex source for term matching any case and accents: 'halcon' → 'h[aá…]lc[oó…]n'."""
    parts = []
    for char in fold(term):
        if char in _VARIANTS:
            parts.append(f"[{_VARIANTS[char]}]")
        elif char.isspace():
            parts.append(r"[\s_-]+")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


# Characters that `re`'s case-insensitive matching equates with a letter that `fold` keeps
# apart (dotless i, long s, Greek forms…): in a text with one, term gates are not used.
SPECIAL_FOLDS = re.compile("[\u00b5\u0130\u0131\u017f\u0345\u0370-\u03ff\u1e61\u1e9b"
                           "\u1fbe-\u1fe3\ufb05\ufb06\u212a\u212b]")


def lowered_for_gates(text: str) -> str | None:
    """Text as `may_have_terms` reads it (lower-cased), or None when the gate cannot be
    trusted on text (characters that case-insensitive matching treats specially)."""
    if not text.isascii() and SPECIAL_FOLDS.search(text):
        return None
    return text.lower()


@lru_cache(maxsize=1024)
def _first_words(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """The terms' first words as `terms_regex` spells them, lower-case, for lower-cased text:
    no look-behind and no IGNORECASE, so `re` can skip ahead to their first letters."""
    words = sorted({accent_insensitive(fold(t).split()[0]) for t in terms if t.strip()},
                   key=len, reverse=True)
    return re.compile("|".join(words)) if words else None


def may_have_terms(lowered: str | None, terms: tuple[str, ...]) -> bool:
    """False only when `terms_regex(terms)` certainly finds nothing in the text whose
    `lowered_for_gates` is `lowered`: any match of a term starts with a match of its first
    word, whose letters match only their own (lower-cased, then accented) variants. A quick
    search instead of the big case- and accent-insensitive regex for the usual post, which
    names no codename or employee."""
    if lowered is None:
        return True
    first_words = _first_words(terms)
    return first_words is not None and first_words.search(lowered) is not None


@lru_cache(maxsize=1024)
def terms_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled, case- and accent-insensitive, word-bounded alternation of terms (longest
    first), or None when there are none. Cached: profiles are immutable and few."""
    sources = sorted({accent_insensitive(t) for t in terms if t.strip()}, key=len, reverse=True)
    if not sources:
        return None
    return re.compile(r"(?<![\w@#])(?:" + "|".join(sources) + r")(?!\w)", re.IGNORECASE)


def doc_lowered(doc: Doc) -> tuple[str, str | None]:
    """The Doc's text lower-cased, and as `lowered_for_gates` gives it (None where
    term gates cannot be trusted): made once per Doc for the hint scans and term gates of
    the leak and employee detectors, which would otherwise lower-case the post four times."""
    found = doc.user_data.get(_LOWERED_KEY)
    if found is None:
        text = doc_text(doc)
        gates = lowered_for_gates(text)
        found = doc.user_data[_LOWERED_KEY] = (text.lower() if gates is None else gates, gates)
    return found  # type: ignore[no-any-return]
