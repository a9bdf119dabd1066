"""Reading a request's images exactly as the base model was trained on its own, off the event
loop, in a bounded pool of threads or processes.

The readers are the data layer's (:mod:`medadapt.data.image_io`, ``dicom_series``): the base's
schema says how (CT window, slices of a volume, voxel spacing, channels, size and fit), as it
did for ``train-base`` and ``predict``; nothing is re-implemented here.

Threads by default, worker processes on request (``--decode-processes``). Measured on 2 cores
(``bench/bench_image_serving.py``): reading a 256 px PNG into a 64 px tensor takes ~2.3 ms
alone, most of it MONAI's Python (resize, pad), not GIL-free C, so threads share the GIL with
the event loop; processes take that work off it but cost a torch + MONAI import (5-10 s) and
~0.9 GiB resident each (0.55 GiB private). On 2 cores both give the same throughput (the CPUs
are full either way: the figures are in ``bench/BENCHMARKS.md``); on a many-core GPU host,
processes let decoding scale.
Each pool holds at most ``max_decoding`` requests (receiving, copying, reading); the next one
is answered 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from medadapt.data.dicom_series import units_of
from medadapt.data.image_dataset import varying_pixel_keys
from medadapt.data.image_files import check_scoreable, model_inputs
from medadapt.data.image_io import OptionError, TooManyPixels
from medadapt.data.image_notes import image_notes
from medadapt.data.image_sources import Entry
from medadapt.data.read_errors import ReadError, decoder_said
from medadapt.data.stored_pixels import one_blas_thread, read_keys
from medadapt.serve.batching import RETRY_AFTER_SECONDS, Overloaded
from medadapt.serve.image_inputs import FORMAT_NAMES, ImageInputError, ImageServing, Upload

T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    """One model input: the file it came from (as sent), the slice or frame of a volume or
    multi-frame file (None: the whole file), the tensor."""

    file: str
    slice: int | None
    image: torch.Tensor  # (channels, *(image_size,) * spatial_dims)
    # scaled, shaped or bright unlike the training images, raw CT, 12-bit ...: image_notes
    notes: tuple[str, ...] = ()
    # as a split records a training image (hashes: medadapt.serve.trained_images): its
    # file's bytes (and frame), and its pixels as the model takes them (None: one value
    # throughout, which every blank picture shares)
    file_key: str | None = None
    pixel_key: str | None = None
    # a whole 2D file's stored values, as predict reads them (medadapt.data.stored_pixels):
    # their hash, to know a copy in another format, and their near key (packed; b"": none),
    # to know a lossy copy; a frame or a volume's slice has neither (as in predict)
    stored_key: str | None = None
    near_key: bytes = b""

    @property
    def note(self) -> str | None:
        """The notes as the answer's ``note`` says them (None: nothing to say)."""
        return "; ".join(self.notes) or None


class DecodePool:
    """Where images are read: ``workers`` threads, or as many worker processes with
    ``processes`` (the threads then only copy files and fetch from archives). At most
    ``max_pending`` requests are inside at once; the next is answered
    :class:`~medadapt.serve.batching.Overloaded` (503), so memory stays bounded."""

    def __init__(self, workers: int, max_pending: int, *, processes: bool = False) -> None:
        self.workers, self.max_pending, self.pending = workers, max_pending, 0
        self.threads = ThreadPoolExecutor(workers, thread_name_prefix="medadapt-decode")
        self.processes = None
        if processes:  # spawned: no fork of a process that already runs threads
            context = multiprocessing.get_context("spawn")
            self.processes = ProcessPoolExecutor(workers, mp_context=context,
                                                 initializer=_worker_start)  # fmt: skip

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``max_pending`` places (event loop only: no lock needed)."""
        if self.pending >= self.max_pending:
            raise Overloaded(
                f"the server is busy reading {self.pending} requests' images; retry in "
                f"{RETRY_AFTER_SECONDS} s"
            )
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a thread (file copies, archive fetches)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.threads, functools.partial(fn, *args))

    async def decode(
        self, uploads: list[Upload], schema: Any, limits: ImageServing, keyed: bool = True
    ) -> tuple[list[Sample], float]:
        """The model inputs of ``uploads`` and the seconds reading them took (on a worker);
        ``keyed``: with their stored and near keys (:func:`decode`)."""
        loop = asyncio.get_running_loop()
        executor = self.processes or self.threads
        return await loop.run_in_executor(executor, timed_decode, uploads, schema, limits, keyed)

    @contextlib.asynccontextmanager
    async def folder(self, prefix: str) -> AsyncIterator[Path]:
        """A private temporary folder for one request's files, removed afterwards."""
        path = Path(tempfile.mkdtemp(prefix=f"medadapt-{prefix}-"))
        try:
            yield path
        finally:
            await self.run(shutil.rmtree, path, True)

    async def warm(self) -> None:
        """Start the worker processes (they import torch and MONAI) before the first request."""
        if self.processes is not None:
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(self.processes, _ready) for _ in range(self.workers))
            )

    def shutdown(self) -> None:
        self.threads.shutdown(wait=True, cancel_futures=True)
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)


