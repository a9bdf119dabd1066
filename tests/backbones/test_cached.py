"""Frozen-feature caching (medadapt.features): prefix/suffix split of timm and MONAI ViTs."""

from __future__ import annotations

import pytest
import torch

from medadapt.adapters import AdapterModel, BottleneckConfig, LoraConfig
from medadapt.backbones import create_vision_backbone
from medadapt.errors import ConfigError
from medadapt.features import (
    lowest_adapted_block,
    precompute_tokens,
    split_vision_model,
)


def vit(depth: int = 4, **kw):
    model = create_vision_backbone(
        "timm:vit_tiny_patch16_224",
        num_classes=3,
        in_chans=1,
        image_size=32,
        depth=depth,
        embed_dim=48,
        num_heads=2,
        **kw,
    )
    with torch.no_grad():  # timm zero-inits the head; make every output non-trivial
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


def monai_vit():
    return create_vision_backbone(
        "monai:vit",
        num_classes=2,
        in_chans=1,
        image_size=16,
        hidden_size=32,
        mlp_dim=64,
        num_layers=3,
        num_heads=2,
    ).eval()


def randomize(model: AdapterModel, name: str) -> None:
    with torch.no_grad():
        for p in model.adapter_parameters(name):
            p.add_(torch.randn_like(p) * 0.1)


@pytest.mark.parametrize("k", [0, 1, 3, 4])
def test_suffix_of_prefix_equals_the_model(k):
    model = vit()
    prefix, suffix = split_vision_model(model, k)
    x = torch.rand(5, 1, 32, 32)
    assert (suffix(prefix(x)) - model(x)).abs().max() <= 1e-5


def test_monai_suffix_of_prefix_equals_the_model():
    model = monai_vit()
    prefix, suffix = split_vision_model(model, 2)
    x = torch.rand(3, 1, 16, 16, 16)
    tokens = prefix(x)
    assert tokens.shape == (3, 1 + 64, 32)
    assert (suffix(tokens) - model(x)).abs().max() <= 1e-5


def test_adapters_in_the_top_blocks_train_through_the_suffix():
    adapted = AdapterModel(vit())
    adapted.add_adapter("site", BottleneckConfig(layers=(2, 3)))
    randomize(adapted, "site")
    adapted.train_adapter("site")
    adapted.eval()
    assert lowest_adapted_block(adapted) == 2
    prefix, suffix = split_vision_model(adapted, 2)
    x = torch.rand(4, 1, 32, 32)
    tokens = precompute_tokens(prefix, x, batch_size=3)
    assert not tokens.requires_grad and tokens.shape == (4, 1 + 16, 48)
    out = suffix(tokens)
    assert (out - adapted(x)).abs().max() <= 1e-5
    with adapted.disabled():  # the adapter really is in the path
        assert (suffix(tokens) - out).abs().max() > 1e-4
    out.sum().backward()
    trainable = dict(adapted.named_parameters())
    assert all(p.grad is not None for p in adapted.adapter_parameters("site"))
    assert all(p.grad is None for n, p in trainable.items() if not p.requires_grad)
    assert suffix.model is adapted and prefix.model is adapted  # shared, nothing copied


def test_mixed_adapter_batches_route_through_the_suffix():
    adapted = AdapterModel(vit()).eval()
    adapted.add_adapter("a", LoraConfig(r=2, layers=(3,)))
    adapted.add_adapter("b", BottleneckConfig(layers=(3,)))
    randomize(adapted, "a")
    randomize(adapted, "b")
    prefix, suffix = split_vision_model(adapted, 3)
    x = torch.rand(3, 1, 32, 32)
    ids = ["a", None, "b"]
    expected = adapted(x, adapter_ids=ids)
    assert (suffix(prefix(x), adapter_ids=ids) - expected).abs().max() <= 1e-5
    with pytest.raises(ConfigError, match="adapter_ids needs the split to be made on"):
        split_vision_model(adapted.base_model, 3)[1](prefix(x), adapter_ids=ids)


def test_adapters_below_the_split_are_refused():
    adapted = AdapterModel(vit())
    adapted.add_adapter("low", LoraConfig(r=2, layers=(1,)))
    with pytest.raises(ConfigError) as err:
        split_vision_model(adapted, 2)
    assert str(err.value) == (
        "an adapter sits at blocks.1.attn.qkv, below the cached block 2: add adapters with "
        "layers=(2, ...) or split the model at a lower block"
    )
    prefix, _ = split_vision_model(adapted, 1)
    adapted.add_adapter("late", LoraConfig(r=2, layers=(0,)))  # added after the split
    with pytest.raises(ConfigError, match=r"an adapter sits at blocks.0.attn.qkv, below"):
        prefix(torch.rand(1, 1, 32, 32))


def test_prefix_runs_without_dropout_and_restores_training_flags():
    model = vit(drop_path_rate=0.5, proj_drop_rate=0.3)
    model.train()
    with pytest.warns(UserWarning, match=r"blocks below 2 use \['DropPath', 'Dropout'\]"):
        prefix, suffix = split_vision_model(model, 2)
    x = torch.rand(2, 1, 32, 32)
    first, second = prefix(x), prefix(x)
    assert torch.equal(first, second)  # deterministic: eval mode below the split
    assert all(m.training for m in model.modules())
    model.eval()
    assert (suffix(first) - model(x)).abs().max() <= 1e-5


def test_split_errors():
    with pytest.raises(ConfigError) as err:
        split_vision_model(vit(depth=2), 3)
    assert str(err.value) == "k must be a block index between 0 and 2, got k=3"
    with pytest.raises(ConfigError, match=r"^feature caching supports timm ViTs and MONAI"):
        split_vision_model(torch.nn.Linear(2, 2), 0)
