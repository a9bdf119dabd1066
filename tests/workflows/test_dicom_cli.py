"""The command line on a DICOM folder as a hospital archive gives it: several transfer
syntaxes, a file without preamble or suffix, one pydicom cannot decode (it logs a traceback
per decoder tried) and one pydicom warns about. ``train-base`` and ``predict`` run as the
user runs them (a subprocess): the bad file is one line with its reason, the warning one
``note:`` line, and no traceback or library log line reaches the terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import (
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from tests.data.makers import (
    baseline_jpeg,
    lossless_jpeg,
    without_preamble,
    write_dicom,
    write_encapsulated,
)

TINY = ["--image-size", "16", "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]


def _slice(level: int, seed: int) -> np.ndarray:
    """(32, 32) uint16: a square of ``level`` on ~1000, plus noise."""
    pixels = np.full((32, 32), 1000) + np.random.default_rng(seed).integers(0, 20, (32, 32))
    pixels[10:22, 10:22] = level
    return pixels.astype(np.uint16)


SYNTAXES = (None, RLELossless, JPEGLSLossless, JPEG2000Lossless, JPEGLosslessSV1, JPEGBaseline8Bit)


def _write(path, pixels: np.ndarray, syntax: str | None):
    """One slice: through pydicom's encoders (None: uncompressed), else encapsulated here."""
    if syntax == JPEGLosslessSV1:
        return write_encapsulated(path, lossless_jpeg(pixels), syntax, shape=(32, 32), bits=16)
    if syntax == JPEGBaseline8Bit:
        frame = baseline_jpeg((pixels // 16).astype(np.uint8))
        return write_encapsulated(path, frame, syntax, shape=(32, 32), bits=8)
    return write_dicom(path, pixels, syntax=syntax)


def _archive(root):
    """Per class one slice per transfer syntax, plus a file without preamble or suffix, one
    no decoder can read and one pydicom warns about."""
    for label, level in (("bright", 3000), ("dark", 1200)):
        for i, syntax in enumerate(SYNTAXES):
            _write(root / label / f"{label}{i}.dcm", _slice(level + i, seed=i), syntax)
    plain = write_dicom(root.parent / "plain.dcm", _slice(3000, seed=9))
    without_preamble(plain, root / "bright" / "IM0007")
    shutil.copy(get_testdata_file("JPEG-lossy.dcm", download=False), root / "bright" / "broken.dcm")
    padded = write_dicom(root / "dark" / "padded.dcm", _slice(1200, seed=11))
    ds = pydicom.dcmread(padded)
    ds.PixelData += bytes(4)  # pydicom warns about (and trims) excess padding
    ds.save_as(padded)
    return root


def _medadapt(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "medadapt.cli", *argv], capture_output=True, text=True, check=False
    )


def _check_terminal(proc: subprocess.CompletedProcess, broken: str, padded: str) -> None:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr  # no library log line
    assert "Warning:" not in proc.stderr  # no python warning
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 1
    assert skipped[0].startswith(f"skipped {broken}: pixel data cannot be decoded (RuntimeError")
    assert skipped[0].endswith("(every installed decoder failed: pillow, pylibjpeg)")
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note: ")]
    assert notes == [
        f"note: {padded}: The pixel data is 2052 bytes long, which indicates it contains 4 "
        "bytes of excess padding to be removed"
    ]


def test_train_base_and_predict_on_a_mixed_dicom_archive(tmp_path):
    root = _archive(tmp_path / "archive")
    base = tmp_path / "base"
    proc = _medadapt(
        "train-base", "--data", str(root), *TINY, "--epochs", "1", "--on-error", "skip",
        "--out", str(base),
    )  # fmt: skip
    # the skipped file named as the refusal without --on-error skip names it, as notes do
    _check_terminal(proc, str(root / "bright" / "broken.dcm"), str(root / "dark" / "padded.dcm"))
    training = json.loads((base / "model.json").read_text())["training"]
    assert training["n_skipped_files"] == 1  # a count: a file's name may carry a patient's
    assert "broken" not in (base / "model.json").read_text()
    split = training["split"]
    assert len(split["train_keys"]) + len(split["test_keys"]) == 14  # every other file read
    out = tmp_path / "pred.csv"
    proc = _medadapt(
        "predict", "--base", str(base), "--data", str(root), "--out", str(out),
        "--on-error", "skip",
    )  # fmt: skip
    _check_terminal(proc, str(root / "bright" / "broken.dcm"), str(root / "dark" / "padded.dcm"))
    images = pd.read_csv(out)["image"].tolist()
    assert len(images) == 14 and str(root / "bright" / "IM0007") in images
    assert str(root / "bright" / "broken.dcm") not in images
