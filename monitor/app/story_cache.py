"""The stored stories a worker compares new posts with, kept between runs, read incrementally.

Finding a post's story compares it with every story of its brands stored within the window
(`classifiers.stories`). Reading and preparing all of them again on every run made a run's
cost grow with the brand's stories, and it was paid under the brand's lock
(`mention_store.lock_stories`): with 10,000 stories in the window a queue worker spent 72 %
of its time there (py-spy), and two workers on one brand mostly took turns (1.19x with 2).

`StoryCache` keeps, per brand, the stories read so far, each prepared once (`Candidate`),
and reads only what is new: the stories whose brand match has an id above the brand's
watermark. That is safe because a brand's matches are written only under that brand's lock
(PostgreSQL) or by one writer at a time (SQLite), so they commit in id order: a match
committed after a read has a larger id than any that read saw. A database whose ids went
backwards (a restored backup) empties the cache. The cache holds the stories first seen
since `now - window` (or since the oldest batch asked for) and drops those older than two
windows, so a long-lived worker does not grow without bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from classifiers.fingerprint import TEXT_CHARS, story_text
from classifiers.stories import DEFAULT_WINDOW, Candidate, candidate, story_post
from monitor.core.models import BrandMatch, Mention, MentionSource, Source


@dataclass(frozen=True, slots=True)
class _Held:
    candidate: Candidate
    first_seen: datetime


@dataclass
class _BrandStories:
    since: datetime  # every story of the brand first seen at or after this is held
    watermark: int = 0  # the largest BrandMatch.id read
    stories: dict[int, _Held] = field(default_factory=dict)


def read_stories(
    session: Session, brand: str, since: datetime, *, before: datetime | None = None,
    match_after: int = 0,
) -> list[tuple[int, int, _Held]]:
    """The brand's stories first seen in [since, before), matched after `match_after`, each
    with its brand match's id; a story is compared by its lead post (its first sighting's
    source and kind) and dated by publication, else by first sighting."""
    sighting = aliased(MentionSource)
    lead = (
        select(func.min(sighting.id))
        .where(sighting.mention_id == Mention.id)
        .correlate(Mention)
        .scalar_subquery()
    )
    query = (
        select(
            BrandMatch.id,
            Mention.id,
            Mention.title,
            func.substr(Mention.text, 1, TEXT_CHARS),
            func.coalesce(Mention.author_handle, Mention.author),
            func.coalesce(Mention.published_at, Mention.first_seen_at),
            Mention.first_seen_at,
            Source.id,
            Source.kind,
        )
        .select_from(BrandMatch)
        .join(Mention, Mention.id == BrandMatch.mention_id)
        .join(MentionSource, MentionSource.id == lead)
        .join(Source, Source.id == MentionSource.source_id)
        .where(BrandMatch.brand == brand, BrandMatch.id > match_after,
               Mention.first_seen_at >= since)
    )
    if before is not None:
        query = query.where(Mention.first_seen_at < before)
    return [
        (match_id, ident, _Held(candidate(ident, story_post(story_text(title, text or ""), author,
                                                     source_id, kind, at)), first_seen))
        for match_id, ident, title, text, author, at, first_seen, source_id, kind
        in session.execute(query).all()
    ]


class StoryCache:
    """Per brand, the stored stories read so far; safe to share between threads."""

    def __init__(self, window: timedelta = DEFAULT_WINDOW) -> None:
        self.window = window
        self._brands: dict[str, _BrandStories] = {}
        self._lock = threading.Lock()

    def candidates(
        self, session: Session, brands: Sequence[str], low: datetime, high: datetime,
        now: datetime,
    ) -> list[Candidate]:
        """The brands' stories a batch dated [low + window, high - window] could join: those
        first seen since `low` and dated within [low, high], oldest first (ids ascending)."""
        with self._lock:
            self._check_ids(session)
            for brand in brands:
                self._refresh(session, brand, low, now)
            found: dict[int, _Held] = {}
            for brand in brands:
                for ident, held in self._brands[brand].stories.items():
                    if held.first_seen >= low and low <= held.candidate.post.at <= high:
                        found[ident] = held
        return [found[ident].candidate for ident in sorted(found)]

    def forget(self, story_ids: Iterable[int]) -> None:
        """Drop stories that are gone from the database."""
        with self._lock:
            for held in self._brands.values():
                for ident in story_ids:
                    held.stories.pop(ident, None)

    def clear(self) -> None:
        with self._lock:
            self._brands.clear()

    def _check_ids(self, session: Session) -> None:
        if not self._brands:
            return
        newest = session.scalar(select(func.max(BrandMatch.id))) or 0
        if any(held.watermark > newest for held in self._brands.values()):
            self._brands.clear()

    def _refresh(self, session: Session, brand: str, low: datetime, now: datetime) -> None:
        floor = min(low, now - self.window)
        held = self._brands.get(brand)
        if held is None:
            held = self._brands[brand] = _BrandStories(since=floor)
            self._keep(held, read_stories(session, brand, floor))
            return
        cutoff = now - 2 * self.window
        if held.since < cutoff - self.window and floor >= cutoff:
            held.stories = {i: h for i, h in held.stories.items() if h.first_seen >= cutoff}
            held.since = cutoff
        self._keep(held, read_stories(session, brand, held.since, match_after=held.watermark))
        if floor < held.since:  # an older batch (a backfill): read the range before too,
            # without moving the watermark, which only a read of everything since `since` may
            rows = read_stories(session, brand, floor, before=held.since)
            held.stories.update((ident, story) for _, ident, story in rows)
            held.since = floor

    @staticmethod
    def _keep(held: _BrandStories, rows: list[tuple[int, int, _Held]]) -> None:
        for match_id, ident, story in rows:
            held.stories[ident] = story
            held.watermark = max(held.watermark, match_id)
