"""Where labelled image files come from: a class-per-folder tree or a path CSV.

Both give a list of :class:`Entry` (file, label, group, patient id, format) before any image is
read, so layout problems (empty folder, unknown file type, missing column, no file found) fail
fast. :func:`image_name_column` tells a path CSV from a table without them (only the standard
library is imported here; pandas and the image readers load on first use).
"""

from __future__ import annotations

import csv as csv_module
import os
import re
import shlex
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medadapt.checks import did_you_mean
from medadapt.data.option_words import takes
from medadapt.data.read_errors import UNKNOWN_TYPE
from medadapt.errors import DataError

#: what an operating system writes beside images (lower case): never read, never named as
#: left out, as hidden files (a name starting with ".", such as .DS_Store) are not, but for
#: hidden image files, which are counted (:func:`hidden_images_note`)
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})

#: the :attr:`Entry.fmt` of a file medadapt reads no image from (its suffix and first bytes
#: name no format), listed where ``on_error`` is "skip": reading it fails (:func:`unknown_type`)
UNKNOWN = "unknown"

#: how the name of an image file ends (read or not by medadapt: a column of TIFF names is a
#: path column too, whose files are refused by type when read)
IMAGE_NAME_SUFFIXES = (
    *(".png", ".jpg", ".jpeg", ".dcm", ".dicom", ".nii", ".nii.gz", ".npy"),
    *(".tif", ".tiff", ".bmp", ".gif", ".webp", ".mha", ".mhd", ".nrrd"),
)

#: rows read to tell a path CSV (its first ones; a table may be large)
NAME_ROWS = 1000


@dataclass(frozen=True)
class Entry:
    path: Path
    label: str
    group: str | None
    fmt: str  # a reader format, "missing" or UNKNOWN (skipped when read)
    subject: str | None = None  # the patient id column's value (in memory only)
    where: str = ""  # its line of a CSV listing: " (line 5 of images.csv)"


def format_or_fail(path: Path, where: str, on_error: str) -> str:
    """The reader format of ``path`` (``where``: its CSV line, or nothing), "missing" where it
    does not exist, :data:`UNKNOWN` for a file of an unknown type left out when read (with
    ``on_error`` "skip"); else such a file is refused, naming the types medadapt reads."""
    from medadapt.data.image_io import SUFFIXES, file_format

    fmt = file_format(path)
    if fmt is not None:
        return fmt
    if not path.exists():
        return "missing"
    if on_error == "skip":
        return UNKNOWN
    skip = ", or pass --on-error skip to leave it out" if takes("--on-error") else ""
    raise DataError(
        f"{path}{where} has an unknown file type {_suffix(path)!r}: medadapt reads "
        f"{', '.join(SUFFIXES)} and DICOM under any name (recognised by its first bytes); "
        f"remove or convert the file{skip}"
    )


def unknown_type(path: Path) -> str:
    """Why a file of :data:`UNKNOWN` type is left out (``--on-error skip``), in one line."""
    from medadapt.data.image_io import SUFFIXES

    return (
        f"{UNKNOWN_TYPE} {_suffix(path)!r} (medadapt reads {', '.join(SUFFIXES)} and DICOM "
        "under any name)"
    )


def _suffix(path: Path) -> str:
    return path.suffix or "(no suffix)"


def _one_class_folder(root: Path) -> bool:
    """Whether ``root`` (a folder of loose images) sits beside other folders of images, as a
    class folder among its classes does."""
    from medadapt.data.image_io import file_format

    try:
        others = [d for d in root.parent.iterdir()
                  if d.is_dir() and d != root and not d.name.startswith(".")]  # fmt: skip
        return any(any(p.is_file() and file_format(p) for p in d.iterdir()) for d in others)
    except OSError:
        return False


