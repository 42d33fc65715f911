"""`monitor users` and `monitor web` on the demo's settings (database in tmp_path)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.app.configuration import load_settings
from monitor.app.users import authenticate, user_for_token
from monitor.cli.main import app, main
from monitor.core.settings import Settings
from monitor.core.storage import Database, open_database
from tests.demo_support import REPO, write_demo_settings
from tests.users_support import cheap_passwords

pytestmark = pytest.mark.usefixtures(cheap_passwords.__name__)

PASSWORD = "una contraseña larga"


@pytest.fixture
def demo_settings(tmp_path: Path) -> Path:
    return write_demo_settings(tmp_path)


def invoke(settings: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        app, ["--settings", str(settings), *args], input=input, catch_exceptions=False
    )


def database(settings: Path) -> Database:
    return open_database(load_settings(settings).database_url)


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: Path,
    *args: str, stdin: str = "",
) -> tuple[int, str, str]:
    """The real entry point (its VigiaError handling included): exit code, stdout, stderr."""
    monkeypatch.setattr("sys.argv", ["monitor", "--settings", str(settings), *args])
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_add_asks_for_the_password_twice_and_lists_the_user(demo_settings: Path) -> None:
    added = invoke(demo_settings, "users", "add", "ana", "--role", "comms",
                   input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "user ana added with role comms" in added.stdout
    assert PASSWORD not in added.output
    assert authenticate(database(demo_settings), "ana", PASSWORD) is not None

    rows = [json.loads(line) for line in invoke(demo_settings, "users", "list", "--json").stdout
            .splitlines()]
    assert [(r["name"], r["role"], r["last_login_at"] is not None) for r in rows] == [
        ("ana", "comms", True)
    ]
    table = invoke(demo_settings, "users", "list").stdout
    for text in ("name", "role", "created", "last login", "ana", "comms"):
        assert text in table


def test_a_mistyped_confirmation_is_asked_again(demo_settings: Path) -> None:
    added = invoke(demo_settings, "users", "add", "ana", "--role", "viewer",
                   input=f"{PASSWORD}\ntypo typo typo\n{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "do not match" in added.output
    assert authenticate(database(demo_settings), "ana", PASSWORD) is not None


def test_password_stdin_reads_one_line_and_password_changes_it(demo_settings: Path) -> None:
    added = invoke(demo_settings, "users", "add", "bot", "--role", "viewer", "--password-stdin",
                   input=f"{PASSWORD}\nnot read\n")
    assert added.exit_code == 0, added.output
    changed = invoke(demo_settings, "users", "password", "bot", "--password-stdin",
                     input="a brand new one\n")
    assert changed.exit_code == 0, changed.output
    db = database(demo_settings)
    assert authenticate(db, "bot", PASSWORD) is None
    assert authenticate(db, "bot", "a brand new one") is not None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("users", "add", "ana", "--role", "root", "--password-stdin"), f"{PASSWORD}\n",
         "unknown role 'root' — use one of: admin, comms, security, hr, viewer"),
        (("users", "add", "ana maria", "--role", "hr", "--password-stdin"), f"{PASSWORD}\n",
         "no spaces"),
        (("users", "add", "ana", "--role", "hr", "--password-stdin"), "short\n",
         "at least 10 characters"),
        (("users", "add", "ana", "--role", "hr", "--password-stdin"), "", "no password line"),
        (("users", "remove", "ghost", "--yes"), "", "no user named 'ghost'"),
        (("users", "remove", "ghost"), "", "no user named 'ghost'"),
        (("users", "password", "ghost", "--password-stdin"), f"{PASSWORD}\n",
         "no user named 'ghost'"),
        (("users", "token", "ghost"), "", "no user named 'ghost'"),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(
    demo_settings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...], stdin: str, message: str,
) -> None:
    code, out, err = run_main(monkeypatch, capsys, demo_settings, *args, stdin=stdin)
    assert code == 2
    assert err.startswith("error: ")
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert PASSWORD not in out + err


def test_a_taken_name_is_an_error(
    demo_settings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("users", "add", "ana", "--role", "hr", "--password-stdin")
    assert run_main(monkeypatch, capsys, demo_settings, *args, stdin=f"{PASSWORD}\n")[0] == 0
    code, _, err = run_main(monkeypatch, capsys, demo_settings, *args, stdin=f"{PASSWORD}\n")
    assert code == 2 and "a user named 'ana' already exists" in err


def test_remove_asks_first_unless_yes(demo_settings: Path) -> None:
    for name in ("ana", "bob"):
        invoke(demo_settings, "users", "add", name, "--role", "viewer", "--password-stdin",
               input=f"{PASSWORD}\n")
    kept = invoke(demo_settings, "users", "remove", "ana", input="n\n")
    assert kept.exit_code == 1 and "Remove user ana" in kept.output
    assert invoke(demo_settings, "users", "remove", "ana", input="y\n").exit_code == 0
    assert invoke(demo_settings, "users", "remove", "bob", "--yes").exit_code == 0
    assert invoke(demo_settings, "users", "list", "--json").stdout == ""


def test_token_is_printed_once_alone_on_stdout(demo_settings: Path) -> None:
    invoke(demo_settings, "users", "add", "bot", "--role", "security", "--password-stdin",
           input=f"{PASSWORD}\n")
    made = invoke(demo_settings, "users", "token", "bot")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert made.stdout == token + "\n" and token.startswith("vgt_")
    assert "will not be shown again" in made.stderr and token not in made.stderr
    db = database(demo_settings)
    owner = user_for_token(db, token)
    assert owner is not None and (owner.name, owner.role) == ("bot", "security")

    revoked = invoke(demo_settings, "users", "revoke", "bot")
    assert revoked.exit_code == 0 and "1 API token(s) of bot revoked" in revoked.stdout
    assert user_for_token(db, token) is None


def test_verbose_logging_never_shows_the_password_or_the_token(demo_settings: Path) -> None:
    added = invoke(demo_settings, "-v", "users", "add", "ana", "--role", "hr",
                   "--password-stdin", input=f"{PASSWORD}\n")
    made = invoke(demo_settings, "-v", "users", "token", "ana")
    assert PASSWORD not in added.output + made.stderr
    assert made.stdout.strip() not in made.stderr


class Served:
    """What `monitor web` handed to the (fake) create_app and uvicorn.run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = object()
        self.created: list[tuple[Settings, Database]] = []
        self.run: list[tuple[object, dict[str, Any]]] = []
        fake_web = types.ModuleType("monitor.web.app")
        fake_web.create_app = self.create_app  # type: ignore[attr-defined]
        # The real module may not exist yet on this branch; the command imports it lazily.
        monkeypatch.setitem(sys.modules, "monitor.web.app", fake_web)
        monkeypatch.setattr("uvicorn.run", self.uvicorn_run)

    def create_app(self, settings: Settings, db: Database) -> object:
        self.created.append((settings, db))
        return self.app

    def uvicorn_run(self, app: object, **options: Any) -> None:
        self.run.append((app, options))


