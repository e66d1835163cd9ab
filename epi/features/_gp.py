"""General-practice features: contacts, ICPC-2 diagnoses, labs and active drugs.

Columns (prefix ``gp__``), all from events before the index date:

* ``contacts_<w>``: billed GP services (ydelser) in each count window.
* ``days_since_contact``: days from the last service to the index date; the
  look-back length when there was none in it.
* ``<indicator>``: 1 if any ICPC-2 code of the indicator's list in the look-back.
* ``lab_<name>_{last,mean,slope,n,missing}``: the lab's last value, mean, trend
  (least-squares slope per year; needs results spanning at least option
  ``lab_slope_min_days``, default 90 days, else missing), number of results
  and a 0/1 flag for no result in the look-back. Text results such as ">90"
  (eGFR) count as their number. Last/mean/slope are missing (NaN) without data:
  the protocol's ``missing`` strategy handles them. Option ``lab_stats`` keeps a
  subset of the five statistics.
* ``drug_<class>``: 1 if a dispensing of the class (ATC prefixes) covers the index
  date: dispensed ``days_before`` <= days supply + grace (option
  ``drug_grace_days``, default 30).
* ``n_drugs``: distinct active ATC substances; ``polypharmacy``: ``n_drugs`` >=
  option ``polypharmacy_min`` (default 5).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from epi.cohort import lit
from epi.exceptions import CohortError
from epi.features._common import (
    SetContext,
    code_pred,
    fetch_per_person,
    in_window_sql,
    indicator_columns,
    stage_events,
)
from epi.protocol import CodeList

__all__ = ["DEFAULT_DRUG_CLASSES", "DEFAULT_INDICATORS", "DEFAULT_LABS", "gp_features"]


def _icpc(*codes: str) -> CodeList:
    return CodeList(sector="gp", vocabulary="ICPC2", codes=list(codes))


#: Chronic conditions as coded in general practice (ICPC-2-DK, DANISH_DATA §2 [S7]).
DEFAULT_INDICATORS: dict[str, CodeList] = {
    "hypertension": _icpc("K86", "K87"),
    "diabetes": _icpc("T90"),
    "atrial_fibrillation": _icpc("K78"),
    "copd": _icpc("R95"),
    "ckd": _icpc("U99"),
    "heart_failure": _icpc("K77"),
    "dementia": _icpc("P70"),
}
#: NPU/DNK codes per analysis (DANISH_DATA §3 [S19-S26]).
DEFAULT_LABS: dict[str, list[str]] = {
    "hba1c": ["NPU27300"],
    "egfr": ["DNK35302"],
    "creatinine": ["NPU18016", "NPU04998"],
    "probnp": ["NPU21571", "NPU26811"],
    "ldl": ["NPU01568"],
    "haemoglobin": ["NPU02319"],
}
#: ATC prefixes per drug class (DANISH_DATA §4 [S27]).
DEFAULT_DRUG_CLASSES: dict[str, list[str]] = {
    "loop_diuretic": ["C03C"],
    "raas_inhibitor": ["C09"],
    "beta_blocker": ["C07"],
    "anticoagulant": ["B01AA", "B01AE", "B01AF"],
    "glucose_lowering": ["A10"],
    "statin": ["C10AA"],
    "copd_inhaler": ["R03"],
    "opioid": ["N02A"],
    "hypnotic": ["N05BA", "N05CD", "N05CF"],
    "antidepressant": ["N06A"],
}
_LAB_STATS = ("last", "mean", "slope", "n", "missing")


def gp_features(con: duckdb.DuckDBPyConnection, ctx: SetContext, persons: pd.Index) -> pd.DataFrame:
    """GP feature block for ``persons`` (see the module docstring for the columns).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Event store with the cohort registered (``_epi_fx_cohort``).
    ctx : SetContext
        The set's options.
    persons : pandas.Index
        The cohort's person ids; the result has exactly this index.

    Returns
    -------
    pandas.DataFrame
    """
    p, lb = ctx.prefix, ctx.lookback_days
    indicators = indicator_columns(ctx, DEFAULT_INDICATORS)
    labs = ctx.spec.labs if ctx.spec.labs is not None else DEFAULT_LABS
    drugs = ctx.spec.drug_classes if ctx.spec.drug_classes is not None else DEFAULT_DRUG_CLASSES
    grace = ctx.option("drug_grace_days", 30)
    poly = ctx.option("polypharmacy_min", 5)
    in_lb = in_window_sql((-lb, 0))
    with stage_events(con, ctx, "gp") as t:
        cols = [
            f"SUM(CASE WHEN s.vocabulary = 'YDELSE' AND {in_window_sql(w)} THEN 1 ELSE 0 END) "
            f"AS {p}contacts_{name}"
            for name, w in ctx.windows.items()
        ]
        cols.append(
            f"MIN(CASE WHEN s.vocabulary = 'YDELSE' AND {in_lb} THEN days_before END) "
            f"AS {p}days_since_contact"
        )
        cols += [
            f"MAX(CASE WHEN {code_pred(cl)} AND {in_lb} THEN 1 ELSE 0 END) AS {p}{name}"
            for name, cl in indicators.items()
        ]
        active = f"(s.vocabulary = 'ATC' AND days_before <= COALESCE(s.value_num, 90) + {grace})"
        for name, prefixes in drugs.items():
            cl = CodeList(sector="gp", vocabulary="ATC", codes=prefixes)
            cols.append(
                f"MAX(CASE WHEN {code_pred(cl)} AND {active} THEN 1 ELSE 0 END) AS {p}drug_{name}"
            )
        cols.append(f"COUNT(DISTINCT CASE WHEN {active} THEN s.code END) AS {p}n_drugs")
        out = fetch_per_person(
            con, f"SELECT s.person_id, {', '.join(cols)} FROM {t} s GROUP BY s.person_id", persons
        )
        slope_days = int(ctx.option("lab_slope_min_days", 90))
        lab_frame = _labs(con, t, labs, lb, p, slope_days, persons) if labs else None
    counts = [c for c in out.columns if c != f"{p}days_since_contact"]
    out[counts] = out[counts].fillna(0).astype(np.int64)
    out[f"{p}days_since_contact"] = out[f"{p}days_since_contact"].fillna(lb).astype(float)
    out[f"{p}polypharmacy"] = (out[f"{p}n_drugs"] >= poly).astype(np.int64)
    if lab_frame is not None:
        for name in labs:
            n = f"{p}lab_{name}_n"
            lab_frame[n] = lab_frame[n].fillna(0).astype(np.int64)
            lab_frame[f"{p}lab_{name}_missing"] = (lab_frame[n] == 0).astype(np.int64)
        keep = _lab_stats(ctx)
        lab_frame = lab_frame[[f"{p}lab_{n}_{s}" for n in labs for s in _LAB_STATS if s in keep]]
        out = pd.concat([out, lab_frame], axis=1)
    out.index.name = "person_id"
    return out


def _lab_stats(ctx: SetContext) -> list[str]:
    """The lab statistics the set keeps (option ``lab_stats``, default all)."""
    value = ctx.spec.options.get("lab_stats", list(_LAB_STATS))
    stats = [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]
    unknown = sorted(set(stats) - set(_LAB_STATS))
    if unknown:
        raise CohortError(
            f"features.sets.{ctx.name}.options.lab_stats: unknown {unknown}; "
            f"choose from {list(_LAB_STATS)}"
        )
    return stats


def _labs(
    con: duckdb.DuckDBPyConnection,
    table: str,
    labs: dict[str, list[str]],
    lookback: int,
    p: str,
    slope_min_days: int,
    persons: pd.Index,
) -> pd.DataFrame:
    """Last, mean, slope per year and count of each lab in the look-back, one row a person."""
    name_of = " ".join(
        f"WHEN s.code IN ({', '.join(lit(c) for c in codes)}) THEN {lit(name)}"
        for name, codes in labs.items()
    )
    all_codes = ", ".join(lit(c) for codes in labs.values() for c in codes)
    value = "COALESCE(s.value_num, TRY_CAST(REGEXP_REPLACE(s.value_text, '[<>=]', '') AS DOUBLE))"
    wide = ", ".join(
        f"MAX(CASE WHEN lab = {lit(name)} THEN {stat} END) AS {p}lab_{name}_{stat}"
        for name in labs
        for stat in ("last", "mean", "slope", "n")
    )
    sql = f"""WITH l AS (
            SELECT s.person_id, CASE {name_of} END AS lab, {value} AS v, s.days_before, s.time
            FROM {table} s
            WHERE s.vocabulary = 'NPU' AND s.code IN ({all_codes}) AND s.days_before <= {lookback}
        ), r AS (
            SELECT l.*, ROW_NUMBER() OVER (PARTITION BY person_id, lab
                                           ORDER BY time DESC, v DESC) AS rn
            FROM l WHERE v IS NOT NULL
        ), g AS (
            SELECT person_id, lab, MAX(CASE WHEN rn = 1 THEN v END) AS last, AVG(v) AS mean,
                   CASE WHEN MAX(days_before) - MIN(days_before) >= {slope_min_days}
                        THEN REGR_SLOPE(v, -days_before / 365.25) END AS slope,
                   COUNT(*) AS n
            FROM r GROUP BY person_id, lab
        )
        SELECT person_id, {wide} FROM g GROUP BY person_id"""
    out = fetch_per_person(con, sql, persons)
    return out.astype(float)
