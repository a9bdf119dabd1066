"""``predict`` says when its probabilities do not tell the samples apart: a trial's file held
0.47565100 for each of 60 images, from an adapter whose evaluation said so, while predict
said only that the adapter was unmeasured."""

from __future__ import annotations

import numpy as np

from medadapt.data.images import ImageSchema
from medadapt.modalities import modality_of
from medadapt.workflows.evaluate import _flat_predictions


def test_probabilities_that_barely_differ_are_said_and_varied_ones_are_not():
    schema = ImageSchema(classes=("normal", "lesion"), channels=1, image_size=32)
    lesion = 0.4756 + np.linspace(0, 0.00004, 60)
    said = _flat_predictions(modality_of("image"), schema, np.c_[1 - lesion, lesion])
    assert said == [
        "the model gives nearly the same probability to every one of the 60 images predicted "
        "(the middle 90% between 0.47560 and 0.47564): these probabilities do not tell the "
        "images apart, whatever their digits; evaluate it on labelled images of this site "
        "('medadapt evaluate') before relying on them"
    ]
    varied = np.linspace(0.1, 0.9, 60)
    assert _flat_predictions(modality_of("image"), schema, np.c_[1 - varied, varied]) == []
    few = lesion[:10]  # fewer than 20: nothing to judge a spread on
    assert _flat_predictions(modality_of("image"), schema, np.c_[1 - few, few]) == []


def test_a_near_copy_s_stored_caution_says_it_may_be_one():
    """predict marks near-copies of training images in trained_on; a stored SR said of them
    "this image matches one that looks like a near-copy ... trained on" (a review)."""
    from medadapt.results import NEAR_COPY, in_sample_caution

    assert in_sample_caution(NEAR_COPY) == (
        "this image looks like a near-identical copy (a lossy re-save) of one the model "
        "trained on: if it is one, its prediction is in-sample"
    )
    assert in_sample_caution("adapter 'b'").startswith("this image matches one that adapter 'b'")
