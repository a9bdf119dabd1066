"""An image recognised by the values its file stores, before any intensity scaling: a copy
in another file format, or re-saved with loss, of a training image.

A sample's pixel key (:func:`~medadapt.data.image_dataset.pixel_keys`) hashes the image as
the model takes it, after its intensities were scaled. A PNG is divided by 255 but a DICOM
file without a window is min-max scaled (unless 8-bit and read for a model trained on
pictures only), so a DICOM copy of a training PNG holding the very same values can give
other model inputs, and another pixel key. Two more keys are read
here from the file itself, for a 2D picture (PNG, JPEG) or a DICOM image (one frame of a
multi-frame one; NIfTI volumes and ``.npz`` arrays have none):

- the **stored key** (:func:`stored_key`): a hash of the decoded stored values as whole
  numbers (8-bit values in a 16-bit DICOM alike), with their shape; colour whose three
  channels are equal counts as gray, MONOCHROME1 is turned the way it is displayed. Equal
  for a lossless conversion: PNG to DICOM and back, another compression, an anonymiser's or a
  PACS's re-export with the same stored values.
- the **near key** (:func:`near_key`), a perceptual hash of 512 bits: the image averaged into
  16 rows of 17 cells, its cells' own range taken as 0..1, and per pair of neighbouring
  cells in a row whether the right one is brighter by more than 1/64 of that range, and
  whether it is darker. A lossy re-save moves a cell's average by a fraction of a level and
  keeps nearly every bit; two different images differ in many (on the tests' synthetic
  films, 48 px: JPEG copies at quality 95 within 20 bits, at 85 within 41; distinct images
  136 bits apart or more). Two keys within :data:`NEAR_BITS` bits are *near-identical*:
  counted apart from exact matches (:func:`near_matches`). The cells' own range makes the key
  blind to a linear rescaling (16-bit values saved as 8-bit), not to a window that clips. A
  patient's two nearly identical films would match too: they are not two patients either. An
  image too flat to tell (fewer than :data:`NEAR_MIN_BITS` bits set) or smaller than the
  cells has none. Not measured on real clinical images: two different patients' films of
  one kind are likely closer than the synthetic ones. Where the training images are
  themselves that alike, the bits allowed shrink (:func:`alike_within`): a trial's
  synthetic CT slices, one phantom with noise, lay a median 28 bits apart, and every new
  patient's slice was called a near-copy of a training one at 40 (JPEG copies of them: 0 to
  4 bits).

Only these keys are stored, never pixel values: the near key says no more than where, on a
16 x 17 grid, brightness rises or falls. Images of one value throughout have neither key
(every blank picture would match every other).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.errors import DataError

STORED_KEY_CHARS = 24  # hex characters of a stored key (96 bits, as a pixel key)
NEAR_ROWS, NEAR_COLUMNS = 16, 17  # the cells a near key averages an image into
NEAR_STEP = 1 / 64  # of the cells' range: a smaller difference is neither brighter nor darker
NEAR_WORDS = NEAR_ROWS * (NEAR_COLUMNS - 1) * 2 // 64  # uint64 words of a near key (8)
#: the most bits (of 512) two near keys may differ in and still be near-identical
NEAR_BITS = 40
#: the fewest bits set for an image to have a near key (fewer: too flat to tell apart)
NEAR_MIN_BITS = 32
_WORKERS = min(8, os.cpu_count() or 1)

#: a split record's keys for its training samples' stored and near keys (absent from splits
#: recorded before them, which are matched as they were)
STORED_KEYS, NEAR_KEYS = "train_stored_keys", "train_near_keys"


def stored_pixels(path: str | Path, frame: int | None = None) -> np.ndarray | None:
    """The values ``path`` stores, decoded, as whole numbers: (H, W) gray or (H, W, 3)
    colour; ``frame`` of a multi-frame DICOM file. None for a file that is neither a picture
    nor a DICOM image, a volume, or one that cannot be read."""
    from medadapt.data.image_io import PICTURE_FORMATS, file_format
    from medadapt.data.reader_notes import collect_notes

    path = Path(path)
    try:
        fmt = file_format(path)
        with collect_notes():  # said when the file was first read
            if fmt in PICTURE_FORMATS:
                values = _picture_values(path)
            elif fmt == "dicom":
                values = _dicom_values(path, frame)
            else:
                return None
    except Exception:  # unreadable now: it has no such key (its file key still counts)
        return None
    if values is None or values.ndim not in (2, 3):
        return None
    if values.ndim == 3 and values.shape[2] == 3 and _equal_channels(values):
        values = values[..., 0]
    return values.astype(np.int64)


def _picture_values(path: Path) -> np.ndarray | None:
    """A PNG's or JPEG's values as it is shown (its EXIF orientation applied), without its
    transparency."""
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        mode = image.mode
        if mode in ("1", "L", "LA"):
            return np.asarray(image.convert("L"))
        if mode.startswith("I;16") or mode == "I":
            return np.asarray(image).astype(np.int64)
        if mode == "F":
            return None
        return np.asarray(image.convert("RGB"))


def _dicom_values(path: Path, frame: int | None) -> np.ndarray | None:
    """A DICOM image's stored values (before RescaleSlope/Intercept and any window), a
    MONOCHROME1 image's turned as displayed (highest stored value minus each)."""
    from medadapt.data.dicom_files import dicom_pixels, open_dicom

    ds = open_dicom(path)
    pixels = np.asarray(dicom_pixels(ds))
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        if frame is None or not 0 <= frame < len(pixels):
            return None
        pixels = pixels[frame]
    elif frame is not None:
        return None
    if samples == 1 and str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        bits = int(ds.get("BitsStored", 8 * pixels.dtype.itemsize) or 8)
        pixels = (2**bits - 1) - pixels.astype(np.int64)
    return pixels


