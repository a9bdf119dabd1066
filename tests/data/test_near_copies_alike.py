"""Near-copies among alike images: a trial's synthetic CT slices, one phantom with noise,
lay a median 28 bits apart, and every new patient's slice was called a near-identical copy
of a training one (within 40 bits), in predict's CSV and in the DICOM SR it stored."""

from __future__ import annotations

import numpy as np

from medadapt.data.stored_pixels import NEAR_BITS, alike_within, near_key, near_matches


def _phantom(rng: np.random.Generator) -> np.ndarray:
    """A 64 x 64 chest-like slice in stored values: a body, two lungs, noise, sometimes a
    nodule (as the trial's)."""
    y, x = np.mgrid[0:64, 0:64]
    image = np.full((64, 64), -1000.0)
    image[((x - 32) / 29) ** 2 + ((y - 32) / 24) ** 2 < 1] = 40
    for cx in (19, 45):
        image[((x - cx) / 10) ** 2 + ((y - 32) / 16) ** 2 < 1] = -850
    if rng.uniform() < 0.5:
        cx, cy, r = rng.choice([19, 45]) + rng.integers(-4, 5), 32 + rng.integers(-8, 9), 4
        image[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = 30
    return np.clip(image + rng.normal(0, 20, image.shape) + 1024, 0, 4095)


def _blobs(rng: np.random.Generator) -> np.ndarray:
    """A distinct picture each: a few bright discs at random places."""
    y, x = np.mgrid[0:64, 0:64]
    image = np.zeros((64, 64))
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 64), rng.uniform(0, 64), rng.uniform(4, 14)
        image += rng.uniform(50, 200) * ((x - cx) ** 2 + (y - cy) ** 2 < r * r)
    return image


def test_new_images_alike_the_training_ones_are_not_called_copies():
    rng = np.random.default_rng(0)
    train = np.array([near_key(_phantom(rng)) for _ in range(120)])
    new = np.array([near_key(_phantom(rng)) for _ in range(60)])
    assert near_matches(new, train, NEAR_BITS).mean() > 0.9  # the old rule: nearly all
    assert alike_within(train) < 5
    assert near_matches(new, train).mean() <= 0.05  # at most a few in a hundred
    assert near_matches(train[:10], train).all()  # a training image itself still matches


def test_distinct_training_images_keep_the_full_allowance():
    rng = np.random.default_rng(1)
    train = np.array([near_key(_blobs(rng)) for _ in range(60)])
    assert alike_within(train) == NEAR_BITS
    copy = near_key(
        _blobs(np.random.default_rng(1)) + np.random.default_rng(2).normal(0, 2, (64, 64))
    )
    assert near_matches(copy[None], train).tolist() == [True]  # the first, with noise
