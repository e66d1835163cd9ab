"""Hospital features (LPR3 contacts, diagnoses and procedures).

Columns (prefix ``hosp__``), all from contacts that started before the index date:

* ``acute_admissions_<w>`` / ``planned_admissions_<w>``: contacts of at least
  12 hours (Danmarks Statistik's admission rule [S10]) with priority ATA1 /
  ATA3 in each count window.
* ``outpatient_contacts_<w>``: contacts shorter than 12 hours.
* ``bed_days_<w>``: days in hospital on admissions in the window, **truncated at
  the index date** (an admission still running then contributes only its days
  before it).
* ``days_since_admission``: days from the start of the last admission; the
  look-back length when there was none.
* ``<indicator>``: 1 if an SKS code of the list (diagnosis of any type, or
  procedure) was recorded in the look-back on a contact that **ended before the
  index date**: LPR3 dates a diagnosis to its contact's start, but it may be
  given at discharge, so diagnoses of a contact still open at the index date
  are not used.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from epi.features._common import (
    SetContext,
    code_pred,
    fetch_per_person,
    in_window_sql,
    indicator_columns,
    stage_events,
)
from epi.protocol import CodeList
from epi.protocol._models import ADMISSION_MIN_DAYS

__all__ = ["DEFAULT_INDICATORS", "hospital_features"]


def _sks(*codes: str) -> CodeList:
    return CodeList(sector="hospital", vocabulary="SKS", codes=list(codes))


#: Diagnosis groups as SKS prefixes (ICD-10 with a D, DANISH_DATA §1 [S7]).
DEFAULT_INDICATORS: dict[str, CodeList] = {
    "heart_failure": _sks("DI50"),
    "atrial_fibrillation": _sks("DI48"),
    "diabetes": _sks("DE10", "DE11", "DE13", "DE14"),
    "copd": _sks("DJ44"),
    "ckd": _sks("DN18"),
    "dementia": _sks("DF00", "DF01", "DF02", "DF03", "DG30"),
    "pneumonia": _sks("DJ12", "DJ13", "DJ14", "DJ15", "DJ16", "DJ17", "DJ18"),
    "uti": _sks("DN390"),
    "injury": _sks("DS"),
    "fall_tendency": _sks("DR296"),
}


def hospital_features(
    con: duckdb.DuckDBPyConnection, ctx: SetContext, persons: pd.Index
) -> pd.DataFrame:
    """Hospital feature block for ``persons`` (see the module docstring for the columns).

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
    adm = f"s.value_num >= {ADMISSION_MIN_DAYS}"
    with stage_events(con, ctx, "hospital") as t:
        contact = "s.source = 'hosp_contacts'"
        cols: list[str] = []
        for name, w in ctx.windows.items():
            inw = in_window_sql(w)
            cols += [
                f"SUM(CASE WHEN {contact} AND s.code = 'ATA1' AND {adm} AND {inw} THEN 1 ELSE 0 "
                f"END) AS {p}acute_admissions_{name}",
                f"SUM(CASE WHEN {contact} AND s.code = 'ATA3' AND {adm} AND {inw} THEN 1 ELSE 0 "
                f"END) AS {p}planned_admissions_{name}",
                f"SUM(CASE WHEN {contact} AND s.value_num < {ADMISSION_MIN_DAYS} AND {inw} "
                f"THEN 1 ELSE 0 END) AS {p}outpatient_contacts_{name}",
                f"SUM(CASE WHEN {contact} AND {adm} AND {inw} THEN LEAST(s.value_num, "
                f"s.days_before_exact) ELSE 0 END) AS {p}bed_days_{name}",
            ]
        cols.append(
            f"MIN(CASE WHEN {contact} AND {adm} AND {in_window_sql((-lb, 0))} "
            f"THEN s.days_before END) AS {p}days_since_admission"
        )
        main = fetch_per_person(
            con, f"SELECT s.person_id, {', '.join(cols)} FROM {t} s GROUP BY s.person_id", persons
        )
        if indicators:
            # codes on contacts that ended before the index date (or with no contact)
            ind_cols = ", ".join(
                f"MAX(CASE WHEN {code_pred(cl)} THEN 1 ELSE 0 END) AS {p}{name}"
                for name, cl in indicators.items()
            )
            ind = fetch_per_person(
                con,
                f"""SELECT s.person_id, {ind_cols}
                FROM {t} s LEFT JOIN {t} c ON c.person_id = s.person_id AND c.ref = s.ref
                     AND c.source = 'hosp_contacts'
                WHERE s.vocabulary = 'SKS' AND {in_window_sql((-lb, 0))}
                  AND (c.person_id IS NULL OR c.value_num < c.days_before_exact)
                GROUP BY s.person_id""",
                persons,
            )
            main = pd.concat([main, ind], axis=1)
    out = main
    since = f"{p}days_since_admission"
    for col in out.columns:
        if col == since:
            out[col] = out[col].fillna(lb).astype(float)
        elif col.startswith(f"{p}bed_days_"):
            out[col] = out[col].fillna(0.0).astype(float)
        else:
            out[col] = out[col].fillna(0).astype(np.int64)
    out.index.name = "person_id"
    return out
