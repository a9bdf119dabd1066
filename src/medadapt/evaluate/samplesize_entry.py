"""What ``adapt`` records of Riley et al.'s development criterion for an adapter, and how a
line counts what trained it: patients where the samples name them, else rows or images (each
taken as one patient, and said so). Below the workflows and the Python API (``ma.adapt``),
which both record it the same way for the adapter's card."""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate.bootstrap import cluster_index
from medadapt.evaluate.samplesize import binding
from medadapt.evaluate.samplesize_outcomes import Outcome, name_classes, outcome_of, source_of
from medadapt.results import needed_text, parameters_text

PATIENTS = "patients"


def patient_counts(modality: Any, **parts: Any) -> dict[str, Any]:
    """``{"n_train_patients": 70, ..., "unit": "rows"}`` for each of ``parts`` (``n_train=``
    samples ...) when the samples name their patients and one of them has several samples
    among these (repeat visits, several images); ``{}`` when every sample is its own patient,
    so that entries and sentences stay as they were."""
    counts = {}
    for key, samples in parts.items():
        known = samples.known_patients()
        if known is None:
            return {}
        counts[f"{key}_patients"] = len(set(np.asarray(known).tolist()))
    if all(counts[f"{key}_patients"] == len(samples) for key, samples in parts.items()):
        return {}
    return {**counts, "unit": modality.noun}


def patients_of(*parts: Any) -> np.ndarray | None:
    """Each sample's patient as a number, ``parts``' samples one after another (the training
    samples, then the test samples: split by patient, they never share one), for counting
    their labels by patient; None where no part names its patients or none has several."""
    numbered, offset = [], 0
    for part in parts:
        index = cluster_index(part.known_patients(), len(part))
        index = np.arange(len(part)) if index is None else index
        numbered.append(index + offset)
        offset += int(index.max()) + 1 if len(index) else 0
    joined = np.concatenate(numbered) if numbered else np.zeros(0, dtype=np.int64)
    return None if cluster_index(joined, len(joined)) is None else joined


def criteria_count(entry: dict[str, Any], key: str) -> int:
    """What the criteria are compared with: the patients behind ``entry[key]``'s samples
    where they are recorded (Riley et al. count patients, not visits), else the samples."""
    return entry.get(f"{key}_patients", entry[key])


def counted_text(entry: dict[str, Any], key: str, noun: str = "", *, grouped: bool = True) -> str:
    """``entry[key]`` in words: ``"140 patients"`` (``noun``; none: ``"140"``), or where
    patients are recorded ``"140 rows from 70 patients"``."""
    n = f"{entry[key]:,}" if grouped else str(entry[key])
    patients = entry.get(f"{key}_patients")
    if patients is None:
        return f"{n} {noun}" if noun else n
    return f"{n} {entry.get('unit', 'samples')} from {patients:,} {PATIENTS}"


def counted(modality: Any, samples: Any) -> str:
    """What the criteria's sentences count for ``modality``'s ``samples``: "patients" where a
    table's rows name their patients (an id column), "rows" where they name none (each row is
    then taken as one patient, and :func:`as_patients` says so), "images"."""
    if rows_as_patients(modality, samples):
        return modality.noun
    return PATIENTS if modality.noun == "rows" else modality.noun


ROWS_AS_PATIENTS = "each taken as one patient: the base names no patient column"
"""What rows that name no patient are counted as, with the first count of them (a trial read
"120 patients" of 40 patients seen three times each, from a base trained without
``--id-column``)."""
STUDY_ROWS_AS_PATIENTS = "each taken as one patient: no --id-column names the patients"
"""The same for a study that trains its own base."""


def rows_as_patients(modality: Any, samples: Any) -> bool:
    return modality.noun == "rows" and samples.known_patients() is None


def as_patients(modality: Any, samples: Any, words: str = ROWS_AS_PATIENTS) -> str | None:
    """``words`` where ``samples`` are a table's rows that name no patient (each is taken as
    one patient), else None."""
    return words if rows_as_patients(modality, samples) else None