def _worker_start() -> None:
    """A decoding process: one torch thread and one BLAS thread (the processes are the
    parallelism), Ctrl-C left to the server, and MONAI's transforms imported now, while the
    server starts (:meth:`DecodePool.warm`): reading an image resizes it with them, and
    importing MONAI took a process 8 to 15 s here, which each worker's first request paid."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    one_blas_thread()
    import monai.transforms  # noqa: F401  (the whole of MONAI, as any of its transforms)


def _ready() -> bool:
    time.sleep(0.2)  # long enough for every worker to take one
    return True


def timed_decode(
    uploads: list[Upload], schema: Any, limits: ImageServing, keyed: bool = True
) -> tuple[list[Sample], float]:
    started = time.perf_counter()
    samples = decode(uploads, schema, limits, keyed)
    return samples, time.perf_counter() - started


def decode(
    uploads: list[Upload], schema: Any, limits: ImageServing, keyed: bool = True
) -> list[Sample]:
    """``uploads`` read as ``schema`` says (in 3D, the files of one DICOM series are one
    volume, named by its first file); the first unreadable file stops with a 4xx naming it.
    ``keyed``: each whole 2D file's stored and near keys are read too (about 2 ms of CPU for
    a 256 px PNG; not where no model answering records such keys)."""
    names = {upload.path: upload.name for upload in uploads}
    entries = [Entry(upload.path, "", None, upload.fmt) for upload in uploads]
    options = schema.read_options()
    out: list[Sample] = []
    for unit in units_of(entries, schema.spatial_dims):
        name = names[unit.entry.path]
        try:
            read = check_scoreable(unit.read(options))
            images = model_inputs(read, schema)
        except OptionError as exc:
            wanted = f"this model reads slice {schema.slices} of a volume"
            raise ImageInputError(422, name, f"{exc}; {wanted}") from None
        except TooManyPixels as exc:  # too large, as an upload over the byte limit is
            raise ImageInputError(413, name, f"{exc}; send a smaller image") from None
        except Exception as exc:
            raise ImageInputError(422, name, problem(exc, unit.entry, names, schema)) from None
        said = image_notes(schema, name, read, len(unit.files), images)  # as an SR says
        digest, pixels = unit.digest(), varying_pixel_keys(torch.stack(images))
        out += [Sample(name, i, image, said, digest if i is None else f"{digest}#{i}", pixel,
                       *(read_keys(unit.files[0]) if keyed and whole(unit, i, schema)
                         else (None, b"")))
                for i, image, pixel in zip(read.frames, images, pixels, strict=True)]  # fmt: skip
        if len(out) > limits.max_images:
            many = f"the files give more than {limits.max_images} images (slices)"
            raise ImageInputError(413, name, f"{many}; send fewer per request")
    return out


def whole(unit: Any, frame: int | None, schema: Any) -> bool:
    """Whether an image is a whole 2D file, whose stored values ``predict`` keys (a frame or
    a slice has none there: read once per frame, a 1,000-frame file would be decoded 1,000
    times before the image count refuses it)."""
    return schema.spatial_dims == 2 and len(unit.files) == 1 and frame is None


def problem(exc: Exception, entry: Entry, names: dict[Path, str], schema: Any) -> str:
    """What is wrong with a file, in one line without the private copies' paths, nor the
    decoding library's exception class (a client is told what its file is, not a Python
    name: "not a readable PNG image (its decoder says: image file is truncated)")."""
    if isinstance(exc, ReadError):  # the readers' own reasons: dimensions, channels, pixels
        text = f"{exc}; this model takes {takes(schema)}"  # (a trial's "(...) (... (32 px))")
    else:  # what the decoding library said
        fmt = FORMAT_NAMES.get(entry.fmt, entry.fmt)
        text = f"not a readable {fmt} image (its decoder says: {decoder_said(exc)})"
    for path, name in names.items():
        text = text.replace(str(path), name)
    return text.replace(str(entry.path.parent) + "/", "")


def takes(schema: Any) -> str:
    """What the base model takes, e.g. "1-channel 2D images (32 px)"."""
    what = "images" if schema.spatial_dims == 2 else "volumes"
    return f"{schema.channels}-channel {schema.spatial_dims}D {what} ({schema.image_size} px)"
