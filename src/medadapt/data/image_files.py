"""Image sources around :func:`~medadapt.data.images.load_images`: peek at their labels
without reading pixels, read unlabelled images for prediction, split samples by patient.
(:func:`~medadapt.data.image_schema.is_image_source`, re-exported here, recognises a source.)
"""

from __future__ import annotations

import math
import shlex
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from medadapt.checks import did_you_mean
from medadapt.data.dicom_series import units_of
from medadapt.data.image_io import (
    MAX_UPSCALE,
    OptionError,
    ReadChecks,
    aspect_ratio,
    brightness_level,
    colour_to_gray,
    conversion_notes,
    describe_error,
    file_format,
    fit_size,
    image_look,
    is_blank,
    refusal,
    upscale,
)
from medadapt.data.image_io import to_channels as _to_channels
from medadapt.data.image_look import look_words, looks_note, times_text, unlike_look
from medadapt.data.image_reading import OWN_WINDOWS, UNUSED_BITS_STORED
from medadapt.data.image_schema import is_image_source  # noqa: F401 (re-exported)
from medadapt.data.image_sources import (
    IGNORED_NAMES,
    Entry,
    format_or_fail,  # a folder's file of an unknown type: refused by name, or left out
    is_path_csv,
    missing_refusal,
    none_found,
)
from medadapt.data.images import load_images
from medadapt.data.option_words import takes
from medadapt.data.read_errors import BLANK, ReadError
from medadapt.data.reader_notes import report_counted, report_notes
from medadapt.data.splits import stratified_split, too_few_left
from medadapt.errors import DataError
from medadapt.wording import plural

if TYPE_CHECKING:
    from medadapt.data.image_dataset import ImageDataset
    from medadapt.data.image_io import FileRead
    from medadapt.data.image_schema import ImageSchema


def _table(path: Path, nrows: int | None = None) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, nrows=nrows)
    except Exception as exc:
        raise DataError(
            f"cannot read {path} as a table ({describe_error(exc)}): save it as a CSV with a "
            "header row"
        ) from None


def peek_labels(
    source: str | Path, *, path_column: str = "path", label_column: str = "label"
) -> list[str] | None:
    """The distinct labels of a class folder or path CSV (no image is read); None for an
    ``.npz`` (its labels are indices) or an unlabelled source."""
    source = Path(source)
    if source.is_dir():
        return sorted(d.name for d in source.iterdir() if d.is_dir() and not d.name.startswith("."))
    if is_path_csv(source):
        table = _table(source)
        if label_column not in table.columns:
            return None
        return sorted({v.strip() for v in table[label_column] if v.strip()})
    return None


def label_counts(
    source: str | Path, *, path_column: str = "path", label_column: str = "label"
) -> dict[str, int] | None:
    """Per label of a class folder (its sub-folders' files) or path CSV (its rows), how many
    images it has (no image is read); None where :func:`peek_labels` finds no labels."""
    source = Path(source)
    labels = peek_labels(source, path_column=path_column, label_column=label_column)
    if labels is None:
        return None
    if source.is_dir():
        return {label: sum(1 for f in (source / label).rglob("*")
                           if f.is_file() and not f.name.startswith("."))
                for label in labels}  # fmt: skip
    column = _table(source)[label_column].str.strip()
    return {label: int((column == label).sum()) for label in labels}


def check_label_column(
    source: str | Path, classes: Sequence[str], *, path_column: str, label_column: str
) -> None:
    """Refuse a path CSV without the column ``label_column`` that the model's labels are
    read from, naming the column that holds the model's ``classes`` and how to read it: by
    ``--label`` where the command takes it, else by renaming (a CSV without the path column
    either is left to the reader, which names both)."""
    source = Path(source)
    if not is_path_csv(source):
        return
    table = _table(source)
    if label_column in table.columns or path_column not in table.columns:
        return
    holding = [c for c in table.columns if c != path_column
               and set(table[c].str.strip()) - {""} <= set(classes)
               and (table[c].str.strip() != "").any()]  # fmt: skip
    alike = "" if holding else did_you_mean(label_column, table.columns)
    said = (
        f"{source} has no label column {label_column!r}{alike} (it has {', '.join(table.columns)})"
    )
    if holding:
        said += f"; its column {holding[0]!r} holds the model's classes ({', '.join(classes)})"
        fix = (f"pass --label {shlex.quote(holding[0])}" if takes("--label")
               else f"rename column {holding[0]!r} to {label_column!r}")  # fmt: skip
    else:
        which = f"the column holding each image's class ({', '.join(classes)})"
        fix = (f"pass --label naming {which}" if takes("--label")
               else f"rename {which} to {label_column!r}")  # fmt: skip
    raise DataError(f"{said}: {fix}")


