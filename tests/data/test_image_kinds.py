"""A model trained on CT has never seen an MR image: scored all the same, its output means
nothing. A base records the DICOM Modality of its training images; predict, evaluate, adapt
and the server say when a DICOM image is of another kind (computed and digital radiographs,
CR and DX, are one kind), and an adapter trained on images of a new kind records it, so that
scoring through it does not warn about the kind it learned."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from medadapt.data.image_files import load_unlabelled, modality_note, unlike_training_modality
from medadapt.data.image_schema import ImageSchema
from tests.data.makers import write_dicom, write_picture
from tests.workflows.test_cli import run
from tests.workflows.test_image_cli import TINY


def _schema(**kw) -> ImageSchema:
    return ImageSchema(classes=("normal", "mass"), channels=1, image_size=32, **kw)


def _slice(level: int, seed: int) -> np.ndarray:
    """(32, 32) uint16: a square of ``level`` on ~1000, plus noise."""
    pixels = np.full((32, 32), 1000) + np.random.default_rng(seed).integers(0, 50, (32, 32))
    pixels[10:22, 10:22] = level
    return pixels.astype(np.uint16)


def _said(capsys) -> str:
    """What the command printed, both streams, with the console's line wrapping undone."""
    printed = capsys.readouterr()
    return " ".join((printed.out + printed.err).split())


def _folder(root, kind: str, n: int = 6, patient: str = "P"):
    """``root/normal`` and ``root/mass`` with ``n`` DICOM images each, acquired as ``kind``."""
    for c, (label, level) in enumerate((("normal", 1100), ("mass", 2500))):
        for i in range(n):
            write_dicom(root / label / f"{kind}{i}.dcm", _slice(level + 10 * i, seed=c * 50 + i),
                        modality=kind, patient=f"{patient}{c}{i}")  # fmt: skip
    return root


def test_an_image_of_a_kind_the_model_never_saw_is_said_radiographs_are_one_kind():
    ct = _schema(dicom_modalities=("CT",))
    assert unlike_training_modality(ct, "MR") and unlike_training_modality(ct, "DX")
    assert not unlike_training_modality(ct, "CT")
    assert not unlike_training_modality(ct, None)  # a PNG or NIfTI: its kind is not known
    assert not unlike_training_modality(_schema(), "MR")  # bases saved before kinds were kept
    xray = _schema(dicom_modalities=("DX",))
    assert not unlike_training_modality(xray, "CR") and unlike_training_modality(xray, "MG")
    assert ImageSchema.from_dict(ct.to_dict()) == ct
    assert ImageSchema.from_dict({**ct.to_dict(), "dicom_modalities": ["CT"]}) == ct
    assert modality_note(ct, [("head.dcm", "MR")], 3) == (
        "head.dcm: a DICOM MR image, but the model was trained on CT images only: it has never "
        "seen MR, and its scores on such images may be meaningless until an adapter is trained "
        "on labelled MR images"
    )
    both = _schema(dicom_modalities=("CT", "MR"))
    assert modality_note(both, [("a.dcm", "US"), ("b.dcm", "PT"), ("c.dcm", "US")], 9, "files") == (
        "3 of 9 files (first: a.dcm) are DICOM US (2), PT (1) images, but the model was trained "
        "on CT and MR images only: it has never seen them, and its scores on such images may be "
        "meaningless until an adapter is trained on labelled images of that kind"
    )
    assert modality_note(ct, [], 3) is None


