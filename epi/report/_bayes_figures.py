"""Figures of the hierarchical models: caterpillar and shrinkage plots (TRIPOD+AI 12d, 23b).

Presentation of `epi.models.bayes`' summaries (`group_effects`,
`shrinkage_table`); the study's heterogeneity stage writes them into the
results bundle's ``results/figures/``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from epi.exceptions import ReportError
from epi.io import atomic_write_bytes
from epi.models.bayes import group_effects, shrinkage_table

__all__ = ["caterpillar_plot", "shrinkage_plot", "write_figure"]


def caterpillar_plot(
    model: Any,
    group: str,
    path: str | os.PathLike[str] | None = None,
    *,
    prob: float = 0.9,
    min_size: int = 5,
) -> Any:
    """Caterpillar plot of the cluster hazard ratios with ``prob`` credible intervals.

    Parameters
    ----------
    model : fitted Bayesian survival model
    group : str
        One of the model's groups.
    path : path-like, optional
        Write the figure there (``.svg`` or ``.png``, atomically).
    prob, min_size
        As `group_effects` (small clusters pooled).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    table = group_effects(model, group, prob=prob, min_size=min_size)
    # one labelled row per cluster up to 40; beyond, a fixed height that fits a page
    height = max(2.5, 0.12 * len(table) + 1.2) if len(table) <= 40 else 6.0
    fig = Figure(figsize=(6.0, height))
    ax = fig.add_subplot()
    y = np.arange(len(table))
    ax.hlines(y, table["hr_lower"], table["hr_upper"], color="0.4", linewidth=1)
    ax.plot(np.exp(table["mean"]), y, "o", color="C0", markersize=3)
    ax.axvline(1.0, color="0.2", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"hazard ratio vs the average {group} ({prob:.0%} credible interval)")
    ax.set_ylabel(group)
    if len(table) <= 40:
        ax.set_yticks(y, [str(v) for v in table.index], fontsize=7)
    else:
        ax.set_yticks([])
    fig.tight_layout()
    if path is not None:
        write_figure(fig, path, where="caterpillar_plot")
    return fig


def write_figure(fig: Any, path: str | os.PathLike[str], *, where: str = "write_figure") -> Path:
    """Write a matplotlib figure atomically as ``.svg`` or ``.png`` (by the suffix).

    SVG ids are salted with a fixed string and no date is stored, so the same
    figure gives the same file.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path-like
        Ending in ``.svg`` or ``.png``.
    where : str
        Name used in the error message.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from matplotlib import rc_context

    fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
    if fmt not in ("svg", "png"):
        raise ReportError(f"{where} writes .svg or .png, not {os.fspath(path)!r}.")
    buf = io.BytesIO()
    with rc_context({"svg.hashsalt": "epi-bayes"}):
        fig.savefig(buf, format=fmt, dpi=150, metadata={"Date": None} if fmt == "svg" else None)
    return atomic_write_bytes(path, buf.getvalue())


def shrinkage_plot(
    model: Any,
    group: str,
    path: str | os.PathLike[str] | None = None,
    *,
    min_size: int = 5,
    table: pd.DataFrame | None = None,
) -> Any:
    """Shrinkage plot: each cluster's posterior mean effect against its unpooled estimate.

    One point per cluster with at least ``min_size`` persons, its area
    proportional to the cluster's persons; the dotted identity line is "no
    pooling" and the horizontal line at 0 "complete pooling". Points of small
    clusters lie nearer 0 than those of large ones (see `shrinkage_table`).

    Parameters
    ----------
    model : fitted Bayesian survival model
    group : str
        One of the model's groups.
    path : path-like, optional
        Write the figure there (``.svg`` or ``.png``, atomically).
    min_size : int
        Clusters with fewer persons are left out (their number is noted).
    table : pandas.DataFrame, optional
        A precomputed `shrinkage_table` of the same model, group and ``min_size``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    t = shrinkage_table(model, group, min_size=min_size) if table is None else table
    fig = Figure(figsize=(6.4, 4.2))  # wide: a page-wide figure stays under half a page
    ax = fig.add_subplot()
    x = t["unpooled"].to_numpy(dtype=float)
    y = t["posterior_mean"].to_numpy(dtype=float)
    n = t["n_persons"].to_numpy(dtype=float)
    lim = 1.08 * max(0.1, float(np.abs(np.r_[x, y]).max())) if len(t) else 1.0
    ax.axhline(0.0, color="0.6", linewidth=0.8, label="complete pooling (0)")
    ax.plot([-lim, lim], [-lim, lim], ":", color="0.2", linewidth=1, label="no pooling (identity)")
    if len(t):
        area = 10 + 150 * n / n.max()
        ax.scatter(x, y, s=area, color="C0", alpha=0.55, edgecolors="white", linewidths=0.5)
    else:
        ax.text(0, 0, f"no {group} with {min_size} or more persons", ha="center", va="center")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("unpooled log hazard ratio (own events vs expected)")
    ax.set_ylabel("posterior mean log hazard ratio")
    note = f"{group}: point area proportional to persons"
    masked = int(t.attrs.get("n_masked_levels", 0))
    if masked:
        note += f"\n{masked} level(s) under {min_size} persons not shown"
    ax.set_title(note, fontsize=8, color="0.3")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    fig.tight_layout()
    if path is not None:
        write_figure(fig, path, where="shrinkage_plot")
    return fig
