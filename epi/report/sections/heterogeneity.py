"""Heterogeneity across GP practices and municipalities (TRIPOD+AI 12d, 23b).

From the hierarchical models of ``results/heterogeneity.json``: sampler
diagnostics, variance partition and median hazard ratios, cluster effects
(caterpillar plots copied from ``results/figures``), shrinkage, posterior
summary and the comparison with a frequentist model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from epi.disclosure import suppress_masked_line
from epi.exceptions import ReportError
from epi.format import fmt_count, fmt_measure, fmt_num
from epi.report._bundle import OPTIONAL_FILES, Bundle, records
from epi.report._figures import copy_figure
from epi.report._markdown import escape, md_figure, md_table, not_performed
from epi.report.sections._shared import Sections, horizon_text

#: Labels of the cluster columns (singular, plural).
GROUP_LABELS = {
    "practice_id": ("GP practice", "GP practices"),
    "municipality_code": ("municipality", "municipalities"),
}
HIERARCHICAL_KINDS = {
    "bayes_weibull_ph": "Bayesian hierarchical Weibull proportional-hazards",
    "bayes_piecewise_exponential": "Bayesian hierarchical piecewise-exponential "
    "proportional-hazards",
}
FREQUENTIST_KINDS = {"cox": "Cox proportional-hazards", "weibull": "Weibull"}
SAMPLERS = {"pymc": "PyMC's No-U-Turn sampler (NUTS)", "nutpie": "nutpie's No-U-Turn sampler"}
#: The row of clusters under the minimum cell size in ``cluster_effects``.
POOLED = "<pooled>"
#: A cluster table lists every cluster up to CLUSTER_ALL of them, else the CLUSTER_ROWS
#: lowest and highest; coefficient tables list COEF_ROWS predictors.
CLUSTER_ALL = 15
CLUSTER_ROWS = 5
COEF_ROWS = 10
#: Why the heterogeneity part is empty when the bundle has no heterogeneity file.
NOT_RUN = "the hierarchical models across GP practices and municipalities are not part of this run"
NO_CLUSTERS = "hierarchical models need cluster identifiers, which an analysis table does not have"


def _slug(text: str) -> str:
    """A cross-reference id piece: lower-case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def group_label(group: str, *, plural: bool = False) -> str:
    """``GP practice(s)``; other cluster columns by their name's words (no Markdown)."""
    plain = " ".join(re.findall(r"[A-Za-z0-9]+", str(group))) or "cluster"
    one, many = GROUP_LABELS.get(group, (plain, plain + " levels"))
    return many if plural else one


def _cap(text: str) -> str:
    """First letter upper-case, the rest as it is (``GP practices`` stays)."""
    return text[:1].upper() + text[1:]


def _pct_ci(est: Any, lo: Any, hi: Any) -> str:
    """``3.4% (1.0 to 8.0)`` from proportions."""
    if not isinstance(est, int | float):
        return "–"
    text = f"{100 * est:.1f}%"
    if isinstance(lo, int | float) and isinstance(hi, int | float):
        text += f" ({100 * lo:.1f} to {100 * hi:.1f})"
    return text


def sampler_diagnostics(entry: dict[str, Any]) -> dict[str, Any]:
    """The sampler diagnostics of a heterogeneity entry (a one-record list or a dict)."""
    raw = entry.get("diagnostics")
    d = raw[0] if isinstance(raw, list) and raw else raw
    return d if isinstance(d, dict) else {}


def _parameter_label(name: str) -> str:
    """Reader's name of a posterior parameter (``coef[age]`` → ``log HR: age``)."""
    if name.startswith("coef[") and name.endswith("]"):
        return f"log HR: {name[5:-1]}"
    if name.startswith("sigma_") and name[6:] in GROUP_LABELS:
        return f"SD of {GROUP_LABELS[name[6:]][0]} effects"
    return {"intercept": "Intercept (log baseline rate)", "weibull_shape": "Weibull shape"}.get(
        name, name
    )


