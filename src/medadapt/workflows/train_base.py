"""``train-base`` for every modality: read, split by patient, train, score the held-out part,
record which samples trained the model (as the modality records them), save."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.errors import DataError
from medadapt.evaluate.metrics import MIN_PATIENTS, MIN_PER_CLASS
from medadapt.evaluate.small_cells import mask_subgroups
from medadapt.evaluate.sufficiency import count_patients, new_model_note
from medadapt.fileio import atomic_write_bytes
from medadapt.modalities.base import (
    Modality,
    Reading,
    Samples,
    modality_for_data,
    modality_of,
    registered,
)
from medadapt.modalities.bundle import BaseModel
from medadapt.results import BASE_ROWS, with_kept_leaks
from medadapt.train.fitting import train_base, training_config_for
from medadapt.workflows.scoring import evaluate_model

Progress = Callable[[str], None] | None


def epoch_reporter(progress: Progress, what: str | None = None):
    """``on_epoch`` callback that shows the losses in the progress line."""
    if progress is None:
        return None
    label = f" ({what})" if what else ""

    def report(epoch: int, train_loss: float, val_loss: float | None) -> None:
        val = "" if val_loss is None else f", validation {val_loss:.3f}"
        progress(f"epoch {epoch}{label}: loss {train_loss:.3f}{val}")

    return report


def _modality(modality: Modality | str | None, data: Path, options: Any) -> Modality:
    if isinstance(modality, Modality):
        return modality
    if modality is not None:
        return modality_of(modality)
    for candidate in registered():
        if options is not None and isinstance(options, candidate.options):
            return candidate
    return modality_for_data(data, {m.kind: m.options() for m in registered()})


def train_base_job(
    *,
    data: Path,
    out: Path,
    modality: Modality | str | None = None,
    options: Any = None,
    label: str | None = None,
    group_column: str | None = None,
    groups: Sequence[str] = (),
    id_column: str | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    n_boot: int = 1000,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train a base model on ``groups`` of ``data`` (every sample without groups); hold out
    ``test_fraction`` of its patients and score the model on them. ``modality``: a registered
    modality or its kind; by default, the one that recognises ``data``."""
    modality = _modality(modality, data, options)
    options = options if options is not None else modality.options()
    reading = Reading(label, group_column, tuple(groups), id_column)
    samples, train_idx, test_idx = _read_and_split(
        modality, data, options, reading, test_fraction=test_fraction, seed=seed, progress=progress
    )
    train, test = samples.subset(train_idx), samples.subset(test_idx)
    _refuse_held_out_most(train, test, test_fraction, modality.noun)
    schema, warnings = modality.fit_schema(train, options, reading)  # (training copies said)
    warnings += modality.copies_warning(test, held_out=True)
    warnings += modality.sample_notes(schema, samples)
    if modality.task(schema) != "regression":
        counts = train.class_counts(modality.classes(schema))
        warnings += [n for n in [new_model_note(counts, modality.n_features(schema),
                                                modality.noun)] if n]  # fmt: skip
        held = test.class_counts(modality.classes(schema))
        warnings += [n for n in [held_out_note(counts, held, test_fraction, modality.noun)] if n]
        if modality.n_features(schema) is None:  # images: no events-per-feature rule to say it
            warnings += [n for n in [few_base_patients_note(train, modality.classes(schema),
                                                            modality.noun)] if n]  # fmt: skip
    base = _train(modality, schema, train, options, seed=seed, progress=progress)
    evaluation, _ = evaluate_model(
        modality, base.model, schema, test, group_column=group_column, n_boot=n_boot, seed=seed
    )
    extra = {"seed": seed, "test_fraction": test_fraction, "groups": list(groups)}
    extra.update(modality.split_extras(options))
    record, side_files = modality.base_split(data, samples, train_idx, test_idx, **extra)
    skipped = samples.skipped_files()
    allowed = modality.kept_leaks(schema, train, options)  # every later result repeats them
    label = getattr(schema, "label", None)
    base.training.update(
        split=record,
        test_metrics=with_kept_leaks(evaluation["overall"], allowed, label, whose=BASE_ROWS),
        **modality.base_training_extras(schema, evaluation, skipped),
        **({"allowed_leaks": allowed} if allowed else {}),
        **({"warnings": warnings} if warnings else {}),  # what it said of its data, kept
    )
    _save(out, base, side_files)
    return {
        "base": str(out),
        "kind": modality.kind,
        "task": modality.task(schema),
        "classes": modality.classes(schema),
        "n_train": base.training["n_train"],
        "n_val": base.training["n_val"],
        "epochs_run": base.training.get("epochs"),
        "epochs_asked": getattr(options, "epochs", None),  # --epochs, where given
        "best_epoch": base.training.get("best_epoch"),
        "val_loss_measured": base.training.get("val_loss_measured"),
        "n_test": len(test),
        "warnings": warnings,
        "skipped_files": skipped,
        "feature_cache": base.training.get("feature_cache"),
        "patients_unnamed": modality.patients_unnamed(samples),  # each sample its own patient
        # some of them (pictures beside DICOM files with a PatientID): a trial's mixed folder
        # had no note where 80 of its 86 images were each counted as a patient
        "unnamed_patient_samples": modality.unnamed_patient_samples(samples),
        "n_read": len(samples),
        "read_as": samples.reading_note(),  # a table's separator and decimal commas
        **modality.describe_base(schema, base),
        # small cells masked, as evaluate's and the study's are (a trial's base.json held
        # "n 6, n_positive 1" for one site)
        "test": {**evaluation, "subgroups": mask_subgroups(evaluation["subgroups"])},
    }


