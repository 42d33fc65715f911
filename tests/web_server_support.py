"""The real web app on a real socket, over the demo's own data, for the browser tests.

`demo_site` builds what `make demo` stores (the bundled feeds, fetched and classified by the
real pipeline) into a database of the test's choosing, adds one user per role through
monitor.app.users, and `LiveServer` serves `create_app` with uvicorn in a background thread
on 127.0.0.1 and a free port. A browser then talks to it exactly as a user would: cookies,
CSRF tokens, the Content-Security-Policy and htmx all take part.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from monitor.app.configuration import load_settings
from monitor.app.pipeline import Pipeline
from monitor.app.users import add_user
from monitor.core.settings import Settings
from monitor.core.storage import Database, open_database
from monitor.web.app import create_app
from tests.demo_support import write_demo_settings

#: One user per role the browser tests sign in as; the password is long enough for the rules.
PASSWORD = "correct horse battery"
ROLES = ("admin", "comms", "security", "hr")
DEMO_SQLITE_URL = 'url = "sqlite:///var/vigia.db"'


@dataclass
class DemoSite:
    """The demo's settings and its filled database; `users` maps role to user name."""

    settings: Settings
    db: Database
    users: dict[str, str]


def demo_site(tmp_path: Path, database_url: str | None = None) -> DemoSite:
    """The demo's mentions in `database_url` (default: the demo's SQLite file in tmp_path)."""
    path = write_demo_settings(tmp_path)
    if database_url:
        text = path.read_text(encoding="utf-8")
        assert DEMO_SQLITE_URL in text, "the demo's storage URL moved: update web_server_support"
        path.write_text(text.replace(DEMO_SQLITE_URL, f'url = "{database_url}"'), "utf-8")
    settings = load_settings(path)
    db = open_database(settings.database_url)
    pipeline = Pipeline(settings, db)
    try:
        runs = pipeline.run_sources([s for s in settings.sources if s.enabled])
    finally:
        pipeline.close()
    assert runs and all(r.ok for r in runs), [r.error for r in runs]
    users = {role: f"{role}-user" for role in ROLES}
    for role, name in users.items():
        add_user(db, name, role, PASSWORD)
    return DemoSite(settings=settings, db=db, users=users)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """`create_app(settings, db)` served by uvicorn in a daemon thread until the block ends."""

    def __init__(self, settings: Settings, db: Database, start_timeout: float = 20.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, db), host="127.0.0.1", port=self.port,
            log_level="warning", lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="vigia-web", daemon=True)
        self.start_timeout = start_timeout

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the web server stopped while starting (see its log above)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the web server did not start in {self.start_timeout} s")
            time.sleep(0.02)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
