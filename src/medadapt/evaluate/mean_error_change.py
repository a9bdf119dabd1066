"""The adapter's paired change in mean observed − predicted against the base model's.

MAE alone hides a shift of every prediction: this says, from the same resamples as the MAE's
paired difference, whether the adapter removed, reduced, enlarged, reversed or introduced a
systematic under- or over-prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.difference import Difference
from medadapt.evaluate.metrics import N_BOOT
from medadapt.evaluate.paired_difference import checked_pair

#: the verdicts of :func:`mean_error_change` whose interval excludes 0 (said beside the MAE)
MEAN_ERROR_CHANGES = ("removed", "reduced", "enlarged", "reversed", "introduced", "shifted")
#: those that leave the adapter with a systematic error the base model did not have, or a
#: larger one: said as a warning
MEAN_ERROR_HARMS = ("enlarged", "introduced")  # and "reversed" to a larger error
MEAN_ERROR = "calibration_in_the_large"


def mean_error_change(
    y_true: Any,
    adapted: Any,
    base: Any,
    *,
    unit: str = "patient",
    n_boot: int = N_BOOT,
    seed: int = 0,
    patients: Any = None,
) -> dict[str, Any]:
    """The adapter's mean observed − predicted (calibration-in-the-large) against the base
    model's on the same ``unit``s, each with its bootstrap 95 % CI, and their paired change
    ``adapter - base`` with its CI from the same resamples (those of
    :func:`~medadapt.evaluate.versus_base.versus_base`'s MAE), as ``{"metric", "adapter",
    "adapter_ci", "base", "base_ci", "difference", "ci", "verdict", "in_words"}``. A model's
    error is systematic where its own interval excludes 0; where the change's interval excludes
    0 the verdict says what the adapter did to the base model's error ("removed", "reduced",
    "enlarged", "reversed", "introduced", or "shifted" where neither model's is systematic),
    else "no detectable difference" ("not estimable" without an interval)."""
    y, a, b = checked_pair("mae", y_true, adapted, base, unit)  # regression's checks
    W = bs.resample_weights(len(y), n_boot, seed, bs.cluster_index(patients, len(y)))
    error_a, error_b = bs.weighted_mean(W, y - a), bs.weighted_mean(W, y - b)
    point_a, point_b = float(np.mean(y - a)), float(np.mean(y - b))
    ci_a, ci_b = bs.percentile_interval(error_a), bs.percentile_interval(error_b)
    ci = bs.percentile_interval(error_a - error_b)
    change = Difference(MEAN_ERROR, point_a - point_b, None if ci is None else tuple(ci))
    verdict = _mean_error_verdict(point_a, ci_a, point_b, ci_b, change)
    return {
        "metric": MEAN_ERROR,
        "adapter": point_a,
        "adapter_ci": ci_a,
        "base": point_b,
        "base_ci": ci_b,
        "difference": change.value,
        "ci": ci,
        "verdict": verdict,
        "in_words": _mean_error_in_words(
            verdict, point_a, point_b, change, f"{unit}s", systematic=_systematic(ci_a)
        ),
    }


def _systematic(ci: list[float] | None) -> bool:
    return ci is not None and (ci[0] > 0 or ci[1] < 0)


def _mean_error_verdict(
    a: float, ci_a: list[float] | None, b: float, ci_b: list[float] | None, change: Difference
) -> str:
    if change.ci is None or change.ci[1] - change.ci[0] <= 1e-12:  # no interval: no verdict
        return "not estimable"
    if change.ci[0] <= 0 <= change.ci[1]:
        return "no detectable difference"
    if not _systematic(ci_b):
        return "introduced" if _systematic(ci_a) else "shifted"
    if not _systematic(ci_a) and abs(a) < abs(b):  # the adapter's own error is not shown
        return "removed"  # systematic, and it is the smaller: what the base had is gone
    if np.sign(a) != np.sign(b):
        return "reversed"
    return "reduced" if abs(a) < abs(b) else "enlarged"


def _mean_error_in_words(
    verdict: str, a: float, b: float, change: Difference, units: str, *, systematic: bool = True
) -> str:
    """``"Paired on the same patients, the adapter removes a systematic under-prediction of
    about 19.5 (mean observed − predicted +19.5 with the base model alone, +1.4 with the
    adapter; paired change -18.1, 95% CI -25.5 to -11.2)."`` (``systematic``: whether the
    adapter's own mean error is, by its interval). The figures share the change's decimals
    (those its interval supports), and the change is that of the two as shown, so that they
    add up (a trial read +11.6, -2.63, change -14.3); a figure that would print as 0 at
    them keeps its own (a review's "-0.0"). The interval is the paired one."""
    from medadapt.results import metric_digits

    measured = change.ci is not None or change.value is not None
    shared = change.digits() if measured else max(metric_digits(MEAN_ERROR, v) for v in (a, b))

    def places(value: float) -> int:
        return (
            shared if value == 0 or round(value, shared) != 0 else metric_digits(MEAN_ERROR, value)
        )

    def size(value: float) -> str:
        return f"{abs(value):,.{places(value)}f}"

    def signed(value: float) -> str:
        return f"{value + 0.0:+,.{places(value)}f}"

    def kind(value: float) -> str:  # observed above predicted: the predictions are too low
        return "under-prediction" if value > 0 else "over-prediction"

    d = shared
    if change.value is None or change.ci is None or verdict == "not estimable":
        return (
            f"The change in mean observed − predicted has no interval on these {units}: judge "
            f"it on more {units}."
        )
    low, high = change.ci
    shown = round(round(a, d) - round(b, d), d) + 0.0  # the two as shown (never "-0.0")
    if shown == 0 and change.value:  # alike as shown, yet not alike: the change's own
        shown = change.value
    numbers = (
        f"mean observed − predicted {signed(b)} with the base model alone, {signed(a)} with the "
        f"adapter; paired change {shown:+.{d}f}, 95% CI {low:+.{d}f} to {high:+.{d}f}"
    )
    if verdict not in MEAN_ERROR_CHANGES:
        return (
            f"Paired on the same {units}, the adapter changes mean observed − predicted by "
            f"{shown:+.{d}f} (95% CI {low:+.{d}f} to {high:+.{d}f}; {signed(b)} with the "
            f"base model alone, {signed(a)} with the adapter): no detectable difference on "
            f"these {units}."
        )
    what = {
        "removed": f"removes a systematic {kind(b)} of about {size(b)}",
        "reduced": f"reduces a systematic {kind(b)} from about {size(b)} to about {size(a)}",
        "enlarged": f"enlarges a systematic {kind(b)} from about {size(b)} to about {size(a)}",
        "reversed": (
            f"turns a systematic {kind(b)} of about {size(b)} into "
            + (
                f"a systematic {kind(a)} of about {size(a)}"
                if systematic
                else f"an {kind(a)} of about {size(a)} that its own interval cannot show is "
                "systematic"
            )
        ),
        "introduced": f"introduces a systematic {kind(a)} of about {size(a)}"
        + (
            f", where the base model's {kind(b)} of about {size(b)} was not shown to be systematic"
            if abs(b) >= abs(a) / 4
            else ""  # a trial read "introduces" of a
        ),  # bias of 19.93 where the base's was 13.08, its interval reaching 0
        "shifted": (
            f"{'raises' if change.value < 0 else 'lowers'} the predictions by about "
            f"{size(change.value)} on average (so mean observed − predicted "
            f"{'falls' if change.value < 0 else 'rises'} by as much, hence the "
            f"{'negative' if change.value < 0 else 'positive'} paired change), though neither "
            "model's mean error is systematic on its own"
        ),
    }[verdict]
    return f"Paired on the same {units}, the adapter {what} ({numbers})."
