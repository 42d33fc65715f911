"""The embedded process pool and the lazy imports around it.

A re-poll that finds nothing new must cost its requests and little more: no spaCy, lingua,
matplotlib or Alembic in the process. A run with enough work parses and classifies in worker
processes and stores exactly what an in-process run stores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.app import workers
from monitor.app.pipeline import Pipeline
from monitor.core.queries import find_mentions, mention_as_dict
from monitor.core.settings import Settings
from monitor.core.storage import Database, open_database
from tests.pipeline_support import ITEMS, feed_file, make_pipeline

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("spacy", "thinc", "lingua", "matplotlib", "alembic", "mako", "pydantic_settings")
# Connectors of kinds the settings do not use are not imported either.
UNUSED_CONNECTORS = ("connectors.bluesky", "connectors.mastodon", "connectors.reddit")
# Runs `monitor ARGS...` in this interpreter, then prints the top-level modules it imported.
PROBE = (
    "import json, runpy, sys\n"
    "sys.argv = ['monitor', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('monitor', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "loaded = sorted(sys.modules)\n"
    "print('IMPORTED=' + json.dumps({'code': code, 'modules': loaded}))\n"
)


def monitor_probe(settings: Path, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--settings", str(settings), *args],
        capture_output=True, text=True, timeout=300, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("IMPORTED=")), None)
    assert line, (done.stdout, done.stderr)
    found = json.loads(line.removeprefix("IMPORTED="))
    heavy = {
        module.split(".")[0] if module.split(".")[0] in HEAVY else module
        for module in found["modules"]
        if module.split(".")[0] in HEAVY or module in UNUSED_CONNECTORS
    }
    return {"code": found["code"], "heavy": sorted(heavy)}


def test_a_repoll_that_finds_nothing_new_imports_no_models(tmp_path: Path) -> None:
    feed_file(tmp_path, "feed.xml", ITEMS)
    settings = tmp_path / "settings.toml"
    settings.write_text(
        '[storage]\nurl = "sqlite:///vigia.db"\n'
        '[fetch]\nbackfill = "all"\n'  # the recorded items are older than the default horizon
        '[[brands]]\nname = "Calderix"\nquery = "Calderix"\n'
        '[[sources]]\nname = "news"\nkind = "rss"\nurl = "feed.xml"\n',
        encoding="utf-8",
    )
    first = monitor_probe(settings, "fetch")
    assert first["code"] in (0, None)
    assert "spacy" in first["heavy"]  # the probe sees imports: new mentions were classified
    again = monitor_probe(settings, "fetch")
    assert again == {"code": again["code"], "heavy": []}, again
    assert again["code"] in (0, None)


@pytest.fixture
def two_pipelines(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> Callable[[int], tuple[Pipeline, Database]]:
    def build(pool_workers: int) -> tuple[Pipeline, Database]:
        folder = tmp_path / f"w{pool_workers}"
        folder.mkdir()
        settings = make_settings(
            f"sqlite:///{folder}/vigia.db",
            pipeline={"workers": pool_workers},
            sources=[{"kind": "rss", "name": f"feed {i}", "url": feed_file(tmp_path, f"f{i}.xml",
                      [(f"{g}-{i}", f"{t} ({i})", d) for g, t, d in ITEMS])} for i in range(3)],
        )
        db = open_database(settings.database_url)
        return make_pipeline(settings, db), db

    return build


def stored(db: Database) -> list[dict[str, object]]:
    with db.reading() as session:
        rows = [mention_as_dict(m) for m in find_mentions(session, brand=None, brands=["Calderix"])]
    return sorted(
        ({k: v for k, v in row.items() if k in ("url", "title", "brands", "tags")} for row in rows),
        key=lambda row: str(row["url"]),
    )


def test_a_run_with_enough_work_uses_the_pool_and_stores_the_same(
    two_pipelines: Callable[[int], tuple[Pipeline, Database]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "POOL_MIN_BYTES", 1)  # three small feeds count as enough
    in_process, db_alone = two_pipelines(1)
    pooled, db_pooled = two_pipelines(2)
    try:
        alone = in_process.run_sources()
        assert not in_process.pool.started
        runs = pooled.run_sources()
        assert pooled.pool.started
        assert pooled._analyzer is None  # classified in the workers, not here
        assert [r.new_mentions for r in runs] == [r.new_mentions for r in alone] == [2, 2, 2]
        assert stored(db_pooled) == stored(db_alone)
        assert stored(db_alone) and all(row["tags"] for row in stored(db_alone))
    finally:
        in_process.close()
        pooled.close()
    assert not pooled.pool.started


def test_a_small_run_stays_in_process(
    two_pipelines: Callable[[int], tuple[Pipeline, Database]]
) -> None:
    pipeline, _db = two_pipelines(4)
    try:
        assert [r.new_mentions for r in pipeline.run_sources()] == [2, 2, 2]
        assert not pipeline.pool.started
    finally:
        pipeline.close()


def test_a_broken_pool_falls_back_to_in_process(
    two_pipelines: Callable[[int], tuple[Pipeline, Database]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "POOL_MIN_BYTES", 1)
    pipeline, _db = two_pipelines(2)
    try:
        pool = pipeline.pool._pool_for(1, 0)
        assert pool is not None
        assert pool.submit(os.getpid).result() != os.getpid()
        for process in list(pool._processes.values()):
            process.kill()
        runs = pipeline.run_sources()
        assert [r.error for r in runs] == [None, None, None]
        assert [r.new_mentions for r in runs] == [2, 2, 2]
        assert not pipeline.pool.enabled
    finally:
        pipeline.close()
