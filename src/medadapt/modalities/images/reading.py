"""Reading labelled images for a model, choosing groups, the old classes' test images, and
the list of files that could not be read (recorded by path relative to the source).

Which images trained and tested a model: :mod:`medadapt.modalities.images.splits`.
"""

from __future__ import annotations

import shlex
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.image_files import (
    check_known_labels,
    check_label_column,
    label_counts,
    peek_labels,
)
from medadapt.data.image_schema import ImageSchema
from medadapt.data.images import (
    ImageDataset,
    SkippedFilesWarning,
    WindowWithoutValues,
    load_images,
)
from medadapt.errors import ConfigError, DataError
from medadapt.modalities.images.classes import refuse_respelt, spelt_alike
from medadapt.wording import noun_for

ON_ERROR = ("refuse", "skip")


@dataclass(frozen=True, kw_only=True)
class ImageRead:
    """How ``train-base`` reads its images (later jobs read them as the schema says)."""

    image_size: int = 224
    channels: int | None = None
    spatial_dims: int = 2
    window: str | tuple[float, float] | None = None
    slice_axis: int = 2
    slices: str | int = "middle"
    split: str = "train"
    spacing: str | tuple[float, float, float] | None = "auto"
    bits_stored: int | None = None  # 16-bit pictures divided by 2**bits_stored - 1
    path_column: str = "path"
    label_column: str = "label"
    group_column: str | None = None
    id_column: str | None = None  # a path CSV's patient id column
    classes: tuple[str, ...] | None = None  # class order, or an .npz's label names
    on_error: str = "refuse"

    def load(self, data: Path) -> ImageDataset:
        """``data`` read with these options (skipped files in ``dataset.skipped``, no warning)."""
        check_on_error(self.on_error)
        return quiet_load(
            data,
            image_size=self.image_size,
            channels=self.channels,
            spatial_dims=self.spatial_dims,
            window=self.window,
            slice_axis=self.slice_axis,
            slices=self.slices,
            spacing=self.spacing,
            bits_stored=self.bits_stored,
            split=self.split,
            path_column=self.path_column,
            label_column=self.label_column,
            group_column=self.group_column,
            id_column=self.id_column,
            classes=self.classes,
            on_error=self.on_error,
        )


def check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR:
        raise ConfigError(f"--on-error must be refuse or skip, got {on_error!r}")


def quiet_load(data: Path, **options: Any) -> ImageDataset:
    """``load_images`` without the SkippedFilesWarning: the jobs return the skipped files and
    the command line prints each one once. Blank files (every pixel one value) are refused, or
    left out with ``on_error="skip"``: they teach a model nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        return load_images(data, **{"keep_blank": False, **options})


def skipped_record(data: Path, skipped: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """``[{"path", "reason"}]`` with paths relative to the source's folder (where possible)."""
    root = Path(data) if Path(data).is_dir() else Path(data).parent
    out = []
    for path, reason in skipped:
        try:
            shown = str(Path(path).relative_to(root))
        except ValueError:
            shown = str(path)
        out.append({"path": shown, "reason": reason})
    return out


def select_groups(
    dataset: ImageDataset, values: Sequence[str] | None, *, option: str
) -> np.ndarray:
    """Indices of the samples whose group is one of ``values`` (all without values)."""
    if not values:
        return np.arange(len(dataset))
    if dataset.groups is None:
        raise DataError(
            f"{option} needs a CSV with a group column: pass --group-column COL naming the "
            "column that holds the site or group"
        )
    present = np.asarray(dataset.groups, dtype=str)
    missing = [v for v in values if v not in set(present.tolist())]
    if missing:
        raise DataError(
            f"{option}: {noun_for(len(missing), 'group')} {', '.join(map(repr, missing))} not "
            f"found in the group column; it has: {', '.join(sorted(set(present.tolist())))}"
        )
    return np.flatnonzero(np.isin(present, list(values)))


def _check_npz_labels(data: Path, split: str, classes: Sequence[str], hint: str) -> None:
    if data.suffix.lower() != ".npz":
        return
    try:
        with np.load(data, allow_pickle=False) as archive:
            labels = np.asarray(archive[f"{split}_labels"])
    except Exception:
        return  # load_images names the problem
    if labels.size and int(labels.max()) >= len(classes):
        raise DataError(
            f"{data} has label index {int(labels.max())} but the model knows {len(classes)} "
            f"classes {list(classes)}: {hint}"
        )


