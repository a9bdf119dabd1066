"""Load labelled medical images into one tensor: folders, path CSVs, DICOM, NIfTI, MedMNIST.

Sources (``load_images(source, ...)``):

* a **folder** with one sub-folder per class (``root/<class>/**/<file>``); files may be PNG,
  JPEG, DICOM (``.dcm``/``.dicom``, or any other name whose first bytes are DICOM's, with or
  without the 128-byte preamble; compressed transfer syntaxes are decoded, see
  :mod:`medadapt.data.dicom_files`) or NIfTI (``.nii``/``.nii.gz``); hidden files, Thumbs.db
  and desktop.ini are ignored, any other file is unreadable (skipped or refused, below);
* a **CSV** with columns ``path,label[,group]`` (paths relative to the CSV's folder);
* a **MedMNIST** ``.npz`` (``{train,val,test}_images`` / ``_labels``; 2D or 3D, gray or RGB).

Every image ends as float32 in [0, 1] (see :mod:`medadapt.data.intensity` for the exact
scaling: fixed for 8/16-bit pictures, CT windows, DICOM's own window, else min-max;
MONOCHROME1 inverted), with 1 or 3 channels, resampled to a voxel spacing (NIfTI, DICOM
series; see :mod:`medadapt.data.image_io`) and resized with MONAI to ``image_size`` per side.
Volumes become one 2D sample per selected slice (``spatial_dims=2``) or a cube
(``spatial_dims=3``; single-frame DICOM files of one series are stacked, see
:mod:`medadapt.data.dicom_series`). Files that cannot be read are skipped and reported
(``on_error="skip"``, a warning and ``dataset.skipped``) or refused (``on_error="raise"``, also
spelt ``"refuse"``). What pydicom and its decoders log or warn while reading never reaches the
terminal as such: each becomes a one-line note (``dataset.notes``, logged once to
``medadapt.notes``; see :mod:`medadapt.data.reader_notes`). What the data cannot support as
read (12-bit values in 16-bit pictures, DICOM CT not in Hounsfield units, images far smaller
than ``image_size``) is one line each in ``dataset.warnings``, for the caller to say.

Every sample has a **key**: a hash of its file's bytes (of a series' files; of the array for an
``.npz`` sample), plus ``#<slice>`` when a file gives several samples, and a **pixel key**: a
hash of its pixels as read, rounded to the 16-bit grid (``ImageDataset.pixel_keys``; the same
for a copy saved with other bytes: another PNG compression, an RGB copy of a gray image). Keys,
not positions, record which images trained a model, so the same image is recognised in any
source that holds it, by either key. Every sample also has a **patient**: the ``id_column`` of
a path CSV, else the DICOM PatientID (else SeriesInstanceUID), else its file; splits keep a
patient on one side.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from medadapt.data.image_dataset import (
    ImageDataset,
    SkippedFilesWarning,
    check_class_counts,
    describe_skipped,
)
from medadapt.data.image_io import ReadOptions
from medadapt.data.image_reading import read_all
from medadapt.data.image_schema import ImageSchema, source_digest  # noqa: F401 (re-exported)
from medadapt.data.image_sources import (
    UNKNOWN,
    Entry,
    csv_entries,
    folder_entries,
    sort_labels,
)
from medadapt.data.intensity import check_bits_stored, resolve_window
from medadapt.data.medmnist import load_npz
from medadapt.data.memory import check_memory
from medadapt.data.read_errors import skipped_kind
from medadapt.data.reader_notes import report_counted, report_notes
from medadapt.errors import ConfigError, DataError


def load_images(
    source: str | Path,
    *,
    image_size: int = 224,
    channels: int | None = None,
    spatial_dims: int = 2,
    window: str | tuple[float, float] | None = None,
    slice_axis: int = 2,
    slices: str | int = "middle",
    fit: str = "pad",
    spacing: str | tuple[float, float, float] | None = "auto",
    bits_stored: int | None = None,
    classes: Sequence[str] | None = None,
    split: str = "train",
    path_column: str = "path",
    label_column: str = "label",
    group_column: str | None = None,
    id_column: str | None = None,
    on_error: str = "skip",
    progress: Callable[[int, int], None] | None = None,
    keep_blank: bool = True,
    unwindowed_as_picture: bool = False,
) -> ImageDataset:
    """Load a labelled image folder, path CSV or MedMNIST ``.npz`` (see the module docstring).

    ``channels``: 1 or 3 (gray is repeated, colour becomes luma); None = what the images are
    (all gray -> 1, all colour -> 3, a mix is an error). ``window``: a CT preset name (see
    ``CT_WINDOWS``) or ``(level, width)``, for DICOM and NIfTI. ``slice_axis``/``slices``: which
    slices of a volume become 2D samples ("middle", "all" or an index). ``fit``: "pad" keeps the
    aspect ratio, "stretch" does not. ``spacing``: voxel size for NIfTI volumes and DICOM
    series before fitting: "auto" (isotropic, the longest physical side fits ``image_size``),
    ``(x, y, z)`` in mm, or None (voxel counts, as models saved before this option).
    ``bits_stored``: 16-bit pictures hold that many bits (12: values 0..4095) and are divided
    by ``2**bits_stored - 1``, not 65535 (a picture with a value above it is unreadable).
    ``classes``: a fixed class order (for a CSV/folder: the label values; for an .npz: names
    of labels 0..K-1); None = sorted labels. ``split``: the .npz split. ``group_column``: None
    = use a "group" column if the CSV has one. ``id_column``: the CSV's patient id column.
    ``progress(done, total)`` is called after each file. ``keep_blank``: False refuses blank
    files (every pixel one value: they teach nothing) as unreadable ones are refused, naming
    the first and how many, or leaves them out with ``on_error="skip"`` (listed in
    ``skipped``, said in ``warnings``); the command line reads training data so.
    ``unwindowed_as_picture``: a DICOM file without a window whose values are its stored ones
    is divided by the maximum of its bits stored, not min-max scaled (for a model trained on
    pictures: ``ImageSchema.load_options`` says so, as its ``read_options`` do for ``predict``
    and ``serve``).

    >>> ds = load_images("cases/", image_size=64, channels=1)  # doctest: +SKIP
    >>> ds.images.shape, ds.classes, ds.class_counts()  # doctest: +SKIP
    (torch.Size([40, 1, 64, 64]), ['benign', 'malignant'], {'benign': 22, 'malignant': 18})
    """
    _check_options(image_size, channels, spatial_dims, slice_axis, slices, fit, on_error, split)
    options = _read_options(
        image_size, spatial_dims, window, slice_axis, slices, fit, spacing, bits_stored
    )
    options = replace(options, unwindowed_as_picture=unwindowed_as_picture)
    if not isinstance(source, str | Path):  # a trial's list of file paths: a bare TypeError
        raise DataError(
            f"source must be one path (a folder, a path CSV, an .npz), not a "
            f"{type(source).__name__}: put the images in a folder (one sub-folder per class), "
            "or list them in a CSV with a path column and a label column"
        )
    root = _existing_source(Path(source))
    settings = _settings_record(options)
    if root.is_file() and root.suffix.lower() == ".npz":
        _check_columns(root, "an .npz archive", group_column, id_column)
        settings.pop("bits_stored")  # arrays: divided by their type's maximum (a base's
        # --bits-stored is for its PNGs; given for an .npz, ImageOptions.check refuses it)
        dataset = load_npz(root, split=split, channels=channels, classes=classes,
                           keep_blank=keep_blank, on_error=on_error, **settings)  # fmt: skip
        report_skipped(dataset.skipped, dataset.source["n_images"], "images")
        report_counted(dataset.conversions)
        return dataset
    if root.is_dir():
        _check_columns(root, "a folder", group_column, id_column)
    entries, kind, listed = _source_entries(
        root, path_column, label_column, group_column, id_column, on_error
    )
    _check_entries(root, entries, kind, options)
    check_memory(_least_samples(entries, options.spatial_dims), options.image_size,
                 options.spatial_dims, channels)  # fmt: skip
    class_list = _class_list(root, [e.label for e in entries], classes, label_column)
    dataset = read_all(
        root, entries, class_list, options, channels, on_error, progress, keep_blank=keep_blank
    )
    dataset.source = {"kind": kind, **dataset.source, **settings}
    dataset.warnings[:0] = listed  # said first: a file listed twice, read once
    check_class_counts(dataset, explicit_classes=classes is not None)
    report_skipped(dataset.skipped, len(entries))
    report_notes(dataset.notes)
    report_counted(dataset.conversions)
    return dataset


def _read_options(
    image_size: int,
    spatial_dims: int,
    window: str | tuple[float, float] | None,
    slice_axis: int,
    slices: str | int,
    fit: str,
    spacing: str | tuple[float, float, float] | None,
    bits_stored: int | None,
) -> ReadOptions:
    """The checked spacing and bits stored and the resolved CT window, with the other reading
    options."""
    spacing = check_spacing(spacing)
    return ReadOptions(
        spatial_dims=spatial_dims,
        window=resolve_window(window),
        slice_axis=slice_axis,
        slices=slices,
        image_size=image_size,
        fit=fit,
        spacing=spacing,
        bits_stored=check_bits_stored(bits_stored),
    )


def _existing_source(root: Path) -> Path:
    """``root``, refused when it does not exist."""
    if not root.exists():
        raise DataError(
            f"{root} does not exist: pass a folder with one sub-folder per class, a CSV of "
            "path,label or a MedMNIST .npz file"
        )
    return root


def _settings_record(options: ReadOptions) -> dict[str, Any]:
    """The reading options as the dataset's source records them (JSON values)."""
    window, spacing = options.window, options.spacing
    return {
        "image_size": options.image_size,
        "spatial_dims": options.spatial_dims,
        "window": list(window) if window else None,
        "fit": options.fit,
        "slices": options.slices,
        "slice_axis": options.slice_axis,
        "spacing": list(spacing) if isinstance(spacing, tuple) else spacing,
        "bits_stored": options.bits_stored,
    }


