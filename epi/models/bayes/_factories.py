"""Model factories: Weibull PH and piecewise-exponential likelihoods with crossed random effects.

Every factory returns a `pymc.Model` with named coords and dims and samples
nothing; sampling is the separate, seeded step `epi.models.bayes.sample`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from epi.exceptions import ModelError

from .._base import check_outcome, check_X
from ._priors import Priors

__all__ = [
    "SurvivalDesign",
    "build_piecewise_exponential_model",
    "build_weibull_ph_model",
    "default_target_accept",
    "noncentred_effect",
    "prepare_design",
    "resolve_parametrisation",
]


@dataclass
class SurvivalDesign:
    """Training data in the form the factories use (predictors standardised).

    Attributes
    ----------
    predictors : list of str
        Predictor columns of ``X`` (every column except the group columns).
    center, scale : numpy.ndarray
        Training means and SDs used to standardise the predictors.
    Z : numpy.ndarray
        Standardised predictors, shape (n, p).
    groups : tuple of str
        Cluster columns.
    codes : dict
        ``{group: integer level index per person}``.
    levels : dict
        ``{group: level labels (str), in coord order}``.
    slopes : dict
        ``{group: predictors with a random slope}``.
    time : numpy.ndarray
        Follow-up in units of ``time_scale`` days.
    event : numpy.ndarray
        1 for the outcome, 0 otherwise (competing death is censored).
    time_scale : float
        Days per model time unit.
    """

    predictors: list[str]
    center: np.ndarray
    scale: np.ndarray
    Z: np.ndarray
    groups: tuple[str, ...]
    codes: dict[str, np.ndarray]
    levels: dict[str, list[str]]
    slopes: dict[str, list[str]]
    time: np.ndarray
    event: np.ndarray
    time_scale: float
    person_index: pd.Index = field(default_factory=pd.Index)

    @property
    def blocks(self) -> dict[str, list[int]]:
        """Predictor positions per feature block (the ``prefix__`` of the name)."""
        out: dict[str, list[int]] = {}
        for j, name in enumerate(self.predictors):
            block = name.split("__", 1)[0] if "__" in name else "other"
            out.setdefault(block, []).append(j)
        return out

    def coords(self) -> dict[str, list[str]]:
        """Named coordinates for the model."""
        coords: dict[str, list[str]] = {"predictor": list(self.predictors)}
        for g in self.groups:
            coords[g] = list(self.levels[g])
        for g, cols in self.slopes.items():
            coords[f"slope_{g}"] = list(cols)
        return coords


def _check_groups(X: pd.DataFrame, groups: Sequence[str]) -> tuple[str, ...]:
    if isinstance(groups, str):
        groups = (groups,)
    groups = tuple(groups)
    missing = [g for g in groups if g not in X.columns]
    if missing:
        raise ModelError(
            f"X lacks the group column(s) {missing} named in groups={list(groups)}; "
            "add the cluster ids (e.g. practice_id) to X as columns."
        )
    for g in groups:
        n_missing = int(X[g].isna().sum())
        if n_missing:
            raise ModelError(
                f"group column {g!r} has {n_missing} missing value(s); every person needs a "
                "cluster id (use an explicit 'unknown' level if that is what you mean)."
            )
    if len(set(groups)) != len(groups):
        raise ModelError(f"groups has repeated columns: {list(groups)}.")
    return groups


def _check_slopes(
    slopes: Mapping[str, Sequence[str]] | None, groups: tuple[str, ...], predictors: list[str]
) -> dict[str, list[str]]:
    if not slopes:
        return {}
    out: dict[str, list[str]] = {}
    for g, cols in slopes.items():
        if g not in groups:
            raise ModelError(f"slopes: {g!r} is not one of the groups {list(groups)}.")
        cols = [cols] if isinstance(cols, str) else list(cols)
        unknown = [c for c in cols if c not in predictors]
        if unknown or not cols:
            raise ModelError(
                f"slopes[{g!r}]: {unknown or 'no columns'} are not predictors in X; "
                f"predictors: {predictors[:10]}{' …' if len(predictors) > 10 else ''}."
            )
        out[g] = cols
    return out


def prepare_design(
    X: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    groups: Sequence[str] = (),
    slopes: Mapping[str, Sequence[str]] | None = None,
    time_scale: float = 365.25,
    min_events: int = 10,
) -> SurvivalDesign:
    """Check ``X`` and ``outcome`` and turn them into a `SurvivalDesign`.

    Parameters
    ----------
    X : pandas.DataFrame
        Numeric predictors plus the group columns (cluster ids, any dtype;
        compared as strings).
    outcome : pandas.DataFrame
        ``duration`` (days > 0) and ``event`` (0, 1, 2). ``event == 2``
        (competing death) is treated as censored: the models estimate the
        cause-specific hazard of event 1.
    groups : sequence of str
        Cluster columns of ``X`` that get crossed random intercepts.
    slopes : mapping, optional
        ``{group: [predictor, ...]}`` random slopes (independent, non-centred).
    time_scale : float
        Days per model time unit (365.25: years).
    min_events : int
        Fewest outcome events accepted.

    Returns
    -------
    SurvivalDesign

    Raises
    ------
    ModelError
        Bad predictors, outcome, group or slope settings.
    """
    groups = _check_groups(X, groups)
    predictors = [c for c in X.columns if c not in groups]
    if not np.isfinite(time_scale) or time_scale <= 0:
        raise ModelError(f"time_scale must be a number of days > 0, got {time_scale!r}.")
    if predictors:
        check_X(X[predictors])
    elif len(X) == 0:
        raise ModelError("X has no rows.")
    duration, event = check_outcome(outcome, X, min_events=min_events)
    values = X[predictors].to_numpy(dtype=float) if predictors else np.zeros((len(X), 0))
    center = values.mean(axis=0)
    scale = values.std(axis=0)
    constant = [c for c, s in zip(predictors, scale, strict=True) if s == 0]
    if constant:
        raise ModelError(
            f"X has {len(constant)} constant column(s): {constant[:5]}; they carry no "
            "information and make the intercept unidentifiable. Drop them."
        )
    codes: dict[str, np.ndarray] = {}
    levels: dict[str, list[str]] = {}
    for g in groups:
        labels = X[g].astype(str).to_numpy()
        lv, idx = np.unique(labels, return_inverse=True)
        codes[g] = idx.astype(np.int64)
        levels[g] = [str(v) for v in lv]
    return SurvivalDesign(
        predictors=predictors,
        center=center,
        scale=scale,
        Z=(values - center) / scale if predictors else values,
        groups=groups,
        codes=codes,
        levels=levels,
        slopes=_check_slopes(slopes, groups, predictors),
        time=duration / time_scale,
        event=(event == 1).astype(np.int64),
        time_scale=float(time_scale),
        person_index=X.index,
    )


def noncentred_effect(name: str, dim: str, sigma_scale: float) -> pt.TensorVariable:
    """Non-centred group effect ``u = sigma * z`` inside the current model context.

    Creates ``sigma_<name> ~ HalfNormal(sigma_scale)``, ``z_<name> ~ Normal(0, 1)``
    over ``dim`` and the deterministic ``u_<name> = sigma_<name> * z_<name>``.

    Parameters
    ----------
    name : str
        Suffix of the variable names.
    dim : str
        Coordinate name of the groups (must be in the model's coords).
    sigma_scale : float
        Scale of the HalfNormal prior on the SD.

    Returns
    -------
    pytensor.tensor.TensorVariable
        ``u_<name>``, one value per level of ``dim``.
    """
    sigma = pm.HalfNormal(f"sigma_{name}", sigma=sigma_scale)
    z = pm.Normal(f"z_{name}", 0.0, 1.0, dims=dim)
    return pm.Deterministic(f"u_{name}", sigma * z, dims=dim)


def _horseshoe(name: str, p: int, n_events: int, priors: Priors) -> pt.TensorVariable:
    """Regularised horseshoe coefficients (Piironen & Vehtari 2017, non-centred)."""
    p0 = max(1.0, priors.horseshoe_nonzero_fraction * p)
    tau0 = p0 / max(p - p0, 1.0) / np.sqrt(max(n_events, 1))
    tau = pm.HalfStudentT(f"hs_tau_{name}", nu=1, sigma=tau0)
    lam = pm.HalfStudentT(f"hs_lambda_{name}", nu=1, sigma=1.0, shape=p)
    c2 = pm.InverseGamma(
        f"hs_c2_{name}",
        alpha=priors.slab_df / 2,
        beta=priors.slab_df * priors.slab_scale**2 / 2,
    )
    lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
    z = pm.Normal(f"hs_z_{name}", 0.0, 1.0, shape=p)
    return z * tau * lam_tilde


#: NUTS target acceptance of models without, and with, a horseshoe block
#: (`default_target_accept`).
DEFAULT_TARGET_ACCEPT = 0.9
HORSESHOE_TARGET_ACCEPT = 0.99


def default_target_accept(model: pm.Model) -> float:
    """NUTS target acceptance for a factory's model: 0.99 with a horseshoe block, else 0.9.

    The regularised horseshoe gives a few divergent transitions at 0.9 even
    in its non-centred form: where the slab variance ``hs_c2`` and a
    signal's local scale are large, the signal's ``hs_z`` must sit in a neck
    of width about (posterior SD of the coefficient) / ``sqrt(hs_c2)``.
    Measured on 24 predictors with three signals and 120-240 events (2
    chains x 1,000 draws, PyMC's NUTS): 1-8 divergences in each of 6 fits
    at 0.9, one fit in 3 with one at 0.95, none in 4 fits at 0.99 (about
    twice the sampling time of 0.9). Writing each half-Cauchy as
    ``HalfNormal * sqrt(InverseGamma(1/2, 1/2))`` (as rstanarm does) also
    removed the divergences at 0.9, at the same cost, but its heavy-tailed
    auxiliary variables then failed R-hat (1.013) or came near the tail-ESS
    threshold, so the parametrisation is kept and the target raised, as
    rstanarm does for its ``hs`` priors (``adapt_delta`` 0.99).

    Parameters
    ----------
    model : pymc.Model
        From `build_weibull_ph_model` or `build_piecewise_exponential_model`.

    Returns
    -------
    float
    """
    horseshoe = any(v.name.startswith("hs_tau_") for v in model.free_RVs)
    return HORSESHOE_TARGET_ACCEPT if horseshoe else DEFAULT_TARGET_ACCEPT


#: ``parametrisation="auto"`` centres a group when its median number of events per
#: level times the prior group variance reaches this (see `resolve_parametrisation`).
CENTRED_INFORMATION = 10.0


def resolve_parametrisation(
    design: SurvivalDesign, priors: Priors, parametrisation: str | Mapping[str, str] = "auto"
) -> dict[str, str]:
    """``{group: "centred" | "noncentred"}`` for the random intercepts.

    The non-centred form ``u = sigma z`` samples well when the data say little
    about each level (many small practices); when every level has many events
    (a few large municipalities) the likelihood pins each ``u`` down and the
    centred form ``u ~ Normal(0, sigma)`` samples better (Betancourt &
    Girolami 2015). ``"auto"`` centres a group when the median events per
    level times ``priors.group_sd**2`` is at least `CENTRED_INFORMATION`
    (the data's precision about a level against the prior's), and keeps the
    non-centred form otherwise.

    Parameters
    ----------
    design : SurvivalDesign
    priors : Priors
    parametrisation : {"auto", "noncentred", "centred"} or mapping
        One setting for every group, or ``{group: setting}`` (others "auto").

    Returns
    -------
    dict
    """
    allowed = ("auto", "noncentred", "centred")
    if isinstance(parametrisation, str):
        setting = dict.fromkeys(design.groups, parametrisation)
    elif isinstance(parametrisation, Mapping):
        unknown = sorted(set(parametrisation) - set(design.groups))
        if unknown:
            raise ModelError(
                f"parametrisation names {unknown}, which are not groups {list(design.groups)}."
            )
        setting = {g: parametrisation.get(g, "auto") for g in design.groups}
    else:
        raise ModelError(f"parametrisation must be a string or mapping, got {parametrisation!r}.")
    out = {}
    for g, value in setting.items():
        if value not in allowed:
            raise ModelError(f"parametrisation of {g!r} must be one of {allowed}, got {value!r}.")
        if value == "auto":
            events = np.bincount(design.codes[g], weights=design.event)
            info = float(np.median(events)) * priors.group_sd**2
            value = "centred" if info >= CENTRED_INFORMATION else "noncentred"
        out[g] = value
    return out


def _linear_predictor(
    design: SurvivalDesign,
    priors: Priors,
    log_rate0: float,
    *,
    intercept: bool = True,
    parametrisation: Mapping[str, str] | None = None,
) -> pt.TensorVariable:
    """Intercept, coefficients (Normal or horseshoe per block) and random effects, per person."""
    parametrisation = dict(parametrisation or {})
    n_events = int(design.event.sum())
    centred = [g for g in design.groups if parametrisation.get(g) == "centred"]
    # hierarchical centring (Gelfand, Sahu & Carlin 1995): the first centred group's
    # levels are sampled as alpha + u, so the intercept is their mean and not a ridge
    # against them (with few, large municipalities that ridge cost most of the ESS)
    absorbs = centred[0] if (intercept and centred) else None
    if intercept:
        alpha = pm.Normal("intercept", mu=log_rate0, sigma=priors.intercept_sd)
        eta = pt.zeros(design.time.shape[0]) + (0.0 if absorbs else alpha)
    else:
        alpha = None
        eta = pt.zeros(design.time.shape[0])
    p = len(design.predictors)
    if p:
        parts: list[tuple[list[int], pt.TensorVariable]] = []
        for block, idx in design.blocks.items():
            use_hs = priors.coef == "horseshoe" or (
                priors.coef == "auto" and len(idx) >= priors.horseshoe_min_columns
            )
            if use_hs:
                parts.append((idx, _horseshoe(block, len(idx), n_events, priors)))
            else:
                b = pm.Normal(f"beta_{block}", 0.0, priors.coef_sd, shape=len(idx))
                parts.append((idx, b))
        order = np.argsort(np.concatenate([np.asarray(i) for i, _ in parts]))
        beta_all = pt.concatenate([b for _, b in parts])[order]
        beta = pm.Deterministic("beta", beta_all, dims="predictor")
        eta = eta + pt.dot(pt.as_tensor_variable(design.Z), beta)
        coef = pm.Deterministic("coef", beta / design.scale, dims="predictor")
        if alpha is not None:  # intercept at x = 0 on the original predictor scale
            pm.Deterministic("intercept_raw", alpha - pt.sum(coef * design.center))
    for g in design.groups:
        if g == absorbs:
            sigma = pm.HalfNormal(f"sigma_{g}", sigma=priors.group_sd)
            level = pm.Normal(f"level_{g}", alpha, sigma, dims=g)
            pm.Deterministic(f"u_{g}", level - alpha, dims=g)
            eta = eta + level[design.codes[g]]
            continue
        if g in centred:
            sigma = pm.HalfNormal(f"sigma_{g}", sigma=priors.group_sd)
            u = pm.Normal(f"u_{g}", 0.0, sigma, dims=g)
        else:
            u = noncentred_effect(g, g, priors.group_sd)
        eta = eta + u[design.codes[g]]
    for g, cols in design.slopes.items():
        dim = f"slope_{g}"
        sigma = pm.HalfNormal(f"sigma_slope_{g}", sigma=priors.slope_sd, dims=dim)
        z = pm.Normal(f"z_slope_{g}", 0.0, 1.0, dims=(g, dim))
        v = pm.Deterministic(f"v_slope_{g}", z * sigma, dims=(g, dim))
        cols_idx = [design.predictors.index(c) for c in cols]
        eta = eta + pt.sum(v[design.codes[g]] * design.Z[:, cols_idx], axis=1)
    return eta


def _log_crude_rate(design: SurvivalDesign) -> float:
    return float(np.log(max(design.event.sum(), 0.5) / design.time.sum()))


def build_weibull_ph_model(
    X: pd.DataFrame | SurvivalDesign,
    outcome: pd.DataFrame | None = None,
    *,
    groups: Sequence[str] = (),
    slopes: Mapping[str, Sequence[str]] | None = None,
    priors: Priors | Mapping[str, float] | None = None,
    time_scale: float = 365.25,
    parametrisation: str | Mapping[str, str] = "auto",
) -> pm.Model:
    """Weibull proportional-hazards model with crossed random intercepts (non-centred).

    Hazard ``h(t | x) = k t^(k-1) exp(eta)`` with
    ``eta = intercept + z·beta + sum_g u_g[level] (+ random slopes)`` where ``z``
    are the standardised predictors and ``t`` is time in ``time_scale`` days.
    The log-likelihood per person is ``d (log k + (k-1) log t + eta) - e^eta t^k``
    (a right-censored Weibull with PyMC's ``alpha = k``, ``beta = exp(-eta/k)``),
    written out as a ``pymc.CustomDist`` so its gradient is cheap; ``event == 2``
    is censored, so the model estimates the cause-specific hazard of event 1.

    Parameters
    ----------
    X : pandas.DataFrame or SurvivalDesign
        Predictors and group columns, or a prepared design.
    outcome : pandas.DataFrame, optional
        ``duration`` and ``event``; required unless ``X`` is a design.
    groups, slopes, time_scale
        See `prepare_design`.
    priors : Priors or mapping, optional
        Prior settings (defaults: `Priors`).
    parametrisation : {"auto", "noncentred", "centred"} or mapping
        Per group; see `resolve_parametrisation` (``"auto"``: non-centred
        unless every level carries many events).

    Returns
    -------
    pymc.Model
        Coords ``predictor``, one per group and ``slope_<group>``; free variables
        ``intercept``, ``beta_<block>`` (or ``hs_*`` for horseshoe blocks),
        ``weibull_shape``, ``sigma_<group>``, and per group ``z_<group>``
        (non-centred), ``level_<group>`` (the first centred group, sampled as
        intercept + effect) or ``u_<group>`` (other centred groups);
        deterministics ``beta`` (log HR per SD), ``coef`` (log HR per unit)
        and ``u_<group>`` where not free; observed ``time``.
    """
    design = _as_design(X, outcome, groups, slopes, time_scale)
    priors = Priors.from_any(priors)
    with pm.Model(coords=design.coords()) as model:
        eta = _linear_predictor(
            design,
            priors,
            _log_crude_rate(design),
            parametrisation=resolve_parametrisation(design, priors, parametrisation),
        )
        k = pm.LogNormal("weibull_shape", mu=0.0, sigma=priors.weibull_shape_log_sd)
        # right-censoring bound: the follow-up of censored persons, +inf after an event
        upper = np.where(design.event == 1, np.inf, design.time)
        pm.CustomDist(
            "time",
            k,
            eta,
            upper,
            _potential_censoring(design),
            logp=_weibull_ph_logp,
            random=_weibull_ph_random,
            observed=design.time,
        )
    return model


def _potential_censoring(design: SurvivalDesign) -> np.ndarray:
    """Censoring times for simulation: observed for the censored, imputed after an event.

    A person with an event was under observation at least until the event; their
    potential censoring time is drawn (fixed seed) from the follow-up of the
    censored persons still followed at that time, or the longest follow-up
    when none is. Used only by the prior and posterior predictive simulation.
    """
    rng = np.random.default_rng(0)
    out = design.time.copy()
    cens = np.sort(design.time[design.event == 0])
    for i in np.flatnonzero(design.event == 1):
        pool = cens[np.searchsorted(cens, design.time[i]) :]
        out[i] = rng.choice(pool) if pool.size else design.time.max()
    return out


def _weibull_ph_logp(
    value: pt.TensorVariable,
    k: pt.TensorVariable,
    eta: pt.TensorVariable,
    upper: pt.TensorVariable,
    cens: pt.TensorVariable,
) -> pt.TensorVariable:
    """Right-censored Weibull PH log-likelihood: ``d (log k + (k-1) log t + eta) - e^eta t^k``."""
    log_t = pt.log(value)
    event = pt.lt(value, upper)
    return pt.switch(event, pt.log(k) + (k - 1) * log_t + eta, 0.0) - pt.exp(eta + k * log_t)


def _weibull_ph_random(
    k: np.ndarray,
    eta: np.ndarray,
    upper: np.ndarray,
    cens: np.ndarray,
    rng: np.random.Generator | None = None,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Event times ``(E / e^eta)^(1/k)``, E ~ Exp(1), censored at ``cens``."""
    rng = rng if rng is not None else np.random.default_rng()
    shape = size if size is not None else np.broadcast(k, eta, cens).shape
    t = (rng.exponential(1.0, size=shape) / np.exp(eta)) ** (1.0 / k)
    return np.minimum(t, cens)


def default_cuts(design: SurvivalDesign, n_intervals: int) -> np.ndarray:
    """Interior cut points (model time units) at quantiles of the event times."""
    times = design.time[design.event == 1]
    qs = np.linspace(0, 1, n_intervals + 1)[1:-1]
    cuts = np.unique(np.quantile(times, qs))
    return cuts[cuts > 0]


def split_episodes(
    time: np.ndarray, event: np.ndarray, cuts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split follow-up at ``cuts``: (person row, interval, exposure, event) per episode."""
    edges = np.concatenate([[0.0], np.asarray(cuts, dtype=float), [np.inf]])
    rows, ints, expo, dead = [], [], [], []
    for j in range(len(edges) - 1):
        lo, hi = edges[j], edges[j + 1]
        at_risk = time > lo
        idx = np.flatnonzero(at_risk)
        rows.append(idx)
        ints.append(np.full(idx.size, j))
        expo.append(np.minimum(time[idx], hi) - lo)
        dead.append(((event[idx] == 1) & (time[idx] <= hi)).astype(np.int64))
    return (np.concatenate(rows), np.concatenate(ints), np.concatenate(expo), np.concatenate(dead))


def build_piecewise_exponential_model(
    X: pd.DataFrame | SurvivalDesign,
    outcome: pd.DataFrame | None = None,
    *,
    groups: Sequence[str] = (),
    slopes: Mapping[str, Sequence[str]] | None = None,
    priors: Priors | Mapping[str, float] | None = None,
    time_scale: float = 365.25,
    cuts: Sequence[float] | None = None,
    n_intervals: int = 6,
    parametrisation: str | Mapping[str, str] = "auto",
) -> pm.Model:
    """Piecewise-exponential PH model (Poisson with exposure) with crossed random intercepts.

    Follow-up is split at ``cuts`` into episodes; the number of events in an
    episode is Poisson with mean ``exposure * exp(log_rate[interval] + eta)``,
    which gives the same likelihood as the piecewise-constant hazard model.
    ``eta`` is as in `build_weibull_ph_model` without its intercept.

    The baseline is sampled as ``log_rate = intercept + log_rate_offset`` with
    ``intercept ~ Normal(log crude rate, baseline_log_rate_sd / sqrt(J))`` (the
    mean of the ``J`` log rates) and zero-sum offsets
    ``log_rate_offset ~ ZeroSumNormal(baseline_log_rate_sd)``: jointly exactly
    the prior ``log_rate[j] ~ Normal(log crude rate, baseline_log_rate_sd)``
    (independent), reparametrised so that the random intercepts can be centred
    hierarchically on ``intercept`` as in the Weibull model
    (`resolve_parametrisation`). ``priors.intercept_sd`` is not used.

    Parameters
    ----------
    X, outcome, groups, slopes, priors, time_scale
        As `build_weibull_ph_model`.
    cuts : sequence of float, optional
        Interior cut points in days; default: ``n_intervals`` intervals at
        quantiles of the event times.
    n_intervals : int, default 6
        Number of intervals when ``cuts`` is not given.

    Returns
    -------
    pymc.Model
        Coords as the Weibull model plus ``interval``; free ``intercept`` and
        ``log_rate_offset`` (dims ``interval``; absent with one interval),
        deterministic ``log_rate`` (dims ``interval``: the log baseline rate per
        interval, intercept included), the group variables as the Weibull
        model, and observed ``events`` (one per episode).
    """
    design = _as_design(X, outcome, groups, slopes, time_scale)
    priors = Priors.from_any(priors)
    cut_arr = _cuts(design, cuts, n_intervals)
    rows, ints, expo, dead = split_episodes(design.time, design.event, cut_arr)
    coords = design.coords()
    edges = np.concatenate([[0.0], cut_arr * design.time_scale])
    ends = [*edges[1:], np.inf]
    coords["interval"] = [f"[{a:g}, {b:g})" for a, b in zip(edges, ends, strict=True)]
    n_int = len(coords["interval"])
    sd = priors.baseline_log_rate_sd
    # Baseline = intercept + zero-sum offsets, not J free log rates around the crude
    # rate: with J free log rates there is no intercept for hierarchical centring to
    # centre a well-informed group on, and the log rates and those group effects form
    # a ridge (e.g. 11 municipalities: min bulk ESS 271 of 2,000 draws, see
    # bench/bench_bayes.py). Zero-sum rather than "first offset = 0": cuts at
    # event-time quantiles give each interval about the same number of events, so the
    # mean of the log rates is the best-determined combination and nearly independent
    # of the contrasts, whereas a corner constraint ties the intercept to the first
    # interval alone and correlates it with every offset. And iid Normal(m, sd) log
    # rates are exactly mean ~ Normal(m, sd / sqrt(J)) plus ZeroSumNormal(sd)
    # deviations, so the prior (and the posterior) is the same as before.
    baseline = replace(priors, intercept_sd=sd / np.sqrt(n_int))
    with pm.Model(coords=coords) as model:
        eta = _linear_predictor(  # includes the intercept (directly or in level_<group>)
            design,
            baseline,
            _log_crude_rate(design),
            parametrisation=resolve_parametrisation(design, priors, parametrisation),
        )
        if n_int > 1:
            offset = pm.ZeroSumNormal("log_rate_offset", sigma=sd, dims="interval")
        else:
            offset = pt.zeros(1)
        pm.Deterministic("log_rate", model["intercept"] + offset, dims="interval")
        mu = pt.exp(offset[ints] + eta[rows] + np.log(expo))
        pm.Poisson("events", mu=mu, observed=dead)
    return model


def _cuts(design: SurvivalDesign, cuts: Sequence[float] | None, n_intervals: int) -> np.ndarray:
    if cuts is None:
        if not isinstance(n_intervals, int) or n_intervals < 1:
            raise ModelError(f"n_intervals must be an integer >= 1, got {n_intervals!r}.")
        return default_cuts(design, n_intervals)
    arr = np.asarray(list(cuts), dtype=float)
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(np.diff(arr) <= 0)):
        raise ModelError(f"cuts must be increasing days > 0, got {list(cuts)!r}.")
    return arr / design.time_scale


def _as_design(
    X: pd.DataFrame | SurvivalDesign,
    outcome: pd.DataFrame | None,
    groups: Sequence[str],
    slopes: Mapping[str, Sequence[str]] | None,
    time_scale: float,
) -> SurvivalDesign:
    if isinstance(X, SurvivalDesign):
        return X
    if outcome is None:
        raise ModelError("outcome is required when X is a DataFrame.")
    return prepare_design(X, outcome, groups=groups, slopes=slopes, time_scale=time_scale)
