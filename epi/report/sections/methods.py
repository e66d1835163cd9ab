"""Methods: data, participants, outcome, predictors, sample size, models, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from epi.disclosure import suppress_line
from epi.format import fmt_count, fmt_num
from epi.report._bundle import OPTIONAL_FILES, records
from epi.report._markdown import code, escape, md_table, not_performed
from epi.report.sections._shared import Sections
from epi.report.sections.heterogeneity import (
    HIERARCHICAL_KINDS,
    NO_CLUSTERS,
    NOT_RUN,
    group_label,
    hierarchical,
    sampler_diagnostics,
)

SECTORS = {
    "gp": "General practice",
    "hosp": "Hospital",
    "muni": "Municipality",
    "notes": "Notes",
    "persons": "Population register",
    "residence": "Population register",
}


def _sector(table: str) -> str:
    return SECTORS.get(table.split("_")[0], "Other")


def _code_lists(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if {"sector", "vocabulary", "codes"} <= set(node):
            return [(path, node)]
        for k, v in node.items():
            out += _code_lists(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _code_lists(v, f"{path}[{i}]")
    return out


def data_sources(s: Sections) -> None:
    """Data sources and dates (part and table data_sources)."""
    b = s.bundle
    src = b.section("data", default={})
    cohort = b.section("cohort", default={})
    index = cohort.get("index", {})
    if src.get("source") == "synthetic":
        text = (
            f"The data are epi's embedded synthetic Danish population "
            f"({fmt_count(src.get('persons'))} persons, generator seed {src.get('seed')}): "
            "tables shaped like the Danish GP, hospital (National Patient Register), "
            "municipal care and population registers, with free-text notes. They are "
            "not real persons and not representative of any real population."
        )
    elif src.get("source") == "analysis_table":
        unit = float(src.get("time_unit_days") or 1)
        unit_text = "days" if unit == 1 else f"units of {unit:g} days"
        text = (
            f"The data are one analysis table, {code(Path(str(src.get('path', '?'))).name)}, "
            f"with one row per person: follow-up time {code(src.get('time'))} (in "
            f"{unit_text}), event {code(src.get('event'))} (1 = outcome, 2 = competing "
            f"event, 0 = censored) and {len(src.get('predictors') or [])} predictors. "
            "[*For the authors: where the data come from, their dates, why they were chosen "
            "and how representative they are (TRIPOD+AI 5a, 5b).*]{.author-input}"
        )
    else:
        text = (
            f"The data are routine-care tables read from the folder "
            f"{code(Path(str(src.get('path', '?'))).name)} and checked against epi's data "
            "specifications (`data_specs/`). "
            "[*For the authors: the data custodians, why these data were chosen and how "
            "representative they are (TRIPOD+AI 5a).*]{.author-input}"
        )
    if not s.registers:
        s.part("data_sources", text)
        _data_table(s)
        return
    acc = (
        f"Participants enter at a fixed index date {index.get('date')}"
        if index.get("type") == "fixed_date"
        else f"Participants enter at their index date ({escape(index.get('type'))}"
        + (f", window {index['window'][0]} to {index['window'][1]}" if index.get("window") else "")
        + ")"
    )
    text += (
        f"\n\n**Dates.** {acc}; follow-up ends at the outcome, death, emigration or the "
        f"end of data ({cohort.get('end_of_data', '?')}). The look-back for predictors is "
        f"{b.section('features', 'lookback_days')} days before the index date."
    )
    s.part("data_sources", text)
    _data_table(s)


def _data_table(s: Sections) -> None:
    """Rows read and kept per input table (table data_sources)."""
    dr = s.bundle.get("data_report")
    if not dr:
        s.table("data_sources", not_performed("Table of data sources", s.absent("data_report")))
        return
    rows = []
    for name, t in (dr.get("tables") or {}).items():
        read, kept = t.get("rows_read"), t.get("rows_kept")
        dropped = t.get("dropped") or {}
        if isinstance(read, int) and isinstance(kept, int):
            texts = suppress_line([kept, *dropped.values()], s.min_cell)
            kept_txt, drop_txt = texts[0], texts[1:]
            dropped_s = (
                "; ".join(f"{k}: {v}" for k, v in zip(dropped, drop_txt, strict=True)) or "none"
            )
            read_txt = f"{read:,}"
        else:
            read_txt, kept_txt, dropped_s = "absent", "–", "–"
        dates = (
            f"{t.get('first_date')} to {t.get('last_date')}"
            if t.get("first_date")
            else "not recorded"
        )
        sector = _sector(name) if s.registers else "–"
        rows.append([sector, name, read_txt, kept_txt, dropped_s, dates])
    s.table(
        "data_sources",
        md_table(
            ["Sector", "Table", "Rows read", "Rows kept", "Rows dropped (rule: n)", "Dates"],
            rows,
            label="tbl-data-sources",
            source=OPTIONAL_FILES["data_report"],
            caption="Input tables per sector: rows read and kept after the checks against "
            "the data specifications, and the dates they cover.",
            notes=f"Row counts below {s.min_cell} are masked; complementary cells are shown as –.",
        ),
    )


def setting(s: Sections) -> None:
    """The setting and its numbers of practices and municipalities (part setting)."""
    summary = s.bundle.get("summary") or {}
    centres = []
    for key, label in (
        ("n_practices", "general practices"),
        ("n_municipalities", "municipalities"),
    ):
        if summary.get(key) is not None:
            centres.append(f"{s.count(summary[key])} {label}")
    if not s.registers:
        s.part(
            "setting",
            "[*For the authors: the setting and the centres the analysis table comes from "
            "(TRIPOD+AI 6a).*]{.author-input}",
        )
        return
    s.part(
        "setting",
        "The setting is Danish primary care and the population it serves: general practice, "
        "hospital contacts and municipal health and care services, linked by person. "
        + (
            "Participants were listed with " + " in ".join(centres) + "."
            if centres
            else "The numbers of general practices and municipalities are not recorded in "
            "`cohort/summary.json` of this run."
        ),
    )


def participants(s: Sections) -> None:
    """Eligibility criteria (part participants) and the code lists (table code_lists)."""
    b = s.bundle
    if not s.registers:
        on_invalid = b.section("data", "on_invalid", default="error")
        s.part(
            "participants",
            "Every person of the analysis table with a valid follow-up time and event "
            + (
                "was included; a row failing the checks stopped the run."
                if on_invalid == "error"
                else "was included; rows failing the checks were dropped and are counted in "
                "@tbl-data-sources."
            )
            + " [*For the authors: the eligibility criteria applied when the table was made "
            "(TRIPOD+AI 7a).*]{.author-input}",
        )
        s.table("code_lists", "")
        return
    e = b.section("cohort", "eligibility", default={})
    idx = b.section("cohort", "index", default={})
    lines = [
        "- Index date: "
        + escape(str(idx.get("type", "?")).replace("_", " "))
        + (f" ({idx.get('date')})" if idx.get("date") else "")
        + (f", age {idx.get('age')}" if idx.get("age") is not None else ""),
        f"- Age {fmt_num(e.get('age_min'), 0)} to {fmt_num(e.get('age_max'), 0)} years "
        "at the index date",
    ]
    if e.get("resident"):
        lines.append("- Resident in Denmark at the index date")
    if e.get("gp_registered_days"):
        lines.append(
            f"- Listed with a general practice for at least {e['gp_registered_days']} days"
        )
    if e.get("min_lookback_days"):
        lines.append(f"- At least {e['min_lookback_days']} days of data before the index date")
    if e.get("home_dwelling"):
        lines.append("- Home-dwelling (not living in a nursing home)")
    for ex in b.section("cohort", "exclusions", default=[]) or []:
        window = (
            f" in the {ex['window_days']} days before"
            if ex.get("window_days")
            else " at any time before"
        )
        lines.append(
            f"- Excluded: *{escape(ex.get('name'))}* (codes{window} the index date; "
            "see @tbl-code-lists)"
        )
    s.part(
        "participants",
        "Eligibility criteria, as registered in the protocol:\n\n" + "\n".join(lines),
    )

    rows = []
    for path, cl in _code_lists(b.protocol):
        if path.startswith("features"):
            purpose = (
                "predictor (" + path.split(".")[2] + ")" if path.count(".") >= 2 else "predictor"
            )
        elif path.startswith("outcome"):
            purpose = "outcome"
        elif path.startswith("cohort.exclusions"):
            purpose = "exclusion"
        elif path.startswith("cohort.index"):
            purpose = "index event"
        else:
            purpose = path
        rows.append(
            [
                purpose,
                cl.get("sector"),
                cl.get("vocabulary"),
                ", ".join(cl.get("codes", [])),
                cl.get("description", ""),
            ]
        )
    s.table(
        "code_lists",
        md_table(
            ["Use", "Sector", "Vocabulary", "Codes (prefix match)", "Description"],
            rows or [["–", "–", "–", "no code lists in the protocol", ""]],
            caption="Code lists of the protocol (codes match as prefixes).",
            label="tbl-code-lists",
            source="protocol.json",
        ),
    )


def data_preparation(s: Sections) -> None:
    """How the input tables were checked and loaded (part data_preparation)."""
    dr = s.bundle.get("data_report")
    on_invalid = s.bundle.section("data", "on_invalid", default="error")
    if not s.registers:
        s.part(
            "data_preparation",
            "The analysis table was checked before use: follow-up times must be positive "
            "numbers, events 0, 1 or 2, predictors numeric and person ids (when given) unique. "
            "Rows failing "
            f"a check {'stopped the run' if on_invalid == 'error' else 'were dropped'} "
            f"(`data.on_invalid: {on_invalid}`; @tbl-data-sources). The same checks apply to "
            "every person.",
        )
        return
    text = (
        "Every input table was checked against its data specification (columns, types, "
        "code vocabularies, keys and dates) before use, and loaded into one event store. "
        f"Rows failing a check {'stopped the run' if on_invalid == 'error' else 'were dropped'}"
        f" (`data.on_invalid: {on_invalid}`). The same checks apply to every person; no "
        "rule depends on sex, age or any other group."
    )
    if dr:
        n_tables = len(dr.get("tables") or {})
        text += f" {n_tables} tables were checked (@tbl-data-sources)."
    else:
        text += " " + s.absent("data_report").capitalize() + "."
    s.part("data_preparation", text)


def outcome(s: Sections) -> None:
    """The outcome's definition and ascertainment (part outcome)."""
    o = s.bundle.section("outcome", default={})
    if not s.registers:
        event = s.bundle.section("data", "event", default="event")
        s.part(
            "outcome",
            f"The outcome, {s.outcome_name()}, is the event column {code(event)} of the analysis "
            f"table (1 = outcome, 2 = competing event, 0 = censored), analysed within "
            f"{s.horizon}. [*For the authors: how and by whom the outcome was ascertained, "
            "and whether blind to the predictors (TRIPOD+AI 8a-c).*]{.author-input}",
        )
        return
    bits = [
        f"The outcome, {s.outcome_name()}"
        + (
            f" ({escape(str(o['description']).strip().rstrip('.'))})"
            if o.get("description")
            else ""
        )
        + ", is the first record of a code in @tbl-code-lists after the index date and "
        f"within {s.horizon}."
    ]
    if o.get("admission_only"):
        bits.append("Hospital codes count only on admissions (stays of 12 hours or more).")
    if o.get("acute_only"):
        bits.append("Only acute hospital contacts count.")
    bits.append(
        "Death before the outcome is a competing event."
        if o.get("competing_death", True)
        else "Deaths are censored (no competing-risk analysis)."
    )
    bits.append(
        "The outcome is ascertained automatically from register codes recorded in "
        "routine care, with no assessor and no knowledge of the predictors (TRIPOD+AI "
        "8c); the same definition applies to every group."
    )
    s.part("outcome", " ".join(bits))


