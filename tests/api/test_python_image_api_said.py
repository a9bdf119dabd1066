"""What the image API says where a notebook user goes wrong (a trial, in Python): a base
that puts its classes in another order than the data's (scored with the folders' order, its
AUROC read 0.0), data of the model's classes in another order or misspelt, too few images to
adapt on, and images that look unlike the base's training ones (another scanner)."""

from __future__ import annotations

import warnings

import pytest
import torch

from medadapt import images
from medadapt.data.images import ImageDataset
from medadapt.errors import DataError
from medadapt.train.loop import TrainConfig
from tests.train.image_data import make_dataset

TINY = {"depth": 1, "embed_dim": 32, "num_heads": 2}
QUICK = TrainConfig(epochs=1, batch_size=32)
FOLDERS = ["nodule", "normal"]  # as a folder of class folders loads: sorted


@pytest.fixture(scope="module")
def base():
    torch.manual_seed(0)
    data = make_dataset({"nodule": 20, "normal": 20}, FOLDERS, seed=3)
    with pytest.warns(UserWarning) as said:
        trained = images.train_base(data, backbone_options=TINY, train_config=QUICK)
    return trained, [str(w.message) for w in said]


def test_a_base_that_reorders_the_classes_says_so_and_how_to_load_images_to_score(base):
    trained, said = base
    assert trained.schema.classes == ("normal", "nodule")
    assert (
        "the model's classes are ('normal', 'nodule') (the positive class last), not "
        "dataset's order ['nodule', 'normal']: predict_proba's columns follow the model's; "
        "score them with images.score_images(dataset, p, base.schema.classes), which reads the "
        "labels by name (a label array must follow the model's order: images.load_images(..., "
        "classes=base.schema.classes))"
    ) in said
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # in the model's order: nothing said
        images.train_base(make_dataset({"normal": 6, "nodule": 6}, ["normal", "nodule"]),
                          backbone_options=TINY, train_config=QUICK)  # fmt: skip


@pytest.mark.parametrize(
    ("classes", "says"),
    [
        (FOLDERS, "dataset's classes ['nodule', 'normal'] are the model's ['normal', "
         "'nodule'] in another order, so its labels would be read as the wrong classes: load "
         "it with images.load_images(..., classes=base.schema.classes)"),
        (["nodlue", "normal"], "dataset's classes ['nodlue', 'normal'] are not the model's "
         "['normal', 'nodule'] ('nodlue': did you mean 'nodule'?): rename the folders or "
         "labels, or load it with images.load_images(..., classes=base.schema.classes)"),
    ],
    ids=["order", "misspelt"],
)  # fmt: skip
def test_data_of_other_classes_is_refused_naming_where_the_model_s_are(base, classes, says):
    made = make_dataset({"nodule": 8, "normal": 8}, FOLDERS, seed=5)
    data = ImageDataset(images=made.images, y=made.y, classes=list(classes))
    with pytest.raises(DataError) as err:
        images.adapt(base[0], data, method="lora", name="b", train_config=QUICK)
    assert str(err.value) == says


def test_too_few_images_and_a_site_that_looks_otherwise_are_warned_of_at_adapt(base):
    trained = base[0]
    classes = list(trained.schema.classes)
    tiny = make_dataset({"normal": 4, "nodule": 4}, classes, seed=7)
    with pytest.warns(UserWarning) as said:
        images.adapt(trained, tiny, method="lora", name="t", train_config=QUICK)
    messages = [str(w.message) for w in said]
    assert "only 8 training images: the adapter's figures will be very uncertain; pass more " \
        "images in dataset" in messages  # fmt: skip
    assert any(m.startswith("classes 'nodule' and 'normal' have 4 and 4 of the 8 images of "
                            "dataset") for m in messages)  # fmt: skip
    site = make_dataset({"normal": 10, "nodule": 10}, classes, seed=9)
    bright = ImageDataset(images=(0.5 + 0.3 * site.images).clamp(0, 1), y=site.y,
                          classes=classes)  # fmt: skip
    with pytest.warns(UserWarning) as said:
        images.adapt(trained, bright, method="lora", name="s", train_config=QUICK)
    assert any(str(w.message).startswith("these 20 images look unlike the base model's "
                                         "training images on the whole") for w in said)  # fmt: skip


def test_load_unlabelled_says_when_the_images_look_unlike_the_base_s(base, tmp_path):
    """A trial's ``load_unlabelled`` of a brighter site returned no warning, where ``medadapt
    predict`` on the same folder warned that the images look unlike the training images."""
    import numpy as np
    from PIL import Image

    trained = base[0]
    site = make_dataset({"normal": 6, "nodule": 6}, list(trained.schema.classes), seed=9)
    for i, image in enumerate((0.5 + 0.3 * site.images).clamp(0, 1)):
        pixels = (image[0].numpy() * 255).round().astype(np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"case{i:02d}.png")
    _, ids, _, said = images.load_unlabelled(tmp_path, trained.schema)
    assert len(ids) == 12
    assert [s for s in said if s.startswith("these 12 images look unlike the base model's "
                                            "training images on the whole: brighter")]  # fmt: skip


