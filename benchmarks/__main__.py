"""`make bench`: run every benchmark; each prints ratios against its in-run baseline."""

from benchmarks import pipeline_bench

if __name__ == "__main__":
    pipeline_bench.run()
