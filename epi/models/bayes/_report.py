"""Report material from a fitted Bayesian survival model (aggregated, never person-level).

Every table is per parameter or per cluster; clusters with fewer than
``min_size`` persons are pooled into one row (or left out). Counts are raw:
the study masks them as it writes the bundle (`epi.disclosure`), the one
place the small-cell rule lives.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from epi.exceptions import ModelError

from .._cox import check_fitted
from ._model import _BayesSurvival, _draws

__all__ = [
    "compare_with_frequentist",
    "group_effects",
    "median_hazard_ratio",
    "posterior_summary",
    "risk_agreement",
    "shrinkage_summary",
    "shrinkage_table",
    "variance_partition",
]

#: Variance of the standard (minimum) extreme-value distribution: the person-level
#: residual of a PH model on the log cumulative hazard scale (log H0(T) = -eta + W).
EV_RESIDUAL_VARIANCE = math.pi**2 / 6


def _check(model: _BayesSurvival) -> None:
    if not isinstance(model, _BayesSurvival):
        raise ModelError(
            f"expected a fitted epi Bayesian survival model, got {type(model).__name__}."
        )
    check_fitted(model, "idata_")


def _check_group(model: _BayesSurvival, group: str) -> None:
    if group not in model.design_.groups:
        raise ModelError(
            f"group {group!r} is not one of the model's groups {model.design_.groups}."
        )


def _interval(draws: np.ndarray, prob: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < prob < 1:
        raise ModelError(f"prob must lie in (0, 1), got {prob!r}.")
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=axis)
    return lo, hi


def posterior_summary(
    model: _BayesSurvival, *, prob: float = 0.9, var_names: list[str] | None = None
) -> pd.DataFrame:
    """Posterior mean, SD, equal-tailed interval and convergence diagnostics per parameter.

    Parameters
    ----------
    model : BayesWeibullPHModel or BayesPiecewiseExponentialModel
        Fitted.
    prob : float
        Credible mass.
    var_names : list of str, optional
        Default: intercept, ``coef`` (log HR per unit), Weibull shape or
        baseline log rates, and every group and slope SD.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``mean``, ``sd``, ``lower``, ``upper``,
        ``r_hat``, ``ess_bulk``, ``ess_tail``.
    """
    _check(model)
    post = model.idata_.posterior
    if var_names is None:
        var_names = [
            v for v in ("intercept", "coef", "weibull_shape", "log_rate") if v in post.data_vars
        ] + sorted(
            v
            for v in post.data_vars
            if str(v).startswith("sigma_") and not str(v).endswith("__")  # nutpie's log__
        )
    diag = model.diagnostics_["table"] if hasattr(model, "diagnostics_") else None
    rows = []
    for v in var_names:
        if v not in post.data_vars:
            raise ModelError(f"{v!r} is not in the posterior; available: {sorted(post.data_vars)}.")
        da = post[v]
        d = _draws(model.idata_, v).reshape(post.sizes["chain"] * post.sizes["draw"], -1)
        if da.ndim == 2:
            labels = [v]
        else:
            dims = list(da.dims[2:])
            grid = np.array(np.meshgrid(*[da[dim].values for dim in dims], indexing="ij"))
            keys = grid.reshape(len(dims), -1).T
            labels = [f"{v}[{','.join(str(k) for k in key)}]" for key in keys]
        lo, hi = _interval(d, prob)
        for j, label in enumerate(labels):
            row = {
                "parameter": label,
                "mean": float(d[:, j].mean()),
                "sd": float(d[:, j].std(ddof=1)),
                "lower": float(lo[j]),
                "upper": float(hi[j]),
            }
            if diag is not None and label in diag.index:
                row.update(diag.loc[label, ["r_hat", "ess_bulk", "ess_tail"]].to_dict())
            rows.append(row)
    out = pd.DataFrame(rows).set_index("parameter")
    out.attrs["prob"] = prob
    return out


def _counts(model: _BayesSurvival, group: str) -> tuple[np.ndarray, np.ndarray]:
    d = model.design_
    L = len(d.levels[group])
    n = np.bincount(d.codes[group], minlength=L)
    e = np.bincount(d.codes[group], weights=d.event, minlength=L).astype(int)
    return n, e


def group_effects(
    model: _BayesSurvival, group: str, *, prob: float = 0.9, min_size: int = 5
) -> pd.DataFrame:
    """Posterior random effect of each cluster (log hazard ratio against the average cluster).

    Clusters with fewer than ``min_size`` persons are pooled into one row,
    ``"<pooled>"``, whose effect is the person-weighted mean of their effects.

    Parameters
    ----------
    model : fitted Bayesian survival model
    group : str
        One of the model's groups (e.g. ``"practice_id"``).
    prob : float
        Credible mass.
    min_size : int
        Minimum cell size (persons and events).

    Returns
    -------
    pandas.DataFrame
        Index: level; columns ``n_persons``, ``n_events`` (masked below
        ``min_size``), ``n_levels`` (1, or the number pooled), ``mean``,
        ``lower``, ``upper`` (log HR), ``hazard_ratio`` (posterior mean of
        ``exp(u)``), ``hr_lower``, ``hr_upper``; sorted by ``mean``.
    """
    _check(model)
    _check_group(model, group)
    u = _draws(model.idata_, f"u_{group}")  # (S, L)
    n, e = _counts(model, group)
    levels = np.array(model.design_.levels[group], dtype=object)
    small = n < min_size
    cols: dict[str, Any] = {}
    effects = u[:, ~small]
    labels = list(levels[~small])
    n_out, e_out, k_out = list(n[~small]), list(e[~small]), [1] * int((~small).sum())
    if small.any():
        w = n[small] / n[small].sum()
        effects = np.column_stack([effects, u[:, small] @ w])
        labels.append("<pooled>")
        n_out.append(int(n[small].sum()))
        e_out.append(int(e[small].sum()))
        k_out.append(int(small.sum()))
    lo, hi = _interval(effects, prob)
    hr = np.exp(effects)
    hlo, hhi = _interval(hr, prob)
    cols = {
        "n_persons": np.asarray(n_out, dtype=int),
        "n_events": np.asarray(e_out, dtype=int),
        "n_levels": k_out,
        "mean": effects.mean(axis=0),
        "lower": lo,
        "upper": hi,
        "hazard_ratio": hr.mean(axis=0),
        "hr_lower": hlo,
        "hr_upper": hhi,
    }
    out = pd.DataFrame(cols, index=pd.Index(labels, name=group))
    return out.sort_values("mean")


def _fixed_variance(model: _BayesSurvival) -> np.ndarray:
    """Per draw: variance over training persons of ``z·beta`` (the predictors' part)."""
    d = model.design_
    if not d.predictors:
        return np.zeros(_draws(model.idata_, f"sigma_{d.groups[0]}").shape[0])
    beta = _draws(model.idata_, "beta")
    lp = beta @ d.Z.T
    return lp.var(axis=1)


def variance_partition(model: _BayesSurvival, *, prob: float = 0.9) -> pd.DataFrame:
    """Share of the variance of the log hazard by level (latent-variable definition).

    On the log cumulative hazard scale a PH model reads
    ``log H0(T) = -(z·beta + sum_g u_g) + W`` with ``W`` standard extreme-value,
    variance ``pi^2 / 6``. The total variance is
    ``var(z·beta) + sum_g sigma_g^2 + pi^2/6``; each component's share is its
    variance over that total (per posterior draw, then summarised). The
    group shares are the variance partition coefficients (VPC, ICC-like) of
    practice and municipality; random slopes are not included. Report
    material for TRIPOD+AI items 12d and 23b (heterogeneity across clusters).

    Returns
    -------
    pandas.DataFrame
        Index ``component`` (each group, ``predictors``, ``person``); columns
        ``variance``, ``share`` (posterior means) and ``share_lower``,
        ``share_upper``.
    """
    _check(model)
    parts = {g: _draws(model.idata_, f"sigma_{g}") ** 2 for g in model.design_.groups}
    parts["predictors"] = _fixed_variance(model)
    S = next(iter(parts.values())).shape[0]
    parts["person"] = np.full(S, EV_RESIDUAL_VARIANCE)
    total = sum(parts.values())
    rows = []
    for name, v in parts.items():
        share = v / total
        lo, hi = _interval(share, prob)
        rows.append(
            {
                "component": name,
                "variance": float(v.mean()),
                "share": float(share.mean()),
                "share_lower": float(lo),
                "share_upper": float(hi),
            }
        )
    return pd.DataFrame(rows).set_index("component")


def median_hazard_ratio(model: _BayesSurvival, *, prob: float = 0.9) -> pd.DataFrame:
    """Median hazard ratio per group: ``MHR = exp(sqrt(2 sigma^2) Phi^-1(0.75))``.

    The median of the hazard ratio between two persons with the same
    predictors in two randomly chosen clusters, the higher-risk one on top
    (Bengtsson & Dribe 2010; Austin et al. 2017). ``"all groups"`` uses the
    sum of the group variances (two persons differing in every cluster).
    Report material for TRIPOD+AI items 12d and 23b.

    Returns
    -------
    pandas.DataFrame
        Index ``group``; columns ``mhr`` (posterior mean), ``lower``, ``upper``.
    """
    _check(model)
    q = norm.ppf(0.75)
    var = {g: _draws(model.idata_, f"sigma_{g}") ** 2 for g in model.design_.groups}
    if len(var) > 1:
        var["all groups"] = sum(var.values())
    rows = []
    for g, v in var.items():
        mhr = np.exp(np.sqrt(2 * v) * q)
        lo, hi = _interval(mhr, prob)
        rows.append({"group": g, "mhr": float(mhr.mean()), "lower": float(lo), "upper": float(hi)})
    return pd.DataFrame(rows).set_index("group")


def shrinkage_table(
    model: _BayesSurvival, group: str, *, min_size: int = 5, max_draws: int = 200
) -> pd.DataFrame:
    """How far each cluster's effect is pulled towards 0 compared with its own data.

    The unpooled estimate of a cluster is ``log((O + 0.5) / (E + 0.5))``, with
    ``O`` its observed events and ``E`` the events expected from the rest of
    the model (posterior mean over draws of the cumulative hazards without
    this group's effect). Its sampling variance is about ``1 / E``, so the
    normal-approximation pooling factor is ``pooling = 1 / (1 + sigma^2 E)``
    (``sigma^2`` the posterior mean group variance): near 1 for small
    clusters (pulled to the average), near 0 for large ones. Put
    ``posterior_mean`` against ``unpooled`` for the usual shrinkage plot.
    Clusters with fewer than ``min_size`` persons are left out (their number
    is in ``attrs["n_masked_levels"]``).

    Returns
    -------
    pandas.DataFrame
        Index: level; ``n_persons``, ``n_events`` (masked below ``min_size``),
        ``expected``, ``unpooled``, ``posterior_mean``, ``pooling``; sorted by
        ``n_persons``.
    """
    _check(model)
    _check_group(model, group)
    d = model.design_
    post = model.idata_.posterior
    S = post.sizes["chain"] * post.sizes["draw"]
    take = np.linspace(0, S - 1, min(max_draws, S)).round().astype(int)
    eta = model._train_log_cumhaz(take)  # (s, n)
    eta -= _draws(model.idata_, f"u_{group}")[take][:, d.codes[group]]
    L = len(d.levels[group])
    expected = np.bincount(d.codes[group], weights=np.exp(eta).mean(axis=0), minlength=L)
    n, e = _counts(model, group)
    unpooled = np.log((e + 0.5) / (expected + 0.5))
    u_mean = _draws(model.idata_, f"u_{group}").mean(axis=0)
    sigma2 = float((_draws(model.idata_, f"sigma_{group}") ** 2).mean())
    pooling = 1.0 / (1.0 + sigma2 * expected)
    out = pd.DataFrame(
        {
            "n_persons": pd.array(n, dtype="Int64"),
            "n_events": e,
            "expected": expected,
            "unpooled": unpooled,
            "posterior_mean": u_mean,
            "pooling": pooling,
        },
        index=pd.Index(d.levels[group], name=group),
    )
    out["n_events"] = out["n_events"].astype("Int64")
    keep = n >= min_size
    out = out[keep].sort_values("n_persons")
    out.attrs["n_masked_levels"] = int((~keep).sum())
    return out


#: Upper edges (persons) of the cluster-size bands of `shrinkage_summary`, above ``min_size``.
SIZE_BAND_EDGES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def _size_bands(n: np.ndarray, min_size: int) -> tuple[np.ndarray, list[str]]:
    """Band index of each cluster size ``n`` (all ``>= min_size``) and the band labels."""
    edges = [min_size, *(e for e in SIZE_BAND_EDGES if e > min_size)]
    labels = [f"{lo}–{hi - 1}" for lo, hi in pairwise(edges)]
    labels.append(f"≥{edges[-1]}")
    return np.searchsorted(edges, n, side="right") - 1, labels


def shrinkage_summary(
    model: _BayesSurvival,
    group: str,
    *,
    min_size: int = 5,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How strongly cluster effects are pooled, by cluster size (no cluster ids).

    Summarises `shrinkage_table` over bands of persons per cluster
    (``min_size``–9, 10–19, 20–49, …): the number of clusters, the mean
    pooling factor (1 = pulled fully to the average cluster, 0 = own data
    only) and the mean absolute unpooled and posterior log hazard ratios.
    Small clusters should be pooled most. Clusters with fewer than
    ``min_size`` persons are left out; their number is in
    ``attrs["n_masked_levels"]``. No person counts are given, so none can be
    recovered from the cohort total.

    Parameters
    ----------
    model : fitted Bayesian survival model
    group : str
        One of the model's groups.
    min_size : int
        Minimum cell size (persons per cluster).
    table : pandas.DataFrame, optional
        A `shrinkage_table` of the same model, group and ``min_size``, to
        avoid computing it again.

    Returns
    -------
    pandas.DataFrame
        Index ``size_band`` (persons per cluster, non-empty bands only);
        columns ``n_levels``, ``mean_pooling``, ``mean_abs_unpooled``,
        ``mean_abs_posterior`` and ``ratio`` (mean absolute posterior over
        mean absolute unpooled effect; below 1 when effects are shrunk).
    """
    t = shrinkage_table(model, group, min_size=min_size) if table is None else table
    band, labels = _size_bands(t["n_persons"].to_numpy(dtype=float), min_size)
    rows = []
    for b, label in enumerate(labels):
        part = t[band == b]
        if part.empty:
            continue
        unpooled = float(part["unpooled"].abs().mean())
        posterior = float(part["posterior_mean"].abs().mean())
        rows.append(
            {
                "size_band": label,
                "n_levels": len(part),
                "mean_pooling": float(part["pooling"].mean()),
                "mean_abs_unpooled": unpooled,
                "mean_abs_posterior": posterior,
                "ratio": posterior / unpooled if unpooled > 0 else float("nan"),
            }
        )
    cols = ["n_levels", "mean_pooling", "mean_abs_unpooled", "mean_abs_posterior", "ratio"]
    out = pd.DataFrame(rows, columns=["size_band", *cols]).set_index("size_band")
    out.attrs["n_masked_levels"] = int(t.attrs.get("n_masked_levels", 0))
    return out


def _frequentist_log_hr(freq_model: Any) -> pd.Series:
    coef = getattr(freq_model, "coef_", None)
    if coef is None:
        raise ModelError(
            f"{type(freq_model).__name__} has no coef_; fit it first (a Cox or Weibull model)."
        )
    coef = pd.Series(coef, dtype=float)
    if getattr(freq_model, "kind", "") == "weibull" and hasattr(freq_model, "scale_"):
        return -coef / float(freq_model.scale_)  # AFT -> PH: log HR = -coef / scale
    return coef


def compare_with_frequentist(
    model: _BayesSurvival,
    freq_model: Any,
    X: pd.DataFrame | None = None,
    horizon: float | None = None,
    *,
    prob: float = 0.9,
) -> dict[str, Any]:
    """Log hazard ratios (and optionally risks) of a Bayesian and a frequentist model side by side.

    Parameters
    ----------
    model : fitted Bayesian survival model
    freq_model : fitted epi `CoxModel` or `WeibullModel` (log HR = ``-coef/scale``)
        Fitted on the same predictors, without the cluster columns.
    X : pandas.DataFrame, optional
        Persons to compare risks on (with the group columns).
    horizon : float, optional
        Days; needed with ``X``.
    prob : float
        Credible mass.

    Returns
    -------
    dict
        ``coefficients``: DataFrame per predictor with ``bayes_mean``,
        ``bayes_lower``, ``bayes_upper``, ``frequentist``, ``inside``;
        ``risk`` (only with ``X``): mean risks, mean and max absolute
        difference and correlation (aggregates only).
    """
    _check(model)
    freq = _frequentist_log_hr(freq_model)
    coef = _draws(model.idata_, "coef")
    lo, hi = _interval(coef, prob)
    b = pd.DataFrame(
        {"bayes_mean": coef.mean(axis=0), "bayes_lower": lo, "bayes_upper": hi},
        index=pd.Index(model.design_.predictors, name="predictor"),
    )
    common = [c for c in b.index if c in freq.index]
    table = b.loc[common].assign(frequentist=freq.loc[common].to_numpy())
    table["inside"] = (table["frequentist"] >= table["bayes_lower"]) & (
        table["frequentist"] <= table["bayes_upper"]
    )
    out: dict[str, Any] = {"coefficients": table, "risk": None}
    if X is not None:
        if horizon is None:
            raise ModelError("compare_with_frequentist: give horizon together with X.")
        rb = model.predict_risk(X, horizon)
        rf = freq_model.predict_risk(X.drop(columns=list(model.design_.groups)), horizon)
        out["risk"] = risk_agreement(rb, rf)
    return out


def risk_agreement(bayes_risk: Any, frequentist_risk: Any) -> dict[str, Any]:
    """How closely two models' risks for the same persons agree (aggregates only).

    Returns
    -------
    dict
        ``n``, ``mean_bayes``, ``mean_frequentist``, ``mean_abs_difference``,
        ``max_abs_difference`` and ``correlation`` (None for fewer than two
        persons or constant risks).
    """
    rb = np.asarray(bayes_risk, dtype=float)
    rf = np.asarray(frequentist_risk, dtype=float)
    diff = np.abs(rb - rf)
    corr = float(np.corrcoef(rb, rf)[0, 1]) if rb.size > 1 and rb.std() and rf.std() else None
    return {
        "n": int(rb.size),
        "mean_bayes": float(rb.mean()),
        "mean_frequentist": float(rf.mean()),
        "mean_abs_difference": float(diff.mean()),
        "max_abs_difference": float(diff.max()),
        "correlation": corr,
    }
