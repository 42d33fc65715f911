"""The web benchmark stays runnable: a small database, every page measured against bare SQL
(whose rows the benchmark checks equal to inbox_page's), and the export's memory reported;
on SQLite always, and on PostgreSQL when VIGIA_TEST_DATABASE_URL is set."""

from __future__ import annotations

from pathlib import Path

from benchmarks import web_bench


def test_small_web_bench_reports_ratios(tmp_path: Path, database_url: str) -> None:
    on_postgres = not database_url.startswith("sqlite")
    result = web_bench.run(mentions=2_000, repeats=3, folder=tmp_path,
                           database_url=database_url if on_postgres else None)
    assert result["mentions"] == 2_000
    assert result["database"] == ("postgresql" if on_postgres else "sqlite")
    assert set(result["pages"]) == {
        "first page", "brand+negative+new", "search 'fibra OR router'",
        "search 'ref4242' (rare)", "deep page (keyset)",
    }
    for name, page in result["pages"].items():
        # a rare word has a few matches in a million (likely none in 2,000): not a full page
        assert page["rows"] == web_bench.PAGE or name.endswith("(rare)")
        assert page["ratio"] > 0 and page["inbox_p95_s"] > 0 and page["bare_p95_s"] > 0
    export = result["export"]
    assert export["rows"] == result["export_bare"]["rows"] > 1_500
    assert export["ratio"] > 0 and export["peak_growth_mb"] >= 0
