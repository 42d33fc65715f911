"""What a classifier says about a mention: a label, a score and the evidence behind it.

The evidence (character spans of the text) is what lets a digest reader see *why* a post was
tagged, instead of trusting an opaque label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The labels a family's tags carry (the `monitor eval` fields, and what a reviewer may set).
SENTIMENT_LABELS = ("negative", "neutral", "positive")
LEAK_LABELS = ("pii", "secret", "confidential")
POLICY_LABELS = (
    "insult", "discrimination", "sexual", "crude", "political_religious",
    "competitor_disparagement",
)
BOOLEAN_FAMILIES = ("employee", "complaint")
MULTI_LABEL = {"leak": LEAK_LABELS, "policy": POLICY_LABELS}


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the analysed text (character offsets) and why it counted."""

    start: int
    end: int
    text: str
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class TagResult:
    """One verdict: `family` groups labels (sentiment, leak, employee, policy, complaint).

    `score` is the verdict's strength in [0, 1], except for sentiment, where it is the signed
    polarity in [-1, 1] (below zero leans negative), which keeps "how negative" comparable.
    """

    family: str
    label: str
    score: float
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class BrandAnalysis:
    """Everything the classifiers found about one post for one brand whose query matched."""

    brand: str
    terms: tuple[str, ...]
    lang: str
    tags: tuple[TagResult, ...]
    # "brand" for a configured brand; "competitor" for a configured competitor's name found in
    # the post (stored for share of voice, never classified, so its tags are always empty).
    role: str = "brand"

    @property
    def sentiment(self) -> TagResult | None:
        return next((t for t in self.tags if t.family == "sentiment"), None)
