"""Table 1: participant characteristics with ``tableone``, masked for small cells.

The pipeline calls :func:`make_table1` with the cohort and its design matrix
and writes the result as ``features/table1.json``; the report only formats it.
Counts are masked and complementary cells suppressed over every published
relation (levels add up to the group size in the header; the groups of one
grouping add up to the ``Overall`` column), so no small count can be
recovered by subtraction. Percentages go with their counts.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from epi.disclosure import SUPPRESSED, mask_count, suppress_lines
from epi.exceptions import ReportError
from epi.format import MINUS, fmt_count

__all__ = ["SECTOR_LABELS", "make_table1", "table1_groups"]

#: Column-name prefix → sector label (docs/CONTRACTS.md).
SECTOR_LABELS = {
    "demo": "Demographics",
    "gp": "General practice",
    "hosp": "Hospital",
    "muni": "Municipality",
    "note": "Notes",
}
_MISSING = "Missing"


def table1_groups(
    cohort: pd.DataFrame, features: pd.DataFrame, horizon_days: float
) -> dict[str, pd.Series]:
    """The default Table 1 groupings: by outcome and by sectors with data.

    Parameters
    ----------
    cohort : DataFrame
        Indexed by ``person_id`` with ``duration`` (days) and ``event``.
    features : DataFrame
        The design matrix (columns ``<prefix>__<name>``).
    horizon_days : float
        The prediction horizon.

    Returns
    -------
    dict
        ``{"Outcome": labels, "Sectors with data": labels}``: the outcome
        group is *Outcome by horizon* for ``event == 1`` within the horizon;
        a person has data from a sector when any of its columns is non-zero.
    """
    missing = [c for c in ("duration", "event") if c not in cohort.columns]
    if missing:
        raise ReportError(f"table1_groups: the cohort lacks column(s) {missing}.")
    cohort = cohort.reindex(features.index)
    outcome = np.where(
        (cohort["event"] == 1) & (cohort["duration"] <= horizon_days),
        "Outcome by horizon",
        "No outcome by horizon",
    )
    has = {}
    for prefix in ("gp", "hosp", "muni"):
        cols = [c for c in features.columns if c.startswith(f"{prefix}__")]
        if cols:
            block = features[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
            has[prefix] = block.ne(0).any(axis=1)
    names = {"gp": "GP", "hosp": "hospital", "muni": "municipality"}
    labels = pd.Series("none", index=features.index, dtype=object)
    if has:
        frame = pd.DataFrame(has)
        labels = frame.apply(
            lambda row: " + ".join(names[p] for p in frame.columns if row[p]) or "none", axis=1
        )
    return {
        "Outcome": pd.Series(outcome, index=features.index, name="Outcome"),
        "Sectors with data": labels.rename("Sectors with data"),
    }


def _label(column: str) -> tuple[str, str]:
    prefix, _, name = column.partition("__")
    sector = SECTOR_LABELS.get(prefix, "Other")
    return sector, (name or column).replace("_", " ")


def _kinds(features: pd.DataFrame) -> dict[str, str]:
    kinds = {}
    for col in features.columns:
        s = features[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            kinds[col] = "categorical" if not pd.api.types.is_bool_dtype(s) else "binary"
            continue
        values = set(pd.unique(s.dropna()))
        if values <= {0, 1}:
            kinds[col] = "binary"
        else:
            skew = s.dropna().skew() if s.notna().sum() > 2 else 0.0
            kinds[col] = "skewed" if abs(float(skew)) > 1 else "normal"
    return kinds


def _prepared(features: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    out = {}
    for col, kind in kinds.items():
        s = features[col]
        if kind == "binary":
            out[col] = s.astype(float).map({1.0: "yes", 0.0: "no"}).fillna(_MISSING)
        elif kind == "categorical":
            out[col] = s.astype(object).where(s.notna(), _MISSING).astype(str)
        else:
            out[col] = pd.to_numeric(s, errors="coerce").astype(float)
    return pd.DataFrame(out, index=features.index)


def _tableone(data: pd.DataFrame, kinds: dict[str, str], group: pd.Series | None) -> pd.DataFrame:
    from tableone import TableOne

    frame = data.copy()
    kwargs: dict[str, Any] = {}
    if group is not None:
        frame["__group__"] = group.to_numpy()
        kwargs = {"groupby": "__group__", "smd": True}
    with warnings.catch_warnings():
        # tableone's own hints about normality and small groups; we mask instead.
        warnings.filterwarnings("ignore", category=UserWarning, module="tableone")
        # numpy's empty-slice warnings for tiny groups, whose cells are masked anyway.
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        table = TableOne(
            frame,
            columns=list(kinds),
            categorical=[c for c, k in kinds.items() if k in ("binary", "categorical")],
            nonnormal=[c for c, k in kinds.items() if k == "skewed"],
            pval=False,
            missing=False,
            overall=True,
            **kwargs,
        ).tableone
    if isinstance(table.columns, pd.MultiIndex):
        table.columns = table.columns.get_level_values(-1)
    return table


def _rows_of(table: pd.DataFrame, col: str) -> pd.DataFrame:
    first = table.index.get_level_values(0)
    return table[[str(v).startswith(f"{col}, ") for v in first]]


def _smd(table: pd.DataFrame, col: str, labels: list[str]) -> float | None:
    """Largest absolute SMD over pairs of the shown groups ``labels``."""
    rows = _rows_of(table, col)
    names = {f"SMD ({a},{b})" for a in labels for b in labels if a != b}
    values = []
    for c in table.columns:
        if c not in names:
            continue
        for v in rows[c]:
            try:
                x = abs(float(v))
            except (TypeError, ValueError):
                continue
            if np.isfinite(x):
                values.append(x)
    return round(max(values), 3) if values else None


def _cell_text(table: pd.DataFrame, col: str, level: str, column: dict[str, Any]) -> str:
    rows = _rows_of(table, col)
    name = "Overall" if column["grouping"] is None else column["label"]
    value = rows.iloc[0][name] if level == "" else rows.xs(level, level=1)[name].iloc[0]
    return _house_style(str(value).strip())


def _house_style(text: str) -> str:
    """tableone's cell in epi's number style (`epi.format`): ``2179 (46.9)`` → ``2,179
    (46.9)``, ``-1.4 (4.9)`` → ``−1.4 (4.9)``, ``7.0 [3.0,13.0]`` → ``7.0 [3.0, 13.0]``."""
    text = re.sub(r"\[([^\],]+),([^\]]+)\]", r"[\1, \2]", text)
    text = re.sub(r"^(\d+)(?= \()", lambda m: fmt_count(int(m.group(1))), text)
    return re.sub(r"(?<![\w.])-(?=\d)", MINUS, text)


def make_table1(
    cohort: pd.DataFrame,
    features: pd.DataFrame,
    groups: dict[str, pd.Series] | None,
    min_cell_size: int,
) -> dict[str, Any]:
    """Table 1 (TRIPOD+AI 20b) with ``tableone``, already masked for small cells.

    Parameters
    ----------
    cohort : DataFrame
        The cohort table indexed by ``person_id``; only its index is used to
        check that it matches ``features`` (use :func:`table1_groups` for the
        default groupings by outcome and by sectors with data).
    features : DataFrame
        Design matrix indexed by ``person_id``; every column becomes a row
        block. 0/1 columns are shown as ``yes`` counts, other numeric columns
        as mean (SD), or median [Q1, Q3] when skewed (|skewness| > 1).
    groups : dict of str to Series, optional
        Groupings (name → label per person, indexed by ``person_id``). Each
        adds one column per label and the largest absolute pairwise
        standardised mean difference (SMD) per variable.
    min_cell_size : int
        Counts below this are shown as ``<5``; complementary cells as ``–``.

    Returns
    -------
    dict
        The ``features/table1.json`` payload: ``columns`` [{key, grouping,
        label, n}], ``groupings`` [names], ``rows`` [{variable, feature,
        sector, level, kind, values {column key: text}, smd {grouping: float
        or None}}], ``min_cell_size`` and ``note``. No person-level value is
        included.

    Raises
    ------
    ReportError
        If the inputs are empty or their person ids do not match.
    """
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ReportError(
            f"make_table1: the design matrix is empty ({features.shape[0]} rows, "
            f"{features.shape[1]} columns)."
        )
    if not cohort.index.equals(features.index) and not set(features.index) <= set(cohort.index):
        extra = list(set(features.index) - set(cohort.index))[:5]
        raise ReportError(
            f"make_table1: {len(set(features.index) - set(cohort.index))} person(s) of the design "
            f"matrix are not in the cohort (first: {extra}); pass the matching cohort."
        )
    groups = dict(groups or {})
    grp: dict[str, pd.Series] = {}
    for name, series in groups.items():
        labels = series.reindex(features.index)
        grp[name] = labels.astype(object).where(labels.notna(), "Unknown").astype(str)

    kinds = _kinds(features)
    data = _prepared(features, kinds)
    n_total = len(data)

    # Columns: overall, then each grouping's levels (sorted for stability).
    columns: list[dict[str, Any]] = [
        {"key": "overall", "grouping": None, "label": "Overall", "n_int": n_total}
    ]
    membership: dict[str, np.ndarray] = {"overall": np.ones(n_total, dtype=bool)}
    for name, labels in grp.items():
        for level in sorted(labels.unique()):
            key = f"{name}: {level}"
            member = (labels == level).to_numpy()
            columns.append(
                {"key": key, "grouping": name, "label": level, "n_int": int(member.sum())}
            )
            membership[key] = member
    keys = [c["key"] for c in columns]
    col_index = {k: j for j, k in enumerate(keys)}

    # Group sizes: a group smaller than min_cell is hidden entirely.
    sizes = np.array([c["n_int"] for c in columns], dtype=np.int64)
    size_lines = [
        np.array([0] + [col_index[c["key"]] for c in columns if c["grouping"] == name])
        for name in grp
    ]
    size_hidden = suppress_lines(sizes, size_lines, min_cell_size)
    for c, hid in zip(columns, size_hidden, strict=True):
        c["n"] = (
            mask_count(c["n_int"], min_cell_size)
            if not hid or c["n_int"] < min_cell_size
            else SUPPRESSED
        )
        c["hidden"] = bool(hid)

    tables = {name: _tableone(data, kinds, labels) for name, labels in grp.items()}
    # A grouped tableone has the Overall column too: one call fewer.
    tables["overall"] = tables[next(iter(grp))] if grp else _tableone(data, kinds, None)

    rows: list[dict[str, Any]] = []
    for col, kind in kinds.items():
        sector, label = _label(col)
        # Count matrix: levels (or the missing row for numeric columns) × columns.
        if kind in ("binary", "categorical"):
            levels = sorted(data[col].unique(), key=lambda v: (v == _MISSING, v))
            indicator = {lv: (data[col] == lv).to_numpy() for lv in levels}
        else:
            isna = data[col].isna().to_numpy()
            levels = ["non-missing", _MISSING]
            indicator = {"non-missing": ~isna, _MISSING: isna}
        counts = np.array(
            [[int((indicator[lv] & membership[k]).sum()) for k in keys] for lv in levels],
            dtype=np.int64,
        )
        n_lv, n_col = counts.shape
        cells = np.arange(counts.size).reshape(counts.shape)
        lines = [cells[:, j] for j in range(n_col)]  # levels add up to the group n
        for i in range(n_lv):  # groups of a grouping add up to the overall cell
            for name in grp:
                idx = [col_index[c["key"]] for c in columns if c["grouping"] == name]
                lines.append(np.array([cells[i, 0], *cells[i, idx]]))
        hidden = suppress_lines(counts.ravel(), lines, min_cell_size).reshape(counts.shape)
        hidden[:, size_hidden] = True

        smd: dict[str, float | None] = {}
        for name in grp:
            shown = [col_index[c["key"]] for c in columns if c["grouping"] == name]
            shown = [j for j in shown if not size_hidden[j]]
            labels_shown = [columns[j]["label"] for j in shown]
            any_hidden = bool(hidden[:, [0, *shown]].any()) and kind in ("binary", "categorical")
            smd[name] = None if any_hidden else _smd(tables[name], col, labels_shown)

        def table_for(key: str) -> str:
            grouping = columns[col_index[key]]["grouping"]
            return "overall" if grouping is None else grouping

        shown_levels = ["yes"] if kind == "binary" and "yes" in levels else levels
        if kind not in ("binary", "categorical"):
            # The summary row, then the missing row when anything is missing.
            values = {}
            for k in keys:
                j = col_index[k]
                n_obs = counts[0, j]
                if size_hidden[j] or 0 < n_obs < min_cell_size:
                    values[k] = SUPPRESSED
                else:
                    values[k] = (
                        _cell_text(tables[table_for(k)], col, "", columns[col_index[k]])
                        if n_obs
                        else "–"
                    )
            stat = "median [Q1, Q3]" if kind == "skewed" else "mean (SD)"
            rows.append(
                {"variable": label, "feature": col, "sector": sector, "level": stat,
                 "kind": kind, "values": values, "smd": smd}
            )  # fmt: skip
            shown_levels = [_MISSING] if counts[1].any() else []
        for lv in shown_levels:
            i = levels.index(lv)
            values = {}
            for k in keys:
                j = col_index[k]
                if hidden[i, j]:
                    values[k] = (
                        f"<{min_cell_size}" if 0 < counts[i, j] < min_cell_size else SUPPRESSED
                    )
                elif kind in ("binary", "categorical"):
                    values[k] = _cell_text(tables[table_for(k)], col, lv, columns[col_index[k]])
                else:
                    n_col_j = max(int(columns[j]["n_int"]), 1)
                    values[k] = f"{counts[i, j]:,} ({100 * counts[i, j] / n_col_j:.1f})"
            rows.append(
                {"variable": label, "feature": col, "sector": sector, "level": lv,
                 "kind": kind, "values": values,
                 "smd": smd if kind in ("binary", "categorical") else {}}
            )  # fmt: skip
    for c in columns:
        c.pop("n_int")
        c.pop("hidden")
    return {
        "columns": columns,
        "groupings": list(grp),
        "rows": rows,
        "min_cell_size": min_cell_size,
        "note": (
            f"n (%) for categories; mean (SD) or median [Q1, Q3] for numbers. Counts below "
            f"{min_cell_size} are shown as <{min_cell_size}; cells marked – are suppressed so "
            "that a small count cannot be recovered from the totals. SMD: largest absolute "
            "pairwise standardised mean difference within the grouping."
        ),
    }
