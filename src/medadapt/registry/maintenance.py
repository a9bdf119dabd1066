"""Checking and cleaning a registry: :func:`verify_registry` re-hashes every file (and the base
models), :func:`collect_garbage` deletes what no version uses.

The functions take the registry they work on as an argument (:class:`Maintained`, which
:class:`~medadapt.registry.store.Registry` is); this module never imports ``store``.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from medadapt.errors import AdapterFileError
from medadapt.registry.bases import SET_ASIDE, deleted_bases, verify_bases
from medadapt.registry.db import Index
from medadapt.registry.objects import ObjectStore, sha256_file
from medadapt.registry.records import (
    AdapterVersion,
    command_line,
    split_file_of,
    trained_samples,
)

GC_MIN_AGE_S = 3600.0
"""``gc`` keeps ``tmp/`` entries younger than this by default (a write may still be running)."""


@dataclass(frozen=True)
class VerifyReport:
    """``problems`` (one line each) for damaged versions, ``base_problems`` for damaged,
    tampered, swapped or deleted base models (``bases``: the base keys checked); ``orphans``
    (unreferenced blobs) and ``leftovers`` (entries in tmp/ of interrupted writes) are
    harmless and what ``gc`` removes, but for the ``young`` leftovers (of ``leftovers``,
    those younger than :data:`GC_MIN_AGE_S`, which ``gc`` keeps unless ``--min-age`` says
    less); ``set_aside``: the damaged base copies ``add-base`` replaced and moved to tmp/
    (their names there), which ``gc`` removes at any age; ``strangers``: files in
    ``objects/`` the registry did not write (an archive exported into it), which ``gc``
    leaves for their owner to move."""

    checked: list[str]
    problems: list[str]
    orphans: list[str]
    leftovers: int
    bases: list[str] = field(default_factory=list)
    base_problems: list[str] = field(default_factory=list)
    strangers: list[str] = field(default_factory=list)
    young: int = 0
    set_aside: list[str] = field(default_factory=list)
    # versions added here (not imported) whose manifest names a split file the registry does
    # not hold: never kept when added (not beside the adapter) or deleted from objects/
    unkept_splits: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.base_problems


@dataclass(frozen=True)
class GcReport:
    """What ``gc`` deleted (unreferenced blobs and their bytes, ``tmp/`` leftovers of
    interrupted writes, stale checkouts, ``set_aside``: damaged base copies ``add-base``
    replaced), what it kept (``kept``: leftovers younger than its ``min_age_s``), and the
    files in ``objects/`` it left because the registry did not write them (``strangers``)."""

    objects: int
    bytes: int
    tmp: int
    checkouts: int
    strangers: list[str] = field(default_factory=list)
    kept: int = 0
    set_aside: int = 0


class Maintained(Protocol):
    """What verifying and collecting garbage need of a registry."""

    root: Path
    objects: ObjectStore
    index: Index
    checkouts: Path

    def get(self, ref: str) -> AdapterVersion: ...

    def list(self, name: str | None = None) -> list[AdapterVersion]: ...

    def check_files(self, v: AdapterVersion) -> None: ...


def verify_registry(registry: Maintained, ref: str | None = None) -> VerifyReport:
    """Check every file of ``ref`` (or of every version) and the base models (``ref``'s or
    all); reports damage, never raises."""
    versions = [registry.get(ref)] if ref is not None else registry.list()
    # each version's split file, its manifest read once (None: it names none)
    splits = {v.ref: _split_blob(registry.objects, v.manifest_blob) for v in versions}
    problems, unkept = [], []
    for v in versions:
        try:
            registry.check_files(v)
        except AdapterFileError as exc:
            problems.append(str(exc))
            continue
        if _split_unkept(registry.objects, v, splits[v.ref]):
            unkept.append(v.ref)
        damaged = _damaged_split(registry.objects, v.manifest_blob, splits[v.ref])
        if damaged:
            add = command_line(registry.root, f"add ADAPTER_DIR --name {v.name}")
            problems.append(f"adapter {v.ref}: {damaged}; run '{add}' on its adapter "
                            "directory to keep it again")  # fmt: skip
    orphans: list[str] = []
    strangers: list[str] = []
    if ref is None:  # what gc removes, and what it leaves (the registry did not write it)
        used = {v.manifest_blob for v in versions} | {v.weights_blob for v in versions}
        used |= set(splits.values()) - {None}
        orphans = [d for d in registry.objects.digests() if d not in used]
        strangers = registry.objects.strangers()
    set_aside, leftovers = _tmp_entries(registry.objects.tmp)
    cutoff = time.time() - GC_MIN_AGE_S  # what gc keeps by default
    young = sum(1 for entry in leftovers if not _older(entry, cutoff))
    keys = None if ref is None else [v.base_fingerprint["weights"][:16] for v in versions]
    bases_checked, base_problems = verify_bases(registry.root, keys)
    users: dict[str, list[str]] = {}  # base weights: the versions registered with it
    for v in versions:
        users.setdefault(v.base_fingerprint["weights"], []).append(v.ref)
    deleted = deleted_bases(registry.root, registry.index, users)
    return VerifyReport(
        [v.ref for v in versions],
        problems,
        orphans,
        len(leftovers),
        bases_checked + list(deleted),
        base_problems + list(deleted.values()),
        strangers,
        young=young,
        set_aside=[entry.name for entry in set_aside],
        unkept_splits=unkept,
    )


def _split_blob(objects: ObjectStore, manifest_blob: str) -> str | None:
    """The blob of the split file (which rows or images trained it) the version's manifest
    names, kept by ``add`` where the adapter had it
    (:func:`~medadapt.registry.records.split_file_of`); None where it names none or its
    manifest cannot be read (``verify`` reports that)."""
    named = split_file_of(_manifest(objects, manifest_blob))
    return None if named is None else named[1]


def _split_unkept(objects: ObjectStore, v: AdapterVersion, digest: str | None) -> bool:
    """Whether version ``v``, added here, names a split file (``digest``, as
    :func:`_split_blob` reads it) the registry does not hold (an imported version never holds
    one: its rows are at the site that trained it)."""
    return digest is not None and not v.origin and not objects.path(digest).is_file()


def _manifest(objects: ObjectStore, manifest_blob: str) -> dict[str, Any] | None:
    """The version's manifest, None where it cannot be read (``verify`` reports that)."""
    try:
        return json.loads(objects.path(manifest_blob).read_bytes())
    except (OSError, ValueError):
        return None


