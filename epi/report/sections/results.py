"""Results: flow, characteristics, development, performance, calibration, subgroups."""

from __future__ import annotations

import hashlib
from typing import Any

from epi.bundle import Coefficients, PHTest
from epi.disclosure import is_masked, suppress_masked_line
from epi.exceptions import ReportError
from epi.format import fmt_measure, fmt_num, fmt_p
from epi.report._bundle import OPTIONAL_FILES, records
from epi.report._figures import (
    calibration_figure,
    decision_figure,
    flow_figure,
    missingness_figure,
    subgroup_figure,
)
from epi.report._flow import flow_boxes
from epi.report._markdown import escape, md_table, not_performed
from epi.report.sections._shared import Sections

MEASURES = {
    "harrell_c": "Harrell's C",
    "uno_c": "Uno's C",
    "auc": "AUC(t)",
    "brier": "Brier score",
    "ipa": "IPA",
    "oe_ratio": "O/E ratio",
    "calibration_slope": "Calibration slope",
    "citl": "Calibration-in-the-large",
    "ici": "ICI",
    "e50": "E50",
    "e90": "E90",
    "emax": "Emax",
}
DISCRIMINATION = ("harrell_c", "uno_c", "auc", "brier", "ipa")
CALIBRATION = ("oe_ratio", "calibration_slope", "citl", "ici", "e90", "emax")
VALIDATIONS = {
    "apparent": "Apparent",
    "optimism_corrected": "Optimism-corrected (bootstrap)",
    "cross_validated": "Cross-validated",
    "temporal": "Temporal",
    "internal_external": "Internal–external",
}


def flow(s: Sections) -> None:
    """The participant flow diagram and follow-up (part flow)."""
    att = s.bundle.get("attrition")
    steps = records(att, "steps")
    if not steps:
        s.part("flow", not_performed("Participant flow diagram", s.absent("attrition")))
        return
    summary = s.bundle.get("summary") or {}
    ev = summary.get("events") or {}
    note = None
    if ev:
        note = (
            f"{s.count(ev.get('outcome'))} outcomes, {s.count(ev.get('competing'))} "
            f"competing deaths by {s.horizon}"
        )
    boxes = flow_boxes(steps, s.min_cell, note)
    alt = "Flow diagram. " + " Then ".join(
        f"{b.text}: n = {b.n}{'; ' + b.note if b.note else ''}." for b in boxes
    )
    fig = s.figure(
        "flow",
        lambda: flow_figure(boxes),
        "Flow of participants from the source population to the study cohort.",
        alt,
    )
    fu = summary.get("follow_up_days") or {}
    text = fig + "\n"
    if fu:
        text += (
            f"\nMedian follow-up was {fmt_num(fu.get('median'), 0)} days (interquartile "
            f"range {fmt_num(fu.get('q1'), 0)} to {fmt_num(fu.get('q3'), 0)}). "
        )
    text += (
        f"Counts below {s.min_cell} are shown as <{s.min_cell}; restriction steps that "
        f"excluded fewer than {s.min_cell} persons are combined with the next step so that "
        "no small count can be recovered by subtraction (see @fig-flow)."
    )
    s.part("flow", text)


def table1(s: Sections) -> None:
    """Table 1, overall and by grouping (table table1, part characteristics)."""
    t1 = s.bundle.get("table1")
    if not t1:
        s.table("table1", not_performed("Table 1", s.absent("table1")))
        s.part("characteristics", "")
        return
    cols = t1.get("columns") or []
    groupings = t1.get("groupings") or [None]
    out = []
    for k, grouping in enumerate(groupings):
        shown = [c for c in cols if c.get("grouping") in (None, grouping)]
        header = [
            "Characteristic",
            "",
            *(f"{c.get('label')} (n = {c.get('n')})" for c in shown),
        ]
        if grouping is not None:
            header.append("SMD")
        rows = []
        for r in t1.get("rows") or []:
            vals = r.get("values") or {}
            smd = r.get("smd") or {}
            level = "" if r.get("level") == "yes" else r.get("level", "")
            row = [f"{r.get('sector', '')}: {r.get('variable')}", level]
            row += [vals.get(c.get("key"), "–") for c in shown]
            if grouping is not None:
                row.append(fmt_num(smd.get(grouping), 2) if grouping in smd else "")
            rows.append(row)
        what = "overall" if grouping is None else f"overall and by {str(grouping).lower()}"
        label = "tbl-table1" if k == 0 else f"tbl-table1-{k + 1}"
        out.append(
            md_table(
                header,
                rows,
                label=label,
                source=OPTIONAL_FILES["table1"],
                caption=f"Characteristics of the cohort, {what}.",
                notes=t1.get("note"),
            )
        )
    s.table("table1", "\n".join(out))
    refs = " and ".join(
        f"@{'tbl-table1' if k == 0 else f'tbl-table1-{k + 1}'}" for k in range(len(groupings))
    )
    s.part(
        "characteristics",
        f"{refs} describe the cohort overall"
        + (
            f" and by {', '.join(str(g).lower() for g in groupings if g)}"
            if groupings != [None]
            else ""
        )
        + ", with the largest absolute standardised mean difference (SMD) between groups.",
    )


