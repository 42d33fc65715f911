"""Each worker process's settings, database and pipeline, built on its first task.

A prefork worker forks its children from one parent; an engine or an HTTP client made
before the fork would share sockets between processes. So nothing is built until a task
runs in its own process, and `worker_process_init` (every new child) drops whatever a
parent may have built. The settings file is the one the worker was started with
(`$VIGIA_SETTINGS`, set by `monitor worker`); a task finding it changed on disk (its
modification time) rebuilds the context, so an edited settings file is picked up without
a restart.

The pipeline runs everything in-process (`[pipeline] workers` = 1 here): the worker's own
processes already use every core, and a pool of pools would only compete for them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from monitor.app.configuration import load_settings
from monitor.app.pipeline import Pipeline
from monitor.core.settings import PipelineSettings, Settings
from monitor.core.settings_file import settings_path
from monitor.core.storage import Database, open_database

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    pipeline: Pipeline
    stamp: tuple[str, int, int]

    def close(self) -> None:
        self.pipeline.close()
        self.db.dispose()


_current: WorkerContext | None = None
_lock = threading.Lock()


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


def _build(path: Path) -> WorkerContext:
    stamp = _stamp(path)
    settings = load_settings(path)
    single = settings.model_copy(update={"pipeline": PipelineSettings(workers=1)})
    db = open_database(settings.database_url)
    return WorkerContext(single, db, Pipeline(single, db), stamp)


def worker_context() -> WorkerContext:
    """This process's context, (re)built when missing or when the settings file changed."""
    global _current
    path = settings_path()
    with _lock:
        if _current is None or _current.stamp != _stamp(path):
            if _current is not None:
                log.info("settings file %s changed: reloading", path)
                _current.close()
            _current = _build(path)
        return _current


def forget_inherited() -> None:
    """In a freshly forked child: drop what the parent built, without closing the parent's
    connections (SQLAlchemy's `dispose(close=False)`)."""
    global _current
    if _current is not None:
        _current.db.engine.dispose(close=False)
    _current = None