def hierarchical(bundle: Bundle) -> dict[str, Any] | None:
    """``results/heterogeneity.json`` when the run fitted a hierarchical model, else None."""
    het = bundle.get("heterogeneity")
    if isinstance(het, dict) and isinstance(het.get("models"), list) and het["models"]:
        return het
    return None


def heterogeneity(s: Sections) -> None:
    """The heterogeneity part, or why there is none."""
    het = hierarchical(s.bundle)
    if het is not None:
        _hierarchical(s, het)
    elif s.registers:
        what = "Heterogeneity across GP practices and municipalities"
        s.part("heterogeneity", not_performed(what, NOT_RUN))
    else:
        s.part("heterogeneity", not_performed("Heterogeneity across clusters", NO_CLUSTERS))


def _hierarchical(s: Sections, result: dict[str, Any]) -> None:
    """The section from the hierarchical models of ``results/heterogeneity.json``."""
    entries = [e for e in result["models"] if isinstance(e, dict)]
    chunks = []
    if len(entries) > 1:
        chunks.append(f"{len(entries)} hierarchical models were fitted; each is reported in turn.")
    slugs: set[str] = set()
    for i, e in enumerate(entries, start=1):
        slug = _slug(f"{e.get('arm', '')}-{e.get('model', '')}")
        slug = f"{slug}-{i}" if slug in slugs else slug  # cross-reference ids are unique
        slugs.add(slug)
        chunks.append(_heterogeneity_model(s, e, slug, several=len(entries) > 1))
    s.part("heterogeneity", "\n\n".join(chunks))


def _heterogeneity_model(s: Sections, e: dict[str, Any], slug: str, *, several: bool) -> str:
    arm, model = str(e.get("arm", "")), str(e.get("model", ""))
    level = round(100 * float(e.get("prob") or 0.9))
    ci = f"{level}% CrI"
    what = f"{model} (arm {arm})"  # for captions and alt text, which escape it
    out = [f"### Model {escape(model)}, arm {escape(arm)}\n"] if several else []
    kind = HIERARCHICAL_KINDS.get(str(e.get("kind")), escape(e.get("kind")))
    out.append(
        f"The {kind} model **{escape(model)}** was fitted to arm **{escape(arm)}** with "
        "crossed random intercepts for "
        + " and ".join(group_label(g, plural=True) for g in e.get("cluster_effects") or {})
        + ". "
        + _diagnostics_text(s, e)
        + f" Estimates are posterior means with {level}% equal-tailed credible intervals "
        "(CrI)."
    )
    out.append(_variance_table(s, e, slug, ci, what))
    out.append(_cluster_effects(s, e, slug, ci, what))
    out.append(_shrinkage(s, e, slug, what))
    out.append(_posterior_table(s, e, slug, ci, what))
    out.append(_frequentist(s, e, slug, level, what))
    return "\n\n".join(t.strip() for t in out if t)


def _diagnostics_text(s: Sections, e: dict[str, Any]) -> str:
    d = sampler_diagnostics(e)
    if not d:
        return "No sampler diagnostics are recorded."
    sampler = SAMPLERS.get(str(d.get("sampler")), escape(d.get("sampler")))
    chains, draws = d.get("chains"), d.get("draws")
    text = f"The posterior was sampled with {sampler}"
    if isinstance(chains, int) and isinstance(draws, int):
        text += (
            f": {chains} chains of {draws:,} draws after {fmt_count(d.get('tune'))} tuning "
            f"steps ({chains * draws:,} draws in all)"
        )
    r_max, ess_min = d.get("r_hat_max", 1.01), d.get("ess_min", 400)
    bfmi_min = d.get("bfmi_min", 0.3)
    failed = []
    r_hat, bulk, tail = d.get("max_r_hat"), d.get("min_ess_bulk"), d.get("min_ess_tail")
    div, bfmi = d.get("divergences"), d.get("min_bfmi")
    if isinstance(r_hat, int | float) and r_hat > r_max:
        failed.append("R-hat")
    if any(isinstance(x, int | float) and x < ess_min for x in (bulk, tail)):
        failed.append("effective sample size")
    if isinstance(div, int) and div > 0:
        failed.append("divergent transitions")
    if isinstance(bfmi, int | float) and bfmi < bfmi_min:
        failed.append("E-BFMI")
    ok = bool(d.get("ok")) and not failed
    text += (
        f". Convergence diagnostics {'passed' if ok else 'failed'}: largest rank-normalised "
        f"R-hat {fmt_num(r_hat, 3)} (required ≤ {fmt_num(r_max, 2)}), smallest bulk and "
        f"tail effective sample sizes {fmt_num(bulk, 0)} and {fmt_num(tail, 0)} (≥ "
        f"{fmt_num(ess_min, 0)}), {fmt_count(div)} divergent transitions (none allowed) and "
        f"smallest E-BFMI {fmt_num(bfmi, 2)} (≥ {fmt_num(bfmi_min, 1)})."
    )
    if not ok:
        text += (
            " **The posterior failed the convergence checks ("
            + (", ".join(failed) or "see `results/heterogeneity.json`")
            + "); its estimates below are unreliable and should not be interpreted before "
            "the model is refitted with more tuning and draws.**"
        )
    return text


