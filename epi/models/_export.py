"""Export a fitted model's full specification (TRIPOD+AI item 22)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from epi.exceptions import ModelError
from epi.io import atomic_write_json

from ._competing import CauseSpecificCoxModel
from ._cox import CoxModel, check_fitted
from ._parametric import FlexibleParametricModel, WeibullModel
from ._spec import SPEC_FORMAT

__all__ = ["export_model_spec", "is_exportable", "model_spec"]


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("epi", "lifelines", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "unknown"
    return out


def _num(v: float) -> str:
    return f"{v:.6g}"


def _lp_text(coef: dict[str, float], means: dict[str, float] | None) -> str:
    parts = []
    for t, b in coef.items():
        x = f"({t} - {_num(means[t])})" if means is not None else t
        parts.append(f"{_num(b)} * {x}")
    return " + ".join(parts).replace("+ -", "- ")


def _spline_text(design: dict[str, Any]) -> list[str]:
    lines = []
    for name, sp in design["splines"].items():
        k = sp["knots"]
        kk = len(k)
        for j, term in enumerate(sp["terms"][1:]):
            tj, tk1, tk = k[j], k[kk - 2], k[kk - 1]
            lines.append(
                f"{term} = [({name} - {_num(tj)})_+^3 - ({name} - {_num(tk1)})_+^3 * "
                f"{_num((tk - tj) / (tk - tk1))} + ({name} - {_num(tk)})_+^3 * "
                f"{_num((tk1 - tj) / (tk - tk1))}] / {_num((tk - k[0]) ** 2)}"
            )
    return lines


def _cox_block(m: CoxModel, horizons: Sequence[float]) -> dict[str, Any]:
    return {
        "event": int(m.cause),
        "coefficients": {t: float(v) for t, v in m.coef_.items()},
        "standard_errors": {t: (float(v) if np.isfinite(v) else None) for t, v in m.se_.items()},
        "centring": {t: float(v) for t, v in m.means_.items()},
        "baseline_ties": m.baseline_ties,
        "baseline": {
            s: {"times": [float(x) for x in t], "cumulative_hazard": [float(x) for x in H]}
            for s, (t, H) in m.baseline_.items()
        },
        "baseline_at_horizons": {
            s: {_num(h): float(m.baseline_cumhaz(h)[s]) for h in horizons} for s in m.baseline_
        },
        "n_events": int(m.n_events_),
        "penalizer": float(m.penalizer),
        "l1_ratio": float(m.l1_ratio),
        "engine": m.engine,
    }


def _design_block(design: Any) -> dict[str, Any]:
    d = design.spec()
    d["strata_levels"] = list(design.strata_levels_)
    return d


def model_spec(model: Any, horizons: Sequence[float] = ()) -> dict[str, Any]:
    """The specification of a fitted model as a JSON-ready dict.

    Supported: `CoxModel`, `CauseSpecificCoxModel`, `WeibullModel`,
    `FlexibleParametricModel`. It holds
    the model kind, input columns, model terms, spline knots and basis
    definition (``rcs_harrell_norm2``: Harrell's restricted cubic spline,
    ``Hmisc::rcspline.eval(norm=2)``), strata, coefficients, centring means,
    the baseline cumulative hazard on the full grid of event times per stratum
    (and, readable, at ``horizons``) and a formula string.

    Parameters
    ----------
    model : fitted model
    horizons : sequence of float
        Horizons (days) at which the baseline cumulative hazard is also listed.

    Returns
    -------
    dict
    """
    horizons = [float(h) for h in horizons]
    base: dict[str, Any] = {"format": SPEC_FORMAT, "versions": _versions(), "horizons": horizons}
    if isinstance(model, CauseSpecificCoxModel):
        check_fitted(model, "cause1_")
        design = _design_block(model.cause1_.design_)
        b1 = _cox_block(model.cause1_, horizons)
        b2 = _cox_block(model.cause2_, horizons)
        s_text = "Π_{t_i < t_j} (1 - dΛ1 - dΛ2)" if model.product_limit else "exp(-(Λ1 + Λ2))"
        formula = [
            "risk(h) = F1(h) = Σ_{t_j <= h} S(t_{j-1}) dΛ1(t_j), over the pooled event times "
            "t_j of both causes in the person's stratum s,",
            f"S(t_j) = {s_text}, dΛc(t_j) = dH0c_s(t_j) * exp(lp_c) "
            "(dH0c_s: jumps of model.causeC.baseline[s].cumulative_hazard),",
            "lp_1 = " + _lp_text(b1["coefficients"], b1["centring"]),
            "lp_2 = " + _lp_text(b2["coefficients"], b2["centring"]),
            *_spline_text(design),
        ]
        return {
            **base,
            "kind": "cause_specific_cox",
            "design": design,
            "model": {"cause1": b1, "cause2": b2, "product_limit": bool(model.product_limit)},
            "formula": "\n".join(formula),
        }
    if isinstance(model, CoxModel):
        check_fitted(model, "coef_")
        if model.cause != 1:
            raise ModelError("only a CoxModel of event == 1 (cause=1) can be exported.")
        design = _design_block(model.design_)
        b = _cox_block(model, horizons)
        formula = [
            "risk(h) = 1 - exp(-H0_s(h) * exp(lp)) = 1 - S0_s(h)^exp(lp), H0_s = "
            "model.baseline[s] (step function, right-continuous) for the person's stratum s,",
            "lp = " + _lp_text(b["coefficients"], b["centring"]),
            *_spline_text(design),
        ]
        return {**base, "kind": "cox", "design": design, "model": b, "formula": "\n".join(formula)}
    if isinstance(model, WeibullModel):
        check_fitted(model, "coef_")
        design = _design_block(model.design_)
        zeros = {t: 0.0 for t in model.coef_.index}
        b = {
            "intercept": float(model.intercept_),
            "scale": float(model.scale_),
            "coefficients": {t: float(v) for t, v in model.coef_.items()},
            "centring": zeros,
        }
        formula = [
            "risk(h) = 1 - exp(-(h / exp(lp))^(1/scale)) (Weibull AFT, as R survreg),",
            f"scale = {_num(b['scale'])}, lp = {_num(b['intercept'])} + "
            + _lp_text(b["coefficients"], None),
            *_spline_text(design),
        ]
        return {
            **base,
            "kind": "weibull",
            "design": design,
            "model": b,
            "formula": "\n".join(formula),
        }
    if isinstance(model, FlexibleParametricModel):
        check_fitted(model, "coef_")
        design = _design_block(model.design_)
        b = {
            "coefficients": {t: float(v) for t, v in model.coef_.items()},
            "centring": {t: float(v) for t, v in model.means_.items()},
            "gamma": [float(v) for v in model.gamma_],
            "log_time_knots": [float(v) for v in model.time_knots_],
        }
        k = b["log_time_knots"]
        spline = " + ".join(f"{_num(b['gamma'][i])} * v{i - 1}(u)" for i in range(2, len(k)))
        formula = [
            "risk(h) = 1 - exp(-exp(log H0(h) + lp)) (Royston–Parmar, PH scale),",
            (
                f"log H0(h) = {_num(b['gamma'][0])} + {_num(b['gamma'][1])} * u"
                + (f" + {spline}" if spline else "")
                + ", u = log(h),"
            ).replace("+ -", "- "),
            "v_j(u) = (u - k_j)_+^3 - l_j (u - k_min)_+^3 - (1 - l_j) (u - k_max)_+^3, "
            "l_j = (k_max - k_j)/(k_max - k_min), knots k = model.log_time_knots,",
            "lp = " + _lp_text(b["coefficients"], b["centring"]),
            *_spline_text(design),
        ]
        return {
            **base,
            "kind": "flexible_parametric",
            "design": design,
            "model": b,
            "formula": "\n".join(formula),
        }
    raise ModelError(
        f"cannot export a {type(model).__name__}: specifications exist for CoxModel, "
        "CauseSpecificCoxModel, WeibullModel and FlexibleParametricModel (forests and "
        "boosting have no formula)."
    )


def is_exportable(model: Any) -> bool:
    """Whether `model_spec` can write ``model`` (a closed-form regression model)."""
    return isinstance(
        model, CoxModel | CauseSpecificCoxModel | WeibullModel | FlexibleParametricModel
    )


def export_model_spec(
    model: Any, path: str | os.PathLike[str], horizons: Sequence[float] = ()
) -> Path:
    """Write `model_spec` as JSON to ``path`` atomically and return the path.

    `predict_from_spec` recomputes the model's risks from that file alone.
    """
    spec = model_spec(model, horizons)
    if not np.all([np.isfinite(v) for v in spec["model"].get("coefficients", {}).values()]):
        raise ModelError("the model has non-finite coefficients; refit before exporting.")
    return atomic_write_json(path, spec)
