"""The label a command is given must be the one the base model predicts (where the label is
a column): ``adapt``, ``evaluate``, ``study --base``, ``check-data`` and ``federate`` say it
alike."""

from __future__ import annotations

import shlex
from typing import Any

from medadapt.errors import DataError
from medadapt.modalities.base import Modality


def check_label(modality: Modality, schema: Any, label: str | None) -> None:
    """``--label`` must be the column the base model predicts (where the label is a column)."""
    predicted = getattr(schema, "label", None)
    if modality.needs_label and label is not None and label != predicted:
        raise DataError(  # a trial followed "pass --label sex" into another question
            f"the base model predicts {predicted!r}, not {label!r}; pass --label "
            f"{shlex.quote(predicted)} (the base's outcome), or train a base that predicts "
            f"{label!r} (train-base --label {shlex.quote(label)})"
        )