def _variance_table(s: Sections, e: dict[str, Any], slug: str, ci: str, what: str) -> str:
    vp = {str(r.get("component")): r for r in records(e.get("variance_partition"))}
    mhr = {str(r.get("group")): r for r in records(e.get("median_hazard_ratio"))}
    if not vp and not mhr:
        return ""
    groups = [g for g in vp if g not in ("predictors", "person")]
    groups += [g for g in mhr if g not in groups and g != "all groups"]
    label = f"tbl-heterogeneity-{slug}-variance"

    def share(r: dict[str, Any] | None) -> str:
        if not r or r.get("share") is None:
            return "–"
        return _pct_ci(r.get("share"), r.get("share_lower"), r.get("share_upper"))

    def ratio(r: dict[str, Any] | None) -> str:
        if not r:
            return "–"
        return fmt_measure(
            {"estimate": r.get("mhr"), "lower": r.get("lower"), "upper": r.get("upper")}, 2
        )

    names = {
        "predictors": "Predictors (linear predictor)",
        "person": "Persons (residual, π²/6)",
        "all groups": "All cluster levels together",
    }
    rows = [
        [
            _cap(group_label(g, plural=True)),
            fmt_num((vp.get(g) or {}).get("variance"), 3),
            share(vp.get(g)),
            ratio(mhr.get(g)),
        ]
        for g in groups
    ]
    if "all groups" in mhr:
        rows.append([names["all groups"], "–", "–", ratio(mhr["all groups"])])
    for comp in ("predictors", "person"):
        if comp in vp:
            rows.append([names[comp], fmt_num(vp[comp].get("variance"), 3), share(vp[comp]), "–"])
    text = []
    for g in groups:
        bits = []
        if g in vp and vp[g].get("share") is not None:
            bits.append(f"{share(vp[g])} of the variance of the log hazard")
        if g in mhr and mhr[g].get("mhr") is not None:
            bits.append(f"a median hazard ratio of {ratio(mhr[g])}")
        if bits:
            text.append(f"{group_label(g, plural=True)} account for {' and '.join(bits)}")
    lead = (
        f"@{label} partitions the variance of the log hazard on the latent scale. "
        + ("; ".join(text) + ". " if text else "")
        + "The median hazard ratio (MHR) is the median of the hazard ratio between two "
        "persons with the same predictors in two randomly chosen clusters, the higher-risk "
        "one on top; 1 means no heterogeneity."
    )
    table = md_table(
        ["Component", "Variance", f"Share of variance ({ci})", f"MHR ({ci})"],
        rows,
        label=label,
        source=OPTIONAL_FILES["heterogeneity"],
        caption=f"Variance partition and median hazard ratios, {what}.",
        notes="Shares of the variance of the log hazard: cluster variances, the variance "
        "of the linear predictor over the persons, and the extreme-value residual "
        "(π²/6) of a proportional-hazards model; posterior means with credible intervals.",
    )
    return lead + "\n\n" + table


