"""Which model a run uses, by the one naming rule of :class:`~medadapt.data.dicom_sr.ModelIdentity`,
read from the base's and the adapter's manifests: what a DICOM SR records and what
``predict``'s ``model`` column says. Apart from the DICOMweb workflow, whose import
``predict`` of a table need not pay for."""

from __future__ import annotations

import json
from pathlib import Path

from medadapt.data.dicom_sr import ModelIdentity
from medadapt.evaluate.report.formatting import recorded_cautions, validation_summary
from medadapt.results import recorded_metrics


def model_identity(base_dir: Path, adapter_dir: Path | None = None) -> ModelIdentity:
    """The model a report records (:meth:`ModelIdentity.of`: the base by its weights
    fingerprint, the adapter by its manifest's name and its weights' hash), how it was
    validated and the cautions recorded with that
    (:func:`~medadapt.evaluate.report.formatting.recorded_cautions`), from their manifests."""
    base = json.loads((Path(base_dir) / "model.json").read_text())
    adapter, weights = None, None
    training = base.get("training") or {}
    metrics = recorded_metrics(training)  # a fine-tuned model's own
    adapted = training.get("adapted")  # adapt --method full's model (named since 2026-12)
    fine_tuned = adapted.get("name", "unnamed") if isinstance(adapted, dict) else None
    if adapter_dir is not None:
        manifest = json.loads((Path(adapter_dir) / "adapter.json").read_text())
        adapter, weights = manifest["name"], manifest["weights_sha256"]
        metrics = (manifest.get("metadata") or {}).get("metrics")
    return ModelIdentity.of(base["fingerprint"]["weights"], adapter, weights,
                            validation=validation_summary(metrics),
                            warnings=recorded_cautions(metrics),
                            fine_tuned=fine_tuned)  # fmt: skip
