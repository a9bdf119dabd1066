"""Predictions as a DICOM Comprehensive SR (TID 1500 measurement report), and read back.

One report per study series that was predicted: one measurement group per prediction (an
image, a frame, or a whole volume), each with a measurement per class probability (a private
code ``99MEDADAPT`` per class, unit ``1``; the exact float in FloatingPointValue), the
predicted class as a qualitative evaluation, the source images it references (SOP Class and
Instance UIDs, frame numbers), the cautions about the model recorded with its test (no
measured performance, too good to be true ...; a TEXT item "Caution about the model" each),
the cautions about that very image (a TEXT item "Caution" each, in the words of ``serve``'s
``note``: :func:`medadapt.data.image_notes.image_notes`, whoever writes the report) and the
algorithm: the model's identity (:class:`ModelIdentity`), how it was validated and, one
parameter each, the model's cautions again (as readers of older reports find them). The
observer is the model as a device. The report joins the source study (its patient and
study modules are copied from the source images by highdicom, as a PACS needs them); nothing
else about the patient is written.

One naming rule, whoever writes the report (``predict --store-sr`` or ``serve``;
:meth:`ModelIdentity.of`): the Algorithm Name is the base model's id, the first
:data:`BASE_ID_CHARS` characters of its weights fingerprint (as ``serve`` answers and the
registry name it; a base's folder name is local to one machine), the whole fingerprint a
parameter; the Algorithm Version is the adapter's weights hash, ``sha256:`` and its first
:data:`ADAPTER_HASH_CHARS` characters (as ``GET /v1/adapters`` lists it), or ``base`` for the
base alone; the adapter's name is the one it was used by (its registry name when served, else
its own manifest's), and a registry version, where there is one, a parameter of its own.

>>> CLASS_SCHEME  # the coding scheme of the class codes
'99MEDADAPT'
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medadapt import __version__
from medadapt.errors import DataError

if TYPE_CHECKING:
    from pydicom import Dataset

CLASS_SCHEME = "99MEDADAPT"
MANUFACTURER = "medadapt"
SERIES_NUMBER = 9901
SERIES_DESCRIPTION = "medadapt AI result, unverified"  # then the model, in brackets
BASE_ID_CHARS = 12  # the base model's id: its weights fingerprint's first characters
ADAPTER_HASH_CHARS = 16  # an adapter's version: its weights' SHA-256, first characters
_PREFIX = "medadapt "  # how the algorithm's parameters are spelt: "medadapt base=NAME", ...
WARNING = "warning"  # one parameter per caution: "medadapt warning=ranked its test cases ..."
#: the concept of a caution about one prediction (a TEXT item of its measurement group)
CAUTION = ("CAUTION", CLASS_SCHEME, "Caution")
#: the concept of a caution about the model that made it, recorded with its test (a TEXT
#: item of each measurement group too: a trial's viewer showed "Finding: class abnormal" and
#: left the algorithm's parameters, where they are also written, folded away)
MODEL_CAUTION = ("MODELCAUTION", CLASS_SCHEME, "Caution about the model")
#: how a finding names the class it states: the model's most probable, not a diagnosis
MOST_PROBABLE = "most probable class"


@dataclass(frozen=True)
class ModelIdentity:
    """Which model made the predictions: base name, its weights' fingerprint, the adapter."""

    base: str
    base_fingerprint: str  # SHA-256 of the base weights (BaseFingerprint.weights)
    adapter: str | None = None
    adapter_version: str | None = None
    validation: str | None = None  # how the model was tested ("AUROC 0.81 (0.72-0.89), n=60")
    # the cautions recorded with that test, in words ("test result too good to be true: ...")
    warnings: tuple[str, ...] = ()
    registry_version: int | None = None  # the adapter's version in a registry (served)
    # a base folder that is a full fine-tune (``adapt --method full``): the adaptation's
    # name; its weights, so its id, are the fine-tuned ones (it was "base model ... alone")
    fine_tuned: str | None = None

    @classmethod
    def of(
        cls,
        base_fingerprint: str,
        adapter: str | None = None,
        adapter_sha256: str | None = None,
        *,
        registry_version: int | None = None,
        validation: str | None = None,
        warnings: Sequence[str] = (),
        fine_tuned: str | None = None,
    ) -> ModelIdentity:
        """The identity a report records, by the module's one naming rule: the base by its
        id (the fingerprint's first characters), the adapter's version by its weights' hash.

        >>> model = ModelIdentity.of("ab" * 32, "site_b", "cd" * 32, registry_version=1)
        >>> model.base, model.adapter, model.adapter_version, model.registry_version
        ('abababababab', 'site_b', 'sha256:cdcdcdcdcdcdcdcd', 1)
        """
        version = (
            None if adapter_sha256 is None else f"sha256:{adapter_sha256[:ADAPTER_HASH_CHARS]}"
        )
        return cls(base_fingerprint[:BASE_ID_CHARS], base_fingerprint, adapter, version,
                   validation, tuple(warnings), registry_version, fine_tuned)  # fmt: skip

    def parameters(self) -> list[str]:
        values = {
            "base": self.base,
            "base_fingerprint": self.base_fingerprint,
            "adapter": self.adapter or "",
            "adapter_version": self.adapter_version or "",
            "validation": self.validation or "",
        }
        if self.registry_version is not None:
            values["registry_version"] = str(self.registry_version)
        if self.fine_tuned is not None:
            values["fine_tuned"] = self.fine_tuned
        named = [f"{_PREFIX}{k}={v}" for k, v in values.items()]
        return named + [f"{_PREFIX}{WARNING}={w}"[:64] for w in self.warnings]

    def same_version(self, other: ModelIdentity) -> bool:
        """Whether ``other`` is this very model: the same base weights and the same adapter
        weights (its Algorithm Version; the adapter's name may differ: a registry names it).

        >>> a = ModelIdentity.of("ab" * 32, "site_b", "cd" * 32)
        >>> a.same_version(ModelIdentity.of("ab" * 32, "b", "cd" * 32, registry_version=2))
        True
        >>> a.same_version(ModelIdentity.of("ab" * 32))  # the base alone
        False
        """
        return (self.base_fingerprint, self.adapter_version) == (
            other.base_fingerprint, other.adapter_version
        )  # fmt: skip

    def described(self) -> str:
        """The model in a few words, as a message names it.

        >>> ModelIdentity.of("ab" * 32, "site_b", "cd" * 32).described()
        'adapter site_b (sha256:cdcdcdcdcdcdcdcd) on base model abababababab'
        >>> ModelIdentity.of("ab" * 32).described()
        'base model abababababab alone'
        >>> ModelIdentity.of("ab" * 32, fine_tuned="va_full").described()
        'fully fine-tuned model abababababab (va_full)'
        """
        if self.adapter_version is None and self.fine_tuned is not None:
            return f"fully fine-tuned model {self.base} ({self.fine_tuned})"
        if self.adapter_version is None:
            return f"base model {self.base} alone"
        return f"adapter {self.adapter} ({self.adapter_version}) on base model {self.base}"

    @classmethod
    def from_parameters(cls, parameters: Sequence[str]) -> ModelIdentity:
        pairs = [p[len(_PREFIX) :].split("=", 1) for p in parameters if p.startswith(_PREFIX)]
        values = dict(pairs)
        registry_version = values.get("registry_version", "")
        return cls(
            values.get("base", ""),
            values.get("base_fingerprint", ""),
            values.get("adapter") or None,
            values.get("adapter_version") or None,
            values.get("validation") or None,
            tuple(v for k, v in pairs if k == WARNING),
            int(registry_version) if registry_version.isdigit() else None,
            values.get("fine_tuned") or None,
        )


