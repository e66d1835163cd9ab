"""``epi check`` and ``epi run``: the protocol-driven pipeline.

A run lives in ``runs/<study-id>/<UTC timestamp>/``. It is built in a hidden
``.<timestamp>.partial`` folder and renamed into place when every stage has
finished, so an interrupted run leaves no half-written run folder and never
touches an earlier one. Every artefact carries the protocol fingerprint.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from pydantic import BaseModel

from epi._cores import usable_cores
from epi._progress import Progress
from epi.bundle import (
    Attrition,
    CohortSummary,
    DataReport,
    Missingness,
    NLPSummary,
    ProtocolRecord,
    RunRecord,
    Table1,
)
from epi.data import (
    build_event_store,
    data_fingerprint,
    find_table_file,
    load_vocabularies,
    read_analysis_table,
)
from epi.disclosure import bundle_count
from epi.exceptions import ProtocolError
from epi.protocol import (
    AnalysisTableSource,
    CodeList,
    LockStatus,
    Protocol,
    check_lock,
    load_protocol,
)
from epi.protocol._registry import canonical
from epi.study._analysis import analyse, arms_of
from epi.study._context import RunContext, versions

if TYPE_CHECKING:
    from epi.cohort import Cohort
    from epi.features import FeatureSets

__all__ = ["check", "check_code_lists", "check_models", "describe_index", "run"]


def _quiet(_: str) -> None:
    return None


def iter_code_lists(node: Any, path: str = "") -> Iterator[tuple[str, CodeList]]:
    """Every code list in a protocol with its key path."""
    if isinstance(node, CodeList):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from iter_code_lists(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from iter_code_lists(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from iter_code_lists(item, f"{path}.{key}")


def check_code_lists(protocol: Protocol, file: str | Path) -> int:
    """Check that every code list names a known vocabulary and codes that could fit it.

    Returns
    -------
    int
        The number of code lists checked.

    Raises
    ------
    ProtocolError
        Naming the key path, the unknown vocabulary and the known ones.
    """
    vocabularies = load_vocabularies()
    n = 0
    for path, code_list in iter_code_lists(protocol):
        n += 1
        if code_list.vocabulary not in vocabularies:
            raise ProtocolError(
                f"{file}: '{path}.vocabulary': unknown code vocabulary "
                f"'{code_list.vocabulary}'. Known vocabularies: {', '.join(vocabularies)} "
                "(data_specs/_vocabularies.yaml)."
            )
    return n


def check_models(protocol: Protocol, file: str | Path) -> None:
    """Build every model of the protocol unfitted, so a bad kind or parameter fails now.

    Raises
    ------
    ProtocolError
        Naming ``models[i]`` and the model's own complaint (allowed kinds or parameters).
    """
    from epi.exceptions import ModelError
    from epi.models import make_model

    for i, spec in enumerate(protocol.models):
        try:
            make_model(spec.kind, **spec.params)
        except (ModelError, TypeError, ValueError) as exc:
            raise ProtocolError(f"{file}: 'models[{i}]' ({spec.name}): {exc}") from exc


def _prepare(protocol_path: str | Path) -> tuple[Protocol, LockStatus]:
    protocol = load_protocol(protocol_path)
    lock = check_lock(protocol, protocol_path)
    check_code_lists(protocol, protocol_path)
    check_models(protocol, protocol_path)
    return protocol, lock


def check(protocol_path: str | Path, progress: Progress | None = None) -> list[str]:
    """Validate a protocol (and its data, for ``source: tables``); return a summary.

    Raises
    ------
    EpiError
        On the first problem, naming file, key path or table and column.
    """
    progress = progress or _quiet
    protocol, lock = _prepare(protocol_path)
    lines = [
        f"protocol {protocol_path}: valid (study '{protocol.study.id}', fingerprint "
        f"{lock.fingerprint[:12]}…)",
        "registration: "
        + (
            f"locked {lock.locked_at}; amended sections: {list(lock.changed_sections) or 'none'}"
            if lock.locked
            else "not locked (run `epi protocol lock` to register it)"
        ),
        f"data: {protocol.data.source}",
    ]
    if protocol.data.source == "tables":
        import tempfile

        with tempfile.TemporaryDirectory(prefix="epi-check-") as tmp:
            report = build_event_store(
                Path(protocol.data.path),
                Path(tmp) / "check.duckdb",
                on_invalid=protocol.data.on_invalid,
                progress=progress,
            )
        for t in report.tables:
            state = f"{t.rows_kept} of {t.rows_read} rows valid" if t.present else "absent"
            lines.append(f"  {t.table}: {state}")
    return lines


def _run_dir(out_root: Path, study_id: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = out_root / study_id
    candidate, k = base / stamp, 1
    while candidate.exists() or (base / f".{candidate.name}.partial").exists():
        k += 1
        candidate = base / f"{stamp}-{k}"
    return candidate


def _stage_data(ctx: RunContext) -> Path:
    """Produce the folder of input tables (synthetic data is generated into the run)."""
    data = ctx.protocol.data
    if data.source == "synthetic":
        from epi.data.synth import generate

        with ctx.timed("synthetic data"):
            return generate(
                data.persons,
                data.seed,
                ctx.work_dir / "data",
                progress=ctx.progress,
                workers=ctx.workers,
            )
    return Path(data.path)


def describe_index(protocol: Protocol) -> str:
    """The index-date rule in words, for the report's abstract and methods."""
    index = protocol.cohort.index
    if index.type == "fixed_date":
        text = f"fixed index date {index.date}"
    elif index.type == "age_reached":
        text = f"the day age {index.age:g} was reached"
    else:
        lists = "; ".join(
            f"{c.vocabulary} {', '.join(c.codes)} ({c.sector})" for c in index.code_lists
        )
        text = f"first qualifying event: {lists}"
    if index.window:
        text += f", between {index.window[0]} and {index.window[1]}"
    return text


