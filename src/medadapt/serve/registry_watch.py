"""Telling, per request and cheaply, whether the registry may have changed since the last look.

Every registry write (add, import, add-base, promote, demote, rm) is one SQLite transaction on
``ROOT/registry.sqlite``, kept in WAL mode: a commit appends to ``registry.sqlite-wal`` and a
checkpoint copies it into the main file (the WAL is deleted when the last connection closes).
Either way the inode, size or modification time of one of the two files changes, while reads
change neither. :class:`IndexWatch` compares a ``stat`` of both files (a few microseconds)
with the one taken before the last reload, so a server reloads on the first request after a
promotion instead of at its next timed poll.

A file's modification time is stamped with the filesystem's granularity (nanoseconds on
most, a jiffy or a whole second on some): two writes within one granule of each other can
leave the same stamp. A stamp is therefore trusted only once it has stayed the same for one
granule (:data:`MTIME_GRANULARITY_NS`) of this machine's own clock: until then every request
reads the registry's generation counter (bumped by every write that changes what is served)
to decide. The file's modification time itself is not compared with this machine's clock: a
file server's clock may be ahead (the stamp would never look old enough) or behind (a stamp
just written would look old at once, and a second write within its granule be missed). Each
write costs the reads of one granule, and a server's start the same, never a read per
request for ever.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from medadapt.registry.db import INDEX

MTIME_GRANULARITY_NS = 1_000_000_000  # coarsest stamp trusted: ext3 and HFS+ stamp seconds
Stamp = tuple[tuple[int, int, int] | None, ...]  # per file: (inode, size, mtime_ns) or None


class IndexWatch:
    """The registry index's files at ``root``, and whether they changed since :meth:`mark`."""

    def __init__(self, root: str | Path) -> None:
        index = Path(root) / INDEX
        self.paths = (os.fspath(index), os.fspath(index) + "-wal")
        self._stamp: Stamp | None = None  # None: never marked, or not to be trusted
        # the last stamp seen, and when it was first seen (time.monotonic_ns)
        self._seen: tuple[Stamp | None, int] = (None, 0)

    def stamp(self) -> Stamp:
        """Each file's ``(inode, size, mtime_ns)`` (None when absent)."""
        out = []
        for path in self.paths:
            try:
                st = os.stat(path)
            except OSError:  # no WAL between checkpoints; a vanished index is read and said
                out.append(None)
                continue
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def changed(self) -> bool:
        """True when the index may have changed since the last call that returned True (the
        caller then reads the generation); the files' state is remembered for the next call."""
        stamp = self.stamp()
        if stamp == self._stamp:
            return False
        seen, since = self._seen
        if stamp != seen:
            self._seen = (stamp, since := time.monotonic_ns())
        trusted = time.monotonic_ns() - since >= MTIME_GRANULARITY_NS  # unchanged for one
        self._stamp = stamp if trusted else None
        return True
