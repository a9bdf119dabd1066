"""Jobs on images in a PACS: fetch them over DICOMweb into a folder the local readers read,
and write predictions back as DICOM Structured Reports (STOW-RS).

:func:`fetch_images` downloads a study, a series or the studies a labels CSV lists and joins
the labels (:mod:`medadapt.data.dicomweb_labels`): the jobs (``train-base``, ``adapt``,
``evaluate``, ``predict``) then read an ordinary path CSV, with the preprocessing of local
files. After ``predict``, :func:`pacs_predictions` names each prediction by its UIDs instead of
the temporary file, :func:`with_image_notes` gives each the notes ``serve`` would say of its
image, and :func:`store_reports` stores one Comprehensive SR per series
(:mod:`medadapt.data.dicomweb_reports`, re-exported here; the server uses it too), after
:func:`reports_before` has found the medadapt reports the studies hold already. Only counts,
UIDs and model identities are returned; no patient data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from medadapt.data.dicomweb import DicomwebReference, DicomwebSource, Instance, download
from medadapt.data.dicomweb_labels import LabelTable, write_path_csv
from medadapt.data.dicomweb_reports import EarlierReports, earlier_reports
from medadapt.data.dicomweb_reports import Prediction as Prediction
from medadapt.data.dicomweb_reports import StoredReport as StoredReport
from medadapt.data.dicomweb_reports import store_reports as store_reports
from medadapt.data.extrapolation import COLUMN as UNLIKE_COLUMN
from medadapt.data.image_notes import notes_of_files
from medadapt.data.tables import predictions_bytes
from medadapt.errors import DataError
from medadapt.fileio import atomic_write_bytes
from medadapt.results import AdapterRecord, in_sample_caution
from medadapt.workflows.model_identity import model_identity as model_identity

ID_COLUMN = "image"  # the images modality's prediction id column
TRAINED_COLUMN = "trained_on"  # which model trained on a predicted image (by content), if any


@dataclass
class Fetched:
    """Images fetched from a PACS: the path CSV to read and what it lists."""

    data: Path
    instances: list[Instance]
    n_unlabelled: int = 0
    passed_over: dict[str, int] = field(default_factory=dict)  # no image: series, instances

    def counts(self) -> dict[str, int]:
        """Images, series and studies, and the images read from a kept cache (``cached``)."""
        return {
            "images": len(self.instances),
            "series": len({i.series_uid for i in self.instances}),
            "studies": len({i.study_uid for i in self.instances}),
            "cached": sum(i.cached for i in self.instances),
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


def reports_before(
    reference: DicomwebReference, source: DicomwebSource, labels: LabelTable | None = None
) -> EarlierReports:
    """The medadapt reports the studies to fetch hold already (of the series ``reference``
    names, when it names one), and those that could not be read: what ``predict --store-sr``
    would store beside."""
    what = studies_to_fetch(reference, labels)
    studies = [str(what.study_uid)] if isinstance(what, DicomwebReference) else list(what)
    return EarlierReports.joined(
        [earlier_reports(source, uid, reference.series_uid) for uid in studies]
    )


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
    passed_over: Counter[str] = Counter()
    instances = download(source, what, folder, progress=progress, passed_over=passed_over)
    data, kept = write_path_csv(
        folder, instances, labels, path_columns=path_columns, source=str(reference)
    )
    return Fetched(
        data, kept, len(instances) - len(kept), {k: n for k, n in passed_over.items() if n}
    )


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
        who = row.get(TRAINED_COLUMN)  # which model trained on it, if one did (by content)
        predictions.append(
            Prediction(
                first.study_uid, first.series_uid,
                {c: float(row[f"p_{c}"]) for c in classes}, sources,
                [int(frame) + 1] if frame else [],
                (in_sample_caution(who),) if isinstance(who, str) and who else (),
            )
        )  # fmt: skip
    table[ID_COLUMN] = [p.name for p in predictions]
    atomic_write_bytes(out, predictions_bytes(table, out, [f"p_{c}" for c in classes]))
    return predictions


def with_image_notes(
    predictions: list[Prediction], base_dir: Path, adapter_dir: Path | None = None
) -> list[Prediction]:
    """``predictions`` with what is said of each image as its report's cautions, in the words
    of ``serve``'s ``note`` (:func:`~medadapt.data.image_notes.image_notes`, one source): its
    files read again as the model judges them (the base's schema, widened by what the adapter
    trained on), each named by its SOPInstanceUID."""
    from medadapt.modalities import modality_of

    manifest = json.loads((Path(base_dir) / "model.json").read_text())
    modality = modality_of(manifest["kind"])
    schema = modality.schema_from_dict(manifest["schema"])
    if adapter_dir is not None:
        adapter = json.loads((Path(adapter_dir) / "adapter.json").read_text())
        seen = AdapterRecord.from_json(adapter.get("metadata")).inputs_seen
        schema = modality.with_inputs_seen(schema, seen) if seen else schema
    names = {i.path: i.sop_uid for p in predictions for i in p.sources}
    said = notes_of_files(schema, list(names), names)
    return [replace(p, cautions=(*p.cautions, *said.get(p.sources[0].path, ())))
            for p in predictions]  # an in-sample image's caution first  # fmt: skip


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",",
                       dtype={ID_COLUMN: str, UNLIKE_COLUMN: str, "note": str,
                              TRAINED_COLUMN: str})  # fmt: skip
