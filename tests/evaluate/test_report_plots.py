"""The report's ROC and calibration panels on too few samples: each says why it is empty, and
matplotlib's "No artists with labels found to put in legend" never reaches the terminal (a
trial's ``evaluate --report`` on 3 images printed it as a ``warning:`` line, and left the
calibration panel blank without a word)."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from matplotlib import pyplot as plt

from medadapt.evaluate.report.plots import calibration_figure, roc_figure


def _texts(fig) -> list[str]:
    return [text.get_text() for ax in fig.axes for text in ax.texts]


@pytest.mark.parametrize(
    ("y", "said"),
    [
        (
            [0, 1, 1],
            "not estimable: only 1 of the 3 images without the outcome\n(at least 5 "
            "with it and 5 without needed)\n(model)",
        ),
        (
            [0, 1] * 24,
            "not estimable: only 48 images\n(at least 50 needed for 5 bins of 10)\n(model)",
        ),
        ([1] * 12, "not estimable: one outcome only\n(model)"),
    ],
)
def test_an_empty_calibration_panel_says_why_without_a_legend_warning(caplog, y, said):
    y = np.asarray(y)
    score = np.linspace(0.2, 0.8, len(y))
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = calibration_figure({"model": (y, score)}, title="Calibration", noun="images")
        roc = roc_figure({"model": (y, score)}, title="ROC")
    assert _texts(fig) == [said]
    assert fig.axes[0].get_legend() is None
    assert any(t.startswith("not estimable") for t in _texts(roc)) == (len(y) != 48)
    assert not [r for r in caplog.records if "legend" in r.getMessage()]
    plt.close("all")


def test_a_drawn_curve_keeps_its_legend_and_an_empty_one_is_named():
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 30)
    score = np.clip(0.3 * y + rng.random(60) * 0.7, 0, 1)
    fig = calibration_figure({"before": (y[:30], score[:30]), "after": (y, score)},
                             title="Calibration", noun="images")  # fmt: skip
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["after"]
    assert _texts(fig) == [
        "not estimable: only 30 images\n(at least 50 needed for 5 bins of 10)\n(before)"
    ]
    plt.close("all")
