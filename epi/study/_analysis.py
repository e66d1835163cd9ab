"""Fit every arm × model the protocol names, validate it, and write the results bundle.

An *arm* is a union of feature sets (``comparisons.arms``; without a
comparisons section, one arm of every set). Each arm is fitted with every
model of ``models:`` through one factory — missing-data handling, model and
its tuning together — so bootstrap, cross-validation, temporal and
internal–external validation refit the whole procedure. Only aggregated
results are written (docs/BUNDLE.md); predicted risks stay in memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from epi._cores import usable_cores
from epi.bundle import (
    AddedValue,
    Calibration,
    Coefficients,
    DecisionCurves,
    Heterogeneity,
    Performance,
    PHTest,
    Resampling,
    SampleSizeReport,
    Subgroups,
)
from epi.disclosure import bundle_count
from epi.exceptions import EpiError, ModelError, ProtocolError, StatisticalWarning
from epi.features import FeatureSets, make_missing_handler
from epi.models import ImputingModel, export_model_spec, is_exportable, make_model
from epi.models._registry import BAYES_KINDS
from epi.protocol import ModelSpec, Protocol
from epi.validation import calibration_curve
from epi.validation._calibration import _binned
from epi.validation._estimators import prepare
from epi.validation._performance import (
    INTERVAL_METHOD,
    MEASURES,
    evaluate_predictions,
    score,
)
from epi.validation._resampling import (
    ResamplingResult,
    bootstrap_optimism,
    cross_validate,
    internal_external_validation,
    temporal_validation,
)
from epi.validation._samplesize import riley_survival, rsquared_cs_from_lr
from epi.validation.comparison import compare_arms, null_loglik

if TYPE_CHECKING:
    from epi.study._context import RunContext

__all__ = [
    "ArmModel",
    "Designs",
    "analyse",
    "arms_of",
    "comparison_settings",
    "model_factory",
]

AGE_GROUPS = (0, 65, 75, 85, 200)
#: Cluster columns of the cohort table that hierarchical models group by.
GROUPS = ("practice_id", "municipality_code")
MCMC_NOT_RESAMPLED = (
    "bootstrap, temporal and internal-external validation are not performed for Bayesian "
    "models: refitting by MCMC in every resample is impractical. Their cross-validated "
    "performance is approximate leave-one-out from the one fit (PSIS-LOO, Vehtari, Gelman "
    "& Gabry 2017), and their posterior intervals carry the parameter uncertainty"
)
# Resamples run in parallel processes on every usable core; the result does not depend
# on the count.
N_JOBS = usable_cores()


Designs = dict[str, tuple[list[str], pd.DataFrame]]


def arms_of(protocol: Protocol, features: FeatureSets) -> Designs:
    """Each arm's feature sets and design matrix: the protocol's comparison arms,
    or one arm of every set."""
    if protocol.comparisons is not None:
        arms = {name: list(sets) for name, sets in protocol.comparisons.arms.items()}
    else:
        arms = {"all": list(features.names)}
    return {arm: (sets, features.design(sets)) for arm, sets in arms.items()}


def comparison_settings(protocol: Protocol) -> dict[str, Any]:
    """`compare_arms` keyword arguments from the protocol (reference, horizon, B, seed,
    thresholds, risk groups)."""
    if protocol.comparisons is None:
        raise ProtocolError(
            "the protocol has no comparisons section; name a reference arm and extended "
            "arms under comparisons: to estimate added value."
        )
    v = protocol.validation
    return {
        "reference": protocol.comparisons.reference,
        "horizon": float(protocol.outcome.horizon_days),
        "n_bootstrap": int(v.bootstrap),
        "seed": int(protocol.seed),
        "thresholds": v.thresholds,
        "risk_groups": v.risk_groups,
    }


def model_factory(protocol: Protocol, spec: ModelSpec) -> Callable[[], ImputingModel]:
    """An unfitted-model factory: the protocol's missing-data handler, then the model."""
    params: dict[str, Any] = dict(spec.params)
    passthrough: tuple[str, ...] = ()
    if spec.kind in ("rsf", "gbsa"):
        params.setdefault("random_state", protocol.seed)
    if spec.kind in BAYES_KINDS:
        params.setdefault("seed", protocol.seed)
        params.setdefault("groups", GROUPS)
        passthrough = tuple(params["groups"])
    make_model(spec.kind, **params)  # fail now, naming the bad parameter, not in a resample
    return partial(
        ImputingModel,
        partial(make_missing_handler, protocol.missing, protocol.seed),
        partial(make_model, spec.kind, **params),
        passthrough,
    )


