"""The TRIPOD+AI manuscript report, built from the typed results bundle.

``build_report(run_dir)`` reads a run's results bundle (docs/BUNDLE.md), writes
the report's tables (Markdown), figures (SVG and PNG with alt text) and text
parts into ``run_dir/report/`` next to the Quarto templates of ``reports/``,
and renders ``report.html`` and ``report.pdf`` (Quarto when on PATH,
otherwise pandoc and Typst). The report reads the typed bundle only
(`epi.bundle`); the small-cell rule is `epi.disclosure`.
"""

from epi.report._bayes_figures import caterpillar_plot, shrinkage_plot, write_figure
from epi.report._build import build_report
from epi.report._bundle import Bundle, load_bundle
from epi.report._checklist import ChecklistItem, load_checklist, resolve_checklist

__all__ = [
    "Bundle",
    "ChecklistItem",
    "build_report",
    "caterpillar_plot",
    "load_bundle",
    "load_checklist",
    "resolve_checklist",
    "shrinkage_plot",
    "write_figure",
]
