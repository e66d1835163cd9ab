"""The heterogeneity section (TRIPOD+AI 12d, 23b) from a hand-made ``heterogeneity.json``.

The file has the shape ``epi.analysis`` writes (docs/BUNDLE.md): one entry per
hierarchical model with diagnostics, posterior summary, variance partition,
median hazard ratios, cluster effects, shrinkage by cluster size, the
frequentist comparison and the figure files in ``results/figures``. Its
numbers are invented; the report must format them, never recompute them.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

from epi.report import build_report
from epi.report._render import preprocess
from tests.report.conftest import html_text

SECTION = 'id="sec-heterogeneity"'


def _cluster(group: str, level: str, n: Any, events: Any, mean: float, k: int = 1) -> dict:
    return {
        group: level,
        "n_persons": n,
        "n_events": events,
        "n_levels": k,
        "mean": mean,
        "lower": mean - 0.4,
        "upper": mean + 0.4,
        "hazard_ratio": math.exp(mean + 0.02),
        "hr_lower": math.exp(mean - 0.4),
        "hr_upper": math.exp(mean + 0.4),
    }


def _entry() -> dict[str, Any]:
    practices = [
        _cluster("practice_id", f"P{i:03d}", 20 + i, 6 + i, -0.5 + i / 19) for i in range(20)
    ]
    practices.append(_cluster("practice_id", "<pooled>", 40, 9, 0.01, k=12))
    municipalities = [
        _cluster("municipality_code", "M101", 300, 60, -0.2),
        _cluster("municipality_code", "M147", 400, 3, 0.1),  # few events: masked
        _cluster("municipality_code", "M160", 50, 12, 0.15),
        # under the minimum cell size but not pooled (a damaged file): never listed
        _cluster("municipality_code", "M999", 3, 0, 0.3),
        _cluster("municipality_code", "<pooled>", "<5", "<5", 0.0),
    ]
    coefs = [f"x{i:02d}" for i in range(14)]
    summary = [
        {"parameter": "intercept", "mean": -2.1, "sd": 0.2, "lower": -2.4, "upper": -1.8,
         "r_hat": 1.001, "ess_bulk": 1800.0, "ess_tail": 1500.0},
        {"parameter": "weibull_shape", "mean": 1.2, "sd": 0.05, "lower": 1.1, "upper": 1.3,
         "r_hat": 1.0, "ess_bulk": 2100.0, "ess_tail": 1600.0},
        {"parameter": "sigma_municipality_code", "mean": 0.11, "sd": 0.06, "lower": 0.02,
         "upper": 0.22, "r_hat": 1.002, "ess_bulk": 900.0, "ess_tail": 700.0},
        {"parameter": "sigma_practice_id", "mean": 0.31, "sd": 0.07, "lower": 0.2,
         "upper": 0.43, "r_hat": 1.003, "ess_bulk": 800.0, "ess_tail": 650.0},
    ] + [
        {"parameter": f"coef[{c}]", "mean": 0.05 * i, "sd": 0.1, "lower": 0.05 * i - 0.16,
         "upper": 0.05 * i + 0.16, "r_hat": 1.0, "ess_bulk": 3000.0, "ess_tail": 2000.0}
        for i, c in enumerate(coefs)
    ]  # fmt: skip
    comparison = [
        {"predictor": c, "bayes_mean": 0.05 * i, "bayes_lower": 0.05 * i - 0.16,
         "bayes_upper": 0.05 * i + 0.16, "frequentist": 0.05 * i - (0.2 if i % 4 == 0 else 0.01),
         "inside": i % 4 != 0}
        for i, c in enumerate(coefs[:12])
    ]  # fmt: skip
    figures = {
        kind: {g: f"figures/{kind}_all__bayes__{g}.svg" for g in GROUPS}
        for kind in ("caterpillar", "shrinkage")
    }
    figures["shrinkage"]["municipality_code"] = "figures/../../protocol.json"  # refused
    return {
        "arm": "all",
        "model": "bayes",
        "kind": "bayes_weibull_ph",
        "prob": 0.9,
        "diagnostics": [
            {"sampler": "pymc", "chains": 4, "draws": 1000, "tune": 1000, "max_r_hat": 1.004,
             "min_ess_bulk": 812.0, "min_ess_tail": 640.0, "divergences": 0,
             "bfmi": [0.9, 1.0, 0.95, 0.92], "min_bfmi": 0.9, "r_hat_max": 1.01,
             "ess_min": 400.0, "bfmi_min": 0.3, "ok": True, "failures": []}
        ],
        "posterior_summary": summary,
        "variance_partition": [
            {"component": "practice_id", "variance": 0.096, "share": 0.05,
             "share_lower": 0.02, "share_upper": 0.09},
            {"component": "municipality_code", "variance": 0.012, "share": 0.007,
             "share_lower": 0.0004, "share_upper": 0.02},
            {"component": "predictors", "variance": 0.2, "share": 0.1, "share_lower": 0.08,
             "share_upper": 0.12},
            {"component": "person", "variance": math.pi**2 / 6, "share": 0.843,
             "share_lower": 0.8, "share_upper": 0.88},
        ],
        "median_hazard_ratio": [
            {"group": "practice_id", "mhr": 1.34, "lower": 1.21, "upper": 1.5},
            {"group": "municipality_code", "mhr": 1.11, "lower": 1.02, "upper": 1.23},
            {"group": "all groups", "mhr": 1.36, "lower": 1.23, "upper": 1.52},
        ],
        "cluster_effects": {"practice_id": practices, "municipality_code": municipalities},
        "shrinkage": {
            "practice_id": {
                "n_masked_levels": 12,
                "summary": [
                    {"size_band": "20–49", "n_levels": 20, "mean_pooling": 0.62,
                     "mean_abs_unpooled": 0.41, "mean_abs_posterior": 0.2, "ratio": 0.49},
                ],
            },
            "municipality_code": {
                "n_masked_levels": 2,
                "summary": [
                    {"size_band": "50–99", "n_levels": 1, "mean_pooling": 0.7,
                     "mean_abs_unpooled": 0.3, "mean_abs_posterior": 0.1, "ratio": 0.33},
                    {"size_band": "200–499", "n_levels": 2, "mean_pooling": 0.2,
                     "mean_abs_unpooled": 0.2, "mean_abs_posterior": 0.15, "ratio": 0.75},
                ],
            },
        },
        "frequentist": {
            "model": "cox",
            "kind": "cox",
            "penalizer": 0.0,
            "excluded_splines": [],
            "coefficients": comparison,
            "n_compared": 12,
            "share_inside": 0.75,
            "risk": {"horizon_days": 365.0, "n": 800, "mean_bayes": 0.151,
                     "mean_frequentist": 0.149, "mean_abs_difference": 0.0123,
                     "max_abs_difference": 0.081, "correlation": 0.981},
        },
        "figures": figures,
    }  # fmt: skip


GROUPS = ("practice_id", "municipality_code")


def _write(run: Path, entry: dict[str, Any]) -> None:
    """Put ``entry`` into the run's heterogeneity.json and draw its figure files."""
    stamp = json.loads((run / "results" / "performance.json").read_text())
    payload = {
        **{k: stamp[k] for k in ("protocol_fingerprint", "study_id", "synthetic", "epi_version")},
        "models": [entry],
        "resampling": "not performed for Bayesian models: refitting by MCMC is impractical",
    }
    (run / "results" / "heterogeneity.json").write_text(json.dumps(payload), encoding="utf-8")
    figures = run / "results" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for kind in ("caterpillar", "shrinkage"):
        for group in GROUPS:
            fig = Figure(figsize=(4, 3))
            fig.add_subplot().plot([0, 1], [0, 1])
            stem = figures / f"{kind}_all__bayes__{group}"
            fig.savefig(stem.with_suffix(".svg"), format="svg")
            if group == "practice_id":  # the municipality plots come without a PNG
                fig.savefig(stem.with_suffix(".png"), format="png", dpi=40)