@dataclass(frozen=True)
class Finding:
    """One prediction: class -> probability (the model's class order), the source instances
    (headers suffice), for a multi-frame source the 1-based frame numbers, and the cautions
    about this image (:func:`~medadapt.data.image_notes.image_notes`), one TEXT item each."""

    probabilities: dict[str, float]
    sources: Sequence[Any]
    frames: Sequence[int] | None = None
    cautions: Sequence[str] = ()


@dataclass(frozen=True)
class ReportedFinding:
    """A finding read back from a report: SOPInstanceUIDs it references, probabilities, the
    predicted class, the model and the cautions about that image."""

    sop_uids: tuple[str, ...]
    probabilities: dict[str, float]
    predicted: str
    model: ModelIdentity = field(compare=False)
    cautions: tuple[str, ...] = ()
    # the model's cautions as the group's own items say them (none in an older report)
    model_cautions: tuple[str, ...] = field(default=(), compare=False)


def _class_code(index: int, name: str, what: str) -> Any:
    from highdicom.sr import CodedConcept

    meaning = f"{what} {name}"
    return CodedConcept(f"C{index}", CLASS_SCHEME, meaning[:64])


def _group(finding: Finding, number: int, model: ModelIdentity) -> Any:
    from highdicom.sr import (
        AlgorithmIdentification,
        Measurement,
        MeasurementsAndQualitativeEvaluations,
        SourceImageForMeasurementGroup,
        TrackingIdentifier,
    )
    from pydicom.sr.codedict import codes

    classes = list(finding.probabilities)
    algorithm = AlgorithmIdentification(
        name=model.base[:64], version=(model.adapter_version or "base")[:64],
        parameters=model.parameters(),
    )  # fmt: skip
    measurements = [
        Measurement(
            name=_class_code(i, name, "probability of"),
            value=float(finding.probabilities[name]),
            unit=codes.UCUM.NoUnits,
        )
        for i, name in enumerate(classes)
    ]
    best = max(range(len(classes)), key=lambda i: finding.probabilities[classes[i]])
    frames = list(finding.frames) if finding.frames else None
    sources = [
        SourceImageForMeasurementGroup(str(ds.SOPClassUID), str(ds.SOPInstanceUID), frames)
        for ds in finding.sources
    ]
    group = MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(identifier=f"prediction {number}"),
        algorithm_id=algorithm,
        # "most probable": a viewer showed "Finding: class abnormal" at a probability of 0.59,
        # read as a diagnosis; the probabilities beside it say how probable
        finding_type=_class_code(best, classes[best], MOST_PROBABLE),
        measurements=measurements,
        source_images=sources,
    )
    said = [(MODEL_CAUTION, text) for text in model.warnings]
    said += [(CAUTION, text) for text in finding.cautions]
    group[0].ContentSequence.extend(_caution_item(concept, text) for concept, text in said)
    return group


