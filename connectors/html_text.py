"""HTML → plain text, fast, for feed titles and bodies.

Everything downstream (brand queries, classifiers, templates) reads plain text, so this is
also a security boundary: what comes out contains no markup to interpret, only characters
(templates escape them later). Script, style and embedded frames are dropped with their
content; block elements become line breaks so sentences from different paragraphs do not
run together (which would create phantom phrase matches such as "Calderix" + "Calle").
selectolax (lexbor) is used because feeds carry thousands of small HTML fragments per run and
it is an order of magnitude faster than pure-Python parsers.

The body size is bounded by the HTTP client, but not its depth, and the HTML5 tree builder
walks the stack of open elements for many start tags (`<div>` looks for a `<p>` to close):
200,000 nested `<div>` (2.2 MB) cost 109 s of CPU. So elements nested deeper than
`MAX_DEPTH` lose their tags before parsing (their text stays, and block tags already became
line breaks): the parser's work is then linear in the size again.
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

#: Deeper than any real page (browsers' own limits are in the hundreds).
MAX_DEPTH = 256
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)[^>]*?(/?)>")
#: Elements without an end tag, and those whose end tag is implied by the next sibling
#: (`<p>a<p>b`, `<li>`): they never stay open, so they do not add to the depth.
_NOT_NESTING = frozenset(
    (
        *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"),
        *("param", "source", "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup"),
        *("tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp"),
    )
)


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
    marked = _BLOCK_TAG.sub(r"\n<\1\2", value)
    tree = LexborHTMLParser(flatten_deep(marked))
    tree.strip_tags(_DROP)
    body = tree.body
    if body is None:
        return ""
    return collapse_whitespace(body.text(deep=True, separator="", strip=False))


def flatten_deep(value: str, max_depth: int = MAX_DEPTH) -> str:
    """`value` without the tags of elements nested deeper than `max_depth` (one linear pass).

    The depth is counted from the tags as written (a cheap over-estimate of the parser's
    stack); a fragment with fewer tags than `max_depth` cannot be that deep and is returned
    as it is without scanning.
    """
    if value.count("<") <= max_depth:
        return value
    pieces: list[str] = []
    depth = kept_until = 0
    for match in _TAG.finditer(value):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _NOT_NESTING or self_closing:
            keep = depth < max_depth
        elif closing:
            keep = depth <= max_depth
            depth = max(depth - 1, 0)
        else:
            depth += 1
            keep = depth <= max_depth
        if not keep:
            pieces.append(value[kept_until : match.start()])
            kept_until = match.end()
    if not pieces:
        return value
    pieces.append(value[kept_until:])
    return "".join(pieces)


def plain_text(value: str | None) -> str:
    """A value that is already text (type text/plain): only whitespace is normalised."""
    return collapse_whitespace(value) if value else ""
