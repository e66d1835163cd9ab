"""Table 1 with tableone: masked small cells, no recoverable counts, no person-level values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from epi.disclosure import SUPPRESSED, is_masked
from epi.exceptions import ReportError
from epi.features import make_table1, table1_groups
from tests.features._small_cohort import small_cohort


@pytest.fixture(scope="module")
def cohort_features() -> tuple[pd.DataFrame, pd.DataFrame]:
    return small_cohort()


@pytest.fixture(scope="module")
def table(cohort_features: tuple[pd.DataFrame, pd.DataFrame]) -> dict:
    cohort, features = cohort_features
    return make_table1(cohort, features, table1_groups(cohort, features, 365), 5)


def _row(table: dict, feature: str, level: str) -> dict:
    return next(r for r in table["rows"] if r["feature"] == feature and r["level"] == level)


def test_columns_overall_by_outcome_and_by_sectors(table: dict) -> None:
    assert table["groupings"] == ["Outcome", "Sectors with data"]
    labels = [c["label"] for c in table["columns"]]
    assert labels[0] == "Overall"
    assert {"Outcome by horizon", "No outcome by horizon"} <= set(labels)
    assert "GP + hospital + municipality" in labels and "municipality" in labels
    assert table["columns"][0]["n"] == "800"


def test_a_rare_diagnosis_is_masked_in_every_group(table: dict) -> None:
    row = _row(table, "gp__rare_diagnosis", "yes")
    assert row["values"]["overall"] == "<5"
    assert all(is_masked(v) or v.startswith("0 ") for v in row["values"].values())
    assert row["smd"]["Outcome"] is None  # an SMD could reveal the masked proportions


def test_a_group_smaller_than_the_minimum_cell_is_hidden_entirely(table: dict) -> None:
    small = next(c for c in table["columns"] if c["label"] == "municipality")
    assert small["n"] == "<5"  # 3 persons have municipal data only
    for r in table["rows"]:
        assert is_masked(r["values"][small["key"]]), r


def test_no_masked_count_can_be_recovered_by_subtraction(table: dict) -> None:
    """In every published line with a hidden cell, at least two cells are hidden."""
    cols = table["columns"]
    for grouping in table["groupings"]:
        keys = [c["key"] for c in cols if c["grouping"] == grouping]
        size_hidden = [is_masked(c["n"]) for c in cols if c["grouping"] == grouping]
        assert sum(size_hidden) != 1, f"one hidden group size in {grouping} is recoverable"
        for r in table["rows"]:
            if r["kind"] not in ("binary", "categorical"):
                continue
            line = [r["values"]["overall"], *(r["values"][k] for k in keys)]
            assert sum(is_masked(v) for v in line) != 1, (grouping, r)


def test_binary_complement_level_protects_the_shown_level(
    cohort_features: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    cohort, features = cohort_features
    features = features.copy()
    features["gp__almost_all"] = 1
    features.iloc[:3, features.columns.get_loc("gp__almost_all")] = 0  # 797 yes, 3 no
    out = make_table1(cohort, features, None, 5)
    yes = _row(out, "gp__almost_all", "yes")
    # 797 yes of 800 would reveal the 3 'no': the shown level must be suppressed too.
    assert yes["values"]["overall"] == SUPPRESSED


def test_summaries_are_aggregates_not_person_values(
    table: dict, cohort_features: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, features = cohort_features
    text = json.dumps(table)
    assert "p0001" not in text  # no person ids
    ages = _row(table, "demo__age", "mean (SD)")["values"]["overall"]
    assert ages == f"{features['demo__age'].mean():.1f} ({features['demo__age'].std():.1f})"
    assert "min" not in text.lower().replace("min_cell", "")  # no minimum or maximum values


def test_inputs_are_not_modified(cohort_features: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    cohort, features = cohort_features
    before_c, before_f = cohort.copy(), features.copy()
    make_table1(cohort, features, table1_groups(cohort, features, 365), 5)
    pd.testing.assert_frame_equal(cohort, before_c)
    pd.testing.assert_frame_equal(features, before_f)


def test_missing_values_get_their_own_masked_row(table: dict) -> None:
    row = _row(table, "muni__home_care_hours", "Missing")
    assert row["values"]["overall"].startswith("567 (70.9")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda c, f: (c, f.iloc[:0]), "the design matrix is empty"),
        (lambda c, f: (c.iloc[:10], f), "person.s. of the design matrix are not in the cohort"),
    ],
)
def test_bad_inputs(cohort_features: tuple[pd.DataFrame, pd.DataFrame], make, match: str) -> None:
    cohort, features = make(*cohort_features)
    with pytest.raises(ReportError, match=match):
        make_table1(cohort, features, None, 5)


def test_default_groups_need_the_outcome_columns() -> None:
    idx = pd.Index(["a", "b"], name="person_id")
    with pytest.raises(ReportError, match=r"lacks column\(s\) \['event'\]"):
        table1_groups(pd.DataFrame({"duration": [1.0, 2.0]}, index=idx),
                      pd.DataFrame({"gp__x": [np.nan, 1]}, index=idx), 365)  # fmt: skip


def test_awkward_columns_are_summarised_and_json_safe() -> None:
    rng = np.random.default_rng(0)
    n = 300
    idx = pd.Index([f"q{i}" for i in range(n)], name="person_id")
    features = pd.DataFrame(
        {
            "demo__age": rng.normal(70, 5, n),
            "gp__all_missing": np.full(n, np.nan),
            "gp__constant": np.zeros(n, dtype=int),
            "hosp__nullable": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "muni__flag": rng.random(n) < 0.2,
            "demo__region": rng.choice(["North", "South", "Capital"], n),
        },
        index=idx,
    )
    features.loc[idx[:10], "hosp__nullable"] = pd.NA
    cohort = pd.DataFrame(
        {"duration": rng.uniform(1, 700, n), "event": rng.integers(0, 3, n)}, index=idx
    )
    out = make_table1(cohort, features, table1_groups(cohort, features, 365), 5)
    json.dumps(out, allow_nan=False)  # strict JSON: no NaN anywhere
    levels = {(r["feature"], r["level"]) for r in out["rows"]}
    assert {
        ("demo__region", "North"),
        ("hosp__nullable", "Missing"),
        ("muni__flag", "yes"),
    } <= levels
