"""Short signals (``*.signals``) as a :class:`~medadapt.modalities.base.Modality`: what a third
kind of data has to say to medadapt. Splits are recorded by content key (a hash of each
recording's values), in the model's manifest for a base and in ``split.json`` for an adapter."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.errors import ConfigError, DataError
from medadapt.modalities.base import Modality, ModalityOptions, Reading, TrainingDefaults
from tests.toy_modality import source
from tests.toy_modality.source import CLASSES, LENGTH, SUFFIX, Signals

SPLIT_FILE = "split.json"


@dataclass(frozen=True)
class SignalOptions(ModalityOptions):
    """The signals' own option: how many values make one token."""

    patch: int | None = field(
        default=None,
        metadata={
            "help": "Values per token (divides the signal's length; default 8).",
            "verbs": ("train-base", "study"),
        },
    )

    def check(self, verb: str, **context: Any) -> SignalOptions:
        if self.patch is not None and (self.patch < 1 or LENGTH % self.patch):
            raise ConfigError(f"--patch must divide the signal's length {LENGTH}; got {self.patch}")
        return self


@dataclass(frozen=True)
class SignalSchema:
    classes: tuple[str, ...] = CLASSES
    task: str = "binary"

    def to_dict(self) -> dict[str, Any]:
        return {"classes": list(self.classes), "task": self.task}


class SignalModality(Modality):
    kind = "signals"
    title = "Signals"
    options = SignalOptions
    noun = "recordings"
    scope = "signals"
    source_name = "a signals file"
    sources = f"a {SUFFIX} file"
    defaults = TrainingDefaults(
        base={"lr": 3e-3, "batch_size": 64, "epochs": 60, "patience": 8},
        adapter={"lr": 5e-3, "batch_size": 32, "epochs": 60, "patience": 8},
        full={"lr": 1e-3, "batch_size": 32, "epochs": 60, "patience": 8},
    )
    threads = 1
    reports_epochs = False

    # ----- sources ---------------------------------------------------------------------------
    def recognises(self, data: Path, options: Any) -> bool:
        return Path(data).suffix == SUFFIX

    def read_training(self, data: Path, options: Any, reading: Reading) -> Signals:
        samples = source.read(data, group_column=reading.group_column)
        if reading.groups:
            if samples.groups is None:
                raise DataError("--groups needs --group-column to know which array holds them")
            return samples.subset(np.flatnonzero(np.isin(samples.groups, reading.groups)))
        return samples

    def fit_schema(self, train: Signals, options: Any, reading: Reading):
        return SignalSchema(), []

    def read_for_model(self, data: Path, base: Any, options: Any, *, group_column=None, **_):
        return source.read(data, group_column=group_column)

    def read_unlabelled(self, data: Path, base: Any, options: Any) -> Signals:
        return source.read(data, labelled=False)

    # ----- models ------------------------------------------------------------------------------
    def new_model(self, schema: SignalSchema, options: Any, seed: int):
        from tests.toy_modality.model import SignalTransformer

        patch = getattr(options, "patch", None) or 8
        return SignalTransformer(length=LENGTH, patch=patch, d_out=1)

    def rebuild(self, architecture: dict[str, Any]):
        from tests.toy_modality.model import SignalTransformer

        return SignalTransformer(**architecture)

    def schema_from_dict(self, data: dict[str, Any]) -> SignalSchema:
        return SignalSchema(tuple(data["classes"]), data["task"])

    def architecture(self, model) -> dict[str, Any]:
        return model.config

    def tensors(self, schema: SignalSchema, samples: Signals, *, with_labels: bool = True):
        import torch

        from medadapt.data.tensors import TensorData

        y = torch.as_tensor(samples.labels, dtype=torch.long)
        return TensorData({"signal": torch.from_numpy(samples.signal)}, y)

    def family(self, model) -> str:
        return "ft_transformer"  # its blocks and head are the FT-Transformer's

    def heads(self, model) -> tuple[str, ...]:
        return ("head.linear",)

    def task(self, schema: SignalSchema) -> str:
        return schema.task

    def scores(self, schema: SignalSchema, logits) -> np.ndarray:
        import torch

        return torch.sigmoid(logits[:, 0]).numpy()

    def training_record(self, schema: SignalSchema, samples: Signals) -> dict[str, Any]:
        counts = np.bincount(samples.labels, minlength=len(schema.classes))
        groups = None
        if samples.groups is not None:
            names, n = np.unique(samples.groups, return_counts=True)
            groups = {str(g): int(c) for g, c in zip(names, n, strict=True)}
        return {
            "n_recordings": len(samples),
            "groups": groups,
            "label_counts": dict(zip(schema.classes, map(int, counts), strict=True)),
        }

    def predictions(self, schema: SignalSchema, scores: np.ndarray, classes: Sequence[str] = ()):
        return {
            f"p_{schema.classes[1]}": scores,
            "predicted": np.where(scores >= 0.5, schema.classes[1], schema.classes[0]),
        }

    # ----- which recordings trained a model (by content key) -----------------------------------
    def _record(self, data: Path, samples: Signals, train, test, **extra: Any) -> dict[str, Any]:
        keys = samples.content_keys()
        return {
            "source_sha256": source.sha256(data),
            "n_train": len(train),
            "n_test": len(test),
            "train_keys": sorted({keys[i] for i in np.asarray(train).tolist()}),
            "test_keys": sorted({keys[i] for i in np.asarray(test).tolist()}),
            **extra,
        }

    def base_split(self, data: Path, samples: Signals, train, test, **extra: Any):
        return self._record(data, samples, train, test, **extra), {}

    def adapter_split(self, data: Path, samples: Signals, train, test, **extra: Any):
        record = self._record(data, samples, train, test, **extra)
        raw = json.dumps({k: record[k] for k in ("train_keys", "test_keys")}).encode()
        summary = {k: v for k, v in record.items() if not k.endswith("_keys")}
        summary.update(keys_file=SPLIT_FILE, keys_sha256=hashlib.sha256(raw).hexdigest())
        return summary, record, raw

    def read_split(self, directory: Path, summary: dict[str, Any], data: Path, kind: str, samples):
        if kind == "base" or "keys_file" not in summary:
            return summary
        path = Path(directory) / summary["keys_file"]
        if not path.is_file():
            return {**summary, "_unknown": True}
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != summary["keys_sha256"]:
            raise DataError(
                f"--adapter {directory}: its {path.name} does not match the checksum in "
                "adapter.json (changed or damaged); copy the adapter again or re-run adapt"
            )
        return {**summary, **json.loads(raw)}

    def same_source(self, record: dict[str, Any] | None, data: Path, samples: Signals) -> bool:
        return bool(record) and record.get("source_sha256") == source.sha256(data)

    def in_split(self, data: Path, samples: Signals, record, part: str) -> np.ndarray:
        wanted = set((record or {}).get(f"{part}_keys", ()))
        return np.array([k in wanted for k in samples.content_keys()], dtype=bool)
