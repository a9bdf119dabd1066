"""DICOM as hospital archives hold it: every compressed transfer syntax medadapt claims has a
decoder, and each one we can write or pydicom ships decodes to the stored pixels (exactly when
lossless); files without the preamble (or without a .dcm suffix) read like the ones with it;
non-DICOM files are refused in one line; what pydicom logs or warns becomes one-line notes."""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import get_decoder
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from medadapt.data import dicom_files
from medadapt.data.dicom_files import COMPRESSED_SYNTAXES, LIBJPEG_ONLY, open_dicom
from medadapt.data.dicom_series import Unit
from medadapt.data.image_io import ReadOptions, file_format, read_file
from medadapt.data.image_schema import is_image_source
from medadapt.data.image_sources import Entry
from medadapt.data.images import SkippedFilesWarning, load_images
from tests.data.makers import (
    baseline_jpeg,
    disc,
    lossless_jpeg,
    without_preamble,
    write_dicom,
    write_encapsulated,
    write_picture,
)

OPTIONS = ReadOptions(image_size=32)
# (32, 32) 12-bit values 320..3359: a bright disc on a dark ground, plus noise
NOISE = np.random.default_rng(0).integers(0, 16, (32, 32))
PIXELS = (disc(32, 200, seed=0).astype(np.int64) * 16 + NOISE).astype(np.uint16)
RANGE = int(PIXELS.max()) - int(PIXELS.min())


def read(path):
    """medadapt's reading of one file: (samples, notes), as the loaders do it."""
    result = Unit(Entry(path, "", None, "dicom"), (path,)).read(OPTIONS)
    return result.samples, result.notes


def bundled(name, tmp_path):
    """A copy of a DICOM file shipped inside pydicom's wheel (never downloaded)."""
    source = get_testdata_file(name, download=False)
    assert source is not None, f"pydicom no longer ships {name}"
    return shutil.copy(source, tmp_path / name)


def test_every_claimed_transfer_syntax_has_an_installed_decoder():
    for syntax in COMPRESSED_SYNTAXES:
        decoder = get_decoder(syntax)
        assert decoder.is_available, f"{syntax}: missing {decoder.missing_dependencies}"
    assert dicom_files.has_libjpeg()  # dev installs medadapt[dicom-gpl]
    for syntax in LIBJPEG_ONLY:
        assert "pylibjpeg" in get_decoder(syntax).available_plugins
    assert "pyjpegls" in get_decoder(JPEGLSLossless).available_plugins  # no GPL needed