def _source_entries(
    root: Path,
    path_column: str,
    label_column: str,
    group_column: str | None,
    id_column: str | None,
    on_error: str,
) -> tuple[list[Entry], str, list[str]]:
    """The files of a class folder or a path CSV, which of the two ``root`` is (a file of
    an unknown type is refused, or listed to be skipped when read: ``on_error``) and what is
    said of the list (a file a CSV lists twice: read once)."""
    if root.is_dir():
        return folder_entries(root, on_error), "folder", []
    if root.suffix.lower() in (".csv", ".tsv"):
        columns = (path_column, label_column, group_column, id_column)
        entries, notes = csv_entries(root, *columns, on_error=on_error)
        return entries, "csv", notes
    raise DataError(
        f"{root} is neither a folder, a .csv nor a .npz file: pass a folder with one "
        "sub-folder per class, a CSV of path,label or a MedMNIST .npz file"
    )


class WindowWithoutValues(ConfigError):
    """A CT window asked for pictures (PNG/JPEG) that hold no CT values to window."""


def _check_columns(root: Path, what: str, group_column: str | None, id_column: str | None) -> None:
    """Refuse a group or patient id column for a source without columns (``what``: a folder,
    an archive): silently ignored, it would leave sites mixed or a patient's images split."""
    if group_column is not None:
        raise ConfigError(
            f"group_column (--group-column) {group_column} names a column of a path CSV, but "
            f"{root} is {what}: list the images in a CSV of path,label,{group_column}, or drop "
            "the option"
        )
    if id_column is not None:
        raise ConfigError(
            f"id_column (--id-column) {id_column} names a column of a path CSV, but {root} is "
            f"{what}: list the images in a CSV with a patient id column, or drop the option"
        )


