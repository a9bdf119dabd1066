"""The service's routes: ``POST /v1/predict``, ``GET /v1/adapters``, ``/v1/bases``, ``/healthz``,
``/metrics``.

:func:`add_predict_route` and :func:`add_info_routes` add them to the app
:func:`medadapt.serve.app.create_app` builds; the predictions go through its micro-batcher.
``/v1/predict`` reads its body by content type: JSON instances (tabular), a JSON DICOMweb
reference or multipart uploads (images, :mod:`medadapt.serve.image_routes`); JSON is read
by :mod:`medadapt.serve.request_json`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError

import medadapt
from medadapt.data.extrapolation import outside_in_record
from medadapt.data.schema import TableSchema
from medadapt.errors import ConfigError, MedadaptError
from medadapt.modalities.tabular.kind_slips import kind_slip_note, kind_slips
from medadapt.registry.groups import group_key
from medadapt.registry.records import parse_ref
from medadapt.serve.access_log import note_adapters, note_instances, route_ref
from medadapt.serve.batching import MicroBatcher
from medadapt.serve.defaults import MAX_BODY_BYTES, MAX_INSTANCES
from medadapt.serve.image_inputs import empty_field
from medadapt.serve.image_routes import ImagePredictor
from medadapt.serve.instance_notes import (
    case_slip_note,
    case_slips,
    coded_missing_note,
    lacking_note,
    missing_in_record,
    other_unseen_note,
    outside_note,
    too_few_used,
    unseen_categories,
    unused_note,
)
from medadapt.serve.listing import positive_words
from medadapt.serve.request_json import json_body, not_a_list, send_images, unwrapped
from medadapt.serve.resolve import resolve_routes
from medadapt.serve.schemas import (
    AdapterInfo,
    BaseInfo,
    DicomwebRequest,
    ImagePredictResponse,
    PredictRequest,
    PredictResponse,
    float32_number,
    predict_bodies,
)
from medadapt.serve.state import (
    BASE_ALONE,
    GroupConflict,
    Route,
    ServedBase,
    ServingState,
    joined_notes,
)
from medadapt.serve.telemetry import Telemetry
from medadapt.serve.trained_rows import in_sample_note, trained_among
from medadapt.serve.validation import as_csv_reads, check_instance, closest_field, unknown_field

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger("medadapt.serve")
ROUTING_FIELDS = ("adapter", "group")  # where a request's answers come from, not what to score
#: the fields only one kind of JSON request has
_DICOMWEB_ONLY = set(DicomwebRequest.model_fields) - set(PredictRequest.model_fields)
_INSTANCES_ONLY = set(PredictRequest.model_fields) - set(DicomwebRequest.model_fields)


def add_predict_route(
    app: FastAPI,
    *,
    state: ServingState,
    batcher: MicroBatcher,
    telemetry: Telemetry,
    refresh: Callable[..., None],
    authorize: Callable[..., None],
    images: ImagePredictor,
    max_instances: int = MAX_INSTANCES,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> None:
    """``POST /v1/predict``: JSON instances for a tabular base (each routed to its adapter,
    checked against its base model's schema, scored in the next micro-batch; at most
    ``max_instances`` per request); for an image base, multipart uploads or a JSON DICOMweb
    reference (:mod:`medadapt.serve.image_routes`). The API's description says these limits
    (``max_body_bytes``: the largest JSON body, which the app's middleware enforces)."""

    @app.post(
        "/v1/predict",
        response_model=PredictResponse | ImagePredictResponse,
        dependencies=[Depends(authorize)],
        openapi_extra=predict_bodies(max_instances=max_instances, max_body_bytes=max_body_bytes),
    )
    async def predict(request: Request) -> JSONResponse:
        await look_for_promotions(state, batcher, refresh)
        if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            return await images.uploads(request)
        body = await json_body(request)
        _check_routing_fields(body)
        kinds = {served.kind for served in state.bases.values()}
        _check_something_sent(state, body, kinds)
        if _request_model(body, kinds) is DicomwebRequest:
            return await images.dicomweb(_validated(DicomwebRequest, body))
        _check_wrapped(state, body)
        request_body = _validated(PredictRequest, body)
        note_instances(len(request_body.instances))  # for the access log: a count, no value
        _check_count(request_body, max_instances)
        return await _predict_instances(state, batcher, telemetry, request_body)


def _check_routing_fields(body: Any) -> None:
    """422 for ``"adapter": ""`` (or blanks), said as a multipart form field sent empty is:
    a client whose variable is unset must not be answered by another model (it was told
    "version reference '' is invalid"); an empty ``group`` likewise (it was a 404 naming the
    groups served, the multipart field's a 422)."""
    for field in ("adapter", "group"):
        value = body.get(field) if isinstance(body, dict) else None
        if isinstance(value, str) and not value.strip():
            error = {"loc": ["body", field], "msg": empty_field(field), "type": "value_error"}
            raise RequestValidationError([error])


def _check_something_sent(state: ServingState, body: Any, kinds: set[str]) -> None:
    """One 422 for a JSON body that only routes (``{"adapter": "site_b"}``: no DICOMweb
    reference, no instances) to an image adapter, or to a server of images alone, saying how
    images are sent; not pydantic's bare "dicomweb: Field required" (nor "instances: Field
    required" where tables are served too). A table adapter's is told it lacks instances."""
    if not isinstance(body, dict) or not body or set(body) - set(ROUTING_FIELDS):
        return
    adapter = body.get("adapter")
    named = None
    if isinstance(adapter, str) and valid_ref(adapter):
        named = adapter if state.kind_of(adapter) == "image" else None
        if named is None and state.kind_of(adapter) is not None:
            return  # a table adapter: "instances: Field required" says what is missing
    if named is None and kinds != {"image"}:
        return
    whose = f"adapter {named!r}" if named else "this server"
    said = f"{whose} serves image data, and the request sends none: {send_images(named)}"
    raise RequestValidationError([{"loc": ["body"], "msg": said, "type": "missing"}])


def valid_ref(text: str) -> bool:
    """Whether ``text`` is a version reference (``NAME``, ``NAME@3``...; a malformed one is
    told the forms by the route)."""
    try:
        parse_ref(text)
    except ConfigError:
        return False
    return True


def _check_wrapped(state: ServingState, body: Any) -> None:
    """One 422 for a JSON body that is no request object: an array of records, or one
    patient's record sent bare (its fields the served tables' features), saying to wrap the
    records as ``{"instances": [...]}``; not pydantic's "valid dictionary" or one "unknown
    field" per feature."""
    if isinstance(body, dict) and "instances" in body:  # the usual request: nothing to judge
        return
    fields = PredictRequest.model_fields
    features: set[str] = set()
    for served in state.bases.values():
        if served.kind == "tabular":
            features |= {f.name for f in served.schema.features}
    said = unwrapped(body, fields, lambda key: closest_field(key, list(fields)), features)
    if said is not None:
        raise RequestValidationError([{"loc": ["body"], "msg": said, "type": "model_type"}])


def _check_count(body: PredictRequest, max_instances: int) -> None:
    """422 on ``instances`` for a request over ``max_instances`` (``serve --max-instances``)."""
    if len(body.instances) > max_instances:
        raise RequestValidationError([{
            "loc": ["body", "instances"], "type": "too_long",
            "msg": f"{len(body.instances)} instances sent, at most {max_instances} per request; "
                   "send them in several requests",
        }])  # fmt: skip


def _request_model(body: Any, kinds: set[str]) -> type[BaseModel]:
    """What a JSON ``body`` asks for: a DICOMweb reference when it has ``dicomweb``, or a
    field spelt like one only that request has (``dicomwb``, ``store_SR``), or when image
    bases alone are served (``kinds``); instances for a tabular base otherwise."""
    if not isinstance(body, dict):
        return PredictRequest
    if "dicomweb" in body:
        return DicomwebRequest
    if "instances" in body:
        return PredictRequest
    fields = [*PredictRequest.model_fields, *_DICOMWEB_ONLY]
    meant = {key if key in fields else closest_field(str(key), fields) for key in body}
    if meant & _DICOMWEB_ONLY:
        return DicomwebRequest
    if meant & _INSTANCES_ONLY:
        return PredictRequest
    return DicomwebRequest if kinds == {"image"} else PredictRequest


async def look_for_promotions(
    state: ServingState, batcher: MicroBatcher, refresh: Callable[..., None]
) -> None:
    """Reload newly promoted or removed versions when the registry changed (a stat per
    request: :meth:`ServingState.claim_refresh`) before this request is routed; a request
    arriving while such a reload runs on the worker thread waits for it too. A registry that
    cannot be read for a moment (busy) is logged, and the adapters loaded keep answering."""

    async def reload() -> None:
        try:
            await batcher.call_in_worker(lambda: refresh(force=True))
        except MedadaptError as exc:
            _not_reread(exc)

    while state.reloading is not None and not state.reloading.done():
        await asyncio.shield(state.reloading)  # then look again: it may have read too early
    try:
        changed = await state.claim_refresh()
    except MedadaptError as exc:
        _not_reread(exc)
        return
    if not changed:
        return
    while state.reloading is not None and not state.reloading.done():
        # started while this request read the generation: it may have read an older one
        await asyncio.shield(state.reloading)
    state.reloading = asyncio.ensure_future(reload())  # back at once where nothing is newer
    await asyncio.shield(state.reloading)


def _not_reread(exc: MedadaptError) -> None:
    """Log that the registry could not be read just now (busy): what is loaded answers."""
    log.warning("registry not re-read (%s); serving the adapters already loaded", exc)


async def _predict_instances(
    state: ServingState, batcher: MicroBatcher, telemetry: Telemetry, body: PredictRequest
) -> JSONResponse:
    """Tabular instances: routed, checked, scored in the next micro-batch."""
    routes = await resolve_routes(state, batcher, lambda: _routes(state, body))
    note_adapters(route_ref(route.name, route.version) for route in routes)
    instances = [as_csv_reads(state.bases[route.base_key].schema, instance)
                 for instance, route in zip(body.instances, routes, strict=True)]  # fmt: skip
    _check_instances(state, instances, routes)
    scores = await batcher.submit(
        [(route.batch_key, (inst, route)) for inst, route in zip(instances, routes, strict=True)]
    )
    out = _predictions(state, telemetry, routes, scores, instances)
    # the dicts already have PredictResponse's shape (a test checks it against the model);
    # returning a response skips a second pydantic pass per request
    return JSONResponse({"predictions": out})


def _routes(state: ServingState, body: PredictRequest) -> list[Route]:
    """Each instance's route; every instance whose group field contradicts the request's
    ``group`` or adapter is named in one 422 (at its field), not only the first."""
    routes, conflicts = [], []
    for index, instance in enumerate(body.instances):
        try:
            routes.append(state.route(body.adapter, body.group, instance, index=index))
        except GroupConflict as exc:
            conflicts.append({"loc": exc.loc, "msg": str(exc), "type": "value_error"})
    if conflicts:
        raise RequestValidationError(conflicts)
    return routes


def _validated(model: type[M], body: Any) -> M:
    """``body`` as ``model``; a 422 naming each field (``["body", field, ...]``) when not."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError(_field_errors(model, exc.errors())) from None


def _field_errors(model: type[BaseModel], errors: list[Any]) -> list[dict[str, Any]]:
    """pydantic's errors, each at ``["body", field, ...]``; a field the body does not take
    names the field meant ("unknown field 'adaptr': did you mean 'adapter'?"), and that
    field is then not also said to be missing; ``instances`` sent as one record (an object)
    is told to wrap it in a list."""
    fields = list(model.model_fields)
    unknown = [str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden"]
    meant = {closest_field(key, fields) for key in unknown}
    out = []
    for error in errors:
        loc = error["loc"]
        if error["type"] == "missing" and len(loc) == 1 and loc[0] in meant:
            continue
        if error["type"] == "extra_forbidden" and len(loc) == 1:
            error = {**error, "msg": unknown_field(str(loc[0]), fields)}
        if error["type"] == "list_type" and tuple(loc) == ("instances",):
            error = {**error, "msg": not_a_list("instances", error.get("input"))}
        out.append({**error, "loc": ["body", *loc]})
    return out


def _fields_elsewhere(state: ServingState, route: Route) -> dict[str, frozenset[str]]:
    """Each other promoted table adapter's fields (features, group and id columns), on a
    base other than ``route``'s: where an instance's many unknown fields are all one's, its
    error names it."""
    out = {}
    for name, other in state.tables.promoted.items():
        served = state.bases.get(other.base_key)
        schema = getattr(served, "schema", None)
        if other.base_key == route.base_key or not isinstance(schema, TableSchema):
            continue
        own = {c for c in (schema.group_column, schema.id_column) if c}
        out[name] = frozenset({f.name for f in schema.features} | own)
    return out


def _check_instances(
    state: ServingState, instances: list[dict[str, Any]], routes: list[Route]
) -> None:
    """422 listing every problem of every instance with the schema of its base model."""
    errors = []
    routing_fields = state.routing_fields()
    for i, (instance, route) in enumerate(zip(instances, routes, strict=True)):
        schema = state.bases[route.base_key].schema
        errors += check_instance(schema, i, instance, routing_fields,
                                 elsewhere=_fields_elsewhere(state, route))  # fmt: skip
    if errors:
        raise RequestValidationError(errors)


def _predictions(
    state: ServingState,
    telemetry: Telemetry,
    routes: list[Route],
    scores: list[Any],
    instances: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One prediction per instance, each counted under its adapter's name, and flagged where
    the adapter trained on it (:func:`_trained_on`)."""
    out = []
    flags = _trained_on(state, routes, instances)
    for route, score, instance, who in zip(routes, scores, instances, flags, strict=True):
        telemetry.instances.labels(route.name or "base").inc()
        out.append(_prediction(state.bases[route.base_key], route, score, instance,
                               withhold_sparse=not state.score_sparse,
                               trained_on=who))  # fmt: skip
    return out


def _trained_on(
    state: ServingState, routes: list[Route], instances: list[dict[str, Any]]
) -> list[str | None]:
    """Per instance: the model that trained on it, recognised by content from the hashes the
    registry kept: its adapter ("adapter va@2"), else its base ("the base model"; ``predict``
    names the adapter where both did), else None; the instances of one model in one pass."""
    out: list[str | None] = [None] * len(instances)
    models: dict[tuple[Any, ...], tuple[str, Any, list[int]]] = {}
    for i, route in enumerate(routes):
        base = state.bases[route.base_key].trained_rows
        if base is not None:
            models.setdefault(("base", route.base_key), ("the base model", base, []))[2].append(i)
        if route.trained_rows is not None:
            who = f"adapter {route.name}@{route.version}"
            models.setdefault(("adapter", who), (who, route.trained_rows, []))[2].append(i)
    for key in sorted(models, key=lambda key: key[0] != "base"):  # an adapter's flag wins
        who, rows, where = models[key]
        found = trained_among([instances[i] for i in where], rows)
        for i in np.asarray(where)[found]:
            out[int(i)] = who
    return out


def _not_scored(note: str | None) -> str | None:
    """A route's note, for an instance withheld: the base alone did not score it.

    >>> _not_scored("scored by the base model alone: the request names no adapter")
    'for the base model alone: the request names no adapter'
    """
    return note.replace(BASE_ALONE, "for the base model alone", 1) if note else note


def _prediction(
    served: ServedBase,
    route: Route,
    score: Any,
    instance: dict[str, Any],
    withhold_sparse: bool = True,
    trained_on: str | None = None,
) -> dict[str, Any]:
    """One prediction in :class:`Prediction`'s shape, naming the features it lacked and the
    categories it did not learn (a case slip: with the model's spelling; a value of another
    kind, ``1`` for true/false: with the model's categories); withheld
    (``predicted`` None, the note saying why) where more than half of the model's features
    were missing or not understood (an unseen category carries no information), unless
    ``withhold_sparse`` is False (``serve --score-sparse``). ``trained_on``: the model (its
    adapter, or its base) that trained on this record (its prediction in-sample: said in the
    note), else None."""
    schema = served.schema
    missing = missing_in_record(schema, instance)
    unseen = unseen_categories(schema, instance)
    n_features = len(schema.features)
    withheld = withhold_sparse and too_few_used(len(missing), len(unseen), n_features)
    sparse = unused_note(len(missing), len(unseen), n_features, withheld=withheld)
    out: dict[str, Any] = {
        "adapter": route.name,
        "version": route.version,
        "base": served.key[:12],
        "probability": None,
        "probabilities": None,
        "missing_features": missing,
        "unseen_categories": unseen,
        "outside_training": (
            outside := outside_in_record(schema.numeric_features, instance, schema.missing_codes)
        ),
        "validated": route.validated,
        "trained_on": trained_on,
        "note": joined_notes(  # withheld: why first, and no word of a prediction not made
            None if withheld else route.note,  # which model answered, its cautions, first
            None
            if withheld or not trained_on
            else in_sample_note(trained_on, measured=schema.task == "regression"),
            sparse,
            lacking_note(missing, len(unseen), n_features),
            coded_missing_note(instance, missing),
            outside_note(outside, predicted=not withheld),
            case_slip_note(cased := case_slips(schema, instance)),
            kind_slip_note(schema, kinds := kind_slips(schema, instance)),
            other_unseen_note(schema, unseen, {*cased, *kinds}),
            # last: what "validated"'s ", warning" means; nothing was scored
            _not_scored(route.note) if withheld else None,
        ),
    }
    if schema.task == "binary":  # what "probability" is of, withheld or not (one shape)
        out["positive"] = positive_words(schema)
    if withheld:
        out["predicted"] = None
        return out
    if schema.task == "binary":
        p = float32_number(score)
        out.update(predicted=schema.classes[1] if p >= 0.5 else schema.classes[0], probability=p)
    elif schema.task == "multiclass":
        probs = np.asarray(score, dtype=float)
        out.update(
            predicted=schema.classes[int(probs.argmax())],
            probabilities={
                c: float32_number(p) for c, p in zip(schema.classes, probs, strict=True)
            },
        )
    else:
        out["predicted"] = float32_number(score)
    return out


def add_info_routes(
    app: FastAPI,
    *,
    state: ServingState,
    batcher: MicroBatcher,
    telemetry: Telemetry,
    refresh: Callable[..., None],
    authorize: Callable[..., None],
    authorized: Callable[..., bool],
) -> None:
    """``GET /v1/adapters``, ``/v1/bases``, ``/healthz`` (no token needed) and ``/metrics``;
    the first three look for new promotions first, so they show what the next prediction
    would use. ``authorized``: a dependency telling whether the request carries the server's
    token (or the server has none); only then does ``/healthz`` name adapters and say why."""

    @app.get("/v1/adapters", response_model=list[AdapterInfo], dependencies=[Depends(authorize)])
    async def adapters() -> list[dict[str, Any]]:
        """The promoted versions: those served, then those that cannot be loaded (``failed``
        says why, as ``/healthz`` does); each names what its ``probability`` is of."""
        await look_for_promotions(state, batcher, refresh)
        return [*state.tables.info, *state.tables.failed_info]

    @app.get("/v1/bases", response_model=list[BaseInfo], dependencies=[Depends(authorize)])
    async def bases() -> list[dict[str, Any]]:
        """The base models serving (those of the promoted adapters, and those answering alone),
        each naming what its ``probability`` is of."""
        await look_for_promotions(state, batcher, refresh)
        return state.served_bases()

    @app.get("/healthz")
    async def healthz(detailed: bool = Depends(authorized)) -> dict[str, Any]:
        """Status and counts for anyone (load balancers): ``degraded`` (still HTTP 200: the
        other adapters serve) when promoted adapters could not be loaded, a base model that
        serves cannot be loaded (``n_failed_base_models``), several promoted adapters claim
        one group (requests routed by it get 409), or a loaded model's files were deleted,
        changed or written again since it was loaded (``n_models_missing_files``: a ``stat``
        per file; an adapter's blob written again hashed once;
        the model answers from memory, but a restart would not load it). With the server's
        token (or on a server without one) also ``failed`` (adapter -> why),
        ``failed_base_models`` (base model -> why), ``conflicting_groups`` (``column=group``
        -> the adapters claiming it) and ``missing_files`` (model -> its first file gone, and
        what to do)."""
        await look_for_promotions(state, batcher, refresh)
        tables = state.tables
        failed, conflicts = tables.failed, tables.conflicts
        failed_bases = {key[:16]: f.why for key, f in sorted(tables.failed_bases.items())}
        missing = state.missing_files()
        health: dict[str, Any] = {
            "status": "degraded" if failed or conflicts or failed_bases or missing else "ok",
            "adapters": len(tables.promoted),
            "n_failed": len(failed),
            "n_failed_base_models": len(failed_bases),
            "n_conflicting_groups": len(conflicts),
            "n_models_missing_files": len(missing),
            "generation": state.generation,
            "version": medadapt.__version__,
        }
        if detailed:
            claimed = {group_key(group): names for group, names in sorted(conflicts.items())}
            health.update(failed=failed, failed_base_models=failed_bases,
                          conflicting_groups=claimed, missing_files=missing)  # fmt: skip
        return health

    @app.get("/metrics", dependencies=[Depends(authorize)])
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(telemetry.registry), media_type=CONTENT_TYPE_LATEST
        )
