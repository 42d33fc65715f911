"""`make bench`: run every benchmark; each prints ratios against its in-run baseline."""

from benchmarks import (
    alerts_bench,
    classify_bench,
    pipeline_bench,
    process_bench,
    render_bench,
    scale_bench,
    sources_bench,
    trickle_bench,
    web_bench,
)

if __name__ == "__main__":
    # Worst case: brand-search feeds, where every item is a mention to classify and store.
    pipeline_bench.run(brand_share=1.0)
    # General news feeds, where one item in five mentions the brand.
    pipeline_bench.run(brand_share=0.2)
    # The same cold pass and re-poll as whole `monitor fetch` processes, as a user runs them.
    process_bench.run()
    # Classification alone: every component on, against spaCy's bare tokenizer.
    classify_bench.run()
    # 500 sources of every feed-based kind, one pass, then all unchanged (304).
    sources_bench.run()
    # A digest of 1,000 mentions and a weekly report over 100,000, against a plain query.
    render_bench.run()
    # Alert rules after a run of 200 new mentions over 100,000 of history, against a plain query.
    alerts_bench.run()
    # A monitor fetch pass where one source trickles its body: one deadline, not one per retry.
    trickle_bench.run()
    # Scaling: the embedded pool against one process (CPU-bound), 1,000 slow sources with
    # 1-8 fetching threads (I/O-bound), queue workers (issue 11), and a 100,000-source projection.
    scale_bench.run()
    # The web inbox over 1,000,000 mentions: pages and a CSV export, against bare SQL.
    web_bench.run()
