"""Reading the index: resolve a reference, fetch a version, pick a parent.

Functions take an open connection so a caller can resolve and act inside one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medadapt.checks import did_you_mean
from medadapt.registry.records import AdapterVersion, RegistryError, command_line, parse_ref

SELECT_VERSIONS = (
    "SELECT v.*, n.promoted AS promoted_version FROM versions v JOIN names n USING (name)"
)


@dataclass(frozen=True)
class Event:
    """One line of the registry's audit log."""

    at: str
    actor: str
    action: str
    name: str
    version: int | None
    detail: dict[str, Any]


def resolve(conn: sqlite3.Connection, ref: str, root: Path) -> tuple[str, int]:
    """``(name, version)`` for ``ref``, or a one-line error saying what exists instead."""
    parsed = parse_ref(ref)
    name = parsed.name
    row = conn.execute(
        "SELECT promoted, (SELECT MAX(version) FROM versions WHERE name = ?) FROM names "
        "WHERE name = ?",
        (name, name),
    ).fetchone()
    if row is None or row[1] is None:
        gone = all_removed(conn, name)
        if gone is not None:  # a name whose versions were all removed: said, with when
            said = (
                no_such_version(conn, name, parsed.version) if parsed.selector == "exact" else gone
            )
            raise RegistryError(f"{said}; see its history with "
                                f"'{command_line(root, f'log {name}')}'")  # fmt: skip
        raise RegistryError(unknown_name(conn, name, root))
    promoted, latest = row
    if parsed.selector == "exact":
        have = [
            r[0]
            for r in conn.execute(
                "SELECT version FROM versions WHERE name = ? ORDER BY version", (name,)
            )
        ]
        if parsed.version not in have:
            raise RegistryError(
                f"{no_such_version(conn, name, parsed.version)}; use one of those, e.g. "
                f"{name}@{have[-1]}"
            )
        return name, parsed.version  # type: ignore[return-value]
    if parsed.selector == "promoted" and promoted is None:
        raise RegistryError(
            f"no version of {name} is promoted; promote one with "
            f"'{command_line(root, f'promote {name}@{latest}')}'"
        )
    if parsed.selector == "latest" or promoted is None:
        return name, latest
    return name, promoted


def unknown_name(conn: sqlite3.Connection, name: str, root: Path) -> str:
    """Why ``name`` names no adapter of the registry at ``root``: with the registered name
    spelt like it (another case, or a letter off: ``site_c`` for ``site_b``), as ``serve``
    says it of a request's adapter, and the command that lists the names."""
    names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM versions ORDER BY name")]
    listing = f"'{command_line(root, 'list')}'"
    meant = did_you_mean(name, names)
    if meant:
        return f"no adapter named {name!r} in registry {root}{meant} (see the names with {listing})"
    return f"no adapter named {name!r} in registry {root}; see the names with {listing}"


def no_such_version(conn: sqlite3.Connection, name: str, version: object) -> str:
    """``ch has no version 1 (it was removed on 2026-12-03 20:27 UTC; registered versions:
    2)``: the registered versions are listed by number, and a removal the log records is
    dated (version numbers are never reused, so a number is removed at most once)."""
    have = [r[0] for r in conn.execute(
        "SELECT version FROM versions WHERE name = ? ORDER BY version", (name,))]  # fmt: skip
    removed = _last_removal(conn, name, version)
    said = [f"it was removed on {_when(removed['at'])}"] if removed else []
    said.append(
        f"registered versions: {', '.join(map(str, have))}" if have else "no version is registered"
    )
    return f"{name} has no version {version} ({'; '.join(said)})"


def all_removed(conn: sqlite3.Connection, name: str) -> str | None:
    """``every version of ch was removed (the last on 2026-12-03 20:27 UTC)`` for a name
    the log records removals of and that has no version left; None otherwise."""
    if conn.execute("SELECT 1 FROM versions WHERE name = ? LIMIT 1", (name,)).fetchone():
        return None
    removed = _last_removal(conn, name)
    if removed is None:
        return None
    return f"every version of {name} was removed (the last on {_when(removed['at'])})"