def folder_entries(root: Path, on_error: str = "raise") -> list[Entry]:
    """The files of class folder ``root`` (hidden files and :data:`IGNORED_NAMES` passed
    over); one of an unknown type is refused unless ``on_error`` is "skip"."""
    from medadapt.data.image_io import file_format

    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        loose = [p for p in root.iterdir() if p.is_file() and file_format(p)]
        if loose:
            if _one_class_folder(root):  # a trial pointed at folder_B/normal by mistake
                raise DataError(
                    f"{root} holds images but no class sub-folders, and looks like the folder "
                    f"of one class ({root.name!r}) beside others: name its parent folder, "
                    f"{root.parent}, which has one sub-folder per class"
                )
            raise DataError(
                f"{root} holds images but no class sub-folders: put each class's images in "
                f"its own sub-folder ({root}/<class>/...) or list them in a CSV of path,label"
            )
        raise DataError(
            f"{root} is empty: add one sub-folder per class with that class's images in it"
        )
    refuse_nested_classes(root, class_dirs)
    entries = []
    for class_dir in class_dirs:
        files = sorted(
            p
            for p in class_dir.rglob("*")
            if p.is_file()
            and p.name.lower() not in IGNORED_NAMES
            and not any(part.startswith(".") for part in p.relative_to(class_dir).parts)
        )
        if not files:
            raise DataError(
                f"class folder {class_dir} has no files: add its images or remove the folder"
            )
        fmts = [format_or_fail(p, "", on_error) for p in files]
        entries += [Entry(p, class_dir.name, None, fmt) for p, fmt in zip(files, fmts, strict=True)]
    return entries


def refuse_nested_classes(root: Path, class_dirs: Sequence[Path]) -> None:
    """Refuse class folders that each hold no file but the same sub-folders, two or more
    (``both/hospA/{normal,lesion}``, ``both/hospB/{normal,lesion}``): the classes are a level
    down, and reading ``root`` so would train a hospA-vs-hospB model. Sub-folders of their own
    (one per patient or series, named differently under each class, or numbered alike: ``s0``,
    ``series1``, a UID, a patient number; class names hold no digit) are read as before."""
    if len(class_dirs) < 2:
        return
    shared: set[str] | None = None
    for class_dir in class_dirs:
        inside = [p for p in class_dir.iterdir() if not _passed_over(p.name)]
        if any(not p.is_dir() for p in inside):
            return  # files of its own: a class folder
        names = {p.name for p in inside}
        shared = names if shared is None else shared & names
    if shared is None or len(shared) < 2 or any(ch.isdigit() for name in shared for ch in name):
        return  # no shared names, or numbered ones: series or patients, not classes
    first = class_dirs[0]
    held = [p.name for p in sorted(first.iterdir()) if p.name in shared]
    shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
    raise DataError(
        f"{first.name!r} holds sub-folders {shown}, as does every other folder in {root}: did "
        f"you mean --data {shlex.quote(str(first))}? (classes are the folders directly under "
        "--data); to train on the images of all of them, list them in a CSV of "
        "path,label,group and pass it as --data"
    )


def _passed_over(name: str) -> bool:
    """Whether a file or folder of this name is never read (hidden, or an OS's own)."""
    return name.startswith(".") or name.lower() in IGNORED_NAMES


def left_out_note(root: Path) -> str | None:
    """The warning naming, by suffix, the files of class folder ``root`` that
    :func:`folder_entries` does not read: files beside the class sub-folders (no class) and
    links to nothing; None when there are none (or ``root`` is no folder)."""
    if not root.is_dir():
        return None
    kinds: Counter[str] = Counter()
    for path in root.iterdir():
        if path.name.startswith(".") or path.name.lower() in IGNORED_NAMES or path.is_dir():
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


