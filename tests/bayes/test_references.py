"""Reference posteriors: eight schools (non-centred) and the radon varying-intercept model."""

from __future__ import annotations

import functools
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from epi.models.bayes import check_diagnostics, noncentred_effect, sample

REF = Path(__file__).parent / "reference"

SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])

#: posteriordb ``eight_schools-eight_schools_noncentered`` reference posterior
#: (stan-dev/posteriordb, reference_posteriors/summary_statistics/mean/mean/,
#: commit e3545336): mean and Monte Carlo SE of the mean. Model: mu ~ N(0, 5),
#: tau ~ half-Cauchy(0, 5), theta_trans ~ N(0, 1), theta = mu + tau theta_trans.
POSTERIORDB = {
    "mu": (4.41051833695493, 0.0330374705950917),
    "tau": (3.60205952364059, 0.0318615135640706),
    "theta[0]": (6.15050229334425, 0.0557375282295219),
    "theta[6]": (6.31716975886893, 0.0498766794075794),
}


@functools.cache
def eight_schools_exact() -> dict[str, tuple[float, float]]:
    """Exact posterior mean and SD of mu and tau by quadrature.

    With theta integrated out, ``y_j ~ N(mu, sigma_j^2 + tau^2)``; the joint
    density of (mu, tau) is evaluated on a fine grid (tau to 400, where the
    half-Cauchy tail times the likelihood, ~tau^-10, is negligible).
    """
    mu = np.linspace(-40, 50, 721)
    tau = np.concatenate([np.linspace(1e-6, 40, 1601), np.linspace(40.05, 400, 1200)])
    M, T = np.meshgrid(mu, tau, indexing="ij")
    s = np.sqrt(SCHOOLS_SIGMA[None, None, :] ** 2 + T[..., None] ** 2)
    loglik = stats.norm.logpdf(SCHOOLS_Y[None, None, :], M[..., None], s).sum(axis=-1)
    logp = loglik + stats.norm.logpdf(M, 0, 5) + stats.halfcauchy.logpdf(T, scale=5)
    w = np.exp(logp - logp.max())
    # trapezoid weights on the non-uniform tau grid and uniform mu grid
    wt = np.gradient(tau)
    w = w * wt[None, :]
    w /= w.sum()
    out = {}
    for name, grid in (("mu", M), ("tau", T)):
        m = float((w * grid).sum())
        out[name] = (m, float(np.sqrt((w * (grid - m) ** 2).sum())))
    return out


def _mcse_sd(draws: np.ndarray) -> float:
    """MCSE of the posterior SD by the delta method: ESS of the squared deviations."""
    dev2 = (draws - draws.mean()) ** 2
    ess = float(az.ess(dev2, method="mean"))
    mcse_var = dev2.std() / np.sqrt(ess)
    return float(mcse_var / (2 * np.sqrt(dev2.mean())))


def schools_reference_model() -> pm.Model:
    """posteriordb's ``eight_schools_noncentered`` in PyMC, with named coords."""
    coords = {"school": [str(i) for i in range(8)]}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", beta=5.0)
        z = pm.Normal("theta_trans", 0.0, 1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * z, dims="school")
        pm.Normal("y", theta, SCHOOLS_SIGMA, observed=SCHOOLS_Y, dims="school")
    return model


@pytest.fixture(scope="module")
def schools_idata() -> az.InferenceData:
    return sample(
        schools_reference_model(),
        seed=8,
        draws=2000,
        tune=1000,
        chains=2,
        cores=1,
        sampler="pymc",
        target_accept=0.95,
    )


def test_eight_schools_quadrature_reproduces_posteriordb() -> None:
    """The independent exact reference agrees with posteriordb's means (within 4 MCSE)."""
    exact = eight_schools_exact()
    for name in ("mu", "tau"):
        mean, mcse = POSTERIORDB[name]
        assert abs(exact[name][0] - mean) < 4 * mcse, (name, exact[name], mean)


