"""The generator's files: spec validity, determinism, labels, arguments, CLI."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from epi.data import build_event_store, load_specs
from epi.data.synth import TABLES, generate
from epi.data.synth._cli import add_commands
from epi.data.synth._write import SCHEMAS
from epi.exceptions import DataError

from .conftest import PERSONS

SPEC_TO_ARROW = {
    "string": "string",
    "integer": "int64",
    "float": "double",
    "date": "date32[day]",
    "datetime": "timestamp[us]",
    "boolean": "bool",
}


def test_every_spec_has_a_table_with_its_columns_and_types() -> None:
    specs = load_specs()
    assert set(TABLES) == set(specs)
    for name, spec in specs.items():
        ours = [(c, t, nl) for c, t, nl in SCHEMAS[name]]
        assert [c for c, _, _ in ours] == [c.name for c in spec.columns], name
        for (col, typ, nullable), cs in zip(ours, spec.columns, strict=True):
            assert typ == cs.type, f"{name}.{col}"
            assert nullable == cs.nullable, f"{name}.{col}"


def test_output_passes_the_spec_checker(synth_dir: Path, tmp_path: Path) -> None:
    report = build_event_store(synth_dir, tmp_path / "store.duckdb", on_invalid="error")
    assert report.dropped_rows == 0
    kept = {t.table: t.rows_kept for t in report.tables}
    assert kept["persons"] == PERSONS
    assert all(kept[t] > 0 for t in TABLES), kept


def test_files_types_and_synthetic_labels(synth_dir: Path) -> None:
    for name in TABLES:
        f = pq.ParquetFile(synth_dir / f"{name}.parquet")
        meta = f.schema_arrow.metadata
        assert meta[b"synthetic"] == b"true", name
        types = {fld.name: str(fld.type) for fld in f.schema_arrow}
        for col, typ, _ in SCHEMAS[name]:
            assert types[col] == SPEC_TO_ARROW[typ], f"{name}.{col}"
    manifest = json.loads((synth_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True
    assert manifest["persons"] == PERSONS
    assert set(manifest["tables"]) == set(TABLES)
    truth = json.loads((synth_dir / "truth" / "truth.json").read_text(encoding="utf-8"))
    assert truth["synthetic"] is True
    assert set(truth["nil_blocks"]) == {"hf_hospitalisation", "acute_admission"}
    for f in ("risk", "person_years", "note_mentions"):
        assert pq.ParquetFile(synth_dir / "truth" / f"{f}.parquet").metadata.num_rows > 0


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = _digests(generate(400, 3, tmp_path / "a", workers=1, chunk_persons=200))
    # another process, string-hash seed and worker count must write the same bytes
    code = (
        "import sys\nfrom epi.data.synth import generate\nif __name__ == '__main__':\n"
        "    generate(400, 3, sys.argv[1], workers=2, chunk_persons=200)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "b")],
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).resolve().parents[2],
    )
    b = _digests(tmp_path / "b")
    c = _digests(generate(400, 4, tmp_path / "c", workers=1, chunk_persons=200))
    assert a == b
    assert len(a) == len(TABLES) + 5  # + manifest, truth.json, risk, person_years, mentions
    assert a["persons.parquet"] != c["persons.parquet"]


def test_ids_are_pseudonymous_and_nothing_looks_like_a_cpr_number(synth_dir: Path) -> None:
    persons = pq.read_table(synth_dir / "persons.parquet").to_pandas()
    assert persons.person_id.str.fullmatch(r"P\d{8}").all()
    cpr = re.compile(r"\b\d{6}-?\d{4}\b")
    for t in ("notes_gp", "notes_hospital", "notes_municipal"):
        texts = pq.read_table(synth_dir / f"{t}.parquet", columns=["text"]).column(0).to_pylist()
        assert not any(cpr.search(x) for x in texts if x)


@pytest.mark.parametrize(
    ("persons", "seed", "match"),
    [
        (0, 1, "between 1 and"),
        (-5, 1, "between 1 and"),
        ("100", 1, "must be an integer"),
        (True, 1, "must be an integer"),
        (100, -1, "non-negative integer"),
        (100, 1.5, "non-negative integer"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, persons: object, seed: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        generate(persons, seed, tmp_path / "x")  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_chunk_size_is_checked(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"chunk_persons must be 100\.\.200,000"):
        generate(100, 1, tmp_path / "x", chunk_persons=5)


def test_cli_writes_the_population(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="epi")
    add_commands(parser.add_subparsers())
    args = parser.parse_args(
        [
            "synth",
            "--persons",
            "300",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "d"),
            "--quiet",
            "--workers",
            "1",
        ]
    )
    assert args.func(args) == 0
    assert "synthetic=true" in capsys.readouterr().out
    assert (tmp_path / "d" / "manifest.json").is_file()
