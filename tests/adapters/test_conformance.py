"""The conformance suite (medadapt.adapters.testing) over every registered method and more
configurations on a tiny timm ViT; and proof that it catches broken methods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch
from torch import nn

from medadapt.adapters import (
    AdapterModel,
    BottleneckConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
    MethodSpec,
    default_config,
    method_names,
    method_spec,
    register_method,
    unregister_method,
)
from medadapt.adapters.lora import LoraLayer, LoraUnit
from medadapt.adapters.testing import check_adapter_method
from medadapt.errors import AdapterStateError, ConfigError
from tests.adapters.models import adapted, randomize, tiny_images, tiny_vit


@pytest.mark.parametrize("method", method_names())
def test_every_registered_method_conforms_on_the_tiny_models(method):
    check_adapter_method(method)


@pytest.mark.parametrize("method", method_names())
def test_every_registered_method_conforms_on_a_timm_vit_with_its_defaults(method):
    config = default_config(method, "timm_vit", heads=("head",))
    check_adapter_method(method, model=tiny_vit, inputs=tiny_images, config=config)


VARIANTS = {  # configurations beyond the defaults: placements, ranks, a conv, without heads
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


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_more_configurations_conform_on_a_timm_vit(variant):
    config = VARIANTS[variant]
    method = config(0).method
    check_adapter_method(method, model=tiny_vit, inputs=tiny_images, config=config)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_adapter_parameter_gets_a_gradient(variant):
    """Stricter than the suite (which allows a dead ReLU layer): every tensor, these seeds."""
    model, _ = adapted()
    model.add_adapter("a", VARIANTS[variant](0))
    model.add_adapter("b", VARIANTS[variant](1))
    randomize(model, "a", seed=2)  # at init some gradients are exactly zero (B = 0, up = 0)
    model.train_adapter("a")
    model.train()
    model(tiny_images()).square().sum().backward()
    assert all(p.grad.abs().sum() > 0 for p in model.adapter_parameters("a"))
    assert all(p.grad is None for p in model.adapter_parameters("b"))


def test_merging_a_bottleneck_is_refused_by_name():
    model = AdapterModel(tiny_vit())
    model.add_adapter("a", BottleneckConfig())
    with pytest.raises(AdapterStateError) as err:
        model.merge_adapter("a")
    assert str(err.value) == (
        "adapter 'a' is bottleneck; only lora, ia3, head and dora adapters can be merged (a "
        "bottleneck is non-linear)"
    )


# ----- plug-in methods: registered by a test, checked by the suite ----------------------------
@dataclass(frozen=True, kw_only=True)
class PluginConfig(LoraConfig):
    method: ClassVar[str] = "plugin"


class _PluginLayer(LoraLayer):
    """LoRA under another name: a correct plug-in; the broken ones below subclass it."""

    method = "plugin"


def _register(layer: type[LoraLayer], **spec) -> None:
    options = dict(mergeable=True, defaults={"timm_vit": {"r": 2, "alpha": 4}})
    options.update(spec)
    register_method(
        MethodSpec(
            name="plugin",
            config_class=PluginConfig,
            layer_class=layer,
            label="plug-in adapter",
            family_targets=method_spec("lora").family_targets,
            **options,
        )
    )


@pytest.fixture
def plugin() -> Iterator[str]:
    yield "plugin"
    if "plugin" in method_names():
        unregister_method("plugin")


def test_a_plug_in_method_registers_conforms_and_round_trips(plugin, tmp_path):
    _register(_PluginLayer)
    assert method_names()[-1] == plugin
    check_adapter_method(plugin)
    model = AdapterModel(tiny_vit())
    model.add_adapter("a", PluginConfig(r=2))
    assert model.layer_names["a"] == ["blocks.0.attn.qkv", "blocks.1.attn.qkv"]
    assert type(model.base_model.blocks[0].attn.qkv) is _PluginLayer
    model.save_adapter("a", tmp_path / "a")
    fresh = AdapterModel(tiny_vit())
    fresh.load_adapter(tmp_path / "a")
    assert type(fresh.configs["a"]) is PluginConfig


def test_a_method_without_mixed_batches_is_refused_in_one(plugin):
    _register(_PluginLayer, mixed_batches=False)
    check_adapter_method(plugin)  # the suite checks the refusal instead of the mixing
    model = AdapterModel(tiny_vit())
    model.add_adapter("a", default_config(plugin, "timm_vit"))
    with pytest.raises(AdapterStateError) as err:
        model(tiny_images(2), adapter_ids=["a", None])
    assert str(err.value) == (
        "adapter 'a' is plugin, which cannot share a batch with other adapters; send its "
        "samples in a batch of their own"
    )


class _LeakyMixing(_PluginLayer):
    def forward_mixed(self, route, args, kwargs):
        names = tuple(n for n in route.vocabulary if n in self.units)
        return self.forward_active(names[:1], args, kwargs)  # every sample gets the first


class _DoubleMerge(_PluginLayer):
    @torch.no_grad()
    def merge(self, name):
        super().merge(name)
        self.base_layer.weight.add_(self.units[name].delta_weight())


class _SubtractingUnmerge(_PluginLayer):
    @torch.no_grad()
    def unmerge(self, name):
        self.base_layer.weight.sub_(self.units[name].delta_weight())
        self.merged.remove(name)


class _GreedyUnit(LoraUnit):
    def __init__(self, base: nn.Module, **kwargs) -> None:
        super().__init__(base, **kwargs)
        self.base = base  # registers the base layer inside the adapter


class _HoldsTheBase(_PluginLayer):
    def add(self, name, config, site):
        super().add(name, config, site)
        unit = self.units[name]
        greedy = _GreedyUnit(
            site.module, r=unit.r, scaling=unit.scaling, dropout=unit.dropout, init="zero_b"
        )
        greedy.load_state_dict(unit.state_dict(), strict=False)
        del self.units[name]
        self.units[name] = greedy


class _NotAnIdentity(_PluginLayer):
    def add(self, name, config, site):
        super().add(name, config, site)
        torch.nn.init.normal_(self.units[name].lora_B.weight, std=0.5)


BROKEN = {
    "leaky_mixing": (
        _LeakyMixing,
        "a mixed batch equals the per-adapter forwards (no_grad, grad, after a weight change): "
        "mixed batch vs per-adapter forwards (no_grad): they differ by",
    ),
    "double_merge": (
        _DoubleMerge,
        "merged equals unmerged, and unmerge restores the base bit for bit (or merge is "
        "refused): merged vs unmerged outputs: they differ by",
    ),
    "subtracting_unmerge": (
        _SubtractingUnmerge,
        "merged equals unmerged, and unmerge restores the base bit for bit (or merge is "
        "refused): unmerge did not restore base tensors ['body.0.weight', 'body.2.weight'] bit "
        "for bit",
    ),
    "holds_the_base": (
        _HoldsTheBase,
        "exactly the trained adapter's own parameters require and receive gradients: the "
        "adapter's parameters include base-model parameters",
    ),
    "not_an_identity": (
        _NotAnIdentity,
        "a new adapter is an exact identity: a new adapter's output vs the base model's: they "
        "differ by",
    ),
}


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_the_suite_catches_a_broken_method(plugin, fault):
    layer, message = BROKEN[fault]
    _register(layer)
    with pytest.raises(AssertionError) as err:
        check_adapter_method(plugin)
    expected = f"check_adapter_method('plugin') on TinyMLP: {message}"
    assert str(err.value).startswith(expected), str(err.value)
    assert re.fullmatch(r"[^\n]+", str(err.value))  # one line


def test_a_plug_in_without_presets_is_checked_with_explicit_targets(plugin):
    register_method(
        MethodSpec(
            name="plugin",
            config_class=PluginConfig,
            layer_class=_PluginLayer,
            label="plug-in adapter",
            mergeable=True,
        )
    )  # no family_targets, no defaults: a first plug-in, as the docs describe one
    check_adapter_method(plugin)  # used to fail: "adapter targets () matched no module"
    model = AdapterModel(tiny_vit())
    with pytest.raises(ConfigError) as err:
        model.add_adapter("a", PluginConfig())
    assert str(err.value) == (
        "method 'plugin' has no preset targets for family 'timm_vit'; pass targets=[...] "
        "(module name suffixes, e.g. 'attn.qkv')"
    )


def test_a_config_of_another_method_is_a_type_error_not_a_bare_assert():
    """A trial's ``check_adapter_method("lora", config=DoraConfig(r=2))`` failed on a bare
    assert, which ``python -O`` removes."""
    from medadapt.adapters import DoraConfig

    with pytest.raises(TypeError) as err:
        check_adapter_method("lora", config=DoraConfig(r=2))
    assert str(err.value) == (
        "config is for method 'dora', not 'lora': pass a lora config, or "
        "check_adapter_method('dora', ...)"
    )


def test_a_deep_float32_vit_is_checked_in_float64_so_round_off_is_no_failure():
    """A trial ran ``check_adapter_method("lora", model=..., inputs=..., config=...)`` on a
    12-block timm ViT as the README shows: "merged equals unmerged ... they differ by 0.000169
    (more than 1e-05)", float32 round-off taken for a wrong merge. The checks now run on
    float64 copies of a model that runs so; a merge that is wrong still fails."""
    import timm

    def vit():
        return timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=2,
                                 img_size=32, patch_size=8)  # fmt: skip

    def images(n):
        return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(n))

    check_adapter_method("lora", model=vit, inputs=images, config=LoraConfig(r=4))
    from medadapt.adapters.lora import LoraLayer

    real = LoraLayer.merge

    def off_by_a_little(self, name):  # a merge wrong by 1e-4 of the delta
        real(self, name)
        with torch.no_grad():
            self.base_layer.weight.add_(1e-4 * self.units[name].delta_weight())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LoraLayer, "merge", off_by_a_little)
        with pytest.raises(AssertionError, match="merged vs unmerged outputs: they differ by"):
            check_adapter_method("lora", model=vit, inputs=images, config=LoraConfig(r=4))


def test_a_config_that_fits_no_layer_of_the_model_is_the_callers_error_not_a_failed_check():
    """A trial's plain ``nn.Sequential`` with ``LoraConfig(r=4)`` was reported as the failed
    check "a new adapter is an exact identity: raised ConfigError: ..."."""

    def mlp():
        return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))

    with pytest.raises(ConfigError) as err:
        check_adapter_method("lora", model=mlp, inputs=lambda n: torch.randn(n, 10),
                             config=LoraConfig(r=4))  # fmt: skip
    assert str(err.value).startswith(
        "check_adapter_method('lora') on Sequential: medadapt has no adapter preset for "
        "Sequential; pass targets=[...]"
    )
    check_adapter_method("lora", model=mlp, inputs=lambda n: torch.randn(n, 10),
                         config=LoraConfig(r=4, targets=["0", "2"]))  # fmt: skip
