"""Bayesian hierarchical survival models behind epi's model interface."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from epi.exceptions import ModelError

from .._base import check_horizon, check_X
from .._cox import check_fitted, warn_beyond_followup
from ._factories import (
    SurvivalDesign,
    _cuts,
    build_piecewise_exponential_model,
    build_weibull_ph_model,
    default_target_accept,
    prepare_design,
)
from ._priors import Priors
from ._sampling import Sampler, check_diagnostics, sample

__all__ = ["BayesPiecewiseExponentialModel", "BayesWeibullPHModel"]

_GH_X, _GH_W = np.polynomial.hermite.hermgauss(32)
_GH_W = _GH_W / np.sqrt(np.pi)
_CHUNK = 2048


def _draws(idata: az.InferenceData, name: str) -> np.ndarray:
    """Posterior draws of ``name`` with chains and draws stacked first: (S, ...)."""
    da = idata.posterior[name]
    arr = da.values
    return arr.reshape((arr.shape[0] * arr.shape[1], *arr.shape[2:]))


class _BayesSurvival:
    """Shared fitting, diagnostics and prediction of the Bayesian PH models."""

    kind = ""

    def __init__(
        self,
        groups: Sequence[str] = (),
        slopes: Mapping[str, Sequence[str]] | None = None,
        priors: Priors | Mapping[str, Any] | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        cores: int | None = None,
        seed: int = 20240101,
        sampler: Sampler = "auto",
        target_accept: float | None = None,
        time_scale: float = 365.25,
        diagnostics: bool = True,
        parametrisation: str | Mapping[str, str] = "auto",
    ) -> None:
        self.groups = (groups,) if isinstance(groups, str) else tuple(groups)
        self.slopes = slopes
        self.priors = priors
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.cores = cores
        self.seed = seed
        self.sampler = sampler
        self.target_accept = target_accept
        self.time_scale = time_scale
        self.diagnostics = diagnostics
        self.parametrisation = parametrisation
        Priors.from_any(priors)  # fail early on unknown keys

    # -- building and sampling -------------------------------------------------------------
    def _build(self, design: SurvivalDesign) -> pm.Model:  # pragma: no cover - abstract
        raise NotImplementedError

    def build(self, X: pd.DataFrame, outcome: pd.DataFrame) -> pm.Model:
        """Check the data and return the unsampled `pymc.Model` (sets ``design_``).

        ``event == 2`` (competing death) is censored: the model estimates the
        cause-specific hazard of event 1, and its risk is ``1 - S_1(t)``.
        """
        if not isinstance(self.seed, int | np.integer) or isinstance(self.seed, bool):
            raise ModelError(f"seed must be an integer, got {self.seed!r}.")
        self.design_ = prepare_design(
            X, outcome, groups=self.groups, slopes=self.slopes, time_scale=self.time_scale
        )
        return self._build(self.design_)

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Build the model, sample it (seeded) and check the diagnostics; return ``self``.

        Parameters
        ----------
        X : pandas.DataFrame
            Numeric predictors plus the ``groups`` columns (cluster ids).
        outcome : pandas.DataFrame
            ``duration`` (days) and ``event`` (0, 1, 2; 2 is censored).

        Returns
        -------
        self

        Warns
        -----
        DiagnosticsWarning
            When R-hat, bulk/tail ESS, divergences or BFMI fail their threshold
            (the message names the parameters); ``diagnostics_`` holds the table.
        """
        self.model_ = self.build(X, outcome)
        self.idata_ = sample(
            self.model_,
            seed=int(self.seed),
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            cores=self.cores,
            sampler=self.sampler,
            target_accept=self.target_accept
            if self.target_accept is not None
            else default_target_accept(self.model_),
        )
        self.sampler_ = self.idata_.attrs["epi_sampler"]
        self.n_events_ = int(self.design_.event.sum())
        self.max_time_ = float(self.design_.time.max() * self.design_.time_scale)
        where = f"{type(self).__name__} ({self.n_events_} events, {len(self.design_.time)} persons)"
        self.diagnostics_ = check_diagnostics(self.idata_, warn=self.diagnostics, where=where)
        if self.design_.predictors:
            self.coef_ = pd.Series(
                _draws(self.idata_, "coef").mean(axis=0),
                index=self.design_.predictors,
                name="log_hazard_ratio",
            )
        return self

    # -- prediction --------------------------------------------------------------------------
    def _log_cumhaz0(self, tau: float) -> np.ndarray:  # pragma: no cover - abstract
        """Log baseline cumulative hazard at model time ``tau`` per draw, shape (S,)."""
        raise NotImplementedError

    def _log_cumhaz0_at(self, tau: np.ndarray, take: np.ndarray) -> np.ndarray:
        """Log baseline cumulative hazard at per-person times ``tau``: (len(take), n)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _train_log_cumhaz(self, take: np.ndarray) -> np.ndarray:
        """Log cumulative hazard of each training person at their follow-up, per draw."""
        d = self.design_
        S = self.idata_.posterior.sizes["chain"] * self.idata_.posterior.sizes["draw"]
        base = np.broadcast_to(np.asarray(self._base_eta(), dtype=float), (S,))[take]
        eta = base[:, None] + self._log_cumhaz0_at(d.time, take)
        if d.predictors:
            eta = eta + _draws(self.idata_, "beta")[take] @ d.Z.T
        for g in d.groups:
            eta = eta + _draws(self.idata_, f"u_{g}")[take][:, d.codes[g]]
        for g, cols in d.slopes.items():
            v = _draws(self.idata_, f"v_slope_{g}")[take][:, d.codes[g]]  # (s, n, q)
            idx = [d.predictors.index(c) for c in cols]
            eta = eta + np.einsum("snq,nq->sn", v, d.Z[:, idx])
        return eta

    def _base_eta(self) -> np.ndarray | float:
        """The part of the log hazard that is in neither `_log_cumhaz0` nor ``beta``/``u``.

        The Weibull model's intercept, per draw (``(S,)``); 0 for a model whose
        baseline already carries it.
        """
        return _draws(self.idata_, "intercept") if "intercept" in self.idata_.posterior else 0.0

    def risk_draws(
        self, X: pd.DataFrame, horizon: float, *, max_draws: int | None = None
    ) -> np.ndarray:
        """Posterior draws of each person's absolute risk of event 1 by ``horizon`` days.

        Groups whose level was not seen in training (a new practice) are
        integrated over their random effect: for each draw the survival is
        averaged over ``u ~ Normal(0, sigma^2)`` (32-point Gauss–Hermite), with
        the variances of all unseen groups (and their random slopes) added.
        The result is the practice-averaged (marginal) risk, so its credible
        interval reflects parameter uncertainty, not which practice it will be.

        Parameters
        ----------
        X : pandas.DataFrame
            The training predictor columns and the group columns.
        horizon : float
            Days.
        max_draws : int, optional
            Use only this many evenly spaced draws.

        Returns
        -------
        numpy.ndarray
            Shape (draws, len(X)).
        """
        parts = [r for _, r in self._risk_chunks(X, horizon, max_draws)]
        return np.concatenate(parts, axis=1) if parts else np.zeros((0, 0))

    def _risk_chunks(
        self, X: pd.DataFrame, horizon: float, max_draws: int | None = None
    ) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(rows, risk draws (S, len(rows)))`` in blocks of persons (bounded memory)."""
        check_fitted(self, "idata_")
        h = check_horizon(horizon)
        d = self.design_
        if not isinstance(X, pd.DataFrame):
            raise ModelError(f"X must be a pandas DataFrame, got {type(X).__name__}.")
        missing = [g for g in d.groups if g not in X.columns]
        if missing:
            raise ModelError(
                f"X lacks the group column(s) {missing} the model was fitted with; "
                "pass the cluster ids (unknown levels are integrated over)."
            )
        if d.predictors:
            check_X(X, columns=d.predictors)
        warn_beyond_followup(h, self.max_time_, type(self).__name__)
        n = len(X)
        Z = (
            (X[d.predictors].to_numpy(dtype=float) - d.center) / d.scale
            if d.predictors
            else np.zeros((n, 0))
        )
        S = self.idata_.posterior.sizes["chain"] * self.idata_.posterior.sizes["draw"]
        take = np.arange(S)
        if max_draws is not None and max_draws < S:
            take = np.linspace(0, S - 1, int(max_draws)).round().astype(int)
        log_h0 = self._log_cumhaz0(h / d.time_scale)[take]
        base = np.broadcast_to(np.asarray(self._base_eta(), dtype=float), (S,))[take]
        const = base + log_h0  # (s,)
        beta = _draws(self.idata_, "beta")[take] if d.predictors else np.zeros((len(take), 0))
        groups = []
        for g in d.groups:
            lookup = {lv: i for i, lv in enumerate(d.levels[g])}
            idx = np.array([lookup.get(v, -1) for v in X[g].astype(str)], dtype=np.int64)
            slope = None
            if g in d.slopes:
                cols = [d.predictors.index(c) for c in d.slopes[g]]
                slope = (
                    cols,
                    _draws(self.idata_, f"v_slope_{g}")[take],  # (s, L, q)
                    _draws(self.idata_, f"sigma_slope_{g}")[take] ** 2,  # (s, q)
                )
            u = _draws(self.idata_, f"u_{g}")[take]
            sigma2 = _draws(self.idata_, f"sigma_{g}")[take] ** 2
            groups.append((idx, u, sigma2, slope))
        step = max(1, _CHUNK * 1000 // max(len(take), 1))
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            Zc = Z[rows]
            eta = const[:, None] + beta @ Zc.T  # log cumulative hazard at the horizon
            var = np.zeros_like(eta)
            for idx_all, u, sigma2, slope in groups:
                idx = idx_all[rows]
                seen = idx >= 0
                eta[:, seen] += u[:, idx[seen]]
                var[:, ~seen] += sigma2[:, None]
                if slope is not None:
                    cols, v, ss = slope
                    zc = Zc[:, cols]
                    if seen.any():
                        eta[:, seen] += np.einsum("slq,nq->sn", v[:, idx[seen]], zc[seen])
                    var[:, ~seen] += ss @ (zc[~seen] ** 2).T
            risk = -np.expm1(-np.exp(eta))
            need = var > 0
            if need.any():
                sd = np.sqrt(var[need])
                e = eta[need]
                surv = np.empty_like(e)
                for s0 in range(0, e.size, _CHUNK * 64):
                    sl = slice(s0, s0 + _CHUNK * 64)
                    z = e[sl, None] + np.sqrt(2.0) * sd[sl, None] * _GH_X[None, :]
                    surv[sl] = np.exp(-np.exp(z)) @ _GH_W
                risk[need] = 1.0 - surv
            yield rows, np.clip(risk, 0.0, 1.0)

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """Posterior mean absolute risk of event 1 by ``horizon`` days, one per row of ``X``."""
        out = np.empty(len(X))
        for rows, r in self._risk_chunks(X, horizon):
            out[rows] = r.mean(axis=0)
        return out

    def predict_risk_interval(
        self, X: pd.DataFrame, horizon: float, prob: float = 0.9
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean and equal-tailed ``prob`` credible interval of each person's risk.

        Parameters
        ----------
        X : pandas.DataFrame
            Predictors and group columns.
        horizon : float
            Days.
        prob : float, default 0.9
            Credible mass of the interval.

        Returns
        -------
        mean, lower, upper : numpy.ndarray
        """
        if not 0 < prob < 1:
            raise ModelError(f"prob must lie in (0, 1), got {prob!r}.")
        mean, lo, hi = (np.empty(len(X)) for _ in range(3))
        for rows, r in self._risk_chunks(X, horizon):
            mean[rows] = r.mean(axis=0)
            lo[rows], hi[rows] = np.quantile(r, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        return mean, lo, hi


class BayesWeibullPHModel(_BayesSurvival):
    """Bayesian Weibull proportional-hazards model with crossed random intercepts.

    ``h(t | x, practice, municipality) = k t^(k-1) exp(intercept + z·beta + u_p + v_m)``,
    non-centred random effects, standardised predictors ``z``; see
    `build_weibull_ph_model`. ``event == 2`` (competing death) is censored, so
    ``predict_risk`` is ``1 - S_1(horizon)`` of the cause-specific hazard, as in
    epi's other models that ignore competing risks.

    Parameters
    ----------
    groups : sequence of str
        Cluster columns of ``X`` (e.g. ``("practice_id", "municipality_code")``);
        not predictors.
    slopes : mapping, optional
        ``{group: [predictor, ...]}`` independent random slopes.
    priors : Priors or mapping, optional
        Prior settings (`Priors`; a protocol passes a mapping).
    draws, tune, chains : int
        NUTS draws kept and tuning steps per chain, and chains (default 4: split
        R-hat and between-chain checks need more than two chains to be reliable).
    cores : int, optional
        Parallel chains (default ``min(chains, 2)``).
    seed : int
        Sampling seed (pass the protocol's seed).
    sampler : {"auto", "pymc", "nutpie"}
        ``"auto"``: nutpie when installed.
    target_accept : float, optional
        NUTS target acceptance; default 0.99 when a block has the horseshoe prior
        (it diverges at 0.9), 0.9 otherwise (`default_target_accept`).
    time_scale : float
        Days per model time unit (priors refer to it).
    diagnostics : bool
        Warn (`DiagnosticsWarning`) when a convergence check fails.
    parametrisation : {"auto", "noncentred", "centred"} or mapping
        Random-intercept parametrisation per group (`resolve_parametrisation`;
        ``"auto"`` keeps small practices non-centred and centres groups whose
        levels all carry many events).

    Attributes
    ----------
    model_ : pymc.Model
    idata_ : arviz.InferenceData
    diagnostics_ : dict
        From `check_diagnostics`.
    coef_ : pandas.Series
        Posterior mean log hazard ratios per unit of each predictor.
    design_ : SurvivalDesign
    sampler_ : str
    """

    kind = "bayes_weibull_ph"

    def _build(self, design: SurvivalDesign) -> pm.Model:
        return build_weibull_ph_model(
            design, priors=self.priors, parametrisation=self.parametrisation
        )

    def _log_cumhaz0(self, tau: float) -> np.ndarray:
        return _draws(self.idata_, "weibull_shape") * np.log(tau)

    def _log_cumhaz0_at(self, tau: np.ndarray, take: np.ndarray) -> np.ndarray:
        return _draws(self.idata_, "weibull_shape")[take][:, None] * np.log(tau)[None, :]


class BayesPiecewiseExponentialModel(_BayesSurvival):
    """Bayesian piecewise-exponential PH model (Poisson with exposure), crossed random effects.

    The baseline hazard is constant between cut points (``cuts`` in days, or
    ``n_intervals`` at event-time quantiles) and carried forward after the
    last; its log rates are sampled as an intercept plus zero-sum interval
    offsets, so a group with many events per level is centred on the
    intercept as in the Weibull model; see
    `build_piecewise_exponential_model`. Other parameters and attributes as
    `BayesWeibullPHModel`.

    Parameters
    ----------
    cuts : sequence of float, optional
        Interior cut points in days.
    n_intervals : int, default 6
        Intervals when ``cuts`` is not given.
    groups, slopes, priors, draws, tune, chains, cores, seed, sampler, target_accept, \
time_scale, diagnostics, parametrisation
        As `BayesWeibullPHModel`.
    """

    kind = "bayes_piecewise_exponential"

    def __init__(
        self,
        groups: Sequence[str] = (),
        slopes: Mapping[str, Sequence[str]] | None = None,
        priors: Priors | Mapping[str, Any] | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        cores: int | None = None,
        seed: int = 20240101,
        sampler: Sampler = "auto",
        target_accept: float | None = None,
        time_scale: float = 365.25,
        diagnostics: bool = True,
        parametrisation: str | Mapping[str, str] = "auto",
        cuts: Sequence[float] | None = None,
        n_intervals: int = 6,
    ) -> None:
        super().__init__(
            groups=groups,
            slopes=slopes,
            priors=priors,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            sampler=sampler,
            target_accept=target_accept,
            time_scale=time_scale,
            diagnostics=diagnostics,
            parametrisation=parametrisation,
        )
        self.cuts = cuts
        self.n_intervals = n_intervals

    def _build(self, design: SurvivalDesign) -> pm.Model:
        self.cuts_ = _cuts(design, self.cuts, self.n_intervals) * design.time_scale
        return build_piecewise_exponential_model(
            design,
            priors=self.priors,
            cuts=list(self.cuts_) if len(self.cuts_) else [],
            parametrisation=self.parametrisation,
        )

    def _base_eta(self) -> float:
        # log_rate = intercept + log_rate_offset already holds the intercept
        return 0.0

    def _log_cumhaz0(self, tau: float) -> np.ndarray:
        rates = np.exp(_draws(self.idata_, "log_rate"))  # (S, J)
        edges = np.concatenate([[0.0], self.cuts_ / self.design_.time_scale, [np.inf]])
        overlap = np.clip(np.minimum(tau, edges[1:]) - edges[:-1], 0.0, None)
        return np.log(rates @ overlap)

    def _log_cumhaz0_at(self, tau: np.ndarray, take: np.ndarray) -> np.ndarray:
        rates = np.exp(_draws(self.idata_, "log_rate")[take])  # (s, J)
        edges = np.concatenate([[0.0], self.cuts_ / self.design_.time_scale, [np.inf]])
        overlap = np.clip(np.minimum(tau[:, None], edges[None, 1:]) - edges[None, :-1], 0.0, None)
        return np.log(rates @ overlap.T)
