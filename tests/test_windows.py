"""Long articles are classified on the sentences around the brand, with evidence offsets in
the full text: the sentiment is the one *at the brand*, not the article's mood."""

from __future__ import annotations

from classifiers import windows
from classifiers.analyzer import Analyzer
from classifiers.context import BrandProfile
from classifiers.tags import Evidence, TagResult
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings

CALDERIX = BrandSettings(name="Calderix", query="Calderix")
FESTIVAL = (
    "El festival de verano fue un éxito maravilloso. Los conciertos fueron excelentes y el "
    "público disfrutó muchísimo. La organización fue perfecta, fantástica y muy agradable. "
)
OUTAGE = (
    "Mientras tanto, la fibra de Calderix lleva tres días caída en el barrio. "
    "La avería de Calderix es un desastre horrible y nadie responde. "
)
ARTICLE = FESTIVAL * 2 + OUTAGE + FESTIVAL * 2


def test_short_posts_are_classified_whole() -> None:
    profile = BrandProfile.from_settings(CALDERIX)
    assert windows.brand_window(OUTAGE, profile) is None
    assert len(ARTICLE) > windows.LONG_TEXT
    window = windows.brand_window(ARTICLE, profile)
    assert window is not None
    assert window.text == OUTAGE + "El festival de verano fue un éxito maravilloso. "


def test_a_long_article_is_judged_where_it_names_the_brand() -> None:
    post = RawPost(source="t", external_id="1", title="Crónica del finde", text=ARTICLE, lang="es")
    [[found]] = Analyzer([CALDERIX]).analyse([post])
    assert found.sentiment is not None and found.sentiment.label == "negative"
    full = post.full_text()
    spans = [e for tag in found.tags for e in tag.evidence]
    assert spans and all(full[e.start:e.end] == e.text for e in spans)
    assert {"desastre", "horrible"} <= {w for e in spans for w in e.text.split()}


def test_a_post_that_names_the_brand_in_its_first_sentence_is_classified_whole() -> None:
    """A customer's blog post or a news item headlined with the brand is about the brand
    throughout: its complaint and its tone are in sentences that do not repeat the name."""
    profile = BrandProfile.from_settings(CALDERIX)
    opening = "Lo que me ha pasado con Calderix este mes. "
    assert len(opening + FESTIVAL * 4) > windows.LONG_TEXT
    assert windows.brand_window(opening + FESTIVAL * 4, profile) is None
    assert windows.brand_window(FESTIVAL + opening + FESTIVAL * 3, profile) is not None


def test_the_brand_not_located_in_the_text_means_the_whole_text() -> None:
    wildcard = BrandProfile(name="Calderix", terms=("calderix",))
    text = "Los de Calderixtel " + FESTIVAL * 4
    assert windows.brand_window(text, wildcard) is None


def test_evidence_ending_at_a_window_end_stays_in_that_window() -> None:
    window = windows.Window("abc\nxyz", ((0, 10), (4, 50)))
    tag = TagResult("t", "x", 1.0, (Evidence(1, 3, "bc"), Evidence(4, 7, "xyz")))
    [moved] = window.remap((tag,))
    assert [(e.start, e.end) for e in moved.evidence] == [(11, 13), (50, 53)]
