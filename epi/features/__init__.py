"""Per-sector features in named sets, the leakage guard and missing-data handling.

One module per sector (``_gp``, ``_hospital``, ``_municipal``, plus
``_demographics``); sectors never import each other and read events only
through the guarded staging of ``_common``. `build_features` returns
`FeatureSets`, whose `design` unions sets into an arm and `missingness`
tabulates missing values; the NLP stage adds ``notes`` with `add_set`.
"""

from epi.features._common import check_no_leakage, check_times_before_index
from epi.features._missing import (
    CompleteCase,
    MissingIndicator,
    MultipleImputation,
    make_missing_handler,
    rubins_rules,
)
from epi.features._sets import PREFIXES, SECTOR_OF_SET, FeatureSets, build_features
from epi.features._table1 import make_table1, table1_groups

__all__ = [
    "PREFIXES",
    "SECTOR_OF_SET",
    "CompleteCase",
    "FeatureSets",
    "MissingIndicator",
    "MultipleImputation",
    "build_features",
    "check_no_leakage",
    "check_times_before_index",
    "make_missing_handler",
    "make_table1",
    "rubins_rules",
    "table1_groups",
]
