"""Read the files of an image folder or path CSV into one :class:`ImageDataset`.

Each unit (a file, or the files of one DICOM series) is read in order; a file that cannot be
read is skipped or refused (``on_error``). The samples are converted to one channel count,
fitted to the image size and keyed by their files' bytes (see :mod:`medadapt.data.images`;
their pixel keys are computed from the tensor when needed, see
:func:`~medadapt.data.image_dataset.pixel_keys`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from medadapt.data.dicom_series import Unit, units_of
from medadapt.data.image_dataset import ImageDataset
from medadapt.data.image_io import (
    FileRead,
    OptionError,
    ReadChecks,
    ReadOptions,
    aspect_range,
    aspect_ratio,
    brightness_level,
    brightness_range,
    colour_to_gray,
    conversion_notes,
    describe_error,
    fit_size,
    is_blank,
    look_ranges,
    refusal,
    to_channels,
)
from medadapt.data.image_sources import Entry, is_path_csv, missing_refusal
from medadapt.data.intensity import twelve_bit_note, unused_bits_stored_note
from medadapt.data.read_errors import BLANK_REASON
from medadapt.errors import ConfigError, DataError

_Sample = tuple[np.ndarray, Entry, str, str]  # array, entry, key, patient

#: the key of ``dataset.source`` holding the warning that ``bits_stored`` applied to no file
#: (:func:`~medadapt.data.intensity.unused_bits_stored_note`): said where a new base is
#: trained, not where a model reads images with the value it recorded
UNUSED_BITS_STORED = "unused_bits_stored_note"
#: the key of ``dataset.source`` holding the warning that files were windowed by their own
#: DICOM window tags, which a base does not record (:func:`own_windows_note`): said where a
#: new base is trained, as :data:`UNUSED_BITS_STORED` is
OWN_WINDOWS = "own_windows_note"


def own_windows_note(n_own: int, n_images: int, where: str) -> str | None:
    """Why training on DICOM files windowed by their own WindowCenter/WindowWidth (no
    ``--window``) is said: the base records no window, so each file it later scores is
    windowed by its own tags too, and images from another scanner or export (a lung window
    where training had soft tissue) reach the model scaled otherwise without a word (a
    trial's CT base recorded none). ``n_images``: those read (a series read as a volume is
    one). None when no image was.

    >>> own_windows_note(0, 12, "ct")
    >>> own_windows_note(12, 12, "ct")  # doctest: +NORMALIZE_WHITESPACE
    "all 12 images in ct were windowed by their own DICOM window (WindowCenter/WindowWidth),
    which the base model does not record: a file it scores later is windowed by its own tags
    too, however they differ from these; pass --window (LEVEL,WIDTH or a preset such as
    'abdomen') to window every file alike and record it"
    """
    if not n_own:
        return None
    which = f"all {n_images} images" if n_own == n_images else f"{n_own} of the {n_images} images"
    return (
        f"{which} in {where} were windowed by their own DICOM window (WindowCenter/"
        "WindowWidth), which the base model does not record: a file it scores later is "
        "windowed by its own tags too, however they differ from these; pass --window "
        "(LEVEL,WIDTH or a preset such as 'abdomen') to window every file alike and record it"
    )


@dataclass
class _Readings:
    """What reading the units gave: samples, skipped files, reader notes, counts and what the
    data set's checks need (``checks``)."""

    checks: ReadChecks
    samples: list[_Sample] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)
    intensity: Counter[str] = field(default_factory=Counter)
    aspects: list[float] = field(default_factory=list)  # per sample, before fitting
    brightness: list[float] = field(default_factory=list)  # per sample: its brightest level
    acquired: list[str | None] = field(default_factory=list)  # per sample: DICOM Modality
    blank: list[str] = field(default_factory=list)  # files whose every pixel is one value
    # DICOM files of another kind than CT (DX, MR ...) read through a CT window: (path, kind)
    windowed_not_ct: list[tuple[str, str]] = field(default_factory=list)
    alpha_dropped: int = 0  # pictures whose transparency was left out

    def add(self, unit: Unit, read: FileRead, digest: str) -> None:
        """The samples of one unit, keyed by its digest (and frame), with its patient."""
        entry = unit.entry
        self.formats[entry.fmt] += len(unit.files)
        self.notes += [(str(entry.path), note) for note in read.notes]
        self.intensity[read.how] += 1
        self.alpha_dropped += read.alpha_dropped
        self.aspects += [aspect_ratio(array) for array in read.samples]
        self.brightness += [brightness_level(array) for array in read.samples]
        self.acquired += [read.acquired] * len(read.samples)
        if read.how == "window" and read.acquired and read.acquired != "CT":
            self.windowed_not_ct.append((str(entry.path), read.acquired))
        self.checks.add(read, len(unit.files))
        patient = entry.subject or read.subject or str(entry.path)
        for frame, array in zip(read.frames, read.samples, strict=True):
            key = digest if frame is None else f"{digest}#{frame}"
            self.samples.append((array, entry, key, patient))


