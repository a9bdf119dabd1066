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
