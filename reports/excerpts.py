"""Excerpts of a post with the evidence behind its tags highlighted.

A tag's evidence is a list of character spans into the text the classifiers read
(`RawPost.full_text()`: title and body). An excerpt shows about EXCERPT_CHARS of the body
around the first piece of evidence, with every span that still points at its own text
marked; spans that do not (a stale offset, a hostile stored value) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from monitor.core.rawpost import RawPost

EXCERPT_CHARS = 280
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Segment:
    """A piece of an excerpt; `mark` pieces are evidence and are highlighted."""

    text: str
    mark: bool = False


def analysed_text(title: str | None, text: str | None) -> tuple[str, int]:
    """The text the classifiers saw (`RawPost.full_text`) and where the body starts in it."""
    title, text = title or "", text or ""
    full = RawPost(source="", external_id="", title=title or None, text=text).full_text()
    if not text:
        return full, len(full)  # title only: no body to excerpt
    return full, len(full) - len(text)


def valid_spans(full: str, evidence: list[Any]) -> list[tuple[int, int]]:
    """Evidence offsets that really point at their text; stale or hostile ones are dropped."""
    spans = []
    for item in evidence:
        if not isinstance(item, dict):
            continue
        start, end, text = item.get("start"), item.get("end"), item.get("text")
        in_range = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(full)
        if in_range and (not text or full[start:end] == text):
            spans.append((start, end))
    return spans


def excerpt(full: str, body_offset: int, spans: list[tuple[int, int]]) -> list[Segment]:
    """About EXCERPT_CHARS of the body around the first evidence, evidence marked.

    The window starts at the body (the title is shown on its own) unless the first piece
    of evidence lies further in, in which case it starts a little before that evidence so
    the reader sees why the post was tagged. Cuts fall on spaces and are shown with "…".
    """
    body_spans = sorted(s for s in spans if s[1] > body_offset)
    start = body_offset
    if body_spans and body_spans[0][0] - body_offset > EXCERPT_CHARS // 2:
        start = _word_start(full, max(body_offset, body_spans[0][0] - 60), body_offset)
    end = min(len(full), start + EXCERPT_CHARS)
    if end < len(full):
        space = full.rfind(" ", start + EXCERPT_CHARS // 2, end)
        end = space if space > 0 else end
    segments: list[Segment] = [Segment("…")] if start > body_offset else []
    cursor = start
    for span_start, span_end in _merge(body_spans):
        lo, hi = max(span_start, cursor), min(span_end, end)
        if lo >= hi:
            continue
        if lo > cursor:
            segments.append(Segment(full[cursor:lo]))
        segments.append(Segment(full[lo:hi], mark=True))
        cursor = hi
    if cursor < end:
        segments.append(Segment(full[cursor:end]))
    if end < len(full):
        segments.append(Segment("…"))
    return [Segment(_SPACES.sub(" ", s.text), s.mark) for s in segments]


def _word_start(full: str, index: int, floor: int) -> int:
    space = full.find(" ", index)
    return space + 1 if 0 <= space < index + 30 else max(index, floor)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

