"""Deployment models: the team's own models, stacked on the shipped base models.

A deployment model is a `LinearModel` like a shipped one, trained on the team's review
corrections (`monitor train`), whose features are the shipped model's features plus the
shipped model's probabilities (`base:<family>:<class>`, see `base_features`). It decides a
family in place of the shipped model, for one brand (its scope) or for the whole deployment
(scope ""), and only over the base it was trained on: `base` in its file is that base's
digest, and a model whose base is not the one installed (a release shipped new models) is
not applied, because its weights read probabilities that base no longer gives.

`DeploymentModels` is what an Analyzer is given: small, immutable and picklable (the models'
file texts, not their weight matrices), so the pipeline can hand it to its worker processes
with every batch; each process parses a text once (cached by the text itself). `version`
names the set (the newest adopted model's row id), so a worker knows when to rebuild.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

from classifiers.learned.features import N_FEATURES, column
from classifiers.learned.model import LinearModel

#: The scope of a model trained on every brand's labels.
DEPLOYMENT_SCOPE = ""


def base_names(model: LinearModel) -> list[str]:
    """The feature names a base model's probabilities take in a stacked row."""
    return [f"base:{model.family}:{c}" for c in model.classes]


def base_features(rows: sparse.csr_matrix, base: Mapping[str, LinearModel],
                  probabilities: Mapping[str, np.ndarray] | None = None) -> sparse.csr_matrix:
    """`rows` with each base model's probabilities added as features (how a deployment model
    reads a post); `probabilities` (family → rows × classes) saves computing them again."""
    added = []
    for family, model in sorted(base.items()):
        probs = probabilities[family] if probabilities and family in probabilities else (
            model.probabilities(rows))
        cols = np.asarray([column(n) for n in base_names(model)], dtype=np.int64)
        n, k = probs.shape
        added.append(sparse.csr_matrix(
            (np.asarray(probs, dtype=np.float32).ravel(),
             (np.repeat(np.arange(n, dtype=np.int64), k), np.tile(cols, n))),
            shape=(n, N_FEATURES)))
    return sum(added, rows).tocsr()  # type: ignore[no-any-return]


@lru_cache(maxsize=32)
def parse(text: str) -> LinearModel:
    """A model from its file text, parsed once per process."""
    return LinearModel.from_json(text, "deployment model")


@dataclass(frozen=True)
class DeploymentModels:
    """The adopted deployment models: (scope, family, file text) each, and the set's version."""

    version: int
    files: tuple[tuple[str, str, str], ...] = ()

    def model_for(self, brand: str | None, family: str, base: LinearModel) -> LinearModel | None:
        """The model deciding `family` for `brand`: the brand's own, else the deployment's,
        when it stacks on `base`; None leaves the decision to the base."""
        found = {scope: text for scope, fam, text in self.files if fam == family}
        for scope in ((brand,) if brand else ()) + (DEPLOYMENT_SCOPE,):
            text = found.get(scope)  # type: ignore[arg-type]
            if text is not None and (model := parse(text)).base == base.digest:
                return model
        return None

    @property
    def scopes(self) -> Sequence[tuple[str, str]]:
        return [(scope, family) for scope, family, _ in self.files]
