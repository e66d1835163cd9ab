"""``epi evaluate --compare REFCOL``: pairwise added value of prediction columns."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from epi.exceptions import ValidationInputError
from epi.validation._cli import add_commands
from epi.validation.comparison import survival_nri

REF_DIR = Path(__file__).parent / "reference"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="epi")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def predictions(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "pred.csv"
    pd.read_csv(REF_DIR / "flchain_cr.csv").to_csv(path, index=False)
    return path


def test_compare_writes_added_value(predictions: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "review"
    argv = ["evaluate", str(predictions), "--time", "time", "--event", "status",
            "--risk", "risk_cox", "--risk", "risk_alt", "--horizon", "1826",
            "--thresholds", "0.05:0.30:0.05", "--bootstrap", "5", "--compare", "risk_cox",
            "--risk-groups", "0.1,0.2", "--out", str(out)]  # fmt: skip
    assert _run(argv) == 0
    names = {p.name for p in out.iterdir()}
    assert {"metrics.json", "added_value.json", "added_value.md", "forest.svg"} <= names
    assert "added_value.json" in capsys.readouterr().out
    res = json.loads((out / "added_value.json").read_text())
    assert res["reference"] == "risk_cox" and res["source"] == "pred.csv"
    (comp,) = res["comparisons"]
    assert comp["arm"] == "risk_alt"
    d = pd.read_csv(predictions)
    want = survival_nri(d["time"], d["status"], d["risk_cox"], d["risk_alt"], 1826, [0.1, 0.2])
    assert comp["differences"]["nri_event"]["estimate"] == pytest.approx(want["event"])
    assert [r["threshold"] for r in comp["net_benefit"]] == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]


def test_compare_column_must_be_a_risk_column(predictions: Path, tmp_path: Path) -> None:
    argv = ["evaluate", str(predictions), "--time", "time", "--event", "status",
            "--risk", "risk_cox", "--risk", "risk_alt", "--horizon", "1826",
            "--bootstrap", "0", "--compare", "risk_other",
            "--out", str(tmp_path / "o")]  # fmt: skip
    with pytest.raises(ValidationInputError, match="--compare 'risk_other' is not one of"):
        _run(argv)
    assert not (tmp_path / "o").exists()
