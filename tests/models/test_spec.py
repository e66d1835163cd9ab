"""Exported specifications recompute the fitted models' risks from the file alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from epi.exceptions import ModelError
from epi.models import (
    CauseSpecificCoxModel,
    CoxModel,
    FlexibleParametricModel,
    RandomSurvivalForestModel,
    WeibullModel,
    export_model_spec,
    load_model_spec,
    predict_from_spec,
)


def _no_nan(token: str) -> None:
    raise AssertionError(f"non-standard JSON constant {token}")


def test_cox_with_splines_and_strata(rossi, tmp_path) -> None:
    X, y = rossi
    m = CoxModel(splines={"age": 4, "prio": 3}, strata=["wexp", "mar"], penalizer=0.01).fit(X, y)
    path = export_model_spec(m, tmp_path / "cox.json", horizons=[26, 52])
    spec = json.loads(path.read_text(), parse_constant=_no_nan)  # strict JSON
    assert spec["kind"] == "cox"
    assert spec["design"]["splines"]["age"]["knots"] == list(m.knots_["age"])
    assert spec["model"]["centring"]["age'"] == m.means_["age'"]
    assert set(spec["model"]["baseline_at_horizons"]) == set(m.baseline_)
    assert spec["formula"].startswith("risk(h) = 1 - exp(-H0_s(h) * exp(lp))")
    assert "age' = [(age - " in spec["formula"]
    for h in (0.5, 10, 26, 37.5, 52):
        np.testing.assert_allclose(predict_from_spec(path, X, h), m.predict_risk(X, h), atol=1e-10)
    # plain mapping of arrays works too (numpy only)
    cols = {c: X[c].to_numpy() for c in X.columns}
    np.testing.assert_allclose(predict_from_spec(spec, cols, 52), m.predict_risk(X, 52), atol=1e-10)


def test_cause_specific_cox(pbc, tmp_path) -> None:
    X, y = pbc
    m = CauseSpecificCoxModel(splines={"age": 3}, strata=["edema"]).fit(X, y)
    assert set(m.cause1_.baseline_) == {"edema=0", "edema=0.5", "edema=1"}
    path = export_model_spec(m, tmp_path / "csc.json", horizons=[1826])
    for h in (365, 1826, 3652):
        np.testing.assert_allclose(predict_from_spec(path, X, h), m.predict_risk(X, h), atol=1e-10)


def test_weibull(rossi, tmp_path) -> None:
    X, y = rossi
    m = WeibullModel(splines={"age": 3}).fit(X, y)
    path = export_model_spec(m, tmp_path / "w.json")
    np.testing.assert_allclose(predict_from_spec(path, X, 52), m.predict_risk(X, 52), atol=1e-10)


def test_flexible_parametric(rossi, tmp_path) -> None:
    X, y = rossi
    m = FlexibleParametricModel(df=3, splines={"age": 3}).fit(X, y)
    path = export_model_spec(m, tmp_path / "rp.json")
    for h in (3, 26, 52):
        np.testing.assert_allclose(predict_from_spec(path, X, h), m.predict_risk(X, h), atol=1e-10)


def test_unsupported_and_malformed(rossi, tmp_path) -> None:
    X, y = rossi
    rsf = RandomSurvivalForestModel(param_grid={"min_samples_leaf": [10]}, n_estimators=5)
    with pytest.raises(ModelError, match="cannot export a RandomSurvivalForestModel"):
        export_model_spec(rsf.fit(X, y), tmp_path / "rsf.json")
    assert not (tmp_path / "rsf.json").exists()
    with pytest.raises(ModelError, match="not an epi model specification"):
        load_model_spec({"format": "other"})
    spec = json.loads(export_model_spec(CoxModel().fit(X, y), tmp_path / "c.json").read_text())
    with pytest.raises(ModelError, match="lacks column 'prio'"):
        predict_from_spec(spec, X.drop(columns=["prio"]), 52)
    with pytest.raises(ModelError, match="horizon must be finite and > 0"):
        predict_from_spec(spec, X, 0)
