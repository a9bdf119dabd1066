"""The image API in one namespace: ``from medadapt import images``.

Read labelled images (folders, path CSVs, DICOM, NIfTI, MedMNIST ``.npz``), train a ViT base
model, adapt it (also to new classes, with the retention check), score it, and the file-level
jobs the command line runs.

>>> from medadapt import images
>>> images.ImageSchema(classes=("normal", "nodule"), channels=1, image_size=32).task
'binary'
"""

from __future__ import annotations

from medadapt.backbones.normalize import resolve_normalize
from medadapt.backbones.vision import create_vision_backbone, extend_classifier
from medadapt.data.image_files import load_unlabelled, split_by_patient
from medadapt.data.images import ImageDataset, ImageSchema, SkippedFilesWarning, load_images
from medadapt.data.intensity import CT_WINDOWS
from medadapt.train.images import ImageAdaptation, adapt, predict_proba, train_base
from medadapt.workflows.image_eval import old_class_retention, score_images
from medadapt.workflows.image_inputs import ImageRead
from medadapt.workflows.image_jobs import adapt_job, evaluate_job, predict_job, train_base_job

__all__ = [
    "CT_WINDOWS",
    "ImageAdaptation",
    "ImageDataset",
    "ImageRead",
    "ImageSchema",
    "SkippedFilesWarning",
    "adapt",
    "adapt_job",
    "create_vision_backbone",
    "evaluate_job",
    "extend_classifier",
    "load_images",
    "load_unlabelled",
    "old_class_retention",
    "predict_job",
    "predict_proba",
    "resolve_normalize",
    "score_images",
    "split_by_patient",
    "train_base",
    "train_base_job",
]
