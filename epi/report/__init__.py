"""The TRIPOD+AI manuscript report, and disclosure control for aggregated counts."""

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
