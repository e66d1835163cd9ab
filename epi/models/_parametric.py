"""Parametric survival models: Weibull (AFT) and Royston–Parmar flexible parametric (PH)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
from autograd import numpy as anp
from lifelines import WeibullAFTFitter
from lifelines.fitters import ParametricRegressionFitter

from epi.exceptions import ModelError

from ._base import check_horizon, check_outcome, check_X
from ._core import rp_log_cumhaz
from ._cox import check_fitted, warn_beyond_followup
from ._design import Design, check_spline_params, nonconstant_terms
from ._lifelines import run_lifelines

__all__ = ["FlexibleParametricModel", "WeibullModel"]


def _frame(Z: np.ndarray, duration: np.ndarray, e: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    safe = [f"x{j}" for j in range(Z.shape[1])]
    df = pd.DataFrame(Z, columns=safe)
    df["_T"] = duration
    df["_E"] = e
    return df, safe


class WeibullModel:
    """Weibull accelerated-failure-time model (lifelines ``WeibullAFTFitter``; R ``survreg``).

    ``log T = intercept + x·coef + scale · W`` with ``W`` standard extreme-value,
    so ``risk(h) = 1 - exp(-(h / exp(lp))^(1/scale))``. This is also a
    proportional-hazards model with log hazard ratios ``-coef / scale``.
    Parametrised as R's ``survreg(dist="weibull")``: ``coef_`` and
    ``intercept_`` equal survreg's coefficients, ``scale_`` its ``scale``.
    Covariates are not centred (the intercept is at x = 0).

    Parameters
    ----------
    penalizer : float, default 0
        lifelines' L2 penalty ``penalizer/2 ||β||²`` on the AFT coefficients
        (lifelines' convention; not glmnet's).
    splines : dict, optional
        ``{column: number_of_knots}`` restricted cubic splines (as `CoxModel`).

    Attributes
    ----------
    coef_ : pandas.Series
    intercept_ : float
    scale_ : float
    loglik_ : float
    """

    kind = "weibull"

    def __init__(self, penalizer: float = 0.0, splines: Mapping[str, int] | None = None) -> None:
        self.penalizer = penalizer
        self.splines = splines

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit the model (``event == 2`` is censored); return ``self``."""
        if not np.isscalar(self.penalizer) or not float(self.penalizer) >= 0:
            raise ModelError(f"penalizer must be a number >= 0, got {self.penalizer!r}.")
        check_X(X)
        duration, event = check_outcome(outcome, X)
        design = Design(check_spline_params(self.splines), []).fit(X)
        Z = design.matrix(X)
        e = (event == 1).astype(int)
        what = f"Weibull model ({int(e.sum())} events, {len(e)} persons)"
        keep = nonconstant_terms(Z, design.terms_, what)
        names = [t for t, k in zip(design.terms_, keep, strict=True) if k]
        df, safe = _frame(Z[:, keep], duration, e)
        aft = WeibullAFTFitter(penalizer=float(self.penalizer))
        run_lifelines(lambda: aft.fit(df, "_T", "_E"), Z[:, keep], names, self.penalizer, what)
        lam = aft.params_.loc["lambda_"]
        coef = np.zeros(Z.shape[1])
        coef[keep] = [float(lam[c]) for c in safe]
        self.design_ = design
        self.coef_ = pd.Series(coef, index=design.terms_, name="coef")
        self.intercept_ = float(lam["Intercept"])
        self.scale_ = float(np.exp(-aft.params_.loc["rho_"]["Intercept"]))
        self.loglik_ = float(aft.log_likelihood_)
        self.max_time_ = float(duration.max())
        return self

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """``1 - S(horizon | x)`` for each row of ``X``."""
        check_fitted(self, "coef_")
        h = check_horizon(horizon)
        warn_beyond_followup(h, self.max_time_, "WeibullModel")
        check_X(X, columns=self.design_.input_columns_)
        lp = self.intercept_ + self.design_.matrix(X) @ self.coef_.to_numpy()
        return 1.0 - np.exp(-((h / np.exp(lp)) ** (1.0 / self.scale_)))


def _rp_basis(u: Any, knot: float, kmin: float, kmax: float) -> Any:
    lam = (kmax - knot) / (kmax - kmin)
    return (
        anp.maximum(u - knot, 0) ** 3
        - lam * anp.maximum(u - kmin, 0) ** 3
        - (1 - lam) * anp.maximum(u - kmax, 0) ** 3
    )