@pytest.mark.parametrize(
    ("syntax", "encode", "tolerance"),
    [
        (RLELossless, {"encoding_plugin": "pydicom"}, 0),
        (JPEGLSLossless, {}, 0),
        (JPEGLSNearLossless, {"jls_error": 3}, 3),
        (JPEG2000Lossless, {}, 0),
        (JPEG2000, {"j2k_cr": [2]}, 0.02 * RANGE),
        (DeflatedExplicitVRLittleEndian, {}, 0),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_pydicom_encoded_syntaxes_decode_to_the_stored_pixels(tmp_path, syntax, encode, tolerance):
    path = write_dicom(tmp_path / "x.dcm", PIXELS, syntax=syntax, **encode)
    written = pydicom.dcmread(path)
    assert written.file_meta.TransferSyntaxUID == syntax
    assert written["PixelData"].is_undefined_length == syntax.is_compressed  # encapsulated
    decoded = open_dicom(path).pixel_array.astype(np.int64)
    error = np.abs(decoded - PIXELS)
    if tolerance == 0:
        np.testing.assert_array_equal(decoded, PIXELS)
    else:
        assert error.max() <= tolerance  # near-lossless: at most NEAR; JPEG 2000: 2 % of range
    samples, notes = read(path)
    reference, _ = read(write_dicom(tmp_path / "plain.dcm", PIXELS))
    # min-max scaling: a lossy minimum and maximum move the scaled values up to ~3x as much
    np.testing.assert_allclose(samples[0], reference[0], atol=3 * tolerance / RANGE + 1e-6)
    assert notes == []


@pytest.mark.parametrize(
    ("syntax", "predictor"),
    [(JPEGLosslessSV1, 1), *((JPEGLossless, p) for p in range(1, 8))],
)
def test_jpeg_lossless_process_14_decodes_exactly(tmp_path, syntax, predictor):
    frame = lossless_jpeg(PIXELS, predictor=predictor)
    path = write_encapsulated(tmp_path / "ll.dcm", frame, syntax, shape=PIXELS.shape, bits=16)
    np.testing.assert_array_equal(open_dicom(path).pixel_array, PIXELS)
    samples, notes = read(path)
    reference, _ = read(write_dicom(tmp_path / "plain.dcm", PIXELS))
    np.testing.assert_array_equal(samples[0], reference[0])
    assert notes == []


def test_jpeg_baseline_8bit_decodes_close_to_the_picture(tmp_path):
    picture = disc(32, 200, seed=1)
    frame = baseline_jpeg(picture)
    path = write_encapsulated(tmp_path / "b.dcm", frame, JPEGBaseline8Bit, shape=(32, 32), bits=8)
    error = np.abs(open_dicom(path).pixel_array.astype(int) - picture)
    assert error.mean() < 4 and error.max() < 32  # lossy, quality 90
    samples, notes = read(path)
    assert np.corrcoef(samples[0].ravel(), picture.ravel())[0, 1] > 0.99 and notes == []


def test_bundled_files_of_other_encoders_decode(tmp_path):
    """Files written by GDCM and DCMTK, shipped in pydicom's wheel: JPEG lossless (.70) RGB
    equals the same picture in RLE; JPEG baseline (.50, YBR) is close to it; 12-bit JPEG
    extended (.51, libjpeg) is close to the same CT slice in JPEG 2000 (openjpeg)."""
    rle, _ = read(bundled("SC_rgb_rle.dcm", tmp_path))
    lossless, notes = read(bundled("SC_rgb_jpeg_gdcm.dcm", tmp_path))
    assert rle[0].shape == (3, 100, 100) and notes == []
    np.testing.assert_array_equal(lossless[0], rle[0])
    lossy, notes = read(bundled("SC_rgb_jpeg_dcmtk.dcm", tmp_path))
    error = np.abs(lossy[0] - rle[0])
    assert error.max() <= 8 / 255 and error.mean() < 1.5 / 255 and notes == []
    extended = open_dicom(bundled("JPGExtended.dcm", tmp_path))
    assert extended.file_meta.TransferSyntaxUID == JPEGExtended12Bit and extended.BitsStored == 12
    twelve = extended.pixel_array.astype(float)
    j2k = open_dicom(bundled("JPEG2000.dcm", tmp_path)).pixel_array.astype(float)
    assert twelve.shape == (1024, 256) and twelve.max() > 255  # really 12-bit values
    assert np.corrcoef(twelve.ravel(), j2k.ravel())[0, 1] > 0.9
    assert np.median(np.abs(twelve - j2k)) <= 4


def test_files_without_preamble_read_like_the_ones_with_it(tmp_path):
    original = write_dicom(tmp_path / "with.dcm", PIXELS, patient="P7")
    rle = write_dicom(tmp_path / "rle.dcm", PIXELS, syntax=RLELossless, patient="P7")
    variants = {
        "meta, .dcm": without_preamble(original, tmp_path / "meta.dcm"),
        "meta, no suffix": without_preamble(original, tmp_path / "IM0001"),
        "no meta, UID name": without_preamble(
            original, tmp_path / "1.2.826.0.1.3680043.8.498.7", file_meta=False
        ),
        "RLE, no suffix": without_preamble(rle, tmp_path / "IM0002"),
    }
    expected = read_file(original, "dicom", OPTIONS)
    for what, path in variants.items():
        assert path.read_bytes()[128:132] != b"DICM", what
        assert file_format(path) == "dicom", what
        got = read_file(path, "dicom", OPTIONS)
        np.testing.assert_array_equal(got.samples[0], expected.samples[0], err_msg=what)
        assert got.subject == expected.subject == "patient:P7", what
    assert is_image_source(variants["meta, no suffix"])  # --data IM0001 is an image, not a table
    bare = open_dicom(variants["no meta, UID name"])
    assert bare.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    root = tmp_path / "archive"
    for i, path in enumerate(variants.values()):
        target = root / "ab"[i % 2] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    ds = load_images(root, image_size=8)
    assert len(ds) == 4 and ds.source["formats"] == {"dicom": 4} and ds.skipped == []


def test_non_dicom_files_are_refused_with_a_one_line_reason(tmp_path):
    root = tmp_path / "x"
    write_dicom(root / "a" / "good.dcm", PIXELS)
    write_dicom(root / "b" / "good.dcm", PIXELS)
    write_picture(root / "a" / "photo.png", disc(8, 200, seed=0)).rename(root / "a" / "photo.dcm")
    (root / "a" / "random.dcm").write_bytes(np.random.default_rng(3).bytes(600))
    (root / "b" / "notes.dcm").write_text("patient notes, not an image\n" * 10)
    (root / "b" / "empty.dcm").write_bytes(b"")
    header_only = pydicom.Dataset()
    header_only.StudyDate = "20240101"  # starts like a data set, but is no image
    header_only.save_as(root / "b" / "study.dcm", implicit_vr=True, little_endian=True)
    with pytest.warns(SkippedFilesWarning, match="skipped 5 of 7"):
        ds = load_images(root, image_size=8)
    not_dicom = "not a DICOM file: no 'DICM' marker at byte 128 and no DICOM data set at its start"
    assert dict(ds.skipped) == {
        str(root / "a" / "photo.dcm"): f"{not_dicom} (it looks like a PNG picture)",
        str(root / "a" / "random.dcm"): f"{not_dicom} (unknown binary content)",
        str(root / "b" / "notes.dcm"): f"{not_dicom} (it looks like text)",
        str(root / "b" / "empty.dcm"): f"{not_dicom} (the file is empty)",
        str(root / "b" / "study.dcm"): (
            "not a DICOM image: no preamble, and the data set at its start has no SOP Class "
            "UID, Modality, Rows or Pixel Data"
        ),
    }
    for path, reason in ds.skipped:  # without the .dcm suffix, these are no images at all
        renamed = Path(path).rename(tmp_path / Path(path).stem)
        assert file_format(renamed) == (None if reason.startswith(not_dicom) else "dicom")


def test_a_decode_failure_is_one_line_and_pydicom_logs_nothing_to_the_terminal(tmp_path, caplog):
    """JPEG-lossy.dcm (shipped by pydicom) fails in every JPEG decoder: pydicom logs each
    failure with its traceback. The file is skipped with one line; no record or warning
    escapes."""
    root = tmp_path / "x"
    write_dicom(root / "a" / "good.dcm", PIXELS)
    write_dicom(root / "b" / "good.dcm", PIXELS)
    shutil.copy(bundled("JPEG-lossy.dcm", tmp_path), root / "b" / "bad.dcm")
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_images(root, image_size=8)
    assert [w.category for w in caught] == [SkippedFilesWarning]
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == []
    ((path, reason),) = ds.skipped
    assert path == str(root / "b" / "bad.dcm") and "\n" not in reason
    assert reason.startswith(
        "pixel data cannot be decoded (RuntimeError: Unable to decode as exceptions were "
        "raised by all available plugins: pylibjpeg: libjpeg error code '-1038'"
    )
    assert reason.endswith(
        "; the JPEG Extended (Process 2 and 4) data is damaged (every installed decoder "
        "failed: pillow, pylibjpeg)"
    )


def _padded(path, extra=4):
    """``path`` rewritten with ``extra`` bytes of excess pixel data (pydicom warns, then
    trims them)."""
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData + bytes(extra)
    ds.save_as(path)
    return path


def test_library_warnings_of_files_that_were_read_become_notes_logged_once(tmp_path, caplog):
    root = tmp_path / "x"
    padded = [_padded(write_dicom(root / c / "p.dcm", PIXELS)) for c in ("a", "b")]
    write_dicom(root / "a" / "plain.dcm", PIXELS)
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_images(root, image_size=8)
    assert caught == [] and ds.skipped == [] and len(ds) == 3
    note = (
        "The pixel data is 2052 bytes long, which indicates it contains 4 bytes of excess "
        "padding to be removed"
    )
    assert ds.notes == [(str(padded[0]), note), (str(padded[1]), note)]
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert logged == [("medadapt.notes", f"{padded[0]}: {note} (and 1 more files)")]


def test_the_reason_names_the_gpl_extra_when_libjpeg_is_missing(tmp_path, monkeypatch):
    frame = lossless_jpeg(PIXELS)
    path = write_encapsulated(tmp_path / "ll.dcm", frame, JPEGLosslessSV1, shape=(32, 32), bits=16)
    ds = open_dicom(path)
    monkeypatch.setattr(dicom_files, "has_libjpeg", lambda: False)
    assert dicom_files.decoder_advice(ds, JPEGLosslessSV1) == (
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value "
        "1]) needs the GPLv3 decoder pylibjpeg-libjpeg: pip install 'medadapt[dicom-gpl]'"
    )
    assert dicom_files.decoder_advice(ds, JPEGLSLossless).startswith(
        "the JPEG-LS Lossless Image Compression data is damaged"
    )  # JPEG-LS has a permissive decoder (pyjpegls)


def test_a_series_of_files_without_preamble_is_still_stacked(tmp_path):
    from tests.data.test_medical_formats import _series

    for label, patient in (("a", "P1"), ("a", "P2"), ("b", "P3")):
        _series(tmp_path / "s", label, patient)
    for path in (tmp_path / "s" / "a" / "P1").iterdir():
        without_preamble(path, path)
    ds = load_images(tmp_path / "s", image_size=4, spatial_dims=3, spacing=None)
    assert ds.images.shape == (3, 1, 4, 4, 4) and ds.source["dicom_series"] == 3
    assert ds.patients() == ["patient:P1", "patient:P2", "patient:P3"]
    np.testing.assert_array_equal(ds.images[0], ds.images[1])  # P1 (no preamble) as P2