def check_known_labels(
    source: str | Path,
    labels: Sequence[str] | None,
    classes: Sequence[str],
    *,
    hint: str,
    alike: Callable[[str, str], bool] | None = None,
    counts: Mapping[str, int] | None = None,
    noun: str = "image",
    flagged: Sequence[str] = (),
) -> None:
    """Refuse labels outside ``classes``: one line naming the first, with how many ``noun``
    (images, or a label file's rows) it has where ``counts`` says, the fix ``hint``, and the
    class it is spelt like, by ``alike(label, class)`` (a typo, not a new class). Where that
    class is one of ``flagged`` (``--new-classes``), the typo is the flag's, not the data's
    (a trial's --new-classes cavty was told to rename its folder 'cavity')."""
    unknown = sorted(set(labels or ()) - set(classes))
    if unknown:
        like = [c for c in classes if alike is not None and alike(unknown[0], c)]
        if like and like[0] in flagged:
            n = (counts or {}).get(unknown[0])
            held = f"{noun}s" if n is None else plural(n, noun)
            raise DataError(
                f"--new-classes {like[0]!r} names no class of {source}, which has {held} "
                f"labelled {unknown[0]!r}, spelt like it: a typo in --new-classes? pass "
                f"--new-classes {shlex.quote(unknown[0])}"
            )
        typo = f" (spelt like {like[0]!r}: a typo?)" if like else ""
        if like:  # a typo's fix, not a new class (a trial's 'lesoin' was offered --new-classes)
            hint = (f"{'rename the folder' if Path(source).is_dir() else 'correct the label'} "
                    f"to {like[0]!r}")  # fmt: skip
        n = (counts or {}).get(unknown[0])
        images = f"{noun}s" if n is None else plural(n, noun)
        more = len(unknown) - 1
        others = f" (and {more} more unknown label{'s' if more > 1 else ''})" if more else ""
        unused = [c for c in classes if c not in set(labels or ())]
        if not set(labels or ()) & set(classes) and not like:  # another coding, not new ones
            shown = ", ".join(map(repr, unknown[:4])) + (", ..." if len(unknown) > 4 else "")
            theirs = ", ".join(map(repr, classes))
            hint = (f"if they name the model's classes otherwise ({shown} for {theirs}), "
                    f"rename them to the model's; {hint}")  # fmt: skip
        elif len(unknown) == 1 and len(unused) == 1 and not like:  # a trial's 'absent' for
            what = "the folder" if Path(source).is_dir() else "the label"  # 'normal'
            hint = (f"if {unknown[0]!r} is the model's {unused[0]!r} named otherwise, rename "
                    f"{what} to {unused[0]!r}; else {hint}")  # fmt: skip
        raise DataError(
            f"{source} has {images} labelled {unknown[0]!r}{typo}{others}, not one of the "
            f"model's classes {list(classes)}: {hint}"
        )


def read_one_slice(read: FileRead) -> bool:
    """Whether ``read`` is one slice of a volume (NIfTI, multi-frame DICOM), as a 2D model
    reads volumes."""
    return len(read.frames) == 1 and (read.frames[0] or 0) > 0


def one_slice_note(volumes: int, schema: ImageSchema, *, frame: int | None = None) -> list[str]:
    """That ``volumes`` volumes (NIfTI, multi-frame DICOM) were each scored on the one slice a
    2D model reads (a trial read 3D volumes into a 2D model, each judged on its middle slice
    without a word; the ``slice`` column alone said which). ``frame``: said of one volume, the
    slice it was scored on (a served answer's note, a stored report's caution)."""
    if not volumes:
        return []
    which = "the middle one" if schema.slices == "middle" else f"slice {schema.slices}"
    if frame is not None:
        return [f"this volume was scored on one slice, {which} (index {frame}), as this 2D model "
                "reads volumes: a finding on other slices is not seen"]  # fmt: skip
    one = volumes == 1
    return [
        f"{volumes} volume{'' if one else 's'} (NIfTI or multi-frame DICOM) read "
        f"{'was' if one else 'were'} scored on one slice each, {which}, as this 2D model reads "
        "volumes (column 'slice' says which): a finding on other slices is not seen"
    ]


def _unlabelled_entries(source: Path, path_column: str, on_error: str) -> tuple[list[Entry], int]:
    """The files to score (a table's paths, one file, or a folder's files) and, for a folder,
    how many of its links lead to no file (said, not silent). A folder's file of a type
    medadapt does not read (``notes.txt``) is refused by name, as a class folder's is, unless
    ``on_error`` is "skip": then it is left out when read, and listed with the files skipped.
    Hidden files and Thumbs.db/desktop.ini are passed over, as in class folders."""
    if is_path_csv(source):
        paths = _listed_paths(source, path_column)
        return [Entry(p, "", None, _listed_format(p)) for p in paths], 0
    if source.is_file():
        return [Entry(source, "", None, _listed_format(source))], 0
    files, broken = [], 0
    for p in sorted(source.rglob("*")):
        hidden = any(part.startswith(".") for part in p.relative_to(source).parts)
        if hidden or p.name.lower() in IGNORED_NAMES or p.is_dir():
            continue
        if p.exists():
            files.append(p)
        else:  # a link to nothing
            broken += 1
    if not any(file_format(p) for p in files):
        raise DataError(f"{source} holds no PNG, JPEG, DICOM or NIfTI file: add images")
    return [Entry(p, "", None, format_or_fail(p, "", on_error)) for p in files], broken


def _listed_format(path: Path) -> str:
    """The reader format of a file a table lists or ``--data`` names ("missing": none, or
    none that medadapt reads; reading it says which)."""
    return (file_format(path) if path.exists() else None) or "missing"


