"""An 8-bit DICOM without a window, scored by a model trained on pictures, is divided by 255
as a PNG is: a trial's DICOM copy of a training PNG was min-max scaled (other inputs than the
PNG's, and a scaling warning); a film declaring 12 bits of 16, by 4095. 16 bits of 16, CT,
rescaled values and models trained on DICOM keep min-max scaling."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian, generate_uid

from medadapt.data.image_io import read_file
from medadapt.modalities.bundle import BaseModel
from tests.workflows.test_image_cli import run


def _dicom_copy(png, path, *, modality: str = "DX", bits: int = 8, slope: float | None = None,
                scale: int = 1):  # fmt: skip
    """``png``'s pixels (times ``scale``) in a DICOM file without a window (``bits`` stored:
    8, or 12 or 16 of 16 holding them)."""
    pixels = np.asarray(Image.open(png).convert("L")).astype(np.int64) * scale
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    stored = pixels.astype(np.uint8 if bits == 8 else np.uint16)
    ds.set_pixel_data(stored, "MONOCHROME2", bits_stored=bits)
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, 0
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def film(films_base):
    """The first training film of the base, and the base's schema."""
    cases = pd.read_csv(films_base / "cases.csv")
    return films_base / cases["path"].iloc[0], BaseModel.load(films_base / "base").schema


def test_an_8_bit_dicom_copy_of_a_training_png_is_read_as_the_png_is(film, tmp_path):
    png, schema = film
    options = schema.read_options()
    assert options.unwindowed_as_picture  # the base trained on pictures only
    picture = read_file(png, "png", options)
    copy = read_file(_dicom_copy(png, tmp_path / "copy.dcm"), "dicom", options)
    assert copy.how == picture.how == "fixed_scale"
    np.testing.assert_array_equal(copy.samples[0], picture.samples[0])


def test_a_12_bit_film_is_divided_by_its_bits_maximum_as_a_picture_by_its_own(film, tmp_path):
    """A trial's 12-bit DX films (BitsStored 12 of 16), min-max scaled for a model trained on
    8-bit PNGs, were ranked backwards: the depth a film declares scales it, as a PNG's."""
    png, schema = film
    picture = read_file(png, "png", schema.read_options())
    deep = read_file(_dicom_copy(png, tmp_path / "deep.dcm", bits=12, scale=16), "dicom",
                     schema.read_options())  # fmt: skip
    assert deep.how == "fixed_scale"
    np.testing.assert_allclose(deep.samples[0], picture.samples[0], atol=0.005)  # 16/4095, 1/255


@pytest.mark.parametrize(
    "kind", [{"bits": 16}, {"modality": "CT"}, {"slope": 2.0}], ids=["16-bit", "CT", "rescaled"]
)
def test_deeper_ct_or_rescaled_dicom_stays_min_max_scaled(film, tmp_path, kind):
    png, schema = film
    read = read_file(_dicom_copy(png, tmp_path / "copy.dcm", **kind), "dicom",
                     schema.read_options())  # fmt: skip
    assert read.how == "min_max"
    values = read.samples[0]
    assert float(values.min()) == 0.0 and float(values.max()) == 1.0


def test_a_model_trained_on_dicom_keeps_min_max_scaling(film, tmp_path):
    png, schema = film
    on_dicom = replace(schema, intensity={"min_max": 16})
    assert not on_dicom.read_options().unwindowed_as_picture
    read = read_file(_dicom_copy(png, tmp_path / "copy.dcm"), "dicom", on_dicom.read_options())
    assert read.how == "min_max"
    mixed = replace(schema, intensity={"fixed_scale": 8, "min_max": 8})
    assert not mixed.read_options().unwindowed_as_picture


def test_predict_scores_the_dicom_copy_as_the_png_without_a_scaling_warning(
    films_base, film, tmp_path, capsys
):
    png, _ = film
    folder = tmp_path / "new"
    folder.mkdir()
    Image.open(png).save(folder / "film.png")
    _dicom_copy(png, folder / "film.dcm")
    capsys.readouterr()
    assert run("predict", "--base", str(films_base / "base"), "--data", str(folder),
               "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    said = capsys.readouterr()
    assert "min-max" not in said.out + said.err
    scored = pd.read_csv(tmp_path / "p.csv")
    probabilities = scored[[c for c in scored.columns if c.startswith("p_")]].to_numpy()
    assert len(probabilities) == 2
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-6)


def test_through_an_adapter_that_saw_other_scalings_the_base_s_reading_is_kept(film, tmp_path):
    """A review: an adapter whose site's images were also min-max scaled adds that way (at
    count 0) to the schema it is used with; the 8-bit DICOM it was adapted on, divided by 255
    at adapt time (the base's options), must be read so at predict time too."""
    from medadapt.modalities.images.modality import ImageModality

    png, schema = film
    through = ImageModality().with_inputs_seen(schema, {"intensity": ["fixed_scale", "min_max"]})
    assert set(through.intensity) == {"fixed_scale", "min_max"}
    assert through.read_options().unwindowed_as_picture
    read = read_file(_dicom_copy(png, tmp_path / "copy.dcm"), "dicom", through.read_options())
    assert read.how == "fixed_scale"


def test_adapt_reads_a_site_s_8_bit_dicom_as_predict_and_serve_read_it(films_base, tmp_path,
                                                                       capsys):  # fmt: skip
    """A trial's adapter trained on 8-bit DICOM films min-max scaled (its record: min_max)
    that ``predict`` and ``serve`` divided by 255: inputs prepared two ways, the adapter's own
    training files called "near-identical copies (lossy re-saves)" of themselves at predict.
    The labelled reader takes the base's reading options, so the three read alike."""
    from medadapt.modalities.images.reading import load_for_model

    cases = pd.read_csv(films_base / "cases.csv")
    site = tmp_path / "site"
    site.mkdir()
    rows = []
    for i, (path, label) in enumerate(zip(cases["path"], cases["label"], strict=True)):
        copy = _dicom_copy(films_base / path, site / f"film_{i:02d}.dcm")
        rows.append({"path": copy.name, "label": label})
    pd.DataFrame(rows).to_csv(site / "site.csv", index=False)
    schema = BaseModel.load(films_base / "base").schema
    read = load_for_model(site / "site.csv", schema, schema.classes, hint="")
    assert read.source["intensity"] == {"fixed_scale": len(rows)}
    first = read_file(site / rows[0]["path"], "dicom", schema.read_options())
    np.testing.assert_array_equal(read.images[0].numpy(), first.samples[0])
    capsys.readouterr()
    assert run("adapt", "--base", str(films_base / "base"), "--data", str(site / "site.csv"),
               "--epochs", "1", "--out", str(tmp_path / "adapter")) == 0  # fmt: skip
    assert "min-max" not in " ".join(capsys.readouterr())
    assert run("predict", "--base", str(films_base / "base"), "--adapter",
               str(tmp_path / "adapter"), "--data", str(site / "site.csv"), "--out",
               str(tmp_path / "p.csv")) == 0  # fmt: skip
    said = " ".join(capsys.readouterr())
    assert "near-identical copies" not in said and "min-max" not in said, said
    assert "trained_on" in pd.read_csv(tmp_path / "p.csv").columns
