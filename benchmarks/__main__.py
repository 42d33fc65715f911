"""`make bench`: run every benchmark; each prints ratios against its in-run baseline."""

from benchmarks import pipeline_bench

if __name__ == "__main__":
    # Worst case: brand-search feeds, where every item is a mention to classify and store.
    pipeline_bench.run(brand_share=1.0)
    # General news feeds, where one item in five mentions the brand.
    pipeline_bench.run(brand_share=0.2)