def _figure_file(s: Sections, e: dict[str, Any], kind: str, group: str) -> Path | None:
    rel = ((e.get("figures") or {}).get(kind) or {}).get(group)
    if not isinstance(rel, str):
        return None
    parts = Path(rel).parts
    if len(parts) != 2 or parts[0] != "figures" or not rel.endswith(".svg"):
        return None  # only files of results/figures are copied into the report
    src = s.bundle.run_dir / "results" / rel
    return src if src.is_file() else None


def _copied_figure(
    s: Sections, e: dict[str, Any], kind: str, group: str, name: str, caption: str, alt: str
) -> str:
    src = _figure_file(s, e, kind, group)
    rel = ((e.get("figures") or {}).get(kind) or {}).get(group)
    if src is None:
        where = f"results/{rel}" if isinstance(rel, str) else "the figure"
        return f"*{escape(caption.rstrip('.'))}: not shown, {escape(where)} is absent.*\n"
    ff = copy_figure(src, s.figures_dir, name, caption, alt)
    if ff.png.is_file():
        s.content.figures.append(ff)
    return md_figure(f"figures/{name}.svg", caption=caption, label=f"fig-{name}", alt=alt)


def _cluster_effects(s: Sections, e: dict[str, Any], slug: str, ci: str, what: str) -> str:
    out = []
    for group, raw in (e.get("cluster_effects") or {}).items():
        rows = records(raw)
        one, many = group_label(group), group_label(group, plural=True)
        gslug = _slug(group.split("_")[0])
        pooled = next((r for r in rows if r.get(group) == POOLED), None)
        n_pooled = int(pooled.get("n_levels") or 0) if pooled else 0
        listed = [r for r in rows if r.get(group) != POOLED]
        shown_hr = [r for r in rows if isinstance(r.get("hazard_ratio"), int | float)]
        exclude = sum(
            1
            for r in shown_hr
            if (r.get("hr_lower") or 0) > 1 or (r.get("hr_upper") or float("inf")) < 1
        )
        means = [float(r["hazard_ratio"]) for r in shown_hr]
        name = f"heterogeneity-{slug}-caterpillar-{gslug}"
        caption = (
            f"Caterpillar plot of the {many}, {what}: posterior hazard ratio of each "
            f"{one} relative to the average {one}, with {ci}"
            + (
                f"; {n_pooled} {one if n_pooled == 1 else many} with fewer than {s.min_cell} "
                "persons pooled into one row"
                if n_pooled
                else ""
            )
            + "."
        )
        alt = (
            f"Caterpillar plot with one row per {one} ({len(listed)} {many} shown"
            + (f", plus one row pooling {n_pooled} smaller" if pooled else "")
            + "): the posterior mean hazard ratio as a dot and its credible interval as a "
            "horizontal line, on a log scale with a dotted line at 1"
            + (
                f"; posterior means range from {min(means):.2f} to {max(means):.2f} and "
                f"{exclude} of {len(shown_hr)} intervals exclude 1."
                if means
                else "."
            )
        )
        out.append(_copied_figure(s, e, "caterpillar", group, name, caption, alt))
        out.append(_cluster_table(s, group, rows, slug, gslug, ci, what))
    if not out:
        return ""
    lead = (
        "**Cluster effects.** The caterpillar plots show the posterior hazard ratio of "
        "each cluster relative to the average cluster, for persons with the same "
        f"predictors; the tables list clusters of at least {s.min_cell} persons."
    )
    return "\n\n".join([lead, *out])


