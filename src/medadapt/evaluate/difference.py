"""What a paired difference between two models says: its verdict and its sentences.

A :class:`Difference` is ``a - b`` for one metric with its paired 95 % CI. The verdict says
"better", "worse" or "no detectable difference" — the last whenever the interval contains zero
— and the sentences say it in plain words, the way an error's change points included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medadapt.evaluate.metrics import LOWER_IS_BETTER

#: what "better" and "worse" mean for each metric, in words (a lower Brier score is not a
#: better model, only risks closer to what happened)
IN_WORDS = {
    "auroc": ("ranks patients by risk better", "ranks patients by risk worse"),
    "auprc": ("picks out the patients with the outcome better",
              "picks out the patients with the outcome worse"),
    "accuracy": ("classifies more patients correctly at the threshold",
                 "classifies fewer patients correctly at the threshold"),
    "balanced_accuracy": ("classifies both outcomes better at the threshold",
                          "classifies both outcomes worse at the threshold"),
    "brier": ("gives risks closer to what happened (lower Brier score)",
              "gives risks further from what happened (higher Brier score)"),
    "ece": ("is better calibrated", "is worse calibrated"),
    "mae": ("predicts closer to the measured values", "predicts further from the measured values"),
    "rmse": ("predicts closer to the measured values (large errors weighted)",
             "predicts further from the measured values (large errors weighted)"),
}  # fmt: skip


#: the same, where the scores are class probabilities of three classes or more (a trial's
#: 3-class image adapter "ranks patients by risk better")
IN_WORDS_OF_CLASSES = {
    "auroc": ("tells the classes apart better", "tells the classes apart worse"),
}


@dataclass(frozen=True)
class Difference:
    """``a - b`` for one metric with its paired 95 % CI; None when the metric is undefined."""

    metric: str
    value: float | None
    ci: tuple[float, float] | None
    note: str = ""
    of_classes: bool = False  # a macro AUROC over three classes or more: no single "risk"
    units: str = ""  # what it was measured on ("patients"), said in its verdict; "": "data"

    def __repr__(self) -> str:
        """A line a notebook can read (a trial's ``repr`` gave 16 digits of each field):
        ``Difference(auroc -0.009, 95% CI -0.057 to +0.036: no detectable difference)``;
        :meth:`sentence` says it in words.

        >>> Difference("auroc", -0.009049, (-0.0566, 0.0359))
        Difference(auroc -0.009, 95% CI -0.057 to +0.036: no detectable difference)
        >>> Difference("auroc", -0.004, (-0.017, 0.0))  # an end at 0, as its sentence says it
        Difference(auroc -0.004, 95% CI -0.017 to 0.000: no detectable difference)
        """
        if self.value is None or self.ci is None:
            why = f": {self.note}" if self.note else ""
            return f"Difference({self.metric} not estimable{why})"
        d = self.shown_digits()
        low, high = self.ci
        return (f"Difference({self.metric} {signed(self.value, d)}, 95% CI {signed(low, d)} "
                f"to {signed(high, d)}: {self.verdict})")  # fmt: skip

    @property
    def verdict(self) -> str:
        if self.value is None or self.ci is None:
            return "not estimable"
        if self.ci[0] > 0:
            return "better" if self.metric not in LOWER_IS_BETTER else "worse"
        if self.ci[1] < 0:
            return "worse" if self.metric not in LOWER_IS_BETTER else "better"
        return "no detectable difference"

    def sentence(self, a: str, b: str) -> str:
        from medadapt.evaluate.report.formatting import METRIC_LABELS

        name = METRIC_LABELS.get(self.metric, self.metric)
        if self.value is None or self.ci is None:
            return f"{a} vs {b}: {name} cannot be compared ({self.note or 'too few events'})."
        d = self.shown_digits()
        low, high = self.ci
        if high - low <= 1e-12:  # every resample alike: no interval, not certainty
            if abs(self.value) <= 1e-12:
                return (
                    f"{a} vs {b}: the same {name} in every resample of these data: no "
                    "difference can be shown, and none ruled out, without more data."
                )
            return (
                f"{a} vs {b}: {name} {self.value:+.{d}f} in every resample of these data, so "
                "the change has no interval: judge it on more data."
            )
        numbers = self.numbers(d)
        if numbers is None:
            text = f"{a} vs {b}: {name} changes by less than {below(d)} either way (95% CI too"
        else:
            text = f"{a} vs {b}: {name} {numbers}"
        text += f"{self.direction('; ')})"
        if self.verdict == "no detectable difference":
            return text + f": no detectable difference on these {self.units or 'data'}."
        return text + f": {a} {self.verdict_in_words()}{self.negligible_words()}."

    def negligible_words(self) -> str:
        """``", by a negligible amount (below 0.0005)"``, where :meth:`negligible`; else ""."""
        bound = self.negligible()
        return f", by a negligible amount (below {bound})" if bound else ""

    def digits(self) -> int:
        """Decimals to print the difference with: 3 on a 0-1 scale; in the label's unit, three
        significant figures of the interval's widest end (``+4.21``, not ``+4.212``)."""
        from medadapt.evaluate.report.formatting import metric_digits

        widest = max(abs(self.ci[0]), abs(self.ci[1])) if self.ci else self.value
        return metric_digits(self.metric, widest)

    def shown_digits(self) -> int:
        """:meth:`digits`, or up to three more where the difference or an end of its interval
        is not 0 but would print as 0 (``-0.000 (95% CI -0.000 to -0.000)`` hides the sign a
        verdict rests on; ``-0.00004 (95% CI -0.00006 to -0.00002)`` shows it), or where the
        interval's ends would print as one number, as
        :func:`~medadapt.evaluate.report.formatting.fmt_ci` adds them: never past three
        significant digits of the wider end."""
        from medadapt.evaluate.report.formatting import three_significant

        usual = self.digits()
        d = signed_digits(usual, *self._values())
        if self.ci is None or self.ci[0] == self.ci[1]:
            return d
        low, high = self.ci
        most = min(usual + 3, max(d, three_significant(low, high)))
        while d < most and (f"{low:+.{d}f}" == f"{high:+.{d}f}" or self._on_an_end(d)):
            d += 1
        return d

    def _on_an_end(self, d: int) -> bool:
        """Whether the difference prints as an end of its interval at ``d`` decimals though
        it is not that end (a trial read "-0.001 (95% CI -0.002 to -0.001)")."""
        value, (low, high) = self.value, self.ci  # type: ignore[misc]
        if value is None:
            return False
        shown = f"{value:+.{d}f}"
        return any(shown == f"{end:+.{d}f}" and value != end for end in (low, high))

    def negligible(self) -> str | None:
        """Where the difference and its whole interval print as 0 at :meth:`digits` (a
        change below 0.0005 on a 0-1 scale): that bound, ``"0.0005"``; else None."""
        d = self.digits()
        values = self._values()
        if not values or any(round(v, d) != 0 for v in values):
            return None
        return below(d)

    def numbers(self, d: int) -> str | None:
        """``+0.012 (95% CI -0.004 to +0.028`` at ``d`` decimals (closed by the caller); None
        where a value other than 0 still prints as 0 (too small to show in 6 decimals)."""
        if self.value is None or self.ci is None:
            return None
        if any(v != 0 and round(v, d) == 0 for v in self._values()):
            return None
        low, high = self.ci
        return f"{signed(self.value, d)} (95% CI {signed(low, d)} to {signed(high, d)}"

    def _values(self) -> list[float]:
        return [float(v) for v in (self.value, *(self.ci or ())) if v is not None]

    def direction(self, before: str = "") -> str:
        """Which way an error's difference points (after ``before``): ``"a higher MAE is
        worse"`` for a rise, ``"a lower MAE is better"`` otherwise; empty where higher is
        better, as a reader takes a difference to mean."""
        from medadapt.evaluate.report.formatting import METRIC_LABELS

        if self.metric not in LOWER_IS_BETTER or not self.value:  # no change: no direction
            return ""
        name = METRIC_LABELS.get(self.metric, self.metric)
        rose = self.value is not None and self.value > 0
        return (
            f"{before}a {'higher' if rose else 'lower'} {name} is {'worse' if rose else 'better'}"
        )

    def verdict_in_words(self) -> str:
        """``"ranks patients by risk better"``: what "better" or "worse" means here."""
        words = IN_WORDS_OF_CLASSES if self.of_classes else IN_WORDS
        better, worse = words.get(self.metric, IN_WORDS.get(self.metric, ("is better", "is worse")))
        said = better if self.verdict == "better" else worse
        # what was compared: an image model's images ("ranks images by risk better"), not
        # patients (a trial's image adapter "ranks patients by risk better")
        return said.replace("patients", "images") if self.units == "images" else said


def signed(value: float, digits: int) -> str:
    """``+0.034``, ``-0.020``; exactly 0 without a sign (a trial read "95% CI +0.000 to
    +0.058" as a gain: the interval's end is 0).

    >>> signed(0.0341, 3), signed(-0.02, 3), signed(0.0, 3), signed(0.0001, 3)
    ('+0.034', '-0.020', '0.000', '+0.000')
    """
    return f"{0.0:.{digits}f}" if value == 0 else f"{value:+.{digits}f}"


def zero_end(ci: Sequence[float] | None) -> str:
    """`` (the interval's lower end is 0)`` where an end of ``ci`` is exactly 0 (beside "no
    detectable difference": resamples without a single discordant patient), else empty."""
    ends = [end for end, bound in zip(("lower", "upper"), ci or (), strict=False) if bound == 0]
    return f" (the interval's {ends[0]} end is 0)" if ends else ""


def signed_digits(digits: int, *values: float) -> int:
    """``digits``, or up to three more where a value other than 0 would print as 0 (an
    interval's end of -0.000 that is not 0 hides which side of 0 it lies; as
    :func:`~medadapt.evaluate.report.formatting.fmt_ci` adds digits to an interval that would
    print as one number).

    >>> signed_digits(3, -0.00004, -0.00006, -0.00002), signed_digits(3, 0.012, 0.0)
    (5, 3)
    """
    for more in range(4):
        if all(v == 0 or round(v, digits + more) != 0 for v in values):
            return digits + more
    return digits + 3


def below(digits: int) -> str:
    """Half a unit of the last of ``digits`` decimals: what prints as 0 is below it.

    >>> below(3), below(6)
    ('0.0005', '0.0000005')
    """
    return f"{0.5 * 10.0**-digits:.{digits + 1}f}"
