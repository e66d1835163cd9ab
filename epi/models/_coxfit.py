"""A fast, exact Cox partial-likelihood engine in numpy (Efron or Breslow ties, strata).

`fit_cox` maximises the (optionally penalised) log partial likelihood by
Newton–Raphson. Everything is vectorised over persons and events:

- rows are sorted by (stratum, time) once, in `CoxRiskSets`;
- risk-set sums ``S0_j = Σ_{t_i >= t_j} r_i`` and ``S1_j = Σ r_i x_i`` come
  from reverse cumulative sums of the sums between successive event times
  (sparse products with a fixed pattern);
- Efron's correction is vectorised by expanding each distinct event time
  ``t_j`` with ``d_j`` tied events into one row per event ``k = 0 … d_j - 1``
  (denominator ``S0_j - k/d_j D0_j``, ``D`` the sums over the tied events);
- the information matrix is ``Xᵀ diag(w) X - Z̄ᵀ Z̄`` (a symmetric rank-k
  update) with
  ``w_i = r_i (Σ_{t_j <= t_i} Σ_k 1/den_jk - δ_i Σ_k (k/d_j)/den_jk)`` and
  ``Z̄`` the (events × p) risk-set means, so no ``n × p × p`` array is built.

The penalty is lifelines' ``CoxPHFitter`` elastic net on covariates
standardised by their mean and standard deviation (ddof = 1):
``n λ Σ_j [α softabs_a(β*_j) + (1 - α)/2 β*_j²]`` with lifelines' smooth
``softabs_a(x) = (log(1 + e^{-ax}) + log(1 + e^{ax})) / a``. Without an L1
part (``α = 0``) the objective is fixed and smooth, and `fit_cox` uses
Newton–Raphson with step halving and R's ``coxph.control`` stopping rule
(relative change of the log-likelihood ``<= eps`` after a full step). With an
L1 part lifelines sharpens ``a = 1.3^i`` at iteration ``i``, so its answer
depends on its iteration path; `fit_cox` then replays lifelines' iteration
(its step-size rule and stopping rules) exactly, so that the same
coefficients and penalised log-likelihood come out.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, sparse
from scipy.linalg import blas
from scipy.special import expit

__all__ = [
    "CoxFit",
    "CoxFitError",
    "CoxRiskSets",
    "fit_cox",
    "partial_loglik",
    "single_threaded_blas",
]

#: Newton steps allowed by default: without an L1 part (Newton with step
#: halving, normally 3-8 steps) and with one (lifelines' annealed smoothing,
#: which needs ~40-80 steps whatever the data).
DEFAULT_MAX_ITER = 50
DEFAULT_MAX_ITER_L1 = 200


_BLAS: Any = None


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Context manager limiting BLAS to one thread (re-entrant; restores on exit).

    The matrices here are small (p x p, n x p with p <= ~100): OpenBLAS'
    threads gain little on them, and when cores are shared (parallel bootstrap
    workers, a busy machine) they cost up to 100 times the work (measured on
    1,000 x 83: 5 ms vs 0.6 s per fit on 2 busy cores).
    """
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _BLAS = False
        else:
            _BLAS = ThreadpoolController()
    if _BLAS is False:  # pragma: no cover
        return contextlib.nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


class CoxFitError(ValueError):
    """The Newton–Raphson iteration cannot go on (singular information, non-finite values)."""


@dataclass
class CoxFit:
    """Result of `fit_cox` (coefficients on the scale of the covariates given).

    Attributes
    ----------
    coef : numpy.ndarray, shape (p,)
        Coefficients.
    var : numpy.ndarray, shape (p, p)
        Inverse of the (penalised) information at ``coef``; for penalised fits
        this is what lifelines reports as ``variance_matrix_``.
    loglik : float
        Log partial likelihood (without penalty) at ``coef``.
    penalized_loglik : float
        The maximised objective, lifelines' ``log_likelihood_``: ``loglik``
        minus the penalty (with the smoothing of the last iteration).
    loglik_null : float
        Log partial likelihood at ``β = 0``.
    n_iter : int
        Likelihood evaluations used (including halved steps).
    converged : bool
        Whether a stopping rule was met within ``max_iter``.
    message : str
        Why the iteration stopped, or what looks wrong ("" when all is well).
    infinite : numpy.ndarray of bool, shape (p,)
        Coefficients that were still moving when the log-likelihood had
        converged (R's "Loglik converged before variable …; coefficient may be
        infinite"): monotone likelihood, typically (quasi-)separation. Without
        convergence: those whose next Newton step exceeds 0.1 (in units of
        their covariate's standard deviation).
    """

    coef: np.ndarray
    var: np.ndarray
    loglik: float
    penalized_loglik: float
    loglik_null: float
    n_iter: int
    converged: bool
    message: str = ""
    infinite: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


