"""Case- and accent-folding, the one rule for matching words: 'Atención PÉSIMA' → 'atencion
pesima'. In the core because both the classifiers (brand queries, lexicons) and the inbox's
search (which must fold a query's words as migration 0006 folds the indexed text) use it."""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Casefold and strip accents (combining marks); ASCII takes the cheap path."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