def _damaged_split(objects: ObjectStore, manifest_blob: str, digest: str | None) -> str | None:
    """What is wrong with a kept split file (``digest``, as :func:`_split_blob` reads it)
    whose bytes no longer hash to its name (served answers then cannot flag the patients the
    adapter trained on); None where it is intact or was never kept (an imported version: its
    rows are at the site that trained it)."""
    path = None if digest is None else objects.path(digest)
    if path is None or not path.is_file() or sha256_file(path) == digest:
        return None
    which = trained_samples(_manifest(objects, manifest_blob))
    return (
        f"its split file (which {which} trained it, as keyed hashes) is damaged: served "
        "answers cannot say which patients it trained on"
    )


def collect_garbage(registry: Maintained, *, min_age_s: float) -> GcReport:
    """Delete unreferenced blobs and stale checkouts, ``tmp/`` leftovers older than
    ``min_age_s`` (younger ones are counted as kept) and the damaged base copies ``add-base``
    set aside there (any age: nothing reads them); files in ``objects/`` not named by a
    SHA-256 are not the registry's to delete, and are reported instead."""
    n_objects = n_bytes = n_checkouts = 0
    with registry.index.write() as conn:  # holds the write lock: no add commits meanwhile
        rows = conn.execute(
            "SELECT name, version, manifest_blob, weights_blob FROM versions"
        ).fetchall()
        used = {r[2] for r in rows} | {r[3] for r in rows}
        used |= {_split_blob(registry.objects, r[2]) for r in rows} - {None}  # never deleted
        for digest in registry.objects.digests():  # blobs only: never a file put there
            if digest not in used:
                n_bytes += registry.objects.remove(digest)
                n_objects += 1
        live = {f"{r[0]}@{r[1]}-{r[2][:16]}" for r in rows}
        for entry in registry.checkouts.iterdir():
            if entry.name not in live:
                shutil.rmtree(entry, ignore_errors=True)
                n_checkouts += 1
    set_aside, leftovers = _tmp_entries(registry.objects.tmp)
    for entry in set_aside:
        _delete(entry)
    cutoff = time.time() - min_age_s
    old = [entry for entry in leftovers if _older(entry, cutoff)]
    for entry in old:
        _delete(entry)
    return GcReport(
        n_objects,
        n_bytes,
        len(old),
        n_checkouts,
        registry.objects.strangers(),
        kept=len(leftovers) - len(old),
        set_aside=len(set_aside),
    )


def _tmp_entries(tmp: Path) -> tuple[list[Path], list[Path]]:
    """The entries of ``tmp``: ``(damaged base copies add-base set aside, leftovers of
    interrupted writes)``."""
    set_aside: list[Path] = []
    leftovers: list[Path] = []
    for entry in sorted(tmp.iterdir()):
        (set_aside if entry.name.startswith(SET_ASIDE) else leftovers).append(entry)
    return set_aside, leftovers


def _older(entry: Path, cutoff: float) -> bool:
    """Whether ``entry`` was last changed before ``cutoff`` (gone meanwhile: as old)."""
    try:
        return entry.lstat().st_mtime < cutoff
    except FileNotFoundError:
        return True


def _delete(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
