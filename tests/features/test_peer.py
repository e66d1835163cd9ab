"""The benchmark's plain-pandas peer computes the same values as epi's SQL."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.bench_cohort import make_store, pandas_features
from epi.cohort import build_cohort
from epi.features import build_features
from tests.features.test_features import _build


def _compare(con, cohort, protocol, features) -> None:
    events = con.execute("SELECT * FROM events").df()
    windows = {
        name: {k: tuple(v) for k, v in (spec.windows or {"1y": (-365, 0)}).items()}
        for name, spec in protocol.features.sets.items()
    }
    table = cohort.table.assign(index_date=pd.to_datetime(cohort.table["index_date"]))
    peer = pandas_features(events, table, protocol.features.lookback_days, windows)
    ours = features.design(["gp", "hospital", "municipal"], drop_duplicates=False)[peer.columns]
    assert peer.shape[1] > 40
    np.testing.assert_allclose(ours.to_numpy(float), peer.to_numpy(float), atol=1e-9)


def test_peer_matches_on_the_hand_built_store() -> None:
    cohort, features, con, protocol = _build()
    _compare(con, cohort, protocol, features)


def test_peer_matches_on_the_benchmark_store(tmp_path) -> None:
    import duckdb

    from bench.bench_cohort import bench_protocol

    make_store(tmp_path / "b.duckdb", 1500, per_person=60)
    con = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    protocol = bench_protocol()
    cohort = build_cohort(con, protocol)
    _compare(con, cohort, protocol, build_features(con, cohort, protocol))
