"""The TRIPOD+AI manuscript report, and disclosure control for aggregated counts.

``build_report(run_dir)`` reads a run's results bundle (docs/BUNDLE.md), writes
the report's tables (Markdown), figures (SVG and PNG with alt text) and text
parts into ``run_dir/report/`` next to the Quarto templates of ``reports/``,
and renders ``report.html`` and ``report.pdf`` (Quarto when on PATH,
otherwise pandoc and Typst). ``make_table1`` builds the masked Table 1 the
pipeline stores as ``features/table1.json``. ``mask_count`` and the
``suppress_*`` helpers implement the small-cell rule for every stage.
"""

from epi.report._build import build_report
from epi.report._bundle import Bundle, load_bundle
from epi.report._checklist import ChecklistItem, load_checklist, resolve_checklist
from epi.report._disclosure import (
    SUPPRESSED,
    is_masked,
    mask_count,
    suppress_line,
    suppress_lines,
    suppress_masked_line,
    suppress_table,
)
from epi.report._table1 import make_table1, table1_groups

__all__ = [
    "SUPPRESSED",
    "Bundle",
    "ChecklistItem",
    "build_report",
    "is_masked",
    "load_bundle",
    "load_checklist",
    "make_table1",
    "mask_count",
    "resolve_checklist",
    "suppress_line",
    "suppress_lines",
    "suppress_masked_line",
    "suppress_table",
    "table1_groups",
]
