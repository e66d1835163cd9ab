"""The results bundle as typed models: one frozen pydantic model per bundle file.

The stages write every aggregated JSON file through these models and the
report reads it back through them, so a field renamed on one side fails at
once, naming the file and the field, instead of surfacing as an empty table
cell. ``docs/BUNDLE.md`` is generated from the models (``python -m epi.bundle``)
and a test keeps it equal to them.

Conventions: ``Estimate`` is the one interval shape of the bundle; counts
that may be masked for small cells are ``int | str`` (``"<5"``); rows built
from data frames keep their column names.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "BUNDLE_FILES",
    "BUNDLE_VERSION",
    "AddedValue",
    "Attrition",
    "BundleFile",
    "Calibration",
    "Coefficients",
    "CohortSummary",
    "DataReport",
    "DecisionCurves",
    "Estimate",
    "Heterogeneity",
    "Missingness",
    "NLPSummary",
    "PHTest",
    "Performance",
    "ProtocolRecord",
    "Resampling",
    "RunRecord",
    "SampleSizeReport",
    "Subgroups",
    "Table1",
]

#: Version of the bundle layout; a bundle of another version does not validate.
BUNDLE_VERSION = 2

Number = float | None
Count = int | str  # a count, or its masked text ("<5") where it is below the minimum cell size


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Estimate(_Frozen):
    """A point estimate with its interval (``None`` where not estimable or not resampled)."""

    estimate: Number
    lower: Number = None
    upper: Number = None


class BundleFile(_Frozen):
    """Fields every bundle file carries: the version and the protocol stamp."""

    path: ClassVar[str]
    bundle_version: Literal[2] = Field(
        BUNDLE_VERSION, description="layout version of the bundle (this epi writes 2)"
    )
    protocol_fingerprint: str = Field(description="SHA-256 of the canonical protocol")
    study_id: str
    synthetic: bool = Field(description="whether the run used epi's synthetic population")
    epi_version: str


# ----------------------------------------------------------------- run and protocol


class LockRecord(_Frozen):
    """Registration status of the protocol."""

    fingerprint: str
    locked: bool
    locked_at: str | None
    lock_fingerprint: str | None
    changed_sections: list[str]
    amendments: list[dict[str, JsonValue]]


class ProtocolRecord(BundleFile):
    """The protocol as run: canonical form and registration."""

    path: ClassVar[str] = "protocol.json"
    protocol: dict[str, JsonValue] = Field(description="canonical protocol (defaults filled in)")
    lock: LockRecord


class RunRecord(BundleFile):
    """Reproducibility record of the run."""

    path: ClassVar[str] = "run.json"
    protocol_file: str
    lock: LockRecord
    seed: int
    started_utc: str
    timings_s: dict[str, float] = Field(description="wall seconds per stage")
    versions: dict[str, str] = Field(description="Python, epi and the packages that compute")
    stages_run: list[str]
    data_fingerprint: str
    git_commit: str | None
    artefacts: dict[str, JsonValue]


class TableCheck(_Frozen):
    """Rows read and kept of one input table."""

    file: str | None
    rows_read: int
    rows_kept: int
    dropped: dict[str, int] = Field(description="rows dropped per rule (on_invalid: drop)")
    first_date: str | None = None
    last_date: str | None = None


class DataReport(BundleFile):
    """The input tables as checked against their specs."""

    path: ClassVar[str] = "data_report.json"
    tables: dict[str, TableCheck]
    data_fingerprint: str


# -------------------------------------------------------------------------- cohort


class AttritionStep(_Frozen):
    step: str
    description: str = Field(description="who remains after the step")
    persons: int
    excluded: int = Field(description="persons the step removed")
    outcomes: int | None = None


class Attrition(BundleFile):
    """Flow of persons through eligibility and exclusions (the flow diagram)."""

    path: ClassVar[str] = "cohort/attrition.json"
    steps: list[AttritionStep]


class EventCounts(_Frozen):
    outcome: int
    competing: int
    censored: int


class Quartiles(_Frozen):
    median: float
    q1: float
    q3: float


class CohortSummary(BundleFile):
    """The analysed cohort: size, events, clusters, follow-up and code lists."""

    path: ClassVar[str] = "cohort/summary.json"
    n: int
    events: EventCounts
    horizon_days: float
    n_practices: int
    n_municipalities: int
    follow_up_days: Quartiles
    index: str = Field(description="the index-date rule in words")
    code_lists: dict[str, list[dict[str, JsonValue]]] = Field(
        description="outcome, index and exclusions code lists as in the protocol"
    )


# ------------------------------------------------------------------------ features


class MissingFeature(_Frozen):
    feature: str
    set: str
    sector: str | None = None
    n_missing: int
    pct_missing: float


class Missingness(BundleFile):
    """Missing values per predictor."""

    path: ClassVar[str] = "features/missingness.json"
    features: list[MissingFeature]


class Table1Column(_Frozen):
    key: str
    grouping: str | None = Field(description="None for the overall column")
    label: str
    n: Count


class Table1Row(_Frozen):
    variable: str
    feature: str | None
    sector: str | None
    level: str | None
    kind: str
    values: dict[str, str] = Field(description="column key → formatted cell (already masked)")
    smd: dict[str, float | None] = Field(description="grouping → standardised mean difference")


class Table1(BundleFile):
    """Characteristics of the cohort (TRIPOD+AI 20b), masked for small cells."""

    path: ClassVar[str] = "features/table1.json"
    columns: list[Table1Column]
    groupings: list[str] | dict[str, JsonValue]
    rows: list[Table1Row]
    min_cell_size: int
    note: str


class ConceptCounts(_Frozen):
    concept: str
    mentions: Count
    affirmed: Count
    negated: Count
    uncertain: Count
    hypothetical: Count
    historical: Count
    family: Count


class NLPSummary(BundleFile):
    """Note variables: notes read, mentions by concept and context."""

    path: ClassVar[str] = "results/nlp.json"
    pack: str
    lookback_days: int
    notes_by_sector: dict[str, Count]
    processing: dict[str, JsonValue] = Field(description="notes, processed, skipped by reason")
    mentions_by_concept: list[ConceptCounts]
    variables: list[str]


# ---------------------------------------------------------------------- performance


class ModelPerformance(_Frozen):
    """One arm × model: every measure under every validation."""

    kind: str
    apparent: dict[str, Estimate]
    optimism_corrected: dict[str, Estimate] | None
    cross_validated: dict[str, Estimate] | None
    cross_validation: Literal["k_fold", "psis_loo"] | str | None
    temporal: dict[str, Estimate] | None
    internal_external: dict[str, Estimate] | None
    failed_refits: dict[str, int]
    not_resampled: str | None


class ArmPerformance(_Frozen):
    feature_sets: list[str]
    n_predictors: int
    models: dict[str, ModelPerformance]


class Performance(BundleFile):
    """Discrimination and calibration of every arm × model (TRIPOD+AI 23a)."""

    path: ClassVar[str] = "results/performance.json"
    horizon_days: float
    n: int
    events: Count
    competing_events: Count
    observed_risk: float
    bootstrap: int
    folds: int
    interval: str = Field(description="how every interval of this file was computed")
    temporal_not_done: str | None
    internal_external_by: str | None
    arm_order: list[str] = Field(
        description="arms in the protocol's order, reference first (JSON maps are sorted)"
    )
    arms: dict[str, ArmPerformance]


class ResamplingRecord(_Frozen):
    method: str
    horizon: float
    estimate: dict[str, Number]
    apparent: dict[str, Number] | None = None
    pooled: dict[str, Number] | None = None
    n_failed: int
    settings: dict[str, JsonValue]
    per_split: list[dict[str, JsonValue]]


class Resampling(BundleFile):
    """Each procedure's estimate per ``arm / model`` (aggregates only)."""

    path: ClassVar[str] = "results/resampling.json"
    fits: dict[str, dict[str, ResamplingRecord | None]] = Field(
        description="'arm / model' → procedure (optimism, cv, temporal, internal_external)"
    )