def _caution_item(concept: tuple[str, str, str], text: str) -> Any:
    """A caution about one prediction or the model that made it: a TEXT item (UT: the whole
    sentence, never cut) of its measurement group (TID 1501 is extensible)."""
    from highdicom.sr import CodedConcept, RelationshipTypeValues, TextContentItem

    return TextContentItem(name=CodedConcept(*concept), value=text,
                           relationship_type=RelationshipTypeValues.CONTAINS)  # fmt: skip


def _observer(model: ModelIdentity) -> Any:
    from highdicom.sr import (
        DeviceObserverIdentifyingAttributes,
        ObservationContext,
        ObserverContext,
    )
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    device = DeviceObserverIdentifyingAttributes(
        uid=generate_uid(entropy_srcs=[model.base_fingerprint, model.adapter or ""]),
        name=MANUFACTURER, manufacturer_name=MANUFACTURER, model_name=model.base[:64],
    )  # fmt: skip
    return ObservationContext(observer_device_context=ObserverContext(codes.DCM.Device, device))


def prediction_report(
    findings: Sequence[Finding],
    model: ModelIdentity,
    *,
    series_number: int = SERIES_NUMBER,
    instance_number: int = 1,
) -> Dataset:
    """A Comprehensive SR of ``findings`` (all of one study) by ``model``, validated by
    highdicom; a new series and SOP instance UID. Store it with ``DicomwebSource.store``."""
    from highdicom.sr import CodedConcept, ComprehensiveSR, MeasurementReport
    from pydicom.uid import generate_uid

    if not findings or not all(f.sources and f.probabilities for f in findings):
        raise DataError("a prediction report needs findings with probabilities and sources")
    evidence = _evidence(findings)
    report = MeasurementReport(
        observation_context=_observer(model),
        procedure_reported=CodedConcept("363679005", "SCT", "Imaging procedure"),
        imaging_measurements=[_group(f, i, model) for i, f in enumerate(findings, start=1)],
    )
    return ComprehensiveSR(
        evidence=evidence,
        content=report,
        series_instance_uid=generate_uid(),
        series_number=series_number,
        sop_instance_uid=generate_uid(),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        software_versions=f"medadapt {__version__}",  # what wrote it (a trial's SR: nothing)
        is_complete=True,
        is_verified=False,
        # what a study list shows: an unverified AI result (a trial's viewer listed only
        # "medadapt d8b7b7adb4a7"); "medadapt" first, as earlier reports are found by it
        series_description=series_description(model),
    )


