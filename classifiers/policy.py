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
from classifiers.termlists import TermHit, TermMatcher
from classifiers.textspans import Segments, mentions, target_of

# Term labels that directly give a policy label.
DIRECT = {
    "crude": "crude",
    "sexual": "sexual",
    "political": "political_religious",
    "religious": "political_religious",
}
IDENTITY_WINDOW = 1  # sentences between a protected group and a hostile phrase
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
        if not found:
            return []
        by_label: dict[str, list[TermHit]] = {}
        for term_label, label in DIRECT.items():
            by_label.setdefault(label, []).extend(found.get(term_label, []))
        segments = Segments.of_doc(doc)
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


@Language.factory("vigia_policy", default_config={"lang": ""})
def make_policy(nlp: Language, name: str, lang: str) -> PolicyTagger:
    """spaCy factory: the policy lexicon of `lang` (English rules for other languages)."""
    lang = lang or nlp.lang
    return PolicyTagger(nlp, lang if lang in available_languages() else "en")
