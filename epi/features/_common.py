"""What every sector module shares: the windowed events, windows and the leakage guard.

A sector module never reads ``events`` directly. :func:`stage_events` copies
the sector's events of the look-back period into a temporary table, each row
with the person's ``index_date`` and ``days_before`` (whole days from the
event's date to the index date, >= 1 for anything before it), and
:func:`check_no_leakage` proves that nothing dated on or after the index date
got in before any feature is computed from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pandas as pd

from epi.cohort import add_days, code_list_sql, days_between, days_between_exact, lit
from epi.exceptions import LeakageError
from epi.protocol import CodeList, FeatureSetSpec

__all__ = [
    "COHORT_VIEW",
    "DEFAULT_WINDOWS",
    "EVENTS_VIEW",
    "SetContext",
    "check_no_leakage",
    "check_times_before_index",
    "code_pred",
    "fetch_per_person",
    "in_window_sql",
    "indicator_columns",
    "prestage_events",
    "stage_events",
]

#: Temporary table holding the cohort's (person_id, index_date).
COHORT_VIEW = "_epi_fx_cohort"
#: Count windows when the protocol gives none: the year before the index date.
DEFAULT_WINDOWS: dict[str, tuple[int, int]] = {"1y": (-365, 0)}


@dataclass(frozen=True)
class SetContext:
    """One feature set's resolved options, handed to its sector module."""

    name: str
    prefix: str
    spec: FeatureSetSpec
    lookback_days: int

    @property
    def windows(self) -> dict[str, tuple[int, int]]:
        """Count windows (name -> [start, end) days relative to the index date)."""
        return dict(self.spec.windows) if self.spec.windows else dict(DEFAULT_WINDOWS)

    @property
    def span(self) -> tuple[int, int]:
        """Earliest start and latest end (days) of everything this set reads."""
        starts = [-self.lookback_days] + [s for s, _ in self.windows.values()]
        ends = [0] + [e for _, e in self.windows.values()]
        return min(starts), max(ends)

    def option(self, key: str, default: float) -> float:
        """A numeric option of the set (``options:`` in the protocol)."""
        value = self.spec.options.get(key, default)
        return float(value)  # type: ignore[arg-type]


def fetch_per_person(con: duckdb.DuckDBPyConnection, sql: str, persons: pd.Index) -> pd.DataFrame:
    """Run a per-person aggregate and return it with one row per cohort person.

    ``sql`` yields a ``person_id`` column and at most one row per person; the
    cohort is left-joined to it in SQL and ordered as ``persons`` (the cohort's
    order), so no string-index alignment happens in pandas. Persons without
    rows get NULL (NaN) in every column.
    """
    frame = con.execute(
        f"SELECT a.*, c._ord AS _ord FROM {COHORT_VIEW} c LEFT JOIN ({sql}) a "
        "ON a.person_id = c._ord ORDER BY c._ord"
    ).df()
    if len(frame) != len(persons):
        raise LeakageError(
            f"per-person query returned {len(frame)} rows for {len(persons)} "
            "persons; an aggregate must give one row per person"
        )
    return frame.drop(columns=["person_id", "_ord"]).set_axis(persons, axis=0)


def in_window_sql(window: tuple[int, int], alias: str = "s") -> str:
    """Predicate on ``days_before`` for a half-open window [start, end) before the index."""
    start, end = window
    return f"({alias}.days_before <= {-start} AND {alias}.days_before > {-end})"


def indicator_columns(ctx: SetContext, defaults: dict[str, CodeList]) -> dict[str, CodeList]:
    """Named code lists of a set: the protocol's ``indicators`` (or the defaults) and
    its plain ``code_lists`` named after their first code."""
    named = dict(ctx.spec.indicators) if ctx.spec.indicators is not None else dict(defaults)
    for cl in ctx.spec.code_lists:
        named.setdefault(cl.codes[0].lower().replace(".", "_"), cl)
    return named


#: Temporary table of every needed sector's events in the union of the sets' spans.
EVENTS_VIEW = "_epi_fx_events"


