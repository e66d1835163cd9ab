"""The typed results bundle: documentation generated from it, clear errors on mismatch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epi.bundle import (
    BUNDLE_FILES,
    Coefficients,
    bundle_markdown,
    read_file,
    write_file,
)
from epi.exceptions import BundleError

DOC = Path(__file__).resolve().parents[1] / "docs" / "BUNDLE.md"
STAMP = {
    "protocol_fingerprint": "f" * 64,
    "study_id": "s",
    "synthetic": True,
    "epi_version": "0.1.0",
}
ROW = {"arm": "gp", "model": "cox", "term": "demo__age", "coef": 0.03, "hr_lower": 1.0}


def test_bundle_md_is_generated_from_the_models() -> None:
    """Regenerate with ``python -m epi.bundle > docs/BUNDLE.md``."""
    assert DOC.read_text(encoding="utf-8") == bundle_markdown()


def test_every_model_field_is_in_the_documentation() -> None:
    text = DOC.read_text(encoding="utf-8")
    for cls in BUNDLE_FILES.values():
        assert f"`{cls.path}`" in text
        for name in cls.model_fields:
            if name not in STAMP and name != "bundle_version":
                assert f"| `{name}` |" in text, (cls.path, name)


def test_written_file_reads_back_equal(tmp_path: Path) -> None:
    written = write_file(tmp_path, Coefficients, STAMP, rows=[ROW])
    assert read_file(tmp_path, "coefficients") == written
    on_disk = json.loads((tmp_path / "results/coefficients.json").read_text())
    assert on_disk["bundle_version"] == 2 and on_disk["rows"][0]["term"] == "demo__age"


def test_a_writer_with_a_renamed_field_fails_before_writing(tmp_path: Path) -> None:
    """The defect of the first report: the writer wrote 'index', the reader read 'term'."""
    renamed = {("index" if k == "term" else k): v for k, v in ROW.items()}
    with pytest.raises(
        BundleError,
        match=r"results/coefficients.json: does not match the results bundle's Coefficients "
        r"layout: 'rows.0.term': Field required; 'rows.0.index': Extra inputs are not permitted",
    ):
        write_file(tmp_path, Coefficients, STAMP, rows=[renamed])
    assert not (tmp_path / "results").exists()


def test_a_bundle_of_an_older_epi_is_named(tmp_path: Path) -> None:
    path = tmp_path / "results" / "coefficients.json"
    path.parent.mkdir(parents=True)
    old = {**STAMP, "rows": [{**ROW, "hr_lower_95": 1.0}]}
    path.write_text(json.dumps(old))
    with pytest.raises(BundleError, match=r"coefficients.json: .*it was written by an older epi"):
        read_file(tmp_path, "coefficients")
    path.write_text(json.dumps({**old, "bundle_version": 1}))
    with pytest.raises(BundleError, match=r"bundle version 1, but this epi reads version 2"):
        read_file(tmp_path, "coefficients")


def test_damaged_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "results" / "coefficients.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"rows": [')
    with pytest.raises(BundleError, match=r"coefficients.json: not valid JSON \(line 1"):
        read_file(tmp_path, "coefficients")
