"""The report's content, formatted from the bundle: see ``epi.report.sections``.

Kept so that ``from epi.report._content import build_content`` (and the other
names below) keep working; the parts live in one module each under
``epi/report/sections/``.
"""

from epi.report.sections import SECTION_TITLES, Content, build_content, horizon_text

__all__ = ["SECTION_TITLES", "Content", "build_content", "horizon_text"]
