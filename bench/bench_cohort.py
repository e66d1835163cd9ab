"""Benchmark: cohort and features in DuckDB at register scale, and a pandas peer.

The issue's target: cohort and features for 1,000,000 persons and at least 100
million events in at most 5 minutes on a 2-core machine, in DuckDB, with the
same features computed in plain pandas as the peer (ratio reported).

Data: the synthetic generator (``epi.data.synth``) needs far longer than the
benchmark itself at a million persons, so this module writes an event store of
the same schema directly in DuckDB SQL: persons aged 18-100, residence with
gaps (emigration and return) for 2 %, deaths, GP listing, ~100 events a person
across every sector and vocabulary (GP services, ICPC-2, NPU labs, ATC
dispensings; LPR3 contacts each with a diagnosis sharing its ``ref``; home-care
weeks, FSIII, falls, nursing), dated 2015-2024. Values are random; only the
shape and volume matter here.

Rows:

* ``epi cohort + features (DuckDB)``: :func:`epi.cohort.build_cohort` and
  :func:`epi.features.build_features` of ``protocols/acute_admission_65plus.yaml``
  with ``age_min`` lowered to 18, so every adult (about the whole population)
  is in the cohort, and every default lab with all five statistics - the
  hardest case.
* ``pandas peer`` vs ``epi features (DuckDB), peer subset``: the same feature
  definitions (GP counts, time since last, indicators, lab last/mean/count,
  active drug classes, hospital admissions and truncated bed-days, home care,
  falls, nursing) in plain pandas on events already in memory (loading them is
  not timed), and DuckDB on the same store; values are checked equal. The
  peer runs at a size pandas holds in memory (its own row says which).

Usage: ``python -m bench cohort`` (``--quick``: 20,000 persons) or
``python bench/bench_cohort.py [--quick] [--persons N]``.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from epi.cohort import build_cohort
from epi.data._load import EVENTS_DDL, NOTES_DDL
from epi.features import build_features
from epi.protocol import load_protocol, protocol_from_dict

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "protocols" / "acute_admission_65plus.yaml"
EVENTS_PER_PERSON = 100
TARGET_S = 300.0
MUNIS = ["851", "860", "813", "787", "846", "849", "820", "810", "840", "773", "825"]


def _u(i: str, salt: int) -> str:
    """A deterministic uniform [0, 1) from integer expression ``i``."""
    return f"((hash({i}, {salt}) % 1000003) / 1000003.0)"


def _pick(options: list[str], u: str) -> str:
    arr = ", ".join(f"'{o}'" for o in options)
    return f"([{arr}])[1 + CAST(FLOOR({u} * {len(options)}) AS INTEGER)]"


def make_store(path: Path, persons: int, per_person: int = EVENTS_PER_PERSON) -> int:
    """Write a benchmark event store with ``persons`` persons; return its event count."""
    con = duckdb.connect(str(path))
    con.execute("SET preserve_insertion_order = false")
    pid = "'P' || lpad(CAST(i AS VARCHAR), 8, '0')"
    con.execute(f"""CREATE TABLE persons AS SELECT {pid} AS person_id,
        CASE WHEN {_u("i", 1)} < 0.5 THEN 'F' ELSE 'M' END AS sex,
        CAST(DATE '1923-01-01' + CAST(FLOOR({_u("i", 2)} * 29000) AS INTEGER) AS DATE)
            AS birth_date,
        CASE WHEN {_u("i", 3)} < 0.06 THEN CAST(DATE '2015-01-02'
            + CAST(FLOOR({_u("i", 4)} * 3650) AS INTEGER) AS DATE) END AS death_date,
        CASE WHEN {_u("i", 5)} < 0.01 THEN CAST(DATE '2016-01-01'
            + CAST(FLOOR({_u("i", 6)} * 3000) AS INTEGER) AS DATE) END AS emigration_date,
        {_pick(MUNIS, _u("i", 7))} AS municipality_code,
        CAST(100001 + CAST(FLOOR({_u("i", 8)} * 200) AS INTEGER) AS VARCHAR) AS practice_id
        FROM range({persons}) t(i)""")
    con.execute("""CREATE TABLE gp_practices AS SELECT DISTINCT practice_id,
        MIN(municipality_code) AS municipality_code, 2 AS n_gps FROM persons GROUP BY ALL""")
    gap = _u("hash(person_id)", 9)
    con.execute(f"""CREATE TABLE residence AS
        SELECT person_id, municipality_code, DATE '2000-01-01' AS start_date,
               CASE WHEN {gap} < 0.02 THEN DATE '2019-06-30'
                    ELSE COALESCE(death_date, emigration_date - 1) END AS end_date
        FROM persons
        UNION ALL
        SELECT person_id, municipality_code, DATE '2020-03-01',
               COALESCE(death_date, emigration_date - 1)
        FROM persons WHERE {gap} < 0.02 AND COALESCE(death_date, emigration_date,
             DATE '2030-01-01') > DATE '2020-03-01'""")
    con.execute("""CREATE TABLE gp_registrations AS SELECT person_id, practice_id,
        DATE '2010-01-01' AS start_date, death_date AS end_date FROM persons""")
    con.execute(EVENTS_DDL)
    con.execute(NOTES_DDL)
    n = persons * per_person
    p = f"'P' || lpad(CAST(i // {per_person} AS VARCHAR), 8, '0')"
    kind = _u("i // 2", 11)  # pairs share a kind: a contact and its diagnosis
    day = f"CAST(FLOOR({_u('i', 12)} * 3652) AS INTEGER)"
    pair_day = f"CAST(FLOOR({_u('i // 2', 12)} * 3652) AS INTEGER)"
    ts = f"(TIMESTAMP '2015-01-01' + INTERVAL 1 DAY * {day})"
    pair_ts = (
        f"(TIMESTAMP '2015-01-01' + INTERVAL 1 DAY * {pair_day} "
        f"+ INTERVAL 1 MINUTE * CAST(FLOOR({_u('i // 2', 13)} * 1400) AS INTEGER))"
    )
    monday = f"(TIMESTAMP '2015-01-05' + INTERVAL 7 DAY * ({day} // 7))"
    u = _u("i", 14)
    icpc = [
        "K86",
        "T90",
        "K78",
        "R95",
        "U99",
        "K77",
        "P70",
        "R74",
        "U71",
        "L03",
        "A04",
        "N01",
        "S18",
        "D01",
        "L86",
        "R78",
        "P06",
        "K87",
        "T93",
        "K95",
    ]
    atc = [
        "C03CA01",
        "C09AA05",
        "C07AB02",
        "B01AF02",
        "A10BA02",
        "C10AA05",
        "R03BB04",
        "N02AX02",
        "N05CF01",
        "N06AB04",
        "J01CE02",
        "N02BE01",
        "A02BC02",
        "C08CA01",
    ]
    npu = ["NPU27300", "DNK35302", "NPU18016", "NPU21571", "NPU01568", "NPU02319"]
    sks = [
        "DI500",
        "DI489",
        "DE119",
        "DJ449",
        "DN189",
        "DF039",
        "DJ189",
        "DN390",
        "DS720",
        "DR296",
        "DZ039",
        "DK590",
    ]
    fsiii = ["J1.1", "J1.2", "J2.1", "J3.1", "J3.2", "J4.1", "J5.1"]
    select = f"""SELECT {p} AS person_id,
      CASE WHEN k < 0.76 AND k >= 0.72 OR k >= 0.98 THEN {pair_ts}
           WHEN k >= 0.84 AND k < 0.92 THEN {monday} ELSE {ts} END AS time,
      CASE WHEN k < 0.72 THEN 'gp' WHEN k < 0.84 THEN 'hospital' WHEN k < 0.98
           THEN 'municipal' ELSE 'hospital' END AS sector,
      CASE WHEN k < 0.30 THEN 'YDELSE' WHEN k < 0.45 THEN 'ICPC2' WHEN k < 0.55 THEN 'NPU'
           WHEN k < 0.72 THEN 'ATC' WHEN k < 0.84 THEN 'SKS' WHEN k < 0.92 THEN 'MUNI'
           WHEN k < 0.95 THEN 'FSIII' WHEN k < 0.98 THEN 'MUNI' ELSE 'SKS' END AS vocabulary,
      CASE WHEN k < 0.30 THEN {_pick(["0101", "0120", "0201", "0204", "0105", "0411"], u)}
           WHEN k < 0.45 THEN {_pick(icpc, u)}
           WHEN k < 0.55 THEN {_pick(npu, u)}
           WHEN k < 0.72 THEN {_pick(atc, u)}
           WHEN k < 0.76 AND i % 2 = 0 THEN CASE WHEN {u} < 0.6 THEN 'ATA1' ELSE 'ATA3' END
           WHEN k < 0.76 THEN {_pick(sks, u)}
           WHEN k < 0.84 THEN {_pick(sks, u)}
           WHEN k < 0.92 THEN {_pick(["HOMECARE_PERSONAL", "HOMECARE_PRACTICAL"], u)}
           WHEN k < 0.95 THEN {_pick(fsiii, u)}
           WHEN k < 0.98 THEN {_pick(["FALL", "NURSING_SUL138", "NURSING_SUL138"], u)}
           ELSE 'UXRC00' END AS code,
      CASE WHEN k >= 0.45 AND k < 0.55 THEN ROUND(20 + {u} * 100, 1)
           WHEN k >= 0.55 AND k < 0.72 THEN CAST(30 + FLOOR({u} * 70) AS DOUBLE)
           WHEN k >= 0.72 AND k < 0.76 AND i % 2 = 0 THEN ROUND(-LN(1 - {u}) * 2, 3)
           WHEN k >= 0.84 AND k < 0.92 THEN ROUND({u} * 8, 2)
           WHEN k >= 0.92 AND k < 0.95 THEN FLOOR({u} * 5)
           WHEN k >= 0.95 AND k < 0.98 THEN CASE WHEN {u} < 0.2 THEN 1.0 ELSE 0.0 END
      END AS value_num,
      CASE WHEN k >= 0.72 AND k < 0.76 AND i % 2 = 0 THEN 'ALCA00'
           WHEN k >= 0.72 AND k < 0.84 THEN CASE WHEN {u} < 0.5 THEN 'A' ELSE 'B' END END
           AS value_text,
      CASE WHEN k >= 0.72 AND k < 0.76 OR k >= 0.98 THEN 'C' || CAST(i // 2 AS VARCHAR) END
           AS ref,
      CASE WHEN k < 0.30 THEN 'gp_contacts' WHEN k < 0.45 THEN 'gp_diagnoses'
           WHEN k < 0.55 THEN 'gp_lab_results' WHEN k < 0.72 THEN 'gp_prescriptions'
           WHEN k < 0.76 AND i % 2 = 0 THEN 'hosp_contacts' WHEN k < 0.84 THEN 'hosp_diagnoses'
           WHEN k < 0.92 THEN 'muni_home_care' WHEN k < 0.95 THEN 'muni_fsiii'
           WHEN k < 0.98 THEN 'muni_falls' ELSE 'hosp_procedures' END AS source
      FROM (SELECT i, {kind} AS k FROM range({n}) t(i)) q"""
    con.execute(f"INSERT INTO events {select}")
    count = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    return count


def bench_protocol() -> object:
    """The acute-admission protocol with every adult eligible."""
    data = load_protocol(PROTOCOL).model_dump(mode="json")
    data = copy.deepcopy(data)
    data["cohort"]["eligibility"]["age_min"] = 18
    data["cohort"]["start_of_data"] = "2015-01-01"
    # every default lab and statistic: the heaviest feature set
    data["features"]["sets"]["gp"].update({"labs": None, "options": {}})
    return protocol_from_dict(data)


def pandas_features(
    events: pd.DataFrame,
    cohort: pd.DataFrame,
    lookback: int,
    windows_of: dict[str, dict[str, tuple[int, int]]],
) -> pd.DataFrame:
    """The peer subset of features in plain pandas (definitions as in ``epi.features``).

    ``windows_of`` maps a set (gp, hospital, municipal) to its count windows.
    """
    from epi.features._gp import DEFAULT_DRUG_CLASSES, DEFAULT_INDICATORS, DEFAULT_LABS

    idx = cohort.index
    e = events.merge(cohort[["index_date"]], left_on="person_id", right_index=True)
    e["days_before"] = (e["index_date"] - e["time"].dt.normalize()).dt.days
    e["exact"] = (e["index_date"] - e["time"]).dt.total_seconds() / 86400.0
    span = max([lookback] + [-s for w in windows_of.values() for s, _ in w.values()])
    e = e[(e["days_before"] >= 1) & (e["days_before"] <= span)]
    out: dict[str, pd.Series] = {}

    def per_person(mask: pd.Series, how: str, col: str = "days_before") -> pd.Series:
        return getattr(e.loc[mask].groupby("person_id")[col], how)().reindex(idx)

    def win(w: tuple[int, int]) -> pd.Series:
        return (e["days_before"] <= -w[0]) & (e["days_before"] > -w[1])

    in_lb = e["days_before"] <= lookback
    gp = e["sector"] == "gp"
    ydelse = gp & (e["vocabulary"] == "YDELSE")
    for name, w in windows_of["gp"].items():
        out[f"gp__contacts_{name}"] = per_person(ydelse & win(w), "count").fillna(0)
    out["gp__days_since_contact"] = per_person(ydelse & in_lb, "min").fillna(lookback)
    for name, cl in DEFAULT_INDICATORS.items():
        m = gp & (e["vocabulary"] == cl.vocabulary) & e["code"].str.startswith(tuple(cl.codes))
        out[f"gp__{name}"] = per_person(m & in_lb, "count").gt(0).astype(int)
    labs = e.loc[gp & (e["vocabulary"] == "NPU") & in_lb].copy()
    labs["v"] = labs["value_num"].fillna(
        pd.to_numeric(labs["value_text"].str.replace(r"[<>=]", "", regex=True), errors="coerce")
    )
    labs = labs.dropna(subset=["v"]).sort_values(["person_id", "time", "v"])
    for name, codes in DEFAULT_LABS.items():
        g = labs[labs["code"].isin(codes)].groupby("person_id")["v"]
        out[f"gp__lab_{name}_last"] = g.last().reindex(idx)
        out[f"gp__lab_{name}_mean"] = g.mean().reindex(idx)
        out[f"gp__lab_{name}_n"] = g.count().reindex(idx).fillna(0)
    active = gp & (e["vocabulary"] == "ATC") & (e["days_before"] <= e["value_num"].fillna(90) + 30)
    for name, prefixes in DEFAULT_DRUG_CLASSES.items():
        m = active & e["code"].str.startswith(tuple(prefixes))
        out[f"gp__drug_{name}"] = per_person(m, "count").gt(0).astype(int)
    out["gp__n_drugs"] = e.loc[active].groupby("person_id")["code"].nunique().reindex(idx).fillna(0)
    contact = (e["sector"] == "hospital") & (e["source"] == "hosp_contacts")
    adm = contact & (e["value_num"] >= 0.5)
    for name, w in windows_of["hospital"].items():
        out[f"hosp__acute_admissions_{name}"] = per_person(
            adm & (e["code"] == "ATA1") & win(w), "count"
        ).fillna(0)
        out[f"hosp__planned_admissions_{name}"] = per_person(
            adm & (e["code"] == "ATA3") & win(w), "count"
        ).fillna(0)
        out[f"hosp__outpatient_contacts_{name}"] = per_person(
            contact & (e["value_num"] < 0.5) & win(w), "count"
        ).fillna(0)
        bed = e["value_num"].where(e["value_num"] < e["exact"], e["exact"])
        out[f"hosp__bed_days_{name}"] = (
            bed[adm & win(w)].groupby(e["person_id"]).sum().reindex(idx).fillna(0.0)
        )
    out["hosp__days_since_admission"] = per_person(adm & in_lb, "min").fillna(lookback)
    muni = (e["sector"] == "municipal") & (e["vocabulary"] == "MUNI")
    weeks = (e["days_before"] >= 7) & (e["days_before"] <= 34)
    for code, col in (("HOMECARE_PERSONAL", "personal"), ("HOMECARE_PRACTICAL", "practical")):
        out[f"muni__homecare_{col}_h"] = (
            per_person(muni & (e["code"] == code) & weeks, "sum", "value_num").fillna(0.0) / 4
        )
    for name, w in windows_of["municipal"].items():
        out[f"muni__falls_{name}"] = per_person(
            muni & (e["code"] == "FALL") & win(w), "count"
        ).fillna(0)
        out[f"muni__nursing_visits_{name}"] = per_person(
            muni & (e["code"] == "NURSING_SUL138") & win(w), "count"
        ).fillna(0)
    return pd.DataFrame(out, index=idx)


def _duck_subset(con: duckdb.DuckDBPyConnection, cohort, protocol) -> tuple[pd.DataFrame, float]:
    t = time.perf_counter()
    fs = build_features(con, cohort, protocol)
    took = time.perf_counter() - t
    return fs.design(["gp", "hospital", "municipal"]), took


def run(quick: bool = False, persons: int | None = None) -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    n = persons or (20_000 if quick else 1_000_000)
    peer_n = min(n, 20_000 if quick else 100_000)
    protocol = bench_protocol()
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="epi_bench_cohort_"))
    try:
        for size in dict.fromkeys([n, peer_n]):
            path = tmp / f"store_{size}.duckdb"
            t = time.perf_counter()
            events = make_store(path, size)
            made = time.perf_counter() - t
            con = duckdb.connect(str(path), read_only=True)
            t = time.perf_counter()
            cohort = build_cohort(con, protocol)
            t_cohort = time.perf_counter() - t
            X, t_feat = _duck_subset(con, cohort, protocol)
            total = t_cohort + t_feat
            rows.append(
                {
                    "what": "epi cohort + features (DuckDB)",
                    "persons": size,
                    "events": events,
                    "cohort": len(cohort.table),
                    "features": X.shape[1],
                    "cohort_s": round(t_cohort, 1),
                    "features_s": round(t_feat, 1),
                    "total_s": round(total, 1),
                    "target_s": TARGET_S if size >= 1_000_000 else "",
                    "store_build_s": round(made, 1),
                }
            )
            if size != peer_n:
                con.close()
                continue
            t = time.perf_counter()
            ev = con.execute("SELECT * FROM events").df()
            load = time.perf_counter() - t
            windows = {
                name: {k: tuple(v) for k, v in (spec.windows or {"1y": (-365, 0)}).items()}
                for name, spec in protocol.features.sets.items()
            }
            ctab = cohort.table.assign(index_date=pd.to_datetime(cohort.table["index_date"]))
            t = time.perf_counter()
            peer = pandas_features(ev, ctab, protocol.features.lookback_days, windows)
            t_peer = time.perf_counter() - t
            duck = X[peer.columns]
            equal = bool(
                np.allclose(duck.to_numpy(float), peer.to_numpy(float), equal_nan=True, atol=1e-9)
            )
            rows.append(
                {
                    "what": "pandas peer (same features, events in memory)",
                    "persons": size,
                    "events": events,
                    "cohort": len(peer),
                    "features": peer.shape[1],
                    "features_s": round(t_peer, 1),
                    "load_events_s": round(load, 1),
                    "ratio_pandas_over_duckdb": round(t_peer / t_feat, 2),
                    "values_equal": equal,
                }
            )
            con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python bench/bench_cohort.py [--quick] [--persons N]``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--persons", type=int, default=None)
    args = parser.parse_args(argv)
    for row in run(quick=args.quick, persons=args.persons):
        print(row)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