def as_patients_entry(modality: Any, samples: Any,
                       words: str = ROWS_AS_PATIENTS) -> dict[str, str]:  # fmt: skip
    """``{"as_patients": words}`` for rows that name no patient, else nothing (entries of
    other data stay as they were)."""
    said = as_patients(modality, samples, words)
    return {"as_patients": said} if said else {}


def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}


def trained_words(entry: dict[str, Any], noun: str) -> tuple[str, str]:
    """The needs' unit (patients, where the entry records them) and what trained the model."""
    noun = PATIENTS if "n_train_patients" in entry else entry.get("counted") or noun
    trained = counted_text(entry, "n_train", noun)
    if entry.get("as_patients"):
        trained += f" ({entry['as_patients']})"
    return noun, trained


def cited(entry: dict[str, Any]) -> str:
    """The criteria's authors as a line cites them ("Riley et al.")."""
    return entry["source"].split(" Stat")[0]


def planned_outcome(modality: Any, base: Any, labels: Any, counts: dict[str, Any],
                    scored: tuple[Any, Any] | None, *, patients: Any,
                    label_patients: Any) -> Outcome | str:  # fmt: skip
    """The outcome an adapter's criterion is planned on (:func:`outcome_of`): the ``labels``
    of its training (and test) samples, counted as ``counts`` counts them
    (:func:`training_counts`), with the base's scores of the samples it never trained on
    (``scored``: their labels and scores, and their ``patients``; None where there are none)
    and its recorded source figures; a multiclass outcome's weakest pair named by class. A
    string says why no criterion applies."""
    schema = base.schema
    noun = modality.noun if "n_train_patients" in counts else counts.get("counted", modality.noun)
    outcome = outcome_of(modality.task(schema), labels, scored, base.training.get("test_metrics"),
                         noun, modality.classes(schema), patients=patients,
                         label_patients=label_patients)  # fmt: skip
    if not isinstance(outcome, str):
        name_classes(outcome, modality.classes(schema))
    return outcome


def development_entry(outcome: Outcome, parameters: int, intercepts: int,
                      counts: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The development part of the record: the criterion that binds for ``parameters``
    (Riley et al.'s ``p``, the output layer's ``intercepts`` aside), the figures it was
    planned on, what trained the model (``counts``: ``n_train`` and its patients) and whether
    they meet it."""
    final = binding(outcome.criteria(parameters))
    return {
        "parameters": parameters, "intercepts": intercepts, **rounded(outcome.to_dict()),
        "criterion": final.name, "n_needed": final.n, **counts,
        "met": criteria_count(counts, "n_train") >= final.n,
        "source": source_of(outcome.task, validation=counts.get("n_test") != 0),
    }  # fmt: skip


def training_counts(modality: Any, train: Any, **others: Any) -> dict[str, Any]:
    """``n_train`` (and ``others``' counts, ``n_test=``) with their patients where a patient
    has several samples, or what the rows are taken as where they name no patient."""
    counts = {"n_train": len(train), **{key: len(part) for key, part in others.items()}}
    patients = patient_counts(modality, n_train=train, **others)
    counts |= {**patients, **as_patients_entry(modality, train)}
    if not patients:  # what check-data calls them: patients where an id column names them
        counts["counted"] = counted(modality, train)  # (a trial read "140 patients" there)
    return counts


def development_line(entry: dict[str, Any], noun: str = "patients") -> str:
    """The training criterion as ``adapt`` prints it: "to train on", those set aside to
    choose when to stop included (a trial read "49 images trained it", then "10 of them set
    aside")."""
    noun, trained = trained_words(entry, noun)
    return (
        f"sample size ({cited(entry)}): {'met' if entry['met'] else 'not met'}: {trained} "
        f"to train on; its {parameters_text(entry)} would need "
        f"{needed_text(entry['n_needed'])} {noun} as a new model's (criterion "
        f"{entry['criterion']}): an upper bound for an adapter, which starts from the base; "
        "meeting it is necessary, not sufficient"
    )
