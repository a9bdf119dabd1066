"""What is said of one image a model scores: how it is unlike the model's training images, and
what reading it showed (raw CT, 12-bit values in 16 bits, a tiny image, colour made gray).

One source of those words for every place that says them of a single image: ``serve``'s
``note`` (:mod:`medadapt.serve.image_decode`) and the cautions of a DICOM SR, whether ``serve``
or ``predict --store-sr`` stores it (:mod:`medadapt.workflows.dicomweb`). Each note is a
sentence of its own (a report stores one TEXT item each; an answer joins them with ``; ``);
the file is named as the caller names it (a SOPInstanceUID for a PACS image, never a path).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from medadapt.data.dicom_series import units_of
from medadapt.data.image_files import (
    brightness_note,
    check_scoreable,
    modality_note,
    one_slice_note,
    read_one_slice,
    scaling_note,
    shape_note,
    unlike_training,
)
from medadapt.data.image_io import ReadChecks, colour_to_gray, conversion_notes
from medadapt.data.image_look import one_image_note
from medadapt.data.image_sources import Entry

if TYPE_CHECKING:
    import torch

    from medadapt.data.image_io import FileRead
    from medadapt.data.image_schema import ImageSchema


def image_notes(
    schema: ImageSchema,
    name: str,
    read: FileRead,
    n_files: int = 1,
    inputs: Sequence[torch.Tensor] | None = None,
) -> tuple[str, ...]:
    """What is said of the image ``name`` (as ``read`` with ``schema``'s options; ``n_files``:
    the files of a series read as one volume; ``inputs``: its samples as the model takes them,
    where the caller has them), one sentence each: its intensity scaling, shape, DICOM kind,
    brightness and look unlike the training images', raw CT, a tiny image, 12-bit values in 16
    bits (unless the training images' brightness is compared), colour made gray, transparency
    dropped, a volume scored on one slice."""
    unlike = unlike_training(schema, name, read, inputs)
    checks = ReadChecks(schema.read_options())
    checks.add(read, n_files)
    to_gray = sum(colour_to_gray(sample, schema.channels) for sample in read.samples)
    said = [scaling_note(schema, read.how), shape_note(schema, unlike.shapes, 1),
            modality_note(schema, unlike.kinds, 1), brightness_note(schema, unlike.levels, 1),
            _look_of_samples(unlike.looks, read.frames),
            *checks.warnings(name, twelve_bit=schema.brightness is None, one_image=True),
            *conversion_notes(to_gray, int(read.alpha_dropped), one_image=True),
            *one_slice_note(int(read_one_slice(read)), schema, frame=read.frames[0])]  # fmt: skip
    return tuple(note.removeprefix(f"{name}: ") for note in said if note)


SLICES_NAMED = 5  # the slices a note names of a volume's odd ones, the rest counted


def _look_of_samples(looks: Sequence[list[str]], frames: Sequence[int | None]) -> str | None:
    """:func:`~medadapt.data.image_look.one_image_note` of a file's samples that look far
    unlike the training images: of "it" where it is one image, else naming the slices (a
    review's one blank slice of six was said of every slice)."""
    odd = [(frame, ways) for frame, ways in zip(frames, looks, strict=False) if ways]
    if not odd:
        return None
    if len(looks) == 1:
        return one_image_note(odd[0][1])
    named = ", ".join(str(frame) for frame, _ in odd[:SLICES_NAMED])
    if len(odd) > SLICES_NAMED:  # a 300-slice volume's note names a few, and counts the rest
        named += f" and {len(odd) - SLICES_NAMED} more"
    many = len(odd) > 1
    return one_image_note(odd[0][1], f"slice{'s' if many else ''} {named} of it", many)


def notes_of_files(
    schema: ImageSchema, files: Sequence[Path], names: dict[Path, str]
) -> dict[Path, tuple[str, ...]]:
    """:func:`image_notes` of DICOM ``files`` read again as ``schema`` reads them (in 3D, the
    files of a series are one volume: each of them gets its notes), each named by
    ``names[file]``. A file that cannot be read is left out (it was not scored)."""
    entries = [Entry(Path(path), "", None, "dicom") for path in files]
    options = schema.read_options()
    out: dict[Path, tuple[str, ...]] = {}
    for unit in units_of(entries, schema.spatial_dims):
        try:
            read = check_scoreable(unit.read(options))
        except Exception:  # the run that scored the images said why, and left it out
            continue
        said = image_notes(schema, names[unit.entry.path], read, len(unit.files))
        out.update(dict.fromkeys(map(Path, unit.files), said))
    return out
