"""The conformance suite: every adapter method must pass every check here.

Checks: identity at init, gradients only on adapter parameters, save/load round trip, merged ==
unmerged (where merging is defined), mixed batch == per-sample.
"""

from __future__ import annotations

import pytest
import torch

from medadapt.adapters import (
    AdapterModel,
    BottleneckConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
    read_manifest,
)
from medadapt.errors import AdapterStateError
from tests.adapters.models import adapted, randomize, tiny_images, tiny_vit

METHODS = {
    "bottleneck_houlsby": lambda seed: BottleneckConfig(placement="houlsby", reduction_factor=4),
    "bottleneck_pfeiffer": lambda seed: BottleneckConfig(
        placement="pfeiffer", d_hidden=4 + seed, activation="gelu"
    ),
    "bottleneck_parallel": lambda seed: BottleneckConfig(placement="parallel", reduction_factor=8),
    "lora_linear": lambda seed: LoraConfig(r=2 + seed, alpha=4, targets=["attn.qkv", "mlp.fc1"]),
    "lora_conv": lambda seed: LoraConfig(r=2 + seed, targets=["patch_embed.proj"]),
    "lora_with_head": lambda seed: LoraConfig(r=2, heads=("head",)),
    "ia3": lambda seed: IA3Config(),
    "head": lambda seed: HeadConfig(heads=("head",)),
}
MERGEABLE = {"lora_linear", "lora_conv", "lora_with_head", "ia3", "head"}


@pytest.fixture(params=sorted(METHODS))
def method(request) -> str:
    return request.param


def test_new_adapter_is_an_exact_identity(method):
    model, reference = adapted()
    x = tiny_images()
    model.add_adapter("a", METHODS[method](0))
    model.set_active("a")
    assert torch.equal(model(x), reference(x))


def test_only_adapter_parameters_get_gradients(method):
    model, _ = adapted()
    model.add_adapter("a", METHODS[method](0))
    model.add_adapter("b", METHODS[method](1))
    randomize(model, "a", seed=2)  # at init some gradients are exactly zero (B = 0, up = 0)
    model.train_adapter("a")
    expected = {id(p) for p in model.adapter_parameters("a")}
    assert {id(p) for p in model.trainable_parameters()} == expected
    assert model.count_parameters("a") == sum(p.numel() for p in model.adapter_parameters("a"))

    model.train()
    model(tiny_images()).square().sum().backward()
    with_grad = {id(p) for p in model.parameters() if p.grad is not None}
    assert with_grad == expected
    assert all(p.grad.abs().sum() > 0 for p in model.adapter_parameters("a"))


def test_save_load_round_trip(method, tmp_path):
    model, reference = adapted()
    model.add_adapter("a", METHODS[method](0))
    randomize(model, "a", seed=3)
    model.set_active("a")
    x = tiny_images()
    expected = model(x)
    model.save_adapter("a", tmp_path / "a", metadata={"n_train": 12})

    manifest = read_manifest(tmp_path / "a")
    assert manifest["method"] == METHODS[method](0).method
    assert manifest["metadata"] == {"n_train": 12}
    assert manifest["n_parameters"] == model.count_parameters("a")

    fresh = AdapterModel(reference).eval()
    name = fresh.load_adapter(tmp_path / "a", name="loaded")
    assert name == "loaded"
    fresh.set_active("loaded")
    assert torch.equal(fresh(x), expected)


def test_merged_equals_unmerged(method):
    model, reference = adapted()
    model.add_adapter("a", METHODS[method](0))
    randomize(model, "a", seed=4)
    model.set_active("a")
    x = tiny_images()
    unmerged = model(x)
    if method not in MERGEABLE:
        with pytest.raises(
            AdapterStateError, match="only lora, ia3 and head adapters can be merged"
        ):
            model.merge_adapter("a")
        return
    model.merge_adapter("a")
    torch.testing.assert_close(model(x), unmerged, atol=1e-5, rtol=0)
    with pytest.raises(AdapterStateError, match="call unmerge"):
        model(x, adapter_ids=["a", None, "a", None, None])
    model.unmerge()
    with model.disabled():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=0)


def _per_sample(model: AdapterModel, x: torch.Tensor, ids: list[str | None]) -> torch.Tensor:
    rows = []
    for i, name in enumerate(ids):
        model.set_active(name)
        rows.append(model(x[i : i + 1]))
    model.set_active(None)
    return torch.cat(rows)


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
def test_mixed_batch_equals_per_sample(method, grad):
    model, _ = adapted()
    for seed, name in enumerate(["a", "b", "c"]):
        model.add_adapter(name, METHODS[method](seed))
        randomize(model, name, seed=10 + seed)
    ids = ["b", None, "a", "c", "b", None, "a"]
    x = tiny_images(len(ids))
    with torch.set_grad_enabled(grad):
        mixed = model(x, adapter_ids=ids)
        alone = _per_sample(model, x, ids)
        assert (mixed - alone).abs().max().item() <= 1e-5
        # the stacked-weight cache must notice an in-place weight change
        randomize(model, "a", seed=99)
        mixed = model(x, adapter_ids=ids)
        alone = _per_sample(model, x, ids)
        assert (mixed - alone).abs().max().item() <= 1e-5


def test_mixed_batch_trains_each_adapter_on_its_own_samples(method):
    model, _ = adapted()
    model.add_adapter("a", METHODS[method](0))
    model.add_adapter("b", METHODS[method](1))
    model.train_adapter(["a", "b"])
    ids = ["a", "a", None]
    model(tiny_images(3), adapter_ids=ids).square().sum().backward()
    assert all(p.grad is not None for p in model.adapter_parameters("a"))
    assert all(p.grad is None for p in model.adapter_parameters("b"))


def test_a_deleted_adapter_leaves_the_base_model_as_it_was(method):
    model, reference = adapted()
    keys = set(tiny_vit().state_dict())
    model.add_adapter("a", METHODS[method](0))
    model.delete_adapter("a")
    assert set(model.base_model.state_dict()) == keys
    x = tiny_images()
    assert torch.equal(model(x), reference(x))
