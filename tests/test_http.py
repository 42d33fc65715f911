"""HttpClient: the private-address guard, redirects, politeness, retries and log hygiene.

No test sends traffic anywhere but 127.0.0.1: guard decisions are tested on literal
addresses and an injected resolver, and the redirect tests let the client reach its own
127.0.0.1 test server (a trusted network) while the redirect target stays refused.
"""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.core.errors import Outcome, RetryLater, SourceError, SourceMisconfigured, outcome_for
from monitor.core.http import USER_AGENT, HttpClient
from monitor.core.http_status import parse_retry_after
from monitor.core.netguard import check_url, is_forbidden_address, redact_url
from monitor.core.settings import HttpSettings
from tests.corpus_server import Canned, CorpusServer, FeedCorpus, Request
from tests.drip_server import DripServer

FEED = b'<rss version="2.0"><channel><title>t</title></channel></rss>'


def no_resolver(host: str, port: int) -> list[str]:
    raise AssertionError(f"literal addresses must not be resolved ({host})")


@pytest.fixture
def server() -> Iterator[CorpusServer]:
    with CorpusServer() as srv:
        srv.routes["/feed.xml"] = lambda _r, _b: Canned(
            200, [("Content-Type", "application/xml")], FEED
        )
        yield srv


def local_client(**settings: object) -> HttpClient:
    """A client that may reach only its own 127.0.0.1 server; everything else is guarded."""
    return HttpClient(
        HttpSettings(**settings), trusted_networks=["127.0.0.1/32"], sleep=lambda _s: None
    )


# -- guard decisions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
        "0.0.0.0", "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255",
        "[::1]", "[::]", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "[ff02::1]",
        "[::ffff:10.0.0.1]", "[::ffff:127.0.0.1]", "[2002:a00:1::]", "[64:ff9b::a00:1]",
    ],
)
def test_private_literal_addresses_are_refused(host: str) -> None:
    with pytest.raises(SourceMisconfigured, match=r"\[http\] allow_private_addresses"):
        check_url(f"http://{host}/feed", allow_private=False, resolve=no_resolver)


@pytest.mark.parametrize("host", ["93.184.216.34", "8.8.8.8", "[2606:4700:4700::1111]"])
def test_public_literal_addresses_are_allowed(host: str) -> None:
    check_url(f"https://{host}/feed", allow_private=False, resolve=no_resolver)


def test_every_resolved_address_must_be_public() -> None:
    answers = {
        "public.example": ["93.184.216.34", "2606:2800:220:1::1"],
        "intranet.example": ["10.1.2.3"],
        "mixed.example": ["93.184.216.34", "192.168.0.5"],
        "v6.example": ["2606:2800:220:1::1", "fe80::1%eth0"],
    }

    def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    check_url("http://public.example/rss", allow_private=False, resolve=resolve)
    for host in ("intranet.example", "mixed.example", "v6.example"):
        with pytest.raises(SourceMisconfigured) as caught:
            check_url(f"http://{host}/rss", allow_private=False, resolve=resolve)
        assert host in str(caught.value) and "allow_private_addresses" in str(caught.value)
    # the switch turns the guard off, without even resolving
    check_url("http://intranet.example/rss", allow_private=True, resolve=no_resolver)


def test_unresolvable_host_is_retry_later() -> None:
    def resolve(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(RetryLater, match="cannot resolve"):
        check_url("http://gone.example/", allow_private=False, resolve=resolve)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x/", "javascript:alert(1)",
            "example.com/feed", "http:///nohost"],
)
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(SourceMisconfigured):
        check_url(url, allow_private=True, resolve=no_resolver)


def test_is_forbidden_address_sanity() -> None:
    import ipaddress

    assert not is_forbidden_address(ipaddress.ip_address("1.1.1.1"))
    assert is_forbidden_address(ipaddress.ip_address("192.0.2.1"))  # documentation range


# -- the client ----------------------------------------------------------------------------
def test_loopback_refused_by_default_without_any_traffic(server: CorpusServer) -> None:
    with HttpClient(HttpSettings()) as http, pytest.raises(SourceMisconfigured):
        http.get(server.url("/feed.xml"))
    assert server.requests == []


