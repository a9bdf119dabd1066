"""Whether the files of the models a running server loaded are still on disk.

A server reads a base model's or an adapter's files once, when it loads them, and answers from
memory after that: files deleted (or cut short) meanwhile would go unnoticed until the next
restart, which then cannot load them. ``/healthz`` therefore looks at them on every call, with
one ``stat`` per file (a few microseconds; ``medadapt registry verify`` hashes every file),
and reports each model whose files are gone, changed in size, or written again (a later
modification time: a trial's bytes changed in place, at the same size, passed as "ok"), with
what to do; an adapter's blob written again is hashed once, at that time, against the hash
it is named by (a repair by ``registry add`` writes the same bytes: no change). Reads of the
registry index cannot see this: deleting a file writes nothing there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path

from medadapt.registry.objects import sha256_file


@dataclass(frozen=True)
class LoadedFiles:
    """The files a model was loaded from (``what``: how a message names the model), each with
    its size and modification time then and the sha256 its bytes must have, where known (an
    adapter's blobs are named by it); ``fix``: what the message says to do when one is gone."""

    what: str
    files: tuple[tuple[str, int, int, str | None], ...]  # (path, size, mtime in ns, sha256)
    fix: str


class OnDisk:
    """The files of every model loaded, by a key of the caller's (a base's weights hash, an
    adapter's ``(name, version)``); replaced as a whole on each change, so that ``missing``
    (on the event loop) never sees one half made by a load (on the worker thread)."""

    def __init__(self) -> None:
        self._loaded: dict[Hashable, LoadedFiles] = {}
        # (path, mtime) -> whether its bytes were the known ones: each rewrite hashed once,
        # not at every probe of /healthz
        self._hashed: dict[tuple[str, int], bool] = {}

    def add(self, key: Hashable, what: str, paths: Iterable[str | Path], fix: str,
            digests: dict[str, str] | None = None) -> None:  # fmt: skip
        """Remember the files ``key`` was just loaded from, with their sizes and times now;
        ``digests``: ``{path: sha256}`` of those whose bytes are known (a file written again
        with them, as ``registry add`` repairs a blob, is no change)."""
        digests = {os.fspath(k): v for k, v in (digests or {}).items()}
        files = tuple((os.fspath(path), *_size_and_time(path), digests.get(os.fspath(path)))
                      for path in paths)  # fmt: skip
        self._loaded = {**self._loaded, key: LoadedFiles(what, files, fix)}

    def _same_bytes(self, path: str, written: int, digest: str) -> bool:
        """Whether ``path``, as written at ``written``, holds the bytes of ``digest``."""
        if (path, written) not in self._hashed:
            self._hashed = {**self._hashed, (path, written): _sha256(path) == digest}
        return self._hashed[(path, written)]

    def drop(self, key: Hashable) -> None:
        """Forget ``key`` (unloaded)."""
        if key in self._loaded:
            self._loaded = {k: v for k, v in self._loaded.items() if k != key}

    def missing(self) -> dict[str, str]:
        """``{model: why and what to do}`` for each loaded model with a file that is gone,
        whose size changed, or that was written again since it was loaded (one ``stat`` per
        file; a file of known bytes written again is hashed once: the same bytes are no
        change, and its new time is kept)."""
        out: dict[str, str] = {}
        for key, loaded in list(self._loaded.items()):
            problem, files = _problem(loaded.files, self._same_bytes)
            if files != loaded.files and key in self._loaded:  # the same bytes written again
                self._loaded = {**self._loaded, key: LoadedFiles(loaded.what, files, loaded.fix)}
            if problem is not None:
                rewritten = problem.endswith(REWRITTEN)
                then = ("reads the file as it is now, perhaps not the copy served" if rewritten
                        else "will not load it")  # fmt: skip
                out[loaded.what] = (
                    f"{problem} after the server loaded it: the loaded copy answers until the "
                    f"server restarts, which {then}; {loaded.fix}"
                )
        return dict(sorted(out.items()))


REWRITTEN = "was written again (the same size, a later modification time)"


def _size_and_time(path: str | Path) -> tuple[int, int]:
    """The size of ``path`` and its modification time in ns ((-1, -1) when it cannot be
    stat-ed: gone already, said by the next look)."""
    try:
        stat = os.stat(path)
    except OSError:
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


def _problem(
    files: tuple[tuple[str, int, int, str | None], ...],
    same_bytes: Callable[[str, int, str], bool],
) -> tuple[str | None, tuple[tuple[str, int, int, str | None], ...]]:
    """What is wrong with the first of ``files`` that is gone, changed in size or written
    again since it was loaded (None), and ``files`` with the new time of each written again
    with its known bytes."""
    kept = list(files)
    for i, (path, size, written, digest) in enumerate(files):
        try:
            now = os.stat(path)
        except FileNotFoundError:
            return f"{path} was deleted", tuple(kept)
        except OSError as exc:
            return f"{path} cannot be read ({exc.strerror or exc})", tuple(kept)
        if now.st_size != size:
            return f"{path} changed size ({now.st_size} bytes, {size} when loaded)", tuple(kept)
        if now.st_mtime_ns != written:
            if digest is None or not same_bytes(path, now.st_mtime_ns, digest):
                return f"{path} {REWRITTEN}", tuple(kept)
            kept[i] = (path, size, now.st_mtime_ns, digest)  # repaired with the same bytes
    return None, tuple(kept)


def _sha256(path: str) -> str | None:
    """The sha256 of ``path``'s bytes (None where it cannot be read)."""
    try:
        return sha256_file(Path(path))
    except OSError:
        return None
