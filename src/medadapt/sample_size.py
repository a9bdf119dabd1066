"""How many patients are enough, in Python: the criteria of Riley et al. that ``check-data``
prints, for a model planned on paper (what the R/Stata package ``pmsampsize`` answers).

Development (Riley et al., Stat Med 2019;38:1276-96; BMJ 2020;368:m441): the minimum number
of patients to fit a model with ``parameters`` predictor parameters (Riley et al.'s ``p``: the
intercept is not one of them) without fooling yourself; external validation (Riley et al.,
Stat Med 2021;40:4230-51): the minimum number to check a model at a new site. Each answer says
which criterion decides. An adapter on a frozen base is read as a new model with the
parameters it trains, its intercepts aside: an upper bound on its effective parameters, so the
most conservative reading, and meeting it is still necessary, not sufficient (see the README's
"How much data is enough?").

The binary example of Riley et al. 2020 (24 parameters, prevalence 0.174, Cox-Snell
R-squared 0.288):

>>> from medadapt import sample_size
>>> need = sample_size.binary(parameters=24, prevalence=0.174, r2_cs=0.288)
>>> [(c.name, c.n) for c in need.criteria], need.n, round(need.binding.per_parameter, 1)
([('i', 623), ('ii', 662), ('iii', 221)], 662, 4.8)
>>> print(need)  # doctest: +NORMALIZE_WHITESPACE
662 patients (115.2 events, 4.8 per parameter), set by criterion ii: optimism in
Nagelkerke R-squared <= 0.05
>>> need  # doctest: +NORMALIZE_WHITESPACE
662 patients (115.2 events, 4.8 per parameter), set by criterion ii: optimism in
Nagelkerke R-squared <= 0.05
each criterion: i 623, ii 662, iii 221 patients

Validation at a site with prevalence 0.018, C-statistic 0.8 and log-odds Normal(-5, 2.5)
(Riley et al. 2021's example: 905 for the observed/expected ratio to within a CI width of 1,
here 905.x rounded up, and 4,252 for the C-statistic):

>>> check = sample_size.validation(prevalence=0.018, c_statistic=0.8, lp_mean=-5, lp_sd=2.5,
...                                oe_width=1)
>>> [(c.name, c.n) for c in check.criteria]
[('O/E', 906), ('slope', 4554), ('C', 4252)]

Without ``lp_mean`` and ``lp_sd``, the linear predictor is the one that agrees with the
prevalence and C-statistic (Riley et al. 2021's consistency condition; pmvalsampsize's
``lpcstat``):

>>> check = sample_size.validation(prevalence=0.745, c_statistic=0.726)
>>> [(c.name, c.n) for c in check.criteria]
[('O/E', 132), ('slope', 3668), ('C', 513)]
>>> print(check.notes[0])  # doctest: +NORMALIZE_WHITESPACE
the linear predictor is taken as Normal(1.251, 0.910): the log-odds of a calibrated model
with this prevalence and C-statistic
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from medadapt.errors import ConfigError
from medadapt.evaluate.samplesize import (
    Criterion,
    binding,
    cox_snell_from_c,
    development,
    lp_distribution,
    max_cox_snell,
    rare_outcome_note,
)
from medadapt.evaluate.samplesize import validation as _validation
from medadapt.evaluate.samplesize_continuous import development_continuous, mean_criterion_note
from medadapt.results import MILLION, needed_text

__all__ = ["Criterion", "Needed", "binary", "continuous", "validation"]

NAGELKERKE_DEFAULT = 0.15
"""Riley et al. 2020's conservative anticipated Nagelkerke R-squared when nothing is known."""


@dataclass(frozen=True)
class Needed:
    """Every criterion's minimum and the one that decides (``binding``: the largest);
    ``notes``: caveats on reading them (a rare outcome's criterion iii, a criterion left out),
    printed after the answer."""

    criteria: list[Criterion]
    r2_source: str
    notes: tuple[str, ...] = ()

    @property
    def binding(self) -> Criterion:
        return binding(self.criteria)

    @property
    def n(self) -> int:
        """The minimum number of patients: what the binding criterion needs."""
        return self.binding.n

    def __str__(self) -> str:
        return "\n".join([self._answer(), *(f"note: {note}" for note in self.notes)])

    def __repr__(self) -> str:
        """The answer and each criterion's minimum (what a notebook shows; the dataclass's
        own repr printed every unrounded field), then the notes."""
        each = ", ".join(f"{c.name} {needed_text(c.n)}" for c in self.criteria)
        notes = [f"note: {note}" for note in self.notes]
        return "\n".join([self._answer(), f"each criterion: {each} patients", *notes])

    def _answer(self) -> str:
        c = self.binding
        if c.n >= MILLION:  # not a precise number: no realistic study has it
            return f"{needed_text(c.n)} patients, set by criterion {c.name}: {c.description}"
        events = ""
        if not math.isnan(c.events):
            per = f", {c.per_parameter:.1f} per parameter" if c.per_parameter else ""
            events = f" ({c.events:,.1f} events{per})"
        return f"{c.n:,} patients{events}, set by criterion {c.name}: {c.description}"


