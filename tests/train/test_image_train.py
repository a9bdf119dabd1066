"""Image training API: base model, adapters, new classes with retention, predictions."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch

from medadapt.adapters import AdapterModel
from medadapt.backbones import build_from_architecture, create_vision_backbone, extend_classifier
from medadapt.data.images import ImageSchema
from medadapt.errors import ConfigError, DataError
from medadapt.evaluate.metrics import compute_metrics
from medadapt.evaluate.retention import old_class_retention
from medadapt.images import adapt, logits_of, predict_proba, train_base
from medadapt.modalities.bundle import BaseModel
from medadapt.train.growth import RetentionLoss
from medadapt.train.loop import TrainConfig
from tests.train.image_data import NEW, OLD, make_dataset

TINY = {"depth": 2, "embed_dim": 32, "num_heads": 2}
QUICK = TrainConfig(lr=2e-3, batch_size=32, epochs=12, patience=4)
CLASSES = [*OLD, NEW[0]]


@pytest.fixture(scope="module")
def base():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = make_dataset({c: 40 for c in OLD}, OLD, seed=0)
    return train_base(data, backbone_options=TINY, train_config=QUICK)


@pytest.fixture(scope="module")
def new_data():
    """Few old-class images, many of the new class (the usual new-disease situation)."""
    return make_dataset({"normal": 8, "nodule": 8, "mass": 8, "cavity": 48}, CLASSES, seed=5)


@pytest.fixture(scope="module")
def old_test():
    return make_dataset({c: 30 for c in OLD}, OLD, seed=1)


def test_base_learns_the_known_class_differences(base, old_test):
    proba = predict_proba(base.model, old_test.images)
    assert proba.shape == (90, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    auroc = compute_metrics("multiclass", old_test.y.numpy(), proba, n_boot=50)["auroc"]
    assert auroc > 0.85
    assert base.kind == "image" and base.schema.classes == OLD
    assert base.architecture["num_classes"] == 3 and base.architecture["kwargs"]["depth"] == 2
    assert base.training["n_train"] + base.training["n_val"] == 120


def test_image_base_round_trips_through_save_and_load(base, old_test, tmp_path):
    base.save(tmp_path / "base")
    loaded = BaseModel.load(tmp_path / "base")
    assert loaded.schema == base.schema and isinstance(loaded.schema, ImageSchema)
    assert torch.equal(
        logits_of(loaded.model, old_test.images), logits_of(base.model, old_test.images)
    )


def test_both_base_files_get_the_mode_of_the_umask(base, tmp_path):
    previous = os.umask(0o027)
    try:
        directory = base.save(tmp_path / "base")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}
    assert modes == {"model.json": 0o640, "model.safetensors": 0o640}


def test_schema_round_trip_and_refusals():
    schema = ImageSchema(classes=("a", "b"), channels=1, image_size=32, window=(40, 80))
    assert ImageSchema.from_dict(schema.to_dict()) == schema
    assert schema.window == (40.0, 80.0) and schema.task == "binary"
    assert schema.with_classes(["a", "b", "c"]).task == "multiclass"
    with pytest.raises(ConfigError, match=r"unknown image schema field \['colour'\]"):
        ImageSchema.from_dict({**schema.to_dict(), "colour": True})
    with pytest.raises(ConfigError, match="must start with the model's classes"):
        schema.with_classes(["b", "a", "c"])


def test_frozen_backbone_trains_only_the_head_on_cached_features():
    data = make_dataset({c: 12 for c in OLD}, OLD, seed=3)
    torch.manual_seed(0)
    initial = create_vision_backbone(
        "timm:vit_tiny_patch16_224", num_classes=3, in_chans=1, image_size=32, **TINY
    ).state_dict()
    trained = train_base(data, backbone_options=TINY, freeze_backbone=True, train_config=QUICK)
    state = trained.model.state_dict()
    changed = {k for k in state if not torch.equal(state[k], initial[k])}
    assert changed == {"head.weight", "head.bias"}
    assert trained.training["feature_cache"]["split_block"] == 2


@pytest.mark.parametrize("method", ["bottleneck", "lora", "ia3", "head"])
def test_adapter_methods_train_few_weights_and_leave_the_base_intact(base, new_data, method):
    reference = logits_of(base.model, new_data.images)
    result = adapt(
        base, new_data, method=method, name="cav", new_classes=["cavity"], train_config=QUICK
    )
    assert isinstance(result.model, AdapterModel) and result.classes == CLASSES
    total = sum(p.numel() for p in base.model.parameters())
    assert 0 < result.trainable_params < 0.2 * total
    proba = predict_proba(result.model, new_data.images, adapter="cav")
    assert proba.shape == (len(new_data), 4)
    # the base model (and the adapter model with the adapter off) is unchanged
    assert torch.equal(logits_of(base.model, new_data.images), reference)
    assert torch.allclose(logits_of(result.model, new_data.images), reference, atol=1e-6)
    assert (result.feature_cache is not None) == (method == "head")


def test_new_class_adapter_keeps_old_classes_and_full_finetuning_is_measured(
    base, new_data, old_test
):
    before = predict_proba(base.model, old_test.images)
    adapter = adapt(
        base, new_data, method="bottleneck", name="cav", new_classes=["cavity"], train_config=QUICK
    )
    full = adapt(
        base,
        new_data,
        method="full",
        name="full",
        new_classes=["cavity"],
        retention="none",
        train_config=QUICK,
    )
    after = predict_proba(adapter.model, old_test.images, adapter="cav")
    kept = old_class_retention(old_test.y.numpy(), before, after, OLD, n_boot=200)
    forgot = old_class_retention(
        old_test.y.numpy(), before, predict_proba(full.model, old_test.images), OLD, n_boot=200
    )
    assert adapter.retention == "distill" and full.retention == "none"
    assert kept["n_images"] == 90 and kept["auroc_before"] > 0.85
    assert kept["drop"] <= 0.01 and kept["passed"] is True
    assert forgot["drop"] is not None and forgot["drop"] > kept["drop"]
    # the new class is learnt: cavity images score higher for cavity than old-class images
    new_test = make_dataset({c: 20 for c in CLASSES}, CLASSES, seed=9)
    proba = predict_proba(adapter.model, new_test.images, adapter="cav")
    cavity = compute_metrics("binary", (new_test.y == 3).numpy(), proba[:, 3], n_boot=50)
    assert cavity["auroc"] > 0.7
    assert (
        full.model.head.out_features == 4 and full.trainable_params > 10 * adapter.trainable_params
    )


def test_top_blocks_trains_on_cached_features_with_adapters_only_on_top(base, new_data):
    result = adapt(
        base,
        new_data,
        method="bottleneck",
        name="top",
        new_classes=["cavity"],
        top_blocks=1,
        train_config=QUICK,
    )
    assert result.feature_cache["split_block"] == 1 and result.feature_cache["tokens_mib"] > 0
    layers = result.model.layer_names["top"]
    assert layers == ["blocks.1.attn", "blocks.1.mlp"]


def test_mixed_adapters_in_one_batch_match_single_adapter_predictions(base):
    data = make_dataset({c: 10 for c in OLD}, OLD, seed=4)
    first = adapt(base, data, method="bottleneck", name="site_a", train_config=QUICK)
    adapt(base, data, method="lora", name="site_b", into=first.model, train_config=QUICK, seed=1)
    model = first.model
    ids = ["site_a", "site_b", None] * 10
    mixed = predict_proba(model, data.images, adapter_ids=ids)
    for name in ("site_a", "site_b", None):
        rows = [i for i, a in enumerate(ids) if a == name]
        alone = predict_proba(model, data.images[rows], adapter=name)
        assert np.allclose(mixed[rows], alone, atol=1e-5)


def test_extend_classifier_keeps_old_logits_and_rebuilds():
    vit = create_vision_backbone(
        "timm:vit_tiny_patch16_224", num_classes=2, in_chans=1, image_size=32, **TINY
    ).eval()
    x = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        vit.head.weight.normal_()
        old = vit(x)
        extend_classifier(vit, 5)
        new = vit(x)
    assert new.shape == (3, 5) and torch.allclose(new[:, :2], old, atol=1e-6)
    rebuilt = build_from_architecture(vit.medadapt_architecture)
    rebuilt.load_state_dict(vit.state_dict())
    with pytest.raises(ConfigError, match="does not add classes to a head with 5 outputs"):
        extend_classifier(vit, 5)


def test_retention_loss_is_cross_entropy_when_old_logits_match_the_teacher():
    logits = torch.tensor([[2.0, -1.0, 0.5, 0.3], [0.1, 0.2, -0.3, 1.5]])
    y = torch.tensor([0.0, 3.0])
    same = torch.cat([y[:, None], logits[:, :3]], dim=1)
    loss = RetentionLoss(3)
    ce = torch.nn.functional.cross_entropy(logits, y.long())
    assert torch.allclose(loss(logits, same), ce)
    shifted = torch.cat([y[:, None], logits[:, :3].flip(1)], dim=1)
    assert loss(logits, shifted) > ce + 0.1


def test_adapt_refusals_name_the_problem_and_the_fix(base, new_data):
    old_only = make_dataset({c: 5 for c in OLD}, OLD, seed=2)
    with pytest.raises(ConfigError, match=r"'mass' is already a class of the base model"):
        adapt(base, old_only, method="bottleneck", name="x", new_classes=["mass"])
    no_cavity = make_dataset({c: 5 for c in OLD}, CLASSES, seed=2)
    absent = "new class 'cavity' has no images among those it trains on"
    with pytest.raises(DataError, match=absent):
        adapt(base, no_cavity, method="bottleneck", name="x", new_classes=["cavity"])
    with pytest.raises(
        DataError,
        match=r"dataset's classes .* are not the model's .*: pass "
        r"new_classes=\['cavity'\] to add it",
    ):
        adapt(base, new_data, method="bottleneck", name="x")
    with pytest.raises(ConfigError, match=r"^top_blocks must be between 1 and the model's depth 2"):
        adapt(base, old_only, method="lora", name="x", top_blocks=3)
    with pytest.raises(ConfigError, match="full fine-tuning trains every block: drop top_blocks"):
        adapt(base, old_only, method="full", name="x", top_blocks=1)
    with pytest.raises(
        ConfigError, match=r"^method must be one of bottleneck, lora, ia3, head, dora, full"
    ):
        adapt(base, old_only, method="prompt", name="x")
    volumes = make_dataset({c: 2 for c in OLD}, OLD)
    volumes.images = volumes.images[:, :, None].expand(-1, -1, 4, -1, -1)
    with pytest.raises(ConfigError, match="takes 2D images but the data are 3D volumes"):
        train_base(volumes, backbone_options=TINY)


def test_a_study_point_trains_on_a_nested_fraction_and_scores_every_class(base, tmp_path):
    from medadapt.data.splits import nested_fraction
    from medadapt.modalities import modality_of
    from medadapt.modalities.images.samples import ImageSamples
    from medadapt.workflows.study_points import run_point

    images = modality_of("image")
    old = make_dataset({c: 12 for c in OLD}, OLD, seed=3)
    test = make_dataset({c: 10 for c in OLD}, OLD, seed=11)
    all_train = np.arange(len(old))
    half = nested_fraction(all_train, old.y.numpy(), fraction=0.5, seed=0)
    assert set(half) < set(all_train)
    job = {"modality": images, "options": None, "schema": base.schema, "epochs": 2,
           "train": ImageSamples(old), "test": ImageSamples(test), "base_dir": tmp_path,
           "n_boot": 50, "largest": True, "seed": 0, "method_options": {}}  # fmt: skip
    base.save(tmp_path)
    point = run_point({**job, "strategy": "head_only", "fraction": 0.5})
    assert point.n_train == len(half) == 18
    assert point.trainable_params == 33 * len(OLD)  # the head: 32 features + bias per class
    assert point.metrics["n"] == 30 and [r["class"] for r in point.per_class] == list(OLD)
    only = run_point({**job, "strategy": "base_only", "fraction": 1.0})
    assert only.trainable_params == 0 and only.n_train == 0
    assert only.metrics["auroc"] > 0.85


def test_the_image_api_is_public_in_one_namespace():
    import medadapt
    from medadapt import images

    assert "images" in medadapt.__all__ and medadapt.images is images
    assert images.train_base is train_base and images.adapt is adapt
    assert medadapt.train_base is not images.train_base  # the tabular names are unchanged
    assert all(hasattr(images, name) for name in images.__all__)
