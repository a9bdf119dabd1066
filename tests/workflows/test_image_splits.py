"""Which images a model trained on: recorded by content key, honoured across sources that
list the same files, at patient level, and the skip/refuse choice for unreadable files."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from medadapt.data.image_files import split_by_patient
from medadapt.data.images import load_images
from tests.cli.helpers import run_cli
from tests.data.makers import write_dicom
from tests.train.image_data import OLD, write_png_csv
from tests.workflows.test_image_cli import TINY, run


@pytest.fixture(scope="module")
def same_files(tmp_path_factory):
    """``old.csv`` (the base's classes) and ``new.csv`` listing the same files plus a new
    class; a base trained on old.csv and a cavity adapter trained on new.csv."""
    root = tmp_path_factory.mktemp("same_files")
    write_png_csv(root, {"A": {c: 12 for c in OLD}}, list(OLD))
    (root / "cases.csv").rename(root / "old.csv")
    write_png_csv(root, {"N": {"cavity": 16}}, [*OLD, "cavity"], seed=5)
    old = pd.read_csv(root / "old.csv")
    pd.concat([old, pd.read_csv(root / "cases.csv")]).to_csv(root / "new.csv", index=False)
    common = [*TINY, "--epochs", "2"]
    assert (
        run("train-base", "--data", str(root / "old.csv"), *common, "--out", str(root / "base"))
        == 0
    )
    assert (
        run(
            "adapt",
            "--base",
            str(root / "base"),
            "--data",
            str(root / "new.csv"),
            "--new-classes",
            "cavity",
            "--old-data",
            str(root / "old.csv"),
            "--no-compare-full",
            "--epochs",
            "2",
            "--out",
            str(root / "cavity"),
            "--json",
            str(root / "cavity.json"),
        )
        == 0
    )
    return root


def _base_split(root):
    return json.loads((root / "base" / "model.json").read_text())["training"]["split"]


def test_adapter_tests_only_images_the_base_never_trained_on_in_another_listing(same_files):
    root = same_files
    base_train = set(_base_split(root)["train_keys"])
    adapter = json.loads((root / "cavity" / "split.json").read_text())
    assert base_train and not base_train & set(adapter["test_keys"])
    summary = json.loads((root / "cavity.json").read_text())
    assert summary["data_summary"]["n_seen_by_base"] == len(base_train)
    assert summary["warnings"][0].startswith(f"the base model trained on {len(base_train)} of")
    new = load_images(root / "new.csv", image_size=32, classes=[*OLD, "cavity"])
    assert len(base_train & set(new.keys)) == len(base_train)  # recognised in new.csv


def test_retention_uses_old_class_images_neither_model_trained_on(same_files):
    root = same_files
    summary = json.loads((root / "cavity.json").read_text())
    adapter = json.loads((root / "cavity" / "split.json").read_text())
    old = load_images(root / "old.csv", image_size=32)
    untrained = set(old.keys) - set(_base_split(root)["train_keys"]) - set(adapter["train_keys"])
    retention = summary["retention"]
    assert retention["n_images"] == len(untrained) > 0
    assert retention["test_set"] == (
        f"the {len(untrained)} images of old.csv neither the base model nor the adapter trained on"
    )


def test_evaluate_leaves_out_every_image_either_model_trained_on(same_files):
    root = same_files
    shuffled = root / "shuffled.csv"  # the base's images, listed in another order
    pd.read_csv(root / "old.csv").iloc[::-1].to_csv(shuffled, index=False)
    out = root / "eval.json"
    assert (
        run("evaluate", "--base", str(root / "base"), "--data", str(shuffled), "--json", str(out))
        == 0
    )
    base_train = set(_base_split(root)["train_keys"])
    result = json.loads(out.read_text())
    assert result["n"] == 36 - len(base_train)
    assert result["images_used"] == (
        f"all images, minus {len(base_train)} images that match images the base model trained "
        "on (by content)"
    )
    old = load_images(root / "old.csv", image_size=32)
    adapter = json.loads((root / "cavity" / "split.json").read_text())
    trained = base_train | set(adapter["train_keys"])
    argv = ["evaluate", "--base", str(root / "base"), "--adapter", str(root / "cavity")]
    out = root / "eval_old.json"
    assert run(*argv, "--data", str(root / "old.csv"), "--json", str(out)) == 0
    result = json.loads(out.read_text())
    assert result["n"] == sum(k not in trained for k in old.keys) > 0


def _dicom_patients(root, n_patients=6, slices=3):
    """One slice per file, ``slices`` files per patient (PatientID), two classes."""
    rng = np.random.default_rng(0)
    for p in range(n_patients):
        label = "bleed" if p % 2 else "normal"
        for s in range(slices):
            pixels = (rng.integers(0, 50, (8, 8)) + (200 if p % 2 else 0)).astype(np.uint16)
            path = write_dicom(root / label / f"p{p}_s{s}.dcm", pixels)
            import pydicom

            ds = pydicom.dcmread(path)
            ds.PatientID = f"P{p}"
            ds.save_as(path)
    return root


def test_split_keeps_a_patients_slices_from_separate_files_together(tmp_path):
    ds = load_images(_dicom_patients(tmp_path / "ct"), image_size=8)
    assert len(ds) == 18 and len(set(ds.paths)) == 18
    for seed in range(3):
        train, test = split_by_patient(ds, range(len(ds)), test_fraction=0.34, seed=seed)
        patients = ds.patients()
        assert {patients[i] for i in train}.isdisjoint({patients[i] for i in test})
        assert len(test) % 3 == 0


def test_id_column_groups_a_csvs_images_by_patient(tmp_path):
    csv = write_png_csv(tmp_path, {"A": {"normal": 8, "mass": 8}}, ["normal", "mass"])
    table = pd.read_csv(csv)
    table["patient"] = [f"p{i // 2}" for i in range(len(table))]  # two images per patient
    table.to_csv(csv, index=False)
    ds = load_images(csv, image_size=32, id_column="patient")
    train, test = split_by_patient(ds, range(len(ds)), test_fraction=0.25, seed=0)
    patients = ds.patients()
    assert {patients[i] for i in train}.isdisjoint({patients[i] for i in test})
    argv = ["train-base", "--data", str(csv), "--id-column", "patient", *TINY, "--epochs", "1"]
    assert run(*argv, "--out", str(tmp_path / "base")) == 0
    schema = json.loads((tmp_path / "base" / "model.json").read_text())["schema"]
    assert schema["id_column"] == "patient"
    assert "p0" not in (tmp_path / "base" / "model.json").read_text()  # ids are never stored


def test_unreadable_files_are_refused_by_default_or_skipped_and_listed(tmp_path, capsys):
    csv = write_png_csv(tmp_path, {"A": {"normal": 6, "mass": 6}}, ["normal", "mass"])
    (tmp_path / "images" / "A_normal_0.png").write_bytes(b"\x89PNG broken")
    argv = ["train-base", "--data", str(csv), *TINY, "--epochs", "1"]
    assert run(*argv, "--out", str(tmp_path / "b1")) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: cannot read {tmp_path}/images/A_normal_0.png (line 2 of "
                          f"{csv}): unreadable (")  # fmt: skip
    assert err.endswith("or pass --on-error skip to leave it out")
    argv += ["--on-error", "skip", "--json", str(tmp_path / "b2.json")]
    assert run(*argv, "--out", str(tmp_path / "b2")) == 0
    captured = capsys.readouterr()
    # named as the refusal above names it; --json: relative to the CSV's folder
    assert captured.out.count(f"skipped {tmp_path}/images/A_normal_0.png: unreadable (") == 1
    assert "Warning" not in captured.err and "WARNING" not in captured.err
    listed = json.loads((tmp_path / "b2.json").read_text())["skipped_files"]
    assert [f["path"] for f in listed] == ["images/A_normal_0.png"]
    model = json.loads((tmp_path / "b2" / "model.json").read_text())
    assert model["training"]["n_skipped_files"] == len(listed) == 1  # paths: --json only
    assert "A_normal_0" not in (tmp_path / "b2" / "model.json").read_text()
    site = write_png_csv(
        tmp_path / "site", {"B": {"normal": 10, "mass": 10}}, ["normal", "mass"], seed=5
    )
    (tmp_path / "site" / "images" / "B_mass_10.png").write_bytes(b"\x89PNG broken")
    adapter = tmp_path / "a"
    assert run("adapt", "--base", str(tmp_path / "b2"), "--data", str(site), "--method", "head",
               "--epochs", "1", "--on-error", "skip", "--out", str(adapter)) == 0  # fmt: skip
    skipped = f"skipped {tmp_path}/site/images/B_mass_10.png: unreadable ("
    assert capsys.readouterr().out.count(skipped) == 1
    manifest = (adapter / "adapter.json").read_text()
    assert json.loads(manifest)["metadata"]["n_skipped_files"] == 1
    assert "B_mass_10" not in manifest
    out = tmp_path / "pred.csv"
    argv = ["predict", "--base", str(tmp_path / "b2"), "--data", str(csv), "--out", str(out)]
    assert run(*argv) == 2
    assert capsys.readouterr().err.strip().endswith("pass --on-error skip to leave it out")
    assert run(*argv, "--on-error", "skip") == 0
    assert len(pd.read_csv(out)) == 11
    assert capsys.readouterr().out.count("skipped ") == 1
    assert run(*argv, "--on-error", "ignore", "--force") == 2
    assert capsys.readouterr().err.strip() == (
        "error: --on-error must be refuse or skip, got 'ignore'"
    )


def test_a_patient_column_keeps_images_together_when_the_base_names_none(tmp_path, capsys, caplog):
    """A base trained without a patient column, adapted on a CSV that has one: the adapter's
    split uses it (a patient's images on both sides would flatter the test) and says so."""
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel
    from medadapt.modalities.images.reading import csv_columns, patient_column

    sites = {"A": {"normal": 8, "mass": 8}, "B": {"normal": 8, "mass": 8}}
    csv = write_png_csv(tmp_path, sites, ["normal", "mass"])
    assert run("train-base", "--data", str(csv), "--group-column", "site", "--groups", "A",
               *TINY, "--epochs", "1", "--out", str(tmp_path / "base")) == 0  # fmt: skip
    table = pd.read_csv(csv).query("site == 'B'").reset_index(drop=True)
    table["image_id"] = range(len(table))
    table["PatientID"] = [f"p{i // 2}" for i in range(len(table))]  # two images per patient
    table.to_csv(tmp_path / "site.csv", index=False)
    images = modality_of("image")
    base = BaseModel.load(tmp_path / "base")
    with caplog.at_level(logging.WARNING, logger="medadapt.notes"):
        samples = images.read_for_model(tmp_path / "site.csv", base, images.options())
    patients = samples.dataset.patients()
    assert len(set(patients)) == len(table) // 2 and patients[0] == patients[1] != patients[2]
    assert samples.notes == []  # what is meant: a note, not one of the data's warnings
    assert [r.getMessage() for r in caplog.records if r.name == "medadapt.notes"] == [
        "images are kept together by column 'PatientID' of site.csv (it names the patient; the "
        "base model records no patient column): a patient's images stay on one side of any "
        "split and are resampled together in every interval"
    ]
    taken = ("path", "label", "site")
    assert patient_column(csv_columns(tmp_path / "site.csv"), taken) == "PatientID"  # not image_id
    assert patient_column(csv_columns(csv), taken) is None
    for label in ("normal", "mass"):  # DICOM for a base trained on PNGs: another scale, said
        for i in range(2):
            write_dicom(tmp_path / "ct" / label / f"{i}.dcm",
                        (np.arange(1024).reshape(32, 32) * (i + 1)).astype(np.uint16))  # fmt: skip
    dicom = images.read_for_model(tmp_path / "ct", base, images.options())
    assert dicom.notes == [
        "4 files of ct: intensities min-max scaled (DICOM/NIfTI without a window), but the "
        "model's training images were divided by their bit depth's maximum (8/16-bit pictures): "
        "the predictions may be unreliable; send images prepared as the training ones were, "
        "or adapt the model on this site's images read the same way (an adapter trained on "
        "them knows their scaling)",
        "4 of 4 DICOM CT files in ct have no value below 0 and no negative RescaleIntercept, "
        "where air is about -1000 HU: they look like raw stored values, not Hounsfield units, "
        "so a CT window (or a model trained on HU) reads them wrongly; check the files' "
        "RescaleIntercept (usually -1024)",
    ]  # written with RescaleIntercept 0: stored values, never air
    adapted = run_cli("adapt", "--base", tmp_path / "base", "--data", tmp_path / "site.csv",
                      "--method", "head", "--epochs", "1", "--out", tmp_path / "a")  # fmt: skip
    assert adapted.code == 0, adapted.stderr
    assert "note: images are kept together by column 'PatientID'" in adapted.stderr
    assert "warning: images are kept together" not in adapted.stdout + adapted.stderr
    misspelt = run_cli("adapt", "--base", tmp_path / "base", "--data", tmp_path / "site.csv",
                       "--group-column", "site", "--group", "C", "--method", "head",
                       "--out", tmp_path / "c")  # fmt: skip
    assert misspelt.code != 0 and len(misspelt.stderr.strip().splitlines()) == 1, misspelt.stderr
    assert misspelt.stderr.startswith("error: ") and not (tmp_path / "c").exists()


def test_identical_images_stay_on_one_side_of_a_split(tmp_path):
    """Byte-identical copies (``IMG_1.png`` and ``IMG_1 (1).png``) are one image: a copy in
    the test set of an image the model trained on would flatter the test."""
    import shutil

    from medadapt.modalities import modality_of
    from medadapt.modalities.base import Reading

    csv = write_png_csv(tmp_path, {"A": {"normal": 8, "mass": 8}}, ["normal", "mass"])
    for image in sorted((tmp_path / "images").glob("*.png")):
        shutil.copy(image, image.with_name(f"{image.stem} (1).png"))
    folder = tmp_path / "images"
    table = pd.read_csv(csv)
    copies = table.assign(path=[p.replace(".png", " (1).png") for p in table["path"]])
    pd.concat([table, copies]).to_csv(csv, index=False)
    ds = load_images(csv, image_size=32)
    keys = ds.sample_keys()
    assert len(ds) == 32 and len(set(keys)) == 16 and len(set(ds.patients())) == 32
    for seed in range(3):
        train, test = split_by_patient(ds, range(len(ds)), test_fraction=0.25, seed=seed)
        assert {keys[i] for i in train}.isdisjoint({keys[i] for i in test})
    images = modality_of("image")
    samples = images.read_training(csv, images.options(image_size=32), Reading())
    assert samples.notes == [
        "16 images of cases.csv are byte-identical copies of others: each stays on the same "
        "side of every split as the image it copies, and counts once per copy"
    ]
    assert folder.exists()


def test_train_base_keeps_a_patients_images_together_by_a_patient_column(tmp_path, capsys):
    """A path CSV with a column naming the patient: train-base uses it (as adapt does) and
    records it, so its held-out images come from patients it never trained on."""
    csv = write_png_csv(tmp_path, {"A": {"normal": 8, "mass": 8}}, ["normal", "mass"])
    table = pd.read_csv(csv)
    table["PatientID"] = [f"p{i // 2}" for i in range(len(table))]  # two images per patient
    table.to_csv(csv, index=False)
    misspelt = run_cli("train-base", "--data", csv, *TINY, "--group-column", "site",
                       "--groups", "Z", "--out", tmp_path / "z")  # fmt: skip
    assert misspelt.code != 0 and len(misspelt.stderr.strip().splitlines()) == 1, misspelt.stderr
    assert misspelt.stderr.startswith("error: ") and not (tmp_path / "z").exists()
    trained = run_cli("train-base", "--data", csv, *TINY, "--epochs", "1",
                      "--out", tmp_path / "base")  # fmt: skip
    assert trained.code == 0, trained.stderr
    assert (  # what is meant: a note, not a warning
        "note: images are kept together by column 'PatientID' of cases.csv (it names the "
        "patient; --id-column COL names another): a patient's images stay on one side of any "
        "split and are resampled together in every interval"
    ) in trained.stderr
    model = json.loads((tmp_path / "base" / "model.json").read_text())
    assert model["schema"]["id_column"] == "PatientID"
    assert "p0" not in (tmp_path / "base" / "model.json").read_text()  # ids are never stored


def test_a_column_that_may_name_the_patient_is_pointed_out(tmp_path, capsys):
    """A trial: the patient column named 'pat' (or 'case_no') was ignored without a word, so
    a patient's two images could fall on both sides of the split. A column of text values (or
    whole numbers under an identifier's name) that repeats some values is now named, with the
    flag; one whose values are all different, or few (a site), is not."""
    sites = {"A": {"normal": 12, "mass": 12}}
    csv = write_png_csv(tmp_path, sites, ["normal", "mass"])
    table = pd.read_csv(csv)
    table["pat"] = [f"P{i // 2:03d}" for i in range(len(table))]  # two images per patient
    table["case_no"] = [i // 2 for i in range(len(table))]
    table["image_no"] = range(len(table))  # one per image: no patient
    table["age"] = [40 + i // 2 for i in range(len(table))]  # numbers, no identifier's name
    table["ward"] = [f"ward {'ABCDEF'[i // 4]}" for i in range(len(table))]  # names: no codes
    table["body_part"] = ["chest", "abdomen", "head", "knee", "hand", "spine"] * 4
    table.to_csv(tmp_path / "pat.csv", index=False)
    assert run("train-base", "--data", str(tmp_path / "pat.csv"), *TINY, "--epochs", "1",
               "--out", str(tmp_path / "base")) == 0  # fmt: skip
    warned = [line for line in capsys.readouterr().out.splitlines() if "repeats" in line]
    assert [line.split("'")[1] for line in warned] == ["pat", "case_no"]
    assert warned[0] == (
        "warning: column 'pat' of pat.csv repeats some of its values (12 values on 24 rows): "
        "if it names the patient, pass --id-column pat so that a patient's images stay on one "
        "side of every split; without it each image is split on its own, and a patient's "
        "other images would flatter the held-out test"
    )
    assert run("train-base", "--data", str(tmp_path / "pat.csv"), *TINY, "--epochs", "1",
               "--id-column", "pat", "--out", str(tmp_path / "base2")) == 0  # fmt: skip
    assert "repeats" not in capsys.readouterr().out
