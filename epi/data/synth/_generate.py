"""Generate the whole synthetic population, chunk by chunk, into a folder."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from epi._cores import usable_cores
from epi.data.synth import _notes, _tables, _truth
from epi.data.synth._constants import CHUNK_PERSONS, GENERATOR_VERSION
from epi.data.synth._model import make_region
from epi.data.synth._simulate import simulate_chunk
from epi.data.synth._write import SCHEMAS, TRUTH_SCHEMAS, TableSink, to_arrow
from epi.exceptions import DataError
from epi.io import atomic_write_json

MAX_PERSONS = 5_000_000

#: Tables in the order they are written.
TABLES = list(SCHEMAS)


def _check_args(persons: Any, seed: Any) -> None:
    if isinstance(persons, bool) or not isinstance(persons, int | np.integer):
        raise DataError(
            f"synthetic data: persons must be an integer, got {persons!r}; pass e.g. persons=20000"
        )
    if not 1 <= persons <= MAX_PERSONS:
        raise DataError(
            f"synthetic data: persons must be between 1 and {MAX_PERSONS:,}, got "
            f"{persons:,}; use a smaller population or generate in several runs"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"synthetic data: seed must be a non-negative integer, got {seed!r}")


def _first_t2d(ch: Any, gp: dict[str, Any], hosp: dict[str, Any]) -> np.ndarray:
    """First recorded T2D diagnosis day per person (GP T90 or hospital DE11*)."""
    out = np.full(ch.n, np.inf)
    d = gp["gp_diagnoses"]
    sel = d["icpc2_code"] == "T90"
    np.minimum.at(out, (d["person_id"][sel] - ch.first - 1).astype(np.int64), d["date"][sel])
    h = hosp["hosp_diagnoses"]
    sel = np.char.startswith(h["diagnosis_code"].astype(str), "DE11")
    np.minimum.at(out, (h["person_id"][sel] - ch.first - 1).astype(np.int64), h["date"][sel])
    return np.where(np.isfinite(out), out, np.nan)


def _public(t: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in t.items() if not k.startswith("_")}


def _note_cols(batch: _notes.NoteBatch, ids: np.ndarray, first: int) -> dict[str, Any]:
    return {
        "note_id": ids,
        "person_id": batch.person + first + 1,
        "time": batch.time,
        "note_type": batch.note_type,
        "text": np.array(batch.text, dtype=object),
    }


def _gold_cols(batch: _notes.NoteBatch, ids: np.ndarray, table: str) -> dict[str, Any]:
    from epi.data.synth._phrases import CONTEXT_ATTRS
    from epi.data.synth._write import ID_FORMAT, format_ids

    g = batch.gold
    row = np.array([x[0] for x in g], dtype=np.int64)
    attrs = [CONTEXT_ATTRS[x[4]] for x in g]
    prefix, digits = ID_FORMAT[table]
    return {
        "note_id": format_ids(ids[row] if row.size else np.zeros(0, np.int64), prefix, digits),
        "start": np.array([x[1] for x in g], dtype=np.int64),
        "end": np.array([x[2] for x in g], dtype=np.int64),
        "concept": np.array([x[3] for x in g], dtype=object),
        "negated": np.array([a[0] for a in attrs], dtype=bool),
        "uncertain": np.array([a[1] for a in attrs], dtype=bool),
        "hypothetical": np.array([a[2] for a in attrs], dtype=bool),
        "historical": np.array([a[3] for a in attrs], dtype=bool),
        "experiencer": np.array([a[4] for a in attrs], dtype=object),
        "text": np.array([x[5] for x in g], dtype=object),
    }


def _build_chunk(job: tuple[int, int, int, int]) -> dict[str, pa.Table]:
    """Every output table of one chunk of persons, as Arrow tables (runs in a worker)."""
    seed, ci, persons, size = job
    region = make_region(seed)
    first = ci * size
    n = min(size, persons - first)
    ids = _tables.Ids(ci)
    ch = simulate_chunk(seed, ci, first, n, persons, region)
    rng = np.random.default_rng([seed, 2, ci])
    rnd = _notes.FastRandom(seed * 1_000_003 + ci)
    cols: dict[str, dict[str, Any]] = {
        "persons": _tables.persons_table(ch, region),
        "residence": _tables.residence_table(ch),
        "gp_registrations": _tables.registrations_table(ch, region),
    }
    det = _tables.detection(ch, rng)
    gp = _tables.gp_tables(ch, region, rng, ids, det)
    hosp = _tables.hospital_tables(ch, rng, ids)
    muni = _tables.municipal_tables(ch, region, rng, ids, hosp["hosp_contacts"])
    for name, t in (*gp.items(), *hosp.items(), *muni.items()):
        if not name.startswith("_"):
            cols[name] = _public(t)
    out: dict[str, pa.Table] = {}
    gold = []
    for table, batch in (
        ("notes_gp", _notes.gp_notes(ch, rng, rnd, gp["gp_contacts"])),
        ("notes_hospital", _notes.hospital_notes(ch, rng, rnd, hosp["hosp_contacts"])),
        ("notes_municipal", _notes.municipal_notes(ch, rng, rnd, muni)),
    ):
        nid = ids.take(table, batch.person.size)
        cols[table] = _note_cols(batch, nid, ch.first)
        gold.append(
            to_arrow("note_mentions", _gold_cols(batch, nid, table), TRUTH_SCHEMAS["note_mentions"])
        )
    out["truth/note_mentions"] = pa.concat_tables(gold)
    risk_a = _truth.risk_protocol_a(ch)
    risk_b = _truth.risk_protocol_b(ch, region, _first_t2d(ch, gp, hosp), seed, ci)
    truth = {
        "risk": {"person_id": np.arange(first + 1, first + n + 1), **risk_a, **risk_b},
        "person_years": _truth.person_years(ch, region),
    }
    for name, c in cols.items():
        out[name] = to_arrow(name, c, SCHEMAS[name])
    for name, c in truth.items():
        out[f"truth/{name}"] = to_arrow(name, c, TRUTH_SCHEMAS[name])
    return out


def generate(
    persons: int,
    seed: int,
    out_dir: str | Path,
    *,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    chunk_persons: int = CHUNK_PERSONS,
) -> Path:
    """Write a synthetic North Denmark Region population with its truth.

    Parameters
    ----------
    persons : int
        Number of adults (a random sample of the region's ~590,000 inhabitants).
    seed : int
        Random seed; the same seed gives byte-identical files.
    out_dir : str or Path
        Folder to write: one ``<table>.parquet`` per spec in ``data_specs/``,
        ``truth/`` (``truth.json``, ``risk.parquet``, ``person_years.parquet``,
        ``note_mentions.parquet``) and ``manifest.json``.
    progress : callable, optional
        Called with a one-line message after each chunk.
    workers : int
        Processes building chunks in parallel (output does not depend on it).
        Above 1, worker processes are *spawned*: call from code guarded by
        ``if __name__ == "__main__":`` (the ``epi`` command is).
    chunk_persons : int
        Persons simulated together (memory scales with it). Part of the
        random design: a different value gives a different population.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    DataError
        If ``persons`` or ``seed`` is out of range.
    """
    _check_args(persons, seed)
    persons, seed = int(persons), int(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    region = make_region(seed)
    size = int(chunk_persons)
    if not 100 <= size <= 200_000:
        raise DataError(f"synthetic data: chunk_persons must be 100..200,000, got {size}")
    n_chunks = (persons + size - 1) // size
    workers = max(1, min(int(workers), n_chunks, usable_cores()))
    meta = {"seed": str(seed), "persons": str(persons)}
    jobs = [(seed, ci, persons, size) for ci in range(n_chunks)]
    with TableSink(out, meta) as sink, ExitStack() as stack:
        sink.write("gp_practices", _tables.practices_table(region))
        if workers > 1:
            pool = stack.enter_context(mp.get_context("spawn").Pool(workers))
            results = pool.imap(_build_chunk, jobs, chunksize=1)
        else:
            results = map(_build_chunk, jobs)
        for ci, tables in enumerate(results):
            for name in sink.rows:
                if name in tables:
                    sink.write_arrow(name, tables[name])
            if progress is not None:
                done = min(persons, (ci + 1) * size)
                progress(
                    f"synth: chunk {ci + 1}/{n_chunks} ({done:,} persons, "
                    f"{time.perf_counter() - t_start:.0f} s)"
                )
        rows = dict(sink.rows)
    atomic_write_json(out / "truth" / "truth.json", _truth.truth_document(region, persons, seed))
    manifest = {
        "synthetic": True,
        "generator": "epi.data.synth",
        "generator_version": GENERATOR_VERSION,
        "persons": persons,
        "seed": seed,
        "chunk_persons": size,
        "region": "Region Nordjylland (synthetic)",
        "period": ["2015-01-01", "2024-12-31"],
        "tables": {k: v for k, v in rows.items() if not k.startswith("truth/")},
        "truth": {k.split("/")[1]: v for k, v in rows.items() if k.startswith("truth/")},
    }
    atomic_write_json(out / "manifest.json", manifest)
    return out