def test_web_listens_where_the_settings_say_unless_told_otherwise(
    demo_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = demo_settings.read_text(encoding="utf-8")
    demo_settings.write_text(text + '\n[web]\nhost = "0.0.0.0"\nport = 9123\n', encoding="utf-8")
    served = Served(monkeypatch)
    assert invoke(demo_settings, "web").exit_code == 0
    assert invoke(demo_settings, "web", "--port", "8001").exit_code == 0
    assert invoke(demo_settings, "web", "--host", "::1", "--port", "8002",
                  "--forwarded-allow-ips", "10.0.0.5").exit_code == 0

    (settings, db), *_ = served.created
    assert settings.web.port == 9123 and isinstance(db, Database)
    assert all(app is served.app for app, _ in served.run)
    listened = [(o["host"], o["port"], o["forwarded_allow_ips"]) for _, o in served.run]
    assert listened == [("0.0.0.0", 9123, None), ("0.0.0.0", 8001, None),
                        ("::1", 8002, "10.0.0.5")]
    assert all(o["proxy_headers"] for _, o in served.run)


def test_web_defaults_to_the_web_settings_defaults(
    demo_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = Served(monkeypatch)
    assert invoke(demo_settings, "web").exit_code == 0
    (_, options), = served.run
    assert (options["host"], options["port"]) == ("127.0.0.1", 8080)
    bad = CliRunner().invoke(app, ["--settings", str(demo_settings), "web", "--port", "0"])
    assert bad.exit_code == 2 and not served.run[1:]


def test_the_command_line_imports_neither_the_web_stack_nor_argon2() -> None:
    probe = (
        "import sys, monitor.cli.main; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'argon2', 'monitor.web.app')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(REPO)},
    ).stdout.strip()
    assert loaded == "[]"
