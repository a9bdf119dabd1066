"""Images named by a DICOMweb reference (``{"dicomweb": "dicomweb+http://HOST/dicom-web/studies/
UID[/series/UID]"}``): fetched with :mod:`medadapt.data.dicomweb` into a private folder, then
read like uploads (:func:`medadapt.serve.image_decode.decode`).

The server fetches only from the archives it was started with (``--dicomweb-archive URL``)
and sends its DICOMweb token (``--dicomweb-token-file``) only to them: a client cannot make it
call, or hand its token to, any other host. The number of instances is checked (QIDO-RS)
before anything is fetched. A reference carrying credentials (``user:password@``) is refused:
the server reads its archives with its own, and a password in a request ends up in logs and
proxies. Failures are one line: 403 an archive not served, 404 a study or series the archive
does not have, 413 too many instances, 422 a malformed reference, one with credentials or a
series that holds no image (a report), 502 an archive that cannot be reached or fails.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from medadapt.data.dicomweb import (
    DicomwebReference,
    DicomwebSource,
    Instance,
    NotFoundError,
    NotImagesError,
    UnreachableError,
    download,
    parse_reference,
)
from medadapt.errors import ConfigError, DataError
from medadapt.serve.image_inputs import ImageInputError, ImageServing, Upload

FIELD = "'dicomweb'"
log = logging.getLogger("medadapt.serve")


@dataclass(frozen=True)
class ArchiveImages:
    """The instances a reference named, fetched into a request's folder."""

    reference: DicomwebReference
    instances: list[Instance]

    @property
    def uploads(self) -> list[Upload]:
        """The files to read, each named by its SOPInstanceUID."""
        return [Upload(i.sop_uid, Path(i.path), "dicom") for i in self.instances]


def fetch(url: str, schema: Any, limits: ImageServing, folder: Path) -> ArchiveImages:
    """The image instances ``url`` names, written into ``folder`` (a decoding thread)."""
    reference = _reference(url)
    check_archive(reference, limits)  # first: an archive not served learns nothing more
    if reference.auth is not None:  # shown without them: str() leaves out user:password@
        raise ImageInputError(422, None, credentials_refused(reference, limits))
    try:
        source = archive(reference, limits)
        _check_count(source, reference, schema, limits)
        instances = download(source, reference, folder)
    except DataError as exc:
        raise archive_error(exc) from None
    if not instances:
        raise ImageInputError(422, str(reference), "no image instance to score")
    return ArchiveImages(reference, instances)


def archive(reference: DicomwebReference, limits: ImageServing) -> DicomwebSource:
    """The archive of ``reference`` (checked by :func:`check_archive`), with the server's
    token, else the credentials of its ``--dicomweb-archive`` URL (``user:password@``); never
    a client's (:func:`_reference` refuses them); and the CA bundle."""
    own = None if limits.dicomweb_token else _archive_auth(reference, limits)
    reference = replace(reference, auth=own)  # the server's credentials, never a client's
    return DicomwebSource.for_reference(reference, token=limits.dicomweb_token,
                                        ca_bundle=limits.dicomweb_ca_bundle, retries=1,
                                        timeout=limits.dicomweb_timeout)  # fmt: skip


def check_archives(limits: ImageServing, *, timeout: float = 10.0) -> list[str]:
    """Ask each ``--dicomweb-archive`` for one study as requests will ask it (the server's
    credentials and CA), before serving: credentials refused, a URL that is no DICOMweb root,
    a certificate not trusted or a host that does not exist is a :class:`ConfigError` (the
    first client would learn it as a 502); an archive that cannot be reached now is a warning
    returned (it may come up later)."""
    warnings = []
    for url in limits.dicomweb_archives:
        root = _parsed(url)
        own = None if limits.dicomweb_token else root.auth
        source = DicomwebSource.for_reference(
            replace(root, auth=own), token=limits.dicomweb_token,
            ca_bundle=limits.dicomweb_ca_bundle, retries=0,
            timeout=min(timeout, limits.dicomweb_timeout),
        )  # fmt: skip
        try:
            source.check_root()
        except UnreachableError as exc:
            warnings.append(f"{_operators(exc)}; requests naming it are answered 502 until it "
                            "answers")  # fmt: skip
        except DataError as exc:
            raise ConfigError(_operators(exc)) from None
    return warnings


def _operators(exc: DataError) -> str:
    """The data layer's line with the flag that sets an archive (``--data`` there)."""
    return str(exc).replace("--data", "--dicomweb-archive")