def _equal_channels(values: np.ndarray) -> bool:
    return bool(
        (values[..., 0] == values[..., 1]).all() and (values[..., 0] == values[..., 2]).all()
    )


def stored_key(values: np.ndarray | None) -> str | None:
    """A hash of stored ``values`` (:func:`stored_pixels`) and their shape; None for none,
    or for an image of one value throughout.

    >>> a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> stored_key(a) == stored_key(a.astype(np.uint16)), stored_key(a) == stored_key(a + 1)
    (True, False)
    """
    if values is None or values.size == 0 or values.min() == values.max():
        return None
    shape = "x".join(map(str, values.shape)).encode()
    digest = hashlib.sha256(b"stored-values|" + shape + b"|")
    digest.update(np.ascontiguousarray(values, dtype="<i8").tobytes())
    return digest.hexdigest()[:STORED_KEY_CHARS]


def near_key(values: np.ndarray | None) -> np.ndarray | None:
    """The perceptual hash of stored ``values`` (see the module's docstring); None when the
    image is smaller than the cells or too flat to tell. Shape: (NEAR_WORDS,) ``uint64``."""
    if values is None or values.shape[0] < NEAR_ROWS or values.shape[1] < NEAR_COLUMNS:
        return None
    gray = values.astype(np.float64)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    cells = _cell_means(gray, NEAR_ROWS, NEAR_COLUMNS)  # (16, 17)
    low, high = float(cells.min()), float(cells.max())
    if high <= low:
        return None
    step = np.diff((cells - low) / (high - low), axis=1)  # (16, 16): right minus left
    bits = np.concatenate([(step > NEAR_STEP).ravel(), (step < -NEAR_STEP).ravel()])
    if int(bits.sum()) < NEAR_MIN_BITS:
        return None
    return np.packbits(bits).view("<u8").copy()


