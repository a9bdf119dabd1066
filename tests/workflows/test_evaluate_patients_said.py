"""A base trained with its images grouped by patient, evaluated on a plain folder (no patient
named): a trial's held-out images were resampled as independent patients, with intervals
narrower than the patients allow, and nothing said. Now a warning says so, and how to give
the patients (a path CSV with the base's patient column)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import TINY_IMAGE
from tests.train.image_data import write_png_csv

CLASSES = ["normal", "mass"]
SAID = "was trained with its images grouped by patient (column 'patient')"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A base trained on a path CSV whose column ``patient`` gives two images per patient,
    one without it, and new images as a class folder and as a CSV naming their patients."""
    root = tmp_path_factory.mktemp("patients")
    csv = write_png_csv(root / "train", {"A": {"normal": 10, "mass": 10}}, CLASSES, seed=1)
    table = pd.read_csv(csv)
    table["patient"] = [f"P{i // 2}" for i in range(len(table))]
    table.to_csv(root / "train" / "patients.csv", index=False)
    for name, data in (("grouped", root / "train" / "patients.csv"), ("plain", csv)):
        succeeded(run_cli("train-base", "--data", data, *TINY_IMAGE, "--epochs", "1",
                          "--out", root / name))  # fmt: skip
    new = write_png_csv(root / "new", {"B": {"normal": 12, "mass": 12}}, CLASSES, seed=7)
    listed = pd.read_csv(new)
    for name, label in listed[["path", "label"]].itertuples(index=False):
        target = root / "folder" / label / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((root / "new" / name).read_bytes())
    listed["patient"] = [f"Q{i // 2}" for i in range(len(listed))]
    listed.to_csv(root / "new" / "named.csv", index=False)
    return root


def _evaluate(root: Path, base: str, data: Path, name: str):
    out = root / f"{name}.json"
    result = succeeded(run_cli("evaluate", "--base", root / base, "--data", data, "--json", out))
    return result.stdout + result.stderr, json.loads(out.read_text())


def test_a_plain_folder_scored_with_a_base_that_grouped_patients_is_warned_about(world):
    printed, scored = _evaluate(world, "grouped", world / "folder", "folder")
    [warning] = [w for w in scored["data_warnings"] if SAID in w]
    assert warning == (
        "the base model was trained with its images grouped by patient (column 'patient'), but "
        f"--data names no patient: each of the {scored['n']} images is counted as an "
        "independent patient, so the 95% intervals may be too narrow where a patient has "
        "several images; to count patients, list the images in a path CSV with columns "
        "path,label,patient (adapt, evaluate and check-data read the patient column 'patient' "
        "by its name)"
    )
    assert f"warning: {warning[:60]}" in " ".join(printed.split())


def test_no_warning_where_the_patients_are_named_or_were_never_grouped(world):
    _, named = _evaluate(world, "grouped", world / "new" / "named.csv", "named")
    assert not [w for w in named["data_warnings"] if "grouped by patient" in w]
    _, plain = _evaluate(world, "plain", world / "folder", "plain")
    assert not [w for w in plain["data_warnings"] if "grouped by patient" in w]


def test_an_adapter_that_grouped_patients_is_named_where_the_base_did_not(world):
    """The base records no patient column; the adapter was trained on a CSV whose column
    ``patient`` named them (found by its name): it records that column, and is named."""
    succeeded(run_cli("adapt", "--base", world / "plain", "--data", world / "new" / "named.csv",
                      "--method", "head", "--epochs", "1", "--out", world / "adapter"))  # fmt: skip
    manifest = json.loads((world / "adapter" / "adapter.json").read_text())
    assert manifest["metadata"]["data_summary"]["patient_column"] == "patient"
    out = world / "adapter.json"
    succeeded(run_cli("evaluate", "--base", world / "plain", "--adapter", world / "adapter",
                      "--data", world / "folder", "--json", out))  # fmt: skip
    [warning] = [w for w in json.loads(out.read_text())["data_warnings"] if "grouped" in w]
    assert warning.startswith(f"adapter {manifest['name']!r} was trained with its images "
                              "grouped by patient (column 'patient')")  # fmt: skip
