"""Seeded sampling (PyMC's NUTS or nutpie), MCMC diagnostics and prior predictive checks."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Literal

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from epi.exceptions import DiagnosticsWarning, ModelError

__all__ = [
    "BFMI_MIN",
    "ESS_MIN",
    "RHAT_MAX",
    "available_samplers",
    "check_diagnostics",
    "prior_predictive_check",
    "sample",
]

#: Thresholds enforced by `check_diagnostics` (Vehtari et al. 2021; Betancourt 2016).
RHAT_MAX = 1.01
ESS_MIN = 400.0
BFMI_MIN = 0.3

Sampler = Literal["auto", "pymc", "nutpie"]


def available_samplers() -> list[str]:
    """NUTS implementations usable here: always ``"pymc"``, plus ``"nutpie"`` when installed."""
    out = ["pymc"]
    if importlib.util.find_spec("nutpie") is not None:
        out.append("nutpie")
    return out


def sample(
    model: pm.Model,
    *,
    seed: int,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    cores: int | None = None,
    sampler: Sampler = "auto",
    target_accept: float = 0.9,
    progressbar: bool = False,
) -> az.InferenceData:
    """Draw from the posterior of ``model`` with NUTS; the same seed gives the same draws.

    Parameters
    ----------
    model : pymc.Model
        From a factory such as `build_weibull_ph_model`.
    seed : int
        Random seed (from the protocol).
    draws, tune, chains : int
        Kept draws per chain, tuning steps per chain, number of chains.
    cores : int, optional
        Parallel chains (default ``min(chains, 2)``).
    sampler : {"auto", "pymc", "nutpie"}
        ``"auto"`` uses nutpie when it is installed, PyMC's NUTS otherwise.
    target_accept : float
        Target acceptance rate of the step-size adaptation.
    progressbar : bool
        Show progress.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior``, ``sample_stats`` (with ``diverging``) and
        ``observed_data``.

    Raises
    ------
    ModelError
        Bad settings or a sampler that is not installed.
    """
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ModelError(f"{name} must be an integer >= {low}, got {value!r}.")
    if not 0 < target_accept < 1:
        raise ModelError(f"target_accept must lie in (0, 1), got {target_accept!r}.")
    if sampler == "auto":
        sampler = "nutpie" if "nutpie" in available_samplers() else "pymc"
    if sampler not in ("pymc", "nutpie"):
        raise ModelError(f"sampler must be 'auto', 'pymc' or 'nutpie', got {sampler!r}.")
    if sampler not in available_samplers():
        raise ModelError("sampler 'nutpie' is not installed; pip install nutpie or use 'pymc'.")
    cores = min(chains, 2) if cores is None else cores
    kwargs: dict = {
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "cores": int(cores),
        "random_seed": int(seed),
        "target_accept": float(target_accept),
        "progressbar": progressbar,
        "return_inferencedata": True,
        "compute_convergence_checks": False,
    }
    if sampler == "nutpie":
        kwargs["nuts_sampler"] = "nutpie"
    # Early tuning proposes extreme values whose hazards overflow; NUTS rejects them
    # (after tuning they count as divergences, which check_diagnostics reports), so
    # NumPy's floating-point warnings there carry no information.
    with (
        model,
        np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
        _single_threaded_blas(),
    ):
        idata = pm.sample(**kwargs)
    idata.attrs["epi_sampler"] = sampler
    idata.attrs["epi_seed"] = int(seed)
    return idata


_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """One BLAS thread per chain while sampling, in this process and in chain processes.

    Each chain already has its core; a multi-threaded BLAS inside the
    gradient (NumPy's OpenBLAS, also behind PyTensor's Gemv fallback) then
    oversubscribes the cores and was measured 25x slower on the 20,000 x 30
    benchmark design. The environment is restored afterwards.
    """
    saved = {k: os.environ.get(k) for k in _BLAS_ENV}
    os.environ.update(dict.fromkeys(_BLAS_ENV, "1"))
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            yield
        else:
            with threadpool_limits(limits=1, user_api="blas"):
                yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _flat(da: object, var: str) -> pd.Series:
    """Flatten one variable of an arviz diagnostic Dataset to ``var[label,…]`` entries."""
    arr = da[var]
    if arr.ndim == 0:
        return pd.Series({var: float(arr.values)})
    stacked = arr.stack(_k=list(arr.dims)) if arr.ndim > 1 else arr
    labels = []
    dims = list(arr.dims)
    if arr.ndim == 1:
        labels = [f"{var}[{v}]" for v in arr[dims[0]].values]
        return pd.Series(np.asarray(arr.values, dtype=float), index=labels)
    for key in stacked["_k"].values:
        labels.append(f"{var}[{','.join(str(k) for k in key)}]")
    return pd.Series(np.asarray(stacked.values, dtype=float), index=labels)


def check_diagnostics(
    idata: az.InferenceData,
    var_names: Sequence[str] | None = None,
    *,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
    bfmi_min: float = BFMI_MIN,
    warn: bool = True,
    where: str = "model",
) -> dict:
    """Check R-hat, bulk and tail ESS, divergences and BFMI; warn naming what fails.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior`` and ``sample_stats``.
    var_names : sequence of str, optional
        Variables to check (default: all in the posterior except nutpie's
        unconstrained copies ending in ``__``).
    rhat_max, ess_min, bfmi_min : float
        Thresholds: rank-normalised split R-hat ≤ 1.01, bulk and tail ESS
        ≥ 400, zero divergences, E-BFMI ≥ 0.3 in every chain.
    warn : bool
        Issue a `DiagnosticsWarning` per failed criterion.
    where : str
        Name used in messages.

    Returns
    -------
    dict
        ``table`` (DataFrame: parameter, r_hat, ess_bulk, ess_tail, ok),
        ``divergences`` (int), ``bfmi`` (list per chain), ``max_r_hat``,
        ``min_ess_bulk``, ``min_ess_tail``, ``ok`` (bool) and ``failures``
        (list of messages).
    """
    post = idata.posterior
    if var_names is None:  # nutpie also stores the unconstrained values (``x_log__``)
        names = [v for v in post.data_vars if not str(v).endswith("__")]
    else:
        names = list(var_names)
    rhat = az.rhat(post, var_names=names)
    ess_b = az.ess(post, var_names=names, method="bulk")
    ess_t = az.ess(post, var_names=names, method="tail")
    rows = []
    for v in names:
        r, b, t = _flat(rhat, v), _flat(ess_b, v), _flat(ess_t, v)
        rows.append(pd.DataFrame({"r_hat": r, "ess_bulk": b, "ess_tail": t}))
    table = pd.concat(rows) if rows else pd.DataFrame(columns=["r_hat", "ess_bulk", "ess_tail"])
    table.index.name = "parameter"
    # NaN R-hat comes from constant draws (e.g. a fixed-zero deterministic): not a failure
    bad_rhat = table.index[(table["r_hat"] > rhat_max).to_numpy()]
    bad_bulk = table.index[(table["ess_bulk"] < ess_min).to_numpy()]
    bad_tail = table.index[(table["ess_tail"] < ess_min).to_numpy()]
    table["ok"] = ~table.index.isin(bad_rhat.union(bad_bulk).union(bad_tail))
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    bfmi = [float(b) for b in az.bfmi(idata)] if "energy" in stats else []
    failures: list[str] = []

    def worst(col: str, bad: pd.Index, high: bool) -> str:
        vals = table.loc[bad, col].sort_values(ascending=not high)
        shown = ", ".join(f"{k} ({v:.3g})" for k, v in vals.head(5).items())
        return shown + (f" and {len(vals) - 5} more" if len(vals) > 5 else "")

    n_draws = post.sizes["chain"] * post.sizes["draw"]
    if len(bad_rhat):
        failures.append(
            f"{where}: R-hat above {rhat_max} for {len(bad_rhat)} parameter(s): "
            f"{worst('r_hat', bad_rhat, True)}. Chains disagree; run more tuning and draws "
            "or reparametrise."
        )
    if len(bad_bulk):
        failures.append(
            f"{where}: bulk ESS below {ess_min:g} for {len(bad_bulk)} parameter(s): "
            f"{worst('ess_bulk', bad_bulk, False)} (from {n_draws} draws). Increase draws."
        )
    if len(bad_tail):
        failures.append(
            f"{where}: tail ESS below {ess_min:g} for {len(bad_tail)} parameter(s): "
            f"{worst('ess_tail', bad_tail, False)} (from {n_draws} draws); credible "
            "intervals are unreliable. Increase draws."
        )
    if divergences:
        failures.append(
            f"{where}: {divergences} divergent transition(s) after tuning; the posterior "
            "may be biased. Raise target_accept (e.g. 0.95) or tighten the priors of the "
            "group SDs."
        )
    low_bfmi = [i for i, b in enumerate(bfmi) if b < bfmi_min]
    if low_bfmi:
        failures.append(
            f"{where}: E-BFMI below {bfmi_min} in chain(s) {low_bfmi} "
            f"({', '.join(f'{bfmi[i]:.2f}' for i in low_bfmi)}); the sampler explores the "
            "energy poorly, typically from a group SD near 0. Reparametrise or tighten priors."
        )
    if warn:
        for msg in failures:
            warnings.warn(msg, DiagnosticsWarning, stacklevel=2)
    r_all = table["r_hat"].dropna()
    return {
        "table": table,
        "divergences": divergences,
        "bfmi": bfmi,
        "max_r_hat": float(r_all.max()) if len(r_all) else float("nan"),
        "min_ess_bulk": float(table["ess_bulk"].min()),
        "min_ess_tail": float(table["ess_tail"].min()),
        "ok": not failures,
        "failures": failures,
    }


def prior_predictive_check(
    model: pm.Model,
    *,
    seed: int,
    draws: int = 200,
    observed: str | None = None,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
) -> pd.DataFrame:
    """Simulate data from the priors and summarise them next to the observed data.

    For a survival model (observed ``time`` or ``events``) the statistics are
    the proportion of persons (or episodes) with an event and the mean
    follow-up; the table gives prior-predictive quantiles of each and the
    observed value, and ``in_range`` says whether the observed value lies
    within the central ``quantiles`` range (a prior that cannot produce the
    data is misspecified).

    Parameters
    ----------
    model : pymc.Model
        From a factory.
    seed : int
        Random seed.
    draws : int
        Prior draws.
    observed : str, optional
        Name of the observed variable (default: the model's only one).
    quantiles : sequence of float
        Prior-predictive quantiles to report.

    Returns
    -------
    pandas.DataFrame
        Index: statistic; columns ``q<..>`` per quantile, ``observed``, ``in_range``.
    """
    obs_rvs = model.observed_RVs
    if observed is None:
        if len(obs_rvs) != 1:
            raise ModelError(f"model has {len(obs_rvs)} observed variables; name one.")
        observed = obs_rvs[0].name
    with model:
        prior = pm.sample_prior_predictive(draws=draws, random_seed=seed)
    sim = prior.prior_predictive[observed].values.reshape(draws, -1)
    obs = _observed(model, observed)
    stats: dict[str, tuple[np.ndarray, float]] = {}
    if observed == "time":
        cens = _upper(model, observed)
        stats["event_fraction"] = ((sim < cens).mean(axis=1), float((obs < cens).mean()))
        stats["mean_time"] = (sim.mean(axis=1), float(obs.mean()))
    else:
        stats["mean"] = (sim.mean(axis=1), float(obs.mean()))
        stats["nonzero_fraction"] = ((sim > 0).mean(axis=1), float((obs > 0).mean()))
    rows = {}
    for name, (s, o) in stats.items():
        qv = np.quantile(s, quantiles)
        row = {f"q{q:g}": float(v) for q, v in zip(quantiles, qv, strict=True)}
        row["observed"] = o
        row["in_range"] = bool(qv[0] <= o <= qv[-1])
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "statistic"
    return out


def _observed(model: pm.Model, name: str) -> np.ndarray:
    data = model.rvs_to_values[model[name]]
    return np.asarray(data.data if hasattr(data, "data") else data.eval(), dtype=float)


def _upper(model: pm.Model, name: str) -> np.ndarray:
    """The right-censoring bound of a ``pymc.Censored`` observed variable."""
    rv = model[name]
    cens = rv.owner.inputs[-1]  # the factories pass the simulation censoring times last
    return np.asarray(cens.eval(), dtype=float)
