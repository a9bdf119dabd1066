"""The options a vision backbone takes: its spec, its ``--backbone-options`` and its name.

``parse_spec`` reads ``timm:<name>`` / ``monai:vit``; ``check_backbone_options`` refuses, by
name, an option timm's ``VisionTransformer`` or MONAI's ``ViT`` does not take, or a value of the
wrong kind; ``check_timm_name`` refuses a timm model that is not a ViT/DeiT; and
``refuse_hub_options`` refuses the options that would download weights (no hub is reachable).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

import timm
from monai.networks.nets import ViT
from timm.models.vision_transformer import VisionTransformer

from medadapt.errors import ConfigError

_TIMM_MODULES = ("timm.models.vision_transformer", "timm.models.deit")
_FORBIDDEN = ("pretrained", "pretrained_cfg", "pretrained_cfg_overlay", "checkpoint_path")
_SET_BY_MEDADAPT = {"self", "img_size", "in_chans", "in_channels", "num_classes", "classification"}


def parse_spec(spec: str) -> tuple[str, str]:
    """``"timm:<name>"`` -> ("timm", name); ``"monai:vit"`` -> ("monai", "vit")."""
    library, _, name = str(spec).partition(":")
    if library == "timm" and name:
        return library, name
    if library == "monai" and name == "vit":
        return library, name
    raise ConfigError(
        f"unknown backbone {spec!r} (--backbone): use timm:<model name> (e.g. "
        f"timm:vit_small_patch16_224) or monai:vit{_meant_spec(str(spec))}"
    )


def _meant_spec(spec: str) -> str:
    """``"; did you mean 'timm:vit_tiny_patch16_224'?"`` for a timm model named without its
    library (a trial's ``--backbone vit_tiny_patch16_224``), MONAI's ViT named bare, or a
    library misspelt; empty otherwise."""
    library, colon, name = spec.partition(":")
    bare = name if colon else library
    if not colon and bare.lower() == "vit":
        return "; did you mean 'monai:vit'?"
    if colon and library not in ("timm", "monai"):
        close = difflib.get_close_matches(library.lower(), ["timm", "monai"], n=1, cutoff=0.5)
        return f"; did you mean '{close[0]}:{name}'?" if close else ""
    return f"; did you mean 'timm:{bare}'?" if not colon and timm.is_model(bare) else ""


def refuse_hub_options(options: Mapping[str, Any]) -> None:
    """Refuse the options that ask timm for hub weights (load a local file instead)."""
    for key in _FORBIDDEN:
        if key in options:
            raise ConfigError(
                f"{key}= is not supported: no hub is reachable; pass weights=<local .pth, .pt "
                "or .safetensors file>"
            )


def _option_defaults(library: str) -> dict[str, Any]:
    """The options a backbone takes through ``--backbone-options``, with their defaults
    (only plain values: numbers, booleans, text)."""
    if library == "timm":
        signature = inspect.signature(VisionTransformer.__init__)
    else:
        signature = inspect.signature(ViT.__init__)
    defaults = {}
    for name, parameter in signature.parameters.items():
        default = parameter.default
        plain = default is None or isinstance(default, int | float | str | tuple)
        technical = name.endswith("_layer") or name in ("device", "dtype", "weight_init")
        if name in _SET_BY_MEDADAPT or technical or not plain:
            continue
        defaults[name] = default
    if library == "monai":
        defaults["hidden_size"] = 768
    return defaults


def check_backbone_options(spec: str, options: Mapping[str, Any]) -> None:
    """Refuse, by name, an option the backbone does not take, a value of the wrong kind, or
    a width the heads cannot share (``embed_dim`` / ``hidden_size`` not a multiple of
    ``num_heads``)."""
    library, _ = parse_spec(spec)
    defaults = _option_defaults(library)
    for key, value in options.items():
        if key in _FORBIDDEN or (key == "patch_size" and isinstance(value, int)):
            continue
        if key not in defaults:
            known = ", ".join(sorted(k for k in defaults if not k.startswith("_")))
            raise ConfigError(
                f"--backbone-options {key}={value}: {spec} has no option {key!r}; it takes {known}"
            )
        default = defaults[key]
        kinds = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
        expected = type(default) if default is not None else None
        if expected is bool and not isinstance(value, bool):
            raise ConfigError(f"--backbone-options {key} must be true or false; got {value!r}")
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"--backbone-options {key} must be {kinds[int]}; got {value!r}")
        if expected is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"--backbone-options {key} must be {kinds[float]}; got {value!r}")
        if expected in (int, float) and value <= 0 and not key.endswith("rate"):
            raise ConfigError(f"--backbone-options {key} must be positive; got {value!r}")
    width_key = "embed_dim" if library == "timm" else "hidden_size"
    width, heads = options.get(width_key), options.get("num_heads")
    if isinstance(width, int) and isinstance(heads, int) and heads > 0 and width % heads:
        nearest = heads * max(1, width // heads)
        raise ConfigError(
            f"--backbone-options {width_key}={width} cannot be shared by num_heads={heads}: "
            f"{width_key} must be a multiple of num_heads (e.g. {width_key}={nearest})"
        )


def check_timm_name(name: str) -> None:
    """Refuse a name timm does not know (with the closest names), or a model that is not a
    ViT/DeiT."""
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models("vit_*"), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"--backbone timm:{name}: timm has no model {name!r}{hint}; pick a name from "
            "timm.list_models('vit_*')"
        )
    module = timm.models.model_entrypoint(name).__module__
    if module not in _TIMM_MODULES:
        raise ConfigError(
            f"--backbone timm:{name} is not a VisionTransformer ({module}); medadapt's image "
            "adapters and feature cache need a timm ViT or DeiT, e.g. timm:vit_small_patch16_224"
        )
