"""Read input tables, check them against their specs, and build the event store.

Everything happens inside DuckDB so that a million persons and a hundred
million events fit on a laptop: each file is staged as-is, cast column by
column with ``TRY_CAST``/``TRY_STRPTIME`` (a value that does not parse becomes
a flagged row, never a silent NULL), and every rule of the spec is one SQL
predicate. The SQL is plain enough to port to Spark.

The event store (one DuckDB file per run) holds
``persons``, ``residence``, ``gp_registrations``, ``gp_practices``,
``events`` (person_id, time, sector, vocabulary, code, value_num, value_text,
ref, source) and ``notes`` (note_id, person_id, time, sector, note_type, text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from epi.data._specs import (
    ColumnSpec,
    DaysBetween,
    Literal_,
    TableSpec,
    ValueSource,
    load_specs,
    load_vocabularies,
)
from epi.exceptions import DataError

__all__ = ["LoadReport", "TableReport", "build_event_store", "find_table_file"]

POPULATION_TABLES = ("persons", "residence", "gp_registrations", "gp_practices")
SECTOR_OF_NOTES = {"notes_gp": "gp", "notes_hospital": "hospital", "notes_municipal": "municipal"}
SHOW = 5  # bad values shown in an error message

EVENTS_DDL = """
CREATE TABLE events (
    person_id VARCHAR NOT NULL, time TIMESTAMP NOT NULL, sector VARCHAR NOT NULL,
    vocabulary VARCHAR NOT NULL, code VARCHAR NOT NULL, value_num DOUBLE,
    value_text VARCHAR, ref VARCHAR, source VARCHAR NOT NULL)
"""
NOTES_DDL = """
CREATE TABLE notes (
    note_id VARCHAR NOT NULL, person_id VARCHAR NOT NULL, time TIMESTAMP NOT NULL,
    sector VARCHAR NOT NULL, note_type VARCHAR, text VARCHAR)
"""


@dataclass
class TableReport:
    """What happened to one input table."""

    table: str
    file: str | None
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    first_date: str | None = None
    last_date: str | None = None

    @property
    def present(self) -> bool:
        """Whether the table's file was found."""
        return self.file is not None


@dataclass
class LoadReport:
    """Per-table reports of one load, in load order."""

    tables: list[TableReport]

    @property
    def dropped_rows(self) -> int:
        """Rows dropped across all tables (``on_invalid: drop``)."""
        return sum(sum(t.dropped.values()) for t in self.tables)

    def as_dict(self) -> dict[str, dict[str, object]]:
        """JSON-ready form for the run's artefacts."""
        return {
            t.table: {
                "file": t.file,
                "rows_read": t.rows_read,
                "rows_kept": t.rows_kept,
                "dropped": dict(t.dropped),
                "first_date": t.first_date,
                "last_date": t.last_date,
            }
            for t in self.tables
        }


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def find_table_file(folder: Path, table: str) -> Path | None:
    """The parquet or CSV file holding ``table`` in ``folder``, or None.

    Raises
    ------
    DataError
        If both a parquet and a CSV file exist for the table.
    """
    found = [
        folder / f"{table}{ext}"
        for ext in (".parquet", ".csv", ".csv.gz")
        if (folder / f"{table}{ext}").is_file()
    ]
    if len(found) > 1:
        raise DataError(
            f"{folder}: table '{table}' is given twice ({', '.join(p.name for p in found)}); "
            "keep one file per table."
        )
    return found[0] if found else None


