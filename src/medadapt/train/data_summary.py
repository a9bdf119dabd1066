"""What an adapter records of the samples that trained and tested it: counts only (never a
value), the same for the command line's ``adapt`` and the Python API's ``ma.adapt``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def data_summary(modality: Any, schema: Any, train: Any, test: Any | None,
                 classes: Sequence[str], **summary: Any) -> dict[str, Any]:  # fmt: skip
    """``n_train``, ``n_test`` (0 where ``test`` is None), the ``summary`` given (the group
    and its column, ...), each class's count in training and test (not for a measured
    outcome) and, for a binary one, the training positives and their share."""
    out: dict[str, Any] = {"n_train": len(train), "n_test": 0 if test is None else len(test),
                           **summary}  # fmt: skip
    task = modality.task(schema)
    if task != "regression":
        out["train_class_counts"] = train.class_counts(classes)
        if test is not None:
            out["test_class_counts"] = test.class_counts(classes)
    if len(classes) == 2 and task == "binary" and len(train):
        positives = int(np.sum(np.asarray(train.labels) == 1))
        out.update(n_positive=positives, prevalence=round(positives / len(train), 4))
    return out
