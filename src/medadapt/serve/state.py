"""What the server holds: one AdapterModel per base model, the adapters loaded into it, and the
routing tables (adapter name -> promoted version, group value -> adapter).

All model work — loading adapters and forward passes — runs where the batcher runs it (on
the event loop, or on its single worker thread, never on both at once), so an AdapterModel is
never changed while it computes. ``refresh`` polls the registry's
generation counter and loads newly promoted versions without a restart: the request after a
promotion, a rollback, a removal or a base model added again already sees it
(:meth:`ServingState.claim_refresh` stats the registry's index on every request,
:mod:`medadapt.serve.registry_watch`, and reads the counter on a thread when the index
changed). Versions already loaded stay available for ``name@version`` requests until they are
removed from the registry (then they are unloaded). A promoted adapter that cannot be loaded
(its base missing, a damaged file) is answered with 503 and listed by ``/healthz``, as are the
groups that several promoted adapters claim (409 for a request routed by that group). So is a
base model that cannot be loaded: a request it would have answered alone (naming no adapter,
or a group it was trained on) is a 503 saying why and what to do, not a 404. ``/healthz`` also
stats the files of every loaded model (:mod:`medadapt.serve.on_disk`): one deleted after it was
loaded is reported, as the next restart would not load it.

A request naming no adapter is answered by the base model alone where exactly one base of
its kind is resident: the bases of the promoted versions, or, for a kind with no promoted
version, the bases its registered versions use (every version, not only the newest of each
name), or, with no version of that kind registered, every registered base of that kind (a
registry holding a base model alone serves it). Where all the versions of a kind are on one
base, the answer therefore does not depend on whether something is promoted, nor on which
versions earlier requests loaded on demand; where they use several bases of one kind, it
does: with versions on one of them promoted, that base answers alone, and with none promoted
no base does (the request must name an adapter).

Tabular and image base models are served; a request is routed only to a base of its own kind
(JSON instances to tabular bases, images to image bases). An image adapter that added classes
answers with its own class list, and its instances are batched apart from those of adapters
with another number of outputs (heads of different widths cannot share a pass).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medadapt.adapters import AdapterModel
from medadapt.adapters.state import read_manifest
from medadapt.checks import did_you_mean
from medadapt.errors import AdapterFileError, ConfigError, MedadaptError
from medadapt.evaluate.report.formatting import spelled_cautions, validated_words
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.registry import Registry
from medadapt.registry.bases import (
    base_groups,
    base_kind,
    base_schema,
    find_base,
    list_bases,
    readd_base_fix,
    verify_bases,
)
from medadapt.registry.fitness import unfit_reason
from medadapt.registry.groups import served_group
from medadapt.registry.records import AdapterVersion, Ref, command_line, parse_ref, shown
from medadapt.registry.store import repair_fix
from medadapt.results import (
    AdapterRecord,
    recorded_metrics,
    recorded_model,
)
from medadapt.serve.listing import adapter_entry, base_entry
from medadapt.serve.on_disk import OnDisk
from medadapt.serve.registry_watch import IndexWatch
from medadapt.serve.request_json import send_images
from medadapt.serve.trained_rows import Trained, base_training_rows, training_rows
from medadapt.wording import noun_for, plural

log = logging.getLogger("medadapt.serve")
SERVED_KINDS = ("tabular", "image")
KIND_INPUTS = {
    "tabular": "JSON instances",
    "image": "images as multipart/form-data, or a JSON DICOMweb reference",
}


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


class GroupConflict(ConfigError):
    """An instance's own group field names another group than the request's ``group`` or
    its adapter (HTTP 422 at that field of that instance: ``loc``)."""

    def __init__(self, message: str, loc: list[Any]) -> None:
        super().__init__(message)
        self.loc = loc


class NoAdapterNamed(ConfigError):
    """A request naming no adapter and no group where no base model alone answers (HTTP 422
    on ``adapter``, as a missing field)."""

    field = "adapter"


class GroupMisspelt(ConfigError):
    """A request naming an adapter and, in ``group``, its group spelt otherwise (HTTP 422 on
    ``group``: groups are matched exactly)."""

    field = "group"


MAX_LISTED_GROUPS = 20  # an unroutable request's answer lists at most these groups
MAX_NAMED_ADAPTERS = 5  # a request that must name an adapter is told at most these
MAX_LISTED_VERSIONS = 20  # a 404 for a name lists at most its newest versions
IMPORTED_VALIDATION = ", tested at another site (imported)"  # its test patients: not here
LOOK_BUSY_S = 1.0  # longest wait of a request's look at the registry for a lock another holds


def _which(index: int | None) -> str:
    """How a message names the instance at ``index`` (None: not known)."""
    return "an instance" if index is None else f"instance {index}"


def _instance_loc(index: int | None, column: str, otherwise: str) -> list[Any]:
    """Where a 422 about an instance's ``column`` points: that field of instance ``index``, or
    the request's field ``otherwise`` where the instance is not known."""
    return ["body", otherwise] if index is None else ["body", "instances", index, column]


def _misspelt(sent: str, value: str) -> str | None:
    """How ``sent`` differs from the group ``value`` where it is that group spelt otherwise:
    "only in case or spacing", or "in spelling" (close, as :func:`~medadapt.checks.
    did_you_mean` judges); None where it names another group. Groups are matched exactly,
    as routing by ``group`` matches them, so neither spelling is taken for the other.

    >>> _misspelt("va  long beach", "VA Long Beach"), _misspelt("VA Long Baech", "VA Long Beach")
    ('only in case or spacing', 'in spelling')
    >>> _misspelt("Cleveland", "VA Long Beach")
    """
    spaced = " ".join(sent.split())
    if not did_you_mean(spaced, [value]):
        return None
    same = spaced.casefold() == " ".join(value.split()).casefold()
    return "only in case or spacing" if same else "in spelling"


ADAPTERS_GROUP = "the adapter's group"


def _spelt(how: str, whose: str, value: str) -> str:
    """What a request sending a group spelt otherwise (``how``) than ``value`` is told."""
    return (
        f"differs from it {how}: {whose} is spelt {value!r} (did you mean it?); groups are "
        "matched exactly"
    )