def csv_columns(data: Path) -> list[str]:
    """The header of a path CSV (read once); empty for a folder or an archive."""
    from medadapt.data.image_files import _table

    data = Path(data)
    if not data.is_file() or data.suffix.lower() not in (".csv", ".tsv"):
        return []
    return [str(c) for c in _table(data, nrows=0).columns]


def column_by_file(
    data: Path, column: str, path_column: str, files: Sequence[str]
) -> np.ndarray | None:
    """The value of ``column`` of path CSV ``data`` for each of ``files`` (paths as the
    reader names them: relative ones joined to the CSV's folder), each file's first row's;
    None where ``data`` is no path CSV, has no such column, or does not list a file."""
    from medadapt.data.image_files import _table
    from medadapt.data.image_sources import is_path_csv

    if not is_path_csv(Path(data)):
        return None
    table = _table(Path(data))
    if column not in table.columns or path_column not in table.columns:
        return None
    by_file: dict[str, str] = {}
    for listed, value in zip(table[path_column], table[column], strict=True):
        path = Path(listed.strip())
        path = path if path.is_absolute() else Path(data).parent / path
        by_file.setdefault(str(path), value.strip())
    if any(file not in by_file for file in files):
        return None
    return np.asarray([by_file[file] for file in files], dtype=str)


#: words a column naming the patient has (an ``image_id`` names the image, not the patient)
PATIENT_WORDS = ("patient", "subject", "mrn", "person")


def patient_column(columns: Sequence[str], taken: Sequence[str | None]) -> str | None:
    """The column of a path CSV (its ``columns``) that names the patient when the base model
    recorded none (``patient``, ``PatientID``, ``subject_id``, ``mrn``): a patient's images
    then stay on one side of a split. None when there is none (or several)."""
    from medadapt.data.identifiers import name_looks_like_identifier

    found = [c for c in columns
             if c not in taken and name_looks_like_identifier(c)
             and any(word in c.lower() for word in PATIENT_WORDS)]  # fmt: skip
    return found[0] if len(found) == 1 else None


def with_patient_column(read: ImageRead, data: Path) -> tuple[ImageRead, list[str], list[str]]:
    """``(read, warnings, notes)``: ``read`` with the path CSV's patient column (``patient``,
    ``PatientID``, ...) when no ``--id-column`` was given, and a note saying so (what is
    meant, no warning: said once the data are read, not before a refusal): split by file, a
    patient's images would be on both sides and flatter the held-out test; the warnings
    about a column that only looks like one (none taken)."""
    if read.id_column is not None:
        return read, [], []
    taken = (read.path_column, read.label_column, read.group_column)
    column = patient_column(csv_columns(data), taken)
    if column is None:
        return read, repeated_column_notes(data, taken), []
    note = (
        f"images are kept together by column {column!r} of {Path(data).name} (it names the "
        "patient; --id-column COL names another): a patient's images stay on one side of any "
        "split and are resampled together in every interval"
    )
    return replace(read, id_column=column), [], [note]


PATIENT_ROLE = "names each image's patient (the column that keeps a patient's images together)"
PATH_ROLE = "holds the image files' paths"


def refuse_identifier_label(read: ImageRead, data: Path) -> None:
    """Refuse a new base's label column of a path CSV that names the patients or the files
    rather than a finding (``--label patient``, ``--label path``, a column of ids): a model
    would learn to tell them apart and keep their ids as its class names, in ``model.json`` and
    on the terminal. Said before any image is read, never echoing a value, pointing to the
    columns that read as a finding (:func:`~medadapt.data.identifiers.outcome_columns`)."""
    from medadapt.data.identifiers import identifier_label_error, outcome_columns

    found = _identifier_label(Path(data), read.label_column, read.path_column,
                              read.group_column, read.id_column)  # fmt: skip
    if found is not None:
        table, reason, taken = found
        findings = outcome_columns(table.columns, taken)
        raise DataError(identifier_label_error(read.label_column, reason, findings))


