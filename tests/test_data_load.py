"""Loading and checking input tables, and the event store they build."""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest

from epi.data import build_event_store, load_specs
from epi.exceptions import DataError
from tests.tiny_tables import TABLES, write_tiny_tables


def _rows(table: str) -> list[dict[str, object]]:
    return copy.deepcopy(TABLES[table])


def test_every_spec_loads_and_names_known_vocabularies() -> None:
    specs = load_specs()
    assert {"persons", "gp_diagnoses", "hosp_contacts", "muni_fsiii", "notes_municipal"} <= set(
        specs
    )
    order = list(specs)
    assert order.index("persons") < order.index("gp_contacts") < order.index("gp_diagnoses")


def test_event_store_holds_every_row_with_vocabulary(tmp_path: Path) -> None:
    src = write_tiny_tables(tmp_path / "src")
    report = build_event_store(src, tmp_path / "store.duckdb")
    assert report.dropped_rows == 0
    con = duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True)
    events = con.execute(
        "SELECT source, vocabulary, code, value_num, ref FROM events ORDER BY source, code"
    ).fetchall()
    # 2 GP contacts + 2 GP diagnoses + 1 hospital contact + 1 hospital diagnosis
    assert len(events) == 6
    admission = next(e for e in events if e[0] == "hosp_contacts")
    assert admission[1:] == ("SKS", "ATA1", 3.0, "H1")  # 72 h stay = 3 days
    assert ("hosp_diagnoses", "SKS", "DI500", None, "H1") in events
    assert con.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM persons").fetchone()[0] == 3


def test_absent_sector_tables_are_reported_not_invented(tmp_path: Path) -> None:
    src = write_tiny_tables(tmp_path / "src", hosp_contacts=None, hosp_diagnoses=None)
    report = build_event_store(src, tmp_path / "store.duckdb")
    absent = {t.table for t in report.tables if not t.present}
    assert {"hosp_contacts", "hosp_diagnoses", "muni_falls"} <= absent


def test_inputs_are_not_modified(tmp_path: Path) -> None:
    src = write_tiny_tables(tmp_path / "src")
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    build_event_store(src, tmp_path / "store.duckdb")
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def _bad_date() -> dict[str, list[dict[str, object]]]:
    rows = _rows("gp_contacts")
    rows[1]["date"] = "2022-13-45"
    return {"gp_contacts": rows}


def _dup_persons() -> dict[str, list[dict[str, object]]]:
    rows = _rows("persons")
    rows.append(dict(rows[0]))
    return {"persons": rows}


def _missing_column() -> dict[str, list[dict[str, object]]]:
    rows = _rows("gp_diagnoses")
    for r in rows:
        del r["icpc2_code"]
    return {"gp_diagnoses": rows}


def _bad_code() -> dict[str, list[dict[str, object]]]:
    rows = _rows("hosp_diagnoses")
    rows[0]["diagnosis_code"] = "I50.0"
    return {"hosp_diagnoses": rows}


def _unknown_person() -> dict[str, list[dict[str, object]]]:
    rows = _rows("gp_diagnoses")
    rows[0]["person_id"] = "P00000099"
    return {"gp_diagnoses": rows}


def _after_death() -> dict[str, list[dict[str, object]]]:
    rows = _rows("hosp_diagnoses")
    rows[0]["date"] = "2023-07-02"
    return {"hosp_diagnoses": rows}


BAD_TABLES = {
    "malformed date": (
        _bad_date,
        r"gp_contacts.csv \(table gp_contacts, 2 rows\).*"
        r"column 'date': 1 row\(s\) is not a date YYYY-MM-DD; first: '2022-13-45'",
    ),
    "duplicate person ids": (
        _dup_persons,
        r"column 'person_id': 2 row\(s\) is a duplicate key; first: 'P00000001', 'P00000001'",
    ),
    "missing column": (
        _missing_column,
        r"gp_diagnoses.csv \(table gp_diagnoses\): missing column\(s\) \['icpc2_code'\]",
    ),
    "code outside vocabulary": (
        _bad_code,
        r"column 'diagnosis_code': 1 row\(s\) does not match \^D\[A-Z\]",
    ),
    "person not in persons": (
        _unknown_person,
        r"column 'person_id': 1 row\(s\) has no match in persons.person_id; first: 'P00000099'",
    ),
    "event after death": (
        _after_death,
        r"column 'date': 1 row\(s\) is after the person's death; first: '2023-07-02'",
    ),
    "empty table": (
        lambda: {"gp_diagnoses": []},
        r"gp_diagnoses.csv \(table gp_diagnoses\): the table has no rows",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TABLES), ids=list(BAD_TABLES))
def test_bad_tables_fail_with_what_and_where(tmp_path: Path, case: str) -> None:
    make, message = BAD_TABLES[case]
    overrides = make()
    if overrides.get("gp_diagnoses") == []:
        src = write_tiny_tables(tmp_path / "src")
        (src / "gp_diagnoses.csv").write_text("contact_id,person_id,date,icpc2_code\n")
    else:
        src = write_tiny_tables(tmp_path / "src", **overrides)
    with pytest.raises(DataError, match="(?s)" + message):
        build_event_store(src, tmp_path / "store.duckdb")
    assert not (tmp_path / "store.duckdb").exists()
    assert not list(tmp_path.glob("store.duckdb*"))


def test_drop_mode_counts_what_it_drops(tmp_path: Path) -> None:
    src = write_tiny_tables(tmp_path / "src", **_bad_date())
    report = build_event_store(src, tmp_path / "store.duckdb", on_invalid="drop")
    contacts = next(t for t in report.tables if t.table == "gp_contacts")
    assert (contacts.rows_read, contacts.rows_kept) == (2, 1)
    assert contacts.dropped == {"date is not a date YYYY-MM-DD": 1}
    # the diagnosis of the dropped contact loses its contact and is dropped too, and counted
    diagnoses = next(t for t in report.tables if t.table == "gp_diagnoses")
    assert diagnoses.dropped == {"contact_id has no match in gp_contacts.contact_id": 1}


def test_missing_data_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data folder not found: .*nowhere"):
        build_event_store(tmp_path / "nowhere", tmp_path / "store.duckdb")


def test_decimal_commas_and_semicolons_parse(tmp_path: Path) -> None:
    src = write_tiny_tables(tmp_path / "src")
    (src / "gp_lab_results.csv").write_text(
        "result_id;person_id;sample_time;npu_code;value_num;value_text;unit\n"
        "L1;P00000001;2022-03-04 08:10:00;NPU27300;52,5;52,5;mmol/mol\n",
        encoding="utf-8",
    )
    build_event_store(src, tmp_path / "store.duckdb")
    con = duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True)
    assert con.execute("SELECT value_num FROM events WHERE code = 'NPU27300'").fetchone() == (52.5,)
