"""Per-sector features on a hand-built store, with exact expected values."""

from __future__ import annotations

import copy
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from epi.cohort import build_cohort
from epi.exceptions import CohortError, LeakageError
from epi.features import FeatureSets, build_features
from epi.protocol import FeatureSetSpec, FeaturesSpec, protocol_from_dict
from tests.cohort._store import admission, ev, make_store, person

PROTOCOL: dict[str, Any] = {
    "study": {"id": "t_feat", "title": "test"},
    "cohort": {
        "index": {"type": "fixed_date", "date": "2023-01-01"},
        "start_of_data": "2015-01-01",
    },
    "outcome": {
        "code_lists": [{"sector": "hospital", "vocabulary": "SKS", "codes": ["ATA1"]}],
        "admission_only": True,
    },
    "features": {
        "lookback_days": 730,
        "sets": {"demographics": {}, "gp": {}, "hospital": {}, "municipal": {}},
    },
}


def _gp(
    pid: str, day: str, vocab: str, code: str, num: float | None = None, text: str | None = None
) -> dict[str, object]:
    return ev(pid, day, "gp", vocab, code, num, text)


def _muni(pid: str, day: str, vocab: str, code: str, num: float | None = None) -> dict:
    return ev(pid, day, "municipal", vocab, code, num)


def _store() -> duckdb.DuckDBPyConnection:
    events = [
        *[
            _gp("F1", d, "YDELSE", "0101")
            for d in ("2022-12-31", "2022-06-01", "2021-06-01", "2023-01-01", "2023-02-01")
        ],
        _gp("F1", "2021-03-01", "ICPC2", "K86"),
        _gp("F1", "2023-01-01", "ICPC2", "T90"),  # on the index date: not a feature
        _gp("F1", "2022-01-01 08:00:00", "NPU", "NPU27300", 50.0),
        _gp("F1", "2022-07-02 08:00:00", "NPU", "NPU27300", 56.0),
        _gp("F1", "2023-01-01 08:00:00", "NPU", "NPU27300", 70.0),  # index date
        _gp("F1", "2022-10-01 08:00:00", "NPU", "DNK35302", None, ">90"),
        _gp("F1", "2022-11-01", "ATC", "C03CA01", 100.0),  # active: 61 <= 100 + 30
        _gp("F1", "2022-01-01", "ATC", "C10AA05", 100.0),  # ended long ago
        _gp("F1", "2022-12-01", "ATC", "A10BA02", 30.0),  # active: 31 <= 60
        # acute admission running over the index date: 28 h before it count as bed-days
        *admission("F1", "H1", "2022-12-30 20:00:00", 5.0, diagnoses=[("DI500", "A")]),
        *admission("F1", "H2", "2022-05-01 09:00:00", 0.1, "ATA3", [("DJ449", "B")]),
        *admission("F1", "H3", "2021-02-01 09:00:00", 3.0, "ATA3"),
        *[
            _muni("F1", d, "MUNI", "HOMECARE_PERSONAL", 2.0)
            for d in ("2022-11-28", "2022-12-05", "2022-12-12", "2022-12-19")
        ],
        _muni("F1", "2022-12-26", "MUNI", "HOMECARE_PERSONAL", 10.0),  # week reaches index
        _muni("F1", "2022-03-01", "FSIII", "J1.1", 2.0),
        _muni("F1", "2022-09-01", "FSIII", "J1.1", 3.0),
        _muni("F1", "2022-09-01", "FSIII", "J1.2", 1.0),
        _muni("F1", "2022-09-01", "FSIII", "J3.1", 9.0),
        _muni("F1", "2022-08-01", "MUNI", "FALL", 1.0),
        _muni("F1", "2023-01-01", "MUNI", "FALL", 1.0),  # index date
        _muni("F1", "2022-10-10", "MUNI", "NURSING_SUL138"),
        _muni("F1", "2022-10-17", "MUNI", "NURSING_SUL138"),
        _muni("F1", "2021-12-01", "MUNI", "TRAIN_SUL140"),
        *admission("F2", "H4", "2023-03-01 09:00:00", 2.0, diagnoses=[("DI500", "A")]),
        _gp("F2", "2023-02-01", "YDELSE", "0101"),
    ]
    return make_store([person("F1"), person("F2", sex="M", birth="1960-01-01")], events)


def _build(data: dict[str, Any] = PROTOCOL, con: duckdb.DuckDBPyConnection | None = None):
    con = con or _store()
    proto = protocol_from_dict(copy.deepcopy(data))
    cohort = build_cohort(con, proto)
    return cohort, build_features(con, cohort, proto), con, proto


