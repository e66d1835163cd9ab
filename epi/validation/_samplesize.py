"""Minimum sample size for developing a survival prediction model (Riley et al.).

The three criteria of Riley et al. for a time-to-event outcome, computed as
R package ``pmsampsize`` 1.1.3 does in ``pmsampsize(type = "s", ...)``
(``R/pmsampsize_surv.R``):

1. small overfitting: expected global shrinkage of the predictor effects
   >= ``shrinkage`` (default 0.9),
   ``n1 = ceil(p / ((S - 1) * log(1 - R2cs / S)))``;
2. small optimism: an absolute difference <= 0.05 between the apparent and
   the optimism-adjusted Nagelkerke R², that is criterion 1 with the
   shrinkage ``S2 = R2cs / (R2cs + 0.05 * max R2cs)``;
3. a precise estimate of the overall risk by ``timepoint``: the upper limit
   of the 95% confidence interval of the risk ``1 - exp(-rate * t)``, with
   ``rate +/- 1.96 * sqrt(rate / person_time)``, lies within ``mmoe``
   (default 0.05) of the risk.

The maximum Cox-Snell R² is that of pmsampsize: the null log-likelihood of an
exponential model with time measured in units of the mean follow-up, at
pmsampsize's fixed n = 10000,
``E = ceil(rate * meanfup * 10000)``,
``lnLnull = E * log(E / 10000) - E``,
``max R2cs = 1 - exp(2 * lnLnull / 10000)``.

The one difference from pmsampsize: pmsampsize does not solve criterion 3 for
n. It prints ``max(n1, n2)`` in its "Criteria 3 *" row and reports the
confidence interval of the risk at that n. Here criterion 3 reports the n it
needs on its own (the smallest n whose margin is <= ``mmoe``), the minimum is
``max(n1, n2, n3)`` (pmsampsize's minimum whenever its interval meets the
margin, as in all its examples) and the interval is reported at the minimum.

References
----------
Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for
developing a clinical prediction model. BMJ 2020;368:m441.

Riley RD, Snell KIE, Ensor J, et al. Minimum sample size for developing a
multivariable prediction model: PART II - binary and time-to-event outcomes.
Stat Med 2019;38:1276-1296 (correction Stat Med 2019;38:5672).

Ensor J, Martin EC, Riley RD. pmsampsize: Sample Size for Development of a
Prediction Model. R package version 1.1.3 (2023).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scipy.optimize import brentq

from epi.exceptions import ValidationInputError

__all__ = [
    "SampleSize",
    "SampleSizeCriterion",
    "expected_shrinkage",
    "riley_survival",
    "rsquared_cs_from_lr",
]

#: pmsampsize's arbitrary number of persons for the maximum Cox-Snell R².
NULL_MODEL_N = 10000
#: Criterion 2: largest acceptable apparent minus adjusted Nagelkerke R².
R2_DIFFERENCE = 0.05
#: Normal quantile pmsampsize uses for the 95% interval of the overall risk.
Z95 = 1.96


@dataclass(frozen=True)
class SampleSizeCriterion:
    """One of Riley's criteria: what it needs and whether the data meet it.

    Attributes
    ----------
    number : int
        1 (global shrinkage), 2 (optimism in Nagelkerke R²) or 3 (precise
        overall risk by the timepoint).
    label : str
        The criterion in words, with its target.
    n : int
        Persons the criterion needs.
    events : float
        Events expected among them, ``n * rate * meanfup``.
    epp : float
        Events per candidate predictor parameter, ``events / parameters``.
    shrinkage : float or None
        The global shrinkage the criterion targets (criteria 1 and 2).
    meets : bool or None
        Whether ``n_available`` and ``events_available`` (those given) meet
        the criterion; None when neither was given.
    max_parameters : int or None
        Criteria 1 and 2: the most candidate parameters the available data
        support under this criterion; None for criterion 3 (it does not
        depend on the number of parameters) or when nothing was given.
    """

    number: int
    label: str
    n: int
    events: float
    epp: float
    shrinkage: float | None
    meets: bool | None = None
    max_parameters: int | None = None


@dataclass(frozen=True)
class SampleSize:
    """Riley's minimum sample size for a survival prediction model.

    Attributes
    ----------
    parameters, rsquared_cs, rate, timepoint, meanfup, shrinkage, mmoe
        The inputs (see :func:`riley_survival`).
    max_rsquared_cs : float
        The largest Cox-Snell R² possible at this event rate and follow-up.
    nagelkerke_r2 : float
        ``rsquared_cs / max_rsquared_cs``.
    criteria : tuple of SampleSizeCriterion
        Criteria 1, 2 and 3, in that order.
    n : int
        The minimum number of persons: the largest n of the criteria.
    events : float
        Events expected among them, ``n * rate * meanfup`` (pmsampsize
        prints it rounded up).
    epp : float
        Events per candidate parameter at the minimum.
    final_shrinkage : float
        The larger of the shrinkage targets of criteria 1 and 2.
    person_time : float
        Follow-up at the minimum, ``n * meanfup`` rounded to 0.1 (as
        pmsampsize), in the unit of ``meanfup``.
    risk : float
        Overall risk by ``timepoint``, ``1 - exp(-rate * timepoint)``.
    risk_lower, risk_upper : float
        pmsampsize's 95% confidence interval of ``risk`` at the minimum n.
    risk_margin : float
        ``risk_upper - risk`` (criterion 3 asks for <= ``mmoe``).
    n_available, events_available : int or None
        The data at hand, when given.
    meets : bool or None
        Whether the data at hand meet all three criteria.
    max_parameters : int or None
        The most candidate parameters the data at hand support under
        criteria 1 and 2 together.
    """

    parameters: int
    rsquared_cs: float
    rate: float
    timepoint: float
    meanfup: float
    shrinkage: float
    mmoe: float
    max_rsquared_cs: float
    nagelkerke_r2: float
    criteria: tuple[SampleSizeCriterion, ...]
    n: int
    events: float
    epp: float
    final_shrinkage: float
    person_time: float
    risk: float
    risk_lower: float
    risk_upper: float
    risk_margin: float
    n_available: int | None = None
    events_available: int | None = None
    meets: bool | None = None
    max_parameters: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready types (criteria as a list of dicts)."""
        out: dict[str, Any] = {
            "method": "Riley et al. (BMJ 2020; Stat Med 2019) survival outcome, "
            'as R pmsampsize 1.1.3 type = "s"',
        }
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "criteria":
                value = [{k: getattr(c, k) for k in c.__dataclass_fields__} for c in value]
            out[name] = value
        return out

    def summary(self) -> str:
        """A small aligned table in the manner of pmsampsize's print.

        Returns
        -------
        str
            Several lines; the last is ``Minimum sample size required: N
            persons, E events (EPP x.xx)`` with E rounded up.
        """
        available = self.n_available is not None or self.events_available is not None
        head = f"{'Criterion':<38} {'Shrinkage':>9} {'Required n':>10} {'Events':>7} {'EPP':>7}"
        rows = [head + ("  Available" if available else "")]
        for c in self.criteria:
            shrink = "-" if c.shrinkage is None else f"{c.shrinkage:.3f}"
            line = (
                f"{c.number} {c.label:<36} {shrink:>9} {c.n:>10} "
                f"{math.ceil(c.events - 1e-9):>7} {c.epp:>7.2f}"
            )
            if available:
                line += f"  {'meets' if c.meets else 'too few':>9}"
            rows.append(line)
        rows.append(
            f"{'Final':<38} {self.final_shrinkage:>9.3f} {self.n:>10} "
            f"{math.ceil(self.events - 1e-9):>7} {self.epp:>7.2f}"
        )
        lines = [
            f"Riley et al. minimum sample size, survival outcome: {self.parameters} candidate "
            f"parameters, R²_CS {_g(self.rsquared_cs)} (max {self.max_rsquared_cs:.3f}, "
            f"Nagelkerke {self.nagelkerke_r2:.3f}), event rate {_g(self.rate)}, mean "
            f"follow-up {_g(self.meanfup)}, timepoint {_g(self.timepoint)}",
            "",
            *rows,
            "",
            f"95% CI for the overall risk by t = {_g(self.timepoint)} at n = {self.n}: "
            f"{self.risk_lower:.3f} to {self.risk_upper:.3f} (risk {self.risk:.3f}, margin "
            f"{self.risk_margin:.4f}); {_g(self.person_time)} person-time of follow-up",
        ]
        if available:
            have = ", ".join(
                f"{k} {v}"
                for k, v in (("n", self.n_available), ("events", self.events_available))
                if v is not None
            )
            verdict = "meet all three criteria" if self.meets else "do not meet all criteria"
            lines.append(
                f"Available data ({have}) {verdict}; they support at most "
                f"{self.max_parameters} candidate parameters under criteria 1 and 2"
            )
        lines.append(
            f"Minimum sample size required: {self.n} persons, "
            f"{math.ceil(self.events - 1e-9)} events (EPP {self.epp:.2f})"
        )
        return "\n".join(lines)