def predictors(s: Sections) -> None:
    """Candidate predictors by feature set (part predictors)."""
    b = s.bundle
    if not s.registers:
        names = b.section("data", "predictors", default=[]) or []
        s.part(
            "predictors",
            f"The {len(names)} predictors of the analysis table named in the protocol: "
            + ", ".join(code(n) for n in names)
            + ". No data-driven pre-selection was done before modelling.",
        )
        return
    sets = b.section("features", "sets", default={}) or {}
    miss = records(b.get("missingness"), "features")
    per_set: dict[str, int] = {}
    for f in miss:
        per_set[str(f.get("set"))] = per_set.get(str(f.get("set")), 0) + 1
    lines = []
    for name, spec in sets.items():
        lb = spec.get("lookback_days") or b.section("features", "lookback_days")
        n = per_set.get(name)
        lines.append(
            f"- **{escape(name)}**: look-back {lb} days"
            + (f"; {n} predictor columns" if n else "")
            + (
                f"; {len(spec.get('code_lists') or [])} code list(s)"
                if spec.get("code_lists")
                else ""
            )
        )
    notes = b.section("notes")
    if notes:
        lines.append(
            f"- **notes**: note variables from the rule pack {code(notes.get('pack'))}, "
            f"look-back {notes.get('lookback_days')} days, concepts: "
            f"{escape(', '.join(notes.get('concepts') or []) or 'all in the pack')}"
        )
    s.part(
        "predictors",
        "Candidate predictors were pre-specified in the protocol as feature sets, one per "
        "sector, built only from information dated before the index date (a leakage guard "
        "stops the run otherwise). No data-driven pre-selection was done before modelling. "
        "Predictor columns carry their sector prefix (`demo__`, `gp__`, `hosp__`, `muni__`, "
        "`note__`)"
        + (
            "; every column and its missingness is listed in @tbl-missingness.\n\n"
            if s.bundle.has("missingness")
            else ".\n\n"
        )
        + "\n".join(lines),
    )


