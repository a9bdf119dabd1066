"""Adapters inside PyTorch's own Transformer modules, whose fused paths skip sub-modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from medadapt.adapters import AdapterModel, BottleneckConfig, IA3Config, LoraConfig
from medadapt.errors import TargetError
from tests.adapters.models import randomize


def tiny_encoder() -> nn.TransformerEncoder:
    """Two batch-first encoder layers that meet every condition of PyTorch's fast path."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(
        d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True
    )
    return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=True).eval()


def tokens(n: int = 4) -> torch.Tensor:
    """Shape: (n, 5, 8)."""
    return torch.randn(n, 5, 8, generator=torch.Generator().manual_seed(1))


def padding_mask(n: int = 4) -> torch.Tensor:
    """Key padding (True = padded) on rows 0 and 2, right-padded as the nested-tensor path
    wants."""
    mask = torch.zeros(n, 5, dtype=torch.bool)
    mask[0, 3:] = True
    mask[2, 4:] = True
    return mask


def _slow_path(model: AdapterModel, x: torch.Tensor, **kwargs) -> torch.Tensor:
    """Training mode with gradients: PyTorch never takes the fused path here (dropout is 0)."""
    model.train()
    try:
        return model(x, **kwargs).detach()
    finally:
        model.eval()


CONFIGS = {
    "lora_ffn": LoraConfig(r=2, targets=["linear1", "linear2"]),
    "ia3_ffn": IA3Config(targets=["linear1", "linear2"], feedforward=["linear2"]),
    "bottleneck_on_attention": BottleneckConfig(targets=["self_attn"], d_model=8, d_hidden=4),
}


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning")
@pytest.mark.parametrize("method", sorted(CONFIGS))
@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "padding_mask"])
def test_an_adapter_changes_eval_outputs_like_the_slow_path(method, masked):
    encoder = tiny_encoder()
    model = AdapterModel(encoder).eval()
    x = tokens()
    kwargs = {"src_key_padding_mask": padding_mask()} if masked else {}
    with torch.no_grad():
        base = model(x, **kwargs)
    model.add_adapter("a", CONFIGS[method])
    randomize(model, "a", seed=0, scale=0.5)
    model.set_active("a")
    with torch.no_grad():
        fast = model(x, **kwargs)
    slow = _slow_path(model, x, **kwargs)
    assert (fast - base).abs().max() > 0.1
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)
    with torch.no_grad():
        mixed = model(x, adapter_ids=["a", None, "a", None], **kwargs)
    torch.testing.assert_close(mixed[0::2], fast[0::2], atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[1::2], base[1::2], atol=1e-5, rtol=0)  # rows not padded


def test_the_fast_path_comes_back_with_the_last_adapter_removed():
    encoder = tiny_encoder()
    model = AdapterModel(encoder).eval()
    model.add_adapter("a", LoraConfig(r=2, targets=["layers.0.linear1"]))
    model.add_adapter("b", LoraConfig(r=2, targets=["layers.0.linear1"]))
    first, second = encoder.layers
    assert (first.activation_relu_or_gelu, second.activation_relu_or_gelu) == (0, 1)
    assert encoder.use_nested_tensor is False
    model.delete_adapter("a")
    assert first.activation_relu_or_gelu == 0  # "b" still sits in the first layer
    model.delete_adapter("b")
    assert (first.activation_relu_or_gelu, second.activation_relu_or_gelu) == (1, 1)
    assert encoder.use_nested_tensor is True
    assert not any(k.startswith("_medadapt") for m in encoder.modules() for k in vars(m))


def test_a_copy_without_adapters_gets_the_fast_path_back():
    from medadapt.adapters import without_adapters

    model = AdapterModel(tiny_encoder()).eval()
    model.add_adapter("a", LoraConfig(r=2, targets=["linear1"]))
    plain = without_adapters(model.base_model)
    assert [layer.activation_relu_or_gelu for layer in plain.layers] == [1, 1]
    assert plain.use_nested_tensor is True
    assert model.base_model.use_nested_tensor is False


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            LoraConfig(targets=["self_attn.out_proj"]),
            "layers.0.self_attn.out_proj belongs to nn.MultiheadAttention, which reads its "
            "weight directly and never calls it, so a lora adapter there would be ignored; "
            "target linear1 / linear2, or put a bottleneck adapter on the whole attention "
            "module",
        ),
        (
            BottleneckConfig(targets=["out_proj"], d_model=8),
            "layers.0.self_attn.out_proj belongs to nn.MultiheadAttention, which reads its "
            "weight directly and never calls it, so a bottleneck adapter there would be "
            "ignored; target linear1 / linear2, or put a bottleneck adapter on the whole "
            "attention module",
        ),
        (
            LoraConfig(targets=["self_attn"]),
            "lora cannot adapt layers.0.self_attn (nn.MultiheadAttention): its input "
            "projection is a raw Parameter (in_proj_weight), not a Linear; target linear1 / "
            "linear2, or put a bottleneck adapter on the whole attention module",
        ),
        (
            IA3Config(targets=["self_attn"]),
            "ia3 cannot adapt layers.0.self_attn (nn.MultiheadAttention): its input "
            "projection is a raw Parameter (in_proj_weight), not a Linear; target linear1 / "
            "linear2, or put a bottleneck adapter on the whole attention module",
        ),
    ],
    ids=["lora_out_proj", "bottleneck_out_proj", "lora_in_proj", "ia3_in_proj"],
)
def test_multihead_attention_internals_are_refused_by_name(config, message):
    encoder = tiny_encoder()
    model = AdapterModel(encoder)
    with pytest.raises(TargetError) as err:
        model.add_adapter("a", config)
    assert str(err.value) == message
    assert model.adapter_names == []
    assert type(encoder.layers[0].self_attn.out_proj).__name__ == (
        "NonDynamicallyQuantizableLinear"
    )
    assert encoder.use_nested_tensor is True


def test_in_proj_is_no_target_name():
    model = AdapterModel(tiny_encoder())
    with pytest.raises(TargetError) as err:
        model.add_adapter("a", LoraConfig(targets=["in_proj_weight"]))
    assert "out_proj" not in str(err.value)  # not offered as an alternative: it is refused
    assert str(err.value).startswith(
        "adapter targets (suffix='in_proj_weight') matched no module of TransformerEncoder; "
        "its layers are named like layers.0.linear1, layers.0.linear2, layers.1.linear1"
    )