def missingness(s: Sections) -> None:
    """Missing values per predictor (table missingness, part missingness_figure)."""
    feats = records(s.bundle.get("missingness"), "features")
    if not feats:
        s.table(
            "missingness",
            not_performed("Missing data per predictor", s.absent("missingness")),
        )
        s.part("missingness_figure", "")
        return
    rows = []
    for f in feats:
        n = f.get("n_missing")
        small = isinstance(n, int | float) and 0 < n < s.min_cell
        rows.append(
            [
                f.get("feature"),
                f.get("set"),
                s.count(n),
                "–" if small else fmt_num(f.get("pct_missing"), 1),
            ]
        )
    s.table(
        "missingness",
        md_table(
            ["Predictor", "Feature set", "Missing (n)", "Missing (%)"],
            rows,
            label="tbl-missingness",
            source=OPTIONAL_FILES["missingness"],
            caption="Missing values per predictor and feature set (sector).",
        ),
    )
    per_set: dict[str, list[float]] = {}
    for f in feats:
        per_set.setdefault(str(f.get("set")), []).append(float(f.get("pct_missing") or 0))
    summary = (
        "By feature set (sector): "
        + "; ".join(
            f"{escape(name)}: {sum(p > 0 for p in v)} of {len(v)} predictors with missing values"
            + (f" (at most {max(v):.1f}% missing)" if max(v) > 0 else "")
            for name, v in per_set.items()
        )
        + ".\n\n"
    )
    if any(float(f.get("pct_missing") or 0) > 0 for f in feats):
        worst = max(feats, key=lambda f: float(f.get("pct_missing") or 0))
        alt = (
            f"Bar chart of the percentage missing for {len(feats)} predictors, coloured by "
            f"feature set; the most incomplete is {worst.get('feature')} "
            f"({fmt_num(worst.get('pct_missing'), 1)}% missing)."
        )
        s.part(
            "missingness_figure",
            summary
            + s.figure(
                "missingness",
                lambda: missingness_figure(feats),
                "Percentage of missing values per predictor, by feature set.",
                alt,
            ),
        )
    else:
        s.part("missingness_figure", summary + "No predictor has missing values.")


def development(s: Sections) -> None:
    """Participants and outcome events in each analysis (table development)."""
    summary = s.bundle.get("summary") or {}
    v = s.bundle.section("validation", default={})
    ev = (summary.get("events") or {}).get("outcome")
    n = summary.get("n")
    if not summary:
        s.table("development", not_performed("Participants per analysis", s.absent("summary")))
        return
    rows = [
        ["Model development (every arm and model)", s.count(n), s.count(ev)],
        [
            f"Optimism correction: each of {v.get('bootstrap', '?')} bootstrap samples",
            s.count(n),
            "varies",
        ],
        [
            f"Cross-validation: {v.get('folds', '?')} folds",
            "≈ "
            + (
                f"{round(n * (v.get('folds', 5) - 1) / v.get('folds', 5)):,}"
                if isinstance(n, int) and n >= s.min_cell * 10
                else "–"
            )
            + " per training fold",
            "varies",
        ],
    ]
    s.table(
        "development",
        md_table(
            ["Analysis", "Persons", "Outcome events"],
            rows,
            label="tbl-development",
            source=OPTIONAL_FILES["summary"],
            caption=f"Participants and outcome events (by {s.horizon}) in each analysis.",
        ),
    )


