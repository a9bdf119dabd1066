"""Insert adapter layers into a model: resolve targets, wrap modules, add units.

Wrapping replaces a module in its parent by an :class:`AdapterLayer` that keeps the original
as ``base_layer``; a module already wrapped for the same method is reused (one layer holds many
adapters). Two different methods on the same module are refused, and so are positions PyTorch
would bypass (see :mod:`medadapt.adapters.fused`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from medadapt.adapters.bottleneck import BottleneckLayer
from medadapt.adapters.config import (
    AdapterConfig,
    BottleneckConfig,
    IA3Config,
    LoraConfig,
)
from medadapt.adapters.fused import check_position, sync_fast_paths
from medadapt.adapters.head import HeadLayer
from medadapt.adapters.ia3 import IA3Layer
from medadapt.adapters.layer import (
    AdapterLayer,
    base_type,
    innermost,
    iter_base_modules,
    wrapper_chain,
)
from medadapt.adapters.lora import LoraLayer
from medadapt.adapters.routing import Routing
from medadapt.adapters.targets import (
    TargetSpec,
    block_index,
    ia3_input_scaled,
    preset_targets,
    raise_no_match,
)
from medadapt.errors import ConfigError, TargetError

_D_MODEL = {
    "timm_vit": lambda m: int(m.embed_dim),
    "monai_vit": lambda m: int(m.blocks[0].mlp.linear2.out_features),
    "ft_transformer": lambda m: int(m.d_token),
    "hf_bert": lambda m: int(m.config.hidden_size),
}

LAYER_CLASSES: dict[str, type[AdapterLayer]] = {
    "bottleneck": BottleneckLayer,
    "lora": LoraLayer,
    "ia3": IA3Layer,
}


def resolve_targets(model: nn.Module, config: AdapterConfig, family: str | None) -> list[str]:
    """Canonical names of the modules ``config`` adapts in ``model`` (may be empty for 'head')."""
    if config.method == "head":
        return []
    if config.targets is not None:
        specs: Sequence[TargetSpec] = config.targets
    elif family is not None:
        placement = getattr(config, "placement", None)
        specs = preset_targets(family, config.method, placement)
    else:
        raise ConfigError(
            f"medadapt has no adapter preset for {type(model).__name__}; pass targets=[...] "
            "(module name suffixes, e.g. 'attn.qkv') or family=..."
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


def _d_model(model: nn.Module, module: nn.Module, config: BottleneckConfig, family: str | None):
    if config.d_model is not None:
        return config.d_model, config.d_model
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if family in _D_MODEL:
        d = _D_MODEL[family](model)
        return d, d
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise TargetError(
            f"cannot tell the width of {type(module).__name__} for a bottleneck adapter; "
            "pass BottleneckConfig(d_model=...)"
        )
    return linears[0].in_features, linears[-1].out_features


def _locate(model: nn.Module, wanted: str) -> tuple[nn.Module, nn.Module, str]:
    for name, module, parent, attr in iter_base_modules(model):
        if name == wanted:
            if parent is None or attr is None:
                raise TargetError("the whole model cannot be an adapter target; name a sub-module")
            return module, parent, attr
    raise TargetError(f"no module named {wanted!r} in {type(model).__name__}")


def _wrap(
    name: str,
    parent: nn.Module,
    attr: str,
    module: nn.Module,
    cls: type[AdapterLayer],
    routing: Routing,
    **kwargs: object,
) -> AdapterLayer:
    """The ``cls`` layer at this position: an existing one in the wrapper chain, or a new
    outermost wrapper (methods stack: e.g. IA3 around a bottleneck on one Linear)."""
    for layer in wrapper_chain(module):
        if isinstance(layer, cls):
            return layer
    check_position(name, module, parent, cls.method)
    layer = cls(module, routing, **kwargs)
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
    for layer_name in layer_names:
        module, parent, attr = _locate(model, layer_name)
        if isinstance(config, BottleneckConfig):
            d_in, d_out = _d_model(model, innermost(module), config, family)
            layer = _wrap(layer_name, parent, attr, module, BottleneckLayer, routing)
            layer.add(adapter, config, d_in=d_in, d_out=d_out)
        elif isinstance(config, LoraConfig):
            layer = _wrap(layer_name, parent, attr, module, LoraLayer, routing)
            layer.add(adapter, config, layer_name=layer_name)
        elif isinstance(config, IA3Config):
            scaled_input = ia3_input_scaled(family, config.feedforward, layer_name)
            layer = _wrap(
                layer_name, parent, attr, module, IA3Layer, routing, input_scaled=scaled_input
            )
            layer.add(adapter, config)
        else:
            raise ConfigError(f"method {config.method!r} has no layers to insert")
    for head_name in config.heads:
        module, parent, attr = _locate(model, head_name)
        layer = _wrap(head_name, parent, attr, module, HeadLayer, routing)
        layer.add(adapter, out_features=config.head_out_features)
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
    import copy

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
