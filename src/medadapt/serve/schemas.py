"""Request and response bodies of the prediction API (validated by pydantic; 422 on error)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from medadapt.data.extrapolation import FAR_OUTSIDE_SDS
from medadapt.serve.defaults import MAX_BODY_BYTES, MAX_INSTANCES
from medadapt.serve.image_inputs import shown_size

ADAPTER_REFERENCE = (
    "Adapter: NAME or NAME@promoted (its promoted version), NAME@N (that registered version) "
    "or NAME@latest (its newest registered version); a version that is not the promoted one "
    "answers only on a server started with --any-version (else a 404)."
)

LABEL = "The label column the model predicts (tables)."
POSITIVE_CLASS = (
    "Binary models: the positive class (its AUROC's, in the recorded metrics): for tables, the "
    "class that each answer's 'probability' is the probability of (predicted at probability "
    ">= 0.5); for images, the second of the two 'probabilities'. Null for other tasks."
)
POSITIVE_RULE = (
    "Where the base model made its classes from a number with --positive-above, the rule that "
    "makes a patient positive (e.g. 'num > 0'); else null."
)
METRIC_NOTES = (
    "Why a metric was not reported, and warnings about the whole result ('too_good': check "
    "for a leak; 'one_class': it calls (nearly) every patient one class; 'backwards': its "
    "AUROC lies below 0.5, ranking patients backwards; 'allowed_leak': a column kept with "
    "--allow-leak although it alone predicts the label): read them before trusting the metrics."
)
CAUTIONS = (
    "What every answer of this model says in its 'note' about its recorded test, in a few "
    "words each: no measured performance, too good to be true, an AUROC not shown better than "
    "chance, predictions too low or high on average, ... (empty: none)."
)


def instances_said(max_instances: int, max_body_bytes: int, *, default: bool = False) -> str:
    """The description of a JSON request's ``instances`` with the server's limits (``default``:
    they are the defaults, said as such, in the model's own schema).

    >>> instances_said(10, 2**19)  # doctest: +NORMALIZE_WHITESPACE
    'Patients: feature name -> value (missing features are allowed: absent, null, or text a
    CSV reads as missing, "NA", "?" or ""); at most 10 per request (serve --max-instances), in
    a body of at most 512 KiB (serve --max-body-mb).'
    """
    by_default = " by default" if default else ""
    return (
        "Patients: feature name -> value (missing features are allowed: absent, null, or text "
        'a CSV reads as missing, "NA", "?" or ""); at most '
        f"{max_instances} per request{by_default} (serve --max-instances), in a body of at most "
        f"{shown_size(max_body_bytes)}{by_default} (serve --max-body-mb)."
    )


class PredictRequest(BaseModel):
    """Route every instance to ``adapter`` ("name" = promoted version, "name@3", or
    "name@latest" = newest version), or to the adapter serving ``group``; without either,
    each instance routes by its own group field."""

    model_config = ConfigDict(extra="forbid")

    adapter: str | None = Field(None, description=ADAPTER_REFERENCE)
    group: str | None = Field(None, description="Route to the adapter serving this group.")
    instances: list[dict[str, Any]] = Field(  # the most per request: checked by the route
        ...,
        min_length=1,
        description=instances_said(MAX_INSTANCES, MAX_BODY_BYTES, default=True),
    )


VALIDATED = (
    "How the model that answered was tested, as recorded: its leading figure with its 95% "
    "interval and the number of test cases (AUROC 0.81 (0.72-0.89), n=60), 'not reported "
    "(n=8)' where too few were tested for any figure, ', warning' where a caution concerns the "
    "whole result (see note), ', tested at another site (imported)' for an adapter imported from "
    "another hospital's registry (its test patients were that site's, not this one's); a "
    "small n means the figure, and the answer, are uncertain."
)


class Prediction(BaseModel):
    adapter: str | None = Field(description="The adapter that produced it; None = base model.")
    version: int | None = Field(description="Its registry version.")
    base: str = Field(description="The base model's weights hash (first 12 characters).")
    predicted: Any = Field(
        description="Predicted class, or value for regression; null when withheld: more than "
        "half of the model's features were missing or not understood (a category it never "
        "learned carries no information; see note; serve --score-sparse answers anyway)."
    )
    probability: float | None = Field(
        None,
        description="Binary: P(positive class), the class GET /v1/adapters names in "
        "'positive_class' (and GET /v1/bases for the base alone).",
    )
    positive: str | None = Field(
        None,
        description="Binary: what 'probability' is the probability of, in words: the positive "
        "class with the rule train-base made it by ('1 (num > 0)'), or the label's value "
        "(\"dx = 'M'\").",
    )
    probabilities: dict[str, float] | None = Field(None, description="Multiclass.")
    missing_features: list[str] = Field(
        default_factory=list,
        description="The model's features this instance lacked (absent, null, or its "
        "--missing-code); the model reads each as 'not measured', as in training (a learned "
        "token, never an imputed value).",
    )
    unseen_categories: list[str] = Field(
        default_factory=list,
        description="The model's categorical features whose value it did not learn (new, too "
        'rare in training, or coded otherwise, e.g. "male" for "M"); scored as unseen.',
    )
    validated: str | None = Field(None, description=VALIDATED)
    outside_training: list[str] = Field(
        default_factory=list,
        description=f"The model's numeric features whose value lies over {FAR_OUTSIDE_SDS:g} "
        "SDs from the mean of its training rows and further than any of them, or, for a "
        "measurement always positive in training, at or below 0, under a third of its lowest or "
        "over three times its highest (a unit or typing error?): the prediction extrapolates "
        "there.",
    )
    trained_on: str | None = Field(
        None,
        description="The model that trained on this record ('adapter va@2', or 'the base "
        "model'), recognised by content from the hashes of its training rows that 'registry "
        "add' and 'add-base' kept (never values): its prediction is in-sample, more confident "
        "and more often right than on new patients (said in the note); null otherwise, or "
        "where the registry holds no such record (a version imported from another hospital).",
    )
    note: str | None = Field(
        None,
        description="Set when more than half of the features were missing or not understood "
        "(how many of each), when a category was sent in another upper/lower case than the "
        "model learned it (the fields and the model's spelling) or as another kind of value (a "
        "number for a feature learned as true/false: the model's categories), or when the base "
        "model alone answered although adapters are served (no adapter, group or group field "
        "in the request, or no adapter promoted for the instance's group), or when the "
        "adapter trained on the record (trained_on).",
    )


class PredictResponse(BaseModel):
    predictions: list[Prediction]


class DicomwebRequest(BaseModel):
    """Score the images of a study or series held by a DICOMweb archive (an image base)."""

    model_config = ConfigDict(extra="forbid")

    adapter: str | None = Field(None, description=ADAPTER_REFERENCE)
    group: str | None = Field(None, description="Route to the adapter serving this group.")
    dicomweb: str = Field(
        ...,
        max_length=2048,
        description="dicomweb+http(s)://HOST/dicom-web/studies/UID[/series/UID]",
    )
    store_sr: bool = Field(
        False,
        description="Also store the results in the archive: one DICOM Comprehensive SR per "
        "series (the server must be started with --store-sr).",
    )


class ImagePrediction(BaseModel):
    file: str = Field(description="The file as uploaded (DICOMweb: the SOP instance UID).")
    slice: int | None = Field(
        description="Slice or frame of a volume or multi-frame file; None: the whole file."
    )
    adapter: str | None = Field(description="The adapter that produced it; None = base model.")
    version: int | None = Field(description="Its registry version.")
    base: str = Field(description="The base model's weights hash (first 12 characters).")
    predicted: str = Field(description="The most probable class.")
    probabilities: dict[str, float] = Field(description="Class name -> probability.")
    validated: str | None = Field(None, description=VALIDATED)
    trained_on: str | None = Field(
        None,
        description="The model that trained on this image ('adapter chest@2', or 'the base "
        "model'), recognised by the hashes of its training images' files, pixels and stored "
        "values that 'registry add' kept and the base records (never pixels): the same file, "
        "or a copy saved with other bytes but the same pixels or stored values; its "
        "prediction is in-sample, more confident and more often right than on new patients "
        "(said in the note). 'looks like a near-copy of a training image' for a 2D image "
        "near-identical to one (a lossy re-save, by a coarse perceptual hash). Null "
        "otherwise, or where the registry holds no such record (a version imported from "
        "another hospital).",
    )
    note: str | None = Field(
        None,
        description="Set when the file's intensities were scaled unlike the training images' "
        "(a PNG for a model trained on windowed DICOM) or it is shaped unlike them (a 4:1 "
        "strip for a model trained on square films): the prediction may be unreliable; or "
        "when the base model alone answered although adapters are served (no adapter or group "
        "in the request, or no adapter promoted for its group); or when the model trained on "
        "the image (trained_on).",
    )


class StoredSR(BaseModel):
    """A DICOM SR the server stored in the archive (``"store_sr": true``)."""

    sop_instance_uid: str = Field(description="The report's SOPInstanceUID.")
    series_instance_uid: str | None = Field(
        description="The report's own SeriesInstanceUID (null only where the archive's copy "
        "does not record it)."
    )
    study_instance_uid: str = Field(description="The study it joined (the images' study).")
    reports_on_series: str = Field(
        description="The SeriesInstanceUID of the images it reports on (not the report's own)."
    )
    already_held: bool = Field(
        False,
        description="True: the archive held this model version's report on the series already "
        "(a retried request), so none was stored again; this is that report.",
    )


class ImagePredictResponse(BaseModel):
    predictions: list[ImagePrediction]
    stored_reports: list[StoredSR] | None = Field(
        None, description='With "store_sr": true, the reports stored (one per series).'
    )


def float32_number(value: Any) -> float:
    """A model's float32 output as the shortest decimal that reads back as it (``207.05914``;
    ``predict`` writes 8 decimals of the same float32), not the float64 expansion of that float32
    (``207.05914306640625``: digits the model never computed, a trial read as false
    precision).

    >>> float32_number(np.float32(207.05914)), float32_number(0.0015318365767598152)
    (207.05914, 0.0015318366)
    """
    return float(str(np.float32(value)))


class AdapterInfo(BaseModel):
    name: str
    version: int
    method: str
    weights: str = Field(
        description="sha256: and the first 16 characters of the adapter weights' SHA-256 (as "
        "'predict --store-sr' records its version): the same weights, wherever they are served."
    )
    base: str
    group: str | None
    group_column: str | None
    task: str | None
    kind: str | None = Field(None, description="The base model's kind: tabular or image.")
    label: str | None = Field(None, description=LABEL)
    positive_class: str | None = Field(None, description=POSITIVE_CLASS)
    positive_rule: str | None = Field(None, description=POSITIVE_RULE)
    metrics: dict[str, Any]
    notes: dict[str, str] = Field(default_factory=dict, description=METRIC_NOTES)
    cautions: list[str] = Field(default_factory=list, description=CAUTIONS)
    failed: str | None = Field(
        None,
        description="Set when this promoted version cannot be loaded (its base missing, a "
        "damaged file): why, with the fix, as /healthz's 'failed' says it. Requests naming it, "
        "or routed by its group, get 503 until it is fixed.",
    )
    served_despite_warnings: str | None = Field(
        None,
        description="Set when this version was promoted with 'registry promote "
        "--despite-warnings' over a refusal: the recorded harm it is served despite, as the "
        "registry's audit log keeps it.",
    )


class BaseInfo(BaseModel):
    """A base model the server holds (``GET /v1/bases``): what its answers (``adapter``
    null) and its adapters' answers predict."""

    base: str = Field(description="Its weights hash (first 12 characters), as answers name it.")
    weights: str = Field(description="sha256: and the first 16 characters of that hash.")
    kind: str = Field(description="tabular or image.")
    task: str | None = Field(description="binary, multiclass or regression (tables).")
    label: str | None = Field(None, description=LABEL)
    positive_class: str | None = Field(None, description=POSITIVE_CLASS)
    positive_rule: str | None = Field(None, description=POSITIVE_RULE)
    classes: list[str] = Field(description="Its classes, the positive one last (binary).")
    groups: list[str] = Field(description="The groups it was trained on.")
    answers_alone: bool = Field(
        description="It answers requests routed to no adapter: for a group it was trained on "
        "that no adapter is promoted for, or (the only base of its kind) naming no adapter and "
        "no group; such answers have adapter null and say so in their note."
    )
    metrics: dict[str, Any] = Field(description="Its recorded test figures.")
    notes: dict[str, str] = Field(default_factory=dict, description=METRIC_NOTES)
    cautions: list[str] = Field(default_factory=list, description=CAUTIONS)


#: a multipart request's body (images) for the OpenAPI docs
_UPLOAD_BODY: dict[str, Any] = {
    "schema": {
        "type": "object",
        "properties": {
            "adapter": {"type": "string", "description": ADAPTER_REFERENCE},
            "group": {"type": "string"},
            "file": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "description": "PNG, JPEG, DICOM or NIfTI files (image bases)",
            },
        },
        "required": ["file"],
    }
}


def predict_bodies(
    *, max_instances: int = MAX_INSTANCES, max_body_bytes: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """``POST /v1/predict``'s bodies for the OpenAPI docs (the route reads the request
    itself), with the limits of the server that serves them."""
    instances_request = PredictRequest.model_json_schema()
    instances = instances_request["properties"]["instances"]
    instances["description"] = instances_said(max_instances, max_body_bytes)
    instances["maxItems"] = max_instances
    json_bodies = {"anyOf": [instances_request, DicomwebRequest.model_json_schema()]}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": json_bodies},
                "multipart/form-data": _UPLOAD_BODY,
            },
        }
    }
