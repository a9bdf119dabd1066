"""A saved base model: weights + everything needed to use them (``BASE`` directory).

``model.safetensors`` holds the weights; ``model.json`` holds the kind, the architecture (to
rebuild the module), the data schema, a training summary (counts only), the fingerprint and
the weights' checksum, and a checksum of the kind, architecture and schema (a hand edit of
them is refused on load); side files beside them (``split.json``: which rows trained it, as
hashes) are named and checksummed in the training summary. Written atomically; verified on
load.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import nn

import medadapt
from medadapt.adapters.fingerprint import BaseFingerprint, fingerprint_model
from medadapt.adapters.layer import adapter_layers, base_named_tensors
from medadapt.adapters.model import AdapterModel
from medadapt.adapters.state import MANIFEST as ADAPTER_MANIFEST
from medadapt.adapters.state import refuse_overwrite
from medadapt.errors import COPY_BASE_AGAIN, AdapterFileError, MedadaptError
from medadapt.fileio import (
    DESCRIPTION_SHA256,
    RECORD_SHA256,
    atomic_write,
    atomic_write_bytes,
    description_sha256,
    make_directory,
    manifest_edited,
    not_a_folder,
    read_json,
    record_sha256,
    sha256_file,
)
from medadapt.modalities.base import modality_of, registered

FORMAT = "medadapt-base"
MANIFEST = "model.json"
WEIGHTS = "model.safetensors"


def build_model(kind: str, architecture: dict[str, Any]) -> nn.Module:
    """Rebuild an (untrained) module from its architecture description, by its modality."""
    try:
        modality = modality_of(kind)
    except MedadaptError:
        raise AdapterFileError(f"unknown base model kind {kind!r}") from None
    return modality.rebuild(architecture)


@dataclass
class BaseModel:
    """A trained base model with its schema and a training summary."""

    model: nn.Module
    kind: str
    architecture: dict[str, Any]
    schema: Any
    training: dict[str, Any] = field(default_factory=dict)
    # written beside the manifest by save, under their names: the ``split.json`` that
    # ``training["split"]`` refers to (which rows trained it, as keyed hashes; never values)
    side_files: dict[str, bytes] = field(default_factory=dict, repr=False)
    # the AdapterModel load_adapter wrapped the network in (one per base: a network takes one)
    _adapted: AdapterModel | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _LIVE[id(self)] = self  # the Python API finds a network's base (base_of)

    def load_adapter(self, directory: str | Path, **kwargs: Any) -> AdapterModel:
        """The base network carrying the adapter saved in ``directory`` (by ``medadapt adapt``
        or ``save_adapter``), to score with ``ma.predict(model, base.schema, rows,
        adapter=name)``; ``name`` is the adapter's own (``model.adapter_names``). Each call
        adds to the same :class:`~medadapt.adapters.AdapterModel`, so several adapters load
        side by side (a trial's ``base.model.load_adapter(...)`` met the network's own
        AttributeError, with no word of the wrapper adapters load into); ``kwargs`` go to
        :meth:`AdapterModel.load_adapter <medadapt.adapters.AdapterModel.load_adapter>`."""
        if self._adapted is None:
            self._adapted = AdapterModel(self.model)
        self._adapted.load_adapter(directory, **kwargs)
        return self._adapted

    @property
    def fingerprint(self) -> BaseFingerprint:
        return fingerprint_model(self.model)

    def __repr__(self) -> str:
        """A line a notebook can read (a trial's ``print(base)`` listed the whole network):
        the kind, the network's class and size, what it predicts and how many samples
        trained it; ``base.model`` shows the network."""
        label = getattr(self.schema, "label", None)
        classes = getattr(self.schema, "classes", None)
        predicts = f", predicts {label!r}" if label else ""
        if classes:
            shown = ", ".join(map(str, list(classes)[:5])) + (", ..." if len(classes) > 5 else "")
            predicts += f" ({shown})"
        own = base_named_tensors(self.model)  # not an adapter's, where one wraps the network
        size = sum(t.numel() for _, t in own if isinstance(t, nn.Parameter))
        trained, held = self.training.get("n_train"), self.training.get("n_val")
        rows = f", trained on {trained}" if trained is not None else ""
        if rows and held:  # a trial read "trained on 113" of 147 rows as 34 left unused
            rows += f" ({held} more for early stopping)"
        return (f"BaseModel({self.kind}: {type(self.model).__name__}, {size:,} parameters"
                f"{predicts}{rows})")  # fmt: skip

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write the model to ``directory``; returns the directory. A directory that already
        holds a base model, or any other file, is refused unless ``overwrite`` (as the command
        line refuses it without ``--force``)."""
        refuse_overwrite(directory, MANIFEST, "a base model", overwrite=overwrite,
                         foreign={ADAPTER_MANIFEST: "an adapter"})  # fmt: skip
        tensors = _base_tensors(self.model)  # before any folder is made: it may refuse
        directory = make_directory(directory, "the base model")
        atomic_write(
            directory / WEIGHTS,
            lambda tmp: save_file(tensors, str(tmp), metadata={"format": FORMAT}),
        )
        manifest = {
            "format": FORMAT,
            "kind": self.kind,
            "architecture": self.architecture,
            "schema": self.schema.to_dict(),
            "training": self.training,
            "fingerprint": self.fingerprint.to_dict(),
            "weights_sha256": sha256_file(directory / WEIGHTS),
            "medadapt_version": medadapt.__version__,
        }
        manifest[DESCRIPTION_SHA256] = description_sha256(json.loads(json.dumps(manifest)))
        manifest[RECORD_SHA256] = record_sha256(json.loads(json.dumps(manifest)))
        for name, raw in self.side_files.items():  # before the manifest that refers to them
            atomic_write_bytes(directory / name, raw)
        atomic_write_bytes(directory / MANIFEST, json.dumps(manifest, indent=2).encode())
        return directory

    @classmethod
    def load(
        cls, directory: str | Path, *, check_fingerprint: bool = True, flag: str | None = None
    ) -> BaseModel:
        """The base model in ``directory``, verified: its manifest's fields, the weights'
        checksum, and the fingerprint of the weights as loaded (one-line errors naming the
        folder; ``flag``: the command-line option that gave it, ``--base``, named instead)."""
        directory = Path(directory)
        named = f"{flag} {directory}" if flag else f"base model folder {str(directory)!r}"
        path = directory / MANIFEST
        point = base_folder_hint(directory, flag)
        manifest = read_json(
            path,
            missing=f"{named} {not_a_folder(directory) or f'holds no {MANIFEST}'}: {point}",
            invalid=f"{named}: {MANIFEST} is not valid JSON (truncated or edited); "
            f"{COPY_BASE_AGAIN}",
        )
        _check_manifest(manifest, path, named)
        edited = manifest_edited(manifest)
        if edited:
            raise AdapterFileError(f"{named}: {edited}; {COPY_BASE_AGAIN}, or retrain it")
        weights = directory / WEIGHTS
        if not weights.is_file() or sha256_file(weights) != manifest["weights_sha256"]:
            raise AdapterFileError(
                f"{named}: {WEIGHTS} is missing or does not match its checksum; copy the base "
                "model again"
            )
        try:
            model = build_model(manifest["kind"], manifest["architecture"])
            model.load_state_dict(load_file(str(weights)))
            schema = modality_of(manifest["kind"]).schema_from_dict(manifest["schema"])
        except (TypeError, KeyError, ValueError, RuntimeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise AdapterFileError(
                f"{named}: {MANIFEST} does not describe its weights ({reason}); copy the base "
                "model again"
            ) from None
        model.eval()
        actual = fingerprint_model(model).to_dict()
        if check_fingerprint and actual != manifest["fingerprint"]:
            raise AdapterFileError(
                f"{named}: the weights hash to base weights {actual['weights'][:12]}, "
                f"but {MANIFEST} says {str(manifest['fingerprint'].get('weights'))[:12]} "
                f"(tampered); {COPY_BASE_AGAIN}"
            )
        training = manifest.get("training", {})
        return cls(
            model=model,
            kind=manifest["kind"],
            architecture=manifest["architecture"],
            schema=schema,
            training=training,
            side_files=_side_files(directory, training),
        )


_LIVE: weakref.WeakValueDictionary[int, BaseModel] = weakref.WeakValueDictionary()
_COPIES: weakref.WeakKeyDictionary[nn.Module, BaseModel] = weakref.WeakKeyDictionary()


def note_copy(network: nn.Module, base: BaseModel) -> None:
    """``network`` is a copy of ``base``'s (an adapter's frozen base): :func:`base_of` finds
    ``base`` from it."""
    _COPIES[network] = base


def base_of(network: nn.Module) -> BaseModel | None:
    """The live base model whose network ``network`` is (or a copy of, :func:`note_copy`), so
    that the Python API's ``predict`` finds which rows trained it; None when unknown (a
    network built or loaded by hand)."""
    for base in list(_LIVE.values()):
        if base.model is network:
            return base
    return _COPIES.get(network)


def _side_files(directory: Path, training: dict[str, Any]) -> dict[str, bytes]:
    """The side file ``training["split"]`` names (``rows_file``), as found beside the model,
    so that saving a loaded model elsewhere copies it (read and checked where it is used)."""
    split = training.get("split")
    name = split.get("rows_file") if isinstance(split, dict) else None
    if not isinstance(name, str) or Path(name).name != name or not (directory / name).is_file():
        return {}
    return {name: (directory / name).read_bytes()}


_FIELDS = {
    "kind": str,
    "architecture": dict,
    "schema": dict,
    "fingerprint": dict,
    "weights_sha256": str,
}


def _check_manifest(manifest: Any, path: Path, named: str) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise AdapterFileError(f"{named}: {path.name} is not a medadapt base model")
    wrong = [k for k, kind in _FIELDS.items() if not isinstance(manifest.get(k), kind)]
    if wrong:
        raise AdapterFileError(
            f"{named}: {path.name} lacks or garbles {', '.join(wrong)}; {COPY_BASE_AGAIN}"
        )
    if manifest["kind"] not in [m.kind for m in registered()]:
        raise AdapterFileError(f"{named}: {path.name} has unknown kind {manifest['kind']!r}")
    if not isinstance(manifest.get("training", {}), dict):
        raise AdapterFileError(f"{named}: {path.name} has a garbled training record")


REGISTRY_INDEX = "registry.sqlite"
"""The file that makes a folder a registry (``registry.db.INDEX``, a layer above: a test keeps
them equal), named where a registry is given as a base model."""


def base_folder_hint(directory: Path, flag: str | None = None) -> str:
    """What to pass instead of ``directory``, which holds no base model: the base inside a
    federated run's folder, the base an adapter's folder records it adapts, else a folder
    ``train-base`` wrote (``flag``: the command-line option that gave it, ``--base``)."""
    import shlex

    option = f"{flag} " if flag else ""
    if (directory / REGISTRY_INDEX).is_file():
        return (
            f"{directory} is a registry, not a base model: 'medadapt serve --registry "
            f"{shlex.quote(str(directory))}' serves its versions; to evaluate or predict with "
            "one, export it with its base ('medadapt registry --root DIR export NAME@N "
            "--with-base -o version.tar.gz'), unpack it ('tar xzf version.tar.gz -C received') "
            f"and pass {option}received/base --adapter received/adapter"
        )
    inside = directory / "base"
    if (inside / MANIFEST).is_file():
        return (f"{directory} is a federated run's folder; its base model is {inside}: pass "
                f"{option}{shlex.quote(str(inside))}")  # fmt: skip
    if not (directory / ADAPTER_MANIFEST).is_file():
        return (f"point {flag} at a directory written by 'medadapt train-base'" if flag else
                "pass a folder written by BaseModel.save() or 'medadapt train-base'")  # fmt: skip
    federated = (directory / "federated.json").is_file()
    what = ("a federated run's folder (its adapter and federated.json)" if federated
            else "an adapter (adapter.json)")  # fmt: skip
    try:
        recorded = json.loads((directory / ADAPTER_MANIFEST).read_text())["metadata"]
        trained_on = Path(recorded["base_model"]["path"])
    except (OSError, ValueError, KeyError, TypeError):
        trained_on = None
    if trained_on is not None and (trained_on / MANIFEST).is_file():
        point = (
            f"it adapts the base model in {trained_on}: pass {option}{shlex.quote(str(trained_on))}"
        )
    else:
        written = "'medadapt train-base'" if flag else "BaseModel.save() or 'medadapt train-base'"
        point = f"pass the base model it adapts (a folder written by {written})"
    return f"{directory} is {what}, not a base model; {point}"


def _base_tensors(model: nn.Module) -> dict[str, Any]:
    """The base network's own weights under their own names, to save: where ``AdapterModel``
    wrapped it in place (``ma.AdapterModel(base.model)``, as the README loads adapters), not
    the adapters' nor the wrapped names (a trial's ``base.save`` then wrote weights that
    ``BaseModel.load`` could not read). Merged adapters are in the weights: refused."""
    layers = [layer for _, layer in adapter_layers(model)]
    merged = sorted({name for layer in layers for name in layer.merged})
    if merged:
        raise MedadaptError(
            f"the base model's weights hold merged adapters ({', '.join(map(repr, merged))}): "
            "call unmerge() on its AdapterModel before saving the base"
        )
    named = base_named_tensors(model) if layers else model.state_dict().items()
    return {k: v.detach().cpu().contiguous() for k, v in named}