def sample_size(s: Sections) -> None:
    """Riley et al. minimum sample size per arm against the data (part and table sample_size)."""
    size = s.bundle.get("sample_size")
    if not size:
        s.part("sample_size", not_performed("Sample size assessment", s.absent("sample_size")))
        s.table("sample_size", "")
        return
    arms = size.get("arms") or {}
    if not arms:
        s.part(
            "sample_size",
            not_performed("Sample size assessment", escape(size.get("rsquared_source"))),
        )
        s.table("sample_size", "")
        return
    first = next(iter(arms.values()))
    short = [a for a, r in arms.items() if r.get("meets") is False]
    text = (
        "The study size is the whole eligible population. Whether it suffices for the "
        "candidate parameters of each arm was assessed with the criteria of Riley et al. "
        "(BMJ 2020;368:m441) for a time-to-event model (as R pmsampsize): expected "
        f"shrinkage ≥ {fmt_num(first.get('shrinkage'), 2)}, optimism in Nagelkerke's R² ≤ "
        "0.05 and a precise overall risk at the horizon. Anticipated Cox–Snell R² "
        f"{fmt_num(first.get('rsquared_cs'), 3)}, from {escape(size.get('rsquared_source'))}; "
        f"outcome rate {fmt_num(first.get('rate'), 3)} per person-year, mean follow-up "
        f"{fmt_num(first.get('meanfup'), 2)} years (@tbl-sample-size)."
    )
    if short:
        text += (
            " **The data are too few for the candidate parameters of "
            + ", ".join(f"*{escape(a)}*" for a in short)
            + "**: expect overfitting (a calibration slope well below 1) unless the model is "
            "penalised or the candidate parameters are reduced."
        )
    s.part("sample_size", text)
    order = list((s.bundle.get("performance") or {}).get("arm_order") or [])
    rows = [
        [
            arm,
            fmt_count(r.get("parameters")),
            " / ".join(fmt_count(c.get("n")) for c in r.get("criteria") or []),
            fmt_count(r.get("n")),
            fmt_num(r.get("epp"), 1),
            f"{fmt_count(r.get('n_available'))} ({fmt_count(r.get('events_available'))})",
            "yes" if r.get("meets") else "no",
            fmt_count(r.get("max_parameters")),
        ]
        for arm, r in sorted(
            arms.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99
        )
    ]
    s.table(
        "sample_size",
        md_table(
            [
                "Arm",
                "Candidate parameters",
                "Required n, criteria 1 / 2 / 3",
                "Required n",
                "Required EPP",
                "Available n (events)",
                "Met",
                "Parameters the data support",
            ],
            rows,
            caption="Minimum sample size for developing each arm's model (Riley et al.): "
            "persons required by each criterion and overall, events per candidate parameter "
            "required, the persons and outcome events available, and the largest number of "
            "candidate parameters that criteria 1 and 2 allow with them.",
            label="tbl-sample-size",
            source=OPTIONAL_FILES["sample_size"],
        ),
    )


