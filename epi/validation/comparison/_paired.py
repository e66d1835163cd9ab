"""Paired comparison of arms: differences with the same resamples for every arm.

Every statistic of an extended arm is compared with the reference arm fitted
with the same model. In each bootstrap resample *every* arm's whole modelling
procedure (its factory: missing-data handling, model, tuning) is refitted on
the same persons, so the differences are paired; each resample's fits are
scored twice, on the resample and on the original data, and every measure,
difference, NRI, IDI and net benefit comes from that one set of fits.

Optimism (Harrell, Lee & Mark 1996), applied to a difference ``D``::

    D_corrected = D_apparent - mean_b (D_b,resample - D_b,original)

Interval: the spread of ``D_b,resample`` (the apparent difference of the
refitted procedures in each resample, so model-fitting variability is
included) around its median, i.e. the distances from the median to its
``(1 - level)/2`` and ``(1 + level)/2`` quantiles, placed around the
optimism-corrected estimate (the shift of Harrell, *Regression Modeling
Strategies*, section 5.3, as in ``performance.json``, with the bootstrap
distribution's own bias removed so that every interval holds its estimate).
The same spread around the apparent difference is reported beside it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from epi.exceptions import StatisticalWarning, ValidationInputError
from epi.validation._checks import as_outcome, as_risk, check_horizon
from epi.validation._decision import _treat_all, check_thresholds, net_benefits
from epi.validation._estimators import HorizonData, prepare
from epi.validation._parallel import map_resamples
from epi.validation._performance import bootstrap_spread, score
from epi.validation._resampling import _fit_predict, _FitLog, _subset
from epi.validation.comparison._nested import likelihood_ratio_test
from epi.validation.comparison._reclassification import _idi, _idi_weights, _nri, check_cuts

FloatArray = NDArray[np.float64]


class ArmFit(Protocol):
    """What `compare_arms` needs of a fitted arm: names, the fitted model and its risks."""

    arm: str
    model: str
    fitted: Any
    risk: NDArray[np.float64]

    @property
    def label(self) -> str:
        """``arm / model``."""
        ...


#: Measures whose difference (extended - reference) is reported.
DIFFERENCE_MEASURES: tuple[str, ...] = ("harrell_c", "uno_c", "auc", "brier", "ipa")
#: Measures shown per arm side by side (calibration and performance).
ARM_MEASURES: tuple[str, ...] = (
    "harrell_c",
    "uno_c",
    "auc",
    "brier",
    "ipa",
    "oe_ratio",
    "calibration_slope",
)
#: Reclassification statistics per pair, in report order.
RECLASSIFICATION: tuple[str, ...] = (
    "nri_event",
    "nri_nonevent",
    "nri",
    "cnri_event",
    "cnri_nonevent",
    "cnri",
    "idi_event",
    "idi_nonevent",
    "idi",
)
#: Every scalar statistic of a pair.
PAIR_STATISTICS: tuple[str, ...] = DIFFERENCE_MEASURES + RECLASSIFICATION
#: Statistics where a larger difference means the extended arm is better
#: (for ``brier`` a smaller one).
LOWER_IS_BETTER = frozenset({"brier"})

METHOD = (
    "Paired bootstrap: the same resamples of persons for every arm, each arm's whole "
    "modelling procedure refitted in every resample. Estimates are optimism-corrected "
    "(apparent difference minus the mean over resamples of the difference on the resample "
    "minus the difference of the same fits on the original data); intervals take the "
    "spread of the resample differences around their median (percentile limits) and "
    "place it around the optimism-corrected estimate."
)


# ------------------------------------------------------------------ statistics


def _arm_stats(
    hd: HorizonData, risk: FloatArray, thresholds: FloatArray, measures: Sequence[str]
) -> tuple[dict[str, float], FloatArray]:
    return score(hd, risk, measures), net_benefits(hd, risk, thresholds)


def _all_stats(
    hd: HorizonData,
    risks: Mapping[str, FloatArray],
    reference: str,
    thresholds: FloatArray,
    cuts: FloatArray,
    measures: Sequence[str] = ARM_MEASURES,
) -> dict[str, float]:
    """Every statistic of every arm and every pair, as one flat mapping (internal).

    Keys: ``arm|<arm>|<measure>``, ``arm|<arm>|nb|<k>``, ``pair|<arm>|<statistic>``,
    ``pair|<arm>|dnb|<k>`` and ``pair|<arm>|nia|<k>`` (k: threshold index).
    """
    out: dict[str, float] = {}
    nb: dict[str, FloatArray] = {}
    sc: dict[str, dict[str, float]] = {}
    for arm, risk in risks.items():
        sc[arm], nb[arm] = _arm_stats(hd, risk, thresholds, measures)
        for m, v in sc[arm].items():
            out[f"arm|{arm}|{m}"] = v
        for k, v in enumerate(nb[arm]):
            out[f"arm|{arm}|nb|{k}"] = float(v)
    harm = thresholds / (1.0 - thresholds)
    r0 = risks[reference]
    weights = _idi_weights(hd)
    for arm, risk in risks.items():
        if arm == reference:
            continue
        key = f"pair|{arm}|"
        for m in DIFFERENCE_MEASURES:
            out[key + m] = sc[arm][m] - sc[reference][m]
        cat = _nri(hd, r0, risk, cuts)
        con = _nri(hd, r0, risk, None)
        idi = _idi(hd, r0, risk, weights)
        out[key + "nri_event"], out[key + "nri_nonevent"] = cat["event"], cat["nonevent"]
        out[key + "nri"] = cat["nri"]
        out[key + "cnri_event"], out[key + "cnri_nonevent"] = con["event"], con["nonevent"]
        out[key + "cnri"] = con["nri"]
        out[key + "idi_event"], out[key + "idi_nonevent"] = idi["event"], idi["nonevent"]
        out[key + "idi"] = idi["idi"]
        dnb = nb[arm] - nb[reference]
        for k in range(thresholds.size):
            out[f"{key}dnb|{k}"] = float(dnb[k])
            out[f"{key}nia|{k}"] = float(100.0 * dnb[k] / harm[k])
    return out


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _summaries(
    apparent: Mapping[str, float],
    boot: FloatArray | None,
    test: FloatArray | None,
    keys: Sequence[str],
    level: float,
) -> dict[str, dict[str, float | None]]:
    """Apparent and optimism-corrected estimate and interval of every key."""
    out = {}
    for j, key in enumerate(keys):
        app = _num(apparent[key])
        row: dict[str, float | None] = {
            "estimate": app,
            "lower": None,
            "upper": None,
            "apparent": app,
            "apparent_lower": None,
            "apparent_upper": None,
            "optimism": None,
        }
        if boot is not None and boot.shape[0] and app is not None:
            below, above = bootstrap_spread(boot[:, j], level)
            if below is not None and above is not None:
                row["apparent_lower"], row["apparent_upper"] = app - below, app + above
                row["lower"], row["upper"] = app - below, app + above
            if test is not None:  # refitted arms: optimism-corrected
                diff = boot[:, j] - test[:, j]
                diff = diff[np.isfinite(diff)]
                row["lower"] = row["upper"] = None
                if diff.size:
                    opt = float(diff.mean())
                    est = app - opt
                    row["optimism"], row["estimate"] = opt, est
                    if below is not None and above is not None:
                        row["lower"], row["upper"] = est - below, est + above
        out[key] = row
    return out


def _assemble(
    model: str,
    reference: str,
    arms: Sequence[str],
    thresholds: FloatArray,
    summaries: Mapping[str, dict[str, float | None]],
    lr: Mapping[str, dict[str, Any]] | None,
    measures: Sequence[str] = ARM_MEASURES,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    comparisons, per_arm = [], []
    for arm in arms:
        per_arm.append(
            {
                "arm": arm,
                "model": model,
                "measures": {
                    m: summaries[f"arm|{arm}|{m}"]
                    for m in measures
                    if f"arm|{arm}|{m}" in summaries
                },
                "net_benefit": [
                    {"threshold": float(pt), **summaries[f"arm|{arm}|nb|{k}"]}
                    for k, pt in enumerate(thresholds)
                ],
            }
        )
        if arm == reference:
            continue
        key = f"pair|{arm}|"
        comparisons.append(
            {
                "arm": arm,
                "reference": reference,
                "model": model,
                "differences": {s: summaries[key + s] for s in PAIR_STATISTICS},
                "net_benefit": [
                    {
                        "threshold": float(pt),
                        "delta_net_benefit": summaries[f"{key}dnb|{k}"],
                        "net_interventions_avoided_per_100": summaries[f"{key}nia|{k}"],
                    }
                    for k, pt in enumerate(thresholds)
                ],
                "likelihood_ratio": (lr or {}).get(
                    arm, {"applicable": False, "reason": "no fitted models given"}
                ),
            }
        )
    return comparisons, per_arm


def _header(
    hd: HorizonData,
    reference: str,
    b: int,
    seed: int,
    level: float,
    thresholds: FloatArray,
    cuts: FloatArray,
) -> dict[str, Any]:
    return {
        "horizon_days": hd.horizon,
        "reference": reference,
        "n": int(hd.duration.size),
        "events": int(hd.case.sum()),
        "competing_events": int(hd.competing.sum()),
        "observed_risk": hd.observed_risk,
        "n_bootstrap": int(b),
        "seed": int(seed),
        "level": float(level),
        "thresholds": [float(x) for x in thresholds],
        "risk_groups": [float(x) for x in cuts],
        "difference": "extended arm minus reference arm (for brier lower is better)",
        "estimators": {
            "nri": "Kaplan-Meier based survival NRI at the horizon (Pencina et al. 2011), "
            "Aalen-Johansen with competing events; categorical at risk_groups and "
            "continuous; event and non-event components separately",
            "idi": "difference in IPCW-weighted mean risk among events minus among "
            "non-events at the horizon (reverse Kaplan-Meier censoring weights)",
            "net_interventions_avoided_per_100": "100 x delta net benefit / (pt / (1 - pt))",
        },
    }


# ------------------------------------------------------------ fixed predictions


def compare_predictions(
    duration: ArrayLike,
    event: ArrayLike,
    risks: Mapping[str, ArrayLike],
    reference: str,
    horizon: float,
    *,
    thresholds: ArrayLike | None = None,
    risk_groups: ArrayLike = (0.1, 0.2),
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Pairwise added-value measures of fixed predictions against a reference column.

    For predictions made elsewhere (a prediction file): persons are resampled
    and the same resample scores every column, but nothing is refitted, so
    the estimates are *not* optimism-corrected (``optimism`` is ``None``;
    use held-out predictions). For fitted arms use :func:`compare_arms`.

    Parameters
    ----------
    duration, event : array-like
        Outcome (event 0 censored, 1 event, 2 competing).
    risks : mapping of str to array-like
        Predicted risk of event 1 by ``horizon`` per column; must include
        ``reference``.
    reference : str
        The column the others are compared with.
    horizon : float
    thresholds : array-like, optional
        Decision thresholds (default 0.01, ..., 0.50).
    risk_groups : array-like
        Cut-offs of the categorical NRI.
    n_bootstrap, seed, level
        Paired bootstrap of persons for percentile intervals (0: none).

    Returns
    -------
    dict
        As :func:`compare_arms` with one model named ``"predictions"``.
    """
    t, e = as_outcome(duration, event)
    h = check_horizon(t, e, horizon, where="outcome")
    if reference not in risks:
        raise ValidationInputError(
            f"reference column '{reference}' is not among the risk columns {list(risks)}; "
            "name one of them."
        )
    if len(risks) < 2:
        raise ValidationInputError(
            f"only the reference column '{reference}' was given; pass at least one more "
            "risk column to compare with it."
        )
    r = {name: as_risk(v, t.size, name=name) for name, v in risks.items()}
    th = check_thresholds(np.arange(1, 51) / 100 if thresholds is None else thresholds)
    cuts = check_cuts(risk_groups)
    if int(n_bootstrap) < 0:
        raise ValidationInputError(f"n_bootstrap must be >= 0, got {n_bootstrap}.")
    hd = prepare(t, e, h)
    apparent = _all_stats(hd, r, reference, th, cuts)
    keys = list(apparent)
    rng = np.random.default_rng(seed)
    rows, failed = [], 0
    for _ in range(int(n_bootstrap)):
        idx = rng.integers(0, t.size, t.size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            try:
                hd_b = prepare(t[idx], e[idx], check_horizon(t[idx], e[idx], h, where="resample"))
                got = _all_stats(hd_b, {k: v[idx] for k, v in r.items()}, reference, th, cuts)
            except ValidationInputError:
                failed += 1
                continue
        rows.append([got[k] for k in keys])
    boot = np.asarray(rows, dtype=float) if rows else None
    if failed:
        warnings.warn(
            f"compare: {failed} of {n_bootstrap} resamples had no event by the horizon and "
            "were dropped; the intervals rest on fewer resamples.",
            StatisticalWarning,
            stacklevel=2,
        )
    summaries = _summaries(apparent, boot, None, keys, level)
    comparisons, per_arm = _assemble("predictions", reference, list(r), th, summaries, None)
    return {
        **_header(hd, reference, int(n_bootstrap), seed, level, th, cuts),
        "method": "Paired bootstrap of persons over fixed predictions (no refit, no "
        "optimism correction); intervals: the spread of the resample differences around "
        "their median, placed around the estimate.",
        "optimism_corrected": False,
        "n_failed": {"predictions": failed},
        "treat_all": [float(v) for v in _treat_all(hd, th)],
        "comparisons": comparisons,
        "arms": per_arm,
    }


# ------------------------------------------------------------------ fitted arms


def _check_fits(
    fits: Sequence[ArmFit],
    outcome: pd.DataFrame,
    X_by_arm: Mapping[str, pd.DataFrame],
    reference: str,
    factories: Mapping[tuple[str, str], Callable[[], Any]],
) -> dict[str, list[ArmFit]]:
    by_model: dict[str, list[ArmFit]] = {}
    for fit in fits:
        by_model.setdefault(fit.model, []).append(fit)
    if not by_model:
        raise ValidationInputError("compare_arms: no fitted arms given.")
    for model, group in by_model.items():
        arms = [f.arm for f in group]
        if reference not in arms:
            raise ValidationInputError(
                f"compare_arms: model '{model}' has no fit of the reference arm "
                f"'{reference}' (arms fitted: {arms}); fit the reference arm with every model."
            )
        if len(arms) < 2:
            raise ValidationInputError(
                f"compare_arms: model '{model}' has only the reference arm; nothing to compare."
            )
        for f in group:
            if f.arm not in X_by_arm:
                raise ValidationInputError(
                    f"compare_arms: no design matrix for arm '{f.arm}' in X_by_arm "
                    f"(have {sorted(X_by_arm)})."
                )
            if (f.arm, f.model) not in factories:
                raise ValidationInputError(
                    f"compare_arms: no factory for ({f.arm!r}, {f.model!r}); pass "
                    "factories[(arm, model)] = a function returning the unfitted model."
                )
            X = X_by_arm[f.arm]
            if not X.index.equals(outcome.index):
                raise ValidationInputError(
                    f"compare_arms: X_by_arm['{f.arm}'] ({len(X)} rows) is not indexed like "
                    f"the outcome ({len(outcome)} rows); align it with X.loc[outcome.index]."
                )
            if np.asarray(f.risk).size != len(outcome):
                raise ValidationInputError(
                    f"compare_arms: {f.label} has {np.asarray(f.risk).size} risks for "
                    f"{len(outcome)} persons."
                )
    return by_model


def _resample(
    b: int,
    idx: NDArray[np.intp],
    arms: Sequence[tuple[str, str]],
    X_by_arm: Mapping[str, pd.DataFrame],
    outcome: pd.DataFrame,
    factories: Mapping[tuple[str, str], Callable[[], Any]],
    hd: HorizonData,
    reference: str,
    th: FloatArray,
    cuts: FloatArray,
    measures: Sequence[str],
) -> tuple[dict[str, tuple[dict[str, float], dict[str, float]] | None], list[str], float]:
    """Refit every (arm, model) on one resample; score on the resample and the original."""
    cpu = time.process_time()
    t, e, h = hd.duration, hd.event, hd.horizon
    notes: list[str] = []
    preds: dict[tuple[str, str], list[FloatArray] | None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        for arm, model in arms:
            xb, yb = _subset(X_by_arm[arm], outcome, idx, fresh=True)
            label = f"bootstrap resample {b + 1} ({arm} / {model})"
            out, note = _fit_predict(factories[(arm, model)], xb, yb, [xb, X_by_arm[arm]], h, label)
            if note:
                notes.append(note)
            preds[(arm, model)] = out
        try:
            hd_b: HorizonData | None = prepare(
                t[idx], e[idx], check_horizon(t[idx], e[idx], h, where="resample")
            )
        except ValidationInputError as exc:
            notes.append(f"bootstrap resample {b + 1}: not scored: {exc}")
            hd_b = None
        results: dict[str, tuple[dict[str, float], dict[str, float]] | None] = {}
        for model in dict.fromkeys(m for _, m in arms):
            group = [a for a, m in arms if m == model]
            if hd_b is None or any(preds[(a, model)] is None for a in group):
                results[model] = None  # paired: both arms or neither
                continue
            boot = {a: preds[(a, model)][0] for a in group}  # type: ignore[index]
            test = {a: preds[(a, model)][1] for a in group}  # type: ignore[index]
            results[model] = (
                _all_stats(hd_b, boot, reference, th, cuts, measures),
                _all_stats(hd, test, reference, th, cuts, measures),
            )
    return results, notes, time.process_time() - cpu


def compare_arms(
    fits: Sequence[ArmFit],
    outcome: pd.DataFrame,
    X_by_arm: Mapping[str, pd.DataFrame],
    factories: Mapping[tuple[str, str], Callable[[], Any]],
    *,
    reference: str,
    horizon: float,
    n_bootstrap: int,
    seed: int,
    thresholds: Sequence[float],
    risk_groups: Sequence[float],
    n_jobs: int = 1,
    level: float = 0.95,
    arm_measures: Sequence[str] = ARM_MEASURES,
) -> dict[str, Any]:
    """Added value of each extended arm over the reference arm, per model.

    Parameters
    ----------
    fits : sequence of ArmFit
        Fitted arms (``arm``, ``model``, ``fitted``, ``risk`` on all persons);
        every model needs a fit of the ``reference`` arm. The extended arms
        are reported in the order of ``fits``.
    outcome : pandas.DataFrame
        ``duration`` and ``event`` indexed by ``person_id``.
    X_by_arm : mapping of str to DataFrame
        Each arm's design matrix, indexed like ``outcome``.
    factories : mapping of (arm, model) to callable
        Unfitted-model factories, refitted in every resample.
    reference : str
        The reference arm.
    horizon : float
        Prediction horizon (the outcome's time unit).
    n_bootstrap : int
        Paired bootstrap resamples (0: apparent differences only).
    seed : int
        Seed of the resamples.
    thresholds : sequence of float
        Risk thresholds of the net benefit.
    risk_groups : sequence of float
        Cut-offs of the categorical NRI.
    n_jobs : int
        Parallel processes (joblib); results do not depend on it.
    level : float
        Confidence level.
    arm_measures : sequence of str
        Measures reported per arm (default :data:`ARM_MEASURES`); pass every
        measure of :data:`epi.validation.MEASURES` to take each arm's
        optimism correction from these refits instead of a second bootstrap.

    Returns
    -------
    dict
        JSON-ready. Header (``horizon_days``, ``reference``, ``n``, ``events``,
        ``n_bootstrap``, ``seed``, ``level``, ``thresholds``, ``risk_groups``,
        ``method``, ``estimators``, ``n_failed`` per model); ``comparisons``: one
        entry per extended arm and model with ``differences`` {statistic:
        S} for :data:`PAIR_STATISTICS`, ``net_benefit`` [{threshold,
        delta_net_benefit: S, net_interventions_avoided_per_100: S}] and
        ``likelihood_ratio`` (see :func:`likelihood_ratio_test`); ``arms``:
        every arm and model with ``measures`` {measure: S} (calibration side by
        side) and ``net_benefit`` [{threshold, **S}]; ``treat_all`` net
        benefit per threshold. ``S = {estimate, lower, upper}``
        (optimism-corrected) plus ``apparent``, ``apparent_lower``,
        ``apparent_upper`` and ``optimism``.

    Warns
    -----
    StatisticalWarning
        When resamples are dropped (a fit that failed or no event by the
        horizon) or fits did not converge.
    """
    horizon = float(horizon)
    b_total = int(n_bootstrap)
    seed = int(seed)
    th = check_thresholds(thresholds)
    cuts = check_cuts(risk_groups)
    by_model = _check_fits(fits, outcome, X_by_arm, reference, factories)
    t, e = as_outcome(outcome["duration"], outcome["event"])
    h = check_horizon(t, e, horizon, where="outcome")
    hd = prepare(t, e, h)

    # Reference first, then the extended arms in the order given.
    for group in by_model.values():
        group.sort(key=lambda f: f.arm != reference)
    apparent = {
        model: _all_stats(
            hd,
            {f.arm: as_risk(f.risk, t.size, name=f.label) for f in group},
            reference,
            th,
            cuts,
            arm_measures,
        )
        for model, group in by_model.items()
    }
    lr = {
        model: {f.arm: likelihood_ratio_test(group[0].fitted, f.fitted, outcome) for f in group[1:]}
        for model, group in by_model.items()
    }

    arms = [(f.arm, f.model) for group in by_model.values() for f in group]
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, t.size, t.size) for _ in range(b_total)]
    args = (arms, X_by_arm, outcome, factories, hd, reference, th, cuts, arm_measures)
    results = map_resamples(lambda b: _resample(b, draws[b], *args), b_total, n_jobs)

    log = _FitLog("bootstrap refits")
    log.total = b_total * len(arms)
    for _, notes, _ in results:
        log.problems += [n for n in notes if "not scored" not in n]
    log.report()
    comparisons, per_arm, failed = [], [], {}
    for model, group in by_model.items():
        keys = list(apparent[model])
        ok = [r[0][model] for r in results if r[0][model] is not None]
        failed[model] = b_total - len(ok)
        boot = np.array([[s[0][k] for k in keys] for s in ok]) if ok else None
        test = np.array([[s[1][k] for k in keys] for s in ok]) if ok else None
        summaries = _summaries(apparent[model], boot, test, keys, level)
        c, a = _assemble(
            model, reference, [f.arm for f in group], th, summaries, lr[model], arm_measures
        )
        comparisons += c
        per_arm += a
    if any(failed.values()):
        warnings.warn(
            f"compare_arms: resamples dropped per model {failed} of {b_total} (a refit of "
            "either arm failed, or no event by the horizon); differences stay paired but rest "
            "on fewer resamples.",
            StatisticalWarning,
            stacklevel=2,
        )
    return {
        **_header(hd, reference, b_total, seed, level, th, cuts),
        "method": METHOD,
        "optimism_corrected": b_total > 0,
        "n_failed": failed,
        "cpu_seconds_resamples": float(sum(r[2] for r in results)),
        "treat_all": [float(v) for v in _treat_all(hd, th)],
        "comparisons": comparisons,
        "arms": per_arm,
    }
