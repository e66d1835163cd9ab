"""Net reclassification and integrated discrimination improvement at a horizon.

Survival NRI (Pencina, Steyerberg & D'Agostino 2011, Stat Med 30:11-21,
"Kaplan–Meier" estimator). A person moves *up* when the new model puts them
in a higher risk category (categorical NRI, categories cut at the protocol's
``risk_groups``: ``[0, c1), [c1, c2), ..., [ck, 1]``) or simply gives a higher
risk (continuous NRI); *down* likewise; equal risk is neither. With ``F`` the
Kaplan–Meier risk of the event by the horizon (Aalen–Johansen cumulative
incidence of cause 1 when competing events occur), estimated in all persons,
among those moved up (``F_up``) and among those moved down (``F_down``),
and ``p_up``, ``p_down`` the shares moved::

    P(up | event)     = F_up p_up / F            P(up | non-event)   = (1 - F_up) p_up / (1 - F)
    P(down | event)   = F_down p_down / F        P(down | non-event) = (1 - F_down) p_down / (1 - F)
    NRI_event    = P(up | event) - P(down | event)
    NRI_nonevent = P(down | non-event) - P(up | non-event)

and ``NRI = NRI_event + NRI_nonevent``; the two components are always
reported separately (Kerr et al. 2014, Epidemiology 25:114). Without
censoring before the horizon these are the binary NRI of Pencina et al.
(2008, Stat Med 27:157).

IDI at the horizon (Pencina et al. 2008; censoring handled by inverse
probability weighting as in Uno et al. 2013, Stat Med 32:2430-2442, whose
``survIDINRI`` has the same target): the mean predicted risk among
persons with the event by the horizon and among those without, each mean
weighted by the inverse probability of censoring weights of
:mod:`epi.validation._estimators` (reverse Kaplan–Meier ``G``; ``1/G(T_i-)``
for an event of either kind by the horizon, ``1/G(h-)`` for persons
event-free through the horizon - followed beyond it or censored exactly at
it - and 0 for persons censored before it; persons with a competing event
count as non-events)::

    IDI_event    = mean_w(new | event) - mean_w(reference | event)
    IDI_nonevent = mean_w(reference | non-event) - mean_w(new | non-event)
    IDI          = IDI_event + IDI_nonevent
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from epi.exceptions import ValidationInputError
from epi.validation._checks import as_outcome, as_risk, check_horizon
from epi.validation._estimators import HorizonData, cumulative_incidence, prepare

FloatArray = NDArray[np.float64]


def check_cuts(cuts: ArrayLike) -> FloatArray:
    """Check categorical NRI cut-offs: increasing, distinct, strictly inside (0, 1)."""
    c = np.asarray(cuts, dtype=float).ravel()
    if c.size == 0:
        raise ValidationInputError(
            "risk_groups: no cut-off given; categorical NRI needs at least one risk "
            "threshold in (0, 1), e.g. [0.1, 0.2]."
        )
    bad = ~np.isfinite(c) | (c <= 0) | (c >= 1)
    if bad.any():
        raise ValidationInputError(
            f"risk_groups: {int(bad.sum())} cut-offs are not strictly between 0 and 1 "
            f"(first: {', '.join(f'{v:g}' for v in c[bad][:5])}); pass risks, not percentages."
        )
    if (np.diff(c) <= 0).any():
        raise ValidationInputError(
            f"risk_groups: cut-offs must increase strictly, got {c.tolist()}; sort them and "
            "drop duplicates."
        )
    return c


def _moves(hd: HorizonData, up: NDArray[np.bool_], down: NDArray[np.bool_]) -> dict[str, float]:
    n = up.size
    f_all = hd.observed_risk
    out: dict[str, float] = {}
    parts = {}
    for name, mask in (("up", up), ("down", down)):
        m = int(mask.sum())
        p = m / n
        f = cumulative_incidence(hd.duration[mask], hd.event[mask], hd.horizon) if m else 0.0
        parts[name] = (p, f)
    (p_up, f_up), (p_dn, f_dn) = parts["up"], parts["down"]
    if not 0.0 < f_all < 1.0:
        nan = float("nan")
        return {"event": nan, "nonevent": nan, "nri": nan}
    ev_up, ev_dn = f_up * p_up / f_all, f_dn * p_dn / f_all
    ne_up, ne_dn = (1 - f_up) * p_up / (1 - f_all), (1 - f_dn) * p_dn / (1 - f_all)
    out["event_up"], out["event_down"] = ev_up, ev_dn
    out["nonevent_up"], out["nonevent_down"] = ne_up, ne_dn
    out["event"] = ev_up - ev_dn
    out["nonevent"] = ne_dn - ne_up
    out["nri"] = out["event"] + out["nonevent"]
    return out


def _nri(
    hd: HorizonData, reference: FloatArray, new: FloatArray, cuts: FloatArray | None
) -> dict[str, float]:
    """NRI components on prepared data; ``cuts=None`` gives the continuous NRI."""
    if cuts is None:
        up, down = new > reference, new < reference
    else:
        c0 = np.searchsorted(cuts, reference, side="right")
        c1 = np.searchsorted(cuts, new, side="right")
        up, down = c1 > c0, c1 < c0
    return _moves(hd, up, down)


def _idi_weights(hd: HorizonData) -> tuple[FloatArray, FloatArray]:
    """IPCW weights of events and of non-events, each normalised to sum 1 (or 0)."""
    w_ev = hd.ipcw * hd.case
    w_ne = hd.ipcw * (hd.alive | hd.competing)
    s_ev, s_ne = w_ev.sum(), w_ne.sum()
    return (w_ev / s_ev if s_ev > 0 else w_ev * np.nan), (
        w_ne / s_ne if s_ne > 0 else w_ne * np.nan
    )


def _idi(
    hd: HorizonData,
    reference: FloatArray,
    new: FloatArray,
    weights: tuple[FloatArray, FloatArray] | None = None,
) -> dict[str, float]:
    w_ev, w_ne = _idi_weights(hd) if weights is None else weights
    delta = new - reference
    ev = float(np.dot(w_ev, delta))
    ne = float(-np.dot(w_ne, delta))
    return {"event": ev, "nonevent": ne, "idi": ev + ne}


def _prepared(duration, event, reference, new, horizon):
    t, e = as_outcome(duration, event)
    r0 = as_risk(reference, t.size, name="reference risk")
    r1 = as_risk(new, t.size, name="new risk")
    h = check_horizon(t, e, horizon, where="outcome")
    return prepare(t, e, h), r0, r1


def survival_nri(
    duration: ArrayLike,
    event: ArrayLike,
    reference: ArrayLike,
    new: ArrayLike,
    horizon: float,
    cuts: Sequence[float] | None = None,
) -> dict[str, float]:
    """Net reclassification improvement at the horizon (Kaplan–Meier based).

    Parameters
    ----------
    duration : array-like of float
        Time since index (> 0).
    event : array-like of int
        0 censored, 1 event, 2 competing event (a non-event for the NRI).
    reference, new : array-like of float
        Predicted risks of event 1 by ``horizon`` of the reference and the new model.
    horizon : float
        Same unit as ``duration``.
    cuts : sequence of float, optional
        Risk category cut-offs for the categorical NRI (a person at a cut-off
        belongs to the higher category); ``None`` gives the continuous
        ("category-free") NRI.

    Returns
    -------
    dict
        ``event`` and ``nonevent`` (the two components), ``nri`` (their sum)
        and the four probabilities ``event_up``, ``event_down``,
        ``nonevent_up``, ``nonevent_down``.

    Notes
    -----
    Pencina, Steyerberg & D'Agostino (2011), Stat Med 30:11-21; the
    estimator is stated in the module docstring.
    """
    hd, r0, r1 = _prepared(duration, event, reference, new, horizon)
    return _nri(hd, r0, r1, None if cuts is None else check_cuts(cuts))


def survival_idi(
    duration: ArrayLike,
    event: ArrayLike,
    reference: ArrayLike,
    new: ArrayLike,
    horizon: float,
) -> dict[str, float]:
    """Integrated discrimination improvement at the horizon (IPCW weighted means).

    Parameters are as for :func:`survival_nri` (without ``cuts``).

    Returns
    -------
    dict
        ``event`` (rise of the mean risk among events), ``nonevent`` (fall of
        the mean risk among non-events) and ``idi`` (their sum).
    """
    hd, r0, r1 = _prepared(duration, event, reference, new, horizon)
    return _idi(hd, r0, r1)