def test_allow_private_setting_and_override(server: CorpusServer) -> None:
    with HttpClient(HttpSettings(allow_private_addresses=True)) as http:
        assert http.get(server.url("/feed.xml")).content == FEED
    with HttpClient(HttpSettings(), allow_private=True) as http:
        assert http.get(server.url("/feed.xml")).status == 200
    overridden = HttpClient(HttpSettings(allow_private_addresses=True), allow_private=False)
    with overridden as http, pytest.raises(SourceMisconfigured):
        http.get(server.url("/feed.xml"))


def test_request_headers_name_vigia(server: CorpusServer) -> None:
    with local_client() as http:
        response = http.get(server.url("/feed.xml"), headers={"X-Test": "1"})
    assert response.status == 200 and response.url == server.url("/feed.xml")
    assert response.headers["content-type"] == "application/xml"
    sent = server.requests[0].headers
    assert sent["user-agent"] == USER_AGENT and USER_AGENT.startswith("Vigia/")
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["x-test"] == "1"


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/feed", "http://169.254.169.254/latest/meta-data/",
               "http://127.0.0.2:{port}/feed.xml", "http://intranet.example:{port}/feed.xml",
               "file:///etc/passwd"],
)
def test_redirect_to_private_address_is_refused(server: CorpusServer, target: str) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    location = target.format(port=port)
    server.routes["/moved"] = lambda _r, _b: Canned(302, [("Location", location)])
    http = HttpClient(
        HttpSettings(), trusted_networks=["127.0.0.1/32"],
        resolver=lambda host, _port: {"intranet.example": ["192.168.7.7"]}[host],
    )
    with http, pytest.raises(SourceMisconfigured) as caught:
        http.get(server.url("/moved"))
    assert "refusing" in str(caught.value)
    assert [r.path for r in server.requests] == ["/moved"]  # the target was never contacted


def test_redirects_are_followed_by_hand(server: CorpusServer) -> None:
    server.routes["/a"] = lambda _r, b: Canned(301, [("Location", f"{b}/b")])
    server.routes["/b"] = lambda _r, _b: Canned(307, [("Location", "/feed.xml")])  # relative
    with local_client() as http:
        response = http.get(server.url("/a"))
    assert response.status == 200 and response.url == server.url("/feed.xml")
    assert [r.path for r in server.requests] == ["/a", "/b", "/feed.xml"]


def test_redirect_loop_stops_at_max_redirects(server: CorpusServer) -> None:
    server.routes["/loop"] = lambda _r, b: Canned(302, [("Location", f"{b}/loop")])
    with local_client(max_redirects=3) as http, pytest.raises(SourceMisconfigured, match="many"):
        http.get(server.url("/loop"))
    assert len(server.requests) == 4


