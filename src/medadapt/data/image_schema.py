"""What an image model expects, and how to read new data the same way it was trained on.

:class:`ImageSchema` is stored with an image base model (``BASE/model.json``): the class names
(in output order), channels, size, 2D/3D, how intensities were normalised, and every loader
option that changes what a file becomes (CT window, slice axis and selection, fit, voxel
spacing, the bits a 16-bit picture holds), and the CSV columns it was read with (path, label,
group, patient id). New data is read with
``load_images(source, **schema.load_options(), classes=schema.classes)``. ``spacing`` None
(models saved before it was recorded) keeps their voxel-count resizing; ``bits_stored`` None
their division of 16-bit pictures by 65535; ``aspect``, ``brightness`` and
``dicom_modalities`` record the training images' shapes, brightest levels (the 5th and 95th
percentiles of each image's 99th-percentile intensity in [0, 1]) and DICOM Modality values
(CT, MR), so images unlike them are said when they are scored; ``mean_level``, ``contrast``
and ``grain`` the 5th and 95th percentiles of each image's mean intensity, spread and mean
difference between neighbouring pixels, so that a set of images unlike them on the whole
(another scanner or export), or one image far unlike them (noise, a blank frame), is said (None
or empty: models saved before they were recorded, which say nothing).

:func:`source_digest` identifies a labelled image source by its listing (file names and sizes,
plus the CSV's bytes, or an ``.npz``'s bytes) and the options that decide how many samples each
file gives, so a split recorded as sample indices can be checked before it is reused.

>>> schema = ImageSchema(classes=("normal", "nodule"), channels=1, image_size=64)
>>> ImageSchema.from_dict(schema.to_dict()) == schema, schema.task
(True, 'binary')
>>> is_image_source("cases.npz"), is_image_source("table.parquet")
(True, False)
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medadapt.data.dicom_files import looks_like_dicom
from medadapt.errors import ConfigError, DataError
from medadapt.fileio import sha256_file
from medadapt.wording import noun_for

if TYPE_CHECKING:
    from medadapt.data.image_dataset import ImageDataset
    from medadapt.data.image_io import ReadOptions

SCHEMA_FORMAT = 1
_IMAGE_SUFFIXES = (".npz", ".dcm", ".dicom", ".nii", ".nii.gz", ".png", ".jpg", ".jpeg")
NORMALISATION = (
    "float32 in [0, 1]: 8/16-bit pictures divided by 255/65535 (16-bit: 2**bits_stored - 1 "
    "when bits_stored is set); DICOM/NIfTI through the "
    "window when one is set (else DICOM's own window, else min-max; a DICOM film without a "
    "window divided by the maximum of its bits stored, 8, or under the 16 allocated, where the "
    "model trained on pictures only); MONOCHROME1 inverted"
)


@dataclass(frozen=True, kw_only=True)
class ImageSchema:
    """Classes and input format of an image model (see the module docstring)."""

    classes: tuple[str, ...]
    channels: int
    image_size: int
    spatial_dims: int = 2
    window: tuple[float, float] | None = None
    slice_axis: int = 2
    slices: str | int = "middle"
    fit: str = "pad"
    spacing: str | tuple[float, float, float] | None = None
    bits_stored: int | None = None  # 16-bit pictures divided by 2**bits_stored - 1
    path_column: str = "path"
    label_column: str = "label"
    group_column: str | None = None
    id_column: str | None = None
    source_kind: str | None = None
    intensity: dict[str, int] = field(default_factory=dict)
    aspect: tuple[float, float] | None = None  # the training images' shapes (see image_io)
    brightness: tuple[float, float] | None = None  # their brightest levels (see image_io)
    mean_level: tuple[float, float] | None = None  # their mean intensities (image_io.look_ranges)
    contrast: tuple[float, float] | None = None  # their spreads of intensity (the same)
    grain: tuple[float, float] | None = None  # their neighbouring pixels' differences (same)
    dicom_modalities: tuple[str, ...] = ()  # what the DICOM training images were: CT, MR
    normalisation: str = NORMALISATION

    def __post_init__(self) -> None:
        classes = tuple(str(c) for c in self.classes)
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ConfigError(f"an image schema needs two or more distinct classes, got {classes}")
        object.__setattr__(self, "classes", classes)
        if self.window is not None:
            object.__setattr__(self, "window", tuple(float(v) for v in self.window))
        if self.aspect is not None:
            object.__setattr__(self, "aspect", tuple(float(v) for v in self.aspect))
        for name in ("brightness", "mean_level", "contrast", "grain"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        object.__setattr__(self, "dicom_modalities", tuple(map(str, self.dicom_modalities)))
        if self.spacing is not None and self.spacing != "auto":
            spacing = tuple(float(v) for v in self.spacing)
            if len(spacing) != 3 or min(spacing) <= 0:
                raise ConfigError(f"spacing must be 'auto' or three positive sizes, got {spacing}")
            object.__setattr__(self, "spacing", spacing)
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels=}")
        if self.spatial_dims not in (2, 3):
            raise ConfigError(f"spatial_dims must be 2 or 3, got {self.spatial_dims=}")
        if self.image_size < 2:
            raise ConfigError(f"image_size must be at least 2, got {self.image_size=}")

    @property
    def task(self) -> str:
        """``binary`` for two classes (scores are P(second class)), else ``multiclass``."""
        return "binary" if len(self.classes) == 2 else "multiclass"

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def with_classes(self, classes: Sequence[str]) -> ImageSchema:
        """The same input format for a longer class list (old classes first)."""
        classes = tuple(classes)
        if classes[: self.n_classes] != self.classes:
            raise ConfigError(
                f"extended classes {list(classes)} must start with the model's classes "
                f"{list(self.classes)}"
            )
        return replace(self, classes=classes)

    def load_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`~medadapt.data.images.load_images` (not ``classes``)."""
        return {
            "image_size": self.image_size,
            "channels": self.channels,
            "spatial_dims": self.spatial_dims,
            "window": self.window,
            "slice_axis": self.slice_axis,
            "slices": self.slices,
            "fit": self.fit,
            "spacing": self.spacing,
            "bits_stored": self.bits_stored,
            "path_column": self.path_column,
            "label_column": self.label_column,
            "unwindowed_as_picture": self.unwindowed_as_picture,
        }

    @property
    def unwindowed_as_picture(self) -> bool:
        """Whether a DICOM file without a window is read as a picture (divided by the maximum
        of its bits stored): where the base's own training images (counted), not an
        adapter's ways added at 0, were all pictures. Every read for this model (``adapt``,
        ``evaluate``, ``predict``, ``serve``) reads its site's files so (``adapt`` min-max
        scaled the 8-bit DICOM files that ``predict`` divided by 255)."""
        return {h for h, n in self.intensity.items() if n} == {"fixed_scale"}

    def read_options(self) -> ReadOptions:
        """How one file is read for this model (:func:`~medadapt.data.image_io.read_file`)."""
        # lazy: image_io loads torch and MONAI; the CLI imports this module for is_image_source
        from medadapt.data.image_io import ReadOptions

        return ReadOptions(
            spatial_dims=self.spatial_dims,
            window=self.window,
            slice_axis=self.slice_axis,
            slices=self.slices,
            image_size=self.image_size,
            fit=self.fit,
            spacing=self.spacing,
            bits_stored=self.bits_stored,
            unwindowed_as_picture=self.unwindowed_as_picture,
        )

    def check(self, dataset: ImageDataset, where: str = "the data") -> None:
        """Refuse a loaded data set whose tensors the model cannot take."""
        shape = tuple(dataset.images.shape[1:])
        expected = (self.channels, *(self.image_size,) * self.spatial_dims)
        if shape != expected:
            raise DataError(
                f"{where} has images of shape {shape} but the model takes {expected}: load it "
                "with schema.load_options()"
            )

    @classmethod
    def from_dataset(cls, dataset: ImageDataset, **loader: Any) -> ImageSchema:
        """The schema of a loaded data set; ``loader``: path_column, label_column,
        group_column (the CSV columns it was read with)."""
        source = dataset.source or {}
        window = source.get("window")
        return cls(
            classes=tuple(dataset.classes),
            channels=dataset.channels,
            image_size=dataset.image_size,
            spatial_dims=dataset.spatial_dims,
            window=None if window is None else tuple(window),
            slice_axis=int(source.get("slice_axis", 2)),
            slices=source.get("slices", "middle"),
            fit=source.get("fit", "pad"),
            spacing=_spacing(source.get("spacing")),
            bits_stored=source.get("bits_stored"),
            source_kind=source.get("kind"),
            intensity=dict(source.get("intensity", {})),
            aspect=source.get("aspect"),
            brightness=source.get("brightness"),
            mean_level=source.get("mean_level"),
            contrast=source.get("contrast"),
            grain=source.get("grain"),
            dicom_modalities=tuple(source.get("acquired") or ()),
            **loader,
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["classes"] = list(self.classes)
        out["window"] = None if self.window is None else list(self.window)
        out["aspect"] = None if self.aspect is None else list(self.aspect)
        for name in ("brightness", "mean_level", "contrast", "grain"):
            out[name] = None if getattr(self, name) is None else list(getattr(self, name))
        out["dicom_modalities"] = list(self.dicom_modalities)
        out["spacing"] = list(self.spacing) if isinstance(self.spacing, tuple) else self.spacing
        out["format"] = SCHEMA_FORMAT
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageSchema:
        data = dict(data)
        version = int(data.pop("format", SCHEMA_FORMAT))
        if version > SCHEMA_FORMAT:
            raise ConfigError(
                f"image schema format {version} is newer than this medadapt reads: upgrade medadapt"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            named = noun_for(len(unknown), "field")
            raise ConfigError(f"unknown image schema {named} {unknown}: upgrade medadapt")
        return cls(**data)


def _spacing(value: Any) -> str | tuple[float, float, float] | None:
    if value is None or isinstance(value, str):
        return value
    return tuple(float(v) for v in value)  # type: ignore[return-value]


def image_file_listing(paths: Sequence[str], root: Path) -> list[tuple[str, int]]:
    """``(path relative to root, size in bytes or -1 when missing)`` per distinct file."""
    out = []
    for raw in sorted(set(paths)):
        path = Path(raw)
        try:
            name = str(path.relative_to(root))
        except ValueError:
            name = str(path)
        out.append((name, path.stat().st_size if path.is_file() else -1))
    return out


def source_digest(source: str | Path, dataset: ImageDataset) -> str:
    """SHA-256 identifying ``source`` as loaded into ``dataset`` (see the module docstring)."""
    source = Path(source)
    info = dataset.source or {}
    body: dict[str, Any] = {
        "kind": info.get("kind"),
        "split": info.get("split"),
        "spatial_dims": dataset.spatial_dims,
        "slices": info.get("slices"),
        "slice_axis": info.get("slice_axis"),
        "n_samples": len(dataset),
    }
    if source.is_file() and source.suffix.lower() == ".npz":
        body["npz_sha256"] = sha256_file(source)
    else:
        root = source if source.is_dir() else source.parent
        if source.is_file():
            body["csv_sha256"] = sha256_file(source)
        files = [p for p in dataset.paths] + [p for p, _ in dataset.skipped]
        body["files"] = image_file_listing(files, root)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def is_image_source(path: str | Path, path_column: str = "path") -> bool:
    """A folder, an ``.npz``, a DICOM/NIfTI/PNG/JPEG file (DICOM also under another name,
    by its first bytes), or a CSV/TSV whose header has ``path_column`` (only the header is
    read; no heavy import, so the CLI stays fast)."""
    path = Path(path)
    name = path.name.lower()
    if path.is_dir() or name.endswith(_IMAGE_SUFFIXES):
        return True
    if name.endswith((".csv", ".tsv")) and path.is_file():
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle, delimiter="\t" if name.endswith(".tsv") else ","), [])
        return path_column in [h.strip().lstrip("\ufeff") for h in header]
    return path.is_file() and looks_like_dicom(path)