def _g(x: float) -> str:
    return f"{x:.10g}"


# ----------------------------------------------------------------------------- checks


def _int(value: Any, name: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationInputError(
            f"{name} must be a whole number (int) >= {low}, got {value!r} ({type(value).__name__})."
        )
    value = int(value)
    if value < low:
        raise ValidationInputError(f"{name} must be >= {low}, got {value}.")
    return value


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationInputError(
            f"{name} must be a number, got {value!r} ({type(value).__name__})."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValidationInputError(f"{name} must be a finite number, got {value}.")
    return value


def _positive(value: Any, name: str, what: str) -> float:
    x = _real(value, name)
    if x <= 0:
        raise ValidationInputError(f"{name} must be > 0 ({what}), got {x:g}.")
    return x


def _fraction(value: Any, name: str, what: str) -> float:
    x = _real(value, name)
    if not 0 < x < 1:
        raise ValidationInputError(f"{name} must be > 0 and < 1 ({what}), got {x:g}.")
    return x


# ------------------------------------------------------------------------------ maths


def _n_for_shrinkage(parameters: int, rsquared_cs: float, shrinkage: float) -> int:
    """Riley's n for an expected shrinkage (pmsampsize criteria 1 and 2)."""
    return math.ceil(parameters / ((shrinkage - 1) * math.log(1 - rsquared_cs / shrinkage)))


def _max_rsquared_cs(rate: float, meanfup: float) -> float:
    """pmsampsize's maximum Cox-Snell R² (exponential null model, n = 10000)."""
    n = NULL_MODEL_N
    events = math.ceil(rate * (meanfup * n))
    ln_l_null = events * math.log(events / n) - events
    return 1 - math.exp(2 * ln_l_null / n)


def _risk_interval(
    rate: float, timepoint: float, meanfup: float, n: int
) -> tuple[float, float, float, float]:
    """Risk by ``timepoint`` and pmsampsize's 95% interval at ``n`` persons.

    Returns ``(risk, lower, upper, person_time)``.
    """
    person_time = round(meanfup * n, 1)
    half = Z95 * math.sqrt(rate / person_time) if person_time > 0 else math.inf
    upper = 1 - math.exp(-(rate + half) * timepoint)
    lower = 1 - math.exp(-(rate - half) * timepoint) if math.isfinite(half) else -math.inf
    risk = 1 - math.exp(timepoint * (rate * -1))
    return risk, lower, upper, person_time


def _n_for_margin(rate: float, timepoint: float, meanfup: float, mmoe: float) -> int:
    """Smallest n whose interval's upper limit is within ``mmoe`` of the risk."""

    def ok(n: int) -> bool:
        risk, _, upper, _ = _risk_interval(rate, timepoint, meanfup, n)
        return upper - risk <= mmoe

    survival = math.exp(-rate * timepoint)
    if survival - mmoe <= 0:  # the margin can never exceed the survival
        return 1
    half_max = -math.log(survival - mmoe) / timepoint - rate
    person_time = rate * (Z95 / half_max) ** 2
    n = max(1, math.ceil(person_time / meanfup))
    while n > 1 and ok(n - 1):  # rounding of person-time to 0.1, float error
        n -= 1
    while not ok(n):
        n += 1
    return n


def expected_shrinkage(*, parameters: int, rsquared_cs: float, n: int) -> float:
    """Expected global shrinkage of a model developed on ``n`` persons.

    Solves Riley's criterion-1 relation ``n = p / ((S - 1) log(1 - R2cs / S))``
    for the shrinkage ``S`` (Riley et al. Stat Med 2019, criterion (i), with
    the anticipated adjusted Cox-Snell R²): the inverse of criterion 1.

    Parameters
    ----------
    parameters : int
        Candidate predictor parameters, >= 1.
    rsquared_cs : float
        Anticipated (optimism-adjusted) Cox-Snell R², in (0, 1).
    n : int
        Persons in the development data, >= 1.

    Returns
    -------
    float
        The expected shrinkage, in (``rsquared_cs``, 1).

    Raises
    ------
    ValidationInputError
        On a non-integer ``parameters`` or ``n``, or values out of range.
    """
    p = _int(parameters, "parameters", low=1)
    r2 = _fraction(rsquared_cs, "rsquared_cs", "anticipated Cox-Snell R²")
    n = _int(n, "n", low=1)
    top = math.log(1 - r2)  # u = log(1 - R2/S) at S = 1

    def h(u: float) -> float:  # (S - 1) u - p / n with S = R2 / (1 - e^u)
        return (r2 / -math.expm1(u) - 1) * u - p / n

    step = 1.0
    while h(top - step) <= 0:
        step *= 2
    u = brentq(h, top - step, top, xtol=1e-15, rtol=4 * 2.0**-52, maxiter=500)
    return r2 / -math.expm1(u)


def rsquared_cs_from_lr(lr_statistic: float, n: int) -> float:
    """Cox-Snell R² of an existing model from its likelihood-ratio statistic.

    Riley et al. (Stat Med 2019; BMJ 2020) anticipate the
    Cox-Snell R² of a new model from an existing model's likelihood ratio
    (chi-squared) statistic ``LR`` on ``n`` persons:
    ``R2cs = 1 - exp(-LR / n)``. For a Cox model ``LR`` is twice the
    difference in partial log-likelihood between the fitted and the null
    model (lifelines: ``log_likelihood_ratio_test().test_statistic``).

    This is the *apparent* R² of that model; when it comes from the model's
    own development data Riley et al. advise shrinking it first (multiply by
    a shrinkage estimate such as ``1 - p / LR``) before passing it as
    ``rsquared_cs`` to :func:`riley_survival`.

    Parameters
    ----------
    lr_statistic : float
        Likelihood-ratio statistic, >= 0.
    n : int
        Persons the model was fitted on, >= 1.

    Returns
    -------
    float
        Cox-Snell R², in [0, 1).

    Raises
    ------
    ValidationInputError
        On a negative or non-finite statistic or an ``n`` < 1.
    """
    lr = _real(lr_statistic, "lr_statistic")
    if lr < 0:
        raise ValidationInputError(
            f"lr_statistic must be >= 0 (a likelihood-ratio chi-squared statistic), got {lr:g}."
        )
    n = _int(n, "n", low=1)
    return -math.expm1(-lr / n)


def riley_survival(
    *,
    parameters: int,
    rsquared_cs: float | None = None,
    c_statistic: float | None = None,
    rate: float,
    timepoint: float,
    meanfup: float,
    shrinkage: float = 0.9,
    mmoe: float = 0.05,
    n_available: int | None = None,
    events_available: int | None = None,
) -> SampleSize:
    """Riley's minimum sample size for developing a survival prediction model.

    Computes criteria 1 and 2 and the maximum Cox-Snell R² exactly as R
    ``pmsampsize(type = "s", csrsquared = rsquared_cs, parameters = ...,
    rate = ..., timepoint = ..., meanfup = ..., shrinkage = ...)`` 1.1.3 does;
    criterion 3 is solved for n (see the module notes).

    Parameters
    ----------
    parameters : int
        Candidate predictor parameters (not predictors: a categorical
        predictor with k levels counts k - 1, a spline several), >= 1.
    rsquared_cs : float
        Anticipated optimism-adjusted Cox-Snell R² of the new model; > 0 and
        below the maximum R² for this rate and follow-up. See
        :func:`rsquared_cs_from_lr`.
    c_statistic : float, optional
        Not supported for survival outcomes: pmsampsize converts a
        C-statistic to R²_CS for binary outcomes only. Giving it raises an
        error that asks for ``rsquared_cs``.
    rate : float
        Overall event rate per person per time unit, > 0.
    timepoint : float
        Time of interest for prediction (same unit as ``rate``), > 0.
    meanfup : float
        Anticipated mean follow-up per person (same unit), > 0.
    shrinkage : float, default 0.9
        Target expected global shrinkage, > ``rsquared_cs`` and < 1.
    mmoe : float, default 0.05
        Largest acceptable margin of error of the overall risk by
        ``timepoint`` (absolute risk), > 0 and < 1.
    n_available, events_available : int, optional
        Persons (>= 1) and events (>= 0, <= persons) at hand. When given, the
        result says whether they meet each criterion and how many candidate
        parameters they support under criteria 1 and 2 (events count through
        the largest n they make up at this ``rate * meanfup``).

    Returns
    -------
    SampleSize

    Raises
    ------
    ValidationInputError
        On any input of the wrong type or out of range; the message names the
        argument, the bound and the value.

    Examples
    --------
    >>> r = riley_survival(parameters=30, rsquared_cs=0.051, rate=0.065,
    ...                    timepoint=2, meanfup=2.07)
    >>> r.n, round(r.events, 1), round(r.epp, 2)
    (5143, 692.0, 23.07)
    """
    return _riley_survival(
        parameters=parameters,
        rsquared_cs=rsquared_cs,
        c_statistic=c_statistic,
        rate=rate,
        timepoint=timepoint,
        meanfup=meanfup,
        shrinkage=shrinkage,
        mmoe=mmoe,
        n_available=n_available,
        events_available=events_available,
        names={},
    )


def _riley_survival(
    *,
    parameters: Any,
    rsquared_cs: Any,
    c_statistic: Any,
    rate: Any,
    timepoint: Any,
    meanfup: Any,
    shrinkage: Any,
    mmoe: Any,
    n_available: Any,
    events_available: Any,
    names: Mapping[str, str],
) -> SampleSize:
    """:func:`riley_survival`, naming the arguments as ``names`` says (CLI options)."""

    def nm(arg: str) -> str:
        return names.get(arg, arg)

    if c_statistic is not None:
        raise ValidationInputError(
            f"{nm('c_statistic')} is not supported for a survival outcome: pmsampsize converts "
            "a C-statistic to the Cox-Snell R² for binary outcomes only; give the anticipated "
            f"Cox-Snell R² as {nm('rsquared_cs')} instead (for an existing model, "
            "1 - exp(-LR/n) from its likelihood-ratio statistic: rsquared_cs_from_lr)."
        )
    if rsquared_cs is None:
        raise ValidationInputError(
            f"{nm('rsquared_cs')} is required: the anticipated Cox-Snell R² of the new model "
            "(for an existing model, 1 - exp(-LR/n) from its likelihood-ratio statistic: "
            "rsquared_cs_from_lr)."
        )
    p = _int(parameters, nm("parameters"), low=1)
    rate = _positive(rate, nm("rate"), "events per person per time unit")
    timepoint = _positive(timepoint, nm("timepoint"), "time of interest for prediction")
    meanfup = _positive(meanfup, nm("meanfup"), "mean follow-up per person")
    shrinkage = _fraction(shrinkage, nm("shrinkage"), "target global shrinkage")
    mmoe = _fraction(mmoe, nm("mmoe"), "margin of error of the overall risk")
    r2 = _real(rsquared_cs, nm("rsquared_cs"))
    max_r2 = _max_rsquared_cs(rate, meanfup)
    if max_r2 <= 0:
        raise ValidationInputError(
            f"{nm('rate')} x {nm('meanfup')} = {rate * meanfup:g} events per person gives no "
            f"positive maximum Cox-Snell R² ({max_r2:.4g}); it must be below e (about 2.718) "
            "- check that rate is per person per time unit of meanfup."
        )
    if not 0 < r2 < max_r2:
        raise ValidationInputError(
            f"{nm('rsquared_cs')} must be > 0 and < {max_r2:.6g} (the maximum Cox-Snell R² at "
            f"{nm('rate')} {rate:g} and {nm('meanfup')} {meanfup:g}), got {r2:g}."
        )
    if shrinkage <= r2:
        raise ValidationInputError(
            f"{nm('shrinkage')} must be > {nm('rsquared_cs')} ({r2:g}) for criterion 1 to be "
            f"defined, got {shrinkage:g}."
        )
    n_av = None if n_available is None else _int(n_available, nm("n_available"), low=1)
    e_av = (
        None if events_available is None else _int(events_available, nm("events_available"), low=0)
    )
    if n_av is not None and e_av is not None and e_av > n_av:
        raise ValidationInputError(
            f"{nm('events_available')} must be <= {nm('n_available')} ({n_av}) - one event per "
            f"person at most, got {e_av}."
        )

    per_person = rate * meanfup
    nagelkerke = r2 / max_r2
    s2 = r2 / (r2 + R2_DIFFERENCE * max_r2)
    n1 = _n_for_shrinkage(p, r2, shrinkage)
    n2 = _n_for_shrinkage(p, r2, s2)
    n3 = _n_for_margin(rate, timepoint, meanfup, mmoe)
    given = n_av is not None or e_av is not None

    def meets(n: int) -> bool | None:
        if not given:
            return None
        return (n_av is None or n_av >= n) and (e_av is None or e_av >= n * per_person)

    def max_params(target: float) -> int | None:
        if not given:
            return None
        k = max(0, math.floor(_effective_n(n_av, e_av, per_person) * _unit(r2, target)))
        while meets(_n_for_shrinkage(k + 1, r2, target)):
            k += 1
        while k > 0 and not meets(_n_for_shrinkage(k, r2, target)):
            k -= 1
        return k

    def criterion(number: int, label: str, n: int, target: float | None) -> SampleSizeCriterion:
        return SampleSizeCriterion(
            number=number,
            label=label,
            n=n,
            events=n * per_person,
            epp=n * per_person / p,
            shrinkage=target,
            meets=meets(n),
            max_parameters=None if target is None else max_params(target),
        )

    criteria = (
        criterion(1, f"global shrinkage >= {shrinkage:g}", n1, shrinkage),
        criterion(2, f"optimism in Nagelkerke R² <= {R2_DIFFERENCE:g}", n2, s2),
        criterion(3, f"risk by t = {timepoint:g} within +/- {mmoe:g}", n3, None),
    )
    n = max(n1, n2, n3)
    risk, lower, upper, person_time = _risk_interval(rate, timepoint, meanfup, n)
    limits = [c.max_parameters for c in criteria if c.max_parameters is not None]
    return SampleSize(
        parameters=p,
        rsquared_cs=r2,
        rate=rate,
        timepoint=timepoint,
        meanfup=meanfup,
        shrinkage=shrinkage,
        mmoe=mmoe,
        max_rsquared_cs=max_r2,
        nagelkerke_r2=nagelkerke,
        criteria=criteria,
        n=n,
        events=n * per_person,
        epp=n * per_person / p,
        final_shrinkage=max(shrinkage, s2),
        person_time=person_time,
        risk=risk,
        risk_lower=lower,
        risk_upper=upper,
        risk_margin=upper - risk,
        n_available=n_av,
        events_available=e_av,
        meets=None if not given else all(bool(c.meets) for c in criteria),
        max_parameters=min(limits) if limits else None,
    )


def _unit(rsquared_cs: float, shrinkage: float) -> float:
    """Parameters supported per person: ``(S - 1) log(1 - R2cs / S)``."""
    return (shrinkage - 1) * math.log(1 - rsquared_cs / shrinkage)


def _effective_n(n_av: int | None, e_av: int | None, per_person: float) -> float:
    """The persons the available data amount to (events through ``rate * meanfup``)."""
    sizes = [float(n_av)] if n_av is not None else []
    if e_av is not None:
        sizes.append(e_av / per_person)
    return min(sizes)
