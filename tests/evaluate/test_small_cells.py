"""Small-cell suppression keeps a subgroup's prevalence hidden wherever its counts are: the
one-class warning (which states the share of the commonest class) is left out of a masked or
coarsened subgroup, and image counts are suppressed like patient counts."""

from __future__ import annotations

import numpy as np

from medadapt.evaluate.metrics import binary_metrics
from medadapt.evaluate.small_cells import mask_note, mask_subgroups


def test_the_one_class_note_is_left_out_where_counts_are_suppressed():
    few = binary_metrics(np.array([1] * 11 + [0]), np.full(12, 0.9), n_boot=20)  # 1 negative
    many = binary_metrics(np.array([1] * 30 + [0] * 20), np.full(50, 0.9), n_boot=20)
    assert "one_class" in few["notes"] and "one_class" in many["notes"]  # both called positive
    shown = mask_subgroups({"sex": {"Female": few, "Male": many}})["sex"]
    assert shown["Female"]["n_positive"] == "10-14" and shown["Female"]["prevalence"] is None
    assert "one_class" not in shown["Female"]["notes"]
    assert shown["Male"]["n"] == "50-54" and "one_class" not in shown["Male"]["notes"]
    untouched = mask_subgroups({"sex": {"Male": many}})["sex"]["Male"]
    assert untouched["notes"]["one_class"] == many["notes"]["one_class"]  # nothing to hide


def test_image_counts_are_suppressed_like_patient_counts():
    assert mask_note("not reported: only 3 images (at least 10 needed)") == (
        "not reported: fewer than 5 images (at least 10 needed)"
    )
