"""Adapters in and out of a registry: ``add`` (an adapter directory), ``import`` and ``export``
(one archive file).

Both ways in end in :func:`register`: the blobs are put in place first (temp file, fsync,
rename), then the version is recorded in one SQLite transaction. Between the two a killed
process leaves only unreferenced blobs, which ``gc`` removes.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import medadapt
from medadapt.errors import AdapterFileError
from medadapt.registry import archive
from medadapt.registry.card import render_card
from medadapt.registry.db import Index, now
from medadapt.registry.objects import temp_name
from medadapt.registry.queries import pick_parent
from medadapt.registry.records import AdapterVersion, check_name, check_summary_only, summaries

if TYPE_CHECKING:
    from medadapt.registry.store import Registry

MANIFEST = "adapter.json"


class Registration(NamedTuple):
    """What ``add``/``import_`` did: the version, and whether it is new (False: an identical
    adapter was already registered under that name, and nothing was added)."""

    version: AdapterVersion
    new: bool


@dataclass(frozen=True)
class Exported:
    """An archive written by ``export``: send ``path``, and ``sha256`` by another channel."""

    path: Path
    sha256: str
    version: AdapterVersion


def find_adapter_dir(path: Path) -> Path:
    """``path`` itself, or its only subdirectory holding an adapter.json (an ``adapt`` output)."""
    if path.is_file() and path.name == MANIFEST:
        return path.parent
    if path.is_dir() and not (path / MANIFEST).exists():
        found = [p.parent for p in path.glob(f"*/{MANIFEST}")]
        if len(found) == 1:
            return found[0]
    return path


def add_directory(
    registry: Registry,
    adapter_dir: Path,
    *,
    name: str | None,
    parent: int | str | None,
    notes: str | None,
) -> Registration:
    from medadapt.adapters.state import read_manifest

    directory = find_adapter_dir(Path(adapter_dir))
    manifest = read_manifest(directory)
    name = check_name(name if name is not None else manifest["name"])
    check_summary_only(manifest.get("metadata"), str(directory))
    return register(registry, directory, manifest, name=name, parent=parent, notes=notes)


def import_archive(
    registry: Registry,
    path: Path,
    *,
    name: str | None,
    expect_sha256: str | None,
    notes: str | None,
) -> Registration:
    from medadapt.adapters.state import read_manifest

    path = Path(path)
    staging = temp_name(registry.objects.tmp, ".import")
    try:
        unpacked = archive.read_archive(path, staging, expect_sha256=expect_sha256)
        try:
            manifest = read_manifest(unpacked.adapter_dir)
        except AdapterFileError as exc:
            raise AdapterFileError(
                str(exc).replace(str(unpacked.adapter_dir), f"{path}:adapter")
            ) from None
        entry = unpacked.info.get("adapter") or {}
        if entry.get("manifest_sha256") != manifest["manifest_sha256"]:
            raise AdapterFileError(
                f"{path} is inconsistent (its adapter is not the one {archive.INFO} "
                "describes); ask the sender to export it again"
            )
        name = check_name(name if name is not None else entry.get("name", manifest["name"]))
        check_summary_only(manifest.get("metadata"), str(path))
        origin = {
            "registry_id": unpacked.info.get("registry_id"),
            "name": entry.get("name"),
            "version": entry.get("version"),
            "exported": unpacked.info.get("exported"),
            "archive_sha256": unpacked.archive_sha256,
        }
        return register(
            registry,
            unpacked.adapter_dir,
            manifest,
            name=name,
            parent=None,
            parent_blob=entry.get("parent_manifest_blob"),
            notes=notes if notes is not None else entry.get("notes"),
            origin=origin,
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def register(
    registry: Registry,
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
    objects = registry.objects
    weights_file = manifest["weights_file"]
    if Path(weights_file).name != weights_file or weights_file in ("", ".", ".."):
        raise AdapterFileError(
            f"{directory / MANIFEST} names the weights file {weights_file!r}, which is not a "
            "plain file name; save the adapter again with medadapt"
        )
    weights_src = directory / weights_file
    manifest_data = (directory / MANIFEST).read_bytes()
    if json.loads(manifest_data).get("manifest_sha256") != manifest["manifest_sha256"]:
        raise AdapterFileError(
            f"{directory / MANIFEST} changed while it was being added; add it again once "
            "nothing is writing to it"
        )
    weights_blob, weights_bytes = objects.put_file(weights_src, expected=manifest["weights_sha256"])
    manifest_blob, manifest_bytes = objects.put_bytes(manifest_data)
    summary = summaries(manifest)
    with registry.index.write() as conn:
        same = conn.execute(
            "SELECT version FROM versions WHERE name = ? AND manifest_blob = ?",
            (name, manifest_blob),
        ).fetchone()
        if same is not None:
            version, new = same[0], False
        else:
            new = True
            # a concurrent gc or rm may have deleted a blob that was unreferenced until now;
            # they delete only while holding the write lock, which this transaction now holds
            if not objects.present(weights_blob, weights_bytes):
                objects.put_file(weights_src, expected=weights_blob)
            if not objects.present(manifest_blob, manifest_bytes):
                objects.put_bytes(manifest_data)
            conn.execute("INSERT OR IGNORE INTO names (name, next_version) VALUES (?, 1)", (name,))
            version = conn.execute(
                "SELECT next_version FROM names WHERE name = ?", (name,)
            ).fetchone()[0]
            parent_version = pick_parent(conn, name, parent, parent_blob)
            registered = now()
            card = render_card(
                name=name,
                version=version,
                parent=parent_version,
                registered=registered,
                manifest=manifest,
                notes=notes,
                origin=origin,
            )
            row = {
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
                "notes": notes,
                "origin": json.dumps(origin, sort_keys=True) if origin else None,
                "manifest_blob": manifest_blob,
                "manifest_bytes": manifest_bytes,
                "manifest_sha256": manifest["manifest_sha256"],
                "weights_file": weights_file,
                "weights_blob": weights_blob,
                "weights_bytes": weights_bytes,
                "n_parameters": manifest.get("n_parameters"),
                "trained": manifest.get("created"),
                "registered": registered,
                "card": card,
            }
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
    return Registration(registry.get(f"{name}@{version}"), new)


def export_version(registry: Registry, ref: str, path: Path | None) -> Exported:
    v = registry.get(ref)
    registry.check_files(v)
    default = f"{v.name}-v{v.version}{archive.SUFFIX}"
    out = Path(path) if path is not None else Path.cwd() / default
    if out.is_dir():
        out = out / default
    parent_blob = None
    if v.parent is not None:
        parents = [p for p in registry.list(v.name) if p.version == v.parent]
        parent_blob = parents[0].manifest_blob if parents else None
    info = {
        "exported": now(),
        "medadapt_version": medadapt.__version__,
        "registry_id": registry.registry_id,
        "adapter": {
            "name": v.name,
            "version": v.version,
            "parent": v.parent,
            "parent_manifest_blob": parent_blob,
            "method": v.method,
            "manifest_sha256": v.manifest_sha256,
            "weights_sha256": v.weights_blob,
            "weights_bytes": v.weights_bytes,
            "notes": v.notes,
            "registered": v.registered,
        },
    }
    sha = archive.write_archive(
        out,
        info=info,
        manifest_file=registry.objects.path(v.manifest_blob),
        weights_file=registry.objects.path(v.weights_blob),
        weights_name=v.weights_file,
        card=v.card,
    )
    with registry.index.write() as conn:  # an adapter leaving the hospital is worth a log line
        Index.changed(
            conn, "export", v.name, v.version, {"sha256": sha, "path": str(out)}, bump=False
        )
    return Exported(out, sha, v)
