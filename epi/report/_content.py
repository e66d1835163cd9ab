"""Everything the report shows, formatted from the bundle: variables, text parts, tables, figures.

This is the only place that turns bundle values into text. It never reads
person-level files, formats every person count through the disclosure
helpers, and writes "not performed in this run: <reason>" wherever a bundle
file or an analysis is absent, so that no number is invented.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from epi.exceptions import ReportError
from epi.report._bundle import OPTIONAL_FILES, Bundle, records
from epi.report._checklist import resolve_checklist
from epi.report._disclosure import is_masked, mask_count, suppress_line, suppress_masked_line
from epi.report._figures import (
    FigureFile,
    calibration_figure,
    copy_figure,
    decision_figure,
    flow_figure,
    missingness_figure,
    save_figure,
    subgroup_figure,
)
from epi.report._flow import flow_boxes
from epi.report._markdown import (
    code,
    escape,
    fmt_measure,
    fmt_num,
    fmt_p,
    md_figure,
    md_table,
    not_performed,
)

__all__ = ["Content", "build_content"]

SECTORS = {
    "gp": "General practice",
    "hosp": "Hospital",
    "muni": "Municipality",
    "notes": "Notes",
    "persons": "Population register",
    "residence": "Population register",
}
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
_COUNT_TEXT = re.compile(r"^(<\d+|\d[\d,]*|–)$")
_STAMP = {"protocol_fingerprint", "study_id", "synthetic", "epi_version"}
_TEXT_KEYS = {"text", "texts", "example", "examples", "snippet", "snippets", "note_text", "notes"}


@dataclass
class Content:
    """The report's generated pieces (file name → Markdown) and figures."""

    variables: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    figures: list[FigureFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def horizon_text(days: Any) -> str:
    """``365`` → ``1 year (365 days)``."""
    try:
        d = int(days)
    except (TypeError, ValueError):
        return "the protocol's horizon"
    years = d / 365.25
    if abs(years - round(years)) < 0.01 and round(years) >= 1:
        y = round(years)
        return f"{y} year{'s' if y > 1 else ''} ({d} days)"
    return f"{d} days"


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


def _as_records(obj: Any) -> list[dict[str, Any]]:
    """Records from a list of dicts or a dict of equally long lists (column form)."""
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, dict)]
    if isinstance(obj, dict) and obj and all(isinstance(v, list) for v in obj.values()):
        keys = list(obj)
        return [dict(zip(keys, vals, strict=True)) for vals in zip(*obj.values(), strict=True)]
    return []


def _int(value: Any) -> str:
    """An integer with thousands separators (not a person count: those use mask_count)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "?"


def _run_name(run_dir: Path) -> str:
    """The run folder's final name (a pipeline builds the report in ``.<name>.partial``)."""
    name = run_dir.name
    if name.startswith(".") and name.endswith(".partial"):
        return name[1 : -len(".partial")]
    return name


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


