"""PEFT is the oracle: LoRA adapters written by PEFT load into medadapt with equal outputs."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from peft import LoraConfig as PeftLoraConfig
from peft import get_peft_model
from torch import nn

from medadapt.adapters import AdapterModel, load_peft_lora
from medadapt.errors import AdapterFileError
from tests.adapters.models import tiny_images, tiny_vit


def _peft_dir(tmp_path, **overrides):
    base = tiny_vit()
    options = dict(
        r=4,
        lora_alpha=8,
        target_modules=["qkv", "fc1", "proj"],  # "proj" hits attn.proj and patch_embed.proj (conv)
        init_lora_weights=False,  # random A and B, so the adapter is not an identity
        modules_to_save=["head"],
        rank_pattern={"fc1": 2},
        alpha_pattern={"fc1": 3.0},
    )
    options.update(overrides)
    peft_model = get_peft_model(copy.deepcopy(base), PeftLoraConfig(**options)).eval()
    with torch.no_grad():  # make the saved head differ from the base head
        peft_model.base_model.model.head.modules_to_save["default"].weight.add_(0.5)
    peft_model.save_pretrained(tmp_path / "peft")
    return tmp_path / "peft", base, peft_model


@pytest.mark.parametrize("rslora", [False, True])
def test_peft_lora_reproduces_peft_outputs(tmp_path, rslora):
    directory, base, peft_model = _peft_dir(tmp_path, use_rslora=rslora)
    x = tiny_images(6)
    with torch.no_grad():
        expected = peft_model(x)
        model = AdapterModel(base).eval()
        assert not torch.allclose(model(x), expected, atol=1e-3)  # the adapter changes outputs
        load_peft_lora(model, directory, name="from_peft")
        model.set_active("from_peft")
        got = model(x)
    assert (got - expected).abs().max().item() <= 1e-5
    layers = model.layer_names["from_peft"]
    assert "patch_embed.proj" in layers and "blocks.1.mlp.fc1" in layers
    # mixed routing works on a PEFT adapter too
    with torch.no_grad():
        mixed = model(x, adapter_ids=["from_peft", None] * 3)
    assert (mixed[0::2] - expected[0::2]).abs().max().item() <= 1e-5


def test_peft_options_medadapt_does_not_reproduce_are_refused(tmp_path):
    directory, base, _ = _peft_dir(tmp_path)
    path = directory / "adapter_config.json"
    config = json.loads(path.read_text())
    config["fan_in_fan_out"] = True
    path.write_text(json.dumps(config))
    with pytest.raises(AdapterFileError) as err:
        load_peft_lora(AdapterModel(base), directory, name="x")
    assert str(err.value) == (
        "PEFT option fan_in_fan_out=True is not supported by medadapt; re-train without it"
    )


def test_pickled_peft_weights_are_never_loaded(tmp_path):
    directory, base, _ = _peft_dir(tmp_path)
    (directory / "adapter_model.safetensors").rename(directory / "adapter_model.bin")
    with pytest.raises(AdapterFileError, match=r"adapter_model.bin \(pickle\), which medadapt"):
        load_peft_lora(AdapterModel(base), directory, name="x")


def _conv_model(**conv) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, **conv), nn.Flatten(), nn.Linear(36, 2)).eval()


def _peft_conv_dir(tmp_path, base: nn.Module) -> tuple:
    peft_model = get_peft_model(
        copy.deepcopy(base),
        PeftLoraConfig(r=2, lora_alpha=4, target_modules=["0"], init_lora_weights=False),
    ).eval()
    with torch.no_grad():  # lora_B is not zero: the adapter changes outputs
        peft_model.base_model.model[0].lora_B["default"].weight.normal_(std=0.5)
    peft_model.save_pretrained(tmp_path / "peft")
    return tmp_path / "peft", peft_model


@pytest.mark.parametrize(
    ("conv", "detail"),
    [
        (
            dict(kernel_size=3, stride=3, padding=1, dilation=2),
            "a Conv2d with dilation=(2, 2): PEFT's unmerged LoRA ignores the dilation (its "
            "merged weight does not)",
        ),
        (
            dict(kernel_size=3, stride=3, padding=1, padding_mode="reflect"),
            "a Conv2d with padding_mode='reflect': PEFT's unmerged LoRA pads with zeros there "
            "(its merged weight does not)",
        ),
    ],
    ids=["dilation", "reflect_padding"],
)
def test_peft_lora_on_a_conv_peft_computes_two_ways_is_refused(tmp_path, conv, detail):
    base = _conv_model(**conv)
    directory, peft_model = _peft_conv_dir(tmp_path, base)
    x = torch.randn(2, 3, 9, 9, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():  # the reason: PEFT's own outputs differ once merged
        unmerged = peft_model(x)
        merged = copy.deepcopy(peft_model).merge_and_unload()(x)
    assert (merged - unmerged).abs().max() > 0.1
    model = AdapterModel(base)
    with pytest.raises(AdapterFileError) as err:
        load_peft_lora(model, directory, name="x")
    assert str(err.value) == (
        f"PEFT adapter in {directory} has LoRA on 0, {detail}, so the adapter has no single "
        "output medadapt could match; re-train it without that layer in target_modules"
    )
    assert model.adapter_names == [] and type(base[0]) is nn.Conv2d


def test_peft_lora_on_a_dilated_1x1_conv_reproduces_peft(tmp_path):
    base = _conv_model(kernel_size=1, stride=3, dilation=2)  # dilation is moot for 1x1
    directory, peft_model = _peft_conv_dir(tmp_path, base)
    x = torch.randn(2, 3, 9, 9, generator=torch.Generator().manual_seed(1))
    model = AdapterModel(base).eval()
    load_peft_lora(model, directory, name="p")
    model.set_active("p")
    with torch.no_grad():
        expected = peft_model(x)
        assert (model(x) - expected).abs().max().item() <= 1e-5
        model.merge_adapter("p")
        assert (model(x) - expected).abs().max().item() <= 1e-5


def test_peft_lora_on_an_embedding_is_refused_by_name(tmp_path):
    class Embedder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 8)
            self.out = nn.Linear(8, 2)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.out(self.embed(ids))

    torch.manual_seed(0)
    base = Embedder()
    options = PeftLoraConfig(r=2, target_modules=["embed", "out"], init_lora_weights=False)
    get_peft_model(copy.deepcopy(base), options).save_pretrained(tmp_path / "peft")
    model = AdapterModel(base)
    with pytest.raises(AdapterFileError) as err:
        load_peft_lora(model, tmp_path / "peft", name="p")
    assert "has lora_embedding_A on embed, an embedding layer" in str(err.value)
    assert "re-train it without that layer in target_modules" in str(err.value)
    assert model.adapter_names == []


def test_peft_module_names_of_another_model_class_are_refused_with_the_prefix(tmp_path):
    directory, base, _ = _peft_dir(tmp_path)

    class Outer(nn.Module):  # PEFT wrapped the bare ViT; here it sits inside another module
        def __init__(self) -> None:
            super().__init__()
            self.vit = base

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.vit(x)

    model = AdapterModel(Outer())
    with pytest.raises(AdapterFileError) as err:
        load_peft_lora(model, directory, name="p")
    assert "which this Outer does not have (this model calls it 'vit." in str(err.value)
    assert "PEFT wrapped the part of this model named 'vit'" in str(err.value)
    assert model.adapter_names == []