class CalibrationPoint(_Frozen):
    predicted: float
    observed: Number
    lower: Number
    upper: Number


class CalibrationGroup(_Frozen):
    group: int
    n: Count
    predicted: float
    observed: Number


class CalibrationCurve(_Frozen):
    arm: str
    model: str
    points: list[CalibrationPoint]
    groups: list[CalibrationGroup]


class Calibration(BundleFile):
    """Smoothed calibration curves and risk-group tables."""

    path: ClassVar[str] = "results/calibration.json"
    curves: list[CalibrationCurve]


class DecisionCurvePoint(_Frozen):
    arm: str | None = Field(description="None for the reference strategies")
    model: str = Field(description="model name, or treat_all / treat_none")
    threshold: float
    net_benefit: float


class DecisionCurves(BundleFile):
    """Net benefit by threshold for every arm × model and the two reference strategies."""

    path: ClassVar[str] = "results/decision_curves.json"
    curves: list[DecisionCurvePoint]


class SubgroupRow(_Frozen):
    arm: str
    model: str
    subgroup: str
    level: str
    n: Count
    events: Count
    harrell_c: Number = None
    auc: Number = None
    oe_ratio: Number = None
    calibration_slope: Number = None
    brier: Number = None


class Subgroups(BundleFile):
    """Performance by sex, age group and municipality (TRIPOD+AI 23a, fairness)."""

    path: ClassVar[str] = "results/subgroups.json"
    rows: list[SubgroupRow]


