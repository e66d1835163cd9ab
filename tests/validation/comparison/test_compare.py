"""compare_arms, compare_predictions, the forest plot and the report text.

Synthetic truth (simulated in ``conftest.py``): the hospital block is
informative, the municipal block has no effect. With B = 40 paired
resamples the informative arm's differences favour it with intervals that
exclude zero; the nil arm's optimism-corrected intervals cover zero for the
C indices, AUC, Brier score, IPA, IDI and the categorical NRI components.
The continuous NRI of the nil arm is *not* expected to be zero: in
independent data from the same generator (30,000 persons) its non-event
component is +0.07 and its event component -0.05, because the added noise
terms skew the risk distribution (Pepe et al. 2015, Stat Biosci 7:282) -
hence components are reported separately and never only their sum.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from epi.exceptions import ValidationInputError
from epi.validation import plot_decision_curve
from epi.validation.comparison import (
    PAIR_STATISTICS,
    added_value_text,
    compare_arms,
    compare_predictions,
    decision_curves,
    delta_net_benefit_table,
    forest_data,
    plot_delta_net_benefit,
    plot_forest,
)
from tests.validation.comparison._sim import HORIZON, fit_arms, settings_for, simulate

PRIMARY = ("harrell_c", "uno_c", "auc", "brier", "ipa", "idi", "nri_event", "nri_nonevent")


def test_informative_sector_improves_with_intervals_excluding_zero(compared: dict) -> None:
    f = forest_data(compared, PAIR_STATISTICS)
    hosp = f[f["arm"] == "gp_hosp"].set_index("statistic")
    for s in ("harrell_c", "uno_c", "auc", "ipa", "idi", "cnri_event", "cnri_nonevent"):
        assert hosp.loc[s, "lower"] > 0, s
    assert hosp.loc["brier", "upper"] < 0
    assert (hosp["favours"] != "reference").all()


def test_nil_sector_intervals_cover_zero_after_optimism_correction(compared: dict) -> None:
    f = forest_data(compared, PRIMARY)
    nil = f[f["arm"] == "gp_muni"].set_index("statistic")
    assert nil["covers_zero"].all(), nil[~nil["covers_zero"]]
    # The correction removes apparent gain: C of the nil arm drops after it.
    c = next(x for x in compared["comparisons"] if x["arm"] == "gp_muni")["differences"]
    assert c["harrell_c"]["optimism"] > 0
    assert c["harrell_c"]["estimate"] < c["harrell_c"]["apparent"]


def test_result_is_strict_json_with_every_statistic(compared: dict) -> None:
    json.dumps(compared, allow_nan=False)
    assert compared["reference"] == "gp" and compared["n_bootstrap"] == 40
    assert compared["optimism_corrected"] is True
    assert compared["n_failed"] == {"cox": 0}
    assert {(c["arm"], c["model"]) for c in compared["comparisons"]} == {
        ("gp_hosp", "cox"),
        ("gp_muni", "cox"),
    }
    th = compared["thresholds"]
    for comp in compared["comparisons"]:
        assert set(comp["differences"]) == set(PAIR_STATISTICS)
        for d in comp["differences"].values():
            assert d["lower"] <= d["estimate"] <= d["upper"]
            assert {"apparent", "apparent_lower", "apparent_upper", "optimism"} <= set(d)
        assert [r["threshold"] for r in comp["net_benefit"]] == th
        lr = comp["likelihood_ratio"]
        assert lr["applicable"] and lr["df"] == (3 if comp["arm"] == "gp_hosp" else 6)
        assert 0 < lr["adequacy"] < 1
        # net interventions avoided = 100 x dNB / odds(pt), apparent values
        for r in comp["net_benefit"]:
            pt = r["threshold"]
            assert r["net_interventions_avoided_per_100"]["apparent"] == pytest.approx(
                100 * r["delta_net_benefit"]["apparent"] * (1 - pt) / pt
            )
    by = {c["arm"]: c for c in compared["comparisons"]}
    assert by["gp_hosp"]["likelihood_ratio"]["p"] < 1e-6
    assert by["gp_muni"]["likelihood_ratio"]["adequacy"] > 0.8
    assert [(a["arm"], a["model"]) for a in compared["arms"]] == [
        ("gp", "cox"),
        ("gp_hosp", "cox"),
        ("gp_muni", "cox"),
    ]
    assert "calibration_slope" in compared["arms"][0]["measures"]


def test_apparent_differences_equal_differences_of_arm_scores(compared: dict) -> None:
    arms = {a["arm"]: a["measures"] for a in compared["arms"]}
    for comp in compared["comparisons"]:
        for m in ("harrell_c", "brier", "ipa"):
            want = arms[comp["arm"]][m]["apparent"] - arms["gp"][m]["apparent"]
            assert comp["differences"][m]["apparent"] == pytest.approx(want, abs=1e-12)


def test_parallel_gives_the_same_result() -> None:
    d = simulate(400, seed=3)
    fits, factories = fit_arms(d)
    p = settings_for(4)
    one = compare_arms(fits, d.outcome, d.X, factories, n_jobs=1, **p)
    two = compare_arms(fits, d.outcome, d.X, factories, n_jobs=2, **p)
    one.pop("cpu_seconds_resamples"), two.pop("cpu_seconds_resamples")
    assert json.dumps(one) == json.dumps(two)


def test_paired_refits_give_each_arm_the_bootstrap_optimism_correction() -> None:
    """epi.study takes the primary model's optimism correction from the paired
    refits instead of bootstrapping it again: with the same seed both give the same
    corrected value for every measure."""
    from epi.validation import MEASURES, bootstrap_optimism
    from tests.validation.comparison._sim import cox_factory

    d = simulate(400, seed=3)
    fits, factories = fit_arms(d)
    p = settings_for(6)
    paired = compare_arms(fits, d.outcome, d.X, factories, arm_measures=MEASURES, **p)
    for arm in ("gp", "gp_muni"):
        alone = bootstrap_optimism(
            cox_factory, d.X[arm], d.outcome, HORIZON, n_bootstrap=6, seed=p["seed"]
        )
        scores = next(a for a in paired["arms"] if a["arm"] == arm)["measures"]
        assert set(scores) == set(MEASURES)
        for m in MEASURES:
            assert scores[m]["estimate"] == pytest.approx(alone.estimate[m], abs=1e-12), m


def test_compare_predictions_on_fixed_risks(design) -> None:
    fits, _ = fit_arms(design)
    risks = {f.arm: f.risk for f in fits}
    out = compare_predictions(
        design.outcome["duration"],
        design.outcome["event"],
        risks,
        "gp",
        HORIZON,
        n_bootstrap=30,
        seed=1,
    )
    json.dumps(out, allow_nan=False)
    assert out["optimism_corrected"] is False
    d = next(c for c in out["comparisons"] if c["arm"] == "gp_hosp")["differences"]
    assert d["harrell_c"]["optimism"] is None
    assert d["harrell_c"]["estimate"] == d["harrell_c"]["apparent"]
    assert d["harrell_c"]["lower"] == d["harrell_c"]["apparent_lower"] > 0
    for c in out["comparisons"]:
        for x in c["differences"].values():
            assert x["lower"] <= x["estimate"] <= x["upper"]
    assert "not optimism-corrected" in added_value_text(out)


BAD = [
    ("reference", {"reference": "nope"}, "reference column 'nope' is not among"),
    ("single", {"risks": "one"}, "pass at least one more risk column"),
    ("cuts", {"risk_groups": [0.2, 0.1]}, "must increase strictly"),
    ("cuts_range", {"risk_groups": [10, 20]}, "not strictly between 0 and 1"),
    ("risk_range", {"bad_risk": True}, "outside \\[0, 1\\]"),
    ("n_bootstrap", {"n_bootstrap": -1}, "n_bootstrap must be >= 0"),
]


@pytest.mark.parametrize(("name", "change", "message"), BAD, ids=[b[0] for b in BAD])
def test_compare_predictions_bad_input(name: str, change: dict, message: str) -> None:
    rng = np.random.default_rng(0)
    n = 200
    t, e = rng.uniform(1, 100, n), rng.integers(0, 2, n)
    risks = {"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n)}
    if change.pop("risks", None):
        risks = {"a": risks["a"]}
    if change.pop("bad_risk", None):
        risks["b"] = risks["b"] * 100
    kwargs = {"reference": "a", "n_bootstrap": 0, **change}
    ref = kwargs.pop("reference")
    with pytest.raises(ValidationInputError, match=message):
        compare_predictions(t, e, risks, ref, 50.0, **kwargs)


def test_compare_arms_bad_input(design) -> None:
    fits, factories = fit_arms(design)
    p = settings_for(0)
    with pytest.raises(ValidationInputError, match="no fit of the reference arm 'gp'"):
        compare_arms(fits[1:], design.outcome, design.X, factories, **p)
    with pytest.raises(ValidationInputError, match="no factory for \\('gp_muni', 'cox'\\)"):
        compare_arms(fits, design.outcome, design.X, dict(list(factories.items())[:2]), **p)
    shuffled = {k: v.iloc[::-1] for k, v in design.X.items()}
    with pytest.raises(ValidationInputError, match="is not indexed like the outcome"):
        compare_arms(fits, design.outcome, shuffled, factories, **p)


def test_without_bootstrap_only_apparent_values(design) -> None:
    fits, factories = fit_arms(design)
    out = compare_arms(fits, design.outcome, design.X, factories, **settings_for(0))
    d = out["comparisons"][0]["differences"]["harrell_c"]
    assert out["optimism_corrected"] is False
    assert d["lower"] is None and d["optimism"] is None
    assert d["estimate"] == d["apparent"]
    assert "no interval could be estimated" in added_value_text(out)


def test_text_states_uncertainty_and_never_says_significant(compared: dict) -> None:
    text = added_value_text(compared)
    assert "significant" not in text.lower()
    assert "optimism-corrected" in text
    nil = text[text.index("**gp_muni**") :]
    assert "compatible with no difference" in nil.split("\n")[0]
    hosp = text[text.index("**gp_hosp**") :].split("\n")[0]
    assert "in favour of the extended arm" in hosp
    assert "events" in text and "non-events" in text
    assert "| gp_hosp | " in text and "LR χ²" in text
    assert not re.search(r"NaN|nan\b", text)


def test_forest_plot_and_tables(compared: dict, tmp_path) -> None:
    paths = plot_forest(compared, tmp_path / "forest")
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    svg = (tmp_path / "forest.svg").read_text()
    # one square marker per arm and statistic: aggregated differences only
    n_rows = len(forest_data(compared))
    assert svg.count('id="m') <= n_rows + 5
    assert len(forest_data(compared)) == 2 * 10
    nb = delta_net_benefit_table(compared)
    assert len(nb) == 2 * len(compared["thresholds"])
    with pytest.raises(ValidationInputError, match="unknown"):
        forest_data(compared, ["auc_typo"])
    paths = plot_delta_net_benefit(compared, tmp_path / "dnb")
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    curves = decision_curves(compared, model="cox")
    assert set(curves["model"]) == {"gp", "gp_hosp", "gp_muni", "treat_all", "treat_none"}
    paths = plot_decision_curve(curves, HORIZON, tmp_path / "dca")
    assert len(paths) == 2


def test_no_warnings_on_clean_data(design) -> None:
    fits, factories = fit_arms(design)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_arms(fits, design.outcome, design.X, factories, **settings_for(2))


def test_write_comparison_files(tmp_path) -> None:
    from epi.validation.comparison import write_comparison

    d = simulate(300, seed=5)
    fits, _ = fit_arms(d)
    risks = {f.arm: f.risk for f in fits}
    res = write_comparison(
        tmp_path / "out",
        d.outcome["duration"],
        d.outcome["event"],
        risks,
        "gp",
        HORIZON,
        n_bootstrap=5,
        source="pred.csv",
    )
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(
        ["added_value.json", "added_value.md", "forest.png", "forest.svg",
         "delta_net_benefit.png", "delta_net_benefit.svg"]
    )  # fmt: skip
    assert json.loads((tmp_path / "out" / "added_value.json").read_text()) == res
    assert res["source"] == "pred.csv"
