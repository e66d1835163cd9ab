"""Riley et al. minimum sample size for a survival model, against pmsampsize.

Reference numbers and where they come from
------------------------------------------
* ``PMSAMPSIZE_TESTS``: the nine survival cases of R package pmsampsize 1.1.3's
  own test file ``tests/testthat/test_surv.R`` (CRAN mirror
  github.com/cran/pmsampsize, commit fbb1472 "version 1.1.3"; same in
  github.com/JoieEnsor/pmsampsize): ``results_table`` column ``Samp_size`` for
  rows "Criteria 1", "Criteria 2", "Criteria 3 *", "Final SS" and column
  ``EPP``. (Older tests in the same repositories, before 1.1.1 fixed the
  rounding of the maximum R², give other criterion-2 numbers; 1.1.3 is the
  current CRAN release.)
* ``test_documented_example``: the survival example of ``?pmsampsize``
  (``man/pmsampsize.Rd``, README), "based on Riley et al. BMJ 2020":
  ``pmsampsize(type = "s", csrsquared = 0.051, parameters = 30, rate = 0.065,
  timepoint = 2, meanfup = 2.07)``: minimum 5143 persons, 692 events, EPP
  23.07; criterion 2 needs 1039; max R²_CS 0.555 and Nagelkerke R² 0.092 (the
  recurrent-VTE example of Riley et al., BMJ 2020;368:m441 and Stat Med
  2019;38:1276, whose abstract gives "an EPP of at least 23"; the package does
  not store the printed output, the figures are as recorded from it).
* The 95% interval of the overall risk is pmsampsize's formula
  (``R/pmsampsize_surv.R``, "criteria 3") evaluated by hand in this file.

Criterion 3 differs on purpose: pmsampsize prints ``max(n1, n2)`` in its
"Criteria 3 *" row (it does not solve for n); epi gives the n criterion 3
needs on its own, and the minimum equals pmsampsize's whenever its interval
meets the margin (all the cases here).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import epi.validation as ev
from epi.cli import main
from epi.exceptions import EpiError, ValidationInputError

# (csrsquared, parameters, rate, timepoint, meanfup) -> Samp_size rows 1, 2, 3*, Final; EPP rows
PMSAMPSIZE_TESTS = {
    "3.1": ((0.051, 25, 0.065, 2, 2.07), (4286, 866, 4286, 4286), (23.07, 4.66, 23.07, 23.07)),
    "3.2": ((0.065, 25, 0.065, 2, 2.07), (3335, 859, 3335, 3335), (17.95, 4.62, 17.95, 17.95)),
    "3.3": ((0.051, 50, 0.065, 2, 2.07), (8572, 1731, 8572, 8572), (23.07, 4.66, 23.07, 23.07)),
    "3.4": ((0.051, 25, 0.1, 2, 2.07), (4286, 731, 4286, 4286), (35.49, 6.05, 35.49, 35.49)),
    "3.5": ((0.051, 25, 0.065, 4, 2.07), (4286, 866, 4286, 4286), (23.07, 4.66, 23.07, 23.07)),
    "3.6": ((0.051, 25, 0.065, 2, 4), (4286, 679, 4286, 4286), (44.57, 7.06, 44.57, 44.57)),
    "3.7": ((0.06, 40, 0.08, 3, 5), (5798, 969, 5798, 5798), (57.98, 9.69, 57.98, 57.98)),
    "3.8": ((0.03, 10, 0.09, 3, 3), (2950, 272, 2950, 2950), (79.65, 7.34, 79.65, 79.65)),
    "3.9": ((0.3, 80, 0.03, 1, 5), (1974, 2272, 2272, 2272), (3.7, 4.26, 4.26, 4.26)),
}

EXAMPLE = {"parameters": 30, "rsquared_cs": 0.051, "rate": 0.065, "timepoint": 2, "meanfup": 2.07}


def _run(kw: dict) -> ev.SampleSize:
    return ev.riley_survival(**kw)


def _margin(rate: float, t: float, meanfup: float, n: int) -> float:
    """pmsampsize's criterion-3 margin ``uci - cuminc`` at n, written out here."""
    tot_per_yrs = round(meanfup * n, 1)
    uci = 1 - math.exp(-(rate + 1.96 * (rate / tot_per_yrs) ** 0.5) * t)
    return uci - (1 - math.exp(-rate * t))


