"""``epi evaluate``: review predicted risks made by anyone.

Writes ``metrics.json``, the calibration plot and decision curve (PNG and
SVG) and a short Markdown summary into one folder, each file atomically.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from epi.exceptions import StatisticalWarning, ValidationInputError
from epi.format import fmt_measure
from epi.io import atomic_write_json, atomic_write_text
from epi.validation._calibration import _binned, _curve
from epi.validation._checks import as_outcome, as_risk, check_horizon
from epi.validation._estimators import prepare
from epi.validation._performance import MEASURES, evaluate_predictions
from epi.validation._plots import plot_calibration, plot_decision_curve

#: Counts below this are shown as ``<5`` in the Markdown summary.
MIN_CELL = 5

_LABELS = {
    "harrell_c": "Harrell's C (truncated at horizon)",
    "uno_c": "Uno's C (truncated at horizon)",
    "auc": "Time-dependent AUC (IPCW)",
    "brier": "Brier score (IPCW)",
    "ipa": "IPA (vs Kaplan-Meier null)",
    "oe_ratio": "Observed/expected ratio",
    "calibration_slope": "Calibration slope (cloglog)",
    "citl": "Calibration-in-the-large (cloglog)",
    "ici": "ICI",
    "e50": "E50",
    "e90": "E90",
    "emax": "Emax",
}


def _count(k: int) -> str:
    return f"<{MIN_CELL}" if 0 < k < MIN_CELL else str(k)


def _markdown(metrics: dict[str, Any], source: str) -> str:
    names = list(metrics["models"])
    pct = round(100 * metrics["level"])
    lines = [
        f"# Validation of predicted risks at horizon {metrics['horizon']:g}",
        "",
        f"Source: `{source}`. Persons: {_count(metrics['n'])}; events by the horizon: "
        f"{_count(metrics['events'])}; competing events by the horizon: "
        f"{_count(metrics['competing_events'])}; observed risk (Kaplan-Meier/Aalen-Johansen): "
        f"{metrics['observed_risk']:.3f}.",
        "",
        (
            f"Estimates with {pct}% percentile bootstrap intervals "
            f"({metrics['n_bootstrap']} resamples of persons, seed {metrics['seed']})."
            if metrics["n_bootstrap"]
            else "Point estimates only (no bootstrap)."
        ),
        "",
        "| Measure | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for m in MEASURES:
        cells = [fmt_measure(metrics["models"][n][m]) for n in names]
        lines.append(f"| {_LABELS[m]} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Calibration slope, calibration-in-the-large and the smoothed curve (ICI, E50, E90, "
        "Emax) come from an IPCW quasi-binomial GLM with complementary log-log link on "
        "cloglog(predicted risk) (restricted cubic spline, 3 knots, for the curve). "
        "Net benefit uses the Kaplan-Meier (Aalen-Johansen) risk among those at or above "
        "the threshold.",
        "",
        "![Calibration](calibration.svg)",
        "",
        "![Decision curve](decision_curve.svg)",
        "",
    ]
    return "\n".join(lines)


def write_evaluation(
    out_dir: str | os.PathLike[str],
    duration: ArrayLike,
    event: ArrayLike,
    risks: Mapping[str, ArrayLike],
    horizon: float,
    *,
    thresholds: ArrayLike | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    source: str = "predictions",
) -> dict[str, Any]:
    """Evaluate predicted risks and write the review files.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``metrics.json``, ``calibration.{png,svg}``,
        ``decision_curve.{png,svg}`` and ``summary.md`` (created if missing).
    duration, event, risks, horizon, thresholds, n_bootstrap, seed
        As for :func:`epi.validation.evaluate_predictions`.
    source : str
        Named in the summary (for example the input file name).

    Returns
    -------
    dict
        The metrics written to ``metrics.json``.
    """
    metrics = evaluate_predictions(
        duration,
        event,
        risks,
        horizon,
        thresholds=thresholds,
        n_bootstrap=n_bootstrap,
        seed=seed,
        where=source,
    )
    t, e = as_outcome(duration, event)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # already warned above
        hd = prepare(t, e, check_horizon(t, e, horizon, where="outcome"))
    n_bins = int(min(10, t.size // MIN_CELL))
    curves, groups = {}, {}
    for name, risk in risks.items():
        r = as_risk(risk, t.size, name=name)
        curves[name] = _curve(hd, r)
        if n_bins >= 2:
            groups[name] = _binned(hd, r, n_bins)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_calibration(curves, hd.horizon, out / "calibration", groups=groups)
    nb = pd.DataFrame(
        [
            {
                "threshold": row["threshold"],
                "model": row["model"],
                "net_benefit": row["net_benefit"]["estimate"],
            }
            for row in metrics["net_benefit"]
        ]
    )
    plot_decision_curve(nb, hd.horizon, out / "decision_curve")
    metrics["calibration_curve"] = {
        name: c.round(6).to_dict(orient="list") for name, c in curves.items()
    }
    atomic_write_json(out / "metrics.json", _finite(metrics))
    atomic_write_text(out / "summary.md", _markdown(metrics, source))
    return metrics


def _finite(obj: Any) -> Any:
    """Replace NaN/inf by None so ``metrics.json`` is strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def read_predictions(
    path: str | os.PathLike[str], time: str, event: str, risk_cols: list[str]
) -> pd.DataFrame:
    """Read a CSV or parquet file of predictions and check the named columns.

    Raises
    ------
    ValidationInputError
        When the file is missing or of another type, or columns are missing
        or named twice.
    """
    p = Path(path)
    if not p.is_file():
        raise ValidationInputError(f"{p}: no such file; pass a CSV or parquet file of predictions.")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(p)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            raise ValidationInputError(
                f"{p}: unknown file type {suffix or '(none)'}; use .csv or .parquet."
            )
    except (ValueError, OSError) as exc:
        if isinstance(exc, ValidationInputError):
            raise
        raise ValidationInputError(f"{p}: cannot be read as {suffix[1:]}: {exc}") from None
    names = [time, event, *risk_cols]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ValidationInputError(f"{p}: column(s) {dup} named more than once in the options.")
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValidationInputError(
            f"{p}: column(s) {missing} not found; the file has {list(frame.columns)[:20]}."
        )
    return frame[names]
