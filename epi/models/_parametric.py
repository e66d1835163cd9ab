"""Parametric survival models: Weibull (AFT) and Royston–Parmar flexible parametric (PH)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import pandas as pd
from lifelines import WeibullAFTFitter

from epi.exceptions import ConvergenceError, ModelError

from ._base import check_horizon, check_outcome, check_X
from ._core import rp_log_cumhaz
from ._cox import check_fitted, warn_beyond_followup
from ._design import Design, check_spline_params, nonconstant_terms
from ._lifelines import convergence_advice, run_lifelines

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


def _rp_basis(u: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Royston–Parmar spline basis in ``u = log t`` and its derivative in ``u``.

    Columns ``[1, u, v_1(u), …]`` as `rp_log_cumhaz` (one ``v_j`` per interior
    knot), so ``basis @ gamma`` is ``log H0`` and ``slope @ gamma`` is
    ``d log H0 / d log t``.
    """
    kmin, kmax = float(knots[0]), float(knots[-1])
    basis = [np.ones_like(u), u]
    slope = [np.zeros_like(u), np.ones_like(u)]
    for kj in knots[1:-1]:
        lam = (kmax - kj) / (kmax - kmin)
        a, b, c = (np.maximum(u - k, 0.0) for k in (kj, kmin, kmax))
        basis.append(a**3 - lam * b**3 - (1 - lam) * c**3)
        slope.append(3 * (a**2 - lam * b**2 - (1 - lam) * c**2))
    return np.column_stack(basis), np.column_stack(slope)


def _fit_royston_parmar(
    Z: np.ndarray,
    duration: np.ndarray,
    event: np.ndarray,
    knots: np.ndarray,
    ridge: np.ndarray,
    what: str,
    names: list[str],
    penalizer: float,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Newton–Raphson for the Royston–Parmar PH log-likelihood; ``(gamma, beta, loglik, iters)``.

    ``log L = Σ_i e_i [η_i + log s'(u_i) - u_i] - Σ_i exp(η_i)`` with
    ``η = B(u)γ + Zβ``, ``u = log t`` and ``s' = B'(u)γ``. Both terms are
    concave in ``(γ, β)`` (minus an exponential of a linear form, the log of a
    linear form), so Newton's method with step halving that keeps
    ``s'(u_i) > 0`` at the event times converges from any feasible start;
    lifelines' quasi-Newton fitter stopped with "precision loss" on ordinary
    data. ``ridge`` is the diagonal of the penalty on ``β``.
    """
    u = np.log(duration)
    B, dB = _rp_basis(u, knots)
    Bd = dB[event == 1]
    X = np.hstack([B, Z])
    k = B.shape[1]
    P = np.concatenate([np.zeros(k), ridge])
    theta = np.zeros(X.shape[1])
    theta[0] = np.log(event.sum() / duration.sum())  # exponential baseline, β = 0
    theta[1] = 1.0

    def objective(th: np.ndarray) -> float:
        slope = Bd @ th[:k]
        if np.any(slope <= 0):
            return -np.inf
        eta = X @ th
        with np.errstate(over="ignore"):
            ll = eta[event == 1].sum() + np.log(slope).sum() - u[event == 1].sum()
            ll -= np.exp(eta).sum()
        return float(ll - 0.5 * (P * th**2).sum()) if np.isfinite(ll) else -np.inf

    value = objective(theta)
    for iteration in range(1, max_iter + 1):
        slope = Bd @ theta[:k]
        h = np.exp(X @ theta)
        grad = X[event == 1].sum(axis=0) - X.T @ h - P * theta
        grad[:k] += (Bd / slope[:, None]).sum(axis=0)
        info = (X * h[:, None]).T @ X + np.diag(P)
        info[:k, :k] += (Bd / slope[:, None]).T @ (Bd / slope[:, None])
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError as exc:
            raise ConvergenceError(
                f"{what} failed: singular information matrix. "
                f"{convergence_advice(Z, names, penalizer)}"
            ) from exc
        decrement = float(grad @ step)
        if decrement < 1e-20 * max(1.0, abs(value)) or np.abs(step).max() < 1e-12:
            return theta[:k], theta[k:], value + 0.5 * float((P * theta**2).sum()), iteration
        for _ in range(60):
            trial = theta + step
            new = objective(trial)
            if new >= value - 1e-12 * abs(value):
                break
            step = step / 2
        else:
            break
        theta, value = trial, new
    raise ConvergenceError(
        f"{what} did not converge in {max_iter} Newton steps. "
        f"{convergence_advice(Z, names, penalizer)}"
    )


class FlexibleParametricModel:
    """Royston–Parmar flexible parametric proportional-hazards model.

    The log cumulative hazard is a natural (restricted) cubic spline in
    ``log t`` plus the linear predictor: ``log H(t|x) = s(log t; γ) + x·β``,
    with boundary knots at the smallest and largest log event time and
    ``df - 1`` interior knots at equally spaced centiles of the log event
    times (as Stata's ``stpm2`` and R's ``flexsurvspline(scale="hazard")``).
    ``df = 1`` is the Weibull PH model. Fitted by maximum likelihood with
    epi's own Newton–Raphson on the (concave) log-likelihood
    (`_fit_royston_parmar`). ``β`` are log hazard ratios; covariates are
    centred at their training means (``means_``).

    Parameters
    ----------
    df : int, default 3
        Degrees of freedom of the baseline spline (1 to 6).
    splines : dict, optional
        Restricted cubic splines for covariates (as `CoxModel`).
    penalizer : float, default 0
        Ridge penalty ``λ >= 0`` on the log hazard ratios, as `CoxModel`'s:
        the fit maximises ``loglik - n λ/2 ||β*||²`` with ``β*`` the
        coefficients of the standardised covariates (SD with ddof=1); the
        baseline spline is not penalised.

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
        Unpenalised log-likelihood at the estimate (as R ``flexsurvspline``).
    n_iter_ : int
        Newton steps taken.
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
        if not np.isscalar(self.penalizer) or not float(self.penalizer) >= 0:
            raise ModelError(f"penalizer must be a number >= 0, got {self.penalizer!r}.")
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
        Zk = Zc[:, keep]
        ridge = len(e) * float(self.penalizer) * Zk.var(axis=0, ddof=1)
        gamma, beta, loglik, self.n_iter_ = _fit_royston_parmar(
            Zk, duration, e, knots, ridge, what, names, float(self.penalizer)
        )
        self.design_ = design
        coef = np.zeros(Z.shape[1])
        coef[keep] = beta
        self.coef_ = pd.Series(coef, index=design.terms_, name="coef")
        self.gamma_ = gamma
        self.time_knots_ = knots
        self.means_ = pd.Series(means, index=design.terms_, name="mean")
        self.loglik_ = loglik
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
