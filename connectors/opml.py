"""OPML subscription lists → one `rss` source per feed, so a team imports what it already follows.

```toml
[[sources]]
name = "Press feeds"        # names this entry in error messages only
kind = "rss"
opml = "feeds.opml"         # relative to the settings file
every = "1h"                # every, enabled and silent_after apply to each feed
```

Each outline with an `xmlUrl` (at any depth: category folders are flattened) becomes a source
named after its title. Names must be unique across the settings, so a title that is already
taken gets " (2)", " (3)"… appended. The file is parsed with defusedxml: a subscription list
exported from some web service is still input we do not control, and entity-expansion bombs
must not take the monitor down. Problems (no such file, not XML, no feeds in it) are
ValueErrors worded for a settings message under the entry's `opml` key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.feed_url import check_feed_url

if TYPE_CHECKING:
    from monitor.core.settings import Settings, SourceSettings

#: An OPML file larger than this is not a subscription list anyone maintains by hand.
MAX_OPML_BYTES = 5_000_000
#: Keys of the OPML entry that every expanded source inherits.
_INHERITED = ("every", "enabled", "silent_after")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One outline that points to a feed."""

    title: str
    url: str


def read_opml(path: str, base_dir: Path) -> list[OpmlFeed]:
    """The feeds listed in the OPML file at `path` (relative to `base_dir`), in file order."""
    file = Path(path).expanduser()
    file = file if file.is_absolute() else base_dir / file
    try:
        with file.open("rb") as handle:
            content = handle.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise ValueError(
            f"cannot read the OPML file {str(file)!r}: {exc.strerror or exc} — check the path "
            "(relative paths start at the settings file's folder)"
        ) from None
    if len(content) > MAX_OPML_BYTES:
        raise ValueError(
            f"the OPML file {str(file)!r} is larger than {MAX_OPML_BYTES} bytes — "
            "split it into several files"
        )
    feeds = parse_opml(content, str(file))
    for feed in feeds:
        try:
            check_feed_url(feed.url)
        except ValueError as exc:
            raise ValueError(
                f"outline {feed.title!r} in {str(file)!r}: {exc}"
            ) from None
    return feeds


def parse_opml(content: bytes, where: str = "the OPML file") -> list[OpmlFeed]:
    """Outlines with an `xmlUrl` in an OPML 1.0/2.0 document (a pure function over bytes)."""
    try:
        root = fromstring(content)
    except ParseError as exc:
        raise ValueError(
            f"{where} is not well-formed XML ({exc}) — export it again from your feed reader"
        ) from None
    except DefusedXmlException as exc:
        raise ValueError(
            f"{where} uses XML features refused for safety ({type(exc).__name__}) — "
            "export it again from your feed reader"
        ) from None
    if _local_name(root.tag) != "opml":
        raise ValueError(
            f"{where} is not OPML (its root element is <{_local_name(root.tag)}>) — "
            "use the .opml file your feed reader exports"
        )
    feeds: list[OpmlFeed] = []
    for outline in root.iter():
        if _local_name(outline.tag) != "outline":
            continue
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue  # a category folder or a plain note
        title = " ".join((outline.get("title") or outline.get("text") or "").split())
        feeds.append(OpmlFeed(title=title or url, url=url))
    if not feeds:
        raise ValueError(
            f"{where} lists no feeds (no <outline> has an xmlUrl) — "
            "check that you exported your subscriptions"
        )
    return feeds


def expand_opml_sources(settings: Settings) -> Settings:
    """Settings with each `opml` entry replaced by one rss source per feed it lists.

    Called after validation, which has already read each file (RssOptions) and checked names.
    """
    from monitor.core.settings import SourceSettings

    if not any(_opml_of(source) for source in settings.sources):
        return settings
    taken = {source.name for source in settings.sources if not _opml_of(source)}
    expanded: list[SourceSettings] = []
    for source in settings.sources:
        opml = _opml_of(source)
        if not opml:
            expanded.append(source)
            continue
        inherited = {key: getattr(source, key) for key in _INHERITED if hasattr(source, key)}
        for feed in read_opml(opml, settings.base_dir):
            name = _unique(feed.title, taken)
            taken.add(name)
            expanded.append(
                SourceSettings.model_validate(
                    {**inherited, "name": name, "kind": source.kind, "url": feed.url}
                )
            )
    return settings.model_copy(update={"sources": expanded})


def _opml_of(source: SourceSettings) -> Any:
    return source.options.get("opml") if source.kind == "rss" else None


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def _local_name(tag: Any) -> str:
    """'{namespace}outline' → 'outline' (some exporters put OPML in a namespace)."""
    return str(tag).rsplit("}", 1)[-1]
