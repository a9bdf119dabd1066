"""Volumes scored by a 2D model are said to be judged on one slice each.

The images trial: NIfTI volumes given to a base trained on 2D pictures were each scored on
their middle slice, with p_abnormal 0.906 for every volume and only a 'slice' column to tell."""

from __future__ import annotations

import nibabel as nib
import numpy as np
from PIL import Image

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import TINY_IMAGE


def test_predict_says_each_volume_was_scored_on_one_slice(tmp_path):
    rng = np.random.default_rng(0)
    for name, level in (("dark", 60), ("bright", 180)):
        folder = tmp_path / "png" / name
        folder.mkdir(parents=True)
        for i in range(12):
            pixels = np.clip(rng.normal(level, 20, (32, 32)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    (tmp_path / "vols").mkdir()
    for i in range(3):
        volume = rng.normal(100, 30, (32, 32, 9)).astype(np.float32)
        nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "vols" / f"v{i}.nii.gz")
    succeeded(run_cli("train-base", "--data", tmp_path / "png", *TINY_IMAGE, "--epochs", "1",
                      "--out", tmp_path / "base"))  # fmt: skip
    scored = succeeded(run_cli("predict", "--base", tmp_path / "base", "--data",
                               tmp_path / "vols", "--out", tmp_path / "p.csv"))  # fmt: skip
    assert (
        "note: 3 volumes (NIfTI or multi-frame DICOM) read were scored on one slice each, the "
        "middle one, as this 2D model reads volumes (column 'slice' says which): a finding on "
        "other slices is not seen"
    ) in scored.stdout + scored.stderr
    pictures = succeeded(run_cli("predict", "--base", tmp_path / "base", "--data",
                                 tmp_path / "png", "--out", tmp_path / "q.csv"))  # fmt: skip
    assert "scored on one slice" not in pictures.stdout + pictures.stderr
