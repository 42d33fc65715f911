"""The classification benchmark runs end to end (on a few posts: timings are not checked)."""

from __future__ import annotations

import pytest

from benchmarks import classify_bench
from classifiers.nlp import COMPONENTS


def test_the_benchmark_reports_a_ratio_and_every_component(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(classify_bench, "DOCS", 40)
    result = classify_bench.run(repeats=1)
    assert 0 < result["docs"] <= 40
    # Classifying tokenises too, so it cannot outrun the tokenizer alone.
    assert 0 < result["classify_docs_per_s"] < result["tokenizer_docs_per_s"]
    printed = capsys.readouterr().out
    assert "ratio" in printed
    for name, _ in COMPONENTS:
        assert name in printed
