"""``epi evaluate``: files written, their content, and clear errors."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import epi.validation as ev
from epi.exceptions import ValidationInputError
from epi.validation._cli import add_commands, parse_thresholds

REF_DIR = Path(__file__).parent / "reference"
FILES = ["calibration.png", "calibration.svg", "decision_curve.png", "decision_curve.svg",
         "metrics.json", "summary.md"]  # fmt: skip


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="epi")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def flchain(tmp_path_factory) -> Path:
    """The competing-risks reference data as parquet, renamed columns."""
    d = pd.read_csv(REF_DIR / "flchain_cr.csv").rename(columns={"time": "days", "status": "ev"})
    path = tmp_path_factory.mktemp("in") / "pred.parquet"
    d.to_parquet(path)
    return path


def test_evaluate_writes_the_review(flchain: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "review"
    argv = [str(flchain), "--time", "days", "--event", "ev", "--risk", "risk_cox",
            "--risk", "risk_alt", "--horizon", "1826", "--thresholds", "0.05:0.30:0.05",
            "--bootstrap", "20", "--seed", "3", "--out", str(out)]  # fmt: skip
    assert _run(["evaluate", *argv]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert "wrote metrics.json" in capsys.readouterr().out
    m = json.loads((out / "metrics.json").read_text())
    assert (m["horizon"], m["n"]) == (1826.0, 2000)
    assert set(m["models"]) == {"risk_cox", "risk_alt"}
    for measures in m["models"].values():
        assert set(measures) == set(ev.MEASURES)
        for v in measures.values():
            assert set(v) == {"estimate", "lower", "upper"}
            assert v["lower"] <= v["upper"]
    # Estimates equal the R-checked functions on the same data.
    d = pd.read_parquet(flchain)
    auc = ev.time_dependent_auc(d["days"], d["ev"], d["risk_cox"], 1826)
    assert m["models"]["risk_cox"]["auc"]["estimate"] == pytest.approx(auc, abs=1e-12)
    nb = pd.DataFrame(m["net_benefit"])
    assert sorted(set(nb["model"])) == sorted({"risk_cox", "risk_alt", "treat_all", "treat_none"})
    assert sorted(set(nb["threshold"])) == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    summary = (out / "summary.md").read_text()
    assert "| Harrell's C (truncated at horizon) |" in summary
    assert "![Decision curve](decision_curve.svg)" in summary
    # Same seed, same bytes (figures included).
    out2 = tmp_path / "again"
    assert _run(["evaluate", *argv[:-1], str(out2)]) == 0
    for name in FILES:
        assert (out / name).read_bytes() == (out2 / name).read_bytes(), name


def test_evaluate_csv_binary_outcome_without_bootstrap(tmp_path: Path) -> None:
    src = REF_DIR / "rossi.csv"
    assert _run(["evaluate", str(src), "--time", "time", "--event", "status", "--risk",
                 "risk_cox", "--horizon", "26", "--bootstrap", "0", "--out",
                 str(tmp_path)]) == 0  # fmt: skip
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["models"]["risk_cox"]["harrell_c"]["lower"] is None
    ref = json.loads((REF_DIR / "reference.json").read_text())["rossi@26"]
    assert m["models"]["risk_cox"]["harrell_c"]["estimate"] == pytest.approx(
        ref["models"]["risk_cox"]["harrell_c"], abs=1e-9
    )


def _bad(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    csv = tmp_path / "p.csv"
    pd.DataFrame(
        {"t": [1.0, 2, 3, 4], "e": [1, 0, 1, 0], "r": [0.5, 0.2, 0.7, 0.1], "pct": [50, 20, 70, 10]}
    ).to_csv(csv, index=False)
    txt = tmp_path / "p.txt"
    txt.write_text("t,e\n")
    base = ["--time", "t", "--event", "e", "--horizon", "3", "--out", str(tmp_path / "o")]
    return {
        "missing file": (
            [str(tmp_path / "nope.csv"), "--risk", "r", *base],
            f"{tmp_path / 'nope.csv'}: no such file; pass a CSV or parquet file of predictions.",
        ),
        "unknown type": (
            [str(txt), "--risk", "r", *base],
            f"{txt}: unknown file type .txt; use .csv or .parquet.",
        ),
        "missing column": (
            [str(csv), "--risk", "risk", *base],
            f"{csv}: column(s) ['risk'] not found; the file has ['t', 'e', 'r', 'pct'].",
        ),
        "percent risks": (
            [str(csv), "--risk", "pct", *base],
            "p.csv column 'pct': 4 of 4 predicted risks are outside [0, 1] (first: 50.0, 20.0, "
            "70.0, 10.0); pass absolute risks by the horizon, not percentages, linear "
            "predictors or survival probabilities.",
        ),
        "bad thresholds": (
            [str(csv), "--risk", "r", *base[:-2], "--thresholds", "0.5:0.1:0.1", *base[-2:]],
            "--thresholds '0.5:0.1:0.1': need START <= STOP and STEP > 0.",
        ),
        "time as event": (
            [
                str(csv),
                "--risk",
                "r",
                "--time",
                "t",
                "--event",
                "t",
                "--horizon",
                "3",
                "--out",
                "x",
            ],
            f"{csv}: column(s) ['t'] named more than once in the options.",
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["missing file", "unknown type", "missing column", "percent risks", "bad thresholds",
     "time as event"],
)  # fmt: skip
def test_evaluate_bad_input(tmp_path: Path, case: str) -> None:
    argv, message = _bad(tmp_path)[case]
    with pytest.raises(ValidationInputError, match=f"^{re.escape(message)}$"):
        _run(["evaluate", *argv])
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_epi_main_maps_bad_input_to_exit_code_2(tmp_path: Path, capsys) -> None:
    from epi.cli import main

    code = main(["evaluate", str(tmp_path / "nope.csv"), "--time", "t", "--event", "e",
                 "--risk", "r", "--horizon", "1", "--out", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "no such file" in capsys.readouterr().err


THRESHOLD_TEXT = {
    "range": ("0.01:0.05:0.01", [0.01, 0.02, 0.03, 0.04, 0.05]),
    "list": ("0.1,0.2", [0.1, 0.2]),
    "default": ("0.01:0.50:0.01", list(np.round(np.arange(1, 51) / 100, 10))),
}


@pytest.mark.parametrize("case", sorted(THRESHOLD_TEXT))
def test_parse_thresholds(case: str) -> None:
    text, want = THRESHOLD_TEXT[case]
    np.testing.assert_allclose(parse_thresholds(text), want)
