"""A new user's first day, as README.md tells it: the demo, then one's own brand.

`make demo` used to share settings.toml and var/vigia.db with the user's brand, so the first
`run --once` of one's own brand found the demo's digest already written (an empty digest
even with --force) and the demo's 65 mentions mixed in; and a feed's archive from years ago
filled the first digest. Here the demo runs from its own settings, then the example settings
are copied as README step 1 says, given one source, and the first digest holds exactly the
brand's first (recent) mentions.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli.main import app
from tests.demo_support import DEMO_SETTINGS, FEEDS

REPO = Path(__file__).resolve().parents[1]


def monitor(settings: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--settings", str(settings), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_from_the_demo_to_ones_own_brand(tmp_path: Path) -> None:
    # The repository as cloned: the demo's settings under examples/demo/, the feeds beside.
    demo = tmp_path / "examples" / "demo" / "settings.toml"
    demo.parent.mkdir(parents=True)
    demo.write_text(
        DEMO_SETTINGS.read_text(encoding="utf-8").replace('url = "feeds/', f'url = "{FEEDS}/'),
        encoding="utf-8",
    )
    assert "Digest written" in monitor(demo, "run", "--once")  # make demo
    assert (tmp_path / "var" / "demo" / "vigia.db").exists()

    # README step 1: cp examples/settings.example.toml settings.toml; steps 2-4: one source,
    # email to files. The feed holds two posts from today and yesterday and an old archive.
    now = datetime.now(UTC)
    posts = [
        ("new1", now - timedelta(hours=2), "Acme Cloud lleva dos horas caído"),
        ("new2", now - timedelta(days=1), "Acme abre oficina en Sevilla"),
        ("old1", datetime(2016, 5, 3, tzinfo=UTC), "Acme en 2016"),
        ("old2", datetime(2018, 1, 9, tzinfo=UTC), "Acme en 2018"),
    ]
    (tmp_path / "blog.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>b</title>'
        + "".join(
            f"<item><guid>{g}</guid><title>{t}</title><link>https://blog.example/{g}</link>"
            f"<pubDate>{format_datetime(d)}</pubDate><description>{t}.</description></item>"
            for g, d, t in posts
        )
        + "</channel></rss>",
        encoding="utf-8",
    )
    mine = tmp_path / "settings.toml"
    shutil.copy(REPO / "examples" / "settings.example.toml", mine)
    text = mine.read_text(encoding="utf-8")
    text = text[: text.index("# Sources:")].replace(
        'smtp_host = "smtp.acme.example"', 'smtp_host = ""'
    )
    mine.write_text(
        text + '[[sources]]\nname = "Blog"\nkind = "rss"\nurl = "blog.xml"\n', encoding="utf-8"
    )
    assert demo.read_text(encoding="utf-8").count("Calderix") > 1  # the demo is untouched

    output = monitor(mine, "run", "--once")
    assert "Digest written" in output and "mentions: 2" in output, output
    assert "2 older than" in output
    [html] = sorted((tmp_path / "var" / "outbox").glob("*digest*.html"))
    page = html.read_text(encoding="utf-8")
    assert "Acme Cloud lleva dos horas" in page and "Acme abre oficina" in page
    assert "Acme en 2016" not in page and "Calderix" not in page