def _listed_paths(source: Path, path_column: str) -> list[Path]:
    """The image paths of a path CSV, relative ones to its folder."""
    table = _table(source)
    if path_column not in table.columns:
        raise DataError(
            f"{source} has no column {path_column!r}: name the image path column "
            "'path' or pass --path-column"
        )
    paths = []
    for line, value in enumerate(table[path_column], start=2):  # the header is line 1
        if not value.strip():  # a row left out would leave the output a row short
            raise DataError(
                f"empty {path_column!r} (line {line} of {source}): fill it or drop the row"
            )
        path = Path(value.strip())
        paths.append(path if path.is_absolute() else source.parent / path)
    if paths and not any(path.exists() for path in paths):
        raise none_found(source, table[path_column].iloc[0].strip(), len(paths))
    return paths


def _broken_links_note(source: Path, broken: int) -> list[str]:
    """The warning counting the links of folder ``source`` that lead to no file."""
    if not broken:
        return []
    lead, were, them = ("leads", "was", "it") if broken == 1 else ("lead", "were", "them")
    return [f"{plural(broken, 'link')} in {source} {lead} to no file and {were} not read: fix "
            f"or remove {them}"]  # fmt: skip


@dataclass
class Unlabelled:
    """Images read to be scored: ``images`` (N, C, *spatial), an id per sample, the files left
    out ``(file, reason)``, warnings, and per sample how it is unlike the model's training
    images (``unlike``: "DICOM MR; shaped 4:1; darker than training (0.061 against 0.39-0.78)";
    empty when it is not) and what a caller's ``describe`` said of its file (``said``, read
    once with the image; empty when none was given or for an ``.npz``)."""

    images: torch.Tensor
    ids: list[str]
    skipped: list[tuple[str, str]]
    warnings: list[str]
    unlike: list[str]
    slices: list[int | None] = field(default_factory=list)  # a volume's slice scored; None: 2D
    said: list[str] = field(default_factory=list)


def load_unlabelled(
    source: str | Path, schema: ImageSchema, *, on_error: str = "skip"
) -> tuple[torch.Tensor, list[str], list[tuple[str, str]], list[str]]:
    """Images to score, read as the model's schema says: ``(images, sample ids, skipped,
    warnings)`` (warnings: files whose intensities were scaled, shaped, acquired or bright
    unlike the training images: a windowed-CT model given a PNG, a square-image model a 4:1
    strip, a CT model an MR image, a model of 8-bit films 12-bit data in 16-bit files).

    ``source``: one image file, a folder (searched recursively; class sub-folders allowed), a
    CSV with the schema's path column (labels optional) or an ``.npz`` (its ``test`` split).
    Volumes give one sample per selected slice (ids ``file#slice<i>``). ``on_error``: "skip"
    an unreadable file (listed in ``skipped``) or "raise"/"refuse" (a DataError naming it).
    What the reading libraries logged or warned is logged once as notes (``reader_notes``).
    :func:`read_unlabelled` also says, per sample, how it is unlike the training images.
    """
    read = read_unlabelled(source, schema, on_error=on_error)
    look = look_note(schema, read.images)  # on the whole, as predict warns (a trial's none)
    return read.images, read.ids, read.skipped, [*read.warnings, *([look] if look else [])]