def _cell_means(image: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """``image`` (H, W) averaged into ``rows`` x ``columns`` cells, each pixel shared between
    the cells it overlaps by the share of it each covers (an exact area average)."""
    return _area_weights(image.shape[0], rows) @ image @ _area_weights(image.shape[1], columns).T


def _area_weights(n: int, cells: int) -> np.ndarray:
    """(cells, n): row i averages the part of ``n`` pixels that cell i covers."""
    edges = np.linspace(0.0, n, cells + 1)
    left, right = np.arange(n, dtype=np.float64), np.arange(1, n + 1, dtype=np.float64)
    overlap = np.clip(
        np.minimum(right[None], edges[1:, None]) - np.maximum(left[None], edges[:-1, None]), 0, 1
    )
    return overlap / overlap.sum(axis=1, keepdims=True)


def read_keys(path: str | Path, frame: int | None = None) -> tuple[str | None, bytes]:
    """The stored key and the near key (packed; b"" for none) of ``path`` (``frame`` of a
    multi-frame DICOM file), read now: as a split records its training images'."""
    values = stored_pixels(path, frame)
    near = near_key(values)
    return stored_key(values), b"" if near is None else near.tobytes()


@lru_cache(maxsize=65536)
def _file_keys(path: str, frame: int | None, size: int, mtime: int) -> tuple[str | None, bytes]:
    """:func:`read_keys`, once per file (``size`` and ``mtime``: a changed file is read
    again)."""
    return read_keys(path, frame)


def _keys_of_file(path: str, frame: int | None) -> tuple[str | None, bytes]:
    try:
        status = os.stat(path)
    except OSError:
        return None, b""
    return _file_keys(path, frame, status.st_size, status.st_mtime_ns)


def one_blas_thread() -> Any:
    """numpy's BLAS on one thread in this process from now on, where threads or processes
    reading stored values into near keys (a small matrix product) are the parallelism: BLAS's
    own threads on top of them spun (serving with two decoding threads: 5.6 ms of CPU an
    image against 2.1 ms, CHANGELOG, forty-ninth session). Used in a ``with``, the limit is
    lifted on leaving it."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def sample_keys(
    dataset: Any, indices: Sequence[int] | np.ndarray
) -> tuple[list[str | None], np.ndarray]:
    """The stored keys of the samples of ``dataset`` (an ``ImageDataset``) at ``indices``,
    and their near keys, (n, NEAR_WORDS) ``uint64`` (a row of zeros for none). A sample has
    them when it is a whole 2D file, or one frame of one (its key ends ``#<frame>``)."""
    indices = np.asarray(indices, dtype=np.int64)
    near = np.zeros((len(indices), NEAR_WORDS), dtype="<u8")
    stored: list[str | None] = [None] * len(indices)
    if dataset.spatial_dims != 2 or not dataset.paths or not dataset.keys or not len(indices):
        return stored, near
    jobs = [_file_and_frame(dataset.paths[i], dataset.keys[i]) for i in indices.tolist()]
    if len(jobs) > 1 and _WORKERS > 1:
        # the threads are the parallelism: BLAS's own on top of them spun (2.7 times the CPU)
        with one_blas_thread(), ThreadPoolExecutor(_WORKERS) as pool:
            found = list(pool.map(lambda job: _keys_of_file(*job), jobs))
    else:
        found = [_keys_of_file(*job) for job in jobs]
    for n, (key, packed) in enumerate(found):
        stored[n] = key
        if packed:
            near[n] = np.frombuffer(packed, dtype="<u8")
    return stored, near


def _file_and_frame(path: str, key: str) -> tuple[str, int | None]:
    """A sample's file, and its frame where its key names one (``<digest>#<frame>``)."""
    _, hashed, frame = key.partition("#")
    return path, int(frame) if hashed and frame.isdigit() else None


def split_keys(dataset: Any, train: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """What a split records of its training samples ``train`` beside their file and pixel
    keys: their stored keys and their near keys (:func:`pack_near`), each sorted; {} when
    none has either."""
    stored, near = sample_keys(dataset, np.unique(np.asarray(train, dtype=np.int64)))
    record: dict[str, Any] = {}
    keys = sorted({k for k in stored if k is not None})
    if keys:
        record[STORED_KEYS] = keys
    rows = near[near.any(axis=1)]
    if len(rows):
        record[NEAR_KEYS] = pack_near(rows)
    return record


def pack_near(keys: np.ndarray) -> list[str]:
    """Near keys (n, NEAR_WORDS), distinct and sorted, as hex texts (128 digits each: JSON
    that holds nothing but hex digits, as the other keys)."""
    distinct = np.unique(np.asarray(keys, dtype="<u8").reshape(-1, NEAR_WORDS), axis=0)
    return sorted(row.tobytes().hex() for row in distinct.astype("<u8"))


def unpack_near(packed: Sequence[str]) -> np.ndarray:
    """:func:`pack_near`'s keys back. Shape: (n, NEAR_WORDS) ``uint64``."""
    joined = b"".join(bytes.fromhex(text) for text in packed)
    return np.frombuffer(joined, dtype="<u8").reshape(-1, NEAR_WORDS)


def stored_matches(
    dataset: Any, record: dict[str, Any] | None, candidates: np.ndarray
) -> np.ndarray:
    """Per sample of ``dataset``: whether its stored key is one of ``record``'s training
    samples', for the sample indices ``candidates`` only (others False)."""
    mask = np.zeros(len(dataset), dtype=bool)
    recorded = set((record or {}).get(STORED_KEYS) or ())
    if not recorded or not len(candidates):
        return mask
    stored, _ = sample_keys(dataset, candidates)
    mask[np.asarray(candidates, dtype=np.int64)] = [k is not None and k in recorded for k in stored]
    return mask


def near_copies(
    dataset: Any, records: Sequence[dict[str, Any] | None], candidates: np.ndarray
) -> np.ndarray:
    """Per sample of ``dataset``: whether it is near-identical (:func:`near_matches`) to a
    training sample of any of ``records``, for the sample indices ``candidates`` only."""
    return _near_among(len(dataset), records, candidates,
                       lambda chosen: sample_keys(dataset, chosen)[1])  # fmt: skip


def stored_matches_of_files(
    files: Sequence[str | None], records: Sequence[dict[str, Any] | None], candidates: np.ndarray
) -> list[np.ndarray]:
    """:func:`stored_matches` for images to predict, read from whole 2D ``files`` (one per
    sample; None for a volume's slice): per record of ``records``, whether each sample's
    stored key is one of that record's training samples', for ``candidates`` only (a DICOM
    copy of a training PNG, scaled otherwise, is that image)."""
    recorded = [set((record or {}).get(STORED_KEYS) or ()) for record in records]
    masks = [np.zeros(len(files), dtype=bool) for _ in records]
    if not any(recorded):
        return masks
    for i in np.asarray(candidates, dtype=np.int64).tolist():
        key = None if files[i] is None else _keys_of_file(files[i], None)[0]
        for mask, keys in zip(masks, recorded, strict=True):
            mask[i] = key is not None and key in keys
    return masks


def near_copies_of_files(
    files: Sequence[str], records: Sequence[dict[str, Any] | None], candidates: np.ndarray
) -> np.ndarray:
    """:func:`near_copies` for images to predict, read from whole 2D ``files`` (one per
    sample; None for a sample that is a volume's slice, which has no near key)."""

    def keys(chosen: np.ndarray) -> np.ndarray:
        near = np.zeros((len(chosen), NEAR_WORDS), dtype="<u8")
        for n, i in enumerate(chosen.tolist()):
            packed = _keys_of_file(files[i], None)[1] if files[i] is not None else b""
            if packed:
                near[n] = np.frombuffer(packed, dtype="<u8")
        return near

    return _near_among(len(files), records, candidates, keys)


def _near_among(n: int, records: Sequence[dict[str, Any] | None], candidates: np.ndarray,
                keys_of: Any) -> np.ndarray:  # fmt: skip
    """Per sample of ``n``: near-identical to a training sample of ``records``, for
    ``candidates`` only, their near keys from ``keys_of(indices)``."""
    mask = np.zeros(n, dtype=bool)
    packed = [r[NEAR_KEYS] for r in records if r and r.get(NEAR_KEYS)]
    if not packed or not len(candidates):
        return mask
    try:
        recorded = np.concatenate([unpack_near(p) for p in packed])
    except (TypeError, ValueError):
        raise DataError(
            f"the model's record of its training images holds {NEAR_KEYS} that are not the "
            "hex keys medadapt writes (damaged, or edited): train it again, or copy it again"
        ) from None
    chosen = np.asarray(candidates, dtype=np.int64)
    mask[chosen] = near_matches(keys_of(chosen), recorded)
    return mask


#: the fewest distinct training keys whose distances to each other set :func:`alike_within`
ALIKE_MIN_KEYS = 20
#: the training keys (at most) whose nearest others are measured for :func:`alike_within`
ALIKE_SAMPLE = 400


def alike_within(recorded: np.ndarray, most: int = NEAR_BITS) -> int:
    """The most bits a near-identical copy may differ by from one of ``recorded`` (the
    training images' near keys): ``most``, or fewer where distinct training images are
    themselves that close: one less than the 1st percentile of the distances from each (up
    to :data:`ALIKE_SAMPLE` of them) to its second-nearest other (its nearest may be its own
    copy among them: a training set holding each image twice, as PNG and as JPEG, would
    allow none), so that few new images like them are taken for copies. With fewer than
    :data:`ALIKE_MIN_KEYS` distinct keys, ``most``.

    >>> rng = np.random.default_rng(0)
    >>> apart = rng.integers(0, 2**63, (30, NEAR_WORDS), dtype=np.uint64)  # ~256 bits apart
    >>> alike = np.repeat(apart[:1], 30, axis=0)  # one bit of its own each: 2 bits apart
    >>> alike[np.arange(30), np.arange(30) % NEAR_WORDS] ^= np.uint64(1) << (
    ...     np.arange(30) // NEAR_WORDS).astype(np.uint64)
    >>> alike_within(apart), alike_within(apart[:5]), alike_within(alike)
    (40, 40, 1)
    """
    keys = np.unique(np.asarray(recorded, dtype="<u8").reshape(-1, NEAR_WORDS), axis=0)
    keys = keys[keys.any(axis=1)]
    if len(keys) < ALIKE_MIN_KEYS:
        return most
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(keys), size=min(ALIKE_SAMPLE, len(keys)), replace=False)
    nearest = np.empty(len(chosen), dtype=np.int64)
    chunk = max(1, 2**22 // (len(keys) * NEAR_WORDS))
    for start in range(0, len(chosen), chunk):
        rows = chosen[start : start + chunk]
        bits = np.bitwise_count(keys[rows][:, None, :] ^ keys[None]).sum(axis=2)  # (c, n)
        bits[np.arange(len(rows)), rows] = NEAR_WORDS * 64 + 1  # not itself
        nearest[start : start + chunk] = np.partition(bits, 1, axis=1)[:, 1]  # 2nd nearest
    return int(min(most, max(np.percentile(nearest, 1) - 1, 0)))


def near_matches(
    candidates: np.ndarray, recorded: np.ndarray, within: int | None = None
) -> np.ndarray:
    """Per near key of ``candidates`` (m, NEAR_WORDS): whether one of ``recorded`` (n,
    NEAR_WORDS) differs from it in at most ``within`` bits (None: :func:`alike_within` of
    ``recorded``; a row of zeros: no key, no match). Shape: (m,) ``bool``.

    >>> key = np.full((1, NEAR_WORDS), 0xFF, dtype=np.uint64)
    >>> near_matches(key ^ np.uint64(1), key).tolist(), near_matches(~key, key).tolist()
    ([True], [False])
    """
    out = np.zeros(len(candidates), dtype=bool)
    recorded = np.asarray(recorded, dtype="<u8")
    recorded = recorded[recorded.any(axis=1)]
    if not len(recorded):
        return out
    within = alike_within(recorded) if within is None else within
    chunk = max(1, 2**22 // (len(recorded) * NEAR_WORDS))  # about 32 MB of words at a time
    for start in range(0, len(candidates), chunk):
        part = np.asarray(candidates[start : start + chunk], dtype="<u8")  # (c, W)
        bits = np.bitwise_count(part[:, None, :] ^ recorded[None]).sum(axis=2)  # (c, n)
        out[start : start + chunk] = part.any(axis=1) & (bits.min(axis=1) <= within)
    return out
