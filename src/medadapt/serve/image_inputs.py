"""The images of a prediction request: multipart uploads checked against the service's limits
and copied, under neutral names, into a private folder the image readers open.

Form fields: ``adapter`` and ``group`` (as in a JSON request) and one or more files under any
field name (``file`` in the examples); ``store_sr`` is refused (a report must reference
instances in the archive: that takes a DICOMweb reference). A file's type is taken from its
name (``.png``, ``.jpg``/``.jpeg``, ``.dcm``/``.dicom``, ``.nii``/``.nii.gz``), else from its
first bytes (PNG, JPEG, DICOM with or without the preamble). Every problem is one error naming
the file as the client sent it: 413 too large or too many, 415 a type the readers do not take,
422 a file that is not an image (see :mod:`medadapt.serve.image_decode` for what the readers
refuse). A body the multipart parser refuses (a part's headers over about 4 KiB: a file name
that long) is a 400.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from medadapt.data.dicom_files import looks_like_dicom
from medadapt.data.image_io import SUFFIXES
from medadapt.errors import ConfigError, MedadaptError

KiB, MiB = 2**10, 2**20
FORM_FIELDS = ("adapter", "group")
#: reader format -> the suffix its private copy gets (NIfTI: by its first bytes)
COPY_SUFFIX = {"png": ".png", "jpeg": ".jpg", "dicom": ".dcm", "nifti": ".nii"}
MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg"}
GZIP = b"\x1f\x8b"
UNSUPPORTED = (
    "an unsupported type (neither its name nor its first bytes say PNG, JPEG, DICOM or NIfTI); "
    "send one of those"
)
STORE_SR_UPLOADS = (
    "'store_sr' needs a DICOMweb reference: a report must reference instances in the archive, "
    'and uploads are not there; send JSON {"dicomweb": "dicomweb+http(s)://...", '
    '"store_sr": true}'
)
TOKEN_WITHOUT_ARCHIVE = (
    "--dicomweb-token-file applies to the archives of --dicomweb-archive, but none is given: "
    "pass --dicomweb-archive URL, or drop --dicomweb-token-file"
)
POSITIVE = (
    "max_images",
    "max_image_bytes",
    "max_upload_bytes",
    "decode_workers",
    "max_decoding",
    "max_instances",
)


@dataclass(frozen=True, kw_only=True)
class ImageServing:
    """How the service takes images: limits per request and per file, decoding threads, the
    DICOMweb archives it may read (with the token it sends them: refused without an archive),
    and whether it may write reports to them (``store_sr``)."""

    max_images: int = 64  # files per request, and samples (slices) they may give
    max_image_bytes: int = 32 * MiB  # one file
    max_upload_bytes: int = 128 * MiB  # a whole multipart body
    decode_workers: int = 2  # threads (or processes) that read and preprocess images
    decode_processes: bool = False  # read in worker processes instead of threads
    max_decoding: int = 64  # requests being received or read at once; more: 503
    max_instances: int = 2048  # DICOMweb instances one reference may fetch (3D bases)
    dicomweb_archives: tuple[str, ...] = ()  # base URLs a DICOMweb reference may point into
    dicomweb_token: str | None = None
    dicomweb_ca_bundle: Path | None = None  # the CA (PEM) an https archive's certificate needs
    store_sr: bool = False  # requests may have their results stored there as DICOM SRs

    def __post_init__(self) -> None:
        for name in POSITIVE:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.dicomweb_token is not None and not self.dicomweb_archives:
            raise ConfigError(TOKEN_WITHOUT_ARCHIVE)  # it would go to no archive, silently


class ImageInputError(MedadaptError):
    """An image request cannot be served: ``status`` (4xx), the file at fault as sent (None:
    the request as a whole), the problem."""

    def __init__(self, status: int, file: str | None, problem: str) -> None:
        super().__init__(f"{file}: {problem}" if file else problem)
        self.status, self.file, self.problem = status, file, problem

    def __reduce__(self) -> tuple:  # raised in a decoding process, re-raised in the server
        return type(self), (self.status, self.file, self.problem)


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as sent (shown in answers and errors), its private copy."""

    name: str
    path: Path
    fmt: str


@dataclass
class ImageForm:
    """A parsed multipart request."""

    adapter: str | None
    group: str | None
    files: list[UploadFile]