def _check_entries(root: Path, entries: list[Entry], kind: str, options: ReadOptions) -> None:
    """Refuse pictures for volumes, a CT window without DICOM/NIfTI."""
    if options.spatial_dims == 3 and any(e.fmt in ("png", "jpeg") for e in entries):
        first = next(e.path for e in entries if e.fmt in ("png", "jpeg"))
        raise DataError(
            f"{first} is a 2D picture but spatial_dims=3 needs volumes (NIfTI or multi-frame "
            "DICOM): pass --spatial-dims 2 or remove the pictures"
        )
    if options.window is not None and not any(e.fmt in ("dicom", "nifti") for e in entries):
        raise WindowWithoutValues(
            f"a CT window (--window) applies to DICOM and NIfTI values, but {root} holds only "
            "PNG/JPEG pictures: drop the window"
        )


def _least_samples(entries: Sequence[Entry], spatial_dims: int) -> int:
    """The fewest samples ``entries`` can give: one per file found (a volume's slices, read
    as 2D, give more), in 3D one for all the DICOM files (a series is one volume)."""
    found = [e for e in entries if e.fmt not in ("missing", UNKNOWN)]
    if spatial_dims != 3:
        return len(found)
    dicom = sum(e.fmt == "dicom" for e in found)
    return len(found) - dicom + min(dicom, 1)


