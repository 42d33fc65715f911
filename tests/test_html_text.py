"""HTML → text on hostile shapes: depth must not buy CPU time, and text must survive."""

from __future__ import annotations

import time

from connectors.html_text import MAX_DEPTH, flatten_deep, html_to_text


def test_200000_nested_divs_cost_linear_time() -> None:
    """2.2 MB, under the body cap: was quadratic (109 s of CPU per poll in the report)."""
    depth = 200_000
    body = "<div>" * depth + "Calderix filtra" + "</div>" * depth
    assert len(body) > 2_000_000
    started = time.process_time()
    assert html_to_text(body) == "Calderix filtra"
    assert time.process_time() - started < 10  # about 1.4 s here; the old code took > 100 s


def test_other_deep_nestings_keep_their_text_and_drop_scripts_within_the_limit() -> None:
    deep = "<span><blockquote>" * 5_000 + "fin" + "</blockquote></span>" * 5_000
    shallow = "<div><script>alert(1)</script><p>Calderix<p>sube</div>"
    assert html_to_text(shallow + deep) == "Calderix\nsube\nfin"


def test_flatten_deep_leaves_ordinary_html_alone() -> None:
    ordinary = "<ul>" + "<li><p>item <b>bold</b><br/><img src=x>" * 600 + "</ul>"
    assert ordinary.count("<") > MAX_DEPTH
    assert flatten_deep(ordinary) == ordinary
    nested = "<i>" * (MAX_DEPTH + 2) + "x" + "</i>" * (MAX_DEPTH + 2)
    assert flatten_deep(nested) == "<i>" * MAX_DEPTH + "x" + "</i>" * MAX_DEPTH
