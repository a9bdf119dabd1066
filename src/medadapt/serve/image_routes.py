"""The image side of ``POST /v1/predict``: multipart uploads, or a JSON DICOMweb reference.

A request names one adapter (or a group; or neither, for the only image base alone). Its
images are read in the decoding pool (:mod:`medadapt.serve.image_decode`) while the event
loop serves other requests, then join the shared micro-batcher, where the images of every
adapter that arrive together go through one mixed-adapter forward pass. Each answer lists, per
image (per slice of a volume read in 2D), the class probabilities under the adapter's class
names, the adapter and its version, and the base model's fingerprint. A DICOMweb request with
``"store_sr": true`` also stores them in the archive as DICOM SRs
(:mod:`medadapt.serve.image_reports`) and lists the reports under ``stored_reports``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi.responses import JSONResponse
from starlette.requests import Request

from medadapt.results import NEAR_COPY, in_sample_caution
from medadapt.serve.access_log import note_adapters, note_instances, route_ref
from medadapt.serve.batching import MicroBatcher
from medadapt.serve.image_decode import DecodePool, Sample
from medadapt.serve.image_dicomweb import ArchiveImages, fetch
from medadapt.serve.image_inputs import ImageInputError, ImageServing, read_form, save_uploads
from medadapt.serve.image_reports import check_writes, model_of, store
from medadapt.serve.resolve import resolve_routes
from medadapt.serve.schemas import DicomwebRequest, float32_number
from medadapt.serve.state import Route, ServedBase, ServingState, joined_notes
from medadapt.serve.telemetry import Telemetry
from medadapt.serve.trained_images import TrainingImages, near_copies


@dataclass
class ImagePredictor:
    """Answers image prediction requests with the app's state, batcher and decoding pool."""

    state: ServingState
    batcher: MicroBatcher
    pool: DecodePool
    telemetry: Telemetry
    limits: ImageServing

    async def uploads(self, request: Request) -> JSONResponse:
        """A multipart request: its files, read as the routed base model was trained."""
        pool = self.pool
        async with pool.slot():
            form = await read_form(request, self.limits)
            note_instances(len(form.files))  # for the access log: a count, no file name
            try:
                route = await self._route(form.adapter, form.group)
                schema = self.state.schema_for(route)
                async with pool.folder("upload") as folder:
                    uploads = await pool.run(save_uploads, form.files, folder)
                    samples, seconds = await pool.decode(
                        uploads, schema, self.limits, self._keyed(route)
                    )
            finally:
                for upload in form.files:
                    await upload.close()
        self.telemetry.decode_seconds.observe(seconds)
        return JSONResponse({"predictions": await self._score(route, samples)})

    async def dicomweb(self, body: DicomwebRequest) -> JSONResponse:
        """A DICOMweb reference: the instances of that study or series, fetched and read.
        With ``store_sr``, the answers are stored back as DICOM SRs while the files are still
        in the request's folder (a report copies their headers), its place in the pool held."""
        if body.store_sr:
            check_writes(self.limits)  # 403 before anything is fetched
        pool = self.pool
        async with pool.slot():
            route = await self._route(body.adapter, body.group)
            schema = self.state.schema_for(route)
            async with pool.folder("dicomweb") as folder:
                images = await pool.run(fetch, body.dicomweb, schema, self.limits, folder)
                note_instances(len(images.instances))
                samples, seconds = await pool.decode(
                    images.uploads, schema, self.limits, self._keyed(route)
                )
                self.telemetry.decode_seconds.observe(seconds)
                if body.store_sr:
                    return await self._score_and_store(route, images, samples)
        return JSONResponse({"predictions": await self._score(route, samples)})

    async def _score_and_store(
        self, route: Route, images: ArchiveImages, samples: list[Sample]
    ) -> JSONResponse:
        """The answer, once its reports are stored (on a decoding thread)."""
        predictions = await self._score(route, samples)
        served = self.state.bases[route.base_key]
        volumes = served.schema.spatial_dims == 3
        try:
            stored = await self.pool.run(store, images, samples, predictions,
                                         model_of(served, route, self.state.tables.info,
                                                  self.state.registry), self.limits,
                                         volumes)  # fmt: skip
        except ImageInputError as exc:  # the archive refused: its 502, with the predictions
            if exc.status != 502:  # (a trial's read-only account lost them: the command
                raise  # line keeps them in --out)
            body = {"detail": exc.problem, "file": None, "predictions": predictions}
            return JSONResponse(body, status_code=502)
        return JSONResponse({"predictions": predictions, "stored_reports": stored})

    def _keyed(self, route: Route) -> bool:
        """Whether the base or adapter of ``route`` records its training images' stored or
        near keys: only then is an upload's file read for them (:func:`_trained_on`)."""
        served = self.state.bases[route.base_key]
        return any(isinstance(kept, TrainingImages) and kept.reads_files
                   for kept in (served.trained_rows, route.trained_rows))  # fmt: skip

    async def _route(self, adapter: str | None, group: str | None) -> Route:
        state = self.state
        (route,) = await resolve_routes(
            state, self.batcher, lambda: [state.route(adapter, group, {}, kind="image")]
        )
        note_adapters([route_ref(route.name, route.version)])
        return route

    async def _score(self, route: Route, samples: list[Sample]) -> list[dict[str, Any]]:
        """One prediction per sample, in ImagePredictResponse's shape."""
        scores = await self.batcher.submit(
            [(route.batch_key, (sample.image, route)) for sample in samples]
        )
        served = self.state.bases[route.base_key]
        self.telemetry.instances.labels(route.name or "base").inc(len(samples))
        # off the event loop: each sample against every training image's near key
        flags = await asyncio.to_thread(_trained_on, served, route, samples)
        return [
            image_prediction(served, route, sample, score, who)
            for sample, score, who in zip(samples, scores, flags, strict=True)
        ]


