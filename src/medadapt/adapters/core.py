"""``AdapterCore``: many named adapters on one frozen ``torch.nn.Module``, without files.

Adding, deleting, activating, routing (mixed batches), training and merging adapters. Saving
and loading sit one level up (:mod:`medadapt.adapters.state`, which imports this module);
:class:`medadapt.adapters.model.AdapterModel` is this class plus ``save_adapter`` /
``load_adapter``.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Self

import torch
from torch import nn

from medadapt.adapters import inject as _inject
from medadapt.adapters.config import AdapterConfig
from medadapt.adapters.fingerprint import BaseFingerprint, fingerprint_model
from medadapt.adapters.layer import (
    AdapterLayer,
    adapter_layers,
    base_named_tensors,
    innermost,
    iter_base_modules,
    wrapper_chain,
)
from medadapt.adapters.methods import mergeable_methods, method_spec
from medadapt.adapters.routing import MixedRoute, Routing
from medadapt.adapters.targets import detect_family
from medadapt.errors import AdapterStateError, ConfigError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")


def check_adapter_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"adapter name {name!r} is invalid: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class AdapterCore(nn.Module):
    """A frozen base model carrying any number of named adapters.

    Wrapping freezes the base: its parameters stop requiring grad, and its norm layers with
    running statistics (BatchNorm, InstanceNorm with ``track_running_stats``) stay in eval mode
    whatever mode the model is put in, so training an adapter never moves them.

    ``forward(*args, adapter_ids=None, **kwargs)`` calls the base model with the active
    adapters, or, with ``adapter_ids`` (one name or None per sample), as a mixed batch.
    """

    def __init__(self, base_model: nn.Module, *, family: str | None = None) -> None:
        super().__init__()
        if isinstance(base_model, AdapterCore):
            raise ConfigError("base_model is already an AdapterModel; add adapters to it directly")
        if not isinstance(base_model, nn.Module):  # a BaseModel (ma.adapt takes one): its .model
            held = hasattr(base_model, "model")
            inner = " (pass base.model, the network it holds)" if held else ""
            raise ConfigError(
                f"base_model must be a torch network, not {type(base_model).__name__}{inner}"
            )
        if any(True for _ in adapter_layers(base_model)):
            raise ConfigError(
                "base_model already carries adapters of another AdapterModel; add adapters to "
                "that AdapterModel, or pass a plain copy (medadapt.adapters.without_adapters)"
            )
        self.base_model = base_model
        self.family = family if family is not None else detect_family(base_model)
        self.routing = Routing()
        self.configs: dict[str, AdapterConfig] = {}
        self.layer_names: dict[str, list[str]] = {}
        # per adapter: JSON-ready facts about its training (counts, column names; never rows)
        # that save_adapter writes into its manifest's metadata, under the caller's own
        self.adapter_metadata: dict[str, dict[str, Any]] = {}
        # per adapter: files save_adapter writes beside its manifest, by name (split.json: which
        # rows trained it, as keyed hashes, kept out of the manifest the registry ships)
        self.adapter_files: dict[str, dict[str, bytes]] = {}
        self._fingerprint: tuple[tuple[int, ...], BaseFingerprint] | None = None
        self._layer_list: list[AdapterLayer] | None = None  # cached walk; reset on add/delete
        self._active_before_merge: tuple[str, ...] | None = None
        self._merges: list[tuple[AdapterLayer, str]] = []  # (layer, adapter), as merged
        self.training = base_model.training  # an eval-mode base stays in eval mode
        base_model.requires_grad_(False)
        _freeze_norm_statistics(base_model)

    def train(self, mode: bool = True) -> Self:
        """Put the adapters (and the base's dropout) in ``mode``; the base's running-statistics
        norm layers stay in eval mode."""
        super().train(mode)
        _freeze_norm_statistics(self.base_model)
        return self

    # ----- fingerprint ---------------------------------------------------------------------
    def _base_versions(self) -> tuple[tuple[int, int, torch.dtype], ...]:
        # data_ptr and dtype: a move or cast (``.to(...)``) does not bump version counters
        return tuple(
            (t._version, t.data_ptr(), t.dtype) for _, t in base_named_tensors(self.base_model)
        )

    @property
    def fingerprint(self) -> BaseFingerprint:
        """The base model's fingerprint, recomputed only when a version counter, storage or dtype
        of a base tensor changed (an edit through ``param.data`` changes none of them: see
        :meth:`refresh_fingerprint`)."""
        versions = self._base_versions()
        if self._fingerprint is not None and self._fingerprint[0] == versions:
            return self._fingerprint[1]
        if self.merged_adapters:
            if self._fingerprint is not None:
                return self._fingerprint[1]
            raise AdapterStateError("unmerge adapters before fingerprinting the base model")
        value = fingerprint_model(self.base_model)
        self._fingerprint = (versions, value)
        return value

    def refresh_fingerprint(self) -> BaseFingerprint:
        """The fingerprint of the base weights as they are now (what saving and loading check);
        while adapters are merged, the one taken just before merging."""
        if not self.merged_adapters:
            self._fingerprint = None
        return self.fingerprint

    def __repr__(self) -> str:
        """One line a notebook can read: the base network and each adapter with its method
        and size (``.base_model`` shows the network's module tree)."""
        adapters = ", ".join(
            f"{name!r} ({config.method}, {self.count_parameters(name):,} parameters)"
            for name, config in self.configs.items()
        )
        return (f"{type(self).__name__}({type(self.base_model).__name__}, "
                f"{f'adapters: {adapters}' if adapters else 'no adapters'})")  # fmt: skip

    # ----- adding / removing ---------------------------------------------------------------
    @property
    def adapter_names(self) -> list[str]:
        return list(self.configs)

    def add_adapter(self, name: str, config: AdapterConfig) -> None:
        """Insert a new adapter (an exact identity until trained). Not activated."""
        self.add_adapter_at(name, config, None)

    def add_adapter_at(
        self, name: str, config: AdapterConfig, layer_names: Sequence[str] | None
    ) -> list[str]:
        """Insert ``name`` at explicit canonical ``layer_names`` (None = resolve targets)."""
        check_adapter_name(name)
        _check_config(config)
        if name in self.configs:
            raise AdapterStateError(
                f"an adapter named {name!r} already exists; pick another name (name=...), or "
                f"delete_adapter({name!r}) first"
            )
        if self.merged_adapters:
            raise AdapterStateError("unmerge adapters before adding new ones")
        self.fingerprint  # noqa: B018 - compute on the clean base before any change
        family = config.family or self.family  # the config's preset family wins
        if layer_names is None:
            layer_names = _inject.resolve_targets(self.base_model, config, family)
        self._layer_list = None
        try:
            _inject.inject(
                self.base_model,
                name,
                config,
                layer_names,
                routing=self.routing,
                family=family,
            )
        except BaseException:  # leave no half-injected layers behind
            _inject.remove(self.base_model, name)
            raise
        self.configs[name] = config
        self.layer_names[name] = list(layer_names)
        return list(layer_names)

    def delete_adapter(self, name: str) -> None:
        self._known(name)
        if name in self.merged_adapters:
            raise AdapterStateError(
                f"adapter {name!r} is merged; call unmerge() before deleting it"
            )
        self._layer_list = None
        _inject.remove(self.base_model, name)
        del self.configs[name], self.layer_names[name]
        self.adapter_metadata.pop(name, None)
        self.adapter_files.pop(name, None)
        self.routing.active = tuple(a for a in self.routing.active if a != name)

    def _known(self, name: str) -> None:
        if name not in self.configs:
            from medadapt.checks import did_you_mean  # "siteb" for "siteB": a trial's

            known = ", ".join(self.configs) or "none"
            raise AdapterStateError(f"unknown adapter {name!r}; this model has: {known}"
                                    f"{did_you_mean(str(name), list(self.configs))}")  # fmt: skip

    # ----- activation ------------------------------------------------------------------------
    @property
    def active_adapters(self) -> tuple[str, ...]:
        return self.routing.active

    def set_active(self, names: str | Sequence[str] | None) -> None:
        """Activate one adapter, several (their updates add up), or none (``None``)."""
        if self.merged_adapters:
            raise AdapterStateError(
                f"adapters {self.merged_adapters} are merged; call unmerge() before switching"
            )
        names = () if names is None else (names,) if isinstance(names, str) else tuple(names)
        for name in names:
            self._known(name)
        self.routing.active = names

    @contextlib.contextmanager
    def disabled(self) -> Iterator[None]:
        """Run the plain base model inside this block."""
        if self.merged_adapters:
            raise AdapterStateError("merged adapters cannot be disabled; call unmerge() first")
        previous = self.routing.disabled
        self.routing.disabled = True
        try:
            yield
        finally:
            self.routing.disabled = previous

    @contextlib.contextmanager
    def route(self, adapter_ids: Sequence[str | None]) -> Iterator[None]:
        """Route sample i through adapter ``adapter_ids[i]`` (None = base model)."""
        ids = _adapter_ids(adapter_ids)
        for name in {a for a in ids if a is not None}:
            self._known(name)
        if self._any_merged():
            raise AdapterStateError(
                f"adapters {self.merged_adapters} are merged; call unmerge() before a "
                "mixed-adapter forward"
            )
        distinct = set(ids)
        if len(distinct) > 1:
            self._check_mixable(distinct)
        saved = (self.routing.active, self.routing.disabled, self.routing.mixed)
        if len(distinct) == 1:  # one adapter for the whole batch: the plain path is fastest
            (only,) = distinct
            self.routing.active, self.routing.disabled = ((only,), False) if only else ((), True)
        else:
            self.routing.mixed = MixedRoute.from_ids(ids)
        try:
            yield
        finally:
            self.routing.active, self.routing.disabled, self.routing.mixed = saved

    def _check_mixable(self, names: set[str | None]) -> None:
        for name in sorted(n for n in names if n is not None):
            method = self.configs[name].method
            if not method_spec(method).mixed_batches:
                raise AdapterStateError(
                    f"adapter {name!r} is {method}, which cannot share a batch with other "
                    "adapters; send its samples in a batch of their own"
                )

    def forward(self, *args: Any, adapter_ids: Sequence[str | None] | None = None, **kwargs: Any):
        """The base model's forward; ``adapter_ids``: one adapter name (or None) per sample,
        sample = dim 0 of the inputs (batch-first models)."""
        if adapter_ids is None:
            self._warn_if_nothing_can_learn()
            return self.base_model(*args, **kwargs)
        adapter_ids = _adapter_ids(adapter_ids)
        _check_batch_size(len(adapter_ids), [*args, *kwargs.values()])
        with self.route(adapter_ids):
            return self.base_model(*args, **kwargs)

    def _warn_if_nothing_can_learn(self) -> None:
        """Once: training with adapters added but none active runs the frozen base alone, and
        ``loss.backward()`` then fails deep in torch ("does not require grad")."""
        routing, warned = self.routing, getattr(self, "_warned_inactive", False)
        idle = self.configs and not routing.active and not routing.disabled
        if self.training and torch.is_grad_enabled() and idle and not warned:
            self._warned_inactive = True
            warnings.warn(
                f"training with no adapter active ({', '.join(self.configs)} added): the "
                "outputs are the frozen base model's and nothing can learn; call "
                "train_adapter(name) first",
                UserWarning,
                stacklevel=3,
            )

    # ----- training ---------------------------------------------------------------------------
    def layers_of(self, name: str) -> Iterator[AdapterLayer]:
        for _, layer in adapter_layers(self.base_model):
            if name in layer.units:
                yield layer

    def adapter_parameters(self, name: str) -> Iterator[nn.Parameter]:
        self._known(name)
        for layer in self.layers_of(name):
            yield from layer.adapter_parameters(name)

    def train_adapter(self, names: str | Sequence[str]) -> None:
        """Activate ``names`` and make exactly their parameters trainable (base frozen). An
        adapter trained again no longer matches the record it was loaded with (its figures,
        the rows it trained on): that record is dropped, so a later save records none."""
        names = (names,) if isinstance(names, str) else tuple(names)
        self.set_active(names)
        self.requires_grad_(False)
        for name in names:
            self.adapter_metadata.pop(name, None)
            self.adapter_files.pop(name, None)
            for param in self.adapter_parameters(name):
                param.requires_grad_(True)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def count_parameters(self, name: str) -> int:
        return sum(p.numel() for p in self.adapter_parameters(name))

    # ----- merging ----------------------------------------------------------------------------
    def _any_merged(self) -> bool:
        """``bool(self.merged_adapters)`` without walking every module (runs on every routed
        forward)."""
        if self._layer_list is None:
            self._layer_list = [layer for _, layer in adapter_layers(self.base_model)]
        return any(layer.merged for layer in self._layer_list)

    @property
    def merged_adapters(self) -> list[str]:
        merged: list[str] = []
        for _, layer in adapter_layers(self.base_model):
            merged += [n for n in layer.merged if n not in merged]
        return merged

    def merge_adapter(self, names: str | Sequence[str] | None = None) -> None:
        """Fold LoRA / DoRA / IA3 / head adapters into the base weights (default: the active
        ones), so that the merged model computes what the same adapters active compute.

        Adapters of two methods on one layer are two wrappers of one weight: whatever the
        order asked, each layer merges its innermost wrapper's adapters first, as the
        wrappers apply them (a trial merged LoRA over IA3 and got another function, by
        0.02), one wrapper's in the order they are active, else named (DoRA adapters apply
        in turn); adapters merged earlier are merged again before the new ones. A DoRA adapter is
        refused where it would be merged onto a weight an adapter of another method changed:
        its magnitude is measured on the base weight itself."""
        names = self.routing.active if names is None else names
        names = (names,) if isinstance(names, str) else tuple(names)
        if not names:
            raise AdapterStateError("no adapter to merge: name one or activate one first")
        merged = list(dict.fromkeys(name for _, name in self._merges))
        for name in names:
            self._known(name)
            _check_mergeable(name, self.configs[name].method)
            if name in merged:
                raise AdapterStateError(f"adapter {name!r} is already merged")
        active = self.routing.active  # DoRA adapters apply in turn: the order they are active
        names = sorted(
            dict.fromkeys(names), key=lambda n: active.index(n) if n in active else len(active)
        )
        plan = _merge_plan(self.base_model, [*merged, *names])
        if not self.merged_adapters:
            self.refresh_fingerprint()  # record the unmerged fingerprint first
            self._active_before_merge = self.routing.active
        self._unmerge_all()
        for layer, name in plan:
            layer.merge(name)
        self._merges = plan
        self.routing.active = ()

    def unmerge(self) -> None:
        """Undo every merge: the base weights are restored bit for bit, and the adapters that
        were active before the first merge are active again."""
        self._unmerge_all()
        if self._active_before_merge is not None:
            self.routing.active = tuple(a for a in self._active_before_merge if a in self.configs)
            self._active_before_merge = None

    def _unmerge_all(self) -> None:
        """Last merged, first unmerged: each layer restores the weight as it found it (a
        trial merged DoRA then LoRA on the same layers; unmerged layer by layer, the base
        kept the DoRA adapter's change)."""
        for layer, name in reversed(self._merges):
            if name in layer.merged:
                layer.unmerge(name)
        self._merges = []
        for _, layer in adapter_layers(self.base_model):  # merged by a layer's own merge()
            for name in reversed(list(layer.merged)):
                layer.unmerge(name)

    # ----- adapter weights (files: medadapt.adapters.state) --------------------------------
    def adapter_state_dict(self, name: str) -> dict[str, torch.Tensor]:
        """``{"<canonical layer>.<unit key>": tensor}`` for adapter ``name``."""
        self._known(name)
        out: dict[str, torch.Tensor] = {}
        for layer_name, layer in adapter_layers(self.base_model):
            if name in layer.units:
                for key, tensor in layer.units[name].state_dict().items():
                    out[f"{layer_name}.{key}"] = tensor
        return out

    def load_adapter_state_dict(self, name: str, state: dict[str, torch.Tensor]) -> None:
        expected = self.adapter_state_dict(name)
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise AdapterStateError(
                f"adapter weights do not fit adapter {name!r}: missing {missing[:3]}, "
                f"unexpected {unexpected[:3]}"
            )
        for key, target in expected.items():
            if tuple(state[key].shape) != tuple(target.shape):
                raise AdapterStateError(
                    f"adapter weight {key} has shape {tuple(state[key].shape)}, expected "
                    f"{tuple(target.shape)}"
                )
        with torch.no_grad():
            for key, target in expected.items():
                target.copy_(state[key])


def _check_config(config: Any) -> None:
    """A config instance, not its class or a dict: a trial's ``add_adapter("z", LoraConfig)``
    failed on "type object 'LoraConfig' has no attribute 'rank_pattern'"."""
    if isinstance(config, AdapterConfig):
        return
    if isinstance(config, type) and issubclass(config, AdapterConfig):
        got = f"the class {config.__name__}"
        fix = f"call it: {config.__name__}() or {config.__name__}(...settings)"
    else:
        kind = type(config).__name__
        got = f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"
        fix = "pass one such as LoraConfig(r=8)"
        if isinstance(config, dict):
            fix += (
                ", or build it from the dict with medadapt.adapters.config_from_dict(d) "
                "(its 'method' picks the class)"
            )
    raise ConfigError(f"config must be an adapter config instance, not {got}: {fix}")


def _merge_plan(model: nn.Module, names: Sequence[str]) -> list[tuple[AdapterLayer, str]]:
    """``(layer, adapter)`` in the order that makes the merged weights compute what
    ``names`` active compute: at each layer, its innermost wrapper's adapters first, one
    wrapper's in the order named; refused where a DoRA adapter would follow an adapter of
    another method (another wrapper's)."""
    plan: list[tuple[AdapterLayer, str]] = []
    for position, module, _, _ in iter_base_modules(model):
        here: list[tuple[AdapterLayer, str]] = []
        for layer in reversed(list(wrapper_chain(module))):  # innermost first
            for name in names:
                if name not in layer.units:
                    continue
                other = next(((w, n) for w, n in here if w is not layer), None)
                if layer.merges_onto_the_base_weight and other is not None:
                    raise AdapterStateError(
                        f"adapter {name!r} ({layer.method}) would be merged into {position} "
                        f"after {other[1]!r} ({other[0].method}): its magnitude is measured on "
                        "the base weight, so merged onto one another method changed it "
                        "computes another function than the adapters active; merge "
                        f"{name!r} alone (unmerge() first), or keep the adapters unmerged "
                        "(mixed batches need no merge)"
                    )
                plan.append((layer, name))
                here.append((layer, name))
    return plan


def _check_mergeable(name: str, method: str) -> None:
    spec = method_spec(method)
    if spec.mergeable:
        return
    *others, last = mergeable_methods()
    which = f"{', '.join(others)} and {last}" if others else last
    why = f" ({spec.merge_refusal})" if spec.merge_refusal else ""
    raise AdapterStateError(
        f"adapter {name!r} is {method}; only {which} adapters can be merged{why}"
    )


def _freeze_norm_statistics(model: nn.Module) -> None:
    """Eval mode for every norm layer of the base that keeps running statistics."""
    for _, module, _, _ in iter_base_modules(model):
        inner = innermost(module)
        if getattr(inner, "track_running_stats", False) is True:
            inner.eval()


def _adapter_ids(adapter_ids: Sequence[str | None]) -> list[str | None]:
    """``adapter_ids`` as a list; a single string is refused (it would be read as one id per
    character: ``"ab"`` would route sample 0 to adapter ``a`` and sample 1 to ``b``)."""
    if isinstance(adapter_ids, str):
        raise AdapterStateError(
            f"adapter_ids={adapter_ids!r} is one string; pass one adapter name (or None) per "
            f"sample, e.g. [{adapter_ids!r}, None], or set_active({adapter_ids!r}) to use it "
            "for the whole batch"
        )
    return list(adapter_ids)


def _check_batch_size(n_ids: int, inputs: Sequence[Any]) -> None:
    """One adapter id per sample, samples along dim 0 of the first tensor input."""
    if n_ids == 0:
        raise AdapterStateError("adapter_ids is empty; pass one adapter id (or None) per sample")
    first = next((x for x in inputs if isinstance(x, torch.Tensor) and x.dim() > 0), None)
    if first is not None and first.shape[0] != n_ids:
        raise AdapterStateError(
            f"{n_ids} adapter ids for a batch of {first.shape[0]} (dim 0 of the input); pass "
            "one id per sample, and put the batch first (e.g. batch_first=True)"
        )