def test_per_host_concurrency_limits_parallel_requests(server: CorpusServer) -> None:
    active, peak = 0, 0
    lock = threading.Lock()

    def slow(_r: Request, _b: str) -> Canned:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return Canned(200, [], FEED)

    server.routes["/slow"] = slow
    with local_client(per_host_concurrency=1) as http:
        threads = [threading.Thread(target=http.get, args=(server.url("/slow"),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
    assert len(server.requests) == 4 and peak == 1


def test_secrets_never_logged_or_reported(
    server: CorpusServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/private"] = lambda _r, _b: Canned(503, [("Retry-After", "1")])
    url = server.base_url.replace("http://", "http://alice:hunter2@") + "/private?token=S3CRET"
    caplog.set_level(logging.DEBUG, logger="vigia.http")
    with local_client(retries=1) as http, pytest.raises(RetryLater) as caught:
        http.get(url)
    assert len(server.requests) == 2 and server.requests[0].query == "token=S3CRET"
    text = caplog.text + str(caught.value)
    assert "/private" in caplog.text and "retrying" in caplog.text
    assert "S3CRET" not in text and "hunter2" not in text and "alice" not in text
    assert redact_url(url) == server.base_url + "/private"


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now) == 60
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0  # in the past
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


def test_gzip_bomb_is_stopped_by_decoded_size(server: CorpusServer) -> None:
    bomb = gzip.compress(b"<" * 2_000_000)
    assert len(bomb) < 10_000
    server.routes["/bomb"] = lambda _r, _b: Canned(200, [("Content-Encoding", "gzip")], bomb)
    with local_client(max_body_bytes=100_000) as http:
        with pytest.raises(RetryLater, match="larger than 100000 bytes"):
            http.get(server.url("/bomb"))
        server.routes["/small"] = lambda _r, _b: Canned(
            200, [("Content-Encoding", "gzip")], gzip.compress(FEED)
        )
        assert http.get(server.url("/small")).content == FEED


@pytest.mark.parametrize(
    ("name", "title", "warned"),
    [("gzip.gz", None, False), ("deflate.z", None, False), ("deflate-no-headers.z", None, False),
     ("gzip-not-compressed.gz", b"<title>gzip</title>", True),
     ("deflate-not-compressed.z", b"<title>deflate</title>", True),
     ("gzip-struct-error.gz", None, True)],
)
def test_corpus_compression(shared_dir: Path, name: str, title: bytes | None, warned: bool) -> None:
    with CorpusServer(FeedCorpus(shared_dir / "corpora" / "feeds")) as srv, local_client() as http:
        response = http.get(srv.url(f"compression/{name}"))
    assert response.content.startswith(b"<feed")
    assert (response.warning is not None) == warned
    if title:
        assert title in response.content
    elif not warned:
        assert response.content.rstrip().endswith(b"</feed>")


def test_credentials_do_not_follow_a_redirect_to_another_origin(server: CorpusServer) -> None:
    with CorpusServer() as other:
        other.routes["/feed.xml"] = lambda _r, _b: Canned(200, [], FEED)
        server.routes["/same"] = lambda _r, b: Canned(302, [("Location", f"{b}/feed.xml")])
        server.routes["/away"] = lambda _r, _b: Canned(302, [("Location", other.url("/feed.xml"))])
        with local_client() as http:
            http.get(server.url("/same"), headers={"Authorization": "Bearer T0KEN"})
            http.get(server.url("/away"), headers={"Authorization": "Bearer T0KEN"})
        assert server.requests_to("/feed.xml")[0].headers["authorization"] == "Bearer T0KEN"
        assert "authorization" not in other.requests[0].headers


def test_unchanged_polls_reuse_one_connection(server: CorpusServer) -> None:
    server.routes["/same.xml"] = lambda _r, _b: Canned(304, [("ETag", '"v1"')])
    client = local_client()
    for _ in range(3):
        assert client.get(server.url("same.xml"), headers={"If-None-Match": '"v1"'}).status == 304
    client.close()
    peers = {r.peer for r in server.requests if r.path == "/same.xml"}
    assert len(peers) == 1, f"each 304 opened a new connection: {peers}"


def test_a_name_is_resolved_once_and_that_answer_is_vetted(
    server: CorpusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding needs two lookups that answer differently (one checked, one used): the
    connection makes the only lookup and vets its answer, and connects to nothing else."""
    lookups: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]  # what the name points to when the connection is made

    system = socket.getaddrinfo

    def rebinding_dns(host: str, *args: object, **kwargs: object) -> object:
        # What an unguarded HTTP library would get from the system resolver.
        return system("127.0.0.1" if host == "rebind.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    client = HttpClient(HttpSettings(), resolver=resolver, sleep=lambda _s: None)
    port = server.url("feed.xml").split(":")[2].split("/")[0]
    with pytest.raises(SourceMisconfigured, match=r"resolves to 127\.0\.0\.1"):
        client.get(f"http://rebind.example:{port}/feed.xml")
    client.close()
    assert lookups == ["rebind.example"]
    assert not [r for r in server.requests if r.path == "/feed.xml"]  # nothing reached it


def test_connections_go_to_the_vetted_address_with_the_original_host(
    server: CorpusServer,
) -> None:
    """The address connected to is the one the guard vetted (a name the system resolver does
    not know still works), looked up once per connection, not again for the check."""
    lookups: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    client = HttpClient(HttpSettings(), resolver=resolver, trusted_networks=["127.0.0.1/32"],
                        sleep=lambda _s: None)
    port = server.url("feed.xml").split(":")[2].split("/")[0]
    for _ in range(2):  # the second request reuses the connection: no new lookup
        response = client.get(f"http://feeds.example:{port}/feed.xml")
        assert response.status == 200 and response.content == FEED
    client.close()
    assert server.requests[-1].headers["host"] == f"feeds.example:{port}"
    assert lookups == ["feeds.example"]


def test_a_dripping_body_is_cut_off_by_the_download_deadline() -> None:
    """One byte every 50 ms never trips the per-read timeout; the whole-body deadline does."""
    with DripServer(every=0.05) as server, local_client(
        timeout=5, max_download_seconds=0.5, retries=0
    ) as client:
        started = time.monotonic()
        with pytest.raises(RetryLater, match="max_download_seconds"):
            client.get(server.url)
        assert time.monotonic() - started < 4


# -- what is retried inside a run (monitor/core/errors.py's POLICY) ----------------------------
def counting_client(waits: list[float], **settings: object) -> HttpClient:
    """A local client with 2 retries whose backoff waits are recorded, never slept."""
    return HttpClient(
        HttpSettings(**{"retries": 2, **settings}), trusted_networks=["127.0.0.1/32"],
        sleep=waits.append,
    )


def test_a_trickling_body_is_asked_for_once_per_run() -> None:
    """The same slow body would miss the deadline again seconds later: no retry in the run."""
    waits: list[float] = []
    client = counting_client(waits, timeout=5, max_download_seconds=0.3)
    with DripServer(every=0.05) as server, client, pytest.raises(
        RetryLater, match="max_download_seconds"
    ) as caught:
        client.get(server.url)
    assert server.requests == 1 and waits == []
    assert outcome_for(caught.value) is Outcome.RETRY_LATER and not caught.value.retryable


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_size_cap_is_asked_for_once_per_run(
    server: CorpusServer, declared: bool
) -> None:
    body = b"<rss>" + b" " * 5000 + b"</rss>"
    encoding = [] if declared else [("Content-Encoding", "gzip")]
    payload = body if declared else gzip.compress(body)
    server.routes["/big"] = lambda _r, _b: Canned(200, encoding, payload)
    waits: list[float] = []
    client = counting_client(waits, max_body_bytes=2000)
    with client, pytest.raises(SourceError, match="larger than 2000 bytes") as caught:
        client.get(server.url("/big"))
    assert len(server.requests) == 1 and waits == []
    assert outcome_for(caught.value) is Outcome.RETRY_LATER


def test_a_redirect_loop_is_followed_once_per_run(server: CorpusServer) -> None:
    server.routes["/loop"] = lambda _r, b: Canned(302, [("Location", f"{b}/loop")])
    waits: list[float] = []
    client = counting_client(waits, max_redirects=3)
    with client, pytest.raises(SourceMisconfigured, match="too many redirects") as caught:
        client.get(server.url("/loop"))
    assert len(server.requests) == 4 and waits == []  # 1 request + 3 redirects, once
    assert outcome_for(caught.value) is Outcome.MISCONFIGURED


@pytest.mark.parametrize(
    ("status", "tries", "outcome"),
    [(500, 3, Outcome.TRANSIENT), (503, 3, Outcome.TRANSIENT), (408, 3, Outcome.TRANSIENT),
     (429, 3, Outcome.TRANSIENT), (404, 1, Outcome.MISCONFIGURED),
     (403, 1, Outcome.MISCONFIGURED), (400, 1, Outcome.MISCONFIGURED),
     (410, 1, Outcome.MISCONFIGURED)],
)
def test_only_5xx_408_and_429_are_retried_inside_a_run(
    server: CorpusServer, status: int, tries: int, outcome: Outcome
) -> None:
    server.routes["/answer"] = lambda _r, _b: Canned(status)
    waits: list[float] = []
    with counting_client(waits) as client, pytest.raises(SourceError) as caught:
        client.get(server.url("/answer"))
    assert len(server.requests) == tries and len(waits) == tries - 1
    assert outcome_for(caught.value) is outcome
    assert caught.value.retryable is (tries > 1)


def test_connection_errors_are_retried_inside_a_run() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more: connection refused
    waits: list[float] = []
    with counting_client(waits) as client, pytest.raises(RetryLater, match="network") as caught:
        client.get(f"http://127.0.0.1:{port}/feed.xml")
    assert len(waits) == 2 and outcome_for(caught.value) is Outcome.TRANSIENT


def test_a_long_retry_after_is_left_to_the_scheduler(server: CorpusServer) -> None:
    server.routes["/busy"] = lambda _r, _b: Canned(429, [("Retry-After", "3600")])
    waits: list[float] = []
    with counting_client(waits) as client, pytest.raises(RetryLater) as caught:
        client.get(server.url("/busy"))
    assert len(server.requests) == 1 and waits == []
    assert caught.value.retry_after == 3600 and caught.value.transient
