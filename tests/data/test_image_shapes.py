"""Images shaped unlike a model's training images (a 4:1 strip for a model trained on square
films) are fitted to its square all the same; what it scores then looks unlike anything it
learned from. A base records its training images' shapes; predict, evaluate, adapt and the
server say when an image falls outside them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from medadapt.data.image_files import load_unlabelled, shape_note, unlike_training_shape
from medadapt.data.image_schema import ImageSchema
from tests.workflows.test_image_cli import run


def _schema(**kw) -> ImageSchema:
    return ImageSchema(classes=("normal", "mass"), channels=1, image_size=32, **kw)


def _png(path, height: int, width: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(height * width)  # as dark and grainy as the training films
    pixels = rng.integers(30, 80, (height, width))
    Image.fromarray(pixels.astype(np.uint8)).save(path)


def test_an_image_a_quarter_beyond_the_training_shapes_is_said_and_old_bases_say_nothing():
    square = _schema(aspect=(1.0, 1.1))
    assert not unlike_training_shape(square, 1.375)  # 1.1 x 1.25: the margin's edge
    assert unlike_training_shape(square, 1.4) and unlike_training_shape(square, 4.0)
    assert not unlike_training_shape(_schema(), 4.0)  # bases saved before shapes were kept
    assert ImageSchema.from_dict(square.to_dict()) == square
    assert shape_note(square, [("strip.png", 4.0)], 3) == (
        "strip.png: shaped 4:1 (longer side to shorter), but the model's training images were "
        "1:1 to 1.1:1: padded to a square, it looks unlike them; its prediction may be "
        "unreliable"
    )
    stretched = _schema(aspect=(1.0, 1.0), fit="stretch")
    assert shape_note(stretched, [("a.png", 2.0), ("b.png", 3.0)], 5) == (
        "2 of 5 images (first: a.png, 2:1) are shaped unlike the model's training images "
        "(1:1, longer side to shorter): stretched to a square, they look unlike them; their "
        "predictions may be unreliable"
    )
    assert shape_note(square, [], 3) is None
    assert shape_note(square, [("line.png", 150.0)], 1).startswith("line.png: shaped 150:1 (")
    volumes = _schema(aspect=(1.0, 1.0), spatial_dims=3)
    assert shape_note(volumes, [("a.nii", 2.0), ("b.nii", 2.0)], 4, "files").startswith(
        "2 of 4 files (first: a.nii, 2:1) are shaped unlike the model's training images (1:1, "
        "longer side to shorter): padded to a cube,"
    )
    from medadapt.data.image_io import aspect_ratio

    assert aspect_ratio(np.zeros((1, 40, 64, 64))) == 1.0  # a volume: its slices' shape
    assert aspect_ratio(np.zeros((1, 16, 64))) == 4.0


def test_a_base_records_its_training_shapes_and_predict_says_which_images_differ(
    films_base, tmp_path, capsys
):
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel

    base = BaseModel.load(films_base / "base")
    assert base.schema.aspect == (1.0, 1.0)  # write_png_csv's films are square
    _png(tmp_path / "new" / "normal" / "square.png", 32, 32)
    _png(tmp_path / "new" / "normal" / "wide.png", 40, 36)  # 1.1:1, within a quarter
    _png(tmp_path / "new" / "mass" / "strip.png", 16, 64)  # 4:1
    _, _, _, warnings = load_unlabelled(tmp_path / "new", base.schema)
    strip = tmp_path / "new" / "mass" / "strip.png"
    assert warnings == [
        f"{strip}: shaped 4:1 (longer side to shorter), but the model's training images were "
        "1:1: padded to a square, it looks unlike them; its prediction may be unreliable"
    ]
    images = modality_of("image")
    samples = images.read_for_model(tmp_path / "new", base, images.options())
    assert samples.notes == warnings  # evaluate and adapt say it as predict does
    capsys.readouterr()
    assert run("predict", "--base", str(films_base / "base"), "--data", str(tmp_path / "new"),
               "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    said = capsys.readouterr()
    assert "strip.png: shaped 4:1" in " ".join((said.out + said.err).split())
    _png(tmp_path / "new" / "mass" / "wide_strip.png", 64, 16)  # 4:1 the other way
    _, _, _, warnings = load_unlabelled(tmp_path / "new", base.schema)
    assert warnings[0].startswith(f"2 of 4 files (first: {strip}, 4:1) are shaped unlike")
    samples = images.read_for_model(tmp_path / "new", base, images.options())
    assert samples.notes[0].startswith(f"2 of 4 images in new (first: {strip}, 4:1) are")


def test_the_server_notes_an_upload_shaped_unlike_the_training_images(films_base, tmp_path):
    from medadapt.modalities.bundle import BaseModel
    from medadapt.serve.image_decode import decode
    from medadapt.serve.image_inputs import ImageServing, Upload

    schema = BaseModel.load(films_base / "base").schema
    _png(tmp_path / "u1.png", 32, 32)
    _png(tmp_path / "u2.png", 16, 64)
    samples = decode([Upload("square.png", tmp_path / "u1.png", "png"),
                      Upload("strip.png", tmp_path / "u2.png", "png")], schema,
                     ImageServing())  # fmt: skip
    assert samples[0].note is None
    assert samples[1].note == (
        "shaped 4:1 (longer side to shorter), but the model's training images were 1:1: "
        "padded to a square, it looks unlike them; its prediction may be unreliable"
    )
