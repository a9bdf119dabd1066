"""A base and an adapter trained through ``medadapt.images`` and saved from Python record the
images they trained on as the command line's do (by content keys, never a path or pixel), so
``medadapt evaluate`` recognises those images in a folder under other file names, leaves them
out and counts them; images built in memory, without files, are recognised by their pixels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from medadapt import images
from medadapt.data.images import ImageDataset
from medadapt.train.loop import TrainConfig
from tests.cli.helpers import run_cli, succeeded
from tests.train.image_data import make_dataset

CLASSES = ["normal", "mass"]
TINY = {"depth": 1, "embed_dim": 32, "num_heads": 2}
QUICK = TrainConfig(epochs=1, batch_size=32)
PER_CLASS, ADAPTED, BASE_SHARED = 40, 28, 6  # per class: in the folder, trained the adapter, base


def _eight_bit(dataset: ImageDataset) -> ImageDataset:
    """``dataset`` with its pixels on the 8-bit levels a PNG holds (read back exactly)."""
    dataset.images = (dataset.images * 255).round() / 255
    return dataset


def _write_folder(root: Path, dataset: ImageDataset, picked: dict[str, list[int]], prefix: str):
    """The images of ``dataset`` at ``picked[class]`` as PNGs in class folders of ``root``."""
    from PIL import Image

    for label, indices in picked.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in indices:
            pixels = (dataset.images[i, 0].numpy() * 255).round().astype(np.uint8)
            Image.fromarray(pixels).save(root / label / f"{prefix}{i:03d}.png")


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """80 PNGs in one folder; an adapter trained on 56 of them read from a copy under other
    names; a base trained on images built in memory (no files), 12 of which the folder holds."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("python_image_split")
    counts = dict.fromkeys(CLASSES, PER_CLASS)
    pictures = _eight_bit(make_dataset(counts, CLASSES, seed=3))
    by_class = {c: np.flatnonzero(pictures.y.numpy() == k).tolist() for k, c in enumerate(CLASSES)}
    _write_folder(root / "all", pictures, by_class, "case_")
    adapted = {c: found[BASE_SHARED : BASE_SHARED + ADAPTED] for c, found in by_class.items()}
    _write_folder(root / "adapt_copy", pictures, adapted, "renamed_")

    shared = [i for found in by_class.values() for i in found[:BASE_SHARED]]
    others = _eight_bit(make_dataset({"normal": 4, "mass": 4}, CLASSES, seed=11))
    in_memory = ImageDataset(  # tensors only: no files, paths or keys
        images=torch.cat([pictures.images[shared], others.images]),
        y=torch.cat([pictures.y[shared], others.y]),
        classes=list(CLASSES),
    )
    base = images.train_base(in_memory, backbone_options=TINY, train_config=QUICK)
    base.save(root / "base")
    target = images.load_images(root / "adapt_copy", image_size=32, classes=CLASSES)
    assert len(target) == 2 * ADAPTED
    result = images.adapt(base, target, method="lora", name="site", train_config=QUICK)
    result.model.save_adapter("site", root / "adapter")
    return {"root": root, "data": root / "all"}


def _evaluate(saved: dict[str, Path], *adapter: str | Path) -> dict:
    out = saved["root"] / f"evaluation-{len(adapter)}.json"
    result = succeeded(run_cli("evaluate", "--base", saved["root"] / "base", *adapter,
                               "--data", saved["data"], "--json", out, "--force"))  # fmt: skip
    assert "records no images" not in result.stdout + result.stderr
    return json.loads(out.read_text())


def test_evaluate_leaves_out_the_images_a_python_base_and_adapter_trained_on(saved):
    out = _evaluate(saved, "--adapter", saved["root"] / "adapter")
    n_base, n_adapter = 2 * BASE_SHARED, 2 * ADAPTED
    assert out["n_excluded_trained"] == {"base": n_base, "adapter": n_adapter}
    assert out["n"] == 2 * PER_CLASS - n_base - n_adapter
    assert out["images_used"] == (
        f"all images, minus {n_base + n_adapter} images that match training images (by "
        f"content; {n_base} by the base model, {n_adapter} by the adapter)"
    )
    assert not [w for w in out["data_warnings"] if "records no images" in w]


def test_evaluate_leaves_out_the_images_a_python_base_trained_on(saved):
    out = _evaluate(saved)
    assert out["n_excluded_trained"] == {"base": 2 * BASE_SHARED}
    assert out["n"] == 2 * PER_CLASS - 2 * BASE_SHARED


def test_the_records_hold_keys_only(saved):
    """The command line's form: the base's inline in ``model.json``, the adapter's in
    ``split.json`` named by its manifest; hashes only, no file name or in-memory path."""
    root = saved["root"]
    split = json.loads((root / "base" / "model.json").read_text())["training"]["split"]
    assert split["n_train"] == 2 * BASE_SHARED + 8 and split["n_test"] == 0
    assert split["train_keys"] == []  # built in memory: recognised by its pixels alone
    assert len(split["train_pixel_keys"]) == 2 * BASE_SHARED + 8
    summary = json.loads((root / "adapter" / "adapter.json").read_text())["metadata"]["split"]
    assert summary["keys_file"] == "split.json" and summary["n_train"] == 2 * ADAPTED
    keys = json.loads((root / "adapter" / "split.json").read_text())
    assert len(keys["train_keys"]) == len(keys["train_pixel_keys"]) == 2 * ADAPTED
    for text in ((root / "base" / "model.json").read_text(),
                 (root / "adapter" / "split.json").read_text()):  # fmt: skip
        assert "renamed_" not in text and "adapt_copy" not in text


def test_a_copy_of_the_adapter_keeps_its_record(saved, tmp_path: Path):
    """The record travels with the saved folders (``split.json`` beside the adapter)."""
    shutil.copytree(saved["root"] / "adapter", tmp_path / "moved")
    out = _evaluate(saved, "--adapter", tmp_path / "moved")
    assert out["n_excluded_trained"]["adapter"] == 2 * ADAPTED
