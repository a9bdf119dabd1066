"""Medical images (PNG/JPEG folders, path CSVs, DICOM, NIfTI, MedMNIST ``.npz``) as a
:class:`~medadapt.modalities.base.Modality`.

The backbone is a timm or MONAI ViT with local weights; a split keeps a patient's images on
one side and is recorded by content keys (a hash of each file's bytes, and one of its pixels as
read; see :mod:`medadapt.modalities.images.splits`), its training images also by the values
their files store and a perceptual hash (see :mod:`medadapt.data.stored_pixels`); adapters may
add new classes (an extended head copy, trained with distillation of the old classes' logits).
Heavy modules (torch, timm, MONAI, pydicom) are imported inside the methods, off the command
line's start-up path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.errors import DataError
from medadapt.modalities.base import Modality, Reading, names
from medadapt.modalities.images.options import (
    DEFAULT_BACKBONE,
    DEFAULT_IMAGE_SIZE,
    TRAINING,
    ImageOptions,
)
from medadapt.modalities.images.samples import ImageSamples, SourceInfo
from medadapt.wording import noun_for

INTENDED_USE = (
    "Research use: adaptation of an existing image model to {target}; validate locally "
    "before any clinical use."
)


class ImageModality(Modality):
    kind = "image"
    title = "Images"
    options = ImageOptions
    noun = "images"
    unit = "image"
    scope = "image data"
    source_name = "image data"
    sources = "an image folder, path CSV or .npz"
    defaults = TRAINING
    intended_use = INTENDED_USE
    base_test_stays_clean = True  # the base's held-out images never train an adapter
    batch_size = 128
    study_base_per_seed = False  # one base shared by every seed (a ViT is not cheap)
    study_workers = 1  # points one at a time, here (a ViT already uses every core)
    caches_frozen_features = True

    # ----- sources -----------------------------------------------------------------------------
    def recognises(self, data: Path, options: ImageOptions) -> bool:
        from medadapt.data.image_schema import is_image_source

        return is_image_source(data, options.path_column or "path")

    def image_read(self, options: ImageOptions, reading: Reading):
        """How a new base reads its images (``train-base``, ``study``)."""
        from medadapt.modalities.images.parsing import parse_spacing, parse_window
        from medadapt.modalities.images.reading import ImageRead

        slices = options.slices or "middle"
        return ImageRead(
            image_size=options.image_size or DEFAULT_IMAGE_SIZE,
            channels=options.channels,
            spatial_dims=options.spatial_dims or 2,
            window=parse_window(options.window),
            slices=int(slices) if slices.isdigit() else slices,
            spacing=parse_spacing(options.spacing),
            bits_stored=options.bits_stored,
            split=options.split or "train",
            path_column=options.path_column or "path",
            label_column=reading.label or "label",
            group_column=reading.group_column,
            id_column=reading.id_column,
            classes=tuple(names(options.class_names)) or None,
            on_error=options.on_error or "refuse",
        )

    def probe_for_model(self, manifest: dict[str, Any], options: ImageOptions) -> ImageOptions:
        recorded = (manifest.get("schema") or {}).get("path_column")
        if options.path_column is not None or not isinstance(recorded, str):
            return options
        return replace(options, path_column=recorded)  # the CSV's path column, as trained

    def not_recognised(self, data: Path, options: ImageOptions) -> str | None:
        """A CSV of image paths without the column the model reads them from
        (``--path-column``, or the one it was trained with): the column that holds them is
        named. A table of measurements (no column of image files) is left to the general
        refusal."""
        import pandas as pd

        from medadapt.data.image_io import SUFFIXES

        column = options.path_column or "path"
        if Path(data).suffix.lower() not in (".csv", ".tsv") or not Path(data).is_file():
            return None
        try:
            head = pd.read_csv(data, nrows=20, sep=None, engine="python", dtype=str)
        except Exception:  # the loaders say what is wrong with the file
            return None

        def image_file(value: str) -> bool:  # by its suffix: nothing is opened here
            return value.lower().endswith(".nii.gz") or Path(value).suffix.lower() in SUFFIXES

        holding = [c for c in head.columns if c != column and head[c].notna().any()
                   and all(image_file(v) for v in head[c].dropna())]  # fmt: skip
        if column in head.columns or not holding:
            return None
        return (
            f"--data {data} has no column {column!r} of image paths; its column "
            f"{holding[0]!r} holds image files: pass --path-column {holding[0]}"
        )

    def read_training(self, data: Path, options: ImageOptions, reading: Reading) -> ImageSamples:
        from medadapt.data.image_files import odd_training_shapes_note
        from medadapt.data.image_schema import source_digest
        from medadapt.data.image_sources import hidden_images_note, left_out_note
        from medadapt.data.medmnist import unused_splits_note
        from medadapt.data.reader_notes import report_counted
        from medadapt.modalities.images.classes import (
            kept_small_class_notes,
            positive_last,
            shape_by_class_note,
            typo_notes,
        )
        from medadapt.modalities.images.reading import (
            copies_note,
            refuse_identifier_label,
            select_groups,
            skipped_record,
            with_patient_column,
        )

        read, notes, meant = with_patient_column(self.image_read(options, reading), data)
        refuse_identifier_label(read, data)  # --label patient: never a class per patient
        dataset = read.load(data)
        chosen = select_groups(dataset, reading.groups, option=reading.groups_flag)
        # the patient column taken: a note once the images are read and the groups found (a
        # trial's misspelt --groups printed it above the one error line)
        report_counted(meant)
        if dataset.source.get("kind") == "npz":  # its val/test arrays: said, not used
            report_counted([n for n in [unused_splits_note(Path(data), read.split)] if n])
        order, positive_by = positive_last(
            dataset.classes, options.positive_class, named=read.classes is not None
        )
        dataset = dataset.with_classes(order)
        counts = np.bincount(dataset.y[chosen].numpy(), minlength=len(dataset.classes))
        empty = [c for c, n in zip(dataset.classes, counts, strict=True) if n == 0]
        if empty:
            raise DataError(
                f"--class-names: {noun_for(len(empty), 'class', 'classes')} "
                f"{', '.join(map(repr, empty))} {'has' if len(empty) == 1 else 'have'} no "
                f"images in {data}; a base model needs images of every class (add them, or "
                "leave the name out)"
            )
        info = SourceInfo(
            path=Path(data),
            digest=source_digest(data, dataset),
            n_source=len(dataset),
            read=read,
            skipped=skipped_record(data, dataset.skipped),
            group_column=reading.group_column,
            positive_by=positive_by,
        )
        counted = dict(zip(dataset.classes, counts.tolist(), strict=True))
        notes += typo_notes(counted) if read.classes is None else kept_small_class_notes(counted)
        notes += dataset.warnings  # 12-bit values in 16-bit pictures or arrays, raw CT, tiny
        notes += [n for n in [left_out_note(Path(data)), hidden_images_note(Path(data))] if n]
        notes += [n for n in [copies_note(data, dataset.subset(chosen))] if n]
        tied = shape_by_class_note([dataset.aspects[i] for i in chosen] if dataset.aspects else [],
                                   dataset.y[chosen].tolist(), dataset.classes)  # fmt: skip
        notes += [tied] if tied else []
        if dataset.aspects:  # one odd image among them: its shape left out of the recorded range
            odd = odd_training_shapes_note([dataset.paths[i] for i in chosen],
                                           [dataset.aspects[i] for i in chosen], Path(data).name,
                                           spatial_dims=read.spatial_dims)  # fmt: skip
            notes += [odd] if odd else []
        samples = ImageSamples(dataset, info, notes)
        return samples.subset(chosen) if len(chosen) < len(dataset) else samples

    def fit_schema(self, train: ImageSamples, options: ImageOptions, reading: Reading):
        from medadapt.data.image_schema import ImageSchema
        from medadapt.modalities.images.classes import sorted_positive_warning

        read = train.info.read
        loader = {
            "path_column": read.path_column,
            "label_column": read.label_column,
            "group_column": read.group_column,
            "id_column": read.id_column,
        }
        schema = as_trained_on(ImageSchema.from_dataset(train.dataset, **loader), train.dataset)
        # first, as a table's implicit positive class is warned (train-base, study)
        implicit = sorted_positive_warning(schema.classes, train.info.positive_by)
        return schema, [implicit] if implicit is not None else []

    def read_for_model(
        self,
        data: Path,
        base: Any,
        options: ImageOptions,
        *,
        classes: Sequence[str] = (),
        group_column: str | None = None,
        hint: str = "pass the new ones with --new-classes NAME[,NAME]",
        label: str | None = None,
        groups: Sequence[str] | None = None,  # tables judge text cells on a group's rows
    ) -> ImageSamples:
        from medadapt.data.image_files import (
            brightness_note,
            file_warnings,
            modality_note,
            scaling_note,
            shape_note,
            unlike_training_brightness,
            unlike_training_modality,
            unlike_training_shape,
        )
        from medadapt.data.image_schema import source_digest
        from medadapt.data.image_sources import hidden_images_note, left_out_note
        from medadapt.modalities.images.reading import (
            copies_note,
            group_column_used,
            load_for_model,
            skipped_record,
        )

        schema = base.schema
        dataset = load_for_model(
            data,
            schema,
            list(classes) or list(schema.classes),
            split=options.split or "train",
            path_column=options.path_column,
            label_column=label,
            group_column=group_column,
            on_error=options.on_error or "refuse",
            hint=hint,
        )
        info = SourceInfo(
            path=Path(data),
            digest=source_digest(data, dataset),
            n_source=len(dataset),
            skipped=skipped_record(data, dataset.skipped),
            group_column=group_column_used(group_column, schema, dataset),
            path_column=options.path_column or schema.path_column,
        )
        notes = []
        patient = dataset.source.get("id_column")
        # what is meant: a note, not a warning; none where a group asked for is not among the
        # images (a trial's misspelt --group printed it above the one error line that follows)
        unknown = bool(groups) and (  # or no group column at all: refused too
            dataset.groups is None or not set(groups) <= set(dataset.groups)
        )
        if patient and patient != schema.id_column and not unknown:
            from medadapt.data.reader_notes import report_counted

            report_counted([
                f"images are kept together by column {patient!r} of {Path(data).name} "
                "(it names the patient; the base model records no patient column): a "
                "patient's images stay on one side of any split and are resampled together "
                "in every interval"
            ])  # fmt: skip
        for how, count in (dataset.source.get("intensity") or {}).items():
            scaled = scaling_note(schema, how)
            if scaled:
                notes.append(f"{count} files of {Path(data).name}: {scaled}")
        odd = [(dataset.paths[i], ratio) for i, ratio in enumerate(dataset.aspects)
               if unlike_training_shape(schema, ratio)]  # fmt: skip
        counted = f"images in {Path(data).name}"  # the source's, before a group or split
        notes += [n for n in [shape_note(schema, odd, len(dataset), counted)] if n]
        kinds = [(dataset.paths[i], str(m)) for i, m in enumerate(dataset.acquired)
                 if unlike_training_modality(schema, m)]  # fmt: skip
        notes += [n for n in [modality_note(schema, kinds, len(dataset), counted)] if n]
        levels = [(dataset.paths[i], level) for i, level in enumerate(dataset.brightness)
                  if unlike_training_brightness(schema, level)]  # fmt: skip
        notes += [n for n in [brightness_note(schema, levels, len(dataset), counted)] if n]
        notes += file_warnings(schema, dataset)  # raw CT, tiny images (12-bit: unless compared)
        notes += [n for n in [left_out_note(Path(data)), hidden_images_note(Path(data))] if n]
        notes += [n for n in [copies_note(data, dataset)] if n]
        return ImageSamples(dataset, info, notes)

    def sample_notes(self, schema: Any, samples: Any) -> list[str]:
        """The warnings said when the samples were read, and whether they look unlike the
        model's training images on the whole (:func:`~medadapt.data.image_files.look_note`:
        another scanner or export, which no single image's check shows). Said of the whole,
        the files' note that names every one of them far unlike says no more, and is left out
        (a trial's predict said it three times of 41 darker images)."""
        from medadapt.data.image_look import names_every_file

        whole = self.whole_notes(schema, samples)
        notes = list(getattr(samples, "notes", []))
        if whole:
            notes = [note for note in notes if not names_every_file(note)]
        return [*notes, *whole]

    def whole_notes(self, schema: Any, samples: Any) -> list[str]:
        """Whether the images look unlike the model's training images on the whole."""
        from medadapt.data.image_files import look_note

        if isinstance(samples, ImageSamples):
            images = samples.dataset.images
        else:
            images = getattr(samples, "images", None)
        note = None if images is None else look_note(schema, images, self.noun)
        return [note] if note else []

    def read_unlabelled(self, data: Path, base: Any, options: ImageOptions):
        from medadapt.data.extrapolation import COLUMN
        from medadapt.data.image_files import read_unlabelled
        from medadapt.data.image_notes import image_notes
        from medadapt.modalities.images.reading import check_on_error, skipped_record

        on_error = options.on_error or "refuse"
        check_on_error(on_error)

        def describe(name: str, file: Any, n_files: int) -> str:  # NOTE_COLUMN, as read
            return "; ".join(image_notes(base.schema, name, file, n_files))

        read = read_unlabelled(data, base.schema, on_error=on_error,
                               path_column=options.path_column, describe=describe)  # fmt: skip
        notes = list(read.warnings)
        said = read.said or [""] * len(read.ids)  # an .npz: its warnings say it all
        n_unlike, n_noted = sum(map(bool, read.unlike)), sum(map(bool, said))
        if n_unlike:
            notes.append(
                f"{n_unlike} of the {len(read.ids)} images {'is' if n_unlike == 1 else 'are'} "
                "unlike the model's training images: the predictions file says how, per image, "
                f"in column {COLUMN!r}"
                + (f", and what is said of each (as serve says it) in column {NOTE_COLUMN!r}"
                   if n_noted else "")
            )  # fmt: skip
        elif n_noted:
            notes.append(
                f"{n_noted} of the {len(read.ids)} images {'has' if n_noted == 1 else 'have'} "
                "a note (how it was read: upscaled, colour made gray ...): the predictions file "
                f"says which, per image, in column {NOTE_COLUMN!r}"
            )
        skipped = skipped_record(data, read.skipped)
        images = UnlabelledImages(
            read.images, read.ids, skipped, notes, read.unlike, read.slices, said
        )
        images.source = Path(data)  # its other columns (a group) tell an adapter's group
        images.path_column = options.path_column or base.schema.path_column
        return images

    def prediction_flags(self, schema: Any, samples: Any) -> dict[str, list]:
        """Per image, how it is unlike the model's training images (its DICOM kind, shape,
        brightness, intensity scaling), in the column tables name their far-outside features
        in, and what is said of it (:data:`NOTE_COLUMN`: serve's ``note``)."""
        from medadapt.data.extrapolation import COLUMN

        if not isinstance(samples, UnlabelledImages):
            return {}
        flags = {COLUMN: list(samples.unlike), NOTE_COLUMN: list(samples.said)}
        if any(s is not None for s in samples.slices):  # a volume: which slice was scored
            flags[SLICE_COLUMN] = ["" if s is None else str(s) for s in samples.slices]
        return flags

    # ----- models ------------------------------------------------------------------------------
    def new_model(self, schema: Any, options: ImageOptions, seed: int):
        from medadapt.modalities.images.model import new_backbone
        from medadapt.modalities.images.parsing import parse_backbone_options

        sizes = options.backbone_options
        return new_backbone(
            schema,
            options.backbone or DEFAULT_BACKBONE,
            weights=options.weights,
            options=sizes if isinstance(sizes, dict) else parse_backbone_options(sizes),
            normalize=options.normalize or "auto",
        )

    def model_record(self, options: ImageOptions, model) -> dict[str, Any]:
        from medadapt.backbones.vision import architecture_of
        from medadapt.fileio import sha256_file

        weights = options.weights
        return {
            "backbone": options.backbone or DEFAULT_BACKBONE,
            "weights": None
            if weights is None
            else {"file": Path(weights).name, "sha256": sha256_file(weights)},
            "freeze_backbone": options.freeze_backbone,
            "normalize": architecture_of(model).get("normalize"),
        }

    def rebuild(self, architecture: dict[str, Any]):
        from medadapt.backbones.vision import build_from_architecture

        return build_from_architecture(architecture)

    def schema_from_dict(self, data: dict[str, Any]):
        from medadapt.data.image_schema import ImageSchema

        return ImageSchema.from_dict(data)

    def architecture(self, model) -> dict[str, Any]:
        from medadapt.backbones.vision import architecture_of

        return architecture_of(model)

    def tensors(self, schema: Any, samples: Any, *, with_labels: bool = True):
        import torch

        from medadapt.data.tensors import TensorData

        images = samples.images if isinstance(samples, UnlabelledImages) else samples.dataset.images
        y = torch.zeros(len(images)) if isinstance(samples, UnlabelledImages) else samples.dataset.y
        return TensorData({"x": images}, y)

    def family(self, model) -> str:
        from medadapt.adapters.targets import detect_family

        inner = getattr(model, "base_model", model)
        return getattr(model, "family", None) or detect_family(inner)

    def heads(self, model) -> tuple[str, ...]:
        from medadapt.modalities.images.model import head_name

        return (head_name(model),)

    def task(self, schema: Any) -> str:
        return schema.task

    def loss_task(self, schema: Any) -> str:
        return "multiclass"  # one logit per class, cross-entropy, even for two classes

    def scores(self, schema: Any, logits) -> np.ndarray:
        import torch

        return torch.softmax(logits.float(), dim=1).numpy()

    def task_scores(self, schema: Any, scores: np.ndarray) -> np.ndarray:
        return scores[:, 1] if scores.shape[1] == 2 else scores

    def validation_split(self, samples: ImageSamples, fraction: float, seed: int):
        from medadapt.data.image_files import split_by_patient

        return split_by_patient(
            samples.dataset, range(len(samples)), test_fraction=fraction, seed=seed
        )

    def patient_split(self, samples: ImageSamples, chosen: np.ndarray, fraction: float, seed: int):
        from medadapt.data.image_files import split_by_patient

        return split_by_patient(samples.dataset, chosen, test_fraction=fraction, seed=seed)

    def training_record(self, schema: Any, samples: ImageSamples) -> dict[str, Any]:
        groups = samples.dataset.groups
        counts: dict[str, int] = {}
        for value in groups or []:
            counts[value] = counts.get(value, 0) + 1
        record = {
            "n_images": len(samples),
            "class_counts": samples.dataset.class_counts(),
            "groups": None if groups is None else dict(sorted(counts.items())),
        }
        if samples.info.positive_by is not None:  # a new base: what chose its positive class
            record["positive_class_by"] = samples.info.positive_by
        return record

    def split_extras(self, options: ImageOptions) -> dict[str, Any]:
        return {"npz_split": options.split or "train"}

    def base_training_extras(self, schema: Any, evaluation, skipped) -> dict[str, Any]:
        # a count only: file names often carry patient names or ids (the split stores hashes)
        return {"n_skipped_files": len(skipped), "test_per_class": evaluation["per_class"]}

    def describe_base(self, schema: Any, base: Any) -> dict[str, Any]:
        from medadapt.modalities.images.classes import task_line

        line = task_line(schema.classes, base.training.get("positive_class_by"))
        return {
            **({"task_line": line} if line else {}),
            "backbone": base.training.get("backbone"),
            "architecture": base.architecture,
            "normalize": base.architecture.get("normalize"),
        }

    def differs_from_base(self, base: Any, flag: str, value: Any) -> str | None:
        from medadapt.modalities.images.parsing import parse_backbone_options

        schema, architecture = base.schema, base.architecture
        if flag == "--backbone-options":  # the sizes given, each as the base was built
            built = architecture.get("kwargs") or {}
            given = parse_backbone_options(value)
            same = all(built.get(name) == size for name, size in given.items())
            return None if same else f"{flag} " + ",".join(f"{k}={v}" for k, v in built.items())
        decided = {
            "--image-size": schema.image_size,
            "--channels": schema.channels,
            "--spatial-dims": schema.spatial_dims,
            "--class-names": ",".join(schema.classes),
            "--backbone": architecture.get("spec"),
            "--bits-stored": schema.bits_stored,
            "--positive-class": schema.classes[-1] if len(schema.classes) == 2 else None,
        }.get(flag)
        if decided is None:
            return ""
        return None if decided == value else f"{flag} {decided}"

    # ----- which images trained a model --------------------------------------------------------
    def base_split(self, data, samples: ImageSamples, train, test, **extra):
        from medadapt.data.stored_pixels import split_keys
        from medadapt.modalities.images.splits import split_record

        record = split_record(samples.info.digest, samples.dataset, train, test, **extra)
        record["n_samples"] = samples.info.n_source
        record.update(split_keys(samples.dataset, train))  # stored and near keys
        return record, {}

    def adapter_split(self, data, samples: ImageSamples, train, test, **extra):
        import hashlib
        import json

        from medadapt.data.stored_pixels import split_keys
        from medadapt.modalities.images.splits import split_keys_bytes, split_record, split_summary

        record = split_record(samples.info.digest, samples.dataset, train, test, **extra)
        summary, raw = split_summary(record), split_keys_bytes(record)
        stored = split_keys(samples.dataset, train)  # in split.json only, beside the others
        if stored:
            raw = json.dumps({**json.loads(raw), **stored}).encode()
            summary["keys_sha256"] = hashlib.sha256(raw).hexdigest()
        return summary, {**record, **stored}, raw

    def read_split(self, directory: Path, summary: dict[str, Any], data: Path, kind: str, samples):
        """The adapter's keys from the file beside it (base models keep theirs inline);
        ``summary["_unknown"]`` when the file is missing (its images cannot be left out)."""
        if kind == "base" or ("keys_file" not in summary and "indices_file" not in summary):
            return summary
        from medadapt.modalities.images.splits import read_adapter_split

        digest = getattr(getattr(samples, "info", None), "digest", "")  # images to predict: none
        record, known = read_adapter_split(directory, summary, digest)
        return record if known else {**record, "_unknown": True}

    def trained_among(self, data, samples, records) -> list[np.ndarray] | None:
        """Images to predict that each model of ``records`` trained on, by pixel key (a hash
        of the image as the model takes it, which each split records: a re-saved copy too),
        the images hashed once, then by stored key (the values a whole 2D file stores: a copy
        in another format); a trial's ``predict`` on a base's own training folder said
        nothing."""
        if not isinstance(samples, UnlabelledImages):
            return None
        from medadapt.data.image_dataset import pixel_keys
        from medadapt.data.stored_pixels import stored_matches_of_files

        wanted = [set((record or {}).get("train_pixel_keys") or ()) for record in records]
        keys = pixel_keys(samples.images) if any(wanted) and len(samples) else None
        found = [np.zeros(len(samples), dtype=bool) if keys is None or not trained
                 else np.isin(keys, list(trained)) for trained in wanted]  # fmt: skip
        # then by the values the file stores, as evaluate does (a DICOM copy of a training
        # PNG was "a near-copy" here, the training image itself at evaluate and the server),
        # each image one of the models did not match (the file is read once)
        missed = np.flatnonzero(~np.logical_and.reduce([np.ones(len(samples), bool), *found]))
        stored = stored_matches_of_files(_whole_files(samples), records, missed)
        return [mask | more for mask, more in zip(found, stored, strict=True)]

    def same_source(self, record: dict[str, Any] | None, data: Path, samples) -> bool:
        return bool(record) and record.get("source_sha256") == samples.info.digest

    def in_split(self, data, samples: ImageSamples, record, part: str) -> np.ndarray:
        """By file key or pixel key, and for training images also by stored key (the values
        the file stores, before any scaling: a DICOM copy of a PNG), where recorded."""
        from medadapt.data.stored_pixels import stored_matches
        from medadapt.modalities.images.splits import in_split

        mask = in_split(samples.dataset, samples.info.digest, record, part)
        if part == "train" and record:  # only the samples not matched already are read again
            mask |= stored_matches(samples.dataset, record, np.flatnonzero(~mask))
        return mask

    def near_copies(self, data, samples: ImageSamples, records, candidates) -> np.ndarray:
        """Per sample (of ``candidates``): near-identical to a training image of ``records``
        (a lossy re-save: a JPEG copy), by its near key."""
        from medadapt.data.stored_pixels import near_copies, near_copies_of_files

        if isinstance(samples, UnlabelledImages):  # predict: from the files read
            return near_copies_of_files(_whole_files(samples), records, candidates)
        return near_copies(samples.dataset, records, candidates)

    def near_copies_among(self, samples: ImageSamples, train, test) -> np.ndarray:
        from medadapt.data.stored_pixels import near_matches, sample_keys

        return near_matches(sample_keys(samples.dataset, test)[1],
                            sample_keys(samples.dataset, train)[1])  # fmt: skip

    # ----- evaluation and predictions ----------------------------------------------------------
    def patient_column(self, samples: ImageSamples) -> str | None:
        """The path CSV's column that named each image's patient (``--id-column``, or one
        named for the patient), or None."""
        return samples.dataset.source.get("id_column") or None

    def patients_unnamed(self, samples: ImageSamples) -> bool:
        """No patient column, and no DICOM PatientID: each image file is its own patient."""
        return bool(len(samples)) and self.unnamed_patient_samples(samples) == len(samples)

    def names_every_patient(self, samples: ImageSamples) -> bool:
        return bool(len(samples)) and self.unnamed_patient_samples(samples) == 0

    def unnamed_patient_samples(self, samples: ImageSamples) -> int:
        if self.patient_column(samples):
            return 0
        dataset = samples.dataset
        files = dataset.paths if dataset.paths else [str(i) for i in range(len(dataset))]
        return sum(str(p) == str(f) for p, f in zip(dataset.patients(), files, strict=True))

    def patients_fix(self, column: str) -> str:
        return (
            f"to count patients, list the images in a path CSV with columns path,label,{column} "
            f"(adapt, evaluate and check-data read the patient column {column!r} by its name)"
        )

    def subgroups(
        self, samples: ImageSamples, group_column: str | None, *, by_group=True, extra=()
    ):
        if samples.groups is None or not by_group:
            return {}
        return {group_column or "group": samples.groups}

    def per_class(self) -> bool:
        return True

    def outcome_words(self, data: Path) -> str:
        """A folder's classes are its sub-folders (no ``--label``), an .npz's its labels array,
        a path CSV's the ``--label`` column."""
        if Path(data).is_dir():
            return ("the class folders of --data (one sub-folder per class, each image's class "
                    "its folder's name)")  # fmt: skip
        if Path(data).suffix.lower() == ".npz":
            return "the labels in --data's .npz"
        return "--label (the CSV's column of labels read)"

    def predictions(self, schema: Any, scores: np.ndarray, classes: Sequence[str]):
        out: dict[str, Any] = {f"p_{c}": scores[:, i] for i, c in enumerate(classes)}
        out["predicted"] = [classes[i] for i in scores.argmax(axis=1)]
        return out

    def group_values(self, samples: Any, column: str) -> np.ndarray | None:
        """Each image's group: the group column the samples were read with, or another
        column ``column`` of their path CSV, by file (an adapter's group column, which the
        base model reads no group by); None where the source has no such column (folders,
        DICOM, a CSV without it)."""
        from medadapt.modalities.images.reading import column_by_file

        if isinstance(samples, UnlabelledImages):  # images to predict: by their source's row
            if samples.source is None or samples.path_column is None:
                return None
            return column_by_file(samples.source, column, samples.path_column, samples.files)
        if not isinstance(samples, ImageSamples):
            return None
        if samples.info.group_column == column:
            return samples.groups
        info = samples.info
        if info.path is None or info.path_column is None:
            return None
        return column_by_file(info.path, column, info.path_column, samples.dataset.paths)

    def lacks_group_column(self, samples: Any, column: str) -> bool:
        """Whether ``samples`` (to score, or to predict) were read from a path CSV whose header
        has no column ``column``; False for a folder, an ``.npz`` or DICOM (no columns to
        tell)."""
        from medadapt.data.image_sources import is_path_csv
        from medadapt.modalities.images.reading import csv_columns

        path = (samples.info.path if isinstance(samples, ImageSamples)
                else getattr(samples, "source", None))  # fmt: skip
        return path is not None and is_path_csv(path) and column not in csv_columns(path)

    def ids(self, schema: Any, samples: Any):
        return ("image", list(samples.ids)) if isinstance(samples, UnlabelledImages) else None

    def study_strategies(self, candidates):
        """No new ViT from scratch per point: out of reach on a CPU."""
        return tuple(c for c in candidates if c != "scratch_local")

    # ----- new classes -------------------------------------------------------------------------
    def can_grow(self) -> bool:
        return True

    def grown_schema(self, schema: Any, classes: Sequence[str]) -> Any:
        return schema.with_classes(classes)

    def inputs_seen(self, schema: Any, train: ImageSamples) -> dict[str, Any] | None:
        """The adapter's training images' shapes (longer side to shorter, lowest and highest),
        brightness (brightest levels, 5th and 95th percentiles) and how their intensities were
        scaled, where the base model recorded its own, and their DICOM Modality values in any
        case (a base of pictures adapted on CR: an MR image through the adapter is said; a CT base
        adapted on MR images: MR is then no surprise through the adapter; an 8-bit base adapted
        on 12-bit data in 16-bit files: neither are those dark images; a PNG base adapted on
        DICOM without a window: nor their min-max scaling)."""
        dataset = train.dataset
        seen: dict[str, Any] = _ranges_of(dataset, [n for n in RANGES if getattr(schema, n)])
        seen["dicom_modalities"] = sorted({m for m in dataset.acquired if m})  # also on a
        # base of pictures: a trial's PNG base adapted on CR scored an MR without a word
        read = (getattr(dataset, "source", None) or {}).get("intensity")
        if schema.intensity and read:  # DICOM min-max scaled here, the base's PNGs by depth
            seen["intensity"] = sorted(map(str, read))  # the ways, not how many
        return {k: v for k, v in seen.items() if v} or None

    def with_inputs_seen(self, schema: Any, seen: dict[str, Any] | None) -> Any:
        seen = seen or {}
        kinds = seen.get("dicom_modalities") or ()
        for name in RANGES:  # the adapter's images' shapes, brightness and look: no surprise
            ours, theirs = getattr(schema, name), seen.get(name)
            if ours is not None and theirs:
                schema = replace(schema, **{name: (min(ours[0], float(theirs[0])),
                                                   max(ours[1], float(theirs[1])))})  # fmt: skip
        if kinds:  # a base of pictures (none recorded) takes the adapter's DICOM kinds
            widened = dict.fromkeys([*schema.dicom_modalities, *map(str, kinds)])
            schema = replace(schema, dicom_modalities=tuple(widened))
        scaled = seen.get("intensity") or ()
        if schema.intensity and scaled:  # its images' scaling is no surprise through it
            schema = replace(schema, intensity={**dict.fromkeys(map(str, scaled), 0),
                                                **schema.intensity})  # fmt: skip
        return schema

    def grown_classes(self, schema: Any, new_classes: Sequence[str]) -> list[str]:
        from medadapt.modalities.images.model import extended_classes

        return extended_classes(schema, new_classes)


NOTE_COLUMN = "note"
"""The ``predict`` column saying, per image, what ``serve`` says of it in its ``note`` (the
sentences of :func:`~medadapt.data.image_notes.image_notes`: scaled, shaped or bright unlike
the training images, raw CT, 12-bit values in 16 bits, a tiny image upscaled, colour made
gray), joined by ``; ``; empty where nothing is."""


SLICE_COLUMN = "slice"
"""The ``predict`` column naming, for a volume, the slice (index along the slice axis) its
prediction was made on, as ``serve`` answers ``slice``; empty for 2D images."""


RANGES = ("aspect", "brightness", "mean_level", "contrast", "grain")
"""The ranges an image schema records of its training images (an adapter's widen them)."""


def _ranges_of(dataset: Any, names: Sequence[str] = RANGES) -> dict[str, list[float]]:
    """Those of :data:`RANGES` in ``names`` that ``dataset``'s images tell (images built in
    memory have no shapes or brightest levels as read), each computed only where named."""
    from medadapt.data.image_io import LOOKS, aspect_range, brightness_range, look_ranges

    seen: dict[str, Any] = {}
    if "aspect" in names and dataset.aspects:
        seen["aspect"] = aspect_range(dataset.aspects)
    if "brightness" in names and dataset.brightness:
        seen["brightness"] = brightness_range(dataset.brightness)
    if set(LOOKS) & set(names):
        seen.update(look_ranges(dataset.images))
    return {name: values for name, values in seen.items()
            if name in names and values is not None}  # fmt: skip


def as_trained_on(schema: Any, dataset: Any) -> Any:
    """``schema`` with the shapes, brightness and look of the images it trains on, not of
    every image the source held (a trial's base of hospital A recorded the mean intensities
    of A's and B's images, read together before ``--groups`` chose A's), and the DICOM kinds
    (CT, DX) of those images only (a trial's base of PNGs alone recorded the DX of another
    site's DICOMs, and ``predict`` told a CT that the model "was trained on DX images only")."""
    kinds = {}
    if dataset.acquired:  # per image: its DICOM Modality, None for a PNG
        kinds = {"dicom_modalities": tuple(sorted({str(m) for m in dataset.acquired if m}))}
    return replace(schema, **{k: tuple(v) for k, v in _ranges_of(dataset).items()}, **kinds)


class UnlabelledImages:
    """Images to predict: the tensors, an id per sample, the files left out, warnings about
    the others (``notes``, see :meth:`Modality.sample_notes`) and, per sample, how it is
    unlike the model's training images (``unlike``) and what is said of it (``said``,
    :data:`NOTE_COLUMN`; empty strings when nothing is)."""

    def __init__(self, images, ids: list[str], skipped: list[dict[str, str]],
                 notes: list[str] = (), unlike: list[str] | None = None,
                 slices: list[int | None] | None = None,
                 said: list[str] | None = None) -> None:  # fmt: skip
        self.images, self.ids, self.skipped, self.notes = images, ids, skipped, list(notes)
        self.unlike = list(unlike) if unlike is not None else [""] * len(ids)
        self.slices = list(slices) if slices else [None] * len(ids)  # a volume's slice scored
        self.said = list(said) if said is not None else [""] * len(ids)  # NOTE_COLUMN's
        self.source: Path | None = None  # the path CSV (or folder, file) they were read from
        self.path_column: str | None = None  # a path CSV's column of image paths

    @property
    def files(self) -> list[str]:
        """Per sample, its file as read (a volume's slice: the volume's file)."""
        return [i if s is None else i.removesuffix(f"#slice{s}")
                for i, s in zip(self.ids, self.slices, strict=True)]  # fmt: skip

    def __len__(self) -> int:
        return len(self.ids)


def _whole_files(samples: UnlabelledImages) -> list[str | None]:
    """Per image to predict: its file where it is the whole file (None: a volume's slice,
    which has no stored or near key)."""
    return [f if s is None else None for f, s in zip(samples.files, samples.slices, strict=True)]
