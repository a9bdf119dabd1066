"""``{"dicomweb": ..., "store_sr": true}``: the predictions of a DICOMweb reference written back
to the archive the images came from, one DICOM Comprehensive SR per series
(:func:`medadapt.data.dicomweb_reports.store_reports`, as ``predict --store-sr`` writes them),
stored with STOW-RS under the server's DICOMweb token.

Only a server started with ``--store-sr`` writes (403 otherwise, before anything is fetched).
A report records each image's probabilities and predicted class, the images it references
(their SOP Instance UIDs, the frame of a multi-frame file), what its ``note`` says of the
image (one caution each: :func:`~medadapt.data.image_notes.image_notes`), and the
model as :meth:`~medadapt.data.dicom_sr.ModelIdentity.of` names it whoever writes the report:
the base by its weights fingerprint (its first 12 characters, as the answer names it), the
adapter by its registry name, its weights' hash and its registry version. A failed STOW is
502, one line saying what was stored before it (usually nothing). The log holds the stored
reports' SOPInstanceUIDs only, never patient data.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from medadapt.data.dicom_sr import ModelIdentity
from medadapt.data.dicomweb import STORE_FLAG, Instance
from medadapt.data.dicomweb_reports import Prediction, StoredReport, store_reports
from medadapt.errors import DataError
from medadapt.evaluate.report.formatting import recorded_cautions, validation_summary
from medadapt.registry.records import metric_notes
from medadapt.results import in_sample_caution, recorded_metrics
from medadapt.serve.image_decode import Sample
from medadapt.serve.image_dicomweb import FIELD, ArchiveImages, archive
from medadapt.serve.image_inputs import ImageInputError, ImageServing
from medadapt.serve.state import Route, ServedBase

log = logging.getLogger("medadapt.serve")
NOT_WRITING = "this server does not write to the archive: start it with --store-sr"
WITHOUT_STORING = "send the request without 'store_sr'"  # a client's way to drop --store-sr


def check_writes(limits: ImageServing) -> None:
    """403 unless the server was started with ``--store-sr``."""
    if not limits.store_sr:
        raise ImageInputError(403, None, NOT_WRITING)


def model_of(
    served: ServedBase, route: Route, listed: list[dict[str, Any]], registry: Any = None
) -> ModelIdentity:
    """The served model as a report records it (:meth:`ModelIdentity.of`, the rule
    ``predict --store-sr`` follows too): the base by its weights fingerprint, the adapter by
    its registry name, its weights' hash and its registry version (None: the base alone), and
    how it was validated: from ``listed`` (``/v1/adapters``' entries, the promoted versions)
    when it lists that very version, else from ``registry`` (a pinned ``name@version``); the
    base's own test otherwise."""
    metrics = recorded_metrics(served.base.training)  # a fine-tuned model's own
    weights = None
    if route.name is not None:
        this = (route.name, route.version)
        entry = next((e for e in listed if (e["name"], e["version"]) == this), None)
        if entry is None and registry is not None:
            found = registry.get(f"{route.name}@{route.version}")
            entry = {"metrics": found.metrics, "notes": metric_notes(found.metrics),
                     "weights": f"sha256:{found.weights_blob}"}  # fmt: skip
        if entry is not None:
            metrics = {**entry["metrics"], "notes": entry.get("notes") or {}}
            weights = entry["weights"].removeprefix("sha256:")
    return ModelIdentity.of(served.key, route.name, weights, registry_version=route.version,
                            validation=validation_summary(metrics),
                            warnings=recorded_cautions(metrics))  # fmt: skip


def store(
    images: ArchiveImages,
    samples: list[Sample],
    predictions: list[dict[str, Any]],
    model: ModelIdentity,
    limits: ImageServing,
    volumes: bool,
) -> list[dict[str, str]]:
    """One SR per series of ``images``, stored in their archive (a decoding thread: the files
    are still in the request's folder, and the reports copy their headers). ``predictions``:
    the answer's, one per sample; ``volumes``: a series of files was read as one volume."""
    found = _with_sources(images, samples, predictions, volumes=volumes)
    source = archive(images.reference, limits)
    stored: list[StoredReport] = []
    with _series_locked({p.series_uid for p in found}):  # the same request twice at once:
        held = _held(source, found, model)  # one stores, the other finds it held
        try:
            store_reports(source, [p for p in found if p.series_uid not in held], model, stored)
        except DataError as exc:
            raise _store_error(exc, stored, len({p.series_uid for p in found})) from None
        finally:  # what was stored, even before a failure (UIDs only)
            for report in stored:
                log.info("stored DICOM SR %s", report.sop_uid)
    new = [
        {
            "sop_instance_uid": report.sop_uid,
            "series_instance_uid": report.report_series_uid,
            "study_instance_uid": report.study_uid,
            "reports_on_series": report.series_uid,
            "already_held": False,
        }
        for report in stored
    ]
    return [*held.values(), *new]


_HELD: dict[str, list[Any]] = {}  # a series UID: its lock, and how many requests want it
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def _series_locked(series: set[str]) -> Iterator[None]:
    """Hold each of ``series`` (image series UIDs) while their reports are looked for and
    stored: a trial sent one request three times at once, and two of them stored a report
    of the same series, each finding none held yet. Taken in order (no deadlock between
    requests sharing series); a series' lock is dropped once no request wants it, so the
    server's memory stays flat however many series it reports on."""
    uids = sorted(series)
    with _HELD_GUARD:
        entries = [_HELD.setdefault(uid, [threading.Lock(), 0]) for uid in uids]
        for entry in entries:
            entry[1] += 1
    try:
        with contextlib.ExitStack() as stack:
            for lock, _wanted in entries:
                stack.enter_context(lock)
            yield
    finally:
        with _HELD_GUARD:
            for uid, entry in zip(uids, entries, strict=True):
                entry[1] -= 1
                if not entry[1]:
                    del _HELD[uid]


def _held(source: Any, found: list[Prediction], model: ModelIdentity) -> dict[str, dict[str, Any]]:
    """The series of ``found`` a report of this very ``model`` (the same base, adapter and
    weights) covers already, each as the answer lists a report (``already_held``: true): a
    client that retries after a timeout gets the report it asked for, not a second copy in
    the PACS (``predict --store-sr`` does not report such a series again either)."""
    from medadapt.data.dicomweb_reports import EarlierReports, earlier_reports

    study_of = {p.series_uid: p.study_uid for p in found}
    earlier = EarlierReports.joined([earlier_reports(source, study)  # each study read once
                                     for study in sorted(set(study_of.values()))])  # fmt: skip
    covered = earlier.covered_by(model)
    own = {report.sop_uid: report.report_series_uid for report in earlier.reports}
    return {series: {"sop_instance_uid": sop_uid, "series_instance_uid": own.get(sop_uid),
                     "study_instance_uid": study_of[series], "reports_on_series": series,
                     "already_held": True}
            for series, sop_uid in covered.items() if series in study_of}  # fmt: skip


def _with_sources(
    images: ArchiveImages,
    samples: list[Sample],
    predictions: list[dict[str, Any]],
    *,
    volumes: bool,
) -> list[Prediction]:
    """The answer's predictions with the instances they came from: a sample is named by its
    file's SOPInstanceUID (a volume by its first file's)."""
    by_sop = {i.sop_uid: i for i in images.instances}
    members: dict[str, list[Instance]] = {}
    for instance in images.instances:
        members.setdefault(instance.series_uid, []).append(instance)
    out: list[Prediction] = []
    for sample, answer in zip(samples, predictions, strict=True):
        first = by_sop[sample.file]
        series = members[first.series_uid]
        sources = series if volumes and len(series) > 1 else [first]
        frames = [] if sample.slice is None else [sample.slice + 1]
        who = answer.get("trained_on")  # an image the model trained on: said in the report too
        said = (in_sample_caution(who), *sample.notes) if who else sample.notes
        out.append(Prediction(first.study_uid, first.series_uid, dict(answer["probabilities"]),
                              sources, frames, said))  # fmt: skip
    return out


def _store_error(exc: DataError, stored: list[StoredReport], total: int) -> ImageInputError:
    """502: the archive's one-line failure, and what was stored before it."""
    log.warning("storing a DICOM SR failed (answered 502)")
    if stored:
        uids = ", ".join(report.sop_uid for report in stored)
        done = f"only {len(stored)} of {total} reports were stored ({uids})"
    else:
        done = "nothing was stored"
    text = str(exc).replace("--data", FIELD).replace(f"drop {STORE_FLAG}", WITHOUT_STORING)
    return ImageInputError(502, None, f"cannot store the DICOM SR: {text}; {done}")
