"""An image adapter trained through ``medadapt.images`` records what the command line's adapt
records for the registry and its card: its task, classes and counts, and Riley et al.'s
development criterion planned as ``check-data`` plans it on the same images (it recorded
neither: the registry listed it with no task, and its card had no sample size)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from medadapt import images
from medadapt.registry.card import render_card
from medadapt.registry.records import summaries
from medadapt.train.loop import TrainConfig
from medadapt.workflows.sample_size import check_sample_size
from tests.api.test_python_image_api_split import _eight_bit, _write_folder
from tests.train.image_data import make_dataset

CLASSES = ["normal", "mass"]
TINY = {"depth": 1, "embed_dim": 32, "num_heads": 2}
QUICK = TrainConfig(epochs=1, batch_size=32)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A base trained on images in memory, and a folder of 40 other PNGs from a new site."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("python_image_sample_size")
    source = make_dataset(dict.fromkeys(CLASSES, 30), CLASSES, seed=1)
    base = images.train_base(source, backbone_options=TINY, train_config=QUICK)
    pictures = _eight_bit(make_dataset(dict.fromkeys(CLASSES, 20), CLASSES, seed=2))
    by_class = {c: np.flatnonzero(pictures.y.numpy() == k).tolist() for k, c in enumerate(CLASSES)}
    _write_folder(root / "site", pictures, by_class, "case_")
    return {"base": base, "base_dir": base.save(root / "base"), "folder": root / "site",
            "root": root}  # fmt: skip


@pytest.mark.parametrize(("method", "strategy"), [("lora", "lora"), ("full", "full_finetune")])
def test_the_criterion_is_the_one_check_data_plans_on_the_same_images(site, method, strategy):
    target = images.load_images(site["folder"], image_size=32, classes=CLASSES)
    adapted = images.adapt(site["base"], target, method=method, name="site", train_config=QUICK)
    entry = adapted.sample_size
    checked = check_sample_size(site["base_dir"], site["folder"])
    planned = checked["development"][strategy]
    assert entry["parameters"] == planned["parameters"] == adapted.trainable_params - 1
    assert (entry["criterion"], entry["n_needed"]) == (planned["binding"], planned["n"])
    assert entry["r2_cs"] == round(checked["r2_cs"], 4)
    assert (entry["n_train"], entry["n_test"], entry["met"]) == (len(target), 0, False)


def test_the_registry_and_the_card_read_the_task_counts_and_the_criterion(site):
    target = images.load_images(site["folder"], image_size=32, classes=CLASSES)
    adapted = images.adapt(site["base"], target, method="lora", name="site", train_config=QUICK)
    adapted.model.save_adapter("site", site["root"] / "adapter")
    manifest = json.loads((site["root"] / "adapter" / "adapter.json").read_text())
    kept = summaries(manifest)
    assert kept["task"] == "binary"
    assert kept["data_summary"].pop("sample_size") == adapted.sample_size
    assert kept["data_summary"] == {
        "n_train": 40, "n_test": 0, "train_class_counts": {"normal": 20, "mass": 20},
        "n_positive": 20, "prevalence": 0.5, "unit": "images",
    }  # fmt: skip
    metadata = manifest["metadata"]
    assert (metadata["kind"], metadata["classes"], metadata["method"]) == ("image", CLASSES, "lora")
    card = render_card(name="site", version=1, parent=None, registered="2026-12-07",
                       manifest=manifest)  # fmt: skip
    assert f"would need {adapted.sample_size['n_needed']:,} images (criterion " in card
