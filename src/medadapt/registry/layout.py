"""Refusing a registry that lost part of itself: never re-index or re-create it silently.

A registry whose index is gone while ``objects/`` or ``bases/`` still hold files, or whose
index lists versions while ``objects/`` is gone, is refused on opening with one line saying
what is missing and what to restore; nothing is written. A new directory, or one holding only
the empty folders of a creation killed half-way, still becomes a registry.
"""

from __future__ import annotations

from pathlib import Path

from medadapt.registry.db import INDEX, Index
from medadapt.registry.records import RegistryError

OBJECTS = "objects"
_CONTENT = (OBJECTS, "bases")


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
