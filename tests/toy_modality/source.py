"""The ``*.signals`` source: a NumPy ``.npz`` archive (under its own suffix) with ``signal``
(N, LENGTH) float32, ``label`` (N,) 0/1, ``patient`` (N,) text and any group arrays (``site``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medadapt.errors import DataError
from medadapt.modalities.base import Samples

SUFFIX = ".signals"
LENGTH = 32
CLASSES = ("normal", "abnormal")


def write_signals(path: Path, *, sites: dict[str, float], per_site: int, seed: int) -> Path:
    """A synthetic source: per site, ``per_site`` recordings (one per patient); an abnormal
    recording carries a bump whose height is the site's value (a site where it is small is
    harder, as a new hospital's device can make it)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, LENGTH, dtype=np.float32)
    signals, labels, site_names, patients = [], [], [], []
    for site, bump in sites.items():
        label = rng.integers(0, 2, per_site)
        wave = np.sin(2 * np.pi * rng.uniform(2, 4, (per_site, 1)) * t)
        shape = np.exp(-((t - rng.uniform(0.3, 0.7, (per_site, 1))) ** 2) / 0.005)
        noise = rng.normal(0, 0.4, (per_site, LENGTH))
        signals.append((wave + label[:, None] * bump * shape + noise).astype(np.float32))
        labels.append(label)
        site_names += [site] * per_site
        patients += [f"{site}-{i}" for i in range(per_site)]
    with open(path, "wb") as out:
        np.savez(
            out,
            signal=np.concatenate(signals),
            label=np.concatenate(labels),
            site=np.array(site_names),
            patient=np.array(patients),
        )
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Signals(Samples):
    """Recordings in memory: each with its label, groups, patient and content key (a hash of
    its values, so that a recording is recognised in any file that holds it)."""

    def __init__(
        self,
        signal: np.ndarray,
        label: np.ndarray | None,
        groups: np.ndarray | None,
        patient: np.ndarray,
    ) -> None:
        self.signal, self.label, self._groups, self.patient = signal, label, groups, patient
        self.notes: list[str] = []

    def __len__(self) -> int:
        return len(self.signal)

    @property
    def labels(self) -> np.ndarray:
        return self.label if self.label is not None else np.zeros(len(self), dtype=np.int64)

    @property
    def groups(self) -> np.ndarray | None:
        return self._groups

    def patients(self) -> np.ndarray:
        return self.patient

    def subset(self, indices: Sequence[int] | np.ndarray) -> Signals:
        i = np.asarray(indices, dtype=np.int64)
        pick = lambda a: None if a is None else a[i]  # noqa: E731
        return Signals(self.signal[i], pick(self.label), pick(self._groups), self.patient[i])

    def content_keys(self) -> list[str]:
        return [hashlib.sha256(row.tobytes()).hexdigest()[:24] for row in self.signal]


def read(path: Path, *, group_column: str | None = None, labelled: bool = True) -> Signals:
    """The recordings of ``path``, refused with the flag to fix when they are not usable."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"--data {path} is not a signals archive ({error})") from None
    with archive:
        if "signal" not in archive or archive["signal"].ndim != 2:
            raise DataError(f"--data {path} has no 'signal' array of shape (N, {LENGTH})")
        signal = archive["signal"].astype(np.float32)
        if signal.shape[1] != LENGTH:
            raise DataError(f"--data {path}: signals of {signal.shape[1]} values, not {LENGTH}")
        if labelled and "label" not in archive:
            raise DataError(f"--data {path} has no 'label' array; use 'medadapt predict'")
        label = archive["label"].astype(np.int64) if "label" in archive else None
        groups = None
        if group_column is not None:
            if group_column not in archive:
                raise DataError(f"--group-column {group_column!r} is not an array of --data {path}")
            groups = archive[group_column].astype(str)
        patient = (
            archive["patient"].astype(str)
            if "patient" in archive
            else np.array([str(i) for i in range(len(signal))])
        )
    return Signals(signal, label, groups, patient)