def _stage_cohort(ctx: RunContext, con: duckdb.DuckDBPyConnection) -> Cohort:
    from epi.cohort import build_cohort

    with ctx.timed("cohort"):
        cohort = build_cohort(con, ctx.protocol)
        cohort.write(ctx.work_dir / "cohort")
        summary = cohort.summary()
        ctx.write(
            Attrition, steps=cohort.attrition.replace({np.nan: None}).to_dict(orient="records")
        )
        follow = cohort.table["duration"]
        ctx.write(
            CohortSummary,
            n=summary["persons"],
            events={
                "outcome": summary["outcomes"],
                "competing": summary["competing_deaths"],
                "censored": summary["censored"],
            },
            horizon_days=cohort.horizon_days,
            n_practices=int(cohort.table["practice_id"].nunique()),
            n_municipalities=int(cohort.table["municipality_code"].nunique()),
            follow_up_days={
                "median": float(follow.median()),
                "q1": float(follow.quantile(0.25)),
                "q3": float(follow.quantile(0.75)),
            },
            index=describe_index(ctx.protocol),
            code_lists={
                "outcome": [c.model_dump(mode="json") for c in ctx.protocol.outcome.code_lists],
                "index": [c.model_dump(mode="json") for c in ctx.protocol.cohort.index.code_lists],
                "exclusions": [e.model_dump(mode="json") for e in ctx.protocol.cohort.exclusions],
            },
        )
    ctx.progress(
        f"cohort: {summary['persons']} persons, {summary['outcomes']} outcomes "
        f"({summary['outcome_percent']} %)"
    )
    return cohort


