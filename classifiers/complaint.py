"""Customer complaints and support requests as a spaCy component (`vigia_complaint`).

What customer care needs from a listening tool is the list of posts to answer: outages ("sin
fibra", "no signal since 8am"), billing ("me han cobrado dos veces"), waiting and nobody
answering ("still waiting", "nadie me llama"), failed support, threats to leave
("portabilidad ya") and plain requests for help ("@brand ¿cómo puedo…?").

The cues are data (`lexicons/complaint_<lang>.tsv`, plus for a brand with an `industry` the
pack `lexicons/industry/<industry>_complaint_<lang>.tsv`: "sin fibra", "no signal" and
"portabilidad" are a phone company's cues, not a bank's), each of a kind with a weight: one
*strong* cue (outage, billing, waiting, support, cancel) is enough; *weak* ones (a request
for help, a problem word) need company, which can also be the post's negative tone (the
sentiment component runs first) or the brand's @handle, since writing at the brand is how
people ask it for help; a *demand* aimed at the brand ("arreglad", "fix your network") is
strong. A post is a complaint when the weights reach THRESHOLD. Against it count a positive
tone, press wording (`news` cues: "según", "according to", "analysts", "launches"), since
reports of an outage are not a customer asking for help, pre-sales questions (`presales`:
"¿tiene alguna tarifa…?", "si hay 5G en…", "worth it", "thinking about switching") and tips
(`info`: "you can call"), former customers (`former`: "me fui hace años", "when I was
with"), people the problem passed by (`unaffected`: "a mí ni me afectó") and new ones
arriving (`joining`, only when the brand follows: "portabilidad a
Calderix", "switched to Calderix"). A low star rating ("★☆☆☆☆") is a bad review, a strong
cue (`review`, as are "1 star", "una sola estrella").
A complaint is a customer's, and press and blog pieces describe problems too. So in a long
text (an article, ARTICLE_LENGTH), or one with press wording (`news`: "atribuye",
"blames"), whose only cues are outage, problem or request words, a complaint needs a
customer's voice: first-person words (`voice`: "me", "mi", "my", "I"; the plural `group`,
"we", "our", "nuestro", only in a post of social length, since in an article it is the
newsroom's "we tested"), the brand's @handle or name called out ("…since 8am, Calderix"),
or the marks of conversation (a question or exclamation mark, an emoji, a reply
"@jortega …"), which press reports lack. In an article, quoted speech ("“I was charged
twice,” one reader wrote") is somebody the author quotes: its cues do not count.
A news item or blog post (`doc._.vigia_article`: it came with a headline) is a complaint only
when its author speaks as the customer ("I", "my", outside quotes) or writes to the brand: its
@handle, its name called out, or a letter's salutation ("Dear Brackens,", "Estimados
señores:", where "we" and "our" are the letter writer's). A report of billing problems is
not a customer's complaint, whatever cue kinds it holds.
A cue does not count when it is negated in its own sentence ("sin cortes", "ni se corta",
"never down"; not "no valida'. Es la tercera vez") or
about a competitor ("Fonaris no funciona"), and nothing is tagged when the author speaks as
an employee
(`employee:roster_author`, `self_identified`, `team_hashtag`): staff describing an outage are
not customers complaining about one. Nor is anything tagged in a post by the brand's own
account (`context.by_brand_account`: its care team answering "Hola, Noelia. Mándanos un DM…"
names the customer's problem, but it is the brand speaking).
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.batching import BatchedComponent
from classifiers.context import (
    BrandProfile,
    add_tags,
    by_brand_account,
    doc_added_tags,
    doc_brand,
    doc_is_article,
    veto,
)
from classifiers.lexicons import LEXICON_DIR, available_languages
from classifiers.mentions import addressed as mentions_addressed
from classifiers.negation import negated_at
from classifiers.sentiment import doc_sentiment
from classifiers.tags import Evidence, TagResult
from classifiers.termlists import TermHit, TermMatcher, doc_text
from classifiers.textspans import Segments, mentions, target_of

WEIGHTS = {
    "outage": 1.0, "billing": 1.0, "waiting": 1.0, "support": 1.0, "cancel": 1.0,
    "demand": 1.0, "request": 0.5, "problem": 0.5, "news": -1.0, "presales": -1.0, "info": -1.0,
    "voice": 0.0, "former": -1.0, "joining": -1.0, "unaffected": -1.0, "review": 1.0,
    "service": 0.0, "group": 0.0,
}
# A customer's voice ("my", "me") next to the service they have ("fibre", "factura") in a
# post whose tone is negative, or that asks something: a bad experience of the service, or a
# question about it, told by the customer, is a complaint or a support request even in words
# no cue list foresaw ("my fibre drops every evening, could someone take a look?"). With the
# weights, it still needs a second cue, the brand addressed or a negative tone to count.
EXPERIENCE = 0.5
WEIGHTS["experience"] = EXPERIENCE
ADDRESSED, NEGATIVE_TONE, POSITIVE_TONE = 0.5, 0.5, -0.5
# A cue right after a negator ("sin cortes", "ni se corta", "never down") does not count: the
# negators and their reach are `classifiers.negation`'s, shared with the sentiment scorer.
# A star rating ("★☆☆☆☆", "★★☆☆☆"): a low one is a customer's bad review, a complaint.
STAR_RATING = re.compile(r"[★☆]{3,}")
LOW_STARS = 2
THRESHOLD = 1.0
INSIDER_REASONS = frozenset(
    {"employee:roster_author", "employee:self_identified", "employee:former_staff",
     "employee:team_hashtag", "employee:insider_context"}
)
MAX_EVIDENCE = 6
# Cue kinds a press report of an outage also has: alone, they need a customer's voice.
REPORTABLE = frozenset({"outage", "problem", "request"})
AUTHOR_VOICE, SOCIAL_VOICE = frozenset({"voice"}), frozenset({"voice", "group"})
# Quoted speech in an article is somebody the author quotes, not the author speaking.
QUOTED = re.compile(r'"[^"\n]{1,400}"|“[^”]{1,400}”|«[^»]{1,400}»')
# The salutation that opens a letter, on a line of its own: the author writes to somebody.
LETTER = re.compile(
    r"^[ \t]*(?:dear|to whoever|to whom|querid[oa]s?|estimad[oa]s?|señor(?:a|es|as)?|sr\.|"
    r"sra\.|a la atenci[oó]n de|a quien corresponda)\b[^\n]{0,80}[,:][ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
EMOJI_FROM = 0x2600  # symbols and emoji (news text stays below: letters, €, quotes, …)
ARTICLE_LENGTH = 200  # longer than a typical social post: it could be a press report
INDUSTRY_DIR = LEXICON_DIR / "industry"


def _insider(doc: Doc) -> bool:
    """Has the employee component said the author speaks as staff?"""
    return any(
        tag.family == "employee" and any(e.reason in INSIDER_REASONS for e in tag.evidence)
        for tag in doc_added_tags(doc)
    )


def _tone(doc: Doc) -> str:
    """The post's overall sentiment label ("neutral" when sentiment did not run)."""
    sentiment = doc_sentiment(doc)
    return sentiment.label if sentiment is not None else "neutral"