def missing_data(s: Sections) -> None:
    """How missing values were handled (part missing_data)."""
    m = s.bundle.section("missing", default={})
    strategy = m.get("strategy", "?")
    text = {
        "complete_case": "Persons with any missing predictor value were left out "
        "(complete-case analysis).",
        "missing_indicator": "Missing values were handled with missing-indicator columns: the "
        "value is set to a reference and an indicator marks that it was missing, so a model "
        "can be applied as is when a value is unavailable in practice.",
        "multiple_imputation": f"Missing values were multiply imputed ({m.get('imputations')} "
        "imputations) with the outcome in the imputation model; estimates are pooled.",
    }.get(strategy, f"Strategy: {escape(strategy)}.")
    if s.registers:
        text += (
            " In register data, the absence of a record usually means that no contact "
            "occurred; counts and indicators are therefore zero rather than missing."
        )
    if s.bundle.has("missingness"):
        text += " @tbl-missingness lists the missing values per predictor."
    s.part("missing_data", text)


def models(s: Sections) -> None:
    """Model types and feature-set arms (tables models and arms, part models)."""
    b = s.bundle
    rows = []
    for m in b.section("models", default=[]) or []:
        params = "; ".join(f"{k} = {v}" for k, v in (m.get("params") or {}).items()) or "defaults"
        rows.append([m.get("name"), m.get("kind"), params])
    s.table(
        "models",
        md_table(
            ["Model", "Kind", "Parameters"],
            rows,
            label="tbl-models",
            caption="Model types and their parameters as registered in the protocol.",
            source="protocol.json",
        ),
    )
    arms = (b.get("performance") or {}).get("arms") or {}
    comp = b.section("comparisons") or {}
    arm_rows = []
    for arm, sets in (comp.get("arms") or {}).items():
        n_pred = (arms.get(arm) or {}).get("n_predictors", "–")
        ref = "reference" if arm == comp.get("reference") else ""
        arm_rows.append([arm, ", ".join(sets), n_pred, ref])
    if not arm_rows:
        arm_rows = [
            [a, ", ".join(spec.get("feature_sets", [])), spec.get("n_predictors", "–"), ""]
            for a, spec in arms.items()
        ]
    s.table(
        "arms",
        md_table(
            ["Arm", "Feature sets", "Predictors", ""],
            arm_rows or [["–", "–", "–", ""]],
            caption="Feature-set arms compared in this study.",
            label="tbl-arms",
            source="protocol.json; results/performance.json",
        ),
    )
    s.part(
        "models",
        "Each model in @tbl-models was fitted to each feature-set arm in @tbl-arms using all "
        "predictors of the arm (no selection). Continuous predictors enter as registered in "
        "the model's parameters (for example restricted cubic splines); models treat a "
        "competing death as censoring unless they model competing risks. No class-imbalance "
        "methods were used and no model was updated after evaluation.",
    )


