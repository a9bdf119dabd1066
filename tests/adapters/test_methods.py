"""The method registry: names, labels, default configs per backbone family, plug-in rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

import medadapt.adapters as adapters
from medadapt.adapters import (
    AdapterConfig,
    BottleneckConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
    MethodSpec,
    config_from_dict,
    default_config,
    method_label,
    method_names,
    method_spec,
    register_method,
)
from medadapt.errors import ConfigError


def test_built_in_methods_are_listed_in_registration_order():
    assert method_names()[:5] == ["bottleneck", "lora", "ia3", "head", "dora"]


def test_every_registered_config_class_is_exported():
    for name in method_names():
        cls = method_spec(name).config_class
        assert cls.__name__ in adapters.__all__
        assert getattr(adapters, cls.__name__) is cls


@pytest.mark.parametrize(
    ("method", "label", "mergeable"),
    [
        ("bottleneck", "bottleneck adapter", False),
        ("lora", "LoRA adapter", True),
        ("ia3", "IA3 adapter", True),
        ("head", "head-only adapter", True),
        ("dora", "DoRA adapter", True),
    ],
)
def test_labels_and_capabilities(method, label, mergeable):
    spec = method_spec(method)
    assert method_label(method) == label
    assert (spec.mergeable, spec.mixed_batches) == (mergeable, True)


HEADS = ("head.linear",)
TABULAR = {  # train/tabular.py method_config before the registry
    "bottleneck": BottleneckConfig(placement="houlsby", reduction_factor=4, heads=HEADS),
    "lora": LoraConfig(r=8, alpha=16, heads=HEADS),
    "ia3": IA3Config(heads=HEADS),
    "head": HeadConfig(heads=HEADS),
}


@pytest.mark.parametrize("method", sorted(TABULAR))
def test_tabular_defaults_are_the_former_ones(method):
    config = default_config(method, "ft_transformer", heads=HEADS)
    assert config == TABULAR[method]
    assert config.to_dict() == TABULAR[method].to_dict()


def _image_defaults(heads, layers, head_out_features):  # train/image_setup.py adapter_config
    common = {"heads": heads, "layers": layers, "head_out_features": head_out_features}
    return {
        "bottleneck": BottleneckConfig(placement="houlsby", reduction_factor=8, **common),
        "lora": LoraConfig(r=8, alpha=16, **common),
        "ia3": IA3Config(**common),
        "head": HeadConfig(heads=heads, head_out_features=head_out_features),
    }


@pytest.mark.parametrize("family", ["timm_vit", "monai_vit"])
@pytest.mark.parametrize("method", ["bottleneck", "lora", "ia3", "head"])
@pytest.mark.parametrize(
    ("layers", "head_out_features"), [(None, None), ((1, 2), 5)], ids=["plain", "top_new_classes"]
)
def test_image_defaults_are_the_former_ones(family, method, layers, head_out_features):
    heads = (str(adapters.FAMILIES[family].head),)
    expected = _image_defaults(heads, layers, head_out_features)[method]
    config = default_config(
        method,
        family,
        heads=heads,
        layers=None if layers is None else list(layers),
        head_out_features=head_out_features,
    )
    assert config == expected
    assert config.to_dict() == expected.to_dict()


def test_default_config_errors_name_the_fix():
    with pytest.raises(ConfigError) as err:
        default_config("full", "timm_vit")
    assert str(err.value) == (f"unknown adapter method 'full'; expected one of {method_names()}")
    with pytest.raises(ConfigError, match=r"unknown model family 'resnet'; expected one of"):
        default_config("lora", "resnet")


def test_config_from_dict_picks_the_class_by_method():
    config = IA3Config(feedforward=("fc2",), layers=(0,), heads=("head",))
    assert config_from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError) as err:
        config_from_dict({"method": "vera"})
    assert str(err.value).startswith("unknown adapter method 'vera'; expected one of [")
    with pytest.raises(ConfigError) as err:
        config_from_dict({"method": "lora", "rank": 4})
    assert str(err.value) == "unknown field ['rank'] for method 'lora'"


@dataclass(frozen=True, kw_only=True)
class _Misnamed(AdapterConfig):
    method: ClassVar[str] = "other"


def test_a_spec_must_be_consistent_and_registered_once():
    with pytest.raises(ConfigError) as err:
        MethodSpec(
            name="mine", config_class=_Misnamed, layer_class=None, label="x", mergeable=False
        )
    assert str(err.value) == "method 'mine': _Misnamed.method is 'other'; set it to 'mine'"
    with pytest.raises(ConfigError, match="a method name must be 1-32 lowercase letters"):
        MethodSpec(
            name="My-Method", config_class=_Misnamed, layer_class=None, label="x", mergeable=0
        )
    with pytest.raises(ConfigError) as err:
        register_method(method_spec("lora"))
    assert str(err.value) == "an adapter method named 'lora' is already registered"
    with pytest.raises(ConfigError, match=r"has defaults for unknown families \['resnet'\]"):
        MethodSpec(
            name="other",
            config_class=_Misnamed,
            layer_class=None,
            label="x",
            mergeable=False,
            defaults={"resnet": {}},
        )
