"""Images far darker or brighter than a model's training images: a base records how bright its
training images were (their brightest levels), and predict, evaluate/adapt and the server
compare each new image with that, in place of the 12-bit guess from the files alone."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from medadapt.data.image_files import (
    brightness_note,
    read_unlabelled,
    scaling_note,
    unlike_training_brightness,
)
from medadapt.data.image_io import brightness_level, brightness_range
from medadapt.data.image_schema import ImageSchema
from medadapt.data.images import load_images
from tests.data.makers import write_npz, write_picture
from tests.workflows.test_image_cli import run

TINY = ["--image-size", "8", "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]
FILMS, DETECTOR = (100, 200), (2000, 4000)  # 8-bit films; 12-bit detector values in 16 bits
DARKER = (
    "if they hold 12-bit detector data in 16-bit files, train the base with --bits-stored 12 "
    "(16-bit pictures are then divided by 4095, not 65535); if they were exported or windowed "
    "otherwise than the training images, export them as those were"
)


def _half(value: int, dtype: type, seed: int = 0) -> np.ndarray:
    """16x16 pixels, half of them ``value`` and half 0 (its brightest level: value / max),
    the bright half moved by ``seed`` rows so that no two files are the same."""
    pixels = np.zeros((16, 16), dtype=dtype)
    pixels[seed % 8 : seed % 8 + 8] = value
    return pixels


def _folder(root, values: tuple[int, int], dtype: type, n: int = 4):
    """``root/dark`` and ``root/bright``, ``n`` pictures each, at ``values`` (dark, bright)."""
    for i in range(n):
        for label, value in zip(("dark", "bright"), values, strict=True):
            write_picture(root / label / f"{label}{i}.png", _half(value, dtype, seed=i))
    return root


def _said(capsys) -> str:
    printed = capsys.readouterr()
    return " ".join((printed.out + printed.err).split())


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """A base trained on 8-bit films, one on 12-bit detector values in 16-bit PNGs (no
    --bits-stored: as dark as those), and the folders they were trained on."""
    root = tmp_path_factory.mktemp("brightness")
    films = _folder(root / "films", FILMS, np.uint8)
    detector = _folder(root / "detector", DETECTOR, np.uint16)
    for name, data in (("films_base", films), ("detector_base", detector)):
        assert run("train-base", "--data", str(data), *TINY, "--epochs", "1",
                   "--out", str(root / name)) == 0  # fmt: skip
    return root


def _schema(root, name: str) -> ImageSchema:
    from medadapt.modalities.bundle import BaseModel

    return BaseModel.load(root / name).schema


def _incoming(root):
    """Two new 12-bit detector pictures in 16-bit PNGs (brightest levels 0.061 and 0.031)."""
    a = write_picture(root / "a.png", _half(4000, np.uint16, seed=5))
    b = write_picture(root / "b.png", _half(2000, np.uint16, seed=6))
    return root, a, b


def test_a_base_records_its_training_brightness_and_old_schemas_load_without_it(bases):
    films, detector = _schema(bases, "films_base"), _schema(bases, "detector_base")
    assert films.brightness == (0.3922, 0.7843)  # 100/255 and 200/255
    assert detector.brightness == (0.0305, 0.061)  # 2000/65535 and 4000/65535
    stored = json.loads((bases / "films_base" / "model.json").read_text())["schema"]
    assert stored["brightness"] == [0.3922, 0.7843]
    assert ImageSchema.from_dict(films.to_dict()) == films
    old = {k: v for k, v in films.to_dict().items() if k != "brightness"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ImageSchema.from_dict(old).brightness is None  # models saved before it
    assert not unlike_training_brightness(ImageSchema.from_dict(old), 0.001)
    assert brightness_range([]) is None
    assert brightness_range([0.1, 0.2, 0.3, 0.4, 0.5]) == [0.12, 0.48]  # 5th and 95th
    assert brightness_level(_half(200, np.uint8)[None] / 255) == pytest.approx(200 / 255)
    # a margin of 4 either way: 0.3922 / 4 = 0.098, 0.7843 * 4 > 1
    assert unlike_training_brightness(films, 0.09) and not unlike_training_brightness(films, 0.1)
    assert unlike_training_brightness(detector, 0.25) and not unlike_training_brightness(
        detector, 0.24
    )
    assert brightness_note(detector, [], 3) is None
    twelve = replace(films, bits_stored=12)  # 16-bit pictures already divided by 4095
    assert brightness_note(twelve, [("a.png", 0.05)], 1) == (
        "a.png: brightest level 0.05 (the 99th percentile of its intensities, 0 to 1) against "
        "0.39 to 0.78 in the model's training images, about 7.8 times darker than them: its "
        "prediction may be unreliable; if it was exported or windowed otherwise than the "
        "training images, export it as those were"
    )
    assert brightness_note(detector, [("a.png", 0.001), ("b.png", 0.9)], 3) == (
        "2 of 3 images are far darker or brighter than the model's training images (first: "
        "a.png, brightest level 0.001 against 0.03 to 0.061 in training, about 30 times "
        f"darker): their predictions may be unreliable; {DARKER}"
    )


def test_predict_says_12_bit_pictures_are_far_darker_than_a_base_of_8_bit_films(
    bases, tmp_path, capsys
):
    folder, a, _ = _incoming(tmp_path / "incoming")
    schema = _schema(bases, "films_base")
    read = read_unlabelled(folder, schema)
    note = (
        f"2 of 2 files are far darker than the model's training images (first: {a}, brightest "
        "level 0.061 against 0.39 to 0.78 in training, about 6.4 times darker): their "
        f"predictions may be unreliable; {DARKER}"
    )
    assert read.warnings == [note]  # and no 12-bit guess: the comparison replaces it
    assert read.unlike == [
        "darker than training (0.061 against 0.39-0.78)",
        "darker than training (0.031 against 0.39-0.78)",
    ]
    assert read_unlabelled(a, schema).warnings == [
        f"{a}: brightest level 0.061 (the 99th percentile of its intensities, 0 to 1) against "
        "0.39 to 0.78 in the model's training images, about 6.4 times darker than them: its "
        "prediction may be unreliable; if it holds 12-bit detector data in a 16-bit file, "
        "train the base with --bits-stored 12 (16-bit pictures are then divided by 4095, not "
        "65535); if it was exported or windowed otherwise than the training images, export it "
        "as those were"
    ]
    capsys.readouterr()
    out = tmp_path / "p.csv"
    assert run("predict", "--base", str(bases / "films_base"), "--data", str(folder),
               "--out", str(out)) == 0  # fmt: skip
    said = _said(capsys)
    assert f"warning: {note}" in said and "16-bit pictures in" not in said
    table = pd.read_csv(out, keep_default_na=False)
    assert table["outside_training"].tolist() == read.unlike


def test_evaluate_and_adapt_data_say_it_too(bases):
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel

    images = modality_of("image")
    samples = images.read_for_model(bases / "detector", BaseModel.load(bases / "films_base"),
                                    images.options())  # fmt: skip
    first = bases / "detector" / "bright" / "bright0.png"
    assert samples.notes == [
        "8 of 8 images in detector are far darker than the model's training images (first: "
        f"{first}, brightest level 0.061 against 0.39 to 0.78 in training, about 6.4 times "
        f"darker): their predictions may be unreliable; {DARKER}"
    ]


def test_a_base_trained_on_as_dark_pictures_says_nothing_and_old_bases_keep_the_guess(
    bases, tmp_path
):
    folder, _, _ = _incoming(tmp_path / "incoming")
    schema = _schema(bases, "detector_base")
    read = read_unlabelled(folder, schema)
    assert read.warnings == [] and read.unlike == ["", ""]  # as dark as its training images
    old = read_unlabelled(folder, replace(schema, brightness=None))  # saved before brightness
    assert old.warnings == [
        "all 2 16-bit pictures in incoming hold values of at most 4095, as 12-bit detector data "
        "does: divided by 65535 they reach the model at most 0.0625 bright (nearly black), "
        "unlike 8-bit or full 16-bit pictures of the same scene; if they are 12-bit data, train "
        "the base with --bits-stored 12 (train-base or study) so that every command divides by "
        "4095"
    ]
    film = write_picture(tmp_path / "film.png", _half(200, np.uint8, seed=3))
    assert read_unlabelled(film, schema).warnings == [
        f"{film}: brightest level 0.78 (the 99th percentile of its intensities, 0 to 1) "
        "against 0.03 to 0.061 in the model's training images, about 13 times brighter than "
        "them: its prediction may be unreliable; if the model's training images were 12-bit "
        "detector data in 16-bit files (read nearly black), train the base again with "
        "--bits-stored 12; if it was exported or windowed otherwise than the training images, "
        "export it as those were"
    ]
    assert read_unlabelled(film, schema).unlike == ["brighter than training (0.78 against "
                                                    "0.03-0.061)"]  # fmt: skip


def test_a_served_upload_is_said_darker_than_the_training_images_only_when_it_is(bases, tmp_path):
    from medadapt.serve.image_decode import decode
    from medadapt.serve.image_inputs import ImageServing, Upload

    _, a, _ = _incoming(tmp_path / "incoming")
    upload = [Upload("detector.png", a, "png")]
    (films,) = decode(upload, _schema(bases, "films_base"), ImageServing())
    assert films.note == (
        "brightest level 0.061 (the 99th percentile of its intensities, 0 to 1) against 0.39 "
        "to 0.78 in the model's training images, about 6.4 times darker than them: its "
        "prediction may be unreliable; if it holds 12-bit detector data in a 16-bit file, "
        "train the base with --bits-stored 12 (16-bit pictures are then divided by 4095, not "
        "65535); if it was exported or windowed otherwise than the training images, export it "
        "as those were"
    )
    (detector,) = decode(upload, _schema(bases, "detector_base"), ImageServing())
    assert detector.note is None  # no 12-bit guess: its training images were as dark


def _npz(path, values: tuple[int, int], dtype: type):
    """A MedMNIST-style .npz: every split four images per class at ``values``."""
    images = np.stack([_half(values[i % 2], dtype, seed=i) for i in range(8)])
    labels = np.arange(8) % 2
    return write_npz(path, **{f"{split}_{kind}": images if kind == "images" else labels
                              for split in ("train", "val", "test")
                              for kind in ("images", "labels")})  # fmt: skip


def test_uint16_npz_arrays_within_12_bits_are_said_at_train_base_and_compared_later(
    bases, tmp_path, capsys
):
    from medadapt.modalities.bundle import BaseModel

    npz = _npz(tmp_path / "scans.npz", DETECTOR, np.uint16)
    assert load_images(_npz(tmp_path / "films.npz", FILMS, np.uint8), image_size=8).warnings == []
    capsys.readouterr()
    assert run("train-base", "--data", str(npz), *TINY, "--epochs", "1",
               "--out", str(tmp_path / "base")) == 0  # fmt: skip
    assert (
        "warning: all 8 uint16 images of train_images of scans.npz hold values of at most "
        "4095, as 12-bit detector data does: divided by 65535 they reach the model at most "
        "0.0625 bright (nearly black); if they are 12-bit data, multiply the arrays by 16 "
        "(4095 becomes 65520) and save the .npz again: --bits-stored applies to 16-bit PNG "
        "pictures, not to .npz arrays"
    ) in _said(capsys)
    assert BaseModel.load(tmp_path / "base").schema.brightness == (0.0305, 0.061)
    read = read_unlabelled(npz, _schema(bases, "films_base"))  # its test split, scored
    assert read.warnings == [
        f"8 of 8 images are far darker than the model's training images (first: {npz}#test/0, "
        "brightest level 0.031 against 0.39 to 0.78 in training, about 13 times darker): "
        f"their predictions may be unreliable; {DARKER}"
    ]
    assert read.unlike[:2] == ["darker than training (0.031 against 0.39-0.78)",
                               "darker than training (0.061 against 0.39-0.78)"]  # fmt: skip
    assert read_unlabelled(npz, _schema(bases, "detector_base")).warnings == []


def test_an_adapter_trained_on_darker_images_widens_the_brightness_it_was_trained_on(
    bases, tmp_path, capsys
):
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel

    base = BaseModel.load(bases / "films_base")
    images = modality_of("image")
    samples = images.read_for_model(bases / "detector", base, images.options())
    seen = images.inputs_seen(base.schema, samples)
    assert seen == {"aspect": [1.0, 1.0], "brightness": [0.0305, 0.061],
                    "intensity": ["fixed_scale"], "mean_level": [0.0153, 0.0305],
                    "contrast": [0.0132, 0.0305], "grain": [0.0026, 0.0087]}  # fmt: skip
    assert images.with_inputs_seen(base.schema, seen).brightness == (0.0305, 0.7843)
    assert images.with_inputs_seen(base.schema, {"aspect": [1.0, 1.0]}) == base.schema
    old = images.with_inputs_seen(replace(base.schema, brightness=None), seen)
    assert old.brightness is None  # a base that recorded none is not given one
    # a trial: DICOM without a window at a PNG base's site was warned of on every image
    assert scaling_note(base.schema, "min_max").startswith("intensities min-max scaled")
    through = images.with_inputs_seen(base.schema, {"intensity": ["min_max"]})
    assert scaling_note(through, "min_max") is None  # an adapter trained on them knows them
    assert through.intensity == {"min_max": 0, **base.schema.intensity}

    adapter = tmp_path / "adapter"
    assert run("adapt", "--base", str(bases / "films_base"), "--data", str(bases / "detector"),
               "--method", "lora", "--epochs", "1", "--out", str(adapter)) == 0  # fmt: skip
    manifest = json.loads((adapter / "adapter.json").read_text())
    assert manifest["metadata"]["inputs_seen"]["brightness"] == [0.0305, 0.061]
    folder, _, _ = _incoming(tmp_path / "incoming")
    capsys.readouterr()
    assert run("predict", "--base", str(bases / "films_base"), "--adapter", str(adapter),
               "--data", str(folder), "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    said = _said(capsys)
    assert "wrote 2 predictions" in said and "darker" not in said