def test_predict_proba_counts_the_images_the_base_or_the_adapter_trained_on(base):
    """A trial scored an adapter's own training images with ``predict_proba`` (AUROC 1.0)
    without a word, where ``ma.predict`` counts a table's in-sample rows."""
    trained = base[0]
    classes = list(trained.schema.classes)
    site = make_dataset({"normal": 10, "nodule": 10}, classes, seed=5)
    adapted = images.adapt(trained, site, method="lora", name="s", train_config=QUICK)
    fresh = make_dataset({"normal": 5, "nodule": 5}, classes, seed=8)
    seen = make_dataset({"nodule": 20, "normal": 20}, FOLDERS, seed=3).images[:3]  # the base's
    with pytest.warns(UserWarning) as said:
        images.predict_proba(adapted.model, torch.cat([site.images, seen, fresh.images]),
                             adapter="s")  # fmt: skip
    assert [str(w.message) for w in said] == [
        "23 of the 33 images scored match images that the base model or adapter 's' trained "
        "on (by their pixels): their scores are in-sample, more confident and more often "
        "right than the model is on new patients; leave them out of any figure (medadapt "
        "evaluate does)"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # new images: nothing said
        images.predict_proba(adapted.model, fresh.images, adapter="s")


def test_a_list_of_paths_is_refused_saying_what_a_source_is():
    """A trial's ``load_images(sorted(glob(...)))`` raised "expected str, bytes or
    os.PathLike object, not list" from pathlib."""
    with pytest.raises(DataError) as err:
        images.load_images(["a.png", "b.png"], image_size=32)
    assert str(err.value) == (
        "source must be one path (a folder, a path CSV, an .npz), not a list: put the images "
        "in a folder (one sub-folder per class), or list them in a CSV with a path column and "
        "a label column"
    )


def test_a_new_class_spelt_like_the_base_s_is_warned_of_in_python_words(base):
    """A trial's ``images.adapt(..., new_classes=[...])`` was warned in the command line's
    words (``--new-classes``); now the argument's, from the caller's own line."""
    trained = base[0]
    made = make_dataset({"normal": 8, "nodule": 8, "effusion": 8},
                        [*trained.schema.classes, "effusion"], seed=11)  # fmt: skip
    data = ImageDataset(images=made.images, y=made.y,
                        classes=[*trained.schema.classes, "nodulle"])  # fmt: skip
    with pytest.warns(UserWarning) as said:
        images.adapt(trained, data, method="lora", name="g", new_classes=["nodulle"],
                     train_config=QUICK)  # fmt: skip
    typo = [w for w in said if "spelt like" in str(w.message)]
    assert [str(w.message) for w in typo] == [
        "new_classes nodulle is spelt like the base model's class 'nodule': a typo? if so, "
        "rename the images' class to 'nodule' and drop it from new_classes"
    ]
    assert typo[0].filename == __file__  # said from this line, not from medadapt's
    assert not [w for w in said if "--" in str(w.message)]


def _library_warns() -> None:
    """Another library's warning, raised outside medadapt's package (this file)."""
    warnings.warn("pass --old-arg no more", DeprecationWarning, stacklevel=1)


def test_another_library_s_warning_is_shown_as_raised_not_reworded(base, monkeypatch):
    """A review: the Python-words wrapper re-issued every warning, timm's and torch's too,
    from the caller's line with their "--flags" rewritten, so a filter by module no longer
    matched them. medadapt's own are reworded; another library's are left as raised."""
    from medadapt.train import fitting

    trained = base[0]
    real = fitting.adapt

    def adapt(*args, **kwargs):
        _library_warns()
        return real(*args, **kwargs)

    monkeypatch.setattr(fitting, "adapt", adapt)
    data = make_dataset({"normal": 8, "nodule": 8}, list(trained.schema.classes), seed=13)
    with pytest.warns(DeprecationWarning) as said:
        images.adapt(trained, data, method="lora", name="w", train_config=QUICK)
    [library] = [w for w in said if w.category is DeprecationWarning]
    assert str(library.message) == "pass --old-arg no more"  # not "old_arg"
    assert (
        library.filename == __file__
        and library.lineno == _library_warns.__code__.co_firstlineno + 2
    )


def test_a_class_the_command_line_refuses_is_a_warning_in_python():
    """A trial's class of 2 images beside 30 of each other: the command line refuses it
    (without --class-names); images.train_base trained on it without a word."""
    data = make_dataset({"nodule": 20, "normal": 20, "mass": 2}, ["nodule", "normal", "mass"],
                        seed=4)  # fmt: skip
    with pytest.warns(UserWarning) as said:
        images.train_base(data, backbone_options=TINY, train_config=QUICK)
    assert (
        "class 'mass' has 2 of the 42 images (fewer than 5, the fewest any figure about a "
        "class rests on): a base model cannot learn a class from so few, nor be tested on it; "
        "images.train_base trains on it as given: add images of 'mass', file them under the "
        "class they belong to (move them into that class's folder, or correct the label), or "
        "remove them"
    ) in [str(w.message) for w in said]


def test_blank_training_images_are_a_warning_in_python():
    """A trial's folder held a one-value picture: load_images kept it (keep_blank=True) and
    train_base trained on it without a word, where the command line refuses it."""
    data = make_dataset({"nodule": 10, "normal": 10}, FOLDERS, seed=5)
    data.images[3] = 0.0  # one value throughout
    with pytest.warns(UserWarning) as said:
        images.train_base(data, backbone_options=TINY, train_config=QUICK)
    blank = [str(w.message) for w in said if "blank" in str(w.message)]
    assert blank == [
        "1 of the dataset's 20 images is blank (every pixel one value; the first: "
        f"{data.paths[3] if data.paths else 'image 3'}): it teaches the model nothing; leave "
        "them out (images.load_images(..., keep_blank=False) refuses them, as the command line "
        "does, or leaves them out with on_error='skip')"
    ]
