"""Insert adapter layers into a model: resolve targets, wrap modules, add units.

Wrapping replaces a module in its parent by an :class:`AdapterLayer` that keeps the original
as ``base_layer``; a module already wrapped for the same method is reused (one layer holds many
adapters). Different methods on one module stack, each in its own wrapper (e.g. IA3 around a
LoRA layer); positions PyTorch would bypass are refused (see :mod:`medadapt.adapters.fused`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from torch import nn

from medadapt.adapters.config import AdapterConfig
from medadapt.adapters.fused import check_position, sync_fast_paths
from medadapt.adapters.head import HeadLayer
from medadapt.adapters.layer import (
    AdapterLayer,
    InjectionSite,
    base_type,
    innermost,
    iter_base_modules,
    wrapper_chain,
)
from medadapt.adapters.methods import method_spec, preset_targets
from medadapt.adapters.routing import Routing
from medadapt.adapters.targets import FAMILIES, TargetSpec, block_index, raise_no_match
from medadapt.errors import ConfigError, TargetError


def resolve_targets(model: nn.Module, config: AdapterConfig, family: str | None) -> list[str]:
    """Canonical names of the modules ``config`` adapts in ``model`` (may be empty for 'head')."""
    if method_spec(config.method).layer_class is None:
        return []
    if config.targets is not None:
        specs: Sequence[TargetSpec] = config.targets
    elif family is not None:
        specs = preset_targets(family, config)
        if not specs:
            raise ConfigError(
                f"method {config.method!r} has no preset targets for family {family!r}; pass "
                "targets=[...] (module name suffixes, e.g. 'attn.qkv')"
            )
    else:
        raise ConfigError(
            f"medadapt has no adapter preset for {type(model).__name__}; pass targets=[...] "
            "(module name suffixes, e.g. 'attn.qkv') or a preset family "
            f"({', '.join(sorted(FAMILIES))}) as family=... to the config or to AdapterModel"
        )
    names = []
    all_names: list[str] = []
    for name, module, parent, _ in iter_base_modules(model):
        if not name:
            continue
        if issubclass(base_type(module), (nn.Linear, nn.Conv2d)) and not isinstance(
            parent, nn.MultiheadAttention
        ):
            all_names.append(name)
        if not any(spec.matches(name, base_type(module)) for spec in specs):
            continue
        if config.layers is not None and block_index(family, name) not in config.layers:
            continue
        names.append(name)
    if not names:
        if config.layers is not None:
            raise TargetError(
                f"adapter targets matched no module in blocks {list(config.layers)} of "
                f"{type(model).__name__}; check the block indices"
            )
        raise_no_match(specs, all_names, model)
    return names


def _locate(model: nn.Module, wanted: str) -> tuple[nn.Module, nn.Module, str]:
    for name, module, parent, attr in iter_base_modules(model):
        if name == wanted:
            if parent is None or attr is None:
                raise TargetError("the whole model cannot be an adapter target; name a sub-module")
            return module, parent, attr
    raise TargetError(f"no module named {wanted!r} in {type(model).__name__}")


def _wrap(
    site: InjectionSite,
    parent: nn.Module,
    attr: str,
    module: nn.Module,
    cls: type[AdapterLayer],
    routing: Routing,
    config: AdapterConfig,
) -> AdapterLayer:
    """The ``cls`` layer at this position: an existing one in the wrapper chain, or a new
    outermost wrapper (methods stack: e.g. IA3 around a bottleneck on one Linear). The class
    must match exactly: a method whose layer subclasses another's still gets its own layer."""
    for layer in wrapper_chain(module):
        if type(layer) is cls:
            return layer
    check_position(site.name, module, parent, cls)
    layer = cls.build(module, routing, config, site)
    layer.training = layer.units.training = module.training  # the model's mode, not train()
    setattr(parent, attr, layer)
    return layer


def inject(
    model: nn.Module,
    adapter: str,
    config: AdapterConfig,
    layer_names: Sequence[str],
    *,
    routing: Routing,
    family: str | None,
) -> None:
    """Add adapter ``adapter`` to the modules ``layer_names`` and to ``config.heads``."""
    layer_class = method_spec(config.method).layer_class
    if layer_names and layer_class is None:
        raise ConfigError(f"method {config.method!r} has no layers to insert")
    for layer_name in layer_names:
        module, parent, attr = _locate(model, layer_name)
        site = InjectionSite(model=model, family=family, name=layer_name, module=innermost(module))
        layer = _wrap(site, parent, attr, module, layer_class, routing, config)
        layer.add(adapter, config, site)
    for head_name in config.heads:
        module, parent, attr = _locate(model, head_name)
        site = InjectionSite(model=model, family=family, name=head_name, module=innermost(module))
        layer = _wrap(site, parent, attr, module, HeadLayer, routing, config)
        layer.add(adapter, config, site)
    sync_fast_paths(model)


def remove(model: nn.Module, adapter: str) -> None:
    """Delete ``adapter`` everywhere; unwrap layers left without adapters."""
    for _, module, parent, attr in list(iter_base_modules(model)):
        outer: nn.Module | None = None
        for layer in list(wrapper_chain(module)):
            if adapter in layer.units:
                layer.remove_unit(adapter)
            if layer.units:
                outer = layer
                continue
            if outer is not None:  # drop an empty layer from the middle of the chain
                outer.base_layer = layer.base_layer
            elif parent is not None and attr is not None:
                setattr(parent, attr, layer.base_layer)
    sync_fast_paths(model)


def without_adapters(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` with every adapter layer removed (the plain base model)."""
    clone = copy.deepcopy(model)
    for _, module, parent, attr in list(iter_base_modules(clone)):
        for layer in wrapper_chain(module):
            if layer.merged:
                raise TargetError(
                    f"adapters {layer.merged} are merged into the weights; unmerge() first"
                )
        if parent is not None and attr is not None and isinstance(module, AdapterLayer):
            setattr(parent, attr, innermost(module))
    sync_fast_paths(clone)
    return clone
