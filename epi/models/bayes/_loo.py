"""Approximate leave-one-out validation of the Bayesian survival models (PSIS-LOO).

Refitting a model by MCMC in every bootstrap or cross-validation resample is
impractical, but one fit suffices for leave-one-out: the posterior without
person ``i`` is the full posterior reweighted by ``1 / p(y_i | theta)``.
Pareto-smoothed importance sampling (Vehtari, Gelman & Gabry 2017, *Stat
Comput* 27:1413; Vehtari et al. 2024, *JMLR* 25(72)) stabilises those weights
per person, and its Pareto shape estimate ``k̂`` says where the approximation
fails. `loo_risk` turns the weights into each training person's
leave-one-out predictive risk, which epi's validation measures score like the
out-of-fold risks of cross-validation.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
from pymc.model.transform.conditioning import remove_value_transforms
from scipy.special import logsumexp

from epi.exceptions import ModelError, StatisticalWarning

from .._base import check_horizon
from .._cox import check_fitted
from ._factories import split_episodes
from ._model import BayesPiecewiseExponentialModel, _BayesSurvival

__all__ = ["LooResult", "loo_risk", "pointwise_log_likelihood", "psis_k_threshold"]

#: Default number of posterior draws `loo_risk` uses (evenly spaced within each chain).
MAX_DRAWS = 1000
#: Fewest draws accepted: the Pareto tail fit needs a few dozen tail draws.
MIN_DRAWS = 100
#: Elements (draws x persons) per block of persons: 4e6 float64 = 32 MB per matrix.
_BLOCK = 4_000_000


def psis_k_threshold(n_draws: int) -> float:
    """Pareto ``k̂`` above which PSIS is unreliable with ``n_draws`` draws.

    ``min(1 - 1 / log10(S), 0.7)`` (Vehtari et al. 2024, section 3.2.4; the
    ``good_k`` of ``arviz.loo``): 0.67 with 1000 draws, 0.7 from 2154 draws on.

    Parameters
    ----------
    n_draws : int
        Posterior draws ``S`` (> 10).

    Returns
    -------
    float
    """
    return float(min(1.0 - 1.0 / np.log10(n_draws), 0.7))


@dataclass(frozen=True)
class LooResult:
    """PSIS leave-one-out predictions and fit of a Bayesian survival model.

    Attributes
    ----------
    index : pandas.Index
        The training persons, in training order (the index of ``X`` at fit).
    horizon : float
        Days.
    risk : numpy.ndarray
        Leave-one-out predictive risk of event 1 by ``horizon``: the risk of
        each person under the posterior fitted without them,
        ``sum_s w_si risk_si`` with Pareto-smoothed weights ``w``.
    apparent_risk : numpy.ndarray
        Posterior mean risk from the same draws (what ``predict_risk`` gives,
        up to the thinning): the apparent, in-sample prediction.
    pareto_k : numpy.ndarray
        Pareto shape ``k̂`` of each person's importance weights.
    elpd_i : numpy.ndarray
        Pointwise expected log predictive density ``log p(y_i | y_-i)`` of the
        observed survival outcome (time in the model's ``time_scale`` units).
    elpd_loo, se : float
        Sum of ``elpd_i`` and its standard error ``sqrt(n var(elpd_i))``.
    p_loo : float
        Effective number of parameters: in-sample lppd minus ``elpd_loo``.
    k_threshold : float
        `psis_k_threshold` for ``n_draws``.
    n_high_k : int
        Persons with ``pareto_k > k_threshold``: their leave-one-out risk and
        ``elpd_i`` are unreliable (the person dominates the posterior).
    n_draws : int
        Posterior draws used.
    reff : float
        Relative MCMC efficiency passed to PSIS.
    """

    index: pd.Index
    horizon: float
    risk: np.ndarray
    apparent_risk: np.ndarray
    pareto_k: np.ndarray
    elpd_i: np.ndarray
    elpd_loo: float
    se: float
    p_loo: float
    k_threshold: float
    n_high_k: int
    n_draws: int
    reff: float

    def to_frame(self) -> pd.DataFrame:
        """Per-person table: ``risk_loo``, ``risk_apparent``, ``pareto_k``, ``elpd_loo``."""
        return pd.DataFrame(
            {
                "risk_loo": self.risk,
                "risk_apparent": self.apparent_risk,
                "pareto_k": self.pareto_k,
                "elpd_loo": self.elpd_i,
            },
            index=self.index,
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready totals (no per-person arrays)."""
        return {
            "method": "PSIS-LOO (Vehtari, Gelman & Gabry 2017)",
            "horizon_days": self.horizon,
            "n": len(self.risk),
            "elpd_loo": self.elpd_loo,
            "se": self.se,
            "p_loo": self.p_loo,
            "n_draws": self.n_draws,
            "reff": self.reff,
            "k_threshold": self.k_threshold,
            "n_high_k": self.n_high_k,
            "max_pareto_k": float(np.max(self.pareto_k)) if len(self.pareto_k) else float("nan"),
        }


def _check_model(model: object) -> _BayesSurvival:
    if not isinstance(model, _BayesSurvival):
        raise ModelError(
            "PSIS-LOO needs a fitted BayesWeibullPHModel or BayesPiecewiseExponentialModel, "
            f"got {type(model).__name__}; frequentist models are validated by refitting."
        )
    check_fitted(model, "idata_")
    return model


def _check_max_draws(max_draws: int | None) -> int | None:
    if max_draws is None:
        return None
    if (
        not isinstance(max_draws, int | np.integer)
        or isinstance(max_draws, bool)
        or max_draws < MIN_DRAWS
    ):
        raise ModelError(
            f"max_draws must be an integer >= {MIN_DRAWS} (PSIS fits a Pareto tail to the "
            f"largest weights) or None for every draw, got {max_draws!r}."
        )
    return int(max_draws)


def _thinned(model: _BayesSurvival, max_draws: int | None) -> _BayesSurvival:
    """A shallow copy of ``model`` whose posterior keeps at most ``max_draws`` draws.

    Draws are taken evenly spaced within each chain, so the chain structure
    (and with it the relative efficiency of the kept draws) is preserved; the
    copy's ``risk_draws`` then uses exactly the draws the likelihood uses.
    """
    post = model.idata_.posterior
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    if max_draws is None or max_draws >= n_chain * n_draw:
        return model
    per_chain = max(1, max_draws // n_chain)
    keep = np.unique(np.linspace(0, n_draw - 1, per_chain).round().astype(int))
    thin = copy.copy(model)
    thin.idata_ = az.InferenceData(posterior=post.isel(draw=keep))
    thin.idata_.attrs.update(getattr(model.idata_, "attrs", {}))
    return thin


def _stacked(values: np.ndarray) -> np.ndarray:
    return values.reshape((values.shape[0] * values.shape[1], *values.shape[2:]))


def _episode_map(model: _BayesSurvival, size: int, observed: np.ndarray, name: str) -> np.ndarray:
    """Person row of each element of an observed variable (one per person, or per episode)."""
    d = model.design_
    n = len(d.time)
    if size == n:
        return np.arange(n)
    cuts = getattr(model, "cuts_", None)
    if isinstance(model, BayesPiecewiseExponentialModel) and cuts is not None:
        rows, _, _, dead = split_episodes(d.time, d.event, np.asarray(cuts) / d.time_scale)
        if (
            rows.size == size
            and np.array_equal(dead, observed.astype(np.int64))
            and np.array_equal(np.bincount(rows, weights=observed, minlength=n), d.event)
        ):
            return rows
    raise ModelError(
        f"{type(model).__name__}: cannot map the {size} values of the observed variable "
        f"{name!r} to the {n} training persons (neither one per person nor one per "
        "follow-up episode at the model's cuts_); the model's likelihood changed in a way "
        "PSIS-LOO in epi/models/bayes/_loo.py does not know yet."
    )


def _pe_constant(model: _BayesSurvival, n: int) -> np.ndarray:
    """Per person ``sum_episodes y log(exposure)``: Poisson minus survival log-likelihood."""
    d = model.design_
    rows, _, expo, dead = split_episodes(d.time, d.event, np.asarray(model.cuts_) / d.time_scale)
    return np.bincount(rows, weights=dead * np.log(expo), minlength=n)


def pointwise_log_likelihood(
    model: _BayesSurvival, *, max_draws: int | None = MAX_DRAWS
) -> np.ndarray:
    """Survival log-likelihood of each training person under each posterior draw.

    ``ll_si = d_i log h_i(t_i) - H_i(t_i)`` for right-censored follow-up
    ``t_i`` (in the model's ``time_scale`` units), ``d_i = 1`` for event 1
    (competing death, ``event == 2``, is censored, as in the models). The
    values come from PyMC's element-wise log density of the model's observed
    variable(s), evaluated draw by draw (so the result follows the model's own
    likelihood, whatever its parametrisation). For the piecewise-exponential
    model the observed variable is one Poisson count per follow-up episode;
    the episodes are summed per person and ``sum y log(exposure)`` (constant
    in the parameters; ``log y! = 0`` for 0/1 counts) is subtracted, which
    leaves the piecewise-constant-hazard survival log-likelihood.

    Parameters
    ----------
    model : BayesWeibullPHModel or BayesPiecewiseExponentialModel
        Fitted.
    max_draws : int or None, default 1000
        Use at most this many draws, evenly spaced within each chain
        (``None``: every draw). The result has ``draws x persons`` float64
        elements (1000 x 20 000 persons: 160 MB).

    Returns
    -------
    numpy.ndarray
        Shape (draws, persons); persons in training order, draws with chains
        stacked (chain 0's first).

    Raises
    ------
    ModelError
        ``model`` is not a fitted Bayesian survival model, ``max_draws`` is
        bad, or a log-likelihood is not finite.
    """
    model = _check_model(model)
    return _pointwise(_thinned(model, _check_max_draws(max_draws)))


def _pointwise(model: _BayesSurvival) -> np.ndarray:
    umodel = remove_value_transforms(model.model_)
    observed = list(umodel.observed_RVs)
    fn = umodel.compile_fn(
        inputs=umodel.value_vars,
        outs=umodel.logp(vars=observed, sum=False),
        on_unused_input="ignore",
    )
    post = model.idata_.posterior
    names = [v.name for v in umodel.value_vars]
    missing = [v for v in names if v not in post]
    if missing:
        raise ModelError(
            f"{type(model).__name__}: the posterior lacks the free variable(s) {missing} of "
            "model_; was idata_ sampled from this model?"
        )
    draws = {v: _stacked(post[v].values) for v in names}
    n_draws = post.sizes["chain"] * post.sizes["draw"]
    n = len(model.design_.time)
    maps = []
    for rv in observed:
        value = np.asarray(umodel.rvs_to_values[rv].data)
        maps.append(_episode_map(model, value.size, value.ravel(), rv.name))
    ll = np.zeros((n_draws, n))
    for s in range(n_draws):
        out = fn({v: draws[v][s] for v in names})
        for rows, part in zip(maps, out, strict=True):
            ll[s] += np.bincount(rows, weights=np.ravel(part), minlength=n)
    if isinstance(model, BayesPiecewiseExponentialModel):
        ll -= _pe_constant(model, n)[None, :]
    bad = ~np.isfinite(ll)
    if bad.any():
        persons = np.flatnonzero(bad.any(axis=0))
        raise ModelError(
            f"{type(model).__name__}: the log-likelihood is not finite for {persons.size} "
            f"person(s) (training rows {persons[:5].tolist()}) in {int(bad.any(axis=1).sum())} "
            "draw(s); check the follow-up times (> 0) and the posterior."
        )
    return ll


def _reff(model: _BayesSurvival) -> float:
    """Relative efficiency as ``arviz.loo``: mean ESS of all posterior variables / draws."""
    post = model.idata_.posterior
    if post.sizes["chain"] == 1:
        return 1.0
    ess = az.ess(post, method="mean")
    mean = float(np.nanmean(np.hstack([ess[v].values.ravel() for v in ess.data_vars])))
    return mean / (post.sizes["chain"] * post.sizes["draw"])


def _training_X(model: _BayesSurvival) -> pd.DataFrame:
    """The training predictors (original scale) and cluster ids, in training order."""
    d = model.design_
    n = len(d.time)
    index = d.person_index if len(d.person_index) == n else pd.RangeIndex(n)
    X = pd.DataFrame(d.Z * d.scale + d.center, columns=list(d.predictors), index=index)
    for g in d.groups:
        X[g] = np.asarray(d.levels[g], dtype=object)[d.codes[g]]
    return X


def loo_risk(
    model: _BayesSurvival,
    horizon: float,
    *,
    max_draws: int | None = MAX_DRAWS,
    reff: float | None = None,
    warn: bool = True,
) -> LooResult:
    """PSIS leave-one-out risk of event 1 by ``horizon`` for every training person.

    From the one MCMC fit: per person ``i`` and draw ``s`` the survival
    log-likelihood ``ll_si`` (`pointwise_log_likelihood`) gives raw
    importance weights ``exp(-ll_si)`` for the posterior without ``i``; they
    are Pareto-smoothed per person (``arviz.psislw``) and normalised to
    ``w_si``, and the leave-one-out risk is ``sum_s w_si risk_si`` with
    ``risk_si`` from the model's ``risk_draws`` for the training person (own
    predictors and own practice and municipality effects). Scored with epi's
    validation measures against the training outcomes, these risks give a
    leave-one-out (cross-validated) performance without refitting; compared
    with the apparent performance of ``predict_risk`` they give its optimism.

    Parameters
    ----------
    model : BayesWeibullPHModel or BayesPiecewiseExponentialModel
        Fitted.
    horizon : float
        Days (> 0).
    max_draws : int or None, default 1000
        Use at most this many posterior draws, evenly spaced within each chain
        (``None``: all). Memory: one draws x persons float64 matrix (1000 x
        20 000: 160 MB); risks and weights are handled in blocks of persons.
    reff : float, optional
        Relative MCMC efficiency of the draws for PSIS; default as
        ``arviz.loo``: the mean bulk ESS of the posterior variables over the
        number of draws (1 with one chain).
    warn : bool, default True
        Warn (`StatisticalWarning`) when some persons have ``k̂`` above
        `psis_k_threshold`.

    Returns
    -------
    LooResult
        ``risk`` (leave-one-out), ``apparent_risk``, ``pareto_k``,
        ``elpd_i``, ``elpd_loo``, ``se``, ``p_loo``, ``n_high_k``,
        ``k_threshold``, ``n_draws``, ``reff``, ``index`` and ``horizon``.

    Raises
    ------
    ModelError
        ``model`` is not a fitted Bayesian survival model; ``horizon``,
        ``max_draws`` or ``reff`` is bad.

    Warns
    -----
    StatisticalWarning
        ``n_high_k`` persons have ``k̂`` above the threshold: their
        leave-one-out risks are unreliable (the posterior without them differs
        much from the full one). More draws lower ``k̂`` only a little; for
        exact values refit without those persons, or use K-fold validation.

    Notes
    -----
    ``risk`` and ``elpd_i`` are in training order (``index``). The horizon may
    exceed a person's follow-up: the leave-one-out risk is a prediction, like
    any other, scored against the observed outcome by the validation measures.

    Leave-one-out scored by a rank measure (Harrell's C, AUC) is pessimistic
    in small samples, exact or approximate: leaving out a person with the
    event lowers their risk and leaving out a censored person raises it, so
    the pooled risks are shifted against the outcomes (Airola et al. 2011,
    *Comput Stat Data Anal* 55:1828). In a 300-person simulation (8
    predictors, about 100 events) C was 0.74 apparent, 0.64 leave-one-out
    and 0.66 in 4000 new persons; the shift, and so the bias, shrinks as ``n`` grows.

    Examples
    --------
    >>> from epi.models.bayes import BayesWeibullPHModel, loo_risk
    >>> from epi.validation import harrell_c
    >>> fit = BayesWeibullPHModel(groups=("practice_id",)).fit(X, outcome)  # doctest: +SKIP
    >>> loo = loo_risk(fit, 730.5)  # doctest: +SKIP
    >>> y = (outcome["duration"], outcome["event"])  # doctest: +SKIP
    >>> c_loo = harrell_c(*y, loo.risk, 730.5)  # doctest: +SKIP
    >>> c_app = harrell_c(*y, loo.apparent_risk, 730.5)  # doctest: +SKIP
    >>> optimism = c_app - c_loo  # doctest: +SKIP
    >>> loo.n_high_k, loo.summary()["elpd_loo"]  # doctest: +SKIP
    """
    model = _check_model(model)
    h = check_horizon(horizon)
    thin = _thinned(model, _check_max_draws(max_draws))
    if reff is None:
        reff = _reff(thin)
    elif isinstance(reff, bool) or not (
        isinstance(reff, int | float | np.floating) and 0 < reff <= 10
    ):
        raise ModelError(f"reff must be a number in (0, 10], got {reff!r}.")
    ll = _pointwise(thin)  # (S, n)
    S, n = ll.shape
    X = _training_X(thin)
    risk = np.empty(n)
    apparent = np.empty(n)
    k = np.empty(n)
    elpd_i = np.empty(n)
    lppd_i = np.empty(n)
    step = max(1, _BLOCK // S)
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        r = thin.risk_draws(X.iloc[rows], h)  # (S, m)
        block = np.ascontiguousarray(ll[:, rows].T)  # (m, S): one row per person
        lppd_i[rows] = logsumexp(block, axis=1) - np.log(S)
        lw, k[rows] = az.psislw(-block, float(reff))  # normalised log weights
        elpd_i[rows] = logsumexp(lw + block, axis=1)
        risk[rows] = np.einsum("is,si->i", np.exp(lw), r)
        apparent[rows] = r.mean(axis=0)
    threshold = psis_k_threshold(S)
    n_high = int(np.sum(k > threshold))
    if warn and n_high:
        warnings.warn(
            f"{type(model).__name__}: PSIS-LOO is unreliable for {n_high} of {n} persons "
            f"(Pareto k > {threshold:.2f}, max {np.max(k):.2f}); their leave-one-out risks "
            "lean on too few draws. See LooResult.pareto_k; refit without them or use "
            "K-fold validation for exact values.",
            StatisticalWarning,
            stacklevel=2,
        )
    elpd = float(elpd_i.sum())
    return LooResult(
        index=X.index,
        horizon=h,
        risk=np.clip(risk, 0.0, 1.0),
        apparent_risk=apparent,
        pareto_k=np.asarray(k, dtype=float),
        elpd_i=elpd_i,
        elpd_loo=elpd,
        se=float(np.sqrt(n * np.var(elpd_i))),
        p_loo=float(lppd_i.sum() - elpd),
        k_threshold=threshold,
        n_high_k=n_high,
        n_draws=S,
        reff=float(reff),
    )
