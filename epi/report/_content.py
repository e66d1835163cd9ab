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
        if self.b.has("heterogeneity"):
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
                    if m is None:
                        reason = reasons.get(key, "not in the results bundle")
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
        self.part("added_value", added_value_text(result) + "\n\n" + figure)

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
