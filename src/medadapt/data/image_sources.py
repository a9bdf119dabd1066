"""Where labelled image files come from: a class-per-folder tree or a path CSV.

Both give a list of :class:`Entry` (file, label, group, patient id, format) before any image is
read, so layout problems (empty folder, unknown file type, missing column) fail fast.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from medadapt.data.image_io import SUFFIXES, describe_error, file_format
from medadapt.errors import DataError

_IGNORED = {"thumbs.db", "desktop.ini"}
_KNOWN = ", ".join(SUFFIXES)


@dataclass(frozen=True)
class Entry:
    path: Path
    label: str
    group: str | None
    fmt: str  # a reader format, or "missing"
    subject: str | None = None  # the patient id column's value (in memory only)


def _format_or_fail(path: Path, where: str) -> str:
    fmt = file_format(path)
    if fmt is not None:
        return fmt
    if not path.exists():
        return "missing"
    raise DataError(
        f"{path}{where} has an unknown file type {path.suffix or '(no suffix)'!r}: medadapt "
        f"reads {_KNOWN} and DICOM under any name (recognised by its first bytes); remove "
        "or convert the file"
    )


def folder_entries(root: Path) -> list[Entry]:
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        loose = [p for p in root.iterdir() if p.is_file() and file_format(p)]
        if loose:
            raise DataError(
                f"{root} holds images but no class sub-folders: put each class's images in "
                f"its own sub-folder ({root}/<class>/...) or list them in a CSV of path,label"
            )
        raise DataError(
            f"{root} is empty: add one sub-folder per class with that class's images in it"
        )
    entries = []
    for class_dir in class_dirs:
        files = sorted(
            p
            for p in class_dir.rglob("*")
            if p.is_file()
            and p.name.lower() not in _IGNORED
            and not any(part.startswith(".") for part in p.relative_to(class_dir).parts)
        )
        if not files:
            raise DataError(
                f"class folder {class_dir} has no files: add its images or remove the folder"
            )
        entries += [Entry(p, class_dir.name, None, _format_or_fail(p, "")) for p in files]
    return entries


def left_out_note(root: Path) -> str | None:
    """The warning naming, by suffix, the files of class folder ``root`` that
    :func:`folder_entries` does not read: files beside the class sub-folders (no class) and
    links to nothing; None when there are none (or ``root`` is no folder)."""
    if not root.is_dir():
        return None
    kinds: Counter[str] = Counter()
    for path in root.iterdir():
        if path.name.startswith(".") or path.name.lower() in _IGNORED or path.is_dir():
            continue
        kinds[
            (path.suffix.lower() or "file without suffix") if path.exists() else "broken link"
        ] += 1
    for class_dir in (d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        for path in class_dir.rglob("*"):
            hidden = any(part.startswith(".") for part in path.relative_to(class_dir).parts)
            if not hidden and path.is_symlink() and not path.exists():
                kinds["broken link"] += 1
    if not kinds:
        return None
    said = ", ".join(f"{n} {_kind(kind, n)}" for kind, n in sorted(kinds.items()))
    total = kinds.total()
    files, were, links = ("file", "was", "a link") if total == 1 else ("files", "were", "links")
    return (
        f"{total} {files} in {root} {were} not read, being outside the class sub-folders or "
        f"{links} to nothing ({said}): put each image in its class's sub-folder to use it"
    )


def _kind(kind: str, n: int) -> str:
    """``kind`` (a suffix such as ``.txt``, or words) for ``n`` files: ``2 broken links``."""
    if n == 1 or kind.startswith("."):
        return kind
    return {"file without suffix": "files without suffix"}.get(kind, kind + "s")


def csv_entries(
    csv: Path,
    path_column: str,
    label_column: str,
    group_column: str | None,
    id_column: str | None = None,
) -> list[Entry]:
    try:
        sep = "\t" if csv.suffix.lower() == ".tsv" else ","
        table = pd.read_csv(csv, sep=sep, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise DataError(
            f"cannot read {csv} as a table ({describe_error(exc)}): save it as a CSV with a "
            "header row path,label[,group]"
        ) from None
    wanted_group = group_column or ("group" if "group" in table.columns else None)
    have = ", ".join(map(str, table.columns))
    for column in (path_column, label_column):
        if column not in table.columns:
            raise DataError(
                f"{csv} has no column {column!r} (it has {have}): "
                "name the columns path,label[,group], or pass --path-column / --label"
            )
    if wanted_group is not None and wanted_group not in table.columns:
        raise DataError(
            f"{csv} has no group column {wanted_group!r} (it has {have}): pass --group-column "
            "naming the column that holds the site or group"
        )
    if id_column is not None and id_column not in table.columns:
        raise DataError(
            f"{csv} has no patient id column {id_column!r} (it has {have}): pass the column "
            "that holds the patient id (--id-column), or leave it out to split by file"
        )
    if table.empty:
        raise DataError(f"{csv} has no rows: add one row per image (path,label)")
    entries = []
    labels: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(table.to_dict("records"), start=2):  # the header is line 1
        line = f" (line {number} of {csv})"
        raw_path, label = row[path_column].strip(), row[label_column].strip()
        if not raw_path or not label:
            empty = path_column if not raw_path else label_column
            raise DataError(f"empty {empty!r}{line}: fill it or drop the row")
        group = row[wanted_group].strip() if wanted_group else None
        subject = None
        if id_column is not None:
            subject = row[id_column].strip()
            if not subject:
                raise DataError(f"empty {id_column!r}{line}: fill in the patient id or drop it")
            subject = f"id:{subject}"
        path = Path(raw_path) if Path(raw_path).is_absolute() else csv.parent / raw_path
        if not entries:  # the first path tells how they were written (no stat per row)
            _check_relative_to_the_csv(path, raw_path, line, csv)
        _check_one_label(labels, path, label, number, csv)
        entries.append(Entry(path, label, group, _format_or_fail(path, line), subject))
    return entries


def _check_relative_to_the_csv(path: Path, raw_path: str, line: str, csv: Path) -> None:
    """A relative path is read from the CSV's folder; one that exists only from the current
    folder was written relative to it (every file would be "not found")."""
    if Path(raw_path).is_absolute() or path.exists() or not Path(raw_path).exists():
        return
    raise DataError(
        f"{raw_path}{line} does not exist relative to the CSV's folder {csv.parent}, where "
        "relative paths are read from (it does exist relative to the current folder): write "
        f"the paths relative to {csv.name}'s folder, or as absolute paths"
    )


def _check_one_label(
    labels: dict[str, tuple[str, int]], path: Path, label: str, number: int, csv: Path
) -> None:
    """Refuse a file the CSV lists again under another label (``labels``: each file's first
    label and line, filled here)."""
    key = os.path.normpath(path)
    first, line = labels.setdefault(key, (label, number))
    if first != label:
        raise DataError(
            f"{key} is labelled {first!r} (line {line} of {csv}) and {label!r} (line {number}): "
            "give each image one label"
        )


def sort_labels(labels: Sequence[str]) -> list[str]:
    """Distinct labels, numerically when all are integers ("2" < "10"), else alphabetically."""
    distinct = set(labels)
    if all(re.fullmatch(r"-?\d+", label) for label in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)
