"""Values offered as examples: what a tutorial, a manual or a scam warning shows is not a leak.

A blog post that explains phishing ("in the example screenshot I put the usual ES91 2100 …
that every manual has") or how to log in ("for example, suppose your password is …") writes
values that look like secrets or personal data and are neither. The cue is the framing in
the same sentence before the value, shared by the secret and personal-data detectors.
"""

from __future__ import annotations

import re

# Example framing: a value after one of these, in the same sentence, is an illustration.
EXAMPLE = re.compile(
    r"(?<!\w)(?:for\s+(?:example|instance)|e\.\s?g\.|i\.\s?e\.|such\s+as|suppose|supposing|"
    r"imagine|let'?s\s+say|say\s+(?:that\s+)?your|an?\s+example|example:|"
    r"(?:sample|example|dummy|test)\s+(?:iban|card|account|number)s?|"
    r"por\s+ejemplo|p\.\s?ej\.|supongamos|sup[oó]n\s+que|pongamos\s+que|imagina(?:te|mos)?|"
    r"un\s+ejemplo|ejemplo:|(?:de|como)\s+ejemplo)(?!\w)",
    re.IGNORECASE,
)
# A sentence ends at a full stop, "?" or "!" followed by a space and a capital, or a line break.
SENTENCE_BREAK = re.compile(r"[.!?]\s+(?=[A-ZÁÉÍÓÚÑ¿¡])|\n")
EXAMPLE_REACH = 200  # characters before the value where its framing is looked for


def offered_as_example(text: str, start: int) -> bool:
    """Does the sentence before `start` frame what follows as an example ("for example,
    suppose your password is …")? Only what follows the last framing word, up to the
    value, must stay in one sentence ("e.g." is not a sentence end)."""
    window = text[max(0, start - EXAMPLE_REACH):start]
    frames = list(EXAMPLE.finditer(window))
    return bool(frames) and not SENTENCE_BREAK.search(window, frames[-1].end())