def _cluster_table(
    s: Sections, group: str, rows: list[dict[str, Any]], slug: str, gslug: str, ci: str, what: str
) -> str:
    one, many = group_label(group), group_label(group, plural=True)

    def cell(v: Any) -> int | str:
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, str) and v.replace(",", "").isdigit():
            return int(v.replace(",", ""))
        return f"<{s.min_cell}"  # masked upstream, or missing: never shown

    persons = [cell(r.get("n_persons")) for r in rows]
    events = [cell(r.get("n_events")) for r in rows]
    try:  # clusters add up to the persons and events of the model
        n_txt = suppress_masked_line(persons, s.min_cell)
        e_txt = suppress_masked_line(events, s.min_cell)
    except ReportError:
        n_txt = [s.count(v) for v in persons]
        e_txt = [s.count(v) for v in events]
    # a cluster under the minimum cell size is never listed alone
    alone = [
        i
        for i, r in enumerate(rows)
        if r.get(group) != POOLED and not (isinstance(persons[i], int) and persons[i] >= s.min_cell)
    ]
    keep = [i for i in range(len(rows)) if i not in alone]
    keep.sort(key=lambda i: float(rows[i].get("hazard_ratio") or 1.0))
    single = [i for i in keep if rows[i].get(group) != POOLED]
    pooled = [i for i in keep if rows[i].get(group) == POOLED]
    subset = len(single) > CLUSTER_ALL
    if subset:
        single = single[:CLUSTER_ROWS] + single[-CLUSTER_ROWS:]
    table_rows = []
    for i in [*single, *pooled]:
        r = rows[i]
        level = r.get(group)
        k = r.get("n_levels")
        label = f"{k} smaller {one if k == 1 else many} pooled" if level == POOLED else str(level)
        if len(label) > 40:
            label = "[label omitted]"
        hr = fmt_measure(
            {
                "estimate": r.get("hazard_ratio"),
                "lower": r.get("hr_lower"),
                "upper": r.get("hr_upper"),
            },
            2,
        )
        table_rows.append([label, n_txt[i], e_txt[i], hr])
    caption = f"Posterior hazard ratios of the {many} relative to the average {one}, {what}"
    if subset:
        caption += (
            f": the {CLUSTER_ROWS} lowest and {CLUSTER_ROWS} highest of "
            f"{len([i for i in keep if rows[i].get(group) != POOLED])} {many}"
        )
    notes = (
        f"{_cap(many)} with fewer than {s.min_cell} persons are pooled into one row "
        "(its hazard ratio the person-weighted mean of theirs). Counts below "
        f"{s.min_cell} are masked and further counts hidden (–) so that masked ones cannot be "
        "recovered from the totals. Events: outcome events during the whole follow-up."
    )
    if alone:
        notes += (
            f" {len(alone)} {one if len(alone) == 1 else many} with fewer than {s.min_cell} "
            "persons, not pooled in the bundle, are not listed."
        )
    if subset:
        notes += " All are in the caterpillar plot and in the source file."
    return md_table(
        [_cap(one), "Persons", "Events", f"Hazard ratio ({ci})"],
        table_rows,
        label=f"tbl-heterogeneity-{slug}-clusters-{gslug}",
        source=OPTIONAL_FILES["heterogeneity"],
        caption=caption + ".",
        notes=notes,
    )


