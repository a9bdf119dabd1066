"""The registry's SQLite index: schema, connections, one-transaction writes.

The index is the only mutable state: a version exists exactly when its row is committed, and
its row is committed only after its blobs are durable under ``objects/``. SQLite's journal (WAL,
``synchronous=FULL``) makes each write all-or-nothing even if the process is killed mid-commit.
Every committed change bumps ``generation``, a counter a server polls to pick up new
promotions without a restart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medadapt.fileio import REGISTRY_INDEX
from medadapt.registry.records import RegistryError

SCHEMA_VERSION = 1
INDEX = REGISTRY_INDEX

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE names (
    name TEXT PRIMARY KEY,
    next_version INTEGER NOT NULL,   -- version numbers are never reused, even after rm
    promoted INTEGER                 -- the version to serve, or NULL
);
CREATE TABLE versions (
    name TEXT NOT NULL REFERENCES names(name),
    version INTEGER NOT NULL,
    method TEXT NOT NULL,
    config TEXT NOT NULL,            -- JSON
    base_fingerprint TEXT NOT NULL,  -- JSON
    base_weights TEXT NOT NULL,
    parent INTEGER,
    task TEXT,
    data_summary TEXT NOT NULL,      -- JSON: counts, prevalence, group (never rows)
    metrics TEXT NOT NULL,           -- JSON: point estimates and CIs
    intended_use TEXT,
    notes TEXT,
    origin TEXT,                     -- JSON: where an imported version came from
    manifest_blob TEXT NOT NULL,     -- sha256 of adapter.json's bytes (objects/<sha256>)
    manifest_bytes INTEGER NOT NULL,
    manifest_sha256 TEXT NOT NULL,   -- the manifest's own checksum field
    weights_file TEXT NOT NULL,
    weights_blob TEXT NOT NULL,      -- sha256 of the safetensors file (objects/<sha256>)
    weights_bytes INTEGER NOT NULL,
    n_parameters INTEGER,
    trained TEXT,
    registered TEXT NOT NULL,
    card TEXT NOT NULL,              -- markdown
    PRIMARY KEY (name, version)
);
CREATE INDEX versions_by_manifest ON versions (manifest_blob);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER,
    detail TEXT
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class Index:
    """Connections to ``ROOT/registry.sqlite`` (one per operation, so threads may share it)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self, busy_s: float = 30.0) -> sqlite3.Connection:
        """A connection that waits at most ``busy_s`` seconds for a lock another holds."""
        conn = sqlite3.connect(self.path, timeout=busy_s, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_s * 1000)}")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def initialize(self) -> None:
        """Create the schema if missing (also finishes a creation that was killed)."""
        with self._sqlite_errors(), contextlib.closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    for statement in _SCHEMA.split(";"):  # executescript would commit
                        if statement.strip():
                            conn.execute(statement)
                    conn.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [
                            ("registry_id", uuid.uuid4().hex),
                            ("created", now()),
                            ("generation", "0"),
                        ],
                    )
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def check_schema(self) -> None:
        version = self.read_one("PRAGMA user_version")[0]
        if version > SCHEMA_VERSION:
            raise RegistryError(
                f"registry {self.path.parent} has schema version {version}, newer than this "
                "medadapt reads; upgrade medadapt"
            )

    @contextlib.contextmanager
    def _sqlite_errors(self, busy_s: float = 30.0) -> Iterator[None]:
        """Turn SQLite's failures into one-line errors that say what to do (``busy_s``: how
        long a lock was waited for)."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise RegistryError(
                    f"registry {self.path.parent} is busy (another process held its write "
                    f"lock for over {busy_s:g} s); try again when it has finished"
                ) from None
            if "readonly" in str(exc) or "read-only" in str(exc):  # not the disk (a trial)
                raise RegistryError(
                    f"registry {self.path.parent} is read-only for this user: every command, "
                    "list and show too, opens its index for writing (its write-ahead log); "
                    "ask its owner for write access to the folder, or work on a copy of it"
                ) from None
            raise RegistryError(
                f"registry index {self.path} cannot be used ({exc}); check the directory's "
                "permissions and free disk space"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise RegistryError(
                f"registry index {self.path} is damaged ({exc}); restore it from a backup"
            ) from None

    @contextlib.contextmanager
    def read(self, *, busy_s: float = 30.0) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one consistent snapshot (waiting at
        most ``busy_s`` seconds for a lock)."""
        with self._sqlite_errors(busy_s), contextlib.closing(self._connect(busy_s)) as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")

    def read_one(
        self, sql: str, params: tuple[Any, ...] = (), *, busy_s: float = 30.0
    ) -> sqlite3.Row:
        with self.read(busy_s=busy_s) as conn:
            return conn.execute(sql, params).fetchone()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the registry's write lock; commits on success."""
        with self._sqlite_errors(), contextlib.closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def changed(
        conn: sqlite3.Connection,
        action: str,
        name: str,
        version: int | None,
        detail: dict[str, Any] | None = None,
        *,
        bump: bool = True,
    ) -> None:
        """Log an event and (unless ``bump`` is False: nothing a server serves changed) bump
        the generation, inside the caller's write transaction."""
        conn.execute(
            "INSERT INTO events (at, actor, action, name, version, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (now(), _actor(), action, name, version, json.dumps(detail or {}, sort_keys=True)),
        )
        if bump:
            conn.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
            )
