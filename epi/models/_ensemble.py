"""Tree ensembles from scikit-survival, tuned by cross-validation inside the training data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold
from sksurv.ensemble import GradientBoostingSurvivalAnalysis, RandomSurvivalForest
from sksurv.metrics import as_integrated_brier_score_scorer
from sksurv.util import Surv

from epi.exceptions import ModelError

from ._base import check_horizon, check_outcome, check_X
from ._cox import check_fitted, warn_beyond_followup

__all__ = ["GradientBoostingSurvivalModel", "RandomSurvivalForestModel"]


class _SksurvModel:
    """Shared fit/predict: grid search over ``param_grid`` with k-fold CV on the training data."""

    kind = ""
    _estimator_cls: Any = None
    _default_grid: ClassVar[Mapping[str, Sequence[Any]]] = {}

    def __init__(
        self,
        param_grid: Mapping[str, Sequence[Any]] | None = None,
        cv: int = 3,
        scoring: str = "cindex",
        n_jobs: int | None = 1,
        random_state: int = 0,
        **params: Any,
    ) -> None:
        self.param_grid = param_grid
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.params = params

    def _grid(self) -> dict[str, list[Any]]:
        grid = self._default_grid if self.param_grid is None else self.param_grid
        if not isinstance(grid, Mapping):
            raise ModelError(f"{self.kind}.param_grid must map parameter names to lists of values.")
        allowed = set(self._estimator_cls().get_params())
        out: dict[str, list[Any]] = {}
        for name, values in grid.items():
            if name not in allowed:
                raise ModelError(
                    f"{self.kind}.param_grid: unknown parameter {name!r}; allowed: "
                    f"{sorted(allowed)}."
                )
            vals = list(values) if isinstance(values, (list, tuple)) else [values]
            if not vals:
                raise ModelError(f"{self.kind}.param_grid.{name} is empty.")
            out[name] = vals
        return out

    def _base_estimator(self) -> Any:
        allowed = set(self._estimator_cls().get_params())
        unknown = sorted(set(self.params) - allowed)
        if unknown:
            raise ModelError(
                f"{self.kind}: unknown parameter(s) {unknown}; allowed: {sorted(allowed)}."
            )
        params = dict(self.params)
        params["random_state"] = self.random_state
        if "n_jobs" in allowed:
            params["n_jobs"] = self.n_jobs
        return self._estimator_cls(**params)

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Tune on ``X``/``outcome`` by k-fold CV (``scoring``), refit the best; return ``self``.

        ``event == 2`` is censored. Tuning never sees data outside ``X``.
        """
        check_X(X)
        duration, event = check_outcome(outcome, X)
        if isinstance(self.cv, bool) or not isinstance(self.cv, int) or self.cv < 2:
            raise ModelError(f"{self.kind}.cv must be an integer >= 2, got {self.cv!r}.")
        grid = self._grid()
        y = Surv.from_arrays(event=event == 1, time=duration)
        Xv = X.to_numpy(dtype=float)
        est = self._base_estimator()
        n_combos = int(np.prod([len(v) for v in grid.values()])) if grid else 1
        if self.scoring not in ("cindex", "ibs"):
            raise ModelError(
                f"{self.kind}.scoring must be 'cindex' or 'ibs', got {self.scoring!r}."
            )
        if n_combos > 1:
            if self.scoring == "ibs":
                # integrated Brier score over the 10th-70th centiles of the training
                # event times (inside every fold's follow-up in practice)
                times = np.unique(np.quantile(duration[event == 1], np.linspace(0.1, 0.7, 7)))
                est = as_integrated_brier_score_scorer(est, times)
                grid = {f"estimator__{k}": v for k, v in grid.items()}
            search = GridSearchCV(
                est,
                grid,
                cv=KFold(self.cv, shuffle=True, random_state=self.random_state),
                n_jobs=self.n_jobs,
                refit=True,
                error_score="raise",
            )
            try:
                search.fit(Xv, y)
            except ValueError as exc:
                if self.scoring != "ibs":
                    raise
                raise ModelError(
                    f"{self.kind}: the integrated Brier score could not be computed in a "
                    f"CV fold ({exc}); use scoring='cindex' or fewer folds."
                ) from exc
            best = search.best_estimator_
            self.best_params_ = {
                k.removeprefix("estimator__"): v for k, v in search.best_params_.items()
            }
            self.cv_results_ = pd.DataFrame(search.cv_results_)
            self.estimator_ = best.estimator_ if self.scoring == "ibs" else best
        else:
            single = {k: v[0] for k, v in grid.items()}
            self.best_params_ = single
            self.cv_results_ = None
            self.estimator_ = est.set_params(**single).fit(Xv, y)
        self.columns_ = list(X.columns)
        self.max_time_ = float(duration.max())
        return self

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """``1 - S(horizon | x)`` from the predicted survival step functions."""
        check_fitted(self, "estimator_")
        h = check_horizon(horizon)
        warn_beyond_followup(h, self.max_time_, type(self).__name__)
        check_X(X, columns=self.columns_)
        times = self.estimator_.unique_times_
        i = int(np.searchsorted(times, h, side="right"))
        if i == 0:  # before the first event time
            return np.zeros(len(X))
        Xv = X[self.columns_].to_numpy(dtype=float)
        s = np.empty(len(X))
        # rows in chunks: the survival arrays are (rows x distinct event times)
        step = max(1, 4_000_000 // times.size)
        for start in range(0, len(X), step):
            surv = self.estimator_.predict_survival_function(
                Xv[start : start + step], return_array=True
            )
            s[start : start + step] = surv[:, i - 1]
        return np.clip(1.0 - s, 0.0, 1.0)


class RandomSurvivalForestModel(_SksurvModel):
    """Random survival forest (``sksurv.ensemble.RandomSurvivalForest``).

    Parameters
    ----------
    param_grid : dict, optional
        Grid searched by k-fold cross-validation *within the training data*
        (``scoring``); default
        ``{"min_samples_leaf": [5, 15, 50], "max_features": ["sqrt", 0.5]}``.
        A grid with one combination is fitted without CV.
    cv : int, default 3
        Number of folds.
    scoring : {"cindex", "ibs"}, default "cindex"
        Tuning criterion: Harrell's C (sksurv's ``score``) or the integrated
        Brier score over the 10th-70th centiles of the training event times
        (sksurv's ``as_integrated_brier_score_scorer``; lower is better).
    n_jobs : int, default 1
        Parallel jobs (trees and CV folds).
    random_state : int, default 0
    **params
        Fixed ``RandomSurvivalForest`` parameters (e.g. ``n_estimators=300``).

    Attributes
    ----------
    estimator_ : RandomSurvivalForest
    best_params_ : dict
    cv_results_ : pandas.DataFrame or None
    """

    kind = "rsf"
    _estimator_cls = RandomSurvivalForest
    _default_grid: ClassVar[Mapping[str, Sequence[Any]]] = {
        "min_samples_leaf": [5, 15, 50],
        "max_features": ["sqrt", 0.5],
    }


class GradientBoostingSurvivalModel(_SksurvModel):
    """Gradient-boosted Cox model of trees (``sksurv.ensemble.GradientBoostingSurvivalAnalysis``).

    Risks come from its Breslow-based survival functions. Parameters as
    `RandomSurvivalForestModel`; default grid
    ``{"learning_rate": [0.05, 0.1], "max_depth": [2, 3]}``; ``n_jobs``
    parallelises CV folds only.
    """

    kind = "gbsa"
    _estimator_cls = GradientBoostingSurvivalAnalysis
    _default_grid: ClassVar[Mapping[str, Sequence[Any]]] = {
        "learning_rate": [0.05, 0.1],
        "max_depth": [2, 3],
    }