def read_unlabelled(
    source: str | Path,
    schema: ImageSchema,
    *,
    on_error: str = "skip",
    path_column: str | None = None,
    describe: Callable[[str, FileRead, int], str] | None = None,
) -> Unlabelled:
    """:func:`load_unlabelled`'s images, with how each is unlike the training images;
    ``path_column``: a CSV's column of image paths (default: the schema's); ``describe(name,
    read, n_files)``: what to say of each file as it is read (``Unlabelled.said``, per sample),
    so that no file is read twice to say it."""
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source} does not exist: pass an image file, a folder, a CSV or an .npz")
    if source.suffix.lower() == ".npz":
        names = [*schema.classes, *(f"label_{i}" for i in range(len(schema.classes), 1000))]
        dataset = load_images(source, **schema.load_options(), classes=names, split="test")
        odd = [(p, v) for p, v in zip(dataset.paths, dataset.brightness, strict=True)
               if unlike_training_brightness(schema, v)]  # fmt: skip
        words = {p: _brightness_words(schema, v) for p, v in odd}
        unlike = [words.get(p, "") for p in dataset.paths]
        warnings = [n for n in [brightness_note(schema, odd, len(dataset))] if n]
        warnings += file_warnings(schema, dataset)
        return Unlabelled(dataset.images, dataset.paths, [], warnings, unlike)
    options = schema.read_options()
    checks = ReadChecks(options)
    samples, ids, skipped, notes, unlike, slices, described = [], [], [], [], [], [], []
    to_gray = alpha_dropped = one_slice = (
        0  # colour samples made gray, pictures' transparency dropped
    )
    files_by_how: dict[str, list[str]] = {}
    odd_shapes: list[tuple[str, float]] = []
    odd_kinds: list[tuple[str, str]] = []  # (file, DICOM Modality) unlike the training images'
    odd_levels: list[tuple[str, float]] = []  # (file, brightest level) unlike theirs
    odd_looks: list[tuple[str, list[str]]] = []  # (file, ways) it looks far unlike them
    entries, broken = _unlabelled_entries(source, path_column or schema.path_column, on_error)
    paths = [entry.path for entry in entries]
    for unit in units_of(entries, schema.spatial_dims):  # 3D: a DICOM series is one volume
        path = unit.entry.path
        try:
            if unit.entry.fmt == "missing" and path.exists():
                raise ValueError("not an image")
            read = check_scoreable(unit.read(options))
        except OptionError as exc:
            raise DataError(
                f"{path}: {exc}, but the model reads slice {schema.slices}: pass volumes with "
                "that slice"
            ) from None
        except Exception as exc:
            listed = is_path_csv(source)
            if on_error != "skip" and listed and isinstance(exc, FileNotFoundError):
                said = missing_refusal(source, paths)  # all, counted
                if said is not None:
                    raise DataError(said) from None
            if on_error != "skip":
                raise DataError(
                    f"{refusal(path, exc)}; fix or remove the file, or pass --on-error skip to "
                    "leave it out"
                ) from None
            skipped.append((str(path), describe_error(exc, path)))
            continue
        notes += [(str(path), note) for note in read.notes]
        to_gray += sum(colour_to_gray(sample, schema.channels) for sample in read.samples)
        alpha_dropped += read.alpha_dropped
        one_slice += read_one_slice(read)
        checks.add(read, len(unit.files))
        files_by_how.setdefault(read.how, []).append(str(path))
        inputs = model_inputs(read, schema)
        unlike_here = unlike_training(schema, str(path), read, inputs)
        odd_shapes += unlike_here.shapes
        odd_kinds += unlike_here.kinds
        odd_levels += unlike_here.levels
        odd_looks += unlike_here.odd_looks(str(path), read.frames)
        told = describe(path.name, read, len(unit.files)) if describe is not None else ""
        samples += inputs
        for k, frame in enumerate(read.frames):  # each slice its own look
            ids.append(str(path) if len(read.samples) == 1 else f"{path}#slice{frame}")
            unlike.append(unlike_here.words(k))
            slices.append(frame)
            described.append(told)
    if not samples and not skipped:  # a header-only CSV: nothing to read, none unreadable
        raise DataError(f"{source} has no rows: add one row per image (a path column)")
    if not samples:
        first = f" (first: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise DataError(f"no image in {source} could be read{first}; check the files' format")
    report_notes(notes)
    report_counted(conversion_notes(to_gray, alpha_dropped) + one_slice_note(one_slice, schema))
    warnings = _broken_links_note(source, broken) + scaling_warnings(schema, files_by_how)
    n_files = sum(map(len, files_by_how.values()))
    warnings += [n for n in [shape_note(schema, odd_shapes, n_files, "files")] if n]
    warnings += [n for n in [modality_note(schema, odd_kinds, n_files, "files")] if n]
    warnings += [n for n in [brightness_note(schema, odd_levels, n_files, "files")] if n]
    warnings += [n for n in [looks_note(odd_looks, n_files, "files")] if n]
    warnings += checks.warnings(source.name, twelve_bit=schema.brightness is None)
    images = torch.stack(samples).contiguous()
    return Unlabelled(images, ids, skipped, warnings, unlike, slices, described)


@dataclass
class Unlike:
    """How one file is unlike the model's training images, each list empty when it is not:
    its shape ``[(file, ratio)]``, DICOM kind ``[(file, Modality)]``, brightest level (of all
    its samples together) ``[(file, level)]`` (what :func:`shape_note`, :func:`modality_note`
    and :func:`brightness_note` say), all of the file's in a few words (``said``,
    :func:`unlike_words`) and, per sample (a volume's slices each), the ways it looks far
    unlike them (``looks``; :mod:`~medadapt.data.image_look`)."""

    shapes: list[tuple[str, float]]
    kinds: list[tuple[str, str]]
    levels: list[tuple[str, float]]
    said: str
    looks: list[list[str]]

    def words(self, sample: int = 0) -> str:
        """All of it in a few words for the predictions file's cell of ``sample``: the
        file's, said once for all its samples, and that sample's own look."""
        ways = self.looks[sample] if sample < len(self.looks) else []
        return "; ".join(w for w in [self.said, look_words(ways)] if w)

    def odd_looks(
        self, name: str, frames: Sequence[int | None] = ()
    ) -> list[tuple[str, list[str]]]:
        """``[(name, ways)]`` of the first sample that looks far unlike the training images
        (what :func:`~medadapt.data.image_look.looks_note` counts; a volume's slice named
        ``name#slice5``, as its row is: a review's blank end slice was said of the whole
        file), or none."""
        for k, ways in enumerate(self.looks):
            if ways:
                frame = frames[k] if k < len(frames) else None
                several = len(self.looks) > 1 and frame is not None
                return [(f"{name}#slice{frame}" if several else name, ways)]
        return []


#: how much an image may be enlarged to the model's size before its grain is not compared as
#: smoother (enlarging smooths; 220 px read at 224 px does not)
ENLARGED = 1.5


def unlike_training(
    schema: ImageSchema, name: str, read: FileRead, inputs: Sequence[torch.Tensor] | None = None
) -> Unlike:
    """How the file ``name`` (as ``read``; ``inputs``: its samples as the model takes them,
    :func:`model_inputs`, made here where not given) is unlike the model's training images."""
    shapes = [(name, ratio) for ratio in map(aspect_ratio, read.samples[:1])
              if unlike_training_shape(schema, ratio)]  # fmt: skip
    unlike = unlike_training_modality(schema, read.acquired)
    levels = [] if schema.brightness is None else [(name, brightness_level(*read.samples))]
    levels = [(file, level) for file, level in levels if unlike_training_brightness(schema, level)]
    looks: list[list[str]] = [[] for _ in read.samples]
    enlarged = [upscale(sample.shape[1:], schema.image_size, schema.fit) for sample in read.samples]
    # not where its shape, brightness, scaling or tininess, said, explains its look
    explained = (
        shapes
        or levels
        or max(enlarged, default=1.0) > MAX_UPSCALE
        or scaling_note(schema, read.how)
    )
    if not explained and (schema.mean_level is not None or schema.grain is not None):
        samples = model_inputs(read, schema) if inputs is None else inputs
        looks = [unlike_look(schema, image_look(sample), enlarged=times > ENLARGED)
                 for sample, times in zip(samples, enlarged, strict=True)]  # fmt: skip
    kinds = [(name, str(read.acquired))] if unlike else []
    said = unlike_words(schema, read.how, shapes, kinds, levels)  # the file's, once
    return Unlike(shapes, kinds, levels, said, looks)


