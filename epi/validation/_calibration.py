"""Calibration at the horizon.

* **Observed/expected ratio** — Kaplan–Meier risk by the horizon (Aalen–Johansen
  cumulative incidence of event 1 with competing events) over the mean
  predicted risk.
* **Calibration slope and calibration-in-the-large (CITL)** — a
  quasi-binomial GLM with complementary log-log link of the event-by-horizon
  indicator ``Y`` on ``x = cloglog(risk) = log(-log(1 - risk))``, weighted by
  the inverse probability of censoring weights (persons censored before the
  horizon weigh 0): ``cloglog P(Y = 1) = a + b x``. The slope is ``b``; CITL
  is ``a`` with ``b`` fixed at 1 (``x`` as offset). A perfectly calibrated
  model has slope 1 and CITL 0; CITL < 0 means risks too high. The cloglog
  scale makes the slope equal to the Cox calibration slope of the linear
  predictor when the model is a proportional hazards model.
* **Smoothed calibration curve, ICI, E50, E90, Emax** (Austin, Harrell &
  van Klaveren 2020) — the same weighted GLM with a restricted cubic spline
  of ``x`` (3 knots at the 10th, 50th and 90th percentiles of ``x``; Harrell's
  parametrisation as in ``Hmisc::rcspline.eval``) as smoother. Its fitted
  value at each person's ``x`` is the smoothed observed risk; ICI is the mean,
  E50 the median, E90 the 90th percentile and Emax the maximum of
  ``|observed - predicted|`` over all persons. The band of the curve is
  pointwise, from the sandwich (robust) variance of the GLM on the link scale.

Austin et al. smooth with a Cox model (or ``hare``) on ``rcs(x, 3)``; the
IPCW GLM used here targets the risk at the horizon directly, needs no
proportional hazards and handles competing events (they are observed
non-events), so it is the single smoother used throughout. The R reference
(``tests/validation/reference/reference.R``) fits the very same model with
``glm(..., family = quasibinomial(link = "cloglog"), weights = ipcw)``.
Risks are clipped to ``[1e-10, 1 - 1e-10]`` before the cloglog.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from epi.exceptions import ConvergenceWarning, StatisticalWarning
from epi.models import rcs_basis
from epi.validation._checks import as_outcome, check_horizon
from epi.validation._discrimination import _prepare_all
from epi.validation._estimators import HorizonData, cumulative_incidence

FloatArray = NDArray[np.float64]
_EPS = np.finfo(float).eps
_CLIP = 1e-10


def _cloglog(risk: FloatArray) -> FloatArray:
    p = np.clip(risk, _CLIP, 1.0 - _CLIP)
    return np.log(-np.log1p(-p))


def _inv(eta: FloatArray) -> FloatArray:
    # exp overflows past 709; the risk is 1 - eps there anyway (R clamps the same way)
    return np.clip(-np.expm1(-np.exp(np.minimum(eta, 700.0))), _EPS, 1.0 - _EPS)


def _dmu(eta: FloatArray) -> FloatArray:
    eta = np.minimum(eta, 700.0)
    return np.maximum(np.exp(eta) * np.exp(-np.exp(eta)), _EPS)


def _spline_terms(x: FloatArray, knots: FloatArray) -> FloatArray:
    """The non-linear columns of the one restricted cubic spline basis (`epi.models.rcs_basis`,
    as ``Hmisc::rcspline.eval(x, knots, inclx = FALSE)``)."""
    return rcs_basis(x, knots)[:, 1:]


def _glm_cloglog(
    design: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    offset: FloatArray | None = None,
    *,
    what: str = "calibration model",
    max_iter: int = 100,
    tol: float = 1e-12,
) -> FloatArray:
    """Weighted quasi-binomial GLM with cloglog link by IRLS (as R's ``glm``)."""
    off = np.zeros(y.size) if offset is None else offset
    use = weights > 0
    X, yy, w, o = design[use], y[use], weights[use], off[use]
    mu = (w * yy + 0.5) / (w + 1.0)  # R's binomial()$initialize
    eta = np.log(-np.log1p(-mu))
    beta = np.zeros(X.shape[1])
    beta_old: FloatArray | None = None
    dev_old = np.inf
    for _ in range(max_iter):
        d = _dmu(eta)
        var = mu * (1.0 - mu)
        z = eta - o + (yy - mu) / d
        ww = w * d**2 / var
        xtw = X.T * ww
        try:
            beta = np.linalg.solve(xtw @ X, xtw @ z)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(beta)):
            break
        step = np.max(np.abs(beta - beta_old)) if beta_old is not None else np.inf
        beta_old = beta
        eta = X @ beta + o
        mu = _inv(eta)
        # R's glm criterion on the binomial deviance, or a negligible step.
        dev = float(-2 * np.sum(w * (yy * np.log(mu) + (1.0 - yy) * np.log1p(-mu))))
        if abs(dev - dev_old) <= tol * (abs(dev) + 0.1) or step <= 1e-10:
            return beta
        dev_old = dev
    warnings.warn(
        f"The {what} (quasi-binomial GLM, cloglog link) did not converge in {max_iter} "
        "iterations, so the calibration estimates may be wrong; this happens when the "
        "predicted risks barely vary or nearly separate events from non-events - check "
        "the risks (are they constant or 0/1?) or evaluate on more data.",
        ConvergenceWarning,
        stacklevel=3,
    )
    return beta


