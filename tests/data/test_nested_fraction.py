"""A study's or adapt's training fraction draws whole patients where one has several samples.

A trial's image study said "At 50% (14 images from 11 patients: 7 of class circle, 7 of class
square)" of patients with two images each: half of the images, from most of the patients."""

from __future__ import annotations

import numpy as np

from medadapt.data.splits import nested_fraction


def _two_images_each(n_patients: int = 40) -> tuple[np.ndarray, np.ndarray]:
    patients = np.repeat([f"p{i:02d}" for i in range(n_patients)], 2)
    labels = np.repeat(np.arange(n_patients) % 2, 2)  # a patient's images share its class
    return labels, patients


def test_half_the_patients_with_every_image_of_each():
    labels, patients = _two_images_each()
    positions = np.arange(len(labels))
    for seed in range(5):
        half = nested_fraction(positions, labels, fraction=0.5, seed=seed, patients=patients)
        chosen = set(patients[half])
        assert len(chosen) == 20 and len(half) == 40  # 20 whole patients, 2 images each
        assert sorted(half) == sorted(np.flatnonzero(np.isin(patients, list(chosen))))
        assert np.bincount(labels[half]).tolist() == [20, 20]  # stratified by patient class
        quarter = nested_fraction(positions, labels, fraction=0.25, seed=seed, patients=patients)
        assert set(quarter) <= set(half)  # nested, as without patients
        assert len(set(patients[quarter])) == 10


def test_a_subset_of_positions_draws_among_its_own_patients():
    labels, patients = _two_images_each()
    train = np.arange(20, 80)  # patients p10..p39
    half = nested_fraction(train, labels, fraction=0.5, seed=0, patients=patients)
    # 15 patients of each class: round(7.5) = 8 of each, as rows are rounded
    assert set(half) <= set(train) and len(set(patients[half])) == 16 and len(half) == 32


def test_one_sample_per_patient_draws_as_without_patients():
    """Each patient once (a table of one row per patient): the draw is the one it was."""
    labels = np.arange(50) % 2
    patients = np.array([f"p{i}" for i in range(50)])
    for seed in range(3):
        assert np.array_equal(
            nested_fraction(np.arange(50), labels, fraction=0.3, seed=seed, patients=patients),
            nested_fraction(np.arange(50), labels, fraction=0.3, seed=seed),
        )