def unlike_words(
    schema: ImageSchema,
    how: str,
    shapes: Sequence[tuple[str, float]],
    kinds: Sequence[tuple[str, str]],
    levels: Sequence[tuple[str, float]] = (),
) -> str:
    """How one file is unlike the model's training images, in a few words for a predictions
    file's cell: ``"DICOM MR; shaped 4:1; darker than training (0.061 against 0.39-0.78);
    intensities min-max scaled, not windowed as in training"`` (empty: it is not)."""
    words = [f"DICOM {kind}" for _, kind in kinds]
    words += [f"shaped {_ratio(ratio)}" for _, ratio in shapes]
    words += [_brightness_words(schema, level) for _, level in levels]
    if scaling_note(schema, how):
        trained = " or ".join(sorted({_scaled(h) for h in schema.intensity}))
        words.append(f"intensities {_scaled(how)}, not {trained} as in training")
    return "; ".join(words)


def _scaled(how: str) -> str:
    """How intensities became [0, 1], in a few words for a predictions file's cell."""
    return SCALED_IN_A_CELL.get(how, how)


#: how a file's intensities became [0, 1] (``FileRead.how``), in words; window and the file's
#: own window are one kind
SCALINGS = {
    "window": "windowed",
    "dicom_window": "windowed",
    "min_max": "min-max scaled (DICOM/NIfTI without a window)",
    "fixed_scale": "divided by their bit depth's maximum (8/16-bit pictures)",
    "as_stored": "used as stored (float arrays)",
}
#: the same, in a few words for a predictions file's cell (``outside_training``)
SCALED_IN_A_CELL = {
    "window": "windowed",
    "dicom_window": "windowed",
    "min_max": "min-max scaled",
    "fixed_scale": "scaled as a picture (bit depth)",
    "as_stored": "used as stored",
}


def scaling_note(schema: ImageSchema, how: str) -> str | None:
    """Why a file whose intensities were scaled ``how`` is not on the training images' scale
    (a base trained on windowed CT given a PNG), or None; None too for bases that did not
    record theirs."""
    trained = {SCALINGS.get(h, h) for h in schema.intensity}
    read = SCALINGS.get(how, how)
    if not trained or read in trained:
        return None
    return (
        f"intensities {read}, but the model's training images were "
        f"{' or '.join(sorted(trained))}: the predictions may be unreliable; send images "
        "prepared as the training ones were, or adapt the model on this site's images read "
        "the same way (an adapter trained on them knows their scaling)"
    )


def scaling_warnings(schema: ImageSchema, files_by_how: dict[str, list[str]]) -> list[str]:
    """:func:`scaling_note` once per way of scaling, naming the first file (and how many)."""
    n_files = sum(map(len, files_by_how.values()))
    out = []
    for how, files in files_by_how.items():
        note = scaling_note(schema, how)
        if note is None:
            continue
        many = f"{len(files)} of {n_files} files (first: {files[0]})"
        out.append(f"{files[0] if len(files) == 1 else many}: {note}")
    return out


#: how far beyond its training images' shapes an image may be before it is said: a quarter
#: (a 4:3 film among square ones is said; 1.2:1 among 1:1 to 1.1:1 is not)
ASPECT_MARGIN = 1.25


def unlike_training_shape(schema: ImageSchema, ratio: float) -> bool:
    """Whether an image of longer-to-shorter side ``ratio`` is shaped unlike every training
    image of the model (False for models that did not record their images' shapes)."""
    return _beyond(schema.aspect, ratio, ASPECT_MARGIN)


def _beyond(recorded: tuple[float, float] | None, value: float, margin: float) -> bool:
    """Whether ``value`` lies below the ``recorded`` training range's low end / ``margin`` or
    above its high end x ``margin`` (False where the model recorded no range)."""
    if recorded is None:
        return False
    low, high = recorded
    return not low / margin <= value <= high * margin


def shape_note(
    schema: ImageSchema, odd: Sequence[tuple[str, float]], n: int, counted: str = "images"
) -> str | None:
    """Why images ``odd`` (``(file, ratio)``, the ones :func:`unlike_training_shape` found)
    may be scored unreliably: fitted to the model's square, they look unlike its training
    images. One sentence naming the first file and how many of ``n`` ``counted`` (images, or
    files); None when there are none."""
    if not odd:
        return None
    low, high = schema.aspect or (1.0, 1.0)
    trained = _ratio(low) if _ratio(low) == _ratio(high) else f"{_ratio(low)} to {_ratio(high)}"
    fitted = fitted_words(schema.fit, schema.spatial_dims)
    path, ratio = odd[0]
    if len(odd) == 1:
        return (
            f"{path}: shaped {_ratio(ratio)} (longer side to shorter), but the model's "
            f"training images were {trained}: {fitted}, it looks unlike them; its prediction "
            "may be unreliable"
        )
    return (
        f"{len(odd)} of {n} {counted} (first: {path}, {_ratio(ratio)}) are shaped unlike "
        f"the model's training images ({trained}, longer side to shorter): {fitted}, they "
        "look unlike them; their predictions may be unreliable"
    )