def _slug(text: str) -> str:
    """A cross-reference id piece: lower-case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def _group_label(group: str, *, plural: bool = False) -> str:
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


def _diagnostics(entry: dict[str, Any]) -> dict[str, Any]:
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


class _Builder:
    def __init__(self, bundle: Bundle, figures_dir: Path) -> None:
        self.b = bundle
        self.m = bundle.min_cell
        self.fig_dir = figures_dir
        self.c = Content()
        self.horizon = horizon_text(
            (bundle.get("performance") or {}).get("horizon_days")
            or bundle.section("outcome", "horizon_days")
        )
        self.primary = str((bundle.section("models", default=[{}]) or [{}])[0].get("name", ""))

    # ------------------------------------------------------------ helpers
    def count(self, n: Any) -> str:
        if isinstance(n, str):  # already masked upstream
            return n.strip() if _COUNT_TEXT.match(n.strip()) else escape(n)
        if n is None:
            return "–"
        return mask_count(n, self.m)

    def part(self, name: str, text: str) -> None:
        self.c.parts[name] = text.strip() + "\n"

    def table(self, name: str, text: str) -> None:
        self.c.tables[name] = text.strip() + "\n"

    def figure(self, name: str, fig_fn: Callable[[], Any], caption: str, alt: str) -> str:
        ff = save_figure(fig_fn(), self.fig_dir, name, caption, alt)
        self.c.figures.append(ff)
        return md_figure(f"figures/{name}.svg", caption=caption, label=f"fig-{name}", alt=alt)

    def absent(self, name: str) -> str:
        return f"{OPTIONAL_FILES[name]} is absent from this run's results bundle"

    # ------------------------------------------------------------ front matter
    def front(self) -> None:
        b = self.b
        study = b.section("study", default={})
        title = b.section("report", "title") or study.get("title") or b.stamp["study_id"]
        fp = b.fingerprint
        run = b.get("run") or {}
        self.c.metadata = {
            "title": str(title),
            "subtitle": (
                "Development and internal validation of multivariable prediction models: "
                "a TRIPOD+AI report generated by epi"
            ),
            "author": [str(a) for a in study.get("authors", [])] or ["(authors to be added)"],
            "date": str(run.get("started_utc", ""))[:10] or None,
            "synthetic": b.synthetic,
            "fingerprint": fp,
            "lang": "en",
        }
        self.c.variables = {
            "study": {
                "id": b.stamp["study_id"],
                "title": str(title),
                "registration": study.get("registration_id") or "not registered",
            },
            "run": {
                "fingerprint": fp,
                "fingerprint_short": fp[:12],
                "epi_version": b.stamp.get("epi_version", "?"),
                "data": "synthetic" if b.synthetic else "real",
            },
            "outcome": {"horizon": self.horizon},
            "report": {"min_cell": self.m},
        }
        if b.synthetic:
            self.part(
                "banner",
                '::: {.callout-warning .synthetic-banner title="Synthetic data: not for '
                'clinical inference"}\n'
                "**Synthetic data: not for clinical inference.** This report was produced from "
                "epi's synthetic population. Its numbers show how the analysis works; they say "
                "nothing about real patients.\n:::\n",
            )
        else:
            self.part("banner", "")
        reg = study.get("registration_id") or "not registered"
        self.part(
            "stamp",
            f"Protocol fingerprint `{fp}` · registration {escape(reg)} · epi "
            f"{escape(b.stamp.get('epi_version', '?'))} · every number below comes from the "
            f"results bundle in {code(_run_name(b.run_dir))} stamped with this fingerprint.",
        )

    # ------------------------------------------------------------ abstract
    def perf_rows(self) -> list[tuple[str, str, dict[str, Any]]]:
        perf = self.b.get("performance") or {}
        out = []
        for arm, spec in (perf.get("arms") or {}).items():
            for model, vals in (spec.get("models") or {}).items():
                out.append((str(arm), str(model), vals or {}))
        return out

    def abstract(self) -> None:
        b = self.b
        out = b.section("outcome", default={})
        summary = b.get("summary") or {}
        events = summary.get("events") or {}
        elig = b.section("cohort", "eligibility", default={})
        arms = (b.get("performance") or {}).get("arms") or {}
        models = b.section("models", default=[])
        val = b.section("validation", default={})
        lines = [
            f"**Objective.** To develop and internally validate models that predict "
            f"{escape(str(out.get('name', 'the outcome')).replace('_', ' '))} within "
            f"{self.horizon} in adults aged {fmt_num(elig.get('age_min'), 0)} or more, and to "
            "compare feature sets built from general practice, hospital and municipal data.",
            "",
            "**Design, setting and participants.** "
            + (
                "Synthetic Danish cross-sector data generated by epi (not real persons). "
                if b.synthetic
                else "Danish cross-sector routine care data. "
            )
            + (
                f"{self.count(summary.get('n'))} persons entered the cohort at the index date "
                f"({escape(summary.get('index', 'see Methods'))})."
                if summary
                else "Cohort summary: " + self.absent("summary") + "."
            ),
            "",
            "**Outcome.** "
            f"{escape(str(out.get('name', 'outcome')).replace('_', ' '))} by {self.horizon}; "
            + (
                f"{self.count(events.get('outcome'))} outcome events and "
                f"{self.count(events.get('competing'))} competing deaths."
                if events
                else "event counts: " + self.absent("summary") + "."
            ),
            "",
            "**Predictors and models.** "
            + (
                ", ".join(
                    f"{escape(a)} ({spec.get('n_predictors', '?')} predictors from "
                    f"{escape(', '.join(spec.get('feature_sets', [])))})"
                    for a, spec in arms.items()
                )
                or "feature-set arms: not available"
            )
            + "; models: "
            + ", ".join(f"{escape(m.get('name'))} ({escape(m.get('kind'))})" for m in models)
            + f". Internal validation by {val.get('bootstrap', '?')} bootstrap samples "
            f"(optimism correction), {val.get('folds', '?')}-fold cross-validation"
            + (
                f" and internal–external validation by {escape(val['internal_external'])}"
                if val.get("internal_external")
                else ""
            )
            + ".",
            "",
        ]
        res = []
        for arm, model, vals in self.perf_rows():
            if model != self.primary:
                continue
            oc = vals.get("optimism_corrected") or {}
            txt = (
                f"{escape(arm)}: optimism-corrected Harrell's C "
                f"{fmt_measure(oc.get('harrell_c'))}, calibration slope "
                f"{fmt_measure(oc.get('calibration_slope'))}, IPA {fmt_measure(oc.get('ipa'))}"
            )
            ie = vals.get("internal_external") or {}
            if ie.get("harrell_c"):
                txt += f"; internal–external C {fmt_measure(ie.get('harrell_c'))}"
            res.append(txt)
        lines.append(
            f"**Results ({escape(self.primary)} model).** "
            + ("; ".join(res) + "." if res else "performance: " + self.absent("performance") + ".")
            + self._abstract_added_value()
            + self._abstract_heterogeneity()
        )
        lines += [
            "",
            "**Conclusion.** [*For the authors: interpret the results above; epi does not draw "
            "conclusions.*]{.author-input}",
            "",
            "**Registration.** "
            f"{escape(b.section('study', 'registration_id') or 'not registered')};"
            f" protocol fingerprint `{b.fingerprint[:12]}…`.",
        ]
        if b.synthetic:
            lines += ["", "*Synthetic data: not for clinical inference.*"]
        self.part("abstract", "\n".join(lines))

    def _abstract_added_value(self) -> str:
        """The headline comparison: ΔC of each extended arm over the reference arm."""
        result = self.b.get("added_value")
        if not isinstance(result, dict) or "comparisons" not in result:
            return ""
        level = round(100 * float(result.get("level", 0.95)))
        parts = []
        for comp in result["comparisons"]:
            d = (comp.get("differences") or {}).get("harrell_c") or {}
            if None in (d.get("estimate"), d.get("lower"), d.get("upper")):
                continue
            parts.append(
                f"{escape(comp['arm'])} {d['estimate']:+.3f} ({d['lower']:+.3f} to "
                f"{d['upper']:+.3f})"
            )
        if not parts:
            return ""
        return (
            f" Added value over {escape(str(result.get('reference')))} (difference in "
            f"optimism-corrected Harrell's C, {level} % CI, "
            f"{escape(str(result['comparisons'][0].get('model')))} model): "
            + "; ".join(parts)
            + "."
        )

    def _abstract_heterogeneity(self) -> str:
        """Median hazard ratios between clusters from the first hierarchical model."""
        het = self.b.get("heterogeneity")
        models = het.get("models") if isinstance(het, dict) else None
        if not models:
            return ""
        first = models[0]
        prob = round(100 * float(first.get("prob", 0.9)))
        names = {"practice_id": "GP practices", "municipality_code": "municipalities"}
        parts = [
            f"{names.get(r['group'], escape(str(r['group'])))} {fmt_num(r['mhr'], 2)} "
            f"({fmt_num(r['lower'], 2)} to {fmt_num(r['upper'], 2)})"
            for r in first.get("median_hazard_ratio", [])
            if r.get("group") in names
        ]
        if not parts:
            return ""
        return (
            f" Heterogeneity ({escape(first['model'])}, arm {escape(first['arm'])}): median "
            f"hazard ratio between " + " and between ".join(parts) + f" ({prob} % credible "
            "intervals)."
        )

    # ------------------------------------------------------------ introduction
    def introduction(self) -> None:
        b = self.b
        out = b.section("outcome", default={})
        elig = b.section("cohort", "eligibility", default={})
        pop = f"adults aged {fmt_num(elig.get('age_min'), 0)} or more"
        if elig.get("home_dwelling"):
            pop = "home-dwelling " + pop
        desc = b.section("study", "description") or ""
        comp = b.section("comparisons") or {}
        self.part(
            "introduction",
            (f"{escape(desc)}\n\n" if desc else "")
            + f"**Target population and intended use.** The models estimate, for {pop} "
            "at the index date, the absolute risk of "
            f"{escape(str(out.get('name', 'the outcome')).replace('_', ' '))}"
            f" within {self.horizon}. [*For the authors: where in the care pathway the risk is "
            "meant to be used and by whom (TRIPOD+AI 3b).*]{.author-input}\n\n"
            "**Objectives.** This is a development study with internal validation. It (i) "
            "develops prognostic models for the outcome, (ii) estimates their performance with "
            "internal validation, and (iii) compares feature-set arms"
            + (f" against the reference arm *{escape(comp.get('reference'))}*" if comp else "")
            + " to ask how much data from several sectors add over single-source data.",
        )

    # ------------------------------------------------------------ methods
    def data_sources(self) -> None:
        b = self.b
        src = b.section("data", default={})
        cohort = b.section("cohort", default={})
        index = cohort.get("index", {})
        if src.get("source") == "synthetic":
            text = (
                f"The data are epi's embedded synthetic Danish population "
                f"({_int(src.get('persons'))} persons, generator seed {src.get('seed')}): "
                "tables shaped like the Danish GP, hospital (National Patient Register), "
                "municipal care and population registers, with free-text notes. They are "
                "not real persons and not representative of any real population."
            )
        else:
            text = (
                f"The data are routine-care tables read from {code(src.get('path', '?'))} "
                "and checked against epi's data specifications (`data_specs/`). "
                "[*For the authors: the data custodians, why these data were chosen and how "
                "representative they are (TRIPOD+AI 5a).*]{.author-input}"
            )
        acc = (
            f"Participants enter at a fixed index date {index.get('date')}"
            if index.get("type") == "fixed_date"
            else f"Participants enter at their index date ({escape(index.get('type'))}"
            + (
                f", window {index['window'][0]} to {index['window'][1]}"
                if index.get("window")
                else ""
            )
            + ")"
        )
        text += (
            f"\n\n**Dates.** {acc}; follow-up ends at the outcome, death, emigration or the "
            f"end of data ({cohort.get('end_of_data', '?')}). The look-back for predictors is "
            f"{b.section('features', 'lookback_days')} days before the index date."
        )
        self.part("data_sources", text)
        dr = b.get("data_report")
        if not dr:
            self.table(
                "data_sources", not_performed("Table of data sources", self.absent("data_report"))
            )
            return
        rows = []
        for name, t in (dr.get("tables") or {}).items():
            read, kept = t.get("rows_read"), t.get("rows_kept")
            dropped = t.get("dropped") or {}
            if isinstance(read, int) and isinstance(kept, int):
                texts = suppress_line([kept, *dropped.values()], self.m)
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
            rows.append([_sector(name), name, read_txt, kept_txt, dropped_s, dates])
        self.table(
            "data_sources",
            md_table(
                ["Sector", "Table", "Rows read", "Rows kept", "Rows dropped (rule: n)", "Dates"],
                rows,
                label="tbl-data-sources",
                source=OPTIONAL_FILES["data_report"],
                caption="Input tables per sector: rows read and kept after the checks against "
                "the data specifications, and the dates they cover.",
                notes=f"Row counts below {self.m} are masked; complementary cells are shown as –.",
            ),
        )

    def setting(self) -> None:
        s = self.b.get("summary") or {}
        centres = []
        for key, label in (
            ("n_practices", "general practices"),
            ("n_municipalities", "municipalities"),
        ):
            if s.get(key) is not None:
                centres.append(f"{self.count(s[key])} {label}")
        self.part(
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

    def participants(self) -> None:
        b = self.b
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
        self.part(
            "participants",
            "Eligibility criteria, as registered in the protocol:\n\n" + "\n".join(lines),
        )

        rows = []
        for path, cl in _code_lists(b.protocol):
            if path.startswith("features"):
                purpose = (
                    "predictor (" + path.split(".")[2] + ")"
                    if path.count(".") >= 2
                    else "predictor"
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
        self.table(
            "code_lists",
            md_table(
                ["Use", "Sector", "Vocabulary", "Codes (prefix match)", "Description"],
                rows or [["–", "–", "–", "no code lists in the protocol", ""]],
                caption="Code lists of the protocol (codes match as prefixes).",
                label="tbl-code-lists",
                source="protocol.json",
            ),
        )

    def data_preparation(self) -> None:
        dr = self.b.get("data_report")
        on_invalid = self.b.section("data", "on_invalid", default="error")
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
            text += " " + self.absent("data_report").capitalize() + "."
        self.part("data_preparation", text)

    def outcome(self) -> None:
        o = self.b.section("outcome", default={})
        bits = [
            f"The outcome *{escape(o.get('name'))}*"
            + (
                f" ({escape(str(o['description']).strip().rstrip('.'))})"
                if o.get("description")
                else ""
            )
            + " is the first record of a code in @tbl-code-lists after the index date and "
            f"within {self.horizon}."
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
        self.part("outcome", " ".join(bits))

    def predictors(self) -> None:
        b = self.b
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
        self.part(
            "predictors",
            "Candidate predictors were pre-specified in the protocol as feature sets, one per "
            "sector, built only from information dated before the index date (a leakage guard "
            "stops the run otherwise). No data-driven pre-selection was done before modelling. "
            "Predictor columns carry their sector prefix (`demo__`, `gp__`, `hosp__`, `muni__`, "
            "`note__`)"
            + (
                "; every column and its missingness is listed in @tbl-missingness.\n\n"
                if self.b.has("missingness")
                else ".\n\n"
            )
            + "\n".join(lines),
        )

    def sample_size(self) -> None:
        s = self.b.get("sample_size")
        if not s:
            self.part(
                "sample_size", not_performed("Sample size assessment", self.absent("sample_size"))
            )
            self.table("sample_size", "")
            return
        n = (self.b.get("summary") or {}).get("n")
        self.part(
            "sample_size",
            f"The study size is the whole eligible population. With {self.count(s.get('events'))} "
            f"outcome events and {s.get('parameters', '?')} candidate parameters, there are "
            f"{fmt_num(s.get('epp'), 1)} events per parameter. @tbl-sample-size gives the minimum "
            "sample sizes of Riley et al. (BMJ 2020;368:m441) for a survival model.",
        )
        labels = {
            "shrinkage": "Expected shrinkage ≥ 0.9",
            "optimism": "Small optimism in R² (≤ 0.05)",
            "precision_overall_risk": "Precise overall risk (± 0.05)",
        }
        rows = []
        for k, v in (s.get("riley") or {}).items():
            met = (
                "–"
                if not isinstance(n, int) or not isinstance(v, int | float)
                else ("yes" if n >= v else "no")
            )
            rows.append([labels.get(k, k), fmt_num(v, 0), met])
        self.table(
            "sample_size",
            md_table(
                ["Criterion (Riley et al.)", "Required n", "Met by this cohort"],
                rows,
                caption="Minimum sample size criteria for developing the prediction model.",
                label="tbl-sample-size",
                source=OPTIONAL_FILES["sample_size"],
            ),
        )

    def missing_data(self) -> None:
        m = self.b.section("missing", default={})
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
        text += (
            " In register data, the absence of a record usually means that no contact "
            "occurred; counts and indicators are therefore zero rather than missing. "
            + (
                "@tbl-missingness lists the missing values per predictor."
                if self.b.has("missingness")
                else ""
            )
        )
        self.part("missing_data", text)

    def models(self) -> None:
        b = self.b
        rows = []
        for m in b.section("models", default=[]) or []:
            params = (
                "; ".join(f"{k} = {v}" for k, v in (m.get("params") or {}).items()) or "defaults"
            )
            rows.append([m.get("name"), m.get("kind"), params])
        self.table(
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
                [a, ", ".join(s.get("feature_sets", [])), s.get("n_predictors", "–"), ""]
                for a, s in arms.items()
            ]
        self.table(
            "arms",
            md_table(
                ["Arm", "Feature sets", "Predictors", ""],
                arm_rows or [["–", "–", "–", ""]],
                caption="Feature-set arms compared in this study.",
                label="tbl-arms",
                source="protocol.json; results/performance.json",
            ),
        )
        self.part(
            "models",
            "Each model in @tbl-models was fitted to each feature-set arm in @tbl-arms using all "
            "predictors of the arm (no selection). Continuous predictors enter as registered in "
            "the model's parameters (for example restricted cubic splines); models treat a "
            "competing death as censoring unless they model competing risks. No class-imbalance "
            "methods were used and no model was updated after evaluation.",
        )

    def validation(self) -> None:
        v = self.b.section("validation", default={})
        bits = [
            f"All data were used for development. Performance was estimated by internal "
            "validation: the optimism of each measure was estimated with "
            f"{v.get('bootstrap', '?')} "
            f"bootstrap samples, refitting the whole modelling procedure in each, and subtracted "
            f"from the apparent performance; {v.get('folds', '?')}-fold cross-validation gives a "
            "second estimate."
        ]
        if v.get("temporal_split_year"):
            bits.append(
                f"Temporal validation: models developed on persons indexed before "
                f"{v['temporal_split_year']} were evaluated on those indexed from then on."
            )
        else:
            bits.append(
                "Temporal validation: not performed in this run: no "
                "`validation.temporal_split_year` was set in the protocol."
            )
        if v.get("internal_external"):
            bits.append(
                f"Internal–external validation: each {escape(v['internal_external'])} in turn "
                "was held out, the models developed on the rest and evaluated on it."
            )
        else:
            bits.append(
                "Internal–external validation: not performed in this run: "
                "`validation.internal_external` is not set in the protocol."
            )
        bits.append(
            "Development and evaluation data come from the same source and follow the "
            "same eligibility, outcome and predictor definitions; temporal and "
            "internal–external evaluations differ only in calendar time or cluster (TRIPOD+AI 16)."
        )
        self.part("validation", " ".join(bits))

    def heterogeneity_methods(self) -> None:
        het = self.b.get("heterogeneity")
        if isinstance(het, dict) and isinstance(het.get("models"), list) and het["models"]:
            self.part("heterogeneity_methods", self._heterogeneity_methods_text(het))
        elif self.b.has("heterogeneity"):
            self.part(
                "heterogeneity_methods",
                "Heterogeneity across GP practices and municipalities was quantified with "
                "hierarchical (random-effects) survival models; see [Heterogeneity]"
                "(#sec-heterogeneity).",
            )
        else:
            self.part(
                "heterogeneity_methods",
                not_performed(
                    "Heterogeneity across clusters (hierarchical models)",
                    "the hierarchical models across GP practices and municipalities (issue 9) are "
                    "not part of this run",
                ),
            )

    def _heterogeneity_methods_text(self, het: dict[str, Any]) -> str:
        entries = [e for e in het["models"] if isinstance(e, dict)]
        kinds = sorted(
            {HIERARCHICAL_KINDS.get(str(e.get("kind")), escape(e.get("kind"))) for e in entries}
        )
        groups = list(dict.fromkeys(g for e in entries for g in e.get("cluster_effects") or {}))
        levels = sorted({round(100 * float(e.get("prob") or 0.9)) for e in entries})
        level = " and ".join(f"{p}%" for p in levels) or "90%"
        d: dict[str, Any] = {}
        for e in entries:
            d = _diagnostics(e)
            if d:
                break
        across = " and ".join(_group_label(g, plural=True) for g in groups) or "clusters"
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
            f"Clusters with fewer than {self.m} persons are pooled into one row or left out, "
            f"and counts below {self.m} are masked. "
            + (
                f"Validation of the hierarchical models: {escape(het['resampling'])}. "
                if isinstance(het.get("resampling"), str)
                else ""
            )
            + "Results: [Heterogeneity](#sec-heterogeneity).",
        ]
        return "\n\n".join(text)

    # ------------------------------------------------------------ results
    def flow(self) -> None:
        att = self.b.get("attrition")
        steps = records(att, "steps")
        if not steps:
            self.part("flow", not_performed("Participant flow diagram", self.absent("attrition")))
            return
        s = self.b.get("summary") or {}
        ev = s.get("events") or {}
        note = None
        if ev:
            note = (
                f"{self.count(ev.get('outcome'))} outcomes, {self.count(ev.get('competing'))} "
                f"competing deaths by {self.horizon}"
            )
        boxes = flow_boxes(steps, self.m, note)
        alt = "Flow diagram. " + " Then ".join(
            f"{b.text}: n = {b.n}{'; ' + b.note if b.note else ''}." for b in boxes
        )
        fig = self.figure(
            "flow",
            lambda: flow_figure(boxes),
            "Flow of participants from the source population to the study cohort.",
            alt,
        )
        fu = s.get("follow_up_days") or {}
        text = fig + "\n"
        if fu:
            text += (
                f"\nMedian follow-up was {fmt_num(fu.get('median'), 0)} days (interquartile "
                f"range {fmt_num(fu.get('q1'), 0)} to {fmt_num(fu.get('q3'), 0)}). "
            )
        text += (
            f"Counts below {self.m} are shown as <{self.m}; restriction steps that "
            f"excluded fewer than {self.m} persons are combined with the next step so that "
            "no small count can be recovered by subtraction (see @fig-flow)."
        )
        self.part("flow", text)

    def table1(self) -> None:
        t1 = self.b.get("table1")
        if not t1:
            self.table("table1", not_performed("Table 1", self.absent("table1")))
            self.part("characteristics", "")
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
        self.table("table1", "\n".join(out))
        refs = " and ".join(
            f"@{'tbl-table1' if k == 0 else f'tbl-table1-{k + 1}'}" for k in range(len(groupings))
        )
        self.part(
            "characteristics",
            f"{refs} describe the cohort overall"
            + (
                f" and by {', '.join(str(g).lower() for g in groupings if g)}"
                if groupings != [None]
                else ""
            )
            + ", with the largest absolute standardised mean difference (SMD) between groups.",
        )

    def missingness(self) -> None:
        feats = records(self.b.get("missingness"), "features")
        if not feats:
            self.table(
                "missingness",
                not_performed("Missing data per predictor", self.absent("missingness")),
            )
            self.part("missingness_figure", "")
            return
        rows = []
        for f in feats:
            n = f.get("n_missing")
            small = isinstance(n, int | float) and 0 < n < self.m
            rows.append(
                [
                    f.get("feature"),
                    f.get("set"),
                    self.count(n),
                    "–" if small else fmt_num(f.get("pct_missing"), 1),
                ]
            )
        self.table(
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
                f"{escape(s)}: {sum(p > 0 for p in v)} of {len(v)} predictors with missing values"
                + (f" (at most {max(v):.1f}% missing)" if max(v) > 0 else "")
                for s, v in per_set.items()
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
            self.part(
                "missingness_figure",
                summary
                + self.figure(
                    "missingness",
                    lambda: missingness_figure(feats),
                    "Percentage of missing values per predictor, by feature set.",
                    alt,
                ),
            )
        else:
            self.part("missingness_figure", summary + "No predictor has missing values.")

    def development(self) -> None:
        s = self.b.get("summary") or {}
        v = self.b.section("validation", default={})
        ev = (s.get("events") or {}).get("outcome")
        n = s.get("n")
        if not s:
            self.table(
                "development", not_performed("Participants per analysis", self.absent("summary"))
            )
            return
        rows = [
            ["Model development (every arm and model)", self.count(n), self.count(ev)],
            [
                f"Optimism correction: each of {v.get('bootstrap', '?')} bootstrap samples",
                self.count(n),
                "varies",
            ],
            [
                f"Cross-validation: {v.get('folds', '?')} folds",
                "≈ "
                + (
                    f"{round(n * (v.get('folds', 5) - 1) / v.get('folds', 5)):,}"
                    if isinstance(n, int) and n >= self.m * 10
                    else "–"
                )
                + " per training fold",
                "varies",
            ],
        ]
        self.table(
            "development",
            md_table(
                ["Analysis", "Persons", "Outcome events"],
                rows,
                label="tbl-development",
                source=OPTIONAL_FILES["summary"],
                caption=f"Participants and outcome events (by {self.horizon}) in each analysis.",
            ),
        )

    def model_specification(self) -> None:
        models = self.b.models
        rows = []
        for name in models:
            path = self.b.run_dir / "results" / "models" / name
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
            self.table(
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
            self.table(
                "model_files",
                not_performed(
                    "Exported model files", "results/models/ is absent from this run's bundle"
                ),
            )
        self.part("model_specification", text)
        coefs = records(self.b.get("coefficients"), "coefficients", "rows", "terms")
        if coefs:
            rows = [
                [
                    c.get("arm"),
                    c.get("model"),
                    c.get("term"),
                    fmt_num(c.get("coef"), 4),
                    f"{fmt_num(c.get('hr'), 2)} ({fmt_num(c.get('lower'), 2)} to "
                    f"{fmt_num(c.get('upper'), 2)})",
                    fmt_p(c.get("p")),
                ]
                for c in coefs
            ]
            self.table(
                "coefficients",
                md_table(
                    ["Arm", "Model", "Term", "Coefficient", "Hazard ratio (95% CI)", "p"],
                    rows,
                    label="tbl-coefficients",
                    source=OPTIONAL_FILES["coefficients"],
                    caption="Model coefficients and hazard ratios with 95% confidence intervals.",
                ),
            )
        else:
            self.table(
                "coefficients", not_performed("Coefficient table", self.absent("coefficients"))
            )
        ph = records(self.b.get("ph_test"), "tests", "rows")
        if ph:
            rows = [
                [
                    r.get("arm"),
                    r.get("model"),
                    r.get("term"),
                    fmt_num(r.get("statistic"), 2),
                    fmt_num(r.get("df"), 0),
                    fmt_p(r.get("p")),
                ]
                for r in ph
            ]
            self.table(
                "ph_test",
                md_table(
                    ["Arm", "Model", "Term", "Statistic", "df", "p"],
                    rows,
                    label="tbl-ph-test",
                    source=OPTIONAL_FILES["ph_test"],
                    caption="Tests of proportional hazards (scaled Schoenfeld residuals).",
                ),
            )
        else:
            self.table(
                "ph_test", not_performed("Proportional hazards tests", self.absent("ph_test"))
            )

    def performance(self) -> None:
        perf = self.b.get("performance")
        if not perf:
            self.part("performance", not_performed("Performance", self.absent("performance")))
            for name in ("discrimination", "calibration_measures"):
                self.table(name, "")
            return
        text = (
            "@tbl-discrimination and @tbl-calibration-measures give the performance of every "
            "model in every feature-set arm: apparent, optimism-corrected, cross-validated, "
            "temporal and internal–external."
        )
        forest = []
        for arm, model, vals in self.perf_rows():
            for key, label in VALIDATIONS.items():
                c = (vals.get(key) or {}).get("harrell_c")
                if isinstance(c, dict) and None not in (
                    c.get("estimate"),
                    c.get("lower"),
                    c.get("upper"),
                ):
                    forest.append(
                        (f"{arm} · {model} · {label}", c["estimate"], c["lower"], c["upper"])
                    )
        if forest:
            alt = (
                f"Forest plot of Harrell's C with 95% confidence intervals for {len(forest)} "
                "combinations of feature-set arm, model and validation approach."
            )
            text += " @fig-performance compares the arms.\n\n" + self.figure(
                "performance",
                lambda: subgroup_figure(forest, "Harrell's C"),
                f"Harrell's C at {self.horizon} by arm, model and validation approach.",
                alt,
            )
        self.part("performance", text)
        v = self.b.section("validation", default={})
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
            for arm, model, vals in self.perf_rows():
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
            self.table(
                name,
                md_table(
                    ["Arm", "Model", "Validation", *(MEASURES[k] for k in measures)],
                    rows,
                    label=f"tbl-{name.replace('_', '-')}",
                    source=OPTIONAL_FILES["performance"],
                    caption=f"{caption} at {self.horizon} with 95% confidence intervals, by arm, "
                    "model and validation approach.",
                ),
            )

    def calibration(self) -> None:
        curves = [
            {**c, "points": _as_records(c.get("points")), "groups": _as_records(c.get("groups"))}
            for c in records(self.b.get("calibration"), "curves")
        ]
        if not curves:
            self.part("calibration", not_performed("Calibration plots", self.absent("calibration")))
            self.table(
                "calibration_groups",
                not_performed("Calibration groups", self.absent("calibration")),
            )
            return
        arms = list(dict.fromkeys(str(c.get("arm")) for c in curves))
        alt = (
            f"Calibration plots, one panel per arm ({', '.join(arms)}): observed against "
            f"predicted risk by {self.horizon} with smoothed curves, 95% bands and group means; "
            "the dashed diagonal marks perfect calibration."
        )
        fig = self.figure(
            "calibration",
            lambda: calibration_figure(curves, self.horizon),
            f"Calibration of predicted risks by {self.horizon}, per arm and model.",
            alt,
        )
        self.part(
            "calibration",
            fig + f"\nGroup means are plotted only for groups of at least "
            f"{self.m} persons; @tbl-calibration-groups lists the groups.",
        )
        rows = []
        for c in curves:
            groups = c.get("groups") or []
            try:  # the groups add up to the persons validated
                n_texts = suppress_masked_line([g.get("n") for g in groups], self.m)
            except ReportError:
                n_texts = [self.count(g.get("n")) for g in groups]
            for g, n_text in zip(groups, n_texts, strict=True):
                n = g.get("n")
                masked = is_masked(str(n)) or (isinstance(n, int) and n < self.m)
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
        self.table(
            "calibration_groups",
            md_table(
                ["Arm", "Model", "Group", "n", "Mean predicted", "Observed"],
                rows,
                label="tbl-calibration-groups",
                source=OPTIONAL_FILES["calibration"],
                caption="Calibration groups: mean predicted and observed risk per risk group.",
                notes=f"Groups with fewer than {self.m} persons are masked and their risks "
                "not shown.",
            ),
        )

    def decision_curves(self) -> None:
        raw = records(self.b.get("decision_curves"), "curves")
        rows: list[dict[str, Any]] = []
        for r in raw:
            if isinstance(r.get("threshold"), list):
                for t, nb in zip(r["threshold"], r.get("net_benefit") or [], strict=False):
                    rows.append(
                        {
                            "arm": r.get("arm"),
                            "model": str(r.get("model")),
                            "threshold": t,
                            "net_benefit": nb,
                        }
                    )
            elif r.get("threshold") is not None:
                rows.append(
                    {
                        "arm": r.get("arm"),
                        "model": str(r.get("model")),
                        "threshold": r["threshold"],
                        "net_benefit": r.get("net_benefit"),
                    }
                )
        rows = [r for r in rows if r["net_benefit"] is not None]
        if not rows:
            self.part(
                "decision_curves",
                not_performed("Decision curve analysis", self.absent("decision_curves")),
            )
            self.table("net_benefit", "")
            return
        alt = (
            "Decision curves: net benefit against threshold probability for each arm and model, "
            "compared with treating everyone and treating no one."
        )
        fig = self.figure(
            "decision_curves",
            lambda: decision_figure(rows),
            "Decision curves: net benefit by threshold probability.",
            alt,
        )
        self.part(
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
        self.table(
            "net_benefit",
            md_table(
                ["Arm", "Model / strategy", *(f"Threshold {t:.0%}" for t in picks)],
                table_rows,
                label="tbl-net-benefit",
                source=OPTIONAL_FILES["decision_curves"],
                caption="Net benefit at selected threshold probabilities.",
            ),
        )

    def subgroups(self) -> None:
        subs = records(self.b.get("subgroups"), "subgroups", "rows")
        if not subs:
            self.part(
                "subgroups",
                not_performed(
                    "Performance by sex, age group and municipality", self.absent("subgroups")
                ),
            )
            self.table("subgroups", "")
            return
        # Levels of one subgroup add up to the cohort: protect masked counts from subtraction.
        lines: dict[tuple[str, str, str], list[int]] = {}
        for i, s in enumerate(subs):
            key = (str(s.get("arm")), str(s.get("model")), str(s.get("subgroup")))
            lines.setdefault(key, []).append(i)
        n_txt: dict[int, str] = {}
        ev_txt: dict[int, str] = {}
        for idx in lines.values():
            for field_name, out in (("n", n_txt), ("events", ev_txt)):
                try:
                    texts = suppress_masked_line([subs[i].get(field_name) for i in idx], self.m)
                except ReportError:
                    texts = [self.count(subs[i].get(field_name)) for i in idx]
                out.update(zip(idx, texts, strict=True))
        rows, forest = [], []
        for i, s in enumerate(subs):
            n, ev = s.get("n"), s.get("events")
            small = any(is_masked(str(x)) or (isinstance(x, int) and x < self.m) for x in (n, ev))
            c = "suppressed (small cell)" if small else fmt_measure(s.get("harrell_c"))
            oe = "suppressed (small cell)" if small else fmt_measure(s.get("oe_ratio"))
            rows.append(
                [
                    s.get("arm"),
                    s.get("model"),
                    str(s.get("subgroup", "")).replace("_", " "),
                    s.get("level"),
                    n_txt[i],
                    ev_txt[i],
                    c,
                    oe,
                ]
            )
            hc = s.get("harrell_c")
            if (
                not small
                and isinstance(hc, dict)
                and s.get("model") == self.primary
                and hc.get("lower") is not None
            ):
                forest.append(
                    (
                        f"{s.get('arm')} · {s.get('subgroup')}: {s.get('level')}",
                        hc["estimate"],
                        hc["lower"],
                        hc["upper"],
                    )
                )
        self.table(
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
                notes=f"Counts below {self.m} are masked and the performance of such "
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
                f"subgroups of the {self.primary} model; subgroups with small counts are omitted."
            )
            text += "\n\n" + self.figure(
                "subgroups",
                lambda: subgroup_figure(forest, "Harrell's C"),
                f"Harrell's C by subgroup ({self.primary} model).",
                alt,
            )
        self.part("subgroups", text)

    def added_value(self, result: dict[str, Any]) -> None:
        """The added-value section: wording, tables and forest plot from epi.comparison."""
        from epi.comparison import added_value_text, plot_forest

        plot_forest(result, self.fig_dir / "added_value_forest")
        figure = md_figure(
            "figures/added_value_forest.svg",
            caption="Differences between each extended arm and the reference arm "
            "(optimism-corrected, with paired-bootstrap intervals).",
            label="fig-added-value-forest",
            alt="Forest plot: for each extended feature-set arm, the difference from the "
            "reference arm in C indices, AUC, Brier score and IPA with intervals; a vertical "
            "line marks no difference.",
        )
        self.part("added_value", added_value_text(result, heading=False) + "\n\n" + figure)

    def heterogeneity(self, result: dict[str, Any]) -> None:
        """The heterogeneity section (TRIPOD+AI 12d, 23b) from ``results/heterogeneity.json``."""
        entries = [e for e in result["models"] if isinstance(e, dict)]
        chunks = []
        if len(entries) > 1:
            chunks.append(
                f"{len(entries)} hierarchical models were fitted; each is reported in turn."
            )
        slugs: set[str] = set()
        for i, e in enumerate(entries, start=1):
            slug = _slug(f"{e.get('arm', '')}-{e.get('model', '')}")
            slug = f"{slug}-{i}" if slug in slugs else slug  # cross-reference ids are unique
            slugs.add(slug)
            chunks.append(self._heterogeneity_model(e, slug, several=len(entries) > 1))
        self.part("heterogeneity", "\n\n".join(chunks))

    def _heterogeneity_model(self, e: dict[str, Any], slug: str, *, several: bool) -> str:
        arm, model = str(e.get("arm", "")), str(e.get("model", ""))
        level = round(100 * float(e.get("prob") or 0.9))
        ci = f"{level}% CrI"
        what = f"{model} (arm {arm})"  # for captions and alt text, which escape it
        out = [f"### Model {escape(model)}, arm {escape(arm)}\n"] if several else []
        kind = HIERARCHICAL_KINDS.get(str(e.get("kind")), escape(e.get("kind")))
        out.append(
            f"The {kind} model **{escape(model)}** was fitted to arm **{escape(arm)}** with "
            "crossed random intercepts for "
            + " and ".join(_group_label(g, plural=True) for g in e.get("cluster_effects") or {})
            + ". "
            + self._diagnostics_text(e)
            + f" Estimates are posterior means with {level}% equal-tailed credible intervals "
            "(CrI)."
        )
        out.append(self._variance_table(e, slug, ci, what))
        out.append(self._cluster_effects(e, slug, ci, what))
        out.append(self._shrinkage(e, slug, what))
        out.append(self._posterior_table(e, slug, ci, what))
        out.append(self._frequentist(e, slug, level, what))
        return "\n\n".join(t.strip() for t in out if t)

    def _diagnostics_text(self, e: dict[str, Any]) -> str:
        d = _diagnostics(e)
        if not d:
            return "No sampler diagnostics are recorded."
        sampler = SAMPLERS.get(str(d.get("sampler")), escape(d.get("sampler")))
        chains, draws = d.get("chains"), d.get("draws")
        text = f"The posterior was sampled with {sampler}"
        if isinstance(chains, int) and isinstance(draws, int):
            text += (
                f": {chains} chains of {draws:,} draws after {_int(d.get('tune'))} tuning "
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
            f"{fmt_num(ess_min, 0)}), {_int(div)} divergent transitions (none allowed) and "
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

    def _variance_table(self, e: dict[str, Any], slug: str, ci: str, what: str) -> str:
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
                _cap(_group_label(g, plural=True)),
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
                rows.append(
                    [names[comp], fmt_num(vp[comp].get("variance"), 3), share(vp[comp]), "–"]
                )
        text = []
        for g in groups:
            bits = []
            if g in vp and vp[g].get("share") is not None:
                bits.append(f"{share(vp[g])} of the variance of the log hazard")
            if g in mhr and mhr[g].get("mhr") is not None:
                bits.append(f"a median hazard ratio of {ratio(mhr[g])}")
            if bits:
                text.append(f"{_group_label(g, plural=True)} account for {' and '.join(bits)}")
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

    def _figure_file(self, e: dict[str, Any], kind: str, group: str) -> Path | None:
        rel = ((e.get("figures") or {}).get(kind) or {}).get(group)
        if not isinstance(rel, str):
            return None
        parts = Path(rel).parts
        if len(parts) != 2 or parts[0] != "figures" or not rel.endswith(".svg"):
            return None  # only files of results/figures are copied into the report
        src = self.b.run_dir / "results" / rel
        return src if src.is_file() else None

    def _copied_figure(
        self, e: dict[str, Any], kind: str, group: str, name: str, caption: str, alt: str
    ) -> str:
        src = self._figure_file(e, kind, group)
        rel = ((e.get("figures") or {}).get(kind) or {}).get(group)
        if src is None:
            where = f"results/{rel}" if isinstance(rel, str) else "the figure"
            return f"*{escape(caption.rstrip('.'))}: not shown, {escape(where)} is absent.*\n"
        ff = copy_figure(src, self.fig_dir, name, caption, alt)
        if ff.png.is_file():
            self.c.figures.append(ff)
        return md_figure(f"figures/{name}.svg", caption=caption, label=f"fig-{name}", alt=alt)

    def _cluster_effects(self, e: dict[str, Any], slug: str, ci: str, what: str) -> str:
        out = []
        for group, raw in (e.get("cluster_effects") or {}).items():
            rows = records(raw)
            one, many = _group_label(group), _group_label(group, plural=True)
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
                    f"; {n_pooled} {one if n_pooled == 1 else many} with fewer than {self.m} "
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
            out.append(self._copied_figure(e, "caterpillar", group, name, caption, alt))
            out.append(self._cluster_table(group, rows, slug, gslug, ci, what))
        if not out:
            return ""
        lead = (
            "**Cluster effects.** The caterpillar plots show the posterior hazard ratio of "
            "each cluster relative to the average cluster, for persons with the same "
            f"predictors; the tables list clusters of at least {self.m} persons."
        )
        return "\n\n".join([lead, *out])

    def _cluster_table(
        self, group: str, rows: list[dict[str, Any]], slug: str, gslug: str, ci: str, what: str
    ) -> str:
        one, many = _group_label(group), _group_label(group, plural=True)

        def cell(v: Any) -> int | str:
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str) and v.replace(",", "").isdigit():
                return int(v.replace(",", ""))
            return f"<{self.m}"  # masked upstream, or missing: never shown

        persons = [cell(r.get("n_persons")) for r in rows]
        events = [cell(r.get("n_events")) for r in rows]
        try:  # clusters add up to the persons and events of the model
            n_txt = suppress_masked_line(persons, self.m)
            e_txt = suppress_masked_line(events, self.m)
        except ReportError:
            n_txt = [self.count(v) for v in persons]
            e_txt = [self.count(v) for v in events]
        # a cluster under the minimum cell size is never listed alone
        alone = [
            i
            for i, r in enumerate(rows)
            if r.get(group) != POOLED and not (isinstance(persons[i], int) and persons[i] >= self.m)
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
            label = (
                f"{k} smaller {one if k == 1 else many} pooled" if level == POOLED else str(level)
            )
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
            f"{_cap(many)} with fewer than {self.m} persons are pooled into one row "
            "(its hazard ratio the person-weighted mean of theirs). Counts below "
            f"{self.m} are masked and further counts hidden (–) so that masked ones cannot be "
            "recovered from the totals. Events: outcome events during the whole follow-up."
        )
        if alone:
            notes += (
                f" {len(alone)} {one if len(alone) == 1 else many} with fewer than {self.m} "
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

    def _shrinkage(self, e: dict[str, Any], slug: str, what: str) -> str:
        shrink = e.get("shrinkage") or {}
        if not shrink:
            return ""
        label = f"tbl-heterogeneity-{slug}-shrinkage"
        figs, rows, masked, sentences = [], [], [], []
        for group, s in shrink.items():
            one, many = _group_label(group), _group_label(group, plural=True)
            bands = records((s or {}).get("summary"))
            k = (s or {}).get("n_masked_levels") or 0
            if k:
                masked.append(f"{k} {one if k == 1 else many}")
            name = f"heterogeneity-{slug}-shrinkage-{_slug(group.split('_')[0])}"
            caption = (
                f"Shrinkage of the {one} effects, {what}: posterior mean against unpooled log "
                f"hazard ratio of each {one} with at least {self.m} persons."
            )
            alt = (
                f"Scatter plot, one point per {one} with at least {self.m} persons, its area "
                "proportional to the persons: the posterior mean log hazard ratio against the "
                "unpooled estimate from the cluster's own events, with a dotted identity line "
                "(no pooling) and a horizontal line at 0 (complete pooling); points lie between "
                "the two, small clusters nearer 0."
            )
            figs.append(self._copied_figure(e, "shrinkage", group, name, caption, alt))
            for b in bands:
                rows.append(
                    [
                        _cap(many),
                        b.get("size_band"),
                        _int(b.get("n_levels")),
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
                    f"Left out (fewer than {self.m} persons): {', '.join(masked)}."
                    if masked
                    else None
                ),
            )
            if rows
            else ""
        )
        return "\n\n".join([text, *figs, table])

    def _posterior_table(self, e: dict[str, Any], slug: str, ci: str, what: str) -> str:
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
            m, s = r.get("mean"), r.get("sd")
            if not isinstance(m, int | float) or not isinstance(s, int | float) or s <= 0:
                return 0.0
            return abs(m) / s

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

    def _frequentist(self, e: dict[str, Any], slug: str, level: int, what: str) -> str:
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
                f"{self.count(risk.get('n'))} persons differ by {risk['mean_abs_difference']:.4f} "
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
        splines = [str(s) for s in f.get("excluded_splines") or []]
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

    def generic(self, name: str, what: str, reason: str) -> None:
        obj = self.b.get(name)
        if not obj:
            self.part(name, not_performed(what, reason))
            return
        tables = []
        for key, value in obj.items() if isinstance(obj, dict) else [("rows", obj)]:
            if key in _STAMP or key in _TEXT_KEYS:
                continue
            recs = records(value) if isinstance(value, list) else []
            if not recs:
                continue
            cols = [k for k in dict.fromkeys(k for r in recs for k in r) if k not in _TEXT_KEYS]
            rows = [[self._cell(k, r.get(k)) for k in cols] for r in recs]
            label = f"tbl-{name.replace('_', '-')}-{key.replace('_', '-')}"
            tables.append(
                md_table(
                    [c.replace("_", " ") for c in cols],
                    rows,
                    label=label,
                    caption=f"{what}: {key.replace('_', ' ')}.",
                    source=OPTIONAL_FILES[name],
                )
            )
        scalars = (
            {
                k: v
                for k, v in obj.items()
                if isinstance(obj, dict)
                and k not in _STAMP
                and not isinstance(v, list | dict)
                and k not in _TEXT_KEYS
            }
            if isinstance(obj, dict)
            else {}
        )
        text = "".join(f"- {escape(k)}: {escape(self._cell(k, v))}\n" for k, v in scalars.items())
        self.part(
            name,
            (text + "\n" if text else "") + "\n".join(tables)
            or not_performed(what, f"{OPTIONAL_FILES[name]} holds no table this report can show"),
        )

    def _cell(self, key: str, value: Any) -> str:
        """Plain text of one value of a later issue's file (md_table escapes it)."""
        if isinstance(value, dict) and "estimate" in value:
            return fmt_measure(value)
        if isinstance(value, bool) or value is None:
            return str(value)
        if key == "p" or key.endswith("_p") or key.startswith("p_"):
            return fmt_p(value)
        if isinstance(value, int) and key in (
            "n",
            "persons",
            "events",
            "count",
            "mentions",
            "notes",
        ):
            return mask_count(value, self.m)
        if isinstance(value, float):
            return fmt_num(value, 3)
        text = str(value)
        if len(text) > 60:
            return "[text omitted]"  # free text never enters the report
        return text

    # ------------------------------------------------------------ open science
    def open_science(self) -> None:
        b = self.b
        lock = b.lock or {}
        run = b.get("run") or {}
        study = b.section("study", default={})
        lines = [
            f"- Protocol: {code(run.get('protocol_file', 'protocol.json'))}, study "
            f"{code(b.stamp['study_id'])} version {escape(study.get('version', '?'))}; its "
            "canonical form is stored in the run's `protocol.json`.",
            f"- Protocol fingerprint (SHA-256 of the canonical protocol): `{b.fingerprint}`",
            (
                "- Registered (locked) on "
                + escape(lock.get("locked_at"))
                + ", lock fingerprint "
                + code(lock.get("lock_fingerprint"))
            )
            if lock.get("locked")
            else "- The protocol was not locked before this run (not registered with "
            "`epi protocol lock`).",
            "- Sections changed since the lock: "
            + (escape(", ".join(lock.get("changed_sections") or [])) or "none"),
            f"- Registration: {escape(study.get('registration_id') or 'not registered')}",
            f"- Code: epi {escape(b.stamp.get('epi_version', '?'))}"
            + (
                f", commit {code(run['git_commit'])}"
                if run.get("git_commit")
                else " (commit not recorded in run.json)"
            )
            + "; the analysis code is the open-source `epi` package.",
            f"- Data: {'synthetic (not real persons)' if b.synthetic else 'routine-care registers'}"
            + (
                f"; data fingerprint {code(run['data_fingerprint'])}"
                if run.get("data_fingerprint")
                else ""
            ),
        ]
        self.part("open_science", "\n".join(lines))
        am = lock.get("amendments") or b.section("amendments", default=[]) or []
        if am:
            rows = [[a.get("date"), a.get("section"), a.get("what"), a.get("why")] for a in am]
            self.table(
                "amendments",
                md_table(
                    ["Date", "Section", "What changed", "Why"],
                    rows,
                    caption="Amendments to the registered protocol.",
                    label="tbl-amendments",
                    source="protocol.json",
                ),
            )
        else:
            self.table("amendments", "The protocol has no amendments.")

    def declarations(self) -> None:
        if self.b.synthetic:
            access = (
                "The data are synthetic and can be regenerated exactly from the protocol (seed "
                "and size) with `epi run`."
            )
        else:
            access = (
                "Person-level data cannot be shared under Danish law; access is possible "
                "through the data custodians. [*For the authors: name the custodians and access "
                "route.*]{.author-input}"
            )
        self.part(
            "data_sharing",
            f"**Data sharing.** {access} The aggregated results bundle (this report's only "
            "input, free of person-level values) and the exported model specifications can be "
            "shared.",
        )

    def reproducibility(self) -> None:
        run = self.b.get("run")
        if not run:
            self.part(
                "reproducibility", not_performed("Reproducibility record", self.absent("run"))
            )
            self.table("timings", "")
            self.table("versions", "")
            return
        self.part(
            "reproducibility",
            f"Seed {run.get('seed')}; run started {escape(run.get('started_utc'))}; stages: "
            f"{escape(', '.join(run.get('stages_run') or []))}. Rerunning "
            f"{code('epi run ' + str(run.get('protocol_file', 'PROTOCOL')))} with the same data "
            "reproduces "
            "this bundle.",
        )
        timings = run.get("timings_s") or {}
        self.table(
            "timings",
            md_table(
                ["Stage", "Seconds"],
                [[k, fmt_num(v, 1)] for k, v in timings.items()],
                label="tbl-timings",
                caption="Run time per stage.",
                source=OPTIONAL_FILES["run"],
            ),
        )
        versions = run.get("versions") or {}
        self.table(
            "versions",
            md_table(
                ["Package", "Version"],
                [[k, v] for k, v in versions.items()],
                label="tbl-versions",
                caption="Software versions.",
                source=OPTIONAL_FILES["run"],
            ),
        )

    def checklist(self) -> None:
        present = {name: self.b.has(name) for name in OPTIONAL_FILES}
        rows = []
        titles = SECTION_TITLES
        for item in resolve_checklist(present):
            sec = item.section
            link = (
                "Title page"
                if sec == "sec-title"
                else f"[{titles.get(sec, sec)}](#{sec})"
                if sec
                else ""
            )
            if item.status == "reported":
                where = link
            elif item.status == "author":
                where = f"To be completed by the authors in {link}"
            elif item.status == "not performed":
                where = f"Not performed in this run: {escape(item.reason)}"
            else:
                where = f"Not applicable: {escape(item.reason)}"
            rows.append([item.id, escape(item.topic), escape(item.text), where])
        self.table(
            "checklist",
            md_table(
                ["Item", "Topic", "What to report (paraphrased)", "Where in this report"],
                rows,
                label="tbl-checklist",
                escape_cells=False,
                caption="TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378): where this "
                "report "
                "answers each item.",
                source="epi/report/tripod_ai.yaml",
            ),
        )

    def build(self) -> Content:
        for step in (
            self.front,
            self.abstract,
            self.introduction,
            self.data_sources,
            self.setting,
            self.participants,
            self.data_preparation,
            self.outcome,
            self.predictors,
            self.sample_size,
            self.missing_data,
            self.models,
            self.validation,
            self.heterogeneity_methods,
            self.flow,
            self.table1,
            self.missingness,
            self.development,
            self.model_specification,
            self.performance,
            self.calibration,
            self.decision_curves,
            self.subgroups,
            self.open_science,
            self.declarations,
            self.reproducibility,
            self.checklist,
            self.later_issues,
        ):
            try:
                step()
            except ReportError:
                raise
            except (TypeError, KeyError, AttributeError, ValueError, IndexError) as exc:
                # A bundle file shaped unlike docs/BUNDLE.md: show the rest of the report and
                # mark this part (build_report fills its includes with a visible note).
                self.c.problems.append(f"{step.__name__}: {type(exc).__name__}: {exc}")
        return self.c

    def later_issues(self) -> None:
        comp = self.b.section("comparisons")
        result = self.b.get("added_value")
        # the shape epi.comparison.compare_arms writes; anything else is shown generically
        if isinstance(result, dict) and "arms" in result and "method" in result:
            self.added_value(result)
        else:
            self.generic(
                "added_value",
                "Added value of cross-sector data",
                self.absent("added_value") + " (the added-value analysis has not run)"
                if comp
                else "no comparison of arms is registered in the protocol",
            )
        het = self.b.get("heterogeneity")
        # the shape epi.analysis writes; anything else is shown generically
        if isinstance(het, dict) and isinstance(het.get("models"), list) and het["models"]:
            self.heterogeneity(het)
        else:
            self.generic(
                "heterogeneity",
                "Heterogeneity across GP practices and municipalities",
                "the hierarchical models across GP practices and municipalities (issue 9) are "
                "not part of this run",
            )
        self.generic(
            "nlp",
            "Note variables (NLP)",
            self.absent("nlp") + " (the NLP stage of issue 7 has not run)"
            if self.b.section("notes")
            else "no note variables are registered in the protocol (`notes` is not set)",
        )


