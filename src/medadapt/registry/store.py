"""The adapter registry: an SQLite index over content-addressed adapter files.

Layout of ``ROOT``::

    registry.sqlite     the index: names, versions, promotions, an audit log
    objects/<sha256>    adapter.json and safetensors files, read-only, named by their hash
    tmp/                staging for writes (what a killed process leaves here, gc removes)
    checkouts/          verified adapter directories handed out by open_adapter (hard links)
    bases/<key>/        the base models adapters are served on (see ``bases``)

A write first puts blobs in place (temp file, fsync, rename), then records the version in one
SQLite transaction. A process killed at any point therefore leaves either no version or a
complete one, plus at most some unreferenced files for ``gc``.

>>> import tempfile
>>> reg = Registry(Path(tempfile.mkdtemp()) / "reg", create=True)
>>> reg.list(), reg.generation()
([], 0)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from medadapt.errors import AdapterFileError
from medadapt.registry import bases, groups, layout, queries, transfer
from medadapt.registry.db import INDEX, Index
from medadapt.registry.diff import VersionDiff, diff_versions, question, recorded
from medadapt.registry.maintenance import (  # the reports: also importable from here
    GC_MIN_AGE_S,
    GcReport,
    VerifyReport,
    collect_garbage,
    verify_registry,
)
from medadapt.registry.objects import ObjectStore, sha256_file, temp_name
from medadapt.registry.queries import SELECT_VERSIONS, Event
from medadapt.registry.recording import refresh_cards
from medadapt.registry.records import (
    AdapterVersion,
    Exported,
    Promotion,
    Registration,
    RegistryError,
    check_name,
    command_line,
    parse_ref,
    split_file_of,
)

if TYPE_CHECKING:
    from medadapt.adapters.fingerprint import BaseFingerprint

GroupClash = Literal["refuse", "replace", "allow"]
"""What ``promote`` does while other names serve the promoted version's group."""
GROUP_CLASHES: tuple[str, ...] = get_args(GroupClash)


