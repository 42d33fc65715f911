"""Loading settings for the application: the core's schema plus what only the floors above
it can check.

The settings schema (`monitor.core.settings`) knows nothing of connectors or classifiers, so
that the core imports nothing above it. Here the application adds the checks that need them,
each reporting every problem at once with the key and the fix: a source's kind and its
connector's options, a brand's query syntax. Then it expands OPML imports into rss sources
and gives each source without `every` its connector's default interval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from classifiers.query import QuerySyntaxError, compile_query
from connectors import registry
from connectors.opml import expand_opml_sources
from monitor.core.errors import SettingsError
from monitor.core.settings import Settings, SourceSettings
from monitor.core.settings_file import parse_settings as parse_schema
from monitor.core.settings_file import read_settings_file
from monitor.core.settings_problems import validation_problems

_COMMON_SOURCE_KEYS = frozenset(SourceSettings.model_fields)


def check_sources(data: dict[str, Any], base_dir: Path) -> list[tuple[str, str]]:
    """Each source's kind exists and its options fit that connector's Options model.

    Works on the raw `[[sources]]` tables, so the options are checked even when other parts
    of the file are wrong: one run of `monitor check` shows every problem.
    """
    sources = data.get("sources")
    problems: list[tuple[str, str]] = []
    for index, source in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(source, dict) or not isinstance(source.get("kind"), str):
            continue  # reported by the Settings model (kind missing or not a string)
        name = source.get("name")
        key = f"sources[{index}]" + (f" ({name!r})" if name else "")
        connector = registry.get(source["kind"])
        if connector is None:
            known = ", ".join(registry.kinds()) or "none installed"
            problems.append(
                (f"{key}.kind", f"unknown source kind {source['kind']!r} — use one of: {known}")
            )
            continue
        options = {k: v for k, v in source.items() if k not in _COMMON_SOURCE_KEYS}
        try:
            connector.Options.model_validate(options, context={"base_dir": base_dir})
        except ValidationError as exc:
            for sub_key, message in validation_problems(exc, options):
                problems.append((f"{key}.{sub_key}" if sub_key else key, message))
    return problems


def check_queries(data: dict[str, Any], base_dir: Path) -> list[tuple[str, str]]:
    """Each brand's query parses with the matcher that will run it."""
    brands = data.get("brands")
    problems: list[tuple[str, str]] = []
    for index, brand in enumerate(brands if isinstance(brands, list) else []):
        query = brand.get("query") if isinstance(brand, dict) else None
        if not isinstance(query, str) or not query.strip():
            continue  # absent, empty or not a string: the schema says so
        try:
            compile_query(query)
        except QuerySyntaxError as exc:
            name = brand.get("name")
            key = f"brands[{index}]" + (f" ({name!r})" if name else "") + ".query"
            fix = (
                ""  # the query error already says how to fix it
                if "—" in str(exc)
                else ' — use Lucene syntax: terms, "exact phrases", AND / OR / NOT, '
                "parentheses, @handles and #tags"
            )
            problems.append((key, f"cannot parse query {query.strip()!r}: {exc}{fix}"))
    return problems


CHECKS = (check_queries, check_sources)


def with_default_intervals(settings: Settings) -> Settings:
    """Each source without `every` polled at its connector's default interval."""
    sources = []
    for source in settings.sources:
        connector = None if source.every else registry.get(source.kind)
        if connector is not None:
            source = source.model_copy(update={"every": connector.default_every})
        sources.append(source)
    return settings.model_copy(update={"sources": sources})


def parse_settings(data: dict[str, Any], base_dir: Path, path: str | None = None) -> Settings:
    """Validate a parsed TOML document: schema, connectors' options and queries, all at once."""
    settings = parse_schema(data, base_dir, path, checks=CHECKS)
    try:
        settings = expand_opml_sources(settings)
    except ValueError as exc:  # an OPML file changed between validation and expansion
        raise SettingsError([("sources.opml", str(exc))], path) from None
    return with_default_intervals(settings)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the settings file (`--settings`, `$VIGIA_SETTINGS`, ./settings.toml)."""
    data, base_dir, name = read_settings_file(path)
    return parse_settings(data, base_dir, name)
