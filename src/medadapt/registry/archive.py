"""The export archive: one tar file to send an adapter version to another hospital.

Its name says how it is written: ``.tar.gz`` or ``.tgz`` gzip-compressed (the default name,
``NAME-vN.medadapt.tar.gz``), ``.tar`` uncompressed; ``export`` refuses any other name, so no
tool is misled by it. Reading detects either from the content.

Exporting the same version again writes the same bytes (same SHA-256): see
:func:`write_archive`. Archives of older medadapt versions, whose ``medadapt-export.json``
has an ``exported`` time, are read as before.

Members (fixed names, nothing else is accepted on import)::

    medadapt-export.json        what was exported, from which registry, and its lineage
    adapter/adapter.json        the adapter manifest, byte for byte as registered
    adapter/<weights file>      the safetensors weights
    CARD.md                     the adapter card (for people; the importer writes its own)
    base/model.json             with ``export --with-base`` (format version 2): the base model
    base/model.safetensors      the adapter was trained on, as ``train-base`` wrote it
    SHA256SUMS                  every other member's SHA-256 (``sha256sum -c`` format)

Reading stages every member under a private directory and checks every hash before the caller
registers anything; a truncated, corrupted or edited archive is refused with one line (a plain
``.tar`` has no checksum of its own: cutting off only its trailing zero padding loses nothing,
and is not refused). The hashes catch damage, not forgery: to know the file is the one the
sender exported, compare the archive's SHA-256 (printed by ``export``) through another channel
(``import --sha256``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from medadapt.errors import AdapterFileError
from medadapt.registry.objects import CHUNK, fsync_dir, sha256_file

FORMAT = "medadapt-registry-export"
FORMAT_VERSION = 2
"""Version 2 adds the optional base model; an archive without one is still written as 1, so
older medadapt versions read it."""
INFO = "medadapt-export.json"
SUMS = "SHA256SUMS"
CARD = "CARD.md"
MANIFEST = "adapter/adapter.json"
BASE_MANIFEST = "base/model.json"
BASE_WEIGHTS = "base/model.safetensors"
SUFFIX = ".medadapt.tar.gz"
COMPRESSED_SUFFIXES = (".tar.gz", ".tgz")
PLAIN_SUFFIXES = (".tar",)
MAX_SMALL_BYTES = 16 << 20
MAX_WEIGHTS_BYTES = 16 << 30
_WEIGHTS = re.compile(r"adapter/[A-Za-z0-9][A-Za-z0-9._\-]{0,127}")
_FIXED = (INFO, SUMS, CARD, MANIFEST, BASE_MANIFEST, BASE_WEIGHTS)


def is_compressed(path: Path) -> bool | None:
    """True for a ``.tar.gz``/``.tgz`` name, False for ``.tar``, None for any other name
    (case-insensitive)."""
    name = Path(path).name.lower()
    if name.endswith(COMPRESSED_SUFFIXES):
        return True
    return False if name.endswith(PLAIN_SUFFIXES) else None


def _add(tar: tarfile.TarFile, name: str, content: bytes | Path, mtime: int) -> None:
    """One member, with nothing of who wrote it or when: fixed owner, mode and ``mtime``."""
    member = tarfile.TarInfo(name)
    member.mtime = mtime
    member.mode = 0o644
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    if isinstance(content, bytes):
        member.size = len(content)
        tar.addfile(member, io.BytesIO(content))
    else:
        with open(content, "rb") as handle:
            member.size = os.fstat(handle.fileno()).st_size
            tar.addfile(member, handle)


def write_archive(
    path: Path,
    *,
    info: dict[str, Any],
    manifest_file: Path,
    weights_file: Path,
    weights_name: str,
    card: str,
    mtime: int,
    base_dir: Path | None = None,
) -> str:
    """Write the archive atomically (temp file, fsync, rename); returns its SHA-256. Its name
    ends in ``.tar.gz``/``.tgz`` (gzip-compressed) or ``.tar`` (uncompressed), as
    :func:`is_compressed` tells. ``base_dir``: a base model directory to include.

    The same content gives the same bytes, whenever and by whomever it is written: members
    in a fixed order, each with ``mtime`` (seconds since the epoch: the caller passes the
    version's registration time), owner 0 with no user or group name, mode 0644; the gzip
    header has the same ``mtime`` and no file name. ``info`` must hold nothing that changes
    from one export to the next (no export time), so a version exported again has the
    SHA-256 its recipient was given."""
    path = Path(path)
    compress = is_compressed(path)
    if compress is None:
        raise ValueError(f"an export archive's name ends in .tar.gz, .tgz or .tar, not {path}")
    version = FORMAT_VERSION if base_dir is not None else 1
    files: dict[str, bytes | Path] = {
        INFO: json.dumps({"format": FORMAT, "format_version": version, **info}, indent=2).encode(),
        MANIFEST: manifest_file,
        f"adapter/{weights_name}": weights_file,
        CARD: card.encode(),
    }
    if base_dir is not None:
        files[BASE_MANIFEST] = Path(base_dir) / "model.json"
        files[BASE_WEIGHTS] = Path(base_dir) / "model.safetensors"
    sums = []
    for name, content in files.items():
        digest = (
            hashlib.sha256(content).hexdigest()
            if isinstance(content, bytes)
            else sha256_file(content)
        )
        sums.append(f"{digest}  {name}\n")
    files[SUMS] = "".join(sums).encode()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as raw:
            with _writer(raw, compress, mtime) as tar:
                for name, content in files.items():
                    _add(tar, name, content, mtime)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return sha256_file(path)


@contextmanager
def _writer(raw: BinaryIO, compress: bool, mtime: int) -> Iterator[tarfile.TarFile]:
    """A tar writer onto the open file ``raw``, through gzip when ``compress``."""
    with ExitStack() as stack:
        out: Any = raw
        if compress:
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime)
            out = stack.enter_context(gz)
        yield stack.enter_context(tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT))


@dataclass(frozen=True)
class Unpacked:
    """A verified archive staged on disk: ``adapter_dir`` holds the manifest and weights,
    ``base_dir`` the base model (None when the archive carries none)."""

    info: dict[str, Any]
    adapter_dir: Path
    card: str
    archive_sha256: str
    base_dir: Path | None = None


def _looks_like_an_archive(path: Path) -> bool:
    """gzip's magic bytes, or a tar header's 'ustar' at byte 257."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    return head.startswith(b"\x1f\x8b") or head[257:262] == b"ustar"


def _refuse(path: Path, problem: str) -> AdapterFileError:
    return AdapterFileError(f"{path} {problem}; ask the sender to export it again")


def _stage_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> str:
    source = tar.extractfile(member)
    assert source is not None
    digest = hashlib.sha256()
    with source, open(dest, "xb") as out:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if dest.stat().st_size != member.size:
        raise EOFError("member shorter than its header says")
    return digest.hexdigest()


def read_archive(path: Path, staging: Path, *, expect_sha256: str | None = None) -> Unpacked:
    """Stage and verify every member of the archive at ``path`` under ``staging`` (new dir)."""
    path = Path(path)
    archive_sha = _archive_sha256(path, expect_sha256)
    (staging / "adapter").mkdir(parents=True)
    hashes = _stage_members(path, staging)
    _check_sums(path, staging, hashes)
    info = _read_info(path, staging)
    base_dir = _staged_base(path, staging, hashes)
    card = (staging / CARD).read_text(errors="replace") if CARD in hashes else ""
    return Unpacked(
        info=info,
        adapter_dir=staging / "adapter",
        card=card,
        archive_sha256=archive_sha,
        base_dir=base_dir,
    )


def _archive_sha256(path: Path, expect_sha256: str | None) -> str:
    """The archive's SHA-256, refused if it is not ``expect_sha256`` (when given)."""
    if not path.is_file():
        raise AdapterFileError(f"no file {path}: give the archive written by 'registry export'")
    archive_sha = sha256_file(path)
    if expect_sha256 is not None and archive_sha != expect_sha256.strip().lower():
        raise AdapterFileError(  # whole: a trial's two hashes differed after their 16th digit
            f"{path} has sha256 {archive_sha}, not the {expect_sha256.strip()} you expected: "
            "it is not the file the sender exported; ask for it again"
        )
    return archive_sha


def _stage_members(path: Path, staging: Path) -> dict[str, str]:
    """Stage every member under ``staging``; returns ``{member: its SHA-256}``. A member
    with a name, type or size no export has, or a damaged archive, is refused."""
    hashes: dict[str, str] = {}
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                _check_member(path, member, hashes)
                (staging / member.name).parent.mkdir(exist_ok=True)
                hashes[member.name] = _stage_member(tar, member, staging / member.name)
            while tar.fileobj.read(CHUNK):  # to the end: gzip checks its CRC there
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        if not _looks_like_an_archive(path):
            raise AdapterFileError(
                f"{path} is not an archive written by 'medadapt registry export' (a .tar.gz "
                "or .tar file); check the file name"
            ) from None
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _refuse(path, f"is truncated or corrupted ({reason})") from None
    return hashes


def _check_member(path: Path, member: tarfile.TarInfo, staged: dict[str, str]) -> None:
    """Refuse a member an export never has: another name, not a file, twice, too large."""
    name = member.name
    if name not in _FIXED and not _WEIGHTS.fullmatch(name):
        raise _refuse(path, f"is not a medadapt export (unexpected member {name!r})")
    if not member.isfile():
        raise _refuse(path, f"is not a medadapt export ({name!r} is not a file)")
    if name in staged:
        raise _refuse(path, f"is not a medadapt export ({name!r} appears twice)")
    big = _WEIGHTS.fullmatch(name) or name == BASE_WEIGHTS
    if member.size > (MAX_WEIGHTS_BYTES if big else MAX_SMALL_BYTES):
        raise _refuse(path, f"is not a medadapt export ({name!r} is too large)")


def _check_sums(path: Path, staging: Path, hashes: dict[str, str]) -> None:
    """Refuse an archive without its required members, or whose members and their hashes
    are not the ones its SHA256SUMS lists."""
    for required in (INFO, SUMS, MANIFEST):
        if required not in hashes:
            raise _refuse(path, f"is incomplete or corrupted (no {required})")
    listed: dict[str, str] = {}
    for line in (staging / SUMS).read_text(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name.strip()] = digest.strip()
    for name, digest in hashes.items():
        if name == SUMS:
            continue
        if name not in listed:
            raise _refuse(path, f"has a member not listed in {SUMS} ({name})")
        if listed[name] != digest:
            raise _refuse(
                path,
                f"is tampered or corrupted: {name} does not match its checksum in {SUMS}",
            )
    missing = sorted(set(listed) - set(hashes))
    if missing:
        raise _refuse(path, f"is incomplete or corrupted (no {missing[0]})")


def _read_info(path: Path, staging: Path) -> dict[str, Any]:
    """The staged export description, refused unless it is one this medadapt reads."""
    try:
        info = json.loads((staging / INFO).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _refuse(path, f"is not a medadapt export ({INFO} is not JSON)") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise _refuse(path, f"is not a medadapt export ({INFO} has no format {FORMAT!r})")
    if info.get("format_version", 0) > FORMAT_VERSION:
        raise AdapterFileError(
            f"{path} has export format version {info['format_version']}, newer than this "
            "medadapt reads; upgrade medadapt"
        )
    return info


def _staged_base(path: Path, staging: Path, hashes: dict[str, str]) -> Path | None:
    """The staged base model directory, None without one; half a base model is refused."""
    has_base = [name in hashes for name in (BASE_MANIFEST, BASE_WEIGHTS)]
    if any(has_base) and not all(has_base):
        missing_base = BASE_WEIGHTS if has_base[0] else BASE_MANIFEST
        raise _refuse(path, f"is incomplete or corrupted (no {missing_base})")
    return staging / "base" if all(has_base) else None