@dataclass
class ArmModel:
    """One fitted arm × model with its apparent risks and resampling results."""

    arm: str
    model: str
    kind: str
    n_predictors: int
    fitted: ImputingModel
    risk: np.ndarray
    resampling: dict[str, Any]

    @property
    def label(self) -> str:
        """``arm / model`` as shown in tables and plots."""
        return f"{self.arm} / {self.model}"


def _interval(value: float | None) -> dict[str, float | None]:
    return {"estimate": value, "lower": None, "upper": None}


#: How every interval of performance.json is computed (the bundle says it, the report prints it).
INTERVAL_DESCRIPTION = (
    f"Apparent: {INTERVAL_METHOD}, over resamples of persons with the predicted risks held "
    "fixed. Optimism-corrected: the apparent interval shifted by the bootstrap optimism "
    "(Harrell, Regression Modeling Strategies, section 5.3), so it holds its estimate. "
    "Cross-validated, temporal and internal-external estimates: point estimates."
)


def _shifted(apparent: dict[str, Any], corrected: dict[str, float]) -> dict[str, Any]:
    """Optimism-corrected estimates with the apparent interval shifted by the optimism.

    The shift keeps the interval's width from the apparent bootstrap — the usual
    approximation (Harrell, RMS §5.3); see `INTERVAL_DESCRIPTION`.
    """
    out = {}
    for m in MEASURES:
        est = corrected.get(m)
        app = apparent.get(m, {})
        if est is None or app.get("estimate") is None:
            out[m] = _interval(est)
            continue
        shift = est - app["estimate"]
        lo, hi = app.get("lower"), app.get("upper")
        out[m] = {
            "estimate": est,
            "lower": None if lo is None else lo + shift,
            "upper": None if hi is None else hi + shift,
        }
    return out