class _Stratum:
    """One stratum's rows (sorted by time) and the index structures that do not depend on β.

    Sums over rows between successive event times (``Σ r_i x_i``, and the
    same over each time's tied events) are sparse-matrix products ``G @ X``
    whose pattern is fixed here and whose values ``r_i = exp(x_i β)`` are
    filled in at each evaluation: one pass over ``X`` without an ``n × p``
    temporary.
    """

    def __init__(self, X: np.ndarray, time: np.ndarray, event: np.ndarray, efron: bool) -> None:
        self.X = X
        dead = np.flatnonzero(event)
        self.dead = dead
        self.n_dead = dead.size
        if dead.size == 0:
            return
        n = time.size
        ut, first_dead, d = np.unique(time[dead], return_index=True, return_counts=True)
        self.m = m = ut.size
        # event index -> distinct event time j; k = rank among the d_j tied events
        self.dj = np.repeat(np.arange(m), d)
        k = np.arange(dead.size) - np.repeat(first_dead, d)
        self.frac = k / np.repeat(d, d) if efron else np.zeros(dead.size)
        self.first_dead = first_dead  # start of each time's block among the events
        # first row at risk at t_j (the first row with time >= t_j); rows before the
        # first event time are in no risk set that matters
        at = np.searchsorted(time, ut, side="left")
        self.a0 = a0 = int(at[0])
        self.at = at - a0
        # segment j = rows at[j] .. at[j+1]-1; tied events of time j = dead[first_dead[j]:...]
        self.G = sparse.csr_matrix(
            (np.ones(n - a0), np.arange(n - a0), np.r_[at - a0, n - a0]), shape=(m, n - a0)
        )
        self.Gd = sparse.csr_matrix(
            (np.ones(dead.size), dead - a0, np.r_[first_dead, dead.size]), shape=(m, n - a0)
        )
        # for each row, number of distinct event times <= its time
        self.n_le = np.searchsorted(ut, time[a0:], side="right")
        self.x_dead_sum = X[dead].sum(axis=0)
        self.buffer = np.empty((n - a0, X.shape[1]))

    def evaluate(
        self, beta: np.ndarray, hessian: bool
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """Log-likelihood, score and information (minus the Hessian) at ``beta``."""
        p = beta.size
        if self.n_dead == 0:
            return 0.0, np.zeros(p), (np.zeros((p, p)) if hessian else None)
        X = self.X[self.a0 :]
        dead = self.dead - self.a0
        lp = X @ beta
        shift = float(lp.max())
        r = np.exp(lp - shift)  # <= 1; risk sets far below the maximum may underflow
        # sums between successive event times, then reverse cumulative sums
        self.G.data = r
        self.Gd.data = r[dead]
        seg0 = np.add.reduceat(r, self.at)
        S0 = np.cumsum(seg0[::-1])[::-1]
        S1 = np.cumsum((self.G @ X)[::-1], axis=0)[::-1]
        D0 = np.add.reduceat(self.Gd.data, self.first_dead)
        D1 = self.Gd @ X
        dj, frac = self.dj, self.frac
        den = S0[dj] - frac * D0[dj]
        zbar = (S1[dj] - frac[:, None] * D1[dj]) / den[:, None]
        loglik = float(lp[dead].sum() - np.log(den).sum() - shift * dead.size)
        score = self.x_dead_sum - zbar.sum(axis=0)
        info = None
        if hessian:
            inv_den = 1.0 / den
            c = np.bincount(dj, inv_den, minlength=self.m)
            e = np.bincount(dj, frac * inv_den, minlength=self.m)
            w = r * np.cumsum(c)[self.n_le - 1]  # every row here has n_le >= 1
            w[dead] -= r[dead] * e[dj]  # w > 0: e_j < c_j
            # Xᵀ diag(w) X as a symmetric rank-k update of sqrt(w) X (half a gemm)
            sx = np.multiply(X, np.sqrt(np.maximum(w, 0.0))[:, None], out=self.buffer)
            upper = blas.dsyrk(1.0, sx.T, trans=0, lower=0)
            info = np.triu(upper) + np.triu(upper, 1).T - zbar.T @ zbar
        return loglik, score, info


class CoxRiskSets:
    """Covariates, times, events and strata prepared once for repeated evaluation.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, p)
        Covariates (any scale; `fit_cox` passes standardised ones).
    time : numpy.ndarray, shape (n,)
        Follow-up times.
    event : numpy.ndarray, shape (n,)
        1 (or True) for an event, 0 for censored.
    strata : numpy.ndarray, shape (n,), optional
        Stratum label per row: separate risk sets, common coefficients.
    ties : {"efron", "breslow"}
        Tie handling of the partial likelihood.
    """

    def __init__(
        self,
        X: np.ndarray,
        time: np.ndarray,
        event: np.ndarray,
        strata: np.ndarray | None = None,
        ties: str = "efron",
    ) -> None:
        if ties not in ("efron", "breslow"):
            raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
        X = np.asarray(X, dtype=float)
        time = np.asarray(time, dtype=float)
        event = np.asarray(event).astype(bool)
        n = time.size
        codes = (
            np.zeros(n, dtype=np.int64)
            if strata is None
            else np.unique(np.asarray(strata), return_inverse=True)[1].reshape(-1)
        )
        order = np.lexsort((time, codes))
        X, time, event, codes = X[order], time[order], event[order], codes[order]
        bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
        self.n, self.p = X.shape
        self.n_events = int(event.sum())
        self.strata = [
            _Stratum(X[a:b], time[a:b], event[a:b], ties == "efron")
            for a, b in itertools.pairwise(bounds)
        ]

    def evaluate(
        self, beta: np.ndarray, hessian: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """Log partial likelihood, score vector and information matrix at ``beta``.

        Returns
        -------
        loglik : float
        score : numpy.ndarray, shape (p,)
        information : numpy.ndarray, shape (p, p), or None when ``hessian`` is False
            Minus the Hessian of the log partial likelihood.
        """
        ll, score = 0.0, np.zeros(self.p)
        info = np.zeros((self.p, self.p)) if hessian else None
        for s in self.strata:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                a, b, c = s.evaluate(beta, hessian)
            ll += a
            score += b
            if info is not None and c is not None:
                info += c
        return ll, score, info


def partial_loglik(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    beta: np.ndarray,
    strata: np.ndarray | None = None,
    ties: str = "efron",
) -> float:
    """Log partial likelihood of the Cox model at ``beta`` (no penalty)."""
    X = np.asarray(X, dtype=float)
    centred = X - X.mean(axis=0)  # the likelihood is invariant to centring; exp() is safer
    return CoxRiskSets(centred, time, event, strata, ties).evaluate(np.asarray(beta), False)[0]


class _Penalty:
    """lifelines' elastic net ``n λ Σ [α softabs_a(b) + (1-α)/2 b²]`` and its derivatives."""

    def __init__(self, n: int, penalizer: float, l1_ratio: float) -> None:
        self.scale = n * penalizer
        self.l1 = l1_ratio
        self.active = penalizer > 0

    def __call__(self, b: np.ndarray, a: float) -> tuple[float, np.ndarray, np.ndarray]:
        if not self.active:
            return 0.0, np.zeros_like(b), np.zeros_like(b)
        l1, s = self.l1, self.scale
        value = 0.5 * (1 - l1) * b**2
        d1 = (1 - l1) * b
        d2 = np.full_like(b, 1 - l1)
        if l1 > 0:
            ab = a * b
            value = value + l1 * (np.logaddexp(0, -ab) + np.logaddexp(0, ab)) / a
            d1 = d1 + l1 * (expit(ab) - expit(-ab))
            d2 = d2 + l1 * 2 * a * expit(ab) * expit(-ab)
        return float(s * value.sum()), s * d1, s * d2


def _solve(info: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``info⁻¹ g`` for a positive-definite ``info`` (Cholesky); `CoxFitError` otherwise."""
    if not (np.all(np.isfinite(info)) and np.all(np.isfinite(g))):
        raise CoxFitError("the information matrix or score has non-finite values")
    try:
        return linalg.cho_solve(linalg.cho_factor(info, check_finite=False), g, check_finite=False)
    except linalg.LinAlgError:
        raise CoxFitError(
            "the information matrix is singular (collinear or non-varying covariates)"
        ) from None


class _StepSizer:
    """lifelines' ``utils.StepSizer`` (step-size rule of its Newton–Raphson)."""

    def __init__(self, initial: float) -> None:
        self.initial = initial
        self.step = initial
        self.temper_back_up = False
        self.norms: list[float] = []

    def update(self, norm_delta: float) -> float:
        self.norms.append(norm_delta)
        if self.temper_back_up:
            self.step = min(self.step * 1.3, self.initial)
        if norm_delta >= 15.0:
            self.step *= 0.1
            self.temper_back_up = True
        elif 15.0 > norm_delta > 5.0:
            self.step *= 0.25
            self.temper_back_up = True
        if len(self.norms) >= 3:
            if np.all(np.diff(self.norms[-3:]) < 0):
                self.step = min(self.step * 1.3, 1.0)
            else:
                self.step *= 0.98
        return self.step


def _newton(
    rs: CoxRiskSets, pen: _Penalty, max_iter: int, eps: float
) -> tuple[np.ndarray, float, float, np.ndarray, float, int, bool, str, np.ndarray]:
    """Newton–Raphson with step halving on a smooth concave objective (R's coxph rule).

    A step that lowers the objective (or makes it non-finite) is halved
    towards the last accepted point; the iteration has converged when a full
    Newton step changed the objective by at most ``eps`` relative to it.
    Every likelihood evaluation counts towards ``max_iter``.
    """
    p = rs.p

    def objective(b: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
        ll, g, info = rs.evaluate(b)
        assert info is not None
        pv, p1, p2 = pen(b, 1.0)
        info[np.diag_indices(p)] += p2
        return ll - pv, ll, g - p1, info

    beta = np.zeros(p)
    obj, ll, g, info = objective(beta)
    ll_null = ll
    n_iter, converged, halving = 1, False, False
    trial = beta + _solve(info, g)
    while n_iter < max_iter:
        new_obj, new_ll, new_g, new_info = objective(trial)
        n_iter += 1
        if not np.isfinite(new_obj) or new_obj < obj - eps * abs(obj):
            trial = (beta + trial) / 2  # worse: halve the step
            halving = True
            continue
        change = abs(new_obj - obj)
        beta, obj, ll, g, info = trial, new_obj, new_ll, new_g, new_info
        if not halving and change <= eps * abs(obj):
            converged = True
            break
        halving = False
        trial = beta + _solve(info, g)
    message = "" if converged else f"no convergence in {max_iter} Newton-Raphson steps"
    step = _solve(info, g)
    tol_inf = np.sqrt(eps)
    if converged:
        infinite = (np.abs(step) > tol_inf) & (np.abs(step) > tol_inf * np.abs(beta))
        if infinite.any():
            message = "the log-likelihood converged while coefficients kept growing"
    else:  # still moving by more than 0.1 standard deviation units per step
        infinite = np.abs(step) > 0.1
    return beta, obj, ll, info, ll_null, n_iter, converged, message, infinite


def _lifelines_newton(
    rs: CoxRiskSets, pen: _Penalty, max_iter: int
) -> tuple[np.ndarray, float, float, np.ndarray, float, int, bool, str, np.ndarray]:
    """lifelines' ``_newton_raphson_for_efron_model`` with its default precisions."""
    p = rs.p
    precision, r_precision = 1e-7, 1e-9
    beta = np.zeros(p)
    delta = np.zeros(p)
    sizer = _StepSizer(0.95)
    step = sizer.step
    prev = 0.0
    i = 0
    ll_null = 0.0
    message = ""
    while True:
        beta = beta + step * delta
        i += 1
        ll, g, info = rs.evaluate(beta)
        assert info is not None
        if i == 1:
            ll_null = ll
        pv, p1, p2 = pen(beta, 1.3**i)
        obj = ll - pv
        g = g - p1
        info[np.diag_indices(p)] += p2
        delta = _solve(info, g)
        norm_delta = float(np.linalg.norm(delta))
        decrement = float(g @ delta) / 2
        if norm_delta < precision:
            success = True
        elif prev != 0 and abs(obj - prev) / (-prev) < r_precision:
            success = True
        elif decrement < precision:
            success = True
        elif i >= max_iter:
            success, message = False, f"no convergence in {max_iter} Newton-Raphson steps"
        elif step <= 0.00001:
            success, message = False, "the Newton-Raphson step size shrank to zero"
        elif abs(obj) < 0.0001 and norm_delta > 1.0:
            success, message = False, "the log-likelihood approaches 0 (complete separation?)"
        else:
            prev = obj
            step = sizer.update(norm_delta)
            continue
        break
    infinite = np.zeros(p, dtype=bool)
    if success and norm_delta > 0.1:
        message = f"converged but the last Newton step is still large ({norm_delta:.3f})"
        infinite = np.abs(delta) > 0.1
    return beta, obj, ll, info, ll_null, i, success, message, infinite


def fit_cox(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    strata: np.ndarray | None = None,
    *,
    penalizer: float = 0.0,
    l1_ratio: float = 0.0,
    ties: str = "efron",
    max_iter: int | None = None,
    eps: float = 1e-9,
) -> CoxFit:
    """Fit a Cox proportional-hazards model by (penalised) maximum partial likelihood.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, p)
        Covariates; every column must vary.
    time : numpy.ndarray, shape (n,)
        Follow-up times (> 0).
    event : numpy.ndarray, shape (n,)
        1 for an event, 0 for censored.
    strata : numpy.ndarray, shape (n,), optional
        Stratum label per row (separate baseline hazards, common coefficients).
    penalizer : float, default 0
        lifelines' elastic-net strength ``λ``, on covariates standardised by
        their mean and standard deviation (ddof = 1), multiplied by ``n``.
    l1_ratio : float, default 0
        lifelines' mixing ``α`` (0: ridge).
    ties : {"efron", "breslow"}, default "efron"
    max_iter : int, optional
        Likelihood evaluations allowed; default 50, or 200 with an L1 part.
    eps : float, default 1e-9
        Convergence: relative change of the objective after a full Newton step
        (R's ``coxph.control(eps)``); coefficients whose last Newton step
        exceeds ``sqrt(eps)`` (absolutely and relative to themselves) at
        convergence are flagged in ``infinite``.

    Returns
    -------
    CoxFit

    Raises
    ------
    CoxFitError
        The information matrix is singular or not finite, or a column is constant.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError("X must be a 2-d array")
    n, p = X.shape
    mean = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1) if n > 1 else np.zeros(p)
    if not np.all(sd > 0):
        raise CoxFitError(f"column(s) {list(np.flatnonzero(~(sd > 0)))} do not vary")
    rs = CoxRiskSets((X - mean) / sd, time, event, strata, ties)
    pen = _Penalty(n, float(penalizer), float(l1_ratio))
    annealed = pen.active and float(l1_ratio) > 0
    if max_iter is None:
        max_iter = DEFAULT_MAX_ITER_L1 if annealed else DEFAULT_MAX_ITER
    with single_threaded_blas():
        if annealed:
            out = _lifelines_newton(rs, pen, int(max_iter))
        else:
            out = _newton(rs, pen, int(max_iter), eps)
        beta, obj, ll, info, ll_null, n_iter, converged, message, infinite = out
        try:
            var_std = linalg.cho_solve(
                linalg.cho_factor(info, check_finite=False), np.eye(p), check_finite=False
            )
        except linalg.LinAlgError:
            raise CoxFitError("the information matrix at the estimate is singular") from None
    return CoxFit(
        coef=beta / sd,
        var=var_std / np.outer(sd, sd),
        loglik=float(ll),
        penalized_loglik=float(obj),
        loglik_null=float(ll_null),
        n_iter=int(n_iter),
        converged=bool(converged),
        message=message,
        infinite=infinite,
    )
