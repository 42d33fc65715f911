"""`monitor status` stays quick to start: its import path (queue.status -> scheduler -> jobs
-> alerts -> reports) must not load spaCy, which only classifying and masking need (~1 s of
every status call, and the queue tests make many)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = (
    "import sys, monitor.cli.queue, monitor.app.queue.status\n"
    "print(sorted(m for m in ('spacy', 'thinc', 'classifiers.masking') if m in sys.modules))\n"
)


def test_the_status_command_path_does_not_import_spacy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
