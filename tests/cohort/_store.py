"""Hand-built event stores for cohort and feature tests.

Tables are created directly with the event store's schema (the same DDL as
``epi.data.build_event_store``), so each test states exactly the rows it needs.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from epi.data._load import EVENTS_DDL, NOTES_DDL

PERSON_COLS = [
    "person_id",
    "sex",
    "birth_date",
    "death_date",
    "emigration_date",
    "municipality_code",
    "practice_id",
]
PERIOD_COLS = {
    "residence": ["person_id", "municipality_code", "start_date", "end_date"],
    "gp_registrations": ["person_id", "practice_id", "start_date", "end_date"],
}
EVENT_COLS = [
    "person_id",
    "time",
    "sector",
    "vocabulary",
    "code",
    "value_num",
    "value_text",
    "ref",
    "source",
]


def person(
    pid: str,
    birth: str = "1950-06-15",
    sex: str = "F",
    death: str | None = None,
    emigration: str | None = None,
    muni: str = "851",
    practice: str = "100001",
) -> dict[str, object]:
    """One persons row."""
    return dict(zip(PERSON_COLS, [pid, sex, birth, death, emigration, muni, practice], strict=True))


def ev(
    pid: str,
    time: str,
    sector: str,
    vocabulary: str,
    code: str,
    value_num: float | None = None,
    value_text: str | None = None,
    ref: str | None = None,
    source: str = "test",
) -> dict[str, object]:
    """One events row."""
    return dict(
        zip(
            EVENT_COLS,
            [pid, time, sector, vocabulary, code, value_num, value_text, ref, source],
            strict=True,
        )
    )


def admission(
    pid: str,
    contact_id: str,
    start: str,
    days: float,
    priority: str = "ATA1",
    diagnoses: Iterable[tuple[str, str]] = (),
) -> list[dict[str, object]]:
    """A hospital contact (as hosp_contacts makes it) and its diagnoses (hosp_diagnoses)."""
    rows = [
        ev(pid, start, "hospital", "SKS", priority, days, "ALCA00", contact_id, "hosp_contacts")
    ]
    for code, kind in diagnoses:
        rows.append(
            ev(pid, start[:10], "hospital", "SKS", code, None, kind, contact_id, "hosp_diagnoses")
        )
    return rows


def make_store(
    persons: list[dict[str, object]],
    events: list[dict[str, object]],
    residence: list[tuple] | None = None,
    registrations: list[tuple] | None = None,
    default_start: str = "2015-01-01",
) -> duckdb.DuckDBPyConnection:
    """An in-memory event store.

    ``residence`` and ``registrations`` default to one open period from
    ``default_start`` per person (ending at death), as the loader would hold them.
    """
    con = duckdb.connect()
    p = pd.DataFrame(persons, columns=PERSON_COLS)
    for c in ("birth_date", "death_date", "emigration_date"):
        p[c] = pd.to_datetime(p[c]).dt.date
    con.register("_p", p)
    con.execute(
        "CREATE TABLE persons AS SELECT person_id, sex, CAST(birth_date AS DATE) AS "
        "birth_date, CAST(death_date AS DATE) AS death_date, CAST(emigration_date AS DATE) "
        "AS emigration_date, municipality_code, practice_id FROM _p"
    )
    defaults = {
        "residence": [
            (r["person_id"], r["municipality_code"], default_start, r["death_date"])
            for r in persons
        ],
        "gp_registrations": [
            (r["person_id"], r["practice_id"], default_start, r["death_date"]) for r in persons
        ],
    }
    for table, rows in (("residence", residence), ("gp_registrations", registrations)):
        frame = pd.DataFrame(defaults[table] if rows is None else rows, columns=PERIOD_COLS[table])
        for c in ("start_date", "end_date"):
            frame[c] = pd.to_datetime(frame[c]).dt.date
        con.register("_t", frame)
        key = PERIOD_COLS[table][1]
        con.execute(
            f"CREATE TABLE {table} AS SELECT person_id, {key}, CAST(start_date AS DATE) "
            "AS start_date, CAST(end_date AS DATE) AS end_date FROM _t"
        )
        con.unregister("_t")
    practices = sorted({(r["practice_id"], r["municipality_code"]) for r in persons})
    con.register("_g", pd.DataFrame(practices, columns=["practice_id", "municipality_code"]))
    con.execute(
        "CREATE TABLE gp_practices AS SELECT practice_id, municipality_code, 1 AS n_gps FROM _g"
    )
    con.execute(EVENTS_DDL)
    con.execute(NOTES_DDL)
    if events:
        e = pd.DataFrame(events, columns=EVENT_COLS)
        e["time"] = pd.to_datetime(e["time"], format="ISO8601")
        e["value_num"] = e["value_num"].astype(float)
        con.register("_e", e)
        con.execute("INSERT INTO events SELECT * FROM _e")
    for name in ("_p", "_g", "_e"):
        try:
            con.unregister(name)
        except duckdb.Error:
            pass
    return con
