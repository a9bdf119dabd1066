"""The adapter-method registry: every method is described once, by the module that defines it.

A method module (``bottleneck.py``, ``lora.py``, ``ia3.py``, ``head.py``, ``dora.py``) defines
its config class and its layer class and ends with one :func:`register_method` call. Everything
else that needs to know the methods reads this registry: config parsing
(:func:`config_from_dict`), injection (the layer class and the preset targets per model family),
merging, saving, the conformance suite (:mod:`medadapt.adapters.testing`), command-line choices
(:func:`method_names`), report labels (:func:`method_label`) and the default config per backbone
family (:func:`default_config`).

>>> method_names()[:4]
['bottleneck', 'lora', 'ia3', 'head']
>>> method_label("bottleneck")
'bottleneck adapter'
>>> cfg = default_config("lora", "ft_transformer", heads=("head.linear",))
>>> (cfg.r, cfg.alpha, cfg.heads)
(8, 16, ('head.linear',))
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from medadapt.adapters.config import AdapterConfig
from medadapt.adapters.layer import AdapterLayer
from medadapt.adapters.targets import FAMILIES, FamilyPreset, TargetSpec, get_family
from medadapt.errors import ConfigError

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def no_targets(preset: FamilyPreset, config: AdapterConfig) -> tuple[str, ...]:
    """Family targets of a method that adds no layer inside the backbone."""
    return ()


@dataclass(frozen=True, kw_only=True)
class MethodSpec:
    """Everything medadapt needs to know about one adapter method."""

    name: str  # the method's id: in configs, manifests, CLI choices ("lora")
    config_class: type[AdapterConfig]  # its ``method`` class attribute equals ``name``
    # the layer that wraps each target module; None: the method adds no layer to the backbone
    # (only the per-adapter head copies every method may carry)
    layer_class: type[AdapterLayer] | None
    label: str  # readable name in reports ("LoRA adapter")
    mergeable: bool  # whether merge_adapter() can fold it into the base weights
    merge_refusal: str = ""  # why not, when it cannot ("a bottleneck is non-linear")
    mixed_batches: bool = True  # whether one batch may route samples to different adapters
    # regexes of the modules the method adapts in a model of a known family (the presets)
    family_targets: Callable[[FamilyPreset, AdapterConfig], Sequence[str]] = no_targets
    # family -> keyword arguments of the default config (heads, layers, head_out_features aside)
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ConfigError(
                f"a method name must be 1-32 lowercase letters, digits or '_', starting with a "
                f"letter, got {self.name!r}"
            )
        if not (
            isinstance(self.config_class, type) and issubclass(self.config_class, AdapterConfig)
        ):
            raise ConfigError(
                f"method {self.name!r}: config_class must subclass AdapterConfig, got "
                f"{self.config_class!r}"
            )
        if self.config_class.method != self.name:
            raise ConfigError(
                f"method {self.name!r}: {self.config_class.__name__}.method is "
                f"{self.config_class.method!r}; set it to {self.name!r}"
            )
        if self.layer_class is not None and not (
            isinstance(self.layer_class, type) and issubclass(self.layer_class, AdapterLayer)
        ):
            raise ConfigError(
                f"method {self.name!r}: layer_class must subclass AdapterLayer or be None, got "
                f"{self.layer_class!r}"
            )
        unknown = sorted(set(self.defaults) - set(FAMILIES))
        if unknown:
            raise ConfigError(
                f"method {self.name!r} has defaults for unknown families {unknown}; expected "
                f"some of {sorted(FAMILIES)}"
            )


_REGISTRY: dict[str, MethodSpec] = {}


def register_method(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to the registry (once per name); returns it."""
    if spec.name in _REGISTRY:
        raise ConfigError(f"an adapter method named {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_method(name: str) -> None:
    """Remove method ``name`` (for plug-ins that are unloaded, and for tests)."""
    method_spec(name)
    del _REGISTRY[name]


def method_spec(name: str) -> MethodSpec:
    """The registered spec of method ``name``."""
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ConfigError(f"unknown adapter method {name!r}; expected one of {method_names()}")
    return spec


def method_names() -> list[str]:
    """The registered methods, in registration order (the command line's choices)."""
    return list(_REGISTRY)


def method_label(name: str) -> str:
    """How reports name method ``name`` ("bottleneck adapter", "LoRA adapter", ...)."""
    return method_spec(name).label


def mergeable_methods() -> list[str]:
    return [name for name, spec in _REGISTRY.items() if spec.mergeable]


def default_config(
    method: str,
    family: str,
    *,
    heads: str | Sequence[str] = (),
    layers: Sequence[int] | None = None,
    head_out_features: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> AdapterConfig:
    """The default config of ``method`` on a backbone of ``family``.

    ``heads``: the head modules that get a per-adapter copy; ``layers``: only these block indices
    (ignored by methods without backbone layers, e.g. ``head``); ``head_out_features``: a wider
    head copy for new classes; ``options``: the user's settings of the method (its config's
    fields, as :func:`parse_method_options` reads them), over the family's defaults.
    """
    spec = method_spec(method)
    get_family(family)
    if family not in spec.defaults:
        raise ConfigError(
            f"method {method!r} has no default config for family {family!r} (it has one for "
            f"{sorted(spec.defaults)}); build {spec.config_class.__name__}(...) yourself"
        )
    kwargs: dict[str, Any] = dict(spec.defaults[family])
    kwargs["heads"] = heads
    kwargs["head_out_features"] = head_out_features
    if spec.layer_class is not None:
        kwargs["layers"] = None if layers is None else tuple(layers)
    kwargs.update(options or {})
    try:
        return spec.config_class(**kwargs)
    except ConfigError as error:
        if not options:
            raise
        raise options_error(_shown(options), error) from None


#: what sets a method's options on the command line (``adapt``, ``federate``)
OPTIONS_FLAG = "--adapter-options"
FULL_TAKES_NO_OPTIONS = (f"{OPTIONS_FLAG} sets an adapter method's options; --method full "
                         "trains every weight and takes none: drop it")  # fmt: skip
#: config fields a user does not set: where the adapter goes (from the backbone) and how the
#: tests initialise it (``init``: a fresh adapter always starts as the identity)
_NOT_SETTABLE = frozenset(
    {"targets", "family", "layers", "heads", "head_out_features", "d_model", "init"}
)


def settable_options(method: str) -> dict[str, Any]:
    """The options of ``method`` a user may set, by name, with their types (scalars only)."""
    import dataclasses
    import typing

    config_class = method_spec(method).config_class
    hints = typing.get_type_hints(config_class)
    out = {}
    for f in dataclasses.fields(config_class):
        hint = hints[f.name]
        kinds = [k for k in typing.get_args(hint) or (hint,) if k is not type(None)]
        if f.name not in _NOT_SETTABLE and len(kinds) == 1 and kinds[0] in (int, float, bool, str):
            out[f.name] = kinds[0]
    return out


def parse_method_options(method: str, text: str | None) -> dict[str, Any]:
    """``--adapter-options`` (``KEY=VALUE,...``, e.g. ``r=4,alpha=8`` for lora) as typed values
    of ``method``'s config; a one-line :class:`ConfigError` naming the flag otherwise."""
    if text is None:
        return {}
    settable = settable_options(method)
    if not settable:
        raise ConfigError(f"--method {method} has no options to set: drop {OPTIONS_FLAG}")
    out: dict[str, Any] = {}
    given: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:  # "r=4," or an empty string: nothing to set there
            continue
        key, sep, value = (x.strip() for x in item.partition("="))
        if not sep or not key or not value:
            raise ConfigError(f"{OPTIONS_FLAG}: write KEY=VALUE pairs separated by commas "
                              f"(e.g. r=4); got {item!r}")  # fmt: skip
        if key not in settable:
            raise ConfigError(_unknown_option(method, key, settable))
        if key in out:
            raise ConfigError(f"{OPTIONS_FLAG}: {key} is given twice; give it once")
        out[key] = _typed(key, value, settable[key])
        given.append(item)
    for first, second in _EITHER_OR:
        if first in out and second in out:
            raise ConfigError(f"{OPTIONS_FLAG}: give {first} or {second}, not both")
    try:  # the values' own rules (r > 0, dropout in [0, 1) ...), before any work
        method_spec(method).config_class(**out)
    except ConfigError as error:
        raise options_error(",".join(given), error) from None
    return out


def parse_options_per_method(text: str | None, methods: Sequence[str]) -> dict[str, dict]:
    """``--adapter-options`` of a study, several methods at once: ``METHOD:KEY=VALUE,...``
    separated by ``;`` (``lora:r=16,alpha=32;bottleneck:reduction_factor=8``), each read as
    :func:`parse_method_options` reads it; ``methods``: those that take options here."""
    out: dict[str, dict] = {}
    for part in (p.strip() for p in (text or "").split(";")):
        if not part:
            continue
        method, sep, options = (x.strip() for x in part.partition(":"))
        if not sep or not method:
            raise ConfigError(f"{OPTIONS_FLAG}: write METHOD:KEY=VALUE,... for each method, "
                              f"separated by ';' (e.g. lora:r=16;bottleneck:reduction_factor=8)"
                              f"; got {part!r}")  # fmt: skip
        if method not in methods:
            raise ConfigError(f"{OPTIONS_FLAG}: {method!r} is not an adapter method this study "
                              f"runs (it runs {', '.join(methods) or 'none'}): add it to "
                              "--methods or drop its options")  # fmt: skip
        if method in out:
            raise ConfigError(f"{OPTIONS_FLAG}: {method} is given twice; give its options once")
        out[method] = parse_method_options(method, options)
    return out


def options_error(shown: str, error: ConfigError) -> ConfigError:
    """A method config's refusal of the user's ``--adapter-options`` (``shown``), by flag and
    without Python's ``self.``."""
    return ConfigError(f"{OPTIONS_FLAG} {shown}: {str(error).replace('self.', '')}")


#: options of which a user may give one (the second overrides the first)
_EITHER_OR = (("reduction_factor", "d_hidden"),)


def _unknown_option(method: str, key: str, settable: dict[str, Any]) -> str:
    """``key`` is not ``method``'s: its options, and the methods that have ``key``."""
    others = [m for m in method_names() if m != method and key in settable_options(m)]
    hint = f"; {key} is an option of {' and '.join(others)}: pass --method" if others else ""
    return (f"{OPTIONS_FLAG}: {key!r} is not an option of {method} (its options: "
            f"{', '.join(sorted(settable))}){hint}")  # fmt: skip


def _typed(key: str, value: str, kind: type) -> Any:
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"{OPTIONS_FLAG}: {key} takes true or false; got {value!r}")
        return value.lower() in ("true", "1", "yes")
    try:
        typed = kind(value)
    except ValueError:
        raise ConfigError(
            f"{OPTIONS_FLAG}: {key} takes a number ({kind.__name__}); got {value!r}"
        ) from None
    if kind is float and not math.isfinite(typed):
        raise ConfigError(f"{OPTIONS_FLAG}: {key} takes a finite number; got {value!r}")
    return typed


def _shown(options: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items())


def preset_targets(family: str, config: AdapterConfig) -> list[TargetSpec]:
    """The preset target specs of ``config``'s method on a model of ``family``."""
    preset = get_family(family)
    regexes = method_spec(config.method).family_targets(preset, config)
    return [TargetSpec(regex=r) for r in regexes]


def config_from_dict(data: dict[str, Any]) -> AdapterConfig:
    """Rebuild a config from :meth:`AdapterConfig.to_dict` output (the method picks the class)."""
    method = data.get("method")
    if method not in _REGISTRY:
        raise ConfigError(f"unknown adapter method {method!r}; expected one of {sorted(_REGISTRY)}")
    return _REGISTRY[method].config_class.from_dict(data)
