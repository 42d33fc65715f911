"""Evidence reasons read in the reader's language: no raw rule names in a digest."""

from __future__ import annotations

import pytest

from classifiers.complaint import WEIGHTS
from classifiers.tags import BOOLEAN_FAMILIES, SENTIMENT_LABELS
from reports.alert_i18n import reason_label

# The complaint evidence kinds a tag can carry (its positive cues and the brand addressed),
# and the words a learned decision cites ("learned <label> word").
COMPLAINT_REASONS = [f"complaint:{kind}" for kind, weight in WEIGHTS.items() if weight > 0]
LEARNED_REASONS = [f"learned {label} word" for label in (*SENTIMENT_LABELS, *BOOLEAN_FAMILIES)]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("reason", [*COMPLAINT_REASONS, "complaint:addressed", *LEARNED_REASONS])
def test_every_complaint_and_learned_reason_has_a_label(reason: str, language: str) -> None:
    label = reason_label(reason, language)
    assert "learned" not in label and "_" not in label, label  # no rule name leaks through
    if language == "es":  # and nothing left in English ("queja: experience")
        assert not {"complaint", "experience", "review", "word"} & set(label.split()), label