#: Section ids of the report templates and their titles (for links in the checklist).
SECTION_TITLES = {
    "sec-abstract": "Abstract",
    "sec-introduction": "Introduction",
    "sec-data-sources": "Data sources",
    "sec-setting": "Setting",
    "sec-participants": "Participants",
    "sec-data-preparation": "Data preparation",
    "sec-outcome": "Outcome",
    "sec-predictors": "Predictors",
    "sec-sample-size": "Sample size",
    "sec-missing-data": "Missing data",
    "sec-models": "Models",
    "sec-model-output": "Model output",
    "sec-validation": "Internal validation",
    "sec-measures": "Performance measures",
    "sec-fairness": "Fairness",
    "sec-flow": "Participant flow",
    "sec-characteristics": "Characteristics",
    "sec-development": "Model development",
    "sec-model-specification": "Model specification",
    "sec-performance": "Performance",
    "sec-subgroups": "Performance by subgroup",
    "sec-heterogeneity": "Heterogeneity",
    "sec-discussion": "Discussion",
    "sec-usability": "Usability",
    "sec-declarations": "Declarations",
    "sec-open-science": "Open science",
}


def build_content(bundle: Bundle, figures_dir: Path) -> Content:
    """Format every part of the report from a bundle; figures are written to ``figures_dir``."""
    return _Builder(bundle, figures_dir).build()
