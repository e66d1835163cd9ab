"""A hand-built three-person data set, small enough to reason about exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TABLES: dict[str, list[dict[str, object]]] = {
    "persons": [
        {
            "person_id": "P00000001",
            "sex": "F",
            "birth_date": "1940-05-01",
            "death_date": "",
            "emigration_date": "",
            "municipality_code": "851",
            "practice_id": "100001",
        },
        {
            "person_id": "P00000002",
            "sex": "M",
            "birth_date": "1950-01-15",
            "death_date": "2023-06-30",
            "emigration_date": "",
            "municipality_code": "825",
            "practice_id": "100002",
        },
        {
            "person_id": "P00000003",
            "sex": "M",
            "birth_date": "1930-11-20",
            "death_date": "",
            "emigration_date": "",
            "municipality_code": "851",
            "practice_id": "100001",
        },
    ],
    "gp_practices": [
        {"practice_id": "100001", "municipality_code": "851", "n_gps": "3"},
        {"practice_id": "100002", "municipality_code": "825", "n_gps": "1"},
    ],
    "residence": [
        {
            "person_id": "P00000001",
            "municipality_code": "851",
            "start_date": "2015-01-01",
            "end_date": "",
        },
        {
            "person_id": "P00000002",
            "municipality_code": "825",
            "start_date": "2015-01-01",
            "end_date": "2023-06-30",
        },
        {
            "person_id": "P00000003",
            "municipality_code": "851",
            "start_date": "2015-01-01",
            "end_date": "",
        },
    ],
    "gp_registrations": [
        {
            "person_id": "P00000001",
            "practice_id": "100001",
            "start_date": "2015-01-01",
            "end_date": "",
        },
        {
            "person_id": "P00000002",
            "practice_id": "100002",
            "start_date": "2015-01-01",
            "end_date": "2023-06-30",
        },
        {
            "person_id": "P00000003",
            "practice_id": "100001",
            "start_date": "2015-01-01",
            "end_date": "",
        },
    ],
    "gp_contacts": [
        {
            "contact_id": "G1",
            "person_id": "P00000001",
            "practice_id": "100001",
            "date": "2022-03-04",
            "service_code": "0101",
            "contact_form": "consultation",
        },
        {
            "contact_id": "G2",
            "person_id": "P00000002",
            "practice_id": "100002",
            "date": "2022-09-10",
            "service_code": "0201",
            "contact_form": "phone",
        },
    ],
    "gp_diagnoses": [
        {"contact_id": "G1", "person_id": "P00000001", "date": "2022-03-04", "icpc2_code": "K86"},
        {"contact_id": "G2", "person_id": "P00000002", "date": "2022-09-10", "icpc2_code": "T90"},
    ],
    "hosp_contacts": [
        {
            "contact_id": "H1",
            "person_id": "P00000002",
            "hospital_code": "8001",
            "start_time": "2023-02-01 10:00:00",
            "end_time": "2023-02-04 10:00:00",
            "contact_type": "ALCA00",
            "priority": "ATA1",
        },
    ],
    "hosp_diagnoses": [
        {
            "contact_id": "H1",
            "person_id": "P00000002",
            "date": "2023-02-01",
            "diagnosis_code": "DI500",
            "diagnosis_type": "A",
        },
    ],
    "notes_gp": [
        {
            "note_id": "N1",
            "person_id": "P00000001",
            "time": "2022-03-04 09:30:00",
            "note_type": "konsultation",
            "text": "Pt. klager over åndenød. Ingen ødemer.",
        },
    ],
}


def write_tiny_tables(folder: Path, **overrides: list[dict[str, object]] | None) -> Path:
    """Write the tiny data set as CSV files into ``folder``.

    ``overrides`` replace a table's rows (``None`` leaves the table out).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in {**TABLES, **overrides}.items():
        if rows is None:
            continue
        pd.DataFrame(rows).to_csv(folder / f"{table}.csv", index=False)
    return folder
