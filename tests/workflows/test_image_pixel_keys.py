"""Training images are recognised by their pixels too, not only by their files' bytes: a copy
of the training PNGs saved again with another compression (the same pixels, other bytes), or
an RGB copy of a gray ``.npz``, is left out by ``evaluate`` as the originals are. A new user
scored such a copy and got AUROC 0.978 on images most of which had trained the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from medadapt.data.image_dataset import pixel_keys
from medadapt.data.images import load_images
from medadapt.modalities.images.splits import in_split
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import TINY_IMAGE
from tests.train.image_data import OLD, write_npz, write_png_csv
from tests.workflows.evaluated import evaluate_json, recorded_splits

CLASSES = ["normal", "mass"]
SITES = {"A": {"normal": 12, "mass": 12}, "B": {"normal": 12, "mass": 12}}
N_IMAGES = 48


def _copy_pngs(csv: Path, out: Path, change=None) -> Path:
    """The images of ``csv`` saved again under ``out`` with PNG compression 0 (theirs: 6),
    each passed through ``change`` first when given, and ``out/copies.csv`` listing them."""
    table = pd.read_csv(csv)
    for name in table["path"]:
        with Image.open(csv.parent / name) as image:
            pixels = np.asarray(image)
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels if change is None else change(pixels)).save(target, compress_level=0)
    table.to_csv(out / "copies.csv", index=False)
    return out / "copies.csv"


def _one_pixel_brighter(pixels: np.ndarray) -> np.ndarray:
    changed = pixels.copy()
    changed[3, 3] = (int(changed[3, 3]) + 128) % 256  # far beyond any rounding
    return changed


@pytest.fixture(scope="module")
def pngs(tmp_path_factory) -> Path:
    """A base trained on site A's PNGs, an adapter on site B's, and a copy of every PNG saved
    again with another compression level."""
    root = tmp_path_factory.mktemp("resaved_pngs")
    csv = write_png_csv(root / "orig", SITES, CLASSES)
    succeeded(run_cli("train-base", "--data", csv, "--group-column", "site", "--groups", "A",
                      *TINY_IMAGE, "--epochs", "1", "--out", root / "base"))  # fmt: skip
    succeeded(run_cli("adapt", "--base", root / "base", "--data", csv, "--group-column", "site",
                      "--group", "B", "--method", "head", "--epochs", "1",
                      "--out", root / "adapter"))  # fmt: skip
    _copy_pngs(csv, root / "resaved")
    return root


def test_a_copy_saved_with_another_compression_is_left_out_as_the_originals_are(pngs):
    root = pngs
    original = root / "orig" / "cases.csv"
    copies = root / "resaved" / "copies.csv"
    first = pd.read_csv(original)["path"][0]
    assert (root / "orig" / first).read_bytes() != (root / "resaved" / first).read_bytes()
    read = load_images(original, image_size=32)
    again = load_images(copies, image_size=32)
    assert set(read.keys).isdisjoint(again.keys)  # no file key matches
    assert read.pixel_keys() == again.pixel_keys()  # every pixel key does
    base, adapter = recorded_splits(root)
    n_base, n_adapter = len(base["train_keys"]), len(adapter["train_keys"])
    held_out = N_IMAGES - n_base - n_adapter
    assert (n_base, n_adapter) == (len(base["train_pixel_keys"]), len(adapter["train_pixel_keys"]))
    scored = evaluate_json(root, copies, "copies")
    assert scored["n_excluded_trained"] == {"base": n_base, "adapter": n_adapter}
    assert scored["n"] == held_out > 0
    assert scored["images_used"] == (
        f"all images, minus {n_base + n_adapter} images that match training images (by content; "
        f"{n_base} by the base model, {n_adapter} by the adapter)"
    )
    listed = root / "orig" / "listed.csv"  # the very files, listed in another order
    pd.read_csv(original).iloc[::-1].to_csv(listed, index=False)
    same = evaluate_json(root, listed, "listed")  # recognised by their files' keys
    for field in ("n", "n_excluded_trained", "images_used", "auroc"):
        assert same[field] == scored[field]
    alone = evaluate_json(root, copies, "base_alone", adapter=False)
    assert alone["n_excluded_trained"] == {"base": n_base}
    assert alone["n"] == N_IMAGES - n_base


def test_file_keys_alone_missed_the_copy_and_still_work_for_olderrecorded_splits(pngs):
    """The trial's case: by file keys alone (as recorded before pixel keys) the copy matched
    nothing; a split recorded so is still honoured on the files themselves."""
    root = pngs
    base, adapter = recorded_splits(root)
    older = [{k: v for k, v in split.items() if "pixel" not in k} for split in (base, adapter)]
    copies = load_images(root / "resaved" / "copies.csv", image_size=32)
    original = load_images(root / "orig" / "cases.csv", image_size=32)
    for split in older:
        assert not in_split(copies, "", split, "train").any()
        assert in_split(original, "", split, "train").sum() == len(split["train_keys"])
    recorded = in_split(copies, "", base, "train") | in_split(copies, "", adapter, "train")
    assert recorded.sum() == len(base["train_keys"]) + len(adapter["train_keys"])


def test_the_split_records_only_hashes_and_the_manifest_none(pngs):
    root = pngs
    base, adapter = recorded_splits(root)
    for split in (base, adapter):
        for part in ("train", "test"):
            keys = split[f"{part}_pixel_keys"]
            assert len(keys) == len(split[f"{part}_keys"]) > 0  # no two images alike
            assert all(len(k) == 24 and int(k, 16) >= 0 for k in keys)
        assert set(split["train_pixel_keys"]).isdisjoint(split["test_pixel_keys"])
    manifest = json.loads((root / "adapter" / "adapter.json").read_text())
    assert "_pixel_keys" not in json.dumps(manifest)  # the checksum of split.json only
    assert "images/" not in (root / "adapter" / "split.json").read_text()


def test_a_copy_with_one_pixel_changed_is_no_exact_match_but_a_near_identical_copy(pngs):
    """No exact key matches a copy with one pixel changed; its near key (a perceptual hash,
    :mod:`medadapt.data.stored_pixels`) still tells the same picture: scored, and warned of,
    as a JPEG re-save is."""
    root = pngs
    changed = _copy_pngs(root / "orig" / "cases.csv", root / "changed", _one_pixel_brighter)
    scored = evaluate_json(root, changed, "changed")
    base, adapter = recorded_splits(root)
    n_trained = len(base["train_keys"]) + len(adapter["train_keys"])
    assert not scored.get("n_excluded_trained") and scored["n"] == N_IMAGES
    said = [w for w in scored["data_warnings"] if "near-identical" in w]
    assert said and said[0].startswith(f"{n_trained} of the images scored look like")
    # predict says it too (a trial's 22 near-copies were warned of by evaluate alone)
    predicted = succeeded(run_cli("predict", "--base", root / "base", "--adapter",
                                  root / "adapter", "--data", changed, "--out",
                                  root / "changed_predictions.csv"))  # fmt: skip
    assert (
        f"warning: {n_trained} of the images predicted look like near-identical copies (lossy "
        "re-saves) of images the model trained on: if they are copies, their predictions are "
        "optimistic; leave them out of --data (a copy is no new patient); column trained_on "
        "marks them"
    ) in " ".join(predicted.stdout.split()), predicted.stdout
    # which ones (a trial's warning of 4 near-copies named none of them)
    marked = pd.read_csv(root / "changed_predictions.csv", keep_default_na=False)["trained_on"]
    assert (marked == "looks like a near-copy of a training image").sum() == n_trained
    assert set(marked) == {"looks like a near-copy of a training image", ""}


def test_an_rgb_copy_of_a_gray_npz_is_left_out_as_the_gray_one_is(tmp_path):
    gray = write_npz(tmp_path / "gray.npz", {c: 10 for c in OLD}, OLD)
    succeeded(run_cli("train-base", "--data", gray, "--class-names", ",".join(OLD), *TINY_IMAGE,
                      "--epochs", "1", "--out", tmp_path / "base"))  # fmt: skip
    arrays = dict(np.load(gray))
    rgb = {k: np.repeat(v[..., None], 3, axis=-1) if k.endswith("images") else v
           for k, v in arrays.items()}  # fmt: skip
    np.savez(tmp_path / "rgb.npz", **rgb)
    split = json.loads((tmp_path / "base" / "model.json").read_text())["training"]["split"]
    n_train = len(split["train_keys"])
    out = tmp_path / "rgb.json"
    succeeded(run_cli("evaluate", "--base", tmp_path / "base", "--data", tmp_path / "rgb.npz",
                      "--json", out))  # fmt: skip
    scored = json.loads(out.read_text())
    assert scored["n_excluded_trained"] == {"base": n_train}
    assert scored["n"] == 30 - n_train > 0
    assert scored["images_used"] == (
        f"all images, minus {n_train} images that match images the base model trained on "
        "(by content)"
    )


@pytest.mark.parametrize("size", [32, 24, 50])
def test_gray_and_its_rgb_copy_have_one_pixel_key_however_resized(tmp_path, size):
    """Luma of three equal channels is the gray value give or take 1e-7; resized, such noise
    would move values across the rounding grid: an RGB copy of gray is read back as that gray
    exactly."""
    gray = write_npz(tmp_path / "gray.npz", {c: 4 for c in OLD}, OLD)
    arrays = dict(np.load(gray))
    np.savez(tmp_path / "rgb.npz", **{k: np.repeat(v[..., None], 3, axis=-1)
                                      if k.endswith("images") else v
                                      for k, v in arrays.items()})  # fmt: skip
    read = load_images(gray, image_size=size, channels=1)
    again = load_images(tmp_path / "rgb.npz", image_size=size, channels=1)
    assert torch.equal(read.images, again.images)
    assert read.pixel_keys() == again.pixel_keys()
    assert len(set(read.pixel_keys())) == len(read)


def test_a_pixel_key_ignores_float_noise_not_one_level():
    levels = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8) * 3 / 255
    keys = pixel_keys(levels)
    assert pixel_keys(levels + 1e-6) == pixel_keys(levels - 1e-6) == keys
    one = levels.clone()
    one[0, 0, 2, 5] += 1 / 255  # one 8-bit level, one pixel
    assert pixel_keys(one) != keys
    sixteen = levels.clone()
    sixteen[0, 0, 7, 7] -= 1 / 65535  # one 16-bit level
    assert pixel_keys(sixteen) != keys
    assert pixel_keys(levels.expand(-1, 3, -1, -1)) != keys  # the shape is hashed too


def test_subsets_keep_the_pixel_keys_computed_once(tmp_path):
    csv = write_png_csv(tmp_path, {"A": {"normal": 3, "mass": 3}}, CLASSES)
    read = load_images(csv, image_size=32)
    keys = read.pixel_keys()
    part = read.subset([4, 1])
    assert part._pixel_keys == [keys[4], keys[1]] == pixel_keys(part.images)
    assert read.with_classes(CLASSES[::-1]).pixel_keys() == keys


def test_blank_slices_of_other_patients_are_no_copies_of_the_training_ones():
    """Every all-air slice (windowed to 0) has the same pixels: keyed by them, one blank slice
    made every new patient one the base 'trained on', and adapt refused the site. A sample of
    one value throughout keeps its file's key instead."""
    from medadapt.data.image_dataset import ImageDataset
    from medadapt.modalities.images.splits import split_record

    generator = torch.Generator().manual_seed(0)

    def volumes(site: str) -> ImageDataset:
        images = torch.rand(20 * 6, 1, 16, 16, generator=generator)
        images[::3] = 0.0  # two air slices of each patient's six
        patients = [f"{site}{i // 6}" for i in range(len(images))]
        return ImageDataset(
            images=images, y=torch.tensor([i // 6 % 2 for i in range(len(images))]),
            classes=["a", "b"], paths=[f"{p}.nii.gz" for p in patients],
            keys=[f"{p}#{i % 6}" for i, p in enumerate(patients)], subjects=patients,
        )  # fmt: skip

    trained = volumes("A")
    record = split_record("a", trained, np.arange(90), np.arange(90, 120))
    site = volumes("B")
    assert not in_split(site, "b", record, "train").any()
    keys = site.pixel_keys()
    assert len(set(keys)) == len(site)  # the blank ones too: each its own
    again = ImageDataset(images=trained.images.clone(), y=trained.y, classes=["a", "b"])
    assert in_split(again, "c", record, "train").sum() == 90 - 30  # a copy without files: its
    # non-blank images are recognised by their pixels, the blank ones (30 of 90) are not
