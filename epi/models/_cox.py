"""Cox proportional-hazards model (Efron partial likelihood; numpy engine or lifelines)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats

from epi.exceptions import ConvergenceError, ConvergenceWarning, ModelError, StatisticalWarning

from ._base import check_horizon, check_outcome, check_X
from ._core import baseline_increments, step_at
from ._coxfit import CoxFitError, fit_cox, partial_loglik, single_threaded_blas
from ._design import Design, check_spline_params, check_strata_param, nonconstant_terms
from ._lifelines import convergence_advice, problem_columns, run_lifelines
from ._zph import zph_test

__all__ = ["CoxModel"]

_BASELINE_TIES = ("efron", "breslow")
_ENGINES = ("numpy", "lifelines")


def check_fitted(model: object, attr: str) -> None:
    """Raise `ModelError` when ``model`` has not been fitted."""
    if not hasattr(model, attr):
        raise ModelError(f"{type(model).__name__} is not fitted yet; call fit(X, outcome) first.")


def warn_beyond_followup(horizon: float, max_time: float, name: str) -> None:
    """Warn when ``horizon`` lies beyond the longest training follow-up."""
    if horizon > max_time:
        warnings.warn(
            f"{name}: horizon {horizon:g} days is beyond the longest follow-up in the training "
            f"data ({max_time:g} days); the estimate is carried forward from the last "
            "observed time and is an extrapolation.",
            StatisticalWarning,
            stacklevel=3,
        )


def _check_not_collinear(
    Zk: np.ndarray, means: np.ndarray, names: list[str], what: str
) -> np.ndarray:
    """Cholesky factor of the terms' covariance; `ConvergenceError` naming collinear terms."""
    cov = np.atleast_2d(np.cov(Zk - means, rowvar=False))
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        bad = problem_columns(Zk, names)
        raise ConvergenceError(
            f"{what}: the model terms are collinear or constant"
            f"{': ' + ', '.join(bad) if bad else ''}. Drop those columns or set "
            "penalizer > 0."
        ) from None
    # chol[j, j]^2 / cov[j, j]: share of term j's variance not explained by the
    # earlier terms; ~1e-16 for exact collinearity
    unexplained = np.diag(chol) ** 2 / np.diag(cov)
    if (unexplained < 1e-10).any():
        bad = [
            f"{n} (collinear with earlier columns)"
            for n, u in zip(names, unexplained, strict=True)
            if u < 1e-10
        ]
        raise ConvergenceError(
            f"{what}: the model terms are collinear: {', '.join(bad)}. Drop those "
            "columns or set penalizer > 0."
        )
    return chol