def validation(s: Sections) -> None:
    """Internal, temporal and internal–external validation as done (part validation)."""
    v = s.bundle.section("validation", default={})
    perf = s.bundle.get("performance") or {}
    fits = [vals for _, _, vals in s.perf_rows()]
    bits = [
        "All data were used for development. Performance was estimated by internal "
        "validation: the optimism of each measure was estimated with "
        f"{perf.get('bootstrap', v.get('bootstrap', '?'))} bootstrap samples, refitting the "
        "whole modelling procedure in each, and subtracted from the apparent performance; "
        f"{perf.get('folds', v.get('folds', '?'))}-fold cross-validation gives a second "
        "estimate."
    ]
    if any(f.get("temporal") for f in fits):
        bits.append(
            f"Temporal validation: models developed on persons indexed before "
            f"{v.get('temporal_split_year')} were evaluated on those indexed from then on."
        )
    else:
        why = perf.get("temporal_not_done") or "no temporal split was made"
        bits.append(f"Temporal validation was not performed: {escape(why)}.")
    by = perf.get("internal_external_by")
    if by and any(f.get("internal_external") for f in fits):
        bits.append(
            f"Internal–external validation: each {escape(by)} in turn was held out, the "
            "models developed on the rest and evaluated on it."
        )
    else:
        bits.append(
            "Internal–external validation was not performed"
            + (
                f": the data have no {escape(by)} identifier."
                if by
                else " (`validation.internal_external` is not set in the protocol)."
            )
        )
    if perf.get("interval"):
        bits.append(f"**Intervals.** {escape(perf['interval'])}")
    if any(f.get("temporal") or f.get("internal_external") for f in fits):
        bits.append(
            "Development and evaluation data come from the same source and follow the "
            "same eligibility, outcome and predictor definitions; temporal and "
            "internal–external evaluations differ only in calendar time or cluster "
            "(TRIPOD+AI 16)."
        )
    s.part("validation", " ".join(bits))


