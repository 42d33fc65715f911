"""The floors of DESIGN.md hold: imports point down, and no package's modules import in a circle.

The contracts live in pyproject.toml (`[tool.importlinter]`) so that `lint-imports` run by hand
and this test check the same thing. The probe test shows the cycle contract does catch a
cycle, so a green run means something.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

configure()  # import-linter's readers and printers, as its own command sets them up

REPO = Path(__file__).resolve().parents[1]


def test_the_project_keeps_its_floors_and_has_no_import_cycle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    kept = lint_imports(
        config_filename=str(REPO / "pyproject.toml"), cache_dir=None, no_logo=True
    )
    assert kept, "an import breaks the floors or closes a cycle: see the report above"


def test_the_cycle_contract_catches_a_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "floorprobe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text("def load():\n    from floorprobe import http\n")
    (package / "http.py").write_text("from floorprobe import settings\n")
    config = tmp_path / "probe.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["floorprobe"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "no cycles"\ntype = "acyclic_siblings"\n'
        'ancestors = ["floorprobe"]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("floorprobe", None)
    assert not lint_imports(config_filename=str(config), cache_dir=None, no_logo=True)
