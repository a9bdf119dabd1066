"""Adapters in and out of a registry: ``add`` (an adapter directory), ``import`` and ``export``
(one archive file).

Both ways in end in :func:`~medadapt.registry.recording.register` (called as ``register``
here): the blobs are put in place first (temp file, fsync, rename), then the version is
recorded in one SQLite transaction. Between the two a killed process leaves only unreferenced
blobs, which ``gc`` removes. The adapter's base model, when it comes along (the directory
``adapt`` recorded, or an archive written with ``--with-base``), is put in place before the
blobs, for the same reason: what a version needs lands first.

The functions here take the registry they work on as an argument (:class:`RegistryLike`, which
:class:`~medadapt.registry.store.Registry` is); this module never imports ``store``.
``_without_local_paths`` is :func:`~medadapt.registry.recording.without_local_paths`, kept
importable from here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
from pathlib import Path
from typing import Any

import medadapt
from medadapt.data.spelling import edit_distance, spelt_alike
from medadapt.errors import AdapterFileError
from medadapt.fileio import check_output_file, make_parent
from medadapt.registry import archive, bases, queries
from medadapt.registry.db import Index
from medadapt.registry.diff import Question, question, question_words, scores_in_order
from medadapt.registry.objects import temp_name
from medadapt.registry.recording import (
    MANIFEST,
    RegistryLike,
    refresh_cards,
    register,
    without_local_paths,
)
from medadapt.registry.recording import without_local_paths as _without_local_paths  # noqa: F401
from medadapt.registry.records import (  # Registration, Exported: also importable from here
    AdapterVersion,
    Exported,
    Registration,
    RegistryError,
    check_name,
    check_summary_only,
    command_line,
    other_base_note,
)
from medadapt.results import AdapterRecord


def find_adapter_dir(path: Path) -> Path:
    """``path`` itself, or its only subdirectory holding an adapter.json (an ``adapt`` output)."""
    if path.is_file() and path.name == MANIFEST:
        return path.parent
    if path.is_dir() and not (path / MANIFEST).exists():
        found = [p.parent for p in path.glob(f"*/{MANIFEST}")]
        if len(found) == 1:
            return found[0]
    return path


def is_base_dir(path: Path) -> bool:
    """Whether ``path`` is a ``train-base`` output (its ``model.json``, no adapter.json): given
    to ``add``, it is answered with ``add-base``, not "no adapter.json"."""
    return (path / "model.json").is_file() and not (path / MANIFEST).exists()


def check_same_question(
    registry: RegistryLike, name: str, manifest: dict[str, Any], *, force: bool
) -> None:
    """Refuse (without ``force``) an adapter whose outcome or target group differs from that
    of ``name``'s newest version: promoted under that name, it would answer another question
    (a heart adapter as the next "breast_cancer" version serves on breast cancer requests) or
    score another group's patients (a Switzerland adapter as the next "va" version). A version
    that records no group (trained on every row, or by another tool) is not compared; nor is
    an adapter ``name`` already holds (adding it again repairs its stored copy, even that of
    the newest version, whose manifest this reads)."""
    if force:
        return
    stored = without_local_paths(manifest, b"")[0]["manifest_sha256"]  # as register stores it
    with registry.index.read() as conn:  # the newest version only (one query, any history)
        found = queries.newest(conn, name)
        held = conn.execute(
            "SELECT 1 FROM versions WHERE name = ? AND manifest_sha256 = ?", (name, stored)
        ).fetchone()
    if found is None or held:
        return
    version, blob = found
    path = registry.objects.path(blob)
    try:
        newest = json.loads(path.read_bytes())
    except (OSError, ValueError):
        what = "is missing" if not path.is_file() else "cannot be read (damaged)"
        raise AdapterFileError(
            f"adapter {name}@{version}: registry file {path} {what}; see what else is damaged "
            f"with '{command_line(registry.root, 'verify')}'"
        ) from None
    if not isinstance(newest, dict):
        newest = {}
    fix = f"register it under its own --name, or pass --force to make it {name}'s next version"
    before, after = _question(newest), _question(manifest)
    if before.outcome != after.outcome:
        raise RegistryError(
            f"{name}@{version} predicts {question_words(before)}, this adapter "
            f"{question_words(after)}: {fix}"
        )
    was, group = _group(newest), _group(manifest)
    if was is not None and group is not None and was != group:
        # group names (sites, hospitals) are not patient data: named, as list and serve do
        raise RegistryError(
            f"{name}@{version} is adapted to group {was!r}, this adapter to {group!r}: {fix}"
        )
    if not scores_in_order(before.classes, after.classes):  # new classes may be appended
        scored, scores = (", ".join(map(repr, q.classes)) for q in (before, after))
        raise RegistryError(
            f"{name}@{version} scores the classes {scored} in that order, this adapter "
            f"{scores}: its probabilities would answer for other classes (a base retrained "
            f"with another positive class?); {fix}"
        )


def check_new_name(registry: RegistryLike, name: str, *, force: bool,
                   base_weights: str | None = None) -> None:  # fmt: skip
    """Refuse (without ``force``) a new name spelt like a registered one: the same but for
    case (``VA`` beside ``va``) or a typo, one letter missing, added, changed or two swapped
    (``Esat`` beside ``east``). Added silently, the adapter became a name of its own beside
    the one it was meant to follow. Series (``site_a``, ``site_b``) and opposites are not
    typos (:func:`~medadapt.data.spelling.spelt_alike`); nor are names two letters apart
    (sites often are: ``north``, ``south``)."""
    if force:
        return
    with registry.index.read() as conn:
        names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM versions ORDER BY name")]
    alike = [
        other
        for other in names
        if spelt_alike(name, other) and edit_distance(name.casefold(), other.casefold()) <= 1
    ]
    if name in names or not alike:
        return
    other = alike[0]
    how = (
        f"spelt like the registered {other!r} but for case"
        if name.casefold() == other.casefold()
        else f"spelt almost like the registered {other!r}"
    )
    if base_weights is not None and base_weights not in _bases_of(registry, other):
        raise RegistryError(  # a trial was told to add it as another base's next version
            f"{name!r} would be a new name, {how}, whose versions adapt another base model "
            f"(so this is not its next version); pass --force to add it under the new name "
            f"{name!r}, or choose another name with --name"
        )
    raise RegistryError(
        f"{name!r} would be a new name, {how}; did you mean {other!r}? Give --name {other} "
        f"to add this as {other}'s next version, or pass --force to add it under the new name "
        f"{name!r}"
    )


def _bases_of(registry: RegistryLike, name: str) -> set[str]:
    """The base weights' fingerprints the versions of ``name`` were trained on."""
    with registry.index.read() as conn:
        rows = conn.execute("SELECT base_fingerprint FROM versions WHERE name = ?", (name,))
        return {str(json.loads(r[0]).get("weights")) for r in rows}


