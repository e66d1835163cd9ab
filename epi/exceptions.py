"""One exception and warning hierarchy for epi.

Every error says what went wrong, where (file, key path, table, column, row
count, first bad values) and what to do next. The CLI turns ``EpiError`` into
exit code 2 with a one-paragraph message; anything else is an internal error
(exit code 1).
"""

from __future__ import annotations

__all__ = [
    "BundleError",
    "CohortError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DiagnosticsWarning",
    "EpiError",
    "EpiWarning",
    "LeakageError",
    "LockError",
    "ModelError",
    "NLPError",
    "ProtocolError",
    "ReportError",
    "RuleError",
    "SpecError",
    "StatisticalWarning",
    "ValidationInputError",
]


class EpiError(Exception):
    """Base class of every error epi raises on bad input (CLI exit code 2)."""


class ProtocolError(EpiError, ValueError):
    """The protocol file is unreadable, malformed or inconsistent."""


class LockError(ProtocolError):
    """A locked protocol changed without a recorded amendment."""


class SpecError(EpiError, ValueError):
    """A data spec in ``data_specs/`` is malformed."""


class DataError(EpiError, ValueError):
    """An input table does not match its data spec."""


class CohortError(EpiError, ValueError):
    """The cohort or outcome cannot be built as the protocol says."""


class LeakageError(CohortError):
    """Information dated on or after the index date reached a feature."""


class ModelError(EpiError, ValueError):
    """A model cannot be fitted or used on the data given."""


class ConvergenceError(ModelError):
    """A model fit did not converge."""


class ValidationInputError(EpiError, ValueError):
    """Outcomes or predicted risks are unusable for validation."""


class NLPError(EpiError, ValueError):
    """The NLP pipeline cannot run as configured."""


class RuleError(NLPError):
    """A rule pack file is malformed."""


class ReportError(EpiError, ValueError):
    """The report cannot be built or rendered."""


class BundleError(ReportError):
    """A results-bundle file does not match its typed model (damaged, or another version)."""


class EpiWarning(UserWarning):
    """Base class of epi's warnings."""


class StatisticalWarning(EpiWarning):
    """A statistical result may be unreliable (small counts, separation …)."""


class ConvergenceWarning(StatisticalWarning):
    """A fit converged poorly; the message names the fix."""


class DiagnosticsWarning(StatisticalWarning):
    """An MCMC diagnostic failed its threshold; the message names the parameter."""