def _shrinkage(s: Sections, e: dict[str, Any], slug: str, what: str) -> str:
    shrink = e.get("shrinkage") or {}
    if not shrink:
        return ""
    label = f"tbl-heterogeneity-{slug}-shrinkage"
    figs, rows, masked, sentences = [], [], [], []
    for group, spec in shrink.items():
        one, many = group_label(group), group_label(group, plural=True)
        bands = records((spec or {}).get("summary"))
        k = (spec or {}).get("n_masked_levels") or 0
        if k:
            masked.append(f"{k} {one if k == 1 else many}")
        name = f"heterogeneity-{slug}-shrinkage-{_slug(group.split('_')[0])}"
        caption = (
            f"Shrinkage of the {one} effects, {what}: posterior mean against unpooled log "
            f"hazard ratio of each {one} with at least {s.min_cell} persons."
        )
        alt = (
            f"Scatter plot, one point per {one} with at least {s.min_cell} persons, its area "
            "proportional to the persons: the posterior mean log hazard ratio against the "
            "unpooled estimate from the cluster's own events, with a dotted identity line "
            "(no pooling) and a horizontal line at 0 (complete pooling); points lie between "
            "the two, small clusters nearer 0."
        )
        figs.append(_copied_figure(s, e, "shrinkage", group, name, caption, alt))
        for b in bands:
            rows.append(
                [
                    _cap(many),
                    b.get("size_band"),
                    fmt_count(b.get("n_levels")),
                    fmt_num(b.get("mean_pooling"), 2),
                    fmt_num(b.get("mean_abs_unpooled"), 3),
                    fmt_num(b.get("mean_abs_posterior"), 3),
                ]
            )
        pool = [b for b in bands if isinstance(b.get("mean_pooling"), int | float)]
        if len(pool) > 1:
            sentences.append(
                f"the mean pooling factor of {many} with {pool[0].get('size_band')} persons "
                f"is {pool[0]['mean_pooling']:.2f}, of those with "
                f"{pool[-1].get('size_band')} persons {pool[-1]['mean_pooling']:.2f}"
            )
        elif pool:
            sentences.append(
                f"the mean pooling factor of {many} ({pool[0].get('size_band')} persons) "
                f"is {pool[0]['mean_pooling']:.2f}"
            )
    text = (
        "**Shrinkage.** A cluster with few persons has little information of its own, so "
        "the hierarchical model pulls its effect towards the average cluster (partial "
        "pooling); the pooling factor 1/(1 + σ²E), with E the events expected in the "
        "cluster, is near 1 for small clusters and near 0 for large ones. The figures plot "
        "each cluster's posterior mean against its unpooled estimate, log((O + 0.5)/(E + "
        f"0.5)) from its observed events O; @{label} summarises the pooling by cluster size."
    )
    if sentences:
        text += " " + _cap("; ".join(sentences)) + "."
    table = (
        md_table(
            [
                "Cluster",
                "Persons per cluster",
                "Clusters",
                "Mean pooling factor",
                "Mean |unpooled log HR|",
                "Mean |posterior log HR|",
            ],
            rows,
            label=label,
            source=OPTIONAL_FILES["heterogeneity"],
            caption=f"Shrinkage of cluster effects by cluster size, {what}.",
            notes=(
                f"Left out (fewer than {s.min_cell} persons): {', '.join(masked)}."
                if masked
                else None
            ),
        )
        if rows
        else ""
    )
    return "\n\n".join([text, *figs, table])


def _posterior_table(s: Sections, e: dict[str, Any], slug: str, ci: str, what: str) -> str:
    summary = records(e.get("posterior_summary"))
    if not summary:
        return ""
    main, coefs, baseline = [], [], 0
    for r in summary:
        p = str(r.get("parameter", ""))
        if p.startswith("coef["):
            coefs.append(r)
        elif p.startswith("log_rate"):
            baseline += 1
        else:
            main.append(r)

    def z(r: dict[str, Any]) -> float:
        mean, sd = r.get("mean"), r.get("sd")
        if not isinstance(mean, int | float) or not isinstance(sd, int | float) or sd <= 0:
            return 0.0
        return abs(mean) / sd

    top = sorted(coefs, key=z, reverse=True)[:COEF_ROWS]
    rows = [
        [
            _parameter_label(str(r.get("parameter"))),
            fmt_num(r.get("mean"), 3),
            fmt_num(r.get("sd"), 3),
            f"{fmt_num(r.get('lower'), 3)} to {fmt_num(r.get('upper'), 3)}",
            fmt_num(r.get("r_hat"), 3),
            fmt_num(r.get("ess_bulk"), 0),
        ]
        for r in [*main, *top]
    ]
    left = []
    if len(coefs) > len(top):
        left.append(f"{len(coefs) - len(top)} further log hazard ratios")
    if baseline:
        left.append(f"{baseline} baseline log rates")
    notes = (
        "Log hazard ratios per unit of the predictor, conditional on the cluster effects"
        + (
            f"; the {len(top)} furthest from 0 relative to their posterior SD are shown"
            if len(coefs) > len(top)
            else ""
        )
        + "."
        + (f" Not shown: {' and '.join(left)} (in the source file)." if left else "")
    )
    label = f"tbl-heterogeneity-{slug}-posterior"
    return (
        f"**Posterior summary.** @{label} gives the cluster standard deviations, the "
        "baseline parameters and the main log hazard ratios.\n\n"
        + md_table(
            ["Parameter", "Mean", "SD", ci, "R-hat", "Bulk ESS"],
            rows,
            label=label,
            source=OPTIONAL_FILES["heterogeneity"],
            caption=f"Posterior summary, {what}.",
            notes=notes,
        )
    )


