"""`monitor status` stays quick to start: its import path (queue.status -> scheduler -> jobs
-> alerts -> reports -> classifiers.masking) must not load spaCy, which only classifying
needs (~1 s of every status call, and the queue tests make many). Masking reuses the leak
detectors' regexes and validators, none of which need spaCy (`classifiers.hints`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("spacy", "thinc")


@pytest.mark.parametrize("modules", [
    "monitor.cli.queue, monitor.app.queue.status",  # the status command's path
    "classifiers.masking",  # what every email path imports on the way
])
def test_the_status_command_path_does_not_import_spacy(modules: str) -> None:
    probe = f"import sys, {modules}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
