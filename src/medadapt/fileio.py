"""Small file helpers with no heavy imports: atomic writes and checksums.

Every file medadapt writes gets the mode a plain ``open()`` would give it (0o666 less the
process umask), whichever library produced the bytes: some writers (safetensors) create their
files 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from medadapt.errors import AdapterFileError, DataError, Interrupted

#: the checksums a base model's ``model.json`` carries of itself: of what reads the weights
#: (:data:`DESCRIBED`) and of everything else it records
DESCRIPTION_SHA256, RECORD_SHA256 = "description_sha256", "record_sha256"
DESCRIBED = ("kind", "architecture", "schema")  # what reads the weights: never edited by hand


def description_sha256(manifest: dict[str, Any]) -> str:
    """The checksum of what in ``model.json`` says how to read the weights (:data:`DESCRIBED`),
    as JSON holds it: a hand-edited task, class list or feature fails to load instead of
    scoring wrongly (``n_heads`` 0, a feature removed, ``task`` "regression")."""
    described = {key: manifest.get(key) for key in DESCRIBED}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def record_sha256(manifest: dict[str, Any]) -> str:
    """The checksum of everything a base model's ``model.json`` records but its checksums
    (its training: groups, test results, leaks kept, notes), as JSON holds it: what the
    registry, the cards and the reports read of the model cannot be edited by hand unnoticed
    (a trial edited a registered base's test AUROC, 1.0 to 0.6, and verify said "ok")."""
    recorded = {k: v for k, v in manifest.items() if k not in (DESCRIPTION_SHA256, RECORD_SHA256)}
    return hashlib.sha256(json.dumps(recorded, sort_keys=True).encode()).hexdigest()


def manifest_edited(manifest: dict[str, Any]) -> str | None:
    """``model.json was edited after the model was saved (...)``, saying which part no longer
    matches its checksum (what reads the weights first), or None; a checksum absent (a model
    saved before it was recorded) is not checked."""
    if manifest.get(DESCRIPTION_SHA256) not in (None, description_sha256(manifest)):
        return ("model.json was edited after the model was saved (its kind, architecture or "
                "schema no longer match the checksum saved with them, and the weights would be "
                "read wrongly)")  # fmt: skip
    if manifest.get(RECORD_SHA256) not in (None, record_sha256(manifest)):
        return ("model.json was edited after the model was saved (what it records of the "
                "model's training, its results and notes no longer match the checksum saved "
                "with them, and figures read from it could be wrong)")  # fmt: skip
    return None


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_umask() -> int:
    """The process umask, read without changing it where the system shows it (Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set it and put it back
    os.umask(mask)
    return mask


def atomic_write(
    path: str | Path, write: Callable[[Path], None], *, mode: int | None = None
) -> None:
    """Let ``write(tmp)`` create a temporary file beside ``path``; give it the umask's mode
    (``mode``: that one, 0o600 for a file only its owner may read), fsync it, then rename it
    over ``path``: readers see the old file or the new one, never half of it. On failure the
    temporary file is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask() if mode is None else mode)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> None:
    """:func:`atomic_write` of ``data`` (``mode``: as there)."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data), mode=mode)


# ----- output paths: checked before any work, never half-written, never silently replaced -------
def _existing_ancestor(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def make_directory(path: str | Path, what: str) -> Path:
    """``path`` as a directory (created with its parents), or one line saying why it cannot be
    one (a file is there, or above it)."""
    path = Path(path)
    blocking = _existing_ancestor(path)
    if not blocking.is_dir():
        raise AdapterFileError(f"cannot write {what} to {path}: {blocking} is a file; name a "
                               "directory")  # fmt: skip
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_can_create(path: Path, flag: str) -> None:
    """The directory ``path`` would be created in exists as a directory we can write in (tried
    with a probe directory, removed at once: permissions, read-only disks and root all
    answer the same way)."""
    ancestor = _existing_ancestor(path.parent)
    if not ancestor.is_dir():
        raise _error(f"{flag} {path}: {ancestor} is a file, not a directory; choose another path")
    if ancestor.is_absolute() and ancestor == Path(ancestor.anchor) and path.parent != ancestor:
        first = path.parent
        while first.parent != ancestor:
            first = first.parent
        raise _error(  # a trial's mistyped --out /nonexistent/dir/p.csv made /nonexistent
            f"{flag} {path}: {first} does not exist, and medadapt makes no folder at the top of "
            f"the file system: check the path (a relative one has no leading /), or make the "
            f"folder first (mkdir -p {path.parent})"
        )
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".medadapt-probe-", dir=ancestor))
    except OSError as exc:
        raise _error(
            f"{flag} {path}: cannot write in {ancestor} ({exc.strerror or exc}); choose a "
            "directory you can write in"
        ) from None


def _error(message: str) -> Exception:
    return DataError(message)


def read_json(path: Path, *, missing: str, invalid: str) -> Any:
    """The JSON document in ``path``; an :class:`AdapterFileError` with ``missing`` when there
    is no such file, with ``invalid`` when it does not parse (truncated or edited)."""
    if not path.is_file():
        raise AdapterFileError(missing)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AdapterFileError(invalid) from None


def read_secret(path: Path, flag: str, *, what: str, min_length: int = 1) -> str:
    """The one word held by the secret file ``path`` (``flag``'s), never echoed: refused,
    naming ``flag``, when it is missing, not a file, unreadable, empty, more than one word,
    or shorter than ``min_length`` characters."""
    if not path.exists():
        raise DataError(f"{flag} {path} does not exist; check the path")
    if not path.is_file():
        raise DataError(f"{flag} {path} is not a file: write the {what} in a file and pass it")
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise DataError(f"{flag} {path} cannot be read as text; write the {what} in it") from None
    if not secret:
        raise DataError(f"{flag} {path} is empty: write the {what} in it")
    if any(c.isspace() for c in secret):
        raise DataError(f"{flag} {path} holds more than one word: keep only the {what}")
    if len(secret) < min_length:
        raise DataError(
            f"{flag}: the {what} in {path} is shorter than {min_length} characters; use a long "
            "random token (e.g. 'openssl rand -hex 32')"
        )
    _warn_readable_by_others(path, flag, what=what)
    return secret


def others_may_read(path: Path) -> str | None:
    """Who besides its owner may read ``path``, in words with its mode ("every user of this
    machine (mode 644)"); None where only the owner may, or off POSIX."""
    if os.name != "posix":
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o044:
        return None
    who = "every user of this machine" if mode & 0o004 else "the users of its group"
    return f"{who} (mode {mode:o})"


def _warn_readable_by_others(path: Path, flag: str, *, what: str) -> None:
    """Warn when other users of the machine may read the secret file (``ssh`` refuses such
    a key; a token is only as private as its file). POSIX permissions only."""
    who = others_may_read(path)
    if who is None:
        return
    warnings.warn(
        f"{flag} {path} can be read by {who}, and whoever reads the {what} can use it: "
        f"restrict it with 'chmod 600 {path}'",
        UserWarning,
        stacklevel=3,
    )


REGISTRY_INDEX = "registry.sqlite"
"""The file that makes a folder a registry (:mod:`medadapt.registry`, its index)."""


def check_outside_registry(out: str | Path, flag: str) -> None:
    """No output lands in a registry's folders: they hold only what the registry writes
    (never patient rows), and ``verify`` and ``gc`` know nothing of another file (a trial's
    ``predict --out reg/preds.csv`` wrote 275 patients' predictions there)."""
    for folder in Path(out).resolve().parents:
        if (folder / REGISTRY_INDEX).is_file():
            raise _error(
                f"{flag} {out} is inside the registry {folder}, whose folders hold only what "
                "the registry writes (never patient rows); write it outside the registry"
            )


def check_output_file(path: str | Path | None, *, flag: str, force: bool = False) -> None:
    """Refuse, before any work, an output file that could not be written or would replace an
    existing file without ``--force``, or that lies inside a registry."""
    if path is None:
        return
    path = Path(path)
    check_outside_registry(path, flag)
    if path.is_dir():
        raise _error(f"{flag} {path} is a directory; give a file name inside it instead")
    if path.exists() and not force:
        raise _error(
            f"{flag} {path} already exists; choose another name, or pass --force to replace it"
        )
    check_can_create(path, flag)


def make_parent(path: str | Path, *, say: bool = True) -> Path | None:
    """Make ``path``'s folder where it does not exist and return the first folder made (None:
    none was), said unless not ``say`` (:func:`say_made`)."""
    parent = Path(path).parent
    if parent.exists():
        return None
    first = parent
    while not first.parent.exists() and first.parent != first:
        first = first.parent
    parent.mkdir(parents=True, exist_ok=True)
    if say:
        say_made(first, path)
    return first


def say_made(folder: Path, path: str | Path) -> None:
    """The note that ``folder`` was made to write ``path`` (a trial's mistyped ``--out
    /nonexistent/dir/p.csv`` made a folder tree at the root without a word): a note, when
    the output is written, never a refusal."""
    inner = Path(path).parent
    made = folder if inner == folder else f"{folder} and the folders in it down to {inner}"
    logging.getLogger("medadapt.notes").warning(
        "made the folder %s to write %s (it did not exist; check the path if that is not what "
        "you meant)", made, path,
    )  # fmt: skip


REPORT_SUFFIXES = (".html", ".htm")


def check_report_file(path: str | Path | None, *, force: bool = False) -> None:
    """:func:`check_output_file` for ``--report``, whose name must also end in .html or .htm:
    the report is an HTML page whatever the name says (``x.pdf`` would not open)."""
    if path is None:
        return
    path = Path(path)
    if not path.is_dir() and path.suffix.lower() not in REPORT_SUFFIXES:
        raise _error(
            f"--report {path}: the report is an HTML page; give a file name ending in .html or .htm"
        )
    check_output_file(path, flag="--report", force=force)


def check_json_file(path: str | Path | None, *, force: bool = False) -> None:
    """:func:`check_output_file` for ``--json``, whose name must also end in .json: a trial's
    ``check-data --json data.csv --force`` replaced a data file with JSON."""
    if path is None:
        return
    check_output_file(path, flag="--json", force=force)
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise _error(f"--json {path}: the figures are written as JSON; give a file name ending "
                     "in .json")  # fmt: skip


OUTPUT_KINDS = {
    "model.json": "a base model",
    "adapter.json": "an adapter",
    "study.json": "a study",
    "federated.json": "a federated run",
    "results.json": "a demo's results",
    "registry.sqlite": "a model registry",
    "federated/adapter.json": "a site's federated adapter (federate client --out)",
}
"""What each command's output folder holds, by its marker file: another command's is never
written into, even with ``--force`` (a trial's ``demo --out reg --force`` wrote a base model,
adapters and a report among a registry's files)."""


HOLDS_ITS_OWN = {"federated.json": ("adapter.json",)}
"""Marker files that are part of another output kind's folder, not an output of their own
there: a federated run keeps its shared adapter (``adapter.json``) beside ``federated.json``."""


def other_outputs(*own: str) -> dict[str, str]:
    """:data:`OUTPUT_KINDS` but the command's own markers (``own``), as ``foreign``."""
    return {marker: what for marker, what in OUTPUT_KINDS.items() if marker not in own}


def check_output_dir(
    path: str | Path | None,
    *,
    flag: str,
    force: bool = False,
    markers: dict[str, str] | None = None,
    foreign: dict[str, str] | None = None,
) -> None:
    """Refuse, before any work, an output directory that is a file, cannot be created, holds
    an earlier output (``markers``: file name -> what it shows, e.g. ``{"model.json": "a base
    model"}``) or other files, unless ``force``; one that holds an output of another kind
    (``foreign``, as ``markers``) even with ``force``: the two would share files such as
    ``split.json``, and writing one breaks the other."""
    if path is None:
        return
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise _error(f"{flag} {path} is a file; give a directory (it is created if needed)")
    check_outside_registry(path, flag)
    other = other_kind(path, foreign or {})
    if other:
        raise _error(
            f"{flag} {path} holds {other[1]} ({other[0]}), which writing this output into it "
            "would break, even with --force; choose a new directory"
        )
    held = None if force else occupant(path, markers or {})
    if held:
        raise _error(
            f"{flag} {path} already holds {held[1]}; choose a new directory, or pass --force "
            "to replace it"
        )
    if held is not None:
        raise _error(
            f"{flag} {path} is not empty; choose a new or empty directory, or pass --force to "
            "write into it"
        )
    check_can_create(path, flag)


def occupant(path: Path, markers: dict[str, str]) -> tuple[str, ...] | None:
    """What a directory holds that saving into it would replace or mix with: the first of
    ``markers`` (file name -> what it shows) present as ``(name, what)``, ``()`` for other
    files, None when it is absent or empty."""
    if not path.is_dir() or not any(path.iterdir()):
        return None
    return next(((name, what) for name, what in markers.items() if (path / name).exists()), ())


def other_kind(path: Path, foreign: dict[str, str]) -> tuple[str, str] | None:
    """The first of ``foreign`` (file name -> what it shows) that directory ``path`` holds, as
    ``(name, what)``: an output of another kind, which no overwrite may mix with."""
    if not path.is_dir():
        return None
    inner = {held for marker, files in HOLDS_ITS_OWN.items() if (path / marker).exists()
             for held in files}  # fmt: skip
    return next(((name, what) for name, what in foreign.items()
                 if name not in inner and (path / name).exists()), None)  # fmt: skip


def destination_of(path: str | Path) -> Path:
    """Where ``path`` will be once the :func:`staged_directory` holding it has taken its
    place (``out/.fed.tmp-x1y2/base`` -> ``out/fed/base``); other paths as they are."""
    parts = [match["name"] if (match := _STAGED.match(part)) else part for part in Path(path).parts]
    return Path(*parts)


_STAGED = re.compile(r"^\.(?P<name>.+)\.tmp-[A-Za-z0-9_]+$")


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted("terminated by SIGTERM")


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`~medadapt.errors.Interrupted` in the main
    thread, so that what the block started is cleaned up as after Ctrl-C (SIGINT's
    ``KeyboardInterrupt``); elsewhere (another thread) SIGTERM is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def staged_directory(path: str | Path, owned: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a new directory beside ``path`` to write an output into; on success it takes
    ``path``'s place in one rename (files of an existing ``path`` that the new output does not
    have are kept, except those named in ``owned``: what an earlier output of the same command
    wrote, such as its ``personalised/`` folders, which would otherwise sit beside the new
    run's as if it had made them; their removal is said); on failure, Ctrl-C (SIGINT) or
    SIGTERM (:func:`sigterm_interrupts`) it is removed and ``path`` is left as it was."""
    path = Path(path)
    made = make_parent(path, say=False)  # said once the output is there; removed if not
    with sigterm_interrupts():
        staged = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
        try:
            yield staged
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            if made is not None:  # the folders made for it, empty: nothing is left behind
                shutil.rmtree(made, ignore_errors=True)
            raise
    if made is not None:
        say_made(made, path)
    os.chmod(staged, 0o777 & ~current_umask())
    if not path.exists():
        os.replace(staged, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    os.replace(staged, path)
    earlier = []
    for item in sorted(old.iterdir()):  # files medadapt did not write stay where the user put them
        if item.name in owned:
            earlier += [] if (path / item.name).exists() else [item.name]
        elif not (path / item.name).exists():
            os.replace(item, path / item.name)
    shutil.rmtree(old, ignore_errors=True)
    if earlier:
        logging.getLogger("medadapt.notes").warning(
            "removed the earlier output's %s from %s (--force; this run wrote none)",
            ", ".join(f"{name}/" if "." not in name else name for name in earlier), path,
        )  # fmt: skip


def not_a_folder(path: Path) -> str | None:
    """Why ``path`` is no folder to read a model from, in words ("does not exist", "is a file,
    not a folder"); None for a folder. A trial's ``BaseModel.load("nope")`` was told the
    folder "holds no model.json", as if it were there."""
    if not path.exists():
        return "does not exist"
    return None if path.is_dir() else "is a file, not a folder"