def _point(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    return {m: _interval(result.estimate.get(m)) for m in MEASURES}


def _coefficients(fitted: ImputingModel) -> list[dict[str, Any]]:
    """Coefficient rows (``CoefficientRow``) of a single fitted Cox model; none otherwise."""
    model = fitted.models_[0]
    if len(fitted.models_) > 1 or not hasattr(model, "summary"):
        return []
    table = model.summary().rename(columns={"hr_lower_95": "hr_lower", "hr_upper_95": "hr_upper"})
    return _records(table.rename_axis("term"))


def _ph_test(fit: ArmModel) -> list[dict[str, Any]]:
    """Proportional-hazards test rows (``PHTestRow``); a test that cannot run is said."""
    model = fit.fitted.models_[0]
    if len(fit.fitted.models_) > 1 or not hasattr(model, "ph_test"):
        return []
    if float(getattr(model, "penalizer", 0.0) or 0.0) > 0:
        # the score test is centred on the unpenalised maximum: at a penalised estimate
        # it rejects for every term, whatever the hazards do
        return []
    try:
        table = model.ph_test()
    except EpiError as exc:
        warnings.warn(
            f"{fit.label}: the proportional-hazards test could not be computed ({exc}); the "
            "report shows none for this model.",
            StatisticalWarning,
            stacklevel=2,
        )
        return []
    return _records(table)


def _subgroups(
    table: pd.DataFrame, fits: list[ArmModel], horizon: float, min_cell: int
) -> list[dict[str, Any]]:
    """Apparent performance by sex, age group and municipality (fairness, TRIPOD+AI 23a)."""
    groupings = {}
    if "sex" in table:
        groupings["sex"] = table["sex"].astype(str)
    if "age" in table:
        labels = ["<65", "65-74", "75-84", "85+"]
        # completed years, as eligibility: a 64.9993-year-old in a 65+ cohort is 65
        years = table["age_completed"] if "age_completed" in table else np.floor(table["age"])
        groupings["age_group"] = pd.cut(years, AGE_GROUPS, right=False, labels=labels).astype(str)
    if "municipality_code" in table:
        groupings["municipality"] = table["municipality_code"].astype(str)
    duration, event = table["duration"].to_numpy(float), table["event"].to_numpy(int)
    rows = []
    for fit in fits:
        for subgroup, labels in groupings.items():
            for level in sorted(labels.unique()):
                mask = (labels == level).to_numpy()
                events = int(((event[mask] == 1) & (duration[mask] <= horizon)).sum())
                row: dict[str, Any] = {
                    "arm": fit.arm,
                    "model": fit.model,
                    "subgroup": subgroup,
                    "level": level,
                    "n": bundle_count(int(mask.sum()), min_cell),
                    "events": bundle_count(events, min_cell),
                }
                if events >= 10 and events < mask.sum():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", StatisticalWarning)
                        scores = evaluate_predictions(
                            duration[mask],
                            event[mask],
                            {"m": fit.risk[mask]},
                            horizon,
                            n_bootstrap=0,
                            where=f"{subgroup}={level}",
                        )["models"]["m"]
                    for m in ("harrell_c", "auc", "oe_ratio", "calibration_slope", "brier"):
                        row[m] = scores[m]["estimate"]
                rows.append(row)
    return rows


def _calibration(
    table: pd.DataFrame, fits: list[ArmModel], horizon: float, min_cell: int
) -> list[dict[str, Any]]:
    duration = table["duration"].to_numpy(float)
    event = table["event"].to_numpy(int)
    hd = prepare(duration, event, horizon)
    curves = []
    for fit in fits:
        curve = calibration_curve(duration, event, fit.risk, horizon)
        groups = _binned(hd, fit.risk, n_bins=10)
        curves.append(
            {
                "arm": fit.arm,
                "model": fit.model,
                "points": curve.replace({np.nan: None}).to_dict(orient="records"),
                "groups": [
                    {
                        "group": int(g.bin),
                        "n": bundle_count(int(g.n), min_cell),
                        "predicted": float(g.mean_predicted),
                        "observed": float(g.observed),
                    }
                    for g in groups.itertuples()
                ],
            }
        )
    return curves


def analyse(ctx: RunContext, people: pd.DataFrame, designs: Designs) -> list[ArmModel]:
    """Fit, validate and write every arm × model of the protocol.

    Parameters
    ----------
    ctx : RunContext
        The run (protocol, output folder, progress).
    people : pandas.DataFrame
        One row per person (index ``person_id``): ``duration`` and ``event``,
        and where known ``index_year``, ``practice_id``, ``municipality_code``,
        ``age`` and ``sex`` (the cohort table; an analysis table has fewer).
    designs : dict
        Arm → (feature sets, design matrix indexed like ``people``), from
        :func:`arms_of`.

    Returns
    -------
    list of ArmModel
        The fits, for later stages (added value, report).
    """
    protocol = ctx.protocol
    v = protocol.validation
    horizon = float(protocol.outcome.horizon_days)
    outcome = people[["duration", "event"]]
    duration, event = outcome["duration"].to_numpy(float), outcome["event"].to_numpy(int)
    index_year = people["index_year"].to_numpy(int) if "index_year" in people else None
    temporal_year = v.temporal_split_year
    temporal_reason = None
    if temporal_year is None:
        temporal_reason = "no temporal_split_year in the protocol"
    elif index_year is None:
        temporal_reason = "the data have no index year"
        temporal_year = None
    elif not (index_year < temporal_year).any() or not (index_year >= temporal_year).any():
        temporal_reason = f"every index date falls on one side of {temporal_year}"
        temporal_year = None
    clusters = None
    column = {"municipality": "municipality_code", "practice": "practice_id"}
    if v.internal_external and column[v.internal_external] in people:
        clusters = people[column[v.internal_external]].to_numpy()

    # The protocol's first (primary) model is bootstrapped once, in the paired comparison
    # of arms, which refits every arm on the same resamples; its per-arm scores are the
    # optimism correction too, so a second bootstrap of the same model would repeat them.
    primary = protocol.models[0]
    paired = (
        protocol.comparisons is not None
        and protocol.comparisons.reference in designs
        and len(designs) > 1
        and primary.kind not in BAYES_KINDS
        and v.bootstrap > 0
    )
    fits: list[ArmModel] = []
    performance: dict[str, Any] = {}
    for arm, (sets, X) in designs.items():
        performance[arm] = {"feature_sets": sets, "n_predictors": X.shape[1], "models": {}}
        for spec in protocol.models:
            if spec.arms is not None and arm not in spec.arms:
                continue
            factory = model_factory(protocol, spec)
            ctx.progress(f"{arm} / {spec.name}: fit and validate ({X.shape[1]} predictors)")
            if spec.kind in BAYES_KINDS:
                fits.append(_bayes_fit(arm, spec, factory, X, people, horizon))
                continue
            fitted = factory().fit(X, outcome)
            risk = fitted.predict_risk(X, horizon)
            seed = protocol.seed
            res: dict[str, Any] = {
                "optimism": bootstrap_optimism(
                    factory,
                    X,
                    outcome,
                    horizon,
                    n_bootstrap=v.bootstrap,
                    seed=seed,
                    n_jobs=N_JOBS,
                )
                if v.bootstrap and not (paired and spec is primary)
                else None,
                "cv": cross_validate(factory, X, outcome, horizon, n_splits=v.folds, seed=seed),
                "temporal": temporal_validation(
                    factory, X, outcome, horizon, index_year=index_year, split_year=temporal_year
                )
                if temporal_year is not None
                else None,
                "internal_external": internal_external_validation(
                    factory, X, outcome, horizon, cluster=clusters
                )
                if clusters is not None
                else None,
            }
            fits.append(ArmModel(arm, spec.name, spec.kind, X.shape[1], fitted, risk, res))

    added_value = None
    if paired:
        added_value = _added_value(
            ctx, outcome, designs, [f for f in fits if f.model == primary.name]
        )
    elif protocol.comparisons is not None and primary.kind in BAYES_KINDS:
        ctx.progress(f"added value: skipped, the first model ({primary.name}) is Bayesian")

    heterogeneity = [_heterogeneity(ctx, f, fits) for f in fits if f.kind in BAYES_KINDS]
    if heterogeneity:
        ctx.write(Heterogeneity, models=heterogeneity, resampling=MCMC_NOT_RESAMPLED)
    ctx.progress("performance with bootstrap confidence intervals")
    apparent = evaluate_predictions(
        duration,
        event,
        {f.label: f.risk for f in fits},
        horizon,
        thresholds=v.thresholds,
        n_bootstrap=v.bootstrap,
        seed=protocol.seed,
        n_jobs=N_JOBS,
    )
    for fit in fits:
        app = apparent["models"][fit.label]
        opt = fit.resampling["optimism"]
        performance[fit.arm]["models"][fit.model] = {
            "kind": fit.kind,
            "apparent": app,
            "optimism_corrected": _shifted(app, opt.estimate) if opt else None,
            "cross_validated": _point(fit.resampling["cv"]),
            "temporal": _point(fit.resampling["temporal"]),
            "internal_external": _point(fit.resampling["internal_external"]),
            "failed_refits": {k: r.n_failed for k, r in fit.resampling.items() if r is not None},
            "not_resampled": MCMC_NOT_RESAMPLED if fit.kind in BAYES_KINDS else None,
            "cross_validation": fit.resampling["cv"].method if fit.resampling["cv"] else None,
        }
    min_cell = protocol.report.min_cell_size
    ctx.write(
        Performance,
        horizon_days=horizon,
        n=apparent["n"],
        events=bundle_count(apparent["events"], min_cell),
        competing_events=bundle_count(apparent["competing_events"], min_cell),
        observed_risk=apparent["observed_risk"],
        bootstrap=v.bootstrap,
        folds=v.folds,
        interval=INTERVAL_DESCRIPTION,
        temporal_not_done=temporal_reason,
        internal_external_by=v.internal_external,
        arm_order=sorted(designs, key=lambda a: a != getattr(protocol.comparisons, "reference", a)),
        arms=performance,
    )
    if added_value is not None:
        ctx.write(AddedValue, **_one_interval(added_value, performance, min_cell))
    ctx.write(
        Resampling,
        fits={
            f.label: {k: r.to_dict() if r is not None else None for k, r in f.resampling.items()}
            for f in fits
        },
    )
    ctx.write(DecisionCurves, curves=_decision_curves(apparent["net_benefit"]))
    ctx.write(Calibration, curves=_calibration(people, fits, horizon, min_cell))
    ctx.write(Subgroups, rows=_subgroups(people, fits, horizon, min_cell))
    coefficients, ph = [], []
    for fit in fits:
        coefficients += [
            {"arm": fit.arm, "model": fit.model, **r} for r in _coefficients(fit.fitted)
        ]
        ph += [{"arm": fit.arm, "model": fit.model, **r} for r in _ph_test(fit)]
        if len(fit.fitted.models_) == 1 and is_exportable(fit.fitted.model_):
            # a non-finite coefficient stops the run here, naming the model
            try:
                export_model_spec(
                    fit.fitted.model_,
                    ctx.work_dir / "results" / "models" / f"{fit.arm}__{fit.model}.json",
                    horizons=(horizon,),
                )
            except ModelError as exc:
                raise ModelError(f"{fit.label}: {exc}") from exc
    ctx.write(Coefficients, rows=coefficients)
    ctx.write(PHTest, rows=ph)
    ctx.write(SampleSizeReport, **_sample_size(protocol, fits, designs, people))
    return fits


def _decision_curves(net_benefit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Net benefit per arm × model and of the two reference strategies (``arm`` None)."""
    curves = []
    for row in net_benefit:
        arm, model = _split_label(row["model"])
        curves.append(
            {
                "arm": arm,
                "model": model,
                "threshold": row["threshold"],
                "net_benefit": row["net_benefit"]["estimate"],
            }
        )
    curves += [
        {"arm": None, "model": "treat_none", "threshold": t, "net_benefit": 0.0}
        for t in sorted({c["threshold"] for c in curves})
    ]
    return curves


def _one_interval(
    added_value: dict[str, Any], performance: dict[str, Any], min_cell: int
) -> dict[str, Any]:
    """``added_value.json`` with each arm's measures carrying performance.json's intervals.

    Every arm's optimism-corrected measure is one number in the bundle, with one
    interval: the apparent bootstrap interval shifted by the optimism
    (`INTERVAL_DESCRIPTION`). The paired refits' spread stays the interval of the
    differences between arms only, where fitting variability belongs.
    """
    arms = []
    for entry in added_value["arms"]:
        perf = performance[entry["arm"]]["models"][entry["model"]]
        measures = {}
        for m, stat in entry["measures"].items():
            app = perf["apparent"].get(m, {})
            cor = (perf["optimism_corrected"] or {}).get(m, {})
            measures[m] = {
                **stat,
                "lower": cor.get("lower"),
                "upper": cor.get("upper"),
                "apparent_lower": app.get("lower"),
                "apparent_upper": app.get("upper"),
            }
        arms.append({**entry, "measures": measures})
    return {
        **added_value,
        "events": bundle_count(added_value["events"], min_cell),
        "competing_events": bundle_count(added_value["competing_events"], min_cell),
        "arms": arms,
    }


def _sample_size(
    protocol: Protocol, fits: list[ArmModel], designs: Designs, people: pd.DataFrame
) -> dict[str, Any]:
    """Riley et al. (BMJ 2020) criteria for every arm, against the persons and events at hand.

    The anticipated R²_CS is the protocol's ``validation.anticipated_r2_cs``, or
    else ``1 - exp(-LR/n)`` of the primary Cox model of the reference arm (its
    apparent fit: optimistic, so the criteria are lenient). Candidate
    parameters are each arm's design columns (spline terms included).
    """
    duration = people["duration"].to_numpy(float) / 365.25
    event = people["event"].to_numpy(int) == 1
    n, events = int(duration.size), int(event.sum())
    horizon_years = float(protocol.outcome.horizon_days) / 365.25
    r2 = protocol.validation.anticipated_r2_cs
    source = "the protocol (validation.anticipated_r2_cs)"
    if r2 is None:
        target = protocol.comparisons.reference if protocol.comparisons else next(iter(designs))
        primary = protocol.models[0].name
        fit = next((f for f in fits if f.model == primary and f.arm == target), None)
        model = fit.fitted.models_[0] if fit is not None and len(fit.fitted.models_) == 1 else None
        if model is None or not hasattr(model, "loglik_") or fit is None or fit.kind != "cox":
            return {
                "rsquared_source": "not assessed: give validation.anticipated_r2_cs",
                "arms": {},
            }
        lr = 2.0 * (model.loglik_ - null_loglik(duration, event))
        r2 = rsquared_cs_from_lr(lr, n)
        source = (
            f"the apparent fit of the primary model ({primary}) on the '{fit.arm}' arm "
            "(1 - exp(-LR/n); optimistic)"
        )
    arms = {}
    for arm, (_, X) in designs.items():
        result = riley_survival(
            parameters=max(1, int(X.shape[1])),
            rsquared_cs=r2,
            rate=events / duration.sum(),
            timepoint=horizon_years,
            meanfup=float(duration.mean()),
            n_available=n,
            events_available=events,
        )
        arms[arm] = result.to_dict()
        if not result.meets:
            warnings.warn(
                f"arm '{arm}': {X.shape[1]} candidate parameters need at least {result.n} "
                f"persons by the Riley et al. criteria (R²_CS {r2:.3f}); the data have {n}. "
                f"At most {result.max_parameters} parameters meet criteria 1 and 2: expect "
                "overfitting (calibration slope well below 1), or penalise the model.",
                StatisticalWarning,
                stacklevel=2,
            )
    return {"rsquared_source": source, "arms": arms}


def _added_value(
    ctx: RunContext, outcome: pd.DataFrame, designs: Designs, primary: list[ArmModel]
) -> dict[str, Any]:
    """Paired comparison of every arm with the reference arm (the study's headline).

    Done with the protocol's first model, which the protocol lists first as its
    primary model; each further model would refit every arm B more times. Every
    measure is scored on the paired refits, and each arm's optimism correction is
    taken from them (written to ``added_value.json`` and ``performance.json``).
    """
    model = primary[0].model
    ctx.progress(f"added value: paired bootstrap of every arm / {model}")
    factory = model_factory(ctx.protocol, ctx.protocol.models[0])
    factories = {(arm, model): factory for arm in designs}
    result = compare_arms(
        primary,
        outcome,
        {arm: X for arm, (_, X) in designs.items()},
        factories,
        n_jobs=N_JOBS,
        arm_measures=MEASURES,
        **comparison_settings(ctx.protocol),
    )
    by_arm = {a["arm"]: a for a in result["arms"] if a["model"] == model}
    for fit in primary:
        scores = by_arm[fit.arm]["measures"]
        fit.resampling["optimism"] = ResamplingResult(
            method="bootstrap_optimism",
            horizon=float(result["horizon_days"]),
            estimate={m: s["estimate"] for m, s in scores.items()},
            apparent={m: s["apparent"] for m, s in scores.items()},
            per_split=pd.DataFrame(),
            n_failed=int(result["n_failed"][model]),
            settings={
                "n_bootstrap": int(result["n_bootstrap"]),
                "seed": int(result["seed"]),
                "paired": "the resamples and refits of results/added_value.json",
            },
        )
    return result


def _bayes_fit(
    arm: str,
    spec: ModelSpec,
    factory: Callable[[], ImputingModel],
    X: pd.DataFrame,
    people: pd.DataFrame,
    horizon: float,
) -> ArmModel:
    """One MCMC fit on all persons, validated by PSIS leave-one-out (no refits).

    The leave-one-out risks are scored like cross-validation's out-of-fold risks
    and stored as the ``cv`` result (method ``psis_loo``); see ``MCMC_NOT_RESAMPLED``.
    """
    from epi.models.bayes import loo_risk

    groups = list(GROUPS)
    absent = [g for g in groups if g not in people]
    if absent:
        raise ModelError(
            f"model '{spec.name}' ({spec.kind}) groups persons by {groups}, but the data "
            f"have no {absent}; hierarchical models need the cohort's cluster ids."
        )
    Xg = X.join(people[groups].astype(str))
    outcome = people[["duration", "event"]]
    fitted = factory().fit(Xg, outcome)
    risk = fitted.predict_risk(Xg, horizon)
    # one LOO per imputed data set (one without imputation), averaged like predict_risk
    loos = [loo_risk(m, horizon) for m in fitted.models_]
    loo = pd.concat([pd.Series(r.risk, index=r.index) for r in loos], axis=1).mean(axis=1)
    loo = loo.reindex(people.index)
    keep = loo.notna().to_numpy()  # complete-case handling fits (and scores) fewer persons
    duration = outcome["duration"].to_numpy(float)[keep]
    event = outcome["event"].to_numpy(int)[keep]
    hd = prepare(duration, event, horizon)
    apparent_risk = np.asarray(risk, dtype=float)[keep]
    cv = ResamplingResult(
        method="psis_loo",
        horizon=horizon,
        estimate=score(hd, loo.to_numpy(float)[keep]),
        apparent=score(hd, apparent_risk),
        per_split=pd.DataFrame(),
        settings={
            "n_scored": int(keep.sum()),
            "elpd_loo": float(np.mean([r.elpd_loo for r in loos])),
            "elpd_loo_se": float(np.mean([r.se for r in loos])),
            "p_loo": float(np.mean([r.p_loo for r in loos])),
            "pareto_k_threshold": float(loos[0].k_threshold),
            "n_high_pareto_k": int(max(r.n_high_k for r in loos)),
            "draws_used": int(loos[0].n_draws),
        },
    )
    resampling = {"optimism": None, "cv": cv, "temporal": None, "internal_external": None}
    return ArmModel(arm, spec.name, spec.kind, X.shape[1], fitted, risk, resampling)


def _heterogeneity(
    ctx: RunContext, fit: ArmModel, fits: list[ArmModel], prob: float = 0.9
) -> dict[str, Any]:
    """Report material of one hierarchical model (TRIPOD+AI 12d and 23b), aggregated only.

    Sampler diagnostics, posterior summary, variance partition, median hazard
    ratios, cluster effects (clusters under the minimum cell size pooled, small
    counts written as ``"<5"``), pooling by cluster size, a comparison with the
    arm's first frequentist Cox or Weibull model (``fits``; fitted to the same
    design without the cluster columns), and caterpillar and shrinkage plots
    written to ``results/figures`` as SVG and PNG (``figures`` holds the SVG
    paths relative to ``results/``). Intervals are ``prob`` credible intervals.
    """
    from epi.models import CoxModel, WeibullModel, bayes
    from epi.report import caterpillar_plot, shrinkage_plot, write_figure

    model = fit.fitted.model_
    min_cell = ctx.protocol.report.min_cell_size
    results = ctx.work_dir / "results"

    def num(x: Any) -> float | None:
        return float(x) if x is not None and np.isfinite(x) else None

    post, diag = model.idata_.posterior, model.diagnostics_
    bfmi = [float(b) for b in diag["bfmi"]]
    out: dict[str, Any] = {"arm": fit.arm, "model": fit.model, "kind": fit.kind, "prob": prob}
    out["diagnostics"] = [
        {
            "sampler": str(getattr(model, "sampler_", model.sampler)),
            "chains": int(post.sizes["chain"]),
            "draws": int(post.sizes["draw"]),
            "tune": int(model.tune),
            "max_r_hat": num(diag["max_r_hat"]),
            "min_ess_bulk": num(diag["min_ess_bulk"]),
            "min_ess_tail": num(diag["min_ess_tail"]),
            "divergences": int(diag["divergences"]),
            "bfmi": bfmi,
            "min_bfmi": min(bfmi) if bfmi else None,
            "r_hat_max": bayes.RHAT_MAX,
            "ess_min": bayes.ESS_MIN,
            "bfmi_min": bayes.BFMI_MIN,
            "ok": bool(diag["ok"]),
            "failures": [str(f) for f in diag["failures"]],
        }
    ]
    out["posterior_summary"] = _records(bayes.posterior_summary(model, prob=prob))
    out["variance_partition"] = _records(bayes.variance_partition(model, prob=prob))
    out["median_hazard_ratio"] = _records(bayes.median_hazard_ratio(model, prob=prob))
    out["cluster_effects"], out["shrinkage"] = {}, {}
    out["figures"] = {"caterpillar": {}, "shrinkage": {}}
    for group in model.design_.groups:
        effects = bayes.group_effects(model, group, prob=prob, min_size=min_cell)
        for col in ("n_persons", "n_events"):  # the bundle's counts: masked (epi.disclosure)
            effects[col] = [bundle_count(int(v), min_cell) for v in effects[col]]
        out["cluster_effects"][group] = _records(effects)
        table = bayes.shrinkage_table(model, group, min_size=min_cell)
        bands = bayes.shrinkage_summary(model, group, min_size=min_cell, table=table)
        out["shrinkage"][group] = {
            "summary": _records(bands),
            "n_masked_levels": int(bands.attrs["n_masked_levels"]),
        }
        stem = f"{fit.arm}__{fit.model}__{group}"
        for kind, fig in (
            ("caterpillar", caterpillar_plot(model, group, prob=prob, min_size=min_cell)),
            ("shrinkage", shrinkage_plot(model, group, min_size=min_cell, table=table)),
        ):
            for suffix in ("svg", "png"):
                write_figure(fig, results / "figures" / f"{kind}_{stem}.{suffix}")
            out["figures"][kind][group] = f"figures/{kind}_{stem}.svg"

    # the comparator: the arm's first non-Bayesian fit with log hazard ratios
    others = [f for f in fits if f.arm == fit.arm and f.kind not in BAYES_KINDS]
    skipped = []
    comparator = None
    for other in others:
        if len(other.fitted.models_) != 1:
            skipped.append(f"{other.model}: pooled over {len(other.fitted.models_)} imputations")
        elif not isinstance(other.fitted.model_, CoxModel | WeibullModel):
            skipped.append(f"{other.model}: {other.kind} has no log hazard ratios")
        else:
            comparator = other
            break
    if not model.design_.predictors:
        out["frequentist"] = {"model": None, "reason": "the hierarchical model has no predictors"}
    elif comparator is None:
        why = f"no frequentist Cox or Weibull model was fitted to arm '{fit.arm}'"
        out["frequentist"] = {
            "model": None,
            "reason": why + (f" ({'; '.join(skipped)})" if skipped else ""),
        }
    else:
        inner = comparator.fitted.model_
        coefs = bayes.compare_with_frequentist(model, inner, prob=prob)["coefficients"]
        # a spline's first term carries the column's name but is not its linear effect
        splines = sorted(set(getattr(inner, "splines", None) or {}) & set(coefs.index))
        coefs = coefs.drop(index=splines)
        out["frequentist"] = {
            "model": comparator.model,
            "kind": comparator.kind,
            "penalizer": num(getattr(inner, "penalizer", None)),
            "excluded_splines": splines,
            "coefficients": _records(coefs),
            "n_compared": len(coefs),
            "share_inside": num(coefs["inside"].mean()) if len(coefs) else None,
            "risk": {
                "horizon_days": float(ctx.protocol.outcome.horizon_days),
                **bayes.risk_agreement(fit.risk, comparator.risk),
            },
        }
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.reset_index().replace({np.nan: None}).to_dict(orient="records")


def _split_label(label: str) -> tuple[str | None, str]:
    """``"arm / model"`` → (arm, model); a reference strategy (``treat_all``) has no arm."""
    if " / " in label:
        arm, model = label.split(" / ", 1)
        return arm, model
    return None, label