def _stage_notes(
    ctx: RunContext, con: duckdb.DuckDBPyConnection, cohort: Cohort, features: FeatureSets
) -> None:
    """Note variables from the notes in each person's look-back window."""
    from epi.nlp import extract_mentions, note_variables

    spec = ctx.protocol.notes
    assert spec is not None
    with ctx.timed("notes (NLP)"):
        index = cohort.table["index_date"]
        con.register("cohort_index", index.rename("index_date").reset_index())
        notes = con.execute(
            f"""SELECT n.note_id, n.person_id, n.time, n.sector, n.note_type, n.text
                FROM notes n JOIN cohort_index c ON n.person_id = c.person_id
                WHERE n.time < c.index_date
                  AND n.time >= c.index_date - INTERVAL {int(spec.lookback_days)} DAY"""
        ).df()
        con.unregister("cohort_index")
        mentions = extract_mentions(
            notes,
            pack=spec.pack,
            n_jobs=usable_cores(),
            max_failure_share=spec.max_failure_share,
        )
        variables = note_variables(mentions, index, spec.lookback_days, spec.concepts or None)
        latest = notes.groupby("person_id")["time"].max().reindex(index.index)
        features.add_set("notes", variables, latest_time=latest, sector="notes")
        summary = mentions.attrs.get("nlp_summary", {})
        affirmed = ~mentions[["negated", "uncertain", "hypothetical", "historical"]].any(axis=1)
        affirmed &= mentions["experiencer"].eq("patient")
        by_concept = (
            mentions.assign(affirmed=affirmed)
            .groupby("concept")
            .agg(
                mentions=("concept", "size"),
                affirmed=("affirmed", "sum"),
                negated=("negated", "sum"),
                uncertain=("uncertain", "sum"),
                hypothetical=("hypothetical", "sum"),
                historical=("historical", "sum"),
                family=("experiencer", lambda s: int((s == "family").sum())),
            )
            .reset_index()
        )
        # every count of the exportable bundle is masked below the minimum cell size
        min_cell = ctx.protocol.report.min_cell_size
        counts = [c for c in by_concept.columns if c != "concept"]
        ctx.write(
            NLPSummary,
            pack=spec.pack,
            lookback_days=spec.lookback_days,
            notes_by_sector={
                sector: bundle_count(int(n), min_cell)
                for sector, n in notes.groupby("sector").size().items()
            },
            processing={k: v for k, v in summary.items() if k != "pack"},
            mentions_by_concept=[
                {"concept": r["concept"], **{c: bundle_count(int(r[c]), min_cell) for c in counts}}
                for r in by_concept.to_dict(orient="records")
            ],
            variables=list(variables.columns),
        )
    ctx.progress(f"notes: {len(notes)} notes read, {len(mentions)} mentions")


def _stage_features(ctx: RunContext, con: duckdb.DuckDBPyConnection, cohort: Cohort) -> FeatureSets:
    from epi.features import build_features, make_table1, table1_groups

    with ctx.timed("features"):
        features = build_features(con, cohort, ctx.protocol)
    if ctx.protocol.notes is not None:
        _stage_notes(ctx, con, cohort, features)
    with ctx.timed("descriptives"):
        miss = features.missingness()
        ctx.write(
            Missingness,
            features=[
                {
                    "feature": r.feature,
                    "set": r.set,
                    "sector": r.sector,
                    "n_missing": int(r.missing),
                    "pct_missing": float(r.percent),
                }
                for r in miss.itertuples()
            ],
        )
        design = features.design(features.names)
        groups = table1_groups(cohort.table, design, cohort.horizon_days)
        ctx.write(
            Table1, **make_table1(cohort.table, design, groups, ctx.protocol.report.min_cell_size)
        )
    return features


def _run_registers(ctx: RunContext) -> str:
    """Tables → event store → cohort → features (and notes) → models; the data fingerprint."""
    source = _stage_data(ctx)
    with ctx.timed("event store"):
        report = build_event_store(
            source,
            ctx.work_dir / "store.duckdb",
            on_invalid=ctx.protocol.data.on_invalid,
            progress=ctx.progress,
        )
        inputs = [find_table_file(source, t.table) for t in report.tables if t.present]
        data_fp = data_fingerprint([p for p in inputs if p is not None])
    ctx.write(DataReport, tables=report.as_dict(), data_fingerprint=data_fp)
    con = duckdb.connect(str(ctx.work_dir / "store.duckdb"), read_only=True)
    try:
        cohort = _stage_cohort(ctx, con)
        features = _stage_features(ctx, con, cohort)
    finally:
        con.close()
    designs = arms_of(ctx.protocol, features)
    # models, validation and (with comparisons) the paired added-value bootstrap
    with ctx.timed("models and validation"):
        analyse(ctx, cohort.table, designs)
    return data_fp


