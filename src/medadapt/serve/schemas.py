"""Request and response bodies of the prediction API (validated by pydantic; 422 on error)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_INSTANCES = 1024


class PredictRequest(BaseModel):
    """Route every instance to ``adapter`` ("name" = promoted version, or "name@3"), or to the
    adapter serving ``group``; without either, each instance routes by its own group field."""

    model_config = ConfigDict(extra="forbid")

    adapter: str | None = Field(None, description="Adapter name or name@version.")
    group: str | None = Field(None, description="Route to the adapter serving this group.")
    instances: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=MAX_INSTANCES,
        description="Patients: feature name -> value (missing features are allowed).",
    )


class Prediction(BaseModel):
    adapter: str | None = Field(description="The adapter that produced it; None = base model.")
    version: int | None = Field(description="Its registry version.")
    base: str = Field(description="The base model's weights hash (first 12 characters).")
    predicted: Any = Field(description="Predicted class, or value for regression.")
    probability: float | None = Field(None, description="Binary: P(positive class).")
    probabilities: dict[str, float] | None = Field(None, description="Multiclass.")


class PredictResponse(BaseModel):
    predictions: list[Prediction]


class AdapterInfo(BaseModel):
    name: str
    version: int
    method: str
    base: str
    group: str | None
    group_column: str | None
    task: str | None
    metrics: dict[str, Any]