def refuse_identifier_label_for_model(
    data: Path,
    classes: Sequence[str],
    labels: Sequence[str] | None,
    *,
    path_column: str,
    label_column: str,
    group_column: str | None,
    id_column: str | None,
) -> None:
    """Refuse a path CSV's label column for a model (``adapt``/``evaluate``/``check-data``
    ``--label patient``) most of whose values (``labels``) are none of the model's
    ``classes`` and that names the patients or the files: it is not the model's label, and
    "unknown labels, pass --new-classes" would echo a patient's id and advise making every
    patient a class. Points to the column that holds the model's classes, as a missing label
    column is (:func:`~medadapt.data.image_files.check_label_column`)."""
    unknown = set(labels or ()) - set(classes)
    if 2 * len(unknown) <= len(set(labels or ())):
        return
    found = _identifier_label(Path(data), label_column, path_column, group_column, id_column)
    if found is None:
        return
    table, reason, taken = found
    holding = [c for c in table.columns if c not in taken
               and (table[c].str.strip() != "").any()
               and set(table[c].str.strip()) - {""} <= set(classes)]  # fmt: skip
    fix = (f"its column {holding[0]!r} holds the model's classes: pass --label "
           f"{shlex.quote(holding[0])}" if holding else
           f"pass --label naming the column that holds the model's classes "
           f"({', '.join(map(repr, classes))})")  # fmt: skip
    raise DataError(
        f"--label {shlex.quote(label_column)}: column {label_column!r} of {Path(data).name} is "
        f"not the model's label: {len(unknown)} of its {len(set(labels or ()))} values are "
        f"not the model's classes, and it {reason}; {fix}"
    )


def _identifier_label(
    data: Path, column: str, path_column: str, group_column: str | None, id_column: str | None
) -> tuple[pd.DataFrame, str, tuple[str | None, ...]] | None:
    """``(the path CSV, why its column ``column`` names records, the columns that name
    something else)`` when ``data`` is a path CSV whose label column names the patients
    (``id_column``, or the column named for them), the files (``path_column``) or other
    records (:func:`~medadapt.data.identifiers.label_identifier_reason`); else None."""
    from medadapt.data.identifiers import label_identifier_reason
    from medadapt.data.image_files import _table
    from medadapt.data.image_sources import is_path_csv

    if not is_path_csv(data):
        return None
    table = _table(data)
    if column not in table.columns:  # the reader names the columns it has
        return None
    patient = id_column if id_column in table.columns else None
    patient = patient or patient_column(list(table.columns), (path_column, group_column))
    roles = {path_column: PATH_ROLE, **({patient: PATIENT_ROLE} if patient else {})}
    values = table[column].str.strip()
    reason = label_identifier_reason(column, values[values != ""].tolist(), noun="images",
                                     roles=roles)  # fmt: skip
    taken = (column, path_column, group_column, patient)
    return None if reason is None else (table, reason, taken)


