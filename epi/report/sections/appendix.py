"""Back matter: open science, declarations, reproducibility and the TRIPOD+AI checklist."""

from __future__ import annotations

from epi.format import fmt_num
from epi.report._bundle import OPTIONAL_FILES
from epi.report._checklist import resolve_checklist
from epi.report._markdown import code, escape, md_table, not_performed
from epi.report.sections._shared import Sections

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


def open_science(s: Sections) -> None:
    """Protocol, registration, code and data (part open_science, table amendments)."""
    b = s.bundle
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
        f"- Data: {_data_kind(s)}"
        + (
            f"; data fingerprint {code(run['data_fingerprint'])}"
            if run.get("data_fingerprint")
            else ""
        ),
    ]
    s.part("open_science", "\n".join(lines))
    am = lock.get("amendments") or b.section("amendments", default=[]) or []
    if am:
        rows = [[a.get("date"), a.get("section"), a.get("what"), a.get("why")] for a in am]
        s.table(
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
        s.table("amendments", "The protocol has no amendments.")


def _data_kind(s: Sections) -> str:
    return {
        "synthetic": "synthetic (not real persons)",
        "tables": "routine-care tables",
        "analysis_table": "one analysis table",
    }.get(s.source, escape(s.source))


def declarations(s: Sections) -> None:
    """The data-sharing statement (part data_sharing)."""
    if s.bundle.synthetic:
        access = (
            "The data are synthetic and can be regenerated exactly from the protocol (seed "
            "and size) with `epi run`."
        )
    else:
        access = (
            "[*For the authors: whether and how the person-level data can be accessed "
            "(custodians, legal basis, access route).*]{.author-input}"
        )
    s.part(
        "data_sharing",
        f"**Data sharing.** {access} The aggregated results bundle (this report's only "
        "input, free of person-level values) and the exported model specifications can be "
        "shared.",
    )


def reproducibility(s: Sections) -> None:
    """Seed, stages, run times and versions (part reproducibility, two tables)."""
    run = s.bundle.get("run")
    if not run:
        s.part("reproducibility", not_performed("Reproducibility record", s.absent("run")))
        s.table("timings", "")
        s.table("versions", "")
        return
    s.part(
        "reproducibility",
        f"Seed {run.get('seed')}; run started {escape(run.get('started_utc'))}; stages: "
        f"{escape(', '.join(run.get('stages_run') or []))}. Rerunning "
        f"{code('epi run ' + str(run.get('protocol_file', 'PROTOCOL')))} with the same data "
        "reproduces "
        "this bundle.",
    )
    timings = run.get("timings_s") or {}
    s.table(
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
    s.table(
        "versions",
        md_table(
            ["Package", "Version"],
            [[k, v] for k, v in versions.items()],
            label="tbl-versions",
            caption="Software versions.",
            source=OPTIONAL_FILES["run"],
        ),
    )


def checklist(s: Sections) -> None:
    """The TRIPOD+AI checklist and where this report answers each item."""
    present = {name: s.bundle.has(name) for name in OPTIONAL_FILES}
    rows = []
    titles = SECTION_TITLES
    for item in resolve_checklist(present, s.source):
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
    s.table(
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
