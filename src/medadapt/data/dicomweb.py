"""A PACS over DICOMweb: images to read (QIDO-RS, WADO-RS) and a place to store results (STOW-RS).

``dicomweb+http(s)://HOST[:PORT]/ROOT/studies/STUDY[/series/SERIES]`` names a study or one of
its series; ``dicomweb+http(s)://HOST[:PORT]/ROOT`` (the server's DICOMweb root) names the
server only: the studies are then listed elsewhere (a labels CSV). :func:`download` writes the
instances as ``FOLDER/STUDY/SERIES/SOP.dcm``, so the local DICOM readers
(:mod:`medadapt.data.dicom_files`, :mod:`medadapt.data.dicom_series`) read them exactly as
files on disk, with the same preprocessing as at training time.

Credentials: a bearer token (``--dicomweb-token-file``) or ``user:password@`` in the URL (HTTP
basic auth). HTTPS archives are verified against the system's CAs, or the hospital's own CA
(``--dicomweb-ca-bundle``, a PEM file); an untrusted certificate is one line naming that flag,
never a silent ``verify=False``. Neither credential is ever printed: a reference and every
message show the URL without them.
Connection errors and 5xx answers are retried with exponential back-off (not a host name that
does not resolve, nor an untrusted certificate: the same every time); every failure is one
:class:`~medadapt.errors.DataError` line naming the study or series, the server and the flag to
fix (no traceback; ``dicomweb_client``'s own log lines are silenced). A 404 is checked against
the root: a URL that answers no QIDO-RS search (a PACS's REST root instead of its
``/dicom-web``) is said to be no DICOMweb root, not to lack the study. A 403 on STOW-RS, from
credentials that have just read, says the account may not write.

>>> ref = parse_reference("dicomweb+http://pacs:8042/dicom-web/studies/1.2.3")
>>> ref.base_url, ref.study_uid, ref.series_uid
('http://pacs:8042/dicom-web', '1.2.3', None)
>>> str(parse_reference("dicomweb+https://u:secret@pacs/dicom-web"))
'dicomweb+https://pacs/dicom-web'
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from medadapt.data.dicom_sr import MANUFACTURER
from medadapt.data.dicomweb_reference import (
    DATA_FLAG,
    SCHEMES,
    DicomwebReference,
    check_uid,
    is_reference,
    parse_reference,
)
from medadapt.data.read_errors import one_line
from medadapt.data.reader_notes import collect_notes
from medadapt.errors import ConfigError, DataError
from medadapt.fileio import atomic_write

if TYPE_CHECKING:
    import socket

    from pydicom import Dataset

__all__ = [
    "CA_FLAG",
    "DATA_FLAG",
    "NON_IMAGE_MODALITIES",
    "SCHEMES",
    "STORE_FLAG",
    "TIMEOUT_FLAG",
    "TOKEN_FLAG",
    "DicomwebReference",
    "DicomwebSource",
    "Instance",
    "NotFoundError",
    "NotImagesError",
    "SeriesInfo",
    "check_ca_bundle",
    "check_uid",
    "download",
    "is_reference",
    "parse_reference",
]

TOKEN_FLAG = "--dicomweb-token-file"
TIMEOUT_FLAG = "--dicomweb-timeout"
DEFAULT_TIMEOUT = 60.0
"""Seconds a DICOMweb server may take to answer (between bytes, not the whole transfer)."""
CA_FLAG = "--dicomweb-ca-bundle"
STORE_FLAG = "--store-sr"
#: series of these modalities hold no image to classify (reports, key objects, segmentations)
NON_IMAGE_MODALITIES = frozenset(
    {"SR", "KO", "PR", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "REG", "DOC", "OT-SR"}
)
#: what the non-image modalities hold, as messages name them
_NON_IMAGE_NAMES = {
    "SR": "a structured report", "KO": "a key object selection", "PR": "a presentation state",
    "SEG": "a segmentation", "RTSTRUCT": "an RT structure set", "DOC": "a document",
}  # fmt: skip
_T = TypeVar("_T")


class NotFoundError(DataError):
    """A study or series the server does not have; ``uid``: its UID."""

    def __init__(self, message: str, *, uid: str = "") -> None:
        super().__init__(message)
        self.uid = uid


class NotImagesError(DataError):
    """A series named to be read that holds no image (a report, key object, segmentation)."""


class UnreachableError(DataError):
    """A server that cannot be reached, or fails (5xx), after every try: it may answer later,
    where a refused credential or a URL that is no DICOMweb root will not."""


@dataclass(frozen=True)
class SeriesInfo:
    """One series of a study, as QIDO-RS lists it."""

    study_uid: str
    series_uid: str
    modality: str
    n_instances: int | None
    description: str = ""  # SeriesDescription ("medadapt AI result, unverified (0123456789ab)")


@dataclass(frozen=True)
class Instance:
    """A downloaded DICOM instance: where it was written and its identifying UIDs;
    ``cached``: found in a kept folder (``--dicomweb-cache``), not fetched this time."""

    path: Path
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    cached: bool = field(default=False, compare=False)


#: a request that times out is tried once more (4 tries at 60 s were about 4 minutes of
#: silence before the error line): the retry is said, as a note, with the flag for the wait
_retry_log = logging.getLogger("medadapt.notes")
TIMEOUT_RETRIES = 1


class DicomwebSource:
    """A DICOMweb server (``dicomweb_client``), every failure one :class:`DataError` line.

    ``base_url``: ``http(s)://[user:password@]host[:port]/root``; ``token``: a bearer token
    (sent as ``Authorization: Bearer``), or ``USER:PASSWORD`` for basic auth (a colon, which
    no bearer token holds: a password kept in a file, not on a command line every user of
    the machine can list); ``ca_bundle``: the CA certificates (PEM) an https
    server's certificate must chain to (default: the system's); ``retries``: further tries
    after a connection error or a 5xx/429 answer, ``backoff * 2**i`` seconds apart (an
    untrusted certificate is not retried; a server silent for ``timeout`` seconds is asked
    once more, :data:`TIMEOUT_RETRIES`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        auth: tuple[str, str] | None = None,
        ca_bundle: Path | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        from dicomweb_client.api import DICOMwebClient

        if retries < 0 or backoff < 0:
            raise ConfigError(f"retries and backoff must be >= 0, got {retries=}, {backoff=}")
        reference = parse_reference(f"dicomweb+{base_url}")
        if token is not None and (auth or reference.auth):
            raise ConfigError(
                f"pass either a token ({TOKEN_FLAG}) or user:password@ in the URL, not both"
            )
        self.url, self.retries, self.backoff = reference.base_url, retries, backoff
        self._credentials = token is not None or bool(auth or reference.auth)
        self.ca_bundle = ca_bundle
        session = _session(None if ca_bundle is None else check_ca_bundle(ca_bundle))
        if token is not None and ":" in token:  # USER:PASSWORD, for a PACS of basic auth
            user, _, password = token.partition(":")  # (no bearer token holds a colon)
            session.auth = (user, password)
        elif token is not None:
            session.headers["Authorization"] = f"Bearer {token}"
        elif auth or reference.auth:
            session.auth = auth or reference.auth
        for library in ("dicomweb_client", "retrying"):  # errors are ours, in one line
            logging.getLogger(library).setLevel(logging.CRITICAL + 1)
        self._session, self._timeout = session, timeout
        self._answered = False  # whether the server has given any HTTP answer in this run
        self._client = DICOMwebClient(
            self.url, session=session, timeout=timeout, permissive_uid=True
        )
        self._client.set_http_retry_params(retry=False)  # retried here, by our own rules

    @classmethod
    def for_reference(cls, reference: DicomwebReference, **kwargs: Any) -> DicomwebSource:
        """The server of ``reference`` with its URL credentials (refused with a token too)."""
        return cls(reference.base_url, auth=reference.auth, **kwargs)

    # ----- QIDO-RS, WADO-RS, STOW-RS -----------------------------------------------------------
    def check_root(self) -> None:
        """Ask for one study (QIDO-RS ``/studies?limit=1``), as every read begins: credentials
        refused, a URL that is no DICOMweb root, a certificate not trusted or a host that does
        not exist is a :class:`DataError`; a server down, an :class:`UnreachableError`."""
        self._call(lambda: self._client.search_for_studies(limit=1), what="a search of studies")

    def series(self, study_uid: str, *, modality: str | None = None) -> list[SeriesInfo]:
        """The series of a study (QIDO-RS), only those of ``modality`` when given; an unknown
        study is a :class:`NotFoundError` (a study without series of ``modality``: none)."""
        fields = ["SeriesInstanceUID", "Modality", "NumberOfSeriesRelatedInstances",
                  "SeriesDescription"]  # fmt: skip
        filters = {} if modality is None else {"Modality": modality}
        found = self._call(
            lambda: self._client.search_for_series(
                study_uid, fields=fields, search_filters=filters, get_remaining=True
            ),
            what=f"study {study_uid}",
        )
        if not found and modality is None:
            raise self._not_found(f"study {study_uid}", study_uid, self._uid_elsewhere(study_uid))
        out = []
        for item in found:
            count = _json_value(item, "00201209")
            out.append(
                SeriesInfo(
                    study_uid,
                    check_uid(str(_json_value(item, "0020000E")), "series"),
                    str(_json_value(item, "00080060") or ""),
                    None if count is None else int(count),
                    str(_json_value(item, "0008103E") or ""),
                )
            )
        return [s for s in out if modality is None or s.modality.upper() == modality.upper()]

    def sop_uids(self, study_uid: str, series_uid: str) -> list[tuple[str, str]]:
        """``(SOPInstanceUID, SOPClassUID)`` of each instance of a series (QIDO-RS)."""
        found = self._call(
            lambda: self._client.search_for_instances(
                study_uid, series_uid, fields=["SOPInstanceUID", "SOPClassUID"],
                get_remaining=True,
            ),
            what=f"series {series_uid} of study {study_uid}",
        )  # fmt: skip
        return [(str(_json_value(i, "00080018")), str(_json_value(i, "00080016"))) for i in found]

    def retrieve(self, study_uid: str, series_uid: str) -> list[Dataset]:
        """Every instance of one series (WADO-RS). Parts stored without the 128-byte preamble
        (as some uploaders send them) are read too."""
        from pydicom.errors import InvalidDicomError

        what = f"series {series_uid} of study {study_uid}"
        try:
            return self._call(
                lambda: self._client.retrieve_series(study_uid, series_uid), what=what
            )
        except InvalidDicomError:
            return self._call(lambda: self._retrieve_parts(study_uid, series_uid), what=what)

    def _retrieve_parts(self, study_uid: str, series_uid: str) -> list[Dataset]:
        """A series' multipart answer read part by part (``force``: no preamble needed)."""
        from email.parser import BytesParser
        from io import BytesIO

        import pydicom

        url = f"{self.url}/studies/{study_uid}/series/{series_uid}"
        accept = 'multipart/related; type="application/dicom"'
        response = self._session.get(url, headers={"Accept": accept}, timeout=self._timeout)
        response.raise_for_status()
        head = f"Content-Type: {response.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = BytesParser().parsebytes(head + response.content)
        if not message.is_multipart():
            raise ValueError("the answer is not multipart/related")
        return [
            pydicom.dcmread(BytesIO(part.get_payload(decode=True)), force=True)
            for part in message.get_payload()
        ]

    def instances(self, reference: DicomwebReference, *, images_only: bool = True) -> list[Dataset]:
        """The instances of the study or series ``reference`` names (WADO-RS). With
        ``images_only``, series of :data:`NON_IMAGE_MODALITIES` and instances without pixel
        data (reports, key objects) are left out."""
        out: list[Dataset] = []
        for series_uid in self.series_uids(reference, images_only=images_only):
            found = self.retrieve(str(reference.study_uid), series_uid)
            out += [ds for ds in found if not images_only or _has_pixels(ds)]
        return out

    def store(self, datasets: Sequence[Dataset], *, what: str = "the new instances") -> list[str]:
        """Store ``datasets`` (STOW-RS; ``what``: them, as a refusal names them); the
        SOPInstanceUIDs the server stored."""
        if not datasets:
            return []
        files = [_as_file(ds) for ds in datasets]
        response = self._call(lambda: self._client.store_instances(files), what=what, storing=True)
        failed = list(getattr(response, "FailedSOPSequence", []) or [])
        if failed:
            reason = failed[0].get("FailureReason", "?")
            raise DataError(
                f"the DICOMweb server {self.url} refused to store {len(failed)} of "
                f"{len(datasets)} instances (failure reason {reason}); check that it accepts "
                "STOW-RS and this SOP class"
            )
        return [str(ds.SOPInstanceUID) for ds in datasets]

    def series_uids(self, reference: DicomwebReference, *, images_only: bool = True) -> list[str]:
        """The series ``reference`` names: its one series, or those of its study (QIDO-RS),
        without the non-image ones when ``images_only``."""
        if reference.study_uid is None:
            raise DataError(
                f"{DATA_FLAG} {reference} names no study: add /studies/STUDY_UID, or list the "
                "studies in the labels CSV"
            )
        if reference.series_uid is not None:
            if images_only:
                _check_image_series(reference, self.series(reference.study_uid), self.url)
            return [reference.series_uid]
        listed = self.series(reference.study_uid)
        return [
            s.series_uid
            for s in listed
            if not images_only or s.modality.upper() not in NON_IMAGE_MODALITIES
        ]

    # ----- errors and retries ------------------------------------------------------------------
    def _call(self, action: Callable[[], _T], *, what: str, storing: bool = False) -> _T:
        """``action()``, retried on connection errors and 5xx/429; failures as DataError
        (``storing``: a STOW-RS request, whose 403 says the account may not write)."""
        import requests

        timed_out = 0
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                answer = action()
                self._answered = True
                return answer
            except requests.HTTPError as exc:
                self._answered = True
                status = exc.response.status_code if exc.response is not None else 0
                if (status >= 500 or status == 429) and not last:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise self._http_error(status, what, storing=storing) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                refused = _certificate_refused(exc)
                if refused is not None:  # the same certificate every time: not retried
                    raise self._untrusted(refused) from None
                unresolved = _name_unresolved(exc)
                if unresolved is not None:  # the same answer every time: not retried
                    raise self._unknown_host(unresolved) from None
                silent = isinstance(exc, requests.Timeout)
                timed_out += silent
                if not last and timed_out <= TIMEOUT_RETRIES:
                    if silent:  # a long wait: said, not silent
                        _retry_log.warning(
                            "the DICOMweb server %s did not answer within %g s; asking once "
                            "more (%s sets the wait)", self.url, self._timeout, TIMEOUT_FLAG,
                        )  # fmt: skip
                    time.sleep(self.backoff * 2**attempt)
                    continue
                if silent:
                    raise UnreachableError(
                        f"the DICOMweb server {self.url} did not answer within "
                        f"{self._timeout:g} s ({_tries(attempt + 1)}): check that it is "
                        f"running, or give a slow server longer with {TIMEOUT_FLAG}"
                    ) from None
                if isinstance(exc, requests.exceptions.SSLError):
                    raise DataError(
                        f"the TLS handshake with the DICOMweb server {self.url} failed "
                        f"({_tries(attempt + 1)}): check that {DATA_FLAG} says https:// only for "
                        "a server that speaks TLS (http:// for a plain port)"
                    ) from None
                raise UnreachableError(
                    f"cannot reach the DICOMweb server {self.url} ({type(exc).__name__}, "
                    f"{_tries(attempt + 1)}): check {DATA_FLAG} and that the server is running"
                    + ("" if self._answered else _maybe_tls(self.url, exc))
                ) from None
            except (requests.RequestException, ValueError, TypeError, KeyError) as exc:
                raise DataError(
                    f"the DICOMweb server {self.url} sent an answer medadapt cannot read for "
                    f"{what} ({type(exc).__name__}): check that {DATA_FLAG} names a DICOMweb "
                    "root (e.g. dicomweb+http://HOST:8042/dicom-web)"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _untrusted(self, reason: str) -> DataError:
        if "mismatch" in reason.lower():
            how = f"write the host name the certificate was issued for in {DATA_FLAG}"
        elif self.ca_bundle is None:
            how = (f"pass the certificate (PEM) of the CA that signed it with {CA_FLAG} "
                   "(ask the PACS administrator for the hospital's CA)")  # fmt: skip
        else:
            how = f"check that the {CA_FLAG} file holds the CA that signed it"
        return DataError(
            f"the DICOMweb server {self.url} has a TLS certificate this machine does not "
            f"trust ({reason}): {how}"
        )

    def _unknown_host(self, error: socket.gaierror) -> DataError:
        """The host of ``self.url`` has no address: none exists (``EAI_NONAME``), or the name
        server failed (its words said)."""
        import socket

        host = urlsplit(self.url).hostname or self.url
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return DataError(f"cannot resolve host {host!r}: check the address in {DATA_FLAG}")
        return DataError(
            f"cannot resolve host {host!r} ({error.strerror or error}): check the address in "
            f"{DATA_FLAG} and this machine's name server (DNS)"
        )

    def _not_found(self, what: str, uid: str = "", hint: str = "") -> NotFoundError:
        fix = hint or f"check {DATA_FLAG}"
        return NotFoundError(f"{what} not found on {self.url}: {fix}", uid=uid)

    def _uid_elsewhere(self, uid: str) -> str:
        """Where a UID given as a study's is a series' or an instance's on this archive (QIDO-RS
        at the root), the reference to write instead; "" when it is neither, or the archive
        cannot be asked (a trial's series UID given as a study's was only "not found")."""
        asks = (
            ("series", lambda: self._client.search_for_series(
                fields=["StudyInstanceUID"], search_filters={"SeriesInstanceUID": uid}, limit=1)),
            ("instance", lambda: self._client.search_for_instances(
                fields=["StudyInstanceUID", "SeriesInstanceUID"],
                search_filters={"SOPInstanceUID": uid}, limit=1)),
        )  # fmt: skip
        for level, ask in asks:
            try:
                found = self._call(ask, what=f"a search for {level} {uid}")
            except DataError:
                return ""
            if not found:
                continue
            study = str(_json_value(found[0], "0020000D") or "")
            series = uid if level == "series" else str(_json_value(found[0], "0020000E") or "")
            if not study or not series:
                return ""
            return (f"{uid} is a {level} UID on it, of study {study}: name it as "
                    f"dicomweb+{self.url}/studies/{study}/series/{series}"
                    f"{' (its whole series)' if level == 'instance' else ''}")  # fmt: skip
        return ""

    def _not_a_root(self) -> DataError | None:
        """Why ``self.url`` is no DICOMweb root, when a QIDO-RS search of its studies
        (``{url}/studies?limit=1``) is refused as malformed or absent (4xx, credentials and
        throttling aside: Orthanc's REST root answers 400) or answers anything but DICOM JSON;
        None when it answers QIDO-RS, or cannot be asked (the 404 then stands for itself)."""
        import requests

        url = f"{self.url}/studies"
        try:
            answer = self._session.get(url, params={"limit": 1}, timeout=self._timeout,
                                       headers={"Accept": "application/dicom+json"})  # fmt: skip
        except requests.RequestException:
            return None
        status = answer.status_code
        if 400 <= status < 500 and status not in (401, 403, 429):  # 404, 400 ...: no QIDO-RS
            said = f"QIDO-RS answered {status} at {url}"
        elif status in (200, 204) and not _dicom_json(answer):
            said = f"{url} answered something other than DICOM JSON"
        else:
            return None
        parts = urlsplit(self.url)
        server = parts.netloc.rpartition("@")[2]  # never user:password@
        usual = f"dicomweb+{parts.scheme}://{server}/dicom-web"
        if parts.path.rstrip("/") == "/dicom-web":  # the usual path already: the server's fault
            return DataError(
                f"{self.url} is not a DICOMweb root ({said}): {server} answers, but not as a "
                f"DICOMweb server at /dicom-web: check that its DICOMweb service is on (Orthanc: "
                f"the DICOMweb plugin) and where it serves it, and the host and port in "
                f"{DATA_FLAG}"
            )
        return DataError(
            f"{self.url} is not a DICOMweb root ({said}): check the path in {DATA_FLAG}, e.g. "
            f"{usual}"
        )

    def _http_error(self, status: int, what: str, *, storing: bool = False) -> DataError:
        if status in (400, 404):  # Orthanc's REST root answers a QIDO-RS search 400
            not_a_root = self._not_a_root()
            if not_a_root is not None or status == 400:
                return not_a_root or self._answered(status, what)
            return self._not_found(what)
        if status == 403 and storing:  # the same credentials read: they may not write
            return DataError(
                f"the DICOMweb server {self.url} refused to store {what} (HTTP 403): this "
                "account may read but not write (STOW-RS): ask the PACS administrator for "
                f"write access, or drop {STORE_FLAG}"
            )
        if status in (401, 403):
            how = "refused the credentials" if self._credentials else "asks for credentials"
            return DataError(
                f"the DICOMweb server {self.url} {how} (HTTP {status}): pass a valid bearer "
                f"token, or USER:PASSWORD for basic auth, in a file with {TOKEN_FLAG}, or "
                f"user:password@ in the {DATA_FLAG} URL"
            )
        if status >= 500 or status == 429:
            times = "once" if self.retries == 0 else f"{self.retries + 1} times"
            return UnreachableError(
                f"the DICOMweb server {self.url} failed (HTTP {status}) {times} on {what}; try "
                "again later"
            )
        return self._answered(status, what)

    def _answered(self, status: int, what: str) -> DataError:
        return DataError(
            f"the DICOMweb server {self.url} answered HTTP {status} on {what}: check {DATA_FLAG}"
        )


def _maybe_tls(url: str, exc: BaseException) -> str:
    """A hint where a plain ``http://`` request, to a server that has given no HTTP answer
    in this run (the caller's judgement), got none at all (the connection closed or reset,
    or bytes that are no status line): a port that speaks TLS answers so (a trial's http://
    to an HTTPS gateway was told only to check that the server is running)."""
    said = repr(exc)
    if not url.startswith("http://") or not any(why in said for why in (
        "RemoteDisconnected", "BadStatusLine", "without response", "ConnectionResetError",
        "Connection reset",
    )):  # fmt: skip
        return ""
    return (f" (it closed the connection without an HTTP answer, as a port that speaks TLS "
            f"does: if it does, write dicomweb+https:// in {DATA_FLAG})")  # fmt: skip


def _tries(n: int) -> str:
    """``"1 try"``, ``"4 tries"``."""
    return "1 try" if n == 1 else f"{n} tries"


def _check_image_series(reference: DicomwebReference, listed: list[SeriesInfo], url: str) -> None:
    """Refuse the series ``reference`` names unless its study lists it as an image series."""
    series, study = str(reference.series_uid), str(reference.study_uid)
    found = [s for s in listed if s.series_uid == series]
    if not found:
        raise NotFoundError(
            f"series {series} of study {study} not found on {url}: check {DATA_FLAG}", uid=series
        )
    modality = found[0].modality.upper()
    if modality in NON_IMAGE_MODALITIES:
        name = _NON_IMAGE_NAMES.get(modality)
        what = f"{name} ({modality})" if name else f"{modality} objects"
        images = [s for s in listed if s.modality.upper() not in NON_IMAGE_MODALITIES]
        which = "the study's image series" if len(images) == 1 else "an image series of the study"
        how = (f"name {which}, or the study, in {DATA_FLAG}" if images
               else f"the study holds no image series; check {DATA_FLAG}")  # fmt: skip
        raise NotImagesError(f"series {series} of study {study} holds {what}, not images: {how}")


def _session(ca_bundle: Path | None) -> Any:
    """A requests session; with ``ca_bundle``, every request verifies against it, even where
    ``REQUESTS_CA_BUNDLE`` is set (which requests would otherwise let win)."""
    import requests

    class Session(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            if ca_bundle is not None and kwargs.get("verify") in (None, True):
                kwargs["verify"] = str(ca_bundle)
            return super().request(*args, **kwargs)

    return Session()


def check_ca_bundle(path: Path) -> Path:
    """``path`` if it holds CA certificates (PEM) that TLS can load; a one-line
    :class:`DataError` naming ``--dicomweb-ca-bundle`` otherwise. The file is parsed once per
    version (the server builds a source per request)."""
    if not path.exists():
        raise DataError(f"{CA_FLAG} {path} does not exist: give the CA certificate file (PEM)")
    if not path.is_file():
        raise DataError(f"{CA_FLAG} {path} is not a file: give the CA certificate file (PEM)")
    version = path.stat()
    if not _tls_loads(str(path), version.st_mtime_ns, version.st_size):
        if path.read_bytes()[:1] == b"\x30":  # an ASN.1 SEQUENCE: the certificate in DER
            raise DataError(
                f"{CA_FLAG} {path} is a DER (binary) certificate: convert it to PEM with "
                f"'openssl x509 -inform der -in {path} -out ca.pem' and pass ca.pem"
            )
        raise DataError(
            f"{CA_FLAG} {path} holds no CA certificate TLS can read: give the PEM file "
            "(-----BEGIN CERTIFICATE-----) of the CA that signed the PACS's certificate"
        )
    return path


@functools.lru_cache(maxsize=16)
def _tls_loads(path: str, mtime_ns: int, size: int) -> bool:
    """Whether TLS loads ``path`` as CA certificates (cached per file version)."""
    import ssl

    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError):
        return False
    return True


def _chained(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (requests wraps urllib3's, which wraps the ssl or
    socket module's), each once."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        wrapped = [*error.args, getattr(error, "reason", None), error.__cause__, error.__context__]
        pending += [e for e in wrapped if isinstance(e, BaseException)]


def _certificate_refused(exc: Exception) -> str | None:
    """OpenSSL's reason for refusing the server's certificate, found among the wrapped
    exceptions; None when the failure is not a refused certificate (a handshake cut short, a
    plain-http port)."""
    import ssl

    for error in _chained(exc):
        if isinstance(error, ssl.SSLCertVerificationError):
            return str(error.verify_message or error.reason or "certificate refused")
    return None


def _name_unresolved(exc: Exception) -> socket.gaierror | None:
    """The resolver's failure when the server's host name could not be resolved, found among
    the wrapped exceptions; None for any other connection failure."""
    import socket

    return next((e for e in _chained(exc) if isinstance(e, socket.gaierror)), None)


def _dicom_json(answer: Any) -> bool:
    """Whether an HTTP answer is a QIDO-RS result: empty, or a JSON array of DICOM JSON
    objects (keyed by 8-digit hexadecimal tags)."""
    if answer.status_code == 204 or not answer.content.strip():
        return True
    try:
        found = answer.json()
    except ValueError:
        return False
    if not isinstance(found, list):
        return False
    return all(isinstance(item, dict) and all(len(k) == 8 for k in item) for item in found)


def _json_value(item: dict[str, Any], tag: str) -> Any:
    """The first value of ``tag`` in a DICOM JSON object (None when absent)."""
    values = (item.get(tag) or {}).get("Value") or [None]
    return values[0]


def _as_file(ds: Dataset) -> Dataset:
    """``ds`` as a DICOM file (PS3.10: preamble, ``DICM``, file meta), as STOW-RS expects."""
    from pydicom.dataset import FileDataset

    if getattr(ds, "preamble", None) and "TransferSyntaxUID" in getattr(ds, "file_meta", {}):
        return ds
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        raise DataError(
            f"instance {ds.get('SOPInstanceUID', '?')} has no file meta (transfer syntax): "
            "give it ds.file_meta before storing it"
        )
    return FileDataset("", ds, file_meta=ds.file_meta, preamble=b"\0" * 128)


def _has_pixels(ds: Dataset) -> bool:
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


def download(
    source: DicomwebSource,
    what: DicomwebReference | Iterable[str],
    folder: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    passed_over: Counter[str] | None = None,
) -> list[Instance]:
    """Write the image instances of a study/series reference, or of the study UIDs
    ``what``, as ``folder/STUDY/SERIES/SOP.dcm`` (a series whose files are all there already,
    e.g. in a kept cache, is not fetched again: its instances are ``cached``); the instances,
    sorted by path.

    The series and their instances are listed on the server (QIDO-RS) even when the folder
    holds a study already: a study may gain series or instances after it was cached (a late
    series, an instance sent again), and only the server's listing shows that; the listing is
    small, the images are what is spared.

    ``progress(done, total)`` is called after each series. ``passed_over`` counts what is
    no image: ``"series"`` of a non-image modality (a report, a document), of which
    ``"medadapt_series"`` those of medadapt's own reports (``predict --store-sr``'s, by their
    description), and ``"instances"`` without pixel data in an image series."""
    folder = Path(folder)
    passed_over = Counter() if passed_over is None else passed_over
    if isinstance(what, DicomwebReference) and what.series_uid is not None:
        plan = [(str(what.study_uid), s) for s in source.series_uids(what, images_only=True)]
    else:
        if isinstance(what, DicomwebReference) and what.study_uid is None:
            source.series_uids(what)  # refused: a reference naming no study
        studies = ([str(what.study_uid)] if isinstance(what, DicomwebReference) else
                   [check_uid(str(uid), "study") for uid in dict.fromkeys(what)])  # fmt: skip
        plan = []
        for study in studies:
            listed = source.series(study)
            plan += [
                (study, s.series_uid)
                for s in listed
                if s.modality.upper() not in NON_IMAGE_MODALITIES
            ]
            unread = [s for s in listed if s.modality.upper() in NON_IMAGE_MODALITIES]
            ours = sum(s.description.startswith(MANUFACTURER) for s in unread)  # older too
            passed_over["series"] += len(unread) - ours
            passed_over["medadapt_series"] += ours  # its own reports (a rerun's): said apart
    out: list[Instance] = []
    for done, (study, series) in enumerate(plan, start=1):
        out += _cached(source, folder, study, series) or _fetch(
            source, folder, study, series, passed_over
        )
        if progress is not None:
            progress(done, len(plan))
    return sorted(out, key=lambda i: i.path)


def _cached(source: DicomwebSource, folder: Path, study: str, series: str) -> list[Instance]:
    """The instances of a series already in ``folder`` (all of them, else none)."""
    where = folder / study / series
    if not where.is_dir():
        return []
    listed = source.sop_uids(study, series)
    found = [Instance(where / f"{sop}.dcm", study, series, sop, cls, cached=True)
             for sop, cls in listed]  # fmt: skip
    return found if found and all(i.path.is_file() for i in found) else []


def _fetch(
    source: DicomwebSource, folder: Path, study: str, series: str, passed_over: Counter[str]
) -> list[Instance]:
    """Fetch one series and write its image instances (those without pixel data counted in
    ``passed_over``). What pydicom warns or logs while parsing is held back: reading the
    written files says it again, as one note per file."""
    out = []
    with collect_notes():
        datasets = source.retrieve(study, series)
    for ds in datasets:
        if not _has_pixels(ds):
            passed_over["instances"] += 1
            continue
        sop = check_uid(str(ds.SOPInstanceUID), "instance")
        path = folder / study / series / f"{sop}.dcm"
        if not out:  # the series' first image: its folders, each private, not only the last
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for made in (path.parent.parent, path.parent):
                made.mkdir(exist_ok=True, mode=0o700)
        try:
            with collect_notes():
                atomic_write(
                    path, lambda tmp, ds=ds: ds.save_as(tmp, enforce_file_format=True), mode=0o600
                )  # the patient's name and id: its owner's alone
        except (ValueError, AttributeError, TypeError) as exc:
            raise DataError(
                f"instance {sop} of series {series} from {source.url} cannot be written as a "
                f"DICOM file ({one_line(exc, limit=160)}); check it on the PACS"
            ) from None
        out.append(Instance(path, study, series, sop, str(ds.SOPClassUID)))
    return out
