"""Read and write LoRA and DoRA adapters in Hugging Face PEFT's format (``save_pretrained``).

A PEFT directory holds ``adapter_config.json`` and ``adapter_model.safetensors`` with keys like
``base_model.model.<module path>.lora_A.weight`` (and ``...lora_magnitude_vector`` for DoRA,
``use_dora: true``); ``modules_to_save`` heads are stored under their plain path. medadapt
reads these files directly (PEFT itself is not needed at run time) and refuses, by name, the
PEFT options and the layers whose PEFT output it does not reproduce. :func:`export_peft` writes
a medadapt LoRA or DoRA adapter in the same format, for ``peft.PeftModel.from_pretrained``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from safetensors.torch import load_file, save
from torch import nn

from medadapt.adapters.core import AdapterCore
from medadapt.adapters.dora import DoraConfig
from medadapt.adapters.layer import innermost, iter_base_modules
from medadapt.adapters.lora import LoraConfig, lora_rank_and_alpha
from medadapt.adapters.state import refuse_overwrite
from medadapt.errors import AdapterFileError, AdapterStateError
from medadapt.fileio import atomic_write_bytes, make_directory

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
            if param.startswith("lora_"):  # lora_embedding_A / _B: LoRA on an nn.Embedding
                raise AdapterFileError(
                    f"PEFT adapter in {directory} has {param} on {module}, an embedding layer; "
                    "medadapt adapts Linear and Conv2d layers only: re-train it without that "
                    "layer in target_modules"
                )
            heads.setdefault(module, {})[param] = tensor
    saved = peft_config.get("modules_to_save") or []
    stray = [h for h in heads if not any(h == m or h.endswith("." + m) for m in saved)]
    if stray:
        raise AdapterFileError(f"unexpected tensors for modules {stray} in {directory}")
    _check_module_names(model, [*layers, *heads], directory)
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


def _check_module_names(model: AdapterCore, wanted: list[str], directory: Path | str) -> None:
    """Refuse, by name, a PEFT adapter whose module paths are not this model's (PEFT wrapped
    another model class: e.g. ``BertForSequenceClassification`` names ``bert.encoder...``
    what a bare ``BertModel`` names ``encoder...``)."""
    names = [n for n, *_ in iter_base_modules(model.base_model) if n]
    known = set(names)
    missing = [w for w in wanted if w not in known]
    if not missing:
        return
    first = missing[0]
    hint = ""
    for name in names:
        if first.endswith("." + name):
            hint = (
                f" (this model calls it {name!r}: PEFT wrapped a model around this one, whose "
                f"names start with {first[: -len(name)]!r})"
            )
            break
        if name.endswith("." + first):
            hint = (
                f" (this model calls it {name!r}: PEFT wrapped the part of this model named "
                f"{name[: -len(first) - 1]!r})"
            )
            break
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    raise AdapterFileError(
        f"PEFT adapter in {directory} adapts {first!r}{more}, which this "
        f"{type(model.base_model).__name__} does not have{hint}; wrap the same model class "
        "PEFT was trained on"
    )


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
        gap = peft_conv_gap(conv)
        if gap is not None:
            raise AdapterFileError(
                f"PEFT adapter in {directory} has LoRA on {name}, {gap}, so the adapter has no "
                "single output medadapt could match; re-train it without that layer in "
                "target_modules"
            )


def peft_conv_gap(conv: nn.Conv2d) -> str | None:
    """Why PEFT's unmerged LoRA on ``conv`` differs from its merged weight (None: it does not)."""
    if any(d != 1 and k != 1 for d, k in zip(conv.dilation, conv.kernel_size, strict=True)):
        return (
            f"a Conv2d with dilation={conv.dilation}: PEFT's unmerged LoRA ignores the dilation "
            "(its merged weight does not)"
        )
    if conv.padding_mode != "zeros" and any(conv._reversed_padding_repeated_twice):
        return (
            f"a Conv2d with padding_mode={conv.padding_mode!r}: PEFT's unmerged LoRA pads with "
            "zeros there (its merged weight does not)"
        )
    return None


# ----- export ------------------------------------------------------------------------------
_USE_DORA = {LoraConfig: False, DoraConfig: True}  # the config classes PEFT's LoRA format holds
EXPORTABLE_METHODS = tuple(config.method for config in _USE_DORA)  # ("lora", "dora")