def _frequentist(s: Sections, e: dict[str, Any], slug: str, level: int, what: str) -> str:
    f = e.get("frequentist")
    if not isinstance(f, dict):
        return ""
    if not f.get("model"):
        return (
            "**Comparison with a frequentist model.** Not performed in this run: "
            + escape(f.get("reason") or "no comparator was recorded")
            + "."
        )
    coefs = records(f.get("coefficients"))
    label = f"tbl-heterogeneity-{slug}-frequentist"
    kind = FREQUENTIST_KINDS.get(str(f.get("kind")), escape(f.get("kind")))
    inside = sum(1 for c in coefs if c.get("inside") is True)
    text = (
        f"**Comparison with a frequentist model.** The comparator is the {kind} model "
        f"**{escape(f.get('model'))}** of the same arm, fitted to the same predictors "
        "without cluster effects"
        + (
            f" (penalised, penalizer {fmt_num(f.get('penalizer'), 3)})"
            if isinstance(f.get("penalizer"), int | float) and f["penalizer"] > 0
            else ""
        )
        + ". "
    )
    if coefs:
        share = f.get("share_inside")
        share = share if isinstance(share, int | float) else inside / len(coefs)
        text += (
            f"{inside} of its {len(coefs)} log hazard ratios ({share:.0%}) lie inside the "
            f"hierarchical model's {level}% credible intervals (@{label}). "
        )
    risk = f.get("risk") or {}
    if isinstance(risk.get("mean_abs_difference"), int | float):
        text += (
            f"Predicted risks by {horizon_text(risk.get('horizon_days'))} of the "
            f"{s.count(risk.get('n'))} persons differ by {risk['mean_abs_difference']:.4f} "
            f"on average (at most {fmt_num(risk.get('max_abs_difference'), 3)}); the mean "
            f"predicted risk is {fmt_num(risk.get('mean_bayes'), 3)} (hierarchical) and "
            f"{fmt_num(risk.get('mean_frequentist'), 3)} (frequentist), their correlation "
            f"{fmt_num(risk.get('correlation'), 3)}. "
        )
    text += (
        "The hierarchical model's hazard ratios are conditional on the practice and "
        "municipality, the frequentist model's averaged over them; with between-cluster "
        "variance the conditional ones lie somewhat further from 1 (non-collapsibility), so "
        "small differences are expected."
    )
    splines = [str(x) for x in f.get("excluded_splines") or []]
    if splines:
        text += (
            f" Spline terms ({escape(', '.join(splines))}) are not compared: the "
            "frequentist model's first spline term is not a linear effect."
        )
    if not coefs:
        return text

    def gap(c: dict[str, Any]) -> float:
        a, b = c.get("bayes_mean"), c.get("frequentist")
        return abs(a - b) if isinstance(a, int | float) and isinstance(b, int | float) else 0

    top = sorted(coefs, key=gap, reverse=True)[:COEF_ROWS]
    rows = [
        [
            str(c.get("predictor")),
            fmt_measure(
                {
                    "estimate": c.get("bayes_mean"),
                    "lower": c.get("bayes_lower"),
                    "upper": c.get("bayes_upper"),
                },
                3,
            ),
            fmt_num(c.get("frequentist"), 3),
            "yes" if c.get("inside") is True else "no",
        ]
        for c in top
    ]
    caption = f"Log hazard ratios of the hierarchical and the frequentist model, {what}"
    if len(coefs) > len(top):
        caption += f": the {len(top)} of {len(coefs)} predictors that differ most"
    return (
        text
        + "\n\n"
        + md_table(
            ["Predictor", f"Hierarchical ({level}% CrI)", "Frequentist", "Inside the CrI"],
            rows,
            label=label,
            source=OPTIONAL_FILES["heterogeneity"],
            caption=caption + ".",
        )
    )
