"""The images of a prediction request: multipart uploads checked against the service's limits
and copied, under neutral names, into a private folder the image readers open.

Form fields: ``adapter`` and ``group`` (as in a JSON request; sent empty, a 422: a client's
unset variable must not get the base model's answer for its adapter's) and one or more files,
each under ``file`` (the field the API's description names; another name is a 422, not a file
taken whatever it was sent as); ``store_sr`` is refused (a report must reference instances in
the archive: that takes a DICOMweb reference). A file's type is taken from its first bytes
(PNG, JPEG, DICOM with or without the preamble), else from its name (``.png``,
``.jpg``/``.jpeg``, ``.dcm``/``.dicom``, ``.nii``/``.nii.gz``); a file whose name says a type
its first bytes deny (text saved as ``fake.png``) is no image of any type the readers take,
as ``notes.csv`` is not. Every problem is one error naming the file as the client sent it: 413
too large or too many, 415 a type the readers do not take, 422 an image file that cannot be
read (see :mod:`medadapt.serve.image_decode` for what the readers refuse). A body the
multipart parser refuses (a part's headers over about 4 KiB: a file name that long) is a 400.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from medadapt.errors import ConfigError, MedadaptError
from medadapt.registry.records import shown

KiB, MiB = 2**10, 2**20
FORM_FIELDS = ("adapter", "group")
FILE_FIELD = "file"  # as the API's description and the README's curl examples name it
FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "dicom": "DICOM", "nifti": "NIfTI"}
#: reader format -> the suffix its private copy gets (NIfTI: by its first bytes)
COPY_SUFFIX = {"png": ".png", "jpeg": ".jpg", "dicom": ".dcm", "nifti": ".nii"}
MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg"}
GZIP = b"\x1f\x8b"
UNSUPPORTED = (
    "an unsupported type (neither its name nor its first bytes say PNG, JPEG, DICOM or NIfTI); "
    "send one of those"
)
SEND_AN_IMAGE = "send a PNG, JPEG, DICOM or NIfTI file"
#: what a request without that routing field is answered by instead
LEAVE_OUT = {"adapter": "route by 'group'", "group": "route by 'adapter'"}
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
    dicomweb_timeout: float = 60.0  # seconds an archive may take to answer (asked once more)
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
            check_file_field(key)
            files.append(value)
        elif key in FORM_FIELDS and key in fields:  # as a JSON key given twice: no guess
            raise ImageInputError(
                422, None, f"the form field {key!r} is given more than once; send each field "
                "once (no value is chosen for you)"
            )  # fmt: skip
        elif key in FORM_FIELDS:
            if not value.strip():  # an unset variable: not the base model's answer instead
                raise ImageInputError(422, None, empty_field(key, "form field"))
            fields[key] = value.strip()
        elif key == "store_sr":
            raise ImageInputError(422, None, STORE_SR_UPLOADS)
        elif key == FILE_FIELD:  # curl -F file=a.png, without the @ that sends the file
            raise ImageInputError(
                422, None, "the form field 'file' holds text, not a file: upload the file itself "
                "(curl -F file=@scan.png: the @ sends its contents)"
            )  # fmt: skip
        else:
            raise ImageInputError(
                422, None, f"unexpected form field {shown(key)}; send 'adapter', 'group' and "
                "images as 'file'"
            )  # fmt: skip
    if not files:
        raise ImageInputError(
            422, None, "no image in the request: upload one or more files (e.g. -F file=@a.png)"
        )
    for i, upload in enumerate(files):
        check_size(shown_name(upload.filename, i), upload.size, limits)
    return ImageForm(fields.get("adapter"), fields.get("group"), files)


def empty_field(field: str, where: str = "field") -> str:
    """What a request whose routing ``field`` (``adapter``, ``group``) is sent empty is told
    (``where``: "form field" in a multipart request): refused, not read as absent, which
    would answer with another model than the one the client meant to name.

    >>> print(empty_field("adapter", "form field"))  # doctest: +NORMALIZE_WHITESPACE
    the form field 'adapter' is empty; name an adapter (GET /v1/adapters lists them), or leave
    the field out to route by 'group' or score with the base model alone
    """
    if field == "adapter":
        named = "name an adapter (GET /v1/adapters lists them)"
    else:
        named = "name a group (GET /v1/adapters lists the groups its adapters serve)"
    leave = f"or leave the field out to {LEAVE_OUT[field]} or score with the base model alone"
    return f"the {where} {field!r} is empty; {named}, {leave}"


def check_file_field(key: str) -> None:
    """422 for a file sent under another field than ``file`` (``-F image=@a.png``): taken
    whatever its field, a file meant for another field (``-F adapter=@name.txt``) was scored
    as an image."""
    if key == FILE_FIELD:
        return
    if key in FORM_FIELDS:
        raise ImageInputError(
            422, None, f"the form field {key!r} holds a file; send it as text (curl -F "
            f"{key}=NAME), and images as 'file'"
        )  # fmt: skip
    raise ImageInputError(
        422, None, f"unexpected form field {shown(key)}; send images as 'file' (repeat it for "
        "several)"
    )  # fmt: skip


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
    '8.6 MiB, over the limit of 1 MiB per image (serve --max-image-mb)'
    >>> over_the_limit(MiB + 1, MiB)
    '1048577 bytes, over the limit of 1048576 bytes (1 MiB) per image (serve --max-image-mb)'
    """
    said, most = shown_size(size), shown_size(limit)
    flag = " (serve --max-image-mb)"  # as the request's limit names its flag
    if said == most:
        return f"{size} bytes, over the limit of {limit} bytes ({most}) per image{flag}"
    return f"{said}, over the limit of {most} per image{flag}"