def binary(
    *,
    parameters: int,
    prevalence: float,
    r2_cs: float | None = None,
    c_statistic: float | None = None,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin: float = 0.05,
) -> Needed:
    """Patients to develop a model of a binary outcome (criteria i-iii). The anticipated
    Cox-Snell R-squared is ``r2_cs``, or the one a C-statistic (AUROC) of ``c_statistic``
    implies, or without either Riley et al.'s conservative default (Nagelkerke 0.15)."""
    _whole(parameters, "parameters")
    _share(prevalence, "prevalence")
    for name, value in (("shrinkage", shrinkage), ("optimism", optimism), ("margin", margin)):
        _share(value, name)
    if r2_cs is not None and c_statistic is not None:
        raise ConfigError("pass r2_cs or c_statistic, not both")
    top = max_cox_snell(prevalence)
    if r2_cs is not None:
        _real(r2_cs, "r2_cs")
    if c_statistic is not None:
        _c_statistic(c_statistic)
        r2_cs, source = cox_snell_from_c(c_statistic, prevalence), f"C-statistic {c_statistic:g}"
    elif r2_cs is None:
        r2_cs = NAGELKERKE_DEFAULT * top
        source = f"conservative default (Nagelkerke R-squared {NAGELKERKE_DEFAULT:g})"
    else:
        source = "given"
    if not 0 < r2_cs < top:
        raise ConfigError(
            f"r2_cs must be in (0, {top:.3f}) for a prevalence of {prevalence:g} (the largest "
            f"Cox-Snell R-squared it allows); got {r2_cs:g}"
        )
    criteria = development(parameters=parameters, prevalence=prevalence, r2_cs=r2_cs,
                           shrinkage=shrinkage, optimism=optimism, margin=margin)  # fmt: skip
    rare = rare_outcome_note(prevalence, margin)
    return Needed(criteria, source, (rare,) if rare else ())


def continuous(
    *,
    parameters: int,
    r2: float,
    mean: float | None = None,
    sd: float | None = None,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    mmoe: float = 1.1,
    crosses_zero: bool | None = None,
) -> Needed:
    """Patients to develop a model of a measured value (criteria i-iii, and iv when the
    outcome's ``mean`` and ``sd`` are given); ``r2``: the anticipated R-squared. Criterion iv
    (the mean within ``mmoe``) is left out, and a note says why, where the mean lies within
    one SD of 0 and the outcome's values lie on both sides of 0; ``crosses_zero``: whether
    they do (False: an outcome that is never negative, such as a length of stay, keeps iv
    however skewed; None: not known, taken as so)."""
    _whole(parameters, "parameters")
    _share(r2, "r2")
    _share(shrinkage, "shrinkage")
    _share(optimism, "optimism")
    _real(mmoe, "mmoe")
    if not mmoe > 1:
        raise ConfigError(f"mmoe must be above 1 (a factor, e.g. 1.1); got {mmoe!r}")
    if (mean is None) != (sd is None):
        raise ConfigError("pass both mean and sd (criterion iv), or neither")
    if mean is not None:
        _real(mean, "mean")
        _positive(sd, "sd")
        _signs(crosses_zero, mean)
    criteria = development_continuous(parameters=parameters, r2=r2, shrinkage=shrinkage,
                                      optimism=optimism, mmoe=mmoe, intercept=mean, sd=sd,
                                      crosses_zero=crosses_zero)  # fmt: skip
    left_out = (
        None if mean is None else mean_criterion_note(mean, sd, mmoe, crosses_zero=crosses_zero)
    )
    return Needed(criteria, "given", (left_out,) if left_out else ())