# ----------------------------------------------------------------- published numbers


@pytest.mark.parametrize("case", sorted(PMSAMPSIZE_TESTS))
def test_matches_pmsampsize_package_tests(case: str) -> None:
    (r2, p, rate, t, fu), ss, epp = PMSAMPSIZE_TESTS[case]
    r = ev.riley_survival(parameters=p, rsquared_cs=r2, rate=rate, timepoint=t, meanfup=fu)
    c1, c2, c3 = r.criteria
    assert (c1.n, c2.n) == ss[:2]
    assert max(c1.n, c2.n) == ss[2]  # pmsampsize's "Criteria 3 *" row
    assert r.n == ss[3]
    assert (round(c1.epp, 2), round(c2.epp, 2), round(r.epp, 2)) == (epp[0], epp[1], epp[3])
    assert c3.n <= r.n  # criterion 3 never binds here, as in pmsampsize
    assert _margin(rate, t, fu, r.n) <= 0.05


def test_documented_example() -> None:
    r = _run(EXAMPLE)
    c1, c2, c3 = r.criteria
    assert (c1.n, c2.n, r.n) == (5143, 1039, 5143)
    assert math.ceil(r.events) == 692
    assert round(r.epp, 2) == 23.07
    assert round(r.max_rsquared_cs, 3) == 0.555
    assert round(r.nagelkerke_r2, 3) == 0.092
    assert (c1.shrinkage, round(c2.shrinkage, 3), r.final_shrinkage) == (0.9, 0.648, 0.9)
    # max R²_CS as pmsampsize: E = ceiling(0.065 * 2.07 * 10000) = 1346 at n = 10000.
    ln_l_null = 1346 * math.log(1346 / 10000) - 1346
    assert r.max_rsquared_cs == pytest.approx(1 - math.exp(2 * ln_l_null / 10000), rel=1e-15)
    # Criterion 3: interval of the risk 1 - exp(-0.13) at n = 5143, person-time 10646.0.
    assert r.person_time == 10646.0
    half = 1.96 * math.sqrt(0.065 / 10646.0)
    assert r.risk == pytest.approx(1 - math.exp(-0.13), rel=1e-15)
    assert r.risk_upper == pytest.approx(1 - math.exp(-(0.065 + half) * 2), rel=1e-15)
    assert r.risk_lower == pytest.approx(1 - math.exp(-(0.065 - half) * 2), rel=1e-15)
    assert (round(r.risk_lower, 3), round(r.risk, 3), round(r.risk_upper, 3)) == (
        0.113,
        0.122,
        0.130,
    )
    assert c3.epp == pytest.approx(c3.n * 0.065 * 2.07 / 30)


def test_criterion_3_is_the_smallest_n_within_the_margin() -> None:
    for mmoe in (0.05, 0.02, 0.01, 0.005):
        r = _run({**EXAMPLE, "mmoe": mmoe})
        n3 = r.criteria[2].n
        assert _margin(0.065, 2, 2.07, n3) <= mmoe < _margin(0.065, 2, 2.07, n3 - 1)
        assert r.n == max(5143, n3)
    # A margin so tight that criterion 3 binds: the interval at the minimum meets it.
    r = _run({**EXAMPLE, "mmoe": 0.001})
    assert r.n == r.criteria[2].n > 5143
    assert r.risk_margin <= 0.001
    # A margin wider than the survival probability is met by one person.
    assert _run({**EXAMPLE, "rate": 2.0, "meanfup": 0.5, "mmoe": 0.9}).criteria[2].n == 1


# ------------------------------------------------------------------------ invariants


def test_required_n_falls_as_rsquared_rises() -> None:
    grid = np.linspace(0.01, 0.5, 50)
    ns = [_run({**EXAMPLE, "rsquared_cs": float(x)}) for x in grid]
    for key in (lambda r: r.criteria[0].n, lambda r: r.criteria[1].n, lambda r: r.n):
        values = [key(r) for r in ns]
        assert all(a >= b for a, b in itertools.pairwise(values))
        assert values[0] > values[-1]


