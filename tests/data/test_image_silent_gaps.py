"""What the image path used to do silently: blank images inside an ``.npz`` trained on, blank
files counted as unreadable, colour and transparency dropped for a gray model unsaid, and an
``.npz``'s val/test arrays left unused without a word."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

from medadapt.data.images import SkippedFilesWarning, load_images
from medadapt.data.read_errors import BLANK_REASON
from medadapt.errors import DataError
from tests.cli.helpers import run_cli, succeeded
from tests.data.makers import disc, disc_folder, write_npz, write_picture

BLANK_WORDS = "every pixel the same value"
TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]  # fmt: skip


def _npz(path: Path, n: int = 20, blank: tuple[int, ...] = (), **more: np.ndarray) -> Path:
    """``n`` distinct 16x16 train images of classes 0/1, those at ``blank`` one value."""
    images = np.stack([disc(16, 120 + 60 * (i % 2), seed=i) for i in range(n)])
    for k, i in enumerate(blank):
        images[i] = 7 * k
    labels = np.arange(n) % 2
    return write_npz(path, train_images=images, train_labels=labels, **more)


def _notes(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "medadapt.notes"]


def test_blank_npz_images_are_refused_by_count_or_left_out(tmp_path):
    data = _npz(tmp_path / "m.npz", blank=(3, 4))
    assert len(load_images(data, image_size=16)) == 20  # kept by default (the library's)
    with pytest.raises(DataError) as refused:
        load_images(data, image_size=16, keep_blank=False, on_error="refuse")
    assert str(refused.value) == (
        f"2 of 20 images in train_images of m.npz are blank, {BLANK_WORDS} (first: "
        f"{data}#train/3): they teach the model nothing; remove them, or pass --on-error skip "
        "to leave them out"
    )
    with pytest.warns(SkippedFilesWarning) as said:
        ds = load_images(data, image_size=16, keep_blank=False, on_error="skip")
    assert len(ds) == 18 and ds.source["skipped"] == 2
    assert ds.skipped == [(f"{data}#train/3", BLANK_REASON), (f"{data}#train/4", BLANK_REASON)]
    assert f"{data}#train/3" not in ds.paths and ds.paths[3] == f"{data}#train/5"  # ids stay
    assert ds.warnings[0] == (
        f"left out 2 of 20 images in train_images of m.npz as blank, {BLANK_WORDS} (first: "
        f"{data}#train/3): they teach the model nothing"
    )
    assert [str(w.message) for w in said] == [
        f"skipped 2 of 20 images: 2 blank images, first: {data}#train/3; the full list is in "
        "dataset.skipped"
    ]
    every = _npz(tmp_path / "all.npz", n=2, blank=(0, 1))
    with pytest.raises(DataError, match=r"^all 2 images in train_images of all.npz are blank"):
        load_images(every, image_size=16, keep_blank=False, on_error="skip")


def test_blank_npz_volumes_left_out_keep_their_slice_ids(tmp_path):
    volumes = np.stack([np.full((3, 8, 8), 9 + i, np.uint8) for i in range(4)])
    volumes[0, 1, 0, 0] = 200  # volumes 0 and 2 are not blank
    volumes[2, 2, 3, 3] = 100
    data = write_npz(tmp_path / "v.npz", train_images=volumes, train_labels=np.array([0, 1] * 2))
    with pytest.warns(SkippedFilesWarning):
        ds = load_images(data, image_size=8, keep_blank=False, on_error="skip")
    assert ds.paths == [f"{data}#train/0", f"{data}#train/2"]
    assert [p for p, _ in ds.skipped] == [f"{data}#train/1", f"{data}#train/3"]


def test_skipped_summary_counts_blank_files_apart_from_unreadable_ones(tmp_path):
    root = disc_folder(tmp_path / "c", n=3)
    (root / "dark" / "broken.png").write_bytes(b"\x89PNG not really")
    write_picture(root / "dark" / "z.png", np.zeros((16, 16), np.uint8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_images(root, image_size=8, keep_blank=False, on_error="skip")
    reason = dict(ds.skipped)[str(root / "dark" / "broken.png")]
    assert [str(w.message) for w in caught] == [
        f"skipped 2 of 8 image files: 1 unreadable file, first: {root}/dark/broken.png: "
        f"{reason}; 1 blank image, first: {root}/dark/z.png; the full list is in "
        "dataset.skipped"
    ]


def test_a_class_left_empty_by_blank_files_names_them_blank(tmp_path):
    root = disc_folder(tmp_path / "c", n=2)
    write_picture(root / "empty" / "a.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(DataError) as refused, warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        load_images(root, image_size=8, keep_blank=False, on_error="skip")
    assert str(refused.value) == (
        f"no readable image left for class 'empty' in {root} (1 blank image, first: "
        f"{root}/empty/a.png): fix those files or remove the class"
    )


def _colour_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(3):  # colour: converted
        write_picture(root / "a" / f"rgb{i}.png", rng.integers(0, 256, (16, 16, 3), np.uint8))
    see_through = rng.integers(0, 256, (16, 16, 4), np.uint8)
    see_through[..., 3] = 128  # colour and transparency: both dropped
    write_picture(root / "b" / "rgba.png", see_through)
    gray = rng.integers(0, 256, (16, 16), np.uint8)
    opaque = np.dstack([gray, gray, gray, np.full((16, 16), 255, np.uint8)])
    write_picture(root / "b" / "opaque_gray.png", opaque)  # identity: neither said
    write_picture(root / "b" / "gray_as_rgb.png", np.dstack([gray, gray, gray]))  # identity
    write_picture(root / "b" / "gray.png", gray)
    return root


def test_colour_and_transparency_dropped_are_one_note_each_per_read(tmp_path, caplog):
    root = _colour_folder(tmp_path / "c")
    with caplog.at_level(logging.WARNING, logger="medadapt.notes"):
        ds = load_images(root, image_size=8, channels=1)
    assert ds.channels == 1
    assert _notes(caplog) == [
        "4 colour images read were converted to gray (luma: 0.299 R + 0.587 G + 0.114 B), as the "
        "model takes gray images (--channels 1)",
        "1 image read had a transparency (alpha) channel, which was dropped: the model reads only "
        "its gray or colour values, as if opaque",
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="medadapt.notes"):
        load_images(root, image_size=8, channels=3)  # gray repeated: nothing lost
    assert _notes(caplog) == [
        "1 image read had a transparency (alpha) channel, which was dropped: the model reads only "
        "its gray or colour values, as if opaque",
    ]


def test_a_transparent_colour_in_a_gray_or_rgb_picture_counts_as_transparency(tmp_path):
    """PNG's tRNS chunk makes one gray level (or one colour) transparent without an alpha
    band: dropped as an alpha channel is."""
    from PIL import Image

    from medadapt.data.image_io import read_picture

    gray = np.random.default_rng(1).integers(0, 256, (16, 16), np.uint8)
    gray[0, 0] = 0
    Image.fromarray(gray).save(tmp_path / "l.png", transparency=0)
    Image.fromarray(np.dstack([gray] * 3)).save(tmp_path / "rgb.png", transparency=(0, 0, 0))
    Image.fromarray(gray).save(tmp_path / "plain.png")
    assert read_picture(tmp_path / "l.png").alpha_dropped
    assert read_picture(tmp_path / "rgb.png").alpha_dropped
    assert not read_picture(tmp_path / "plain.png").alpha_dropped


def test_colour_npz_images_made_gray_are_counted_once(tmp_path, caplog):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 16, 16, 3), np.uint8)
    images[0] = images[0, ..., :1]  # three equal channels: gray already, not counted
    data = write_npz(tmp_path / "rgb.npz", train_images=images, train_labels=np.arange(6) % 2)
    with caplog.at_level(logging.WARNING, logger="medadapt.notes"):
        load_images(data, image_size=16, channels=1)
    assert _notes(caplog) == [
        "5 colour images read were converted to gray (luma: 0.299 R + 0.587 G + 0.114 B), as the "
        "model takes gray images (--channels 1)"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="medadapt.notes"):
        load_images(data, image_size=16)  # as stored: no conversion
    assert _notes(caplog) == []


def test_unused_npz_splits_are_said_by_name_and_count(tmp_path):
    from medadapt.data.medmnist import split_sizes, unused_splits_note

    rng = np.random.default_rng(0)
    more = {"val_images": rng.integers(0, 256, (4, 16, 16), np.uint8),
            "val_labels": np.arange(4) % 2,
            "test_images": rng.integers(0, 256, (6, 16, 16), np.uint8),
            "test_labels": np.arange(6) % 2}  # fmt: skip
    data = _npz(tmp_path / "m.npz", **more)
    assert split_sizes(data) == {"train": 20, "val": 4, "test": 6}
    assert unused_splits_note(data, "train") == (
        "m.npz also holds val_images (4) and test_images (6), which are not used here: the "
        "model trains and is tested on train_images (--split train), a held-out "
        "--test-fraction of them for the test; score the test split with medadapt evaluate "
        "--split test"
    )
    assert unused_splits_note(_npz(tmp_path / "only.npz"), "train") is None
    assert unused_splits_note(data, "test") == (  # trained on the test split: nothing to score
        "m.npz also holds train_images (20) and val_images (4), which are not used here: the "
        "model trains and is tested on test_images (--split test), a held-out --test-fraction "
        "of them for the test; score the val split with medadapt evaluate --split val"
    )
    assert split_sizes(tmp_path / "missing.npz") == {}


def test_train_base_on_an_npz_says_blank_images_and_unused_splits(tmp_path):
    rng = np.random.default_rng(0)
    data = _npz(tmp_path / "m.npz", blank=(3,), test_images=rng.integers(0, 256, (6, 16, 16),
                np.uint8), test_labels=np.arange(6) % 2)  # fmt: skip
    refused = run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "b")
    assert refused.code == 2 and refused.stderr.strip() == (
        f"error: 1 of 20 images in train_images of m.npz is blank, {BLANK_WORDS} (first: "
        f"{data}#train/3): it teaches the model nothing; remove it, or pass --on-error skip "
        "to leave it out"
    )
    result = succeeded(run_cli("train-base", "--data", data, *TINY, "--on-error", "skip",
                               "--out", tmp_path / "b"))  # fmt: skip
    said = (result.stdout + result.stderr).splitlines()
    assert (
        said.count(
            "note: m.npz also holds test_images (6), which is not used here: the model trains and "
            "is tested on train_images (--split train), a held-out --test-fraction of them for "
            "the test; score the test split with medadapt evaluate --split test"
        )
        == 1
    )
    assert (
        f"warning: left out 1 of 20 images in train_images of m.npz as blank, {BLANK_WORDS} "
        f"(first: {data}#train/3): it teaches the model nothing"
    ) in said
    assert "trained on 15 images" in result.stdout.replace("\n", " ")