def _check_options(
    image_size: int,
    channels: int | None,
    spatial_dims: int,
    slice_axis: int,
    slices: str | int,
    fit: str,
    on_error: str,
    split: str,
) -> None:
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ConfigError(f"image_size must be a positive integer, got {image_size=}")
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels must be 1, 3 or None (as the images are), got {channels=}")
    if spatial_dims not in (2, 3):
        raise ConfigError(f"spatial_dims must be 2 (images) or 3 (volumes), got {spatial_dims=}")
    if slice_axis not in (0, 1, 2):
        raise ConfigError(f"slice_axis must be 0, 1 or 2, got {slice_axis=}")
    if not (slices in ("middle", "all") or (isinstance(slices, int) and slices >= 0)):
        raise ConfigError(f"slices must be 'middle', 'all' or a slice index, got {slices=}")
    if fit not in ("pad", "stretch"):
        raise ConfigError(f"fit must be 'pad' or 'stretch', got {fit=}")
    if on_error not in ("skip", "raise", "refuse"):
        raise ConfigError(f"on_error must be 'skip' or 'raise' ('refuse'), got {on_error=}")
    if split not in ("train", "val", "test"):
        raise ConfigError(f"split must be 'train', 'val' or 'test', got {split=}")


def _class_list(
    root: Path, labels: list[str], classes: Sequence[str] | None, label_column: str
) -> list[str]:
    if classes is not None:
        class_list = [str(c) for c in classes]
        if len(set(class_list)) != len(class_list) or len(class_list) < 2:
            raise ConfigError(f"classes must be at least two distinct names, got {class_list}")
        unknown = sorted(set(labels) - set(class_list))
        if unknown:
            named = ", ".join(map(repr, class_list))  # (a trial read a Python list's repr)
            close = difflib.get_close_matches(unknown[0], class_list, n=1, cutoff=0.7)
            if close:  # a class name misspelt, not the data (a trial: 'nodlue' for 'nodule')
                raise DataError(
                    f"label {unknown[0]!r} in {root} is not one of the classes named ({named}): "
                    f"the class name {close[0]!r} looks like a misspelling of it; correct the "
                    "class names (--class-names; classes= in Python)"
                )
            raise DataError(
                f"label {unknown[0]!r} in {root} is not one of the classes named ({named}): "
                "add it to the class names (--class-names; classes= in Python) or remove those "
                "images"
            )
        return class_list
    class_list = sort_labels(labels)
    _check_spelling(root, class_list, label_column)
    if len(class_list) < 2:  # naming other classes (--class-names) gives them no images
        what, add = (
            ("class folder", "a sub-folder of images for each other class") if root.is_dir()
            else (f"value in column {label_column!r}", "rows for the other classes' images")
        )  # fmt: skip
        raise DataError(
            f"{root} has only one {what} ({class_list[0]!r}): a classifier needs at least two "
            f"classes; add {add}"
        )
    return class_list


def _check_spelling(root: Path, class_list: list[str], label_column: str) -> None:
    """Refuse labels that differ only in upper/lower case ('mass' and 'MASS'): two classes of
    a few images each, where the user meant one."""
    seen: dict[str, str] = {}
    for label in class_list:
        other = seen.setdefault(label.casefold(), label)
        if other != label:
            where = "the class folder names" if root.is_dir() else f"column {label_column!r}"
            first, second = sorted((other, label))
            raise DataError(
                f"{root} has labels {first!r} and {second!r}, which differ only in upper/lower "
                f"case: spell each class one way ({where}), or they become two classes"
            )


def check_spacing(spacing: Any) -> str | tuple[float, float, float] | None:
    """``"auto"``, None, or three positive voxel sizes in mm (as floats)."""
    if spacing is None or spacing == "auto":
        return spacing
    try:
        values = tuple(float(v) for v in spacing)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(v > 0 for v in values):
        raise ConfigError(
            f"spacing (--spacing) must be 'auto' or three positive sizes in mm like 1.5,1.5,2; "
            f"got {spacing!r}"
        )
    return values  # type: ignore[return-value]


def report_skipped(
    skipped: list[tuple[str, str]], total: int, counted: str = "image files"
) -> None:
    """Warn that ``skipped`` of ``total`` ``counted`` were left out: unreadable, or blank
    (every pixel one value), each kind counted (:func:`describe_skipped`)."""
    if not skipped:
        return
    if any(skipped_kind(reason) == "not an image" for _, reason in skipped):
        counted = "files"  # a notes.txt among them is no image file
    message = (
        f"skipped {len(skipped)} of {total} {counted}: {describe_skipped(skipped)}; the full "
        "list is in dataset.skipped"
    )
    warnings.warn(message, SkippedFilesWarning, stacklevel=3)