def _reference(url: str) -> DicomwebReference:
    try:
        reference = parse_reference(url)
    except DataError as exc:
        raise ImageInputError(422, None, str(exc).replace("--data", FIELD)) from None
    if reference.study_uid is None:
        raise ImageInputError(
            422, None, f"{FIELD} {reference} names no study: add /studies/STUDY_UID"
        )
    return reference


def credentials_refused(reference: DicomwebReference, limits: ImageServing) -> str:
    """Why a reference carrying ``user:password@`` is refused, and whose credentials the
    server uses instead (as it was started); neither the user nor the password is repeated."""
    if limits.dicomweb_token:
        own = "the token of its --dicomweb-token-file"
    elif _archive_auth(reference, limits) is not None:
        own = "the user:password@ of its --dicomweb-archive URL"
    else:
        own = (
            "set where it is started: --dicomweb-token-file, or user:password@ in its "
            "--dicomweb-archive URL"
        )
    return (
        f"{FIELD} carries credentials (user:password@ in the URL): do not send them in the "
        f"reference (they end up in logs and proxies); send {reference}: the server reads the "
        f"archive with its own credentials, {own}"
    )


def check_archive(reference: DicomwebReference, limits: ImageServing) -> None:
    """403 unless ``reference`` lies in one of the archives the server was started with."""
    allowed = {_root(url) for url in limits.dicomweb_archives}
    if reference.base_url.rstrip("/") in allowed:
        return
    here = urlsplit(reference.base_url)
    for root in sorted(allowed):  # the archive's host, another path: a reference misspelt
        if (urlsplit(root).scheme, urlsplit(root).netloc) == (here.scheme, here.netloc):
            raise ImageInputError(
                422, None,
                f"{reference.base_url} is not the DICOMweb root of the archive this server "
                f"reads on that host ({root}): write dicomweb+{root}/studies/UID[/series/UID]",
            )  # fmt: skip
    if not allowed:
        why = "this server reads no DICOMweb archive (start it with --dicomweb-archive URL)"
    else:
        why = f"this server reads DICOMweb only from {', '.join(sorted(allowed))}"
    raise ImageInputError(403, None, f"{reference.base_url}: {why}")


def _archive_auth(reference: DicomwebReference, limits: ImageServing) -> tuple[str, str] | None:
    """The ``user:password@`` of the ``--dicomweb-archive`` that ``reference`` lies in."""
    for url in limits.dicomweb_archives:
        root = _parsed(url)
        if root.base_url.rstrip("/") == reference.base_url.rstrip("/") and root.auth:
            return root.auth
    return None


def _parsed(url: str) -> DicomwebReference:
    return parse_reference(url if url.lower().startswith("dicomweb+") else f"dicomweb+{url}")


def _root(url: str) -> str:
    """An archive's DICOMweb root as references spell it (scheme, host, port, path)."""
    return _parsed(url).base_url.rstrip("/")


def _check_count(
    source: DicomwebSource, reference: DicomwebReference, schema: Any, limits: ImageServing
) -> None:
    """413 before fetching when the reference holds more instances than a request may read
    (2D: ``max_images``; 3D, where a series is one volume: ``max_instances``)."""
    limit = limits.max_images if schema.spatial_dims == 2 else limits.max_instances
    flag = "--max-images" if schema.spatial_dims == 2 else "--max-instances"
    study = str(reference.study_uid)
    count = 0
    for series in source.series_uids(reference):
        count += len(source.sop_uids(study, series))
        if count > limit:
            many = f"more than {limit} instances, the most a request reads (serve {flag})"
            fix = ("name one of its series" if reference.series_uid is None else
                   "this series alone is over it")  # fmt: skip
            raise ImageInputError(413, str(reference), f"{many}; {fix}, or score it with "
                                  "'medadapt predict --data' (no such limit)")  # fmt: skip


def archive_error(exc: DataError) -> ImageInputError:
    """The data layer's one-line DICOMweb failure as an answer (404 not found, 422 a reference
    to no image, else 502). What the client can fix names its request's field; what only the
    operator can (an archive down, a certificate, credentials) names ``--dicomweb-archive``."""
    if isinstance(exc, NotFoundError):
        return ImageInputError(404, None, str(exc).replace("--data", FIELD))
    if isinstance(exc, NotImagesError) or "is not a DICOM UID" in str(exc):
        return ImageInputError(422, None, str(exc).replace("--data", FIELD))
    # the operator's to fix (and credentials are the server's to set, never a client's to send)
    text = _operators(exc)
    log.warning("reading from DICOMweb failed (answered 502): %s", _UID.sub("<UID>", text))
    return ImageInputError(502, None, text)


_UID = re.compile(r"(?<!//)(?<![\d.])\b\d+(?:\.\d+){2,}\b")  # not a host: http://10.0.0.2
