"""One image far unlike every training image of its model (pure noise, a near-blank frame) is
said where it is scored: in ``predict``'s warnings and its ``note`` column, and in a served
answer's ``note``. A trial's image of noise was answered with confidence and no word of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from medadapt.data.image_io import image_look, look_ranges
from medadapt.data.image_look import one_image_note, unlike_look
from medadapt.data.image_schema import ImageSchema
from tests.train.image_data import make_dataset
from tests.workflows.test_image_cli import run

FILMS = make_dataset({"normal": 20, "mass": 20}, ("normal", "mass"), size=32).images
SCHEMA = ImageSchema(classes=("normal", "mass"), channels=1, image_size=32,
                     **{k: tuple(v) for k, v in look_ranges(FILMS).items()})  # fmt: skip


def test_grain_is_the_mean_difference_between_neighbouring_pixels():
    image = torch.tensor([[[0.0, 0.5, 0.5], [1.0, 1.0, 0.0]]])  # (C, H, W)
    across = (0.5 + 0.0 + 0.0 + 1.0) / 4  # |0.5-0|, |0.5-0.5|, |1-1|, |0-1|
    down = (1.0 + 0.5 + 0.5) / 3
    mean, spread, grain = image_look(image)
    assert grain == pytest.approx((across + down) / 2)
    assert mean == pytest.approx(float(image.mean()))
    assert spread == pytest.approx(float(image.std(correction=0)))
    ranges = look_ranges(FILMS)
    grains = [image_look(film)[2] for film in FILMS]
    assert ranges["grain"] == [round(float(v), 4) for v in np.percentile(grains, [5, 95])]


def test_noise_and_a_near_blank_frame_are_said_and_the_model_s_own_kind_of_image_is_not():
    noise = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0))
    ways = unlike_look(SCHEMA, image_look(noise))
    assert ways[0].startswith("brighter (mean intensity 0.5")
    assert ways[-1].startswith("grainier, like noise (mean difference between neighbouring ")
    blank = torch.full((1, 32, 32), 0.02) + 0.001 * torch.rand(1, 32, 32)
    said = unlike_look(SCHEMA, image_look(blank))
    assert [w.split(" (")[0] for w in said] == ["darker", "lower in contrast",
                                               "smoother, as if blurred"]  # fmt: skip
    others = make_dataset({"normal": 10, "mass": 10}, ("normal", "mass"), size=32, seed=7).images
    assert [unlike_look(SCHEMA, image_look(film)) for film in others] == [[]] * 20
    old = ImageSchema(classes=("normal", "mass"), channels=1, image_size=32)
    assert unlike_look(old, image_look(noise)) == []  # a base saved before it recorded them
    assert one_image_note([]) is None
    assert one_image_note(ways) == (
        f"it looks far unlike every training image of the model: {'; '.join(ways)}; its "
        "prediction may be unreliable (noise, a blank frame or another kind of image is scored "
        "as if it were one of them): check it is the right image, prepared as the training "
        "images were"
    )


def _pictures(folder, seed: int = 0):
    """A noise picture, and one as dark and grainy as the training films."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (32, 32)).astype(np.uint8)).save(folder / "noise.png")
    Image.fromarray(rng.integers(30, 80, (32, 32)).astype(np.uint8)).save(folder / "film.png")
    return folder / "noise.png", folder / "film.png"


def test_predict_warns_of_the_noise_image_and_notes_it_in_its_row(films_base, tmp_path, capsys):
    noise, film = _pictures(tmp_path / "new")
    capsys.readouterr()
    assert run("predict", "--base", str(films_base / "base"), "--data", str(tmp_path / "new"),
               "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    said = " ".join(capsys.readouterr().out.split())
    assert f"warning: {noise}: it looks far unlike every training image of the model: " in said
    assert "grainier, like noise" in said and "film.png" not in said
    rows = pd.read_csv(tmp_path / "p.csv", keep_default_na=False).set_index("image")
    assert rows.loc[str(noise), "outside_training"].startswith("looks unlike training: ")
    assert "grainier, like noise" in rows.loc[str(noise), "note"]
    assert rows.loc[str(film), "outside_training"] == "" and rows.loc[str(film), "note"] == ""


def test_the_server_notes_a_noise_upload(films_base, tmp_path):
    from medadapt.modalities.bundle import BaseModel
    from medadapt.serve.image_decode import decode
    from medadapt.serve.image_inputs import ImageServing, Upload

    schema = BaseModel.load(films_base / "base").schema
    noise, film = _pictures(tmp_path)
    samples = decode([Upload("noise.png", noise, "png"), Upload("film.png", film, "png")],
                     schema, ImageServing())  # fmt: skip
    assert samples[0].note.startswith("it looks far unlike every training image of the model: ")
    assert "check it is the right image" in samples[0].note
    assert samples[1].note is None


def test_each_slice_of_a_volume_is_judged_on_its_own():
    """A review: one blank slice of six made every slice's row read "looks unlike training",
    and a grain of 0 read "about 61,300 times less"; an image enlarged to the model's size
    (smoothed by it) read "as if blurred"."""
    from medadapt.data.image_files import unlike_training
    from medadapt.data.image_io import FileRead
    from medadapt.data.image_notes import _look_of_samples

    films = [film.numpy() for film in others_like_films(5)]
    blank = np.zeros_like(films[0])
    read = FileRead(samples=[*films, blank], how="fixed_scale", frames=list(range(6)))
    unlike = unlike_training(SCHEMA, "volume.nii", read)
    assert [bool(ways) for ways in unlike.looks] == [False] * 5 + [True]
    assert [unlike.words(k) == "" for k in range(6)] == [True] * 5 + [False]
    assert "flat (no difference between neighbouring pixels, against " in unlike.words(5)
    (odd,) = unlike.odd_looks("volume.nii", read.frames)  # the warning names the slice
    assert odd[0] == "volume.nii#slice5"
    many = _look_of_samples([["darker (x)"]] * 7, list(range(7)))
    assert many.startswith("slices 0, 1, 2, 3, 4 and 2 more of it look far unlike ")
    note = _look_of_samples(unlike.looks, read.frames)
    assert note.startswith("slice 5 of it looks far unlike every training image of the model")
    two = _look_of_samples([[], ["darker (x)"], ["darker (y)"]], [0, 1, 2])
    assert two.startswith("slices 1, 2 of it look far unlike every training image of the "
                          "model (the first): darker (x); their predictions may be ")  # fmt: skip
    small = films[0][:, ::2, ::2]  # 16 px, enlarged twice to the model's 32: smoother, unsaid
    enlarged = unlike_training(SCHEMA, "crop.png", FileRead(samples=[small], how="fixed_scale"))
    assert not any("smoother" in way for way in enlarged.looks[0])


def others_like_films(n: int) -> torch.Tensor:
    """``n`` films like the training ones, of another seed."""
    return make_dataset({"normal": n, "mass": 0}, ("normal", "mass"), size=32, seed=9).images
