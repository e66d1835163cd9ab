"""Note variables (NLP): notes read, processing, and mentions by concept and context."""

from __future__ import annotations

from epi.bundle import NLPSummary
from epi.report._bundle import OPTIONAL_FILES
from epi.report._markdown import code, escape, md_table, not_performed
from epi.report.sections._shared import Sections

SECTOR_WORDS = {"gp": "general practice", "hospital": "hospital", "municipal": "municipal care"}
CONTEXTS = ("affirmed", "negated", "uncertain", "hypothetical", "historical", "family")


def nlp(s: Sections) -> None:
    """The note variables of the NLP stage (part nlp, table nlp_mentions)."""
    summary = s.bundle.typed_file("nlp")
    if not isinstance(summary, NLPSummary):
        why = (
            s.absent("nlp") + " (the NLP stage has not run)"
            if s.bundle.section("notes")
            else "no note variables are registered in the protocol (`notes` is not set)"
        )
        s.part("nlp", not_performed("Note variables (NLP)", why))
        s.table("nlp_mentions", "")
        return
    processing = summary.processing
    skipped = processing.get("skipped") or {}
    failed = int(skipped.get("failed", 0) or 0) if isinstance(skipped, dict) else 0
    sectors = ", ".join(
        f"{s.count(n)} from {SECTOR_WORDS.get(sector, escape(sector))}"
        for sector, n in sorted(summary.notes_by_sector.items())
    )
    not_processed = {
        reason: n for reason, n in (skipped.items() if isinstance(skipped, dict) else []) if n
    }
    text = (
        f"Note variables were derived from the notes written in the {summary.lookback_days} "
        f"days before the index date ({sectors}) with the rule pack {code(summary.pack)}: "
        "each mention of a concept is classified by its context (negated, uncertain, "
        "hypothetical, historical, or about a family member) and only affirmed mentions "
        f"about the patient count. {len(summary.variables)} note variables entered the "
        f"arms with notes. {s.count(processing.get('processed'))} notes were processed"
    )
    if not_processed:
        text += "; not processed: " + ", ".join(
            f"{escape(reason.replace('_', ' '))} {s.count(n)}"
            for reason, n in not_processed.items()
        )
    text += "."
    if failed:
        text += (
            f" The rules failed on {s.count(failed)} notes, within the protocol's "
            "tolerance (`notes.max_failure_share`); those notes contribute no mentions."
        )
    s.part("nlp", text + "\n\n@tbl-nlp-mentions gives the mentions by concept and context.")
    rows = [
        [r.concept.replace("_", " "), s.count(r.mentions)]
        + [s.count(getattr(r, c)) for c in CONTEXTS]
        for r in sorted(summary.mentions_by_concept, key=lambda r: r.concept)
    ]
    s.table(
        "nlp_mentions",
        md_table(
            ["Concept", "Mentions", "Affirmed", "Negated", "Uncertain", "Hypothetical",
             "Historical", "Family"],
            rows,
            label="tbl-nlp-mentions",
            source=OPTIONAL_FILES["nlp"],
            caption="Mentions of each concept in the notes of the look-back window, by "
            "context (a mention can carry several contexts; affirmed: none of them, about "
            "the patient).",
            notes=f"Counts below {s.min_cell} are masked.",
        ),
    )  # fmt: skip
