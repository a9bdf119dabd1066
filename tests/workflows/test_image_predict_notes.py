"""``predict`` says per image what ``serve`` says of it. A trial: the terminal warned that
tiny6.png was upscaled over 4x and noted a colour-to-gray conversion, but the predictions file
named neither image, so a CSV user could not tell which were affected. Now column ``note``
holds each image's own notes, in serve's words (:func:`~medadapt.data.image_notes.image_notes`,
one source)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from medadapt.data.image_io import read_picture
from medadapt.data.image_notes import image_notes
from medadapt.data.image_schema import ImageSchema
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import TINY_IMAGE
from tests.train.image_data import write_png_csv


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("predict_notes")
    csv = write_png_csv(root / "train", {"A": {"normal": 8, "mass": 8}}, ["normal", "mass"])
    succeeded(run_cli("train-base", "--data", csv, *TINY_IMAGE, "--epochs", "1",
                      "--out", root / "base"))  # fmt: skip
    return root / "base"


def _new_images(tmp_path: Path, seed: int) -> tuple[Path, np.random.Generator]:
    """A folder of three ordinary gray images (g0-g2.png) and a 6-pixel one (tiny6.png), and
    the generator that drew them (for more)."""
    folder = tmp_path / "new"
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(3):  # as dark and grainy as the base's training films: nothing to say
        Image.fromarray(rng.integers(30, 80, (32, 32), dtype=np.uint8)).save(folder / f"g{i}.png")
    Image.fromarray(rng.integers(0, 255, (6, 6), dtype=np.uint8)).save(folder / "tiny6.png")
    return folder, rng


def test_each_image_s_notes_are_in_its_row(base, tmp_path):
    folder, rng = _new_images(tmp_path, seed=0)
    colour = (rng.integers(20, 90, (32, 32, 1)) + np.array([0, 5, 10])).astype(np.uint8)
    Image.fromarray(colour).save(folder / "colour.png")
    out = tmp_path / "pred.csv"
    result = succeeded(run_cli("predict", "--base", base, "--data", folder, "--on-error", "skip",
                               "--out", out))  # fmt: skip
    table = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("image")
    notes = {Path(name).name: note for name, note in table["note"].items()}
    schema = ImageSchema.from_dict(json.loads((base / "model.json").read_text())["schema"])
    for name in ("tiny6.png", "colour.png"):  # serve's words, joined as serve joins them
        read = read_picture(folder / name)
        assert notes[name] == "; ".join(image_notes(schema, name, read)) != ""
    assert "upscaled over 4x" in notes["tiny6.png"]
    assert notes["colour.png"].startswith("this colour image was converted to gray (luma:")
    assert [notes[f"g{i}.png"] for i in range(3)] == ["", "", ""]
    assert list(table.columns) == ["p_normal", "p_mass", "predicted", "outside_training", "note",
                                   "trained_on", "model"]  # fmt: skip
    printed = " ".join((result.stdout + result.stderr).split())
    assert "2 of the 5 images have a note" in printed and "in column 'note'" in printed
    assert str(folder) not in notes["tiny6.png"]  # the file by its name, not its path


def test_each_file_is_read_once_for_its_prediction_and_its_note(base, tmp_path, monkeypatch):
    """The note column was said by reading every file a second time after scoring."""
    from medadapt.data import image_files
    from medadapt.modalities import modality_of
    from medadapt.modalities.images.modality import NOTE_COLUMN

    folder, _ = _new_images(tmp_path, seed=1)
    reads = []
    scoreable = image_files.check_scoreable

    def counted(read):
        reads.append(read)
        return scoreable(read)

    monkeypatch.setattr(image_files, "check_scoreable", counted)
    modality = modality_of("image")
    schema = ImageSchema.from_dict(json.loads((base / "model.json").read_text())["schema"])
    model = type("Base", (), {"schema": schema})()
    samples = modality.read_unlabelled(folder, model, modality.options())
    assert len(reads) == 4  # one read per file, its note said from it
    notes = modality.prediction_flags(schema, samples)[NOTE_COLUMN]
    said = {Path(name).name: note for name, note in zip(samples.ids, notes, strict=True)}
    assert "upscaled over 4x" in said["tiny6.png"] and said["g0.png"] == ""
