"""All measures at once, with bootstrap confidence intervals (`INTERVAL_METHOD`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from epi.exceptions import StatisticalWarning, ValidationInputError
from epi.validation._calibration import _citl, _errors, _slope
from epi.validation._checks import as_outcome, as_risk, check_horizon
from epi.validation._decision import (
    TREAT_ALL,
    TREAT_NONE,
    _treat_all,
    check_thresholds,
    net_benefits,
)
from epi.validation._discrimination import _auc, _c_indices
from epi.validation._estimators import HorizonData, prepare
from epi.validation._overall import _brier, _ipa
from epi.validation._parallel import map_resamples

FloatArray = NDArray[np.float64]

#: The measures reported for every model, in the order of ``metrics.json``.
MEASURES: tuple[str, ...] = (
    "harrell_c",
    "uno_c",
    "auc",
    "brier",
    "ipa",
    "oe_ratio",
    "calibration_slope",
    "citl",
    "ici",
    "e50",
    "e90",
    "emax",
)


def score(
    hd: HorizonData, risk: FloatArray, measures: Sequence[str] = MEASURES
) -> dict[str, float]:
    """Compute the requested measures for one model on prepared data (internal)."""
    want = set(measures)
    unknown = want - set(MEASURES)
    if unknown:
        raise ValidationInputError(
            f"measures: unknown {sorted(unknown)}; choose from {list(MEASURES)}."
        )
    out: dict[str, float] = {}
    if want & {"harrell_c", "uno_c"}:
        out["harrell_c"], out["uno_c"] = _c_indices(hd, risk)
    if "auc" in want:
        out["auc"] = _auc(hd, risk)
    if "brier" in want:
        out["brier"] = _brier(hd, risk)
    if "ipa" in want:
        out["ipa"] = _ipa(hd, risk)
    if "oe_ratio" in want:
        out["oe_ratio"] = float(hd.observed_risk / risk.mean())
    if "calibration_slope" in want:
        out["calibration_slope"] = _slope(hd, risk)
    if "citl" in want:
        out["citl"] = _citl(hd, risk)
    if want & {"ici", "e50", "e90", "emax"}:
        out.update(_errors(hd, risk))
    return {m: out[m] for m in MEASURES if m in want}


#: The one interval of every bootstrapped estimate epi reports (apparent measures,
#: optimism-corrected measures and paired differences alike).
INTERVAL_METHOD = (
    "bootstrap percentile interval re-centred on the estimate: the distances of the "
    "(1 - level)/2 and (1 + level)/2 quantiles of the bootstrap distribution from its "
    "median, placed around the estimate, so that every interval holds its estimate (a "
    "plain percentile interval can exclude a skewed measure's estimate, e.g. E90)"
)


def bootstrap_spread(boot: FloatArray, level: float) -> tuple[float | None, float | None]:
    """Distances of the percentile limits below and above the bootstrap median.

    ``(None, None)`` when no resample gave a finite value. See `INTERVAL_METHOD`.
    """
    ok = np.asarray(boot, dtype=float)
    ok = ok[np.isfinite(ok)]
    if ok.size == 0:
        return None, None
    lo, med, hi = np.quantile(ok, [(1 - level) / 2, 0.5, (1 + level) / 2])
    return float(med - lo), float(hi - med)


def bootstrap_interval(est: float, boot: FloatArray, level: float) -> dict[str, float | None]:
    """``{estimate, lower, upper}``: the bootstrap spread around ``est`` (`INTERVAL_METHOD`)."""
    below, above = bootstrap_spread(boot, level)
    if below is None or above is None or not np.isfinite(est):
        return {"estimate": est, "lower": None, "upper": None}
    return {"estimate": est, "lower": est - below, "upper": est + above}


def _quietly(func: Callable[[], Any], tally: dict[str, int]) -> Any:
    """Run ``func`` in a bootstrap resample: warnings are counted, not shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func()
        except ValidationInputError:
            tally["failed"] += 1
            return None
    if caught:
        tally["warned"] += 1
    return result


