"""Figures of the report, drawn from aggregated bundle data only.

Each figure is written as SVG and PNG with its alt text in the file metadata;
no figure plots person-level points (calibration shows smoothed curves and
group means of groups with at least ``min_cell`` persons).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from epi.disclosure import is_masked
from epi.io import atomic_path, atomic_write_bytes, atomic_write_text
from epi.report._flow import FlowBox

__all__ = [
    "FigureFile",
    "calibration_figure",
    "copy_figure",
    "decision_figure",
    "flow_figure",
    "missingness_figure",
    "save_figure",
    "subgroup_figure",
]

_STYLE = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "epi-report",  # stable SVG ids: same bundle, same files
}
_COLORS = ["#1b6ca8", "#d1495b", "#2e8540", "#edae49", "#6f4e7c", "#00798c", "#7f7f7f"]


@dataclass(frozen=True)
class FigureFile:
    """A written figure: file stem, caption and alt text."""

    name: str
    svg: Path
    png: Path
    caption: str
    alt: str


def save_figure(fig: Figure, folder: Path, name: str, caption: str, alt: str) -> FigureFile:
    """Write ``fig`` as ``name.svg`` and ``name.png`` atomically, alt text in the metadata."""
    svg, png = folder / f"{name}.svg", folder / f"{name}.png"
    with atomic_path(svg) as tmp:
        fig.savefig(
            tmp, format="svg", metadata={"Title": caption, "Description": alt, "Date": None}
        )
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=150, metadata={"Title": caption, "Description": alt})
    return FigureFile(name, svg, png, caption, alt)


def copy_figure(svg: Path, folder: Path, name: str, caption: str, alt: str) -> FigureFile:
    """Copy a figure of the results bundle (``svg`` and its ``.png`` sibling) into the report.

    The SVG gets the caption and alt text as its ``<title>`` and ``<desc>``
    (read by screen readers); a PNG is copied as it is. Used for figures that
    the analysis draws from the fitted model (e.g. the heterogeneity plots).

    Returns
    -------
    FigureFile
        Its ``png`` does not exist when the bundle holds no PNG.

    Raises
    ------
    FileNotFoundError
        If ``svg`` is absent.
    """
    text = svg.read_text(encoding="utf-8")
    tag = re.search(r"<svg\b[^>]*>", text)
    if tag:
        label = f"<title>{xml_escape(caption)}</title><desc>{xml_escape(alt)}</desc>"
        text = text[: tag.end()] + label + text[tag.end() :]
    out_svg, out_png = folder / f"{name}.svg", folder / f"{name}.png"
    atomic_write_text(out_svg, text)
    png = svg.with_suffix(".png")
    if png.is_file():
        atomic_write_bytes(out_png, png.read_bytes())
    return FigureFile(name, out_svg, out_png, caption, alt)


def flow_figure(boxes: Sequence[FlowBox]) -> Figure:
    """Participant flow: remaining persons down the left, exclusions to the right."""
    with rc_context(_STYLE):
        n_main = sum(b.kind == "remaining" for b in boxes)
        height = 1.25 * n_main + 0.4
        fig = Figure(figsize=(7.2, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, height)
        ax.axis("off")
        y = height - 0.75
        prev_y = None
        for box in boxes:
            if box.kind == "remaining":
                text = "\n".join(textwrap.wrap(box.text, 34)) + f"\nn = {box.n}"
                if box.note:
                    text += "\n" + "\n".join(textwrap.wrap(box.note, 34))
                _box(ax, 2.3, y, 4.2, text, "#e8f0f8")
                if prev_y is not None:
                    ax.annotate("", xy=(2.3, y + 0.38), xytext=(2.3, prev_y - 0.38),
                                arrowprops={"arrowstyle": "-|>", "color": "#333333"})  # fmt: skip
                prev_y = y
                y -= 1.25
            else:
                mid = y + 0.625
                text = "\n".join(textwrap.wrap(box.text, 40)) + f"\nn = {box.n}"
                _box(ax, 7.3, mid, 4.8, text, "#fbeaea")
                ax.annotate("", xy=(4.9, mid), xytext=(2.3, mid),
                            arrowprops={"arrowstyle": "-|>", "color": "#333333"})  # fmt: skip
        return fig


def _box(ax: Any, x: float, y: float, width: float, text: str, color: str) -> None:
    lines = text.count("\n") + 1
    h = max(0.62, 0.2 * lines + 0.12)
    ax.add_patch(
        FancyBboxPatch((x - width / 2, y - h / 2), width, h, boxstyle="round,pad=0.02",
                       facecolor=color, edgecolor="#444444", linewidth=0.8)
    )  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _grid(n: int) -> tuple[Figure, list[Any]]:
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(3.6 * cols, 3.3 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def calibration_figure(curves: list[dict[str, Any]], horizon: str) -> Figure:
    """Smoothed calibration with 95% bands per arm; group means where groups are not masked."""
    arms = list(dict.fromkeys(str(c.get("arm")) for c in curves))
    models = list(dict.fromkeys(str(c.get("model")) for c in curves))
    with rc_context(_STYLE):
        fig, axes = _grid(len(arms))
        for ax, arm in zip(axes, arms, strict=True):
            top = 0.0
            for curve in (c for c in curves if str(c.get("arm")) == arm):
                color = _COLORS[models.index(str(curve.get("model"))) % len(_COLORS)]
                pts = [p for p in curve.get("points") or [] if p.get("predicted") is not None]
                pts.sort(key=lambda p: p["predicted"])
                x = [p["predicted"] for p in pts]
                if x:
                    ax.plot(x, [p["observed"] for p in pts], color=color, lw=1.5,
                            label=str(curve.get("model")))  # fmt: skip
                    if all(p.get("lower") is not None for p in pts):
                        ax.fill_between(x, [p["lower"] for p in pts], [p["upper"] for p in pts],
                                        color=color, alpha=0.15, lw=0)  # fmt: skip
                    top = max(top, *x, *(p["observed"] for p in pts))
                groups = [g for g in curve.get("groups") or [] if not is_masked(str(g.get("n")))]
                if groups:
                    gx = [g["predicted"] for g in groups]
                    gy = [g["observed"] for g in groups]
                    ax.scatter(gx, gy, s=14, color=color, marker="o", zorder=3)
                    top = max(top, *gx, *gy)
            top = min(1.0, top * 1.08 or 1.0)
            ax.plot([0, top], [0, top], ls="--", color="#888888", lw=0.8)
            ax.set_xlim(0, top)
            ax.set_ylim(0, top)
            ax.set_title(arm)
            ax.set_xlabel(f"Predicted risk by {horizon}")
            ax.set_ylabel("Observed risk")
            ax.legend(frameon=False, fontsize=8, loc="upper left")
        fig.tight_layout()
        return fig


def decision_figure(rows: list[dict[str, Any]]) -> Figure:
    """Net benefit against threshold probability per arm, with treat-all and treat-none."""
    refs = [r for r in rows if r["model"] in ("treat_all", "treat_none")]
    arms = list(
        dict.fromkeys(r["arm"] for r in rows if r["model"] not in ("treat_all", "treat_none"))
    )
    models = list(
        dict.fromkeys(r["model"] for r in rows if r["model"] not in ("treat_all", "treat_none"))
    )
    with rc_context(_STYLE):
        fig, axes = _grid(max(len(arms), 1))
        for ax, arm in zip(axes, arms, strict=True):
            nb_max = 0.0
            for model in models:
                pts = sorted(
                    ((r["threshold"], r["net_benefit"]) for r in rows
                     if r["arm"] == arm and r["model"] == model),
                )  # fmt: skip
                if pts:
                    color = _COLORS[models.index(model) % len(_COLORS)]
                    ax.plot(*zip(*pts, strict=True), color=color, lw=1.5, label=model)
                    nb_max = max(nb_max, *(p[1] for p in pts))
            for ref, style in (("treat_all", ":"), ("treat_none", "-")):
                pts = sorted(
                    ((r["threshold"], r["net_benefit"]) for r in refs
                     if r["model"] == ref and r["arm"] in (None, arm)),
                )  # fmt: skip
                pts = list(dict(pts).items())
                if pts:
                    ax.plot(*zip(*pts, strict=True), color="#555555", ls=style, lw=1,
                            label=ref.replace("_", " "))  # fmt: skip
                    nb_max = max(nb_max, *(p[1] for p in pts))
            ax.set_ylim(-0.01, max(nb_max * 1.1, 0.01))
            ax.set_title(str(arm))
            ax.set_xlabel("Threshold probability")
            ax.set_ylabel("Net benefit")
            ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return fig


def missingness_figure(features: list[dict[str, Any]]) -> Figure:
    """Percentage missing per predictor, grouped by feature set."""
    feats = sorted(features, key=lambda f: (str(f.get("set")), str(f.get("feature"))))
    sets = list(dict.fromkeys(str(f.get("set")) for f in feats))
    with rc_context(_STYLE):
        fig = Figure(figsize=(7.2, 0.25 * len(feats) + 1.2))
        ax = fig.subplots()
        y = list(range(len(feats)))[::-1]
        colors = [_COLORS[sets.index(str(f.get("set"))) % len(_COLORS)] for f in feats]
        ax.barh(y, [float(f.get("pct_missing") or 0) for f in feats], color=colors)
        ax.set_yticks(y, [str(f.get("feature")) for f in feats], fontsize=7)
        ax.set_xlabel("Missing (%)")
        ax.set_xlim(0, 100)
        handles = [
            Rectangle((0, 0), 1, 1, color=_COLORS[i % len(_COLORS)]) for i in range(len(sets))
        ]
        ax.legend(handles, sets, frameon=False, fontsize=8, loc="lower right")
        fig.tight_layout()
        return fig


def subgroup_figure(rows: list[tuple[str, float, float, float]], measure: str) -> Figure:
    """Forest plot: one row per subgroup level (label, estimate, lower, upper)."""
    with rc_context(_STYLE):
        fig = Figure(figsize=(6.5, 0.28 * len(rows) + 1.0))
        ax = fig.subplots()
        y = list(range(len(rows)))[::-1]
        for yi, (_, est, lo, hi) in zip(y, rows, strict=True):
            ax.plot([lo, hi], [yi, yi], color="#1b6ca8", lw=1.2)
            ax.plot([est], [yi], "s", color="#1b6ca8", ms=4)
        ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
        ax.set_xlabel(measure)
        fig.tight_layout()
        return fig
