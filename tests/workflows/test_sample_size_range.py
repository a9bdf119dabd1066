"""The needs over a prevalence read from few patients (``n_range``): the lowest and highest over
the whole interval, not its two ends, as the needs are not monotone in the prevalence."""

from __future__ import annotations

import pytest

from medadapt.evaluate.samplesize import binding
from medadapt.evaluate.samplesize_outcomes import Outcome
from medadapt.workflows.sample_size import _uncertain_prevalence, uncertain_prevalence_line


def _outcome(events: int, n: int, planned_c: float | None) -> Outcome:
    """A binary outcome read from ``events`` of ``n`` patients, planned from ``planned_c`` (None:
    the conservative default R-squared), as check-data plans it."""
    blank = Outcome(task="binary", summary="", r2=0.0, r2_source="",
                    counts=(n - events, events), planned_c=planned_c)  # fmt: skip
    return blank.at_prevalence(events / n)


@pytest.mark.parametrize(
    ("events", "n", "planned_c", "ends", "lowest"),
    [
        (4, 8, None, (5696, 5696), 4868),  # both ends 5,696; 4,868 at the estimate, 0.5
        (2, 6, 0.7, (12459, 5327), 4509),  # the ends miss the lowest, inside the interval
    ],
)
def test_the_range_of_the_needs_covers_the_whole_interval(events, n, planned_c, ends, lowest):
    outcome = _outcome(events, n, planned_c)
    low, high = outcome.prevalence_ci()
    at_ends = tuple(binding(outcome.at_prevalence(p).criteria(65)).n for p in (low, high))
    assert at_ends == ends  # the review's figures: the ends alone do not bracket the needs
    point = binding(outcome.criteria(65)).n
    development = {"head_only": {"parameters": 65, "n": point}}
    result = _uncertain_prevalence(outcome, development, ["0", "1"])
    n_range = development["head_only"]["n_range"]
    assert n_range[0] <= point <= n_range[1]
    assert n_range == [lowest, max(ends)]
    line = uncertain_prevalence_line({**result, "prevalence": events / n, "noun": "patients",
                                      "development": development})  # fmt: skip
    assert f"the head-only adapter needs {lowest:,} to {max(ends):,} patients" in line


def test_one_patient_of_a_class_is_said_in_the_singular():
    """A trial's tiny site: "rests on 1 rows of class 'benign'"."""
    outcome = _outcome(1, 10, 0.7)
    development = {"head_only": {"parameters": 65, "n": binding(outcome.criteria(65)).n}}
    result = _uncertain_prevalence(outcome, development, ["benign", "malignant"])
    line = uncertain_prevalence_line({**result, "prevalence": 0.9, "noun": "rows",
                                      "development": development})  # fmt: skip
    assert (
        f"rests on 1 row of class {result['prevalence_interval']['rare_class']!r} among 10" in line
    )