def _window_warnings(readings: _Readings, options: ReadOptions, name: str) -> list[str]:
    """What a CT window (``--window``) did that its user may not know: read DICOM images of
    another kind (DX, MR) as if their values were Hounsfield units, and left PNG/JPEG
    pictures among them as saved (a trial's mixed folder trained without a word: its DX
    images came out almost white, its PNGs unchanged)."""
    if options.window is None:
        return []
    out = []
    if readings.windowed_not_ct:
        first, _ = readings.windowed_not_ct[0]
        kinds = ", ".join(sorted({kind for _, kind in readings.windowed_not_ct}))
        n = len(readings.windowed_not_ct)
        out.append(f"{name}: {n} DICOM file{'s are' if n > 1 else ' is'} {kinds}, not CT "
                   f"(first: {first}), yet read through the CT window (--window), as if "
                   "their values were Hounsfield units: they are not, and such images come "
                   "out nearly white or black; drop --window, or keep only CT images in "
                   "--data")  # fmt: skip
    pictures = readings.formats.get("png", 0) + readings.formats.get("jpeg", 0)
    if pictures and pictures < sum(readings.formats.values()):
        out.append(f"{name}: the CT window (--window) applies to the DICOM and NIfTI images "
                   f"only; its {pictures} PNG/JPEG picture{'s are' if pictures > 1 else ' is'} "
                   "read as saved, on another scale: export them from their DICOM originals, "
                   "or train on one kind")  # fmt: skip
    return out


def read_all(
    root: Path,
    entries: list[Entry],
    class_list: list[str],
    options: ReadOptions,
    channels: int | None,
    on_error: str,
    progress: Callable[[int, int], None] | None,
    *,
    keep_blank: bool = True,
) -> ImageDataset:
    """Read ``entries`` (one unit per file or DICOM series) into one labelled dataset (blank
    files refused or, with ``on_error="skip"``, left out unless ``keep_blank``)."""
    units = units_of(entries, options.spatial_dims)
    listed = is_path_csv(root)  # its missing files are counted
    readings = _read_units(units, options, on_error, progress, keep_blank=keep_blank,
                           listed_in=root if listed else None)  # fmt: skip
    if readings.blank and on_error != "skip":
        raise DataError(blank_refusal(readings.blank, len(entries)))
    if not readings.samples:
        path, reason = readings.skipped[0]
        raise DataError(
            f"none of the {len(entries)} files in {root} could be read (first: {path}: "
            f"{reason}); check the files' format"
        )
    found = [(a.shape[0], e.path) for a, e, _, _ in readings.samples]
    shortcut = colour_follows_classes([(a.shape[0], e.label) for a, e, _, _ in readings.samples])
    n_channels = _channel_count(root, found, channels, shortcut)
    dataset = _dataset_of(readings, entries, class_list, options, n_channels, root.name)
    dataset.warnings += _window_warnings(readings, options, root.name)
    if shortcut and channels is not None:  # converted as asked: the shortcut is still there
        how = STAYS_GREY if channels == 3 else KEEPS_ITS_OWN
        dataset.warnings.append(f"{root.name}: {shortcut}; converted to --channels {channels} "
                                f"as asked, {SHORTCUT_ADVICE.format(how=how)}")  # fmt: skip
    dataset.source = {
        "path": str(root),
        "n_files": len(entries),
        "n_samples": len(dataset),
        "formats": dict(readings.formats),
        "class_counts": dataset.class_counts(),
        "skipped": len(readings.skipped),
        "intensity": dict(readings.intensity),
        "channels": n_channels,
        "aspect": aspect_range(readings.aspects),
        "brightness": brightness_range(readings.brightness),
        **look_ranges(dataset.images),
    }
    unused = unused_bits_stored_note(options.bits_stored, readings.checks.sixteen_bit,
                                     len(entries), root.name)  # fmt: skip
    if unused:  # a new base's (train-base, study); image_files.file_warnings leaves it out
        dataset.warnings.append(unused)
        dataset.source[UNUSED_BITS_STORED] = unused
    n_own, n_read = readings.intensity.get("dicom_window", 0), sum(readings.intensity.values())
    own = own_windows_note(n_own, n_read, root.name)
    if own:  # a new base's, as the unused --bits-stored is
        dataset.warnings.append(own)
        dataset.source[OWN_WINDOWS] = own
    acquired = sorted({m for m in readings.acquired if m})
    if acquired:  # DICOM Modality values: CT, MR
        dataset.source["acquired"] = acquired
    if len(units) < len(entries):
        dataset.source["dicom_series"] = sum(len(u.files) > 1 for u in units)
    return dataset


