"""Predictions of images fetched from a PACS, written back to it as DICOM SRs (STOW-RS).

:func:`store_reports` makes one Comprehensive SR per predicted series
(:func:`medadapt.data.dicom_sr.prediction_report`, which copies the patient and study modules
from the source files' headers) and stores it with :meth:`DicomwebSource.store`. It serves
``predict --store-sr`` (:mod:`medadapt.workflows.dicomweb`) and ``serve --store-sr``
(:mod:`medadapt.serve.image_reports`). :func:`earlier_reports` reads back the medadapt reports
a study holds already (the model each records, the series it reports on), so that a run does
not add another unsaid. Only UIDs, model identities and counts are returned; no patient data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medadapt.data.dicom_sr import (
    MANUFACTURER,
    SERIES_NUMBER,
    Finding,
    ModelIdentity,
    prediction_report,
    read_prediction_report,
)
from medadapt.data.read_errors import one_line
from medadapt.errors import DataError

if TYPE_CHECKING:
    from pydicom import Dataset

    from medadapt.data.dicomweb import DicomwebSource, Instance


@dataclass
class Prediction:
    """One prediction of a PACS image: its probabilities, the instances (and frame) and the
    cautions about that image (:func:`~medadapt.data.image_notes.image_notes`)."""

    study_uid: str
    series_uid: str
    probabilities: dict[str, float]
    sources: list[Instance]
    frames: list[int] = field(default_factory=list)
    cautions: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``STUDY/SERIES/SOP[#sliceN]``, or ``STUDY/SERIES`` for a volume of many files."""
        if len(self.sources) > 1:
            return f"{self.study_uid}/{self.series_uid}"
        frame = f"#slice{self.frames[0] - 1}" if self.frames else ""
        return f"{self.study_uid}/{self.series_uid}/{self.sources[0].sop_uid}{frame}"


@dataclass(frozen=True)
class StoredReport:
    """A report stored in the PACS: its SOPInstanceUID, the series it reports on, findings;
    the study, and the report's own series (to retrieve it with WADO-RS)."""

    sop_uid: str
    series_uid: str
    n_findings: int
    study_uid: str = ""
    report_series_uid: str = ""


def store_reports(
    source: DicomwebSource,
    predictions: Sequence[Prediction],
    model: ModelIdentity,
    stored: list[StoredReport] | None = None,
) -> list[StoredReport]:
    """One Comprehensive SR per predicted series, stored with STOW-RS series by series, each
    appended to ``stored`` (returned) as it is: a failure leaves the reports of the series
    before it stored, and a caller that passed ``stored`` knows which."""
    import pydicom

    by_series: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        by_series.setdefault(prediction.series_uid, []).append(prediction)
    stored = [] if stored is None else stored
    numbered: dict[str, set[int]] = {}  # each report of a study its own series number
    for series_uid, group in by_series.items():
        headers = {
            i.sop_uid: pydicom.dcmread(i.path, stop_before_pixels=True)
            for p in group
            for i in p.sources
        }
        findings = [
            Finding(p.probabilities, [headers[i.sop_uid] for i in p.sources], p.frames or None,
                    p.cautions)
            for p in group
        ]  # fmt: skip
        number = _series_number(findings[0].sources[0], numbered)
        try:
            report = prediction_report(findings, model, series_number=number)
        except (ValueError, TypeError, AttributeError) as exc:
            raise DataError(
                f"cannot write a DICOM SR for series {series_uid} ({one_line(exc, limit=160)}): "
                "its images lack what a report must copy from them; check them on the PACS"
            ) from None
        source.store([report], what="the report")
        stored.append(
            StoredReport(
                str(report.SOPInstanceUID), series_uid, len(findings),
                str(report.StudyInstanceUID), str(report.SeriesInstanceUID),
            )
        )  # fmt: skip
    return stored


