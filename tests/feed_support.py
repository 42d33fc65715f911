"""Helpers for the tests of feed-based connectors (google_news, youtube): serve one body the
way a real feed server does, and build a connector on the shared HTTP client."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector, ConnectorContext
from monitor.core.http import HttpClient
from monitor.core.settings import HttpSettings
from tests.corpus_server import Canned, Request, Responder


def feed_responder(body: bytes, content_type: str, *, etag: bool = True) -> Responder:
    """Answer with `body`; with `etag`, send an ETag and a 304 when the client has it."""
    tag = '"' + hashlib.sha1(body).hexdigest() + '"'

    def answer(request: Request, base_url: str) -> Canned:
        headers = [("Content-Type", content_type)]
        if etag:
            headers.append(("ETag", tag))
            if request.headers.get("if-none-match") == tag:
                return Canned(304, [("ETag", tag)])
        return Canned(200, headers, body)

    return answer


@contextmanager
def connector_for(
    cls: type[Connector], options: dict[str, Any], base_dir: Path
) -> Iterator[Connector]:
    """A connector named "test" whose HTTP client may reach the loopback test server."""
    with HttpClient(
        HttpSettings(), trusted_networks=["127.0.0.1/32"], sleep=lambda _s: None
    ) as http:
        context = ConnectorContext(http=http, base_dir=base_dir, now=datetime.now(UTC))
        yield cls("test", cls.Options.model_validate(options), context)
