"""Cohort, outcome and attrition on hand-built stores with exact expected rows."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from epi.cohort import build_cohort
from epi.exceptions import CohortError, ProtocolError
from epi.protocol import protocol_from_dict
from tests.cohort._store import admission, ev, make_store, person

ACUTE: dict[str, Any] = {
    "study": {"id": "t_acute", "title": "test"},
    "cohort": {
        "index": {"type": "fixed_date", "date": "2023-01-01"},
        "eligibility": {
            "age_min": 65,
            "resident": True,
            "gp_registered_days": 365,
            "min_lookback_days": 365,
            "home_dwelling": True,
        },
        "end_of_data": "2024-12-31",
        "start_of_data": "2015-01-01",
    },
    "outcome": {
        "name": "acute_admission",
        "code_lists": [{"sector": "hospital", "vocabulary": "SKS", "codes": ["ATA1"]}],
        "admission_only": True,
        "acute_only": True,
        "horizon_days": 365,
    },
}


def _protocol(base: dict[str, Any], **changes: Any) -> Any:
    data = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for key in path:
            node = node.setdefault(key, {})
        node[last] = value
    return protocol_from_dict(data)


def _acute_store() -> duckdb.DuckDBPyConnection:
    persons = [person(f"P{i:02d}") for i in range(1, 19)]
    persons[4] = person("P05", death="2023-02-01")
    persons[3] = person("P04", death="2023-05-01")
    persons[10] = person("P11", birth="1962-06-15")  # aged 60
    persons[11] = person("P12", death="2022-11-30")  # dead before index
    persons[12] = person("P13", emigration="2022-07-01")  # gone before index
    persons[17] = person("P18", emigration="2023-04-01")  # leaves during follow-up
    events = [
        *admission("P02", "C2", "2023-03-01 08:00:00", 2.0),
        *admission("P03", "C3a", "2022-12-31 20:00:00", 1.0),  # before index: not outcome
        *admission("P03", "C3", "2023-01-01 10:00:00", 2.0),  # on the index date
        *admission("P04", "C4", "2023-05-01 09:00:00", 1.0),  # same day as death
        *admission("P06", "C6", "2023-10-01 09:00:00", 3.0),  # while abroad? no: after return
        *admission("P07", "C7", "2023-12-31 09:00:00", 1.0),  # day 364
        *admission("P08", "C8", "2023-04-01 09:00:00", 4 / 24),  # 4 h: not an admission
        *admission("P09", "C9", "2023-04-01 09:00:00", 3.0, priority="ATA3"),  # planned
        *admission("P10", "C10", "2024-01-05 09:00:00", 3.0),  # after the horizon
        *admission("P18", "C18", "2023-05-01 09:00:00", 3.0),  # after emigration
        # 25 h/week home care in the 4 complete weeks before index (week starts Mondays)
        *[
            ev("P17", d, "municipal", "MUNI", "HOMECARE_PERSONAL", 25.0)
            for d in ("2022-11-28", "2022-12-05", "2022-12-12", "2022-12-19")
        ],
        # 3 h/week home care: still home-dwelling
        *[
            ev("P16", d, "municipal", "MUNI", "HOMECARE_PRACTICAL", 3.0)
            for d in ("2022-11-28", "2022-12-05", "2022-12-12", "2022-12-19")
        ],
    ]
    residence = [
        (p["person_id"], "851", "2015-01-01", p["death_date"])
        for p in persons
        if p["person_id"] not in {"P06", "P07", "P13", "P14", "P18"}
    ]
    residence += [
        ("P06", "851", "2015-01-01", "2023-06-30"),
        ("P06", "860", "2023-09-01", None),
        ("P07", "851", "2015-01-01", "2020-06-30"),
        ("P07", "860", "2020-09-01", None),
        ("P13", "851", "2015-01-01", "2022-06-30"),
        ("P14", "851", "2022-06-01", None),
        ("P18", "851", "2015-01-01", "2021-12-31"),
        ("P18", "773", "2022-01-01", "2023-03-31"),
    ]
    regs = [
        (p["person_id"], "100001", "2015-01-01", p["death_date"])
        for p in persons
        if p["person_id"] not in {"P15", "P16"}
    ]
    regs += [
        ("P15", "100001", "2015-01-01", "2022-08-31"),
        ("P15", "100002", "2022-10-01", None),
        ("P16", "100001", "2015-01-01", "2022-06-30"),
        ("P16", "100002", "2022-07-01", None),
    ]
    return make_store(persons, events, residence=residence, registrations=regs)


def test_acute_admission_cohort_is_exact() -> None:
    cohort = build_cohort(_acute_store(), _protocol(ACUTE))
    t = cohort.table
    expected = {  # person: (duration, event)
        "P01": (365.0, 0),
        "P02": (59.0, 1),
        "P03": (0.5, 1),  # admission on the index date: follow-up, half a day
        "P04": (120.0, 1),  # death on the outcome day: the outcome counts
        "P05": (31.0, 2),  # competing death
        "P06": (180.0, 0),  # censored at emigration (last resident day 2023-06-30)
        "P07": (364.0, 1),  # emigrated and returned before index: eligible
        "P08": (365.0, 0),  # 4-hour contact is no admission
        "P09": (365.0, 0),  # planned admission
        "P10": (365.0, 0),  # outcome after the horizon: censored at it
        "P16": (365.0, 0),  # practice change without a gap keeps continuous listing
        "P18": (89.0, 0),  # moved municipality, then emigrated 2023-04-01
    }
    assert sorted(t.index) == sorted(expected)
    got = {pid: (t.at[pid, "duration"], t.at[pid, "event"]) for pid in t.index}
    assert got == expected
    assert t.at["P16", "practice_id"] == "100002"
    assert t.at["P18", "municipality_code"] == "773"
    assert t.at["P07", "municipality_code"] == "860"
    assert (t["index_date"] == pd.Timestamp("2023-01-01")).all()
    assert t.at["P01", "age"] == pytest.approx(
        (pd.Timestamp("2023-01-01") - pd.Timestamp("1950-06-15")).days / 365.25
    )
    assert set(t["index_year"]) == {2023}
    assert t["duration"].gt(0).all()


def test_attrition_has_a_row_per_restriction() -> None:
    cohort = build_cohort(_acute_store(), _protocol(ACUTE))
    a = cohort.attrition
    assert list(a["step"]) == [
        "all_persons",
        "alive",
        "age",
        "resident",
        "lookback",
        "gp_registered",
        "home_dwelling",
    ]
    assert list(a["persons"]) == [18, 17, 16, 15, 14, 13, 12]
    assert list(a["excluded"]) == [0, 1, 1, 1, 1, 1, 1]
    assert list(a["outcomes"])[-1] == 4 == int((cohort.table["event"] == 1).sum())
    assert a["outcomes"].is_monotonic_decreasing


def test_death_not_competing_is_censoring() -> None:
    cohort = build_cohort(_acute_store(), _protocol(ACUTE, outcome__competing_death=False))
    assert (cohort.table.at["P05", "duration"], cohort.table.at["P05", "event"]) == (31.0, 0)


def test_same_store_through_the_loader(tmp_path: Path) -> None:
    """The real loader's store gives the cohort the tiny tables imply."""
    from epi.data import build_event_store
    from tests.tiny_tables import write_tiny_tables

    src = write_tiny_tables(tmp_path / "src")
    build_event_store(src, tmp_path / "s.duckdb")
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    proto = _protocol(
        ACUTE, cohort__eligibility__min_lookback_days=365, cohort__eligibility__home_dwelling=False
    )
    cohort = build_cohort(con, proto)
    # P00000002 (aged 72) admitted acutely 2023-02-01 for 3 days: day 31
    assert cohort.table.loc["P00000002", ["duration", "event"]].tolist() == [31.0, 1]
    assert cohort.table.loc["P00000001", ["duration", "event"]].tolist() == [365.0, 0]
    assert cohort.table.loc["P00000002", "practice_id"] == "100002"
    assert len(cohort.table) == 3


