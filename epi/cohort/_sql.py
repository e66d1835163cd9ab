"""SQL fragments shared by the cohort and feature definitions.

The definitions stay in standard SQL (joins, CTEs, window functions,
``CASE``); the few places where engines differ — date arithmetic — are
written here once, so a Spark backend needs to replace only these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb

from epi.exceptions import CohortError
from epi.protocol import CodeList

__all__ = [
    "add_days",
    "code_list_sql",
    "days_between",
    "days_between_exact",
    "lit",
    "store_vocabularies",
    "table_exists",
]


def lit(value: object) -> str:
    """A SQL literal for a string, number, bool, date or None."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def days_between(start: str, end: str) -> str:
    """Whole days from date expression ``start`` to ``end`` (``end - start``)."""
    return f"date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))"


def days_between_exact(start: str, end: str) -> str:
    """Fractional days from timestamp expression ``start`` to ``end`` (to the second)."""
    return f"date_diff('second', CAST({start} AS TIMESTAMP), CAST({end} AS TIMESTAMP)) / 86400.0"


def add_days(date: str, days: int | str) -> str:
    """Date expression ``date`` plus ``days`` (an int or an integer SQL expression)."""
    if isinstance(days, int):
        return f"CAST(CAST({date} AS DATE) + INTERVAL '{days}' DAY AS DATE)"
    return f"CAST(CAST({date} AS DATE) + CAST({days} AS INTEGER) * INTERVAL '1' DAY AS DATE)"


def _prefix(column: str, code: str) -> str:
    if "_" in code or "%" in code or "\\" in code:
        escaped = code.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
        return f"{column} LIKE {lit(escaped + '%')} ESCAPE '\\'"
    return f"{column} LIKE {lit(code + '%')}"


def code_list_sql(code_list: CodeList, alias: str = "e") -> str:
    """Predicate matching events of ``alias`` that a code list names (codes are prefixes)."""
    codes = " OR ".join(_prefix(f"{alias}.code", c) for c in code_list.codes)
    return (
        f"({alias}.sector = {lit(code_list.sector)} AND {alias}.vocabulary = "
        f"{lit(code_list.vocabulary)} AND ({codes}))"
    )


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view ``name`` exists on the connection."""
    n = con.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()[0]
    return bool(n)


def store_vocabularies(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """The (sector, vocabulary) pairs that have events in the store."""
    rows = con.execute("SELECT DISTINCT sector, vocabulary FROM events").fetchall()
    return {(s, v) for s, v in rows}


def check_code_lists_in_store(
    present: set[tuple[str, str]], code_lists: Iterable[CodeList], where: str
) -> None:
    """Raise if a code list names a (sector, vocabulary) with no events in the store.

    Raises
    ------
    CohortError
        Naming the protocol key, the sector and vocabulary, and what the store holds.
    """
    for cl in code_lists:
        if (cl.sector, cl.vocabulary) not in present:
            held = ", ".join(f"{s}/{v}" for s, v in sorted(present)) or "nothing"
            raise CohortError(
                f"{where}: the code list {cl.sector}/{cl.vocabulary} {cl.codes[:5]} names a "
                f"vocabulary that has no {cl.sector} events in this data (the store holds: "
                f"{held}). Check the code list's sector and vocabulary, or load the table "
                "that carries these codes."
            )