EXPECTED_F1 = {
    "demo__male": 0,
    "gp__contacts_1y": 2,
    "gp__days_since_contact": 1.0,
    "gp__hypertension": 1,
    "gp__diabetes": 0,
    "gp__heart_failure": 0,
    "gp__lab_hba1c_last": 56.0,
    "gp__lab_hba1c_mean": 53.0,
    "gp__lab_hba1c_slope": 6.0 / (182 / 365.25),
    "gp__lab_hba1c_n": 2,
    "gp__lab_hba1c_missing": 0,
    "gp__lab_egfr_last": 90.0,
    "gp__lab_egfr_n": 1,
    "gp__lab_egfr_missing": 0,
    "gp__drug_loop_diuretic": 1,
    "gp__drug_statin": 0,
    "gp__drug_glucose_lowering": 1,
    "gp__n_drugs": 2,
    "gp__polypharmacy": 0,
    "hosp__acute_admissions_1y": 1,
    "hosp__planned_admissions_1y": 0,
    "hosp__outpatient_contacts_1y": 1,
    "hosp__bed_days_1y": 28 / 24,
    "hosp__days_since_admission": 2.0,
    "hosp__heart_failure": 0,  # its admission was still open at the index date
    "hosp__copd": 1,
    "muni__homecare_personal_h": 2.0,
    "muni__homecare_practical_h": 0.0,
    "muni__homecare_any_1y": 1,
    "muni__fsiii_j1": 3,
    "muni__fsiii_j3": 0,
    "muni__fsiii_assessed": 1,
    "muni__falls_1y": 1,
    "muni__injurious_falls_1y": 1,
    "muni__nursing_visits_1y": 2,
    "muni__rehabilitation": 1,
}
EXPECTED_F2 = {
    "demo__male": 1,
    "gp__contacts_1y": 0,
    "gp__days_since_contact": 730.0,
    "gp__lab_hba1c_n": 0,
    "gp__lab_hba1c_missing": 1,
    "gp__n_drugs": 0,
    "hosp__acute_admissions_1y": 0,
    "hosp__bed_days_1y": 0.0,
    "hosp__days_since_admission": 730.0,
    "hosp__heart_failure": 0,
    "muni__homecare_personal_h": 0.0,
    "muni__fsiii_assessed": 0,
    "muni__falls_1y": 0,
}


def test_features_are_exact() -> None:
    _, fs, _, _ = _build()
    X = fs.design(["gp", "hospital", "municipal"], drop_duplicates=False)
    for pid, expected in (("F1", EXPECTED_F1), ("F2", EXPECTED_F2)):
        got = {k: X.at[pid, k] for k in expected}
        assert got == pytest.approx(expected), pid
    assert np.isnan(X.at["F1", "gp__lab_egfr_slope"])  # one result: no trend
    for stat in ("last", "mean", "slope"):
        assert np.isnan(X.at["F2", f"gp__lab_hba1c_{stat}"])
    assert X.at["F1", "demo__age"] == pytest.approx(
        (pd.Timestamp("2023-01-01") - pd.Timestamp("1950-06-15")).days / 365.25
    )


def test_sets_are_prefixed_numeric_and_cover_the_cohort() -> None:
    cohort, fs, _, _ = _build()
    assert fs.names == ["demographics", "gp", "hospital", "municipal"]
    for name, prefix in [
        ("demographics", "demo__"),
        ("gp", "gp__"),
        ("hospital", "hosp__"),
        ("municipal", "muni__"),
    ]:
        frame = fs[name]
        assert frame.index.equals(cohort.table.index)
        assert all(c.startswith(prefix) for c in frame.columns)
        assert all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes)
    X = fs.design(["gp"], drop_duplicates=False)
    assert list(X.columns[:2]) == ["demo__age", "demo__male"]
    assert not any(c.startswith("hosp__") for c in X.columns)
    with pytest.raises(CohortError, match=r"'notes' has not been built"):
        fs.design(["gp", "notes"])


def test_design_leaves_out_exact_duplicates() -> None:
    _, fs, _, _ = _build()
    full = fs.design(["gp", "hospital", "municipal"], drop_duplicates=False)
    X = fs.design(["gp", "hospital", "municipal"])
    dupes = FeatureSets.duplicates(full)
    assert set(full.columns) - set(X.columns) == set(dupes)
    for dup, kept in dupes.items():
        assert full[dup].equals(full[kept])
    assert FeatureSets.duplicates(X) == {}
    assert "gp__lab_hba1c_last" in X.columns and "demo__age" in X.columns


def test_missingness_table() -> None:
    _, fs, _, _ = _build()
    m = fs.missingness().set_index("feature")
    assert m.at["gp__lab_hba1c_last", "missing"] == 1
    assert m.at["gp__lab_hba1c_last", "percent"] == 50.0
    assert m.at["gp__lab_hba1c_last", "sector"] == "gp"
    assert m.at["demo__age", "sector"] == "population"
    assert m.at["hosp__acute_admissions_1y", "missing"] == 0
    assert set(m["set"]) == {"demographics", "gp", "hospital", "municipal"}


