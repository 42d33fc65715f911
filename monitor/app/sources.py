"""Turning a `[[sources]]` entry into a ready connector (one place, used by runs and checks)."""

from __future__ import annotations

from datetime import datetime

from connectors.base import Connector, ConnectorContext, FeedParser
from connectors.registry import get as get_connector
from monitor.core.errors import SourceMisconfigured
from monitor.core.http import HttpClient
from monitor.core.settings import Settings, SourceSettings


def build_connector(
    settings: Settings,
    source: SourceSettings,
    http: HttpClient,
    now: datetime,
    feed_parser: FeedParser | None = None,
) -> Connector:
    """The source's connector; `feed_parser` is where it parses feed bodies (default: here)."""
    cls = get_connector(source.kind)
    if cls is None:
        raise SourceMisconfigured(f"unknown source kind {source.kind!r}")
    options = cls.Options.model_validate(source.options, context={"base_dir": settings.base_dir})
    context = ConnectorContext(
        http=http, base_dir=settings.base_dir, now=now, feed_parser=feed_parser
    )
    return cls(source.name, options, context)