def _read_units(
    units: list[Unit],
    options: ReadOptions,
    on_error: str,
    progress: Callable[[int, int], None] | None,
    *,
    keep_blank: bool = True,
    listed_in: Path | None = None,
) -> _Readings:
    """Read every unit in order; an unreadable one is skipped or refused (``on_error``). A
    file that path CSV ``listed_in`` lists and that does not exist is refused with every one
    missing counted."""
    readings = _Readings(ReadChecks(options))
    for done, unit in enumerate(units, start=1):
        entry = unit.entry
        try:
            read = unit.read(options)
            digest = unit.digest()
        except OptionError as exc:
            raise ConfigError(
                f"slices (--slices): {exc} ({entry.path}); pick an index every volume has, or "
                "'middle' or 'all'"
            ) from None
        except Exception as exc:
            if isinstance(exc, FileNotFoundError) and listed_in is not None and on_error != "skip":
                said = missing_refusal(listed_in, [path for u in units for path in u.files])
                if said is not None:
                    raise DataError(said) from None
            readings.skipped.append((str(entry.path), _skip_reason(entry, exc, on_error)))
        else:
            if not keep_blank and is_blank(read):  # refused once all are read, or left out
                readings.blank.append(str(entry.path))
                readings.skipped.append((str(entry.path), BLANK_REASON))
            else:
                readings.add(unit, read, digest)
        if progress is not None:
            progress(done, len(units))
    return readings


def blank_refusal(blank: list[str], total: int, counted: str = "image files") -> str:
    """Why training data holding the blank files ``blank`` (of ``total`` ``counted``: image
    files, or the images of an array) are refused."""
    one = len(blank) == 1
    return (
        f"{len(blank)} of {total} {counted} {'is' if one else 'are'} blank, every pixel the "
        f"same value (first: {blank[0]}): {'it teaches' if one else 'they teach'} the model "
        f"nothing; remove {'it' if one else 'them'}, or pass --on-error skip to leave "
        f"{'it' if one else 'them'} out"
    )


def blank_note(blank: list[str], total: int, counted: str = "image files") -> list[str]:
    """The warning that the blank files ``blank`` (of ``total`` ``counted``) were left out (or
    none)."""
    if not blank:
        return []
    they = "it teaches" if len(blank) == 1 else "they teach"
    return [f"left out {len(blank)} of {total} {counted} as blank, every pixel the same "
            f"value (first: {blank[0]}): {they} the model nothing"]  # fmt: skip


def _skip_reason(entry: Entry, exc: Exception, on_error: str) -> str:
    """Why ``entry`` could not be read; refused unless ``on_error`` is "skip"."""
    reason = describe_error(exc, entry.path)
    if on_error != "skip":
        raise DataError(
            f"{refusal(entry.path, exc, entry.where)}; fix or remove the file, or pass "
            "--on-error skip to leave it out"
        ) from None
    return reason


