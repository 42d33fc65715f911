"""A linear model over hashed features: scoring, the words behind a decision, a plain file.

Why not pickle: loading a pickle runs code, and a pickle breaks across library versions. A
model file is JSON: the classes, the intercepts and, for each hashed column training met, its
weights, written with fixed float formatting and sorted keys, so that training twice on the
same data gives the same bytes (`make models` is checked to reproduce the shipped files).

`combine` says how the model's decision meets the rules' (measured when the model was built,
see `classifiers.learning`): "model" lets the model decide every post; "rules_where_sure"
keeps the rules' label when their score reaches `sure` and lets the model decide elsewhere.

`base` is the digest of the model whose probabilities a deployment model reads as features
(`base:<family>:<class>`): a per-deployment model is the same thing as a shipped one, trained
on the team's own labels over the shipped model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.learned.features import N_FEATURES

FORMAT = "vigia-linear/1"
#: Weights are written with this many significant digits (enough: they are regularised).
DIGITS = 6


class ModelFileError(ValueError):
    """A model file is not one this version can read; the message names the file."""


@dataclass(frozen=True, eq=False)
class LinearModel:
    """Multinomial (or, with one weight column, binary) logistic model on `N_FEATURES`.

    `classes` are the labels in score order; a binary model has classes (False, True) and
    one weight column, the logit of True.
    """

    family: str
    classes: tuple[Any, ...]
    weights: np.ndarray  # (N_FEATURES, k) float32, k = 1 for a binary model
    intercept: np.ndarray  # (k,) float64
    languages: tuple[str, ...]
    combine: str = "model"
    sure: float = 1.0
    base: str | None = None
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def binary(self) -> bool:
        return self.weights.shape[1] == 1

    # ------------------------------------------------------------------ scoring

    def probabilities(self, features: sparse.csr_matrix) -> np.ndarray:
        """(rows, len(classes)) class probabilities of a feature matrix (one row a post)."""
        logits = (features @ self.weights).astype(np.float64) + self.intercept
        if self.binary:
            true = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - true, true])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    @cached_property
    def _margins(self) -> tuple[np.ndarray, np.ndarray]:
        """(column → row of the table, 0 for a column the model does not use; the table:
        per row, per class, how much the column's weight favours the class over the others,
        a binary model's logit signed; row 0 all zeros), computed once, for `margins`."""
        used = np.flatnonzero(np.any(self.weights != 0, axis=1))
        rows = self.weights[used].astype(np.float64)
        table = np.zeros((len(used) + 1, len(self.classes)), dtype=np.float64)
        for label in range(len(self.classes)):
            if self.binary:
                table[1:, label] = rows[:, 0] * (1.0 if label == 1 else -1.0)
            else:
                others = [k for k in range(len(self.classes)) if k != label]
                table[1:, label] = rows[:, label] - rows[:, others].mean(axis=1)
        index = np.zeros(N_FEATURES, dtype=np.int32)
        index[used] = np.arange(1, len(used) + 1, dtype=np.int32)
        return index, table

    def margins(self, columns: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """How much the weight of each of `columns` favours class `labels[i]` over the other
        classes (a binary model: its logit, signed; 0.0 for a column the model does not
        use), as float64: what explains a decision (`classifiers.learned.explain`)."""
        index, table = self._margins
        return table[index[columns], labels]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ files

    def _written_rows(self) -> np.ndarray:
        """The weight rows a file keeps: those with a weight of at least 10^-DIGITS."""
        return np.flatnonzero(np.abs(self.weights).max(axis=1) >= 10.0**-DIGITS)

    def as_stored(self) -> LinearModel:
        """The model exactly as its file would give it back (`from_json(to_json())`), without
        the text: training scores every cross-validation fold with the weights it would
        write, and the round trip through JSON cost most of a fit."""
        used = self._written_rows()
        weights = np.zeros_like(self.weights)
        weights[used] = np.array([[_number(v) for v in row] for row in self.weights[used]
                                  .tolist()], dtype=self.weights.dtype).reshape(len(used), -1)
        return replace(
            self, classes=tuple(self.classes), weights=weights,
            intercept=np.asarray([_number(v) for v in self.intercept], dtype=np.float64),
            languages=tuple(self.languages), sure=float(self.sure),
            training=json.loads(json.dumps(self.training, sort_keys=True, ensure_ascii=False)),
        )

    def to_json(self) -> str:
        """The file's text: deterministic for the same weights (sorted, fixed formatting)."""
        used = self._written_rows()
        header = {
            "format": FORMAT, "family": self.family, "classes": list(self.classes),
            "languages": list(self.languages), "n_features": N_FEATURES,
            "combine": self.combine, "sure": self.sure, "base": self.base,
            "training": self.training, "intercept": [_number(v) for v in self.intercept],
        }
        lines = [json.dumps(header, sort_keys=True, ensure_ascii=False)]
        lines += [json.dumps([int(c), *(_number(v) for v in self.weights[c])])
                  for c in used.tolist()]
        return "\n".join(lines) + "\n"

    @cached_property
    def digest(self) -> str:
        """sha256 of the file's text: what a deployment model names as its base (computed
        once: the model never changes)."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """A model from its file; ModelFileError naming the file when it is not one."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{path}: cannot read the model file ({exc})") from None
        return cls.from_json(text, str(path))

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> LinearModel:
        """A model from a file's text (`to_json`); ModelFileError naming `where`."""
        path = where
        try:
            lines = text.splitlines()
            header = json.loads(lines[0])
            if header.get("format") != FORMAT or header.get("n_features") != N_FEATURES:
                raise ModelFileError(
                    f"{path}: format {header.get('format')!r} with "
                    f"{header.get('n_features')} features is not {FORMAT} with {N_FEATURES}"
                    " — rebuild it with `make models` (or `monitor train`)"
                )
            k = len(header["intercept"])
            weights = np.zeros((N_FEATURES, k), dtype=np.float32)
            for line in lines[1:]:
                col, *values = json.loads(line)
                weights[col] = values
            return cls(
                family=header["family"], classes=tuple(header["classes"]), weights=weights,
                intercept=np.asarray(header["intercept"], dtype=np.float64),
                languages=tuple(header["languages"]), combine=header["combine"],
                sure=float(header["sure"]), base=header["base"], training=header["training"],
            )
        except ModelFileError:
            raise
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ModelFileError(
                f"{path}: not a readable model file ({exc}) — rebuild it with `make models`"
            ) from None


def _number(value: float) -> float:
    """A float rounded to DIGITS significant digits (so its repr is short and stable)."""
    return float(f"{float(value):.{DIGITS}g}")