def manifest_blob_of(conn: sqlite3.Connection, name: str, version: int) -> str | None:
    """The manifest hash of ``name@version``: registered, or removed since (its removal's
    log line records it; None for a removal logged before it did, or a version never
    registered)."""
    row = conn.execute(
        "SELECT manifest_blob FROM versions WHERE name = ? AND version = ?", (name, version)
    ).fetchone()
    if row is not None:
        return row[0]
    removed = _last_removal(conn, name, version)
    return None if removed is None else json.loads(removed["detail"]).get("manifest_blob")


def removal_time(conn: sqlite3.Connection, name: str, version: int) -> str | None:
    """When the log recorded ``name@version``'s removal (``2026-12-03 20:27 UTC``); None
    where it records none."""
    removed = _last_removal(conn, name, version)
    return _when(removed["at"]) if removed else None


def _last_removal(
    conn: sqlite3.Connection, name: str, version: object = None
) -> sqlite3.Row | None:
    """The log's newest line removing ``name@version`` (any version of ``name`` without
    one): its ``at`` and ``detail``; None where the log records no such removal."""
    sql, params = "SELECT at, detail FROM events WHERE action = 'remove' AND name = ?", [name]
    if version is not None:
        sql, params = sql + " AND version = ?", [*params, version]
    return conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()


def _when(at: str) -> str:
    """``2026-12-03 20:27 UTC`` for a logged time (``2026-12-03T20:27:26+00:00``).

    >>> _when("2026-12-03T21:27:26+01:00")
    '2026-12-03 20:27 UTC'
    """
    try:
        stamp = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return str(at)
    if stamp.tzinfo is None:  # logged by now(): always UTC
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def fetch(conn: sqlite3.Connection, ref: str, root: Path) -> AdapterVersion:
    name, version = resolve(conn, ref, root)
    row = conn.execute(
        SELECT_VERSIONS + " WHERE v.name = ? AND v.version = ?", (name, version)
    ).fetchone()
    return row_to_version(row)


def promoted_versions(conn: sqlite3.Connection) -> dict[str, AdapterVersion]:
    """``{name: promoted version}`` for every name with one."""
    rows = conn.execute(SELECT_VERSIONS + " WHERE v.version = n.promoted ORDER BY v.name")
    return {r["name"]: row_to_version(r) for r in rows.fetchall()}


def served_despite(conn: sqlite3.Connection) -> dict[str, str]:
    """``{ref: recorded harm}`` for each promoted version whose promotion overrode a refusal
    (``promote --despite-warnings``: its audit event's ``despite_warnings``)."""
    found = {}
    for name, served in promoted_versions(conn).items():
        row = conn.execute(
            "SELECT detail FROM events WHERE name = ? AND version = ? AND action = 'promote' "
            "ORDER BY id DESC LIMIT 1",
            (name, served.version),
        ).fetchone()
        despite = json.loads(row["detail"]).get("despite_warnings") if row else None
        if despite:
            found[served.ref] = str(despite)
    return found