def _copy(bundle_dir: Path, to: Path) -> Path:
    shutil.copytree(bundle_dir, to, ignore=shutil.ignore_patterns("report", ".report.*"))
    return to


@pytest.fixture(scope="module")
def het_built(tmp_path_factory: pytest.TempPathFactory, bundle_dir: Path) -> Path:
    """The fixture bundle with a hierarchical model, its report rendered to HTML."""
    run = _copy(bundle_dir, tmp_path_factory.mktemp("het") / "run")
    _write(run, _entry())
    build_report(run, ("html",))
    return run / "report"


def _part(root: Path, name: str = "heterogeneity") -> str:
    return (root / "parts" / f"{name}.md").read_text(encoding="utf-8")


def test_section_shows_numbered_figures_with_alt_text(het_built: Path) -> None:
    html = html_text(het_built / "report.html")
    section = html.split(SECTION)[1].split('id="sec-added-value"')[0]
    assert "not performed in this run" not in section
    numbers = re.findall(r"<figcaption>(Figure \d+):", html)
    assert numbers == [f"Figure {i}" for i in range(1, len(numbers) + 1)]
    shown = re.findall(r'<figure id="(fig-heterogeneity-[\w-]+)"', section)
    assert shown == [
        "fig-heterogeneity-all-bayes-caterpillar-practice",
        "fig-heterogeneity-all-bayes-caterpillar-municipality",
        "fig-heterogeneity-all-bayes-shrinkage-practice",
    ]
    assert re.search(r"<figcaption>Figure \d+: Caterpillar plot of the GP practices", section)
    assert "20 GP practices shown, plus one row pooling 12 smaller" in section  # alt text
    # copied into the report with the caption and alt text inside the SVG
    svg = (het_built / "figures" / "heterogeneity-all-bayes-caterpillar-practice.svg").read_text()
    assert "<title>Caterpillar plot of the GP practices" in svg and "<desc>Caterpillar" in svg
    index = {f["name"] for f in json.loads((het_built / "figures" / "index.json").read_text())}
    assert {
        "heterogeneity-all-bayes-caterpillar-practice",
        "heterogeneity-all-bayes-shrinkage-practice",
    } <= index
    assert "heterogeneity-all-bayes-caterpillar-municipality" not in index  # no PNG to list
    # the figure outside results/figures is not copied
    assert "not shown, results/figures/../../protocol.json is absent" in _part(het_built)
    assert not (
        het_built / "figures" / "heterogeneity-all-bayes-shrinkage-municipality.svg"
    ).exists()
    _, unresolved = preprocess(het_built, "typst")
    assert unresolved == []