def test_required_n_rises_with_parameters_and_shrinkage() -> None:
    n = [_run({**EXAMPLE, "parameters": p}).n for p in (5, 10, 20, 40)]
    assert n == sorted(n) and len(set(n)) == 4
    n = [_run({**EXAMPLE, "shrinkage": s}).criteria[0].n for s in (0.8, 0.85, 0.9, 0.95)]
    assert n == sorted(n) and len(set(n)) == 4


@pytest.mark.parametrize("r2", [0.02, 0.051, 0.15, 0.4])
@pytest.mark.parametrize("target", [0.8, 0.9, 0.95])
def test_criterion_1_round_trip(r2: float, target: float) -> None:
    """The shrinkage expected at criterion 1's n is the target, within rounding up."""
    n1 = _run({**EXAMPLE, "rsquared_cs": r2, "shrinkage": target}).criteria[0].n
    at_n1 = ev.expected_shrinkage(parameters=30, rsquared_cs=r2, n=n1)
    below = ev.expected_shrinkage(parameters=30, rsquared_cs=r2, n=n1 - 1)
    assert below < target <= at_n1
    assert at_n1 - target < 1e-3


def test_criterion_2_round_trip() -> None:
    """At criterion 2's n the apparent minus adjusted Nagelkerke R² is 0.05."""
    r = _run(EXAMPLE)
    s = ev.expected_shrinkage(parameters=30, rsquared_cs=0.051, n=r.criteria[1].n)
    apparent = 0.051 / s
    assert (apparent - 0.051) / r.max_rsquared_cs == pytest.approx(0.05, abs=1e-4)


def test_expected_shrinkage_limits() -> None:
    assert ev.expected_shrinkage(parameters=1, rsquared_cs=0.2, n=10**9) == pytest.approx(1)
    assert ev.expected_shrinkage(parameters=500, rsquared_cs=0.2, n=1) == pytest.approx(0.2)


def test_rsquared_cs_from_lr() -> None:
    assert ev.rsquared_cs_from_lr(0.0, 100) == 0.0
    assert ev.rsquared_cs_from_lr(2.5, 1000) == pytest.approx(1 - math.exp(-2.5 / 1000))
    # The LR statistic that a model with R²_CS 0.051 has on 1000 persons.
    lr = -1000 * math.log(1 - 0.051)
    assert ev.rsquared_cs_from_lr(lr, 1000) == pytest.approx(0.051, rel=1e-12)
    assert ev.rsquared_cs_from_lr(np.float64(lr), np.int64(1000)) == pytest.approx(0.051)


# --------------------------------------------------------------------- data at hand


def test_available_data_meet_the_criteria() -> None:
    r = _run({**EXAMPLE, "n_available": 5143})
    assert r.meets and all(c.meets for c in r.criteria)
    assert r.max_parameters == 30
    r = _run({**EXAMPLE, "n_available": 5142})
    assert not r.meets
    assert [c.meets for c in r.criteria] == [False, True, True]
    assert r.max_parameters == 29
    assert [c.max_parameters for c in r.criteria][2] is None
    # Events alone: 5143 persons carry 691.99 events.
    assert _run({**EXAMPLE, "events_available": 692}).meets
    assert not _run({**EXAMPLE, "events_available": 691}).meets
    nothing = _run(EXAMPLE)
    assert (nothing.meets, nothing.max_parameters, nothing.criteria[0].meets) == (None,) * 3


@pytest.mark.parametrize(
    "available",
    [{"n_available": 100}, {"n_available": 2500}, {"n_available": 20000},
     {"events_available": 300}, {"n_available": 9000, "events_available": 700}],
)  # fmt: skip
def test_max_parameters_is_the_largest_p_that_meets_criteria_1_and_2(available: dict) -> None:
    p = _run({**EXAMPLE, **available}).max_parameters
    assert p is not None

    def ok(k: int) -> bool:
        c = _run({**EXAMPLE, **available, "parameters": k}).criteria
        return bool(c[0].meets and c[1].meets)

    assert p == 0 or ok(p)
    assert not ok(p + 1)


