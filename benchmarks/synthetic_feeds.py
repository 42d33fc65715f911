"""Deterministic, realistic-looking RSS feeds for benchmarks (Spanish and English, with HTML).

Each item has a news-like title, a description of a few HTML paragraphs and links, a guid and
an RFC 822 date, so feedparser's real costs (HTML sanitising, date parsing) are all exercised.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

SUBJECTS_ES = [
    "Calderix",
    "La operadora Calderix",
    "Calderix Móvil",
    "El servicio de fibra de Calderix",
]
SUBJECTS_EN = [
    "Calderix",
    "Spanish operator Calderix",
    "Calderix Mobile",
    "Calderix's fibre network",
]
OTHER = ["Fonaris", "Redalia", "El ayuntamiento", "The regulator", "A startup", "La CNMC"]
VERBS_ES = [
    "anuncia una subida de tarifas",
    "sufre una caída de servicio en Madrid",
    "lanza una oferta excelente de fibra",
    "recibe cientos de quejas por la factura",
    "mejora su cobertura 5G",
    "cierra tiendas en Andalucía",
    "presenta resultados récord",
]
VERBS_EN = [
    "raises prices again",
    "suffers a major outage",
    "launches a great new fibre deal",
    "faces angry complaints over billing",
    "expands its 5G coverage",
    "closes stores",
    "reports record results",
]
FILLER_ES = (
    "Según fuentes del sector, la decisión afectará a miles de clientes en las próximas semanas. "
    "Los usuarios se quejan en redes sociales de que la atención al cliente no responde y de que "
    "el proceso de reclamación es lento. La compañía asegura que trabaja para resolverlo."
)
FILLER_EN = (
    "Industry sources say the decision will affect thousands of customers in the coming weeks. "
    "Users complain on social media that customer support does not answer and that the claims "
    "process is slow. The company says it is working on a fix and apologised for the trouble."
)


def _item(
    rng: random.Random, feed: int, index: int, when: datetime, brand_share: float, spanish: bool
) -> str:
    mentions_brand = rng.random() < brand_share
    subjects = (SUBJECTS_ES if spanish else SUBJECTS_EN) if mentions_brand else OTHER
    verb = rng.choice(VERBS_ES if spanish else VERBS_EN)
    title = f"{rng.choice(subjects)} {verb} ({feed}-{index})"
    filler = FILLER_ES if spanish else FILLER_EN
    html = (
        f"<p><b>{escape(title)}</b>. {escape(filler)}</p>"
        f"<p>{escape(filler[: rng.randint(80, len(filler))])} "
        f'<a href="https://news{feed}.example/{index}" rel="nofollow">+ info</a></p>'
        f'<div class="share"><img src="https://news{feed}.example/{index}.jpg" alt="x"/></div>'
    )
    return (
        "<item>"
        f"<title>{escape(title)}</title>"
        f"<link>https://news{feed}.example/articles/{index}</link>"
        f'<guid isPermaLink="false">feed{feed}-item{index}</guid>'
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{escape(html)}</description>"
        "</item>"
    )


def make_feed(feed: int, items: int = 50, brand_share: float = 1.0, seed: int = 7) -> bytes:
    """One RSS 2.0 document; `brand_share` of its items mention the brand."""
    rng = random.Random(seed * 10_007 + feed)
    spanish = rng.random() < 0.6  # a feed is in one language, as real feeds declare
    start = datetime(2026, 11, 20, 12, tzinfo=UTC)
    body = "".join(
        _item(rng, feed, i, start - timedelta(minutes=17 * i + feed), brand_share, spanish)
        for i in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0"><channel>'
        f"<title>News {feed}</title><link>https://news{feed}.example/</link>"
        f"<description>Feed {feed}</description>"
        f"<language>{'es-ES' if spanish else 'en-GB'}</language>"
        f"{body}</channel></rss>"
    ).encode()