HF: dict[str, Any] = {
    "study": {"id": "t_hf", "title": "test"},
    "cohort": {
        "index": {
            "type": "first_event",
            "window": ["2015-01-01", "2019-12-31"],
            "code_lists": [
                {"sector": "gp", "vocabulary": "ICPC2", "codes": ["T90"]},
                {"sector": "hospital", "vocabulary": "SKS", "codes": ["DE11"]},
            ],
        },
        "eligibility": {"age_min": 18, "gp_registered_days": 0, "min_lookback_days": 365},
        "start_of_data": "2015-01-01",
        "exclusions": [
            {
                "name": "prior_hf",
                "code_lists": [
                    {"sector": "gp", "vocabulary": "ICPC2", "codes": ["K77"]},
                    {"sector": "hospital", "vocabulary": "SKS", "codes": ["DI50"]},
                ],
            }
        ],
    },
    "outcome": {
        "name": "hf_hospitalisation",
        "code_lists": [{"sector": "hospital", "vocabulary": "SKS", "codes": ["DI50"]}],
        "admission_only": True,
        "diagnosis_types": ["A"],
        "horizon_days": 1826,
    },
}


def _hf_store() -> duckdb.DuckDBPyConnection:
    persons = [person(f"Q{i}") for i in range(1, 10)]
    t90 = lambda pid, d: ev(pid, d, "gp", "ICPC2", "T90", ref="g")  # noqa: E731
    events = [
        t90("Q1", "2016-03-01"),
        *admission("Q1", "H1", "2018-01-10 10:00:00", 3.0, diagnoses=[("DI500", "A")]),
        *admission("Q2", "H2a", "2017-05-05 10:00:00", 0.1, "ATA3", [("DE119", "B")]),
        t90("Q2", "2018-02-02"),
        *admission("Q2", "H2", "2019-01-10 10:00:00", 3.0, diagnoses=[("DI500", "B")]),
        t90("Q3", "2021-01-01"),  # index outside the window
        ev("Q4", "2015-06-01", "gp", "ICPC2", "K77"),
        t90("Q4", "2016-06-01"),  # prior HF
        t90("Q5", "2016-06-01"),
        *admission("Q5", "H5", "2017-01-10 10:00:00", 2 / 24, diagnoses=[("DI509", "A")]),
        t90("Q6", "2016-06-01"),
        *admission("Q6", "H6", "2017-06-11 10:00:00", 3.0, "ATA3", [("DI501", "A")]),
        t90("Q7", "2016-01-01"),
        *admission("Q7", "H7", "2016-01-01 11:00:00", 3.0, diagnoses=[("DI500", "A")]),
        t90("Q9", "2015-06-01"),  # too little look-back (data start 2015-01-01)
    ]
    return make_store(persons, events)