def test_result_is_frozen_and_serialises() -> None:
    r = _run({**EXAMPLE, "n_available": 3000, "events_available": 400})
    with pytest.raises(AttributeError):
        r.n = 1  # type: ignore[misc]
    d = json.loads(json.dumps(r.to_dict()))
    assert (d["n"], d["parameters"], d["n_available"], d["max_parameters"]) == (5143, 30, 3000, 17)
    assert [c["n"] for c in d["criteria"]] == [5143, 1039, 141]


# ------------------------------------------------------------------------ bad input

# name -> (arguments changed from EXAMPLE, exact message)
BAD = {
    "parameters float": (
        {"parameters": 30.0},
        "parameters must be a whole number (int) >= 1, got 30.0 (float).",
    ),
    "parameters bool": (
        {"parameters": True},
        "parameters must be a whole number (int) >= 1, got True (bool).",
    ),
    "parameters zero": ({"parameters": 0}, "parameters must be >= 1, got 0."),
    "rsquared missing": (
        {"rsquared_cs": None},
        "rsquared_cs is required: the anticipated Cox-Snell R² of the new model (for an "
        "existing model, 1 - exp(-LR/n) from its likelihood-ratio statistic: "
        "rsquared_cs_from_lr).",
    ),
    "rsquared text": ({"rsquared_cs": "0.05"}, "rsquared_cs must be a number, got '0.05' (str)."),
    "rsquared nan": (
        {"rsquared_cs": float("nan")},
        "rsquared_cs must be a finite number, got nan.",
    ),
    "rsquared zero": (
        {"rsquared_cs": 0.0},
        "rsquared_cs must be > 0 and < 0.554726 (the maximum Cox-Snell R² at rate 0.065 and "
        "meanfup 2.07), got 0.",
    ),
    "rsquared above max": (
        {"rsquared_cs": 0.6},
        "rsquared_cs must be > 0 and < 0.554726 (the maximum Cox-Snell R² at rate 0.065 and "
        "meanfup 2.07), got 0.6.",
    ),
    "c statistic": (
        {"c_statistic": 0.7},
        "c_statistic is not supported for a survival outcome: pmsampsize converts a "
        "C-statistic to the Cox-Snell R² for binary outcomes only; give the anticipated "
        "Cox-Snell R² as rsquared_cs instead (for an existing model, 1 - exp(-LR/n) from its "
        "likelihood-ratio statistic: rsquared_cs_from_lr).",
    ),
    "rate zero": ({"rate": 0}, "rate must be > 0 (events per person per time unit), got 0."),
    "timepoint negative": (
        {"timepoint": -1},
        "timepoint must be > 0 (time of interest for prediction), got -1.",
    ),
    "meanfup zero": ({"meanfup": 0.0}, "meanfup must be > 0 (mean follow-up per person), got 0."),
    "meanfup infinite": ({"meanfup": math.inf}, "meanfup must be a finite number, got inf."),
    "shrinkage one": (
        {"shrinkage": 1.0},
        "shrinkage must be > 0 and < 1 (target global shrinkage), got 1.",
    ),
    "shrinkage below rsquared": (
        {"rsquared_cs": 0.3, "shrinkage": 0.2},
        "shrinkage must be > rsquared_cs (0.3) for criterion 1 to be defined, got 0.2.",
    ),
    "mmoe": (
        {"mmoe": 1.5},
        "mmoe must be > 0 and < 1 (margin of error of the overall risk), got 1.5.",
    ),
    "events per person": (
        {"rate": 2.0},
        "rate x meanfup = 4.14 events per person gives no positive maximum Cox-Snell R² "
        "(-31.57); it must be below e (about 2.718) - check that rate is per person per time "
        "unit of meanfup.",
    ),
    "n available zero": ({"n_available": 0}, "n_available must be >= 1, got 0."),
    "n available float": (
        {"n_available": 100.5},
        "n_available must be a whole number (int) >= 1, got 100.5 (float).",
    ),
    "events available negative": (
        {"events_available": -1},
        "events_available must be >= 0, got -1.",
    ),
    "more events than persons": (
        {"n_available": 10, "events_available": 11},
        "events_available must be <= n_available (10) - one event per person at most, got 11.",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input(case: str) -> None:
    change, message = BAD[case]
    with pytest.raises(ValidationInputError, match=f"^{re.escape(message)}$") as info:
        _run({**EXAMPLE, **change})
    assert isinstance(info.value, EpiError)


BAD_OTHER = {
    "shrinkage n": (
        lambda: ev.expected_shrinkage(parameters=30, rsquared_cs=0.051, n=0),
        "n must be >= 1, got 0.",
    ),
    "shrinkage rsquared": (
        lambda: ev.expected_shrinkage(parameters=30, rsquared_cs=1.0, n=10),
        "rsquared_cs must be > 0 and < 1 (anticipated Cox-Snell R²), got 1.",
    ),
    "lr negative": (
        lambda: ev.rsquared_cs_from_lr(-1, 10),
        "lr_statistic must be >= 0 (a likelihood-ratio chi-squared statistic), got -1.",
    ),
    "lr nan": (
        lambda: ev.rsquared_cs_from_lr(float("nan"), 10),
        "lr_statistic must be a finite number, got nan.",
    ),
    "lr n": (lambda: ev.rsquared_cs_from_lr(5.0, 0), "n must be >= 1, got 0."),
    "lr n float": (
        lambda: ev.rsquared_cs_from_lr(5.0, 10.0),
        "n must be a whole number (int) >= 1, got 10.0 (float).",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_OTHER))
def test_bad_input_helpers(case: str) -> None:
    call, message = BAD_OTHER[case]
    with pytest.raises(ValidationInputError, match=f"^{re.escape(message)}$"):
        call()


# ------------------------------------------------------------------------------ CLI

ARGV = ["samplesize", "--parameters", "30", "--rsquared", "0.051", "--rate", "0.065",
        "--timepoint", "2", "--meanfup", "2.07"]  # fmt: skip


def test_cli_prints_the_table(capsys) -> None:
    assert main(ARGV) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Minimum sample size required: 5143 persons, 692 events (EPP 23.07)"
    rows = {line.split()[0]: line.split() for line in out if re.match(r"^(\d|Final) ", line)}
    assert rows["1"][-4:] == ["0.900", "5143", "692", "23.07"]
    assert rows["2"][-4:] == ["0.648", "1039", "140", "4.66"]
    assert rows["3"][-4:] == ["-", "141", "19", "0.63"]
    assert rows["Final"] == ["Final", "0.900", "5143", "692", "23.07"]
    header = next(line for line in out if line.startswith("Criterion"))
    for line in out:  # columns line up under the header
        if re.match(r"^(\d|Final) ", line):
            assert len(line) == len(header)
    assert any("0.113 to 0.130 (risk 0.122" in line for line in out)


def test_cli_available_data_and_json(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sub" / "ss.json"
    argv = [*ARGV, "--shrinkage", "0.9", "--mmoe", "0.05", "--n-available", "3000",
            "--events-available", "400", "--json", str(path)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"wrote {path}" in captured.err
    out = captured.out
    assert "support at most 17 candidate parameters under criteria 1 and 2" in out
    assert out.splitlines()[-1].startswith("Minimum sample size required: 5143 persons")
    d = json.loads(path.read_text())
    assert d == json.loads(
        json.dumps(ev.riley_survival(**EXAMPLE, n_available=3000, events_available=400).to_dict())
    )
    assert [c["meets"] for c in d["criteria"]] == [False, True, True]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rsquared", "0.7"], "--rsquared must be > 0 and < 0.554726 (the maximum Cox-Snell "
         "R² at --rate 0.065 and --meanfup 2.07), got 0.7."),
        (["--shrinkage", "1.2"], "--shrinkage must be > 0 and < 1 (target global shrinkage), "
         "got 1.2."),
        (["--n-available", "0"], "--n-available must be >= 1, got 0."),
        (["--meanfup", "nan"], "--meanfup must be a finite number, got nan."),
    ],
)  # fmt: skip
def test_cli_bad_input_exits_2(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    path = tmp_path / "ss.json"
    assert main([*ARGV, *extra, "--json", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"epi: error: {message}\n"
    assert captured.out == ""
    assert not path.exists()
