"""The image-only options of the shared verbs (flags ``--backbone``, ``--window`` ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt import checks
from medadapt.errors import ConfigError
from medadapt.modalities.base import (
    EPOCHS_HELP,
    PATIENCE_HELP,
    ModalityOptions,
    TrainingDefaults,
)

DEFAULT_BACKBONE = "timm:vit_tiny_patch16_224"  # when --backbone is not given
DEFAULT_IMAGE_SIZE = 224  # when --image-size is not given
TRAINING = TrainingDefaults(  # each kind of training's settings, where no flag sets them
    base={"lr": 1e-3, "batch_size": 32, "epochs": 40, "patience": 8, "weight_decay": 0.05},
    adapter={"lr": 3e-3, "batch_size": 32, "epochs": 60, "patience": 12},
    full={"lr": 3e-4, "batch_size": 32, "epochs": 60, "patience": 12},
    fixed_epochs_without_validation=15,
)
#: the largest ``--image-size`` per ``--spatial-dims``. 2D: 2048 px per side covers the full
#: matrix of nearly every radiograph and mammogram detector (most export at or below it); one
#: such image is 16 MB as the model takes it (float32), and a ViT's attention grows with the
#: square of its patch count (16,384 patches of 16 px at 2048). 3D: a 256-voxel cube is already
#: 16.8 million voxels (67 MB) per volume, beyond what CT and MR models are trained at (96 to
#: 192). Larger sizes fail deep in the allocator (40 GB for one 100,000 px image).
MAX_IMAGE_SIZE = {2: 2048, 3: 256}

TRAIN, ADAPT, EVALUATE, PREDICT, STUDY = "train-base", "adapt", "evaluate", "predict", "study"
CHECK = "check-data"  # reads the data as adapt would: the options that say which samples
READING = (TRAIN, STUDY)  # how a new base reads its images (later: as its schema says)
PACS = (TRAIN, ADAPT, EVALUATE, PREDICT)  # the verbs that read --data dicomweb+http(s)://...


def _option(help: str, *verbs: str, default=None, kind=None):
    return field(default=default, metadata={"help": help, "verbs": verbs, "type": kind})


@dataclass(frozen=True)
class ImageOptions(ModalityOptions):
    """Options that apply to images only; each names the verbs that take it."""

    backbone: str | None = _option(
        "timm:<ViT name> or monai:vit (default timm:vit_tiny_patch16_224).", TRAIN, STUDY
    )
    weights: Path | None = _option(
        "Local pretrained weights (.pth, .pt, .safetensors); nothing is downloaded.",
        TRAIN,
        STUDY,
        kind=Path,
    )
    image_size: int | None = _option(
        "Resize to N px per side (default 224; at most 2048, volumes 256).", *READING
    )
    channels: int | None = _option("1 or 3 (default: as stored).", *READING)
    window: str | None = _option("CT: preset (brain, lung...) or LEVEL,WIDTH.", *READING)
    spatial_dims: int | None = _option("2 (slices, default) or 3 (volumes).", *READING)
    slices: str | None = _option("Volumes read as 2D: middle (default) | all | N.", *READING)
    spacing: str | None = _option(
        "NIfTI/DICOM volumes: auto (isotropic, default) | none | X,Y,Z voxel size in mm.",
        *READING,
    )
    bits_stored: int | None = _option(
        "16-bit PNGs holding N bits (12: detector values 0..4095): divide by 2**N-1, not "
        "65535; a picture with a higher value is refused. Recorded with the base.",
        *READING,
    )
    class_names: str | None = _option(
        "Class order, or names of an .npz's labels 0..K-1 (a,b,c).", *READING
    )
    positive_class: str | None = _option(
        "Two classes: the one whose detection sensitivity and P(positive) are about.",
        TRAIN,
        STUDY,
    )
    normalize: str | None = _option(
        "auto (pretrained mean/std with --weights, default) | none | imagenet | M,S.",
        TRAIN,
        STUDY,
    )
    backbone_options: str | None = _option(
        "Backbone sizes, e.g. depth=4,embed_dim=192,num_heads=3.", TRAIN, STUDY
    )
    freeze_backbone: bool = _option(
        "Train only the head (on cached features).", TRAIN, default=False
    )
    split: str | None = _option(
        "MedMNIST .npz: train (default) | val | test.", TRAIN, ADAPT, EVALUATE, STUDY, CHECK
    )
    path_column: str | None = _option(
        "Image CSVs: the column holding file paths (default path, or the one the base "
        "model was trained with).",
        TRAIN,
        ADAPT,
        EVALUATE,
        PREDICT,
        STUDY,
        CHECK,
    )
    epochs: int | None = _option(EPOCHS_HELP, TRAIN, ADAPT, STUDY)
    patience: int | None = _option(PATIENCE_HELP, TRAIN, ADAPT)
    lr: float | None = _option(
        f"Images: learning rate (default: {TRAINING.base['lr']:g} for train-base, "
        f"{TRAINING.adapter['lr']:g} for an adapter, {TRAINING.full['lr']:g} for --method "
        "full; a table's is fixed).",
        TRAIN,
        ADAPT,
    )
    on_error: str | None = _option(
        "refuse (default: stop at the first unreadable file) | skip (leave it out, list it, "
        "record it).",
        TRAIN,
        ADAPT,
        EVALUATE,
        PREDICT,
        STUDY,
        CHECK,
    )
    new_classes: str | None = _option(
        "Comma-separated classes to add (the data holds old and new).", ADAPT
    )
    top_blocks: int | None = _option(
        "Adapters only in the top K blocks, trained on cached features.", ADAPT
    )
    compare_full: bool = _option(
        "New classes: also full fine-tune and compare retention (--no-compare-full to skip: "
        "the fine-tune trains every weight, several times the adapter's time on a CPU).",
        ADAPT,
        default=True,
    )
    old_data: Path | None = _option(
        "New classes: the base's training images; retention is measured on its held-out images.",
        ADAPT,
        kind=Path,
    )
    labels: Path | None = _option(
        "--data dicomweb+...: CSV of StudyInstanceUID (or SeriesInstanceUID, SOPInstanceUID), "
        "label and optional group and patient columns; with a server root, the studies to fetch.",
        *PACS,
        kind=Path,
    )
    dicomweb_token_file: Path | None = _option(
        "--data dicomweb+...: a file holding the PACS's bearer token, or USER:PASSWORD for "
        "basic auth (kept off the command line).",
        *PACS,
        kind=Path,
    )
    dicomweb_ca_bundle: Path | None = _option(
        "--data dicomweb+https://...: the CA certificate (PEM) that signed the PACS's TLS "
        "certificate, when it is not one this machine trusts (a hospital's own CA).",
        *PACS,
        kind=Path,
    )
    dicomweb_timeout: float | None = _option(
        "--data dicomweb+...: seconds the PACS may take to answer (default 60); a PACS silent "
        "that long is asked once more, then the command stops with an error.",
        *PACS,
        kind=float,
    )
    dicomweb_cache: Path | None = _option(
        "--data dicomweb+...: keep the fetched images in DIR (default: a temporary folder, "
        "removed after the run).",
        *PACS,
        kind=Path,
    )
    store_sr: bool = _option(
        "--data dicomweb+...: store the predictions in the PACS as DICOM SR (a series that "
        "holds one from this model version already is skipped, with a note: see "
        "--store-sr-again).",
        PREDICT,
        default=False,
    )
    store_sr_again: bool = _option(
        "With --store-sr: store another report where a study holds one from this very model "
        "version already (--force only replaces --out).",
        PREDICT,
        default=False,
    )

    def given(self) -> dict:
        """Options set to a value other than their default (``--no-compare-full`` too)."""
        out = super().given()
        if not self.compare_full:
            out["--no-compare-full"] = True
        return out

    def check(self, verb: str, *, data: Path | None = None, **context: Any) -> ImageOptions:
        """Each value in range, by its flag (before any work)."""
        from medadapt.data.intensity import check_bits_stored
        from medadapt.modalities.images.parsing import parse_window

        if self.image_size is not None and self.image_size < 8:
            raise ConfigError(f"--image-size must be at least 8 pixels; got {self.image_size}")
        checks.one_of(self.channels, "--channels", (1, 3))
        checks.one_of(self.spatial_dims, "--spatial-dims", (2, 3))
        check_image_size(self.image_size, self.spatial_dims or 2)
        slices = self.slices
        if slices is not None and slices not in ("middle", "all") and not slices.isdigit():
            raise ConfigError(
                f"--slices must be middle, all or a slice index (0, 1, ...); got {slices!r}"
            )
        if self.positive_class is not None and not self.positive_class.strip():
            raise ConfigError(
                "--positive-class is empty; name the class that is the outcome to detect"
            )
        checks.one_of(self.split, "--split", ("train", "val", "test"))
        parse_window(self.window)
        check_bits_stored(self.bits_stored)
        if self.split is not None and data is not None and not str(data).lower().endswith(".npz"):
            raise ConfigError(f"--split applies to .npz files, not to {data}; drop the option")
        if self.bits_stored is not None and data is not None and str(data).lower().endswith(".npz"):
            raise ConfigError(
                f"--bits-stored applies to 16-bit PNG pictures, not to the arrays of {data} "
                "(divided by their type's maximum); drop the option"
            )
        if self.on_error is not None and self.on_error not in ("refuse", "skip"):
            raise ConfigError(f"--on-error must be refuse or skip, got {self.on_error!r}")
        checks.finite(self.dicomweb_timeout, "--dicomweb-timeout")
        checks.positive(self.dicomweb_timeout, "--dicomweb-timeout")
        checks.at_least(self.epochs, "--epochs")
        checks.at_least(self.patience, "--patience")
        if self.lr is not None and not self.lr > 0:
            raise ConfigError(f"--lr must be positive; got {self.lr:g}")
        checks.at_least(self.top_blocks, "--top-blocks")
        for flag, text in (("--new-classes", self.new_classes),
                           ("--class-names", self.class_names)):  # fmt: skip
            checks.names(text, flag)
            check_class_names(text, flag)
        check_weights_file(self.weights)
        if self.old_data is not None and not Path(self.old_data).exists():  # named by its flag
            raise ConfigError(
                f"--old-data {self.old_data} does not exist: pass the base model's training "
                "images (a folder with one sub-folder per class, a CSV of path,label or a "
                "MedMNIST .npz file)"
            )
        if isinstance(self.backbone_options, str):
            check_patch_size(self.backbone_options, self.image_size)
        return self


def check_image_size(image_size: int | None, spatial_dims: int) -> None:
    """``--image-size`` at most :data:`MAX_IMAGE_SIZE` for ``spatial_dims`` (before anything
    is read: a larger one fails in the allocator, with a traceback)."""
    top = MAX_IMAGE_SIZE[spatial_dims]
    if image_size is None or image_size <= top:
        return
    what, one = ("a 2D image", "one image") if spatial_dims == 2 else (
        "a volume (--spatial-dims 3)", "one volume")  # fmt: skip
    mb = 4 * image_size**spatial_dims / 1e6
    raise ConfigError(
        f"--image-size {image_size} is more than the {top} px per side medadapt reads {what} "
        f"at ({one} alone would take {mb:,.0f} MB of memory as the model takes it, and a "
        "ViT's work grows with the square of its patches): choose a smaller --image-size "
        f"({DEFAULT_IMAGE_SIZE}, the default, suits most models)"
    )


def check_class_names(text: str | None, flag: str) -> None:
    """Each class named once, and no name empty (``a,,b``: read as ``a,b``, every later
    label would shift onto the wrong class)."""
    if text is None:
        return
    parts = [part.strip() for part in text.split(",")]
    if "" in parts:
        raise ConfigError(
            f"{flag} {text}: name {parts.index('') + 1} of {len(parts)} is empty (two commas "
            "in a row, or one at an end); give one name per class, e.g. normal,nodule,mass"
        )
    repeated = next((name for i, name in enumerate(parts) if name in parts[:i]), None)
    if repeated is not None:
        raise ConfigError(
            f"{flag} {text} names {repeated!r} twice; each class needs its own name, given once"
        )


def check_weights_file(weights: Path | str | None) -> None:
    """``--weights`` names an existing PyTorch or safetensors file (before any work)."""
    from medadapt.backbones.weights import WEIGHTS_SUFFIXES  # torch: not at start-up

    if weights is None:
        return
    path = Path(weights)
    if not path.exists():
        raise ConfigError(
            f"--weights {path} does not exist; pass a local .pth, .pt or .safetensors file"
        )
    if path.is_dir():
        raise ConfigError(
            f"--weights {path} is a directory; pass the weights file in it (.pth, .pt or "
            ".safetensors)"
        )
    if path.suffix.lower() not in WEIGHTS_SUFFIXES:
        raise ConfigError(
            f"--weights {path} is not a weights file (its suffix is {path.suffix or 'none'}): "
            "pass a .pth, .pt or .safetensors file"
        )


def check_patch_size(backbone_options: str, image_size: int | None) -> None:
    """``--backbone-options patch_size=P`` must cut ``--image-size`` into whole patches."""
    from medadapt.modalities.images.parsing import parse_backbone_options

    sizes = parse_backbone_options(backbone_options)
    if "patch_size" not in sizes:
        return
    patch = sizes["patch_size"]
    size = image_size or DEFAULT_IMAGE_SIZE
    whole = isinstance(patch, int) and not isinstance(patch, bool)
    if whole and 1 <= patch <= size and size % patch == 0:
        return
    given = f"--image-size {size}" if image_size else f"--image-size {size} (the default)"
    fits = [p for p in (16, 14, 8, 4, 2) if size % p == 0 and size // p >= 2]
    example = f" (e.g. patch_size={fits[0]})" if fits else ""
    raise ConfigError(
        f"--backbone-options patch_size={patch} does not divide {given} into whole patches: "
        f"give a patch_size that divides {size}{example}, or another --image-size"
    )
