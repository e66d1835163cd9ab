"""Shrinkage plot and pooling by cluster size (report material for TRIPOD+AI 12d/23b)."""

from __future__ import annotations

import numpy as np
import pytest

from epi.exceptions import EpiError
from epi.models.bayes import (
    BayesWeibullPHModel,
    shrinkage_summary,
    shrinkage_table,
)
from epi.report import caterpillar_plot, shrinkage_plot, write_figure

from .conftest import simulate_crossed

GROUPS = ("practice_id", "municipality_code")


@pytest.fixture(scope="module")
def small_fit() -> BayesWeibullPHModel:
    """A quick fit (few draws, diagnostics off): the figures need a posterior, not a good one."""
    X, outcome, _ = simulate_crossed(n=600, n_practices=30, n_municipalities=6, seed=2)
    model = BayesWeibullPHModel(
        groups=GROUPS, draws=150, tune=150, chains=2, cores=1, seed=3, sampler="pymc",
        diagnostics=False,
    )  # fmt: skip
    return model.fit(X, outcome)


def test_shrinkage_summary_bands_every_cluster_once(small_fit: BayesWeibullPHModel) -> None:
    table = shrinkage_table(small_fit, "practice_id", min_size=15)
    bands = shrinkage_summary(small_fit, "practice_id", min_size=15, table=table)
    assert bands.attrs["n_masked_levels"] == table.attrs["n_masked_levels"] > 0
    assert bands["n_levels"].sum() == len(table)
    assert list(bands.columns) == [
        "n_levels", "mean_pooling", "mean_abs_unpooled", "mean_abs_posterior", "ratio"
    ]  # fmt: skip
    assert bands.index[0].startswith("15–")  # the first band starts at the minimum size
    assert "n_persons" not in bands  # no person counts: none recoverable from the total
    # small clusters are pooled more than large ones, and effects shrink towards 0
    assert bands["mean_pooling"].is_monotonic_decreasing
    assert (bands["ratio"] < 1).all()
    again = shrinkage_summary(small_fit, "practice_id", min_size=15)
    np.testing.assert_allclose(again["mean_pooling"], bands["mean_pooling"])


def test_shrinkage_plot_writes_svg_and_png(small_fit: BayesWeibullPHModel, tmp_path) -> None:
    fig = shrinkage_plot(small_fit, "municipality_code", tmp_path / "s.svg", min_size=5)
    (ax,) = fig.axes
    table = shrinkage_table(small_fit, "municipality_code", min_size=5)
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], table["unpooled"])
    np.testing.assert_allclose(offsets[:, 1], table["posterior_mean"])
    assert (tmp_path / "s.svg").stat().st_size > 1000
    write_figure(fig, tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG")
    # the same figure gives the same file
    shrinkage_plot(small_fit, "municipality_code", tmp_path / "t.svg", min_size=5)
    assert (tmp_path / "s.svg").read_bytes() == (tmp_path / "t.svg").read_bytes()


def test_caterpillar_of_many_clusters_fits_a_page(small_fit: BayesWeibullPHModel) -> None:
    fig = caterpillar_plot(small_fit, "practice_id", min_size=1)  # 30 rows, labelled
    assert fig.get_size_inches()[1] == pytest.approx(0.12 * 30 + 1.2)
    assert len(fig.axes[0].get_yticklabels()) == 30


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m, p: shrinkage_plot(m, "practice_id", p / "s.pdf"),
         r"shrinkage_plot writes \.svg or \.png, not '.*s\.pdf'"),
        (lambda m, p: shrinkage_plot(m, "region", p / "s.svg"),
         r"group 'region' is not one of the model's groups"),
        (lambda m, p: shrinkage_summary(m, "region"),
         r"group 'region' is not one of the model's groups"),
    ],
    ids=["bad suffix", "unknown group (plot)", "unknown group (summary)"],
)  # fmt: skip
def test_bad_input(small_fit: BayesWeibullPHModel, tmp_path, call, match: str) -> None:
    with pytest.raises(EpiError, match=match):
        call(small_fit, tmp_path)