def _stage(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute("DROP TABLE IF EXISTS raw")
    if path.suffix == ".parquet":
        con.execute("CREATE TEMP TABLE raw AS SELECT * FROM read_parquet(?)", [str(path)])
    else:
        # all_varchar: every value is parsed by the spec's rules below, not guessed
        con.execute(
            "CREATE TEMP TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
            [str(path)],
        )


def _typed_expr(col: ColumnSpec, raw_type: str) -> str:
    """SQL casting the staged column to the spec type; NULL where it does not parse."""
    c = _q(col.name)
    is_text = raw_type.upper().startswith("VARCHAR")
    text = f"NULLIF(TRIM(CAST({c} AS VARCHAR)), '')"
    if col.type == "string":
        return text
    if col.type in ("integer", "float"):
        num = (
            f"TRY_CAST(REPLACE({text}, ',', '.') AS DOUBLE)"
            if is_text
            else f"TRY_CAST({c} AS DOUBLE)"
        )
        if col.type == "float":
            return num
        return f"CASE WHEN {num} = FLOOR({num}) THEN CAST({num} AS BIGINT) END"
    if col.type == "boolean":
        return f"TRY_CAST({text} AS BOOLEAN)" if is_text else f"TRY_CAST({c} AS BOOLEAN)"
    if col.type == "date":
        if is_text:
            return f"CAST(TRY_STRPTIME({text}, '%Y-%m-%d') AS DATE)"
        return f"TRY_CAST({c} AS DATE)"
    # datetime
    if is_text:
        fmts = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        return f"TRY_STRPTIME({text}, [{', '.join(_lit(f) for f in fmts)}])"
    return f"TRY_CAST({c} AS TIMESTAMP)"


_EXPECTED_FORMAT = {
    "date": "a date YYYY-MM-DD",
    "datetime": "a time YYYY-MM-DD HH:MM:SS",
    "integer": "a whole number",
    "float": "a number",
    "boolean": "true/false",
}


def _rules(
    spec: TableSpec, vocab_patterns: dict[str, str], loaded: set[str]
) -> list[tuple[str, str, str]]:
    """(column, description, SQL predicate that is TRUE for a bad row) for every rule."""
    rules: list[tuple[str, str, str]] = []
    for col in spec.columns:
        c, raw = _q(col.name), _q(col.name + "__raw")
        if col.type != "string":
            rules.append(
                (
                    col.name,
                    f"is not {_EXPECTED_FORMAT[col.type]}",
                    f"{raw} IS NOT NULL AND {c} IS NULL",
                )
            )
        if not col.nullable:
            rules.append((col.name, "is empty but required", f"{raw} IS NULL"))
        patterns = [col.pattern] if col.pattern else []
        if col.vocabulary:
            patterns.append(vocab_patterns[col.vocabulary])
        for pattern in patterns:
            what = (
                f"does not fit the {col.vocabulary} code pattern {pattern}"
                if pattern == vocab_patterns.get(col.vocabulary or "")
                else f"does not match {pattern}"
            )
            rules.append(
                (col.name, what, f"{c} IS NOT NULL AND NOT regexp_full_match({c}, {_lit(pattern)})")
            )
        if col.allowed is not None:
            values = ", ".join(_lit(v) for v in col.allowed)
            rules.append(
                (
                    col.name,
                    f"is not one of {col.allowed}",
                    f"{c} IS NOT NULL AND {c} NOT IN ({values})",
                )
            )
        for bound, op in ((col.min, "<"), (col.max, ">")):
            if bound is not None:
                word = "below the minimum" if op == "<" else "above the maximum"
                value = f"DATE {_lit(bound)}" if col.type in ("date", "datetime") else _lit(bound)
                rules.append((col.name, f"is {word} {bound}", f"{c} {op} {value}"))
        if col.references:
            table, column = col.references.split(".")
            if table != spec.table and table in loaded:
                rules.append(
                    (
                        col.name,
                        f"has no match in {table}.{column}",
                        f"{c} IS NOT NULL AND {c} NOT IN "
                        f"(SELECT {_q(column)} FROM {_q('chk_' + table)})",
                    )
                )
    key = ", ".join(_q(k) for k in spec.primary_key)
    rules.append(
        (
            "/".join(spec.primary_key),
            "is a duplicate key",
            f"({key}) IN (SELECT ({key}) FROM t GROUP BY {key} HAVING COUNT(*) > 1)",
        )
    )
    if spec.person_dates and "persons" in loaded and spec.table != "persons":
        same_person = "WHERE p.person_id = t.person_id"
        for name in spec.person_dates:
            d = f"CAST({_q(name)} AS DATE)"
            rules.append(
                (
                    name,
                    "is before the person's birth",
                    f"{d} < (SELECT p.birth_date FROM chk_persons p {same_person})",
                )
            )
            rules.append(
                (
                    name,
                    "is after the person's death",
                    f"{d} > (SELECT p.death_date FROM chk_persons p {same_person})",
                )
            )
    return rules


def _check_table(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    path: Path,
    on_invalid: Literal["error", "drop"],
    vocab_patterns: dict[str, str],
    loaded: set[str],
) -> TableReport:
    report = TableReport(spec.table, str(path))
    try:
        _stage(con, path)
    except duckdb.Error as exc:
        raise DataError(f"{path}: cannot read table '{spec.table}' ({exc}).") from exc
    raw_cols = {r[0]: r[1] for r in con.execute("DESCRIBE raw").fetchall()}
    missing = [c for c in spec.column_names if c not in raw_cols]
    extra = [c for c in raw_cols if c not in spec.column_names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if extra:
            parts.append(f"unexpected column(s) {extra}")
        raise DataError(
            f"{path} (table {spec.table}): {' and '.join(parts)}. Expected exactly: "
            f"{spec.column_names} (see data_specs/{spec.table}.yaml)."
        )
    report.rows_read = con.execute("SELECT COUNT(*) FROM raw").fetchone()[0]
    if report.rows_read == 0:
        raise DataError(
            f"{path} (table {spec.table}): the table has no rows. Remove the file if this "
            "source has no data for the study, or export it again."
        )
    select = ", ".join(
        f"{_typed_expr(c, raw_cols[c.name])} AS {_q(c.name)}, "
        f"NULLIF(TRIM(CAST({_q(c.name)} AS VARCHAR)), '') AS {_q(c.name + '__raw')}"
        for c in spec.columns
    )
    con.execute("DROP TABLE IF EXISTS t")
    con.execute(f"CREATE TEMP TABLE t AS SELECT row_number() OVER () AS _row, {select} FROM raw")
    con.execute("DROP TABLE raw")
    problems: list[str] = []
    bad_any: list[str] = []
    for column, what, predicate in _rules(spec, vocab_patterns, loaded):
        raw_col = column if column in spec.column_names else spec.primary_key[0]
        n, examples = con.execute(
            f"""SELECT COUNT(*), list(v ORDER BY _row)[1:{SHOW}] FROM (
                SELECT _row, {_q(raw_col + "__raw")} AS v FROM t WHERE {predicate})"""
        ).fetchone()
        if n:
            shown = ", ".join(repr(v) for v in examples)
            problems.append(f"column '{column}': {n} row(s) {what}; first: {shown}")
            report.dropped[f"{column} {what}"] = n
            bad_any.append(f"({predicate})")
    if problems and on_invalid == "error":
        raise DataError(
            f"{path} (table {spec.table}, {report.rows_read} rows) does not match its spec "
            f"data_specs/{spec.table}.yaml:\n  - "
            + "\n  - ".join(problems)
            + "\nFix the file, or set 'data.on_invalid: drop' in the protocol to drop these "
            "rows and report the counts."
        )
    if bad_any:
        con.execute(f"DELETE FROM t WHERE {' OR '.join(bad_any)}")
    report.rows_kept = con.execute("SELECT COUNT(*) FROM t").fetchone()[0]
    if report.rows_kept == 0:
        raise DataError(
            f"{path} (table {spec.table}): every row was invalid and dropped; nothing is left."
        )
    if spec.person_dates:
        d = f"CAST({_q(spec.person_dates[0])} AS DATE)"
        first, last = con.execute(f"SELECT MIN({d}), MAX({d}) FROM t").fetchone()
        report.first_date, report.last_date = str(first), str(last)
    cols = ", ".join(_q(c) for c in spec.column_names)
    con.execute(f"CREATE TEMP TABLE {_q('chk_' + spec.table)} AS SELECT {cols} FROM t")
    con.execute("DROP TABLE t")
    return report


def _value_sql(source: ValueSource | None, as_text: bool) -> str:
    if source is None:
        return "NULL"
    if isinstance(source, Literal_):
        return _lit(source.literal)
    if isinstance(source, DaysBetween):
        a, b = (_q(x) for x in source.days_between)
        return f"date_diff('second', CAST({a} AS TIMESTAMP), CAST({b} AS TIMESTAMP)) / 86400.0"
    expr = _q(source)
    return f"CAST({expr} AS VARCHAR)" if as_text else f"CAST({expr} AS DOUBLE)"


def _publish(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """Move a checked table into the event store's tables."""
    chk = _q("chk_" + spec.table)
    if spec.table in POPULATION_TABLES:
        con.execute(f"CREATE TABLE {_q(spec.table)} AS SELECT * FROM {chk}")
    sector = spec.sector
    for m in spec.events:
        ref = f"CAST({_q(m.ref)} AS VARCHAR)" if m.ref else "NULL"
        con.execute(
            f"""INSERT INTO events SELECT person_id, CAST({_q(m.time)} AS TIMESTAMP),
                {_lit(sector)}, {_lit(m.vocabulary)}, {_value_sql(m.code, True)},
                {_value_sql(m.value_num, False)}, {_value_sql(m.value_text, True)}, {ref},
                {_lit(spec.table)} FROM {chk}"""
        )
    if spec.notes:
        n = spec.notes
        con.execute(
            f"""INSERT INTO notes SELECT note_id, person_id, CAST({_q(n.time)} AS TIMESTAMP),
                {_lit(SECTOR_OF_NOTES.get(spec.table, sector))}, {_q(n.note_type)}, {_q(n.text)}
                FROM {chk}"""
        )


def build_event_store(
    source: str | Path,
    db_path: str | Path,
    *,
    on_invalid: Literal["error", "drop"] = "error",
    specs: dict[str, TableSpec] | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Check every table in ``source`` against its spec and write the event store.

    Parameters
    ----------
    source : path
        Folder with one parquet or CSV file per table, named as in ``data_specs/``.
        Tables other than ``persons`` may be absent (a study with GP data only).
    db_path : path
        DuckDB file to create. It must not exist yet (runs never overwrite).
    on_invalid : {"error", "drop"}
        Stop at the first table that breaks its spec, or drop the bad rows and
        count them per rule in the report.
    specs : dict, optional
        Table specs; defaults to :func:`epi.data.load_specs`.
    progress : callable, optional
        Called with a short message per table.

    Returns
    -------
    LoadReport

    Raises
    ------
    DataError
        Naming the file, table, column, number of bad rows and the first bad values.
    """
    folder = Path(source)
    if not folder.is_dir():
        raise DataError(
            f"data folder not found: {folder}. Point 'data.path' in the protocol at the folder "
            "holding one parquet or CSV file per table (names as in data_specs/)."
        )
    specs = specs or load_specs()
    db_path = Path(db_path)
    if db_path.exists():
        raise DataError(f"{db_path} already exists; epi never overwrites an event store.")
    vocab_patterns = {name: v.pattern for name, v in load_vocabularies().items()}
    files = {name: find_table_file(folder, name) for name in specs}
    if files.get("persons") is None:
        raise DataError(
            f"{folder}: no persons table (persons.parquet or persons.csv); every study needs one."
        )
    tmp = db_path.with_name(db_path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    reports: list[TableReport] = []
    con = duckdb.connect(str(tmp))
    con.execute("SET enable_progress_bar = false")  # epi reports progress itself
    try:
        con.execute(EVENTS_DDL)
        con.execute(NOTES_DDL)
        loaded: set[str] = set()
        for name, spec in specs.items():
            path = files[name]
            if path is None:
                reports.append(TableReport(name, None))
                continue
            if progress:
                progress(f"checking {path.name}")
            reports.append(_check_table(con, spec, path, on_invalid, vocab_patterns, loaded))
            loaded.add(name)
            _publish(con, spec)
        for name in loaded:
            con.execute(f"DROP TABLE {_q('chk_' + name)}")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    tmp.replace(db_path)
    return LoadReport(reports)