#: training images from which their shapes' range says which are odd (percentiles of fewer
#: say little)
ODD_SHAPES_FROM = 10


def fitted_words(fit: str, spatial_dims: int = 2) -> str:
    """How an image is fitted to the model's input: ``padded to a square``, ``stretched to a
    cube``."""
    shape = "a cube" if spatial_dims == 3 else "a square"
    return f"padded to {shape}" if fit == "pad" else f"stretched to {shape}"


def odd_training_shapes_note(paths: Sequence[str], aspects: Sequence[float], where: str, *,
                             fit: str = "pad", spatial_dims: int = 2) -> str | None:  # fmt: skip
    """A warning naming the training images shaped unlike most of them: beyond the 10th to
    90th percentiles of their shapes by :data:`ASPECT_MARGIN` (a trial's 2:1 image among
    square ones trained the base without a word; the range a base records, the 1st to 99th
    percentiles, leaves such an image out of it only among a hundred or more). None where
    there are none, or fewer than :data:`ODD_SHAPES_FROM` images."""
    if len(aspects) < ODD_SHAPES_FROM:
        return None
    low, high = (float(v) for v in np.percentile(np.asarray(aspects, dtype=float), [10, 90]))
    usual = [low / ASPECT_MARGIN <= ratio <= high * ASPECT_MARGIN for ratio in aspects]
    odd = [(path, ratio) for path, ratio, fits in zip(paths, aspects, usual, strict=True)
           if not fits]  # fmt: skip
    if not odd:
        return None
    others = [ratio for ratio, fits in zip(aspects, usual, strict=True) if fits]
    lo, hi = _ratio(min(others)), _ratio(max(others))  # the others' own, not the percentiles'
    shapes = lo if lo == hi else f"{lo} to {hi}"
    path, ratio = odd[0]
    what = (f"{path} is shaped {_ratio(ratio)}" if len(odd) == 1 else
            f"{len(odd)} of them (first: {path}, {_ratio(ratio)}) are shaped")  # fmt: skip
    return (
        f"of {len(aspects)} training images in {where}, {what} (longer side to shorter) "
        f"where the others are {shapes}: {fitted_words(fit, spatial_dims)}, "
        f"{'it looks' if len(odd) == 1 else 'they look'} unlike them; check "
        f"{'it is' if len(odd) == 1 else 'they are'} the right image"
        f"{'' if len(odd) == 1 else 's'}, or crop {'it' if len(odd) == 1 else 'them'} as the "
        "others are"
    )


def _ratio(ratio: float) -> str:
    """``4:1``, ``1.3:1``, ``150:1`` (never ``1.5e+02:1``)."""
    return f"{ratio:.2g}:1" if ratio < 10 else f"{ratio:,.0f}:1"


#: how far beyond its training images' brightest levels an image may be before it is said: 4x
#: (12-bit data in 16-bit files divided by 65535, at most 0.0625, is said against 8-bit films
#: whose levels start near 0.3; a film exported a little darker or brighter is not)
BRIGHTNESS_MARGIN = 4.0


def unlike_training_brightness(schema: ImageSchema, level: float) -> bool:
    """Whether an image whose brightest level is ``level`` (see
    :func:`~medadapt.data.image_io.brightness_level`) is far darker or brighter than the
    model's training images: below their low level / 4 or above their high level x 4 (False
    for models that did not record their images' brightness)."""
    return _beyond(schema.brightness, level, BRIGHTNESS_MARGIN)


def brightness_note(
    schema: ImageSchema, odd: Sequence[tuple[str, float]], n: int, counted: str = "images"
) -> str | None:
    """Why images ``odd`` (``(file, brightest level)``, the ones
    :func:`unlike_training_brightness` found) may be scored unreliably: far darker (12-bit
    data in 16-bit files, divided by 65535) or brighter than the model's training images.
    One sentence naming the first file, how many times darker or brighter it is, the likely
    causes and their fixes, and how many of ``n`` ``counted``; None when there are none."""
    if not odd:
        return None
    low, high = schema.brightness or (0.0, 1.0)
    trained = _level(low) if _level(low) == _level(high) else f"{_level(low)} to {_level(high)}"
    path, level = odd[0]
    darker = level < low / BRIGHTNESS_MARGIN
    times = times_text(low / max(level, 1 / 65535) if darker else level / max(high, 1 / 65535))
    way = "darker" if darker else "brighter"
    one = len(odd) == 1
    causes = _brightness_causes(schema, darker, one)
    if one:
        return (
            f"{path}: brightest level {_level(level)} (the 99th percentile of its intensities, "
            f"0 to 1) against {trained} in the model's training images, about {times} times "
            f"{way} than them: its prediction may be unreliable; {causes}"
        )
    ways = {lvl < low / BRIGHTNESS_MARGIN for _, lvl in odd}
    all_ways = "darker or brighter" if len(ways) == 2 else way
    return (
        f"{len(odd)} of {n} {counted} are far {all_ways} than the model's training images "
        f"(first: {path}, brightest level {_level(level)} against {trained} in training, about "
        f"{times} times {way}): their predictions may be unreliable; {causes}"
    )