def _series_number(source: Any, numbered: dict[str, set[int]]) -> int:
    """The series number of the report of ``source``'s series: 9900 plus the series' own
    number (1 to 98), so that reports of one study's series differ whichever run or request
    stores them (a trial's viewer listed two series 9901), else 9901; the next one free where
    a report of this call took it (``numbered``: by study)."""
    own = source.get("SeriesNumber")
    try:
        wanted = SERIES_NUMBER - 1 + int(own) if 1 <= int(own) <= 98 else SERIES_NUMBER
    except (TypeError, ValueError):
        wanted = SERIES_NUMBER
    taken = numbered.setdefault(str(source.get("StudyInstanceUID", "")), set())
    while wanted in taken:
        wanted += 1
    taken.add(wanted)
    return wanted


@dataclass(frozen=True)
class EarlierReport:
    """A medadapt report a study holds: its SOPInstanceUID, the model that wrote it (as the
    report records it) and the series it reports on."""

    sop_uid: str
    study_uid: str
    model: ModelIdentity
    series: frozenset[str]
    report_series_uid: str | None = None  # the report's own series


@dataclass
class EarlierReports:
    """What :func:`earlier_reports` found: the medadapt reports it read, and the study of each
    it could not read (written by medadapt, by their Manufacturer, but an older version's or
    edited by hand: the model that wrote it is unknown), counted, never a reason to stop."""

    reports: list[EarlierReport] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.reports or self.unreadable)

    def covered_by(self, model: ModelIdentity) -> dict[str, str]:
        """The series a report of this very ``model`` (the same base, adapter and weights)
        reports on, each with that report's SOPInstanceUID: ``predict --store-sr`` and
        ``serve`` do not report them again."""
        same = [report for report in self.reports if report.model.same_version(model)]
        return {series: report.sop_uid for report in same for series in sorted(report.series)}

    @classmethod
    def joined(cls, parts: Sequence[EarlierReports]) -> EarlierReports:
        """The reports of several studies together."""
        return cls([r for part in parts for r in part.reports],
                   [uid for part in parts for uid in part.unreadable])  # fmt: skip


def earlier_reports(
    source: DicomwebSource, study_uid: str, series_uid: str | None = None
) -> EarlierReports:
    """The medadapt prediction reports ``study_uid`` holds (QIDO-RS: its SR series; WADO-RS:
    their instances, read back), those reporting on ``series_uid`` only when it is given.
    Another SR (a radiologist's report, another vendor's) is left out unread; a medadapt
    report that cannot be read is counted (:class:`EarlierReports`); nothing but UIDs and the
    model is kept."""
    found = EarlierReports()
    for info in source.series(study_uid, modality="SR"):
        if info.description and not info.description.startswith(MANUFACTURER):
            continue  # not written by medadapt (its reports' series say "medadapt BASE")
        for ds in source.retrieve(study_uid, info.series_uid):
            if str(ds.get("Manufacturer", "")) != MANUFACTURER:
                continue
            series = _reported_series(ds)
            if series_uid is not None and series is not None and series_uid not in series:
                continue
            report = _earlier(ds, study_uid, series or frozenset())
            if report is None:
                found.unreadable.append(study_uid)
            elif series_uid is None or series_uid in report.series:
                found.reports.append(report)
    return found


def _reported_series(ds: Dataset) -> frozenset[str] | None:
    """The series a report's evidence references; None where its evidence cannot be read."""
    try:
        evidence = [*ds.get("CurrentRequestedProcedureEvidenceSequence", []),
                    *ds.get("PertinentOtherEvidenceSequence", [])]  # fmt: skip
        return frozenset(
            str(item.SeriesInstanceUID)
            for study in evidence
            for item in study.get("ReferencedSeriesSequence", [])
            if "SeriesInstanceUID" in item
        )
    except Exception:  # pydicom raises any kind on a malformed sequence
        return None


def _earlier(ds: Dataset, study_uid: str, series: frozenset[str]) -> EarlierReport | None:
    """``ds``, a report medadapt wrote (its Manufacturer), as an earlier report of ``series``;
    None when it cannot be read or names no model (an older version's, one edited by hand)."""
    try:
        findings = read_prediction_report(ds)
    except DataError:
        return None
    models = [f.model for f in findings if f.model.base_fingerprint]
    if not models:
        return None
    own = str(ds.get("SeriesInstanceUID", "")) or None
    return EarlierReport(str(ds.SOPInstanceUID), study_uid, models[0], series, own)
