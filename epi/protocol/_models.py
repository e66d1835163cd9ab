"""The study protocol as frozen pydantic models.

Every section forbids unknown keys, so a misspelt key is an error that names
its key path, the allowed keys and the nearest match (see ``_load.py``). Later
stages read only their own section.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

__all__ = [
    "Amendment",
    "AnalysisTableSource",
    "CodeList",
    "CohortSpec",
    "ComparisonSpec",
    "DataSource",
    "EligibilitySpec",
    "ExclusionSpec",
    "FeatureSetSpec",
    "FeaturesSpec",
    "IndexSpec",
    "MissingDataSpec",
    "ModelSpec",
    "NotesSpec",
    "OutcomeSpec",
    "Protocol",
    "ReportSpec",
    "StudySpec",
    "SyntheticSource",
    "TablesSource",
    "ValidationSpec",
]

SECTORS = ("gp", "hospital", "municipal")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class StudySpec(_Section):
    """Who, what and where the study is registered."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    title: str
    version: str = "1.0"
    authors: list[str] = Field(default_factory=list)
    registration_id: str | None = None
    description: str = ""


class SyntheticSource(_Section):
    """The embedded synthetic Danish population (the default)."""

    source: Literal["synthetic"] = "synthetic"
    persons: Annotated[int, Field(ge=100, le=10_000_000)] = 20_000
    seed: Annotated[int, Field(ge=0)] = 1
    on_invalid: Literal["error", "drop"] = "error"


class TablesSource(_Section):
    """A folder of parquet or CSV files named as in ``data_specs/``."""

    source: Literal["tables"]
    path: str
    on_invalid: Literal["error", "drop"] = "error"


class AnalysisTableSource(_Section):
    """One row per person with time, event and predictors (skips cohort and features)."""

    source: Literal["analysis_table"]
    path: str
    id: str | None = None
    time: str
    event: str
    predictors: list[str] = Field(min_length=1)
    time_unit_days: Annotated[float, Field(gt=0)] = Field(
        1.0, description="days per unit of the time column (1 = days, 365.25 = years)"
    )
    on_invalid: Literal["error", "drop"] = "error"


DataSource = Annotated[
    SyntheticSource | TablesSource | AnalysisTableSource, Field(discriminator="source")
]


class CodeList(_Section):
    """Codes from one vocabulary in one sector; codes match as prefixes (DI50 ⊃ DI500)."""

    sector: Literal["gp", "hospital", "municipal"]
    vocabulary: str
    codes: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    description: str = ""

    @field_validator("codes")
    @classmethod
    def _upper(cls, codes: list[str]) -> list[str]:
        return [c.upper() if not c.isdigit() else c for c in codes]


#: Days a hospital contact must last to count as an admission (≥ 12 h, the
#: rule of Danmarks Statistik for LPR3; DANISH_DATA §1 [S10]).
ADMISSION_MIN_DAYS = 0.5


