"""Labels for images from a PACS: a CSV keyed by DICOM UIDs, joined to the fetched files.

The labels CSV (``--labels``) has a ``StudyInstanceUID``, ``SeriesInstanceUID`` or
``SOPInstanceUID`` column (the finest one present is the key) and the label, group and patient
id columns, e.g. ``StudyInstanceUID,label,site``. :func:`write_path_csv` joins it to the
downloaded instances (:func:`medadapt.data.dicomweb.download`) as an ordinary path CSV
(``path,<the labels CSV's columns>``, paths relative to it, rows in path order), which the
local image readers read as any other: the same preprocessing, splits and content keys as for
files on disk, and the same CSV bytes (so the same source digest) for the same labels and
images. Values of the table are never printed: messages name lines, columns and UIDs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from medadapt.data.dicomweb import Instance, check_uid
from medadapt.errors import DataError
from medadapt.fileio import atomic_write_bytes

KEYS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID")  # the finest first
FLAG = "--labels"
CSV_NAME = "dicomweb.csv"
FILLED = ("--label", "--id-column")  # columns a path CSV refuses empty (checked before fetching)


@dataclass(frozen=True)
class LabelTable:
    """A labels CSV: its columns, its key column and the rows by key value."""

    path: Path
    columns: tuple[str, ...]
    key: str
    rows: dict[str, dict[str, str]]
    studies: tuple[str, ...]  # the StudyInstanceUID values, in order ((): no such column)

    def only(self, column: str, groups: Sequence[str]) -> LabelTable:
        """The rows whose ``column`` is one of ``groups`` (spaces around a value ignored, as
        the group column is read), with their studies: what a command on those groups
        fetches (a trial's adapt on site C fetched every site's 40 studies from the PACS);
        the table itself where none is (the reader then says which groups there are)."""
        wanted = {str(group).strip() for group in groups}
        rows = {uid: row for uid, row in self.rows.items()
                if str(row.get(column, "")).strip() in wanted}  # fmt: skip
        if not rows or len(rows) == len(self.rows):
            return self
        uids = [str(row["StudyInstanceUID"]).strip() for row in rows.values()
                if "StudyInstanceUID" in row]  # fmt: skip
        return replace(self, rows=rows, studies=tuple(dict.fromkeys(uids)) if self.studies else ())

    def row_of(self, instance: Instance) -> dict[str, str] | None:
        uid = {
            "SOPInstanceUID": instance.sop_uid,
            "SeriesInstanceUID": instance.series_uid,
            "StudyInstanceUID": instance.study_uid,
        }[self.key]
        return self.rows.get(uid)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{FLAG} {path} does not exist; check the path")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        header = str(table.columns[0]) if len(table.columns) == 1 else ""
        other = next((s for s in (";", "\t", ",") if s != sep and s in header), None)
        if other is not None:  # an Excel export in a decimal-comma locale: StudyInstanceUID;label
            table = pd.read_csv(path, sep=other, dtype=str, keep_default_na=False)
        return table
    except Exception as exc:
        raise DataError(
            f"cannot read {FLAG} {path} as a table ({type(exc).__name__}): save it as a CSV "
            "with a header row such as StudyInstanceUID,label"
        ) from None


def read_labels(path: str | Path, *, columns: Sequence[tuple[str, str | None]] = ()) -> LabelTable:
    """The labels CSV at ``path``; ``columns``: ``(flag, column)`` pairs it must have (None:
    not asked for), e.g. ``[("--label", "label"), ("--group-column", "site")]``."""
    path = Path(path)
    table = _read(path)
    have = ", ".join(map(str, table.columns))
    keys = [k for k in KEYS if k in table.columns]
    if not keys:
        raise DataError(
            f"{FLAG} {path} has no StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID column "
            f"(it has {have}): add the UID of the study, series or image each row labels"
        )
    for flag, column in columns:
        if column is not None and column not in table.columns:
            raise DataError(
                f"{FLAG} {path} has no column {column!r} (it has {have}): pass {flag} naming "
                "one of its columns"
            )
    if "path" in table.columns:
        raise DataError(
            f"{FLAG} {path} has a 'path' column, but images from a PACS are named by their "
            "UIDs: drop or rename the column"
        )
    if table.empty:
        raise DataError(f"{FLAG} {path} has no rows: add one row per study, series or image")
    _refuse_a_repeated_uid_column(table, keys, path)
    key, rows, lines = keys[0], {}, {}
    filled = [column for flag, column in columns if flag in FILLED and column is not None]
    for number, row in enumerate(table.to_dict("records"), start=2):  # the header is line 1
        for column in keys:
            row[column] = _uid(row[column], column, number, path)
        for column in filled:
            _check_filled(row[column], column, number, path)
        uid = row[key]
        if uid in rows:
            raise DataError(
                f"{key} {uid} is on lines {lines[uid]} and {number} of {FLAG} {path}: keep one "
                "row per UID"
            )
        rows[uid], lines[uid] = row, number
    studies = tuple(dict.fromkeys(table["StudyInstanceUID"].str.strip())) if (
        "StudyInstanceUID" in table.columns) else ()  # fmt: skip
    return LabelTable(path, tuple(map(str, table.columns)), key, rows, studies)


def _refuse_a_repeated_uid_column(table: pd.DataFrame, keys: Sequence[str], path: Path) -> None:
    """Refuse a UID column that repeats a coarser one on every row (SeriesInstanceUID written
    with each study's UID): no series, or image, has its study's UID, so no image would match,
    found only after every image was fetched (a trial's 40)."""
    nouns = {"SOPInstanceUID": "image", "SeriesInstanceUID": "series"}
    for i, finer in enumerate(keys):  # KEYS: the finest first
        for coarser in keys[i + 1 :]:
            mine, theirs = table[finer].str.strip(), table[coarser].str.strip()
            if bool(((mine != "") & (mine == theirs)).all()):  # blank: its own refusal
                raise DataError(
                    f"{FLAG} {path}: column {finer!r} repeats {coarser!r} on every row, but "
                    f"each {nouns[finer]} has a UID of its own: fill in their own UIDs, or drop "
                    f"column {finer!r} to label by {coarser}"
                )


def _check_filled(value: str, column: str, line: int, path: Path) -> None:
    if not str(value).strip():
        raise DataError(f"empty {column!r} (line {line} of {FLAG} {path}): fill it or drop the row")


def _uid(value: str, column: str, line: int, path: Path) -> str:
    value = str(value).strip()
    if not value:
        raise DataError(f"empty {column!r} (line {line} of {FLAG} {path}): fill it or drop the row")
    try:
        return check_uid(value, column)
    except DataError:
        raise DataError(
            f"{column} on line {line} of {FLAG} {path} is not a DICOM UID (digits and dots, at "
            "most 64 characters): copy it from the PACS"
        ) from None


def write_path_csv(
    folder: str | Path,
    instances: Sequence[Instance],
    labels: LabelTable | None = None,
    *,
    path_columns: Sequence[str] = ("path",),
    source: str = "the PACS",
) -> tuple[Path, list[Instance]]:
    """``folder/dicomweb.csv`` listing ``instances`` (paths relative to ``folder``) with
    their labels row, and the instances it lists (those without a row are left out).
    ``path_columns``: the column(s) holding the path (a model's own besides ``path``)."""
    folder = Path(folder)
    if not instances:
        raise DataError(f"{source} holds no image for this reference: check --data")
    records, kept = [], []
    for instance in sorted(instances, key=lambda i: i.path):
        row = labels.row_of(instance) if labels is not None else {}
        if row is None:
            continue
        relative = instance.path.relative_to(folder).as_posix()
        records.append({**dict.fromkeys(path_columns, relative), **row})
        kept.append(instance)
    if not records:
        assert labels is not None
        raise DataError(
            f"none of the {len(instances)} images fetched from {source} has a row in {FLAG} "
            f"{labels.path} (matched by {labels.key}): check the UIDs, or --data"
        )
    columns = list(dict.fromkeys([*path_columns, *(labels.columns if labels else ())]))
    table = pd.DataFrame.from_records(records, columns=columns)
    out = folder / CSV_NAME
    atomic_write_bytes(
        out, table.to_csv(index=False, lineterminator="\n").encode(), mode=0o600
    )  # the patients' labels and ids: its owner's alone
    return out, kept
