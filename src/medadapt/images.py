"""The image API in one namespace: ``from medadapt import images``.

Read labelled images (folders, path CSVs, DICOM, NIfTI, MedMNIST ``.npz``), train a ViT base
model, adapt it (also to new classes, with the retention check) and score it: thin functions
over the modality-independent training (:mod:`medadapt.train.fitting`) for an in-memory
:class:`ImageDataset`; the command line's jobs are in :mod:`medadapt.workflows`. A base and an
adapter record which images trained them as the command line's do (by content keys, never a
path or pixel; :mod:`medadapt.modalities.images.splits`), so ``medadapt evaluate`` and
``adapt`` recognise those images in any folder or file and leave them out.

>>> from medadapt import images
>>> images.ImageSchema(classes=("normal", "nodule"), channels=1, image_size=32).task
'binary'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medadapt.adaptation_sample_size import record_sample_size
from medadapt.backbones.normalize import resolve_normalize
from medadapt.backbones.vision import create_vision_backbone, extend_classifier
from medadapt.data.image_files import load_unlabelled, split_by_patient
from medadapt.data.images import ImageDataset, ImageSchema, SkippedFilesWarning, load_images
from medadapt.data.intensity import CT_WINDOWS
from medadapt.data.tensors import TensorData
from medadapt.errors import AdapterStateError, ConfigError, DataError, MedadaptError
from medadapt.evaluate.retention import old_class_retention
from medadapt.evaluate.scoring import score_classifier
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.images.modality import as_trained_on
from medadapt.modalities.images.options import DEFAULT_BACKBONE, ImageOptions
from medadapt.modalities.images.reading import ImageRead
from medadapt.modalities.images.samples import ImageSamples, SourceInfo
from medadapt.results import scored_in_sample
from medadapt.train import fitting
from medadapt.train.fitting import Adaptation, require_network
from medadapt.train.loop import TrainConfig, predict_logits
from medadapt.wording import plural

ImageAdaptation = Adaptation
__all__ = [
    "CT_WINDOWS",
    "ImageAdaptation",
    "ImageDataset",
    "ImageRead",
    "ImageSchema",
    "SkippedFilesWarning",
    "adapt",
    "create_vision_backbone",
    "extend_classifier",
    "load_images",
    "load_unlabelled",
    "logits_of",
    "old_class_retention",
    "predict_proba",
    "resolve_normalize",
    "score_images",
    "split_by_patient",
    "train_base",
]
OnEpoch = Callable[[int, float, float | None], None] | None


def _modality():
    return modality_of("image")


def score_images(
    truth: ImageDataset | Sequence[int] | np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    **options: Any,
) -> dict[str, Any]:
    """:func:`~medadapt.evaluate.scoring.score_classifier` of ``proba`` (N, K; a column per
    class of ``classes``, the model's: ``base.schema.classes``) against ``truth``: the scored
    images themselves, whose labels are read by class name (a dataset loaded in another class
    order is scored against the right columns: a trial's folders, read alphabetically, gave
    AUROC 0.05 for a model of 0.95) and whose patients are resampled together; or their labels
    as indices into ``classes``. ``options``: ``score_classifier``'s (``n_boot``, ``seed``,
    ``groups``, ``threshold``...)."""
    if not isinstance(truth, ImageDataset):
        return score_classifier(truth, proba, classes, **options)
    classes = list(classes)
    unknown = [name for name in truth.classes if name not in classes]
    if unknown:
        raise DataError(
            f"the images' classes {list(truth.classes)} include {unknown}, which the model does "
            f"not score (its classes: {classes}): score them with a model that has "
            f"{'that class' if len(unknown) == 1 else 'those classes'} (images.adapt(..., "
            "new_classes=...))"
        )
    as_model = np.array([classes.index(name) for name in truth.classes])[truth.y.numpy()]
    subjects = truth.subjects
    if subjects is not None and all(subjects):  # a patient's images resampled together
        options.setdefault("patients", subjects)
    return score_classifier(as_model, proba, classes, **options)


def train_base(
    dataset: ImageDataset,
    *,
    backbone: str = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    backbone_options: dict[str, Any] | None = None,
    normalize: str | dict[str, Any] | None = "auto",
    freeze_backbone: bool = False,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    loader: dict[str, Any] | None = None,
    on_epoch: OnEpoch = None,
    positive_class: str | None = None,
) -> BaseModel:
    """Train a ViT classifier on ``dataset`` (all weights, or only the head with
    ``freeze_backbone``: the frozen features are then computed once). ``normalize``: the
    input mean/std ("auto": the pretrained weights' own when ``weights`` are given).
    ``loader``: the CSV columns the data was read with (path, label, group, id).
    ``positive_class``: of two classes, the one scored (what sensitivity is about); without
    it, as the command line decides: a dataset's classes in an order of their own are kept,
    sorted ones put a class that reads as negative (``normal``, ``healthy``, ...) first, and
    else the one that sorts last is positive, with a warning naming ``positive_class``.

    Every image of ``dataset`` trained the model (none is held out): the model records them
    as ``train-base`` records its training images (in ``model.json``'s ``training["split"]``,
    by file, pixel and stored-value keys; images built in memory, without files, by pixel
    key alone), so ``medadapt evaluate`` and ``adapt`` leave them out of any data."""
    from medadapt.data.option_words import PYTHON
    from medadapt.modalities.images.classes import (
        positive_last,
        sorted_positive_warning,
        stray_class_warnings,
    )

    fitting.check_arguments(train_config, seed)
    _check_dataset(dataset)
    classes = list(dataset.classes)
    counts = dict(zip(classes, np.bincount(dataset.y.numpy(), minlength=len(classes)).tolist(),
                      strict=True))  # fmt: skip
    for said in [*stray_class_warnings(counts), *_blank_images(dataset)]:  # what the command
        warnings.warn(said, UserWarning, stacklevel=2)  # line refuses
    order, how = positive_last(classes, positive_class, named=classes != sorted(classes))
    implicit = sorted_positive_warning(order, how, PYTHON)
    if implicit is not None:  # as a table's two-valued label warns
        warnings.warn(implicit, UserWarning, stacklevel=2)
    if order != classes:  # a trial scored images loaded in the folders' order: AUROC 0.0
        warnings.warn(
            f"the model's classes are {tuple(order)} (the positive class last), not dataset's "
            f"order {classes}: predict_proba's columns follow the model's; score them with "
            "images.score_images(dataset, p, base.schema.classes), which reads the labels by "
            "name (a label array must follow the model's order: images.load_images(..., "
            "classes=base.schema.classes))",
            UserWarning, stacklevel=2,
        )  # fmt: skip
    dataset = dataset.with_classes(order)
    with _python_words():  # the shapes, brightness and look of the images it trains on
        schema = as_trained_on(ImageSchema.from_dataset(dataset, **(loader or {})), dataset)
    only = _modality().only_class(schema, dataset.y.numpy())
    if only is not None:
        raise DataError(
            f"dataset holds images of only one class ({only!r}); a model trained on them would "
            "call every image that class: pass images of at least two classes"
        )
    options = ImageOptions(
        backbone=backbone,
        weights=weights,
        backbone_options=dict(backbone_options or {}),  # type: ignore[arg-type]
        normalize="none" if normalize is None else normalize,  # type: ignore[arg-type]
        freeze_backbone=freeze_backbone,
    )
    samples = ImageSamples(dataset)
    with _python_words():
        base = fitting.train_base(
            _modality(), schema, samples, options=options,
            train_config=train_config, seed=seed, freeze_backbone=freeze_backbone,
            on_epoch=on_epoch,
        )  # fmt: skip
    base.training["split"], base.side_files = _modality().base_split(
        None, samples, *_all_trained(samples), **_split_extras(dataset, seed)
    )
    return base


def adapt(
    base: BaseModel,
    dataset: ImageDataset,
    *,
    method: str,
    name: str,
    new_classes: Sequence[str] = (),
    top_blocks: int | None = None,
    into: Any = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    retention: str = "distill",
    on_epoch: OnEpoch = None,
    allow_one_class: bool = False,
    method_options: dict[str, Any] | None = None,
) -> Adaptation:
    """Train adapter ``name`` (for ``full``: a fine-tuned copy) on ``dataset``, whose classes
    are the base classes followed by ``new_classes`` (see :mod:`medadapt.train.growth`).
    ``allow_one_class``: train although the images hold one class (refused by default: the
    adapter can then only learn to call every image that class). ``method_options``: the
    method's settings over its defaults (``{"r": 4}`` for lora), as ``--adapter-options``.

    Every image of ``dataset`` trained the adapter: ``save_adapter`` writes them beside it
    as ``medadapt adapt`` does (``split.json``, by file, pixel and stored-value keys; images
    built in memory by pixel key alone; named in ``adapter.json``'s ``split``), so
    ``medadapt evaluate`` leaves them out of any data. (A fully fine-tuned copy, ``full``, is
    a bare network here: nothing saves it with a record.) The result's ``sample_size``: Riley
    et al.'s development criterion for what it trains, as ``medadapt adapt`` records it."""

    fitting.check_arguments(train_config, seed)
    if not isinstance(base, BaseModel) or not isinstance(base.schema, ImageSchema):
        raise ConfigError(
            "base must be the image model that images.train_base returned (or BaseModel.load), "
            f"not {type(base).__name__}{' for tables' if isinstance(base, BaseModel) else ''}"
        )
    method = fitting.method_named(method)
    options = fitting.python_method_options(method, method_options, into)
    _check_dataset(dataset)
    # one context: a warning the class check and the training both give is said once
    with _python_words():
        classes = _modality().grown_classes(base.schema, new_classes)
        if list(dataset.classes) != classes:
            raise DataError(_classes_differ(list(dataset.classes), classes, bool(new_classes)))
        base.schema.check(dataset)
        only = _modality().only_class(base.schema.with_classes(classes), dataset.y.numpy())
        if only is not None and not allow_one_class:
            raise DataError(
                f"dataset holds images of only one class ({only!r}); an adapter trained on them "
                "would call every image that class: pass images of at least two classes "
                "(allow_one_class=True trains it all the same)"
            )
        samples = ImageSamples(dataset, SourceInfo(n_source=len(dataset)))
        _warn_about_images(base.schema, samples, classes)
        for said in _blank_images(dataset):
            warnings.warn(said, UserWarning, stacklevel=2)
        result = fitting.adapt(
            _modality(), base, samples,
            method=method, name=name, new_classes=new_classes, top_blocks=top_blocks,
            into=into, train_config=train_config, seed=seed, retention=retention,
            on_epoch=on_epoch, method_options=options,
        )  # fmt: skip
    _recording_training_images(result, samples, seed)
    _recording_summary(result, base, samples, method)
    seen = _modality().in_split(None, samples, base.training.get("split"), "train")
    record_sample_size(_modality(), base, result, samples, seen)
    return result


def _classes_differ(theirs: list[str], ours: list[str], grown: bool) -> str:
    """Why ``dataset``'s classes are not the model's, and the call that loads them so (a
    trial was told "load it with classes=<base classes + new classes>", and not where they
    are)."""
    import difflib

    wanted = "[*base.schema.classes, *new_classes]" if grown else "base.schema.classes"
    fix = f"load it with images.load_images(..., classes={wanted})"
    if sorted(theirs) == sorted(ours):
        return (f"dataset's classes {theirs} are the model's {ours} in another order, so its "
                f"labels would be read as the wrong classes: {fix}")  # fmt: skip
    spelt = [(c, difflib.get_close_matches(c, ours, n=1, cutoff=0.6)) for c in theirs
             if c not in ours]  # fmt: skip
    meant = "; ".join(f"{c!r}: did you mean {m[0]!r}?" for c, m in spelt if m)
    new = [c for c, m in spelt if not m]
    if new and not meant and not grown:  # classes of its own: new ones to add, perhaps
        return (f"dataset's classes {theirs} are not the model's {ours}: pass new_classes="
                f"{new} to add {'it' if len(new) == 1 else 'them'} (its classes then follow "
                f"the model's), or {fix}")  # fmt: skip
    return (
        f"dataset's classes {theirs} are not the model's {ours}"
        f"{f' ({meant})' if meant else ''}: rename the folders or labels, or {fix}"
    )


def _warn_about_images(schema: ImageSchema, samples: ImageSamples, classes: list[str]) -> None:
    """The command line's warnings about the images an adapter trains on, at the user's
    line: too few of a class or in all (a trial's 8 images and 3-image class passed without
    a word), and a set that looks unlike the base's training images (another scanner)."""
    from medadapt.data.image_files import look_note
    from medadapt.evaluate.sufficiency import adapter_sample_notes

    notes = adapter_sample_notes(samples, None, classes, "images", "dataset",
                                 fix="pass more images in dataset")  # fmt: skip
    look = look_note(schema, samples.dataset.images)
    for note in [*notes, *([look] if look else [])]:
        warnings.warn(note, UserWarning, stacklevel=3)


# ----- which images trained a model ------------------------------------------------------------
def _all_trained(samples: ImageSamples) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` sample indices: every image trained the model, none is held out."""
    every = np.arange(len(samples))
    return every, every[:0]


def _split_extras(dataset: ImageDataset, seed: int) -> dict[str, Any]:
    """What the command line records beside the keys that the Python API knows: the seed,
    and the ``.npz`` array read (``adapt --old-data`` reads that array of the base's file)."""
    source = dataset.source or {}
    npz = {"npz_split": source["split"]} if source.get("kind") == "npz" else {}
    return {"seed": seed, **npz}


def _recording_training_images(result: Adaptation, samples: ImageSamples, seed: int) -> None:
    """Which images trained adapter ``name``, as the command line's adapt records them: the
    summary in its manifest's ``split`` and the keys in ``split.json`` beside it, which
    ``save_adapter`` writes (a fully fine-tuned copy is a bare network: nothing saves it)."""
    from medadapt.adapters import AdapterModel
    from medadapt.modalities.images.splits import SPLIT_FILE

    if not isinstance(result.model, AdapterModel):
        return
    summary, _, raw = _modality().adapter_split(
        None, samples, *_all_trained(samples), **_split_extras(samples.dataset, seed)
    )
    result.model.adapter_metadata.setdefault(result.name, {})["split"] = summary
    result.model.adapter_files.setdefault(result.name, {})[SPLIT_FILE] = raw


def _recording_summary(
    result: Adaptation, base: BaseModel, samples: ImageSamples, method: str
) -> None:
    """What the adapter predicts and what trained it (counts only), saved with it by
    ``save_adapter`` as the command line's adapt records them (the registry listed a Python
    image adapter with no task, as it once did a table's). Its test figures are the caller's
    to make: none is recorded, and the card says so."""
    from medadapt.adapters import AdapterModel
    from medadapt.train.data_summary import data_summary

    if not isinstance(result.model, AdapterModel):
        return
    modality, classes = _modality(), list(result.classes)
    schema = base.schema.with_classes(classes)
    result.model.adapter_metadata.setdefault(result.name, {}).update(
        kind=modality.kind, task=modality.task(schema), classes=classes,
        old_classes=list(base.schema.classes), new_classes=list(result.new_classes),
        method=method, data_summary=data_summary(modality, schema, samples, None, classes),
    )  # fmt: skip


@torch.no_grad()
def logits_of(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Logits in eval mode, in batches. Shape: (N, K)"""
    return predict_logits(model, TensorData({"x": images}, torch.zeros(len(images))), batch_size)


def predict_proba(
    model: nn.Module,
    images: torch.Tensor,
    *,
    adapter: str | None = None,
    adapter_ids: Sequence[str | None] | None = None,
    batch_size: int = 128,
) -> np.ndarray:
    """Class probabilities (softmax), through ``adapter`` or one adapter per image.

    Shape: images (N, C, *spatial) -> (N, K)
    """
    from medadapt.adapters import AdapterModel

    require_network(model)
    _check_pixels(images, "images")
    convolution = next((m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Conv3d)), None)
    if convolution is not None and convolution.in_channels != images.shape[1]:
        raise DataError(
            f"images have {plural(images.shape[1], 'channel')} but the model takes "
            f"{convolution.in_channels}: read them with images.load_unlabelled(source, "
            "base.schema), which converts them as the model was trained"
        )
    sides = next((m.img_size for m in model.modules()  # timm's patch embedding
                  if isinstance(getattr(m, "img_size", None), tuple)), None)  # fmt: skip
    if sides is not None and tuple(images.shape[2:]) != tuple(sides):
        raise DataError(
            f"images have sides {tuple(images.shape[2:])} but the model takes {tuple(sides)}: "
            "read them with images.load_unlabelled(source, base.schema), which fits them"
        )
    named = [adapter] if adapter is not None else [a for a in adapter_ids or () if a is not None]
    if named and not isinstance(model, AdapterModel):
        raise AdapterStateError(
            f"adapter={named[0]!r} was given, but the model has no adapters: pass the model of "
            "images.adapt's result (or an AdapterModel with the adapter loaded), or leave "
            "adapter out to score the base model"
        )
    if adapter_ids is None and isinstance(model, AdapterModel):
        adapter_ids = [adapter] * len(images)
    _warn_about_trained_images(model, images, adapter_ids)
    data = TensorData({"x": images}, torch.zeros(len(images)), adapter_ids)
    return torch.softmax(predict_logits(model, data, batch_size).float(), dim=1).numpy()


def _warn_about_trained_images(
    model: nn.Module, images: torch.Tensor, adapter_ids: Sequence[str | None] | None
) -> None:
    """A warning counting the images scored that the base model or the adapter scoring them
    trained on, by their pixels (the keys each records): in-sample (a trial scored an
    adapter's own training images, AUROC 1.0, without a word; ``ma.predict`` says it of
    rows)."""
    import json

    from medadapt.adapters import AdapterModel
    from medadapt.data.image_dataset import pixel_keys
    from medadapt.modalities.bundle import base_of
    from medadapt.modalities.images.splits import SPLIT_FILE

    inner = model.base_model if isinstance(model, AdapterModel) else model
    base = base_of(inner)
    ids = list(adapter_ids) if adapter_ids is not None else [None] * len(images)
    # who trained, the images it trained on, and which of those scored it scores
    records: list[tuple[str, set[str], list[bool]]] = []
    if base is not None:
        trained = (base.training.get("split") or {}).get("train_pixel_keys") or ()
        records.append(("the base model", set(trained), [True] * len(ids)))
    for name in dict.fromkeys(n for n in ids if n is not None):
        raw = model.adapter_files.get(name, {}).get(SPLIT_FILE)  # type: ignore[union-attr]
        trained = (json.loads(raw) if raw else {}).get("train_pixel_keys") or ()
        records.append((f"adapter {name!r}", set(trained), [i == name for i in ids]))
    if not any(trained for _, trained, _ in records):
        return
    keys = pixel_keys(images)
    matched = {}
    for who, trained, scores in records:
        found = [k in trained and s for k, s in zip(keys, scores, strict=True)]
        if any(found):
            matched[who] = found
    if not matched:
        return
    n = sum(any(row) for row in zip(*matched.values(), strict=True))
    said = scored_in_sample(n, f"the {len(images)} images scored", "image", list(matched),
                            "their pixels")  # fmt: skip
    warnings.warn(said, UserWarning, stacklevel=3)


# ----- checks of data built in memory ---------------------------------------------------------
_FLAG = re.compile(r"--([a-z][a-z-]*)")
_PYTHON_NAMES = {"data": "dataset"}


@contextmanager
def _python_words() -> Iterator[None]:
    """The shared checks' refusals and warnings with the Python arguments for the command
    line's flags (``--backbone-options`` -> ``backbone_options``, ``--top-blocks`` ->
    ``top_blocks``; a trial's ``images.adapt`` warned of a misspelt new class in the command
    line's ``--new-classes``). medadapt's own warnings are said again, once each, from the
    caller's line; another library's (timm, torch) are shown as they were raised, untouched,
    and the caller's warning filters apply to both as before."""

    def python(match: re.Match[str]) -> str:
        name = match.group(1).replace("-", "_")
        return _PYTHON_NAMES.get(name, name)

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # the caller's filters kept
            yield
    except MedadaptError as error:
        if not _FLAG.search(str(error)):
            raise
        raise type(error)(_FLAG.sub(python, str(error))) from None
    finally:
        said: set[tuple[str, type[Warning]]] = set()
        for w in caught:
            if not _raised_here(w.filename):  # shown where it was raised, as it was
                warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
                continue
            text = _FLAG.sub(python, str(w.message))
            if (text, w.category) not in said:
                said.add((text, w.category))  # this frame, contextlib's, the API's, its caller's
                warnings.warn(text, w.category, stacklevel=4)


_PACKAGE = Path(__file__).resolve().parent


def _raised_here(filename: str) -> bool:
    """Whether a warning was raised by medadapt's own code (not a library's)."""
    try:
        return Path(filename).resolve().is_relative_to(_PACKAGE)
    except (OSError, ValueError):
        return False


def _check_pixels(images: Any, where: str) -> None:
    """What the model takes: a float32 tensor (N, C, H, W) or (N, C, D, H, W) of 1 or 3
    channels with square slices and finite pixels in [0, 1] (as :func:`load_images` gives).
    Numpy arrays, channels last, NaN pixels or 0-255 values failed deep in torch or, worse,
    trained and scored without a word. Counts only: no pixel value is named."""
    if not isinstance(images, torch.Tensor):
        fix = ("stack images of one size with torch.stack" if isinstance(images, list | tuple)
               else "convert it with torch.from_numpy(array).float()")  # fmt: skip
        raise DataError(f"{where} must be a torch tensor, not {type(images).__name__}: {fix}")
    shape = tuple(images.shape)
    if images.dim() not in (4, 5):
        fix = ": add the channel axis with .unsqueeze(1)" if images.dim() == 3 else ""
        raise DataError(
            f"{where} must have shape (N, C, H, W), or (N, C, D, H, W) for volumes; got "
            f"{shape}{fix}"
        )
    if shape[1] not in (1, 3):
        fix = ": the channels come last, use .permute(0, 3, 1, 2)" if shape[-1] in (1, 3) else ""
        raise DataError(f"{where} must have 1 or 3 channels (axis 1); got shape {shape}{fix}")
    if shape[-1] != shape[-2]:  # a volume's depth is checked against the backbone's
        raise DataError(
            f"{where} must be square (height = width); got shape {shape}: read the "
            "files with images.load_images(..., image_size=N), which fits them to one size"
        )
    if images.dtype != torch.float32:
        fix = "use .float() / 255" if not images.is_floating_point() else "use .float()"
        raise DataError(f"{where} must be float32 in [0, 1], got {images.dtype}: {fix}")
    per_image = images.reshape(len(images), -1)
    bad = int((~torch.isfinite(per_image).all(dim=1)).sum())
    if bad:
        raise DataError(
            f"{bad} of {len(images)} images ({where}) hold NaN or infinite pixels: fix or drop "
            "those images"
        )
    outside = int(((per_image < -1e-3) | (per_image > 1 + 1e-3)).any(dim=1).sum())
    if outside:
        raise DataError(
            f"{outside} of {len(images)} images ({where}) have pixels outside [0, 1], the "
            "range the model reads (as images.load_images gives): scale them first (8-bit "
            "values: divide by 255)"
        )


def _blank_images(dataset: ImageDataset) -> list[str]:
    """The warning for images that are blank (every pixel one value), which the command line
    refuses among training images (a trial's blank picture trained a base without a word:
    ``load_images`` keeps them unless ``keep_blank=False``)."""
    flat = dataset.images.flatten(1)
    blank = (flat.amax(dim=1) == flat.amin(dim=1)).nonzero().flatten().tolist()
    if not blank:
        return []
    first = dataset.paths[blank[0]] if dataset.paths else f"image {blank[0]}"
    are, they = ("is", "it teaches") if len(blank) == 1 else ("are", "they teach")
    return [
        f"{len(blank)} of the dataset's {len(dataset)} images {are} blank (every pixel one "
        f"value; the first: {first}): {they} the model nothing; leave them out "
        "(images.load_images(..., keep_blank=False) refuses them, as the command line does, or "
        "leaves them out with on_error='skip')"
    ]


def _check_dataset(dataset: Any) -> None:
    """An :class:`ImageDataset` whose images the model can take and whose labels are one class
    index per image (a label past the classes ended in torch's "Target 2 is out of bounds")."""
    if not isinstance(dataset, ImageDataset):
        raise ConfigError(
            f"dataset must be an ImageDataset, not {type(dataset).__name__}: read files with "
            "images.load_images(path), or build one with images.ImageDataset(images=..., y=..., "
            "classes=[...])"
        )
    _check_pixels(dataset.images, "dataset.images")
    y, n, k = dataset.y, len(dataset.images), len(dataset.classes)
    if not isinstance(y, torch.Tensor) or y.dim() != 1:
        raise DataError(
            "dataset.y must be a 1-D torch tensor of class indices, one per image: convert it "
            "with torch.as_tensor(labels, dtype=torch.long)"
        )
    if len(y) != n:
        raise DataError(f"dataset has {n} images but {len(y)} labels (dataset.y): one per image")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise DataError(f"dataset.y must hold class indices (int64), got {y.dtype}: use .long()")
    other = int(((y < 0) | (y >= k)).sum())
    if other:
        raise DataError(
            f"dataset.y must hold class indices 0 to {k - 1} (one per name in dataset.classes); "
            f"{other} of {n} labels are not"
        )
