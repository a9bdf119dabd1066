"""The fields every adapter config shares; each method's config subclasses it in its own module.

A config says *what* an adapter is (method, sizes, where it goes); it holds no weights. Configs
round-trip through plain dicts (``to_dict`` / :func:`medadapt.adapters.methods.config_from_dict`)
so they can be stored in JSON next to the weights.
"""

from __future__ import annotations

import dataclasses
import numbers
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from medadapt.adapters.targets import TargetSpec, get_family, parse_targets
from medadapt.errors import ConfigError
from medadapt.wording import noun_for


def help_field(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A dataclass field with a help string (read by the CLI and the docs)."""
    return field(default=default, metadata={"help": text}, **kwargs)


@dataclass(frozen=True, kw_only=True)
class AdapterConfig:
    """Fields shared by every method."""

    method: ClassVar[str] = ""

    targets: tuple[TargetSpec, ...] | None = help_field(
        "Where to insert the adapter: target specs (a name suffix string, or TargetSpec with "
        "suffix / regex / module_type). None = the preset for the model's family.",
        None,
    )
    family: str | None = help_field(
        "Preset family used when targets is None (timm_vit, monai_vit, ft_transformer, "
        "hf_bert). None = detect from the model.",
        None,
    )
    layers: tuple[int, ...] | None = help_field(
        "Only the Transformer blocks with these indices (e.g. the top k); None = all blocks.",
        None,
    )
    heads: tuple[str, ...] = help_field(
        "Names of nn.Linear output heads that get a trainable per-adapter copy "
        "(saved with the adapter); e.g. ('head',).",
        (),
    )
    head_out_features: int | None = help_field(
        "Give the per-adapter head copy this many outputs (> the base head's) to add new "
        "classes; the first rows copy the base head so old classes are kept.",
        None,
    )

    def __post_init__(self) -> None:
        _check_scalar_types(self)
        if self.targets is not None:
            object.__setattr__(self, "targets", parse_targets(self.targets))
        if self.family is not None:
            get_family(self.family)
        if self.layers is not None:
            layers = _block_indices(self.layers)
            if any(i < 0 for i in layers):
                raise ConfigError(f"layers must be non-negative block indices, got {layers=}")
            object.__setattr__(self, "layers", layers)
        heads = (self.heads,) if isinstance(self.heads, str) else tuple(self.heads)
        object.__setattr__(self, "heads", heads)
        if self.head_out_features is not None:
            if not heads:
                raise ConfigError(
                    "head_out_features needs heads=('<head module name>',) to know which head to "
                    f"extend, got heads={heads}"
                )
            if self.head_out_features < 1:
                raise ConfigError(
                    f"head_out_features must be positive, got {self.head_out_features=}"
                )
        self._validate()

    def _validate(self) -> None:  # overridden per method
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, including ``method``."""
        out: dict[str, Any] = {"method": self.method}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "targets" and value is not None:
                value = [spec.to_dict() for spec in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterConfig:
        """Rebuild a config of this class from :meth:`to_dict` output (``method`` may be left
        out). JSON lists become tuples again; unknown fields are refused by name."""
        data = {k: v for k, v in data.items() if k != "method"}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown {noun_for(len(unknown), 'field')} {unknown} for method {cls.method!r}"
            )
        for key, value in data.items():
            if isinstance(value, list) and key != "targets":
                data[key] = tuple(value)
        return cls(**data)


#: a scalar field's annotation -> (the values it takes, how a message names them)
_SCALARS = {
    "int": (lambda v: isinstance(v, numbers.Integral) and not _is_bool(v), "a whole number"),
    "float": (lambda v: isinstance(v, numbers.Real) and not _is_bool(v), "a number"),
    "bool": (lambda v: _is_bool(v), "True or False"),
}


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy's too


def _check_scalar_types(config: AdapterConfig) -> None:
    """Each ``int``/``float``/``bool`` field holds one (``r="4"`` would otherwise fail later in
    a comparison, with Python's words instead of the field's name)."""
    for f in dataclasses.fields(config):
        kind, _, optional = str(f.type).partition(" | ")
        value = getattr(config, f.name)
        if kind not in _SCALARS or (optional == "None" and value is None):
            continue
        accepts, named = _SCALARS[kind]
        if not accepts(value):
            raise ConfigError(f"{f.name} must be {named}, got {value!r}")


def _block_indices(value: Any) -> tuple[int, ...]:
    """``layers`` as a tuple of ints, from one index or a sequence of them (a string is refused:
    read character by character, "12" would mean blocks 1 and 2)."""
    items = [value] if isinstance(value, (int, bool)) or not isinstance(value, Iterable) else value
    try:
        if isinstance(value, (str, bytes)) or any(isinstance(i, bool) for i in items):
            raise TypeError
        return tuple(operator.index(i) for i in items)
    except TypeError:
        raise ConfigError(
            f"layers must be block indices (ints), e.g. layers=(10, 11), got {value!r}"
        ) from None
