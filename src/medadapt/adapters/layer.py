"""The adapter-layer contract shared by every method, and the canonical module walk.

An :class:`AdapterLayer` wraps one module of the frozen model (``base_layer``) and holds any
number of named adapters for it (``units``: a ``ModuleDict`` keyed by adapter name). Its forward
reads the model's shared :class:`~medadapt.adapters.routing.Routing` and either

* runs the active adapters (the common case: one adapter for the whole batch), or
* runs a *mixed* batch: each method stacks its adapters' weights once (cached outside autograd)
  and gathers one slot per sample, so the cost does not grow with a Python loop over adapters.
  The last slot of every stack is the identity, used by samples routed to "no adapter" and by
  samples whose adapter does not touch this layer.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import torch
from torch import nn

from medadapt.adapters.routing import MixedRoute, Routing
from medadapt.errors import AdapterStateError


@dataclass(frozen=True)
class InjectionSite:
    """Where an adapter goes: the adapted model, its preset family and one target module."""

    model: nn.Module  # the base model being adapted
    family: str | None  # its preset family (None: no preset)
    name: str  # the target's canonical name
    module: nn.Module  # the original module at ``name`` (adapter wrappers looked through)


class AdapterLayer(nn.Module, abc.ABC):
    """Base class: a wrapped module plus per-adapter units.

    A method's layer implements :meth:`add` (a new unit for one adapter), :meth:`forward_active`,
    :meth:`forward_mixed` and, if the method merges, :meth:`merge` / :meth:`unmerge`.
    """

    method: ClassVar[str] = ""
    # True when the layer only reads the wrapped module's input / output, so it may wrap any
    # module (a bottleneck around a whole attention block); False when it needs its weights
    wraps_any_module: ClassVar[bool] = False
    # True when a merge reads the base weight itself (DoRA's magnitude): merged first at its
    # layer, never onto a weight another adapter's merge changed
    merges_onto_the_base_weight: ClassVar[bool] = False

    def __init__(self, base_layer: nn.Module, routing: Routing) -> None:
        super().__init__()
        self.base_layer = base_layer
        self.units = nn.ModuleDict()
        self.routing = routing
        self.merged: list[str] = []
        self._pristine: dict[str, torch.Tensor] = {}  # base weights before the first merge
        self._stack_cache: dict[Any, Any] = {}
        self._slot_cache: dict[Any, torch.Tensor] = {}
        self._group_cache: dict[tuple[str, ...], dict[Any, tuple[str, ...]]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name in ("base_layer", "units"):
                raise
            return getattr(self.base_layer, name)

    @classmethod
    def build(
        cls, base_layer: nn.Module, routing: Routing, config: Any, site: InjectionSite
    ) -> Self:
        """A new layer of this method around ``base_layer`` (the module at ``site``, or the
        adapter layers already there). Override to pass per-site options to the constructor."""
        return cls(base_layer, routing)

    @abc.abstractmethod
    def add(self, name: str, config: Any, site: InjectionSite) -> None:
        """Give this layer a unit for adapter ``name`` (an exact identity until trained)."""

    # ----- per-adapter bookkeeping -------------------------------------------------------
    @property
    def adapter_names(self) -> list[str]:
        return list(self.units.keys())

    def add_unit(self, name: str, unit: nn.Module) -> None:
        if name in self.units:
            raise AdapterStateError(f"this layer already holds an adapter named {name!r}")
        weight = next(iter(self.base_layer.parameters()), None)
        if weight is not None:
            unit.to(device=weight.device, dtype=weight.dtype)
        unit.train(self.base_layer.training)  # dropout only when the model trains
        self.units[name] = unit
        self.invalidate()

    # ----- exact merge / unmerge (weight-changing methods) -------------------------------
    def remember_base(self) -> None:
        """Before the first merge: keep the base weight and bias, so that unmerging restores
        them bit for bit (subtracting a delta again would round, and would be wrong if the
        adapter changed while merged)."""
        if self.merged:
            return
        base = self.base_layer
        self._pristine = {
            key: getattr(base, key).detach().clone()
            for key in ("weight", "bias")
            if getattr(base, key, None) is not None
        }

    def unmerge_exactly(self, name: str, merge: Callable[[str], None]) -> None:
        """Restore the remembered base, then merge the other merged adapters again."""
        if name not in self.merged:
            raise AdapterStateError(f"adapter {name!r} is not merged")
        remaining = [n for n in self.merged if n != name]
        with torch.no_grad():
            for key, saved in self._pristine.items():
                getattr(self.base_layer, key).copy_(saved)
        self.merged.clear()
        self._pristine = {}
        for other in remaining:
            merge(other)

    def remove_unit(self, name: str) -> None:
        if name in self.merged:
            raise AdapterStateError(
                f"adapter {name!r} is merged; call unmerge() before deleting it"
            )
        del self.units[name]
        self.invalidate()

    def invalidate(self) -> None:
        self._stack_cache.clear()
        self._slot_cache.clear()
        self._group_cache.clear()

    def adapter_parameters(self, name: str) -> Iterator[nn.Parameter]:
        yield from self.units[name].parameters()

    # ----- forward ------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        routing = self.routing
        if routing.mixed is not None:
            return self.forward_mixed(routing.mixed, args, kwargs)
        if routing.disabled:
            names: tuple[str, ...] = ()
        else:
            names = tuple(n for n in routing.active if n in self.units and n not in self.merged)
        if not names:
            return self.base_layer(*args, **kwargs)
        return self.forward_active(names, args, kwargs)

    @abc.abstractmethod
    def forward_active(self, names: tuple[str, ...], args: tuple, kwargs: dict) -> Any:
        """The base output with the adapters ``names`` applied (one batch, same adapters)."""

    @abc.abstractmethod
    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        """The base output with one adapter (or none) per sample, as ``route`` says."""

    # ----- merging (LoRA, IA3) -------------------------------------------------------------
    def merge(self, name: str) -> None:
        raise AdapterStateError(f"{self.method} adapters cannot be merged into the base weights")

    def unmerge(self, name: str) -> None:
        raise AdapterStateError(f"{self.method} adapters cannot be merged into the base weights")

    # ----- mixed-batch helpers -------------------------------------------------------------
    def groups(self, route: MixedRoute) -> dict[Any, tuple[str, ...]]:
        """This layer's adapters for ``route``, grouped by what a stacked computation needs
        them to share (e.g. activation). While training (gradients recorded), adapters absent
        from the batch are left out, so they cost nothing and receive no gradient; at
        inference every adapter of the layer is in its group, so the stacked weights are
        built once and reused whatever subset of adapters a batch mixes (serving mixes a
        different subset in nearly every micro-batch). Cached until units change."""
        pool = route.vocabulary if torch.is_grad_enabled() else tuple(sorted(self.units))
        groups = self._group_cache.get(pool)
        if groups is not None:
            return groups
        out: dict[Any, list[str]] = {}
        for name in pool:
            if name in self.units:
                unit = self.units[name]
                out.setdefault(getattr(unit, "group_key", None), []).append(name)
        groups = {key: tuple(names) for key, names in out.items()}
        if len(self._group_cache) > 64:
            self._group_cache.clear()
        self._group_cache[pool] = groups
        return groups

    def slots(
        self, route: MixedRoute, names: tuple[str, ...], device: torch.device
    ) -> torch.Tensor:
        """Per-sample index into a stack of ``names`` (+ identity slot ``len(names)``).

        Shape: (B,) int64 on ``device``. Computed once per route for all layers that share
        ``names``.
        """
        memo_key = ("slots", names, device)
        slot = route.memo.get(memo_key)
        if slot is not None:
            return slot
        key = (route.vocabulary, names, device)
        lut = self._slot_cache.get(key)
        if lut is None:
            position = {n: i for i, n in enumerate(names)}
            identity = len(names)
            table = [position.get(v, identity) for v in route.vocabulary] + [identity]
            lut = torch.tensor(table, dtype=torch.long, device=device)
            if len(self._slot_cache) > 64:
                self._slot_cache.clear()
            self._slot_cache[key] = lut
        slot = route.memo[memo_key] = lut[route.codes_on(device)]
        return slot

    def stacked(
        self, key: Any, names: tuple[str, ...], build: Callable[[tuple[str, ...]], Any]
    ) -> Any:
        """``build(names)`` (stacked weights), cached while no gradient is being recorded.

        The cache is keyed by the parameters' version counters and storages, so an optimizer
        step, a ``load_state_dict`` or a move / cast of the model invalidates it.
        """
        if torch.is_grad_enabled():
            return build(names)
        cache_key = (key, names)
        hit = self._stack_cache.get(cache_key)
        if hit is not None:
            modules, versions, value = hit
            if _versions(modules) == versions:
                return value
        # the modules are fixed until add / delete (which clear this cache); their parameters
        # are read afresh on every check, so a replaced or updated parameter is seen
        modules = [m for n in names for m in self.units[n].modules()]
        modules.append(innermost(self.base_layer))
        value = build(names)
        if len(self._stack_cache) > 32:
            self._stack_cache.clear()
        self._stack_cache[cache_key] = (modules, _versions(modules), value)
        return value


def _versions(modules: list[nn.Module]) -> tuple[tuple[int, int], ...]:
    """Version counter and storage of every parameter: an optimizer step or a
    ``load_state_dict`` bumps the first, a move or cast (``model.to(...)``) changes the second
    without bumping the first."""
    return tuple(
        (p._version, p.data_ptr()) for m in modules for p in m._parameters.values() if p is not None
    )


def split_output(out: Any) -> tuple[torch.Tensor, Callable[[torch.Tensor], Any]]:
    """Hidden states from a module output that may be a tuple (Hugging Face style)."""
    if isinstance(out, tuple):
        return out[0], lambda y: (y, *out[1:])
    return out, lambda y: y


def per_sample(x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """View ``x`` as (B, tokens, features) for a batch of ``batch_size`` samples.

    Accepts (B, ..., d) and batch-major flattened (B*k, d) layouts.
    """
    if x.shape[0] == batch_size:
        return x.reshape(batch_size, -1, x.shape[-1])
    if x.dim() >= 2 and x.shape[0] % batch_size == 0:
        return x.reshape(batch_size, -1, x.shape[-1])
    raise AdapterStateError(
        f"a mixed-adapter batch has {batch_size} adapter ids but this layer sees "
        f"{x.shape[0]} rows; pass one adapter id per sample"
    )


def matmul_dtype(x: torch.Tensor, weight: torch.Tensor) -> torch.dtype:
    """The dtype a matmul of ``x`` with ``weight`` runs in: the autocast dtype when autocast is
    on for ``x``'s device (it would cast the weight), else the weight's own dtype."""
    device_type = x.device.type
    if weight.dtype != torch.float64 and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return weight.dtype


def pad_to(t: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """Zero-pad ``t`` along ``dim`` to ``size`` (adapters of different hidden sizes share a
    stack; the zero rows/columns contribute exactly nothing)."""
    missing = size - t.shape[dim]
    if missing == 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t, t.new_zeros(shape)], dim=dim)


def innermost(module: nn.Module) -> nn.Module:
    """The original module under any number of adapter wrappers."""
    while isinstance(module, AdapterLayer):
        module = module.base_layer
    return module


def wrapper_chain(module: nn.Module) -> Iterator[AdapterLayer]:
    """The adapter layers stacked at one position, outermost first."""
    while isinstance(module, AdapterLayer):
        yield module
        module = module.base_layer


def iter_base_modules(
    model: nn.Module, prefix: str = "", parent: nn.Module | None = None, attr: str | None = None
) -> Iterator[tuple[str, nn.Module, nn.Module | None, str | None]]:
    """Yield ``(canonical_name, module, parent, attribute)`` for every module of the base model.

    Adapter layers are transparent: the outermost wrapper is yielded under its base module's
    name, and the walk continues into the original module's children (never into units).
    """
    yield prefix, model, parent, attr
    inner = innermost(model)
    for child_attr, child in inner.named_children():
        name = f"{prefix}.{child_attr}" if prefix else child_attr
        yield from iter_base_modules(child, name, inner, child_attr)


def base_type(module: nn.Module) -> type:
    """The class of the original module at this position (looks through wrappers)."""
    return type(innermost(module))


def adapter_layers(model: nn.Module) -> Iterator[tuple[str, AdapterLayer]]:
    """``(canonical_name, layer)`` for every adapter layer in ``model``."""
    for name, module, _, _ in iter_base_modules(model):
        for layer in wrapper_chain(module):
            yield name, layer


def base_named_tensors(model: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """The base model's parameters and persistent buffers under canonical names."""
    for name, module, _, _ in iter_base_modules(model):
        inner = innermost(module)
        non_persistent = getattr(inner, "_non_persistent_buffers_set", set())
        for key, tensor in inner.named_parameters(recurse=False):
            yield (f"{name}.{key}" if name else key), tensor
        for key, tensor in inner.named_buffers(recurse=False):
            if tensor is not None and key not in non_persistent:
                yield (f"{name}.{key}" if name else key), tensor
