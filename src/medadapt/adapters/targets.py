"""Where adapters go: target specs and per-family presets.

A :class:`TargetSpec` selects modules by name suffix, regular expression and/or module type
(all given criteria must hold). Names are *canonical*: the module paths of the original model,
as if no adapter had been inserted. Presets give the standard placements for the model families
medadapt knows (timm ViT, MONAI ViT, the tabular FT-Transformer, BERT-style encoders).

>>> spec = TargetSpec(suffix="attn.qkv")
>>> spec.matches_name("blocks.3.attn.qkv"), spec.matches_name("blocks.3.attn.qkv_bias")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from medadapt.errors import ConfigError, TargetError


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True, kw_only=True)
class TargetSpec:
    """Select modules by ``suffix`` (whole dotted components), ``regex`` (full match) and/or
    ``module_type`` (a class, or its qualified or bare name; subclasses match)."""

    suffix: str | None = None
    regex: str | None = None
    module_type: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.module_type, type):
            object.__setattr__(self, "module_type", _qualified_name(self.module_type))
        if self.suffix is None and self.regex is None and self.module_type is None:
            raise ConfigError("a TargetSpec needs at least one of suffix, regex, module_type")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ConfigError(f"target regex {self.regex!r} is invalid: {exc}") from None

    def matches_name(self, name: str) -> bool:
        if self.suffix is not None and not (
            name == self.suffix or name.endswith("." + self.suffix)
        ):
            return False
        return self.regex is None or re.fullmatch(self.regex, name) is not None

    def matches_type(self, module_class: type) -> bool:
        if self.module_type is None:
            return True
        wanted = self.module_type
        return any(wanted in (_qualified_name(cls), cls.__name__) for cls in module_class.__mro__)

    def matches(self, name: str, module_class: type) -> bool:
        return self.matches_name(name) and self.matches_type(module_class)

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}

    def __str__(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())


def parse_targets(value: Any) -> tuple[TargetSpec, ...]:
    """Normalise a suffix string, a TargetSpec, a dict, a type or a sequence of them."""
    if isinstance(value, (str, TargetSpec, dict, type)):
        value = [value]
    specs = []
    for item in value:
        if isinstance(item, TargetSpec):
            specs.append(item)
        elif isinstance(item, str):
            specs.append(TargetSpec(suffix=item))
        elif isinstance(item, dict):
            specs.append(TargetSpec(**item))
        elif isinstance(item, type) and issubclass(item, nn.Module):
            specs.append(TargetSpec(module_type=item))
        else:
            raise ConfigError(
                f"a target must be a name suffix, a TargetSpec, a dict or a module class, "
                f"got {item!r}"
            )
    if not specs:
        raise ConfigError("targets is empty: give at least one target or None for the preset")
    return tuple(specs)


@dataclass(frozen=True, kw_only=True)
class FamilyPreset:
    """Standard adapter placement for one model family."""

    block_pattern: str  # regex with one group: the block index in a module name
    attention_output: str  # regex: the attention sub-layer whose output Houlsby adapts
    feedforward: str  # regex: the FFN sub-layer (Houlsby, Pfeiffer, parallel)
    lora: tuple[str, ...]  # regexes of Linear layers LoRA adapts
    ia3_outputs: tuple[str, ...]  # regexes: output-scaled layers (keys, values)
    ia3_inputs: tuple[str, ...]  # regexes: input-scaled layers (FFN second layer)
    head: str | None  # name of the classification head, if the family has a standard one

    def block_index(self, name: str) -> int | None:
        found = re.search(self.block_pattern, name)
        return int(found.group(1)) if found else None


FAMILIES: dict[str, FamilyPreset] = {
    "timm_vit": FamilyPreset(
        block_pattern=r"(?:^|\.)blocks\.(\d+)\.",
        attention_output=r"blocks\.\d+\.attn",
        feedforward=r"blocks\.\d+\.mlp",
        lora=(r"blocks\.\d+\.attn\.qkv",),
        ia3_outputs=(r"blocks\.\d+\.attn\.qkv",),
        ia3_inputs=(r"blocks\.\d+\.mlp\.fc2",),
        head="head",
    ),
    "monai_vit": FamilyPreset(
        block_pattern=r"(?:^|\.)blocks\.(\d+)\.",
        attention_output=r"blocks\.\d+\.attn",
        feedforward=r"blocks\.\d+\.mlp",
        lora=(r"blocks\.\d+\.attn\.qkv",),
        ia3_outputs=(r"blocks\.\d+\.attn\.qkv",),
        ia3_inputs=(r"blocks\.\d+\.mlp\.linear2",),
        head="classification_head.0",
    ),
    "ft_transformer": FamilyPreset(
        block_pattern=r"(?:^|\.)blocks\.(\d+)\.",
        attention_output=r"blocks\.\d+\.attention",
        feedforward=r"blocks\.\d+\.ffn",
        lora=(r"blocks\.\d+\.attention\.W_q", r"blocks\.\d+\.attention\.W_v"),
        ia3_outputs=(r"blocks\.\d+\.attention\.W_k", r"blocks\.\d+\.attention\.W_v"),
        ia3_inputs=(r"blocks\.\d+\.ffn\.linear2",),
        head="head.linear",
    ),
    "hf_bert": FamilyPreset(
        block_pattern=r"(?:^|\.)layer\.(\d+)\.",
        attention_output=r"(?:.*\.)?layer\.\d+\.attention\.output\.dense",
        # BERT has no module holding the whole FFN without its residual + LayerNorm, so the FFN
        # target is its output projection: Houlsby / Pfeiffer sit exactly where the papers put
        # them; a *parallel* adapter here reads the FFN's intermediate activations rather than
        # the FFN's input (AdaptFormer's placement, which timm and MONAI ViTs get).
        feedforward=r"(?:.*\.)?layer\.\d+\.output\.dense",
        lora=(
            r"(?:.*\.)?layer\.\d+\.attention\.self\.query",
            r"(?:.*\.)?layer\.\d+\.attention\.self\.value",
        ),
        ia3_outputs=(
            r"(?:.*\.)?layer\.\d+\.attention\.self\.key",
            r"(?:.*\.)?layer\.\d+\.attention\.self\.value",
        ),
        ia3_inputs=(r"(?:.*\.)?layer\.\d+\.output\.dense",),
        head="classifier",
    ),
}

_BERT_TYPES = {"bert", "roberta", "xlm-roberta", "electra", "camembert", "mpnet"}


def detect_family(model: nn.Module) -> str | None:
    """The preset family of ``model``, or None when medadapt has no preset for it."""
    declared = getattr(model, "adapter_family", None)
    if isinstance(declared, str):
        return declared
    module = type(model).__module__
    if module.startswith("timm.") and hasattr(model, "blocks"):
        return "timm_vit"
    if module.startswith("monai.") and hasattr(model, "blocks"):
        return "monai_vit"
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) in _BERT_TYPES:
        return "hf_bert"
    return None


def get_family(name: str) -> FamilyPreset:
    if name not in FAMILIES:
        raise ConfigError(f"unknown model family {name!r}; expected one of {sorted(FAMILIES)}")
    return FAMILIES[name]


def ia3_input_scaled(family: str | None, feedforward: Iterable[str] | None, name: str) -> bool:
    """Whether IA3 on module ``name`` scales its input (FFN second layer) or its output."""
    if feedforward is not None:
        return any(TargetSpec(suffix=s).matches_name(name) for s in feedforward)
    if family is None:
        return False
    return any(re.fullmatch(r, name) for r in get_family(family).ia3_inputs)


def block_index(family: str | None, name: str) -> int | None:
    """Block index in a module name: the family's pattern, else the first integer component."""
    if family is not None:
        return get_family(family).block_index(name)
    found = re.search(r"(?:^|\.)(\d+)(?:\.|$)", name)
    return int(found.group(1)) if found else None


def raise_no_match(specs: Sequence[TargetSpec], names: Sequence[str], model: nn.Module) -> None:
    """The one-line error for targets that matched nothing, with example module names
    (``names``: the model's Linear/Conv layers, the usual targets)."""
    sample = list(names[:6])
    more = f" (+{len(names) - len(sample)} more)" if len(names) > len(sample) else ""
    wanted = "; ".join(str(s) for s in specs)
    raise TargetError(
        f"adapter targets ({wanted}) matched no module of {type(model).__name__}; its layers "
        f"are named like {', '.join(sample)}{more}: fix the targets or pass family=..."
    )