def _run_analysis_table(ctx: RunContext) -> str:
    """Models and validation straight from one row per person (no cohort or features)."""
    d = ctx.protocol.data
    assert isinstance(d, AnalysisTableSource)
    with ctx.timed("analysis table"):
        table = read_analysis_table(
            d.path,
            time=d.time,
            event=d.event,
            predictors=d.predictors,
            id=d.id,
            time_unit_days=d.time_unit_days,
            on_invalid=d.on_invalid,
        )
        data_fp = data_fingerprint([Path(d.path)])
        ctx.write(
            DataReport,
            tables={
                "analysis_table": {
                    "file": d.path,
                    "rows_read": len(table.X) + sum(table.dropped.values()),
                    "rows_kept": len(table.X),
                    "dropped": table.dropped,
                }
            },
            data_fingerprint=data_fp,
        )
    with ctx.timed("models and validation"):
        analyse(ctx, table.outcome, {"predictors": (["predictors"], table.X)})
    return data_fp


def _stage_report(ctx: RunContext) -> None:
    from epi.report import build_report

    with ctx.timed("report"):
        outputs = build_report(ctx.work_dir, ctx.protocol.report.formats, progress=ctx.progress)
    ctx.artefacts["report"] = {k: str(v.relative_to(ctx.work_dir)) for k, v in outputs.items()}


def run(
    protocol_path: str | Path,
    out_root: str | Path = "runs",
    progress: Progress | None = None,
    *,
    workers: int = 1,
) -> Path:
    """Run every stage of a protocol and return the finished run folder.

    Parameters
    ----------
    protocol_path : path
        The study protocol (YAML).
    out_root : path
        Runs are written to ``out_root/<study-id>/<timestamp>/``.
    progress : callable, optional
        Receives one short message per step.
    workers : int
        Processes for generating synthetic data. More than one starts worker
        processes, so a calling script needs an ``if __name__ == "__main__":``
        guard (the ``epi`` command has one).

    Raises
    ------
    EpiError
        On bad input; no run folder is left behind.
    """
    progress = progress or _quiet
    protocol_path = Path(protocol_path)
    protocol, lock = _prepare(protocol_path)
    if protocol.data.source == "analysis_table" and protocol.comparisons is not None:
        raise ProtocolError(
            f"{protocol_path}: 'comparisons' unions feature sets, which an analysis table "
            "does not have (its predictors form one arm); remove the comparisons section."
        )
    final = _run_dir(Path(out_root), protocol.study.id)
    work = final.parent / f".{final.name}.partial"
    work.mkdir(parents=True)
    ctx = RunContext(protocol, protocol_path, lock, work, progress, workers=workers)
    try:
        started = time.perf_counter()
        ctx.write(ProtocolRecord, protocol=canonical(protocol), lock=lock.as_dict())
        if protocol.data.source == "analysis_table":
            data_fp = _run_analysis_table(ctx)
        else:
            data_fp = _run_registers(ctx)
        # run.json is written before the report (which reads it) and again after,
        # so that it also records the report's own run time
        ctx.timings["total"] = round(time.perf_counter() - started, 3)
        _write_manifest(ctx, data_fp)
        _stage_report(ctx)
        ctx.timings["total"] = round(time.perf_counter() - started, 3)
        _write_manifest(ctx, data_fp)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    work.rename(final)
    report_path = ctx.artefacts.get("report", {}).get("html")
    progress(f"done: {final}" + (f"; report: {final / report_path}" if report_path else ""))
    return final


def _git_commit() -> str | None:
    """The epi source commit, when epi runs from a git checkout (reproducibility)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _write_manifest(ctx: RunContext, data_fp: str) -> None:
    """``run.json``: versions, seed, timings and the data fingerprint (reproducibility)."""
    ctx.write(
        RunRecord,
        protocol_file=str(ctx.protocol_path),
        lock=ctx.lock.as_dict(),
        seed=ctx.protocol.seed,
        started_utc=ctx.started_utc,
        timings_s=ctx.timings,
        versions=versions(),
        stages_run=[k for k in ctx.timings if k != "total"],
        data_fingerprint=data_fp,
        git_commit=_git_commit(),
        artefacts=ctx.artefacts,
    )
