"""Everything the report shows, formatted from the bundle: variables, text parts, tables, figures.

One module per part of the report, each a set of functions from the shared
state (``Sections``: the bundle and the pieces built so far) to Markdown:
``front`` (title page, abstract, introduction), ``methods``, ``results``,
``heterogeneity``, ``added_value``, ``nlp`` and ``appendix`` (open science,
declarations, reproducibility, checklist).

This is the only place that turns bundle values into text. It never reads
person-level files, formats every person count through the disclosure
helpers, and writes "not performed in this run: <reason>" wherever a bundle
file or an analysis is absent, so that no number is invented.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from epi.exceptions import ReportError
from epi.report._bundle import Bundle
from epi.report.sections import added_value, appendix, front, heterogeneity, methods, nlp, results
from epi.report.sections._shared import Content, Sections, horizon_text
from epi.report.sections.appendix import SECTION_TITLES

__all__ = ["SECTION_TITLES", "Content", "Sections", "build_content", "horizon_text"]

#: The parts in the report's order (each fills its ``parts/`` and ``tables/`` files).
STEPS: tuple[Callable[[Sections], None], ...] = (
    front.front_matter,
    front.abstract,
    front.introduction,
    methods.data_sources,
    methods.setting,
    methods.participants,
    methods.data_preparation,
    methods.outcome,
    methods.predictors,
    methods.sample_size,
    methods.missing_data,
    methods.models,
    methods.validation,
    methods.heterogeneity_methods,
    results.flow,
    results.table1,
    results.missingness,
    results.development,
    results.model_specification,
    results.performance,
    results.calibration,
    results.decision_curves,
    results.subgroups,
    heterogeneity.heterogeneity,
    added_value.added_value,
    nlp.nlp,
    appendix.open_science,
    appendix.declarations,
    appendix.reproducibility,
    appendix.checklist,
)


def build_content(bundle: Bundle, figures_dir: Path) -> Content:
    """Format every part of the report from a bundle; figures are written to ``figures_dir``."""
    s = Sections(bundle, figures_dir)
    for step in STEPS:
        try:
            step(s)
        except ReportError:
            raise
        except (TypeError, KeyError, AttributeError, ValueError, IndexError) as exc:
            # A bundle file shaped unlike docs/BUNDLE.md: show the rest of the report and
            # mark this part (build_report fills its includes with a visible note).
            s.content.problems.append(f"{step.__name__}: {type(exc).__name__}: {exc}")
    return s.content