def hidden_images_note(root: Path) -> str | None:
    """The warning counting, by suffix, the image files of folder ``root`` that are not read
    for being hidden (their name, or a folder's above them, starts with "."); macOS's
    ``._`` files beside images hold no image and are not counted. None when there are none
    (or ``root`` is no folder)."""
    from medadapt.data.image_io import SUFFIXES

    if not root.is_dir():
        return None
    kinds: Counter[str] = Counter()
    for folder, _, files in os.walk(root):
        hidden_folder = any(p.startswith(".") for p in Path(folder).relative_to(root).parts)
        for name in files:
            image = next((s for s in SUFFIXES if name.lower().endswith(s)), None)
            if image and not name.startswith("._") and (hidden_folder or name.startswith(".")):
                kinds[image] += 1
    if not kinds:
        return None
    total = kinds.total()
    said = ", ".join(f"{n} {suffix}" for suffix, n in sorted(kinds.items()))
    files, were, named, it = (
        ("file", "was", "its name, or a folder above it, starts", "it") if total == 1
        else ("files", "were", "their names, or folders above them, start", "them")
    )  # fmt: skip
    return (
        f"{total} hidden image {files} in {root} {were} not read ({said}; {named} with '.'): "
        f"rename or move {it} to use {it}"
    )


def _kind(kind: str, n: int) -> str:
    """``kind`` (a suffix such as ``.txt``, or words) for ``n`` files: ``2 broken links``."""
    if n == 1 or kind.startswith("."):
        return kind
    return {"file without suffix": "files without suffix"}.get(kind, kind + "s")


#: a path CSV's usual column for what each flag names (the loaders' defaults)
DEFAULT_COLUMNS = {"--path-column": "path", "--label": "label"}


def csv_entries(
    csv: Path,
    path_column: str,
    label_column: str,
    group_column: str | None,
    id_column: str | None = None,
    on_error: str = "raise",
) -> list[Entry]:
    import pandas as pd

    from medadapt.data.image_io import describe_error

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
    for column, flag, holding in ((path_column, "--path-column", "the image paths"),
                                  (label_column, "--label", "the labels")):  # fmt: skip
        if column not in table.columns:
            named = f", or pass {flag} naming the column of {holding}" if takes(flag) else ""
            usual = DEFAULT_COLUMNS[flag]
            if takes(flag) and usual in table.columns and not did_you_mean(column, table.columns):
                named = f", or pass {flag} {usual} (its column {usual!r})"  # a trial's --label
            raise DataError(
                f"{csv} has no column {column!r}{did_you_mean(column, table.columns)} (it has "
                f"{have}): name the columns path,label[,group]{named}"
            )
    if wanted_group is not None and wanted_group not in table.columns:
        raise DataError(
            f"{csv} has no group column {wanted_group!r}{did_you_mean(wanted_group, table.columns)}"
            f" (it has {have}): pass --group-column naming the column that holds the site or "
            "group"
        )
    if id_column is not None and id_column not in table.columns:
        raise DataError(
            f"{csv} has no patient id column {id_column!r}{did_you_mean(id_column, table.columns)}"
            f" (it has {have}): pass the column that holds the patient id (--id-column), or "
            "leave it out to split by file"
        )
    if table.empty:
        raise DataError(f"{csv} has no rows: add one row per image (path,label)")
    entries = []
    labels: dict[str, tuple[str, int]] = {}
    groups: dict[str, tuple[str, int]] = {}
    patients: dict[str, tuple[str, int]] = {}
    rows: dict[str, tuple[str, list[int]]] = {}  # each file as first written, and its rows
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
        _check_listed_once(labels, path, label, number, csv, given="labelled",
                           fix=": give each image one label")  # fmt: skip
        if group is not None:  # kept as first listed, the other group lost its rows unsaid
            _check_listed_once(groups, path, group, number, csv, given="listed with",
                               fix=IN_COLUMN.format("group column", wanted_group))  # fmt: skip
        if subject is not None:
            _check_listed_once(patients, path, subject.removeprefix("id:"), number, csv,
                               given="listed with",
                               fix=IN_COLUMN.format("patient id column", id_column))  # fmt: skip
        listed = rows.setdefault(os.path.normpath(path), (raw_path, []))[1]
        listed.append(number)
        if len(listed) > 1:  # the same file again, of the same class: read once
            continue
        fmt = format_or_fail(path, line, on_error)
        entries.append(Entry(path, label, group, fmt, subject, where=line))
    if not any(entry.path.exists() for entry in entries):  # stops at the first found
        raise none_found(csv, str(table[path_column].iloc[0]).strip(), len(entries))
    repeated = dict(listed for listed in rows.values() if len(listed[1]) > 1)
    notes = [listed_again_note(csv, repeated), other_label_note(csv, table, label_column)]
    return entries, [n for n in notes if n]