def prestage_events(con: duckdb.DuckDBPyConnection, contexts: list[tuple[SetContext, str]]) -> None:
    """One pass over ``events``: the sectors' rows inside the union of the sets' spans.

    ``person_id`` is the person's row number in the cohort (an integer joins and
    groups far faster than the id string). Each row carries its ``index_date``,
    ``days_before`` and ``days_before_exact``; :func:`stage_events` then cuts each set's own span
    from this much smaller table instead of scanning ``events`` once per set.
    """
    start = min(ctx.span[0] for ctx, _ in contexts)
    end = max(ctx.span[1] for ctx, _ in contexts)
    sectors = ", ".join(lit(s) for s in sorted({sector for _, sector in contexts}))
    con.execute(f"DROP TABLE IF EXISTS {EVENTS_VIEW}")
    con.execute(
        f"""CREATE TEMP TABLE {EVENTS_VIEW} AS
        SELECT c._ord AS person_id, e.time, e.sector, e.vocabulary, e.code, e.value_num,
               e.value_text, e.ref, e.source, c.index_date,
               {days_between("e.time", "c.index_date")} AS days_before,
               {days_between_exact("e.time", "c.index_date")} AS days_before_exact
        FROM events e JOIN {COHORT_VIEW} c ON e.person_id = c.person_id
        WHERE e.sector IN ({sectors}) AND e.time >= {add_days("c.index_date", start)}
          AND e.time < {add_days("c.index_date", end)}"""
    )


@contextmanager
def stage_events(con: duckdb.DuckDBPyConnection, ctx: SetContext, sector: str) -> Iterator[str]:
    """A temporary table of the sector's events inside the set's span, guarded.

    Reads the pre-staged table of :func:`prestage_events` when it exists, else
    ``events`` joined to the cohort. Yields the table's name; it is dropped
    afterwards. Columns: person_id, time, sector, vocabulary, code, value_num,
    value_text, ref, source, index_date, days_before, days_before_exact
    (fractional, from the event's timestamp).

    Raises
    ------
    LeakageError
        If any staged event is dated on or after its person's index date.
    """
    start, end = ctx.span
    table = f"_epi_fx_{ctx.name}"
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"DROP VIEW IF EXISTS {table}")
    n = con.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [EVENTS_VIEW]
    ).fetchone()[0]
    kind = "TABLE"
    if n:
        # a view: re-filtering the pre-staged rows is cheaper than copying them
        source = f"SELECT * FROM {EVENTS_VIEW} e"
        kind = "VIEW"
    else:
        source = (
            "SELECT c._ord AS person_id, e.time, e.sector, e.vocabulary, e.code, e.value_num, "
            f"e.value_text, e.ref, e.source, c.index_date, "
            f"{days_between('e.time', 'c.index_date')} AS days_before, "
            f"{days_between_exact('e.time', 'c.index_date')} AS days_before_exact "
            f"FROM events e JOIN {COHORT_VIEW} c ON e.person_id = c.person_id"
        )
    con.execute(
        f"""CREATE TEMP {kind} {table} AS SELECT * FROM ({source}) q
        WHERE q.sector = {lit(sector)} AND q.time >= {add_days("q.index_date", start)}
          AND q.time < {add_days("q.index_date", end)}"""
    )
    try:
        check_no_leakage(con, table, ctx.name)
        yield table
    finally:
        con.execute(f"DROP {kind} IF EXISTS {table}")


def check_no_leakage(con: duckdb.DuckDBPyConnection, table: str, where: str) -> None:
    """Raise unless every row of ``table`` is dated before its ``index_date``.

    Raises
    ------
    LeakageError
        Naming the feature set, the number of rows and persons, and the first person.
    """
    n, persons, first = con.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT t.person_id), MIN(c.person_id) FROM {table} t "
        f"JOIN {COHORT_VIEW} c ON c._ord = t.person_id WHERE t.time >= t.index_date"
    ).fetchone()
    if n:
        raise LeakageError(
            f"feature set '{where}': {n} event(s) of {persons} person(s) (first: {first}) are "
            "dated on or after the index date and would enter a feature. Features may only "
            "use days before the index date; check the set's windows (end_days <= 0)."
        )


def check_times_before_index(latest: pd.Series, index_date: pd.Series, where: str) -> None:
    """Raise if a person's latest source time is on or after their index date.

    Raises
    ------
    LeakageError
        Naming the set, how many persons and the first one.
    """
    aligned = pd.to_datetime(latest).reindex(index_date.index)
    bad = aligned.notna() & (aligned >= index_date)
    if bad.any():
        first = bad[bad].index[0]
        raise LeakageError(
            f"feature set '{where}': {int(bad.sum())} person(s) (first: {first}, source time "
            f"{aligned[first]}, index date {index_date[first].date()}) have information dated "
            "on or after the index date. Derive the set from data before the index date only."
        )


def code_pred(code_list: CodeList) -> str:
    """:func:`epi.cohort.code_list_sql` on a staged table (already one sector, no alias)."""
    return code_list_sql(code_list, alias="s")
