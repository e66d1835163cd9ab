"""Build the study cohort: index date, eligibility, exclusions, outcome, attrition.

Definitions (each also stated in the docstring of :func:`build_cohort`):

* **Time** is counted in whole days from the index date (day 0). Events carry a
  timestamp, but deaths, diagnoses and residence are dated to the day, so every
  comparison is made on dates.
* **Before the index date** means strictly before day 0. Exclusions and
  features see only that; an event *on* the index date belongs to follow-up.
* **Outcome** is the first qualifying event on day 0 or later. An outcome on
  day 0 gets ``duration = 0.5`` (it happened during the first day; durations
  must be positive), an outcome on day *k* >= 1 gets ``duration = k``. With
  ``outcome.index_day_counts: false`` outcomes on day 0 are ignored (follow-up
  for the outcome starts on day 1), for index events whose own hospital
  contact could carry the outcome.
* **Alive** means alive at the start of follow-up: day 0, so a death on the
  index date is a competing event with ``duration = 0.5``; or day 1 with
  ``index_day_counts: false``.
* **Age** is in completed years: a person whose 65th birthday is the index
  date is 65.
* **Competing death**: death on day *k* ends follow-up with ``event = 2``
  unless the outcome happened on the same day or earlier: death on the same
  day as the outcome counts as the outcome (``event = 1``).
* **Look-back** (``min_lookback_days``) needs continuous residence *and* event
  data (``cohort.start_of_data``, default the earliest event) for that many
  days before the index date.
* **Censoring** (``event = 0``) at the earliest of the horizon
  (``outcome.horizon_days``; an outcome after it is censored at the horizon),
  the end of data (``cohort.end_of_data``) and emigration: the last day of the
  residence period that covers the index date (a gap in ``residence`` is time
  outside the region) or the day before ``persons.emigration_date``. A person
  who left and came back *before* the index date is eligible when resident at
  the index date and the look-back rules hold.
* **Admission** (hospital outcome with ``admission_only``): a contact of at least
  12 hours (Danmarks Statistik's LPR3 rule, DANISH_DATA §1 [S10]); a
  diagnosis joins its contact through ``ref`` (the contact id) and is dated to
  the contact's start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from epi.cohort._sql import (
    add_days,
    check_code_lists_in_store,
    code_list_sql,
    days_between,
    lit,
    store_vocabularies,
    table_exists,
)
from epi.exceptions import CohortError
from epi.io import atomic_write_parquet, atomic_write_text
from epi.protocol import CodeList, Protocol
from epi.protocol._models import ADMISSION_MIN_DAYS

__all__ = ["COHORT_COLUMNS", "Cohort", "build_cohort"]

#: Columns of :attr:`Cohort.table` (indexed by ``person_id``).
COHORT_COLUMNS = [
    "index_date",
    "duration",
    "event",
    "practice_id",
    "municipality_code",
    "age",
    "age_completed",
    "sex",
    "index_year",
]
#: An island of residence or registration with no end date.
_OPEN_END = dt.date(9999, 12, 31)
#: Same-day events get this duration (days) so that every duration is positive.
SAME_DAY_DURATION = 0.5
#: Home care: 4 complete weeks before the index date (week starts in [-34, -7]).
_CARE_WEEKS = 4


@dataclass(frozen=True)
class Cohort:
    """The study cohort: one row per person and the attrition log.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by ``person_id`` with ``index_date`` (datetime64), ``duration``
        (days, float > 0), ``event`` (0 censored, 1 outcome, 2 competing death),
        ``practice_id``, ``municipality_code``, ``age`` (exact years at the index
        date), ``sex`` ("F"/"M") and ``index_year``.
    attrition : pandas.DataFrame
        One row after every restriction: ``step``, ``description``, ``persons``,
        ``excluded`` and ``outcomes`` (persons left with ``event == 1``); the
        first row counts every person in the data.
    horizon_days : int
        The outcome horizon.
    """

    table: pd.DataFrame
    attrition: pd.DataFrame
    horizon_days: int

    @property
    def outcome(self) -> pd.DataFrame:
        """The outcome object of ``docs/CONTRACTS.md``: ``duration`` and ``event``."""
        return self.table[["duration", "event"]]

    def summary(self) -> dict[str, float | int]:
        """Counts for logs and reports: persons, events by type, median follow-up."""
        ev = self.table["event"]
        return {
            "persons": len(self.table),
            "outcomes": int((ev == 1).sum()),
            "competing_deaths": int((ev == 2).sum()),
            "censored": int((ev == 0).sum()),
            "outcome_percent": round(100.0 * float((ev == 1).mean()), 2),
            "median_followup_days": float(self.table["duration"].median()),
            "horizon_days": self.horizon_days,
        }

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``cohort.parquet``, ``attrition.parquet`` and ``attrition.csv`` atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [
            atomic_write_parquet(folder / "cohort.parquet", self.table.reset_index()),
            atomic_write_parquet(folder / "attrition.parquet", self.attrition),
            atomic_write_text(folder / "attrition.csv", self.attrition.to_csv(index=False)),
        ]


def _index_sql(protocol: Protocol) -> str:
    """SELECT person_id, index_date, in_window — one row per person with an index date."""
    spec = protocol.cohort.index
    end = protocol.cohort.end_of_data
    if spec.window is not None:
        in_window = f"(index_date >= {lit(spec.window[0])} AND index_date <= {lit(spec.window[1])})"
    else:
        in_window = f"(index_date < {lit(end)})"
    if spec.type == "fixed_date":
        return f"SELECT person_id, {lit(spec.date)} AS index_date, TRUE AS in_window FROM persons"
    if spec.type == "first_event":
        pred = " OR ".join(code_list_sql(cl) for cl in spec.code_lists)
        inner = (
            "SELECT e.person_id, CAST(MIN(e.time) AS DATE) AS index_date FROM events e "
            f"WHERE {pred} GROUP BY e.person_id"
        )
    else:  # age_reached
        age = float(spec.age or 0)
        years, extra = int(age), round((age - int(age)) * 365.25)
        date = f"CAST(birth_date + INTERVAL '{years}' YEAR AS DATE)"
        inner = f"SELECT person_id, {add_days(date, extra)} AS index_date FROM persons"
    return f"SELECT person_id, index_date, {in_window} AS in_window FROM ({inner}) q"


def _islands_sql(table: str, covering_col: str) -> str:
    """Per person in ``_epi_idx``: start of the continuous run of periods covering the index.

    Periods that touch or overlap (next start - 1 day <= previous end) join one
    island, so a move between municipalities or practices does not break it.
    Returns person_id, isl_start, isl_end and the covering period's ``covering_col``.
    """
    return f"""
    WITH p AS (
        SELECT t.person_id, t.start_date, COALESCE(t.end_date, {lit(_OPEN_END)}) AS end_date,
               t.{covering_col} AS val
        FROM {table} t JOIN _epi_idx i ON t.person_id = i.person_id
    ), o AS (
        SELECT p.*, MAX(end_date) OVER (PARTITION BY person_id ORDER BY start_date
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
        FROM p
    ), g AS (
        SELECT o.*, SUM(CASE WHEN prev_end IS NULL OR {add_days("start_date", -1)} > prev_end
                        THEN 1 ELSE 0 END)
               OVER (PARTITION BY person_id ORDER BY start_date ROWS UNBOUNDED PRECEDING) AS isl
        FROM o
    ), isl AS (
        SELECT person_id, isl, MIN(start_date) AS isl_start, MAX(end_date) AS isl_end
        FROM g GROUP BY person_id, isl
    ), cov AS (
        SELECT g.person_id, g.val, ROW_NUMBER() OVER (PARTITION BY g.person_id
               ORDER BY g.start_date DESC) AS rn
        FROM g JOIN _epi_idx i ON g.person_id = i.person_id
        WHERE g.start_date <= i.index_date AND g.end_date >= i.index_date
    )
    SELECT s.person_id, s.isl_start, s.isl_end, c.val
    FROM isl s JOIN _epi_idx i ON s.person_id = i.person_id
    JOIN cov c ON c.person_id = s.person_id AND c.rn = 1
    WHERE s.isl_start <= i.index_date AND s.isl_end >= i.index_date
    """


def _before_index_sql(code_lists: list[CodeList], window_days: int | None) -> str:
    """Persons in ``_epi_idx`` with a code of the lists before the index date."""
    pred = " OR ".join(code_list_sql(cl) for cl in code_lists)
    lower = f" AND e.time >= {add_days('i.index_date', -window_days)}" if window_days else ""
    return (
        "SELECT DISTINCT e.person_id FROM events e JOIN _epi_idx i ON e.person_id = i.person_id "
        f"WHERE ({pred}) AND e.time < i.index_date{lower}"
    )


def outcome_events_sql(protocol: Protocol, from_date: str = "i.index_date") -> str:
    """SELECT person_id, d (event date) of every qualifying outcome event on/after index.

    Hospital code lists honour ``admission_only`` (stay >= 12 h), ``acute_only``
    (priority ATA1) and ``diagnosis_types`` by joining each hospital event to its
    contact (``source = 'hosp_contacts'``) on ``ref``; the event is dated to the
    contact's start.
    """
    spec = protocol.outcome
    parts: list[str] = []
    for cl in spec.code_lists:
        needs_contact = cl.sector == "hospital" and (
            spec.admission_only or spec.acute_only or spec.diagnosis_types
        )
        if not needs_contact:
            parts.append(
                "SELECT e.person_id, CAST(e.time AS DATE) AS d FROM events e "
                "JOIN _epi_idx i ON e.person_id = i.person_id "
                f"WHERE {code_list_sql(cl)} AND e.time >= {from_date}"
            )
            continue
        conds = [code_list_sql(cl), f"c.time >= {from_date}"]
        if spec.admission_only:
            conds.append(f"c.value_num >= {ADMISSION_MIN_DAYS}")
        if spec.acute_only:
            conds.append("c.code = 'ATA1'")
        if spec.diagnosis_types:
            types = ", ".join(lit(t) for t in spec.diagnosis_types)
            conds.append(f"(e.source <> 'hosp_diagnoses' OR e.value_text IN ({types}))")
        parts.append(
            "SELECT e.person_id, CAST(c.time AS DATE) AS d FROM events e "
            "JOIN _epi_idx i ON e.person_id = i.person_id "
            "JOIN events c ON c.person_id = e.person_id AND c.ref = e.ref "
            "AND c.source = 'hosp_contacts' "
            f"WHERE {' AND '.join(conds)}"
        )
    return " UNION ALL ".join(parts)


def _check_store(con: duckdb.DuckDBPyConnection, protocol: Protocol) -> None:
    for table in ("persons", "events"):
        if not table_exists(con, table):
            raise CohortError(
                f"the event store has no '{table}' table; build it with "
                "epi.data.build_event_store first."
            )
    elig = protocol.cohort.eligibility
    needs = {
        "residence": elig.resident or elig.min_lookback_days > 0,
        "gp_registrations": elig.gp_registered_days > 0,
    }
    for table, needed in needs.items():
        if needed and not table_exists(con, table):
            raise CohortError(
                f"the eligibility rules need the '{table}' table, which the data do not have; "
                "add it, or relax cohort.eligibility (resident/min_lookback_days/"
                "gp_registered_days)."
            )
    if not protocol.outcome.code_lists:
        raise CohortError("outcome.code_lists is empty; the protocol must define the outcome.")
    present = store_vocabularies(con)
    spec = protocol.cohort.index
    if spec.type == "first_event":
        check_code_lists_in_store(present, spec.code_lists, "cohort.index.code_lists")
    check_code_lists_in_store(present, protocol.outcome.code_lists, "outcome.code_lists")
    for ex in protocol.cohort.exclusions:
        check_code_lists_in_store(present, ex.code_lists, f"cohort.exclusions '{ex.name}'")


def _base_frame(con: duckdb.DuckDBPyConnection, protocol: Protocol) -> pd.DataFrame:
    """One row per person with an index date: everything the restrictions need."""
    elig = protocol.cohort.eligibility
    has_res = table_exists(con, "residence")
    has_reg = table_exists(con, "gp_registrations")
    con.execute("DROP TABLE IF EXISTS _epi_idx")
    con.execute(f"CREATE TEMP TABLE _epi_idx AS {_index_sql(protocol)}")
    start = "i.index_date" if protocol.outcome.index_day_counts else add_days("i.index_date", 1)
    ctes = [
        f"out AS (SELECT person_id, MIN(d) AS d FROM ({outcome_events_sql(protocol, start)}) "
        "u GROUP BY person_id)"
    ]
    joins = ["LEFT JOIN out ON out.person_id = i.person_id"]
    cols = [f"{days_between('i.index_date', 'out.d')} AS outcome_rel"]
    if has_res:
        ctes.append(f"res AS ({_islands_sql('residence', 'municipality_code')})")
        joins.append("LEFT JOIN res ON res.person_id = i.person_id")
        cols += [
            f"{days_between('i.index_date', 'res.isl_start')} AS res_start_rel",
            f"CASE WHEN res.isl_end < {lit(_OPEN_END)} THEN "
            f"{days_between('i.index_date', 'res.isl_end')} END AS res_end_rel",
            "res.val AS muni_at",
        ]
    else:
        cols += ["NULL AS res_start_rel", "NULL AS res_end_rel", "NULL AS muni_at"]
    if has_reg:
        ctes.append(f"reg AS ({_islands_sql('gp_registrations', 'practice_id')})")
        joins.append("LEFT JOIN reg ON reg.person_id = i.person_id")
        cols += [
            f"{days_between('i.index_date', 'reg.isl_start')} AS reg_start_rel",
            "reg.val AS practice_at",
        ]
    else:
        cols += ["NULL AS reg_start_rel", "NULL AS practice_at"]
    if elig.home_dwelling:
        ctes.append(
            "care AS (SELECT e.person_id, SUM(e.value_num) / "
            f"{float(_CARE_WEEKS)} AS hours FROM events e "
            "JOIN _epi_idx i ON e.person_id = i.person_id "
            "WHERE e.sector = 'municipal' AND e.vocabulary = 'MUNI' "
            "AND e.code IN ('HOMECARE_PERSONAL', 'HOMECARE_PRACTICAL') "
            f"AND e.time >= {add_days('i.index_date', -(7 * _CARE_WEEKS + 6))} "
            f"AND e.time <= {add_days('i.index_date', -7)} GROUP BY e.person_id)"
        )
        joins.append("LEFT JOIN care ON care.person_id = i.person_id")
        cols.append("COALESCE(care.hours, 0.0) AS care_hours")
    for k, ex in enumerate(protocol.cohort.exclusions):
        ctes.append(f"ex{k} AS ({_before_index_sql(ex.code_lists, ex.window_days)})")
        joins.append(f"LEFT JOIN ex{k} ON ex{k}.person_id = i.person_id")
        cols.append(f"(ex{k}.person_id IS NOT NULL) AS ex{k}")
    completed_age = (
        "(EXTRACT(YEAR FROM i.index_date) - EXTRACT(YEAR FROM p.birth_date) - CASE WHEN "
        "EXTRACT(MONTH FROM i.index_date) * 100 + EXTRACT(DAY FROM i.index_date) < "
        "EXTRACT(MONTH FROM p.birth_date) * 100 + EXTRACT(DAY FROM p.birth_date) "
        "THEN 1 ELSE 0 END)"
    )
    start = protocol.cohort.start_of_data
    data_start = lit(start) if start else "(SELECT CAST(MIN(time) AS DATE) FROM events)"
    sql = f"""
    WITH {", ".join(ctes)}
    SELECT i.person_id, i.index_date, i.in_window, p.sex,
           {days_between("i.index_date", data_start)} AS data_start_rel,
           p.municipality_code AS muni_entry, p.practice_id AS practice_entry,
           {days_between("i.index_date", "p.birth_date")} AS birth_rel,
           {days_between("i.index_date", "p.death_date")} AS death_rel,
           {days_between("i.index_date", "p.emigration_date")} AS emig_rel,
           {days_between("p.birth_date", "i.index_date")} / 365.25 AS age,
           {completed_age} AS age_completed,
           {", ".join(cols)}
    FROM _epi_idx i JOIN persons p ON p.person_id = i.person_id
    {" ".join(joins)}
    ORDER BY i.person_id
    """
    try:
        frame = con.execute(sql).df()
    finally:
        con.execute("DROP TABLE IF EXISTS _epi_idx")
    return frame.set_index("person_id")


def _outcome(frame: pd.DataFrame, protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:
    """Duration (days) and event code per row of the base frame."""
    horizon = float(protocol.outcome.horizon_days)
    index_days = frame["index_date"].to_numpy("datetime64[D]")
    end_rel = (np.datetime64(protocol.cohort.end_of_data) - index_days).astype(float)
    t_out = frame["outcome_rel"].to_numpy(float)
    t_death = frame["death_rel"].to_numpy(float)
    res_end = frame["res_end_rel"].to_numpy(float)
    emig = frame["emig_rel"].to_numpy(float) - 1.0  # last day in the country
    # A residence period that ends on (or the day before) death is not an emigration.
    res_exit = np.where(np.isnan(t_death) | (res_end + 1.0 < t_death), res_end, np.nan)
    exit_ = np.fmin(res_exit, np.where(emig >= 0, emig, np.nan))
    t_cens = np.fmin(np.fmin(np.full(len(frame), horizon), end_rel), exit_)
    t_stop = np.fmin(t_death, t_cens)  # NaN-aware: death or censoring, whichever first
    is_out = ~np.isnan(t_out) & (t_out <= t_stop)
    dies = ~is_out & ~np.isnan(t_death) & (t_death <= t_cens)
    event = np.where(is_out, 1, np.where(dies & protocol.outcome.competing_death, 2, 0))
    duration = np.where(is_out, t_out, np.where(dies, t_death, t_cens))
    duration = np.where(duration <= 0, SAME_DAY_DURATION, duration)
    return duration.astype(float), event.astype(np.int64)


def _restrictions(frame: pd.DataFrame, protocol: Protocol) -> list[tuple[str, str, np.ndarray]]:
    """(step, description, keep-mask) for every restriction, in protocol order."""
    spec, elig = protocol.cohort.index, protocol.cohort.eligibility
    steps: list[tuple[str, str, np.ndarray]] = []
    true = np.ones(len(frame), dtype=bool)
    if spec.type == "first_event":
        lists = "; ".join(f"{c.sector} {c.vocabulary} {','.join(c.codes)}" for c in spec.code_lists)
        steps.append(("index_event", f"has a qualifying index event ({lists})", true))
    elif spec.type == "age_reached":
        steps.append(("index_age", f"reaches age {spec.age:g} (index date)", true))
    if spec.window is not None or spec.type != "fixed_date":
        where = (
            f"in {spec.window[0]}..{spec.window[1]}"
            if spec.window
            else f"before end of data {protocol.cohort.end_of_data}"
        )
        steps.append(("index_window", f"index date {where}", frame["in_window"].to_numpy(bool)))
    death = frame["death_rel"].to_numpy(float)
    first_day = 0 if protocol.outcome.index_day_counts else 1
    alive = (frame["birth_rel"].to_numpy(float) <= 0) & (np.isnan(death) | (death >= first_day))
    when = "the index date" if first_day == 0 else "the day after the index date"
    steps.append(("alive", f"alive at the start of follow-up ({when})", alive))
    age = frame["age_completed"].to_numpy(float)
    steps.append(
        (
            "age",
            f"aged {elig.age_min:g}-{elig.age_max:g} years at the index date",
            (age >= elig.age_min) & (age <= elig.age_max),
        )
    )
    res_start = frame["res_start_rel"].to_numpy(float)
    emig = frame["emig_rel"].to_numpy(float)
    if elig.resident:
        resident = ~np.isnan(res_start) & (np.isnan(emig) | (emig > 0))
        steps.append(("resident", "resident in the region on the index date", resident))
    if elig.min_lookback_days > 0:
        lb = elig.min_lookback_days
        covered = frame["data_start_rel"].to_numpy(float) <= -lb
        steps.append(
            (
                "lookback",
                f"resident continuously and data for >= {lb} days before "
                "the index date (look-back)",
                (res_start <= -lb) & covered,
            )
        )
    if elig.gp_registered_days > 0:
        reg = frame["reg_start_rel"].to_numpy(float)
        steps.append(
            (
                "gp_registered",
                f"listed with a GP practice continuously >= "
                f"{elig.gp_registered_days} days up to the index date",
                reg <= -elig.gp_registered_days,
            )
        )
    if elig.home_dwelling:
        steps.append(
            (
                "home_dwelling",
                "home-dwelling: visited home care < "
                f"{elig.nursing_home_care_hours:g} h/week over the 4 complete weeks "
                "before the index date (proxy for not living in a care home)",
                frame["care_hours"].to_numpy(float) < elig.nursing_home_care_hours,
            )
        )
    for k, ex in enumerate(protocol.cohort.exclusions):
        window = f"in the {ex.window_days} days" if ex.window_days else "at any time"
        steps.append(
            (
                f"exclude_{ex.name}",
                f"no {ex.name} {window} before the index date",
                ~frame[f"ex{k}"].to_numpy(bool),
            )
        )
    return steps


def build_cohort(con: duckdb.DuckDBPyConnection, protocol: Protocol) -> Cohort:
    """Build the cohort and outcome the protocol defines, with its attrition log.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to an event store (``epi.data.build_event_store``); read-only
        is fine (only temporary tables are created and dropped).
    protocol : Protocol
        Reads ``cohort`` and ``outcome``.

    Returns
    -------
    Cohort

    Raises
    ------
    CohortError
        If a needed table is missing, a code list names a sector/vocabulary with
        no events in the store, a restriction removes everyone (the error names
        it), or the cohort has no outcome events.

    Notes
    -----
    Restrictions apply in this order, each logged as one attrition row: index
    event, index window, alive, age (completed years), resident, look-back
    (continuous residence), GP listing, home-dwelling, then the protocol's
    exclusions. See the module docstring for the time conventions (same-day
    events, death on the outcome day, emigration and return).
    """
    _check_store(con, protocol)
    n_all = con.execute("SELECT COUNT(*) FROM persons").fetchone()[0]
    frame = _base_frame(con, protocol)
    duration, event = _outcome(frame, protocol)
    rows = [
        {
            "step": "all_persons",
            "description": "persons in the data",
            "persons": n_all,
            "outcomes": int((event == 1).sum()),
        }
    ]
    keep = np.ones(len(frame), dtype=bool)
    for name, description, mask in _restrictions(frame, protocol):
        before = int(keep.sum())
        keep &= mask
        left = int(keep.sum())
        rows.append(
            {
                "step": name,
                "description": description,
                "persons": left,
                "outcomes": int((event[keep] == 1).sum()),
            }
        )
        if left == 0:
            raise CohortError(
                f"the restriction '{name}' ({description}) removed all {before} remaining "
                f"persons; the cohort is empty. Check cohort.{_section_of(name)} in the "
                "protocol against the data (attrition so far: "
                + ", ".join(f"{r['step']}={r['persons']}" for r in rows)
                + ")."
            )
    attrition = pd.DataFrame(rows)
    attrition["excluded"] = (-attrition["persons"].diff()).fillna(0).astype(np.int64)
    attrition = attrition[["step", "description", "persons", "excluded", "outcomes"]]
    sub = frame.loc[keep]
    table = pd.DataFrame(
        {
            "index_date": pd.to_datetime(sub["index_date"]).astype("datetime64[ns]"),
            "duration": duration[keep],
            "event": event[keep],
            "practice_id": sub["practice_at"].fillna(sub["practice_entry"]).astype(str),
            "municipality_code": sub["muni_at"].fillna(sub["muni_entry"]).astype(str),
            "age": sub["age"].astype(float),
            # completed years, as eligibility counts them (age_min 65 keeps 64.9993-year-olds
            # whose 65th birthday is the index date); subgroups use it too
            "age_completed": sub["age_completed"].astype(np.int64),
            "sex": sub["sex"].astype(str),
        },
        index=sub.index,
    )
    table["index_year"] = table["index_date"].dt.year.astype(np.int64)
    table.index.name = "person_id"
    if int((table["event"] == 1).sum()) == 0:
        raise CohortError(
            f"the cohort of {len(table)} persons has no outcome events "
            f"('{protocol.outcome.name}' within {protocol.outcome.horizon_days} days); no model "
            "can be fitted. Check outcome.code_lists (sector, vocabulary, codes), "
            "admission_only/acute_only/diagnosis_types and the horizon against the data."
        )
    return Cohort(
        table=table[COHORT_COLUMNS], attrition=attrition, horizon_days=protocol.outcome.horizon_days
    )


def _section_of(step: str) -> str:
    if step.startswith("exclude_"):
        return "exclusions"
    if step.startswith("index"):
        return "index"
    return "eligibility"
