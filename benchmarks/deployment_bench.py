"""What `monitor train` gains on brands the base never saw, and what its gate decides.

The shipped base models were trained on the whole team set, so on those posts their
probabilities are in-sample. Here a base is trained on the posts of half the team set's
brands (as `make models` trains, shipped settings), and the other half play the deployment:
its held-out part (fixed by id, as `monitor train` splits) judges, and N of its other posts
are the team's corrections. For each N, per family: held-out macro-F1 of the base layer and
of the candidate, and whether the gate adopts it — figures measured in the same run.

    python -m benchmarks.deployment_bench [--sizes 60,100,200,400]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace

from classifiers.deployment_training import SOURCE, is_held_out, train_candidates
from classifiers.learned.component import FAMILIES
from classifiers.learning import prepare, read_team_set, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,100,200,400")
    args = parser.parse_args()
    brands, team = read_team_set()
    names = sorted(b.name for b in brands)
    base_brands = set(names[::2])
    base_items = prepare([e for e in team if e.brand in base_brands], brands)
    base = {f: train(base_items, f) for f in FAMILIES}
    ours = [replace(e, source=SOURCE) for e in team if e.brand not in base_brands]
    held = [e for e in ours if is_held_out(e.id)]
    rest = [e for e in ours if not is_held_out(e.id)]
    random.Random(0).shuffle(rest)
    print(f"base: {len(base_items)} posts of {sorted(base_brands)}; deployment: "
          f"{len(ours)} posts ({len(held)} held out)")
    for size in [int(s) for s in args.sizes.split(",")]:
        if size > len(rest):
            print(f"{size}: more than the {len(rest)} training posts available")
            continue
        for r in train_candidates(held + rest[:size], brands, base, {}, min_labels=0):
            shown = "–" if r.candidate is None else f"{r.candidate:.3f}"
            print(f"{size:4d} labels  {r.family:9s} base {r.current or 0:.3f} → candidate "
                  f"{shown}  {'adopted' if r.adopted else 'kept: ' + r.reason}")


if __name__ == "__main__":
    main()
