"""Seeded sampling with PyMC's NUTS and nutpie."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytest

from epi.exceptions import ModelError
from epi.models.bayes import available_samplers, check_diagnostics, noncentred_effect, sample

from .test_references import POSTERIORDB, SCHOOLS_SIGMA, SCHOOLS_Y, schools_reference_model


def schools_model(tau_scale: float = 5.0) -> pm.Model:
    with pm.Model(coords={"school": [str(i) for i in range(8)]}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        theta = mu + noncentred_effect("school", "school", sigma_scale=tau_scale)
        pm.Normal("y", theta, SCHOOLS_SIGMA, observed=SCHOOLS_Y)
    return model


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    model = schools_model()
    kw = {"draws": 50, "tune": 50, "chains": 1, "cores": 1, "sampler": "pymc"}
    a = sample(model, seed=7, **kw).posterior["mu"].values
    b = sample(model, seed=7, **kw).posterior["mu"].values
    c = sample(model, seed=8, **kw).posterior["mu"].values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sampler": "stan"}, "sampler must be 'auto', 'pymc' or 'nutpie'"),
        ({"chains": 0}, "chains must be an integer >= 1"),
        ({"target_accept": 1.2}, r"target_accept must lie in \(0, 1\)"),
    ],
)
def test_bad_sampling_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        sample(schools_model(), seed=1, **kwargs)


@pytest.mark.slow
@pytest.mark.skipif("nutpie" not in available_samplers(), reason="nutpie is not installed")
def test_nutpie_matches_posteriordb() -> None:
    """nutpie on posteriordb's eight schools: mu and tau within 4 combined MCSEs."""
    idata = sample(
        schools_reference_model(), seed=3, draws=1000, tune=1000, chains=2, sampler="nutpie"
    )
    assert idata.attrs["epi_sampler"] == "nutpie"
    diag = check_diagnostics(idata, ["mu", "tau", "theta_trans"], warn=False)
    assert diag["divergences"] == 0 and diag["max_r_hat"] <= 1.01
    for name in ("mu", "tau"):
        post = idata.posterior[name]
        mcse = float(az.mcse(post, method="mean").to_array().values.squeeze())
        ref, ref_mcse = POSTERIORDB[name]
        assert abs(float(post.mean()) - ref) < 4 * np.hypot(mcse, ref_mcse), name