def shown_name(raw: str | None, index: int) -> str:
    """The client's file name without folders or control characters (``image<N>`` if none)."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable())[:200]
    return name or f"image{index}"


async def read_form(request: Request, limits: ImageServing) -> ImageForm:
    """The request's form, with its files checked for count and size (413), its text fields
    for names (422). Starlette spools each file to disk past 1 MiB."""
    try:
        form = await request.form(
            max_files=limits.max_images, max_fields=len(FORM_FIELDS) + 4, max_part_size=4096
        )
    except HTTPException as exc:  # the multipart parser's 400s (a 413 from BodyLimit passes)
        if exc.status_code != 400:
            raise
        if "Too many files" in str(exc.detail):
            many = f"more than {limits.max_images} images in one request"
            raise ImageInputError(413, None, f"{many}; send at most {limits.max_images}") from None
        raise ImageInputError(400, None, f"malformed multipart body: {exc.detail}") from None
    except ValueError as exc:  # python-multipart's parse errors, which Starlette lets through
        raise ImageInputError(400, None, malformed_multipart(exc)) from None
    files, fields = [], {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.append(value)
        elif key in FORM_FIELDS and key in fields:  # as a JSON key given twice: no guess
            raise ImageInputError(
                422, None, f"the form field {key!r} is given more than once; send each field "
                "once (no value is chosen for you)"
            )  # fmt: skip
        elif key in FORM_FIELDS:
            fields[key] = value.strip() or None
        elif key == "store_sr":
            raise ImageInputError(422, None, STORE_SR_UPLOADS)
        else:
            raise ImageInputError(
                422, None, f"unexpected form field {key!r}; send 'adapter', 'group' and files"
            )
    if not files:
        raise ImageInputError(
            422, None, "no image in the request: upload one or more files (e.g. -F file=@a.png)"
        )
    for i, upload in enumerate(files):
        check_size(shown_name(upload.filename, i), upload.size, limits)
    return ImageForm(fields.get("adapter"), fields.get("group"), files)


def malformed_multipart(exc: ValueError) -> str:
    """What is wrong with a multipart body the parser refused (its words, and what to do)."""
    said = f"malformed multipart body: {exc}"
    if "header size" in str(exc).lower():  # python-multipart: "Maximum header size exceeded"
        return (
            f"{said}; a part's headers are too long, its file name included: send the file "
            "under a shorter name"
        )
    return said


def shown_size(n_bytes: int) -> str:
    """``n_bytes`` in MiB or KiB (one decimal, none when whole), or in bytes under 1 KiB.

    >>> shown_size(9015107), shown_size(MiB), shown_size(60000), shown_size(512)
    ('8.6 MiB', '1 MiB', '58.6 KiB', '512 bytes')
    """
    for unit, name in ((MiB, "MiB"), (KiB, "KiB")):
        if n_bytes >= unit:
            return f"{n_bytes / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{n_bytes} bytes"


def over_the_limit(size: int, limit: int) -> str:
    """How far a file is over the per-image limit, in MiB or KiB; in bytes where both round
    alike (1 MiB and a byte over it).

    >>> over_the_limit(9015107, MiB)
    '8.6 MiB, over the limit of 1 MiB per image'
    >>> over_the_limit(MiB + 1, MiB)
    '1048577 bytes, over the limit of 1048576 bytes (1 MiB) per image'
    """
    said, most = shown_size(size), shown_size(limit)
    if said == most:
        return f"{size} bytes, over the limit of {limit} bytes ({most}) per image"
    return f"{said}, over the limit of {most} per image"


def check_size(name: str, size: int | None, limits: ImageServing) -> None:
    if size is not None and size > limits.max_image_bytes:
        raise ImageInputError(413, name, over_the_limit(size, limits.max_image_bytes))
    if size == 0:
        raise ImageInputError(422, name, "an empty file; send the image's bytes")


def upload_format(name: str, head: bytes) -> str | None:
    """The reader format of a file called ``name`` starting with ``head`` (None: unknown)."""
    lower = name.lower()
    if lower.endswith(".nii.gz"):
        return "nifti"
    fmt = SUFFIXES.get(PurePosixPath(lower).suffix)
    if fmt is not None:
        return fmt
    return next((f for magic, f in MAGIC.items() if head.startswith(magic)), None)


def save_uploads(files: list[UploadFile], folder: Path) -> list[Upload]:
    """Copy the uploads into ``folder`` as ``000.png``, ``001.dcm``...; 415 for a file that
    is neither PNG, JPEG, DICOM nor NIfTI (runs in a decoding thread: it reads the spooled
    files synchronously)."""
    out = []
    for i, upload in enumerate(files):
        name = shown_name(upload.filename, i)
        upload.file.seek(0)
        head = upload.file.read(132)
        upload.file.seek(0)
        path = folder / f"{i:03d}"
        with open(path, "wb") as copy:
            shutil.copyfileobj(upload.file, copy, 1 * MiB)
        fmt = upload_format(name, head) or ("dicom" if looks_like_dicom(path) else None)
        if fmt is None:
            raise ImageInputError(415, name, UNSUPPORTED)
        suffix = ".nii.gz" if fmt == "nifti" and head.startswith(GZIP) else COPY_SUFFIX[fmt]
        out.append(Upload(name, path.rename(folder / f"{i:03d}{suffix}"), fmt))
    return out
