"""Protocol outcomes rebuilt from the output tables, as a cohort builder would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

INDEX = pd.Timestamp("2023-01-01")


def aalen_johansen(duration: np.ndarray, event: np.ndarray, horizon: float) -> float:
    """Cumulative incidence of event 1 at ``horizon`` with competing event 2."""
    order = np.argsort(duration, kind="stable")
    d, e = duration[order], event[order]
    at_risk = d.size
    surv = 1.0
    cif = 0.0
    for t in np.unique(d[d <= horizon]):
        here = d == t
        d1 = int(((e == 1) & here).sum())
        d2 = int(((e == 2) & here).sum())
        cif += surv * d1 / at_risk
        surv *= 1 - (d1 + d2) / at_risk
        at_risk -= int(here.sum())
    return cif


def acute_admission_cohort(folder: Path) -> pd.DataFrame:
    """Protocol A: 65+ resident on 2023-01-01; first acute admission (ATA1, >= 12 h)."""
    risk = pd.read_parquet(folder / "truth" / "risk.parquet")
    persons = pd.read_parquet(folder / "persons.parquet").set_index("person_id")
    res = pd.read_parquet(folder / "residence.parquet")
    elig = risk[risk.acute_admission_365d.notna()].set_index("person_id")
    hc = pd.read_parquet(folder / "hosp_contacts.parquet")
    adm = hc[
        (hc.priority == "ATA1")
        & (hc.end_time - hc.start_time >= pd.Timedelta(hours=12))
        & (hc.start_time >= INDEX)
    ]
    first = adm.groupby("person_id").start_time.min()
    end = INDEX + pd.Timedelta(days=365)
    # censoring: end of the residence period covering the index date
    r = res[
        (res.start_date <= INDEX.date()) & (res.end_date.isna() | (res.end_date >= INDEX.date()))
    ]
    res_end = pd.to_datetime(r.set_index("person_id").end_date) + pd.Timedelta(days=1)
    out = pd.DataFrame(index=elig.index)
    out["risk"] = elig.acute_admission_365d
    t_event = first.reindex(out.index)
    t_death = pd.to_datetime(persons.death_date.reindex(out.index))
    t_cens = res_end.reindex(out.index).fillna(pd.Timestamp("2025-01-01"))
    t_cens = t_cens.where(t_cens < end, end)
    times = pd.concat([t_event, t_death, t_cens], axis=1, keys=["ev", "death", "cens"])
    first_t = times.min(axis=1)
    event = np.where(times.ev == first_t, 1, np.where(times.death == first_t, 2, 0))
    event = np.where(first_t >= end, 0, event)
    out["duration"] = (
        (first_t.where(first_t < end, end) - INDEX).dt.total_seconds() / 86400
    ).to_numpy()
    out["event"] = event
    return out
