"""DoRA: PEFT is the oracle (outputs, gradients, dropout, merging); mixed batches beyond PEFT."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from peft import LoraConfig as PeftLoraConfig
from peft import get_peft_model
from torch import nn

from medadapt.adapters import (
    AdapterModel,
    BottleneckConfig,
    DoraConfig,
    IA3Config,
    LoraConfig,
    default_config,
    load_peft_lora,
)
from medadapt.adapters.layer import adapter_layers, base_named_tensors
from medadapt.errors import AdapterFileError, AdapterStateError, TargetError
from tests.adapters.models import randomize, tiny_images, tiny_vit

TOL = 1e-5


def tiny_mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    )


def _peft_dora(base: nn.Module, **options):
    """A PEFT DoRA model with random A, B and magnitudes (so it is neither an identity nor
    plain LoRA: a fresh magnitude equals the norm, which makes DoRA equal LoRA)."""
    config = dict(r=4, lora_alpha=8, init_lora_weights=False, use_dora=True)
    config.update(options)
    peft_model = get_peft_model(copy.deepcopy(base), PeftLoraConfig(**config))
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_magnitude_vector" in name:
                param.mul_(1 + 0.3 * torch.randn(param.shape, generator=generator))
            elif "lora_B" in name:
                param.add_(0.3 * torch.randn(param.shape, generator=generator))
    return peft_model.eval()


def _loaded(base: nn.Module, directory) -> AdapterModel:
    model = AdapterModel(base).eval()
    load_peft_lora(model, directory, name="d")
    model.set_active("d")
    return model


def test_peft_dora_on_a_tiny_mlp_reproduces_peft(tmp_path):
    base = tiny_mlp()
    peft_model = _peft_dora(base, target_modules=["0", "2", "4"], modules_to_save=None)
    peft_model.save_pretrained(tmp_path / "peft")
    x = torch.randn(7, 6, generator=torch.Generator().manual_seed(1))
    reference = copy.deepcopy(base)
    model = _loaded(base, tmp_path / "peft")
    assert model.configs["d"].method == "dora"
    with torch.no_grad():
        expected, plain = peft_model(x), reference(x)
        assert (expected - plain).abs().max() > 0.1
        assert (model(x) - expected).abs().max().item() <= TOL
        mixed = model(x, adapter_ids=["d", None, "d", None, "d", "d", None])
        assert (mixed[[0, 2, 4, 5]] - expected[[0, 2, 4, 5]]).abs().max().item() <= TOL
        assert torch.equal(mixed[[1, 3, 6]], plain[[1, 3, 6]])
        model.merge_adapter("d")
        assert (model(x) - expected).abs().max().item() <= TOL
        peft_merged = copy.deepcopy(peft_model).merge_and_unload()
        for i in (0, 2, 4):  # the merged weights themselves agree with PEFT's
            got, want = model.base_model[i].weight, peft_merged[i].weight
            assert (got - want).abs().max().item() <= TOL
        model.unmerge()
        restored = dict(base_named_tensors(model.base_model))
        assert all(torch.equal(restored[k], v) for k, v in reference.state_dict().items())


@pytest.mark.parametrize("rslora", [False, True])
def test_peft_dora_on_a_timm_vit_reproduces_peft(tmp_path, rslora):
    base = tiny_vit()
    peft_model = _peft_dora(
        base,
        target_modules=["qkv", "fc1", "fc2"],
        modules_to_save=["head"],
        rank_pattern={"fc1": 2},
        alpha_pattern={"fc1": 3.0},
        use_rslora=rslora,
    )
    with torch.no_grad():
        peft_model.base_model.model.head.modules_to_save["default"].weight.add_(0.5)
    peft_model.save_pretrained(tmp_path / "peft")
    x = tiny_images(6)
    model = _loaded(base, tmp_path / "peft")
    assert len(model.layer_names["d"]) == 6
    with torch.no_grad():
        expected = peft_model(x)
        assert (model(x) - expected).abs().max().item() <= TOL
        mixed = model(x, adapter_ids=["d", None] * 3)
        assert (mixed[0::2] - expected[0::2]).abs().max().item() <= TOL


def _train_step(model: nn.Module, x: torch.Tensor, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)  # the same dropout masks in PEFT and medadapt
    out = model(x)
    out.square().sum().backward()
    return out.detach()


@pytest.mark.parametrize("dropout", [0.0, 0.5], ids=["no_dropout", "dropout"])
def test_training_matches_peft_gradients_and_dropout(tmp_path, dropout):
    """Same outputs and gradients in training mode: the norm is detached as in PEFT, and with
    dropout both W x and B A x see the dropped-out input, as in PEFT."""
    base = tiny_mlp()
    peft_model = _peft_dora(base, target_modules=["0", "2"], lora_dropout=dropout)
    peft_model.save_pretrained(tmp_path / "peft")
    model = _loaded(base, tmp_path / "peft")
    model.train_adapter("d")
    peft_model.train()
    model.train()
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    expected = _train_step(peft_model, x, seed=11)
    got = _train_step(model, x, seed=11)
    assert (got - expected).abs().max().item() <= TOL
    peft_grads = {
        n.replace("base_model.model.", "").replace(".default", ""): p.grad
        for n, p in peft_model.named_parameters()
        if p.grad is not None
    }
    renamed = {
        key.replace(".magnitude", ".lora_magnitude_vector.weight"): param.grad
        for key, param in _named_adapter_parameters(model, "d").items()
    }
    assert set(renamed) == set(peft_grads)
    for key, grad in renamed.items():
        assert (grad - peft_grads[key]).abs().max().item() <= TOL, key


def _named_adapter_parameters(model: AdapterModel, name: str) -> dict[str, nn.Parameter]:
    return {
        f"{layer_name}.{key}": param
        for layer_name, layer in adapter_layers(model.base_model)
        if name in layer.units
        for key, param in layer.units[name].named_parameters()
    }


def test_two_merged_dora_adapters_match_peft_and_unmerge_exactly(tmp_path):
    """Two DoRA adapters active on one layer apply in turn, each scaling what the one before
    gave, as PEFT applies them: the outputs equal PEFT's, and merged (in the order active,
    whatever the order named) they compute the same (before, they added up side by side and
    their merge computed another function, by 0.2)."""
    base = tiny_mlp()
    peft_model = _peft_dora(base, target_modules=["0", "2"])
    peft_model.add_adapter("second", PeftLoraConfig(r=2, target_modules=["2"], use_dora=True))
    with torch.no_grad():
        for n, p in peft_model.named_parameters():
            if "second" in n:
                p.add_(0.2 * torch.randn(p.shape, generator=torch.Generator().manual_seed(5)))
    peft_model.save_pretrained(tmp_path / "peft")
    model = AdapterModel(base).eval()
    load_peft_lora(model, tmp_path / "peft", name="a")
    load_peft_lora(model, tmp_path / "peft" / "second", name="b")
    before = base[2].weight.clone()
    x = torch.randn(8, base[0].in_features, generator=torch.Generator().manual_seed(1))
    peft_model.base_model.set_adapter(["default", "second"])
    model.set_active(["a", "b"])
    with torch.no_grad():
        active = model(x)
        assert (active - peft_model(x)).abs().max().item() <= TOL
        model.merge_adapter(["b", "a"])  # folded in the order active
        assert (model(x) - active).abs().max().item() <= TOL
        model.unmerge()
        model.merge_adapter(["a", "b"])
        peft_model.base_model.merge_adapter(["default", "second"])
        got = model.base_model[2].weight
        want = peft_model.base_model.model[2].base_layer.weight
        assert (got - want).abs().max().item() <= TOL
        model.unmerge()
    assert torch.equal(base[2].weight, before)


@pytest.mark.parametrize("first", ["dora", "lora", "ia3"])
def test_adapters_of_several_methods_on_one_layer_merge_as_they_apply_or_are_refused(first):
    """A trial merged DoRA then LoRA on the same layers (two wrappers of one weight) and
    unmerged: the base kept the DoRA adapter's change (0.49 in the outputs), and every adapter
    saved afterwards was bound to the changed weights. Now, whatever the order named, each
    layer folds its innermost wrapper's adapters first, the merged model computes what the
    active adapters compute, and unmerging restores the base bit for bit; a DoRA adapter that
    would be folded onto a weight another method changed is refused, nothing merged."""
    configs = {"dora": DoraConfig(r=4), "lora": LoraConfig(r=4), "ia3": IA3Config()}
    model = AdapterModel(tiny_vit()).eval()
    names = [first, *[n for n in configs if n != first]]
    for seed, name in enumerate(names):
        model.add_adapter(name, configs[name])  # added first: the innermost wrapper
        randomize(model, name, seed, scale=0.05)
    x = tiny_images(3)
    base = {k: v.clone() for k, v in base_named_tensors(model.base_model)}
    for pair in (("lora", "ia3"), ("ia3", "lora"), ("dora", "ia3"), ("lora", "dora")):
        model.set_active(list(pair))
        with torch.no_grad():
            active = model(x)
            other = pair[0] if pair[1] == "dora" else pair[1]
            if "dora" in pair and names.index(other) < names.index("dora"):  # DoRA outside
                with pytest.raises(AdapterStateError) as err:
                    model.merge_adapter(list(pair))
                assert re.fullmatch(
                    rf"adapter 'dora' \(dora\) would be merged into blocks\.0\.\S+ after "
                    rf"'{other}' \({other}\): its magnitude is measured on the base weight, "
                    r"so merged onto one another method changed it computes another function "
                    r"than the adapters active; merge 'dora' alone \(unmerge\(\) first\), or "
                    r"keep the adapters unmerged \(mixed batches need no merge\)",
                    str(err.value),
                )
                assert model.merged_adapters == []
            else:
                model.merge_adapter(pair[0])  # one, then the other: merged again in order
                model.merge_adapter(pair[1])
                assert (model(x) - active).abs().max().item() <= 1e-5, pair
                model.unmerge()
        after = dict(base_named_tensors(model.base_model))
        assert all(torch.equal(base[k], after[k]) for k in base), pair


def test_dora_mixes_with_lora_and_bottleneck_adapters_in_one_batch():
    model = AdapterModel(tiny_vit()).eval()
    model.add_adapter("dora", DoraConfig(r=3, heads=("head",)))
    model.add_adapter("dora2", DoraConfig(r=2, dropout=0.1))
    model.add_adapter("lora", LoraConfig(r=4))
    model.add_adapter("bottle", BottleneckConfig(placement="pfeiffer"))
    for seed, name in enumerate(model.adapter_names):
        randomize(model, name, seed)
    ids = ["dora", "lora", None, "dora2", "bottle", "dora", "dora2"]
    x = tiny_images(len(ids))
    with torch.no_grad():
        mixed = model(x, adapter_ids=ids)
        for i, name in enumerate(ids):
            model.set_active(name)
            assert (mixed[i] - model(x[i : i + 1])[0]).abs().max().item() <= TOL


def test_dora_on_a_convolution_is_refused():
    model = AdapterModel(tiny_vit())
    with pytest.raises(TargetError) as err:
        model.add_adapter("a", DoraConfig(targets=["patch_embed.proj"]))
    assert str(err.value) == (
        "dora needs nn.Linear layers, got Conv2d; target the Linear layers (DoRA on "
        "convolutions is not supported: use lora there)"
    )
    assert model.adapter_names == []


def test_peft_dora_on_a_convolution_is_refused(tmp_path):
    base = tiny_vit()
    _peft_dora(base, target_modules=["qkv", "proj"]).save_pretrained(tmp_path / "peft")
    model = AdapterModel(base)
    with pytest.raises(AdapterFileError) as err:
        load_peft_lora(model, tmp_path / "peft", name="d")
    assert str(err.value) == (
        f"PEFT adapter in {tmp_path / 'peft'} has DoRA on patch_embed.proj, a Conv2d; "
        "medadapt's DoRA adapts Linear layers only: re-train it without that layer in "
        "target_modules, or with use_dora=False"
    )
    assert model.adapter_names == []


@pytest.mark.parametrize("family", ["ft_transformer", "timm_vit", "monai_vit"])
def test_dora_defaults_follow_lora(family):
    config = default_config("dora", family, heads=("h",), layers=(1,))
    assert config == DoraConfig(r=8, alpha=16, heads=("h",), layers=(1,))


def test_dora_stacks_over_another_method_on_one_linear():
    """DoRA around an IA3 layer: W x is computed from the weight, not read off the (scaled)
    output of the layer inside."""
    model = AdapterModel(tiny_vit()).eval()
    model.add_adapter("i", IA3Config(targets=["attn.qkv"]))
    model.add_adapter("d", DoraConfig(r=2, targets=["attn.qkv"]))
    randomize(model, "i", 0)
    randomize(model, "d", 1)
    qkv = model.base_model.blocks[0].attn.qkv
    assert (type(qkv).__name__, type(qkv.base_layer).__name__) == ("DoraLayer", "IA3Layer")
    ids = ["d", "i", None, "d"]
    x = tiny_images(len(ids))
    with torch.no_grad():
        mixed = model(x, adapter_ids=ids)
        model.set_active("d")
        alone = model(x)
        model.merge_adapter("d")
        merged = model(x)
        model.unmerge()
        for i, name in enumerate(ids):
            model.set_active(name)
            assert (mixed[i] - model(x[i : i + 1])[0]).abs().max().item() <= TOL
    assert (merged - alone).abs().max().item() <= TOL
