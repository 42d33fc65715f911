"""Social-media policy as a spaCy component (`vigia_policy`): what a post must not contain.

Labels: `insult`, `discrimination`, `sexual`, `crude`, `political_religious` and
`competitor_disparagement` (a damning statement about one of the brand's configured
competitors). The words and phrases are data (`lexicons/policy_<lang>.tsv`, see that file for
its labels); the rules that combine them are here:

* `crude`, `sexual` fire on any listed term; `political` and `religious` terms give
  `political_religious`.
* `insult` fires on name-calling, *unless* it is aimed at a competitor (the nearest mention
  in its clause, see `classifiers.textspans.target_of`): then it is competitor disparagement.
* A damning judgement (`disparage`: "basura", "garbage", "held together with duct tape")
  aimed at a competitor is `competitor_disparagement`; aimed at the brand it is only an
  opinion (sentiment), not a policy issue.
* `discrimination`: a slur (also an `insult`), a sexist statement, or a protected group
  named within a sentence of a hostile phrase ("odio a los …", "woke … shoving it down our
  throats").
* `abusive` words ("useless", "inútiles", "vagos") are name-calling only when they are
  said to someone: right after an `address` ("you're a useless …", "sois unos inútiles",
  "panda de vagos"), with at most a few filler words ("a", "so", "total", "un", "muy") between.
* An `institution` ("el Gobierno", "parliament") is politics only when its sentence also takes
  a side (a `partisan` cue, an insult or a swear word); news about a ministry is not.
* `harmless` look-alikes ("por Dios", "oh my god", "de puta madre") cancel the hits they
  overlap.

Every tag's evidence lists the spans behind it, with reasons such as `policy:insult`.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.batching import BatchedComponent
from classifiers.context import BrandProfile, add_tags, doc_brand
from classifiers.lexicons import available_languages
from classifiers.tags import Evidence, TagResult
from classifiers.termlists import TermHit, TermMatcher, doc_text, split_words
from classifiers.textspans import Segments, mentions, target_of
from monitor.core.textfold import fold

# Term labels that directly give a policy label.
DIRECT = {
    "crude": "crude",
    "sexual": "sexual",
    "political": "political_religious",
    "religious": "political_religious",
}
IDENTITY_WINDOW = 1  # sentences between a protected group and a hostile phrase
# Words allowed between an `address` and an `abusive` word ("you're a total …", "sois unos
# auténticos …"): articles, intensifiers and swear-word intensifiers of both languages.
FILLERS = frozenset({
    "a", "an", "so", "such", "total", "totally", "complete", "completely", "absolute",
    "absolutely", "utter", "utterly", "fucking", "bloody", "really", "truly", "just", "the",
    "most", "all", "un", "una", "unos", "unas", "completo", "completa", "completos",
    "completas", "autentico", "autentica", "autenticos", "autenticas", "verdadero",
    "verdadera", "verdaderos", "verdaderas", "puto", "puta", "putos", "putas", "pedazo", "de",
    "tan", "muy", "mas", "todos", "todas", "menudo", "menuda",
})
MAX_FILLERS = 3
MAX_GAP_CHARS = 40  # "you're a total …": the fillers never take more room than this
# Cues that make an institution's sentence partisan.
SIDE_TAKING = ("partisan", "insult", "crude")
# Labels that give nothing on their own, only next to their partner label.
PARTNERS = {"address": "abusive", "abusive": "address", "identity": "hostility",
            "hostility": "identity", "institution": "partisan", "partisan": "institution"}
MAX_EVIDENCE = 6


def strength(hits: int) -> float:
    """More independent cues make a verdict stronger: 0.6, 0.8, 1.0."""
    return min(1.0, 0.4 + 0.2 * hits)


def _evidence(hits: list[TermHit], reason: str | None = None) -> tuple[Evidence, ...]:
    unique = sorted(set(hits))[:MAX_EVIDENCE]
    return tuple(
        Evidence(h.start, h.end, h.text, reason or f"policy:{h.label}") for h in unique
    )


def _without_harmless(found: dict[str, list[TermHit]]) -> dict[str, list[TermHit]]:
    harmless = found.pop("harmless", [])
    if not harmless:
        return found
    return {
        label: kept
        for label, hits in found.items()
        if (kept := [h for h in hits
                     if not any(h.start < s.end and s.start < h.end for s in harmless)])
    }


def _can_fire(found: dict[str, list[TermHit]]) -> bool:
    """Whether any rule can give a tag: most posts hit only a lone "you" or "gobierno", and
    skipping the rest for them keeps the component cheap."""
    return any(label not in PARTNERS or PARTNERS[label] in found
               or (label == "institution" and ("insult" in found or "crude" in found))
               for label in found)


def _addressed_abuse(address: list[TermHit], abusive: list[TermHit], text: str) -> list[TermHit]:
    """Abusive words said to someone: an `abusive` hit that follows an `address` hit with at
    most MAX_FILLERS filler words between them (the abusive word alone is the evidence)."""
    if not address or not abusive:
        return []
    found = []
    for word in abusive:
        for who in address:
            if who.end > word.start or word.start - who.end > MAX_GAP_CHARS:
                continue
            between = [fold(w) for w in split_words(text[who.end:word.start])]
            if len(between) <= MAX_FILLERS and all(w in FILLERS for w in between):
                found.append(TermHit(word.start, word.end, word.text, "insult"))
                break
    return found


def _partisan_institutions(found: dict[str, list[TermHit]], segments: Segments) -> list[TermHit]:
    """Institutions whose sentence takes a side, with the cues that take it."""
    institutions = found.get("institution", [])
    if not institutions:
        return []
    cues = [hit for label in SIDE_TAKING for hit in found.get(label, [])]
    pairs: list[TermHit] = []
    for institution in institutions:
        where = segments.sentence(institution.start)
        near = [c for c in cues if segments.sentence(c.start) == where]
        if near:
            pairs += [institution, *near]
    return pairs


class PolicyTagger(BatchedComponent):
    """The rules above for one language; `__call__` is the spaCy component."""

    def __init__(self, nlp: Language, lang: str) -> None:
        self.terms = TermMatcher.for_pipeline(f"policy_{lang}", nlp.make_doc)

    def __call__(self, doc: Doc) -> Doc:
        add_tags(doc, self.tags(doc, doc_brand(doc)))
        return doc

    def tags(self, doc: Doc, brand: BrandProfile | None) -> list[TagResult]:
        """The policy TagResults for one Doc, judged for `brand` (None: no competitors)."""
        found = _without_harmless(self.terms.by_label(doc))
        if not _can_fire(found):
            return []
        by_label: dict[str, list[TermHit]] = {}
        for term_label, label in DIRECT.items():
            by_label.setdefault(label, []).extend(found.get(term_label, []))
        segments = Segments.of_doc(doc)
        named_calls = found.get("insult", [])
        found["insult"] = named_calls + [
            hit for hit in _addressed_abuse(found.get("address", []), found.get("abusive", []),
                                            doc_text(doc))
            if not any(hit.start < n.end and n.start < hit.end for n in named_calls)
        ]
        by_label["political_religious"] += _partisan_institutions(found, segments)
        judgements = found.get("insult", []) + found.get("disparage", [])
        named = mentions(doc, brand) if judgements else []
        disparaged: list[TermHit] = []
        for hit in judgements:
            target = target_of(hit.start, named, segments)
            if target is not None and target.label == "competitor":
                disparaged += [hit, target]
            elif hit.label == "insult":
                by_label.setdefault("insult", []).append(hit)
        by_label["competitor_disparagement"] = disparaged
        slurs = found.get("slur", [])
        by_label.setdefault("insult", []).extend(slurs)
        by_label["discrimination"] = slurs + found.get("sexism", []) + self._hostile_to_group(
            found.get("identity", []), found.get("hostility", []), segments
        )
        return [
            TagResult("policy", label, strength(len({(h.start, h.end) for h in hits})),
                      _evidence(hits))
            for label, hits in by_label.items()
            if hits
        ]

    @staticmethod
    def _hostile_to_group(
        groups: list[TermHit], hostile: list[TermHit], segments: Segments
    ) -> list[TermHit]:
        """Group mentions and hostile phrases that sit within IDENTITY_WINDOW sentences."""
        if not groups or not hostile:
            return []
        pairs: list[TermHit] = []
        for group in groups:
            where = segments.sentence(group.start)
            near = [h for h in hostile
                    if abs(segments.sentence(h.start) - where) <= IDENTITY_WINDOW
                    and not (h.start < group.end and group.start < h.end)]
            if near:
                pairs += [group, *near]
        return pairs


@Language.factory(
    "vigia_policy", default_config={"lang": ""}, requires=["doc._.vigia_brand"],
    assigns=["doc._.vigia_tags"],
)
def make_policy(nlp: Language, name: str, lang: str) -> PolicyTagger:
    """spaCy factory: the policy lexicon of `lang` (English rules for other languages)."""
    lang = lang or nlp.lang
    return PolicyTagger(nlp, lang if lang in available_languages() else "en")
