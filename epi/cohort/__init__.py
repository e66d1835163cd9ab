"""Cohorts and outcomes: index date, eligibility, exclusions, censoring and attrition.

`build_cohort` turns the event store into one row per person (``index_date``,
``duration``, ``event`` with 0 censored / 1 outcome / 2 competing death, GP
practice and municipality) and an attrition log with one row per restriction.
"""

from epi.cohort._build import COHORT_COLUMNS, SAME_DAY_DURATION, Cohort, build_cohort
from epi.cohort._sql import add_days, code_list_sql, days_between, days_between_exact, lit

__all__ = [
    "COHORT_COLUMNS",
    "SAME_DAY_DURATION",
    "Cohort",
    "add_days",
    "build_cohort",
    "code_list_sql",
    "days_between",
    "days_between_exact",
    "lit",
]
