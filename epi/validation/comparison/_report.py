"""Forest-plot data, the forest plot and the report's added-value section.

Only aggregated differences are drawn or written: no person-level points.
Wording follows the intervals: a difference is called an improvement or a
worsening only when its interval excludes zero, and otherwise the text says
that the data are compatible with no difference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from epi.exceptions import ValidationInputError
from epi.format import fmt_measure, fmt_p
from epi.io import atomic_write_json, atomic_write_text
from epi.validation._decision import TREAT_ALL, TREAT_NONE
from epi.validation._plots import _save
from epi.validation.comparison._paired import LOWER_IS_BETTER, PAIR_STATISTICS, compare_predictions

#: Display names of the pair statistics.
LABELS: dict[str, str] = {
    "harrell_c": "Harrell's C",
    "uno_c": "Uno's C",
    "auc": "AUC at horizon",
    "brier": "Brier score",
    "ipa": "IPA",
    "nri_event": "NRI, events (categorical)",
    "nri_nonevent": "NRI, non-events (categorical)",
    "nri": "NRI, sum (categorical)",
    "cnri_event": "NRI, events (continuous)",
    "cnri_nonevent": "NRI, non-events (continuous)",
    "cnri": "NRI, sum (continuous)",
    "idi_event": "IDI, events",
    "idi_nonevent": "IDI, non-events",
    "idi": "IDI",
}
#: Statistics drawn in the forest plot by default (the sums of NRI are left out:
#: their components are what is interpretable).
FOREST_STATISTICS: tuple[str, ...] = (
    "harrell_c",
    "uno_c",
    "auc",
    "brier",
    "ipa",
    "nri_event",
    "nri_nonevent",
    "cnri_event",
    "cnri_nonevent",
    "idi",
)


def _check(result: Mapping[str, Any]) -> None:
    if not isinstance(result, Mapping) or "comparisons" not in result:
        raise ValidationInputError(
            "added value: expected the dict returned by compare_arms or compare_predictions "
            "(with a 'comparisons' list)."
        )


def forest_data(
    result: Mapping[str, Any], statistics: Sequence[str] = FOREST_STATISTICS
) -> pd.DataFrame:
    """One row per (model, extended arm, statistic): the difference and its interval.

    Parameters
    ----------
    result : dict
        From :func:`compare_arms` or :func:`compare_predictions`.
    statistics : sequence of str
        Which of :data:`PAIR_STATISTICS` to include.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``arm``, ``reference``, ``statistic``, ``label``,
        ``estimate``, ``lower``, ``upper`` (optimism-corrected when the result
        is), ``apparent``, ``covers_zero`` and ``favours`` (``"extended"``,
        ``"reference"`` or ``"neither"``, from the interval).
    """
    _check(result)
    bad = [s for s in statistics if s not in PAIR_STATISTICS]
    if bad:
        raise ValidationInputError(
            f"statistics: unknown {bad}; choose from {list(PAIR_STATISTICS)}."
        )
    rows = []
    for comp in result["comparisons"]:
        for s in statistics:
            d = comp["differences"][s]
            lo, hi = d["lower"], d["upper"]
            covers = lo is None or hi is None or lo <= 0 <= hi
            if covers:
                favours = "neither"
            else:
                better = (hi < 0) if s in LOWER_IS_BETTER else (lo > 0)
                favours = "extended" if better else "reference"
            rows.append(
                {
                    "model": comp["model"],
                    "arm": comp["arm"],
                    "reference": comp["reference"],
                    "statistic": s,
                    "label": LABELS[s],
                    "estimate": d["estimate"],
                    "lower": lo,
                    "upper": hi,
                    "apparent": d["apparent"],
                    "covers_zero": bool(covers),
                    "favours": favours,
                }
            )
    return pd.DataFrame(rows)


def plot_forest(
    result: Mapping[str, Any],
    stem: str | os.PathLike[str],
    *,
    statistics: Sequence[str] = FOREST_STATISTICS,
) -> list[Path]:
    """Write `forest_figure` to ``stem.png`` and ``stem.svg``; return the files written."""
    return _save(forest_figure(result, statistics=statistics), stem)


def forest_figure(
    result: Mapping[str, Any], *, statistics: Sequence[str] = FOREST_STATISTICS
) -> Figure:
    """Forest plot of the differences with their intervals, one panel per statistic.

    Parameters
    ----------
    result : dict
        From :func:`compare_arms` or :func:`compare_predictions`.
    statistics : sequence of str
        Panels, in order.
    """
    data = forest_data(result, statistics)
    rows = data[["model", "arm"]].drop_duplicates().reset_index(drop=True)
    n_rows, n_panels = len(rows), len(statistics)
    ncol = min(5, n_panels)
    nrow = -(-n_panels // ncol)
    fig = Figure(figsize=(2.6 * ncol + 1.5, (0.35 * n_rows + 1.0) * nrow))
    axes = fig.subplots(nrow, ncol, squeeze=False, sharey=True)
    labels = [f"{a} ({m})" for m, a in zip(rows["model"], rows["arm"], strict=True)]
    y = list(range(n_rows))[::-1]
    colours = {"extended": "#1b7837", "reference": "#b2182b", "neither": "#4d4d4d"}
    for k, s in enumerate(statistics):
        ax = axes[k // ncol][k % ncol]
        sub = data[data["statistic"] == s].reset_index(drop=True)
        ax.axvline(0.0, color="#999999", lw=0.8, ls="--")
        for i, r in sub.iterrows():
            c = colours[r["favours"]]
            if r["lower"] is not None and pd.notna(r["lower"]):
                ax.plot([r["lower"], r["upper"]], [y[i], y[i]], color=c, lw=1.5)
            if r["estimate"] is not None and pd.notna(r["estimate"]):
                ax.plot([r["estimate"]], [y[i]], "s", color=c, ms=5)
        title = LABELS[s] + (" (lower better)" if s in LOWER_IS_BETTER else "")
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=7)
    for k in range(n_panels, nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    ref = result.get("reference", "reference")
    corrected = "optimism-corrected " if result.get("optimism_corrected") else ""
    pct = round(100 * float(result.get("level", 0.95)))
    fig.suptitle(f"Difference vs {ref} arm ({corrected}estimate, {pct}% CI)", fontsize=9)
    fig.text(
        0.01,
        0.0,
        "Green: interval excludes zero in favour of the extended arm; red: in favour of the "
        "reference; grey: interval includes zero.",
        fontsize=7,
        va="top",
    )
    fig.tight_layout()
    return fig


def delta_net_benefit_table(result: Mapping[str, Any]) -> pd.DataFrame:
    """Long table of the net-benefit difference and net interventions avoided.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``arm``, ``threshold``, ``delta_nb``, ``delta_nb_lower``,
        ``delta_nb_upper``, ``nia_per_100``, ``nia_lower``, ``nia_upper``.
    """
    _check(result)
    rows = []
    for comp in result["comparisons"]:
        for r in comp["net_benefit"]:
            d, n = r["delta_net_benefit"], r["net_interventions_avoided_per_100"]
            rows.append(
                {
                    "model": comp["model"],
                    "arm": comp["arm"],
                    "threshold": r["threshold"],
                    "delta_nb": d["estimate"],
                    "delta_nb_lower": d["lower"],
                    "delta_nb_upper": d["upper"],
                    "nia_per_100": n["estimate"],
                    "nia_lower": n["lower"],
                    "nia_upper": n["upper"],
                }
            )
    return pd.DataFrame(rows)


def decision_curves(result: Mapping[str, Any], model: str | None = None) -> pd.DataFrame:
    """Apparent decision curves of every arm with treat-all and treat-none, overlaid.

    Parameters
    ----------
    result : dict
        From :func:`compare_arms` or :func:`compare_predictions`.
    model : str, optional
        Only this model's arms (default: all, labelled ``arm / model``).

    Returns
    -------
    pandas.DataFrame
        ``threshold``, ``model``, ``net_benefit``: the long form
        :func:`epi.validation.plot_decision_curve` draws.
    """
    _check(result)
    rows = []
    for a in result["arms"]:
        if model is not None and a["model"] != model:
            continue
        label = a["arm"] if model is not None else f"{a['arm']} / {a['model']}"
        rows += [
            {"threshold": r["threshold"], "model": label, "net_benefit": r["apparent"]}
            for r in a["net_benefit"]
        ]
    th = result["thresholds"]
    rows += [
        {"threshold": t, "model": TREAT_ALL, "net_benefit": v}
        for t, v in zip(th, result["treat_all"], strict=True)
    ]
    rows += [{"threshold": t, "model": TREAT_NONE, "net_benefit": 0.0} for t in th]
    return pd.DataFrame(rows)


def plot_delta_net_benefit(result: Mapping[str, Any], stem: str | os.PathLike[str]) -> list[Path]:
    """Difference in net benefit (extended - reference) by threshold, with its band.

    One line per extended arm and model (optimism-corrected when the result
    is), the interval as a shaded band, and zero (no added value) dashed.

    Returns
    -------
    list of Path
        The PNG and SVG written.
    """
    table = delta_net_benefit_table(result)
    fig = Figure(figsize=(6.0, 4.5))
    ax = fig.subplots()
    for k, ((model, arm), part) in enumerate(table.groupby(["model", "arm"], sort=False)):
        colour = f"C{k}"
        if part["delta_nb_lower"].notna().all():
            ax.fill_between(
                part["threshold"],
                part["delta_nb_lower"].astype(float),
                part["delta_nb_upper"].astype(float),
                color=colour,
                alpha=0.2,
                lw=0,
            )
        ax.plot(part["threshold"], part["delta_nb"], color=colour, lw=2, label=f"{arm} ({model})")
    ax.axhline(0.0, color="grey", ls="--", lw=1)
    ax.set_xlabel("Threshold risk")
    ax.set_ylabel(f"Δ net benefit vs {result.get('reference', 'reference')}")
    corrected = "optimism-corrected, " if result.get("optimism_corrected") else ""
    pct = round(100 * float(result.get("level", 0.95)))
    ax.set_title(f"Added net benefit ({corrected}{pct}% band)", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, stem)


# ------------------------------------------------------------------------ text


def _ci(d: Mapping[str, Any], digits: int = 3) -> str:
    """A difference with its interval, signed (`epi.format`)."""
    return fmt_measure(d, digits, signed=True)


def _verdict(stat: str, d: Mapping[str, Any]) -> str:
    lo, hi = d.get("lower"), d.get("upper")
    if lo is None or hi is None:
        return "no interval could be estimated"
    if lo <= 0 <= hi:
        return "the interval includes zero, so the data are compatible with no difference"
    better = (hi < 0) if stat in LOWER_IS_BETTER else (lo > 0)
    return (
        "the interval excludes zero in favour of the extended arm"
        if better
        else "the interval excludes zero in favour of the reference arm"
    )


def _best_threshold_rows(comp: Mapping[str, Any], thresholds: Sequence[float]) -> list[str]:
    out = []
    by = {round(r["threshold"], 6): r for r in comp["net_benefit"]}
    for pt in thresholds:
        r = by.get(round(pt, 6))
        if r is None:
            continue
        out.append(
            f"at a threshold of {100 * pt:g} % the net benefit changed by "
            f"{_ci(r['delta_net_benefit'], 4)}, "
            f"{_ci(r['net_interventions_avoided_per_100'], 1)} net interventions avoided per "
            "100 persons"
        )
    return out


def added_value_text(result: Mapping[str, Any], *, heading: bool = True) -> str:
    """The report's added-value section in Markdown, wording set by the intervals.

    Parameters
    ----------
    result : dict
        From :func:`compare_arms` (or :func:`compare_predictions`).
    heading : bool
        Start with the section heading (a stand-alone file); the TRIPOD+AI
        report's template has its own.

    Returns
    -------
    str
        Markdown: method paragraph, a table of differences per model, the
        likelihood-ratio tests, one paragraph per extended arm, and the
        calibration of every arm side by side. No difference whose interval
        covers zero is described as an improvement.
    """
    _check(result)
    level = round(100 * float(result.get("level", 0.95)))
    corrected = bool(result.get("optimism_corrected"))
    ref = result.get("reference", "reference")
    horizon = result.get("horizon_days")
    lines = ["## Added value of cross-sector data", ""] if heading else []
    lines.append(
        f"Each extended arm is compared with the reference arm **{ref}**, fitted with the "
        f"same model, cohort ({result.get('n')} persons, {result.get('events')} events by "
        f"{horizon:g} days) and validation scheme. Differences are extended minus reference "
        f"with {level} % confidence intervals from {result.get('n_bootstrap')} paired "
        "bootstrap resamples (the same resamples for both arms"
        + (
            ", each arm's whole modelling procedure refitted in every resample); estimates "
            "and intervals are optimism-corrected."
            if corrected
            else "); the predictions were not refitted, so the estimates are apparent, "
            "not optimism-corrected."
        )
    )
    lines.append(
        "For the Brier score a negative difference is an improvement. The net "
        "reclassification improvement (NRI) is reported by its event and non-event "
        "components; their sum weighs the two groups equally whatever the event risk and "
        "is not a proportion of persons reclassified. The continuous NRI can differ from "
        "zero even for predictors without any true effect, because added terms change the "
        "shape of the risk distribution (Pepe et al. 2015); read it together with the "
        "changes in C, Brier score and net benefit."
    )
    lines.append("")
    stats_cols = ("harrell_c", "uno_c", "auc", "brier", "ipa", "nri_event", "nri_nonevent", "idi")
    for model in dict.fromkeys(c["model"] for c in result["comparisons"]):
        comps = [c for c in result["comparisons"] if c["model"] == model]
        lines.append(f"### Model: {model}")
        lines.append("")
        lines.append("| Arm | " + " | ".join("Δ " + LABELS[s] for s in stats_cols) + " |")
        lines.append("|---|" + "---|" * len(stats_cols))
        for c in comps:
            cells = [_ci(c["differences"][s]) for s in stats_cols]
            lines.append(f"| {c['arm']} | " + " | ".join(cells) + " |")
        lines.append("")
        lr_rows = [c for c in comps if c["likelihood_ratio"].get("applicable")]
        if lr_rows:
            lines.append("| Arm | LR χ² | df | p | Adequacy of reference |")
            lines.append("|---|---|---|---|---|")
            for c in lr_rows:
                lr = c["likelihood_ratio"]
                adequacy = "NA" if lr["adequacy"] is None else f"{lr['adequacy']:.2f}"
                lines.append(
                    f"| {c['arm']} | {lr['chi2']:.1f} | {lr['df']} | {fmt_p(lr['p'])} "
                    f"| {adequacy} |"
                )
            lines.append("")
            lines.append(
                "The likelihood-ratio test and the adequacy index (share of the extended "
                "model's likelihood-ratio χ² reached by the reference) are in-sample; a "
                "small p-value says the added predictors carry information, not that "
                "predictions improve by a relevant amount."
            )
            lines.append("")
        for c in comps:
            d = c["differences"]
            sentence = (
                f"**{c['arm']}** vs {ref} ({model}): Harrell's C changed by "
                f"{_ci(d['harrell_c'])} ({_verdict('harrell_c', d['harrell_c'])}); "
                f"the Brier score by {_ci(d['brier'], 4)} ({_verdict('brier', d['brier'])}); "
                f"IPA by {_ci(d['ipa'])}. "
                f"Categorical NRI: events {_ci(d['nri_event'])}, non-events "
                f"{_ci(d['nri_nonevent'])}; continuous NRI: events {_ci(d['cnri_event'])}, "
                f"non-events {_ci(d['cnri_nonevent'])}; IDI {_ci(d['idi'], 4)} "
                f"({_verdict('idi', d['idi'])})."
            )
            nb = _best_threshold_rows(c, result.get("risk_groups", []))
            if nb:
                sentence += " In decision terms, " + "; ".join(nb) + "."
            lines.append(sentence)
            lines.append("")
    lines.append("### Calibration and performance of every arm")
    lines.append("")
    cols = ("harrell_c", "brier", "ipa", "oe_ratio", "calibration_slope")
    names = {
        "harrell_c": "Harrell's C",
        "brier": "Brier",
        "ipa": "IPA",
        "oe_ratio": "O/E",
        "calibration_slope": "Calibration slope",
    }
    lines.append("| Arm | Model | " + " | ".join(names[c] for c in cols) + " |")
    lines.append("|---|---|" + "---|" * len(cols))
    for a in result.get("arms", []):
        cells = []
        for c in cols:
            m = a["measures"].get(c)
            cells.append(fmt_measure(m))
        lines.append(f"| {a['arm']} | {a['model']} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def write_comparison(
    out_dir: str | os.PathLike[str],
    duration: ArrayLike,
    event: ArrayLike,
    risks: Mapping[str, ArrayLike],
    reference: str,
    horizon: float,
    *,
    thresholds: ArrayLike | None = None,
    risk_groups: ArrayLike = (0.1, 0.2),
    n_bootstrap: int = 200,
    seed: int = 0,
    source: str | None = None,
) -> dict[str, Any]:
    """Pairwise added value of fixed predictions, written as files (``epi evaluate --compare``).

    Writes ``added_value.json`` (the result of :func:`compare_predictions`,
    plus ``source``), ``added_value.md`` (:func:`added_value_text`),
    ``forest.png``/``.svg`` and ``delta_net_benefit.png``/``.svg`` to
    ``out_dir`` (created if needed), each atomically.

    Returns
    -------
    dict
        The result written to ``added_value.json``.
    """
    result = compare_predictions(
        duration,
        event,
        risks,
        reference,
        horizon,
        thresholds=thresholds,
        risk_groups=risk_groups,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    if source is not None:
        result = {"source": source, **result}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "added_value.json", result)
    atomic_write_text(out / "added_value.md", added_value_text(result))
    plot_forest(result, out / "forest")
    plot_delta_net_benefit(result, out / "delta_net_benefit")
    return result