def heterogeneity_methods(s: Sections) -> None:
    """How heterogeneity across clusters was quantified (part heterogeneity_methods)."""
    het = hierarchical(s.bundle)
    if het is not None:
        s.part("heterogeneity_methods", _heterogeneity_methods_text(s, het))
    else:
        s.part(
            "heterogeneity_methods",
            not_performed(
                "Heterogeneity across clusters (hierarchical models)",
                NOT_RUN if s.registers else NO_CLUSTERS,
            ),
        )


def _heterogeneity_methods_text(s: Sections, het: dict[str, Any]) -> str:
    entries = [e for e in het["models"] if isinstance(e, dict)]
    kinds = sorted(
        {HIERARCHICAL_KINDS.get(str(e.get("kind")), escape(e.get("kind"))) for e in entries}
    )
    groups = list(dict.fromkeys(g for e in entries for g in e.get("cluster_effects") or {}))
    levels = sorted({round(100 * float(e.get("prob") or 0.9)) for e in entries})
    level = " and ".join(f"{p}%" for p in levels) or "90%"
    d: dict[str, Any] = {}
    for e in entries:
        d = sampler_diagnostics(e)
        if d:
            break
    across = " and ".join(group_label(g, plural=True) for g in groups) or "clusters"
    text = [
        f"Heterogeneity across {across} "
        f"(TRIPOD+AI 12d and 23b) was quantified with {' and '.join(kinds)} survival models "
        "with crossed, non-centred random intercepts for each cluster level, fitted to all "
        "persons of an arm with the same predictors as the other models; a competing death "
        "censors follow-up (the cause-specific hazard is modelled). Posteriors were sampled "
        "by Markov chain Monte Carlo with the No-U-Turn sampler; convergence required a "
        f"rank-normalised R-hat of at most {fmt_num(d.get('r_hat_max', 1.01), 2)}, bulk and "
        f"tail effective sample sizes of at least {fmt_num(d.get('ess_min', 400), 0)}, no "
        "divergent transitions and an E-BFMI of at least "
        f"{fmt_num(d.get('bfmi_min', 0.3), 1)} in every chain. Results are posterior means "
        f"with {level} equal-tailed credible intervals.",
        "The variance partition gives each level's share of the variance of the log hazard "
        "on the latent scale: the cluster variances, the variance of the linear predictor "
        "over the persons, and the person-level residual π²/6 of the extreme-value "
        "distribution. The median hazard ratio, MHR = exp(√(2σ²) Φ⁻¹(0.75)), is the median "
        "hazard ratio between two persons with the same predictors in two randomly chosen "
        "clusters. Shrinkage compares each cluster's unpooled estimate, log((O + 0.5)/(E + "
        "0.5)) from its observed (O) and expected (E) events, with its posterior mean; the "
        "pooling factor 1/(1 + σ²E) is summarised by cluster size. The log hazard ratios "
        "and predicted risks of each hierarchical model were compared with those of the "
        "arm's first frequentist Cox or Weibull model, fitted without cluster effects.",
        f"Clusters with fewer than {s.min_cell} persons are pooled into one row or left out, "
        f"and counts below {s.min_cell} are masked. "
        + (
            f"Validation of the hierarchical models: {escape(het['resampling'])}. "
            if isinstance(het.get("resampling"), str)
            else ""
        )
        + "Results: [Heterogeneity](#sec-heterogeneity).",
    ]
    return "\n\n".join(text)
