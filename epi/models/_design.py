"""Design-matrix handling shared by the regression models: splines, strata, centring."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from epi.exceptions import ModelError, StatisticalWarning

from ._core import stratum_labels
from ._splines import harrell_knots, rcs_basis, rcs_names

__all__ = ["Design", "check_spline_params", "check_strata_param", "nonconstant_terms"]


def nonconstant_terms(Z: np.ndarray, names: list[str], what: str) -> np.ndarray:
    """Mask of the model terms that vary in the training data.

    Constant terms (e.g. a rare indicator absent from a bootstrap resample)
    cannot be estimated; they get coefficient 0 with a `StatisticalWarning`
    naming them, as R's ``coxph`` reports ``NA`` and carries on.

    Raises
    ------
    ModelError
        When no term varies.
    """
    spread = Z.max(axis=0) - Z.min(axis=0)
    keep = spread > 1e-12 * np.maximum(1.0, np.abs(Z).max(axis=0))
    if not keep.any():
        raise ModelError(f"{what}: every covariate is constant in the training data.")
    if not keep.all():
        dropped = [n for n, k in zip(names, keep, strict=True) if not k]
        warnings.warn(
            f"{what}: {len(dropped)} term(s) constant in the training data get coefficient 0: "
            f"{', '.join(dropped[:10])}. Drop them from the design if this is not a resample.",
            StatisticalWarning,
            stacklevel=3,
        )
    return keep


def check_spline_params(splines: Mapping[str, int] | None) -> dict[str, int]:
    """Validate ``{column: number_of_knots}`` (3 … 7 knots) and return a plain dict."""
    if splines is None:
        return {}
    if not isinstance(splines, Mapping):
        raise ModelError(
            f"splines must map column names to numbers of knots (e.g. {{'demo__age': 4}}), "
            f"got {type(splines).__name__}."
        )
    out: dict[str, int] = {}
    for name, k in splines.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 3 <= int(k) <= 7:
            raise ModelError(
                f"splines.{name}: number of knots must be an integer from 3 to 7 "
                f"(Harrell's default placements), got {k!r}."
            )
        out[str(name)] = int(k)
    return out


def check_strata_param(strata: Sequence[str] | None) -> list[str]:
    """Validate a list of stratification column names."""
    if strata is None:
        return []
    if isinstance(strata, str):
        return [strata]
    return [str(s) for s in strata]


class Design:
    """Learns spline knots and strata levels from training data, then builds model matrices.

    Parameters
    ----------
    splines : dict
        ``{column: k}``: replace the column by a restricted cubic spline with
        ``k`` knots at Harrell's default quantiles of the *training* values.
    strata : list of str
        Columns whose value combinations define strata (removed from the
        covariates).
    """

    def __init__(self, splines: dict[str, int], strata: list[str]) -> None:
        self.splines = splines
        self.strata = strata

    def fit(self, X: pd.DataFrame) -> Design:
        """Learn input columns, knots, term names and stratum labels from ``X``."""
        cols = list(X.columns)
        unknown = [c for c in (*self.splines, *self.strata) if c not in cols]
        if unknown:
            raise ModelError(
                f"spline/strata column(s) {unknown} are not in X; X has {len(cols)} "
                f"columns, first: {cols[:8]}."
            )
        both = sorted(set(self.splines) & set(self.strata))
        if both:
            raise ModelError(f"column(s) {both} are given both as splines and as strata.")
        self.input_columns_ = [c for c in cols if c not in self.strata]
        self.knots_: dict[str, np.ndarray] = {}
        for name, k in self.splines.items():
            try:
                self.knots_[name] = harrell_knots(X[name].to_numpy(dtype=float), k)
            except ValueError as exc:
                raise ModelError(f"splines.{name}: {exc}.") from None
        terms: list[str] = []
        for c in self.input_columns_:
            if c in self.knots_:
                terms.extend(rcs_names(c, self.knots_[c].size))
            else:
                terms.append(c)
        self.terms_ = terms
        if not terms:
            raise ModelError("X has no covariate columns left after removing the strata.")
        self.strata_levels_ = sorted(set(self.stratum_labels(X))) if self.strata else ["all"]
        return self

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Model matrix (terms in ``terms_`` order) for ``X``."""
        blocks = []
        for c in self.input_columns_:
            x = X[c].to_numpy(dtype=float)
            if c in self.knots_:
                blocks.append(rcs_basis(x, self.knots_[c]))
            else:
                blocks.append(x[:, None])
        return np.hstack(blocks)

    def stratum_labels(self, X: pd.DataFrame) -> np.ndarray:
        """One label per row, e.g. ``"sex=1"`` or ``"sex=1,region=2"``; ``"all"`` without strata."""
        return stratum_labels(self.strata, [X[s].to_numpy() for s in self.strata], len(X))

    def check_strata_known(self, labels: np.ndarray) -> None:
        """Raise `ModelError` when rows fall in strata not seen in training."""
        unseen = sorted(set(labels) - set(self.strata_levels_))
        if unseen:
            raise ModelError(
                f"X has {len(unseen)} stratum value(s) not seen in training: {unseen[:5]}; "
                f"the model knows {self.strata_levels_[:10]}."
            )

    def spec(self) -> dict:
        """JSON-ready description: input columns, spline knots and basis, strata."""
        return {
            "input_columns": list(self.input_columns_),
            "terms": list(self.terms_),
            "splines": {
                name: {
                    "knots": [float(v) for v in kn],
                    "basis": "rcs_harrell_norm2",
                    "terms": rcs_names(name, kn.size),
                }
                for name, kn in self.knots_.items()
            },
            "strata": list(self.strata),
        }
