"""The command line fed hostile text: remote titles, server headers and replies, hints.

Rich reads `[...]` as markup, so any remote string printed as markup can crash a command
(`[/]`), turn into a terminal hyperlink (`[link=…]`) or lose words (`[http]`). Every table
and line a command prints must show such text as the characters it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from monitor.cli import main as cli
from monitor.cli.main import app, main
from tests import test_smtp
from tests.test_smtp import Server
from tests.test_storage import _closed_port

server = test_smtp.server  # the running aiosmtpd fixture

PHISH = "[link=http://evil.example/phish]oferta[/link]"
HOSTILE_TITLE = f"Calderix [/] {PHISH} [bold]gratis"

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>{title}</title><link>https://news.example/1</link><guid>1</guid>
<description>Calderix sube precios.</description>
<pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>
"""

SETTINGS = """
[storage]
url = "sqlite:///vigia.db"

[http]
allow_private_addresses = {allow_private}

[fetch]
backfill = "all"  # the feed's item is dated 20 Nov 2026

[email]
from = "Vigía <vigia@example.com>"
{smtp}

[email.recipients]
digest = ["comms@example.com"]

[[brands]]
name = "Calderix"

[[sources]]
name = "{name}"
kind = "rss"
url = "{url}"
"""


def write_settings(
    tmp_path: Path, url: str, *, allow_private: bool = False, smtp: str = "", name: str = "News"
) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(
        SETTINGS.format(url=url, allow_private=str(allow_private).lower(), smtp=smtp, name=name),
        encoding="utf-8",
    )
    return path


def invoke(settings: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--settings", str(settings), *args], catch_exceptions=False, terminal_width=250
    )
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 250)  # one table row per line


def test_a_title_with_markup_is_shown_as_text_in_mentions(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED.format(title=HOSTILE_TITLE), encoding="utf-8")
    settings = write_settings(tmp_path, str(feed), name="News [/]")
    code, output = invoke(settings, "fetch")
    assert code == 0, output
    assert "News [/]" in output
    code, output = invoke(settings, "mentions")
    assert code == 0, output
    assert PHISH in output and "[/]" in output and "[bold]gratis" in output
    assert "\x1b]8;" not in output  # no terminal hyperlink


def test_fetch_and_run_once_exit_1_when_every_source_failed_and_show_the_hint(
    tmp_path: Path,
) -> None:
    settings = write_settings(tmp_path, "http://127.0.0.1:9/feed.xml")
    code, output = invoke(settings, "fetch")
    assert code == 1, output
    assert "[http] allow_private_addresses" in " ".join(output.split())
    code, output = invoke(settings, "run", "--once")
    assert code == 1, output
    code, output = invoke(settings, "sources")
    assert code == 0, output
    assert "[http]" in output


def test_a_content_encoding_that_looks_like_markup_does_not_crash_fetch(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    body = FEED.format(title="Calderix sube precios").encode()
    httpserver.expect_request("/feed.xml").respond_with_data(
        body, headers={"Content-Type": "application/rss+xml", "Content-Encoding": "[/x]"}
    )
    settings = write_settings(tmp_path, httpserver.url_for("/feed.xml"), allow_private=True)
    code, output = invoke(settings, "fetch")
    assert code == 0, output
    assert "'[/x]'" in output


def test_an_smtp_reply_that_looks_like_markup_does_not_crash_outbox(
    tmp_path: Path, server: Server
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED.format(title=HOSTILE_TITLE), encoding="utf-8")
    smtp = f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nstarttls = false'
    settings = write_settings(tmp_path, str(feed), smtp=smtp)
    server.inbox.reply = "451 [/x] try [link=http://evil.example/]later[/link]"
    code, output = invoke(settings, "run", "--once")
    assert code == 1, output  # not delivered: said, not crashed
    assert "451 [/x] try [link=http://evil.example/]later[/link]" in " ".join(output.split())
    code, output = invoke(settings, "outbox", "--retry")
    assert code == 0, output
    flat = " ".join(output.split())
    assert "451 [/x] try [link=http://evil.example/]later[/link]" in flat
    assert "\x1b]8;" not in output


@pytest.mark.parametrize("url", ["postgresql+psycopg://vigia@127.0.0.1:{port}/vigia", "file"])
def test_a_database_that_cannot_be_opened_is_one_line_naming_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    if url == "file":
        (tmp_path / "var").write_text("a file where the folder should be", encoding="utf-8")
        url = "sqlite:///var/vigia.db"
    else:
        url = url.format(port=_closed_port())
    settings = write_settings(tmp_path, "feed.xml")
    text = settings.read_text(encoding="utf-8").replace("sqlite:///vigia.db", url)
    settings.write_text(text, encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["monitor", "--settings", str(settings), "db", "upgrade"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "[storage] url" in err and " — " in err and "Traceback" not in err
    assert len(err) < 700 and err.count("error:") == 1  # one message (wrapped), not 160 lines
