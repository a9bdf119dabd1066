"""A set of images that, on the whole, looks unlike a base model's training images (another
scanner, protocol or export: brighter, lower in contrast) is said where they are scored; a
trial's site B, brighter by 0.25 at 0.6 of site A's contrast, was ranked at AUROC 0.27 with
no word of it (each image's own checks look for shapes and 12-bit data, not this)."""

from __future__ import annotations

import numpy as np
import torch

from medadapt.data.image_dataset import ImageDataset
from medadapt.data.image_files import look_note
from medadapt.data.image_io import look_ranges, typical_look
from medadapt.data.image_schema import ImageSchema
from medadapt.modalities.images.modality import ImageModality, as_trained_on
from medadapt.modalities.images.samples import ImageSamples


def _images(n: int, mean: float, spread: float, seed: int = 0) -> torch.Tensor:
    """``n`` 1x16x16 images of about this mean intensity and spread, in [0, 1]."""
    noise = torch.randn(n, 1, 16, 16, generator=torch.Generator().manual_seed(seed))
    return (mean + spread * noise).clamp(0.0, 1.0)


SITE_A, SITE_B = _images(40, 0.38, 0.11), _images(30, 0.48, 0.05, seed=1)
SCHEMA = ImageSchema(classes=("normal", "nodule"), channels=1, image_size=16,
                     **{k: tuple(v) for k, v in look_ranges(SITE_A).items()})  # fmt: skip


def test_the_ranges_are_the_percentiles_of_each_image_s_mean_and_spread():
    flat = SITE_A.reshape(40, -1).double()
    means, spreads = flat.mean(1), flat.std(1, correction=0)
    ranges = look_ranges(SITE_A)
    assert ranges["mean_level"] == [round(float(torch.quantile(means, q)), 4) for q in (0.05, 0.95)]
    assert ranges["contrast"] == [round(float(torch.quantile(spreads, q)), 4) for q in (0.05, 0.95)]
    assert typical_look(SITE_A) == (float(np.median(means.numpy())),
                                    float(np.median(spreads.numpy())))  # fmt: skip
    assert look_ranges(SITE_A[:0]) == {} and typical_look(SITE_A[:0]) is None


def test_a_brighter_lower_contrast_site_is_said_and_the_base_s_own_images_are_not():
    said = look_note(SCHEMA, SITE_B)
    level, spread = typical_look(SITE_B)
    (low, high), (least, most) = SCHEMA.mean_level, SCHEMA.contrast
    assert said == (
        f"these 30 images look unlike the base model's training images on the whole: brighter "
        f"on average (median mean intensity {level:.2f}, against {low:.2f} to {high:.2f} in the "
        f"base model's training images); and lower in contrast (median spread of intensities "
        f"{spread:.3f}, against {least:.3f} to {most:.3f}): another scanner, protocol or export "
        "than the base's, so the base model's predictions on them may be off (a ranking worse "
        "than chance can come of it); an adapter trained on images like these corrects for "
        "it, and its figures beside the base model's alone (adapt, evaluate) say how well"
    )
    assert look_note(SCHEMA, SITE_A) is None  # its own images
    assert look_note(SCHEMA, _images(30, 0.40, 0.115, seed=2)) is None  # a like site
    assert look_note(SCHEMA, SITE_B[:9]) is None  # too few to say a site looks otherwise
    old = ImageSchema(classes=("normal", "nodule"), channels=1, image_size=16)
    assert look_note(old, SITE_B) is None  # a base saved before it recorded how its looked


def test_through_an_adapter_trained_on_the_site_its_look_is_no_surprise():
    modality = ImageModality()
    seen = look_ranges(SITE_B)
    widened = modality.with_inputs_seen(SCHEMA, seen)
    assert widened.mean_level == (SCHEMA.mean_level[0], seen["mean_level"][1])
    assert look_note(widened, SITE_B) is None
    dataset = ImageDataset(images=SITE_B, y=torch.zeros(30, dtype=torch.long),
                           classes=["normal", "nodule"])  # fmt: skip
    samples = ImageSamples(dataset, notes=["read note"])
    assert modality.sample_notes(SCHEMA, samples) == ["read note", look_note(SCHEMA, SITE_B)]
    assert modality.sample_notes(widened, samples) == ["read note"]
    # beside the whole set's note, the files' note naming every one of them says no more (a
    # trial's predict said it three times of 41 darker images); one naming some of them stays
    every = "30 of 30 files look far unlike every training image of the model (first: a.png)"
    some = "3 of 30 files look far unlike every training image of the model (first: a.png)"
    both = ImageSamples(dataset, notes=[every, some])
    assert modality.sample_notes(SCHEMA, both) == [some, look_note(SCHEMA, SITE_B)]
    assert modality.sample_notes(widened, both) == [every, some]  # no whole-set note: kept


def test_a_base_records_how_the_images_it_trains_on_look_not_the_whole_source():
    """A trial's base of site A, read with site B's images from one CSV before --groups
    chose A's, recorded both sites' mean intensities: B's then passed unsaid."""
    both = torch.cat([SITE_A, SITE_B])
    dataset = ImageDataset(images=both, y=torch.zeros(70, dtype=torch.long),
                           classes=["normal", "nodule"])  # fmt: skip
    dataset.source = look_ranges(both)  # what the read of the whole source records
    whole = ImageSchema.from_dataset(dataset)
    trained = as_trained_on(whole, dataset.subset(range(40)))
    assert trained.mean_level == tuple(look_ranges(SITE_A)["mean_level"])
    assert whole.mean_level[1] > trained.mean_level[1]
    assert look_note(trained, SITE_B) is not None and look_note(whole, SITE_B) is None
