"""Export the public reference data sets, with fixed predicted risks, for R.

Run from the repository root (needs lifelines and scikit-survival):

    .venv/bin/python tests/validation/reference/make_data.py
    Rscript tests/validation/reference/reference.R

Each CSV has ``time``, ``status`` (0 censored, 1 event, 2 competing event) and
two risk columns, ``risk_cox`` (1 - S(h | x) from a Cox model fitted with
lifelines, at the data set's first horizon) and ``risk_alt`` (a deliberately
miscalibrated transform of it), so R and Python score the very same numbers.
The risks are written with 17 significant digits. ``rossi.csv`` keeps its
covariates for the ``rms::validate`` comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from sksurv.datasets import (
    load_flchain,
    load_gbsg2,
    load_veterans_lung_cancer,
    load_whas500,
)

HERE = Path(__file__).parent

# data set -> horizons (in the data set's own time unit)
HORIZONS = {
    "rossi": [26.0, 45.0],  # weeks
    "gbsg2": [1095.0, 1825.0],  # days
    "whas500": [365.0, 1825.0],  # days
    "veterans": [90.0, 180.0],  # days
    "flchain_cr": [1826.0, 3652.0],  # days; 1 = circulatory death, 2 = other death
}


def _numeric(x: pd.DataFrame) -> pd.DataFrame:
    out = pd.get_dummies(x, drop_first=True, dtype=float)
    return out.astype(float)


def _risks(cov: pd.DataFrame, time: np.ndarray, status: np.ndarray, horizon: float):
    df = cov.copy()
    df["time"] = time
    df["event"] = (status == 1).astype(int)  # a competing event counts as censoring
    cph = CoxPHFitter().fit(df, "time", "event")
    surv = cph.predict_survival_function(cov, times=[horizon]).to_numpy().ravel()
    risk = np.clip(1.0 - surv, 1e-6, 1 - 1e-6)
    logit = np.log(risk / (1 - risk))
    alt = 1.0 / (1.0 + np.exp(-(0.7 * logit + 0.4)))
    return risk, alt


def main() -> None:
    sets: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]] = {}
    rossi = load_rossi()
    sets["rossi"] = (
        rossi.drop(columns=["week", "arrest"]).astype(float),
        rossi["week"].to_numpy(float),
        rossi["arrest"].to_numpy(int),
    )
    for name, loader, ev, tm in [
        ("gbsg2", load_gbsg2, "cens", "time"),
        ("whas500", load_whas500, "fstat", "lenfol"),
        ("veterans", load_veterans_lung_cancer, "Status", "Survival_in_days"),
    ]:
        x, y = loader()
        sets[name] = (_numeric(x), y[tm].astype(float), y[ev].astype(int))
    x, y = load_flchain()
    status = np.where(~y["death"], 0, np.where(x["chapter"] == "Circulatory", 1, 2))
    cov = x[["age", "sex", "kappa", "lambda"]]
    cov = _numeric(cov)
    sub = np.random.default_rng(20240501).choice(len(cov), size=2000, replace=False)
    sub.sort()
    sets["flchain_cr"] = (
        cov.iloc[sub].reset_index(drop=True),
        y["futime"][sub].astype(float),
        status[sub],
    )
    for name, (cov, time, status) in sets.items():
        risk, alt = _risks(cov, time, status, HORIZONS[name][0])
        out = pd.DataFrame({"time": time, "status": status, "risk_cox": risk, "risk_alt": alt})
        if name == "rossi":
            out = pd.concat([out, cov.reset_index(drop=True)], axis=1)
        out.to_csv(HERE / f"{name}.csv", index=False, float_format="%.17g")
        print(name, len(out), np.bincount(status))


if __name__ == "__main__":
    main()
