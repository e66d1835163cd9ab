"""Municipal features: home care, FSIII functional levels, falls, nursing, rehabilitation.

Columns (prefix ``muni__``), all from events before the index date:

* ``homecare_personal_h`` / ``homecare_practical_h``: visited home care (SEL §83)
  in hours per week, averaged over the 4 **complete** weeks before the index
  date (week starts 34..7 days before it, so no week reaches the index date).
* ``homecare_any_<w>``: 1 if any home care week started in the window.
* ``fsiii_j1`` .. ``fsiii_j5``: the worst (highest) current level 0-4 of the
  area's conditions, each condition at its latest assessment in the look-back
  (level 9 "not relevant" ignored). 0 when the area was not assessed: FSIII is
  recorded only for citizens the municipality assesses, so "not assessed" is
  coded as "no recorded limitation", and ``fsiii_assessed`` flags who was.
* ``falls_<w>``, ``injurious_falls_<w>``, ``nursing_visits_<w>``: counts per window.
* ``rehabilitation``: 1 if a rehabilitation or training course (SEL §83a, §86,
  SUL §140) started in the look-back.
* ``<indicator>``: 1 if any code of the list in the look-back (protocol indicators).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from epi.features._common import (
    SetContext,
    code_pred,
    fetch_per_person,
    in_window_sql,
    indicator_columns,
    stage_events,
)

__all__ = ["FSIII_AREAS", "municipal_features"]

#: FSIII functional areas (DANISH_DATA §5 [S29]).
FSIII_AREAS = ("J1", "J2", "J3", "J4", "J5")
_WEEKS = 4


def municipal_features(
    con: duckdb.DuckDBPyConnection, ctx: SetContext, persons: pd.Index
) -> pd.DataFrame:
    """Municipal feature block for ``persons`` (see the module docstring for the columns).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Event store with the cohort registered (``_epi_fx_cohort``).
    ctx : SetContext
        The set's options.
    persons : pandas.Index
        The cohort's person ids; the result has exactly this index.

    Returns
    -------
    pandas.DataFrame
    """
    p, lb = ctx.prefix, ctx.lookback_days
    indicators = indicator_columns(ctx, {})
    in_lb = in_window_sql((-lb, 0))
    weeks = f"(s.days_before >= 7 AND s.days_before <= {7 * _WEEKS + 6})"
    muni = "s.vocabulary = 'MUNI'"
    with stage_events(con, ctx, "municipal") as t:
        cols = [
            f"SUM(CASE WHEN {muni} AND s.code = 'HOMECARE_PERSONAL' AND {weeks} "
            f"THEN s.value_num ELSE 0 END) / {float(_WEEKS)} AS {p}homecare_personal_h",
            f"SUM(CASE WHEN {muni} AND s.code = 'HOMECARE_PRACTICAL' AND {weeks} "
            f"THEN s.value_num ELSE 0 END) / {float(_WEEKS)} AS {p}homecare_practical_h",
        ]
        for name, w in ctx.windows.items():
            inw = in_window_sql(w)
            cols += [
                f"MAX(CASE WHEN {muni} AND s.code LIKE 'HOMECARE%' AND {inw} THEN 1 ELSE 0 END) "
                f"AS {p}homecare_any_{name}",
                f"SUM(CASE WHEN {muni} AND s.code = 'FALL' AND {inw} THEN 1 ELSE 0 END) "
                f"AS {p}falls_{name}",
                f"SUM(CASE WHEN {muni} AND s.code = 'FALL' AND s.value_num = 1 AND {inw} "
                f"THEN 1 ELSE 0 END) AS {p}injurious_falls_{name}",
                f"SUM(CASE WHEN {muni} AND s.code = 'NURSING_SUL138' AND {inw} THEN 1 ELSE 0 "
                f"END) AS {p}nursing_visits_{name}",
            ]
        cols.append(
            f"MAX(CASE WHEN {muni} AND s.code IN ('REHAB_SEL83A', 'TRAIN_SEL86', 'TRAIN_SUL140') "
            f"AND {in_lb} THEN 1 ELSE 0 END) AS {p}rehabilitation"
        )
        cols += [
            f"MAX(CASE WHEN {code_pred(cl)} AND {in_lb} THEN 1 ELSE 0 END) AS {p}{name}"
            for name, cl in indicators.items()
        ]
        main = fetch_per_person(
            con, f"SELECT s.person_id, {', '.join(cols)} FROM {t} s GROUP BY s.person_id", persons
        )
        area_cols = ", ".join(
            f"MAX(CASE WHEN area = '{a}' THEN level END) AS {p}fsiii_{a.lower()}"
            for a in FSIII_AREAS
        )
        fsiii = fetch_per_person(
            con,
            f"""WITH latest AS (
                SELECT s.person_id, SUBSTR(s.code, 1, 2) AS area, s.value_num AS level,
                       ROW_NUMBER() OVER (PARTITION BY s.person_id, s.code
                                          ORDER BY s.time DESC, s.value_num DESC) AS rn
                FROM {t} s WHERE s.vocabulary = 'FSIII' AND {in_lb}
            )
            SELECT person_id, 1 AS {p}fsiii_assessed, {area_cols}
            FROM latest WHERE rn = 1 AND level <= 4 GROUP BY person_id""",
            persons,
        )
    out = pd.concat([main, fsiii], axis=1)
    for col in out.columns:
        if col.endswith("_h"):
            out[col] = out[col].fillna(0.0).astype(float)
        else:
            out[col] = out[col].fillna(0).astype(np.int64)
    out.index.name = "person_id"
    return out
