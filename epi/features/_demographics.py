"""Demographic features from the cohort table: age and sex, always present.

Columns (prefix ``demo__``): ``age`` (exact years at the index date) and
``male`` (1 for men). They come from the cohort, which is dated at the index
date, so they can never leak follow-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["demographic_features"]


def demographic_features(table: pd.DataFrame, prefix: str = "demo__") -> pd.DataFrame:
    """Age and sex per person of the cohort table.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`epi.cohort.Cohort.table`.
    prefix : str
        Column prefix.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``table``.
    """
    return pd.DataFrame(
        {
            f"{prefix}age": table["age"].astype(float),
            f"{prefix}male": (table["sex"] == "M").astype(np.int64),
        },
        index=table.index,
    )