def _brightness_causes(schema: ImageSchema, darker: bool, one: bool) -> str:
    """The likely causes of images far darker or brighter than the training ones, and their
    fixes, in a clause (12-bit data in 16-bit files only where the base divides those by
    65535, without ``--bits-stored``)."""
    they, were, them, files = ("it", "was", "it", "a 16-bit file") if one else (
        "they", "were", "them", "16-bit files")  # fmt: skip
    export = (
        f"if {they} {were} exported or windowed otherwise than the training images, export "
        f"{them} as those were"
    )
    if schema.bits_stored is not None:
        return export
    if darker:
        hold = "holds" if one else "hold"
        return (
            f"if {they} {hold} 12-bit detector data in {files}, train the base with "
            f"--bits-stored 12 (16-bit pictures are then divided by 4095, not 65535); {export}"
        )
    return (
        "if the model's training images were 12-bit detector data in 16-bit files (read "
        f"nearly black), train the base again with --bits-stored 12; {export}"
    )


#: a set of images whose median mean intensity lies further than this outside the training
#: images' 5th-95th percentile range (intensities in [0, 1]) looks unlike them
MEAN_LEVEL_MARGIN = 0.05
#: ... or whose median spread of intensities lies beyond the range by this factor
CONTRAST_MARGIN = 1.25
#: the fewest images whose medians are compared (fewer say little of a site)
FEWEST_FOR_LOOK = 10


def look_note(schema: ImageSchema, images: Any, noun: str = "images") -> str | None:
    """A warning where ``images`` (a tensor of them as the model reads them), on the whole,
    look unlike the model's training images: their median mean intensity further than
    :data:`MEAN_LEVEL_MARGIN` outside the recorded range, or their median spread beyond it by
    :data:`CONTRAST_MARGIN`; a scanner, protocol or export unlike the base's, which each
    image's own checks (shape, brightest level 4 times off) miss (a trial's site, brighter by
    0.25 at 0.6 of the contrast, was ranked at AUROC 0.27 without a word). None otherwise,
    for fewer than :data:`FEWEST_FOR_LOOK` images, or a model that recorded no ranges."""
    from medadapt.data.image_io import typical_look

    if schema.mean_level is None or schema.contrast is None or len(images) < FEWEST_FOR_LOOK:
        return None
    level, spread = typical_look(images)
    (low, high), (least, most) = schema.mean_level, schema.contrast
    said = []
    if not low - MEAN_LEVEL_MARGIN <= level <= high + MEAN_LEVEL_MARGIN:
        way = "brighter" if level > high else "darker"
        said.append(f"{way} on average (median mean intensity {level:.2f}, against {low:.2f} "
                    f"to {high:.2f} in the base model's training images)")  # fmt: skip
    if not least / CONTRAST_MARGIN <= spread <= most * CONTRAST_MARGIN:
        way = "higher" if spread > most else "lower"
        said.append(f"{way} in contrast (median spread of intensities {spread:.3f}, against "
                    f"{least:.3f} to {most:.3f})")  # fmt: skip
    if not said:
        return None
    return (
        f"these {len(images)} {noun} look unlike the base model's training {noun} on the "
        f"whole: {'; and '.join(said)}: another scanner, protocol or export than the base's, "
        "so the base model's predictions on them may be off (a ranking worse than chance can "
        "come of it); an adapter trained on images like these corrects for it, and its "
        "figures beside the base model's alone (adapt, evaluate) say how well"
    )


def _brightness_words(schema: ImageSchema, level: float) -> str:
    """An image far darker or brighter than the training images, in a few words:
    ``"darker than training (0.061 against 0.39-0.78)"``."""
    low, high = schema.brightness or (0.0, 1.0)
    way = "darker" if level < low / BRIGHTNESS_MARGIN else "brighter"
    return f"{way} than training ({_level(level)} against {_level(low)}-{_level(high)})"


def _level(level: float) -> str:
    """A brightest level in two significant digits: ``0.061``, ``0.78``, ``1``."""
    return f"{level:.2g}"


def file_warnings(schema: ImageSchema, dataset: ImageDataset) -> list[str]:
    """What the data set ``dataset``, read for the model of ``schema``, cannot support as read
    (``dataset.warnings``), less the 12-bit guess from the files alone where the model
    recorded its training images' brightness: :func:`brightness_note` compares with them.
    Whether the model's recorded ``bits_stored`` applies to these files is not said: a new
    base's ``--bits-stored`` is (``image_reading.UNUSED_BITS_STORED``), as are the files'
    own windows (``image_reading.OWN_WINDOWS``)."""
    source = dataset.source or {}
    new_base_only = {source.get(UNUSED_BITS_STORED), source.get(OWN_WINDOWS)}
    said = [w for w in dataset.warnings if w not in new_base_only]
    if schema.brightness is None:
        return said
    return [w for w in said if w != dataset.twelve_bit_note]


#: DICOM Modality values that are one kind of image: computed and digital radiographs (an
#: X-ray model trained on DX films meets CR films at another hospital; an MR image is not one)
SAME_KIND = {"CR": "DX"}


