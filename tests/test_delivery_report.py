"""Delivery is reported truthfully: what went out, what waits, and why (aiosmtpd on loopback).

A refused SMTP server used to read as success ("Digest written", exit 0, nothing delivered);
a server without STARTTLS gave a bare SMTPNotSupportedError; a 550's reason was dropped; and
`monitor check` tried neither the SMTP login nor the password's environment variable.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.core.errors import DeliveryError
from reports.mailer import SmtpMailer
from tests.test_smtp import PASSWORD, Inbox, Server, check_password, email_settings
from tests.test_smtp import server as server  # the running-server fixture

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class RefusingInbox(Inbox):
    """Refuses every recipient, as a server does for an unknown mailbox."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def a_message() -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"], message["To"], message["Subject"] = "v@example.com", "x@example.com", "t"
    message.set_content("hello")
    return message


def test_a_550_keeps_its_reason(make_settings: Any) -> None:
    running = Server()
    running.inbox = RefusingInbox()
    running.start()
    try:
        mailer = SmtpMailer(email_settings(make_settings, running.port).email, None, timeout=5)
        with pytest.raises(DeliveryError) as raised:
            mailer.send(a_message())
    finally:
        running.stop()
    assert "550 5.1.1" in str(raised.value) and "User unknown" in str(raised.value)


def test_no_starttls_on_the_server_says_which_setting_to_change(
    make_settings: Any, server: Server
) -> None:
    settings = email_settings(make_settings, server.port, starttls=True)
    with pytest.raises(DeliveryError) as raised:
        SmtpMailer(settings.email, None, timeout=5).send(a_message())
    assert "starttls = false" in str(raised.value)
    assert not server.inbox.messages


def write_feed(tmp_path: Path, *posts: tuple[str, str]) -> None:
    """The local feed: (guid, text) posts, published now."""
    now = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><guid>{guid}</guid><title>Acme {guid}</title><pubDate>{now}</pubDate>"
        f"<link>https://news.example/{guid}</link><description>{text}</description></item>"
        for guid, text in posts
    )
    (tmp_path / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"{items}</channel></rss>",
        encoding="utf-8",
    )


def write_settings(tmp_path: Path, port: int, extra_email: str = "") -> Path:
    """A brand, one local feed with a post from today, SMTP on loopback."""
    write_feed(tmp_path, ("1", "Acme grows."))
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[email]\nfrom = "v@example.com"\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
        f"starttls = false\n{extra_email}"
        '[email.recipients]\ndigest = ["comms@example.com"]\nalerts = ["crisis@example.com"]\n\n'
        '[[brands]]\nname = "Acme"\n\n'
        '[[sources]]\nname = "News"\nkind = "rss"\nurl = "feed.xml"\n',
        encoding="utf-8",
    )
    return path


def invoke(settings: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--settings", str(settings), *args], catch_exceptions=False)


def test_run_once_and_digest_fail_loudly_when_the_server_refuses(tmp_path: Path) -> None:
    running = Server()
    running.inbox = RefusingInbox()
    running.start()
    try:
        settings = write_settings(tmp_path, running.port)
        first = invoke(settings, "run", "--once")
        assert first.exit_code == 1, first.output
        assert "Digest written" in first.output
        assert "Not delivered" in first.output and "550 5.1.1" in first.output
        assert "1 email(s) waiting in the outbox" in first.output
        forced = invoke(settings, "digest", "--force")
        assert forced.exit_code == 1 and "550 5.1.1" in forced.output
        running.inbox = Inbox()  # the mailbox now exists
        running.stop()
        running.start()
        retried = invoke(settings, "outbox", "--retry")
        assert retried.exit_code == 0 and len(running.inbox.messages) == 2
    finally:
        running.stop()


def test_run_once_says_what_was_delivered(tmp_path: Path, server: Server) -> None:
    result = invoke(write_settings(tmp_path, server.port), "run", "--once")
    assert result.exit_code == 0, result.output
    assert "Delivered 1 email(s) via 127.0.0.1" in result.output
    assert len(server.inbox.messages) == 1


def test_an_undelivered_alert_fails_run_once_too(tmp_path: Path) -> None:
    """Alerts were delivered on their own and their failure never reached the exit code."""
    running = Server()
    running.start()
    try:
        settings = write_settings(tmp_path, running.port)
        assert invoke(settings, "run", "--once").exit_code == 0  # today's digest went out
        write_feed(
            tmp_path, ("1", "Acme grows."), ("2", "Acme: mi DNI es 48215763N, llamadme ya.")
        )
        running.stop()
        running.inbox = RefusingInbox()
        running.start()
        second = invoke(settings, "run", "--once")
    finally:
        running.stop()
    assert "Alert written" in second.output and "already written" in second.output
    assert second.exit_code == 1 and "550 5.1.1" in second.output


def test_check_tries_the_smtp_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running = Server(authenticator=check_password, auth_required=True, auth_require_tls=False)
    running.start()
    try:
        settings = write_settings(tmp_path, running.port, 'username = "vigia"\n')
        monkeypatch.delenv("VIGIA_SMTP_PASSWORD", raising=False)
        missing = invoke(settings, "check")
        assert missing.exit_code == 1
        assert "✗ email" in missing.output and "VIGIA_SMTP_PASSWORD is not" in missing.output
        monkeypatch.setenv("VIGIA_SMTP_PASSWORD", "wrong")
        wrong = invoke(settings, "check")
        assert wrong.exit_code == 1 and "login as 'vigia' refused" in wrong.output
        monkeypatch.setenv("VIGIA_SMTP_PASSWORD", PASSWORD)
        good = invoke(settings, "check")
        assert good.exit_code == 0, good.output
        assert "✓ email: 127.0.0.1" in good.output and "logged in as vigia" in good.output
    finally:
        running.stop()
    assert not running.inbox.messages  # a check sends nothing
