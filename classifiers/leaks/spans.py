"""Resolving overlapping evidence spans found by different leak detectors."""

from __future__ import annotations

from collections.abc import Iterable

from classifiers.tags import Evidence


def without_overlaps(found: Iterable[Evidence]) -> list[Evidence]:
    """Where detections overlap keep the longest (the most specific: an IBAN over the phone
    number its digits also spell); the survivors in text order."""
    items = list(found)
    if len(items) < 2:  # the usual post: nothing to resolve, no sorting
        return items
    kept: list[Evidence] = []
    for item in sorted(items, key=lambda e: (-(e.end - e.start), e.start)):
        if all(item.end <= k.start or item.start >= k.end for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda e: e.start)
