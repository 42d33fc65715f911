""".ci/run's service logic, run dry (CI_DRY_RUN=1 prints the commands it would run): it
starts Redis, RabbitMQ and PostgreSQL only when their ports are down, exports the test URLs
when they are up, and fails under CI=true when a service cannot be had. "Down" is simulated
with a `python3` on PATH that reports every port closed; no shared service is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / ".ci" / "run"


def _dry_run(tmp_path: Path, ports_down: bool, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CI_DRY_RUN"] = "1"
    if ci:
        env["CI"] = "true"
    if ports_down:
        shim = tmp_path / "bin"
        shim.mkdir()
        (shim / "python3").write_text("#!/bin/sh\nexit 1\n")
        (shim / "python3").chmod(0o755)
        for server in ("redis-server", "rabbitmq-server"):  # present, never really run
            (shim / server).write_text("#!/bin/sh\necho REALLY RAN >&2; exit 9\n")
            (shim / server).chmod(0o755)
        env["PATH"] = f"{shim}:{env['PATH']}"
    return subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_down_services_are_started_with_the_documented_commands(tmp_path: Path) -> None:
    done = _dry_run(tmp_path, ports_down=True, ci=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        'would run: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save  '
        "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
    ) in out
    assert "would run: rabbitmq-server -detached" in out
    assert "VIGIA_TEST_REDIS_URL" not in out and "Queue tests run" not in out
    assert "REALLY RAN" not in done.stderr
    assert out.rstrip().endswith("would run: make test")


def test_ci_fails_when_a_service_cannot_be_started(tmp_path: Path) -> None:
    done = _dry_run(tmp_path, ports_down=True, ci=True)
    assert done.returncode == 1
    assert "could not be started" in done.stderr and "CI needs it" in done.stderr


def test_up_services_are_exported_and_not_restarted(tmp_path: Path) -> None:
    if not shutil.which("redis-server"):
        pytest.skip("no local Redis")
    done = _dry_run(tmp_path, ports_down=False, ci=False)
    if "Queue tests run on Redis" not in done.stdout:
        pytest.skip("Redis is not up on 127.0.0.1:6379 here")
    assert "Queue tests run on Redis (redis://127.0.0.1:6379/0)" in done.stdout
    assert "would run: redis-server" not in done.stdout
    if "Queue tests run on RabbitMQ" in done.stdout:
        assert "(amqp://guest:guest@127.0.0.1:5672//)" in done.stdout
        assert "would run: rabbitmq-server" not in done.stdout