@pytest.fixture(scope="module")
def ct_base(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds")
    _folder(root / "ct", "CT")
    assert run("train-base", "--data", str(root / "ct"), *TINY, "--epochs", "1",
               "--out", str(root / "base")) == 0  # fmt: skip
    return root


def test_a_ct_base_records_its_kind_and_predict_evaluate_and_adapt_say_an_mr_image(
    ct_base, tmp_path, capsys
):
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel

    base = BaseModel.load(ct_base / "base")
    assert base.schema.dicom_modalities == ("CT",)
    assert json.loads((ct_base / "base" / "model.json").read_text())["schema"][
        "dicom_modalities"] == ["CT"]  # fmt: skip
    new = _folder(tmp_path / "new", "CT", n=2)
    mr = write_dicom(new / "mass" / "head.dcm", _slice(2500, seed=7), modality="MR")
    write_picture(new / "normal" / "film.png", (_slice(1100, seed=8) // 16).astype(np.uint8))
    _, _, _, warnings = load_unlabelled(new, base.schema)
    said = (
        f"{mr}: a DICOM MR image, but the model was trained on CT images only: it has never "
        "seen MR, and its scores on such images may be meaningless until an adapter is "
        "trained on labelled MR images"
    )
    assert said in warnings  # the PNG's kind is not known: its scaling is said, not its kind
    images = modality_of("image")
    samples = images.read_for_model(new, base, images.options())
    assert said in samples.notes  # evaluate, adapt, study and check-data say it as predict does
    capsys.readouterr()
    assert run("predict", "--base", str(ct_base / "base"), "--data", str(new),
               "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    printed = _said(capsys)
    assert "head.dcm: a DICOM MR image, but the model was trained on CT images only" in printed
    assert (
        "warning: 2 of the 6 images are unlike the model's training images: the predictions "
        "file says how, per image, in column 'outside_training'" in printed
    )
    table = pd.read_csv(tmp_path / "p.csv", keep_default_na=False).set_index("image")
    assert table.loc[str(mr), "outside_training"] == "DICOM MR"
    film = new / "normal" / "film.png"
    assert table.loc[str(film), "outside_training"] == (
        "intensities scaled as a picture (bit depth), not min-max scaled as in training"
    )  # was "intensities divided by their bit depth's maximum": cryptic to a clinician
    assert (table["outside_training"] == "").sum() == 4


def test_an_adapter_trained_on_mr_images_records_them_and_predicts_them_without_the_warning(
    ct_base, tmp_path, capsys
):
    from medadapt.modalities.bundle import BaseModel

    _folder(tmp_path / "mr", "MR", n=8, patient="M")
    adapter = tmp_path / "mr_adapter"
    assert run("adapt", "--base", str(ct_base / "base"), "--data", str(tmp_path / "mr"),
               "--method", "lora", "--epochs", "1", "--out", str(adapter)) == 0  # fmt: skip
    adapting = _said(capsys)
    assert "16 images in mr (first: " in adapting and "are DICOM MR (16) images" in adapting
    manifest = json.loads((adapter / "adapter.json").read_text())
    assert manifest["metadata"]["inputs_seen"] == {
        "aspect": [1.0, 1.0],
        "brightness": [1.0, 1.0],  # min-max scaled (no window): each reaches 1
        "dicom_modalities": ["MR"],
        "intensity": ["min_max"],  # as the CT base's (no window): nothing to widen
        "mean_level": [0.154, 0.3255],  # how they look (each image's mean and spread)
        "contrast": [0.2961, 0.3423],
        "grain": [0.0327, 0.1386],
    }
    later = _folder(tmp_path / "later", "MR", n=1, patient="L")
    capsys.readouterr()
    assert run("predict", "--base", str(ct_base / "base"), "--adapter", str(adapter),
               "--data", str(later), "--out", str(tmp_path / "p.csv")) == 0  # fmt: skip
    through_adapter = _said(capsys)
    assert "wrote 2 predictions" in through_adapter and "DICOM MR" not in through_adapter
    assert run("predict", "--base", str(ct_base / "base"), "--data", str(later),
               "--out", str(tmp_path / "q.csv")) == 0  # fmt: skip
    assert "warning: 2 of 2 files (first: " in _said(capsys)
    assert BaseModel.load(ct_base / "base").schema.dicom_modalities == ("CT",)


def test_the_server_notes_an_upload_of_a_kind_the_model_never_saw(ct_base, tmp_path):
    from medadapt.modalities.bundle import BaseModel
    from medadapt.serve.image_decode import decode
    from medadapt.serve.image_inputs import ImageServing, Upload

    schema = BaseModel.load(ct_base / "base").schema
    ct = write_dicom(tmp_path / "a.dcm", _slice(2500, seed=1), modality="CT", intercept=-1024.0)
    mr = write_dicom(tmp_path / "b.dcm", _slice(2500, seed=2), modality="MR")
    samples = decode([Upload("chest.dcm", ct, "dicom"), Upload("head.dcm", mr, "dicom")],
                     schema, ImageServing())  # fmt: skip
    assert samples[0].note is None
    assert samples[1].note == (
        "a DICOM MR image, but the model was trained on CT images only: it has never seen MR, "
        "and its scores on such images may be meaningless until an adapter is trained on "
        "labelled MR images"
    )


def test_the_server_judges_an_upload_by_what_its_adapter_was_trained_on(ct_base, tmp_path):
    from fastapi.testclient import TestClient

    from medadapt.registry import Registry
    from medadapt.registry.bases import add_base
    from medadapt.serve.app import create_app

    _folder(tmp_path / "mr", "MR", n=8, patient="M")
    adapter = tmp_path / "mr_adapter"
    assert run("adapt", "--base", str(ct_base / "base"), "--data", str(tmp_path / "mr"),
               "--method", "lora", "--epochs", "1", "--out", str(adapter)) == 0  # fmt: skip
    registry = Registry(tmp_path / "registry", create=True)
    add_base(registry.root, ct_base / "base")
    registry.add(adapter, name="mr")
    registry.promote("mr@1")
    files = {kind: write_dicom(tmp_path / f"{kind}.dcm", _slice(2500, seed=3), modality=kind)
             for kind in ("MR", "US")}  # fmt: skip
    token = "t" * 32
    with TestClient(create_app(registry.root, token=token)) as client:
        reply = client.post(
            "/v1/predict", data={"adapter": "mr"}, headers={"Authorization": f"Bearer {token}"},
            files=[("file", (f"{k}.dcm", p.read_bytes())) for k, p in files.items()],
        )  # fmt: skip
    assert reply.status_code == 200, reply.text
    notes = [p["note"] for p in reply.json()["predictions"]]
    unmeasured = (
        "caution, adapter mr@1 was recorded with: no measured performance (test set too small)"
    )
    assert notes == [unmeasured, (  # which model answered, and its caution, first
        f"{unmeasured}; a DICOM US image, but the model was trained on CT and MR images only: "
        "it has never seen US, and its scores on such images may be meaningless until an "
        "adapter is trained on labelled US images"
    )]  # fmt: skip


def test_a_base_of_pictures_adapted_on_dicom_takes_the_adapter_s_kinds():
    """A trial's base trained on PNG exports (no DICOM kind recorded) was adapted on CR films
    from its PACS; an MR series through the adapter was scored, and its SR stored, without a
    word. The adapter records the kinds it trained on, and they apply through it."""
    from types import SimpleNamespace

    from medadapt.modalities.images.modality import ImageModality

    pictures = _schema()  # a base of PNGs: no DICOM Modality known
    assert pictures.dicom_modalities == () and not unlike_training_modality(pictures, "MR")
    dataset = SimpleNamespace(aspects=[], brightness=[], acquired=["CR", "CR", None], source={})
    seen = ImageModality().inputs_seen(pictures, SimpleNamespace(dataset=dataset))
    assert seen == {"dicom_modalities": ["CR"]}
    through = ImageModality().with_inputs_seen(pictures, seen)
    assert through.dicom_modalities == ("CR",)
    assert unlike_training_modality(through, "MR")  # said, as a CR base would say it
    assert not unlike_training_modality(through, "DX") and not unlike_training_modality(
        through, None
    )


def test_training_images_whose_shape_follows_their_class_are_warned_of():
    """A trial's 3:1 'normal' strips beside square 'abnormal' images trained without a word:
    a model can learn the shape of one class's export instead of the anatomy."""
    from medadapt.modalities.images.classes import shape_by_class_note

    classes = ["normal", "abnormal"]
    aspects = [1.0] * 6 + [3.0] * 3 + [1.0] * 6
    labels = [0] * 6 + [0] * 3 + [1] * 6
    assert shape_by_class_note(aspects, labels, classes) == (
        "the training images' shapes follow their classes (3 images of shape 3:1, all "
        "'normal'; no image of another class has that shape): a model can learn an image's "
        "shape (one export's or scanner's) instead of what it shows; crop or pad every "
        "class's images alike, or check how each class was exported"
    )
    mixed = [1.0] * 6 + [3.0] * 3 + [1.0] * 5 + [3.0]  # a strip in each class: not the class's
    assert shape_by_class_note(mixed, labels, classes) is None
    assert shape_by_class_note([1.0] * 15, labels, classes) is None
    two = [1.0] * 6 + [3.0] * 2 + [1.0] * 7  # two strips: too few to say
    assert shape_by_class_note(two, labels, classes) is None


def test_a_base_records_the_kinds_of_the_images_it_trained_on_not_of_the_whole_source(tmp_path):
    """A trial's path CSV held PNGs at site Y and DX DICOMs at site X; a base trained on
    --groups Y recorded DX, and predict told a CT image that the model "was trained on DX
    images only" (it had never seen a DICOM; a DX image would have gone unremarked)."""
    _mixed_sites(tmp_path)
    assert run("train-base", "--data", str(tmp_path / "cases.csv"), "--group-column", "site",
               "--groups", "Y", *TINY, "--epochs", "1",
               "--out", str(tmp_path / "y")) == 0  # fmt: skip
    schema = json.loads((tmp_path / "y" / "model.json").read_text())["schema"]
    assert schema["dicom_modalities"] == []
    assert run("train-base", "--data", str(tmp_path / "cases.csv"), "--group-column", "site",
               "--groups", "X", *TINY, "--epochs", "1",
               "--out", str(tmp_path / "x")) == 0  # fmt: skip
    assert json.loads((tmp_path / "x" / "model.json").read_text())["schema"][
        "dicom_modalities"] == ["DX"]  # fmt: skip


def _mixed_sites(tmp_path):
    """``cases.csv``: 12 PNG pictures at site Y, 12 DX DICOM images at site X."""
    rows = []
    for c, (label, level) in enumerate((("normal", 60), ("mass", 200))):
        for i in range(6):
            png = tmp_path / "png" / f"{label}{i}.png"
            noise = np.random.default_rng(c * 50 + i).integers(0, 40, (32, 32))
            write_picture(png, (noise + level - 20 + i).astype(np.uint8))
            rows.append({"path": str(png), "label": label, "site": "Y"})
            dcm = write_dicom(tmp_path / "dcm" / f"{label}{i}.dcm",
                              _slice(1100 + 1400 * c + 10 * i, seed=c * 50 + i), modality="DX",
                              patient=f"X{c}{i}")  # fmt: skip
            rows.append({"path": str(dcm), "label": label, "site": "X"})
    pd.DataFrame(rows).to_csv(tmp_path / "cases.csv", index=False)


def test_a_ct_window_said_where_it_reads_other_kinds_or_leaves_pictures_as_saved(tmp_path):
    """A trial's --window lung on PNGs and DX DICOMs together trained without a word: the
    DX images, read as if in Hounsfield units, came out nearly white; the PNGs unchanged."""
    from medadapt.data.images import load_images

    _mixed_sites(tmp_path)
    dataset = load_images(tmp_path / "cases.csv", image_size=32, window="lung")
    said = [w for w in dataset.warnings if "(--window)" in w]
    assert said == [
        f"cases.csv: 12 DICOM files are DX, not CT (first: {tmp_path / 'dcm' / 'normal0.dcm'}"
        "), yet read through the CT window (--window), as if their values were Hounsfield "
        "units: they are not, and such images come out nearly white or black; drop --window, "
        "or keep only CT images in --data",
        "cases.csv: the CT window (--window) applies to the DICOM and NIfTI images only; its "
        "12 PNG/JPEG pictures are read as saved, on another scale: export them from their "
        "DICOM originals, or train on one kind",
    ]
    assert not [w for w in load_images(tmp_path / "cases.csv", image_size=32).warnings
                if "(--window)" in w]  # fmt: skip


def test_a_folder_of_pictures_beside_dicom_files_with_patients_says_the_others_have_none(
    tmp_path, capsys
):
    """A trial's folder of 80 PNGs and 6 DICOM files with a PatientID trained without the
    "names no patient" note that the PNGs alone had: 80 images each counted as a patient."""
    for c, (label, level) in enumerate((("normal", 60), ("mass", 200))):
        for i in range(8):
            noise = np.random.default_rng(c * 50 + i).integers(0, 40, (32, 32))
            write_picture(tmp_path / "cases" / label / f"{i}.png",
                          (noise + level - 20 + i).astype(np.uint8))  # fmt: skip
        write_dicom(tmp_path / "cases" / label / "x.dcm", _slice(1100 + 1400 * c, seed=c),
                    modality="DX", patient=f"P{c}")  # fmt: skip
    capsys.readouterr()
    assert run("train-base", "--data", str(tmp_path / "cases"), *TINY, "--epochs", "1",
               "--out", str(tmp_path / "b"), "--json", str(tmp_path / "b.json")) == 0  # fmt: skip
    tested = json.loads((tmp_path / "b.json").read_text())["test"]["overall"]
    assert "one_sample_per_patient" not in tested  # a file stands in for most patients
    assert (
        "note: 16 of the 18 images read name no patient (no patient column, no DICOM "
        "PatientID): each was counted as a patient of its own (a patient's several images may "
        "have fallen on both sides of the split, and narrowed the intervals); list them all in "
        "a path CSV with a patient column (--id-column)"
    ) in _said(capsys)