def series_description(model: ModelIdentity) -> str:
    """What a study list shows of a report: an unverified AI result, and the model by the
    adapter's name and the base's id (a later trial's list showed only the base's hash, the
    adapter's name folded away among the algorithm's parameters); 64 characters at most,
    a long adapter name shortened rather than the base's id.

    >>> series_description(ModelIdentity.of("ab" * 32, "site_b", "cd" * 32))
    'medadapt AI result, unverified (site_b on abababababab)'
    >>> series_description(ModelIdentity.of("ab" * 32))
    'medadapt AI result, unverified (base model abababababab alone)'
    >>> series_description(ModelIdentity.of("ab" * 32, fine_tuned="va_full"))
    'medadapt AI result, unverified (fine-tuned model abababababab)'
    >>> len(series_description(ModelIdentity.of("ab" * 32, "x" * 80, "cd" * 32)))
    64
    """
    if model.adapter is None and model.fine_tuned is not None:
        return f"{SERIES_DESCRIPTION} (fine-tuned model {model.base})"
    if model.adapter is None:
        return f"{SERIES_DESCRIPTION} (base model {model.base} alone)"[:64]
    room = 64 - len(f"{SERIES_DESCRIPTION} ( on {model.base})")
    name = model.adapter if len(model.adapter) <= room else model.adapter[: room - 3] + "..."
    return f"{SERIES_DESCRIPTION} ({name} on {model.base})"


def _evidence(findings: Sequence[Finding]) -> list[Any]:
    """The distinct source instances, refused when they span studies."""
    seen: dict[str, Any] = {}
    for finding in findings:
        for ds in finding.sources:
            seen.setdefault(str(ds.SOPInstanceUID), ds)
    studies = {str(ds.StudyInstanceUID) for ds in seen.values()}
    if len(studies) != 1:
        raise DataError(
            f"a prediction report covers one study; these findings span {len(studies)}: make "
            "one report per study"
        )
    first, *others = seen.values()
    return [_with_patient_and_study(first), *others]


#: what a report copies from its first source image: Type 2 in the SR (present, may be
#: empty), but some archives' images leave them out
COPIED_TYPE_2 = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex",
                 "AccessionNumber", "StudyID", "StudyDate", "StudyTime")  # fmt: skip


def _with_patient_and_study(ds: Dataset) -> Dataset:
    """``ds`` (a header), or a copy of it with every :data:`COPIED_TYPE_2` attribute it lacks
    present and empty, as the SR may hold it: nothing is made up."""
    missing = [keyword for keyword in COPIED_TYPE_2 if keyword not in ds]
    if not missing:
        return ds
    copied = copy.deepcopy(ds)  # a shallow copy shares its elements with ds
    for keyword in missing:
        setattr(copied, keyword, "")
    return copied


def read_prediction_report(ds: Dataset) -> list[ReportedFinding]:
    """The findings of a report :func:`prediction_report` wrote (read with highdicom); a
    :class:`~medadapt.errors.DataError` for anything else, whatever fails in it: another SR,
    or a medadapt report an older version wrote or a hand edited (a measurement group
    without its items, a value that is no number)."""
    from highdicom.sr import ComprehensiveSR

    try:
        report = ComprehensiveSR.from_dataset(ds, copy=True)
        return [_reported(group) for group in report.content.get_image_measurement_groups()]
    except Exception as exc:  # highdicom and pydicom raise any kind on malformed content
        raise DataError(f"not a medadapt prediction report ({type(exc).__name__})") from None


def _reported(group: Any) -> ReportedFinding:
    from highdicom.sr import CodedConcept
    from highdicom.sr.utils import find_content_items
    from pydicom.sr.codedict import codes

    probabilities = {}
    for item in group.get_measurements():
        name = item.name.meaning.removeprefix("probability of ")
        probabilities[name] = float(item.value)
    found = find_content_items(group[0], name=codes.DCM.AlgorithmParameters)
    parameters = [str(item.TextValue) for item in found]
    kind = group.finding_type
    # (a report written before said "class X")
    meaning = "" if kind is None else str(kind.meaning)
    predicted = meaning.removeprefix(f"{MOST_PROBABLE} ").removeprefix("class ")
    sop_uids = tuple(str(s.referenced_sop_instance_uid) for s in _sources(group))
    cautions, model_cautions = (
        tuple(str(item.TextValue) for item in find_content_items(group[0], name=CodedConcept(*c)))
        for c in (CAUTION, MODEL_CAUTION)
    )
    model = ModelIdentity.from_parameters(parameters)
    return ReportedFinding(sop_uids, probabilities, predicted, model, cautions, model_cautions)


def _sources(group: Any) -> list[Any]:
    try:
        return list(group.source_images)
    except AttributeError:
        return []
