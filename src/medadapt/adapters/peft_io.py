"""Read LoRA and DoRA adapters written by Hugging Face PEFT (``save_pretrained``).

A PEFT directory holds ``adapter_config.json`` and ``adapter_model.safetensors`` with keys like
``base_model.model.<module path>.lora_A.weight`` (and ``...lora_magnitude_vector`` for DoRA,
``use_dora: true``); ``modules_to_save`` heads are stored under their plain path. medadapt
reads these files directly (PEFT itself is not needed at run time) and refuses, by name, the
PEFT options and the layers whose PEFT output it does not reproduce.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from safetensors.torch import load_file
from torch import nn

from medadapt.adapters.core import AdapterCore
from medadapt.adapters.dora import DoraConfig
from medadapt.adapters.layer import innermost, iter_base_modules
from medadapt.adapters.lora import LoraConfig
from medadapt.errors import AdapterFileError

_PREFIX = "base_model.model."
_MAGNITUDE = ".lora_magnitude_vector"  # DoRA's m, one tensor per layer (no ".weight")
_UNSUPPORTED = {
    "fan_in_fan_out": False,
    "lora_bias": False,
    "layer_replication": None,
    "target_parameters": None,
    "trainable_token_indices": None,
}


def read_peft_lora(directory: str | Path) -> tuple[dict, dict]:
    """``(adapter_config, tensors)`` from a PEFT LoRA directory, validated."""
    directory = Path(directory)
    config_path = directory / "adapter_config.json"
    if not config_path.is_file():
        raise AdapterFileError(
            f"no adapter_config.json in {directory}: not a PEFT adapter directory"
        )
    try:
        peft_config = json.loads(config_path.read_text())
    except json.JSONDecodeError:
        raise AdapterFileError(f"{config_path} is not valid JSON") from None
    if peft_config.get("peft_type") != "LORA":
        raise AdapterFileError(
            f"{directory} holds a PEFT {peft_config.get('peft_type')} adapter; only LORA is read"
        )
    for key, ok in _UNSUPPORTED.items():
        value = peft_config.get(key, ok)
        if value not in (ok, [], {}):
            raise AdapterFileError(
                f"PEFT option {key}={value!r} is not supported by medadapt; re-train without it"
            )
    if peft_config.get("bias", "none") != "none":
        raise AdapterFileError(
            f"PEFT option bias={peft_config['bias']!r} is not supported; re-train with bias='none'"
        )
    weights = directory / "adapter_model.safetensors"
    if not weights.is_file():
        if (directory / "adapter_model.bin").is_file():
            raise AdapterFileError(
                f"{directory} has adapter_model.bin (pickle), which medadapt never loads; "
                "re-save with save_pretrained(..., safe_serialization=True)"
            )
        raise AdapterFileError(f"no adapter_model.safetensors in {directory}")
    return peft_config, load_file(str(weights))


def load_peft_lora(model: AdapterCore, directory: str | Path, *, name: str) -> str:
    """Load a PEFT LoRA (or DoRA) adapter into ``model`` as adapter ``name`` (not activated)."""
    peft_config, tensors = read_peft_lora(directory)
    layers: list[str] = []
    state = {}
    heads: dict[str, dict] = {}
    for key, tensor in tensors.items():
        path = key.removeprefix(_PREFIX)
        if path.endswith(_MAGNITUDE):
            state[f"{path.removesuffix(_MAGNITUDE)}.magnitude"] = tensor
            continue
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in path:
                layer = path.split(marker)[0]
                if layer not in layers:
                    layers.append(layer)
                state[f"{layer}.{part}.weight"] = tensor
                break
        else:
            module, _, param = path.rpartition(".")
            heads.setdefault(module, {})[param] = tensor
    saved = peft_config.get("modules_to_save") or []
    stray = [h for h in heads if not any(h == m or h.endswith("." + m) for m in saved)]
    if stray:
        raise AdapterFileError(f"unexpected tensors for modules {stray} in {directory}")
    dora = bool(peft_config.get("use_dora", False))
    _check_convolutions(model, layers, directory, dora=dora)
    config = (DoraConfig if dora else LoraConfig)(
        r=int(peft_config["r"]),
        alpha=float(peft_config["lora_alpha"]),
        dropout=float(peft_config.get("lora_dropout") or 0.0),
        use_rslora=bool(peft_config.get("use_rslora", False)),
        rank_pattern=dict(peft_config.get("rank_pattern") or {}),
        alpha_pattern=dict(peft_config.get("alpha_pattern") or {}),
        targets=[{"regex": re.escape(layer)} for layer in layers] or None,
        heads=tuple(heads),
    )
    model.add_adapter_at(name, config, layers)
    for head, params in heads.items():
        for param, tensor in params.items():
            state[f"{head}.{param}"] = tensor
    try:
        model.load_adapter_state_dict(name, state)
    except Exception as exc:
        model.delete_adapter(name)
        raise AdapterFileError(
            f"PEFT adapter in {directory} does not fit this model: {exc}"
        ) from None
    return name


def _check_convolutions(
    model: AdapterCore, layers: list[str], directory: Path | str, *, dora: bool
) -> None:
    """Refuse DoRA on any Conv2d (medadapt's DoRA is for Linear layers), and LoRA on a Conv2d
    whose PEFT update is computed unlike its merged weight.

    PEFT builds ``lora_A`` with the base layer's kernel, stride and padding only: no dilation
    and zero padding. On a dilated kernel, or a layer that pads with reflect / replicate /
    circular values, PEFT's unmerged output thus differs from its own merged one; medadapt
    applies ``A`` exactly as the base layer (merged == unmerged), so it cannot reproduce both.
    """
    wanted = set(layers)
    for name, module, _, _ in iter_base_modules(model.base_model):
        conv = innermost(module)
        if name not in wanted or not isinstance(conv, nn.Conv2d):
            continue
        if dora:
            raise AdapterFileError(
                f"PEFT adapter in {directory} has DoRA on {name}, a Conv2d; medadapt's DoRA "
                "adapts Linear layers only: re-train it without that layer in target_modules, "
                "or with use_dora=False"
            )
        if any(d != 1 and k != 1 for d, k in zip(conv.dilation, conv.kernel_size, strict=True)):
            raise AdapterFileError(
                f"PEFT adapter in {directory} has LoRA on {name}, a Conv2d with dilation="
                f"{conv.dilation}: PEFT's unmerged LoRA ignores the dilation (its merged weight "
                "does not), so the adapter has no single output medadapt could match; re-train "
                "it without that layer in target_modules"
            )
        if conv.padding_mode != "zeros" and any(conv._reversed_padding_repeated_twice):
            raise AdapterFileError(
                f"PEFT adapter in {directory} has LoRA on {name}, a Conv2d with padding_mode="
                f"{conv.padding_mode!r}: PEFT's unmerged LoRA pads with zeros there (its merged "
                "weight does not), so the adapter has no single output medadapt could match; "
                "re-train it without that layer in target_modules"
            )
