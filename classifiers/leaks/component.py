"""The `vigia_leak` spaCy component: one `leak` tag per label found (pii, secret,
confidential), each with its evidence spans and a strength in [0, 1].

The PII and secret detectors work on the Doc's text with compiled regexes and checksum
validators (character shapes, not words); the confidential detector's word cues are token
patterns, run only when the post's words allow them (`classifiers.token_patterns`). All
read the brand's context (`doc._.vigia_brand`): its public contact points are not PII, its
codenames and internal domains are confidential.

Strength: each kind of evidence has a confidence (a checksum-validated DNI is near-certain, an
address guessed from context less so); several independent pieces combine as
1 − Π(1 − confidence), so two weak signals outweigh one.
"""

from __future__ import annotations

from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.batching import BatchedComponent
from classifiers.context import add_tags, doc_brand, doc_lowered, doc_text
from classifiers.hints import HintIndex
from classifiers.leaks import confidential, pii, secrets
from classifiers.leaks.confidential import find_confidential
from classifiers.leaks.pii import find_pii
from classifiers.leaks.secrets import find_secrets
from classifiers.tags import Evidence, TagResult

MAX_EVIDENCE = 8
CONFIDENCE: dict[str, float] = {
    "pii:dni": 0.95, "pii:nie": 0.95, "pii:iban": 0.95, "pii:bank_account": 0.9,
    "pii:card": 0.95, "pii:email": 0.8, "pii:phone": 0.8, "pii:passport": 0.7,
    "pii:address": 0.7, "pii:account": 0.65,
    "secret:password": 0.85, "secret:url_credentials": 0.9, "secret:high_entropy": 0.7,
    "secret:bearer_token": 0.8, "secret:credentials_image": 0.6,
    "confidential:codename": 0.9, "confidential:internal_link": 0.9,
    "confidential:marker": 0.7, "confidential:insider": 0.7,
    "confidential:internal_document": 0.7,
}
KNOWN_FORMAT = 0.95  # secrets with a provider's documented token format
# The three detectors' hints, found in one scan of the post and shared (`classifiers.hints`).
_HINTS = HintIndex([*pii.HINTS, *secrets.HINTS, *confidential.HINTS])


def strength(evidence: Sequence[Evidence]) -> float:
    """1 − Π(1 − confidence) over the evidence, rounded for stable storage."""
    missing = 1.0
    for item in evidence:
        missing *= 1.0 - CONFIDENCE.get(item.reason, KNOWN_FORMAT)
    return round(1.0 - missing, 4)


def leak_tags(doc: Doc) -> list[TagResult]:
    """The leak TagResults for the Doc's text, in its brand context (if any)."""
    text, profile = doc_text(doc), doc_brand(doc)
    hints = _HINTS.found(doc_lowered(doc)[0])
    groups = {
        "pii": find_pii(text, profile.contact_points if profile else (), hints),
        "secret": find_secrets(text, hints),
        "confidential": find_confidential(doc, profile, hints),
    }
    return [
        TagResult("leak", label, strength(found), tuple(found[:MAX_EVIDENCE]))
        for label, found in groups.items()
        if found
    ]


class LeakDetector(BatchedComponent):
    """The spaCy component; stateless, so one instance serves every Doc and thread."""

    def __call__(self, doc: Doc) -> Doc:
        add_tags(doc, leak_tags(doc))
        return doc


@Language.factory(
    "vigia_leak", requires=["doc._.vigia_brand"], assigns=["doc._.vigia_tags"]
)
def make_leak_detector(nlp: Language, name: str) -> LeakDetector:
    return LeakDetector()