def _low_star_reviews(text: str) -> list[TermHit]:
    """Star ratings of LOW_STARS or fewer filled stars, as `review` cues."""
    if "★" not in text and "☆" not in text:
        return []
    return [TermHit(m.start(), m.end(), m.group(), "review")
            for m in STAR_RATING.finditer(text) if m.group().count("★") <= LOW_STARS]


def _joining(hit: TermHit, text: str, named: list[TermHit]) -> bool:
    """A `joining` cue ("portabilidad a", "switched to") followed by the brand itself: a new
    customer arriving, not one leaving."""
    return any(m.label == "brand" and 0 <= m.start - hit.end <= 3
               and not text[hit.end : m.start].strip() for m in named)


class ComplaintTagger(BatchedComponent):
    """The rules above for one language; `__call__` is the spaCy component."""

    def __init__(self, nlp: Language, lang: str) -> None:
        self.lang = lang
        self._make_doc = nlp.make_doc
        self.terms = TermMatcher.for_pipeline(f"complaint_{lang}", nlp.make_doc)
        self._packs: dict[str, TermMatcher] = {}

    def pack(self, industry: str) -> TermMatcher:
        """The industry's extra cues (`lexicons/industry/<industry>_complaint_<lang>.tsv`),
        loaded the first time a brand of that industry is seen."""
        if industry not in self._packs:
            self._packs[industry] = TermMatcher.for_pipeline(
                f"{industry}_complaint_{self.lang}", self._make_doc, INDUSTRY_DIR)
        return self._packs[industry]

    def _cues(self, doc: Doc, brand: BrandProfile | None) -> list[TermHit]:
        """The general cues found in the Doc, plus those of the brand's industry pack."""
        hits = self.terms.find(doc)
        if brand is not None and brand.industry:
            hits.extend(self.pack(brand.industry).find(doc))
        return hits

    def __call__(self, doc: Doc) -> Doc:
        if _insider(doc) or by_brand_account(doc):
            veto(doc, "complaint")  # staff or the brand itself: whatever the words, no customer
            return doc
        tag = self.tag(doc, doc_brand(doc), tone=_tone(doc))
        if tag is not None:
            add_tags(doc, [tag])
        return doc

    def tag(self, doc: Doc, brand: BrandProfile | None, tone: str = "neutral"
            ) -> TagResult | None:
        """The complaint TagResult for one Doc about `brand` with this overall tone, or None."""
        text = doc_text(doc)
        hits = [*self._cues(doc, brand), *_low_star_reviews(text)]
        headline = doc_is_article(doc)
        article = headline or len(text) > ARTICLE_LENGTH
        # In an article "we" is the newsroom's, except in a letter: its writer's. (The
        # salutation search waits for a post that can reach the threshold, unless needed now.)
        newsroom = article and not _letter(text)
        if article:
            hits = _outside_quotes(hits, text)
        weight = WEIGHTS.get
        best = sum(w for h in hits if (w := weight(h.label, 0)) > 0)
        troubled = tone == "negative" or "?" in text
        experience = EXPERIENCE if troubled and _experience(hits, newsroom) else 0.0
        if best + experience + ADDRESSED + NEGATIVE_TONE * (tone == "negative") < THRESHOLD:
            return None  # cannot reach the threshold, whatever else the post holds
        hits = [h for h in hits
                if weight(h.label, 0) <= 0 or not negated_at(text, h.start, self.lang)]
        named = mentions(doc, brand)
        hits = [h for h in hits if h.label != "joining" or _joining(h, text, named)]
        if any(m.label == "competitor" for m in named):
            segments = Segments.of_doc(doc)
            hits = [h for h in hits if not _about_competitor(h, named, segments)]
        # One cue per span: overlapping cues ("se cae" inside "se ha vuelto a caer") count once.
        # A cue against ("si incluye", pre-sales) still counts when it overlaps a cue for
        # ("alguien sabe si"): they read the same words two ways, and both are evidence.
        cues: list[TermHit] = []
        kept: list[tuple[int, int, bool]] = []  # (start, end, against) of each cue kept
        for hit in sorted(hits, key=lambda h: (-weight(h.label, 0), h.start)):
            against = weight(hit.label, 0) < 0
            start, end = hit.start, hit.end
            if not any(start < c_end and c_start < end and c_against == against
                       for c_start, c_end, c_against in kept):
                cues.append(hit)
                kept.append((start, end, against))
        total = sum(weight(c.label, 0.0) for c in cues)
        experience_hits = _experience(hits, newsroom) if troubled else []
        if experience_hits:
            total += EXPERIENCE
            cues.extend(experience_hits)
        if total <= 0:
            return None
        addressed = [Evidence(m.start, m.end, m.text, "complaint:addressed")
                     for m in mentions_addressed(doc, brand)[:1]]
        # (In an article the brand's name before a comma is the headline's subject.)
        letter = not newsroom if article else _letter(text)
        written_to = bool(addressed) or letter or (not headline and _vocative(text, named))
        if headline and not (written_to or any(h.label in AUTHOR_VOICE for h in hits)):
            return None  # a news item or blog post nobody writes as a customer: a report
        reportable = {c.label for c in cues if weight(c.label, 0) > 0} <= REPORTABLE
        press = article or any(c.label == "news" for c in cues)
        if reportable and press and not (
            written_to or any(h.label in _voices(newsroom) for h in hits)
            or _conversational(_unquoted(text) if article else text)
        ):
            return None  # nobody speaking for themselves: a report, not a complaint
        total += ADDRESSED * bool(addressed)
        total += NEGATIVE_TONE * (tone == "negative") + POSITIVE_TONE * (tone == "positive")
        if total < THRESHOLD:
            return None
        positive = sorted((c for c in cues if weight(c.label, 0) > 0),
                          key=lambda c: (-WEIGHTS[c.label], c.start))
        evidence = [Evidence(c.start, c.end, c.text, f"complaint:{c.label}") for c in positive]
        evidence = sorted(evidence[:MAX_EVIDENCE] + addressed, key=lambda e: e.start)
        return TagResult("complaint", "complaint", min(1.0, total / 2), tuple(evidence))


