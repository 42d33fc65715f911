"""The process-level benchmark stays runnable: a tiny run of whole `monitor fetch` processes
fetches every feed the first time and gets 304 for every one the second time (its own checks
raise SystemExit otherwise), and reports its ratios against the feedparser process."""

from __future__ import annotations

import pytest

from benchmarks import process_bench


def test_tiny_process_run_reports_ratios() -> None:
    result = process_bench.run(feeds=3, items=2, repeats=1)
    assert result["items"] == 6
    assert result["cold_ratio"] > 0 and result["repoll_ratio"] > 0
    # (cold / baseline) * baseline is not always cold to the last bit: compare as floats.
    assert result["cold_process_s"] == pytest.approx(
        result["cold_ratio"] * result["feedparser_process_s"]
    )
