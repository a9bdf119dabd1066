"""The mixed-batch caches (stacked weights, slot indices, groups) never serve stale values."""

from __future__ import annotations

import torch

from medadapt.adapters import BottleneckConfig, LoraConfig
from tests.adapters.models import adapted, randomize, tiny_images


def _per_sample(model, x, ids):
    rows = []
    for i, name in enumerate(ids):
        model.set_active(name)
        rows.append(model(x[i : i + 1]))
    model.set_active(None)
    return torch.cat(rows)


def test_stacked_weights_follow_a_cast_of_the_model():
    model, _ = adapted()
    model.add_adapter("lora", LoraConfig(r=3, targets=["attn.qkv"]))
    model.add_adapter("bottle", BottleneckConfig(placement="houlsby", scaling=0.5))
    model.add_adapter("bottle2", BottleneckConfig(placement="houlsby"))
    for seed, name in enumerate(model.adapter_names):
        randomize(model, name, seed)
    ids = ["lora", "bottle", None, "bottle2", "bottle"]
    x = tiny_images(len(ids))
    with torch.no_grad():
        model(x, adapter_ids=ids)  # fills the caches with float32 stacks
        model.double()  # a cast replaces storages without bumping version counters
        mixed = model(x.double(), adapter_ids=ids)
        assert mixed.dtype == torch.float64
        assert (mixed - _per_sample(model, x.double(), ids)).abs().max().item() <= 1e-10


def test_groups_and_slots_follow_added_and_deleted_adapters():
    model, _ = adapted()
    model.add_adapter("a", BottleneckConfig(placement="pfeiffer"))
    model.add_adapter("b", BottleneckConfig(placement="pfeiffer", activation="gelu"))
    randomize(model, "a", 1)
    randomize(model, "b", 2)
    x = tiny_images(4)
    with torch.no_grad():
        model(x, adapter_ids=["a", "b", None, "a"])
        model.delete_adapter("b")
        model.add_adapter("b", BottleneckConfig(placement="pfeiffer", activation="tanh"))
        randomize(model, "b", 3)
        ids = ["a", "b", None, "b"]
        mixed = model(x, adapter_ids=ids)
        assert (mixed - _per_sample(model, x, ids)).abs().max().item() <= 1e-5


def test_stacked_weights_follow_a_replaced_parameter():
    from torch import nn

    from medadapt.adapters.layer import adapter_layers

    model, _ = adapted()
    model.add_adapter("a", BottleneckConfig(placement="pfeiffer"))
    model.add_adapter("b", BottleneckConfig(placement="pfeiffer"))
    randomize(model, "a", 1)
    randomize(model, "b", 2)
    ids = ["a", "b", None, "a"]
    x = tiny_images(len(ids))
    with torch.no_grad():
        model(x, adapter_ids=ids)  # fills the caches
        for _, layer in adapter_layers(model.base_model):
            for module in layer.units["a"].modules():  # swap, not update in place
                for key, param in list(module._parameters.items()):
                    if param is not None:
                        setattr(module, key, nn.Parameter(param.detach() * 3 + 0.1))
        mixed = model(x, adapter_ids=ids)
        assert (mixed - _per_sample(model, x, ids)).abs().max().item() <= 1e-5


def test_inference_stacks_every_adapter_once_whatever_subset_a_batch_mixes():
    """Serving mixes a different subset of adapters in nearly every micro-batch: at
    inference each layer stacks all its adapters once (one cache entry per group), and a
    batch using only some of them still equals one-by-one; training stacks only the batch's."""
    from medadapt.adapters.layer import adapter_layers

    model, _ = adapted()
    names = [f"site_{i}" for i in range(5)]
    for seed, name in enumerate(names):
        model.add_adapter(name, BottleneckConfig(placement="houlsby"))
        randomize(model, name, seed)
    x = tiny_images(3)
    subsets = [
        ["site_0", "site_3", None],
        ["site_4", "site_1", "site_1"],
        ["site_2", None, "site_0"],
    ]
    with torch.no_grad():
        for ids in subsets:
            mixed = model(x, adapter_ids=ids)
            assert (mixed - _per_sample(model, x, ids)).abs().max().item() <= 1e-5
    layers = [layer for _, layer in adapter_layers(model)]
    assert layers and all(len(layer._stack_cache) == 1 for layer in layers)
    assert all(
        len(layer.groups(model.routing.mixed or _route(subsets[0]))) == 1 for layer in layers
    )
    model.train()
    with torch.enable_grad():
        route = _route(subsets[0])
        assert all(set(sum(layer.groups(route).values(), ())) == {"site_0", "site_3"}
                   for layer in layers)  # fmt: skip


def _route(ids):
    from medadapt.adapters.routing import MixedRoute

    return MixedRoute.from_ids(ids)
