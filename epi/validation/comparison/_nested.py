"""Likelihood-ratio test of nested Cox models and Harrell's adequacy index.

For a reference Cox model whose terms are a subset of an extended model's
terms, fitted to the same persons and outcome::

    LR = 2 (loglik_extended - loglik_reference),   df = terms added,
    p  = P(chi2_df > LR)
    adequacy = LR_reference / LR_extended,   LR_x = 2 (loglik_x - loglik_null)

``loglik_null`` is the log partial likelihood at beta = 0 with Efron's tie
handling (what ``survival::coxph`` reports as ``loglik[1]``); the adequacy
index is the share of the extended model's likelihood-ratio chi-square that
the reference model reaches (Harrell, *Regression Modeling Strategies*,
2nd ed., section 5.6.2). Both are apparent (in-sample) quantities.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["likelihood_ratio_test", "null_loglik"]


def null_loglik(duration: np.ndarray, event: np.ndarray) -> float:
    """Log partial likelihood at beta = 0 (Efron ties, no strata).

    Parameters
    ----------
    duration : ndarray of float
    event : ndarray of bool or 0/1
        The event the Cox model counts (other codes censored).

    Returns
    -------
    float
        ``-sum_j sum_{k < d_j} log(n_j - k)`` over distinct event times ``t_j``
        with ``d_j`` events and ``n_j`` persons at risk.
    """
    t = np.asarray(duration, dtype=float)
    e = np.asarray(event).astype(bool)
    ev_times, d = np.unique(t[e], return_counts=True)
    ts = np.sort(t)
    n_at_risk = t.size - np.searchsorted(ts, ev_times, side="left")
    j = np.repeat(np.arange(ev_times.size), d)
    k = np.arange(j.size) - np.repeat(np.cumsum(d) - d, d)
    return float(-np.log(n_at_risk[j] - k).sum())


def _cox_of(fitted: Any) -> Any | None:
    """The single unpenalised, unstratified CoxModel inside a fitted pipeline, or None."""
    models = getattr(fitted, "models_", [fitted])
    if len(models) != 1:
        return None
    model = models[0]
    if getattr(model, "kind", None) != "cox" or not hasattr(model, "loglik_"):
        return None
    if float(getattr(model, "penalizer", 0.0)) != 0.0 or getattr(model, "strata", None):
        return None
    return model


def likelihood_ratio_test(reference: Any, extended: Any, outcome: pd.DataFrame) -> dict[str, Any]:
    """LR test of a reference Cox model nested in an extended one, and adequacy.

    Parameters
    ----------
    reference, extended : fitted model
        A fitted ``CoxModel`` or an ``ImputingModel`` holding one; both fitted
        to ``outcome``.
    outcome : pandas.DataFrame
        ``duration`` and ``event`` the models were fitted to.

    Returns
    -------
    dict
        ``applicable`` (bool); when true ``chi2``, ``df``, ``p``,
        ``loglik_reference``, ``loglik_extended``, ``loglik_null``,
        ``lr_reference``, ``lr_extended`` and ``adequacy``; when false
        ``reason`` says why (not a Cox model, penalised, stratified, multiple
        imputation, or the terms are not nested).
    """
    ref, ext = _cox_of(reference), _cox_of(extended)
    if ref is None or ext is None:
        return {
            "applicable": False,
            "reason": "the LR test needs one unpenalised, unstratified Cox model per arm "
            "(not a penalised, stratified, cause-specific, machine-learning or multiply "
            "imputed fit)",
        }
    used = lambda m: {t for t, s in m.se_.items() if np.isfinite(s)}  # noqa: E731
    ref_terms, ext_terms = used(ref), used(ext)
    if not ref_terms <= set(ext.coef_.index):
        missing = sorted(ref_terms - set(ext.coef_.index))
        return {
            "applicable": False,
            "reason": f"the reference model's terms are not all in the extended model "
            f"(first: {missing[:3]})",
        }
    cause = int(getattr(ext, "cause", 1))
    ll0 = null_loglik(outcome["duration"].to_numpy(float), outcome["event"].to_numpy() == cause)
    chi2 = max(0.0, 2.0 * (ext.loglik_ - ref.loglik_))
    df = len(ext_terms) - len(ref_terms)
    lr_ref = 2.0 * (ref.loglik_ - ll0)
    lr_ext = 2.0 * (ext.loglik_ - ll0)
    return {
        "applicable": True,
        "chi2": float(chi2),
        "df": int(df),
        "p": float(stats.chi2.sf(chi2, df)) if df > 0 else None,
        "loglik_reference": float(ref.loglik_),
        "loglik_extended": float(ext.loglik_),
        "loglik_null": ll0,
        "lr_reference": float(lr_ref),
        "lr_extended": float(lr_ext),
        "adequacy": float(lr_ref / lr_ext) if lr_ext > 0 else None,
    }