def test_diagnostics_variance_partition_and_comparison(het_built: Path) -> None:
    part = _part(het_built)
    assert "PyMC's No-U-Turn sampler (NUTS): 4 chains of 1,000 draws after 1,000 tuning" in part
    assert "Convergence diagnostics passed: largest rank-normalised R-hat 1.004" in part
    assert "| GP practices | 0.096 | 5.0% (2.0 to 9.0) | 1.34 (1.21 to 1.50) |" in part
    assert "| All cluster levels together | – | – | 1.36 (1.23 to 1.52) |" in part
    assert "9 of its 12 log hazard ratios (75%) lie inside" in part
    assert "of the 800 persons differ by 0.0123 on average" in part
    methods = _part(het_built, "heterogeneity_methods")
    assert "R-hat of at most 1.01" in methods and "(#sec-heterogeneity)" in methods
    assert "not performed in this run" not in methods


def test_small_counts_masked_and_small_clusters_never_listed_alone(het_built: Path) -> None:
    table = _part(het_built).split("{#tbl-heterogeneity-all-bayes-clusters-municipality}")[0]
    table = table.rsplit("| Municipality |", 1)[1]
    assert "M999" not in table  # 3 persons: not pooled upstream, so not shown at all
    assert "| M147 | 400 | \\<5 |" in table  # 3 events masked
    assert "| 1 smaller municipality pooled | \\<5 | \\<5 |" in table
    assert "| M160 | – |" in table  # complementary: the masked row is not recoverable
    assert "1 municipality with fewer than 5 persons, not pooled in the bundle" in _part(het_built)
    for tail in _part(het_built).split("| Hazard ratio (90% CrI) |")[1:]:
        for line in tail.split("\n\n")[0].splitlines():
            assert not re.search(r"\| [1-4] \|", line), line  # no count of 1 to 4 persons