def other_label_note(csv: Path, table: Any, label_column: str) -> str | None:
    """Where ``--label`` names another column while the CSV's ``label`` column holds classes:
    a trial's ``--label site`` trained a model to tell the sites apart without a word (adapt
    then named the column to pass). None where the labels are ``label``'s, or it holds one
    value."""
    usual = DEFAULT_COLUMNS["--label"]
    if label_column == usual or usual not in table.columns:
        return None
    classes = sort_labels([str(v).strip() for v in table[usual] if str(v).strip()])
    if len(classes) < 2:
        return None
    shown = ", ".join(classes[:4]) + (f" and {len(classes) - 4} more" if len(classes) > 4 else "")
    return (
        f"{csv}: the classes are read from column {label_column!r} (--label), but its column "
        f"{usual!r} holds {len(classes)} classes too ({shown}): if those are what the model "
        f"should predict, pass --label {usual}"
    )


def listed_again_note(csv: Path, repeated: dict[str, list[int]]) -> str | None:
    """The note for the files path CSV ``csv`` lists more than once (``repeated``: each as
    written, with its lines, the header being line 1, as the CSV's other messages count
    them): each is read once, so that it is neither
    trained on twice nor scored twice; the first named with its rows (a path in the user's own
    data, as a file left out is named). None when there is none."""
    if not repeated:
        return None
    path, numbers = next(iter(repeated.items()))
    times = "twice" if len(numbers) == 2 else f"{len(numbers)} times"
    where = f"lines {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"
    if len(repeated) == 1:
        return f"{path} is listed {times} in {csv.name} ({where}): it is read once"
    return (
        f"{len(repeated)} images are listed more than once in {csv.name} (first: {path}, "
        f"listed {times}, {where}): each is read once"
    )


def none_found(csv: Path, first: str, n: int) -> DataError:
    """The refusal of path CSV ``csv`` none of whose ``n`` files exists (``first``: the first
    path as written): where a relative path was looked for, not "file not found" per file, or
    "none could be read; check the files' format"."""
    listed = (f"the one image file listed in {csv} was not found" if n == 1
              else f"none of the {n} image files listed in {csv} was found")  # fmt: skip
    windows = windows_separators(first)
    if windows is not None:
        return DataError(f"{listed} (first: {first}): {windows}")
    if Path(first).is_absolute():
        return DataError(f"{listed} (first: {first}): check the paths")
    folder = csv.parent.resolve()
    return DataError(
        f"{listed}: relative paths are read from the CSV's folder, {folder} (first: {first}, "
        f"looked for as {folder / first}); write the paths relative to that folder, or as "
        "absolute paths"
    )


def windows_separators(path: str) -> str | None:
    """What to do about a listed path written with Windows' ``\\`` between its folders
    (``newB\\normal\\n000.png``), which is read as one file name here; None when it has
    none (or where ``\\`` does separate folders).

    >>> windows_separators("a/b.png")
    >>> windows_separators("newB\\\\normal\\\\n000.png")[:59]
    "its paths use '\\\\' between folders (as Windows writes them),"
    """
    if "\\" not in path or os.sep == "\\":
        return None
    return (
        "its paths use '\\' between folders (as Windows writes them), but must use '/' "
        f"(write {path.replace(chr(92), '/')!r}, and the others alike)"
    )


TABLE_SUFFIXES = (".csv", ".tsv")


def is_path_csv(source: Path) -> bool:
    """Whether ``source`` is a table of image paths (a ``.csv`` or ``.tsv`` file)."""
    return source.is_file() and source.suffix.lower() in TABLE_SUFFIXES


