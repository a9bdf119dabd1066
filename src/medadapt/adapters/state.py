"""Save and load one adapter: ``adapter.safetensors`` + ``adapter.json``.

The JSON manifest records the method and config, the canonical layers the adapter sits in, the
base model's fingerprint, and the size and SHA-256 of the weights file; the manifest also hashes
itself. Loading checks all of it before touching the model, so a truncated or edited file, or an
adapter trained on another base model, is refused with a one-line error. Saving and loading hash
the base weights afresh (an edit through ``param.data`` bumps no version counter, so a cached
fingerprint would miss it). Both files are written to a temporary name and renamed, with the
mode the umask gives, so an interrupted save never leaves a half-written adapter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

import medadapt
from medadapt.adapters.core import AdapterCore
from medadapt.adapters.fingerprint import BaseFingerprint
from medadapt.adapters.methods import config_from_dict
from medadapt.errors import AdapterFileError, MedadaptError
from medadapt.fileio import (
    atomic_write_bytes,
    make_directory,
    not_a_folder,
    occupant,
    other_kind,
    read_json,
    sha256_file,
)

MANIFEST = "adapter.json"
WEIGHTS = "adapter.safetensors"
FORMAT = "medadapt-adapter"
FORMAT_VERSION = 1


def _manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save_adapter(
    model: AdapterCore,
    name: str,
    directory: str | Path,
    *,
    metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write adapter ``name`` of ``model`` to ``directory``; returns the directory.

    ``metadata`` (JSON-ready: counts, metrics, data summary; never patient rows) is stored in
    the manifest, over what ``model.adapter_metadata`` holds for ``name`` (e.g. the columns
    ``medadapt.adapt`` kept with ``allow_leak``); the files ``model.adapter_files`` holds for
    it are written beside the manifest. A directory that already holds an adapter, or any
    other file, is refused unless ``overwrite`` (as the command line refuses it without
    ``--force``).
    """
    refuse_overwrite(directory, MANIFEST, "an adapter", overwrite=overwrite,
                     foreign={"model.json": "a model"})  # fmt: skip
    state = model.adapter_state_dict(name)  # an unknown name: refused before any folder
    directory = make_directory(directory, "the adapter")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    weights = save(tensors, metadata={"format": FORMAT})  # adapters are small: bytes in memory
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "method": model.configs[name].method,
        "config": model.configs[name].to_dict(),
        "family": model.family,
        "layers": model.layer_names[name],
        "n_parameters": model.count_parameters(name),
        "base_fingerprint": model.refresh_fingerprint().to_dict(),
        "weights_file": WEIGHTS,
        "weights_bytes": len(weights),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "medadapt_version": medadapt.__version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "metadata": _merged(model.adapter_metadata.get(name, {}), metadata or {}),
    }
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    for file, raw in model.adapter_files.get(name, {}).items():  # before the manifest naming them
        atomic_write_bytes(directory / file, raw)
    atomic_write_bytes(directory / WEIGHTS, weights)
    atomic_write_bytes(directory / MANIFEST, json.dumps(manifest, indent=2).encode())
    return directory


def refuse_overwrite(
    directory: str | Path,
    manifest: str,
    what: str,
    *,
    overwrite: bool,
    foreign: dict[str, str] | None = None,
) -> None:
    """Refuse, unless ``overwrite``, to save into ``directory`` when it holds ``what`` (its
    ``manifest`` file) or any other file: saving would silently replace or mix with them; and
    even with ``overwrite`` when it holds a saved thing of another kind (``foreign``: file
    name -> what it shows), whose files (``split.json``) saving ``what`` would replace."""
    path = Path(directory)
    other = other_kind(path, foreign or {})
    if other:
        raise AdapterFileError(
            f"{str(path)!r} holds {other[1]} ({other[0]}), which saving {what} into it would "
            "break, even with overwrite=True; choose a new directory"
        )
    held = None if overwrite else occupant(path, {manifest: what})
    if held:
        raise AdapterFileError(
            f"{str(path)!r} already holds {what} ({manifest}); choose a new directory, or pass "
            "overwrite=True to replace it"
        )
    if held is not None:
        raise AdapterFileError(
            f"{str(path)!r} is not empty; choose a new or empty directory, or pass overwrite=True "
            "to write into it"
        )