def _trained_on(served: ServedBase, route: Route, samples: list[Sample]) -> list[str | None]:
    """Per sample: the model that trained on it, by its file, pixel or stored key
    (:mod:`medadapt.serve.trained_images`): its adapter ("adapter site_b@1", named where both
    did, as for records), else its base ("the base model"); else, where it looks like a
    near-copy of a training image of either, :data:`~medadapt.results.NEAR_COPY` (as
    ``predict`` says); else None."""
    out: list[str | None] = [None] * len(samples)
    adapter = None if route.name is None else f"adapter {route.name}@{route.version}"
    kept = [(who, images) for who, images in (("the base model", served.trained_rows),
                                              (adapter, route.trained_rows))
            if isinstance(images, TrainingImages)]  # fmt: skip
    for i in np.flatnonzero(near_copies(tuple(images for _, images in kept), samples)):
        out[int(i)] = NEAR_COPY
    for who, images in kept:  # the same image (the adapter named last) over a near-copy
        for i in np.flatnonzero(images.matches(samples)):
            out[int(i)] = who
    return out


def image_prediction(
    served: ServedBase, route: Route, sample: Sample, score: Any, trained_on: str | None = None
) -> dict:
    """One prediction in :class:`~medadapt.serve.schemas.ImagePrediction`'s shape
    (``trained_on``: the model that trained on the image, said in its note too)."""
    classes = route.classes or served.schema.classes
    probabilities = np.asarray(score, dtype=float)
    return {
        "file": sample.file,
        "slice": sample.slice,
        "adapter": route.name,
        "version": route.version,
        "base": served.key[:12],
        "predicted": classes[int(probabilities.argmax())],
        "probabilities": {
            c: float32_number(p) for c, p in zip(classes, probabilities, strict=True)
        },
        "validated": route.validated,
        "trained_on": trained_on,
        # which model answered, and its cautions, first: a trial's "scored by the base model
        # alone" came at the end of a long note about the image
        "note": joined_notes(route.note, trained_on and in_sample_caution(trained_on), sample.note),
    }
