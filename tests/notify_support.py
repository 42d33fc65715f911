"""A local HTTPS server standing in for Slack's and Teams' webhook endpoints and a JSON webhook.

Apprise's real plugins build and send the real payloads; only where they send moves: Slack's
fixed `webhook_url` is pointed at this server, Teams Workflows and `jsons://` take its host
from the URL. TLS is verified against the test certificate (REQUESTS_CA_BUNDLE), as it would
be against the real services.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SLACK_TOKEN = "T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
TEAMS_WORKFLOW = "643e69f83c8944438d68119179a10a64"
TEAMS_SIGNATURE = "KODuebWbDGYFr0z0eu6Rj8aUKz7108W3wrNJZxFE5A"
HOOK_TOKEN = "whsec9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d"
SECRETS = (SLACK_TOKEN, *SLACK_TOKEN.split("/"), TEAMS_WORKFLOW, TEAMS_SIGNATURE, HOOK_TOKEN)
ENV = {
    "VIGIA_TEST_SLACK": SLACK_TOKEN,
    "VIGIA_TEST_TEAMS_WORKFLOW": TEAMS_WORKFLOW,
    "VIGIA_TEST_TEAMS_SIGNATURE": TEAMS_SIGNATURE,
    "VIGIA_TEST_HOOK": HOOK_TOKEN,
}


@dataclass
class Services:
    """The recorded requests per service; `status` is what every service answers now."""

    server: HTTPServer
    status: int = 200
    received: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"slack": [], "teams": [], "webhook": []}
    )
    accepted: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"slack": [], "teams": [], "webhook": []}
    )

    @property
    def port(self) -> int:
        return self.server.port

    def routes(self) -> list[str]:
        host = f"127.0.0.1:{self.port}"
        return [
            "slack://${VIGIA_TEST_SLACK}",
            f"workflows://{host}/${{VIGIA_TEST_TEAMS_WORKFLOW}}/${{VIGIA_TEST_TEAMS_SIGNATURE}}",
            f"jsons://{host}/hooks/vigia/${{VIGIA_TEST_HOOK}}",
        ]

    def _answer(self, service: str, ok_body: str) -> Any:
        def handler(request: Request) -> Response:
            body = json.loads(request.get_data())
            self.received[service].append(body)
            if self.status >= 300:
                return Response("upstream trouble", status=self.status)
            self.accepted[service].append(body)
            return Response(ok_body, status=self.status)

        return handler

    def install(self) -> None:
        self.server.expect_request(
            f"/services/{SLACK_TOKEN}", method="POST"
        ).respond_with_handler(self._answer("slack", "ok"))
        self.server.expect_request(
            f"/workflows/{TEAMS_WORKFLOW}/triggers/manual/paths/invoke", method="POST"
        ).respond_with_handler(self._answer("teams", ""))
        self.server.expect_request(
            f"/hooks/vigia/{HOOK_TOKEN}", method="POST"
        ).respond_with_handler(self._answer("webhook", "{}"))


@pytest.fixture
def services(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    from apprise.plugins.slack import NotifySlack

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    running = Services(server)
    running.install()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setattr(NotifySlack, "webhook_url", f"https://127.0.0.1:{server.port}/services")
    monkeypatch.setattr(NotifySlack, "request_rate_per_sec", 0)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    try:
        yield running
    finally:
        server.clear()
        if server.is_running():
            server.stop()
