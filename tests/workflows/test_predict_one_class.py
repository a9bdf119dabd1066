"""``predict`` says when every sample it predicts is called one class of three or more: a
trial's 75 images of a site with inverted contrast were all 'mass' (p 0.98) without a word,
where ``evaluate`` said it of a labelled set."""

from __future__ import annotations

from medadapt.modalities.base import modality_of
from medadapt.workflows.evaluate import _all_one_class

CLASSES = ["normal", "nodule", "mass"]


def test_every_image_called_one_class_is_said():
    images = modality_of("image")
    assert _all_one_class(images, CLASSES, ["mass"] * 75) == [
        "every one of the 75 images predicted is called 'mass', one of 3 classes: a model that "
        "calls every image one class has often met images unlike those it trained on (another "
        "site's equipment, units or patients); evaluate it on labelled images of this site "
        "('medadapt evaluate') before relying on these calls"
    ]


def test_two_classes_few_samples_or_several_classes_called_are_not():
    images, tables = modality_of("image"), modality_of("tabular")
    assert _all_one_class(tables, ["0", "1"], ["0"] * 200) == []  # a rare outcome: absent
    assert _all_one_class(images, CLASSES, ["mass"] * 19 + [None] * 5) == []  # 19 made
    assert _all_one_class(images, CLASSES, ["mass"] * 30 + ["normal"]) == []
    assert _all_one_class(tables, CLASSES, ["0"] * 20)[0].startswith(
        "every one of the 20 rows predicted is called '0', one of 3 classes: a model that "
        "calls every row one class"
    )
