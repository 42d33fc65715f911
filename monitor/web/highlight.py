"""A mention's title and text cut into segments: plain, or highlighted as a tag's evidence.

Evidence spans are character offsets into the post's full text (title, newline, body: what
the classifiers read, monitor.core.rawpost.full_text). The page shows title and body apart,
each as a list of segments the template prints one by one (a <mark> for evidence), so no
markup is ever built from post content: every segment is autoescaped like any value.

Masking is per segment (reports.render.masked), so a cut must never fall inside an
identifier: "DNI 4821|5763N" masked as two pieces would show both halves. Every highlight is
widened to cover whole identifiers (classifiers.masking.identifier_spans) before the text is
cut, and the title/body cut is dropped when an identifier straddles it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers.masking import identifier_spans
from monitor.core.rawpost import full_text
from reports.render import masked

MAX_REASON = 300


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the post; `reason` is None for plain text, else why it is highlighted."""

    text: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Highlighted:
    """The title's segments (empty when the post has none apart) and the body's."""

    title: tuple[Segment, ...]
    body: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of a tag's evidence as the page lists it: why, and the words (shown)."""

    reason: str
    excerpt: str


def evidence_spans(tags: Iterable[Any]) -> list[tuple[int, int, str]]:
    """(start, end, reason) of every tag's evidence that has usable offsets."""
    return [(s, e, reason) for tag in tags for s, e, reason, _ in _evidence(tag) if s is not None]


def _evidence(tag: Any) -> list[tuple[int | None, int | None, str, str]]:
    """(start, end, reason, stored text) of a tag's evidence; offsets None when unusable."""
    found = []
    for item in tag.evidence:
        if not isinstance(item, dict):
            continue
        start, end = item.get("start"), item.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            start = end = None
        reason = str(item.get("reason") or f"{tag.family} {tag.label}")[:MAX_REASON]
        found.append((start, end, reason, str(item.get("text") or "")))
    return found


def tag_reasons(
    title: str | None, text: str, tags: Iterable[Any], *, reveal: bool = False
) -> list[tuple[Any, tuple[Reason, ...]]]:
    """Each tag with its evidence. The excerpt is cut from the post at the span widened to
    whole identifiers (a span's stored text may end inside one), masked unless `reveal`."""
    full = full_text(title, text or "")
    identifiers = [(e.start, e.end) for e in identifier_spans(full)]
    show = _shower(reveal)
    listed = []
    for tag in tags:
        reasons = []
        for start, end, reason, stored in _evidence(tag):
            if start is not None and end is not None and end <= len(full):
                start, end, _ = _widen(start, end, reason, identifiers)
                stored = full[start:end]
            reasons.append(Reason(reason, show(stored)))
        listed.append((tag, tuple(reasons)))
    return listed


def _shower(reveal: bool) -> Any:
    return (lambda piece: piece) if reveal else masked


def highlight(
    title: str | None, text: str, spans: Sequence[tuple[int, int, str]], *, reveal: bool = False
) -> Highlighted:
    """The post cut into segments, masked unless `reveal` (an audited unmasked view)."""
    full = full_text(title, text or "")
    identifiers = [(e.start, e.end) for e in identifier_spans(full)]
    marks = _merge([_widen(s, e, r, identifiers) for s, e, r in spans if e <= len(full)])
    cut = len(title) if title and full != text and full != title else None
    if cut is not None and any(s <= cut < e for s, e in identifiers):
        cut = None  # an identifier runs from the title into the body: keep them together
    show = _shower(reveal)
    if cut is None:
        return Highlighted((), _segments(full, 0, len(full), marks, show))
    return Highlighted(
        _segments(full, 0, cut, marks, show), _segments(full, cut + 1, len(full), marks, show)
    )


def _widen(
    start: int, end: int, reason: str, identifiers: list[tuple[int, int]]
) -> tuple[int, int, str]:
    for i_start, i_end in identifiers:
        if i_start < end and start < i_end:
            start, end = min(start, i_start), max(end, i_end)
    return start, end, reason


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping highlights become one, with every reason (each said once)."""
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, reason in sorted(spans):
        if merged and start < merged[-1][1]:
            last_start, last_end, reasons = merged[-1]
            if reason not in reasons:
                reasons.append(reason)
            merged[-1] = (last_start, max(last_end, end), reasons)
        else:
            merged.append((start, end, [reason]))
    return [(start, end, "; ".join(reasons)) for start, end, reasons in merged]


def _segments(
    full: str, lo: int, hi: int, marks: list[tuple[int, int, str]], show: Any
) -> tuple[Segment, ...]:
    """[lo, hi) of `full` as segments; highlights are clipped to the range."""
    found: list[Segment] = []
    position = lo
    for start, end, reason in marks:
        start, end = max(start, lo), min(end, hi)
        if start >= end:
            continue
        if start > position:
            found.append(Segment(show(full[position:start])))
        found.append(Segment(show(full[start:end]), reason))
        position = end
    if position < hi:
        found.append(Segment(show(full[position:hi])))
    return tuple(found)
