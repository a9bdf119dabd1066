"""The samples ``adapt`` trains and tests on: one group's samples read against the base model,
split so that test samples come only from patients the base never saw and training samples
never from the base's test split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data.splits import nested_fraction
from medadapt.errors import DataError
from medadapt.modalities.base import Modality, Samples
from medadapt.modalities.bundle import BaseModel
from medadapt.workflows.splitting import (
    adapter_split,
    adapter_test_near_copies,
    base_split_warnings,
    never_seen,
    select,
    shared_patients_warning,
)


@dataclass
class GroupSamples:
    """The samples read for an adaptation and how they are used: which train the adapter,
    which test it, and which the base model saw."""

    samples: Samples
    group_column: str | None
    chosen: np.ndarray  # positions of the requested group
    seen: np.ndarray  # per sample: the base model trained on it
    base_test: np.ndarray  # per sample: in the base's test split (kept out of training)
    used: np.ndarray  # training positions left after --train-fraction
    test_idx: np.ndarray
    train: Samples
    test: Samples
    where: str
    notes: list[str]  # the base's training samples this data cannot recognise, or unrecorded

    @property
    def unseen(self) -> Samples:
        """The training and test samples the base model never trained on, in the file's
        order (as ``check-data`` scores them: the same resamples give the same interval)."""
        both = np.sort(np.concatenate([self.used, self.test_idx]))
        return self.samples.subset(never_seen(self.samples, both, self.seen))

    @property
    def n_seen(self) -> int:
        """How many of the group's samples trained the base model."""
        return int(self.seen[self.chosen].sum())


def pick_samples(
    modality: Modality,
    base: BaseModel,
    base_dir: Path,
    data: Path,
    options: Any,
    new_classes: Sequence[str],
    *,
    label: str | None,
    group_column: str | None,
    group: str | None,
    train_fraction: float,
    test_fraction: float,
    seed: int,
) -> GroupSamples:
    """Read ``data``, choose ``group``'s samples and split them: test samples only from
    patients the base never saw, training ones never from the base's test split."""
    classes = modality.grown_classes(base.schema, new_classes)
    samples = modality.read_for_model(
        data,
        base,
        options,
        classes=classes,
        group_column=group_column,
        label=label,
        groups=[group] if group else None,
    )
    group_column = getattr(getattr(samples, "info", None), "group_column", group_column)
    chosen = select(samples, group_column, [group] if group else None, what="--group")
    where = f"{group_column} = {group}" if group else str(data)
    split = split_group(modality, base, base_dir, data, samples, chosen, where=where,
                        test_fraction=test_fraction, seed=seed)  # fmt: skip
    used = nested_fraction(split.train, modality.strata(samples), fraction=train_fraction,
                           seed=seed, patients=samples.patients())  # fmt: skip
    return GroupSamples(
        samples, group_column, chosen, split.seen, split.base_test, used, split.test,
        train=samples.subset(used), test=samples.subset(split.test), where=where,
        notes=split.unrecognised,
    )  # fmt: skip


@dataclass(frozen=True)
class GroupSplit:
    """How ``adapt`` splits a group's samples (indices into the samples read)."""

    seen: np.ndarray  # per sample: the base model trained on it
    base_test: np.ndarray  # per sample: in the base's test split (kept out of training)
    train: np.ndarray
    test: np.ndarray
    why_no_test: str | None = None  # lenient: why no sample can test the adapter
    # the base's training samples that cannot be recognised here (absent columns) or were
    # never recorded: unrecognised_warning's and unrecorded_base_warning's
    unrecognised: list[str] = field(default_factory=list)


def split_group(
    modality: Modality,
    base: BaseModel,
    base_dir: Path,
    data: Path,
    samples: Samples,
    chosen: np.ndarray,
    *,
    where: str,
    test_fraction: float,
    seed: int,
    lenient: bool = False,
) -> GroupSplit:
    """``chosen`` split as ``adapt`` splits it: test samples only of patients the base never
    saw, training ones never from the base's test split. ``lenient`` (``check-data``): too few
    unseen patients leave the test empty, saying why, instead of refusing."""
    base_split = modality.read_split(base_dir, base.training.get("split") or {}, data, "base",
                                     samples)  # fmt: skip
    seen = modality.in_split(data, samples, base_split, "train")
    why = None
    try:
        train, test = adapter_split(
            modality, samples, chosen, seen, test_fraction=test_fraction, seed=seed, where=where
        )
    except DataError as error:
        if not lenient:
            raise
        train, test, why = chosen, chosen[:0], str(error)
    base_test = np.zeros(len(samples), dtype=bool)
    if modality.base_test_stays_clean:  # kept for the old classes' retention test
        base_test = modality.in_split(data, samples, base_split, "test")
        train = train[~base_test[train]]
    near = adapter_test_near_copies(modality, data, samples, base_split, train, test)
    near = shared_patients_warning(modality, samples, chosen, seen, where) + near
    scored = f"the adapter's test {modality.noun}"
    hidden = near + base_split_warnings(
        modality, base, base_split, scored, instead="adapt only on",
        figures="the figures on them (the adapter's, and the base model's alone on the same "
        "patients)",
    )  # fmt: skip
    return GroupSplit(seen, base_test, train, test, why, hidden)


def one_class_refusal(
    modality: Modality, schema: Any, labels: Any, where: str, group: str | None
) -> str | None:
    """Why ``adapt`` refuses training samples (``labels``) of one class only, with the fix
    (naming ``--group`` only where one was given); None where there are two classes or more.
    ``check-data`` says it before any training (a trial's check-data on a one-class site
    said only that the criteria do not apply)."""
    only = modality.only_class(schema, labels)
    if only is None:
        return None
    noun = modality.noun
    fix = (f"pick a --group with more than one class or add {noun} to --data" if group
           else f"add {noun} of another class to --data")  # fmt: skip
    return (f"the training {noun} of {where} have {modality.one_class_words(schema, only)}; "
            f"an adapter needs at least two classes: {fix}")  # fmt: skip