def _slope(hd: HorizonData, risk: FloatArray) -> float:
    x = _cloglog(risk)
    if np.ptp(x) == 0:
        warnings.warn(
            f"calibration slope: all predicted risks are equal ({risk[0]:g}), so the slope is "
            "undefined and reported as NaN; check the risks (are they constant?).",
            StatisticalWarning,
            stacklevel=3,
        )
        return float("nan")
    design = np.column_stack([np.ones(x.size), x])
    return float(_glm_cloglog(design, hd.case.astype(float), hd.ipcw, what="calibration slope")[1])


def _citl(hd: HorizonData, risk: FloatArray) -> float:
    x = _cloglog(risk)
    design = np.ones((x.size, 1))
    beta = _glm_cloglog(design, hd.case.astype(float), hd.ipcw, x, what="calibration-in-the-large")
    return float(beta[0])


def _smooth_fit(hd: HorizonData, risk: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fit the spline smoother; return knots, coefficients and the design."""
    x = _cloglog(risk)
    knots = np.quantile(x, [0.1, 0.5, 0.9])
    if np.ptp(x) == 0:
        design = np.ones((x.size, 1))  # one risk for all: the curve is a point
        knots = np.array([np.nan])
    elif np.unique(knots).size < 3:
        # Too few distinct risks for a spline: fall back to a line in x.
        design = np.column_stack([np.ones(x.size), x])
        knots = np.array([])
    else:
        design = np.column_stack([np.ones(x.size), x, _spline_terms(x, knots)])
    beta = _glm_cloglog(design, hd.case.astype(float), hd.ipcw, what="calibration curve")
    return knots, beta, design


def _design_at(x: FloatArray, knots: FloatArray) -> FloatArray:
    if knots.size == 1:  # constant risk: intercept only
        return np.ones((x.size, 1))
    cols = [np.ones(x.size), x]
    if knots.size:
        return np.column_stack([*cols, _spline_terms(x, knots)])
    return np.column_stack(cols)


def _errors(hd: HorizonData, risk: FloatArray) -> dict[str, float]:
    _, beta, design = _smooth_fit(hd, risk)
    diff = np.abs(_inv(design @ beta) - risk)
    return {
        "ici": float(diff.mean()),
        "e50": float(np.median(diff)),
        "e90": float(np.quantile(diff, 0.9)),
        "emax": float(diff.max()),
    }


def _curve(
    hd: HorizonData, risk: FloatArray, grid: FloatArray | None = None, level: float = 0.95
) -> pd.DataFrame:
    knots, beta, design = _smooth_fit(hd, risk)
    if grid is None:
        lo, hi = np.quantile(risk, [0.01, 0.99])
        grid = np.linspace(lo, hi, 100)
    grid = np.asarray(grid, dtype=float)
    # Sandwich variance of the IPCW GLM (the weights make the model-based one wrong).
    use = hd.ipcw > 0
    X, w, y = design[use], hd.ipcw[use], hd.case[use].astype(float)
    eta = X @ beta
    mu, d = _inv(eta), _dmu(eta)
    var = mu * (1.0 - mu)
    bread = np.linalg.pinv((X.T * (w * d**2 / var)) @ X)
    score = X * (w * (y - mu) * d / var)[:, None]
    cov = bread @ (score.T @ score) @ bread
    g = _design_at(_cloglog(grid), knots)
    eta_g = g @ beta
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", g, cov, g), 0.0))
    zq = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame(
        {
            "predicted": grid,
            "observed": _inv(eta_g),
            "lower": _inv(eta_g - zq * se),
            "upper": _inv(eta_g + zq * se),
        }
    )


def _binned(hd: HorizonData, risk: FloatArray, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted and Kaplan–Meier/Aalen–Johansen observed risk per risk group."""
    order = np.argsort(risk, kind="stable")
    rows = []
    for k, idx in enumerate(np.array_split(order, n_bins)):
        if idx.size == 0:
            continue
        rows.append(
            {
                "bin": k + 1,
                "n": int(idx.size),
                "mean_predicted": float(risk[idx].mean()),
                "observed": cumulative_incidence(hd.duration[idx], hd.event[idx], hd.horizon),
            }
        )
    return pd.DataFrame(rows)


def observed_risk(duration: ArrayLike, event: ArrayLike, horizon: float) -> float:
    """Observed risk of event 1 by the horizon.

    Kaplan–Meier ``1 - S(h)`` without competing events; the Aalen–Johansen
    cumulative incidence of event 1 when some events are coded 2.

    Parameters
    ----------
    duration : array-like of float
    event : array-like of int
        0 censored, 1 event, 2 competing event.
    horizon : float

    Returns
    -------
    float
    """
    t, e = as_outcome(duration, event)
    h = check_horizon(t, e, horizon, where="outcome")
    return cumulative_incidence(t, e, h)


def oe_ratio(duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float) -> float:
    """Observed/expected ratio: observed risk by the horizon over mean predicted risk.

    Parameters
    ----------
    duration : array-like of float
    event : array-like of int
        0 censored, 1 event, 2 competing event.
    risk : array-like of float
        Predicted absolute risk of event 1 by ``horizon``.
    horizon : float

    Returns
    -------
    float
        1 is perfect; above 1 means risks too low on average.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return float(hd.observed_risk / r.mean())


def calibration_slope(
    duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float
) -> float:
    """Calibration slope on the complementary log-log scale at the horizon.

    Parameters are as for :func:`oe_ratio`. See the module notes for the
    IPCW quasi-binomial GLM that defines it.

    Returns
    -------
    float
        1 is perfect; below 1 means risks too extreme (overfitting).
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _slope(hd, r)


def calibration_in_the_large(
    duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float
) -> float:
    """Calibration-in-the-large: the GLM intercept with ``cloglog(risk)`` as offset.

    Parameters are as for :func:`oe_ratio`.

    Returns
    -------
    float
        0 is perfect; negative means risks too high on average.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _citl(hd, r)


def calibration_errors(
    duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float
) -> dict[str, float]:
    """ICI, E50, E90 and Emax from the smoothed calibration curve.

    Parameters are as for :func:`oe_ratio`.

    Returns
    -------
    dict
        ``{"ici", "e50", "e90", "emax"}``: mean, median, 90th percentile and
        maximum absolute difference between smoothed observed and predicted
        risk over all persons.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _errors(hd, r)


def calibration_curve(
    duration: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    horizon: float,
    *,
    grid: ArrayLike | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Smoothed calibration curve with a pointwise confidence band.

    Parameters
    ----------
    duration, event, risk, horizon
        As for :func:`oe_ratio`.
    grid : array-like, optional
        Predicted risks at which to evaluate the curve; default 100 points
        from the 1st to the 99th percentile of ``risk``.
    level : float
        Confidence level of the band.

    Returns
    -------
    pandas.DataFrame
        Columns ``predicted``, ``observed``, ``lower``, ``upper`` - a summary
        curve with no person-level values.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _curve(hd, r, None if grid is None else np.asarray(grid, float), level)