def evaluate_predictions(
    duration: ArrayLike,
    event: ArrayLike,
    risks: Mapping[str, ArrayLike],
    horizon: float,
    *,
    thresholds: ArrayLike | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
    where: str = "outcome",
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Every measure of every model at the horizon, with bootstrap intervals.

    Parameters
    ----------
    duration : array-like of float
        Time since index (> 0).
    event : array-like of int
        0 censored, 1 event, 2 competing event.
    risks : mapping of str to array-like
        Predicted absolute risk of event 1 by ``horizon``, by model name.
    horizon : float
        Same unit as ``duration``.
    thresholds : array-like, optional
        Decision-curve thresholds; default 0.01, 0.02, ..., 0.50.
    n_bootstrap : int
        Bootstrap resamples of persons for percentile intervals (0: none,
        ``lower`` and ``upper`` are then ``None``).
    seed : int
        Seed of the resampling.
    level : float
        Confidence level of the intervals.
    where : str
        Named in error messages (for example the input file).
    n_jobs : int
        Parallel processes (joblib) for the resamples; results do not depend on it.

    Returns
    -------
    dict
        ``{"horizon", "n", "events", "competing_events", "observed_risk",
        "n_bootstrap", "seed", "level", "models": {name: {measure:
        {"estimate", "lower", "upper"}}}, "net_benefit": [{"threshold",
        "model", "net_benefit": {"estimate", "lower", "upper"}}]}``;
        ``events`` counts events (code 1) by the horizon.

    Warns
    -----
    StatisticalWarning
        When resamples fail (for example no event by the horizon) or warn.
    """
    t, e = as_outcome(duration, event, where=where)
    h = check_horizon(t, e, horizon, where=where)
    if not risks:
        raise ValidationInputError("risks: no risk column given; pass at least one model.")
    r = {name: as_risk(v, t.size, name=name) for name, v in risks.items()}
    th = check_thresholds(np.arange(1, 51) / 100 if thresholds is None else thresholds)
    if int(n_bootstrap) < 0:
        raise ValidationInputError(f"n_bootstrap must be >= 0, got {n_bootstrap}.")
    if not 0 < level < 1:
        raise ValidationInputError(f"level must be in (0, 1), got {level}.")
    hd = prepare(t, e, h)

    def all_scores(hd_: HorizonData, idx: NDArray[np.intp] | None) -> tuple[dict, dict]:
        sc, nb = {}, {}
        for name, risk in r.items():
            rr = risk if idx is None else risk[idx]
            sc[name] = score(hd_, rr)
            nb[name] = net_benefits(hd_, rr, th)
        nb[TREAT_ALL] = _treat_all(hd_, th)
        return sc, nb

    est_scores, est_nb = all_scores(hd, None)
    b = int(n_bootstrap)
    boot_scores = {n: {m: np.full(b, np.nan) for m in MEASURES} for n in r}
    boot_nb = {n: np.full((b, th.size), np.nan) for n in est_nb}
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, t.size, t.size) for _ in range(b)]

    def one(k: int) -> tuple[Any, dict[str, int]]:
        idx = draws[k]

        def scores() -> tuple[dict, dict]:
            t_b, e_b = t[idx], e[idx]
            hd_b = prepare(t_b, e_b, check_horizon(t_b, e_b, h, where="bootstrap resample"))
            return all_scores(hd_b, idx)

        tally_ = {"failed": 0, "warned": 0}
        return _quietly(scores, tally_), tally_

    results = map_resamples(one, b, n_jobs)
    tally = {"failed": 0, "warned": 0}
    for k, (got, tally_) in enumerate(results):
        for key in tally:
            tally[key] += tally_[key]
        if got is None:
            continue
        sc, nb = got
        for name in r:
            for m in MEASURES:
                boot_scores[name][m][k] = sc[name][m]
        for name in est_nb:
            boot_nb[name][k] = nb[name]
    if tally["failed"] or tally["warned"]:
        warnings.warn(
            f"bootstrap: {tally['failed']} of {b} resamples could not be scored and "
            f"{tally['warned']} gave warnings (few events or a calibration fit that did not "
            "converge); the intervals rest on fewer resamples - interpret them with care or "
            "evaluate on more data.",
            StatisticalWarning,
            stacklevel=2,
        )
    models = {
        name: {
            m: bootstrap_interval(est_scores[name][m], boot_scores[name][m], level)
            for m in MEASURES
        }
        for name in r
    }
    nb_rows: list[dict[str, Any]] = []
    for name in [*r, TREAT_ALL]:
        for j, pt in enumerate(th):
            nb_rows.append(
                {
                    "threshold": float(pt),
                    "model": name,
                    "net_benefit": bootstrap_interval(
                        float(est_nb[name][j]), boot_nb[name][:, j], level
                    ),
                }
            )
    for pt in th:
        nb_rows.append(
            {
                "threshold": float(pt),
                "model": TREAT_NONE,
                "net_benefit": {"estimate": 0.0, "lower": 0.0, "upper": 0.0},
            }
        )
    return {
        "horizon": h,
        "n": int(t.size),
        "events": int(hd.case.sum()),
        "competing_events": int(hd.competing.sum()),
        "observed_risk": hd.observed_risk,
        "n_bootstrap": b,
        "seed": int(seed),
        "level": float(level),
        "models": models,
        "net_benefit": nb_rows,
    }
