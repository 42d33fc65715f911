"""Aggregator items credit the original outlet so syndicated copies become one story."""

from __future__ import annotations

# ruff: noqa: E501
from connectors.feed_parse import parse_feed

# A Google News item as the service writes it (long lines are the real shape).
GOOGLE_NEWS_ITEM = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>"Calderix" - Google News</title>
<item>
  <title>Calderix sube sus tarifas de fibra en enero - Diario Red</title>
  <link>https://news.google.com/rss/articles/abc?oc=5</link>
  <guid isPermaLink="false">abc</guid>
  <description>&lt;a href="https://news.google.com/rss/articles/abc?oc=5"&gt;Calderix sube sus tarifas de fibra en enero&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Diario Red&lt;/font&gt;</description>
  <source url="https://diariored.example">Diario Red</source>
</item>
<item>
  <title>Otra noticia sin sufijo</title>
  <guid>def</guid>
  <description>Texto propio de la noticia.</description>
  <source url="https://x.example">Agencia X</source>
</item>
</channel></rss>"""


def test_outlet_suffix_becomes_the_author() -> None:
    first, second = parse_feed(GOOGLE_NEWS_ITEM, source="gn").posts
    assert first.title == "Calderix sube sus tarifas de fibra en enero"
    assert first.author == "Diario Red"
    assert first.text == ""  # the description only repeated the headline and the outlet
    assert second.title == "Otra noticia sin sufijo"
    assert second.text == "Texto propio de la noticia."
    assert second.author == "Agencia X"


AUTHORS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<item><guid>1</guid><title>a</title><dc:creator>@apombo_dev@mastodon.example</dc:creator></item>
<item><guid>2</guid><title>b</title><author>jo@example.com (Jo Doe)</author></item>
<item><guid>3</guid><title>c</title><dc:creator>Ana Ruiz</dc:creator></item>
</channel></rss>"""


def test_fediverse_handles_stay_whole_and_rss_emails_give_the_name() -> None:
    handle, emailed, plain = parse_feed(AUTHORS, source="m").posts
    assert handle.author == "@apombo_dev@mastodon.example"  # feedparser alone says "@ple"
    assert emailed.author == "Jo Doe"
    assert plain.author == "Ana Ruiz"
