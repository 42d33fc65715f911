"""Learning curve: macro-F1 on held-out posts after training on 50 … 800 reviewed examples.

What a deployment gains from its team's reviews: the model (the rules' signals plus hashed
words, `classifiers.learning`) is trained on the first N examples of a fixed shuffle and
scored on held-out posts of the same distribution, against the rules alone in the same run.

Data, by default: one deployment's reviews (`benchmarks/deployment/`: 960 posts about one
brand, written blind, that the shipped models never saw; `--deployment DIR` names another
folder of the same shape). The shipped models are the base, as in a new deployment; a
fixed 15 % of the posts (by id) is held out, and for each N a deployment model is trained on
the first N of the rest as `monitor train` trains one (over the base's probabilities,
its setting chosen by cross-validation on those N), then scored against the rules alone and
the base layer, in the same run.

`--team` uses the team's training set (classifiers/training/) instead, which the shipped
models were trained on: its posts of every brand are pooled, a fifth is held out and a
plain model learns from N of the rest; with `--brand B`, B plays the deployment over a base
trained on the other brands. Sizes the data cannot fill are reported as such.

    python -m benchmarks.learning_bench [--family sentiment|complaint|employee]
        [--deployment DIR | --team [--brand B]]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path

from classifiers.deployment_training import SOURCE, is_held_out
from classifiers.learned.component import load_models
from classifiers.learning import (
    Prepared,
    decisions,
    fit,
    fold_of,
    prepare,
    quality,
    read_team_set,
    rules_decision,
    train,
    with_base,
)

SIZES = (50, 100, 200, 400, 800)
SEED = 0
DEPLOYMENT_DIR = Path(__file__).resolve().parent / "deployment"
#: A fixed 15 % of a deployment's posts, by id (`monitor train`'s split, at 15 %), judge.
HELD_OUT_PERCENT = 15


def deployment_curve(family: str, directory: Path) -> None:
    """The curve of one deployment over the shipped base (see module doc)."""
    brands, examples = read_team_set(directory)
    base = load_models()[family]  # what a new deployment starts from
    items = labelled(prepare([replace(e, source=SOURCE) for e in examples], brands), family)
    items = with_base(items, {family: base})
    test = [i for i in items if is_held_out(i.example.id, HELD_OUT_PERCENT)]
    pool = [i for i in items if not is_held_out(i.example.id, HELD_OUT_PERCENT)]
    random.Random(SEED).shuffle(pool)
    gold = [i.example.labels[family] for i in test]
    rules = quality(family, gold, [rules_decision(i, family) for i in test])
    shipped = quality(family, gold, decisions(base, test))
    names = ", ".join(sorted({str(e.brand) for e in examples}))
    print(f"{family} learning curve ({directory.name}: {names}, over the shipped base): "
          f"{len(test)} held-out posts, {len(pool)} to learn from")
    print(f"  rules alone                      {rules:.3f}")
    print(f"  shipped layer (base)             {shipped:.3f}   ({shipped - rules:+.3f})")
    for size in SIZES:
        if size > len(pool):
            print(f"  {size:4d} examples                   (only {len(pool)} to learn from)")
            continue
        model = train(pool[:size], family, seed=SEED, base=base.digest, held=SOURCE,
                      any_setting=True)
        score = quality(family, gold, decisions(model, test))
        print(f"  {size:4d} examples, model            {score:.3f}   ({score - rules:+.3f} "
              f"vs rules, {score - shipped:+.3f} vs base; {model.combine})")


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
    parser.add_argument("--deployment", type=Path, default=DEPLOYMENT_DIR,
                        help="a folder with posts.jsonl and brands.toml of one brand")
    parser.add_argument("--team", action="store_true",
                        help="the team's training set instead (see --brand)")
    parser.add_argument("--brand", default=None, help="with --team: the brand deployed")
    args = parser.parse_args()
    if args.brand and not args.team:
        parser.error("--brand goes with --team")
    for family in [args.family] if args.family else ["sentiment", "complaint", "employee"]:
        if args.team:
            curve(family, args.brand)
        else:
            deployment_curve(family, args.deployment)


if __name__ == "__main__":
    main()