def _question(manifest: dict[str, Any]) -> Question:
    """What an adapter predicts: its task, label (None for images) and classes."""
    return question(AdapterRecord.from_json(manifest.get("metadata")))


def _group(manifest: dict[str, Any]) -> str | None:
    """The target group an adapter was trained for (``adapt --group``), None if unrecorded."""
    summary = AdapterRecord.from_json(manifest.get("metadata")).data_summary
    group = summary.get("group") if isinstance(summary, dict) else None
    return None if group is None else str(group)


def _fine_tuned(directory: Path) -> bool:
    """Whether the model folder ``directory`` holds a fully fine-tuned model (its
    ``model.json`` records the adaptation), not a base ``train-base`` wrote."""
    try:
        recorded = json.loads((Path(directory) / "model.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and bool((recorded.get("training") or {}).get("adapted"))


def _refuse_twin_under_its_own_name(
    registry: RegistryLike, directory: Path, manifest: dict[str, Any]
) -> None:
    """Refuse adding, under the name it was saved with (no ``--name``), an adapter whose
    weights are registered under other names only: a trial's second ``add va`` (``--name``
    forgotten) registered its ``va@1`` again as ``va_long_beach_bottleneck@1``, whose
    promotion then clashed for the group. With ``--name`` a twin is added, and said."""
    own = manifest["name"]
    twins = [v for v in registry.list() if v.weights_blob == manifest.get("weights_sha256")]
    if twins and all(v.name != own for v in twins):
        refs = ", ".join(v.ref for v in twins)
        raise RegistryError(
            f"{directory} holds the adapter registered as {refs} (the same weights); nothing "
            f"added, as it is registered already: use {refs}, or pass --name {own} to register "
            f"it under the name it was saved with ({own}) as well, deliberately"
        )


def add_directory(
    registry: RegistryLike,
    adapter_dir: Path,
    *,
    name: str | None,
    parent: int | str | None,
    notes: str | None,
    force: bool = False,
    spelled: str | None = None,
) -> Registration:
    # lazy: adapters.state loads torch; the CLI imports the registry at start-up
    from medadapt.adapters.state import read_manifest

    directory = find_adapter_dir(Path(adapter_dir))
    if is_base_dir(directory):
        written = ("a fully fine-tuned model (written by 'medadapt adapt --method full')"
                   if _fine_tuned(directory) else
                   "a base model (written by 'medadapt train-base')")  # fmt: skip
        raise RegistryError(
            f"{directory} is {written}, not an adapter; "
            f"keep it with '{spelled or command_line(registry.root)} add-base "
            f"{shlex.quote(str(adapter_dir))}'"
        )
    manifest = read_manifest(directory)
    if name is None:
        _refuse_twin_under_its_own_name(registry, directory, manifest)
    name = check_name(name if name is not None else manifest["name"])
    check_summary_only(manifest.get("metadata"), str(directory))
    check_new_name(
        registry, name, force=force, base_weights=manifest["base_fingerprint"]["weights"]
    )
    check_same_question(registry, name, manifest, force=force)
    # The base model goes in before the version is committed: a process killed in between
    # leaves a base that no version uses yet (harmless; the retry adds the version), never a
    # version whose base is missing. Copied after the commit, a kill in between left an
    # adapter that serve could not load, and the retry stopped at "nothing added".
    notices = []
    weights = manifest["base_fingerprint"]["weights"]
    source = bases.recorded_base(manifest)
    added = None
    if source is not None and not bases.has_base(registry.root, weights):
        try:
            added = bases.add_base(registry.root, source)
            notices += _base_notices(added, source)
        except AdapterFileError as exc:
            notices.append(f"note: its base model was not registered: {exc}")
    elif source is None and not bases.has_base(registry.root, weights):
        replaced = bases.replaced_base_note(manifest, registry.root)
        notices += [replaced] if replaced else []
    result = register(registry, directory, manifest, name=name, parent=parent, notes=notes)
    if added is not None and added.new:  # versions on it registered before: their cards
        refresh_cards(registry, weights)
    return _with_notices(registry, result, notices)


def _with_notices(registry: RegistryLike, result: Registration, before: list[str]) -> Registration:
    """``result`` with ``before`` ahead of its notices, and a note if its base is missing
    (a base that is there is recorded as registered: ``verify`` reports it if deleted)."""
    v = result.version
    weights = v.base_fingerprint["weights"]
    missing = bases.missing_base_note(registry.root, weights, v.ref)
    if missing is None:
        bases.mark_registered(registry.index, weights)
    other = _other_base_note(registry, v) if result.new else None
    notices = [*before, *result.notices, *([missing] if missing else []),
               *([other] if other else [])]  # fmt: skip
    return result._replace(notices=tuple(notices))


def _other_base_note(registry: RegistryLike, v: AdapterVersion) -> str | None:
    """A note where ``v`` adapts another base model than the version of its name before it:
    a trial imported an archive of another base as the next version, promoted it and saw
    the same patient's answer move, with nothing said (only ``diff`` showed it)."""
    others = [u for u in registry.list(v.name) if u.version != v.version]
    served = [u for u in others if u.promoted]  # what promoting it would replace, else
    earlier = served or [u for u in others if u.version < v.version]  # the one before it
    if not earlier:
        return None
    last, weights = earlier[-1], v.base_fingerprint["weights"]
    if last.base_fingerprint["weights"] == weights:
        return None
    diff = command_line(registry.root, f"diff {last.ref} {v.ref}")
    return other_base_note(v, last, ", served now" if served else "",
                           "the two can answer the same patient differently however alike "
                           f"their figures; compare them ('{diff}') before promoting")  # fmt: skip


def import_archive(
    registry: RegistryLike,
    path: Path,
    *,
    name: str | None,
    expect_sha256: str | None,
    notes: str | None,
    force: bool = False,
) -> Registration:
    # lazy: adapters.state loads torch; the CLI imports the registry at start-up
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
        check_new_name(
            registry, name, force=force, base_weights=manifest["base_fingerprint"]["weights"]
        )
        check_same_question(registry, name, manifest, force=force)
        notices = []
        base, added = unpacked.base_dir, None  # registered before the version, as in add
        if base is not None:
            added = _keep_archived_base(registry, path, base, manifest)
            notices += _base_notices(added, path)
        origin = {
            "registry_id": unpacked.info.get("registry_id"),
            "name": entry.get("name"),
            "version": entry.get("version"),
            "registered": entry.get("registered"),  # there, in the sender's registry
            "archive_sha256": unpacked.archive_sha256,
        }
        if unpacked.info.get("exported"):  # an archive an older medadapt wrote: its export time
            origin["exported"] = unpacked.info["exported"]
        result = register(
            registry,
            unpacked.adapter_dir,
            manifest,
            name=name,
            parent=None,
            parent_blob=entry.get("parent_manifest_blob"),
            notes=notes if notes is not None else entry.get("notes"),
            origin=origin,
        )
        if added is not None and added.new:  # versions on it registered before: their cards
            refresh_cards(registry, manifest["base_fingerprint"]["weights"])
        return _with_notices(registry, result, notices)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _base_notices(added: bases.BaseAdded, source: Path) -> list[str]:
    """What ``add``/``import`` say of the base model they registered from ``source`` (a
    directory or an archive), or of the registered copy they repaired from it."""
    if added.new:
        return [f"also registered its base model from {source}"]
    if added.repaired:  # the words 'add-base' and 'add' use for a stored copy they mended
        why = " and ".join(added.repaired)
        return [f"also repaired its base model's stored copy from {source} ({why})"]
    return []


def _keep_archived_base(
    registry: RegistryLike, path: Path, base_dir: Path, manifest: dict[str, Any]
) -> bases.BaseAdded:
    """Register the base model an archive carries, after checking it is intact and is the
    base its adapter was trained on."""
    try:
        fingerprint = bases.check_base_dir(base_dir)
    except AdapterFileError as exc:
        problem = str(exc).replace(str(base_dir), f"{path}:base")
        raise AdapterFileError(f"{problem}; ask the sender to export it again") from None
    if fingerprint["weights"] != manifest["base_fingerprint"]["weights"]:
        raise AdapterFileError(
            f"{path} is inconsistent (its base model is not the one its adapter was trained "
            "on); ask the sender to export it again"
        )
    return bases.add_base(registry.root, base_dir, fingerprint=fingerprint)


def _archive_path(
    v: AdapterVersion, path: str | Path | None, force: bool = False, root: Path | None = None
) -> Path:
    """Where ``export`` writes: ``path``, or ``NAME-vN.medadapt.tar.gz`` inside it when it is
    a directory (one that exists, or a string ending in a separator: typer and ``Path`` drop
    the trailing ``/`` of ``-o outbox/``, so the CLI passes the string as typed). A file name
    must say what is written: ``.tar.gz``/``.tgz`` (gzip-compressed) or ``.tar``. A path
    inside the registry (``root``) is refused: its folders hold only what it writes."""
    default = f"{v.name}-v{v.version}{archive.SUFFIX}"
    text = os.fspath(path) if path is not None else os.fspath(Path.cwd()) + os.sep
    folder = text.endswith(("/", os.sep)) or Path(text).is_dir()
    out = Path(text) / default if folder else Path(text)
    if root is not None and out.resolve().is_relative_to(Path(root).resolve()):
        raise RegistryError(  # not a blob: gc leaves it, verify reports it as a stranger
            f"-o {out} is inside the registry {root}, whose folders hold only what the "
            "registry writes; give -o a file or directory outside --root (e.g. -o outbox/)"
        )
    if not folder:
        if archive.is_compressed(out) is None:
            raise RegistryError(
                f"-o {out}: end the archive's name in .tar.gz or .tgz (gzip-compressed) or .tar "
                "(uncompressed), or give a directory ending in '/'"
            )
        if out.parent.exists() and not out.parent.is_dir():
            raise RegistryError(f"-o {out}: {out.parent} is a file, not a directory")
    check_output_file(out, flag="-o", force=force)
    if folder:  # asked for: made without a word
        out.parent.mkdir(parents=True, exist_ok=True)
    else:  # as every other output's missing folders are: made, in a note
        make_parent(out)
    return out


def export_version(
    registry: RegistryLike,
    ref: str,
    path: str | Path | None,
    *,
    with_base: bool = False,
    force: bool = False,
) -> Exported:
    v = registry.get(ref)
    registry.check_files(v)
    base_dir = _base_to_export(registry, v) if with_base else None
    out = _archive_path(v, path, force, registry.root)
    parent_blob = None
    if v.parent is not None:  # removed since or not, the same bytes at every export
        with registry.index.read() as conn:
            parent_blob = queries.manifest_blob_of(conn, v.name, v.parent)
    # no export time: the same version exported again must be the same bytes (its SHA-256
    # was sent by another channel); the version's registration time stands for it instead
    info: dict[str, Any] = {
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
    if base_dir is not None:
        info["base"] = {"weights": v.base_fingerprint["weights"]}
    sha = archive.write_archive(
        out,
        info=info,
        manifest_file=registry.objects.path(v.manifest_blob),
        weights_file=registry.objects.path(v.weights_blob),
        weights_name=v.weights_file,
        card=v.card,
        mtime=_epoch_s(v.registered),
        base_dir=base_dir,
    )
    detail = {"sha256": sha, "path": str(out), "with_base": base_dir is not None}
    with registry.index.write() as conn:  # an adapter leaving the hospital is worth a log line
        Index.changed(conn, "export", v.name, v.version, detail, bump=False)
    return Exported(out, sha, v)


def _epoch_s(at: str) -> int:
    """Seconds since the epoch of a registry time (``2026-12-03T20:22:48+00:00``; 0 if it
    cannot be read): the archive members' time, the same at every export of a version."""
    try:
        stamp = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return 0
    return int((stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).timestamp())


def _base_to_export(registry: RegistryLike, v: AdapterVersion) -> Path:
    """The registered base of ``v``, verified, or a one-line error."""
    fix = "or export it without --with-base"
    try:
        directory = bases.find_base(registry.root, v.base_fingerprint["weights"])
    except AdapterFileError as exc:  # (importing an archive is the receiver's way, not ours)
        said = str(exc).removesuffix(f" {bases.NO_BASE_DIR}")
        raise AdapterFileError(
            f"cannot export {v.ref} with its base model: {said}, {fix}"
        ) from None
    try:
        bases.check_base_dir(directory, key=directory.name)
    except AdapterFileError as exc:
        raise AdapterFileError(
            f"cannot export {v.ref} with its base model: {exc}; add the base again with "
            f"'{command_line(registry.root, 'add-base BASE_DIR')}', {fix}"
        ) from None
    return directory