def model_specification(s: Sections) -> None:
    """Exported model files, coefficients and proportional-hazards tests."""
    models = s.bundle.models
    rows = []
    for name in models:
        path = s.bundle.run_dir / "results" / "models" / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "–"
        # file names are <arm>__<model>.json (docs/BUNDLE.md); the spec's own
        # "model" key holds the fitted parameters, not a name
        arm, _, model = name.removesuffix(".json").partition("__")
        rows.append([arm, model, f"results/models/{name}", digest])
    text = (
        "Each fitted model is exported as a JSON specification (coefficients, spline knots, "
        "baseline risk at the horizon) from which `epi` or any other software computes "
        "predictions for new persons (TRIPOD+AI 12g, 22). The files are part of the "
        "results bundle and may be shared freely: they hold no person-level data."
    )
    if rows:
        text += " @tbl-model-files lists them; @tbl-coefficients gives the coefficients."
        s.table(
            "model_files",
            md_table(
                ["Arm", "Model", "File", "SHA-256 (first 16)"],
                rows,
                label="tbl-model-files",
                caption="Exported model specifications.",
                source="results/models/",
            ),
        )
    else:
        s.table(
            "model_files",
            not_performed(
                "Exported model files", "results/models/ is absent from this run's bundle"
            ),
        )
    s.part("model_specification", text)
    coefficients = s.bundle.typed_file("coefficients")
    if isinstance(coefficients, Coefficients) and coefficients.rows:
        rows = [
            [
                c.arm,
                c.model,
                c.term,
                fmt_num(c.coef, 4),
                fmt_measure({"estimate": c.hr, "lower": c.hr_lower, "upper": c.hr_upper}, 2),
                fmt_p(c.p),
            ]
            for c in coefficients.rows
        ]
        s.table(
            "coefficients",
            md_table(
                ["Arm", "Model", "Predictor", "Log hazard ratio", "Hazard ratio (95% CI)", "p"],
                rows,
                label="tbl-coefficients",
                source=OPTIONAL_FILES["coefficients"],
                caption="Coefficients of the Cox models: log hazard ratios and hazard ratios "
                "with 95% Wald confidence intervals, per unit of each predictor.",
            ),
        )
    else:
        s.table("coefficients", not_performed("Coefficient table", s.absent("coefficients")))
    ph = s.bundle.typed_file("ph_test")
    if isinstance(ph, PHTest) and ph.rows:
        rows = [
            [r.arm, r.model, r.term, fmt_num(r.chisq, 2), fmt_num(r.df, 0), fmt_p(r.p)]
            for r in ph.rows
        ]
        s.table(
            "ph_test",
            md_table(
                ["Arm", "Model", "Predictor", "χ²", "df", "p"],
                rows,
                label="tbl-ph-test",
                source=OPTIONAL_FILES["ph_test"],
                caption="Tests of proportional hazards: scaled Schoenfeld residuals against "
                f"the Kaplan–Meier transform of time ({ph.rows[0].transform}), per predictor "
                "and global, as R's cox.zph; unpenalised Cox models only (at a penalised "
                "estimate the test is not centred).",
            ),
        )
    else:
        s.table(
            "ph_test",
            not_performed(
                "Proportional hazards tests",
                "no unpenalised Cox model was fitted (the test is not centred at a penalised "
                "estimate)"
                if s.bundle.has("ph_test")
                else s.absent("ph_test"),
            ),
        )


