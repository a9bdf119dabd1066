"""What the server holds: one AdapterModel per base model, the adapters loaded into it, and the
routing tables (adapter name -> promoted version, group value -> adapter).

All model work — loading adapters and forward passes — runs on the batcher's single worker
thread, so an AdapterModel is never changed while it computes. ``refresh`` polls the registry's
generation counter and loads newly promoted versions without a restart; versions already
loaded stay available for ``name@version`` requests until they are removed from the registry
(then they are unloaded: a recall takes effect within one refresh interval). A promoted
adapter that cannot be loaded (its base missing, a damaged file) is answered with 503 and
listed by ``/healthz``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medadapt.adapters import AdapterModel
from medadapt.data.schema import TableSchema
from medadapt.errors import ConfigError, MedadaptError
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.registry import Registry
from medadapt.registry.bases import find_base
from medadapt.registry.records import parse_ref

log = logging.getLogger("medadapt.serve")


class NotFound(MedadaptError):
    """An adapter, version or group the server does not serve (HTTP 404)."""


class NotLoaded(NotFound):
    """A registered version that is not in memory yet; the worker can load it."""

    def __init__(self, name: str, version: int) -> None:
        super().__init__(f"adapter {name}@{version} is not registered")
        self.name, self.version = name, version


class Unavailable(MedadaptError):
    """A promoted or registered adapter the server cannot load (HTTP 503: not the client's
    fault)."""


class Ambiguous(MedadaptError):
    """Several promoted adapters claim the same group (HTTP 409)."""


@dataclass
class ServedBase:
    key: str  # weights sha256
    base: BaseModel
    model: AdapterModel
    source_groups: set[str]

    @property
    def schema(self) -> TableSchema:
        return self.base.schema


@dataclass(frozen=True)
class Route:
    """Where an instance goes: a base and an adapter inside it (None = the base alone)."""

    base_key: str
    internal: str | None  # adapter name inside the AdapterModel
    name: str | None
    version: int | None


@dataclass
class Tables:
    """Routing tables, replaced as a whole on refresh (readers never see a half update)."""

    promoted: dict[str, Route] = field(default_factory=dict)
    versions: dict[tuple[str, int], Route] = field(default_factory=dict)
    groups: dict[tuple[str, str], list[Route]] = field(default_factory=dict)  # (column, value)
    info: list[dict[str, Any]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # promoted name -> why not served
    group_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (column, value)

    @property
    def group_columns(self) -> frozenset[str]:
        return frozenset(column for column, _ in self.groups)


class ServingState:
    """Models and routing tables for one registry."""

    def __init__(self, registry_root: str | Path, *, refresh_seconds: float = 1.0) -> None:
        self.registry = Registry(registry_root)
        self.refresh_seconds = refresh_seconds
        self.bases: dict[str, ServedBase] = {}
        self.tables = Tables()
        self.generation = -1
        self._checked = 0.0

    # ----- loading (worker thread only) ----------------------------------------------------
    def _base(self, weights: str) -> ServedBase:
        if weights not in self.bases:
            base = BaseModel.load(find_base(self.registry.root, weights))
            if base.kind != "tabular":
                raise NotFound("only tabular base models are served; this base is " + base.kind)
            base.model.eval()
            groups = set((base.training.get("groups") or {}).keys())
            self.bases[weights] = ServedBase(weights, base, AdapterModel(base.model), groups)
        return self.bases[weights]

    def _load(self, name: str, version: int, tables: Tables) -> Route:
        loaded = tables.versions.get((name, version))
        if loaded is not None:
            return loaded
        v = self.registry.get(f"{name}@{version}")
        served = self._base(v.base_fingerprint["weights"])
        directory = self.registry.open_adapter(v.ref, base=served.model.fingerprint)
        internal = f"{name}__v{version}"
        if internal not in served.model.adapter_names:
            served.model.load_adapter(directory, name=internal)
        route = Route(served.key, internal, name, version)
        tables.versions[(name, version)] = route
        return route

    def load_version(self, name: str, version: int) -> None:
        """Load a registered (not necessarily promoted) version for ``name@version`` requests."""
        try:
            self.registry.get(f"{name}@{version}")
        except MedadaptError:
            raise NotFound(f"adapter {name}@{version} is not registered") from None
        tables = Tables(
            promoted=self.tables.promoted,
            versions=dict(self.tables.versions),
            groups=self.tables.groups,
            info=self.tables.info,
            failed=self.tables.failed,
        )
        try:
            self._load(name, version, tables)
        except NotFound:
            raise
        except MedadaptError as exc:
            raise Unavailable(f"adapter {name}@{version} cannot be served: {exc}") from None
        self.tables = tables

    def _still_registered(self) -> dict[tuple[str, int], Route]:
        """Loaded versions that are still in the registry; removed ones are unloaded."""
        registered = {(v.name, v.version) for v in self.registry.list()}
        kept = {}
        for key, route in self.tables.versions.items():
            if key in registered:
                kept[key] = route
                continue
            served = self.bases.get(route.base_key)
            if served is not None and route.internal in served.model.adapter_names:
                served.model.delete_adapter(route.internal)
            log.info("unloaded %s@%s: removed from the registry", *key)
        return kept

    def routing_fields(self) -> frozenset[str]:
        """Instance fields that choose an adapter (group columns of the promoted adapters)."""
        return self.tables.group_columns

    def claim_refresh(self) -> bool:
        """True for exactly one caller per refresh interval (called on the event loop), who
        then runs :meth:`refresh` with ``force=True`` on the worker."""
        now = time.monotonic()
        if now - self._checked < self.refresh_seconds:
            return False
        self._checked = now
        return True

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the promoted versions if the registry changed; True when it did."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_seconds:
            return False
        self._checked = now
        generation = self.registry.generation()
        if generation == self.generation:
            return False
        tables = Tables(versions=self._still_registered())  # built aside, then swapped in
        for name, v in self.registry.promoted_versions().items():
            try:
                route = self._load(name, v.version, tables)
            except MedadaptError as exc:  # one broken adapter must not stop the others
                log.error("not serving %s: %s", v.ref, exc)
                tables.failed[name] = f"{v.ref} cannot be loaded: {exc}"
                continue
            tables.promoted[name] = route
            summary = v.data_summary
            if summary.get("group_column") and summary.get("group") is not None:
                key = (summary["group_column"], str(summary["group"]))
                tables.groups.setdefault(key, []).append(route)
                tables.group_of[name] = key
            tables.info.append(
                {
                    "name": name,
                    "version": v.version,
                    "method": v.method,
                    "base": v.base_fingerprint["weights"][:12],
                    "group": summary.get("group"),
                    "group_column": summary.get("group_column"),
                    "task": v.task,
                    "metrics": {
                        k: val for k, val in v.metrics.items() if not isinstance(val, dict)
                    },
                }
            )
        self.tables = tables
        self.generation = generation
        return True

    # ----- routing (any thread; reads the current tables) -----------------------------------
    def route(self, adapter: str | None, group: str | None, instance: dict[str, Any]) -> Route:
        tables = self.tables
        if adapter is not None:
            ref = parse_ref(adapter)
            if ref.selector == "exact":
                route = tables.versions.get((ref.name, ref.version))
                if route is None:
                    raise NotLoaded(ref.name, ref.version)
                self._check_group(ref.name, group, instance)
                return route
            if ref.name in tables.failed:
                raise Unavailable(f"adapter {tables.failed[ref.name]}")
            if ref.name not in tables.promoted:
                served = ", ".join(sorted(tables.promoted)) or "none"
                raise NotFound(f"unknown adapter {ref.name!r}; served adapters: {served}")
            self._check_group(ref.name, group, instance)
            return tables.promoted[ref.name]
        for (column, value), routes in tables.groups.items():
            wanted = group if group is not None else instance.get(column)
            if wanted is not None and str(wanted) == value:
                if len(routes) > 1:
                    names = ", ".join(sorted(r.name or "" for r in routes))
                    raise Ambiguous(
                        f"group {value!r} is served by several promoted adapters ({names}); "
                        "name one with 'adapter', or demote the others"
                    )
                return routes[0]
        wanted_group = group if group is not None else self._instance_group(instance)
        for served in self.bases.values():
            if wanted_group is not None and str(wanted_group) in served.source_groups:
                return Route(served.key, None, None, None)
        if group is None and wanted_group is None and len(self.bases) == 1:
            (served,) = self.bases.values()
            return Route(served.key, None, None, None)  # no routing info: the base model
        raise NotFound(
            f"no adapter serves group {wanted_group!r}, and no base model was trained on it"
        )

    def _check_group(self, name: str, group: str | None, instance: dict[str, Any]) -> None:
        """A request naming an adapter and another group (in ``group`` or in the instance's
        group field) is refused: answering with the adapter would silently ignore the group."""
        recorded = self.tables.group_of.get(name)
        if recorded is None:
            return
        column, value = recorded
        asked = group if group is not None else instance.get(column)
        if asked is not None and str(asked).strip() != value:
            raise ConfigError(
                f"adapter {name!r} is for {column} = {value!r}, but the request names another "
                f"group; drop 'group' (and the {column!r} field) to use it, or name the adapter "
                "of that group"
            )

    def _instance_group(self, instance: dict[str, Any]) -> Any:
        for served in self.bases.values():
            column = served.schema.group_column
            if column and column in instance:
                return instance[column]
        return None

    # ----- prediction (worker thread only) -----------------------------------------------------
    @torch.no_grad()
    def predict(
        self, base_key: str, records: list[dict[str, Any]], adapter_ids: list[str | None]
    ) -> np.ndarray:
        """Scores for ``records`` routed per record: one mixed-adapter forward pass."""
        served = self.bases[base_key]
        gone = set(adapter_ids) - set(served.model.adapter_names) - {None}
        if gone:  # routed, then removed from the registry before its batch ran
            raise NotFound(f"adapter(s) {sorted(gone)} were removed from the registry")
        x_num, x_cat = served.schema.encode_records(records)
        logits = served.model(x_num=x_num, x_cat=x_cat, adapter_ids=adapter_ids)
        return modality_of(served.base.kind).scores(served.schema, logits)
