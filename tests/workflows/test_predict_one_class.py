"""``predict`` says when every sample it predicts is called one class of three or more: a
trial's 75 images of a site with inverted contrast were all 'mass' (p 0.98) without a word,
where ``evaluate`` said it of a labelled set; and, for images as for tables, how many of the
images it predicts a model trained on."""

from __future__ import annotations

import json

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


def test_image_predict_on_the_bases_training_images_says_they_are_in_sample(tmp_path, capsys):
    """A trial's ``predict`` on a base's own training folder (45 of its 75 images trained
    on) printed only "wrote 75 predictions"; tables said it. Recognised by pixel key."""
    from tests.data.makers import disc_folder
    from tests.workflows.test_image_cli import TINY, run

    folder = disc_folder(tmp_path / "cases", n=12, size=16)
    assert run("train-base", "--data", str(folder), *TINY, "--epochs", "1",
               "--out", str(tmp_path / "base")) == 0  # fmt: skip
    capsys.readouterr()
    assert run("predict", "--base", str(tmp_path / "base"), "--data", str(folder),
               "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    trained = json.loads((tmp_path / "base" / "model.json").read_text())["training"]
    n = trained["n_train"] + (trained["n_val"] or 0)
    assert (
        f"warning: {n} of the 24 images predicted match images that the base model trained on (by "
        "content; column trained_on says which): their predictions are in-sample"
    ) in capsys.readouterr().out
