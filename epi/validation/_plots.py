"""Calibration plot and decision curve, written as PNG and SVG.

Disclosure: the figures show only summaries - smoothed curves with their
band and risk-group means of at least the minimum cell size - never
person-level points or a rug of individual risks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from epi.io import atomic_path
from epi.validation._decision import TREAT_ALL, TREAT_NONE

_FORMATS = ("png", "svg")


def _save(fig: Figure, stem: str | os.PathLike[str]) -> list[Path]:
    paths = []
    for fmt in _FORMATS:
        path = Path(f"{os.fspath(stem)}.{fmt}")
        # No date and a fixed id salt keep the SVG byte-identical between runs.
        meta = {"Date": None} if fmt == "svg" else {"Software": "epi"}
        with atomic_path(path) as tmp, rc_context({"svg.hashsalt": "epi"}):
            fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight", metadata=meta)
        paths.append(path)
    return paths


def plot_calibration(
    curves: Mapping[str, pd.DataFrame],
    horizon: float,
    stem: str | os.PathLike[str],
    *,
    groups: Mapping[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """Draw smoothed calibration curves with their confidence bands.

    Parameters
    ----------
    curves : mapping of str to DataFrame
        By model: columns ``predicted``, ``observed``, ``lower``, ``upper``
        (from :func:`epi.validation.calibration_curve`).
    horizon : float
        Shown in the title.
    stem : path-like
        Output path without suffix; ``.png`` and ``.svg`` are written.
    groups : mapping of str to DataFrame, optional
        By model: risk-group summaries with ``mean_predicted`` and
        ``observed`` (drawn as open markers).

    Returns
    -------
    list of pathlib.Path
    """
    fig = Figure(figsize=(5.5, 5.0))
    ax = fig.subplots()
    top = 0.0
    for k, (name, c) in enumerate(curves.items()):
        colour = f"C{k}"
        ax.fill_between(c["predicted"], c["lower"], c["upper"], color=colour, alpha=0.2, lw=0)
        ax.plot(c["predicted"], c["observed"], color=colour, lw=2, label=name)
        top = max(top, float(c["predicted"].max()), float(np.nanmax(c["upper"])))
        if groups is not None and name in groups:
            g = groups[name]
            ax.plot(g["mean_predicted"], g["observed"], "o", mfc="none", color=colour, ms=5)
            top = max(top, float(np.nanmax(g["observed"])))
    top = min(1.0, top * 1.05) if top > 0 else 1.0
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="ideal")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"Predicted risk by {horizon:g}")
    ax.set_ylabel(f"Observed risk by {horizon:g}")
    ax.set_title("Calibration (smoothed, 95% band; circles: risk tenths)", fontsize=9)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _save(fig, stem)


def plot_decision_curve(
    curve: pd.DataFrame, horizon: float, stem: str | os.PathLike[str]
) -> list[Path]:
    """Draw net benefit against threshold for models, treat-all and treat-none.

    Parameters
    ----------
    curve : DataFrame
        Long table with ``threshold``, ``model``, ``net_benefit`` (as from
        :func:`epi.validation.decision_curve`).
    horizon : float
    stem : path-like
        Output path without suffix; ``.png`` and ``.svg`` are written.

    Returns
    -------
    list of pathlib.Path
    """
    fig = Figure(figsize=(6.0, 4.5))
    ax = fig.subplots()
    models = [m for m in pd.unique(curve["model"]) if m not in (TREAT_ALL, TREAT_NONE)]
    for k, name in enumerate(models):
        part = curve[curve["model"] == name]
        ax.plot(part["threshold"], part["net_benefit"], color=f"C{k}", lw=2, label=name)
    styles = {TREAT_ALL: ("black", "-", "treat all"), TREAT_NONE: ("grey", "--", "treat none")}
    for name, (colour, ls, label) in styles.items():
        part = curve[curve["model"] == name]
        if not part.empty:
            ax.plot(part["threshold"], part["net_benefit"], color=colour, ls=ls, lw=1, label=label)
    top = float(np.nanmax(curve["net_benefit"]))
    top = top * 1.1 if top > 0 else 0.01
    ax.set_ylim(-0.25 * top, top)
    ax.set_xlim(float(curve["threshold"].min()), float(curve["threshold"].max()))
    ax.set_xlabel("Threshold risk")
    ax.set_ylabel(f"Net benefit by {horizon:g}")
    ax.set_title("Decision curve", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, stem)