class Registry:
    """A registry directory; ``create=True`` makes a new one (in a new or empty directory).

    References: ``name@3`` (that version), ``name@latest``, ``name@promoted``, or a bare
    ``name`` (the promoted version if one is promoted, else the latest).
    """

    def __init__(self, root: str | Path, *, create: bool = False) -> None:
        root = Path(root)
        caller = sys._getframe(1).f_globals.get("__name__", "")  # a Python caller's fix is an
        python = caller != "medadapt" and not caller.startswith("medadapt.")  # argument
        check = "check the path" if python else "check --root"
        if root.exists() and not root.is_dir():
            raise RegistryError(f"{root} is a file, not a registry directory; {check}")
        if not (root / INDEX).is_file():
            layout.refuse_lost_index(root)
            if not create:
                raise RegistryError(layout.not_a_registry(root, python=python))
            if not layout.empty_or_missing(root):
                held = layout.held_instead(root)
                raise RegistryError(
                    f"{root} is {held[0]}; choose a new or empty directory for the registry"
                    if held
                    else f"{root} exists and is not a registry; choose a new or empty directory"
                )
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # under a file, a read-only or missing mount ...
                raise RegistryError(
                    f"cannot create the registry at {root} ({exc.strerror or exc}); {check}"
                ) from None
        self.root = root
        self.index = Index(root / INDEX)
        if self.index.read_one("PRAGMA user_version")[0] == 0:
            self.index.initialize()  # new, or a creation that was killed half-way
        self.index.check_schema()
        layout.refuse_lost_objects(root, self.index)  # before objects/ would be made anew
        self.objects = ObjectStore(objects=root / layout.OBJECTS, tmp=root / "tmp")
        self.checkouts = root / "checkouts"
        self.checkouts.mkdir(exist_ok=True)

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    # ----- reading ------------------------------------------------------------------------------
    def generation(self, *, busy_s: float = 30.0) -> int:
        """A counter bumped by every add, import, add-base, promote, demote and removal (cheap
        to poll: a server reloads its promoted adapters when it changes). ``busy_s``: the
        longest wait for a lock another process holds (then :class:`RegistryError`)."""
        sql = "SELECT value FROM meta WHERE key = 'generation'"
        return int(self.index.read_one(sql, busy_s=busy_s)[0])

    @property
    def registry_id(self) -> str:
        return self.index.read_one("SELECT value FROM meta WHERE key = 'registry_id'")[0]

    def names(self) -> list[str]:
        with self.index.read() as conn:
            rows = conn.execute("SELECT DISTINCT name FROM versions ORDER BY name").fetchall()
        return [r[0] for r in rows]

    def list(
        self, name: str | None = None, *, base: BaseFingerprint | str | None = None
    ) -> list[AdapterVersion]:
        """Every version (of ``name``; trained on ``base``: a fingerprint or a prefix of its
        weights hash), ordered by name and version."""
        sql, params = SELECT_VERSIONS + " WHERE 1", []
        if name is not None:
            sql += " AND v.name = ?"
            params.append(check_name(name))
        if base is not None:
            sql += " AND v.base_weights LIKE ?"
            params.append((base if isinstance(base, str) else base.weights) + "%")
        with self.index.read() as conn:
            rows = conn.execute(sql + " ORDER BY v.name, v.version", params).fetchall()
        return [queries.row_to_version(r) for r in rows]

    def resolve(self, ref: str) -> tuple[str, int]:
        """``(name, version)`` that ``ref`` points to now."""
        with self.index.read() as conn:
            return queries.resolve(conn, ref, self.root)

    def all_removed(self, name: str) -> str | None:
        """What the log says of a name whose versions were all removed (None otherwise)."""
        with self.index.read() as conn:
            return queries.all_removed(conn, name)

    def get(self, ref: str) -> AdapterVersion:
        """The version ``ref`` points to (index data; ``open_adapter`` checks the files)."""
        with self.index.read() as conn:
            return queries.fetch(conn, ref, self.root)

    def removed_on(self, name: str, version: int) -> str | None:
        """When ``name@version`` was removed (``2026-12-03 20:27 UTC``), or None where the
        log records no such removal."""
        with self.index.read() as conn:
            return queries.removal_time(conn, name, version)

    def promoted(self, name: str) -> AdapterVersion | None:
        """The version of ``name`` to serve, or None."""
        return self.promoted_versions().get(check_name(name))

    def promoted_versions(self) -> dict[str, AdapterVersion]:
        """``{name: promoted version}`` for every name with one (what a server loads)."""
        with self.index.read() as conn:
            return queries.promoted_versions(conn)

    def served_despite(self) -> dict[str, str]:
        """``{ref: the recorded harm}`` for each served version promoted despite it
        (``promote --despite-warnings``), as its audit event records it."""
        with self.index.read() as conn:
            return queries.served_despite(conn)

    def history(self, name: str | None = None, *, limit: int = 100) -> list[Event]:
        """The newest ``limit`` events (add, import, add-base, promote, demote, remove,
        export)."""
        sql, params = "SELECT * FROM events", []
        if name is not None:
            sql, params = sql + " WHERE name = ?", [check_name(name)]
        with self.index.read() as conn:
            rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
        return [queries.row_to_event(r) for r in rows]

    def diff(self, a: str, b: str) -> VersionDiff:
        """What differs between versions ``a`` and ``b`` (config, data summary, metrics), and
        whether their metrics were measured on the same test rows, of the same outcome."""
        va, vb = self.get(a), self.get(b)
        ra, rb = (recorded(self.objects.path(v.manifest_blob)) for v in (va, vb))
        split_a, split_b = (r.split if isinstance(r.split, dict) else None for r in (ra, rb))
        asked = (question(ra), question(rb))
        found = diff_versions(va, vb, splits=(split_a, split_b), questions=asked, records=(ra, rb))
        if found.same_base:
            return found
        only = groups.fields_dropped(self.root, vb, va)  # (only a's base's, only b's)
        return replace(found, request_fields=only) if any(only) else found

    # ----- in and out ---------------------------------------------------------------------------
    def add(
        self,
        adapter_dir: str | Path,
        *,
        name: str | None = None,
        parent: int | str | None = "previous",
        notes: str | None = None,
        force: bool = False,
        spelled: str | None = None,
    ) -> Registration:
        """Register the adapter saved in ``adapter_dir`` as the next version of ``name``
        (default: the adapter's own name). ``parent``: a version number (refused if on
        another base model), None, or ``"previous"`` (the newest existing version; none if
        that is on another base). Adding an identical adapter again under the same name adds
        nothing and returns the existing version (``new`` False), its stored copy repaired
        if it was missing or damaged (``repaired`` says what was). The base model that
        ``adapt`` recorded is registered too, if missing; ``notices`` say what the user
        should know (base registered or missing, parent not recorded, another method). An
        adapter predicting another outcome than ``name``'s newest version, or a new ``name``
        spelt like a registered one (``Esat`` beside ``east``), is refused unless ``force``.
        ``spelled``: the registry command as the user typed it (``medadapt registry
        --registry reg``), for the commands a message suggests."""
        return transfer.add_directory(
            self, Path(adapter_dir), name=name, parent=parent, notes=notes, force=force,
            spelled=spelled,
        )  # fmt: skip

    def import_(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        expect_sha256: str | None = None,
        notes: str | None = None,
        force: bool = False,
    ) -> Registration:
        """Register the adapter in an export archive after checking every hash in it (and the
        archive's own SHA-256 against ``expect_sha256``, if given). The version gets the next
        local number; its parent is the local copy of its exported parent, if present.
        Importing the same archive again returns the version it made (``new`` False). A base
        model in the archive (``export --with-base``) is verified and registered too; an
        adapter predicting another outcome than ``name``'s newest version, or a new name spelt
        like a registered one, only with ``force``."""
        return transfer.import_archive(
            self, Path(path), name=name, expect_sha256=expect_sha256, notes=notes, force=force
        )

    def export(
        self,
        ref: str,
        path: str | Path | None = None,
        *,
        with_base: bool = False,
        force: bool = False,
    ) -> Exported:
        """Write ``ref`` to one archive file after verifying its files; the result carries the
        archive's SHA-256. ``path``: a file (``.tar.gz``/``.tgz``: gzip-compressed, ``.tar``:
        uncompressed), or a directory (one that exists, or a string ending in ``/``) to write
        ``NAME-vN.medadapt.tar.gz`` in (default: the current one).
        ``with_base`` also puts the registered base model in the archive."""
        return transfer.export_version(self, ref, path, with_base=with_base, force=force)

    def add_base(self, base_dir: str | Path, *, spelled: str | None = None) -> bases.BaseAdded:
        """Keep the base model in ``base_dir`` (written by ``train-base``) in the registry, so
        its adapters can be served, and record it as registered (``verify`` then reports it if
        its copy is deleted): ``(its directory here, newly added, repaired)``. Adding it again
        adds nothing, but puts back a registered copy that was deleted or replaces a damaged
        one (``repaired`` says which). ``spelled``: the registry command as the user typed it
        (an adapter given here is told the ``add`` that registers it)."""
        added = bases.add_base(self.root, base_dir, spelled=spelled)
        if added.new:  # adapters on it registered before: their cards can now say more
            refresh_cards(self, added.path.name)  # (its weights hash, as the key is)
        return added

    # ----- promoting and removing ---------------------------------------------------------------
    def promote(
        self,
        ref: str,
        *,
        on_group_clash: GroupClash = "refuse",
        spelled: str | None = None,
        despite: str | None = None,
    ) -> Promotion:
        """Mark ``ref`` (``name@N`` or ``name@latest``) as the version of its name to serve.
        Its files are verified first: a damaged version is never promoted. Returns the
        version, the one of its name served until now, and those it stopped serving.

        ``on_group_clash``: what to do while promoted versions of other names serve the same
        group (:func:`~medadapt.registry.groups.group_rivals`: a server would answer no
        request for that group): ``"refuse"`` (the default, as the CLI; the error names them),
        ``"replace"`` (stop serving them in the same transaction, as ``promote --force``) or
        ``"allow"`` (serve both: a server then answers that group 409 and reports it in
        ``/healthz``). ``spelled``: the registry command as the user typed it, for the
        command a refusal suggests. ``despite``: the recorded harm the version is served
        despite (``promote --despite-warnings``), kept in the audit log and the version's
        listing, so an override is never taken for a clean promotion."""
        if on_group_clash not in GROUP_CLASHES:
            raise ValueError(
                f"on_group_clash must be one of {', '.join(GROUP_CLASHES)}, got {on_group_clash=}"
            )
        parsed = parse_ref(ref)
        if not parsed.explicit:
            raise RegistryError(
                f"promote needs an explicit version such as {self._example(parsed.name)} or "
                f"{parsed.name}@latest, got {ref!r} (to serve no version of it any more: "
                f"promote --clear {parsed.name})"
            )
        target = self.get(ref)
        self.check_files(target)
        demoted: list[AdapterVersion] = []
        with self.index.write() as conn:
            name, version = queries.resolve(conn, target.ref, self.root)  # still there?
            if on_group_clash != "allow":
                promoted = queries.promoted_versions(conn)
                demoted = groups.group_rivals(self.root, target, promoted.values())
                if demoted and on_group_clash == "refuse":
                    command = spelled or command_line(self.root)
                    raise RegistryError(groups.rivals_refused(target, demoted, command))
                for rival in demoted:  # "replace": the new version serves the group instead
                    conn.execute("UPDATE names SET promoted = NULL WHERE name = ?", (rival.name,))
                    Index.changed(conn, "demote", rival.name, rival.version,
                                  {"replaced_by": target.ref})  # fmt: skip
            was = conn.execute("SELECT promoted FROM names WHERE name = ?", (name,)).fetchone()[0]
            previous = None if was is None else queries.fetch(conn, f"{name}@{was}", self.root)
            if was != version:
                conn.execute("UPDATE names SET promoted = ? WHERE name = ?", (version, name))
                overridden = {} if despite is None else {"despite_warnings": despite}
                Index.changed(conn, "promote", name, version, {"previous": was, **overridden})
            served = queries.fetch(conn, f"{name}@{version}", self.root)
        return Promotion(served, previous, tuple(demoted))

    def group_rivals(self, ref: str) -> list[AdapterVersion]:
        """The promoted versions of other names serving the group ``ref`` serves (what
        ``promote(ref)`` refuses, or with ``on_group_clash="replace"`` stops serving)."""
        return groups.group_rivals(self.root, self.get(ref), self.promoted_versions().values())

    def demote(self, name: str) -> AdapterVersion | None:
        """Stop serving ``name`` (no version promoted); returns the version that was."""
        with self.index.write() as conn:
            current = conn.execute(
                "SELECT promoted FROM names WHERE name = ?", (check_name(name),)
            ).fetchone()
            if current is None or current[0] is None:
                return None
            was = queries.fetch(conn, f"{name}@{current[0]}", self.root)
            conn.execute("UPDATE names SET promoted = NULL WHERE name = ?", (name,))
            Index.changed(conn, "demote", name, current[0])
        return was

    def remove(
        self, ref: str, *, force: bool = False, spelled: str | None = None
    ) -> AdapterVersion:
        """Remove one version (``name@N``). The promoted version needs ``force`` (which stops
        serving that name). Version numbers are never reused. ``spelled``: the registry
        command as the user typed it, for the command a refusal suggests."""
        parsed = parse_ref(ref)
        if parsed.selector != "exact":
            command = spelled or command_line(self.root)
            raise RegistryError(
                f"rm needs an explicit version such as {self._example(parsed.name)}; to remove "
                f"every version use '{command} rm {parsed.name} --all'"
            )
        return self._remove(parsed.name, [parsed.version], force=force)[0]  # type: ignore[list-item]

    def _example(self, name: str) -> str:
        """``heart@2``: the newest version of ``name`` as the example of an explicit version (a
        trial was offered ``south@3`` where only 1 and 2 exist); ``name@1`` for a name not
        registered (its own refusal follows wherever it is used)."""
        try:
            versions = [v.version for v in self.list(name)]
        except RegistryError:
            versions = []
        return f"{name}@{max(versions, default=1)}"

    def remove_all(self, name: str, *, force: bool = False) -> list[AdapterVersion]:
        """Remove every version of ``name``."""
        versions = [v.version for v in self.list(name)]
        if not versions:
            self.resolve(name)  # raises: no adapter named ...
        return self._remove(name, versions, force=force)

    def _remove(self, name: str, versions: list[int], *, force: bool) -> list[AdapterVersion]:
        with self.index.write() as conn:
            gone = [queries.fetch(conn, f"{name}@{v}", self.root) for v in versions]
            promoted = next((v for v in gone if v.promoted), None)
            if promoted is not None:
                if not force:
                    raise RegistryError(
                        f"{promoted.ref} is the promoted (served) version; promote another "
                        f"version first, or pass --force to stop serving {name}"
                    )
                conn.execute("UPDATE names SET promoted = NULL WHERE name = ?", (name,))
            for v in gone:
                conn.execute(
                    "DELETE FROM versions WHERE name = ? AND version = ?", (name, v.version)
                )
                # its manifest's hash stays in the log: a child's export still names its parent
                detail = {"was_promoted": v.promoted, "manifest_blob": v.manifest_blob}
                Index.changed(conn, "remove", name, v.version, detail)
        self.gc(min_age_s=float("inf"))  # free the blobs no version uses any more
        return gone

    # ----- files --------------------------------------------------------------------------------
    def check_files(self, v: AdapterVersion) -> None:
        """Raise a one-line error unless every file of ``v`` is present and hashes right."""
        fix = repair_fix(self.root, v)
        what = f"adapter {v.ref}"
        self.objects.check(v.weights_blob, v.weights_bytes, what=what, fix=fix)
        self.objects.check(v.manifest_blob, v.manifest_bytes, what=what, fix=fix)
        manifest = json.loads(self.objects.path(v.manifest_blob).read_bytes())
        if manifest.get("weights_sha256") != v.weights_blob:
            raise AdapterFileError(f"{what}: its manifest names other weights; {fix}")

    def open_adapter(self, ref: str, *, base: BaseFingerprint | None = None) -> Path:
        """A verified adapter directory for ``ref``, ready for ``AdapterModel.load_adapter``.

        Every file's hash is checked; with ``base`` (``model.fingerprint``), an adapter trained
        on another base model is refused with a one-line error.
        """
        v = self.get(ref)
        if base is not None:
            # lazy: adapters.state loads torch; the CLI imports the registry at start-up
            from medadapt.adapters.state import check_base

            check_base({"base_fingerprint": v.base_fingerprint}, base, f"registry adapter {v.ref}")
        self.check_files(v)
        return self._checkout(v)

    def _checkout(self, v: AdapterVersion) -> Path:
        final = self.checkouts / f"{v.name}@{v.version}-{v.manifest_blob[:16]}"
        files = {transfer.MANIFEST: v.manifest_blob, v.weights_file: v.weights_blob,
                 **self.kept_split(v)}  # fmt: skip

        def intact(directory: Path) -> bool:
            for fname, digest in files.items():
                path, blob = directory / fname, self.objects.path(digest)
                if not path.is_file():
                    return False
                if not (os.path.samefile(path, blob) or sha256_file(path) == digest):
                    return False
            return True

        if final.is_dir() and intact(final):
            return final
        shutil.rmtree(final, ignore_errors=True)  # damaged or stale: rebuild from the blobs
        tmp = temp_name(self.objects.tmp, ".checkout")
        tmp.mkdir()
        for fname, digest in files.items():
            try:
                os.link(self.objects.path(digest), tmp / fname)
            except OSError:  # no hard links on this file system
                shutil.copyfile(self.objects.path(digest), tmp / fname)
        try:
            os.rename(tmp, final)
        except OSError:  # another process checked it out first
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    def kept_split(self, v: AdapterVersion) -> dict[str, str]:
        """``{"split.json": sha256}`` where ``add`` kept the adapter's split file (which rows
        or images trained it, as keyed hashes) and its blob is intact: checked out beside the
        adapter, so that ``serve`` can flag a record or an image it trained on; ``{}`` where
        there is none (an imported version: the rows are at the site that trained it) or it is
        damaged (``verify`` says so)."""
        named = split_file_of(json.loads(self.objects.path(v.manifest_blob).read_bytes()))
        if named is None:
            return {}
        path = self.objects.path(named[1])
        return {named[0]: named[1]} if path.is_file() and sha256_file(path) == named[1] else {}

    # ----- maintenance --------------------------------------------------------------------------
    def verify(self, ref: str | None = None) -> VerifyReport:
        """Check every file of ``ref`` (or of every version), and the base models (``ref``'s
        or all): each one's weights are re-hashed and its fingerprint checked against the key
        it is stored under. Reports damage, never raises."""
        return verify_registry(self, ref)

    def gc(self, *, min_age_s: float = GC_MIN_AGE_S) -> GcReport:
        """Delete unreferenced blobs and stale checkouts, ``tmp/`` entries older than
        ``min_age_s`` (younger ones may belong to an add still running: counted as kept),
        and the damaged base copies ``add_base`` set aside there."""
        return collect_garbage(self, min_age_s=min_age_s)


def repair_fix(root: str | Path, v: AdapterVersion) -> str:
    """What a damaged version's message says to do: add (or import) it again, which repairs
    its stored copy, or remove it (``--force`` for the served version); every command as it
    runs, with ``--root``."""
    again = (
        f"importing its archive again ('{command_line(root, f'import ARCHIVE --name {v.name}')}')"
        if v.origin
        else f"adding it again ('{command_line(root, f'add ADAPTER_DIR --name {v.name}')}')"
    )
    rm = command_line(root, f"rm {v.ref}{' --force' if v.promoted else ''}")
    served = f" (it is served: --force stops serving {v.name})" if v.promoted else ""
    return f"repair it by {again}, or remove it with '{rm}'{served}"