def performance(s: Sections) -> None:
    """Discrimination and calibration measures by arm, model and validation."""
    perf = s.bundle.get("performance")
    if not perf:
        s.part("performance", not_performed("Performance", s.absent("performance")))
        for name in ("discrimination", "calibration_measures"):
            s.table(name, "")
        return
    text = (
        "@tbl-discrimination and @tbl-calibration-measures give the performance of every "
        "model in every feature-set arm: apparent, optimism-corrected, cross-validated, "
        "temporal and internal–external."
    )
    forest = []
    for arm, model, vals in s.perf_rows():
        for key, label in VALIDATIONS.items():
            c = (vals.get(key) or {}).get("harrell_c")
            if isinstance(c, dict) and None not in (
                c.get("estimate"),
                c.get("lower"),
                c.get("upper"),
            ):
                forest.append((f"{arm} · {model} · {label}", c["estimate"], c["lower"], c["upper"]))
    if forest:
        alt = (
            f"Forest plot of Harrell's C with 95% confidence intervals for {len(forest)} "
            "combinations of feature-set arm, model and validation approach."
        )
        text += " @fig-performance compares the arms.\n\n" + s.figure(
            "performance",
            lambda: subgroup_figure(forest, "Harrell's C"),
            f"Harrell's C at {s.horizon} by arm, model and validation approach.",
            alt,
        )
    s.part("performance", text)
    v = s.bundle.section("validation", default={})
    reasons = {
        "temporal": "no temporal split year set in the protocol"
        if not v.get("temporal_split_year")
        else "not available in the bundle",
        "internal_external": "no internal–external cluster set in the protocol"
        if not v.get("internal_external")
        else "not estimable in this run",
    }
    for name, measures, caption in (
        ("discrimination", DISCRIMINATION, "Discrimination and overall performance"),
        ("calibration_measures", CALIBRATION, "Calibration"),
    ):
        rows = []
        for arm, model, vals in s.perf_rows():
            for key, label in VALIDATIONS.items():
                m = vals.get(key)
                if key == "cross_validated" and vals.get("cross_validation") == "psis_loo":
                    label = "Leave-one-out (PSIS-LOO)"
                if m is None:
                    reason = reasons.get(key, "not in the results bundle")
                    if vals.get("not_resampled") and key != "temporal":
                        reason = "Bayesian model, fitted once by MCMC"
                    rows.append(
                        [
                            arm,
                            model,
                            f"{label}: not performed ({reason})",
                            *["–"] * len(measures),
                        ]
                    )
                else:
                    rows.append([arm, model, label, *(fmt_measure(m.get(k)) for k in measures)])
        s.table(
            name,
            md_table(
                ["Arm", "Model", "Validation", *(MEASURES[k] for k in measures)],
                rows,
                label=f"tbl-{name.replace('_', '-')}",
                source=OPTIONAL_FILES["performance"],
                caption=f"{caption} at {s.horizon} with 95% confidence intervals, by arm, "
                "model and validation approach.",
            ),
        )


def calibration(s: Sections) -> None:
    """Calibration plots (part calibration) and groups (table calibration_groups)."""
    curves = records(s.bundle.get("calibration"), "curves")
    if not curves:
        s.part("calibration", not_performed("Calibration plots", s.absent("calibration")))
        s.table(
            "calibration_groups",
            not_performed("Calibration groups", s.absent("calibration")),
        )
        return
    arms = list(dict.fromkeys(str(c.get("arm")) for c in curves))
    alt = (
        f"Calibration plots, one panel per arm ({', '.join(arms)}): observed against "
        f"predicted risk by {s.horizon} with smoothed curves, 95% bands and group means; "
        "the dashed diagonal marks perfect calibration."
    )
    fig = s.figure(
        "calibration",
        lambda: calibration_figure(curves, s.horizon),
        f"Calibration of predicted risks by {s.horizon}, per arm and model.",
        alt,
    )
    s.part(
        "calibration",
        fig + f"\nGroup means are plotted only for groups of at least "
        f"{s.min_cell} persons; @tbl-calibration-groups lists the groups.",
    )
    rows = []
    for c in curves:
        groups = c.get("groups") or []
        try:  # the groups add up to the persons validated
            n_texts = suppress_masked_line([g.get("n") for g in groups], s.min_cell)
        except ReportError:
            n_texts = [s.count(g.get("n")) for g in groups]
        for g, n_text in zip(groups, n_texts, strict=True):
            n = g.get("n")
            masked = is_masked(str(n)) or (isinstance(n, int) and n < s.min_cell)
            rows.append(
                [
                    c.get("arm"),
                    c.get("model"),
                    g.get("group"),
                    n_text,
                    "–" if masked else fmt_num(g.get("predicted"), 3),
                    "–" if masked else fmt_num(g.get("observed"), 3),
                ]
            )
    s.table(
        "calibration_groups",
        md_table(
            ["Arm", "Model", "Group", "n", "Mean predicted", "Observed"],
            rows,
            label="tbl-calibration-groups",
            source=OPTIONAL_FILES["calibration"],
            caption="Calibration groups: mean predicted and observed risk per risk group.",
            notes=f"Groups with fewer than {s.min_cell} persons are masked and their risks "
            "not shown.",
        ),
    )


