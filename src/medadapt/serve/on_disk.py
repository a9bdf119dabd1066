"""Whether the files of the models a running server loaded are still on disk.

A server reads a base model's or an adapter's files once, when it loads them, and answers from
memory after that: files deleted (or cut short) meanwhile would go unnoticed until the next
restart, which then cannot load them. ``/healthz`` therefore looks at them on every call, with
one ``stat`` per file (a few microseconds; nothing is read or hashed: ``medadapt registry
verify`` does that), and reports each model whose files are gone, changed in size, or written
again (a later modification time: a trial's bytes changed in place, at the same size, passed
as "ok"), with what to do. Reads of the registry index cannot see this: deleting a file
writes nothing there.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadedFiles:
    """The files a model was loaded from (``what``: how a message names the model), each with
    its size then, and ``fix``: what the message says to do when one is gone."""

    what: str
    files: tuple[tuple[str, int, int], ...]  # (path, size, modification time in ns)
    fix: str


class OnDisk:
    """The files of every model loaded, by a key of the caller's (a base's weights hash, an
    adapter's ``(name, version)``); replaced as a whole on each change, so that ``missing``
    (on the event loop) never sees one half made by a load (on the worker thread)."""

    def __init__(self) -> None:
        self._loaded: dict[Hashable, LoadedFiles] = {}

    def add(self, key: Hashable, what: str, paths: Iterable[str | Path], fix: str) -> None:
        """Remember the files ``key`` was just loaded from, with their sizes now."""
        files = tuple((os.fspath(path), *_size_and_time(path)) for path in paths)
        self._loaded = {**self._loaded, key: LoadedFiles(what, files, fix)}

    def drop(self, key: Hashable) -> None:
        """Forget ``key`` (unloaded)."""
        if key in self._loaded:
            self._loaded = {k: v for k, v in self._loaded.items() if k != key}

    def missing(self) -> dict[str, str]:
        """``{model: why and what to do}`` for each loaded model with a file that is gone or
        whose size changed since it was loaded (one ``stat`` per file)."""
        out: dict[str, str] = {}
        for loaded in self._loaded.values():
            problem = _problem(loaded.files)
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


def _problem(files: tuple[tuple[str, int, int], ...]) -> str | None:
    """What is wrong with the first of ``files`` that is gone, changed in size or written
    again since it was loaded (None)."""
    for path, size, written in files:
        try:
            now = os.stat(path)
        except FileNotFoundError:
            return f"{path} was deleted"
        except OSError as exc:
            return f"{path} cannot be read ({exc.strerror or exc})"
        if now.st_size != size:
            return f"{path} changed size ({now.st_size} bytes, {size} when loaded)"
        if now.st_mtime_ns != written:
            return f"{path} {REWRITTEN}"
    return None
