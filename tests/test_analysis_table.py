"""The analysis-table source: checked like every other input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from epi.data import data_fingerprint, read_analysis_table
from epi.exceptions import DataError
from tests.runs import Run


def test_rossi_reads_as_outcome_and_predictors(tmp_path: Path) -> None:
    rossi = load_rossi()
    path = tmp_path / "rossi.csv"
    rossi.to_csv(path, index=False)
    table = read_analysis_table(
        path, time="week", event="arrest", predictors=["age", "fin", "prio"], time_unit_days=7
    )
    assert list(table.X.columns) == ["age", "fin", "prio"]
    assert table.outcome["duration"].max() == 52 * 7
    assert table.outcome["event"].sum() == rossi["arrest"].sum() == 114
    assert table.dropped == {}


def test_bad_rows_are_named_or_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"t": [1.0, -2.0, 3.0, 4.0], "e": [0, 1, 3, 1], "x": [0.1, 0.2, 0.3, 0.4]}).to_csv(
        path, index=False
    )
    with pytest.raises(
        DataError, match=r"column 't' is not a positive number: 1 row\(s\); first: -2.0"
    ):
        read_analysis_table(path, time="t", event="e", predictors=["x"])
    table = read_analysis_table(path, time="t", event="e", predictors=["x"], on_invalid="drop")
    assert len(table.X) == 2
    assert table.dropped == {"t is not a positive number": 1, "e is not 0, 1 or 2": 1}


def test_missing_predictor_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"t": [1.0], "e": [1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column\(s\) \['age'\] named in the protocol"):
        read_analysis_table(path, time="t", event="e", predictors=["age"])


def test_data_fingerprint_follows_bytes_not_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("y\n2\n")
    first = data_fingerprint([a, b])
    assert first == data_fingerprint([b, a])
    b.write_text("y\n3\n")
    assert data_fingerprint([a, b]) != first


def test_run_on_an_analysis_table_reproduces_r_apparent_c(analysis_table_run: Run) -> None:
    """`epi run` on Rossi as an analysis table: no cohort or features, same numbers.

    R: ``rms::validate(cph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro +
    prio, x=TRUE, y=TRUE))`` gives apparent Dxy 0.2806584, i.e. C = 0.6403292
    (tests/validation/reference); follow-up ends at week 52 = the horizon. The run is
    the session's (tests/runs.py).
    """
    run_dir = analysis_table_run.path
    perf = json.loads((run_dir / "results/performance.json").read_text())
    cox = perf["arms"]["predictors"]["models"]["cox"]
    assert cox["apparent"]["harrell_c"]["estimate"] == pytest.approx(0.6403292, abs=1e-6)
    assert cox["optimism_corrected"]["harrell_c"]["estimate"] < 0.6403292
    assert perf["temporal_not_done"] == "no temporal_split_year in the protocol"
    assert (run_dir / "results/models/predictors__cox.json").is_file()