class CoxModel:
    """Cox proportional-hazards model with splines, strata and optional penalty.

    Coefficients maximise the Cox partial likelihood with Efron's tie
    approximation (R's ``coxph`` default), by default with epi's numpy
    engine (`fit_cox`; ``engine="lifelines"`` uses lifelines' ``CoxPHFitter``).
    Continuous predictors named in ``splines`` enter as restricted cubic
    splines (`rcs_basis`, as ``rms::rcs``) with knots placed at Harrell's default quantiles of the
    training data in `fit` (``knots_``), so every refit (bootstrap, CV) learns
    its own knots. The linear predictor is centred at the training means of
    the model terms (``means_``; as R's ``coxph``), and the baseline
    cumulative hazard ``H0`` is for a person at those means.
    Risk: ``1 - exp(-H0_s(h) * exp(lp))`` with ``s`` the person's stratum.

    Parameters
    ----------
    penalizer : float, default 0
        Penalty strength ``λ >= 0``, with lifelines' semantics. The fit maximises
        ``loglik(β) - n λ [(1 - α)/2 ||β*||² + α ||β*||₁]`` where ``β*`` are
        the coefficients of the covariates *standardised* by their training
        mean and standard deviation (ddof=1), ``α = l1_ratio`` and the L1 norm
        is a smooth approximation (coefficients shrink towards, but never
        exactly reach, zero). The ridge case equals R's
        ``coxph(Surv(t, e) ~ ridge(scale(X), theta = n * penalizer, scale = FALSE))``
        (tested on Rossi). It resembles glmnet's Cox objective
        (``-loglik/n + λ[(1-α)/2 ||β||² + α||β||₁]``) but is not equal to it:
        glmnet uses Breslow ties, population SDs, an exact L1 penalty and a λ
        path; do not reuse glmnet λ values. Spline terms are penalised like
        any other standardised term.
    l1_ratio : float, default 0
        Elastic-net mixing ``α`` in [0, 1]; 0 is ridge.
    splines : dict, optional
        ``{column: number_of_knots}`` (3 to 7) for restricted cubic splines.
    strata : list of str, optional
        Columns whose value combinations are strata: separate baseline hazards,
        common coefficients; the columns are not covariates.
    baseline_ties : {"efron", "breslow"}, default "efron"
        Estimator of the baseline hazard at tied event times: ``"efron"``
        equals R's ``survfit.coxph`` for an Efron fit (``ctype=2``);
        ``"breslow"`` is ``d/Σ exp(lp)`` (``ctype=1``, riskRegression).
    max_iter : int, optional
        Newton–Raphson steps allowed. Default: 50 (200 with an L1 part, whose
        smoothing lifelines sharpens step by step) for ``engine="numpy"``,
        500 for ``engine="lifelines"``.
    cause : int, default 1
        Event code treated as the event; all other codes are censored.
    engine : {"numpy", "lifelines"}, default "numpy"
        ``"numpy"``: `fit_cox`, an exact vectorised Efron partial likelihood
        (Newton–Raphson with step halving, R's ``coxph`` stopping rule; with
        an L1 part it replays lifelines' iteration so as to give lifelines'
        answer). ``"lifelines"``: ``CoxPHFitter``, ~10-100 times slower;
        kept for cross-checks. Both give R's coefficients on the tests'
        references; unpenalised fits that do not converge stop after
        ``max_iter`` steps with a `ConvergenceWarning`.

    Attributes
    ----------
    coef_ : pandas.Series
        Coefficients per model term (``age``, ``age'``, … for a spline).
    se_ : pandas.Series
        Model-based standard errors (NaN for terms constant in training, whose
        coefficient is 0) (for penalised fits, lifelines' inverse
        penalised information).
    vcov_ : pandas.DataFrame
        Variance matrix of ``coef_``.
    loglik_ : float
        Log partial likelihood at ``coef_`` (without the penalty).
    penalized_loglik_ : float
        The maximised objective, ``loglik_`` minus the penalty (lifelines'
        ``log_likelihood_``; equal to ``loglik_`` without penalty).
    n_iter_ : int
        Likelihood evaluations used (-1 with ``engine="lifelines"``).
    means_ : pandas.Series
        Training means of the model terms (centring of the linear predictor).
    knots_ : dict
        Spline knots per spline column.
    baseline_ : dict
        Per stratum, ``(times, cumulative_hazard)`` at the distinct event times.
    n_events_ : int
    """

    kind = "cox"

    def __init__(
        self,
        penalizer: float = 0.0,
        l1_ratio: float = 0.0,
        splines: Mapping[str, int] | None = None,
        strata: Sequence[str] | None = None,
        baseline_ties: str = "efron",
        max_iter: int | None = None,
        cause: int = 1,
        engine: str = "numpy",
    ) -> None:
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.splines = splines
        self.strata = strata
        self.baseline_ties = baseline_ties
        self.max_iter = max_iter
        self.cause = cause
        self.engine = engine

    def _check_params(self) -> None:
        if not np.isscalar(self.penalizer) or not float(self.penalizer) >= 0:
            raise ModelError(f"penalizer must be a number >= 0, got {self.penalizer!r}.")
        if not 0.0 <= float(self.l1_ratio) <= 1.0:
            raise ModelError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}.")
        if self.baseline_ties not in _BASELINE_TIES:
            raise ModelError(
                f"baseline_ties must be one of {list(_BASELINE_TIES)}, got {self.baseline_ties!r}."
            )
        if self.max_iter is not None and int(self.max_iter) < 1:
            raise ModelError(f"max_iter must be >= 1, got {self.max_iter!r}.")
        if self.engine not in _ENGINES:
            raise ModelError(f"engine must be one of {list(_ENGINES)}, got {self.engine!r}.")
        if self.cause not in (1, 2):
            raise ModelError(f"cause must be 1 or 2, got {self.cause!r}.")

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit the model.

        Parameters
        ----------
        X : pandas.DataFrame
            Numeric design matrix (no missing values), including any strata
            columns.
        outcome : pandas.DataFrame
            ``duration`` and ``event`` with the same index as ``X``.

        Returns
        -------
        CoxModel
            ``self``.
        """
        self._check_params()
        # numpy engine: one BLAS thread (see `single_threaded_blas`)
        with single_threaded_blas() if self.engine == "numpy" else contextlib.nullcontext():
            return self._fit(X, outcome)

    def _fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        check_X(X)
        duration, event = check_outcome(outcome, X, causes=(self.cause,))
        design = Design(check_spline_params(self.splines), check_strata_param(self.strata)).fit(X)
        Z = design.matrix(X)
        labels = design.stratum_labels(X)
        e = (event == self.cause).astype(int)
        what = f"Cox model (event == {self.cause}, {int(e.sum())} events, {len(e)} persons)"
        means = Z.mean(axis=0)
        keep = nonconstant_terms(Z, design.terms_, what)
        kept_names = [t for t, k in zip(design.terms_, keep, strict=True) if k]
        Zk = Z[:, keep]
        strata = labels if design.strata else None
        chol = None
        if float(self.penalizer) == 0.0:
            chol = _check_not_collinear(Zk, means[keep], kept_names, what)
        if self.engine == "numpy":
            beta_k, var_k, loglik, penalized, n_iter = self._fit_numpy(
                Zk, duration, e, strata, kept_names, what
            )
        else:
            beta_k, var_k, loglik, penalized, n_iter = self._fit_lifelines(
                Zk, duration, e, strata, kept_names, what, chol
            )
        beta = np.zeros(Z.shape[1])
        beta[keep] = beta_k
        var = np.full((Z.shape[1], Z.shape[1]), np.nan)
        var[np.ix_(keep, keep)] = var_k
        if not np.all(np.isfinite(beta)):
            raise ModelError(f"{what}: non-finite coefficients; increase penalizer.")
        self.design_ = design
        self.coef_ = pd.Series(beta, index=design.terms_, name="coef")
        self.se_ = pd.Series(np.sqrt(np.diag(var)), index=design.terms_, name="se")
        self.vcov_ = pd.DataFrame(var, index=design.terms_, columns=design.terms_)
        self.loglik_ = float(loglik)
        self.penalized_loglik_ = float(penalized)
        self.n_iter_ = int(n_iter)
        self.means_ = pd.Series(means, index=design.terms_, name="mean")
        self.knots_ = dict(design.knots_)
        self.n_events_ = int(e.sum())
        self.max_time_ = float(duration.max())
        lp = (Z - self.means_.to_numpy()) @ beta
        self.baseline_ = {}
        for s in design.strata_levels_:
            m = labels == s
            if not e[m].any():
                times, dH = np.array([]), np.array([])
            else:
                times, dH = baseline_increments(
                    duration[m], e[m], np.exp(lp[m]), self.baseline_ties
                )
            self.baseline_[s] = (times, np.cumsum(dH))
        self._zph_data = (Zk, duration, e, lp, labels, kept_names)
        return self

    def _max_iter(self, default: int) -> int:
        return default if self.max_iter is None else int(self.max_iter)

    def _fit_numpy(
        self,
        Zk: np.ndarray,
        duration: np.ndarray,
        e: np.ndarray,
        strata: np.ndarray | None,
        names: list[str],
        what: str,
    ) -> tuple[np.ndarray, np.ndarray, float, float, int]:
        """Fit with `fit_cox`; its failures and doubts become epi's errors and warnings."""
        penalizer = float(self.penalizer)
        try:
            fit = fit_cox(
                Zk,
                duration,
                e,
                strata,
                penalizer=penalizer,
                l1_ratio=float(self.l1_ratio),
                max_iter=None if self.max_iter is None else int(self.max_iter),
            )
        except CoxFitError as exc:
            raise ConvergenceError(
                f"{what} did not converge ({exc}). {convergence_advice(Zk, names, penalizer)}"
            ) from None
        if fit.message:
            suspects = [n for n, f in zip(names, fit.infinite, strict=True) if f]
            if not fit.converged:
                advice = convergence_advice(Zk, names, penalizer, suspects)
                text = f"{what} did not converge: {fit.message}. {advice}"
            else:
                growing = f" ({', '.join(suspects[:10])})" if suspects else ""
                advice = convergence_advice(Zk, names, penalizer)
                text = f"{what} converged poorly: {fit.message}{growing}. {advice}"
            warnings.warn(text, ConvergenceWarning, stacklevel=3)
        return fit.coef, fit.var, fit.loglik, fit.penalized_loglik, fit.n_iter

    def _fit_lifelines(
        self,
        Zk: np.ndarray,
        duration: np.ndarray,
        e: np.ndarray,
        strata: np.ndarray | None,
        names: list[str],
        what: str,
        chol: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, float, float, int]:
        """Fit with lifelines' ``CoxPHFitter`` (the engine before `fit_cox`, for cross-checks).

        Unpenalised fits (``chol`` given) are run on whitened terms (centred,
        decorrelated by the Cholesky factor of their covariance) and mapped
        back: Newton's method is invariant to this, but lifelines' step-size
        heuristic stalls on the highly correlated columns of a spline basis
        (Rossi with rcs(age, 4) stops 7.5 log-likelihood units short of R's
        optimum without it). Penalised fits are run on the raw terms because
        lifelines' penalty is defined on them.
        """
        penalizer = float(self.penalizer)
        transform = np.eye(Zk.shape[1])
        Zfit = Zk
        if chol is not None:
            transform = np.linalg.inv(chol).T  # beta = transform @ beta_white
            Zfit = (Zk - Zk.mean(axis=0)) @ transform
        df = pd.DataFrame(Zfit, columns=[f"x{j}" for j in range(Zk.shape[1])])
        df["_T"] = duration
        df["_E"] = e
        if strata is not None:
            df["_S"] = strata
        cph = CoxPHFitter(
            penalizer=penalizer,
            l1_ratio=float(self.l1_ratio),
            strata=["_S"] if strata is not None else None,
        )
        # tight tolerance for the plain likelihood; lifelines' smoothed L1 penalty
        # sharpens every step and only meets its default tolerance
        fit_options: dict[str, float] = {"max_steps": self._max_iter(500)}
        if penalizer == 0.0:
            fit_options["precision"] = 1e-9
        run_lifelines(
            lambda: cph.fit(df, "_T", "_E", fit_options=fit_options),
            Zk,
            names,
            penalizer,
            what,
        )
        beta = transform @ cph.params_.to_numpy(dtype=float)
        var = transform @ cph.variance_matrix_.to_numpy(dtype=float) @ transform.T
        penalized = float(cph.log_likelihood_)
        loglik = penalized if penalizer == 0.0 else partial_loglik(Zk, duration, e, beta, strata)
        return beta, var, loglik, penalized, -1

    def summary(self) -> pd.DataFrame:
        """Coefficient table: ``coef``, ``se``, ``hr``, 95% CI of the HR, ``z``, ``p``.

        Wald statistics from the model-based variance (for penalised fits they
        are not valid tests; report them as descriptive).
        """
        check_fitted(self, "coef_")
        z = self.coef_ / self.se_
        return pd.DataFrame(
            {
                "coef": self.coef_,
                "se": self.se_,
                "hr": np.exp(self.coef_),
                "hr_lower_95": np.exp(self.coef_ - 1.959963984540054 * self.se_),
                "hr_upper_95": np.exp(self.coef_ + 1.959963984540054 * self.se_),
                "z": z,
                "p": 2 * stats.norm.sf(np.abs(z)),
                "mean": self.means_,
            }
        )

    def linear_predictor(self, X: pd.DataFrame) -> np.ndarray:
        """Centred linear predictor ``(z - means_) · coef_`` for each row of ``X``."""
        check_fitted(self, "coef_")
        check_X(X, columns=self.design_.input_columns_ + self.design_.strata)
        Z = self.design_.matrix(X)
        return (Z - self.means_.to_numpy()) @ self.coef_.to_numpy()

    def baseline_cumhaz(self, horizon: float) -> dict[str, float]:
        """Baseline cumulative hazard ``H0_s(horizon)`` per stratum ``s``."""
        check_fitted(self, "coef_")
        h = check_horizon(horizon)
        return {s: step_at(t, H, h) for s, (t, H) in self.baseline_.items()}

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """Absolute risk of ``event == cause`` by ``horizon``: ``1 - exp(-H0_s(h) exp(lp))``.

        Parameters
        ----------
        X : pandas.DataFrame
            Same columns as in `fit` (extra columns are ignored).
        horizon : float
            Days since index.

        Returns
        -------
        numpy.ndarray
            One risk in [0, 1] per row.
        """
        lp = self.linear_predictor(X)
        h = check_horizon(horizon)
        warn_beyond_followup(h, self.max_time_, "CoxModel")
        labels = self.design_.stratum_labels(X)
        self.design_.check_strata_known(labels)
        H0 = self.baseline_cumhaz(h)
        h0 = np.array([H0[s] for s in labels], dtype=float)
        return 1.0 - np.exp(-h0 * np.exp(lp))

    def ph_test(self, transform: str = "km") -> pd.DataFrame:
        """Test proportional hazards with scaled Schoenfeld residuals (per term and global).

        Reproduces R's ``cox.zph(fit, transform=transform, terms=FALSE)`` of
        survival >= 3.0: score tests for adding ``x * g(t)`` to the model,
        using the full information matrix (lifelines'
        ``proportional_hazard_test`` uses the older approximation and ranks
        tied times differently, so it is not used). ``transform``:
        ``"km"`` (R's default, ``g = 1 - KM(t-)``), ``"rank"`` (R's
        ``rank(time)`` over all rows), ``"identity"`` or ``"log"``. For
        penalised fits the test ignores the penalty.

        Returns
        -------
        pandas.DataFrame
            Index: model terms (constant ones left out) and ``"GLOBAL"``; columns ``chisq``, ``df``,
            ``p``, ``transform``.
        """
        check_fitted(self, "coef_")
        Z, time, e, lp, labels, names = self._zph_data
        try:
            rows = zph_test(Z, time, e, lp, labels, names, transform)
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        frame = pd.DataFrame(rows, columns=["term", "chisq", "df", "p"]).set_index("term")
        frame["transform"] = transform
        return frame