class IndexSpec(_Section):
    """How each person's index date is set."""

    type: Literal["fixed_date", "first_event", "age_reached"]
    date: dt.date | None = None
    code_lists: list[CodeList] = Field(default_factory=list)
    age: Annotated[float, Field(ge=0, le=120)] | None = None
    window: tuple[dt.date, dt.date] | None = Field(
        None, description="index dates must fall in [start, end] (first_event, age_reached)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> IndexSpec:
        needs = {"fixed_date": "date", "first_event": "code_lists", "age_reached": "age"}[self.type]
        if not getattr(self, needs):
            raise ValueError(f"index type '{self.type}' needs '{needs}'")
        if self.window is not None and self.window[0] > self.window[1]:
            raise ValueError(
                f"index window starts ({self.window[0]}) after it ends ({self.window[1]})"
            )
        return self


class EligibilitySpec(_Section):
    """Who may enter the cohort at the index date."""

    age_min: Annotated[float, Field(ge=0, le=120)] = 18
    age_max: Annotated[float, Field(ge=0, le=130)] = 130
    resident: bool = True
    gp_registered_days: Annotated[int, Field(ge=0)] = 365
    min_lookback_days: Annotated[int, Field(ge=0)] = 365
    home_dwelling: bool = False
    nursing_home_care_hours: Annotated[float, Field(gt=0, le=80)] = Field(
        20.0,
        description=(
            "home_dwelling proxy: the data hold no nursing-home flag, so a person whose "
            "visited home care averaged at least this many hours/week over the 4 complete "
            "weeks before the index date counts as living in a care home"
        ),
    )

    @model_validator(mode="after")
    def _ages(self) -> EligibilitySpec:
        if self.age_min > self.age_max:
            raise ValueError(f"age_min ({self.age_min}) must be <= age_max ({self.age_max})")
        return self


class ExclusionSpec(_Section):
    """Exclude persons with any code of the lists in a window before the index date."""

    name: str
    code_lists: list[CodeList] = Field(min_length=1)
    window_days: Annotated[int, Field(gt=0)] | None = Field(
        None, description="look back this many days; empty = all history"
    )


class CohortSpec(_Section):
    """Index date, eligibility and exclusions."""

    index: IndexSpec = IndexSpec(type="fixed_date", date=dt.date(2023, 1, 1))
    eligibility: EligibilitySpec = EligibilitySpec()
    exclusions: list[ExclusionSpec] = Field(default_factory=list)
    end_of_data: dt.date = dt.date(2024, 12, 31)
    start_of_data: dt.date | None = Field(
        None,
        description="first day the event data cover; min_lookback_days also needs this much "
        "data before the index date (empty = the earliest event in the data)",
    )

    @model_validator(mode="after")
    def _dates(self) -> CohortSpec:
        last = self.index.date if self.index.type == "fixed_date" else None
        if self.index.window is not None:
            last = self.index.window[1]
        if last is not None and last >= self.end_of_data:
            raise ValueError(
                f"index dates up to {last} leave no follow-up before end_of_data "
                f"({self.end_of_data}); move the index date or window earlier"
            )
        if self.start_of_data is not None and self.start_of_data >= self.end_of_data:
            raise ValueError(
                f"start_of_data ({self.start_of_data}) must be before end_of_data "
                f"({self.end_of_data})"
            )
        names = [e.name for e in self.exclusions]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"exclusion names must be unique; repeated: {dupes}")
        return self


class OutcomeSpec(_Section):
    """The event to predict, its horizon and its competing event."""

    name: str = "outcome"
    description: str = ""
    code_lists: list[CodeList] = Field(default_factory=list)
    admission_only: bool = Field(
        False, description="hospital codes count only on admissions (stay >= 12 h)"
    )
    acute_only: bool = Field(False, description="hospital contacts count only when acute (ATA1)")
    diagnosis_types: list[Literal["A", "B"]] | None = Field(
        None,
        description="hospital diagnoses count only with these types (A aktionsdiagnose); "
        "empty = any type",
    )
    horizon_days: Annotated[int, Field(gt=0, le=36525)] = 365
    competing_death: bool = True
    index_day_counts: bool = Field(
        True,
        description="an outcome on the index date counts (duration 0.5 day); false: "
        "follow-up for the outcome starts the day after the index date (use when the index "
        "event's own contact could carry the outcome)",
    )


_NAME = r"^[a-z0-9][a-z0-9_]{0,39}$"