def test_hf_in_t2d_cohort_is_exact() -> None:
    cohort = build_cohort(_hf_store(), _protocol(HF))
    t = cohort.table
    expected = {
        "Q1": ("2016-03-01", 680.0, 1),
        "Q2": ("2017-05-05", 1826.0, 0),  # index from hospital DE119; HF only as B-diagnosis
        "Q5": ("2016-06-01", 1826.0, 0),  # HF A-diagnosis on a 2-hour contact
        "Q6": ("2016-06-01", 375.0, 1),  # planned admission counts (acute_only false)
        "Q7": ("2016-01-01", 0.5, 1),  # HF admission on the index date
    }
    assert sorted(t.index) == sorted(expected)
    for pid, (date, duration, event) in expected.items():
        assert t.at[pid, "index_date"] == pd.Timestamp(date)
        assert (t.at[pid, "duration"], t.at[pid, "event"]) == (duration, event), pid
    a = cohort.attrition
    assert list(a["step"]) == [
        "all_persons",
        "index_event",
        "index_window",
        "alive",
        "age",
        "resident",
        "lookback",
        "exclude_prior_hf",
    ]
    assert list(a["persons"]) == [9, 8, 7, 7, 7, 7, 6, 5]


def test_lookback_needs_data_as_well_as_residence() -> None:
    """Without start_of_data the data start at the earliest event (2022-11-28 here)."""
    with pytest.raises(CohortError, match=r"restriction 'lookback' .*data for >= 365 days"):
        build_cohort(_acute_store(), _protocol(ACUTE, cohort__start_of_data=None))
    cohort = build_cohort(
        _acute_store(),
        _protocol(ACUTE, cohort__start_of_data=None, cohort__eligibility__min_lookback_days=30),
    )
    assert len(cohort.table) == 13  # P14 (moved in 2022-06-01) is back in


def test_death_and_birthday_on_the_index_date() -> None:
    persons = [person("D1", death="2023-01-01"), person("D2", birth="1958-01-01"), person("D3")]
    events = admission("D3", "C", "2023-02-01 10:00:00", 1.0)
    proto = _protocol(ACUTE, cohort__eligibility__home_dwelling=False)
    t = build_cohort(make_store(persons, events), proto).table
    assert (t.at["D1", "duration"], t.at["D1", "event"]) == (0.5, 2)  # dies on day 0
    assert t.at["D2", "age"] == pytest.approx(65.0, abs=0.01)  # 65th birthday: eligible
    # days / 365.25 falls just short of 65; completed years, as eligibility counts, do not
    assert t.at["D2", "age"] < 65 and t.at["D2", "age_completed"] == 65
    late = _protocol(
        ACUTE, cohort__eligibility__home_dwelling=False, outcome__index_day_counts=False
    )
    assert "D1" not in build_cohort(make_store(persons, events), late).table.index


