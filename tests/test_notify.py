"""Routes to chat and webhooks: settings, secrets, per-format escaping, and the commands.

The delivery itself (Apprise against local HTTPS stand-ins) is tests/test_notify_delivery.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from monitor.app.configuration import load_settings
from monitor.cli import main as cli
from monitor.cli.main import app
from monitor.core import routes
from monitor.core.errors import SettingsError, VigiaError
from monitor.core.targets import mask_template, parse_target, resolve, scrub
from reports.chat_format import render_message
from reports.notice import Notice, NoticePost

HOSTILE = "<script>x</script> [win](https://evil.example) <b>&amp;</b> *bold* `code` \\<"
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)

SETTINGS = """
[storage]
url = "sqlite:///var/vigia.db"

[email]
outbox_dir = "var/outbox"

[email.recipients]
alerts = ["crisis@example.com"]

[routes]
{routes}

[[brands]]
name = "Calderix"
"""


def write(tmp_path: Path, routes_toml: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS.format(routes=routes_toml), encoding="utf-8")
    return path


def test_routes_accept_addresses_and_urls_and_join_the_email_lists(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, (
        'alerts = ["crisis@example.com", "oncall@example.com", "slack://${VIGIA_SLACK_ALERTS}"]\n'
        'leaks = ["jsons://hooks.example.com/vigia/${VIGIA_HOOK}", "json://10.0.0.5/vigia"]'
    )))
    assert routes.emails(settings, "alerts") == ["crisis@example.com", "oncall@example.com"]
    assert [t.channel for t in routes.urls(settings, "alerts", "leaks")] == [
        "slack", "jsons", "json",
    ]
    assert settings.email.recipients.alerts == ["crisis@example.com"]  # the old list, unchanged
    assert routes.targets(settings, "digest") == []


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "VIGIA_SLACK_ALERTS"),
        ("tgram://123456:ABCdef/12345", "put the token in an environment variable"),
        ("matrixs://vigia:hunter22@matrix.org/#crisis", "carries a password"),
        ("msteams://abc/def/ghi", "workflows://"),
        ("comms at example", "neither an email address nor a notification URL"),
    ],
)
def test_a_literal_secret_or_a_bad_target_is_refused_naming_the_key(
    tmp_path: Path, target: str, says: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, f'alerts = ["{target}"]'))
    message = str(caught.value)
    assert "routes.alerts" in message and says in message
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in message and "hunter22" not in message


def test_secrets_are_read_at_delivery_and_scrubbed_in_every_form() -> None:
    template = "matrixs://vigia:${VIGIA_MATRIX_PASSWORD}@matrix.org/${VIGIA_ROOM}"
    parse_target(template)  # a reference in the password place is fine
    resolved = resolve(template, {"VIGIA_MATRIX_PASSWORD": "p@ss/w rd", "VIGIA_ROOM": "!r:m"})
    assert resolved.url == "matrixs://vigia:p@ss/w rd@matrix.org/!r:m"
    line = "POST https://x/p%40ss%2Fw%20rd and p@ss/w rd and w rd"
    scrubbed = scrub(line, resolved.secrets)
    assert "p@ss" not in scrubbed and "%40" not in scrubbed and "w rd" not in scrubbed
    with pytest.raises(LookupError, match="VIGIA_ROOM is not set"):
        resolve(template, {"VIGIA_MATRIX_PASSWORD": "x"})
    assert mask_template("slack://T1JJ3T3L2/A1BRTD4JD/TIiajk") == "slack://T1…/A1…/TI…"
    assert mask_template(template) == "matrixs://vigia:***@matrix.org/${VIGIA_ROOM}"


def hostile_notice() -> Notice:
    post = NoticePost(
        id=7, title=HOSTILE, excerpt="", author="@x", url="https://social.example/7",
        source="Feed", reach=3, published=NOW,
    )
    return Notice(kind="alert-reach", route="alerts", brand="Calderix", title="Alert: reach",
                  summary=HOSTILE, posts=[post])


def converted(url: str, channel: str) -> str:
    """The body as the Apprise plugin turns it into its service's markup."""
    import apprise

    message = render_message(hostile_notice(), channel, key="k", created=NOW)
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None
    return str(plugin.dialect_convert(message.body, apprise.NotifyFormat.MARKDOWN))


def test_telegram_markdown_keeps_post_markup_inert() -> None:
    body = converted("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/12345", "tgram")
    assert "[win](https://evil.example)" not in body  # no link from a post
    assert "](https://social.example/7)" in body  # Vigía's own link


def test_matrix_html_has_no_tag_or_link_from_a_post() -> None:
    body = converted("matrixs://vigia:pw@matrix.example.org/#room", "matrixs")
    assert "<script>" not in body and "<b>" not in body
    assert 'href="https://evil.example"' not in body
    assert 'href="https://social.example/7"' in body
    assert "&lt;script&gt;" in body


def test_an_unknown_scheme_gets_plain_text_declared_as_text() -> None:
    message = render_message(hostile_notice(), "discord", key="k", created=NOW)
    assert message.body_format == "text" and HOSTILE in message.body


def invoke(path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        app, ["--settings", str(path), *args], catch_exceptions=False, terminal_width=200
    )
    assert result.exit_code == code, result.output
    return result.output


def test_notify_test_sends_to_each_target_and_outbox_lists_the_channel(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.console, "width", 200)
    token = "s3cr3t-hook-token-value"
    monkeypatch.setenv("VIGIA_TEST_HOOK", token)
    received: list[dict[str, Any]] = []

    def hook(request: Any) -> Any:
        from werkzeug import Response

        received.append(json.loads(request.get_data()))
        return Response("{}", status=200)

    httpserver.expect_request(f"/hook/{token}", method="POST").respond_with_handler(hook)
    path = write(tmp_path, (
        f'alerts = ["json://127.0.0.1:{httpserver.port}/hook/${{VIGIA_TEST_HOOK}}"]\n'
        f'leaks = ["json://127.0.0.1:1/closed/${{VIGIA_TEST_HOOK}}"]'
    ))
    output = invoke(path, "notify", "test", "alerts")
    assert "json" in output and "sent" in output and "email" in output
    [body] = received
    assert body["kind"] == "test" and body["route"] == "alerts" and body["schema_version"] == 1
    failed = invoke(path, "notify", "test", "leaks", code=1)
    assert "failed" in failed and token not in failed
    listing = invoke(path, "outbox")
    assert "channel" in listing and "json" in listing and "${VIGIA_TEST_HOOK}" in listing
    assert token not in listing
    unknown = CliRunner().invoke(app, ["--settings", str(path), "notify", "test", "legal"])
    assert isinstance(unknown.exception, VigiaError)
    assert "no route named 'legal'" in str(unknown.exception)


def test_check_routes_reports_each_target_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli.notify import check_routes

    monkeypatch.setattr(cli.console, "width", 200)
    token = "T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    monkeypatch.setenv("VIGIA_SLACK_ALERTS", token)
    monkeypatch.delenv("VIGIA_HOOK", raising=False)
    settings = load_settings(write(tmp_path, (
        'alerts = ["slack://${VIGIA_SLACK_ALERTS}"]\n'
        'leaks = ["jsons://hooks.example.com/${VIGIA_HOOK}"]'
    )))
    assert check_routes(settings) is False
    shown = capsys.readouterr().out
    assert "✓ routes.alerts: slack://" in shown and "TIiajkdnlazkcOXrIdevi7FQ" not in shown
    assert "✗ routes.leaks" in shown and "VIGIA_HOOK is not set" in shown
