"""The JSON API's shapes: pydantic models for the OpenAPI document, and the one function that
turns a mention into its JSON (masked), shared by the API's answers and the JSONL export.

Every route declares its response model, so the document at /api/v1/openapi.json is complete
and a client (or schemathesis) can check every answer against it. The mention's shape is the
command line's (`monitor mentions --json`, monitor.core.queries.mention_as_dict) plus the
review state, so one parser reads both.

Masking: everything a post brought (title, text, author, URLs, evidence) goes through
`reports.render.masked`, as in emails and pages; an API token is no way around it. History
details are masked too: an `untag` keeps the removed tag's evidence, quoted from the post.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from monitor.app.alert_log import AlertItem
from monitor.app.review import ACTIONS, MAX_NOTE
from monitor.core.inbox_items import InboxItem
from monitor.core.models import Action
from monitor.core.queries import mention_as_dict
from monitor.web.filters import without_nul
from reports.period_counts import RankedName, ShareItem
from reports.render import masked

#: The action names, from the review store (one list: a new action appears here by itself).
ActionName = Literal[ACTIONS]  # type: ignore[valid-type]


class ErrorOut(BaseModel):
    """Every error answer but a 422 from parameter validation (FastAPI's own shape)."""

    detail: str


class TagOut(BaseModel):
    brand: str
    family: str
    label: str
    score: float
    evidence: list[Any] = Field(description="spans: start, end, text (masked), reason")


class MentionOut(BaseModel):
    """One mention (a story: one or more posts of it, `sources` and `urls`)."""

    id: int
    title: str | None
    text: str | None
    url: str | None
    urls: list[str]
    sources: list[str]
    author: str | None
    author_handle: str | None
    lang: str | None
    published_at: datetime | None
    first_seen_at: datetime
    metrics: dict[str, Any]
    reach: int
    brands: list[str]
    tags: list[TagOut]
    sentiment: str | None
    review_status: str
    assigned_to: str | None


class MentionPage(BaseModel):
    items: list[MentionOut]
    next_cursor: str | None = Field(
        description="pass back as `cursor` for the next page; null on the last page"
    )


class HistoryEntry(BaseModel):
    """One review action: who did what, when; `detail` is what it carried."""

    id: int
    user: str
    action: str
    brand: str | None
    created_at: datetime
    detail: dict[str, Any]


class MentionDetail(MentionOut):
    history: list[HistoryEntry] = Field(description="review actions, oldest first")


class TagValue(BaseModel):
    family: str = Field(max_length=40)
    label: str | None = Field(None, max_length=80)

    _no_nul = field_validator("family", "label")(without_nul)


class ActionIn(BaseModel):
    """A review action. `value` by action: escalate (an optional note), assign (a user name,
    or null to unassign), sentiment (negative|neutral|positive), tag/untag ({family, label}),
    note (the text); reviewed and false_positive take none."""

    action: ActionName
    brand: str | None = Field(
        None, max_length=200, description="which of the mention's brands (default: the first)"
    )
    value: Annotated[str, Field(max_length=MAX_NOTE)] | TagValue | None = None

    _no_nul = field_validator("brand", "value")(without_nul)


class Counts(BaseModel):
    total: int
    negative: int
    neutral: int
    positive: int
    unrated: int
    net_sentiment: float | None


class BucketOut(Counts):
    start: datetime
    end: datetime


class SourceOut(BaseModel):
    name: str
    kind: str
    status: str
    reason: str
    enabled: bool
    configured: bool
    last_success_at: datetime | None
    last_new_at: datetime | None
    items_seen: int
    items_skipped: int
    mentions_stored: int
    consecutive_failures: int
    last_error: str | None
    last_outcome: str | None
    last_warning: str | None
    silent_after_seconds: int


class BrandStatsOut(BaseModel):
    """A brand's dashboard over [start, end), in whole buckets of the settings' time zone.

    Share of voice, rankings and alerts are the application's own dataclasses (pydantic
    reads their fields): one definition of each shape, for the code and the document."""

    brand: str
    timezone: str
    bucket: str
    start: datetime
    end: datetime
    totals: Counts
    series: list[BucketOut]
    share_of_voice: list[ShareItem]
    top_sources: list[RankedName]
    top_authors: list[RankedName]
    alerts: list[AlertItem]
    sources: list[SourceOut]


def mention_json(item: InboxItem) -> dict[str, Any]:
    """The mention as the API and the JSONL export give it, every text of the post masked."""
    return {
        **mention_as_dict(item, masked),
        "sentiment": item.sentiment,
        "review_status": item.review_status,
        "assigned_to": item.assigned_to,
    }


def history_json(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "user": action.user_name,
        "action": action.action,
        "brand": action.brand,
        "created_at": action.created_at,
        "detail": _masked_deep(action.detail or {}),
    }


def _masked_deep(value: Any) -> Any:
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, dict):
        return {key: _masked_deep(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_deep(item) for item in value]
    return value
