"""Cause-specific Cox models combined into a cumulative incidence (competing risks)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import pandas as pd

from epi.exceptions import StatisticalWarning

from ._base import check_horizon, check_outcome, check_X
from ._core import cause_specific_cif
from ._cox import CoxModel, check_fitted, warn_beyond_followup

__all__ = ["CauseSpecificCoxModel"]


class CauseSpecificCoxModel:
    """Absolute risk of the outcome with death as a competing event (as riskRegression::CSC).

    One Cox model for the outcome (``event == 1``; death censored) and one for
    the competing death (``event == 2``; outcome censored), both with the
    same terms, splines and strata (`CoxModel`). The cumulative incidence is
    ``F1(h | x) = Σ_{t_j <= h} S(t_{j-1} | x) dΛ1(t_j | x)`` over the pooled
    event times, with ``S`` the all-cause survival (`cause_specific_cif`). A
    model that censors deaths estimates ``1 - S1(h)``, which overstates the
    risk when deaths are common (old, frail cohorts); ``F1 <= 1 - S1``.

    Parameters
    ----------
    penalizer, l1_ratio, splines, strata, max_iter, engine
        As `CoxModel`, used for both causes.
    baseline_ties : {"efron", "breslow"}, default "efron"
        Baseline hazard estimator at tied times; ``"efron"`` is what
        riskRegression's ``predictRisk`` uses for a CSC fitted with coxph's
        default Efron ties (matched to 1e-9 on pbc).
    product_limit : bool, default True
        All-cause survival as the product limit ``Π (1 - dΛ1 - dΛ2)``
        (riskRegression's default) or ``exp(-(Λ1 + Λ2))`` (``False``); the
        latter can exceed 1 for persons with very high hazards and is then
        clipped to 1 with a `StatisticalWarning`.

    Attributes
    ----------
    cause1_ : CoxModel
        Fitted model of the outcome's cause-specific hazard.
    cause2_ : CoxModel
        Fitted model of the competing death's cause-specific hazard.
    """

    kind = "cause_specific_cox"

    def __init__(
        self,
        penalizer: float = 0.0,
        l1_ratio: float = 0.0,
        splines: Mapping[str, int] | None = None,
        strata: Sequence[str] | None = None,
        baseline_ties: str = "efron",
        product_limit: bool = True,
        max_iter: int | None = None,
        engine: str = "numpy",
    ) -> None:
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.splines = splines
        self.strata = strata
        self.baseline_ties = baseline_ties
        self.product_limit = product_limit
        self.max_iter = max_iter
        self.engine = engine

    def _cox(self, cause: int) -> CoxModel:
        return CoxModel(
            penalizer=self.penalizer,
            l1_ratio=self.l1_ratio,
            splines=self.splines,
            strata=self.strata,
            baseline_ties=self.baseline_ties,
            max_iter=self.max_iter,
            cause=cause,
            engine=self.engine,
        )

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit both cause-specific Cox models.

        Parameters
        ----------
        X : pandas.DataFrame
            Numeric design matrix (no missing values).
        outcome : pandas.DataFrame
            ``duration`` and ``event`` (0, 1, 2); at least 10 events of each cause.

        Returns
        -------
        CauseSpecificCoxModel
            ``self``.
        """
        check_X(X)
        check_outcome(outcome, X, causes=(1, 2))
        self.cause1_ = self._cox(1).fit(X, outcome)
        self.cause2_ = self._cox(2).fit(X, outcome)
        self.max_time_ = self.cause1_.max_time_
        return self

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """Cumulative incidence of ``event == 1`` by ``horizon`` for each row of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
        horizon : float
            Days since index.

        Returns
        -------
        numpy.ndarray
            One value in [0, 1] per row.
        """
        check_fitted(self, "cause1_")
        h = check_horizon(horizon)
        warn_beyond_followup(h, self.max_time_, "CauseSpecificCoxModel")
        lp1 = self.cause1_.linear_predictor(X)
        lp2 = self.cause2_.linear_predictor(X)
        labels = self.cause1_.design_.stratum_labels(X)
        self.cause1_.design_.check_strata_known(labels)
        risk = np.zeros(len(X))
        for s in np.unique(labels):
            m = labels == s
            t1, H1 = self.cause1_.baseline_[s]
            t2, H2 = self.cause2_.baseline_.get(s, (np.array([]), np.array([])))
            risk[m] = cause_specific_cif(
                t1,
                np.diff(H1, prepend=0.0),
                t2,
                np.diff(H2, prepend=0.0),
                np.exp(lp1[m]),
                np.exp(lp2[m]),
                h,
                bool(self.product_limit),
            )
        return clip_risk(risk, "CauseSpecificCoxModel")


def clip_risk(risk: np.ndarray, name: str) -> np.ndarray:
    """Clip risks to [0, 1], warning with the count when any lay outside."""
    bad = (risk < -1e-12) | (risk > 1 + 1e-12)  # beyond rounding
    if bad.any():
        warnings.warn(
            f"{name}: {int(bad.sum())} predicted risk(s) outside [0, 1] (max {risk.max():.4g}) "
            "were clipped; with product_limit=False very high hazards give this, use "
            "product_limit=True.",
            StatisticalWarning,
            stacklevel=3,
        )
    return np.clip(risk, 0.0, 1.0)