def _check_instance_group(
    group: str | None,
    column: str | None,
    value: str,
    instance: dict[str, Any],
    index: int | None = None,
) -> None:
    """A request routed by ``group`` whose instance ``index`` names another group in its own
    field is refused: answering with the group's adapter would silently ignore the
    instance's."""
    asked = instance.get(column) if group is not None and column else None
    if asked is not None and str(asked).strip() != value:
        how = _misspelt(str(asked), value)
        if how:
            raise GroupConflict(
                f"{_which(index)}'s {column!r} field names the group of 'group' ({value!r}) "
                f"but {_spelt(how, 'that group', value)}: send {value!r} there, or drop the "
                "field",
                _instance_loc(index, str(column), "group"),
            )
        raise GroupConflict(
            f"{_which(index)}'s {column!r} field names another group than 'group' ({value!r}); "
            "drop one of them, or send each group's instances in their own request",
            _instance_loc(index, str(column), "group"),
        )


@dataclass(frozen=True)
class FailedBase:
    """A base model the server could not load: its kind and the groups it was trained on (as
    its ``model.json`` says; None where that cannot be read), and why, with the fix."""

    kind: str | None
    groups: frozenset[str] | None
    why: str


@dataclass
class ServedBase:
    key: str  # weights sha256
    base: BaseModel
    model: AdapterModel
    source_groups: set[str]
    # the rows (or images) the base trained on (keyed hashes), where the registry kept them
    trained_rows: Trained | None = field(default=None, repr=False)

    @property
    def schema(self) -> Any:
        return self.base.schema

    @property
    def kind(self) -> str:
        return self.base.kind


@dataclass(frozen=True)
class Route:
    """Where an instance goes: a base and an adapter inside it (None = the base alone)."""

    base_key: str
    internal: str | None  # adapter name inside the AdapterModel
    name: str | None
    version: int | None
    classes: tuple[str, ...] | None = None  # an adapter's outputs when it added classes
    # what the adapter's training inputs added to the base's (images: shapes, DICOM kinds)
    inputs_seen: dict[str, Any] | None = field(default=None, compare=False)
    # why the base alone answers although adapters are served (said with each prediction)
    note: str | None = field(default=None, compare=False)
    # how the model that answers was tested, as recorded (its leading figure and test count)
    validated: str | None = field(default=None, compare=False)
    # the rows (or images) the adapter trained on (keyed hashes), where the registry kept
    # them: an instance among them is flagged in-sample (:mod:`medadapt.serve.trained_rows`)
    trained_rows: Trained | None = field(default=None, compare=False, repr=False)

    @property
    def batch_key(self) -> tuple[str, int | None]:
        """What may share a forward pass: one base, one head width."""
        return self.base_key, None if self.classes is None else len(self.classes)


BASE_ALONE = "scored by the base model alone"
"""How a route's note begins where the base model alone answers (a withheld instance's
note says it otherwise: nothing was scored)."""


def _listed(groups: set[str]) -> str:
    """``A, B, C`` (sorted; at most :data:`MAX_LISTED_GROUPS`, then `` ...``)."""
    listed = ", ".join(sorted(groups)[:MAX_LISTED_GROUPS])
    return listed + (" ..." if len(groups) > MAX_LISTED_GROUPS else "")


def _name_an_adapter(adapters: list[str], kind: str, n_bases: int) -> str:
    """Why a request must name an adapter (``n_bases`` base models of ``kind``, none of which
    answers alone), with the first :data:`MAX_NAMED_ADAPTERS` of the served ``adapters``.

    >>> print(_name_an_adapter(["a", "b"], "image", 2))  # doctest: +NORMALIZE_WHITESPACE
    the request names no adapter and no group, and 2 base models serve image data (none answers
    alone): name an adapter in 'adapter'; served: a, b
    """
    shown = ", ".join(adapters[:MAX_NAMED_ADAPTERS])
    more = len(adapters) - MAX_NAMED_ADAPTERS
    if more > 0:
        shown += f" and {more} more (GET /v1/adapters lists them)"
    unrouted = ", its instances carry no group field" if kind == "tabular" else ""
    return (
        f"the request names no adapter and no group{unrouted}, and {n_bases} base models serve "
        f"{kind} data (none answers alone): name an adapter in 'adapter'; served: {shown}"
    )


def _versions(versions: tuple[int, ...] | list[int]) -> str:
    """``1, 2, 5`` (at most the newest :data:`MAX_LISTED_VERSIONS`, after `` ...``)."""
    newest = ", ".join(map(str, versions[-MAX_LISTED_VERSIONS:]))
    return ("... " if len(versions) > MAX_LISTED_VERSIONS else "") + newest


def cautioned(model: str, metrics: dict[str, Any] | None) -> str | None:
    """What each answer of ``model`` says of its recorded test (no measured performance, a
    result too good to be true ...: :func:`~medadapt.evaluate.report.formatting.
    recorded_cautions`), as ``predict`` warns and an SR records; None when nothing. A model
    calling (nearly) every test case one class is said in the recorded warning's own words
    ("every patient is called positive at threshold 0.5"), as ``registry show`` prints it,
    not in the few words an SR has room for; so is a class it almost never calls ("class
    'nodule' is found in 0 of 30 images (sensitivity 0.000)"), and one it finds half as often
    as the base ("at threshold 0.5 the adapter calls 1 of the 15 negative patients negative,
    where the base model alone called 5 ...")."""
    said = spelled_cautions(metrics)  # which class: the recorded warning's own words
    return f"caution, {model} was recorded with: {'; '.join(said)}" if said else None


def _outcome(served: ServedBase) -> str | None:
    """What a served base predicts (its label column; None where its schema does not say)."""
    label = getattr(served.schema, "label", None)
    return str(label) if label else None


def _base_cautions(served: ServedBase) -> str | None:
    training = served.base.training
    return cautioned(recorded_model(training), recorded_metrics(training))


def _base_validated(served: ServedBase) -> str:
    """How a served base (or the fine-tuned model in its folder) was tested, as recorded."""
    return validated_words(recorded_metrics(served.base.training))


def _served_after(meant: str, served: str) -> str:
    """The served adapters after an unknown name: in brackets after a "did you mean ...?"
    (``?; served adapters`` read as a typo), else after a semicolon."""
    return f" (served adapters: {served})" if meant else f"; served adapters: {served}"


