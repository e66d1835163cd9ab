"""Protocol validation, fingerprints, locks and amendments."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from epi.exceptions import LockError, ProtocolError
from epi.protocol import (
    check_lock,
    fingerprint,
    load_protocol,
    lock_path,
    lock_protocol,
    write_schema,
)
from epi.study import check_code_lists, check_models

BASE = """\
study:
  id: demo_study
  title: Demo
outcome:
  name: acute_admission
  horizon_days: 365
  code_lists:
    - {sector: hospital, vocabulary: SKS, codes: [ATA1]}
"""


def _write(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


BAD_PROTOCOLS = {
    "unknown key": (
        BASE + "colour: blue\n",
        r"study.yaml:9: unknown key 'colour'\. Allowed keys here: amendments, cohort,",
    ),
    "misspelt key": (
        BASE.replace("horizon_days", "horizon_dayz"),
        r"study.yaml:6: unknown key 'outcome.horizon_dayz'\. Did you mean 'horizon_days'\?",
    ),
    "wrong type": (
        BASE.replace("horizon_days: 365", "horizon_days: one year"),
        r"study.yaml:6: 'outcome.horizon_days': Input should be a valid integer.*'one year'",
    ),
    "negative horizon": (
        BASE.replace("365", "-365"),
        r"study.yaml:6: 'outcome.horizon_days': Input should be greater than 0 \(got -365\)",
    ),
    "missing study": (
        "outcome: {horizon_days: 30}\n",
        r"required key 'study' is missing",
    ),
    "not yaml": (
        BASE + "cohort: [unclosed\n",
        r"study.yaml:10:1: the protocol is not valid YAML",
    ),
    "unknown data source": (
        BASE + "data: {source: sql}\n",
        r"'data': Input tag 'sql' found using 'source' does not match",
    ),
    "reference arm missing": (
        BASE + "comparisons: {reference: gp, arms: {all: [demographics, gp, hospital]}}\n",
        r"comparisons.reference 'gp' is not one of the arms \['all'\]",
    ),
    "model on an unknown arm": (
        BASE + "models: [{name: cox, kind: cox, arms: [gp]}]\n",
        r"models\[0\].arms names \['gp'\], which are not arms; the arms are \['all'\] "
        r"\(no comparisons section\)",
    ),
    "primary model without the reference arm": (
        BASE
        + "comparisons: {reference: gp, arms: {gp: [demographics], all: [demographics]}}\n"
        + "models: [{name: cox, kind: cox, arms: [all]}]\n",
        r"models\[0\] \('cox'\) is the primary model of the added-value comparison: its arms "
        r"must include the reference arm 'gp'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PROTOCOLS), ids=list(BAD_PROTOCOLS))
def test_bad_protocols_name_file_line_and_key(tmp_path: Path, case: str) -> None:
    text, message = BAD_PROTOCOLS[case]
    path = _write(tmp_path, text)
    with pytest.raises(ProtocolError, match=message):
        load_protocol(path)


def test_unknown_code_vocabulary_is_named_with_its_key_path(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("vocabulary: SKS", "vocabulary: ICD11"))
    protocol = load_protocol(path)
    with pytest.raises(
        ProtocolError,
        match=r"'outcome.code_lists\[0\].vocabulary': unknown code vocabulary 'ICD11'\. "
        r"Known vocabularies: ICPC2, SKS, ATC, NPU",
    ):
        check_code_lists(protocol, path)


def test_missing_protocol_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"protocol file not found: .*nope.yaml"):
        load_protocol(tmp_path / "nope.yaml")


def test_yaml_is_read_safely(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "seed: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ProtocolError, match="not valid YAML"):
        load_protocol(path)


def test_fingerprint_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    a = load_protocol(_write(tmp_path, BASE, "a.yaml"))
    reordered = "outcome:\n  horizon_days: 365\n  name: acute_admission\n  code_lists:\n"
    reordered += "    - {codes: [ATA1], vocabulary: SKS, sector: hospital}\n"
    reordered += "# a comment\nstudy: {title: Demo, id: demo_study}\n"
    b = load_protocol(_write(tmp_path, reordered, "b.yaml"))
    c = load_protocol(_write(tmp_path, BASE.replace("365", "366"), "c.yaml"))
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    assert len(fingerprint(a)) == 64


def test_locked_protocol_edited_without_amendment_refuses(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    lock_protocol(load_protocol(path), path)
    record = json.loads(lock_path(path).read_text())
    assert record["fingerprint"] == fingerprint(load_protocol(path))
    _write(tmp_path, BASE.replace("365", "730"))
    with pytest.raises(
        LockError,
        match=r"study.yaml was locked on .* and has changed since without an amendment in "
        r"section\(s\): outcome\. Record each change under 'amendments:'",
    ):
        check_lock(load_protocol(path), path)


def test_amended_change_runs_and_is_recorded(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    lock_protocol(load_protocol(path), path)
    amended = BASE.replace("365", "730") + (
        "amendments:\n"
        "  - {date: 2099-01-01, section: outcome, what: horizon 1 to 2 years,"
        " why: too few events at 1 year}\n"
    )
    _write(tmp_path, amended)
    status = check_lock(load_protocol(path), path)
    assert status.locked and status.changed_sections == ("outcome",)
    assert status.amendments[0]["why"] == "too few events at 1 year"
    assert status.fingerprint != status.lock_fingerprint


def test_amendment_must_name_a_section(tmp_path: Path) -> None:
    text = BASE + "amendments:\n  - {date: 2025-01-01, section: outcomes, what: x, why: y}\n"
    with pytest.raises(ProtocolError, match=r"amendments\[0\].section 'outcomes' is not a"):
        load_protocol(_write(tmp_path, text))


def test_schema_is_written_and_lists_sections(tmp_path: Path) -> None:
    path = write_schema(tmp_path)
    schema = json.loads(path.read_text())
    assert {"study", "data", "cohort", "outcome", "models", "report"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    # the shipped schema is the one the models give (regenerate: epi protocol schema)
    assert path.read_text() == Path("protocols/_schema/protocol.schema.json").read_text()
    with pytest.raises(ProtocolError, match="is a file; give the folder"):
        write_schema(path)


@pytest.mark.parametrize("path", sorted(Path("protocols").glob("*.yaml")), ids=str)
def test_shipped_protocols_are_valid(path: Path) -> None:
    protocol = load_protocol(path)
    assert check_code_lists(protocol, path) >= 1


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("[{name: m, kind: coxx}]", r"'models\[0\]' \(m\): unknown model kind 'coxx'; allowed: \["),
        (
            "[{name: m, kind: cox, params: {penalty: 0.1}}]",
            r"'models\[0\]' \(m\): model kind 'cox': unknown parameter\(s\) \['penalty'\]; "
            r"allowed: \[.*'penalizer'",
        ),
    ],
    ids=["unknown kind", "misspelt parameter"],
)
def test_bad_models_fail_at_check(tmp_path: Path, models: str, message: str) -> None:
    path = _write(tmp_path, BASE + f"models: {models}\n")
    with pytest.raises(ProtocolError, match=message):
        check_models(load_protocol(path), path)


def test_notes_max_failure_share_is_a_share(tmp_path: Path) -> None:
    assert load_protocol(_write(tmp_path, BASE + "notes: {}\n")).notes.max_failure_share == 0.001
    path = _write(tmp_path, BASE + "notes: {max_failure_share: 0.01}\n")
    assert load_protocol(path).notes.max_failure_share == 0.01
    path = _write(tmp_path, BASE + "notes: {max_failure_share: 2}\n")
    with pytest.raises(
        ProtocolError,
        match=r"study.yaml:9: 'notes.max_failure_share': Input should be less than or equal "
        r"to 1 \(got 2\)",
    ):
        load_protocol(path)
