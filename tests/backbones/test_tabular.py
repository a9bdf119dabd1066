"""FT-Transformer: native missing values, presets, shapes."""

from __future__ import annotations

import pytest
import torch

from medadapt.adapters import AdapterModel, BottleneckConfig, IA3Config, LoraConfig
from medadapt.backbones.tabular import FTTransformer
from medadapt.errors import ConfigError


def _model() -> FTTransformer:
    torch.manual_seed(0)
    return FTTransformer(
        n_numeric=3, cat_cardinalities=[4, 3], d_out=2, d_token=16, n_heads=2, n_blocks=2
    ).eval()


def test_a_missing_value_uses_the_features_missing_token_not_zero():
    model = _model()
    x_cat = torch.tensor([[2, 2]])
    zero = model(x_num=torch.tensor([[0.5, 0.0, 1.0]]), x_cat=x_cat)
    missing = model(x_num=torch.tensor([[0.5, float("nan"), 1.0]]), x_cat=x_cat)
    assert torch.isfinite(missing).all()
    assert not torch.allclose(zero, missing)
    with torch.no_grad():
        model.tokenizer.num_missing[1] = model.tokenizer.num_bias[1]  # missing token = x of 0
    assert torch.allclose(model(x_num=torch.tensor([[0.5, float("nan"), 1.0]]), x_cat=x_cat), zero)


def test_presets_target_the_named_sub_layers():
    model = AdapterModel(_model())
    assert model.family == "ft_transformer"
    model.add_adapter("h", BottleneckConfig(placement="houlsby", heads=("head.linear",)))
    model.add_adapter("l", LoraConfig(r=2))
    model.add_adapter("i", IA3Config())
    assert model.layer_names["h"] == [
        "blocks.0.attention",
        "blocks.0.ffn",
        "blocks.1.attention",
        "blocks.1.ffn",
    ]
    assert model.layer_names["l"] == [
        "blocks.0.attention.W_q",
        "blocks.0.attention.W_v",
        "blocks.1.attention.W_q",
        "blocks.1.attention.W_v",
    ]
    assert model.layer_names["i"][-1] == "blocks.1.ffn.linear2"
    x_num, x_cat = torch.randn(4, 3), torch.tensor([[2, 2], [3, 1], [0, 2], [5, 0]])
    with torch.no_grad():
        expected = model(x_num=x_num, x_cat=x_cat)
        for name in ("h", "l", "i"):
            model.set_active(name)
            assert torch.equal(model(x_num=x_num, x_cat=x_cat), expected)


def test_constructor_names_the_bad_value():
    with pytest.raises(
        ConfigError,
        match=r"d_token must be divisible by n_heads, got "
        r"d_token=10, n_heads=4",
    ):
        FTTransformer(n_numeric=2, cat_cardinalities=[], d_out=1, d_token=10, n_heads=4)
    with pytest.raises(ConfigError, match=r"cardinality counts missing \+ unseen \+ levels"):
        FTTransformer(n_numeric=2, cat_cardinalities=[2], d_out=1)