def check_size(name: str, size: int | None, limits: ImageServing) -> None:
    if size is not None and size > limits.max_image_bytes:
        raise ImageInputError(413, name, over_the_limit(size, limits.max_image_bytes))
    if size == 0:
        raise ImageInputError(422, name, "an empty file; send the image's bytes")


def upload_format(name: str, head: bytes, path: Path) -> str:
    """The reader format of the file ``name``, copied to ``path``, starting with ``head``: what
    its first bytes say (PNG, JPEG, DICOM), else what its name says where its bytes do not
    deny it; an :class:`ImageInputError` (415) when neither gives a type the readers take."""
    from medadapt.data.dicom_files import looks_like_dicom, what_it_is  # torch: not at the
    from medadapt.data.image_io import SUFFIXES  # server's start (its first line waited on it)

    said = next((f for magic, f in MAGIC.items() if head.startswith(magic)), None)
    if said is None and looks_like_dicom(path):
        said = "dicom"
    lower = name.lower()
    named = "nifti" if lower.endswith(".nii.gz") else SUFFIXES.get(PurePosixPath(lower).suffix)
    if said is not None:
        return said
    if named is None:
        raise ImageInputError(415, name, UNSUPPORTED)
    looks = what_it_is(head)  # "it looks like text", "... a PDF document", "unknown binary..."
    gzip = named == "nifti" and head.startswith(GZIP)  # .nii.gz
    if named in ("png", "jpeg") or (looks != "unknown binary content" and not gzip):
        # a PNG or JPEG file always starts with its signature; nor is text or a PDF a DICOM
        # or NIfTI file: no image of a type the readers take, whatever its name says
        raise ImageInputError(415, name, denied_type(named, looks))
    return named  # a DICOM or NIfTI file without a signature here: its reader judges it


def denied_type(named: str, looks: str) -> str:
    """Why a file named as a ``named`` image is none (``looks``: what its first bytes look
    like, as :func:`~medadapt.data.dicom_files.what_it_is` says it).

    >>> print(denied_type("png", "it looks like text"))  # doctest: +NORMALIZE_WHITESPACE
    not a PNG image (its first bytes are not a PNG's; it looks like text): send a PNG, JPEG,
    DICOM or NIfTI file
    """
    fmt = FORMAT_NAMES[named]
    said = f"its first bytes are not a {fmt}'s"
    said += ", nor another image type's" if looks == "unknown binary content" else f"; {looks}"
    return f"not a {fmt} image ({said}): {SEND_AN_IMAGE}"


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
        fmt = upload_format(name, head, path)
        suffix = ".nii.gz" if fmt == "nifti" and head.startswith(GZIP) else COPY_SUFFIX[fmt]
        out.append(Upload(name, path.rename(folder / f"{i:03d}{suffix}"), fmt))
    return out
