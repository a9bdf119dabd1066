"""What a paired difference between two models says: its verdict and its sentences.

A :class:`Difference` is ``a - b`` for one metric with its paired 95 % CI. The verdict says
"better", "worse" or "no detectable difference" — the last whenever the interval contains zero
— and the sentences say it in plain words, the way an error's change points included.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Difference:
    """``a - b`` for one metric with its paired 95 % CI; None when the metric is undefined."""

    metric: str
    value: float | None
    ci: tuple[float, float] | None
    note: str = ""

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
        d = self.digits()
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
        text = (
            f"{a} vs {b}: {name} {self.value:+.{d}f} (95% CI {low:+.{d}f} to {high:+.{d}f}"
            f"{self.direction('; ')})"
        )
        if self.verdict == "no detectable difference":
            return text + ": no detectable difference on this data."
        return text + f": {a} {self.verdict_in_words()}."

    def digits(self) -> int:
        """Decimals to print the difference with: 3 on a 0-1 scale; in the label's unit, three
        significant figures of the interval's widest end (``+4.21``, not ``+4.212``)."""
        from medadapt.evaluate.report.formatting import metric_digits

        widest = max(abs(self.ci[0]), abs(self.ci[1])) if self.ci else self.value
        return metric_digits(self.metric, widest)

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
        better, worse = IN_WORDS.get(self.metric, ("is better", "is worse"))
        return better if self.verdict == "better" else worse