def decision_curves(s: Sections) -> None:
    """Decision curves (part decision_curves) and net benefit (table net_benefit)."""
    rows: list[dict[str, Any]] = records(s.bundle.get("decision_curves"), "curves")
    rows = [r for r in rows if r["net_benefit"] is not None]
    if not rows:
        s.part(
            "decision_curves",
            not_performed("Decision curve analysis", s.absent("decision_curves")),
        )
        s.table("net_benefit", "")
        return
    alt = (
        "Decision curves: net benefit against threshold probability for each arm and model, "
        "compared with treating everyone and treating no one."
    )
    fig = s.figure(
        "decision_curves",
        lambda: decision_figure(rows),
        "Decision curves: net benefit by threshold probability.",
        alt,
    )
    s.part(
        "decision_curves",
        fig + "\nThe models are useful at thresholds where their "
        "net benefit exceeds both reference strategies (@tbl-net-benefit).",
    )
    picks = [0.05, 0.1, 0.2, 0.3]
    table_rows = []
    keys = list(dict.fromkeys((r["arm"], r["model"]) for r in rows))
    for arm, model in keys:
        sub = {
            round(float(r["threshold"]), 4): r["net_benefit"]
            for r in rows
            if (r["arm"], r["model"]) == (arm, model)
        }
        label_arm = "all arms" if arm is None else arm
        table_rows.append(
            [label_arm, model.replace("_", " "), *(fmt_num(sub.get(t), 4) for t in picks)]
        )
    s.table(
        "net_benefit",
        md_table(
            ["Arm", "Model / strategy", *(f"Threshold {t:.0%}" for t in picks)],
            table_rows,
            label="tbl-net-benefit",
            source=OPTIONAL_FILES["decision_curves"],
            caption="Net benefit at selected threshold probabilities.",
        ),
    )


def subgroups(s: Sections) -> None:
    """Performance by sex, age group and municipality (part and table subgroups)."""
    subs = records(s.bundle.get("subgroups"), "subgroups", "rows")
    if not subs:
        why = s.absent("subgroups") if s.registers else "the analysis table has no subgroup columns"
        s.part("subgroups", not_performed("Performance by subgroup", why))
        s.table("subgroups", "")
        return
    # Levels of one subgroup add up to the cohort: protect masked counts from subtraction.
    lines: dict[tuple[str, str, str], list[int]] = {}
    for i, sub in enumerate(subs):
        key = (str(sub.get("arm")), str(sub.get("model")), str(sub.get("subgroup")))
        lines.setdefault(key, []).append(i)
    n_txt: dict[int, str] = {}
    ev_txt: dict[int, str] = {}
    for idx in lines.values():
        for field_name, out in (("n", n_txt), ("events", ev_txt)):
            try:
                texts = suppress_masked_line([subs[i].get(field_name) for i in idx], s.min_cell)
            except ReportError:
                texts = [s.count(subs[i].get(field_name)) for i in idx]
            out.update(zip(idx, texts, strict=True))
    rows, forest = [], []
    for i, sub in enumerate(subs):
        n, ev = sub.get("n"), sub.get("events")
        small = any(is_masked(str(x)) or (isinstance(x, int) and x < s.min_cell) for x in (n, ev))
        c = "suppressed (small cell)" if small else fmt_measure(sub.get("harrell_c"))
        oe = "suppressed (small cell)" if small else fmt_measure(sub.get("oe_ratio"))
        rows.append(
            [
                sub.get("arm"),
                sub.get("model"),
                str(sub.get("subgroup", "")).replace("_", " "),
                sub.get("level"),
                n_txt[i],
                ev_txt[i],
                c,
                oe,
            ]
        )
        hc = sub.get("harrell_c")
        if (
            not small
            and isinstance(hc, dict)
            and sub.get("model") == s.primary
            and hc.get("lower") is not None
        ):
            forest.append(
                (
                    f"{sub.get('arm')} · {sub.get('subgroup')}: {sub.get('level')}",
                    hc["estimate"],
                    hc["lower"],
                    hc["upper"],
                )
            )
    s.table(
        "subgroups",
        md_table(
            [
                "Arm",
                "Model",
                "Subgroup",
                "Level",
                "n",
                "Events",
                "Harrell's C (95% CI)",
                "O/E (95% CI)",
            ],
            rows,
            label="tbl-subgroups",
            source=OPTIONAL_FILES["subgroups"],
            caption="Performance by sex, age group and municipality (fairness).",
            notes=f"Counts below {s.min_cell} are masked and the performance of such "
            "subgroups is not shown.",
        ),
    )
    text = (
        "Performance was estimated separately by sex, age group and municipality to "
        "examine whether the models serve these groups alike (@tbl-subgroups)."
    )
    if forest:
        alt = (
            f"Forest plot of Harrell's C with 95% confidence intervals for {len(forest)} "
            f"subgroups of the {s.primary} model; subgroups with small counts are omitted."
        )
        text += "\n\n" + s.figure(
            "subgroups",
            lambda: subgroup_figure(forest, "Harrell's C"),
            f"Harrell's C by subgroup ({s.primary} model).",
            alt,
        )
    s.part("subgroups", text)