def validation(
    *,
    prevalence: float,
    c_statistic: float,
    lp_mean: float | None = None,
    lp_sd: float | None = None,
    oe_width: float = 0.2,
    slope_width: float = 0.2,
    c_width: float = 0.1,
) -> Needed:
    """Patients to check a model of a binary outcome at a new site: 95% intervals of the
    given widths for the observed/expected ratio, the calibration slope and the C-statistic,
    for a linear predictor (log-odds) distributed Normal(``lp_mean``, ``lp_sd``) there; without
    them, the one that agrees with the prevalence and C-statistic (the normal log-odds of a
    calibrated model with both, as Riley et al. 2021 require), and a note gives it."""
    _share(prevalence, "prevalence")
    _c_statistic(c_statistic)
    if (lp_mean is None) != (lp_sd is None):
        raise ConfigError("pass both lp_mean and lp_sd, or neither (then they are derived from "
                          "the prevalence and c_statistic)")  # fmt: skip
    notes: tuple[str, ...] = ()
    derived = lp_mean is None
    if derived:
        lp_mean, lp_sd = _derived_lp(prevalence, c_statistic)
        spread = f"{lp_sd:.3f}" if lp_sd >= 0.001 else f"{lp_sd:.3g}"  # not "0.000"
        notes = (f"the linear predictor is taken as Normal({lp_mean:.3f}, {spread}): "
                 "the log-odds of a calibrated model with this prevalence and "
                 "C-statistic",)  # fmt: skip
    _real(lp_mean, "lp_mean")
    _positive(lp_sd, "lp_sd")
    for name, width in (("oe_width", oe_width), ("slope_width", slope_width),
                        ("c_width", c_width)):  # fmt: skip
        _positive(width, name)
    try:
        criteria = _validation(prevalence=prevalence, c_statistic=c_statistic,
                               lp_mean=lp_mean, lp_sd=lp_sd, oe_width=oe_width,
                               slope_width=slope_width, c_width=c_width)  # fmt: skip
    except (ValueError, np.linalg.LinAlgError):  # no n up to 10^9 reaches it, or no spread
        raise ConfigError(_unreachable_widths(derived)) from None
    return Needed(criteria, "given", notes)


def _unreachable_widths(derived: bool) -> str:
    """Why no number of patients gives the widths asked, and what to change: the widths, and
    the linear predictor only where the caller gave it (``derived``: it was not)."""
    if derived:
        return ("no realistic number of patients gives these widths for the linear predictor "
                "derived from prevalence and c_statistic: widen c_width/slope_width")  # fmt: skip
    return ("no realistic number of patients gives these widths for this linear predictor: "
            "widen c_width/slope_width, or check lp_mean and lp_sd")  # fmt: skip


def _derived_lp(prevalence: float, c_statistic: float) -> tuple[float, float]:
    """The linear predictor's mean and SD that agree with the prevalence and C-statistic."""
    try:
        return lp_distribution(prevalence, c_statistic)
    except ValueError as beyond:  # a C-statistic too near 0.5 or 1 (it says which)
        raise ConfigError(f"{beyond}: pass lp_mean and lp_sd") from None


def _whole(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1; got {value!r}")


def _real(value: float, name: str) -> None:
    """A finite number (numpy's too); text, None or NaN are refused by name."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number; got {value!r}")


def _share(value: float, name: str) -> None:
    _real(value, name)
    if not 0 < value < 1:
        raise ConfigError(f"{name} must be in (0, 1); got {value!r}")


def _signs(crosses_zero: bool | None, mean: float) -> None:
    """``crosses_zero`` is True, False or None, and False only with a mean away from 0."""
    if crosses_zero not in (True, False, None):
        raise ConfigError(f"crosses_zero must be True, False or None; got {crosses_zero!r}")
    if crosses_zero is False and mean == 0:
        raise ConfigError(
            "mean 0 cannot be the mean of an outcome whose values lie on one side of 0 "
            "(crosses_zero=False): check mean, or pass crosses_zero=None"
        )


def _c_statistic(value: float) -> None:
    """An AUROC a model could have: better than chance, short of perfect."""
    _real(value, "c_statistic")
    if not 0.5 < value < 1:
        raise ConfigError(f"c_statistic must be in (0.5, 1); got {value:g}")


def _positive(value: float, name: str) -> None:
    _real(value, name)
    if not value > 0:
        raise ConfigError(f"{name} must be positive; got {value:g}")
