"""Named feature sets and the arms the protocol builds from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from epi.cohort import Cohort
from epi.cohort._sql import check_code_lists_in_store, store_vocabularies
from epi.exceptions import CohortError
from epi.features._common import (
    COHORT_VIEW,
    EVENTS_VIEW,
    SetContext,
    check_times_before_index,
    prestage_events,
)
from epi.features._demographics import demographic_features
from epi.features._gp import gp_features
from epi.features._hospital import hospital_features
from epi.features._municipal import municipal_features
from epi.io import atomic_write_parquet
from epi.protocol import FeatureSetSpec, Protocol

__all__ = ["PREFIXES", "SECTOR_OF_SET", "FeatureSets", "build_features"]

#: Column prefix of each named set (``docs/CONTRACTS.md``).
PREFIXES = {
    "demographics": "demo__",
    "gp": "gp__",
    "hospital": "hosp__",
    "municipal": "muni__",
    "notes": "note__",
}
#: The data sector each set comes from (for the missingness table).
SECTOR_OF_SET = {
    "demographics": "population",
    "gp": "gp",
    "hospital": "hospital",
    "municipal": "municipal",
    "notes": "notes",
}
_BUILDERS: dict[str, Callable[[duckdb.DuckDBPyConnection, SetContext, pd.Index], pd.DataFrame]] = {
    "gp": gp_features,
    "hospital": hospital_features,
    "municipal": municipal_features,
}


@dataclass
class FeatureSets:
    """One design block per named feature set, all indexed by the cohort's person ids.

    Attributes
    ----------
    frames : dict of str to pandas.DataFrame
        Set name -> numeric columns named ``<prefix>__<name>``.
    index_date : pandas.Series
        The cohort's index dates (for the leakage guard of added sets).
    """

    frames: dict[str, pd.DataFrame]
    index_date: pd.Series
    sectors: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Names of the sets built so far."""
        return list(self.frames)

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The frame of one set."""
        if name not in self.frames:
            raise CohortError(f"feature set '{name}' has not been built; available: {self.names}")
        return self.frames[name]

    def __contains__(self, name: object) -> bool:
        return name in self.frames

    def add_set(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        latest_time: pd.Series | None = None,
        sector: str | None = None,
    ) -> None:
        """Add a set made elsewhere (the NLP stage's ``notes``) through the same checks.

        Parameters
        ----------
        name : str
            Set name; its prefix is ``PREFIXES[name]`` (``note__`` for ``notes``).
        frame : pandas.DataFrame
            Numeric columns indexed by person id, one row per cohort person.
        latest_time : pandas.Series, optional
            Per person, the time of the latest source record used (e.g. the last
            note read); checked against the index date.
        sector : str, optional
            Sector label for the missingness table (default: from the name).

        Raises
        ------
        CohortError
            Unknown name, a column without the set's prefix, a clash with existing
            columns, non-numeric columns, or persons that differ from the cohort's.
        LeakageError
            If ``latest_time`` is on or after a person's index date.
        """
        if name in self.frames:
            raise CohortError(f"feature set '{name}' already exists; sets: {self.names}")
        prefix = PREFIXES.get(name)
        if prefix is None:
            raise CohortError(f"unknown feature set '{name}'; named sets are {sorted(PREFIXES)}")
        bad = [c for c in frame.columns if not str(c).startswith(prefix)]
        if bad:
            raise CohortError(
                f"feature set '{name}': {len(bad)} column(s) lack the prefix '{prefix}' "
                f"(first: {bad[:5]}); rename them."
            )
        taken = sorted(set(frame.columns) & {c for f in self.frames.values() for c in f.columns})
        if taken:
            raise CohortError(f"feature set '{name}': columns already used: {taken[:5]}")
        non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if non_numeric:
            raise CohortError(
                f"feature set '{name}': non-numeric column(s) {non_numeric[:5]}; encode them."
            )
        want = self.index_date.index
        missing, extra = want.difference(frame.index), frame.index.difference(want)
        if len(missing) or len(extra):
            raise CohortError(
                f"feature set '{name}' covers other persons than the cohort: {len(missing)} "
                f"cohort person(s) missing (first: {list(missing[:3])}), {len(extra)} "
                f"not in the cohort (first: {list(extra[:3])}). Give one row per cohort person."
            )
        if latest_time is not None:
            check_times_before_index(latest_time, self.index_date, name)
        self.frames[name] = frame.reindex(want)
        self.sectors[name] = sector or SECTOR_OF_SET.get(name, name)

    def design(self, sets: list[str], *, drop_duplicates: bool = True) -> pd.DataFrame:
        """The design matrix of an arm: the union of its sets' columns.

        Age and sex (``demographics``) are always included, first, when built.

        Parameters
        ----------
        sets : list of str
            Set names of the arm, e.g. ``["demographics", "gp", "hospital"]``.
        drop_duplicates : bool
            Leave out a column whose values (missing ones included) equal an
            earlier column's in every person, e.g. ``gp__lab_egfr_n`` when eGFR is
            always reported with creatinine: exact duplicates make a Cox model
            singular. :meth:`duplicates` lists what was left out.

        Returns
        -------
        pandas.DataFrame
            Indexed by person id; missing values are left as NaN for the
            protocol's missing-data handler.
        """
        names = list(dict.fromkeys((["demographics"] if "demographics" in self else []) + sets))
        X = pd.concat([self[n] for n in names], axis=1)
        if drop_duplicates:
            X = X.drop(columns=list(self.duplicates(X)))
        return X

    @staticmethod
    def duplicates(X: pd.DataFrame) -> dict[str, str]:
        """Columns of ``X`` equal to an earlier column: {duplicate: the column kept}."""
        hashes = {c: int(pd.util.hash_pandas_object(X[c], index=False).sum()) for c in X}
        first: dict[int, list[str]] = {}
        out: dict[str, str] = {}
        for c in X.columns:
            for kept in first.get(hashes[c], []):
                if X[c].equals(X[kept]):
                    out[c] = kept
                    break
            else:
                first.setdefault(hashes[c], []).append(c)
        return out

    def missingness(self) -> pd.DataFrame:
        """Per feature: set, sector, missing count and percent, and persons."""
        rows = []
        for name, frame in self.frames.items():
            n = len(frame)
            miss = frame.isna().sum()
            for col in frame.columns:
                rows.append(
                    {
                        "feature": col,
                        "set": name,
                        "sector": self.sectors.get(name, name),
                        "missing": int(miss[col]),
                        "persons": n,
                        "percent": round(100.0 * float(miss[col]) / n, 2) if n else 0.0,
                    }
                )
        return pd.DataFrame(
            rows, columns=["feature", "set", "sector", "missing", "persons", "percent"]
        )

    def write(self, folder: str | Path) -> list[Path]:
        """Write one parquet file per set plus ``missingness.parquet``, atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [
            atomic_write_parquet(folder / f"features_{n}.parquet", f.reset_index())
            for n, f in self.frames.items()
        ]
        paths.append(atomic_write_parquet(folder / "missingness.parquet", self.missingness()))
        return paths


def _context(name: str, spec: FeatureSetSpec, protocol: Protocol) -> SetContext:
    lookback = spec.lookback_days or protocol.features.lookback_days
    return SetContext(name=name, prefix=PREFIXES[name], spec=spec, lookback_days=lookback)


def build_features(
    con: duckdb.DuckDBPyConnection,
    cohort: Cohort,
    protocol: Protocol,
    sets: list[str] | None = None,
) -> FeatureSets:
    """Build the protocol's feature sets for the cohort from the event store.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The event store (read-only is fine; temporary tables are dropped afterwards).
    cohort : Cohort
        From :func:`epi.cohort.build_cohort`.
    protocol : Protocol
        Reads ``features``.
    sets : list of str, optional
        Build only these sets (default: every set in ``features.sets`` except
        ``notes``, which the NLP stage adds with :meth:`FeatureSets.add_set`).

    Returns
    -------
    FeatureSets

    Raises
    ------
    CohortError
        A requested sector has no events in the store, or one of the set's code
        lists names a sector/vocabulary the store lacks.
    LeakageError
        If any event dated on or after a person's index date would enter a feature.
    """
    table = cohort.table
    wanted = [s for s in (sets or list(protocol.features.sets)) if s != "notes"]
    unknown = [s for s in wanted if s not in protocol.features.sets and s != "demographics"]
    if unknown:
        raise CohortError(
            f"feature sets {unknown} are not in the protocol's features.sets "
            f"({sorted(protocol.features.sets)})"
        )
    index_date = pd.to_datetime(table["index_date"])
    result = FeatureSets(frames={}, index_date=index_date)
    present = store_vocabularies(con)
    sectors_present = {s for s, _ in present}
    frame = pd.DataFrame(
        {
            "person_id": table.index.astype(str),
            "index_date": index_date.to_numpy(),
            "_ord": np.arange(len(table), dtype=np.int64),
        }
    )
    con.execute(f"DROP TABLE IF EXISTS {COHORT_VIEW}")
    con.register("_epi_fx_cohort_df", frame)
    try:
        con.execute(
            f"CREATE TEMP TABLE {COHORT_VIEW} AS SELECT person_id, "
            "CAST(index_date AS DATE) AS index_date, _ord FROM _epi_fx_cohort_df"
        )
        contexts: dict[str, SetContext] = {}
        for name in wanted:
            if name == "demographics":
                continue
            spec = protocol.features.sets[name]  # type: ignore[index]
            sector = SECTOR_OF_SET[name]
            if sector not in sectors_present:
                raise CohortError(
                    f"feature set '{name}' needs {sector} events, but the data hold none "
                    f"(sectors present: {sorted(sectors_present)}); remove '{name}' from "
                    "features.sets or load the sector's tables."
                )
            lists = list(spec.code_lists) + list((spec.indicators or {}).values())
            check_code_lists_in_store(present, lists, f"features.sets.{name}")
            contexts[name] = _context(name, spec, protocol)
        if contexts:
            prestage_events(con, [(ctx, SECTOR_OF_SET[n]) for n, ctx in contexts.items()])
        for name in wanted:
            if name == "demographics":
                result.frames[name] = demographic_features(table)
                result.sectors[name] = SECTOR_OF_SET[name]
                continue
            block = _BUILDERS[name](con, contexts[name], table.index)
            if not all(np.issubdtype(t, np.number) for t in block.dtypes):
                raise CohortError(f"feature set '{name}' produced non-numeric columns")
            result.frames[name] = block
            result.sectors[name] = SECTOR_OF_SET[name]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {EVENTS_VIEW}")
        con.execute(f"DROP TABLE IF EXISTS {COHORT_VIEW}")
        con.unregister("_epi_fx_cohort_df")
    return result
