"""The README is code too: every settings block it shows loads, and every setting is documented.

As datasette does for its documentation: each ```toml block of README.md and every settings
file under examples/ goes through the real settings parser (a fragment is merged into the
smallest valid settings: one brand), so a documented key the model does not know fails here,
not on a user's first day. The other way round, every key of the settings model (walked
recursively) must have a row in README's "Settings reference" table, and every option of
every connector must be named in its "Sources" section.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from connectors import registry
from monitor.app.configuration import load_settings, parse_settings
from monitor.core.errors import SettingsError
from monitor.core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>f</title></head><body>
<outline text="Blog" title="Blog" type="rss" xmlUrl="https://blog.example/feed.xml"/>
</body></opml>"""


def toml_blocks() -> list[tuple[int, str]]:
    """(line number, text) of every ```toml block in README.md."""
    return [
        (README[: match.start()].count("\n") + 1, match.group(1))
        for match in re.finditer(r"^ *```toml\n(.*?)^ *```", README, re.DOTALL | re.MULTILINE)
    ]


def test_the_readme_has_settings_blocks() -> None:
    assert len(toml_blocks()) >= 10  # the regex still finds them (indented ones too)


@pytest.mark.parametrize(("line", "block"), toml_blocks(), ids=lambda v: str(v)[:8])
def test_every_readme_settings_block_loads(line: int, block: str, tmp_path: Path) -> None:
    import textwrap

    data = tomllib.loads(textwrap.dedent(block))
    data.setdefault("brands", [{"name": "Acme"}])  # a fragment: the smallest valid settings
    (tmp_path / "feeds.opml").write_text(OPML, encoding="utf-8")  # the OPML example's file
    try:
        parse_settings(data, tmp_path, f"README.md line {line}")
    except SettingsError as exc:
        pytest.fail(f"README.md's toml block at line {line} does not load:\n{exc}")


@pytest.mark.parametrize(
    "path", sorted((REPO / "examples").glob("**/*.toml")), ids=lambda p: p.name
)
def test_every_example_settings_file_loads(path: Path) -> None:
    assert load_settings(path).brands


def _models(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the pydantic model inside an annotation, whether it is a list of them)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model, is_list = _models(arg)
            if model is not None:
                return model, is_list
        return None, False
    if origin is list:
        model, _ = _models(typing.get_args(annotation)[0])
        return model, model is not None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def model_keys(model: type[BaseModel], path: str = "", in_list: bool = False) -> set[str]:
    """Every leaf key of the settings model as the README writes it: "[[brands]] query"."""
    keys = set()
    for name, field in model.model_fields.items():
        if model is Settings and name == "base_dir":  # set by the loader, not by the file
            continue
        key = field.alias or name
        sub, is_list = _models(field.annotation)
        if sub is not None:
            keys |= model_keys(sub, f"{path}.{key}".lstrip("."), is_list)
        else:
            keys.add(f"[[{path}]] {key}" if in_list else f"[{path}] {key}")
    return keys


def reference_keys() -> set[str]:
    """The keys of README's "Settings reference" table: "`[email] from`, `smtp_host`" → two."""
    section = README.split("## Settings reference", 1)[1].split("\n## ", 1)[0]
    keys = set()
    for row in re.findall(r"^\| (`\[.*?) \|", section, re.MULTILINE):
        names = re.findall(r"`([^`]+)`", row)
        table, first = names[0].split("] ", 1)
        table += "]"  # split() took the last "]" of "[email]" or "[[brands]]"
        keys |= {f"{table} {name}" for name in [first, *names[1:]]}
    return keys


def test_every_setting_is_in_the_reference_table_and_nothing_else() -> None:
    documented, known = reference_keys(), model_keys(Settings)
    assert "[email] from" in known and "[[brands.employees]] handles" in known  # walker works
    assert not known - documented, f"settings missing from README's table: {known - documented}"
    assert not documented - known, f"README documents unknown settings: {documented - known}"


def kind_section(kind: str) -> str:
    """README's text about one source kind: its "### `kind`…" sections."""
    parts = re.findall(rf"^### `{kind}`.*?(?=^##)", README, re.DOTALL | re.MULTILINE)
    assert parts, f"README has no section for source kind {kind!r}"
    return "\n".join(parts)


@pytest.mark.parametrize("kind", sorted(registry.available()))
def test_every_connector_option_is_documented(kind: str) -> None:
    text = kind_section(kind)
    options = registry.available()[kind].Options.model_fields
    missing = [name for name in options if f"`{name}`" not in text]
    assert not missing, f"README's `{kind}` section does not name: {missing}"
