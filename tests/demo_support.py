"""The demo's own settings (examples/demo/settings.toml), relocated for a test.

`make demo` keeps its database and outbox under var/demo/; a test gets the very same
settings with both moved into its tmp_path and the bundled feeds addressed by absolute path,
so it exercises what the demo runs without touching the repository's var/.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_SETTINGS = REPO / "examples" / "demo" / "settings.toml"
FEEDS = REPO / "examples" / "demo" / "feeds"


def write_demo_settings(tmp_path: Path) -> Path:
    """tmp_path/settings.toml: the demo's settings, storing into tmp_path/var/."""
    text = DEMO_SETTINGS.read_text(encoding="utf-8")
    for old, new in (("../../var/demo/", "var/"), ('url = "feeds/', f'url = "{FEEDS}/')):
        assert old in text, f"examples/demo/settings.toml no longer contains {old!r}"
        text = text.replace(old, new)
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path
