"""The database schema as typed SQLAlchemy 2 models.

Unique constraints carry the "never duplicate" promise: a post is unique per (source,
external id); a story (syndicated copies of one article, grouped by `classifiers.stories`) is
one `Mention` with one `MentionSource` row per post; a tag is unique per (mention, brand,
label); an email is unique per outbox key. Several workers inserting the same thing
therefore cannot duplicate it. The queue's and learning's tables are in queue_models.py and
learning_models.py (the migrations import them). Changing any of them needs a new Alembic
revision in monitor/core/migrations/versions/.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite drops tzinfo, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The full-text index (migration 0006) is kept by the database itself, not by a model: the
#: FTS5 table and its shadow tables on SQLite, a generated column and its GIN index on
#: PostgreSQL. A SQLite batch migration that rebuilds `mentions` drops its triggers: such a
#: migration must run 0006's statements again.
SEARCH_INDEX_OBJECTS = frozenset(
    {"mentions_fts", "mentions_fts_data", "mentions_fts_idx", "mentions_fts_docsize",
     "mentions_fts_config", "search_vector", "ix_mentions_search"}
)


def is_modelled(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's `include_object`: compare everything but the full-text index's objects."""
    return name not in SEARCH_INDEX_OBJECTS


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Source(Base):
    """One configured source and its incremental state, updated with the posts it produced."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    cursor: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(100))
    seen_ids: Mapped[list[Any]] = mapped_column(default=list)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_warning: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_new_at: Mapped[datetime | None]
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    mentions_stored: Mapped[int] = mapped_column(Integer, default=0)
    #: Items the source gave but no connector could read (FetchResult.skipped), all runs.
    items_skipped: Mapped[int] = mapped_column(Integer, default=0)
    #: The last failed run's monitor.core.errors.Outcome value; None after a success.
    last_outcome: Mapped[str | None] = mapped_column(String(20))


class Mention(Base):
    """One story: its lead post's content, however many posts (`sources`) carried it.

    `fingerprint` hashes the text it is grouped by (`classifiers.fingerprint`); it is not unique,
    because the same headline a year later, or from another author on a forum, is another story.
    """

    __tablename__ = "mentions"
    # The inbox's keyset order (newest first, id breaking ties) read straight off an index.
    __table_args__ = (Index("ix_mentions_inbox", "first_seen_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300))
    author_handle: Mapped[str | None] = mapped_column(String(300))
    lang: Mapped[str | None] = mapped_column(String(10))
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    media: Mapped[list[Any]] = mapped_column(default=list)
    reach: Mapped[int] = mapped_column(Integer, default=0)
    #: Where the team's review stands (monitor.core.access.REVIEW_STATUSES); "new" until
    #: someone acts on it in the web app or the API.
    review_status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(100))

    sources: Mapped[list[MentionSource]] = relationship(
        back_populates="mention", cascade="all, delete-orphan", order_by="MentionSource.id"
    )
    brands: Mapped[list[BrandMatch]] = relationship(
        back_populates="mention", cascade="all, delete-orphan", order_by="BrandMatch.id"
    )
    tags: Mapped[list[Tag]] = relationship(
        back_populates="mention", cascade="all, delete-orphan", order_by="Tag.id"
    )


class MentionSource(Base):
    """One post of a story: unique per (source, external id).

    Volume and spike counts count these rows, at `published_at` (the post's own date; None
    when the source gave none, then `first_seen_at` counts). `author` is who the post credits:
    the outlet, for an aggregator such as Google News.
    """

    __tablename__ = "mention_sources"
    __table_args__ = (UniqueConstraint("source_id", "external_id", name="uq_source_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(index=True)

    mention: Mapped[Mention] = relationship(back_populates="sources")
    source: Mapped[Source] = relationship()


class BrandMatch(Base):
    """A mention matched a brand's query; `terms` are the query terms that matched."""

    __tablename__ = "brand_matches"
    __table_args__ = (
        UniqueConstraint("mention_id", "brand", name="uq_brand_match"),
        Index("ix_brand_matches_brand", "brand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    brand: Mapped[str] = mapped_column(String(200))
    terms: Mapped[list[Any]] = mapped_column(default=list)

    mention: Mapped[Mention] = relationship(back_populates="brands")


class Tag(Base):
    """A classifier's verdict about a mention for one brand, with the evidence behind it."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("mention_id", "brand", "label", name="uq_tag"),
        Index("ix_tags_brand_label", "brand", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    brand: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(80))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(default=list)

    mention: Mapped[Mention] = relationship(back_populates="tags")


class OutboxMessage(Base):
    """An email or a chat/webhook notification written before it is sent; its Message-ID and
    bytes never change on retry.

    `channel` is "email" or the Apprise scheme (`slack`, `workflows`, `json` …); for a
    notification, `target` is the URL as written in settings, with `${VAR}` references and
    never a secret (expanded from the environment at delivery), and `message` the rendered
    JSON (reports.chat_format.ChatMessage).
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # A deliverer's claim: until then no other deliverer (nor `outbox --retry`) takes the row,
    # so one killed after the server accepted the message does not make a second one resend it.
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(40), default="email", server_default="email")
    target: Mapped[str | None] = mapped_column(Text)


class DigestRun(Base):
    """Which period a day's digest covered, so the next one starts where it ended."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    forced: Mapped[bool] = mapped_column(default=False)
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]


class AlertState(Base):
    """Where one alert rule stands for one brand: the storm (episode) and what it already said.

    One row per (rule, brand), locked while an alert is decided, so two workers cannot both
    start a storm. `pending` holds findings held back by `[alerts] update_every`; `sent_keys`
    the recent findings already emailed, so a finding is never announced twice;
    `checked_mention_id` the last mention the rule examined (for the spike rule, which counts
    posts, the last post: a `mention_sources` id), moved with the email it wrote.
    """

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("rule", "brand", name="uq_alert_state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(30))
    brand: Mapped[str] = mapped_column(String(200))
    episode: Mapped[int] = mapped_column(Integer, default=0)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    episode_started_at: Mapped[datetime | None]
    last_fired_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    pending: Mapped[list[Any]] = mapped_column(default=list)
    sent_keys: Mapped[list[Any]] = mapped_column(default=list)
    checked_mention_id: Mapped[int] = mapped_column(Integer, default=0)


class ReportRun(Base):
    """A periodic routed report (e.g. the daily complaints email) and the period it covered.

    `run_key` (`complaints:2026-11-21`) is unique, so a day's report is decided once even when
    it had nothing to say (then `outbox_key` is empty and no email was written).
    """

    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    day: Mapped[date] = mapped_column(Date)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    run_key: Mapped[str] = mapped_column(String(200), unique=True)
    outbox_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class User(Base):
    """Someone who may open the web app; `role` is one of monitor.core.access.ROLES.

    `password_hash` is an argon2 hash (never the password). `name` is kept in `actions` rows
    as text, so removing a user does not rewrite who did what.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class ApiToken(Base):
    """An API token for `Authorization: Bearer`; only its SHA-256 is stored.

    A token is 32 random bytes, so a fast hash is enough (nothing to brute-force) and lets a
    request find its row by an indexed lookup instead of trying every argon2 hash.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class Action(Base):
    """The audit log: one row per review action and per unmasked view, never updated.

    `action` is reviewed, false_positive, escalate, assign, sentiment, tag, untag, note or
    reveal; `detail` what it carried (the new sentiment, the tag, the note's text).
    """

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_mention_created", "mention_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentions.id", ondelete="SET NULL")
    )
    user_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    brand: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Label(Base):
    """A correction kept as a labelled example: the team's answer for one family of one post.

    Unique per (mention, brand, family): a later correction replaces the earlier answer.
    `family` is a `monitor eval` field (about_brand, sentiment, leak, employee, policy,
    complaint) and `value` its value in that format (a bool, a label, or a list of labels).
    """

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("mention_id", "brand", "family", name="uq_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    brand: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(30))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
