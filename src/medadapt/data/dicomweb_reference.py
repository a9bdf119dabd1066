"""DICOMweb references: ``dicomweb+http(s)://HOST[:PORT]/ROOT[/studies/UID[/series/UID]]``.

Parsed without any network access (see :mod:`medadapt.data.dicomweb` for the server). A
reference names a server root, a study, or one series of a study; credentials
(``user:password@``) are kept apart and never shown by ``str`` or ``repr``.

>>> ref = parse_reference("dicomweb+http://pacs:8042/dicom-web/studies/1.2.3")
>>> ref.base_url, ref.study_uid, ref.series_uid
('http://pacs:8042/dicom-web', '1.2.3', None)
>>> str(parse_reference("dicomweb+https://u:secret@pacs/dicom-web"))
'dicomweb+https://pacs/dicom-web'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from medadapt.errors import DataError

SCHEMES = ("dicomweb+http", "dicomweb+https")
DATA_FLAG = "--data"
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")  # digits and dots (leading zeros tolerated, as PACS do)


def is_reference(data: str | Path) -> bool:
    """Whether ``data`` is spelt as a DICOMweb reference (``dicomweb+http(s)://...``)."""
    return str(data).lower().startswith(tuple(f"{s}:" for s in SCHEMES))


def check_uid(uid: str, what: str) -> str:
    """``uid``, refused unless it is a DICOM UID (digits and dots, at most 64 characters)."""
    if not _UID.fullmatch(uid) or len(uid) > 64:
        raise DataError(
            f"{DATA_FLAG}: {what} {uid[:70]!r} is not a DICOM UID (digits and dots, at most 64 "
            "characters); copy the UID from the PACS"
        )
    return uid


@dataclass(frozen=True)
class DicomwebReference:
    """A DICOMweb server root, and optionally one study and one of its series.

    ``base_url``: the http(s) URL of the DICOMweb root, without credentials; ``auth``:
    ``(user, password)`` from the URL (never shown by ``str`` or ``repr``)."""

    base_url: str
    study_uid: str | None = None
    series_uid: str | None = None
    auth: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        parts = [f"dicomweb+{self.base_url}"]
        if self.study_uid:
            parts += ["studies", self.study_uid]
        if self.series_uid:
            parts += ["series", self.series_uid]
        return "/".join(parts)

    def with_series(self, series_uid: str) -> DicomwebReference:
        return DicomwebReference(self.base_url, self.study_uid, series_uid, self.auth)


def parse_reference(url: str) -> DicomwebReference:
    """``dicomweb+http(s)://[USER:PASSWORD@]HOST[:PORT]/ROOT[/studies/UID[/series/UID]]``;
    a bad one is a one-line :class:`DataError` naming the problem and ``--data``."""
    text = str(url).strip()
    scheme, _, rest = text.partition("://")
    if scheme.lower() not in SCHEMES or not rest:
        raise DataError(
            f"{DATA_FLAG} {_shown(text)} is not a DICOMweb reference: write "
            "dicomweb+http(s)://HOST[:PORT]/dicom-web[/studies/STUDY_UID[/series/SERIES_UID]]"
        )
    parts = urlsplit(f"{scheme.lower()[len('dicomweb+') :]}://{rest}")
    shown = _shown(text)
    if parts.query or parts.fragment:
        raise DataError(f"{DATA_FLAG} {shown} has a query or fragment: drop the ?... or #...")
    if not parts.hostname:
        raise DataError(f"{DATA_FLAG} {shown} names no host: write dicomweb+http://HOST/...")
    try:
        port = parts.port
    except ValueError:
        raise DataError(f"{DATA_FLAG} {shown} has a bad port: write HOST:PORT (1-65535)") from None
    root, study, series = _split_path(parts.path, shown)
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    base_url = urlunsplit((parts.scheme, netloc, root, "", ""))
    auth = None
    if parts.username is not None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return DicomwebReference(base_url, study, series, auth)


def _shown(text: str) -> str:
    """A URL as messages show it: any ``user:password@`` left out."""
    return re.sub(r"(://)[^/@]*@", r"\1", text)


def _split_path(path: str, shown: str) -> tuple[str, str | None, str | None]:
    """``(root path, study UID, series UID)`` of a DICOMweb URL path."""
    segments = [s for s in path.split("/") if s]
    if "studies" not in segments:
        return "/" + "/".join(segments) if segments else "", None, None
    at = segments.index("studies")
    root, tail = "/".join(segments[:at]), segments[at + 1 :]
    root = f"/{root}" if root else ""
    if not tail:
        raise DataError(f"{DATA_FLAG} {shown} ends in /studies: add the StudyInstanceUID")
    study = check_uid(unquote(tail[0]), "study")
    if len(tail) == 1:
        return root, study, None
    if tail[1] != "series" or len(tail) == 2:
        raise DataError(f"{DATA_FLAG} {shown}: after the study only /series/SERIES_UID may follow")
    if len(tail) > 3:
        raise DataError(
            f"{DATA_FLAG} {shown} names more than a series (instances or frames): name a "
            "study or a series"
        )
    return root, study, check_uid(unquote(tail[2]), "series")