def few_base_patients_note(train: Any, classes: Sequence[str], noun: str) -> str | None:
    """train-base's warning when a class has fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` patients (or ``noun``, where none are
    named) among those the base trains on: a trial's CT base on 3 patients a class was saved
    without a word, where ``adapt`` on the same images warned. None otherwise."""
    counted = count_patients(train, classes, noun)
    rare = {c: n for c, n in counted.per_class.items() if 0 < n < MIN_PER_CLASS}
    if not rare:
        return None
    who = counted.noun
    named = ", ".join(f"{c!r} ({n})" for c, n in sorted(rare.items()))
    return (
        f"the base trains on fewer than {MIN_PER_CLASS} {who} of class {named}, of "
        f"{counted.total} {who} in all: a model trained on so few is likely to be overfitted "
        f"to them, and its test figures cannot show how it does elsewhere; collect more {noun}"
    )


def _refuse_held_out_most(train: Samples, test: Samples, test_fraction: float, noun: str) -> None:
    """Refuse a ``--test-fraction`` that holds out more patients than it leaves to train the
    base on, and leaves fewer than :data:`~medadapt.evaluate.metrics.MIN_PATIENTS` (a trial's
    0.99 trained a base on 2 rows, saved it, and printed those two patients' outcomes)."""
    trained, held = count_patients(train, (), noun), count_patients(test, (), noun)
    if trained.total >= MIN_PATIENTS or held.total <= trained.total:
        return
    who = held.noun if held.by_patient else trained.noun  # one unit for both counts
    raise DataError(
        f"--test-fraction {test_fraction:g} holds out {held.total} of the "
        f"{trained.total + held.total} {who} and leaves {trained.total} to train the base model "
        f"on, fewer than {MIN_PATIENTS}: lower --test-fraction (0.2 keeps four fifths to train "
        "on)"
    )


def held_out_note(
    trained: dict[str, int], held: dict[str, int], test_fraction: float, noun: str
) -> str | None:
    """train-base's warning when ``--test-fraction`` leaves a class fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` training ``noun`` while holding out more
    of it (``trained``, ``held``: per class, the training and the held-out counts): the base
    learns next to nothing, and its test figures are those of a model trained on a handful.
    None otherwise (a class that has few in all is said where it is read)."""
    short = [c for c in trained if trained[c] < MIN_PER_CLASS and held.get(c, 0) > trained[c]]
    if not short:
        return None
    n_train, n_held = sum(trained.values()), sum(held.values())
    each = " and ".join(f"{c!r} ({trained[c]})" for c in short)
    return (
        f"--test-fraction {test_fraction:g} holds out {n_held} of the {n_train + n_held} {noun} "
        f"and leaves {n_train} to train the base model on, fewer than {MIN_PER_CLASS} of class "
        f"{each}: a model trained on so few learns next to nothing, and its test figures say "
        "little of one trained on more; lower --test-fraction (0.2 keeps four fifths to train "
        "on)"
    )


def _read_and_split(
    modality: Modality,
    data: Path,
    options: Any,
    reading: Reading,
    *,
    test_fraction: float,
    seed: int,
    progress: Progress,
) -> tuple[Samples, np.ndarray, np.ndarray]:
    """``data``'s samples and the positions of the training and the held-out patients'."""
    if progress:
        progress(f"reading {data}")
    samples = modality.read_training(data, options, reading)
    chosen = np.arange(len(samples))
    train_idx, test_idx = modality.patient_split(samples, chosen, test_fraction, seed)
    return samples, train_idx, test_idx


def _train(
    modality: Modality, schema: Any, train: Samples, options: Any, *, seed: int, progress: Progress
) -> BaseModel:
    """The base model trained on ``train`` (the modality's base training configuration, with
    the options' epochs, learning rate and early-stopping patience where given)."""
    if progress:
        progress(f"training on {len(train)} {modality.noun}")
    config = training_config_for(modality, "base", options)
    return train_base(
        modality, schema, train, options=options, train_config=config, seed=seed,
        freeze_backbone=getattr(options, "freeze_backbone", False),
        on_epoch=epoch_reporter(progress, "base" if modality.reports_epochs else None),
    )  # fmt: skip


def _save(out: Path, base: BaseModel, side_files: dict[str, bytes]) -> None:
    """The base model and the side files that record its split, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, raw in side_files.items():
        atomic_write_bytes(out / name, raw)
    base.save(out, overwrite=True)  # beside the side files just written
