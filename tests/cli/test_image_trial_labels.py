"""What a new user's trial of the image workflow found about labels, patients and lists:
``--label patient`` trained a class per patient (ids printed and stored), the wrong label at
``adapt``/``evaluate``/``check-data`` echoed an id and advised ``--new-classes``, ``adapt`` and
``check-data`` said nothing of images without their patients, ``predict`` scored other sites'
images with a site's adapter without a word, a CSV listing an image twice scored it twice,
a copy filed under another class was not located, a class kept by ``--class-names`` with
one image trained without a caution, and Windows paths were "not found"."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.data.makers import disc, write_picture

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=32,num_heads=2,patch_size=4"]  # fmt: skip
LEVELS = {"normal": 60, "lesion": 200}
PATIENT_SAID = (
    "names each image's patient (the column that keeps a patient's images together), so it "
    "names records, not a finding to predict: a model would learn only to tell them apart, "
    "and a classifier would keep their values as its class names; pass --label label (its "
    "column 'label' reads as the finding)"
)


def _cases(root: Path, per_class: int = 12) -> Path:
    """``root/cases.csv``: path,label,patient,site for sites A and B, ``per_class`` discs per
    class and site, two images per patient."""
    rows = []
    for s, site in enumerate("AB"):
        for k, (label, level) in enumerate(LEVELS.items()):
            for i in range(per_class):
                name = f"{site}/{label}/{label}{i}.png"
                write_picture(root / name, disc(16, level, seed=1000 * s + 100 * k + i))
                rows.append((name, label, f"P{site}{k}{i // 2:02d}", site))
    table = pd.DataFrame(rows, columns=["path", "label", "patient", "site"])
    table.to_csv(root / "cases.csv", index=False)
    return root / "cases.csv"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """The cases, a base trained on site A grouped by patient, a head adapter for site B."""
    root = tmp_path_factory.mktemp("trial_labels")
    cases = _cases(root)
    succeeded(run_cli("train-base", "--data", cases, "--group-column", "site", "--groups", "A",
                      *TINY, "--out", root / "base"))  # fmt: skip
    succeeded(run_cli("adapt", "--base", root / "base", "--data", cases, "--group-column",
                      "site", "--group", "B", "--method", "head", "--epochs", "1",
                      "--out", root / "site_b"))  # fmt: skip
    return {"root": root, "cases": cases, "base": root / "base", "adapter": root / "site_b"}


def _training_warnings(world, tmp_path, table: pd.DataFrame, name: str, *flags) -> list[str]:
    """``table`` written as ``name`` beside the cases' images, a new base trained on it
    (``flags``: more options), and the warnings it printed."""
    table.to_csv(world["root"] / name, index=False)
    return _warnings(succeeded(run_cli("train-base", "--data", world["root"] / name, *TINY,
                                       *flags, "--out", tmp_path / "b")))  # fmt: skip


def _warnings(result) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.startswith("warning:")]  # fmt: skip


# ----- 1. a label that names the patients or the files --------------------------------------
@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("patient", f"error: --label patient: column 'patient' {PATIENT_SAID}"),
        ("path", "error: --label path: column 'path' holds the image files' paths, so it names "
                 "records, not a finding to predict: a model would learn only to tell them "
                 "apart, and a classifier would keep their values as its class names; pass "
                 "--label label (its column 'label' reads as the finding)"),
    ],
)  # fmt: skip
def test_a_new_base_refuses_the_patient_or_path_column_as_its_label(world, tmp_path, label, said):
    result = run_cli("train-base", "--data", world["cases"], "--label", label, *TINY,
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == said
    assert "PA" not in result.stderr and not (tmp_path / "b").exists()


def test_a_column_of_ids_under_any_name_is_refused_by_its_values(world, tmp_path):
    """Nearly one value per image (half of them on at most 2 images), never echoed."""
    table = pd.read_csv(world["cases"]).rename(columns={"patient": "code", "label": "finding"})
    listed = world["root"] / "coded.csv"
    table.to_csv(listed, index=False)
    result = run_cli("train-base", "--data", listed, "--label", "code", *TINY,
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        "error: --label code: column 'code' holds 24 distinct values on 48 images, half of "
        "them or more on at most 2 images each: nearly one value per patient or file, as an "
        "identifier, a file name or free text has, so it names records, not a finding to "
        "predict: a model would learn only to tell them apart, and a classifier would keep "
        "their values as its class names; pass --label finding (its column 'finding' reads "
        "as the finding)"
    )


def test_a_table_refuses_an_identifier_as_its_label_without_echoing_it(tmp_path):
    """The same hole in tables: a text id as --label listed five ids in its refusal (or a
    numeric one trained a regression on record numbers)."""
    rows = 60
    table = pd.DataFrame({
        "mrn": [f"M{i:05d}" for i in range(rows)], "id": range(1, rows + 1),
        "age": [40 + i % 30 for i in range(rows)], "outcome": ["no", "yes"] * (rows // 2),
    })  # fmt: skip
    table.to_csv(tmp_path / "t.csv", index=False)
    for label, why in (("mrn", "60 distinct values on 60 rows"),
                       ("id", "60 distinct values on 60 rows")):  # fmt: skip
        result = run_cli("train-base", "--data", tmp_path / "t.csv", "--label", label,
                         "--out", tmp_path / label)  # fmt: skip
        assert error_line(result) == (
            f"error: --label {label}: column {label!r} reads as a record identifier by its "
            f"name and holds {why}, so it names records, not a finding to predict: a model "
            "would learn only to tell them apart, and a classifier would keep their values as "
            "its class names; pass --label outcome (its column 'outcome' reads as the finding)"
        )
        assert "M000" not in result.stderr


def test_the_python_api_names_its_own_argument():
    from medadapt.data.schema import TableSchema
    from medadapt.errors import DataError

    frame = pd.DataFrame({"patient": [f"P{i}" for i in range(30)], "age": range(30),
                          "y": [0, 1] * 15})  # fmt: skip
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="patient")
    assert str(refused.value).startswith("label='patient': column 'patient' reads as a record")
    assert str(refused.value).endswith("pass label='y' (its column 'y' reads as the finding)")


# ----- 2. the wrong label for a model --------------------------------------------------------
@pytest.mark.parametrize("verb", ["adapt", "evaluate", "check-data"])
def test_the_patient_column_as_a_models_label_is_not_its_label(world, tmp_path, verb):
    extra = ["--out", tmp_path / "a"] if verb == "adapt" else []
    result = run_cli(verb, "--base", world["base"], "--data", world["cases"], "--label",
                     "patient", *extra)  # fmt: skip
    assert error_line(result) == (
        "error: --label patient: column 'patient' of cases.csv is not the model's label: 24 of "
        "its 24 values are not the model's classes, and it names each image's patient (the "
        "column that keeps a patient's images together); its column 'label' holds the model's "
        "classes: pass --label label"
    )


# ----- 3. images without their patients -----------------------------------------------------
def test_adapt_and_check_data_say_the_patients_are_not_named(world, tmp_path):
    """evaluate said it; adapt, whose split then may put a patient on both sides, did not."""
    table = pd.read_csv(world["cases"]).drop(columns="patient")
    table.to_csv(world["root"] / "nopatient.csv", index=False)
    said = (
        "the base model was trained with its images grouped by patient (column 'patient'), but "
        "--data names no patient: each of the 24 images to train and test on is counted as an "
        "independent patient, "
        "so a patient's images may fall on both sides of the split (flattering the held-out "
        "figures) and the 95% intervals may be too narrow where a patient has several images; "
        "to count patients, list the images in a path CSV with columns path,label,patient "
        "(adapt, evaluate and check-data read the patient column 'patient' by its name)"
    )
    common = ["--base", world["base"], "--data", world["root"] / "nopatient.csv",
              "--group-column", "site", "--group", "B"]  # fmt: skip
    adapted = succeeded(run_cli("adapt", *common, "--method", "head", "--epochs", "1", "--out",
                                tmp_path / "a", "--json", tmp_path / "a.json"))  # fmt: skip
    assert said in json.loads((tmp_path / "a.json").read_text())["warnings"]
    assert f"warning: {said[:70]}" in " ".join(adapted.stdout.split())
    succeeded(run_cli("check-data", *common, "--json", tmp_path / "c.json"))
    assert said in json.loads((tmp_path / "c.json").read_text())["warnings"]
    named = run_cli("check-data", *common[:3], world["cases"], *common[4:])
    assert "grouped by patient" not in succeeded(named).stdout


# ----- 4. predict with a site's adapter on other sites' images ------------------------------
def test_predict_with_a_sites_adapter_says_the_other_sites_images(world, tmp_path):
    adapter, base = world["adapter"], world["base"]
    name = json.loads((adapter / "adapter.json").read_text())["name"]
    mixed = succeeded(run_cli("predict", "--base", base, "--adapter", adapter, "--data",
                              world["cases"], "--out", tmp_path / "p.csv"))  # fmt: skip
    assert f"warning: adapter {name!r} is for site = 'B', but 24 of 48 images have another " \
        "value of 'site': they are scored with it too; to score only that group, keep only " \
        "its images in --data" in _warnings(mixed)  # fmt: skip
    renamed = pd.read_csv(world["cases"]).rename(columns={"site": "hospital"})
    renamed_csv = world["root"] / "renamed.csv"
    renamed.to_csv(renamed_csv, index=False)
    blind = succeeded(run_cli("predict", "--base", base, "--adapter", adapter, "--data",
                              renamed_csv, "--out", tmp_path / "r.csv"))  # fmt: skip
    assert f"warning: adapter {name!r} is for site = 'B', but --data has no column 'site': " \
        "images of other groups cannot be told apart and may be scored with it; to score " \
        "only that group, keep only its images in --data" in _warnings(blind)  # fmt: skip
    own = pd.read_csv(world["cases"]).query("site == 'B'")
    own.to_csv(world["root"] / "own.csv", index=False)
    quiet = succeeded(run_cli("predict", "--base", base, "--adapter", adapter, "--data",
                              world["root"] / "own.csv", "--out", tmp_path / "o.csv"))  # fmt: skip
    assert not [w for w in _warnings(quiet) if "is for site" in w]


# ----- 6. an image listed twice, a copy under another class ---------------------------------
def test_an_image_listed_twice_is_said_with_its_rows_and_scored_once(world, tmp_path):
    table = pd.read_csv(world["cases"]).query("site == 'B'")
    doubled = pd.concat([table, table.head(1)])
    doubled.to_csv(world["root"] / "doubled.csv", index=False)
    out = tmp_path / "e.json"
    succeeded(run_cli("evaluate", "--base", world["base"], "--data",
                      world["root"] / "doubled.csv", "--json", out))  # fmt: skip
    scored = json.loads(out.read_text())
    assert scored["n"] == len(table)
    assert scored["data_warnings"][0] == (
        "B/normal/normal0.png is listed twice in doubled.csv (lines 2 and 26): it is read once"
    )


def test_a_copy_under_another_class_is_located(world, tmp_path):
    table = pd.read_csv(world["cases"]).query("site == 'A'")
    copy = table.iloc[[0]].assign(label="lesion", path="A/lesion/copy.png")
    (world["root"] / "A" / "lesion" / "copy.png").write_bytes(
        (world["root"] / table.iloc[0]["path"]).read_bytes()
    )
    warned = _training_warnings(world, tmp_path, pd.concat([table, copy]), "relabelled.csv")
    assert (
        "warning: 1 image of relabelled.csv is a byte-identical copy of another: each stays on "
        "the same side of every split as the image it copies, and counts once per copy; 1 of "
        "them is the same image as one of another class (A/normal/normal0.png ('normal') and "
        "A/lesion/copy.png ('lesion')): a labelling error to fix (give each image one class)"
    ) in warned


# ----- 7. a class kept by --class-names with too few images ---------------------------------
def test_a_class_kept_with_fewer_than_five_images_is_warned_about(world, tmp_path):
    table = pd.read_csv(world["cases"]).query("site == 'A'")
    rare = table.iloc[[1]].assign(label="effusion")
    warned = _training_warnings(world, tmp_path, pd.concat([table.iloc[2:], rare]), "rare.csv",
                                "--class-names", "normal,lesion,effusion")  # fmt: skip
    assert (
        "warning: class 'effusion' has 1 image, kept as --class-names asks: fewer than 5, the "
        "fewest any figure about a class rests on, so the model learns next to nothing of it "
        "and no figure about it can be reported; add images of 'effusion' before relying on "
        "the model for it"
    ) in warned


# ----- 8. Windows paths ---------------------------------------------------------------------
def test_paths_written_with_backslashes_are_said_so(world, tmp_path):
    table = pd.read_csv(world["cases"]).query("site == 'B'")
    table.assign(path=table["path"].str.replace("/", "\\")).to_csv(
        world["root"] / "windows.csv", index=False
    )
    result = run_cli("evaluate", "--base", world["base"], "--data", world["root"] / "windows.csv")
    assert error_line(result) == (
        f"error: none of the 24 image files listed in {world['root'] / 'windows.csv'} was found "
        "(first: B\\normal\\normal0.png): its paths use '\\' between folders (as Windows writes "
        "them), but must use '/' (write 'B/normal/normal0.png', and the others alike)"
    )
