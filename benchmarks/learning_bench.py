"""Learning curve: macro-F1 on held-out posts after training on 50 … 800 reviewed examples.

What a deployment gains from its team's reviews: the model (the rules' signals plus hashed
words, `classifiers.learning`) is trained on the first N examples of a fixed shuffle and
scored on held-out posts of the same distribution, against the rules alone in the same run.

Data: the team's training set (classifiers/training/). With `--brand B`, the "deployment" is
brand B: a base model is trained on the other brands' posts, the deployment model on N of
B's posts over that base (its probabilities are features), and both are scored on B's
held-out posts. Without it (the default, as no brand has 800 posts), the posts of every
brand are pooled, a quarter is held out, and the model learns from N of the rest.
Sizes the data cannot fill are reported as such.

    python -m benchmarks.learning_bench [--family sentiment|complaint|employee] [--brand B]
"""

from __future__ import annotations

import argparse
import random

from classifiers.learning import (
    Prepared,
    decisions,
    fit,
    fold_of,
    prepare,
    quality,
    read_team_set,
    rules_decision,
    with_base,
)

SIZES = (50, 100, 200, 400, 800)
SEED = 0


def labelled(items: list[Prepared], family: str) -> list[Prepared]:
    return [i for i in items if i.example.labels.get(family) is not None]


def curve(family: str, brand: str | None) -> None:
    brands, examples = read_team_set()
    items = labelled(prepare(examples, brands), family)
    if brand is None:
        test = [i for i in items if fold_of(i.example) == 0]  # a fifth, by id
        pool = [i for i in items if fold_of(i.example) != 0]
        label = "pooled brands"
    else:
        others = [i for i in items if i.example.brand != brand]
        own = [i for i in items if i.example.brand == brand]
        if not own:
            raise SystemExit(f"--brand {brand!r}: no posts; brands: "
                             + ", ".join(sorted({b.name for b in brands})))
        base = {family: fit(others, family, c=1.0, seed=SEED)}
        own = with_base(own, base)
        test = [i for i in own if fold_of(i.example) == 0]
        pool = [i for i in own if fold_of(i.example) != 0]
        label = f"brand {brand}, over a base trained on the other brands"
    random.Random(SEED).shuffle(pool)
    gold = [i.example.labels[family] for i in test]
    rules = quality(family, gold, [rules_decision(i, family) for i in test])
    print(f"{family} learning curve ({label}): {len(test)} held-out posts, "
          f"{len(pool)} to learn from")
    print(f"  rules alone                      {rules:.3f}")
    if brand is not None:
        based = quality(family, gold, decisions(base[family], test))
        print(f"  base model alone                 {based:.3f}   ({based - rules:+.3f})")
    for size in SIZES:
        if size > len(pool):
            print(f"  {size:4d} examples                   (only {len(pool)} to learn from)")
            continue
        train = pool[:size]
        if len({i.example.labels[family] for i in train}) < 2:
            print(f"  {size:4d} examples                   (one label only)")
            continue
        model = fit(train, family, c=1.0, seed=SEED)
        score = quality(family, gold, decisions(model, test))
        print(f"  {size:4d} examples, model            {score:.3f}   ({score - rules:+.3f} "
              f"vs rules, ratio {score / rules if rules else float('inf'):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default=None, choices=("sentiment", "complaint",
                                                           "employee"))
    parser.add_argument("--brand", default=None)
    args = parser.parse_args()
    for family in [args.family] if args.family else ["sentiment", "complaint", "employee"]:
        curve(family, args.brand)


if __name__ == "__main__":
    main()