def unlike_training_modality(schema: ImageSchema, acquired: str | None) -> bool:
    """Whether an image whose DICOM Modality is ``acquired`` (``MR``) is of a kind none of the
    model's DICOM training images were (False when either is not known: pictures, NIfTI,
    models that did not record theirs)."""
    if not schema.dicom_modalities or acquired is None:
        return False
    trained = {SAME_KIND.get(m, m) for m in schema.dicom_modalities}
    return SAME_KIND.get(acquired, acquired) not in trained


def modality_note(
    schema: ImageSchema, odd: Sequence[tuple[str, str]], n: int, counted: str = "images"
) -> str | None:
    """Why images ``odd`` (``(file, DICOM Modality)``, the ones
    :func:`unlike_training_modality` found) cannot be scored with confidence: a model trained
    on CT has never seen an MR image. One sentence naming the first file, the kinds found and
    how many of ``n`` ``counted``; None when there are none."""
    if not odd:
        return None
    trained = " and ".join(schema.dicom_modalities)
    path, acquired = odd[0]
    if len(odd) == 1:
        return (
            f"{path}: a DICOM {acquired} image, but the model was trained on {trained} images "
            f"only: it has never seen {acquired}, and its scores on such images may be "
            f"meaningless until an adapter is trained on labelled {acquired} images"
        )
    kinds = Counter(m for _, m in odd)
    found = ", ".join(f"{m} ({k})" for m, k in kinds.most_common())
    return (
        f"{len(odd)} of {n} {counted} (first: {path}) are DICOM {found} images, but the model "
        f"was trained on {trained} images only: it has never seen them, and its scores on such "
        "images may be meaningless until an adapter is trained on labelled images of that kind"
    )


def check_scoreable(read: FileRead) -> FileRead:
    """``read``, refused when every sample is blank: a black picture got "mass 0.999". Only
    what is scored is checked (training data refuse or leave out blank files when read)."""
    if is_blank(read):
        windowed = " after the intensity window" if "window" in read.how else ""
        raise ReadError(f"{BLANK}{windowed} (nothing to score)")
    return read


def model_inputs(read: FileRead, schema: ImageSchema) -> list[torch.Tensor]:
    """The samples of one read file as the model takes them: the schema's channels (gray and
    colour converted as :func:`~medadapt.data.image_io.to_channels` says), fitted to its size.

    Shape: each ``(channels, *(image_size,) * spatial_dims)``.
    """
    out = []
    for array in read.samples:
        tensor = torch.from_numpy(_to_channels(array, schema.channels))
        out.append(fit_size(tensor, schema.image_size, schema.fit))
    return out


def split_by_patient(
    dataset: ImageDataset, indices: Sequence[int], *, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test sample indices (sorted, into ``dataset``) drawn from ``indices``,
    stratified by class, keeping all samples of one patient on the same side: the patient is
    the CSV's id column, else the DICOM PatientID (else SeriesInstanceUID), else the file
    (all slices of one volume; see ``ImageDataset.patients``). Byte-identical images (the same
    content key) count as one patient with the original: a copy must not test the model that
    trained on it."""
    indices = np.asarray(indices, dtype=np.int64)
    grouped = _linked(indices.tolist(), dataset.patients(), dataset.sample_keys())
    labels = np.array([int(dataset.y[m[0]]) for m in grouped])
    patients = dataset.patients()  # a file's path where no patient is known
    by_file = bool(dataset.paths) and all(patients[i] == dataset.paths[i] for i in indices)
    unit = "image files" if by_file else "patients"
    n_test = math.ceil(len(grouped) * test_fraction)
    if len(grouped) < 4 or n_test >= len(grouped):
        keys = dataset.sample_keys()
        if len(indices) > 1 and len({keys[i] for i in indices.tolist()}) == 1:
            first = f" (first: {dataset.paths[int(indices[0])]})" if dataset.paths else ""
            raise DataError(
                f"all {len(indices)} images are byte-identical copies of one image{first}: a "
                "model learns nothing from copies, and cannot be tested on an image it trained "
                "on; add distinct images"
            )
        if len(grouped) >= 4:  # enough to split: the fraction leaves none to train on
            n_classes = len(np.unique(labels))
            raise DataError(too_few_left(test_fraction, len(grouped), n_test, n_classes, unit))
        one = len(grouped) == 1
        many = (f"; {len(indices)} images belong to {'it' if one else 'them'}: if they are "
                "more patients than that, check the patient column (--id-column)"
                if not by_file and len(indices) >= 4 else "")  # fmt: skip
        raise DataError(
            f"only {len(grouped)} patient{'' if one else 's'} (or image file{'' if one else 's'}"
            ", without a patient id) to split: too few to hold out a test set (at least 4, "
            f"whatever --test-fraction){many}; add images of other patients"
        )
    train, test = stratified_split(labels, test_fraction=test_fraction, seed=seed, unit=unit)

    def samples(chosen: np.ndarray) -> np.ndarray:
        return np.sort(np.array([i for g in chosen for i in grouped[g]], dtype=np.int64))

    return samples(train), samples(test)


def _linked(indices: list[int], patients: Sequence[str], keys: Sequence[str]) -> list[list[int]]:
    """``indices`` in groups that share a patient or a content key (directly or through
    others), each group in the order of its first sample."""
    parent = {i: i for i in indices}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for labels in (patients, keys):
        first: dict[str, int] = {}
        for i in indices:
            j = first.setdefault(labels[i], i)
            parent[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i in indices:
        members.setdefault(root(i), []).append(i)
    return list(members.values())