class FeatureSetSpec(_Section):
    """Options of one named feature set (a sector block or the note variables).

    Windows are ``[start_days, end_days]`` relative to the index date (day 0)
    and half-open: ``[-365, 0]`` holds the 365 days before the index date and
    never the index date itself. A window may not end after the index date.
    """

    code_lists: list[CodeList] = Field(
        default_factory=list, description="extra indicators, named after their first code"
    )
    lookback_days: Annotated[int, Field(gt=0)] | None = None
    windows: dict[Annotated[str, Field(pattern=_NAME)], tuple[int, int]] | None = Field(
        None, description="count windows [start_days, end_days], e.g. {'1y': [-365, 0]}"
    )
    indicators: dict[Annotated[str, Field(pattern=_NAME)], CodeList] | None = Field(
        None, description="name -> code list; 1 if any code in the look-back"
    )
    labs: dict[Annotated[str, Field(pattern=_NAME)], list[str]] | None = Field(
        None, description="GP only: name -> NPU/DNK codes aggregated over the look-back"
    )
    drug_classes: dict[Annotated[str, Field(pattern=_NAME)], list[str]] | None = Field(
        None, description="GP only: name -> ATC prefixes; 1 if supply covers the index date"
    )
    options: dict[str, float | int | str | bool | list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _windows(self) -> FeatureSetSpec:
        for name, (start, end) in (self.windows or {}).items():
            if end > 0:
                raise ValueError(
                    f"window '{name}' [{start}, {end}] ends after the index date; features "
                    "may only see days before it, so end_days must be <= 0"
                )
            if start >= end:
                raise ValueError(
                    f"window '{name}' [{start}, {end}] is empty; start_days must be < end_days"
                )
        return self


class FeaturesSpec(_Section):
    """Named feature sets built from the look-back window before the index date."""

    lookback_days: Annotated[int, Field(gt=0)] = 730
    sets: dict[Literal["demographics", "gp", "hospital", "municipal", "notes"], FeatureSetSpec] = (
        Field(
            default_factory=lambda: {
                name: FeatureSetSpec() for name in ("demographics", "gp", "hospital", "municipal")
            }
        )
    )

    @model_validator(mode="after")
    def _sectors(self) -> FeaturesSpec:
        sector_of = {"gp": "gp", "hospital": "hospital", "municipal": "municipal"}
        for name, spec in self.sets.items():
            lists = list(spec.code_lists) + list((spec.indicators or {}).values())
            want = sector_of.get(name)
            for cl in lists:
                if want is None or cl.sector != want:
                    raise ValueError(
                        f"sets.{name}: a code list of sector '{cl.sector}' cannot enter the "
                        f"'{name}' set (sectors never mix; put it in the '{cl.sector}' set)"
                    )
            if name != "gp" and (spec.labs or spec.drug_classes):
                raise ValueError(f"sets.{name}: labs and drug_classes belong to the 'gp' set")
        return self


class NotesSpec(_Section):
    """Note variables derived by the NLP stage."""

    pack: str = "da"
    lookback_days: Annotated[int, Field(gt=0)] = 365
    concepts: list[str] = Field(default_factory=list)
    # share of notes whose processing may raise (a broken rule, a bug) before
    # the run stops with an error naming the rule and a note; below it the
    # failures are counted and reported in results/nlp.json
    max_failure_share: Annotated[float, Field(ge=0, le=1)] = 0.001


class MissingDataSpec(_Section):
    """How missing predictor values are handled."""

    strategy: Literal["complete_case", "missing_indicator", "multiple_imputation"] = (
        "missing_indicator"
    )
    imputations: Annotated[int, Field(ge=2, le=100)] = 5
    max_iter: Annotated[int, Field(ge=1, le=100)] = 10


class ModelSpec(_Section):
    """One model: a kind from ``epi.models`` and its parameters."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    kind: str
    # JSON-like values only (numbers, strings, lists, mappings): each model's
    # constructor checks its own parameters, naming the allowed ones
    params: dict[str, JsonValue] = Field(default_factory=dict)
    arms: list[str] | None = Field(
        default=None,
        min_length=1,
        description="fit this model on these comparison arms only (default: every arm); "
        "for models too slow to fit on every arm, such as the Bayesian ones",
    )


class ValidationSpec(_Section):
    """Internal validation and measures."""

    bootstrap: Annotated[int, Field(ge=0, le=10_000)] = 200
    folds: Annotated[int, Field(ge=2, le=50)] = 5
    temporal_split_year: int | None = None
    internal_external: Literal["municipality", "practice"] | None = "municipality"
    thresholds: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=lambda: [round(0.01 * i, 2) for i in range(1, 51)]
    )
    risk_groups: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=lambda: [0.1, 0.2], description="thresholds for categorical NRI"
    )
    # anticipated Cox-Snell R² of the Riley et al. sample-size criteria; None: from
    # the primary Cox model's apparent fit on the reference arm
    anticipated_r2_cs: Annotated[float, Field(gt=0, lt=1)] | None = None


class ComparisonSpec(_Section):
    """Feature-set arms compared with a reference arm (added value)."""

    reference: str
    arms: dict[str, list[str]] = Field(min_length=1)


class ReportSpec(_Section):
    """The manuscript report."""

    title: str | None = None
    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"])
    min_cell_size: Annotated[int, Field(ge=1, le=100)] = 5


class Amendment(_Section):
    """A change to a locked protocol: when, which section, what and why."""

    date: dt.date
    section: str
    what: str
    why: str


class Protocol(_Section):
    """A registered study protocol: the single source of every analysis choice."""

    study: StudySpec
    data: DataSource = SyntheticSource()
    cohort: CohortSpec = CohortSpec()
    outcome: OutcomeSpec = OutcomeSpec()
    features: FeaturesSpec = FeaturesSpec()
    notes: NotesSpec | None = None
    missing: MissingDataSpec = MissingDataSpec()
    models: list[ModelSpec] = Field(
        default_factory=lambda: [ModelSpec(name="cox", kind="cox")], min_length=1
    )
    validation: ValidationSpec = ValidationSpec()
    comparisons: ComparisonSpec | None = None
    report: ReportSpec = ReportSpec()
    seed: Annotated[int, Field(ge=0)] = 20240101
    amendments: list[Amendment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> Protocol:
        names = [m.name for m in self.models]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model names must be unique; repeated: {dupes}")
        sections = set(type(self).model_fields) - {"amendments"}
        for i, amendment in enumerate(self.amendments):
            if amendment.section not in sections:
                raise ValueError(
                    f"amendments[{i}].section '{amendment.section}' is not a protocol section; "
                    f"use one of {sorted(sections)}"
                )
        known_sets = set(self.features.sets) | ({"notes"} if self.notes else set())
        if self.comparisons:
            arms = self.comparisons.arms
            if self.comparisons.reference not in arms:
                raise ValueError(
                    f"comparisons.reference '{self.comparisons.reference}' is not one of the "
                    f"arms {sorted(arms)}"
                )
            for arm, sets in arms.items():
                unknown = sorted(set(sets) - known_sets)
                if unknown:
                    raise ValueError(
                        f"comparisons.arms.{arm} uses feature sets {unknown} that are not "
                        f"defined; defined: {sorted(known_sets)}"
                    )
        # without comparisons there is one arm: "all" sets, or an analysis table's "predictors"
        if self.comparisons:
            arm_names = list(self.comparisons.arms)
        elif isinstance(self.data, AnalysisTableSource):
            arm_names = ["predictors"]
        else:
            arm_names = ["all"]
        for i, model in enumerate(self.models):
            if model.arms is None:
                continue
            unknown = sorted(set(model.arms) - set(arm_names))
            if unknown:
                raise ValueError(
                    f"models[{i}].arms names {unknown}, which are not arms; the arms are "
                    f"{arm_names}" + ("" if self.comparisons else " (no comparisons section)")
                )
            if (
                i == 0
                and self.comparisons
                and (self.comparisons.reference not in model.arms or len(set(model.arms)) < 2)
            ):
                raise ValueError(
                    f"models[0] ('{model.name}') is the primary model of the added-value "
                    f"comparison: its arms must include the reference arm "
                    f"'{self.comparisons.reference}' and at least one other (or leave arms out)"
                )
        return self