class _RoystonParmarFitter(ParametricRegressionFitter):
    """log H(t|x) = γ0 + γ1 log t + Σ_j γ_{j+1} v_j(log t) + x·β (lifelines custom fitter)."""

    def __init__(self, knots: np.ndarray, init: float, **kwargs: Any) -> None:
        self.knots = np.asarray(knots, dtype=float)
        self._init = init
        self._fitted_parameter_names = ["beta_"] + [f"gamma{i}_" for i in range(knots.size)]
        super().__init__(**kwargs)

    def _create_initial_point(self, Ts: Any, E: Any, entries: Any, weights: Any, Xs: Any) -> Any:
        start = {"beta_": np.zeros(len(Xs["beta_"].columns)), "gamma0_": np.array([self._init])}
        start["gamma1_"] = np.array([1.0])
        for i in range(2, self.knots.size):
            start[f"gamma{i}_"] = np.array([0.0])
        return start

    def _cumulative_hazard(self, params: Any, T: Any, Xs: Any) -> Any:
        u = anp.log(T)
        s = params["gamma0_"] + params["gamma1_"] * u
        kmin, kmax = self.knots[0], self.knots[-1]
        for i in range(2, self.knots.size):
            s = s + params[f"gamma{i}_"] * _rp_basis(u, self.knots[i - 1], kmin, kmax)
        return anp.exp(s + anp.dot(Xs["beta_"], params["beta_"]))


class FlexibleParametricModel:
    """Royston–Parmar flexible parametric proportional-hazards model.

    The log cumulative hazard is a natural (restricted) cubic spline in
    ``log t`` plus the linear predictor: ``log H(t|x) = s(log t; γ) + x·β``,
    with boundary knots at the smallest and largest log event time and
    ``df - 1`` interior knots at equally spaced centiles of the log event
    times (as Stata's ``stpm2`` and R's ``flexsurvspline(scale="hazard")``).
    ``df = 1`` is the Weibull PH model. Fitted by maximum likelihood with
    lifelines' custom parametric regression fitter. ``β`` are log hazard
    ratios; covariates are centred at their training means (``means_``).

    Parameters
    ----------
    df : int, default 3
        Degrees of freedom of the baseline spline (1 to 6).
    splines : dict, optional
        Restricted cubic splines for covariates (as `CoxModel`).
    penalizer : float, default 0
        lifelines' L2 penalty on all parameters (lifelines convention).

    Attributes
    ----------
    coef_ : pandas.Series
        Log hazard ratios.
    gamma_ : numpy.ndarray
        Spline coefficients of the baseline log cumulative hazard.
    time_knots_ : numpy.ndarray
        Knots on the log-time scale.
    means_ : pandas.Series
    loglik_ : float
    """

    kind = "flexible_parametric"

    def __init__(
        self, df: int = 3, splines: Mapping[str, int] | None = None, penalizer: float = 0.0
    ) -> None:
        self.df = df
        self.splines = splines
        self.penalizer = penalizer

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit the model (``event == 2`` is censored); return ``self``."""
        if isinstance(self.df, bool) or not isinstance(self.df, int) or not 1 <= self.df <= 6:
            raise ModelError(f"df must be an integer from 1 to 6, got {self.df!r}.")
        check_X(X)
        duration, event = check_outcome(outcome, X)
        design = Design(check_spline_params(self.splines), []).fit(X)
        Z = design.matrix(X)
        means = Z.mean(axis=0)
        Zc = Z - means
        e = (event == 1).astype(int)
        logt = np.log(duration[e == 1])
        knots = np.quantile(logt, np.linspace(0, 1, self.df + 1))
        if np.unique(knots).size != knots.size:
            raise ModelError(
                f"flexible_parametric: too few distinct event times for df={self.df}; lower df."
            )
        what = f"flexible parametric model ({int(e.sum())} events, {len(e)} persons)"
        keep = nonconstant_terms(Z, design.terms_, what)
        names = [t for t, k in zip(design.terms_, keep, strict=True) if k]
        df, safe = _frame(Zc[:, keep], duration, e)
        df["_one"] = 1.0
        regressors = {"beta_": safe, **{f"gamma{i}_": ["_one"] for i in range(knots.size)}}
        init = float(np.log(e.sum() / duration.sum()))
        fitter = _RoystonParmarFitter(knots, init, penalizer=float(self.penalizer))
        run_lifelines(
            lambda: fitter.fit(df, "_T", "_E", regressors=regressors, fit_options={"gtol": 1e-8}),
            Zc[:, keep],
            names,
            float(self.penalizer),
            what,
        )
        p = fitter.params_
        self.design_ = design
        coef = np.zeros(Z.shape[1])
        coef[keep] = [float(p.loc[("beta_", c)]) for c in safe]
        self.coef_ = pd.Series(coef, index=design.terms_, name="coef")
        self.gamma_ = np.array([float(p.loc[(f"gamma{i}_", "_one")]) for i in range(knots.size)])
        self.time_knots_ = knots
        self.means_ = pd.Series(means, index=design.terms_, name="mean")
        self.loglik_ = float(fitter.log_likelihood_)
        self.max_time_ = float(duration.max())
        return self

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """``1 - exp(-H(horizon | x))`` for each row of ``X``."""
        check_fitted(self, "coef_")
        h = check_horizon(horizon)
        warn_beyond_followup(h, self.max_time_, "FlexibleParametricModel")
        check_X(X, columns=self.design_.input_columns_)
        lp = (self.design_.matrix(X) - self.means_.to_numpy()) @ self.coef_.to_numpy()
        return 1.0 - np.exp(-np.exp(rp_log_cumhaz(h, self.time_knots_, self.gamma_) + lp))