def test_long_tables_are_cut_to_readable_length(het_built: Path) -> None:
    part = _part(het_built)
    practices = part.split("{#tbl-heterogeneity-all-bayes-clusters-practice}")[0]
    practices = practices.rsplit("| GP practice |", 1)[1]
    listed = re.findall(r"^\| (P\d{3}) \|", practices, re.MULTILINE)
    assert listed == [f"P{i:03d}" for i in (*range(5), *range(15, 20))]
    assert "the 5 lowest and 5 highest of 20 GP practices" in part
    assert "| 12 smaller GP practices pooled | 40 | 9 |" in practices
    posterior = part.split("{#tbl-heterogeneity-all-bayes-posterior}")[0].rsplit("| Parameter", 1)
    assert posterior[1].count("log HR: x") == 10 and "SD of GP practice effects" in posterior[1]
    assert "Not shown: 4 further log hazard ratios" in part
    assert "the 10 of 12 predictors that differ most" in part


def _failed(e: dict[str, Any]) -> None:
    e["diagnostics"][0].update(ok=False, max_r_hat=1.08, divergences=3)


def _no_comparator(e: dict[str, Any]) -> None:
    e["frequentist"] = {"model": None, "reason": "no frequentist Cox model was fitted"}


def _no_files(e: dict[str, Any]) -> None:
    e["figures"] = {"caterpillar": {"practice_id": "figures/gone.svg"}}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_failed, "Convergence diagnostics failed: largest rank-normalised R-hat 1.080"),
        (_failed, "**The posterior failed the convergence checks (R-hat, divergent "),
        (_no_comparator, "Not performed in this run: no frequentist Cox model was fitted."),
        (_no_files, "not shown, results/figures/gone.svg is absent"),
    ],
    ids=["diagnostics failed", "warning", "no comparator", "figure missing"],
)
def test_what_is_missing_or_failed_is_said(
    fresh_run: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    entry = _entry()
    change(entry)
    _write(fresh_run, entry)
    build_report(fresh_run, ())
    assert expected in _part(fresh_run / "report")


def test_other_file_shapes_stay_generic_tables(fresh_run: Path) -> None:
    stamp = json.loads((fresh_run / "results" / "performance.json").read_text())
    payload = {"protocol_fingerprint": stamp["protocol_fingerprint"], "random_effects": [
        {"cluster": "practice", "sd": 0.2, "mhr": 1.2}]}  # fmt: skip
    (fresh_run / "results" / "heterogeneity.json").write_text(json.dumps(payload))
    build_report(fresh_run, ())
    assert "random effects" in _part(fresh_run / "report")
    assert "hierarchical (random-effects)" in _part(fresh_run / "report", "heterogeneity_methods")


def test_several_models_get_their_own_headings_and_ids(fresh_run: Path) -> None:
    first, second = _entry(), _entry()
    first["model"] = second["model"] = "bayes_ph"
    _write(fresh_run, first)
    data = json.loads((fresh_run / "results" / "heterogeneity.json").read_text())
    data["models"].append(second)
    (fresh_run / "results" / "heterogeneity.json").write_text(json.dumps(data))
    build_report(fresh_run, ())
    part = _part(fresh_run / "report")
    assert part.count("### Model bayes\\_ph, arm all") == 2
    ids = re.findall(r"\{#((?:fig|tbl)-heterogeneity-[\w-]+)", part)
    assert len(ids) == len(set(ids)) and "tbl-heterogeneity-all-bayes-ph-2-variance" in ids
    assert "Variance partition and median hazard ratios, bayes\\_ph (arm all)." in part