def test_outcome_on_the_index_day_can_be_left_out() -> None:
    cohort = build_cohort(_hf_store(), _protocol(HF, outcome__index_day_counts=False))
    assert (cohort.table.at["Q7", "duration"], cohort.table.at["Q7", "event"]) == (1826.0, 0)
    assert cohort.table.at["Q1", "event"] == 1


def test_age_reached_index() -> None:
    data = copy.deepcopy(HF)
    data["cohort"]["index"] = {
        "type": "age_reached",
        "age": 65,
        "window": ["2016-01-01", "2019-12-31"],
    }
    data["cohort"]["exclusions"] = []
    persons = [person("A1", birth="1952-03-10"), person("A2", birth="1940-01-01")]
    events = admission("A1", "H", "2018-03-10 10:00:00", 2.0, diagnoses=[("DI500", "A")])
    cohort = build_cohort(make_store(persons, events), protocol_from_dict(data))
    assert list(cohort.table.index) == ["A1"]
    assert cohort.table.at["A1", "index_date"] == pd.Timestamp("2017-03-10")
    assert cohort.table.at["A1", "duration"] == 365.0
    assert cohort.table.at["A1", "age"] == pytest.approx(65.0, abs=0.01)


def test_inputs_not_modified_and_temp_tables_dropped() -> None:
    con = _acute_store()
    before = con.execute("SELECT COUNT(*), SUM(value_num) FROM events").fetchall()
    tables = set(con.execute("SELECT table_name FROM information_schema.tables").fetchall())
    build_cohort(con, _protocol(ACUTE))
    assert con.execute("SELECT COUNT(*), SUM(value_num) FROM events").fetchall() == before
    assert set(con.execute("SELECT table_name FROM information_schema.tables").fetchall()) == tables


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"cohort__eligibility__age_min": 110}, r"restriction 'age' .*removed all 17"),
        (
            {
                "outcome__code_lists": [
                    {"sector": "hospital", "vocabulary": "SKS", "codes": ["DZ99"]}
                ]
            },
            r"no outcome events",
        ),
        (
            {
                "outcome__code_lists": [
                    {"sector": "municipal", "vocabulary": "FSIII", "codes": ["J1"]}
                ]
            },
            r"outcome\.code_lists: .*municipal/FSIII.*no municipal events",
        ),
        (
            {"outcome__code_lists": [{"sector": "gp", "vocabulary": "SKS", "codes": ["DI50"]}]},
            r"gp/SKS",
        ),
    ],
    ids=["empty_by_age", "zero_outcomes", "vocabulary_absent", "sector_vocabulary_absent"],
)
def test_bad_input_errors(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(CohortError, match=match):
        build_cohort(_acute_store(), _protocol(ACUTE, **changes))


def test_exclusion_that_removes_everyone_is_named() -> None:
    store = make_store(
        [person("E1"), person("E2")],
        [
            ev("E1", "2020-01-01", "gp", "ICPC2", "K77"),
            ev("E2", "2021-01-01", "gp", "ICPC2", "K771"),
            *admission("E2", "C", "2023-02-01 10:00:00", 1.0),
        ],
    )
    proto = _protocol(
        ACUTE,
        cohort__eligibility__home_dwelling=False,
        cohort__exclusions=[
            {
                "name": "prior_hf",
                "code_lists": [{"sector": "gp", "vocabulary": "ICPC2", "codes": ["K77"]}],
            }
        ],
    )
    with pytest.raises(CohortError, match=r"'exclude_prior_hf'.*all 2 remaining.*exclusions"):
        build_cohort(store, proto)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"features": {"sets": {"gp": {"windows": {"late": [-30, 10]}}}}},
            r"ends after the index date",
        ),
        (
            {
                "features": {
                    "sets": {
                        "gp": {
                            "indicators": {
                                "hf": {"sector": "hospital", "vocabulary": "SKS", "codes": ["DI50"]}
                            }
                        }
                    }
                }
            },
            r"sectors never mix",
        ),
        ({"cohort__index__date": "2025-01-01"}, r"no follow-up before end_of_data"),
    ],
    ids=["window_after_index", "sector_mix", "index_after_data"],
)
def test_protocol_check_errors(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        _protocol(ACUTE, **changes)


def test_cohort_write(tmp_path: Path) -> None:
    cohort = build_cohort(_acute_store(), _protocol(ACUTE))
    paths = cohort.write(tmp_path / "out")
    assert [p.name for p in paths] == ["cohort.parquet", "attrition.parquet", "attrition.csv"]
    back = pd.read_parquet(paths[0]).set_index("person_id")
    assert np.array_equal(back["event"].to_numpy(), cohort.table["event"].to_numpy())
    assert cohort.summary()["outcomes"] == 4