def _voices(newsroom: bool) -> frozenset[str]:
    """The cue kinds that are a customer speaking: "I" and "my" always; "we" and "our" only
    in a post of social length or a letter, since in an article they are the newsroom's
    ("we tested")."""
    return AUTHOR_VOICE if newsroom else SOCIAL_VOICE


def _unquoted(text: str) -> str:
    """The text with quoted speech blanked out (same length, so offsets still hold)."""
    return QUOTED.sub(lambda m: " " * len(m.group()), text)


def _outside_quotes(hits: list[TermHit], text: str) -> list[TermHit]:
    """In an article, quoted speech is somebody the author quotes ("“I was charged twice,”
    one reader wrote"): its cues and first-person words are not the author's, and go."""
    quoted = [m.span() for m in QUOTED.finditer(text)]
    if not quoted:
        return hits
    return [h for h in hits if not any(start <= h.start < end for start, end in quoted)]


def _experience(hits: list[TermHit], newsroom: bool = False) -> list[TermHit]:
    """The service word of a customer's own experience: a `service` cue in a post that also
    speaks in the first person (`_voices`); [] when either is missing."""
    voices = _voices(newsroom)
    if not any(h.label in voices for h in hits):
        return []
    service = next((h for h in hits if h.label == "service"), None)
    return [TermHit(service.start, service.end, service.text, "experience")] if service else []


