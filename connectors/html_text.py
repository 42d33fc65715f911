"""HTML → plain text, fast, for feed titles and bodies.

Everything downstream (brand queries, classifiers, templates) reads plain text, so this is
also a security boundary: what comes out contains no markup to interpret, only characters
(templates escape them later). Script, style and embedded frames are dropped with their
content; block elements become line breaks so sentences from different paragraphs do not
run together (which would create phantom phrase matches such as "Calderix" + "Calle").
selectolax (lexbor) is used because feeds carry thousands of small HTML fragments per run and
it is an order of magnitude faster than pure-Python parsers.
"""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser

#: Elements whose content is never text a reader sees.
_DROP = ["script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "head"]

#: Elements that start a new line of text.
_BLOCK = (
    "address|article|aside|blockquote|br|dd|details|div|dl|dt|fieldset|figcaption|figure|"
    "footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|td|th|tr|ul"
)
_BLOCK_TAG = re.compile(rf"<(/?)({_BLOCK})\b", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n(\s*\n)+")
_NEWLINE_SPACES = re.compile(r" ?\n ?")


def collapse_whitespace(value: str) -> str:
    """Runs of spaces/tabs (and no-break spaces) become one space; no blank lines."""
    value = _SPACES.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = _NEWLINE_SPACES.sub("\n", value)
    value = _BLANK_LINES.sub("\n", value)
    return value.strip()


def html_to_text(value: str | None) -> str:
    """Plain text of an HTML fragment (entities decoded, whitespace collapsed)."""
    if not value:
        return ""
    if "<" not in value:
        # Cheap path: most titles are plain text, possibly with an entity or two.
        return collapse_whitespace(html.unescape(value) if "&" in value else value)
    # Mark block boundaries before parsing: cheaper than walking the tree in Python.
    marked = _BLOCK_TAG.sub(lambda m: f"\n<{m.group(1)}{m.group(2)}", value)
    tree = LexborHTMLParser(marked)
    tree.strip_tags(_DROP)
    body = tree.body
    if body is None:
        return ""
    return collapse_whitespace(body.text(deep=True, separator="", strip=False))


def plain_text(value: str | None) -> str:
    """A value that is already text (type text/plain): only whitespace is normalised."""
    return collapse_whitespace(value) if value else ""