def missing_refusal(csv: Path, paths: Sequence[Path]) -> str | None:
    """Why path CSV ``csv``, some of whose listed ``paths`` (as read: relative ones joined to
    its folder) do not exist, is refused: how many, the first, and where a relative path was
    looked for (not "file not found" for the first alone); None when every one exists (the
    file missing was another: the caller's own refusal says which)."""
    missing = [path for path in paths if not path.exists()]
    if not missing:
        return None
    one = len(missing) == 1
    named = f"{missing[0]}" if one else f"first: {missing[0]}"
    if missing[0].is_relative_to(csv.parent):
        named += f"; relative paths are read from the CSV's folder, {csv.parent.resolve()}"
    does, its, it = ("does", "its path", "it") if one else ("do", "their paths", "them")
    skip = f", or pass --on-error skip to leave {it} out" if takes("--on-error") else ""
    return (
        f"{len(missing)} of {len(paths)} image files listed in {csv} {does} not exist "
        f"({named}): correct {its} or restore {it}{skip}"
    )


@dataclass(frozen=True)
class ImageNames:
    """A column of a table whose values are mostly image file names: ``n_names`` of the
    ``n_rows`` rows read (``every_row``: all the table's rows were)."""

    column: str
    n_names: int
    n_rows: int
    every_row: bool

    def advice(self) -> str:
        """Why the table is no table, and the two ways on, in words."""
        rows = f"the first {self.n_rows} rows" if not self.every_row else (
            f"{self.n_rows} row{'s' * (self.n_rows != 1)}")  # fmt: skip
        flag = shlex.quote(self.column)
        return (
            f"column {self.column!r} holds image file names ({self.n_names} of {rows}): pass "
            f"--path-column {flag} to read the images, or --exclude {flag} to read the other "
            "columns as a table"
        )


def image_name_column(table: Path, leave_out: Collection[str] = ()) -> ImageNames | None:
    """The first column of CSV/TSV ``table`` (not in ``leave_out``) whose values are mostly
    (over half of its first :data:`NAME_ROWS` rows) image file names, such as a path CSV's
    path column under another name; None when there is none, or ``table`` is no CSV/TSV or
    cannot be read as one (its reader says why)."""
    name = table.name.lower()
    if not name.endswith(TABLE_SUFFIXES) or not table.is_file():
        return None
    counts: Counter[str] = Counter()
    n_rows, every_row = 0, True
    try:
        with open(table, newline="", encoding="utf-8", errors="replace") as handle:
            rows = csv_module.reader(handle, delimiter="\t" if name.endswith(".tsv") else ",")
            header = [h.strip().lstrip("\ufeff") for h in next(rows, [])]
            for row in rows:
                if n_rows == NAME_ROWS:
                    every_row = False
                    break
                n_rows += 1
                counts.update(column for column, value in zip(header, row, strict=False)
                              if value.strip().lower().endswith(IMAGE_NAME_SUFFIXES))  # fmt: skip
    except (OSError, csv_module.Error):
        return None
    for column in header:
        if column not in leave_out and 2 * counts[column] > n_rows:
            return ImageNames(column, counts[column], n_rows, every_row)
    return None


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


def _check_listed_once(
    seen: dict[str, tuple[str, int]],
    path: Path,
    value: str,
    number: int,
    csv: Path,
    *,
    given: str,
    fix: str,
) -> None:
    """Refuse a file the CSV lists again with another value (``seen``: each file's first value
    and line, filled here): another label (``given`` "labelled"), or another group or patient
    id ("listed with", ``fix`` naming the column): a trial's image listed under sites B and C
    was read once, as B's, and ``--group C`` was then told the column has no 'C'."""
    first = seen.setdefault(os.path.normpath(path), (value, number))
    if first[0] != value:
        raise DataError(
            f"{os.path.normpath(path)} is {given} {first[0]!r} (line {first[1]} of {csv}) and "
            f"{value!r} (line {number}){fix}"
        )


IN_COLUMN = " in its {} {!r}: an image belongs to one; correct the CSV"
"""Where a path CSV's image listed with two groups or two patient ids has them, and what to
do (``IN_COLUMN.format("group column", "site")``)."""


def sort_labels(labels: Sequence[str]) -> list[str]:
    """Distinct labels, numerically when all are integers ("2" < "10"), else alphabetically."""
    distinct = set(labels)
    if all(re.fullmatch(r"-?\d+", label) for label in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)
