"""Base models kept in the registry, so a server can find the base of every adapter.

``ROOT/bases/<weights sha256[:16]>/`` holds a copy of a ``train-base`` directory
(``model.json`` + ``model.safetensors``). It is copied into ``tmp/`` and renamed into place, so
a killed copy never leaves a half base; the checksum in ``model.json`` is verified on load.
Adapters name their base by fingerprint; :func:`find_base` maps one to the other. The index
records each base once it is registered (:func:`add_base` marks it, whoever calls it), so
``verify`` can tell a base that was deleted from one that was never added.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import uuid
from pathlib import Path
from typing import Any, NamedTuple

from medadapt.errors import COPY_BASE_AGAIN, AdapterFileError
from medadapt.fileio import manifest_edited, read_json
from medadapt.registry.db import INDEX, Index, now
from medadapt.registry.objects import fsync_dir, sha256_file
from medadapt.registry.records import RegistryError, command_line, named_file
from medadapt.results import AdapterRecord

BASES = "bases"
_FILES = ("model.json", "model.safetensors")
ADAPTER_MANIFEST = "adapter.json"  # what an 'adapt' output holds instead of model.json
SET_ASIDE = "damaged-base-"
"""How a damaged copy that ``add-base`` replaced is named in ``tmp/``
(``damaged-base-<key>-<random>``): nothing reads it again, so ``gc`` removes it at any age."""


def _key(weights_sha256: str) -> str:
    return weights_sha256[:16]


def _manifest(directory: Path) -> dict[str, Any]:
    path = directory / "model.json"
    manifest = read_json(path, missing=f"{path} is missing",
                         invalid=f"{path} is not valid JSON (truncated or edited)")  # fmt: skip
    fingerprint = manifest.get("fingerprint") if isinstance(manifest, dict) else None
    if not isinstance(fingerprint, dict) or not isinstance(fingerprint.get("weights"), str):
        raise AdapterFileError(f"{path} is not a medadapt base model (no fingerprint)")
    return manifest


def check_base_dir(
    directory: str | Path, *, key: str | None = None, deep: bool = True
) -> dict[str, Any]:
    """The fingerprint of the base model in ``directory`` after checking that its weights hash
    to the checksum in ``model.json`` and (``key``: a registry entry's name) that the
    fingerprint is the one the entry is named after; ``deep`` also rebuilds the model and
    recomputes the fingerprint from the weights (catches a ``model.json`` whose checksum was
    rewritten for other weights). Raises an :class:`AdapterFileError` saying what is wrong
    (callers add the fix)."""
    directory = Path(directory)
    manifest = _manifest(directory)
    recorded = manifest["fingerprint"]["weights"]
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise AdapterFileError(f"{weights} is missing")
    if sha256_file(weights) != manifest.get("weights_sha256"):
        raise AdapterFileError(f"{weights} does not match its checksum (tampered or corrupted)")
    edited = manifest_edited(manifest)
    if edited:
        raise AdapterFileError(f"{directory}/{edited}")  # its path, then what happened
    if key is not None and key != _key(recorded):
        raise AdapterFileError(
            f"{directory / 'model.json'} describes base weights {recorded[:12]}, not the "
            f"{key[:12]} its directory is named after (swapped or moved)"
        )
    # deep: the base-model format is imported lazily below (it loads torch, and the CLI imports
    # the registry at start-up)
    if deep:
        from medadapt.modalities.bundle import BaseModel

        try:
            actual = BaseModel.load(directory, check_fingerprint=False).fingerprint.weights
        except Exception as exc:  # weights that do not fit the recorded architecture
            reason = _problem_only(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise AdapterFileError(f"{weights} cannot be loaded ({reason})") from None
        if actual != recorded:
            raise AdapterFileError(
                f"{weights} hashes to base weights {actual[:12]}, but "
                f"{directory / 'model.json'} says {recorded[:12]} (tampered)"
            )
    return manifest["fingerprint"]


def _problem_only(reason: str, longest: int = 300) -> str:
    """The loader's refusal without its fix (:data:`~medadapt.errors.COPY_BASE_AGAIN`: a
    registry says "add it again with add-base"), cut at a clause's end where it is longer
    than ``longest`` characters.

    >>> _problem_only("model.json lacks 'schema'; copy the base model again, or retrain it")
    "model.json lacks 'schema'"
    """
    said = reason.split(f"; {COPY_BASE_AGAIN}")[0]
    if len(said) <= longest:
        return said
    cut = said[:longest].rfind("; ")
    return (said[:cut] if cut > 0 else said[: longest - 3].rstrip()) + "..."


class BaseAdded(NamedTuple):
    """What :func:`add_base` did: the base's directory in the registry, whether it is new
    (False: it was registered already), and, for a registered base whose stored copy was
    deleted or damaged and is now put back, what was wrong (``"the base model files were
    missing"``); an intact copy already there: not new, nothing repaired."""

    path: Path
    new: bool
    repaired: tuple[str, ...] = ()


_REPAIRED = {
    "restored": "the base model files were missing",
    "replaced": "the base model files were damaged",
}


def add_base(
    root: str | Path,
    base_dir: str | Path,
    *,
    fingerprint: dict[str, Any] | None = None,
    spelled: str | None = None,
) -> BaseAdded:
    """Copy the base model in ``base_dir`` into the registry at ``root`` and record it in the
    index as registered (:func:`mark_registered`: ``verify`` then reports it if deleted).
    ``fingerprint``: what :func:`check_base_dir` returned, when the caller checked it already;
    ``spelled``: the registry command as the user typed it (an adapter given here is told the
    ``add`` that registers it).

    A registered copy that was deleted is put back; one that no longer matches its checksum
    or its key is replaced (the damaged one is set aside in ``tmp/``, named
    :data:`SET_ASIDE`: ``verify`` names it, ``gc`` removes it); either is ``repaired``. A
    copy added, put back or replaced is an ``add-base`` event that bumps the generation, so
    a running server loads it at its next request (the adapters it could not load for want
    of it then answer)."""
    root = Path(root)
    if not (root / INDEX).is_file():
        raise RegistryError(f"{root} is not a medadapt registry (no {INDEX}); check --root")
    index = Index(root / INDEX)
    path, copied = _copy_base(root, Path(base_dir), fingerprint, spelled)
    if copied == "added" and path.name in registered_keys(index):  # its copy was deleted
        copied = "restored"
    mark_registered(index, path.name, copied=copied)
    repaired = (_REPAIRED[copied],) if copied in _REPAIRED else ()
    return BaseAdded(path, copied == "added", repaired)


def _is_adapter_dir(path: Path) -> bool:
    """Whether ``path`` is an ``adapt`` output: its adapter.json, or its only subfolder's."""
    return (path / ADAPTER_MANIFEST).is_file() or len(list(path.glob(f"*/{ADAPTER_MANIFEST}"))) == 1


def _copy_base(
    root: Path, base_dir: Path, fingerprint: dict[str, Any] | None, spelled: str | None = None
) -> tuple[Path, str | None]:
    """:func:`add_base`'s copy: ``(path, what it did)``, ``"added"``, ``"replaced"`` (a
    damaged copy) or None (an intact copy was there, or another process made it)."""
    if not (base_dir / "model.json").is_file():
        if _is_adapter_dir(base_dir):  # the reverse of 'add' given a base: said as it is
            raise RegistryError(
                f"{base_dir} is an adapter (written by 'medadapt adapt'), not a base model; "
                f"register it with '{spelled or command_line(root)} add "
                f"{shlex.quote(str(base_dir))}'"
            )
        raise AdapterFileError(
            f"no model.json in {base_dir}: give a directory written by 'medadapt train-base'"
        )
    if fingerprint is None:
        try:  # refuse a damaged source before copying anything
            fingerprint = check_base_dir(base_dir)
        except AdapterFileError as exc:
            raise AdapterFileError(f"{exc}; copy the base model again from its source") from None
    target = root / BASES / _key(fingerprint["weights"])
    copied = "added"
    if (target / "model.json").is_file():
        try:
            check_base_dir(target, key=target.name, deep=False)
            _keep_split_file(base_dir, target, root)  # one registered before it was kept
            return target, None
        except AdapterFileError:
            copied = "replaced"
            with contextlib.suppress(OSError):  # OSError: another process moved it first
                aside = f"{SET_ASIDE}{target.name}-{uuid.uuid4().hex[:8]}"
                os.rename(target, root / "tmp" / aside)
    staging = root / "tmp" / f"base-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    for name in _FILES:
        shutil.copy2(base_dir / name, staging / name)
        with open(staging / name, "rb") as handle:
            os.fsync(handle.fileno())
    _keep_split_file(base_dir, staging, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staging, target)
    except OSError:  # another process registered the same base meanwhile
        shutil.rmtree(staging, ignore_errors=True)
        return target, None
    fsync_dir(target.parent)
    return target, copied


def base_split_file(manifest: Any) -> tuple[str, str] | None:
    """The split file a base's ``model.json`` names (``split.json``: the rows it trained on,
    as keyed hashes) and its sha256; None where it names none, or not as
    :func:`~medadapt.registry.records.named_file` takes it."""
    training = manifest.get("training") if isinstance(manifest, dict) else None
    split = training.get("split") if isinstance(training, dict) else None
    return named_file(split, "rows_file", "rows_sha256", reserved=_FILES)


def _keep_split_file(base_dir: Path, target: Path, root: Path) -> None:
    """The base's split file (its training rows as keyed hashes, never values) kept beside
    its registered copy (put there where it is absent or damaged), where ``base_dir`` has
    the one its ``model.json`` names, unchanged: a server then says which patients sent the
    base trained on. Never exported (an archive carries the model's two files: the hashes
    stay where the rows are)."""
    try:
        named = base_split_file(json.loads((base_dir / "model.json").read_bytes()))
        kept = None if named is None else target / named[0]
        if kept is None or (kept.is_file() and sha256_file(kept) == named[1]):
            return  # none named, or kept intact
        data = (base_dir / named[0]).read_bytes()
    except (OSError, ValueError):
        return  # none to keep: nothing is flagged
    if hashlib.sha256(data).hexdigest() != named[1]:
        return
    staged = root / "tmp" / f"split-{uuid.uuid4().hex}"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(data)
    os.replace(staged, target / named[0])


def list_bases(root: str | Path) -> list[dict[str, Any]]:
    """Fingerprint, kind and training summary of every registered base (no weights read); an
    entry whose ``model.json`` cannot be read has a ``problem`` instead."""
    out: list[dict[str, Any]] = []
    for directory in base_dirs(root):
        try:
            manifest = _manifest(directory)
        except AdapterFileError as exc:
            out.append({"path": str(directory), "problem": str(exc)})
            continue
        out.append(
            {
                "path": str(directory),
                "kind": manifest.get("kind"),
                "fingerprint": manifest["fingerprint"],
                "label": (manifest.get("schema") or {}).get("label"),
                "groups": (manifest.get("training") or {}).get("groups"),
                # features kept with --allow-leak although each alone predicts the label
                "allowed_leaks": [
                    leak["column"]
                    for leak in (manifest.get("training") or {}).get("allowed_leaks") or []
                    if isinstance(leak, dict) and isinstance(leak.get("column"), str)
                ],
            }
        )
    return out


def base_dirs(root: str | Path) -> list[Path]:
    """Every entry under ``bases/`` (registered or damaged)."""
    directory = Path(root) / BASES
    return sorted(p for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []


#: how a hospital that received an adapter without its base gets it (a trial had no BASE_DIR)
NO_BASE_DIR = "(or import the adapter's archive exported with --with-base)"


def has_base(root: str | Path, weights_sha256: str) -> bool:
    """Cheap: a base with these weights is registered (no hashing)."""
    return (Path(root) / BASES / _key(weights_sha256) / "model.json").is_file()


def find_base(root: str | Path, weights_sha256: str) -> Path:
    """The registered base directory whose weights hash is ``weights_sha256``."""
    directory = Path(root) / BASES / _key(weights_sha256)
    if not (directory / "model.json").is_file():
        raise AdapterFileError(
            f"the registry at {root} has no base model with weights {weights_sha256[:12]}; add "
            f"it with '{command_line(root, 'add-base BASE_DIR')}' {NO_BASE_DIR}"
        )
    return directory


def base_schema(root: str | Path, weights_sha256: str) -> dict[str, Any] | None:
    """The ``schema`` the registered base with these weights records (its label, task and
    what made its classes: ``positive_above``, ``positive_class``), read without hashing;
    None when that base is not registered or its ``model.json`` cannot be read."""
    try:
        schema = _manifest(find_base(root, weights_sha256)).get("schema")
    except (AdapterFileError, OSError):
        return None
    return schema if isinstance(schema, dict) else None


def base_fields(root: str | Path, weights_sha256: str) -> list[str] | None:
    """The request fields the registered base with these weights reads (a table's features,
    in order); None when that base is not registered, reads images, or does not say."""
    features = (base_schema(root, weights_sha256) or {}).get("features")
    if not isinstance(features, list):
        return None
    names = [f.get("name") for f in features if isinstance(f, dict)]
    return [n for n in names if isinstance(n, str)] or None


def base_kind(root: str | Path, weights_sha256: str) -> str | None:
    """The kind of the registered base with these weights (``tabular``, ``image``), read
    without hashing; None when that base is not registered or does not say."""
    try:
        kind = _manifest(find_base(root, weights_sha256)).get("kind")
    except (AdapterFileError, OSError):
        return None
    return kind if isinstance(kind, str) and kind else None


def base_outcome(root: str | Path, weights_sha256: str) -> str | None:
    """What the registered base with these weights predicts (its label column), read
    without hashing; None when that base is not registered or does not say."""
    label = (base_schema(root, weights_sha256) or {}).get("label")
    return label if isinstance(label, str) and label else None


def base_groups(root: str | Path, weights_sha256: str) -> frozenset[str] | None:
    """The groups the registered base with these weights was trained on (``train-base
    --groups``), read without hashing; None when that base is not registered or its
    ``model.json`` cannot be read."""
    try:
        training = _manifest(find_base(root, weights_sha256)).get("training")
    except (AdapterFileError, OSError):
        return None
    groups = training.get("groups") if isinstance(training, dict) else None
    return frozenset(map(str, groups)) if isinstance(groups, dict | list) else frozenset()


def missing_base_note(root: str | Path, weights_sha256: str, ref: str) -> str | None:
    """A one-line note when the base model ``ref`` needs is not registered (else None)."""
    try:
        find_base(root, weights_sha256)
    except AdapterFileError as exc:
        return f"note: {ref} cannot be served yet: {exc}"
    return None


def recorded_base(manifest: dict[str, Any]) -> Path | None:
    """The base directory an ``adapt`` output recorded (``metadata.base_model.path``), when it
    still holds the base this adapter was trained on (same fingerprint); else None."""
    path, weights = _recorded(manifest)
    return path if weights == manifest["base_fingerprint"]["weights"] else None


def replaced_base_note(manifest: dict[str, Any], root: str | Path = "DIR") -> str | None:
    """Why the recorded base directory was not registered when it now holds another model
    (``train-base --force`` over it), with the command that registers the right one in the
    registry at ``root``: else None."""
    path, weights = _recorded(manifest)
    trained_on = manifest["base_fingerprint"]["weights"]
    if path is None or weights is None or weights == trained_on:
        return None
    return (
        f"note: {path}, the base directory it recorded, now holds another model (weights "
        f"{weights[:12]}, not {trained_on[:12]}): register the base it was trained on with "
        f"'{command_line(root, 'add-base BASE_DIR')}'"
    )


def _recorded(manifest: dict[str, Any]) -> tuple[Path | None, str | None]:
    """The base directory an adapter recorded and the weights it holds now (None: gone)."""
    base = AdapterRecord.from_json(manifest.get("metadata")).base_model
    path = base.get("path") if isinstance(base, dict) else None
    if not isinstance(path, str) or not path:
        return None, None
    try:
        return Path(path), _manifest(Path(path))["fingerprint"]["weights"]
    except (AdapterFileError, OSError, KeyError, TypeError):
        return Path(path), None


def readd_base_fix(root: str | Path = "DIR") -> str:
    """What a damaged registered base's message says to do (``registry verify`` and
    ``serve`` alike); ``root``: the registry, or ``DIR`` where it is not at hand.

    >>> print(readd_base_fix())  # doctest: +NORMALIZE_WHITESPACE
    add it again with 'medadapt registry --root DIR add-base BASE_DIR' (that replaces the
    damaged copy)
    """
    return (
        f"add it again with '{command_line(root, 'add-base BASE_DIR')}' (that replaces the "
        "damaged copy)"
    )


def verify_bases(root: str | Path, keys: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Re-hash every registered base (or those named by ``keys``): ``(checked, problems)``,
    one line per damaged, tampered or swapped base."""
    root = Path(root)
    dirs = base_dirs(root) if keys is None else [root / BASES / k for k in keys]
    checked, problems = [], []
    fix = readd_base_fix(root)
    for directory in dirs:
        if not directory.is_dir():
            continue
        checked.append(directory.name)
        try:
            check_base_dir(directory, key=directory.name)
        except AdapterFileError as exc:
            problems.append(f"base model {directory.name}: {exc}; {fix}")
            continue
        if _split_file_damaged(directory):
            problems.append(
                f"base model {directory.name}: its split file (which rows it trained on, as "
                f"keyed hashes) is damaged: served answers cannot say which patients it "
                f"trained on; {fix}"
            )
    return checked, problems


def _split_file_damaged(directory: Path) -> bool:
    """Whether the split file kept beside a registered base no longer hashes to the checksum
    its ``model.json`` records (absent: never kept, nothing to say)."""
    try:
        named = base_split_file(json.loads((directory / "model.json").read_bytes()))
        return named is not None and (directory / named[0]).is_file() and (
            sha256_file(directory / named[0]) != named[1])  # fmt: skip
    except (OSError, ValueError):
        return False


_MARK = "base:"  # meta key of a registered base: "base:<key>"


def mark_registered(index: Index, weights_sha256: str, *, copied: str | None = None) -> None:
    """Record in the index that the base with these weights (or this key) is registered;
    ``copied`` (``"added"``, ``"restored"``, ``"replaced"``: a copy was just put in place,
    new, instead of a deleted one, instead of a damaged one) also logs an
    ``add-base`` event and bumps the generation, as every change to what a server can load
    does (a server that could not load that base's adapters tries again)."""
    key = _MARK + _key(weights_sha256)
    with index.write() as conn:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, now()))
        if copied is not None:
            Index.changed(conn, "add-base", key, None, {"copy": copied})


def registered_keys(index: Index) -> set[str]:
    """The keys of every base the index records as registered."""
    with index.read() as conn:
        rows = conn.execute("SELECT key FROM meta WHERE key LIKE ?", (_MARK + "%",)).fetchall()
    return {row[0].removeprefix(_MARK) for row in rows}


def deleted_bases(root: str | Path, index: Index, used: dict[str, list[str]]) -> dict[str, str]:
    """``{key: one line}`` for each base that was registered, that versions use (``used``:
    ``{base weights: [version refs]}``) and whose copy under ``bases/`` is gone."""
    root, recorded = Path(root), registered_keys(index)
    by_key: dict[str, list[str]] = {}
    for weights, refs in used.items():
        by_key.setdefault(_key(weights), []).extend(refs)
    return {
        key: f"base model {key}: {root / BASES / key} is missing, but {', '.join(refs)} "
        f"{'was' if len(refs) == 1 else 'were'} registered with it; add it again with "
        f"'{command_line(root, 'add-base BASE_DIR')}', or restore bases/ from a backup"
        for key, refs in sorted(by_key.items())
        if key in recorded and not (root / BASES / key).is_dir()
    }
