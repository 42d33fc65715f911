"""Which words explain a learned decision: the evidence of the tags the learned layer writes.

A token's weight toward a class is its word's margin for the class (how much the column's
weight favours it over the other classes, `LinearModel.margins`), plus half the margin of the
pair it starts with the next spoken word, plus half the margin of the pair it ends, added in
that order (whitespace has no weight and does not break a pair). The evidence is the
`limit` tokens of highest positive weight that are not fillers (`Featurizer.fillers`), the
earlier one on a tie, in text order.

Speed: the layer asks once per batch, for every decision any model changed, and the answer
is computed in whole-array steps over all those posts together: per post, numpy's fixed cost
per call outweighed the work on a post's few dozen tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from classifiers.learned.features import pair_columns
from classifiers.learned.model import LinearModel


def strongest_tokens(columns: Sequence[Sequence[int]], fillers: Sequence[Sequence[bool]],
                     wanted: Sequence[tuple[LinearModel, int]], limit: int) -> list[list[int]]:
    """For each post i (its tokens' word columns, negative for whitespace, and whether each
    token is a filler), the indices of its tokens that weigh most toward class wanted[i][1] of
    model wanted[i][0], at most `limit`, in text order."""
    n = len(columns)
    lengths = np.fromiter(map(len, columns), dtype=np.int64, count=n)
    total = int(lengths.sum())
    flat = np.fromiter(chain.from_iterable(columns), dtype=np.int64, count=total)
    filler = np.fromiter(chain.from_iterable(fillers), dtype=bool, count=total)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    local = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    spoken = flat >= 0
    words, owner, filler, local = flat[spoken], owner[spoken], filler[spoken], local[spoken]
    weights = _weights(words, owner, wanted)
    chosen = np.flatnonzero((weights > 0) & ~filler)
    found: list[list[int]] = [[] for _ in range(n)]
    if not chosen.size:
        return found
    # Each post's candidates, heaviest first (a stable sort: the earlier token on a tie).
    chosen = chosen[np.lexsort((-weights[chosen], owner[chosen]))]
    posts = owner[chosen]
    starts = np.flatnonzero(np.concatenate([[True], posts[1:] != posts[:-1]]))
    rank = np.arange(len(chosen)) - np.repeat(starts, np.diff(np.append(starts, len(chosen))))
    kept = np.sort(chosen[rank < limit])
    for post, token in zip(owner[kept].tolist(), local[kept].tolist(), strict=True):
        found[post].append(token)
    return found


def _weights(words: np.ndarray, owner: np.ndarray,
             wanted: Sequence[tuple[LinearModel, int]]) -> np.ndarray:
    """Each spoken token's weight (see the module's docstring), `owner` its post."""
    labels = np.array([label for _, label in wanted], dtype=np.int64)[owner]
    pairs = pair_columns(words[:-1], words[1:])
    same = owner[1:] == owner[:-1]
    models = {id(model): model for model, _ in wanted}
    if len(models) == 1:
        (model,) = models.values()
        weights = model.margins(words, labels)
        halves = np.where(same, 0.5 * model.margins(pairs, labels[:-1]), 0.0)
    else:
        weights = np.zeros(len(words), dtype=np.float64)
        halves = np.zeros(len(pairs), dtype=np.float64)
        number = {key: n for n, key in enumerate(models)}
        group = np.array([number[id(model)] for model, _ in wanted], dtype=np.int64)[owner]
        for key, model in models.items():
            mine = group == number[key]
            weights[mine] = model.margins(words[mine], labels[mine])
            mine = mine[:-1] & same
            halves[mine] = 0.5 * model.margins(pairs[mine], labels[:-1][mine])
    weights[:-1] += halves
    weights[1:] += halves
    return weights
