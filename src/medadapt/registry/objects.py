"""Content-addressed files: ``objects/<sha256>``, written to a temporary file, fsynced, renamed.

A blob's name is the SHA-256 of its bytes, so a half-written blob can never sit under a real
name, and the same adapter added twice is stored once. Blobs are made read-only. A process
killed while writing leaves at most a ``tmp/`` file or an unreferenced blob; both are harmless
and ``Registry.gc`` removes them.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Literal

from medadapt.errors import AdapterFileError

CHUNK = 1 << 20
_BLOB_NAME = re.compile(r"[0-9a-f]{64}")  # a SHA-256, as the store names what it writes


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_name(tmp: Path, suffix: str = ".part") -> Path:
    """A fresh name in ``tmp``; the pid lets ``gc`` tell whose it was."""
    return tmp / f"{os.getpid()}-{secrets.token_hex(6)}{suffix}"


class ObjectStore:
    """Blobs under ``objects/``, staged through ``tmp/`` (same file system, so renames are atomic).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> store = ObjectStore(objects=root / "objects", tmp=root / "tmp")
    >>> digest, size = store.put_bytes(b"hello")
    >>> (digest[:12], size, store.path(digest).read_bytes())
    ('2cf24dba5fb0', 5, b'hello')
    """

    def __init__(self, *, objects: Path, tmp: Path) -> None:
        self.objects = Path(objects)
        self.tmp = Path(tmp)
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.objects / digest

    def put_file(self, src: Path, *, expected: str | None = None) -> tuple[str, int]:
        """Copy ``src`` in (hashing as it goes); returns ``(sha256, size)``.

        With ``expected``, a file whose bytes hash differently (it changed after it was
        checked) is refused.
        """
        tmp = temp_name(self.tmp)
        digest = hashlib.sha256()
        size = 0
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            for block in iter(lambda: fin.read(CHUNK), b""):
                digest.update(block)
                fout.write(block)
                size += len(block)
            fout.flush()
            os.fsync(fout.fileno())
        hexdigest = digest.hexdigest()
        if expected is not None and hexdigest != expected:
            tmp.unlink()
            raise AdapterFileError(
                f"{src} changed while it was being added (sha256 {hexdigest[:12]}, expected "
                f"{expected[:12]}); add it again once nothing is writing to it"
            )
        self._install(tmp, hexdigest, size)
        return hexdigest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        tmp = temp_name(self.tmp)
        with open(tmp, "xb") as fout:
            fout.write(data)
            fout.flush()
            os.fsync(fout.fileno())
        hexdigest = hashlib.sha256(data).hexdigest()
        self._install(tmp, hexdigest, len(data))
        return hexdigest, len(data)

    def _install(self, tmp: Path, digest: str, size: int) -> None:
        dest = self.path(digest)
        if self.intact(digest, size):
            tmp.unlink()
            return
        os.chmod(tmp, 0o444)
        os.replace(tmp, dest)  # also heals a corrupted blob of the same name
        fsync_dir(self.objects)

    def present(self, digest: str, size: int) -> bool:
        """Cheap check: the blob exists with the right size (no hashing)."""
        try:
            return self.path(digest).stat().st_size == size
        except FileNotFoundError:
            return False

    def intact(self, digest: str, size: int) -> bool:
        return self.present(digest, size) and sha256_file(self.path(digest)) == digest

    def state(self, digest: str) -> Literal["intact", "missing", "damaged"]:
        """Whether the blob ``digest`` is there and hashes right (``intact``), is not there
        (``missing``), or is there with other bytes (``damaged``: truncated, tampered)."""
        path = self.path(digest)
        if not path.is_file():
            return "missing"
        return "intact" if sha256_file(path) == digest else "damaged"

    def check(self, digest: str, size: int, *, what: str, fix: str) -> None:
        """Raise a one-line error unless the blob exists, has ``size`` bytes and hashes right."""
        path = self.path(digest)
        if not path.is_file():
            raise AdapterFileError(f"{what}: registry file {path} is missing; {fix}")
        actual = path.stat().st_size
        if actual != size:
            raise AdapterFileError(
                f"{what}: registry file {path} is truncated or altered ({actual} bytes, "
                f"expected {size}); {fix}"
            )
        if sha256_file(path) != digest:
            raise AdapterFileError(
                f"{what}: registry file {path} does not match its checksum (tampered or "
                f"corrupted); {fix}"
            )

    def digests(self) -> list[str]:
        """The blobs: every file named by a SHA-256, as the store writes them."""
        return sorted(p.name for p in self.objects.iterdir() if _BLOB_NAME.fullmatch(p.name))

    def strangers(self) -> list[str]:
        """The entries of ``objects/`` the store did not write (not named by a SHA-256: an
        archive exported into it, a file copied in): never deleted by ``gc``, which cannot
        tell whose they are; hidden ones (``.DS_Store``) left unsaid."""
        return sorted(
            p.name
            for p in self.objects.iterdir()
            if not _BLOB_NAME.fullmatch(p.name) and not p.name.startswith(".")
        )

    def remove(self, digest: str) -> int:
        """Delete a blob; returns the bytes freed (0 if it was already gone)."""
        path = self.path(digest)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size