class CoefficientRow(_Frozen):
    arm: str
    model: str
    term: str = Field(description="predictor (design column) name")
    coef: float = Field(description="log hazard ratio")
    se: Number = None
    hr: Number = None
    hr_lower: Number = Field(None, description="95 % Wald interval of the hazard ratio")
    hr_upper: Number = None
    z: Number = None
    p: Number = None
    mean: Number = Field(None, description="training mean the model centres the term at")


class Coefficients(BundleFile):
    """Coefficients of every regression model (log hazard ratios)."""

    path: ClassVar[str] = "results/coefficients.json"
    rows: list[CoefficientRow]


class PHTestRow(_Frozen):
    arm: str
    model: str
    term: str = Field(description="predictor, or GLOBAL")
    chisq: Number
    df: Number
    p: Number
    transform: str = Field(description="time transform of the test (km, as cox.zph's default)")


class PHTest(BundleFile):
    """Proportional-hazards tests (scaled Schoenfeld residuals, as R ``cox.zph``)."""

    path: ClassVar[str] = "results/ph_test.json"
    rows: list[PHTestRow]


class SampleSizeReport(BundleFile):
    """Riley et al. (BMJ 2020) minimum sample size per arm, against the data available."""

    path: ClassVar[str] = "results/sample_size.json"
    rsquared_source: str = Field(description="where the anticipated R²_CS comes from")
    arms: dict[str, dict[str, JsonValue]]


# -------------------------------------------------------- added value, heterogeneity


class PairedEstimate(_Frozen):
    """A statistic of the paired comparison: optimism-corrected with its interval,
    and the apparent value with its own."""

    estimate: Number
    lower: Number
    upper: Number
    apparent: Number
    apparent_lower: Number
    apparent_upper: Number
    optimism: Number


class NetBenefitDifference(_Frozen):
    threshold: float
    delta_net_benefit: PairedEstimate
    net_interventions_avoided_per_100: PairedEstimate


class Comparison(_Frozen):
    """One extended arm against the reference arm, with one model."""

    arm: str
    reference: str
    model: str
    differences: dict[str, PairedEstimate] = Field(
        description="ΔC, ΔUno C, ΔAUC, ΔBrier, ΔIPA, NRI (categorical, continuous), IDI"
    )
    net_benefit: list[NetBenefitDifference]
    likelihood_ratio: dict[str, JsonValue] = Field(
        description="χ², df, p and adequacy of the nested models, or why not applicable"
    )