def test_custom_windows_indicators_labs_and_drugs() -> None:
    data = copy.deepcopy(PROTOCOL)
    data["features"]["sets"]["gp"] = {
        "windows": {"6m": [-182, 0], "prior": [-730, -365]},
        "indicators": {"htn": {"sector": "gp", "vocabulary": "ICPC2", "codes": ["K86"]}},
        "labs": {"a1c": ["NPU27300"]},
        "drug_classes": {"diuretic": ["C03"]},
        "options": {"polypharmacy_min": 2, "lab_stats": ["last", "missing"]},
    }
    _, fs, _, _ = _build(data)
    gp = fs["gp"]
    assert gp.at["F1", "gp__contacts_6m"] == 1
    assert gp.at["F1", "gp__contacts_prior"] == 1  # 2021-06-01 is 579 days before
    assert gp.at["F1", "gp__htn"] == 1
    assert gp.at["F1", "gp__lab_a1c_last"] == 56.0
    assert gp.at["F1", "gp__drug_diuretic"] == 1
    assert gp.at["F1", "gp__polypharmacy"] == 1
    assert "gp__lab_hba1c_last" not in gp.columns
    assert [c for c in gp.columns if c.startswith("gp__lab_")] == [
        "gp__lab_a1c_last",
        "gp__lab_a1c_missing",
    ]


def test_window_reaching_past_the_index_date_raises_leakage() -> None:
    """A window that slipped past protocol validation must still be stopped."""
    cohort, _, con, proto = _build()
    bad = FeatureSetSpec.model_construct(
        code_lists=[],
        lookback_days=None,
        windows={"late": (-30, 60)},
        indicators=None,
        labs=None,
        drug_classes=None,
        options={},
    )
    features = FeaturesSpec.model_construct(lookback_days=730, sets={"gp": bad})
    leaky = proto.model_copy(update={"features": features})
    # 4 events of F1 and 1 of F2 lie in [index, index + 60 days)
    match = r"feature set 'gp': 5 event\(s\) of 2 person\(s\) \(first: F1\)"
    with pytest.raises(LeakageError, match=match):
        build_features(con, cohort, leaky)


def test_notes_set_enters_through_the_same_checks() -> None:
    cohort, fs, _, _ = _build()
    idx = cohort.table.index
    notes = pd.DataFrame({"note__dyspnoea": [1, 0]}, index=idx)
    early = pd.Series(pd.to_datetime(["2022-12-30 10:00", "2022-06-01 00:00"]), index=idx)
    late = pd.Series(pd.to_datetime(["2022-12-30 10:00", "2023-01-01 00:00"]), index=idx)
    with pytest.raises(LeakageError, match=r"'notes': 1 person\(s\) \(first: F2"):
        fs.add_set("notes", notes, latest_time=late)
    with pytest.raises(CohortError, match=r"lack the prefix 'note__'"):
        fs.add_set("notes", notes.rename(columns={"note__dyspnoea": "dyspnoea"}))
    with pytest.raises(CohortError, match=r"1 cohort person\(s\) missing"):
        fs.add_set("notes", notes.iloc[:1])
    fs.add_set("notes", notes, latest_time=early)
    assert "note__dyspnoea" in fs.design(["gp", "notes"], drop_duplicates=False).columns
    assert fs.missingness().set_index("feature").at["note__dyspnoea", "sector"] == "notes"


def test_absent_sector_and_vocabulary_are_errors() -> None:
    con = make_store([person("A"), person("B")], admission("A", "H", "2023-03-01 09:00:00", 2.0))
    with pytest.raises(CohortError, match=r"'gp' needs gp events.*\['hospital'\]"):
        _build(con=con)
    data = copy.deepcopy(PROTOCOL)
    data["features"]["sets"] = {
        "hospital": {
            "indicators": {"x": {"sector": "hospital", "vocabulary": "NPU", "codes": ["NPU27300"]}}
        }
    }
    with pytest.raises(CohortError, match=r"features\.sets\.hospital.*hospital/NPU"):
        _build(data, con=con)


def test_store_is_left_as_it_was() -> None:
    con = _store()
    tables = set(con.execute("SELECT table_name FROM information_schema.tables").fetchall())
    _build(con=con)
    assert set(con.execute("SELECT table_name FROM information_schema.tables").fetchall()) == tables


def test_feature_sets_write(tmp_path) -> None:
    _, fs, _, _ = _build()
    paths = fs.write(tmp_path)
    assert {p.name for p in paths} >= {"features_gp.parquet", "missingness.parquet"}
    assert isinstance(fs, FeatureSets)
