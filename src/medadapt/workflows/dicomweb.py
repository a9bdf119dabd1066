"""Jobs on images in a PACS: fetch them over DICOMweb into a folder the local readers read,
and write predictions back as DICOM Structured Reports (STOW-RS).

:func:`fetch_images` downloads a study, a series or the studies a labels CSV lists and joins
the labels (:mod:`medadapt.data.dicomweb_labels`): the jobs (``train-base``, ``adapt``,
``evaluate``, ``predict``) then read an ordinary path CSV, with the preprocessing of local
files. After ``predict``, :func:`pacs_predictions` names each prediction by its UIDs instead of
the temporary file, and :func:`store_reports` stores one Comprehensive SR per series
(:mod:`medadapt.data.dicomweb_reports`, re-exported here; the server uses it too). Only counts
and UIDs are returned; no patient data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from medadapt.data.dicom_sr import ModelIdentity, unlike_caution
from medadapt.data.dicomweb import DicomwebReference, DicomwebSource, Instance, download
from medadapt.data.dicomweb_labels import LabelTable, write_path_csv
from medadapt.data.dicomweb_reports import Prediction as Prediction
from medadapt.data.dicomweb_reports import StoredReport as StoredReport
from medadapt.data.dicomweb_reports import store_reports as store_reports
from medadapt.data.extrapolation import COLUMN as UNLIKE_COLUMN
from medadapt.data.tables import table_bytes
from medadapt.errors import DataError
from medadapt.evaluate.report.formatting import recorded_cautions, validation_summary
from medadapt.fileio import atomic_write_bytes
from medadapt.results import recorded_metrics

ID_COLUMN = "image"  # the images modality's prediction id column


@dataclass
class Fetched:
    """Images fetched from a PACS: the path CSV to read and what it lists."""

    data: Path
    instances: list[Instance]
    n_unlabelled: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "images": len(self.instances),
            "series": len({i.series_uid for i in self.instances}),
            "studies": len({i.study_uid for i in self.instances}),
        }


def studies_to_fetch(reference: DicomwebReference, labels: LabelTable | None) -> Any:
    """The reference itself (a study or series), or the studies of the labels CSV."""
    if reference.study_uid is not None:
        return reference
    if labels is None or not labels.studies:
        where = "--labels has no StudyInstanceUID column" if labels else "no --labels is given"
        raise DataError(
            f"--data {reference} names a server but no study, and {where}: add "
            "/studies/STUDY_UID to --data, or pass --labels CSV with a StudyInstanceUID column"
        )
    return labels.studies


def fetch_images(
    reference: DicomwebReference,
    source: DicomwebSource,
    folder: Path,
    *,
    labels: LabelTable | None = None,
    path_columns: Sequence[str] = ("path",),
    progress: Callable[[int, int], None] | None = None,
) -> Fetched:
    """Download what ``reference`` (or ``labels``) names into ``folder`` and write the path
    CSV joining the labels (images without a row are left out and counted)."""
    what = studies_to_fetch(reference, labels)
    instances = download(source, what, folder, progress=progress)
    data, kept = write_path_csv(
        folder, instances, labels, path_columns=path_columns, source=str(reference)
    )
    return Fetched(data, kept, len(instances) - len(kept))


def model_identity(base_dir: Path, adapter_dir: Path | None = None) -> ModelIdentity:
    """The model a report records (:meth:`ModelIdentity.of`: the base by its weights
    fingerprint, the adapter by its manifest's name and its weights' hash), how it was
    validated and the cautions recorded with that
    (:func:`~medadapt.evaluate.report.formatting.recorded_cautions`), from their manifests."""
    base = json.loads((Path(base_dir) / "model.json").read_text())
    adapter, weights = None, None
    metrics = recorded_metrics(base.get("training") or {})  # a fine-tuned model's own
    if adapter_dir is not None:
        manifest = json.loads((Path(adapter_dir) / "adapter.json").read_text())
        adapter, weights = manifest["name"], manifest["weights_sha256"]
        metrics = (manifest.get("metadata") or {}).get("metrics")
    return ModelIdentity.of(base["fingerprint"]["weights"], adapter, weights,
                            validation=validation_summary(metrics),
                            warnings=recorded_cautions(metrics))  # fmt: skip


def pacs_predictions(out: Path, fetched: Fetched, *, volumes: bool = False) -> list[Prediction]:
    """The predictions ``predict`` wrote to ``out`` for ``fetched`` images; ``out`` is
    rewritten with each image named by its UIDs (the temporary files' paths mean nothing).
    ``volumes``: the model reads 3D volumes (a series of files is one sample)."""
    table = _read_table(out)
    classes = [str(c)[2:] for c in table.columns if str(c).startswith("p_")]
    by_path = {str(i.path): i for i in fetched.instances}
    by_series: dict[str, list[Instance]] = {}
    for instance in fetched.instances:
        by_series.setdefault(instance.series_uid, []).append(instance)
    predictions = []
    for row in table.to_dict("records"):
        path, _, frame = str(row[ID_COLUMN]).partition("#slice")
        first = by_path[path]
        members = by_series[first.series_uid]
        # a volume stacked from the files of a series is named by its first file
        sources = members if volumes and len(members) > 1 else [first]
        predictions.append(
            Prediction(
                first.study_uid, first.series_uid,
                {c: float(row[f"p_{c}"]) for c in classes}, sources,
                [int(frame) + 1] if frame else [], _cautions(row),
            )
        )  # fmt: skip
    table[ID_COLUMN] = [p.name for p in predictions]
    atomic_write_bytes(out, table_bytes(table, out))
    return predictions


def _cautions(row: dict[str, Any]) -> tuple[str, ...]:
    """What the report says of one predicted image: how it is unlike the model's training
    images, as ``predict`` wrote in its column ``outside_training`` (empty: nothing)."""
    unlike = row.get(UNLIKE_COLUMN)
    return unlike_caution("" if pd.isna(unlike) else str(unlike))


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",",
                       dtype={ID_COLUMN: str, UNLIKE_COLUMN: str})  # fmt: skip