class ArmNetBenefit(PairedEstimate):
    threshold: float


class ArmMeasures(_Frozen):
    """One arm's measures side by side; intervals equal performance.json's."""

    arm: str
    model: str
    measures: dict[str, PairedEstimate]
    net_benefit: list[ArmNetBenefit]


class AddedValue(BundleFile):
    """Paired comparison of every arm with the reference arm (the study's headline)."""

    path: ClassVar[str] = "results/added_value.json"
    horizon_days: float
    reference: str
    n: int
    events: Count
    competing_events: Count
    observed_risk: float
    n_bootstrap: int
    seed: int
    level: float
    thresholds: list[float]
    risk_groups: list[float]
    difference: str
    estimators: dict[str, str]
    method: str
    optimism_corrected: bool
    n_failed: dict[str, int]
    cpu_seconds_resamples: float
    treat_all: list[float]
    comparisons: list[Comparison]
    arms: list[ArmMeasures]


class SamplerDiagnostics(_Frozen):
    """MCMC diagnostics of one fit against their thresholds; ``ok`` gates every statement."""

    sampler: str
    chains: int
    draws: int
    tune: int
    max_r_hat: Number
    min_ess_bulk: Number
    min_ess_tail: Number
    divergences: int
    bfmi: list[float] = Field(description="E-BFMI per chain")
    min_bfmi: Number
    r_hat_max: float
    ess_min: float
    bfmi_min: float
    ok: bool = Field(description="every diagnostic within its threshold")
    failures: list[str]


class VarianceShare(_Frozen):
    component: str
    variance: Number
    share: Number
    share_lower: Number
    share_upper: Number


class MedianHazardRatio(_Frozen):
    group: str
    mhr: Number
    lower: Number
    upper: Number


class HierarchicalModel(_Frozen):
    """One Bayesian hierarchical fit (TRIPOD+AI 12d, 23b), aggregated only."""

    arm: str
    model: str
    kind: str
    prob: float = Field(description="credible mass of every interval")
    diagnostics: list[SamplerDiagnostics]
    posterior_summary: list[dict[str, JsonValue]]
    variance_partition: list[VarianceShare]
    median_hazard_ratio: list[MedianHazardRatio]
    cluster_effects: dict[str, list[dict[str, JsonValue]]] = Field(
        description="group → clusters (under the minimum cell size pooled, counts masked)"
    )
    shrinkage: dict[str, dict[str, JsonValue]]
    frequentist: dict[str, JsonValue]
    figures: dict[str, dict[str, str]] = Field(description="SVG paths relative to results/")

    @property
    def diagnostics_ok(self) -> bool:
        """Whether every sampler diagnostic passed (the gate for any statement)."""
        return all(d.ok for d in self.diagnostics)


class Heterogeneity(BundleFile):
    """Hierarchical models: diagnostics, variance between practices and municipalities."""

    path: ClassVar[str] = "results/heterogeneity.json"
    models: list[HierarchicalModel]
    resampling: str = Field(description="why hierarchical models are not resampled")


#: Bundle files by the short name the report uses, in the order of docs/BUNDLE.md.
BUNDLE_FILES: dict[str, type[BundleFile]] = {
    "protocol": ProtocolRecord,
    "run": RunRecord,
    "data_report": DataReport,
    "attrition": Attrition,
    "summary": CohortSummary,
    "missingness": Missingness,
    "table1": Table1,
    "nlp": NLPSummary,
    "performance": Performance,
    "resampling": Resampling,
    "calibration": Calibration,
    "decision_curves": DecisionCurves,
    "subgroups": Subgroups,
    "coefficients": Coefficients,
    "ph_test": PHTest,
    "sample_size": SampleSizeReport,
    "added_value": AddedValue,
    "heterogeneity": Heterogeneity,
}
