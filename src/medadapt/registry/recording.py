"""Recording a verified adapter as the next version of a name: :func:`register`, where
``add`` and ``import`` (:mod:`medadapt.registry.transfer`) end.

The blobs are put in place first (temp file, fsync, rename), then the version is recorded in
one SQLite transaction, with its card. Between the two a killed process leaves only
unreferenced blobs, which ``gc`` removes. Adding the same adapter under the same name again
records nothing and returns the version that holds it.

The functions here take the registry they work on as an argument (:class:`RegistryLike`, which
:class:`~medadapt.registry.store.Registry` is); this module never imports ``store``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from medadapt.errors import AdapterFileError
from medadapt.registry.bases import base_schema
from medadapt.registry.card import render_card
from medadapt.registry.db import Index, now
from medadapt.registry.objects import ObjectStore
from medadapt.registry.queries import check_parent, pick_parent
from medadapt.registry.records import (
    AdapterVersion,
    Registration,
    split_file_of,
    strip_local_paths,
    summaries,
    trained_samples,
)
from medadapt.registry.summary_words import positive_class_words

MANIFEST = "adapter.json"


class RegistryLike(Protocol):
    """What adding, importing and exporting need of a registry."""

    root: Path
    objects: ObjectStore
    index: Index

    @property
    def registry_id(self) -> str: ...

    def get(self, ref: str) -> AdapterVersion: ...

    def list(self, name: str | None = None) -> list[AdapterVersion]: ...

    def check_files(self, v: AdapterVersion) -> None: ...


def register(
    registry: RegistryLike,
    directory: Path,
    manifest: dict[str, Any],
    *,
    name: str,
    parent: int | str | None,
    notes: str | None,
    parent_blob: str | None = None,
    origin: dict[str, Any] | None = None,
) -> Registration:
    """Record the verified adapter in ``directory`` as the next version of ``name``."""
    manifest, files = _store_files(registry.objects, directory, manifest)
    summary = summaries(manifest)
    # what its positive class means ("1 means num > 0"), when its base is registered (the
    # adapter records its label, the base how its classes were made)
    positive = positive_class_words(
        base_schema(registry.root, manifest["base_fingerprint"]["weights"])
    )
    with registry.index.write() as conn:
        version = _same_version(conn, name, files.manifest_blob)
        new = version is None
        notices: list[str] = []
        if version is None:
            files.restore(registry.objects)
            lineage = _Lineage(parent, parent_blob, notes, origin)
            version, notices = _insert_version(
                conn, name, manifest, summary, files, lineage, positive=positive
            )
            if files.split_unkept and origin is None:  # (an archive never carries one)
                notices.append(
                    f"note: {name}@{version}: {files.split_unkept}: a server cannot say which "
                    "patients it trained on (their predictions in-sample); add it from the "
                    "folder 'medadapt adapt' wrote"
                )
    # a version already there: what of its stored copy was missing or damaged, now rewritten
    repaired = (
        () if new else tuple(f"the {what} was {was}" for what, was in files.was if was != "intact")
    )
    return Registration(registry.get(f"{name}@{version}"), new, tuple(notices), repaired)


@dataclass(frozen=True)
class _StoredFiles:
    """A version's weights and manifest, put in the object store before it is recorded;
    ``was``: what each blob was before (``("weights file", "damaged")``: rewritten)."""

    weights_src: Path
    weights_file: str
    weights_blob: str
    weights_bytes: int
    manifest_data: bytes
    manifest_blob: str
    manifest_bytes: int
    was: tuple[tuple[str, str], ...] = ()
    split_data: bytes | None = None  # which rows trained it (:func:`_stored_split`)
    split_unkept: str | None = None  # why a split file its manifest names was not kept

    def restore(self, objects: ObjectStore) -> None:
        """Put back a blob deleted since it was stored."""
        # a concurrent gc or rm may have deleted a blob that was unreferenced until now;
        # they delete only while holding the write lock, which this transaction now holds
        if not objects.present(self.weights_blob, self.weights_bytes):
            objects.put_file(self.weights_src, expected=self.weights_blob)
        if not objects.present(self.manifest_blob, self.manifest_bytes):
            objects.put_bytes(self.manifest_data)
        if self.split_data is not None:
            digest = hashlib.sha256(self.split_data).hexdigest()
            if not objects.present(digest, len(self.split_data)):
                objects.put_bytes(self.split_data)


class _Lineage(NamedTuple):
    """Where a new version comes from: its parent (``parent_blob``: the manifest blob of an
    imported version's parent), notes, and for an import, its ``origin``."""

    parent: int | str | None
    parent_blob: str | None
    notes: str | None
    origin: dict[str, Any] | None


def _store_files(
    objects: ObjectStore, directory: Path, manifest: dict[str, Any]
) -> tuple[dict[str, Any], _StoredFiles]:
    """Put the adapter's weights and manifest (without local paths) in the object store;
    returns the manifest as stored, and where its files are."""
    weights_file = _plain_weights_file(directory, manifest)
    weights_src = directory / weights_file
    manifest_data = _unchanged_manifest_data(directory, manifest)
    manifest, manifest_data = without_local_paths(manifest, manifest_data)
    was = (  # before they are put (again): a damaged or missing blob is rewritten
        ("weights file", objects.state(manifest["weights_sha256"])),
        ("manifest", objects.state(hashlib.sha256(manifest_data).hexdigest())),
    )
    named = split_file_of(manifest)  # its state too: adding again keeps one lost or never kept
    split_was = objects.state(named[1]) if named else "intact"
    weights_blob, weights_bytes = objects.put_file(weights_src, expected=manifest["weights_sha256"])
    manifest_blob, manifest_bytes = objects.put_bytes(manifest_data)
    split_data, split_unkept = _stored_split(objects, directory, manifest, named)
    if split_data is not None:  # kept now (a version added before the registry kept them too)
        was += ((f"split file of its training {trained_samples(manifest)}", split_was),)
    files = _StoredFiles(
        weights_src=weights_src,
        weights_file=weights_file,
        weights_blob=weights_blob,
        weights_bytes=weights_bytes,
        manifest_data=manifest_data,
        manifest_blob=manifest_blob,
        manifest_bytes=manifest_bytes,
        was=was,
        split_data=split_data,
        split_unkept=split_unkept,
    )
    return manifest, files


def _stored_split(
    objects: ObjectStore,
    directory: Path,
    manifest: dict[str, Any],
    named: tuple[str, str] | None,
) -> tuple[bytes | None, str | None]:
    """The adapter's split file (``split.json``: which rows trained it, as keyed hashes, never
    values), put in the object store under the checksum its manifest records, so that a
    served answer can say that a patient sent is one the adapter trained on (its prediction
    in-sample), as ``predict`` marks them; and, where its manifest names one that is not
    kept, why (not beside it, or changed since: not the rows that trained it). It stays in
    this registry, where the rows are: ``export`` never carries it."""
    if named is None:  # (``split_file_of(manifest)``)
        return None, None
    name, digest = named
    path, which = directory / name, f"which {trained_samples(manifest)} trained it"
    if not path.is_file():
        return None, f"its {name} ({which}) is not beside it in {directory}"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        return None, (f"its {name} ({which}) does not match the checksum its adapter.json "
                      "records (changed since it was saved)")  # fmt: skip
    objects.put_bytes(data)
    return data, None


def _plain_weights_file(directory: Path, manifest: dict[str, Any]) -> str:
    """The weights file the manifest names, refused unless a plain file name."""
    weights_file = manifest["weights_file"]
    if Path(weights_file).name != weights_file or weights_file in ("", ".", ".."):
        raise AdapterFileError(
            f"{directory / MANIFEST} names the weights file {weights_file!r}, which is not a "
            "plain file name; save the adapter again with medadapt"
        )
    return weights_file


def _unchanged_manifest_data(directory: Path, manifest: dict[str, Any]) -> bytes:
    """The bytes of the manifest file, refused if they are no longer ``manifest``."""
    manifest_data = (directory / MANIFEST).read_bytes()
    if json.loads(manifest_data).get("manifest_sha256") != manifest["manifest_sha256"]:
        raise AdapterFileError(
            f"{directory / MANIFEST} changed while it was being added; add it again once "
            "nothing is writing to it"
        )
    return manifest_data


def _same_version(conn: sqlite3.Connection, name: str, manifest_blob: str) -> int | None:
    """The version of ``name`` that already holds this manifest, if any."""
    same = conn.execute(
        "SELECT version FROM versions WHERE name = ? AND manifest_blob = ?",
        (name, manifest_blob),
    ).fetchone()
    return None if same is None else same[0]


def refresh_cards(registry: RegistryLike, weights: str) -> None:
    """Write again the cards of the versions on base ``weights`` (its hash, or the start of
    it that names its folder) registered before it, now that it says what their positive
    class means (a trial imported an adapter, then its base: the card read "a binary
    outcome (num)" where ``show`` said "1 means num > 0"). A card saying it is left as is."""
    positive = positive_class_words(base_schema(registry.root, weights))
    if positive is None:
        return
    for v in registry.list():
        if not v.base_fingerprint["weights"].startswith(weights):
            continue
        manifest = json.loads(registry.objects.path(v.manifest_blob).read_bytes())
        card = render_card(name=v.name, version=v.version, parent=v.parent,
                           registered=v.registered, manifest=manifest, notes=v.notes,
                           origin=v.origin, positive=positive)  # fmt: skip
        if card != v.card:
            with registry.index.write() as conn:
                conn.execute("UPDATE versions SET card = ? WHERE name = ? AND version = ?",
                             (card, v.name, v.version))  # fmt: skip


def _insert_version(
    conn: sqlite3.Connection,
    name: str,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    files: _StoredFiles,
    lineage: _Lineage,
    *,
    positive: str | None = None,
) -> tuple[int, list[str]]:
    """Record the next version of ``name`` (its parent checked, its card written: ``positive``
    says what its positive class means) and log it; returns its number and the notices about
    its parent."""
    parent, parent_blob, notes, origin = lineage
    conn.execute("INSERT OR IGNORE INTO names (name, next_version) VALUES (?, 1)", (name,))
    version = conn.execute("SELECT next_version FROM names WHERE name = ?", (name,)).fetchone()[0]
    parent_version, notices = check_parent(
        conn,
        name,
        version,
        pick_parent(conn, name, parent, parent_blob),
        manifest,
        explicit=isinstance(parent, int) and parent_blob is None,
    )
    notices += _same_weights(conn, name, files.weights_blob, manifest)
    registered = now()
    card = render_card(
        name=name,
        version=version,
        parent=parent_version,
        registered=registered,
        manifest=manifest,
        notes=notes,
        origin=origin,
        positive=positive,
    )
    row = _version_row(name, version, parent_version, manifest, summary, files, lineage)
    row.update(registered=registered, card=card)
    conn.execute(
        f"INSERT INTO versions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    conn.execute("UPDATE names SET next_version = ? WHERE name = ?", (version + 1, name))
    detail: dict[str, Any] = {"parent": parent_version}
    if origin:
        detail["from"] = f"{origin['name']}@{origin['version']}"
        detail["archive_sha256"] = origin["archive_sha256"]
    Index.changed(conn, "import" if origin else "add", name, version, detail)
    return version, notices


def _same_weights(
    conn: sqlite3.Connection, name: str, blob: str, manifest: dict[str, Any]
) -> list[str]:
    """Where registered versions of ``name`` on the same base hold this weights file byte for
    byte: that
    the new version answers every patient as they do (a trial's second adapter, trained with
    another --lr, came out identical; promoting it changed nothing served, without a word)."""
    rows = conn.execute(
        "SELECT name, version, base_weights FROM versions WHERE weights_blob = ? AND name = ? "
        "ORDER BY version",
        (blob, name),
    ).fetchall()  # fmt: skip  (other names: 'registry add' notes them, as the same adapter)
    base = manifest["base_fingerprint"]["weights"]
    twins = [f"{row[0]}@{row[1]}" for row in rows if row[2] == base]
    if not twins:
        return []
    return [f"its weights are byte for byte those of {', '.join(twins)}: it gives every patient "
            "the same answer; if its training was meant to change them, check its settings "
            "(e.g. --epochs, --lr) took effect"]  # fmt: skip


def _version_row(
    name: str,
    version: int,
    parent_version: int | None,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    files: _StoredFiles,
    lineage: _Lineage,
) -> dict[str, Any]:
    """The ``versions`` columns of a new version, but for ``registered`` and ``card``."""
    return {
        "name": name,
        "version": version,
        "method": manifest["method"],
        "config": json.dumps(manifest["config"], sort_keys=True),
        "base_fingerprint": json.dumps(manifest["base_fingerprint"], sort_keys=True),
        "base_weights": manifest["base_fingerprint"]["weights"],
        "parent": parent_version,
        "task": summary["task"],
        "data_summary": json.dumps(summary["data_summary"], sort_keys=True),
        "metrics": json.dumps(summary["metrics"], sort_keys=True),
        "intended_use": summary["intended_use"],
        "notes": lineage.notes,
        "origin": json.dumps(lineage.origin, sort_keys=True) if lineage.origin else None,
        "manifest_blob": files.manifest_blob,
        "manifest_bytes": files.manifest_bytes,
        "manifest_sha256": manifest["manifest_sha256"],
        "weights_file": files.weights_file,
        "weights_blob": files.weights_blob,
        "weights_bytes": files.weights_bytes,
        "n_parameters": manifest.get("n_parameters"),
        "trained": manifest.get("created"),
    }


def without_local_paths(manifest: dict[str, Any], data: bytes) -> tuple[dict[str, Any], bytes]:
    """The manifest (and its bytes) to store: without the local paths in its metadata, its
    checksum recomputed. Unchanged, byte for byte, when it holds none (so an imported
    adapter keeps the blob its sender has, and lineage across registries still matches)."""
    clean, removed = strip_local_paths(manifest.get("metadata"))
    if not removed:
        return manifest, data
    # lazy: adapters.state loads torch; the CLI imports the registry at start-up
    from medadapt.adapters.state import _manifest_digest  # the adapter format's own rule

    manifest = {**manifest, "metadata": clean}
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    return manifest, json.dumps(manifest, indent=2).encode()