@pytest.mark.parametrize("name", ["mu", "tau", "theta[0]", "theta[6]"])
def test_eight_schools_means_match_posteriordb(schools_idata: az.InferenceData, name: str) -> None:
    """|epi - posteriordb| < 4 sqrt(MCSE_epi^2 + MCSE_ref^2): 4 SEs of Monte Carlo error."""
    var, _, idx = name.partition("[")
    post = schools_idata.posterior[var]
    if idx:
        post = post.isel(school=int(idx.rstrip("]")))
    mean = float(post.mean())
    mcse = float(az.mcse(post, method="mean").to_array().values.squeeze())
    ref, ref_mcse = POSTERIORDB[name]
    assert abs(mean - ref) < 4 * np.hypot(mcse, ref_mcse), (name, mean, ref, mcse)


@pytest.mark.parametrize("name", ["mu", "tau"])
def test_eight_schools_mean_and_sd_match_quadrature(
    schools_idata: az.InferenceData, name: str
) -> None:
    """Mean and SD within 4 Monte Carlo SEs of the exact values."""
    exact_mean, exact_sd = eight_schools_exact()[name]
    post = schools_idata.posterior[name]
    mcse_mean = float(az.mcse(post, method="mean").to_array().values.squeeze())
    mcse_sd = _mcse_sd(post.values)
    assert abs(float(post.mean()) - exact_mean) < 4 * mcse_mean
    assert abs(float(post.std()) - exact_sd) < 4 * mcse_sd


def test_eight_schools_diagnostics_pass(schools_idata: az.InferenceData) -> None:
    diag = check_diagnostics(schools_idata, ["mu", "tau", "theta_trans"], warn=False)
    assert diag["divergences"] == 0
    assert diag["max_r_hat"] <= 1.01
    assert diag["min_ess_bulk"] >= 400 and diag["min_ess_tail"] >= 400
    assert min(diag["bfmi"]) >= 0.3


@pytest.fixture(scope="module")
def radon() -> pd.DataFrame:
    return pd.read_csv(REF / "radon.csv")


def test_radon_varying_intercept_matches_mixedlm_reml(radon: pd.DataFrame) -> None:
    """Posterior means vs statsmodels MixedLM (REML) for y = a + b floor + u_county + e.

    Priors are flat-ish relative to the data (N(0, 10) for a and b,
    HalfNormal(5) for both SDs), so posterior means and REML estimates differ
    only by O(1/J) terms (J = 85 counties) and the right skew of the SD
    posteriors. Tolerances: the fixed effects within 0.2 posterior SDs; the
    SDs within 0.5 posterior SD, plus 4 Monte Carlo SEs in every case.
    """
    fit = smf.mixedlm("log_radon ~ floor", radon, groups=radon["county"]).fit(reml=True)
    ref = {
        "a": float(fit.fe_params["Intercept"]),
        "b": float(fit.fe_params["floor"]),
        "sigma_county": float(np.sqrt(fit.cov_re.iloc[0, 0])),
        "sigma_y": float(np.sqrt(fit.scale)),
    }
    counties = sorted(radon["county"].unique())
    with pm.Model(coords={"county": [str(c) for c in counties]}) as model:
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        u = noncentred_effect("county", "county", sigma_scale=5.0)
        sigma_y = pm.HalfNormal("sigma_y", 5.0)
        mu = a + b * radon["floor"].to_numpy() + u[radon["county"].to_numpy()]
        pm.Normal("y", mu, sigma_y, observed=radon["log_radon"].to_numpy())
    idata = sample(model, seed=919, draws=1000, tune=1000, chains=2, cores=1, sampler="pymc")
    diag = check_diagnostics(idata, ["a", "b", "sigma_county", "sigma_y"], where="radon")
    assert diag["ok"], diag["failures"]
    tol_sd = {"a": 0.2, "b": 0.2, "sigma_county": 0.5, "sigma_y": 0.5}
    for name, value in ref.items():
        post = idata.posterior[name]
        mcse = float(az.mcse(post, method="mean").to_array().values.squeeze())
        diff = abs(float(post.mean()) - value)
        assert diff < tol_sd[name] * float(post.std()) + 4 * mcse, (name, float(post.mean()), value)
