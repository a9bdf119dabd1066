"""Refusing a registry that lost part of itself: never re-index or re-create it silently.

A registry whose index is gone while ``objects/`` or ``bases/`` still hold files, or whose
index lists versions while ``objects/`` is gone, is refused on opening with one line saying
what is missing and what to restore; nothing is written. A new directory, or one holding only
the empty folders of a creation killed half-way, still becomes a registry.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from medadapt.registry.db import INDEX, Index
from medadapt.registry.records import RegistryError, command_line

OBJECTS = "objects"
_CONTENT = (OBJECTS, "bases")
LAYOUT = (OBJECTS, "tmp", "checkouts", "bases")
"""The folders a registry keeps beside its index (all empty in a creation killed half-way)."""


def _holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def refuse_lost_index(root: Path) -> None:
    """Refuse ``root`` if it has no index but holds adapter files or base models."""
    holding = [f"{folder}/" for folder in _CONTENT if _holds_files(root / folder)]
    if holding:
        hold = "holds" if len(holding) == 1 else "hold"
        raise RegistryError(
            f"registry {root} has lost its index: {root / INDEX} is missing, but "
            f"{' and '.join(holding)} {hold} its files; restore {INDEX} from a backup (a new "
            "index would drop every version and its history)"
        )


def refuse_lost_objects(root: Path, index: Index) -> None:
    """Refuse ``root`` if its index lists versions but ``objects/`` is gone."""
    if (root / OBJECTS).is_dir():
        return
    n_versions = index.read_one("SELECT COUNT(*) FROM versions")[0]
    if n_versions:
        raise RegistryError(
            f"registry {root} has lost its adapter files: {root / OBJECTS} is missing, but its "
            f"index lists {n_versions} version{'s' * (n_versions != 1)}; restore {OBJECTS}/ "
            "from a backup"
        )


def empty_or_missing(root: Path) -> bool:
    """Whether ``root`` may become a registry: missing, empty, or holding only the folders of
    a creation killed half-way."""
    return not root.exists() or all(p.name in LAYOUT for p in root.iterdir())


def held_instead(root: Path) -> tuple[str, str] | None:
    """``(what root is, what to do with it)`` when it is a medadapt folder but not a registry
    (None for anything else): given as ``--root``, a base model or an adapter was answered
    with how to create a registry there, which was then refused."""
    given = shlex.quote(str(root))  # the commands below run as printed
    if (root / "model.json").is_file() and not (root / "adapter.json").exists():
        return (
            "a base model (written by 'medadapt train-base'), not a registry",
            "to keep this base in a registry: 'medadapt registry --root REGISTRY add-base "
            f"{given}'",
        )
    adapters = [root] if (root / "adapter.json").is_file() else []
    adapters = adapters or [p.parent for p in root.glob("*/adapter.json")]
    if len(adapters) == 1:
        return (
            "an adapter (written by 'medadapt adapt'), not a registry",
            f"to register this adapter: 'medadapt registry --root REGISTRY add {given}'",
        )
    return None


def not_a_registry(root: Path, *, python: bool = False) -> str:
    """Why reading ``root`` as a registry fails, and what to do: creating one is offered only
    where it can be done (a missing or empty directory); a base model or an adapter is named
    as such, with the command that keeps it in a registry. ``python``: said to a caller of
    ``Registry(root)``, whose fix is an argument (a trial was told of ``--root``)."""
    held = held_instead(root)
    check = "check the path" if python else "check --root"
    if held:
        return f"{root} is {held[0]}; {check} ({held[1]})"
    if not empty_or_missing(root):
        return f"{root} is not a medadapt registry (no {INDEX}); {check}"
    what = f"{root} is not a medadapt registry yet" if root.exists() else f"no registry at {root}"
    create = (f"Registry({str(root)!r}, create=True)" if python
              else f"'{command_line(root, 'add ADAPTER_DIR')}'")  # fmt: skip
    return f"{what}; {check}, or create one with {create}"
