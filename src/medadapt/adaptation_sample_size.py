"""Riley et al.'s development criterion as the Python API's adapt records it, for tables
(``ma.adapt``) and images (``images.adapt``), every method ``full`` included, as the command
line's ``adapt`` records it: the adapter (or the fine-tuned copy) read as a new model with the
parameters it trains, its output layer's intercepts aside. Every sample passed trains it, so
there is no test set and none of the validation criteria."""

from __future__ import annotations

import numpy as np

from medadapt.adapters import AdapterModel
from medadapt.evaluate.samplesize_entry import (
    development_entry,
    patients_of,
    planned_outcome,
    training_counts,
)
from medadapt.evaluate.samplesize_parameters import trained_intercepts
from medadapt.modalities.base import Modality
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.samples import Samples
from medadapt.train import fitting
from medadapt.train.fitting import Adaptation


def record_sample_size(
    modality: Modality, base: BaseModel, result: Adaptation, samples: Samples, seen: np.ndarray
) -> None:
    """Set ``result.sample_size`` and, for an adapter, its record's (its card says it). The
    anticipated R-squared is planned, as ``check-data`` plans it, on the base's scores of the
    samples it never trained on (``seen``: per sample, whether it did) and on its recorded
    source figures. Nothing when no criterion applies (one class, nothing trained). No
    warning: the count it needs is an upper bound for an adapter, which few sites' data meet;
    the command line prints it as information too."""
    adapter = result.name if isinstance(result.model, AdapterModel) else None  # full: a copy
    intercepts = trained_intercepts(modality, result.model, adapter)
    unseen = samples.subset(np.flatnonzero(~np.asarray(seen, dtype=bool)))
    scored = None  # every sample trained the base: nothing to plan on but its source figures
    if len(unseen):
        scores = fitting.predict(modality, base.model, base.schema, unseen)
        risk = modality.task_scores(base.schema, scores)
        scored = (np.asarray(unseen.labels), np.asarray(risk, float))
    counts = {**training_counts(modality, samples), "n_test": 0}  # every sample trains it
    outcome = planned_outcome(modality, base, np.asarray(samples.labels), counts, scored,
                              patients=unseen.known_patients(),
                              label_patients=patients_of(samples))  # fmt: skip
    parameters = result.trainable_params - intercepts
    if not parameters or isinstance(outcome, str):
        return
    result.sample_size = development_entry(outcome, parameters, intercepts, counts)
    if adapter is not None:
        record = result.model.adapter_metadata.setdefault(adapter, {})
        record.setdefault("data_summary", {})["sample_size"] = result.sample_size