def _dataset_of(
    readings: _Readings,
    entries: list[Entry],
    class_list: list[str],
    options: ReadOptions,
    n_channels: int,
    root_name: str,
) -> ImageDataset:
    """The samples as one tensor of ``n_channels`` channels, fitted to the image size, with
    what the checks found (``warnings``, naming the source ``root_name``)."""
    samples = readings.samples
    images = torch.stack(
        [
            fit_size(torch.from_numpy(to_channels(a, n_channels)), options.image_size, options.fit)
            for a, _, _, _ in samples
        ]
    )
    index = {c: i for i, c in enumerate(class_list)}
    y = torch.tensor([index[e.label] for _, e, _, _ in samples], dtype=torch.long)
    groups = [e.group or "" for _, e, _, _ in samples] if entries[0].group is not None else None
    twelve_bit = twelve_bit_note(readings.checks.stored_max, root_name)  # kept apart, too
    to_gray = sum(colour_to_gray(a, n_channels) for a, _, _, _ in samples)
    return ImageDataset(
        images=images.contiguous(),
        y=y,
        classes=class_list,
        groups=groups,
        paths=[str(e.path) for _, e, _, _ in samples],
        skipped=readings.skipped,
        keys=[k for _, _, k, _ in samples],
        subjects=[p for _, _, _, p in samples],
        notes=readings.notes,
        aspects=readings.aspects,
        brightness=readings.brightness,
        acquired=readings.acquired,
        warnings=[
            *blank_note(readings.blank, len(entries)),
            *([twelve_bit] if twelve_bit else []),
            *readings.checks.warnings(root_name, twelve_bit=False),
        ],
        twelve_bit_note=twelve_bit,
        conversions=conversion_notes(to_gray, readings.alpha_dropped),
    )


STAYS_GREY = "a greyscale image converted to colour stays grey"
KEEPS_ITS_OWN = "a colour image converted to greyscale keeps its own brightness and contrast"
SHORTCUT_ADVICE = (
    "but the images still differ by class in how they were exported ({how}): a model can "
    "tell the classes apart by that alone, a shortcut that fails at a site that exports them "
    "alike; export every class the same way before trusting its figures"
)


def colour_follows_classes(found: list[tuple[int, str]]) -> str | None:
    """Where greyscale and colour images are mixed and every class is all one or the other
    (``found``: each image's channel count and class), that in words: the colour tells the
    class, a shortcut (a trial's 'normal' folder exported in colour, 'pneumonia' in
    greyscale); None otherwise (no mix, one class, or a class holding both)."""
    kinds: dict[str, set[int]] = {}
    for count, label in found:
        kinds.setdefault(label, set()).add(count)
    if len(kinds) < 2 or any(len(k) > 1 for k in kinds.values()):
        return None
    grey = sorted(c for c, k in kinds.items() if k == {1})
    colour = sorted(c for c, k in kinds.items() if k != {1})
    if not grey or not colour:
        return None
    return (
        f"every image of {', '.join(map(repr, grey))} is greyscale and every one of "
        f"{', '.join(map(repr, colour))} in colour"
    )


def _channel_count(root: Path, found: list[tuple[int, Path]], channels: int | None,
                   shortcut: str | None = None) -> int:  # fmt: skip
    if channels is not None:
        return channels
    gray = [p for c, p in found if c == 1]
    colour = [p for c, p in found if c == 3]
    if gray and colour and shortcut:
        raise DataError(
            f"{root} mixes grayscale ({len(gray)}) and colour ({len(colour)}) images, and the "
            f"mix follows the classes: {shortcut}, so a model could learn the colour, not the "
            "findings; export every class the same way (best), or pass --channels 1 or "
            "--channels 3 to convert them all (the shortcut may remain)"
        )
    if gray and colour:
        raise DataError(
            f"{root} mixes grayscale ({len(gray)}) and colour ({len(colour)}) images (e.g. "
            f"{gray[0]} and {colour[0]}): pass --channels 1 or --channels 3 to convert them all"
        )
    return 3 if colour else 1
