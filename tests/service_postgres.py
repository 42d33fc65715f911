"""A private PostgreSQL cluster for tests that restart or crash the database
(tests/service_instances.py).

`initdb` makes a fresh cluster (trust authentication, one `vigia` database) in a folder of
its own under the system temporary directory: PostgreSQL refuses to run as root, so when the
tests run as root the cluster belongs to the `postgres` OS user, and pytest's own tmp_path
(mode 700, root's) is out of its reach. The server runs in the foreground (`postgres -D`, not
`pg_ctl start`, so that the instance holds its process group):

- `stop()` is a fast shutdown (SIGINT: clients are disconnected, a checkpoint is written);
- `kill()` is SIGKILL to the postmaster and every backend at once, a real crash: the next
  start replays the write-ahead log, and every committed transaction is there again.

`fsync = off`: a process crash leaves the kernel's page cache intact, so committed data
survives it without fsync; only a power loss, which no test here simulates, would need it.
Measured: initdb about 0.6 s, a start or a crash restart about 0.1 s.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.service_instances import ServiceInstance, require_binary

DATABASE = "vigia"


def _bin_dir() -> str:
    """The newest /usr/lib/postgresql/N/bin (Debian), else wherever `initdb` is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    initdb = found[-1] if found else require_binary(
        "initdb", "the database fault tests start their own PostgreSQL cluster")
    return str(Path(initdb).parent)


class PostgresInstance(ServiceInstance):
    start_timeout = 60.0
    stop_signal = signal.SIGINT  # "fast" shutdown

    def __init__(self, port: int | None = None) -> None:
        self.bin = _bin_dir()
        root = Path(tempfile.mkdtemp(prefix="vigia-pg-"))
        self.run_as = "postgres" if os.geteuid() == 0 else None
        if self.run_as:
            shutil.chown(root, self.run_as, self.run_as)
        super().__init__(root, port)
        self.data = root / "data"
        self._initdb()

    def _initdb(self) -> None:
        done = subprocess.run(
            [f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, text=True, user=self.run_as, cwd=self.root, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        self._database_made = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def command(self) -> list[str]:
        return [
            f"{self.bin}/postgres", "-D", str(self.data), "-p", str(self.port),
            "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "max_connections=100", "-c", "shared_buffers=32MB",
        ]

    def start(self) -> float:
        # The log is opened by us (root) but written by the server: let its owner have it.
        self.log_path.touch()
        if self.run_as:
            shutil.chown(self.log_path, self.run_as, self.run_as)
        seconds = super().start()
        if not self._database_made:
            self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
            self._database_made = True
        return seconds

    def answers(self) -> bool:
        done = subprocess.run(
            [f"{self.bin}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True, check=False,
        )
        return done.returncode == 0

    def psql(self, sql: str, database: str = DATABASE) -> str:
        """Run one statement with the cluster's own psql (no driver needed); its output."""
        done = subprocess.run(
            [f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {done.stderr}")
        return done.stdout

    def close(self) -> None:
        """Kill the server (if running) and delete the cluster's folder."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