def newest(conn: sqlite3.Connection, name: str) -> tuple[int, str] | None:
    """``(version, manifest blob)`` of ``name``'s newest version, or None."""
    row = conn.execute(
        "SELECT version, manifest_blob FROM versions WHERE name = ? ORDER BY version DESC LIMIT 1",
        (name,),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def pick_parent(
    conn: sqlite3.Connection, name: str, parent: int | str | None, parent_blob: str | None
) -> int | None:
    """The parent version: the local copy of ``parent_blob`` (imports), ``"previous"`` (the
    newest existing version), an existing version number, or None."""
    if parent_blob is not None:
        row = conn.execute(
            "SELECT MAX(version) FROM versions WHERE name = ? AND manifest_blob = ?",
            (name, parent_blob),
        ).fetchone()
        return row[0]
    if parent is None:
        return None
    if parent == "previous":
        row = conn.execute("SELECT MAX(version) FROM versions WHERE name = ?", (name,)).fetchone()
        return row[0]
    exists = (
        isinstance(parent, int)
        and conn.execute(
            "SELECT 1 FROM versions WHERE name = ? AND version = ?", (name, parent)
        ).fetchone()
    )
    if not exists:  # its versions named here: no command to run to find them
        have = conn.execute("SELECT 1 FROM versions WHERE name = ?", (name,)).fetchone()
        fix = "give one of those or drop --parent" if have else "drop --parent"
        raise RegistryError(f"--parent {parent}: {no_such_version(conn, name, parent)}; {fix}")
    return parent  # type: ignore[return-value]


def check_parent(
    conn: sqlite3.Connection,
    name: str,
    version: int,
    parent: int | None,
    manifest: dict[str, Any],
    *,
    explicit: bool,
) -> tuple[int | None, list[str]]:
    """The parent to record for ``name@version`` and notes for the user. A parent on another
    base model is no ancestor: asked for by number (``explicit``) it is refused; picked by
    default (the previous version) none is recorded, with a note. Another method: asked for, it
    is recorded with a note; by default none is, with a note."""
    if parent is None:
        return None, []
    row = conn.execute(
        "SELECT base_weights, method FROM versions WHERE name = ? AND version = ?",
        (name, parent),
    ).fetchone()
    weights, method = manifest["base_fingerprint"]["weights"], manifest["method"]
    if row["base_weights"] != weights:
        if explicit:
            raise RegistryError(
                f"parent {name}@{parent} was trained on base weights {row['base_weights'][:12]}, "
                f"this adapter on {weights[:12]}: a version on another base model cannot "
                "descend from it; add it with --no-parent, or give a parent on the same base"
            )
        return None, [
            f"note: {name}@{version} records no parent: the previous version {name}@{parent} "
            f"is on another base model (weights {row['base_weights'][:12]}, this one "
            f"{weights[:12]})"
        ]
    if row["method"] != method and not explicit:  # an adapter is not trained from another's
        return None, [  # method: a trial read "parent south@1" (bottleneck) of a LoRA as such
            f"note: {name}@{version} records no parent: the previous version {name}@{parent} "
            f"used {row['method']}, this one {method}, so it was not trained from it (pass "
            f"--parent {parent} to record {name}@{parent} as its parent all the same)"
        ]
    if row["method"] != method:
        return parent, [
            f"note: {name}@{version} uses {method}, its parent {name}@{parent} used {row['method']}"
        ]
    return parent, []


def row_to_version(row: sqlite3.Row) -> AdapterVersion:
    def loads(key: str) -> Any:
        return json.loads(row[key]) if row[key] is not None else None

    return AdapterVersion(
        name=row["name"],
        version=row["version"],
        method=row["method"],
        config=loads("config"),
        base_fingerprint=loads("base_fingerprint"),
        parent=row["parent"],
        task=row["task"],
        data_summary=loads("data_summary"),
        metrics=loads("metrics"),
        intended_use=row["intended_use"],
        notes=row["notes"],
        origin=loads("origin"),
        manifest_blob=row["manifest_blob"],
        manifest_bytes=row["manifest_bytes"],
        manifest_sha256=row["manifest_sha256"],
        weights_file=row["weights_file"],
        weights_blob=row["weights_blob"],
        weights_bytes=row["weights_bytes"],
        n_parameters=row["n_parameters"],
        trained=row["trained"],
        registered=row["registered"],
        card=row["card"],
        promoted=row["promoted_version"] == row["version"],
    )


def row_to_event(row: sqlite3.Row) -> Event:
    return Event(
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        name=row["name"],
        version=row["version"],
        detail=json.loads(row["detail"]),
    )
