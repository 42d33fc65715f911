"""The contract every registered connector keeps, checked on its own recorded responses.

One table row per connector kind (`CONTRACT` below): how to build valid options against
the local corpus server, which recorded responses it serves, and options that must be
refused. Every scenario runs for every kind in the registry:

- options: valid ones pass; invalid ones and unknown keys are refused; `default_every` parses;
- a first run finds posts (UTC times, integer metrics, the source's name on each);
- a second run from the new state adds nothing;
- a 429 with a short Retry-After is waited (on a fake clock) and the run succeeds; a long
  one fails the run with RetryLater carrying the wait, without hammering the host;
- a 500 and a timeout are RetryLater;
- a truncated body is a classified error or a warned partial result, and after the server
  recovers nothing is lost and nothing returned twice.

A connector registered without a row FAILS here, with the line to add. Adding a kind is
one entry in the table, e.g.:
    "youtube": ContractCase(
        corpus="feeds",
        options=lambda s: {"feed_url": s.url("real/feed-rs/atom_mediarss_youtube_1.xml")},
        invalid=[{}],
    ),
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors import registry
from connectors.base import Connector, ConnectorContext, FetchResult, SourceState
from monitor.core.errors import RetryLater, SourceError
from monitor.core.settings import parse_interval
from tests.api_support import NOW, FakeClock, loopback_client
from tests.corpus_server import ApiCorpus, Canned, CorpusServer, FeedCorpus, Request, Responder

MASTODON_TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"


@dataclass(frozen=True)
class ContractCase:
    """How to run one connector kind against recorded responses.

    `corpus` picks the recorded responses: "api" (corpora/api, ApiCorpus) or "feeds"
    (corpora/feeds, FeedCorpus); `responder`, when given, builds another responder from
    that folder instead (e.g. one serving a recorded feed at the path a connector asks for).
    `options(server)` returns valid options for the running server; `invalid` lists option
    dicts that validation must refuse.
    """

    corpus: str
    options: Callable[[CorpusServer], dict[str, Any]]
    responder: Callable[[Path], Responder] | None = None
    invalid: list[dict[str, Any]] = field(default_factory=list)
    min_posts: int = 1
    #: Runs after the first that still find recorded newer posts (Reddit's corpus holds a
    #: `before=` poll with four newer posts); the run after them must add nothing.
    newer_runs: int = 0


CONTRACT: dict[str, ContractCase] = {
    "rss": ContractCase(
        corpus="feeds",
        options=lambda s: {"url": s.url("real/rss-parser/guardian.rss")},
        invalid=[{"url": ""}, {"url": "ftp://example.com/feed"}],
        min_posts=10,
    ),
    "mastodon": ContractCase(
        corpus="api",
        options=lambda s: {"instance": s.base_url, "tags": [MASTODON_TAG], "limit": 10},
        invalid=[{"instance": "https://m.example"}, {"instance": "nope", "tags": ["x"]}],
        min_posts=10,
    ),
    "bluesky": ContractCase(
        corpus="api",
        options=lambda s: {"appview": s.base_url, "query": "redistricting"},
        invalid=[{"query": ""}, {"query": "x", "appview": "bsky"}],
        min_posts=25,
    ),
    "reddit": ContractCase(
        corpus="api",
        options=lambda s: {"base_url": s.base_url, "subreddits": ["all"]},
        invalid=[{}, {"subreddits": ["has space"]}],
        min_posts=100,
        newer_runs=1,
    ),
    "hackernews": ContractCase(
        corpus="api",
        options=lambda s: {"base_url": s.base_url, "query": "apple", "hits_per_page": 1},
        invalid=[{"query": " "}, {"query": "x", "tags": ["jobs"]}],
        min_posts=2,
    ),
    # The corpus holds no recorded Google News search: a real RSS 2.0 news feed is served at
    # the search path the connector asks for.
    "google_news": ContractCase(
        corpus="feeds",
        responder=lambda root: lambda r, base: FeedCorpus(root)(
            Request(r.method, "/tests/real/rss-parser/guardian.rss", "", r.headers), base
        ),
        options=lambda s: {"query": '"Acme"', "country": "GB", "base_url": s.base_url},
        invalid=[{"query": " "}, {"query": "x", "country": "GBR"}],
        min_posts=10,
    ),
    "youtube": ContractCase(
        corpus="feeds",
        responder=lambda root: lambda r, base: FeedCorpus(root)(
            Request(r.method, "/tests/real/feed-rs/atom_mediarss_youtube_1.xml", "", r.headers),
            base,
        ),
        options=lambda s: {"channel_id": "UC7_gcs09iThXybpVgjHZ_7g", "base_url": s.base_url},
        invalid=[{}, {"channel_id": "UC7_gcs09iThXybpVgjHZ_7g", "playlist_id": "PLabcdefghijk"}],
    ),
}

KINDS = sorted(set(registry.available()) | set(CONTRACT))


def case_for(kind: str) -> tuple[type[Connector], ContractCase]:
    cls = registry.get(kind)
    if cls is None:
        pytest.fail(f"CONTRACT has a row for {kind!r} but no connector is registered under it")
    if kind not in CONTRACT:
        pytest.fail(
            f"connector {kind!r} ({cls.__module__}.{cls.__name__}) is registered but has no row "
            f"in CONTRACT in {__file__}: add CONTRACT[{kind!r}] = ContractCase(corpus=..., "
            "options=..., invalid=[...]) so the connector contract is checked for it"
        )
    return cls, CONTRACT[kind]


class Faulty:
    """Wraps the corpus responder and breaks it on demand (the request log stays exact)."""

    def __init__(self, inner: Responder) -> None:
        self.inner = inner
        self.prefix = getattr(inner, "prefix", "/")
        self.mode: str | None = None
        self.times = 0  # how many more requests get the fault (negative: all of them)

    def fail(self, mode: str, times: int = -1) -> None:
        self.mode, self.times = mode, times

    def __call__(self, request: Request, base_url: str) -> Canned:
        if self.mode is None or self.times == 0:
            return self.inner(request, base_url)
        self.times -= 1
        if self.mode == "429":
            return Canned(429, [("Retry-After", "5")], b"slow down")
        if self.mode == "429-long":
            return Canned(429, [("Retry-After", "3600")], b"slow down")
        if self.mode == "500":
            return Canned(500, [("Content-Type", "text/plain")], b"internal error")
        if self.mode == "stall":
            time.sleep(0.6)
            return self.inner(request, base_url)
        if self.mode == "truncate":
            whole = self.inner(request, base_url)
            return Canned(whole.status, whole.headers, whole.body[: len(whole.body) // 2])
        raise AssertionError(self.mode)


@dataclass
class Harness:
    server: CorpusServer
    faults: Faulty
    clock: FakeClock
    make: Callable[..., Connector]


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest, shared_dir: Path) -> Iterator[Harness]:
    cls, case = case_for(request.param)
    corpus = shared_dir / "corpora" / case.corpus
    if case.responder is not None:
        inner = case.responder(corpus)
    else:
        inner = ApiCorpus(corpus) if case.corpus == "api" else FeedCorpus(corpus)
    faults = Faulty(inner)
    clock = FakeClock()
    with CorpusServer(faults) as server:

        def make(**http: Any) -> Connector:
            options = cls.Options.model_validate(case.options(server))
            client = loopback_client(clock, **http)
            context = ConnectorContext(http=client, base_dir=corpus, now=NOW)
            return cls(f"contract-{cls.kind}", options, context)

        yield Harness(server, faults, clock, make)


def ids(result: FetchResult) -> list[str]:
    return [p.external_id for p in result.posts]


# -- the contract -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_options_validation(kind: str, shared_dir: Path) -> None:
    cls, case = case_for(kind)
    assert cls.kind == kind
    parse_interval(cls.default_every)
    assert cls.Options.model_config.get("extra") == "forbid"
    with CorpusServer() as server:
        valid = case.options(server)
    cls.Options.model_validate(valid)
    assert case.invalid, f"CONTRACT[{kind!r}] needs at least one invalid options example"
    for bad in [*case.invalid, {**valid, "no_such_option": 1}]:
        with pytest.raises(ValidationError):
            cls.Options.model_validate(bad)


def test_first_run_then_a_second_run_adds_nothing(harness: Harness) -> None:
    connector = harness.make()
    kind = type(connector).kind
    first = connector.fetch(SourceState())
    assert len(first.posts) >= CONTRACT[kind].min_posts
    assert len(set(ids(first))) == len(first.posts), "a run must not return a post twice"
    for post in first.posts:
        assert post.source == connector.name and post.external_id.strip()
        assert post.published_at is None or post.published_at.utcoffset() is not None
        assert post.published_at is None or post.published_at.utcoffset().total_seconds() == 0
        assert all(isinstance(v, int) and v >= 0 for v in post.metrics.values())
        assert post.full_text().strip() or post.url
    assert first.new_state != SourceState(), "the run must remember something"
    state, returned = first.new_state, ids(first)
    for _ in range(CONTRACT[kind].newer_runs):
        newer = connector.fetch(state)
        assert newer.posts, "the recorded newer posts were not found"
        state, returned = newer.new_state, returned + ids(newer)
    assert len(returned) == len(set(returned)), "a later run returned a post again"
    again = connector.fetch(state)
    assert again.posts == []
    assert harness.clock.sleeps == []


def test_429_with_retry_after_is_waited_then_the_run_succeeds(harness: Harness) -> None:
    expected = ids(harness.make().fetch(SourceState()))
    harness.faults.fail("429", times=1)
    result = harness.make().fetch(SourceState())
    assert ids(result) == expected
    assert harness.clock.sleeps == [5]


def test_a_long_retry_after_fails_the_run_without_hammering(harness: Harness) -> None:
    harness.faults.fail("429-long")
    with pytest.raises(RetryLater) as caught:
        harness.make().fetch(SourceState())
    assert caught.value.retry_after == 3600
    assert len(harness.server.requests) == 1 and harness.clock.sleeps == []


def test_500_is_retry_later(harness: Harness) -> None:
    harness.faults.fail("500")
    with pytest.raises(RetryLater, match="HTTP 500"):
        harness.make(retries=2).fetch(SourceState())
    assert len(harness.clock.sleeps) >= 2  # backed off between attempts


def test_timeout_is_retry_later(harness: Harness) -> None:
    harness.faults.fail("stall")
    with pytest.raises(RetryLater, match="timed out"):
        harness.make(timeout=0.2, retries=0).fetch(SourceState())


def test_truncated_body_loses_nothing_and_duplicates_nothing(harness: Harness) -> None:
    expected = set(ids(harness.make().fetch(SourceState())))
    harness.faults.fail("truncate")
    state = SourceState()
    got: list[str] = []
    try:
        partial = harness.make().fetch(state)
    except SourceError:
        pass  # classified: the pipeline stores nothing and keeps the old state
    else:
        assert partial.warning, "a partial result must say so"
        got, state = ids(partial), partial.new_state
    harness.faults.fail("truncate", times=0)  # the server recovers
    recovered = harness.make().fetch(state)
    got += ids(recovered)
    assert len(got) == len(set(got)), "a post came back twice"
    assert set(got) >= expected, "posts were lost after the truncated body"


def test_every_kind_in_the_registry_has_a_contract_row() -> None:
    """The same check as case_for, stated once for the whole registry."""
    missing = sorted(set(registry.available()) - set(CONTRACT))
    assert not missing, f"registered connectors without a CONTRACT row: {missing}"
