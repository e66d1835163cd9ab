"""Recompute risks from an exported model specification (numpy only).

This module deliberately imports nothing but numpy and the standard library
(plus epi's numpy kernels), so a specification file can be re-used anywhere.
The file format is written by `epi.models.export_model_spec`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from epi.exceptions import ModelError

from ._core import cause_specific_cif, rp_log_cumhaz, step_at, stratum_labels
from ._splines import rcs_basis

__all__ = ["SPEC_FORMAT", "load_model_spec", "predict_from_spec"]

#: ``format`` field of every specification file.
SPEC_FORMAT = "epi.model_spec/1"


def load_model_spec(spec: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read a specification (path or already-loaded dict) and check its format."""
    if isinstance(spec, Mapping):
        obj = dict(spec)
    else:
        with open(spec, encoding="utf-8") as fh:
            obj = json.load(fh)
    if obj.get("format") != SPEC_FORMAT:
        raise ModelError(
            f"not an epi model specification (format {obj.get('format')!r}, expected "
            f"{SPEC_FORMAT!r}); write it with epi.models.export_model_spec."
        )
    return obj


def _column(X: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(X[name])
    except (KeyError, IndexError):
        raise ModelError(f"X lacks column {name!r} required by the model specification.") from None


def _terms(design: Mapping[str, Any], X: Any) -> np.ndarray:
    blocks = []
    for c in design["input_columns"]:
        x = _column(X, c).astype(float)
        if not np.all(np.isfinite(x)):
            raise ModelError(f"X column {c!r} has missing or infinite values.")
        sp = design["splines"].get(c)
        blocks.append(rcs_basis(x, np.asarray(sp["knots"])) if sp else x[:, None])
    return np.hstack(blocks)


def _lp(block: Mapping[str, Any], terms: list[str], Z: np.ndarray) -> np.ndarray:
    beta = np.array([block["coefficients"][t] for t in terms], dtype=float)
    means = np.array([block["centring"][t] for t in terms], dtype=float)
    return (Z - means) @ beta


def _labels(design: Mapping[str, Any], X: Any, n: int) -> np.ndarray:
    names = design["strata"]
    labels = stratum_labels(names, [_column(X, s) for s in names], n)
    unseen = sorted(set(labels) - set(design["strata_levels"]))
    if unseen:
        raise ModelError(f"stratum value(s) not in the specification: {unseen[:5]}.")
    return labels


def predict_from_spec(
    spec: str | os.PathLike[str] | Mapping[str, Any], X: Any, horizon: float
) -> np.ndarray:
    """Absolute risk of ``event == 1`` by ``horizon`` from a specification file alone.

    Parameters
    ----------
    spec : path or dict
        A file written by `export_model_spec` (or its parsed JSON).
    X : pandas.DataFrame or mapping of column name to 1-d array
        The model's input columns (``input_columns`` and ``strata`` of the spec).
    horizon : float
        Days since index.

    Returns
    -------
    numpy.ndarray
        One risk per row, equal to the fitted model's ``predict_risk`` up to
        floating-point rounding.
    """
    s = load_model_spec(spec)
    h = float(horizon)
    if not np.isfinite(h) or h <= 0:
        raise ModelError(f"horizon must be finite and > 0 days, got {horizon!r}.")
    design = s["design"]
    Z = _terms(design, X)
    n = Z.shape[0]
    kind = s["kind"]
    if kind == "cox":
        labels = _labels(design, X, n)
        lp = _lp(s["model"], design["terms"], Z)
        base = s["model"]["baseline"]
        H0 = {
            k: step_at(np.asarray(v["times"]), np.asarray(v["cumulative_hazard"]), h)
            for k, v in base.items()
        }
        h0 = np.array([H0[k] for k in labels], dtype=float)
        return 1.0 - np.exp(-h0 * np.exp(lp))
    if kind == "cause_specific_cox":
        labels = _labels(design, X, n)
        m1, m2 = s["model"]["cause1"], s["model"]["cause2"]
        lp1 = _lp(m1, design["terms"], Z)
        lp2 = _lp(m2, design["terms"], Z)
        risk = np.zeros(n)
        empty = {"times": [], "cumulative_hazard": []}
        for k in np.unique(labels):
            m = labels == k
            b1, b2 = m1["baseline"][k], m2["baseline"].get(k, empty)
            t1, H1 = np.asarray(b1["times"], float), np.asarray(b1["cumulative_hazard"], float)
            t2, H2 = np.asarray(b2["times"], float), np.asarray(b2["cumulative_hazard"], float)
            risk[m] = cause_specific_cif(
                t1,
                np.diff(H1, prepend=0.0),
                t2,
                np.diff(H2, prepend=0.0),
                np.exp(lp1[m]),
                np.exp(lp2[m]),
                h,
                bool(s["model"]["product_limit"]),
            )
        return np.clip(risk, 0.0, 1.0)
    if kind == "weibull":
        mdl = s["model"]
        lp = _lp(mdl, design["terms"], Z) + float(mdl["intercept"])
        return 1.0 - np.exp(-((h / np.exp(lp)) ** (1.0 / float(mdl["scale"]))))
    if kind == "flexible_parametric":
        mdl = s["model"]
        lp = _lp(mdl, design["terms"], Z)
        log_h0 = rp_log_cumhaz(h, np.asarray(mdl["log_time_knots"]), np.asarray(mdl["gamma"]))
        return 1.0 - np.exp(-np.exp(log_h0 + lp))
    raise ModelError(f"cannot predict from a specification of kind {kind!r}.")