def _conversational(text: str) -> bool:
    """Questions, exclamations, emoji and replies: how people talk, not how news is written."""
    return (any(mark in text for mark in "?!¿¡") or text.lstrip().startswith("@")
            or any(ord(char) >= EMOJI_FROM for char in text))


def _letter(text: str) -> bool:
    """An open letter: a line that opens with a salutation ("Dear Brackens,", "Estimados
    señores:", "To whoever runs customer experience at Brackens,")."""
    return LETTER.search(text) is not None


def _vocative(text: str, named: list[TermHit]) -> bool:
    """The brand called by name: "Calderix, ¿para cuándo?" or "… since 8am, Calderix"."""
    for mention in named:
        if mention.label != "brand":
            continue
        before, after = text[: mention.start].strip(), text[mention.end :].strip(" .!?…")
        if (not before and after[:1] in (",", ":")) or (not after and before.endswith(",")):
            return True
    return False


def _about_competitor(hit: TermHit, named: list[TermHit], segments: Segments) -> bool:
    target = target_of(hit.start, named, segments)
    return target is not None and target.label == "competitor"


@Language.factory(
    "vigia_complaint", default_config={"lang": ""},
    requires=["doc._.vigia_brand", "doc._.sentiment", "doc._.vigia_tags"],
    assigns=["doc._.vigia_tags"],
)
def make_complaint(nlp: Language, name: str, lang: str) -> ComplaintTagger:
    """spaCy factory: the complaint cues of `lang` (English cues for other languages)."""
    lang = lang or nlp.lang
    return ComplaintTagger(nlp, lang if lang in available_languages() else "en")
