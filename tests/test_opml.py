"""`opml = "path"` in an rss source: one source per outline, unique names, clear errors.

Also checks that JSON Feed works through the rss connector (the recorded JSON Feed 1.1 of
corpora/feeds/real/feed-rs served locally).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import SourceState
from connectors.opml import parse_opml
from connectors.rss import RssConnector
from monitor.core.errors import SettingsError
from monitor.core.settings import Settings
from tests.corpus_server import CorpusServer, FeedCorpus
from tests.feed_support import connector_for

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Prensa</title></head>
  <body>
    <outline text="Nacional" title="Nacional">
      <outline type="rss" text="El País" title="El País · Portada"
               xmlUrl="https://feeds.elpais.example/portada.xml"/>
      <outline type="rss" text="Blog" xmlUrl="https://blog.example/feed"/>
    </outline>
    <outline type="rss" text="Blog" xmlUrl="https://otro.example/feed"/>
    <outline type="rss" text="Telco Weekly" xmlUrl="https://telco.example/atom"/>
    <outline type="link" text="Not a feed" url="https://example.com/"/>
  </body>
</opml>
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return name


def test_each_outline_becomes_an_rss_source(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    write(tmp_path, "press.opml", OPML)
    settings = make_settings(
        sources=[
            {"name": "Telco Weekly", "kind": "rss", "url": "https://telco.example/rss"},
            {"name": "Press", "kind": "rss", "opml": "press.opml", "every": "2h",
             "silent_after": "3d"},
        ]
    )
    names = [s.name for s in settings.sources]
    assert names == ["Telco Weekly", "El País · Portada", "Blog", "Blog (2)", "Telco Weekly (2)"]
    blog2 = settings.source("Blog (2)")
    assert blog2 is not None
    assert blog2.kind == "rss" and blog2.options == {"url": "https://otro.example/feed"}
    assert blog2.every == "2h" and blog2.silent_after == "3d"  # inherited from the entry


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the OPML file"),
        ("<opml><body><outline text='x'></body></opml>", "not well-formed XML"),
        ("<html><body>hello</body></html>", "is not OPML (its root element is <html>)"),
        ("<opml version='2.0'><body><outline text='folder'/></body></opml>", "lists no feeds"),
        (
            "<opml><body><outline text='bad' xmlUrl='gopher://x/feed'/></body></opml>",
            "outline 'bad'",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            "<opml><body><outline text='&lol;' xmlUrl='https://x.example/f'/></body></opml>",
            "refused for safety",
        ),
    ],
)
def test_bad_opml_errors_name_the_key(
    tmp_path: Path, make_settings: Callable[..., Settings], content: str | None, message: str
) -> None:
    if content is not None:
        write(tmp_path, "feeds.opml", content)
    with pytest.raises(SettingsError) as raised:
        make_settings(sources=[{"name": "Imported", "kind": "rss", "opml": "feeds.opml"}])
    text = str(raised.value)
    assert "sources[0] ('Imported').opml" in text
    assert message in text


def test_url_and_opml_together_or_neither(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    write(tmp_path, "feeds.opml", OPML)
    with pytest.raises(SettingsError, match="both url and opml are set"):
        make_settings(
            sources=[{"name": "x", "kind": "rss", "opml": "feeds.opml", "url": "https://a/b"}]
        )
    with pytest.raises(SettingsError, match="url is missing"):
        make_settings(sources=[{"name": "x", "kind": "rss"}])


def test_parse_opml_reads_namespaced_and_nested_outlines() -> None:
    content = (
        b'<opml xmlns="http://opml.org/spec2" version="2.0"><body>'
        b'<outline text="a"><outline text="b"><outline title="Deep" '
        b'xmlUrl="https://deep.example/rss"/></outline></outline></body></opml>'
    )
    [feed] = parse_opml(content)
    assert (feed.title, feed.url) == ("Deep", "https://deep.example/rss")


def test_json_feed_through_the_rss_connector(shared_dir: Path, tmp_path: Path) -> None:
    feeds = shared_dir / "corpora" / "feeds"
    with CorpusServer(FeedCorpus(feeds)) as server:
        url = server.url("real/feed-rs/jsonfeed_elastic_1.1.json")
        with connector_for(RssConnector, {"url": url}, tmp_path) as connector:
            first = connector.fetch(SourceState())
            second = connector.fetch(first.new_state)
    assert first.posts and all(p.external_id and p.url for p in first.posts)
    # Its dates are RFC 822, not the RFC 3339 the spec asks for: still read, as UTC.
    assert [p.published_at for p in first.posts] == [
        datetime(2019, 5, 31, 19, 17, 58, tzinfo=UTC),
        datetime(2018, 2, 6, 13, 34, 12, tzinfo=UTC),
        None,  # the third item has no date at all
    ]
    assert first.posts[1].author == "Chris Churilo"
    assert second.posts == []  # same body again: nothing new
