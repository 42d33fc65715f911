"""The deployment files (compose.yaml, Dockerfile, deploy/systemd/) run commands that exist.

Docker does not run where the tests run, so compose.yaml is checked by reading it: every
Vigía service runs a real `monitor` subcommand with real flags, the services it waits for
exist, and the migration step runs before the rest. The systemd units are checked the same
way, and with `systemd-analyze verify` where it is installed.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main

from monitor.cli.main import app

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))
#: Subcommands the deployment runs that issue 11's queue core adds (`monitor worker`,
#: `monitor scheduler`); until they are in the CLI, their flags are checked against this
#: list. Once the command exists, its real flags are checked instead and this entry is moot.
PENDING = {"worker": {"--concurrency", "--queues"}, "scheduler": set()}


def _cli() -> Any:
    """The command tree (Typer's own click: told apart by attributes, not by class)."""
    return typer.main.get_command(app)


def _flags(command: Any) -> set[str]:
    return {
        flag
        for param in command.params
        if param.param_type_name == "option"
        for flag in (*param.opts, *param.secondary_opts)
    }


def check_monitor_args(args: list[str]) -> None:
    """`args` (after `monitor`) name a real subcommand and only flags it has."""
    words = [a for a in args if not a.startswith("-")]
    name = words[0] if words else ""
    command = _cli().commands.get(name)
    if command is None:
        assert name in PENDING, f"`monitor {name}` is not a command: {args}"
        known = PENDING[name]
    else:
        if hasattr(command, "commands"):  # a group: `monitor db upgrade`
            sub = words[1] if len(words) > 1 else ""
            assert sub in command.commands, f"`monitor {name} {sub}` is not a command"
            command = command.commands[sub]
        known = _flags(command)
    for flag in (a.split("=", 1)[0] for a in args if a.startswith("--")):
        assert flag in known, f"`monitor {name}` has no flag {flag} (has {sorted(known)})"


def test_pending_commands_are_the_real_ones_once_they_exist() -> None:
    group = _cli()
    for name, flags in PENDING.items():
        if name in group.commands:
            assert flags <= _flags(group.commands[name]), f"`monitor {name}` lacks {flags}"


def test_the_checker_catches_a_wrong_command_or_flag() -> None:
    with pytest.raises(AssertionError, match="not a command"):
        check_monitor_args(["serve"])
    with pytest.raises(AssertionError, match="no flag --workers"):
        check_monitor_args(["web", "--workers", "2"])
    with pytest.raises(AssertionError, match="not a command"):
        check_monitor_args(["db", "migrate"])


# -- compose.yaml --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict:  # type: ignore[type-arg]
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))


def _vigia_services(compose: dict) -> dict:  # type: ignore[type-arg]
    return {name: s for name, s in compose["services"].items() if s.get("build") == "."}


def test_compose_runs_every_role_with_real_commands(compose: dict) -> None:  # type: ignore[type-arg]
    services = _vigia_services(compose)
    assert set(services) == {"migrate", "web", "scheduler", "worker"}
    for name, service in services.items():
        assert service["image"] == "vigia:latest", name
        check_monitor_args(service["command"])
    assert services["migrate"]["command"] == ["db", "upgrade"]


def test_compose_starts_after_the_database_broker_and_migration(compose: dict) -> None:  # type: ignore[type-arg]
    services = compose["services"]
    for name in ("web", "scheduler", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["postgres"]["condition"] == "service_healthy", name
        assert needs["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith("./") or source in compose["volumes"], (name, volume)
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name


def test_compose_workers_scale_and_shut_down_warm(compose: dict) -> None:  # type: ignore[type-arg]
    worker = compose["services"]["worker"]
    # --scale worker=N needs no fixed name or host port on the worker.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["stop_signal"] == "SIGTERM" and worker["init"] is True
    assert worker["stop_grace_period"] == "5m"


def test_compose_secrets_come_from_the_env_file(compose: dict) -> None:  # type: ignore[type-arg]
    text = (REPO / "compose.yaml").read_text(encoding="utf-8")
    assert "PASSWORD: ${PGPASSWORD:?" in text  # interpolated from .env, never written here
    for service in _vigia_services(compose).values():
        assert service["env_file"] == ".env"
    example = (REPO / "deploy" / "compose" / "env.example").read_text(encoding="utf-8")
    assert {"PGPASSWORD", "VIGIA_SECRET_KEY", "VIGIA_SMTP_PASSWORD"} <= set(
        re.findall(r"^([A-Z_]+)=", example, re.MULTILINE)
    )
    assert "/.env" in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_dockerfile_installs_the_package_and_runs_unprivileged() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert re.search(r'^RUN pip install "\.\[postgres\]"$', text, re.MULTILINE)
    assert re.search(r"^USER vigia$", text, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["monitor"\]$', text, re.MULTILINE)


# -- systemd -------------------------------------------------------------------------------
def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_there_is_a_unit_per_role() -> None:
    assert [p.name for p in UNITS] == [
        "vigia-embedded.service", "vigia-scheduler.service", "vigia-web.service",
        "vigia-worker@.service",
    ]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_runs_a_real_command_hardened(path: Path) -> None:
    service = _unit(path)["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/opt/vigia/.venv/bin/monitor"
    # ${VAR} is one word and $VAR zero or more: neither is a flag of ours.
    check_monitor_args([w for w in command[1:] if not w.startswith("$")])
    expected = {
        "User": "vigia", "Restart": "on-failure", "EnvironmentFile": "/etc/vigia/env",
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/vigia",
        "PrivateTmp": "yes", "KillSignal": "SIGTERM",
    }
    text = path.read_text(encoding="utf-8")
    for key, value in expected.items():
        assert re.search(rf"^{key}={re.escape(value)}$", text, re.MULTILINE), (path.name, key)


def test_worker_unit_lets_celery_finish_its_tasks() -> None:
    service = _unit(REPO / "deploy" / "systemd" / "vigia-worker@.service")["Service"]
    assert service["KillMode"] == "mixed"  # SIGTERM to Celery's main process only
    assert int(service["TimeoutStopSec"]) >= 240  # a source run's downloads and retries
    assert "--concurrency ${VIGIA_WORKER_CONCURRENCY}" in service["ExecStart"]


def test_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not installed")
    monitor = shutil.which("monitor") or shutil.which("python3")
    assert monitor
    for path in UNITS:  # verify needs ExecStart to exist: point it at an installed program
        text = path.read_text(encoding="utf-8").replace("/opt/vigia/.venv/bin/monitor", monitor)
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True, text=True, timeout=60, check=False,
        env={"SYSTEMD_LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin"},
    )
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 0 and not problems, problems