def joined_notes(*notes: str | None) -> str | None:
    """A prediction's ``note``: the notes that are set, in order, or None."""
    return "; ".join(note for note in notes if note) or None


@dataclass
class Tables:
    """Routing tables, replaced as a whole on refresh (readers never see a half update)."""

    promoted: dict[str, Route] = field(default_factory=dict)
    versions: dict[tuple[str, int], Route] = field(default_factory=dict)
    groups: dict[tuple[str, str], list[Route]] = field(default_factory=dict)  # (column, value)
    info: list[dict[str, Any]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # promoted name -> why not served
    # the failed ones' entries for /v1/adapters (as ``info``'s, with ``failed``: why)
    failed_info: list[dict[str, Any]] = field(default_factory=list)
    # (column, group) -> (base kind or None where unknown, the 503 a request routed by it gets)
    failed_groups: dict[tuple[str, str], list[tuple[str | None, str]]] = field(default_factory=dict)
    # (column, group) -> the registered versions of names not promoted for it (newest of each)
    unpromoted: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # of those, the refs whose recorded result shows harm (promote refuses them without
    # --despite-warnings: a hint naming one says so)
    unfit: frozenset[str] = frozenset()
    group_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (column, value)
    registered: dict[str, tuple[int, ...]] = field(default_factory=dict)  # name -> its versions

    # base keys answering requests that name no adapter (promoted versions' bases; for a kind
    # with none promoted, those its registered versions use)
    resident: frozenset[str] = frozenset()
    newest: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (base, version)
    used: frozenset[str] = frozenset()  # the bases (weights) of every registered version
    # (column, group) -> the promoted adapters of one kind claiming it
    conflicts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # weights -> a base model that cannot be loaded (a promoted version's, or one that would
    # answer alone)
    failed_bases: dict[str, FailedBase] = field(default_factory=dict)

    @property
    def group_columns(self) -> frozenset[str]:
        return frozenset(column for column, _ in self.groups)


class ServingState:
    """Models and routing tables for one registry."""

    def __init__(
        self,
        registry_root: str | Path,
        *,
        refresh_seconds: float = 1.0,
        device: str = "cpu",
        score_sparse: bool = False,
        any_version: bool = False,
    ) -> None:
        self.registry = Registry(registry_root)
        # answer NAME@N of a version that is not promoted (default: only promoted ones answer)
        self.any_version = any_version
        # answer instances lacking most of the model's features (default: withheld, said why)
        self.score_sparse = score_sparse
        self.refresh_seconds = refresh_seconds
        self.device = torch.device(device)
        self.bases: dict[str, ServedBase] = {}
        self.tables = Tables()
        self.generation = -1
        self._checked = 0.0
        self.watch = IndexWatch(self.registry.root)
        self.watch.changed()  # the index as it is before the first load
        self.on_disk = OnDisk()  # the files of what is loaded, stat-ed by /healthz
        # the reload a request started on the worker: requests arriving meanwhile wait for it
        self.reloading: asyncio.Future | None = None

    # ----- loading (worker thread only) ----------------------------------------------------
    def _base(self, weights: str) -> ServedBase:
        if weights not in self.bases:
            directory = find_base(self.registry.root, weights)
            try:
                base = BaseModel.load(directory)
            except AdapterFileError:
                # the registry's copy is damaged: said as 'registry verify' says it, with its
                # fix (add the base again), not the fix for a folder of one's own
                _, problems = verify_bases(self.registry.root, [directory.name])
                if not problems:
                    raise
                raise AdapterFileError(problems[0]) from None
            if base.kind not in SERVED_KINDS:
                raise NotFound(f"{base.kind} base models are not served (only tabular, image)")
            base.model.to(self.device).eval()
            groups = set((base.training.get("groups") or {}).keys())
            self.bases[weights] = ServedBase(weights, base, AdapterModel(base.model), groups,
                                             base_training_rows(directory))  # fmt: skip
            root = self.registry.root
            self.on_disk.add(weights, f"base model {directory.name}",
                             [directory / "model.json", directory / "model.safetensors"],
                             f"run '{command_line(root, 'verify')}', and "
                             f"{readd_base_fix(root)}")  # fmt: skip
        return self.bases[weights]

    def _base_or_failed(self, weights: str, tables: Tables) -> ServedBase:
        """:meth:`_base`; one that cannot be loaded is recorded in ``tables.failed_bases``
        (with its kind and groups, read without hashing) before the error is raised again."""
        try:
            return self._base(weights)
        except NotFound:  # a kind not served: nothing to repair
            raise
        except MedadaptError as exc:
            root = self.registry.root
            failed = FailedBase(base_kind(root, weights), base_groups(root, weights), str(exc))
            tables.failed_bases.setdefault(weights, failed)
            raise

    def _load(self, name: str, version: int, tables: Tables) -> Route:
        loaded = tables.versions.get((name, version))
        if loaded is not None:
            return loaded
        v = self.registry.get(f"{name}@{version}")
        served = self._base_or_failed(v.base_fingerprint["weights"], tables)
        directory = self.registry.open_adapter(v.ref, base=served.model.fingerprint)
        internal = f"{name}__v{version}"
        if internal not in served.model.adapter_names:
            served.model.load_adapter(directory, name=internal)
        root, objects = self.registry.root, self.registry.objects
        fix = f"run '{command_line(root, 'verify')}', and {repair_fix(root, v)}"
        blobs = {objects.path(b): b for b in (v.weights_blob, v.manifest_blob)}  # named by sha256
        self.on_disk.add((name, version), f"adapter {v.ref}", list(blobs), fix,
                         digests={str(path): blob for path, blob in blobs.items()})  # fmt: skip
        record = AdapterRecord.from_json(read_manifest(directory).get("metadata"))
        classes = record.classes
        grown = (modality_of(served.kind).can_grow() and classes
                 and list(classes) != list(served.schema.classes))  # fmt: skip
        route = Route(served.key, internal, name, version, tuple(classes) if grown else None,
                      record.inputs_seen, cautioned(f"adapter {v.ref}", v.metrics),
                      validated_words(v.metrics) + self._tested_elsewhere(v),
                      training_rows(directory))  # fmt: skip
        tables.versions[(name, version)] = route
        return route

    def _tested_elsewhere(self, v: AdapterVersion) -> str:
        """``", tested at another site (imported)"`` for a version imported from another registry:
        its test patients were that site's (a trial's served answer said "validated: AUROC
        0.616 ..., n=60" at the hospital that received it, as if of its own patients)."""
        origin = v.origin or {}
        if not origin or origin.get("registry_id") == self.registry.registry_id:
            return ""
        return IMPORTED_VALIDATION

    def schema_for(self, route: Route) -> Any:
        """How the inputs of ``route`` are read and judged: its base's schema, widened by what
        its adapter trained on (an MR adapter on a CT base: MR images are no surprise)."""
        served = self.bases[route.base_key]
        return modality_of(served.kind).with_inputs_seen(served.schema, route.inputs_seen)

    def load_version(self, name: str, version: int) -> None:
        """Load a registered (not necessarily promoted) version for ``name@version`` requests."""
        try:
            self.registry.get(f"{name}@{version}")
        except MedadaptError:
            versions = [v.version for v in self.registry.list(name)]
            raise NotFound(self._unregistered(name, version, versions)) from None
        tables = replace(self.tables, versions=dict(self.tables.versions),
                         failed_bases=dict(self.tables.failed_bases))  # fmt: skip
        try:
            self._load(name, version, tables)
        except NotFound:
            raise
        except MedadaptError as exc:
            raise Unavailable(f"adapter {name}@{version} cannot be served: {exc}") from None
        self.tables = tables

    def _unregistered(self, name: str, version: int, versions: list[int]) -> str:
        """Why ``name@version`` is not served, and which versions of ``name`` are."""
        if versions:  # as the registry says it (a trial: HTTP said less than the CLI)
            removed = self.registry.removed_on(name, version)
            when = f" (it was removed on {removed})" if removed else ""
            return (
                f"adapter {name}@{version} is not registered{when}; registered versions of "
                f"{name!r}: {_versions(versions)}"
            )
        served = ", ".join(sorted(self.tables.promoted)) or "none"
        meant = self._adapter_meant(name, self.tables)
        return (
            f"adapter {name}@{version} is not registered, nor any version of {name!r}"
            f"{meant}{_served_after(meant, served)}"
        )

    def _still_registered(self, registered: set[tuple[str, int]]) -> dict[tuple[str, int], Route]:
        """Loaded versions that are still in the registry; removed ones are unloaded."""
        kept = {}
        for key, route in self.tables.versions.items():
            if key in registered:
                kept[key] = route
                continue
            served = self.bases.get(route.base_key)
            if served is not None and route.internal in served.model.adapter_names:
                served.model.delete_adapter(route.internal)
            self.on_disk.drop(key)
            log.info("unloaded %s@%s: removed from the registry", *key)
        return kept

    def missing_files(self) -> dict[str, str]:
        """``{model: why}`` for each loaded base model or adapter whose files were deleted
        (or changed in size) since it was loaded: a ``stat`` per file, for ``/healthz``."""
        return self.on_disk.missing()

    def routing_fields(self) -> frozenset[str]:
        """Instance fields that choose an adapter (group columns of the promoted adapters)."""
        return self.tables.group_columns

    async def claim_refresh(self) -> bool:
        """True when the registry changed since the tables were built: the caller then runs
        :meth:`refresh` with ``force=True`` on the worker. Called on the event loop by every
        request: a stat of the index's files (a few microseconds,
        :class:`~medadapt.serve.registry_watch.IndexWatch`); only when they changed, or
        ``refresh_seconds`` passed, is the registry's generation read (a quarter of a
        millisecond), on a thread and waiting at most :data:`LOOK_BUSY_S` for a lock, so that
        neither a busy worker nor a busy registry holds the event loop when nothing changed.
        Raises :class:`~medadapt.registry.RegistryError` when the registry cannot be read
        just now (the caller serves what is loaded, and looks again later)."""
        now = time.monotonic()
        if not self.watch.changed() and now - self._checked < self.refresh_seconds:
            return False
        self._checked = now
        generation = await asyncio.to_thread(self.registry.generation, busy_s=LOOK_BUSY_S)
        return generation != self.generation

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the promoted versions if the registry changed; True when it did."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_seconds:
            return False
        self._checked = now
        generation = self.registry.generation()
        if generation == self.generation:
            return False
        registered: dict[str, list[int]] = {}
        newest: dict[str, tuple[str, int]] = {}
        used: set[str] = set()
        # group -> name -> the ref a hint names: its newest version fit to serve (a trial's
        # hint named a version refused for harm), else its newest; and whether it is fit
        for_group: dict[tuple[str, str], dict[str, tuple[str, bool]]] = {}
        for v in self.registry.list():  # ordered by name and version
            registered.setdefault(v.name, []).append(v.version)
            newest[v.name] = (v.base_fingerprint["weights"], v.version)
            used.add(v.base_fingerprint["weights"])
            group = served_group(v)
            if group is not None:  # fit as promote judges it (a never-called class too)
                fit = unfit_reason(v) is None
                named = for_group.setdefault(group, {}).get(v.name)
                if fit or named is None or not named[1]:
                    for_group[group][v.name] = (v.ref, fit)
        tables = Tables(  # built aside, then swapped in
            versions=self._still_registered({(n, i) for n, vs in registered.items() for i in vs}),
            registered={name: tuple(versions) for name, versions in registered.items()},
            newest=newest,
            used=frozenset(used),
        )
        promoted = self.registry.promoted_versions()
        despite = self.registry.served_despite()  # overrides, said in the listing
        for name, v in promoted.items():
            group = served_group(v)  # as the registry's promote keys it
            weights = v.base_fingerprint["weights"]
            try:
                route = self._load(name, v.version, tables)
            except MedadaptError as exc:  # one broken adapter must not stop the others
                self._failed(v, exc, group, tables)
                continue
            tables.promoted[name] = route
            if group is not None:
                tables.groups.setdefault(group, []).append(route)
                tables.group_of[name] = group
            schema = base_schema(self.registry.root, weights)
            tables.info.append(adapter_entry(v, kind=self._kind(route), schema=schema,
                                             despite=despite.get(v.ref)))  # fmt: skip
        for group, refs in for_group.items():
            waiting = [ref for name, (ref, _) in refs.items() if name not in promoted]
            if waiting:
                tables.unpromoted[group] = waiting
        tables.unfit = frozenset(ref for refs in for_group.values()
                                 for ref, fit in refs.values() if not fit)  # fmt: skip
        tables.conflicts = self._conflicts(tables)
        tables.resident = self._resident(tables)
        self.tables = tables
        self.generation = generation
        return True

    def _failed(
        self, v: AdapterVersion, exc: MedadaptError, group: tuple[str, str] | None, tables: Tables
    ) -> None:
        """Record that the promoted version ``v`` (serving ``group``) cannot be loaded: named
        with why by ``/healthz`` and ``/v1/adapters``, a 503 for a request naming it or routed
        by its group (not a 404 saying nothing serves that group)."""
        why = str(exc).removeprefix(f"adapter {v.ref}: ")  # named once, not twice
        log.warning("not serving %s: %s", v.ref, why)  # the others are served: no error
        tables.failed[v.name] = f"{v.ref} cannot be loaded: {why}"
        weights = v.base_fingerprint["weights"]
        kind = base_kind(self.registry.root, weights)
        schema = base_schema(self.registry.root, weights)
        tables.failed_info.append(
            adapter_entry(v, kind=kind, schema=schema, failed=tables.failed[v.name])
        )
        if group is not None:
            column, value = group
            said = f"adapter {v.ref}, promoted for {column} = {value!r}, cannot be loaded: {why}"
            tables.failed_groups.setdefault(group, []).append((kind, said))

    def _conflicts(self, tables: Tables) -> dict[tuple[str, str], list[str]]:
        """The groups (column, value) several promoted adapters of one kind claim (a request
        routed by such a group is a 409), each with those adapters' names."""
        out: dict[tuple[str, str], list[str]] = {}
        for group, routes in tables.groups.items():
            for model in {self._model(r) for r in routes}:  # another outcome: no conflict
                names = sorted(r.name or "" for r in routes if self._model(r) == model)
                if len(names) > 1:
                    out[group] = sorted({*out.get(group, []), *names})
        return out

    def _model(self, route: Route) -> tuple[str, str | None]:
        """A route's kind of data and outcome (its base's label): adapters serving one group
        for two outcomes are named by their adapter, and claim nothing of each other."""
        served = self.bases[route.base_key]
        return served.kind, _outcome(served)

    def _resident(self, tables: Tables) -> frozenset[str]:
        """The bases that answer a request naming no adapter: those of the promoted versions;
        for a kind with no promoted version, the registered bases of that kind that any of its
        registered versions uses, or every registered base of a kind no version uses (a
        registry holding a base alone serves it); loaded now; one that cannot be loaded is
        logged, recorded in ``tables.failed_bases`` and left out. With nothing promoted, a
        used base whose ``model.json`` is gone (its kind unknown) is tried too: it may be the
        one to answer."""
        resident = {route.base_key for route in tables.promoted.values()}
        promoted_kinds = {self.bases[key].kind for key in resident}
        listed = {(entry.get("fingerprint") or {}).get("weights"): entry.get("kind")
                  for entry in list_bases(self.registry.root)}  # fmt: skip
        used_kinds = {kind for weights, kind in listed.items() if weights in tables.used}
        for weights, kind in listed.items():
            if kind not in SERVED_KINDS or kind in promoted_kinds:
                continue
            if weights in tables.used or kind not in used_kinds:  # no version: every base
                self._add_resident(weights, resident, tables)
        if not promoted_kinds:
            for weights in sorted(tables.used - set(listed)):
                self._add_resident(weights, resident, tables)
        return frozenset(resident)

    def _add_resident(self, weights: str, resident: set[str], tables: Tables) -> None:
        said = weights in tables.failed_bases  # why: said with the adapter that needs it
        try:
            resident.add(self._base_or_failed(weights, tables).key)
        except MedadaptError as exc:
            if not said:
                log.warning("base model %s not loaded: %s", weights[:12], exc)

    def served_bases(self) -> list[dict[str, Any]]:
        """``/v1/bases``' entries: the bases of the promoted adapters and those answering
        alone (:meth:`_resident`), in the order of their weights hash."""
        tables = self.tables
        keys = {route.base_key for route in tables.promoted.values()} | tables.resident
        return [base_entry(key, self.bases[key].base, groups=self.bases[key].source_groups,
                           alone=key in tables.resident)
                for key in sorted(keys) if key in self.bases]  # fmt: skip

    # ----- routing (any thread; reads the current tables) -----------------------------------
    def route(
        self,
        adapter: str | None,
        group: str | None,
        instance: dict[str, Any],
        kind: str = "tabular",
        index: int | None = None,
    ) -> Route:
        """Where one instance (``index`` in its request, named by errors) for a ``kind`` base
        model (tabular, image) goes: the named adapter, the adapter of its group, or a base
        model trained on that group (saying so). A group whose promoted adapter cannot be
        loaded is a 503 naming why, as that adapter named is."""
        tables = self.tables
        if adapter is not None:
            route = self._named(adapter, tables)
            self._check_kind(route, kind)
            self._check_group(route.name or "", group, instance, index)
            return route
        for (column, value), routes in tables.groups.items():
            wanted = group if group is not None else instance.get(column)
            routes = [r for r in routes if self._kind(r) == kind]
            if routes and wanted is not None and str(wanted) == value:
                if len(routes) > 1:
                    names = ", ".join(sorted(r.name or "" for r in routes))
                    outcomes = sorted({str(self._model(r)[1]) for r in routes})
                    if len(outcomes) > 1:  # by design: one group, several outcomes
                        raise Ambiguous(
                            f"group {value!r} is served by adapters of different outcomes "
                            f"({names}: {', '.join(map(repr, outcomes))}); name the one "
                            "wanted in 'adapter'"
                        )
                    raise Ambiguous(
                        f"group {value!r} is served by several promoted adapters ({names}); "
                        "name one with 'adapter', or demote the others"
                    )
                _check_instance_group(group, column, value, instance, index)
                return routes[0]
        self._check_failed_group(group, instance, kind, index, tables)
        bases = [self.bases[key] for key in sorted(tables.resident) if self.bases[key].kind == kind]
        field, by_field = self._instance_group(instance)
        wanted_group = group if group is not None else by_field
        for served in bases:
            if wanted_group is not None and str(wanted_group) in served.source_groups:
                column = served.schema.group_column
                _check_instance_group(group, column, str(wanted_group), instance, index)
                note = self._group_alone((column, str(wanted_group)), tables)
                return Route(served.key, None, None, None,
                             note=joined_notes(note, _base_cautions(served)),
                             validated=_base_validated(served))  # fmt: skip
        if group is None and wanted_group is None:  # no routing info
            if len(bases) == 1:
                note = joined_notes(self._base_alone(kind, tables), _base_cautions(bases[0]))
                return Route(bases[0].key, None, None, None, note=note,
                             validated=_base_validated(bases[0]))  # fmt: skip
            adapters = sorted(n for n, r in tables.promoted.items() if self._kind(r) == kind)
            if adapters:  # no base alone answers: the request lacks a field, not the server
                raise NoAdapterNamed(_name_an_adapter(adapters, kind, len(bases)))
        if not bases or wanted_group is not None:  # the server lacks what would answer it?
            self._check_failed_base(kind, wanted_group, tables)
        sent_in = None
        if group is None and field is not None:  # say which instance's field named it
            sent_in = f"the {field!r} field of {_which(index)}"
        raise NotFound(self._unrouted(wanted_group, kind, tables, sent_in))

    def _check_failed_group(
        self,
        group: str | None,
        instance: dict[str, Any],
        kind: str,
        index: int | None,
        tables: Tables,
    ) -> None:
        """503 for an instance routed by a group whose promoted adapter (of ``kind``, or of a
        base whose kind is unknown) cannot be loaded: the server lacks it, as for that
        adapter named, and neither a 404 nor the base alone would be the right answer."""
        for (column, value), failed in tables.failed_groups.items():
            wanted = group if group is not None else instance.get(column)
            said = [why for have, why in failed if have in (kind, None)]
            if said and wanted is not None and str(wanted) == value:
                _check_instance_group(group, column, value, instance, index)
                raise Unavailable("; ".join(said))

    def _check_failed_base(self, kind: str, wanted_group: Any, tables: Tables) -> None:
        """503 for a request no model answers because a base model of ``kind`` (or of a kind
        not known) cannot be loaded: naming no group where that base would answer alone, or
        ``wanted_group``, which that base was trained on (or may have been: its groups not
        known). The server lacks the model: neither a 404 nor a 422 is the right answer."""
        group = None if wanted_group is None else str(wanted_group)
        failed = [f for f in tables.failed_bases.values() if f.kind in (kind, None)
                  and (group is None or f.groups is None or group in f.groups)]  # fmt: skip
        if not failed:
            return
        why = "; ".join(dict.fromkeys(f.why for f in failed))
        if group is None:
            unrouted = ", its instances carry no group field" if kind == "tabular" else ""
            raise Unavailable(
                f"the request names no adapter and no group{unrouted}, and the base model "
                f"that would answer it alone cannot be loaded: {why}"
            )
        if all(f.groups is not None for f in failed):
            raise Unavailable(
                f"group {shown(group)} is answered by the base model trained on it, which "
                f"cannot be loaded: {why}"
            )
        raise Unavailable(
            f"no adapter serves group {shown(group)}, and a base model that may have been "
            f"trained on it cannot be loaded: {why}"
        )

    def _group_alone(self, group: tuple[str | None, str], tables: Tables) -> str:
        """What a prediction of the base alone for ``group`` (trained on it) says: no adapter
        is promoted for it, and the registered ones that would serve it, if any."""
        column, value = group
        trained_on = f"{column} = {value!r}" if column else f"group {value!r}"
        said = (  # "trained on site = 'A'" read as that group alone (a trial's base: two)
            f"{BASE_ALONE} (its training rows include {trained_on}): no "
            f"adapter is promoted for group {value!r}"
        )
        waiting = tables.unpromoted.get(group)
        if not waiting:
            return said
        pinned = "name one in 'adapter' to use it, or " if self.any_version else ""
        return (
            f"{said}; registered for it: {_listed(set(waiting))} ({pinned}promote one: "
            f"{self._promote_waiting(waiting[0], tables)})"
        )

    def _base_alone(self, kind: str, tables: Tables) -> str | None:
        """What a prediction of the base alone says when adapters are served: a client that
        forgot to name one would otherwise take the base's answer for its site's adapter's."""
        groups = self._adapter_groups(kind, tables)
        if not groups:  # adapters for no group in particular: named only
            adapters = sorted(n for n, r in tables.promoted.items() if self._kind(r) == kind)
            if not adapters:
                return self._none_promoted(kind, tables)
            which = "it" if len(adapters) == 1 else "one"
            return (
                f"{BASE_ALONE}: the request names no adapter; served: "
                f"{_listed(set(adapters))} (name {which} in 'adapter' to use it)"
            )
        unrouted = ", and the instance carries no group field" if kind == "tabular" else ""
        serve = "an adapter serves group" if len(groups) == 1 else "adapters serve groups"
        return (
            f"{BASE_ALONE}: the request names no adapter and no group"
            f"{unrouted}; {serve} {_listed(groups)} (send 'group' or name an 'adapter' to use "
            f"{'it' if len(groups) == 1 else 'one'})"
        )

    def _none_promoted(self, kind: str, tables: Tables) -> str | None:
        """The base-alone note where no adapter of ``kind`` is promoted but some are
        registered (named with a version to send); None where none is registered."""
        named = [(name, version) for name, (key, version) in sorted(tables.newest.items())
                 if key in self.bases and self.bases[key].kind == kind]  # fmt: skip
        if not named:
            return None
        shown = _listed({name for name, _ in named})
        name, version = named[0]
        pinned = (f"name a version in 'adapter' to use one, e.g. '{name}@{version}', or "
                  if self.any_version else "")  # fmt: skip
        return (
            f"{BASE_ALONE}: the request names no adapter, and none is "
            f"promoted; registered: {shown} ({pinned}promote one: "
            f"'{self._promote(f'{name}@{version}')}')"
        )

    def _adapter_groups(self, kind: str, tables: Tables) -> set[str]:
        """The groups promoted adapters of ``kind`` base models serve."""
        return {value for (_, value), routes in tables.groups.items()
                if any(self._kind(r) == kind for r in routes)}  # fmt: skip

    def _unrouted(
        self, wanted_group: Any, kind: str, tables: Tables, sent_in: str | None = None
    ) -> str:
        """Why a request has no route (``sent_in``: the field of the instance that named
        ``wanted_group``): the versions registered for that group, with the ``promote`` that
        serves one, where no adapter is promoted for it; else the group meant where it is spelt
        like a served one (or one that has registered versions), and the groups that would
        route it."""
        where = "" if sent_in is None else f" ({sent_in})"
        waiting = self._waiting(wanted_group, kind, tables)
        if wanted_group is not None and waiting:
            pinned = f", or name one in 'adapter', e.g. {waiting[0]!r}" if self.any_version else ""
            return (
                f"no adapter is promoted for group {shown(wanted_group)}{where}, and no base "
                f"model was trained on it; registered for it: {', '.join(waiting)} (promote "
                f"one to serve the group: {self._promote_waiting(waiting[0], tables)}{pinned})"
            )
        other = [route for (_, value), routes in sorted(tables.groups.items())
                 if wanted_group is not None and value == str(wanted_group)
                 for route in routes if self._kind(route) not in (kind, None)]  # fmt: skip
        if other:  # a trial's JSON rows for an image adapter's group: "no adapter serves it"
            theirs = self._kind(other[0])
            fix = (send_images(other[0].name) if theirs == "image"
                   else "send its rows as JSON 'instances'")  # fmt: skip
            return (
                f"group {shown(wanted_group)}{where} is served by adapter {other[0].name!r}, "
                f"which takes {KIND_INPUTS[theirs]}, not {KIND_INPUTS[kind]}: {fix}"
            )
        groups = self._adapter_groups(kind, tables)
        for key in tables.resident:
            if self.bases[key].kind == kind:
                groups |= self.bases[key].source_groups
        hint = f"served groups: {_listed(groups)} (send one of them, or name an 'adapter')"
        if not groups and tables.failed:  # promoted, but none could be loaded
            hint = (
                f"served groups: none, as {plural(len(tables.failed), 'promoted adapter')} cannot "
                f"be loaded ({_listed(set(tables.failed))}: GET /healthz or /v1/adapters says why)"
            )
        elif not groups:  # nothing promoted (or loaded) yet
            hint = f"served groups: none (promote an adapter: '{self._promote('NAME@N')}')"
        if wanted_group is None:
            return (
                "the request names no adapter and no group, and its instances carry no group "
                f"field; {hint}"
            )
        spellings = groups | {value for _, value in tables.unpromoted}
        meant = did_you_mean(str(wanted_group).strip(), sorted(spellings))
        after = f" {hint[0].upper()}{hint[1:]}" if meant else f"; {hint}"  # not "?; served"
        return (
            f"no adapter serves group {shown(wanted_group)}{where}, and no base model was "
            f"trained on it{meant}{after}"
        )

    def _waiting(self, group: Any, kind: str, tables: Tables) -> list[str]:
        """The registered versions (the newest of each name) for ``group`` of names not
        promoted, on base models of ``kind`` (or of a kind not known)."""
        if group is None:
            return []
        refs = [ref for (_, value), names in sorted(tables.unpromoted.items())
                if value == str(group) for ref in names]  # fmt: skip
        return [ref for ref in refs if self._ref_kind(ref, tables) in (kind, None)]

    def kind_of(self, ref: str) -> str | None:
        """The kind of base model (tabular, image) the adapter ``ref`` names is trained on
        (its newest version's; None: no such name is registered)."""
        return self._ref_kind(ref, self.tables)

    def _ref_kind(self, ref: str, tables: Tables) -> str | None:
        """The kind of the base model of ``ref``'s name's newest version (None: not known)."""
        base = tables.newest.get(ref.partition("@")[0])
        if base is None:
            return None
        served = self.bases.get(base[0])
        return served.kind if served is not None else base_kind(self.registry.root, base[0])

    def _named(self, adapter: str, tables: Tables) -> Route:
        """The route of ``adapter`` read as the registry reads a reference (a malformed one
        is a 422 listing the forms): ``NAME@N`` that version (loaded on demand),
        ``NAME@latest`` the newest registered version, ``NAME@promoted`` and a bare ``NAME``
        the promoted one (a bare name never falls back to an unpromoted version, unlike in
        the registry's commands: a demoted adapter must stop answering)."""
        ref = parse_ref(adapter)
        if ref.selector == "latest" and ref.name in tables.registered:
            ref = Ref(ref.name, tables.registered[ref.name][-1])
        elif ref.selector == "latest":
            raise NotFound(self._not_promoted(ref.name, tables))
        if ref.selector == "exact":
            self._refuse_unpromoted(ref, tables)
            route = tables.versions.get((ref.name, ref.version))
            if route is None:
                raise NotLoaded(ref.name, ref.version)
            return route
        if ref.name in tables.failed:
            raise Unavailable(f"adapter {tables.failed[ref.name]}")
        if ref.name not in tables.promoted:
            raise NotFound(self._not_promoted(ref.name, tables))
        return tables.promoted[ref.name]

    def _refuse_unpromoted(self, ref: Ref, tables: Tables) -> None:
        """A request naming a registered version that is not promoted is a 404 unless the
        server was started with ``--any-version``: a trial's withdrawn adapter ('promote
        --clear') still answered requests naming its version. A version that is not
        registered, or a name whose promoted version failed to load, is left to their own
        answers."""
        if self.any_version or ref.name in tables.failed:
            return
        if ref.version not in tables.registered.get(ref.name, ()):
            return
        promoted = tables.promoted.get(ref.name)
        if promoted is not None and promoted.version == ref.version:
            return
        now = (f"{ref.name}@{promoted.version} is: send '{ref.name}'" if promoted is not None
               else f"no version of {ref.name!r} is")  # fmt: skip
        raise NotFound(
            f"adapter {ref.name}@{ref.version} is registered but not promoted, and this server "
            f"answers promoted versions only ({now}); a server started with --any-version "
            "answers any registered version"
        )

    def _not_promoted(self, name: str, tables: Tables) -> str:
        """Why a request naming ``name`` has no adapter: no version of it is promoted (say
        how to serve one), or the registry has no such name (say which are served)."""
        versions = tables.registered.get(name)
        if versions:
            # of several, the newest is not said to be the one to serve (a trial: advised
            # whatever its figures): compare them first
            how = (
                f"promote one to serve it ('{self._promote(f'{name}@{versions[-1]}')}')"
                if len(versions) == 1
                else (f"compare their figures ('{command_line(self.registry.root, f'list {name}')}"
                      f"') and promote the one to serve ('{self._promote(f'{name}@N')}')")
            )  # fmt: skip
            return (
                f"adapter {name!r} has no promoted version (its registered versions: "
                f"{_versions(versions)}); {how}"
                + (
                    f", or name a version in the request ('{name}@{versions[-1]}')"
                    if self.any_version
                    else ""
                )
            )
        served = ", ".join(sorted(tables.promoted)) or "none"
        try:  # a trial's adapter removed from the registry was "unknown" here
            removed = self.registry.all_removed(name)
        except Exception:  # a registry that cannot be read now: the plain answer below
            removed = None
        if removed is not None:
            return f"adapter {name!r} is no longer served: {removed}; served adapters: {served}"
        meant = self._adapter_meant(name, tables)
        return f"unknown adapter {name!r}{meant}{_served_after(meant, served)}"

    def _adapter_meant(self, name: str, tables: Tables) -> str:
        """``"; did you mean 'va'?"`` for an adapter name the registry does not have, spelt
        in another case than a registered one (first) or closely like one; empty if none is."""
        known = sorted(set(tables.promoted) | set(tables.registered))
        return did_you_mean(name, known)

    def _promote(self, ref: str) -> str:
        """The command that serves ``ref``, with this registry's path (as ``/healthz``, the
        command line and the 503s say it): only token holders are told it, as every answer
        of ``/v1/predict`` (a server without a token listens on loopback only)."""
        return command_line(self.registry.root, f"promote {ref}")

    def _promote_waiting(self, ref: str, tables: Tables) -> str:
        """The quoted command that serves the registered ``ref`` a hint names; for one whose
        recorded result shows harm, with ``--despite-warnings`` and why (a trial's 404 named
        a ``promote`` that the registry then refused)."""
        if ref not in tables.unfit:
            return f"'{self._promote(ref)}'"
        return (f"'{self._promote(ref)} --despite-warnings', as its recorded test result "
                f"shows harm that promote refuses without it: read 'registry show {ref}' "
                "first")  # fmt: skip

    def _kind(self, route: Route) -> str:
        return self.bases[route.base_key].kind

    def _check_kind(self, route: Route, kind: str) -> None:
        """An adapter of an image base asked for tabular instances, or the reverse: 422."""
        have = self._kind(route)
        if have != kind:
            send = KIND_INPUTS.get(have, "nothing this server reads")
            raise ConfigError(
                f"adapter {route.name!r} serves {have} data, not {kind} data: send {send}"
            )

    def _check_group(
        self, name: str, group: str | None, instance: dict[str, Any], index: int | None = None
    ) -> None:
        """A request naming an adapter and another group in ``group`` (422 on ``adapter``), or
        whose instance ``index`` names another in its group field (422 at that field), is
        refused: answering with the adapter would silently ignore the group."""
        recorded = self.tables.group_of.get(name)
        if recorded is None:
            return
        column, value = recorded
        if group is not None and str(group).strip() != value:
            how = _misspelt(str(group), value)
            if how:
                raise GroupMisspelt(
                    f"adapter {name!r} is for {column} = {value!r}, and the request's 'group' "
                    f"{_spelt(how, ADAPTERS_GROUP, value)}: send 'group': {value!r}, or "
                    "drop 'group' to use the adapter"
                )
            raise ConfigError(
                f"adapter {name!r} is for {column} = {value!r}, but the request's 'group' names "
                f"another group; drop 'group' (and the {column!r} field) to use it, or name the "
                "adapter of that group"
            )
        asked = instance.get(column)
        if asked is not None and str(asked).strip() != value:
            how = _misspelt(str(asked), value)
            if how:
                raise GroupConflict(
                    f"adapter {name!r} is for {column} = {value!r}, and {_which(index)}'s "
                    f"{column!r} field {_spelt(how, ADAPTERS_GROUP, value)}: send "
                    f"{value!r} there, or drop that field to use the adapter",
                    _instance_loc(index, column, "adapter"),
                )
            raise GroupConflict(  # the right fix first: a trial's "drop that field" would
                # have scored a VA patient with Switzerland's adapter
                f"adapter {name!r} is for {column} = {value!r}, but {_which(index)}'s "
                f"{column!r} field names {shown(asked)}: send each group's instances in their "
                f"own request (without 'adapter', each is routed by its {column!r} field), or "
                f"drop that field only if adapter {name!r} is meant for that patient all the same",
                _instance_loc(index, column, "adapter"),
            )

    def _instance_group(self, instance: dict[str, Any]) -> tuple[str | None, Any]:
        """The group field of ``instance`` (a served base's group column) and its value, or
        (None, None)."""
        for served in self.bases.values():
            column = served.schema.group_column
            if column and column in instance:
                return column, instance[column]
        return None, None

    # ----- prediction (worker thread only) -----------------------------------------------------
    @torch.no_grad()
    def predict(
        self, base_key: str, inputs: list[Any], adapter_ids: list[str | None]
    ) -> np.ndarray:
        """Scores for ``inputs`` (tabular records, or image tensors shaped as the base's
        schema says) routed per input: one mixed-adapter forward pass."""
        served = self.bases[base_key]
        gone = set(adapter_ids) - set(served.model.adapter_names) - {None}
        if gone:  # routed, then removed from the registry before its batch ran
            raise NotFound(
                f"{noun_for(len(gone), 'adapter')} {', '.join(map(repr, sorted(gone)))} "
                f"{'was' if len(gone) == 1 else 'were'} removed from the registry"
            )
        modality = modality_of(served.kind)
        logits = modality.served_logits(served.model, served.schema, inputs, adapter_ids,
                                        self.device)  # fmt: skip
        return modality.scores(served.schema, logits.cpu())