def _merged(recorded: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The caller's ``metadata`` over what the model recorded for the adapter; a None the
    caller gives (``AdapterRecord.to_json()``'s unset fields) does not erase a recorded fact."""
    return {**recorded, **{k: v for k, v in given.items() if v is not None or k not in recorded}}


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The verified manifest of the adapter in ``directory`` (weights checksum included)."""
    directory = Path(directory)
    path = directory / MANIFEST
    problem = not_a_folder(directory)
    where = f"adapter folder {directory} {problem}" if problem else f"no {MANIFEST} in {directory}"
    missing = (
        f"{where}: point at a directory written by 'medadapt adapt' or AdapterModel.save_adapter()"
    )
    if (directory / "adapter_config.json").is_file():  # what PEFT's save_pretrained writes
        missing = (
            f"no {MANIFEST} in {directory}: it holds a Hugging Face PEFT adapter, not a "
            "medadapt one; in Python, load it with medadapt.adapters.load_peft_lora(model, "
            "directory, name=...)"
        )
    manifest = read_json(
        path,
        missing=missing,
        invalid=f"{path} is not valid JSON (truncated or edited); re-export the adapter",
    )
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise AdapterFileError(f"{path} is not a medadapt adapter manifest")
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise AdapterFileError(
            f"{path} was modified after it was saved (its checksum does not match); "
            "re-export the adapter"
        )
    _check_field_types(manifest, path)
    if manifest["format_version"] > FORMAT_VERSION:
        raise AdapterFileError(
            f"{path} has format version {manifest['format_version']}, newer than this medadapt "
            f"({medadapt.__version__}) reads; upgrade medadapt"
        )
    weights = directory / manifest["weights_file"]
    if not weights.is_file():
        raise AdapterFileError(f"{weights} is missing; copy the whole adapter directory")
    size = weights.stat().st_size
    if size != manifest["weights_bytes"]:
        raise AdapterFileError(
            f"{weights} is truncated or altered: {size} bytes, the manifest says "
            f"{manifest['weights_bytes']}; copy the adapter again"
        )
    if sha256_file(weights) != manifest["weights_sha256"]:
        raise AdapterFileError(
            f"{weights} does not match its checksum (tampered or corrupted); copy the adapter "
            "again from its source"
        )
    return manifest


_FIELD_TYPES = {
    "format_version": int,
    "weights_file": str,
    "weights_bytes": int,
    "weights_sha256": str,
    "base_fingerprint": dict,
}


def _check_field_types(manifest: dict[str, Any], path: Path) -> None:
    """A manifest with a valid checksum can still have been written wrong by another tool."""
    for key, kind in _FIELD_TYPES.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise AdapterFileError(
                f"{path} has no valid {key!r} (expected {kind.__name__}, got "
                f"{type(value).__name__}); re-export the adapter with medadapt"
            )
    if "/" in manifest["weights_file"] or manifest["weights_file"].startswith("."):
        raise AdapterFileError(f"{path} names a weights file outside its directory; re-export it")


def check_base(manifest: dict[str, Any], actual: BaseFingerprint, where: str) -> None:
    """Refuse an adapter whose recorded base model differs from ``actual``."""
    recorded = BaseFingerprint.from_dict(manifest["base_fingerprint"])
    if recorded.architecture != actual.architecture:
        same = (recorded.model_class, recorded.n_parameters) == (
            actual.model_class,
            actual.n_parameters,
        )
        raise AdapterFileError(
            f"{where} was trained on a different model architecture ({recorded.model_class}, "
            f"{recorded.n_parameters} parameters) than the one loaded ({actual.model_class}, "
            f"{actual.n_parameters}"
            + (
                ": same size, other parameter names or dtypes); load the base model it was "
                "trained on, in the dtype it was saved from (e.g. not after .half() or "
                ".to(torch.bfloat16): cast the AdapterModel after loading)"
                if same
                else "); load the base model it was trained on"
            )
        )
    if recorded.weights != actual.weights:
        raise AdapterFileError(
            f"{where} was trained on base weights {recorded.weights[:12]}, but the loaded base "
            f"has {actual.weights[:12]}; load the base model it was trained on"
        )


def load_adapter(
    model: AdapterCore,
    directory: str | Path,
    *,
    name: str | None = None,
    check_base_model: bool = True,
) -> str:
    """Load the adapter in ``directory`` into ``model``; returns its name (not activated)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if check_base_model:
        check_base(manifest, model.refresh_fingerprint(), f"adapter {manifest['name']!r}")
    name = name or manifest["name"]
    config = config_from_dict(manifest["config"])
    try:
        tensors: dict[str, torch.Tensor] = load_file(str(directory / manifest["weights_file"]))
    except SafetensorError as exc:
        raise AdapterFileError(f"{directory / WEIGHTS} cannot be read: {exc}") from None
    model.add_adapter_at(name, config, manifest["layers"])
    try:
        model.load_adapter_state_dict(name, tensors)
    except MedadaptError as exc:
        model.delete_adapter(name)
        raise AdapterFileError(f"{directory}: {exc}") from None
    _keep_record(model, name, manifest, directory)
    return name


#: where a split summary names the file of its rows' hashes: tables, images, older images
SPLIT_FILE_KEYS = ("positions_file", "keys_file", "indices_file")


def _keep_record(model: AdapterCore, name: str, manifest: dict[str, Any], directory: Path) -> None:
    """What the adapter was saved with (its manifest's metadata: figures, kept leaks; and the
    file its ``split`` names: the rows it trained on, as hashes), kept on ``model`` so that
    saving it again keeps its record (training it again drops the record)."""
    recorded = manifest.get("metadata")
    if not isinstance(recorded, dict) or not recorded:
        return
    trained_on = (manifest.get("base_fingerprint") or {}).get("weights")
    if trained_on != model.refresh_fingerprint().weights:  # loaded onto another base
        return  # (check_base_model=False): its figures are not this model's
    model.adapter_metadata[name] = dict(recorded)
    split = recorded.get("split")
    file = next((split.get(key) for key in SPLIT_FILE_KEYS if isinstance(split, dict)
                 and split.get(key)), None)  # fmt: skip
    if isinstance(file, str) and Path(file).name == file and (directory / file).is_file():
        model.adapter_files[name] = {file: (directory / file).read_bytes()}
    elif split is not None:  # named but not beside it: saved again, the record would lie
        del model.adapter_metadata[name]["split"]
