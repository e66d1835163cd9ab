"""Arrow schemas of the output tables and chunked, atomic parquet writing.

The schemas mirror ``data_specs/`` (a test checks them against the specs).
Columns are written in spec order; every file carries ``synthetic=true`` in
its key-value metadata. Same input, same bytes: no timestamps, fixed row
groups (one per chunk and table) and fixed compression.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from epi.data.synth._constants import EPOCH_OFFSET, GENERATOR_VERSION
from epi.io import atomic_path

S, INT, F, D, T, B = "string", "integer", "float", "date", "datetime", "boolean"
ARROW = {
    S: pa.string(),
    INT: pa.int64(),
    F: pa.float64(),
    D: pa.date32(),
    T: pa.timestamp("us"),
    B: pa.bool_(),
}

#: Output columns per table: (name, spec type, nullable).
SCHEMAS: dict[str, list[tuple[str, str, bool]]] = {
    "persons": [
        ("person_id", S, False),
        ("sex", S, False),
        ("birth_date", D, False),
        ("death_date", D, True),
        ("emigration_date", D, True),
        ("municipality_code", S, False),
        ("practice_id", S, False),
    ],
    "residence": [
        ("person_id", S, False),
        ("municipality_code", S, False),
        ("start_date", D, False),
        ("end_date", D, True),
    ],
    "gp_practices": [
        ("practice_id", S, False),
        ("municipality_code", S, False),
        ("n_gps", INT, False),
    ],
    "gp_registrations": [
        ("person_id", S, False),
        ("practice_id", S, False),
        ("start_date", D, False),
        ("end_date", D, True),
    ],
    "gp_contacts": [
        ("contact_id", S, False),
        ("person_id", S, False),
        ("practice_id", S, False),
        ("date", D, False),
        ("service_code", S, False),
        ("contact_form", S, False),
    ],
    "gp_diagnoses": [
        ("contact_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("icpc2_code", S, False),
    ],
    "gp_lab_results": [
        ("result_id", S, False),
        ("person_id", S, False),
        ("sample_time", T, False),
        ("npu_code", S, False),
        ("value_num", F, True),
        ("value_text", S, True),
        ("unit", S, False),
    ],
    "gp_prescriptions": [
        ("prescription_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("atc", S, False),
        ("packages", INT, False),
        ("days_supply", INT, False),
    ],
    "hosp_contacts": [
        ("contact_id", S, False),
        ("person_id", S, False),
        ("hospital_code", S, False),
        ("start_time", T, False),
        ("end_time", T, False),
        ("contact_type", S, False),
        ("priority", S, False),
    ],
    "hosp_diagnoses": [
        ("contact_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("diagnosis_code", S, False),
        ("diagnosis_type", S, False),
    ],
    "hosp_procedures": [
        ("contact_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("procedure_code", S, False),
    ],
    "muni_home_care": [
        ("person_id", S, False),
        ("week_start", D, False),
        ("service", S, False),
        ("hours_per_week", F, False),
    ],
    "muni_fsiii": [
        ("assessment_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("condition_code", S, False),
        ("level", INT, False),
    ],
    "muni_rehabilitation": [
        ("course_id", S, False),
        ("person_id", S, False),
        ("start_date", D, False),
        ("end_date", D, True),
        ("legal_basis", S, False),
    ],
    "muni_nursing": [
        ("visit_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("intervention", S, False),
    ],
    "muni_falls": [
        ("fall_id", S, False),
        ("person_id", S, False),
        ("date", D, False),
        ("injury", B, False),
    ],
    "notes_gp": [
        ("note_id", S, False),
        ("person_id", S, False),
        ("time", T, False),
        ("note_type", S, False),
        ("text", S, True),
    ],
    "notes_hospital": [
        ("note_id", S, False),
        ("person_id", S, False),
        ("time", T, False),
        ("note_type", S, False),
        ("text", S, True),
    ],
    "notes_municipal": [
        ("note_id", S, False),
        ("person_id", S, False),
        ("time", T, False),
        ("note_type", S, False),
        ("text", S, True),
    ],
}

#: Truth tables written under ``truth/``.
TRUTH_SCHEMAS: dict[str, list[tuple[str, str, bool]]] = {
    "note_mentions": [
        ("note_id", S, False),
        ("start", INT, False),
        ("end", INT, False),
        ("concept", S, False),
        ("negated", B, False),
        ("uncertain", B, False),
        ("hypothetical", B, False),
        ("historical", B, False),
        ("experiencer", S, False),
        ("text", S, False),
    ],
    "risk": [
        ("person_id", S, False),
        ("acute_admission_365d", F, True),
        ("hf_hospitalisation_365d", F, True),
        ("t2d_index_date", D, True),
        ("hf_hospitalisation_1826d", F, True),
    ],
    "person_years": [
        ("person_id", S, False),
        ("year", INT, False),
        ("start", D, False),
        ("stop", T, False),
        ("death", B, False),
        ("first_acute", T, True),
        ("first_hf", T, True),
        ("first_acute_other", T, True),
        ("practice_id", S, False),
        ("municipality_code", S, False),
        ("re_practice", F, False),
        ("re_municipality", F, False),
        ("lambda_acute_other", F, False),
        ("lambda_hf", F, False),
        ("lambda_death", F, False),
        ("age10", F, False),
        ("male", F, False),
        ("cardio", F, False),
        ("frailty", F, False),
        ("loneliness", F, False),
        ("hypertension", F, False),
        ("t2d", F, False),
        ("af", F, False),
        ("copd", F, False),
        ("ckd", F, False),
        ("hf", F, False),
        ("dementia", F, False),
        ("re", F, False),
    ],
}

#: Prefix and digits of the ids of each table (ids are opaque strings).
ID_FORMAT: dict[str, tuple[str, int]] = {
    "person_id": ("P", 8),
    "gp_contacts": ("GC", 12),
    "gp_lab_results": ("LR", 12),
    "gp_prescriptions": ("RX", 12),
    "hosp_contacts": ("HK", 12),
    "muni_fsiii": ("FS", 12),
    "muni_rehabilitation": ("RH", 12),
    "muni_nursing": ("SV", 12),
    "muni_falls": ("FA", 12),
    "notes_gp": ("NG", 12),
    "notes_hospital": ("NH", 12),
    "notes_municipal": ("NM", 12),
}


def format_ids(values: np.ndarray, prefix: str, digits: int) -> pa.Array:
    """Integers as zero-padded strings with a prefix (vectorised in Arrow)."""
    arr = pa.array(np.asarray(values, dtype=np.int64) + 10**digits, pa.int64())
    s = pc.utf8_slice_codeunits(pc.cast(arr, pa.string()), 1)
    return pc.binary_join_element_wise(prefix, s, "")


def _days_to_date(x: np.ndarray) -> pa.Array:
    x = np.asarray(x, dtype=float)
    mask = np.isnan(x)
    v = np.where(mask, 0, np.floor(x) + EPOCH_OFFSET).astype(np.int32)
    return pa.array(v, pa.date32(), mask=mask)


def _days_to_timestamp(x: np.ndarray) -> pa.Array:
    x = np.asarray(x, dtype=float)
    mask = np.isnan(x)
    minutes = np.round(np.where(mask, 0, x) * 1440).astype(np.int64)  # to the minute
    us = (minutes + EPOCH_OFFSET * 1440) * 60_000_000
    return pa.array(us, pa.timestamp("us"), mask=mask)


def to_arrow(table: str, cols: dict[str, Any], schema: list[tuple[str, str, bool]]) -> pa.Table:
    """Convert a table of numpy columns (days, integer ids) into an Arrow table."""
    arrays = []
    for name, typ, _nullable in schema:
        v = cols[name]
        if isinstance(v, pa.Array | pa.ChunkedArray):
            arrays.append(v)
        elif typ == D:
            arrays.append(_days_to_date(v))
        elif typ == T:
            arrays.append(_days_to_timestamp(v))
        elif typ == S and np.asarray(v).dtype.kind in "iu":
            if name == "person_id":
                key = "person_id"
            elif name == "contact_id" and table not in ID_FORMAT:
                key = "gp_contacts" if table.startswith("gp_") else "hosp_contacts"
            else:
                key = table
            prefix, digits = ID_FORMAT[key]
            arrays.append(format_ids(v, prefix, digits))
        elif typ == S:
            arr = np.asarray(v)
            if arr.dtype == object:
                arrays.append(pa.array(list(arr), pa.string()))
            else:
                arrays.append(pa.array(arr.astype(str), pa.string()))
        elif typ == F:
            arrays.append(
                pa.array(
                    np.asarray(v, dtype=float),
                    pa.float64(),
                    mask=np.isnan(np.asarray(v, dtype=float)),
                )
            )
        else:
            arrays.append(pa.array(np.asarray(v), ARROW[typ]))
    fields = [pa.field(n, ARROW[t], nullable=nl) for n, t, nl in schema]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


class TableSink:
    """Parquet writers for every table, opened together and moved into place together.

    Use as a context manager; nothing appears under ``out_dir`` unless the
    block finishes.
    """

    def __init__(self, out_dir: Path, metadata: dict[str, str]) -> None:
        self.out_dir = out_dir
        self.metadata = {
            "synthetic": "true",
            "generator": f"epi.data.synth {GENERATOR_VERSION}",
            **metadata,
        }
        self._stack = ExitStack()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def __enter__(self) -> TableSink:
        self._stack.__enter__()
        specs = {**SCHEMAS, **{f"truth/{k}": v for k, v in TRUTH_SCHEMAS.items()}}
        for name, schema in specs.items():
            tmp = self._stack.enter_context(atomic_path(self.out_dir / f"{name}.parquet"))
            fields = [pa.field(n, ARROW[t], nullable=nl) for n, t, nl in schema]
            sch = pa.schema(fields).with_metadata({**self.metadata, "table": name.split("/")[-1]})
            w = pq.ParquetWriter(
                tmp, sch, compression="zstd", compression_level=3, write_statistics=True
            )
            self._stack.callback(w.close)
            self._writers[name] = w
            self.rows[name] = 0
        return self

    def write(self, name: str, cols: dict[str, Any]) -> None:
        """Append one chunk of table ``name`` (a row group per call)."""
        schema = SCHEMAS.get(name) or TRUTH_SCHEMAS[name.split("/")[-1]]
        t = to_arrow(name.split("/")[-1], cols, schema)
        w = self._writers[name]
        t = t.replace_schema_metadata(w.schema.metadata)
        w.write_table(t, row_group_size=max(1, t.num_rows))
        self.rows[name] += t.num_rows

    def write_arrow(self, name: str, table: pa.Table) -> None:
        """Append an Arrow table already in the output schema (a row group per call)."""
        w = self._writers[name]
        t = table.replace_schema_metadata(w.schema.metadata)
        w.write_table(t, row_group_size=max(1, t.num_rows))
        self.rows[name] += t.num_rows

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)


def write_single(path: Path, table: pa.Table, metadata: dict[str, str]) -> None:
    """Write one small parquet file atomically with synthetic metadata."""
    meta = {"synthetic": "true", "generator": f"epi.data.synth {GENERATOR_VERSION}", **metadata}
    t = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(t, tmp, compression="zstd", compression_level=3)
