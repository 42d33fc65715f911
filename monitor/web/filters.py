"""The inbox filters, read from query parameters: one model for the pages, the API and exports.

FastAPI validates the parameters against `InboxQuery` (a bad date or an unknown sentiment is
a 422 naming the parameter, never a 500), and `to_filter` turns them into the core's
`MentionFilter`, adding what the user's role may not see, so no route can forget it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.app.users import UserInfo
from monitor.core import access
from monitor.core.inbox import MentionFilter
from monitor.web.context import WebContext

Sentiment = Literal["negative", "neutral", "positive"]
Status = Literal["new", "reviewed", "false_positive", "escalated"]
MAX_LIMIT = 200
#: The days a filter may name: any real period, and far from datetime's own limits (year
#: 9999 + one day would overflow, a 500 instead of a 422 naming the parameter).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)


def without_nul(value: object) -> object:
    """Refuse a NUL character in a text parameter: PostgreSQL cannot take one as text (a 500
    otherwise), and no name or search needs one."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class InboxQuery(BaseModel):
    """Every inbox filter; all optional. Dates are UTC days, `until` inclusive."""

    model_config = ConfigDict(extra="ignore")

    brand: str | None = Field(None, max_length=200, description="a brand or competitor name")
    source: str | None = Field(None, max_length=200, description="a source's name")
    tag: str | None = Field(None, max_length=80, description="a tag label, e.g. complaint, pii")
    sentiment: Sentiment | None = None
    status: Status | None = Field(None, description="review status")
    lang: str | None = Field(None, max_length=10, pattern=r"^[a-z]{2,3}$")
    since: date | None = Field(
        None, ge=FIRST_DAY, le=LAST_DAY, description="first day (UTC), YYYY-MM-DD"
    )
    until: date | None = Field(
        None, ge=FIRST_DAY, le=LAST_DAY, description="last day (UTC, inclusive), YYYY-MM-DD"
    )
    q: str | None = Field(
        None, max_length=500, description='full-text search: words, "phrases", OR, NOT, -word, pre*'
    )
    assigned: str | None = Field(None, max_length=100, description="assigned user's name")

    _no_nul = field_validator("brand", "source", "tag", "lang", "q", "assigned")(without_nul)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        """The inbox's filter form submits every field, the unused ones empty (`since=`):
        an empty field means "no filter", not an invalid date or sentiment."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data

    def active(self) -> dict[str, str]:
        """The filters set, as query parameters (for links that keep them)."""
        return {k: str(v) for k, v in self.model_dump().items() if v not in (None, "")}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def to_filter(query: InboxQuery, user: UserInfo, context: WebContext) -> MentionFilter:
    return MentionFilter(
        brands=tuple(context.brand_names),
        brand=query.brand or None,
        source=query.source or None,
        tag=query.tag or None,
        sentiment=query.sentiment,
        status=query.status,
        lang=query.lang or None,
        since=_day_start(query.since) if query.since else None,
        until=_day_start(query.until + timedelta(days=1)) if query.until else None,
        search=(query.q or "").strip() or None,
        assigned_to=query.assigned or None,
        hidden_families=access.hidden_families(user.role),
    )
