"""Paired comparisons: the note for a comparison that cannot be made counts the right unit."""

from __future__ import annotations

import numpy as np

from medadapt.evaluate.compare import paired_difference


def test_too_small_a_class_is_counted_in_the_unit_given():
    y = np.array([0] * 20 + [1] * 1)
    a, b = np.linspace(0, 1, 21), np.linspace(1, 0, 21)
    images = paired_difference(y, a, b, unit="image", n_boot=20)
    assert (images.value, images.note) == (None, "1 image in the smaller class")
    patients = paired_difference(np.zeros(21, dtype=int), a, b, n_boot=20)
    assert patients.note == "0 patients in the smaller class"
    assert patients.sentence("adapter", "base") == (
        "adapter vs base: AUROC cannot be compared (0 patients in the smaller class)."
    )


def test_a_verdict_says_at_what_a_model_is_better():
    """ "the bottleneck adapter is better" on a Brier score, where every model called everyone
    positive, read as a better model; it only gives risks closer to what happened."""
    from medadapt.evaluate.compare import Difference

    brier = Difference("brier", -0.021, (-0.04, -0.005))
    assert brier.sentence("the bottleneck adapter", "the base model").endswith(
        ": the bottleneck adapter gives risks closer to what happened (lower Brier score)."
    )
    auroc = Difference("auroc", -0.05, (-0.09, -0.01))
    assert auroc.verdict_in_words() == "ranks patients by risk worse"