def export_peft(
    model: AdapterCore, name: str, directory: str | Path, *, overwrite: bool = False
) -> Path:
    """Write adapter ``name`` of ``model`` as a PEFT LoRA / DoRA adapter directory
    (``adapter_config.json`` + ``adapter_model.safetensors``, PEFT's key names) that
    ``peft.PeftModel.from_pretrained(base, directory)`` loads; returns the directory.

    Module names are the base model's own (the model PEFT wraps must be the same base model);
    ``heads`` become ``modules_to_save``. A directory holding a PEFT adapter, or any other
    file, is refused unless ``overwrite``, as ``save_adapter`` refuses one; a medadapt adapter
    or model folder even with it. PEFT's files record no fingerprint of the base: loading them back
    (PEFT's or :func:`load_peft_lora`) checks shapes, not the base's weights.
    """
    others = {"adapter.json": "a medadapt adapter", "model.json": "a model"}
    refuse_overwrite(directory, "adapter_config.json", "a PEFT adapter", overwrite=overwrite,
                     foreign=others)  # fmt: skip
    config = _exportable_config(model, name)
    layers = model.layer_names[name]
    _check_exportable_layers(model, name, layers, config.heads)
    state = model.adapter_state_dict(name)
    ranks, alphas = {}, {}
    for layer in layers:  # per-layer overrides under their exact names
        r = int(state[f"{layer}.lora_A.weight"].shape[0])
        _, alpha = lora_rank_and_alpha(config, layer)
        if r != config.r:
            ranks[re.escape(layer)] = r
        if alpha != config.alpha:
            alphas[re.escape(layer)] = alpha
    peft_config = {
        "peft_type": "LORA",
        "task_type": None,
        "base_model_name_or_path": None,
        "r": config.r,
        "lora_alpha": config.alpha,
        "lora_dropout": config.dropout,
        "use_rslora": config.use_rslora,
        "use_dora": _USE_DORA[type(config)],
        "target_modules": list(layers),
        "rank_pattern": ranks,
        "alpha_pattern": alphas,
        "modules_to_save": list(config.heads) or None,
        "bias": "none",
        "fan_in_fan_out": False,
        "init_lora_weights": True,
        "inference_mode": True,
    }
    tensors = {}
    for key, tensor in state.items():
        if key.endswith(".magnitude"):
            key = key.removesuffix(".magnitude") + _MAGNITUDE
        tensors[_PREFIX + key] = tensor.detach().to("cpu").contiguous()
    directory = make_directory(directory, "the PEFT adapter")
    atomic_write_bytes(
        directory / "adapter_model.safetensors", save(tensors, metadata={"format": "pt"})
    )
    atomic_write_bytes(
        directory / "adapter_config.json", json.dumps(peft_config, indent=2).encode()
    )
    return directory


def _exportable_config(model: AdapterCore, name: str) -> LoraConfig:
    if name not in model.configs:
        known = ", ".join(model.configs) or "none"
        raise AdapterStateError(f"unknown adapter {name!r}; this model has: {known}")
    config = model.configs[name]
    if type(config) not in _USE_DORA:
        raise AdapterStateError(
            f"adapter {name!r} is {config.method}; only lora and dora adapters can be exported "
            "to PEFT (PEFT has no bottleneck adapters; ia3 and head exports are not implemented)"
        )
    if config.head_out_features is not None:
        raise AdapterStateError(
            f"adapter {name!r} adds classes to its head (head_out_features="
            f"{config.head_out_features}); PEFT's modules_to_save keeps the base head's shape, "
            "so it cannot be exported"
        )
    return config


def _check_exportable_layers(
    model: AdapterCore, name: str, layers: list[str], heads: tuple[str, ...]
) -> None:
    """Refuse what PEFT would load differently: a conv it computes otherwise, a head whose
    name PEFT would also match elsewhere (it wraps every module whose name ends with it)."""
    all_names = [n for n, *_ in iter_base_modules(model.base_model) if n]
    for head in heads:
        others = [n for n in all_names if n.endswith(head) and n != head]
        if others or head in layers:
            clash = others[0] if others else head
            raise AdapterStateError(
                f"adapter {name!r} has a head copy of {head!r}, but PEFT would treat {clash!r} "
                "as that head too; export an adapter without heads"
            )
    wanted = set(layers)
    for layer, module, _, _ in iter_base_modules(model.base_model):
        inner = innermost(module)
        gap = peft_conv_gap(inner) if layer in wanted and isinstance(inner, nn.Conv2d) else None
        if gap is not None:
            raise AdapterStateError(
                f"adapter {name!r} has LoRA on {layer}, {gap}, so PEFT would not reproduce "
                "it; export an adapter without that layer"
            )
