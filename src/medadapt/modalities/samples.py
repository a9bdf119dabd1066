"""What a modality reads and how it is configured: :class:`Samples` (labelled samples of one
source), :class:`Reading` (what the shared options say about a source),
:class:`ModalityOptions` (a modality's own options) and :class:`TrainingDefaults`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TrainingDefaults:
    """How a modality's models train by default (the loop itself is shared, in
    :mod:`medadapt.train`): ``base``, ``adapter`` and ``full`` are the fields of a
    :class:`~medadapt.train.loop.TrainConfig` (lr, batch_size, epochs, patience ...)."""

    base: dict[str, Any]
    adapter: dict[str, Any]
    full: dict[str, Any]
    val_fraction_base: float = 0.15
    val_fraction_adapter: float = 0.2
    min_samples_for_validation: int = 20
    fixed_epochs_without_validation: int = 40


@dataclass(frozen=True)
class Reading:
    """What the shared options say about a source: its label, group and patient columns and
    the groups wanted."""

    label: str | None = None
    group_column: str | None = None
    groups: tuple[str, ...] = ()
    id_column: str | None = None
    groups_flag: str = "--groups"  # the flag that named ``groups``, in its errors


def names(value: str | Sequence[str] | None) -> list[str]:
    """``"A,B"`` -> ``["A", "B"]`` (a list is kept as it is; None -> [])."""
    if value is None:
        return []
    if not isinstance(value, str):
        return list(value)
    return [part.strip() for part in value.split(",") if part.strip()]


class Samples(ABC):
    """Labelled samples of one source, read for one model.

    ``labels`` are class indices (classification) or targets in their unit (regression);
    ``groups`` one text per sample (None: the source has no group column); ``patients`` the
    keys that must stay on one side of a split; ``content_keys`` what recognises a sample in
    any file that holds it (hashes, never values); ``notes`` what the reader found in the
    source's values (numbers read as missing ...), one sentence each, kept by every subset
    (every command shows them, whichever samples it uses).
    """

    notes: Sequence[str] = ()

    @abstractmethod
    def __len__(self) -> int: ...

    @property
    @abstractmethod
    def labels(self) -> np.ndarray: ...

    @property
    @abstractmethod
    def groups(self) -> np.ndarray | None: ...

    @abstractmethod
    def patients(self) -> np.ndarray: ...

    @abstractmethod
    def subset(self, indices: Sequence[int] | np.ndarray) -> Samples: ...

    def contents(self) -> np.ndarray | None:
        """One key per sample, equal for samples of identical content (None: not known), so
        that a test sample identical to a training one can be left out."""
        return None

    def known_patients(self) -> np.ndarray | None:
        """Each sample's patient where the source names it (an id column, DICOM PatientID),
        so that a patient's samples are resampled together in every interval; None where it
        does not (each sample then counts as its own patient). Unlike :meth:`patients`,
        identical content is no patient: two rows alike may be two patients."""
        return None

    def group_column_advice(self, groups: Sequence[str] = ()) -> str:
        """How to name the groups of data read without a group column (``--group`` refused:
        "needs a group column: ..."; ``groups``: the values asked for)."""
        return ("pass --group-column COL naming the column that holds the site or group"
                + self.group_column_hint(groups))  # fmt: skip

    def group_column_hint(
        self, groups: Sequence[str] = (), *, say_flag: bool = True, holding_only: bool = False
    ) -> str:
        """A clause naming the source's column that holds ``groups`` (or, but with
        ``holding_only``, is named like a site's), where it shows one; empty by default."""
        return ""

    def unlabelled_group(self, groups: Sequence[str]) -> str | None:
        """Why the first of ``groups`` is not among the samples where it is because none of
        its samples has a label (left out before any group was chosen: said as such, not as
        "not found"), else None."""
        return None

    def reading_note(self) -> str | None:
        """How the source was read where that is not its plain form (a table's separator and
        decimal commas, :func:`~medadapt.data.tables.reading_note`), names only; else None."""
        return None

    def skipped_files(self) -> list[dict[str, str]]:
        """The source's files left out as unreadable (``--on-error skip``): ``{"path",
        "reason"}`` each, for the terminal and ``--json`` only (a model stores their count)."""
        return []

    def class_counts(self, classes: Sequence[str]) -> dict[str, int]:
        counts = np.bincount(np.asarray(self.labels, dtype=int), minlength=len(classes))
        return {c: int(n) for c, n in zip(classes, counts, strict=True)}

    def fingerprint(self) -> bytes:
        """Bytes that change when any sample or label changes (a resumed study checks it)."""
        import hashlib

        digest = hashlib.sha256(np.asarray(self.labels).tobytes())
        digest.update("\n".join(map(str, self.patients())).encode())
        return digest.digest()


#: the help of the training options every modality declares (one flag, one text)
EPOCHS_HELP = (
    "Most epochs to train (early stopping on validation decides within it; default: tables "
    "200, images their method's; study, images: every model exactly this many)."
)
PATIENCE_HELP = (
    "Epochs without a better validation loss before early stopping ends training (default: "
    "tables 16; images 8 at train-base, 12 for an adapter)."
)


@dataclass(frozen=True)
class ModalityOptions:
    """Base of a modality's command-line options: one dataclass field per option, with
    ``metadata={"help": ..., "verbs": (...)}`` (flag ``--field-name``)."""

    def check(self, verb: str, **context: Any) -> ModalityOptions:
        """Refuse values out of range, naming the flag (before any work); returns self."""
        return self

    def subgroup_columns(self) -> list[str]:
        """The columns of the data whose values ``evaluate`` reports its metrics by too
        (``--subgroups``: a table's; data without columns has none)."""
        return []

    def given(self) -> dict[str, Any]:
        """The options set to something other than their default, by flag."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default and not unset(value):
                out[flag_of(f.name)] = value
        return out

    def shaping_a_new_base(self) -> dict[str, Any]:
        """The given options that only shape a new base model (``train-base`` takes them,
        ``adapt`` does not), by flag: with an existing base they would change nothing."""
        given = self.given()
        return {flag_of(f.name): given[flag_of(f.name)] for f in fields(self)
                if flag_of(f.name) in given and "train-base" in f.metadata.get("verbs", ())
                and "adapt" not in f.metadata.get("verbs", ())}  # fmt: skip


def unset(value: Any) -> bool:
    """Whether an option's value means "not given" (None, False, empty); 0 is a value."""
    return value is None or value is False or (isinstance(value, tuple | list) and not value)


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")