def repeated_column_notes(data: Path, taken: Sequence[str | None]) -> list[str]:
    """A warning for each other column of a path CSV that may name the patient although its
    name does not say so (``pat``, ``case_no``): coded text values (``P001``; not site or body
    part names), or whole numbers under a name that looks like an identifier, most of them
    different but some on several rows (a patient's images; a DICOM UID names a study, series
    or image). Without ``--id-column`` each image is split on its own."""
    from medadapt.data.identifiers import name_looks_like_identifier
    from medadapt.data.image_files import _table

    data = Path(data)
    if not data.is_file() or data.suffix.lower() not in (".csv", ".tsv"):
        return []
    table = _table(data)
    n, notes = len(table), []
    for column in (c for c in table.columns if c not in taken and not c.endswith("UID")):
        values = table[column].str.strip()
        distinct = values[values != ""].nunique()
        numbers = pd.to_numeric(values, errors="coerce")
        coded = values.str.contains(r"\d").mean() >= 0.8  # P001, 12-345: codes, not "North"
        textual = numbers.isna().mean() > 0.5 and coded
        whole = not textual and bool((numbers.dropna() % 1 == 0).all())
        if not (textual or (whole and name_looks_like_identifier(str(column)))):
            continue
        if max(5, n // 10) <= distinct < n and (values != "").all():
            notes.append(
                f"column {column!r} of {data.name} repeats some of its values ({distinct} "
                f"values on {n} rows): if it names the patient, pass --id-column "
                f"{shlex.quote(str(column))} so that a patient's images stay on one side of "
                "every split; without it each image is split on its own, and a patient's "
                "other images would flatter the held-out test"
            )
    return notes


def copies_note(data: Path, dataset: ImageDataset) -> str | None:
    """A note counting the images that are byte-identical copies of others in ``dataset``
    (they stay with their original in every split; counted, never named), and the copies
    filed under another class than their original: a labelling error, whose first pair is
    named by path within ``data``'s folder (as a file left out is), with both classes."""
    keys = dataset.sample_keys() if dataset.keys else []
    copies = len(keys) - len(set(keys))
    if copies == 0:
        return None
    what = ("images of {} are byte-identical copies of others" if copies != 1
            else "image of {} is a byte-identical copy of another")  # fmt: skip
    note = (
        f"{copies} {what.format(Path(data).name)}: each stays on the same side of every split "
        "as the image it copies, and counts once per copy"
    )
    first: dict[str, int] = {}
    labels = dataset.y.tolist()
    relabelled = [(first[key], i) for i, (key, label) in enumerate(zip(keys, labels, strict=True))
                  if labels[first.setdefault(key, i)] != label]  # fmt: skip
    if relabelled:
        one = len(relabelled) == 1
        original, copy = relabelled[0]
        shown = [skipped_record(data, [(dataset.paths[i], "")])[0]["path"] if dataset.paths
                 else f"image {i}" for i in (copy, original)]  # fmt: skip
        if not Path(data).is_dir():  # a folder's path says the class; a CSV's does not
            shown = [f"{path} ({dataset.classes[labels[i]]!r})"
                     for path, i in zip(shown, (copy, original), strict=True)]  # fmt: skip
        pair = f"{shown[1]} and {shown[0]}"  # the same bytes: which is the copy, none can say
        note += (
            f"; {len(relabelled)} of them {'is' if one else 'are'} the same image as one of "
            f"another class ({'' if one else 'first: '}{pair}): a labelling error to fix "
            "(give each image one class)"
        )
    return note


def load_for_model(
    data: Path,
    schema: ImageSchema,
    classes: Sequence[str],
    *,
    split: str = "train",
    path_column: str | None = None,
    label_column: str | None = None,
    group_column: str | None = None,
    on_error: str = "refuse",
    hint: str,
) -> ImageDataset:
    """Labelled images read exactly as ``schema`` says, labelled by ``classes``. The group
    and patient id columns default to the schema's when the CSV has them."""
    check_on_error(on_error)
    options = schema.load_options()
    options["path_column"] = path_column or schema.path_column
    options["label_column"] = label_column or schema.label_column
    columns = csv_columns(data)
    if group_column is None and schema.group_column in columns:
        group_column = schema.group_column
    id_column = schema.id_column if schema.id_column in columns else None
    if id_column is None:
        taken = (options["path_column"], options["label_column"], group_column)
        id_column = patient_column(columns, taken)
    check_label_column(data, classes, path_column=options["path_column"],
                       label_column=options["label_column"])  # fmt: skip
    labels = peek_labels(
        data, path_column=options["path_column"], label_column=options["label_column"]
    )
    refuse_identifier_label_for_model(
        data, classes, labels, path_column=options["path_column"],
        label_column=options["label_column"], group_column=group_column,
        id_column=schema.id_column,
    )  # fmt: skip
    refuse_respelt(Path(data), labels, classes)
    counts = None  # each unknown label's images, counted only where one is refused
    if set(labels or ()) - set(classes):
        counts = label_counts(data, path_column=options["path_column"],
                              label_column=options["label_column"])  # fmt: skip
    check_known_labels(data, labels, classes, hint=hint, alike=spelt_alike, counts=counts,
                       flagged=[c for c in classes if c not in schema.classes])  # fmt: skip
    _check_npz_labels(Path(data), split, classes, hint)
    try:
        dataset = quiet_load(
            data,
            **options,
            classes=list(classes),
            split=split,
            group_column=group_column,
            id_column=id_column,
            on_error=on_error,
        )
    except WindowWithoutValues:
        level, width = schema.window
        raise DataError(
            f"the base model reads CT values through a window (level {level:g}, width {width:g}), "
            f"but {data} holds only PNG/JPEG pictures, on another scale: pass the DICOM or "
            "NIfTI images as --data"
        ) from None
    schema.check(dataset, str(data))
    dataset.source["id_column"] = id_column  # a column's name, never its values
    return dataset


def group_column_used(
    group_column: str | None, schema: ImageSchema, dataset: ImageDataset
) -> str | None:
    """The group column :func:`load_for_model` read: the one asked for, else the schema's
    when the data had it."""
    return group_column or (schema.group_column if dataset.groups is not None else None)
