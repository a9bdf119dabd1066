"""The table API in one namespace: train, adapt and score on pandas data frames.

Thin functions over the modality-independent training (:mod:`medadapt.train.fitting`) for a
:class:`~medadapt.data.schema.TableSchema` and its rows; the command line's jobs are in
:mod:`medadapt.workflows`.

>>> # see README.md for a runnable example on the bundled heart-disease data
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from torch import nn

from medadapt.adapters import AdapterModel
from medadapt.data.schema import TableSchema
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.tabular.model import TabularModelConfig
from medadapt.modalities.tabular.samples import TableSamples, subgroup_columns, true_labels
from medadapt.train import fitting
from medadapt.train.fitting import Adaptation
from medadapt.train.loop import TrainConfig

__all__ = [
    "Adaptation",
    "TabularModelConfig",
    "adapt",
    "predict",
    "subgroup_columns",
    "train_base",
    "true_labels",
]
OnEpoch = Callable[[int, float, float | None], None] | None


def _modality():
    return modality_of("tabular")


def train_base(
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    model_config: TabularModelConfig | None = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    on_epoch: OnEpoch = None,
) -> BaseModel:
    """Train an FT-Transformer on ``frame`` (labelled rows; schema fitted on them)."""
    samples = TableSamples(schema.labelled_rows(frame), schema, schema.group_column)
    return fitting.train_base(
        _modality(), schema, samples, options=model_config or TabularModelConfig(),
        train_config=train_config, seed=seed, on_epoch=on_epoch,
    )  # fmt: skip


def adapt(
    base: BaseModel,
    frame: pd.DataFrame,
    *,
    method: str,
    name: str,
    into: AdapterModel | None = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    on_epoch: OnEpoch = None,
) -> Adaptation:
    """Train adapter ``name`` (or, for ``full``, a fine-tuned copy) on target rows ``frame``.

    ``into``: an AdapterModel over ``base.model`` to add the adapter to (one model serving
    many adapters); by default a fresh copy of the base is wrapped.
    """
    schema: TableSchema = base.schema
    samples = TableSamples(schema.labelled_rows(frame), schema)
    return fitting.adapt(
        _modality(), base, samples, method=method, name=name, into=into,
        train_config=train_config, seed=seed, on_epoch=on_epoch,
    )  # fmt: skip


def predict(
    model: nn.Module,
    schema: TableSchema,
    frame: pd.DataFrame,
    *,
    adapter: str | None = None,
    adapter_ids: Sequence[str | None] | None = None,
) -> np.ndarray:
    """Scores for every row of ``frame`` (labels not needed): P(positive), (N, K)
    probabilities, or values in the label's unit."""
    return fitting.predict(
        _modality(), model, schema, TableSamples(frame, schema), adapter=adapter,
        adapter_ids=adapter_ids,
    )  # fmt: skip
