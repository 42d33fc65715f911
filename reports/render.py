"""Rendering emails: jinja2 with autoescape, CSS inlined, and a plain-text alternative.

Everything a report shows was fetched from the internet, so it is hostile until proven
otherwise: HTML templates autoescape every value, StrictUndefined turns a typo into an
error instead of an empty string, and a URL becomes a link only when it is plain http(s)
(`javascript:`, `data:` and friends are shown as text). Email clients drop `<style>`
blocks, so the stylesheet is inlined into `style=""` attributes by css_inline, which is
told never to fetch remote stylesheets. The `.txt` twin of each template is rendered with
autoescape off: it is not HTML, and `&amp;` in a plain-text email would be a bug.

A template `NAME` is `templates/NAME.html` plus `templates/NAME.txt`; the text template sets
the subject with `{% set subject = ... %}` so the two parts and the subject share one
context and one translation table.

Unicode bidirectional controls are dropped from every subject and both parts: quoted from a
post, "factura\u202egpj.exe" would display as "factura exe.jpg". A reader sees the characters
in the order they were written, which is what a warning about a leak must show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from classifiers.masking import mask_text

_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f<>\"'`\\]")
#: Embeddings and overrides (U+202A–202E), isolates (U+2066–2069), LRM/RLM, Arabic letter mark.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def is_http_url(value: object) -> bool:
    """True for an absolute http(s) URL with a host and nothing that could break out of it."""
    if not isinstance(value, str) or not value or _UNSAFE_URL_CHARS.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def without_bidi_controls(value: str) -> str:
    """`value` without the invisible characters that reorder what a reader sees."""
    return _BIDI_CONTROLS.sub("", value)


def one_line(value: object) -> str:
    """Collapse every kind of line break and run of whitespace: for subjects and headers."""
    return " ".join(without_bidi_controls(str(value)).split())


def truncate_text(value: object, length: int = 300) -> str:
    text = one_line(value)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def masked(value: object) -> str:
    """`value` with every personal identifier and secret masked: no email spreads a leak.

    Applied to everything a post contributes (title, text, author, evidence) before any
    truncation, so a cut can never leave half an identifier readable.
    """
    return "" if value is None else mask_text(without_bidi_controls(str(value)))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One shared environment: templates are compiled once per process."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml"),
            disabled_extensions=("txt",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.tests["http_url"] = is_http_url
    env.filters["one_line"] = one_line
    env.filters["truncate_text"] = truncate_text
    env.filters["masked"] = masked
    return env


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    env = environment()
    assert env.loader is not None
    css = env.loader.get_source(env, "email.css")[0]  # same lookup as the templates
    return css_inline.CSSInliner(
        extra_css=css, load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False
    )


def render_email(template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render `template`.html/.txt with `context`; the HTML comes back with its CSS inlined."""
    env = environment()
    text_module = env.get_template(f"{template}.txt").make_module(dict(context))
    subject = one_line(getattr(text_module, "subject", ""))
    if not subject:
        raise ValueError(f"templates/{template}.txt must set a subject with {{% set subject %}}")
    html = env.get_template(f"{template}.html").render({**context, "subject": subject})
    # Also on the whole output: a value a template shows without `masked` is covered too.
    return RenderedEmail(
        subject=subject,
        html=without_bidi_controls(_inliner().inline(html)),
        text=without_bidi_controls(str(text_module)),
    )
