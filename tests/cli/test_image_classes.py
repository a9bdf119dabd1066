"""An image model's classes: which of two is positive (``--positive-class``, a class name
that reads as the negative one), class names spelt like another, images filed under two
classes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medadapt.modalities.images.classes import positive_last, reads_negative, spelt_alike
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.data.makers import disc, write_picture

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=32,num_heads=2,patch_size=4"]  # fmt: skip


def _folder(root: Path, classes: dict[str, int], n: int = 4) -> Path:
    """``root/<class>/*.png``: ``n`` discs of the given brightness per class."""
    for k, (name, value) in enumerate(classes.items()):
        for i in range(n):
            write_picture(root / name / f"{name}{i}.png", disc(16, value, seed=100 * k + i))
    return root


def _train(tmp_path: Path, data: Path, *extra: str) -> tuple[dict, list[str]]:
    out = tmp_path / "base"
    json_out = tmp_path / "base.json"
    result = succeeded(
        run_cli("train-base", "--data", data, *TINY, *extra, "--out", out, "--json", json_out)
    )
    summary = json.loads((tmp_path / "base.json").read_text())
    said = " ".join(result.stdout.split())  # the terminal says it too, as for tables
    assert summary.get("task_line", "") in said, result.stdout
    # most of these folders hold 4 images a class by design: their size is checked in
    # test_a_base_on_fewer_than_five_patients_a_class_is_warned_of; the rest are compared here
    few = "warning: the base trains on fewer than 5 images of class "
    summary["warnings"] = [w for w in summary["warnings"] if not f"warning: {w}".startswith(few)]
    return summary, [line for line in result.stdout.splitlines()
                     if line.startswith("warning:") and not line.startswith(few)]  # fmt: skip


def test_a_base_on_fewer_than_five_patients_a_class_is_warned_of(tmp_path):
    """A trial's CT base on 3 patients a class was saved with every figure n/a and no word,
    where adapt on the same images warned of the rare classes."""
    data = _folder(tmp_path / "cases", {"normal": 60, "abnormal": 200})
    result = succeeded(run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "b"))
    [said] = [line for line in result.stdout.splitlines() if "trains on fewer than" in line]
    assert said.startswith("warning: the base trains on fewer than 5 images of class ")
    assert said.endswith(
        "of 6 images in all: a model trained on so few is likely to be overfitted to them, and "
        "its test figures cannot show how it does elsewhere; collect more images"
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A base trained on normal/abnormal (shared by the tests that only read it)."""
    tmp = tmp_path_factory.mktemp("base")
    data = _folder(tmp / "cases", {"normal": 60, "abnormal": 200})
    succeeded(run_cli("train-base", "--data", data, *TINY, "--out", tmp / "base"))
    return tmp / "base"


def test_names_that_read_as_the_negative_class():
    assert [reads_negative(n) for n in ("Normal", "no_finding", "No Finding", "benign", "0",
                                        "healthy control", "abnormal", "nodule", "malignant")] == [
        True, True, True, True, True, True, False, False, False]  # fmt: skip
    assert positive_last(["abnormal", "normal"], None, named=False) == (
        ["normal", "abnormal"],
        "negative-name",
    )
    assert positive_last(["bright", "dark"], None, named=False) == (["bright", "dark"], "sorted")
    assert positive_last(["bright", "dark"], "bright", named=True) == (["dark", "bright"], "flag")
    assert positive_last(["normal", "x", "y"], None, named=False) == (["normal", "x", "y"], None)
    for negative, positive in [("non-COVID", "COVID"), ("non_nodule", "nodule"),
                               ("without_mass", "with_mass"), ("notumor", "tumor")]:  # fmt: skip
        assert positive_last(sorted([negative, positive]), None, named=False) == (
            [negative, positive],
            "negative-name",
        ), negative


def test_class_names_spelt_alike():
    assert spelt_alike("abnromal", "abnormal") and spelt_alike("Normal", "normal")
    assert spelt_alike("no finding", "no_finding") and spelt_alike("masss", "mass")
    assert not spelt_alike("mass", "nodule") and not spelt_alike("T1", "T2")
    assert not spelt_alike("10", "11") and not spelt_alike("grade", "grade")
    assert not spelt_alike("-1", "1") and not spelt_alike("T1-2", "T12")  # numbers keep "-"
    for series in [("grade1", "grade2"), ("typeA", "typeB"), ("stage2", "stage3")]:
        assert not spelt_alike(*series), series  # one of a series, not a typo
    # short names: a trial's 'yse' for 'yes' became a third class, silently
    for slip in [("yse", "yes"), ("yess", "yes"), ("ys", "yes"), ("nno", "no"), ("Yes", "yes")]:
        assert spelt_alike(*slip), slip
    for other in [
        ("CAD", "CHD"),
        ("MI", "AMI"),
        ("MI", "MS"),
        ("A", "AB"),
        ("pos", "neg"),
        ("dx", "xd"),
        ("I", "II"),  # acronyms and numerals (a review): stages, NYHA classes
        ("II", "III"),
        ("AD", "ADD"),
        ("CF", "CHF"),
        ("ALT", "LAT"),
    ]:
        assert not spelt_alike(*other), other  # other short words, not slips


def test_normal_is_the_negative_class_of_a_normal_abnormal_folder(tmp_path):
    data = _folder(tmp_path / "cases", {"normal": 60, "abnormal": 200})
    summary, warnings = _train(tmp_path, data)
    assert summary["classes"] == ["normal", "abnormal"]
    assert summary["task_line"] == (
        "task: binary, positive class 'abnormal' (of 'normal', 'abnormal'), as 'normal' reads "
        "as the negative class; --positive-class normal makes 'normal' positive"
    )
    assert warnings == []
    record = json.loads((tmp_path / "base" / "model.json").read_text())
    assert record["schema"]["classes"] == ["normal", "abnormal"]


@pytest.mark.parametrize(
    ("brightness", "extra", "classes", "said"),
    [
        ({"normal": 60, "abnormal": 200}, ["--positive-class", "normal"], ["abnormal", "normal"],
         "task: binary, positive class 'normal' (of 'abnormal', 'normal') set by "
         "--positive-class"),
        ({"dark": 60, "bright": 200}, [], ["bright", "dark"],
         "task: binary, positive class 'dark' (of 'bright', 'dark'), the one that sorts last; "
         "--positive-class bright makes 'bright' positive"),
        ({"normal": 60, "abnormal": 200}, ["--class-names", "abnormal,normal"],
         ["abnormal", "normal"],
         "task: binary, positive class 'normal' (of 'abnormal', 'normal'), the last of "
         "--class-names; --positive-class abnormal makes 'abnormal' positive"),
    ],
    ids=["--positive-class", "sorted", "--class-names order"],
)  # fmt: skip
def test_what_chose_the_positive_class_is_said(tmp_path, brightness, extra, classes, said):
    summary, warnings = _train(tmp_path, _folder(tmp_path / "cases", brightness), *extra)
    assert summary["classes"] == classes
    assert summary["task_line"] == said
    # chosen by sorting alone: a warning line too, as for a table's label (README)
    sorted_last = [
        "warning: class 'dark' is treated as the positive class (sensitivity and the predicted "
        "probability are about it) only because it sorts after 'bright'; choose with "
        "--positive-class: --positive-class bright if 'bright' is the outcome to detect, "
        "--positive-class dark to keep this"
    ]
    # in the order --class-names gave, a positive class that reads as the negative one: said
    negative_named = [
        "warning: class 'normal' is the positive class (sensitivity and the predicted "
        "probability are about it) as the last of --class-names, but its name reads as the "
        "negative class; choose with --positive-class: --positive-class abnormal if "
        "'abnormal' is the outcome to detect, --positive-class normal to keep this"
    ]
    expected = {"sorts last": sorted_last, "the last of --class-names": negative_named}
    assert warnings == next((w for key, w in expected.items() if key in said), [])
    assert summary["warnings"] == [w.removeprefix("warning: ") for w in warnings]


def test_a_path_csv_label_of_two_sites_warns_naming_positive_class(tmp_path):
    """A path CSV whose label column ``site`` holds A and B: 'B' is positive only because it
    sorts last, said in a warning line naming --positive-class (a new user's trial)."""
    folder = _folder(tmp_path / "cases", {"A": 60, "B": 200})
    rows = [f"{p.relative_to(tmp_path)},{p.parent.name}" for p in sorted(folder.rglob("*.png"))]
    (tmp_path / "sites.csv").write_text("path,site\n" + "\n".join(rows) + "\n")
    summary, warnings = _train(tmp_path, tmp_path / "sites.csv", "--label", "site")
    assert summary["task_line"] == (
        "task: binary, positive class 'B' (of 'A', 'B'), the one that sorts last; "
        "--positive-class A makes 'A' positive"
    )
    assert warnings == [
        "warning: class 'B' is treated as the positive class (sensitivity and the predicted "
        "probability are about it) only because it sorts after 'A'; choose with "
        "--positive-class: --positive-class A if 'A' is the outcome to detect, "
        "--positive-class B to keep this"
    ]
    chosen, warnings = _train(tmp_path, tmp_path / "sites.csv", "--label", "site",
                              "--positive-class", "B", "--force")  # fmt: skip
    assert chosen["classes"] == ["A", "B"] and warnings == []


def test_a_positive_class_that_is_no_class_is_refused(tmp_path):
    data = _folder(tmp_path / "cases", {"normal": 60, "abnormal": 200})
    result = run_cli("train-base", "--data", data, *TINY, "--positive-class", "Abnormal",
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        "error: --positive-class Abnormal is not a class of the data (did you mean "
        "'abnormal'?); its classes are 'abnormal' and 'normal'"
    )
    result = run_cli("train-base", "--data", data, *TINY, "--positive-class", "tumour",
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        "error: --positive-class tumour is not a class of the data; its classes are "
        "'abnormal' and 'normal'"
    )
    data = _folder(tmp_path / "three", {"normal": 60, "mass": 200, "nodule": 130})
    result = run_cli("train-base", "--data", data, *TINY, "--positive-class", "mass",
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        "error: --positive-class mass chooses which of two classes is positive, but the data "
        "have 3 classes ('mass', 'nodule', 'normal'): drop it"
    )


def _relabelled(tmp_path: Path, n: int, typos: int) -> Path:
    """``cases.csv`` of ``n`` normal and ``n`` abnormal discs, ``typos`` of the abnormal ones
    labelled ``abnromal``."""
    folder = _folder(tmp_path / "cases", {"normal": 60, "abnormal": 200}, n=n)
    rows = [f"{p.relative_to(tmp_path)},{p.parent.name}" for p in sorted(folder.rglob("*.png"))]
    rows[:typos] = (row.replace(",abnormal", ",abnromal") for row in rows[:typos])
    (tmp_path / "cases.csv").write_text("path,label\n" + "\n".join(rows) + "\n")
    return tmp_path / "cases.csv"


def test_a_few_images_of_a_class_spelt_like_another_are_refused(tmp_path):
    """As a table's label: a class this rare (under 10 images or 5% of them) spelt like a
    larger one is a typo that would become a class of its own; --class-names keeps it."""
    data = _relabelled(tmp_path, 10, 2)
    result = run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "b")
    assert error_line(result) == (
        "error: class 'abnromal' has 2 of the 20 images, spelt like 'abnormal' (8 images): did "
        "you mean 'abnormal'? A typo would become a class of its own; file them under "
        "'abnormal' (move them into its folder, or correct the label); or pass --class-names "
        "naming every class to keep 'abnromal' as a class of its own"
    )
    assert not (tmp_path / "b").exists()
    summary, _ = _train(tmp_path, data, "--class-names", "abnormal,abnromal,normal")
    assert summary["classes"] == ["abnormal", "abnromal", "normal"]


def test_a_class_spelt_like_a_larger_one_is_said(tmp_path):
    """12 of 120 images: not rare enough to be refused, a quarter of 'abnormal': said."""
    summary, warnings = _train(tmp_path, _relabelled(tmp_path, 60, 12))
    assert summary["classes"] == ["abnormal", "abnromal", "normal"]
    assert warnings[0] == (  # then what the tiny model's scores show
        "warning: class 'abnromal' (12 images) is spelt like 'abnormal': a typo? fix the "
        "labels, or pass --class-names to keep both"
    )


def test_a_stray_class_folder_is_refused_unless_named(tmp_path):
    """A ``mass/`` folder of one image beside 8 of each other class made a 3-class model
    without a word; refused as adapt and check-data warn of it, with the way to keep it."""
    data = _folder(tmp_path / "cases", {"normal": 60, "abnormal": 200}, n=8)
    write_picture(data / "mass" / "mass0.png", disc(16, 130, seed=7))
    result = run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "b")
    assert error_line(result) == (
        "error: class 'mass' has 1 of the 17 images (fewer than 5, the fewest any figure about "
        "a class rests on): a base model cannot learn a class from so few, nor be tested on "
        "it; add images of 'mass', file it under the class it belongs to (move it into that "
        "class's folder, or correct the label), or remove it; or pass --class-names naming "
        "every class to keep 'mass' as a class all the same (so few images teach the model "
        "little of it, and no figure about it can be given)"
    )
    assert not (tmp_path / "b").exists() and not list(tmp_path.glob(".b.tmp-*"))
    summary, _ = _train(tmp_path, data, "--class-names", "normal,abnormal,mass")
    assert summary["classes"] == ["normal", "abnormal", "mass"]


def test_classes_of_four_images_each_are_no_stray_class():
    """A tiny data set's classes (four images beside six) are not refused as strays."""
    from medadapt.evaluate.metrics import MIN_PER_CLASS
    from medadapt.modalities.images.classes import FEWEST_IMAGES, refuse_stray_classes

    assert FEWEST_IMAGES == MIN_PER_CLASS  # the words say "the fewest any figure rests on"
    refuse_stray_classes({"normal": 6, "abnormal": 4})
    refuse_stray_classes({"normal": 4, "abnormal": 4, "mass": 3})


def test_images_filed_under_two_classes_are_said(tmp_path):
    data = _folder(tmp_path / "cases", {"normal": 60, "abnormal": 200})
    for i in range(2):
        shutil.copy(data / "abnormal" / f"abnormal{i}.png", data / "normal" / f"copy{i}.png")
    _, warnings = _train(tmp_path, data)
    assert warnings == [
        "warning: 2 images of cases are byte-identical copies of others: each stays on the "
        "same side of every split as the image it copies, and counts once per copy; 2 of them "
        "are the same image as one of another class (first: abnormal/abnormal0.png and "
        "normal/copy0.png): a labelling error to fix (give each image one class)"
    ]


@pytest.mark.parametrize("verb", ["adapt", "evaluate", "check-data"])
def test_a_class_folder_spelt_another_way_is_refused(tmp_path, base, verb):
    data = _folder(tmp_path / "site", {"Normal": 60, "abnormal": 200})
    extra = ["--out", tmp_path / "a"] if verb == "adapt" else []
    result = run_cli(verb, "--base", base, "--data", data, *extra)
    assert error_line(result) == (
        f"error: {data} spells the model's classes another way ('Normal' for 'normal': they "
        "differ only in upper/lower case or spacing): rename the class folders to the model's "
        "spelling 'normal'"
    )


def test_new_classes_spelt_like_an_old_one_are_refused(tmp_path, base):
    data = _folder(tmp_path / "site", {"Normal": 60, "abnormal": 200})
    result = run_cli("adapt", "--base", base, "--data", data, "--new-classes", "Normal",
                     "--out", tmp_path / "a")  # fmt: skip
    assert error_line(result) == (
        "error: --new-classes Normal is the base model's class 'normal' spelt another way "
        "(they differ only in upper/lower case or spacing): rename the images' class to "
        "'normal' and drop it from --new-classes"
    )


def test_a_new_class_misspelt_in_the_flag_is_blamed_on_the_flag(tmp_path, base):
    """A trial's --new-classes cavty was told "hospB3 has 14 images labelled 'cavity'
    (spelt like 'cavty': a typo? rename the folder), not one of the model's classes [...,
    'cavty']": the folder was right, the flag wrong."""
    data = _folder(tmp_path / "site", {"normal": 60, "abnormal": 60, "cavity": 60})
    result = run_cli("adapt", "--base", base, "--data", data, "--new-classes", "cavty",
                     "--out", tmp_path / "a")  # fmt: skip
    assert error_line(result) == (
        f"error: --new-classes 'cavty' names no class of {data}, which has 4 images labelled "
        "'cavity', spelt like it: a typo in --new-classes? pass --new-classes cavity"
    )


def test_a_new_class_of_one_image_is_refused_with_its_count(tmp_path, base):
    """A trial's one 'cavity' image was "1 image labelled 'cavity'" without the flag and "has
    no images in the data" with it: the split had put it among the test images."""
    data = tmp_path / "site"  # images the base never saw (other seeds than _folder's)
    for name, value in (("normal", 60), ("abnormal", 200)):
        for i in range(8):
            write_picture(data / name / f"{name}{i}.png", disc(16, value, seed=900 + i + value))
    write_picture(data / "cavity" / "cavity0.png", disc(16, 120, seed=9))
    result = run_cli("adapt", "--base", base, "--data", data, "--new-classes", "cavity",
                     "--out", tmp_path / "a")  # fmt: skip
    assert error_line(result) == (
        f"error: --new-classes: {data} has only 1 image of new class 'cavity': too few to "
        "learn a class and test it (some images must train it, others test it); add its "
        "images or leave it out of --new-classes"
    )


def test_check_data_advises_adapt_for_new_classes(tmp_path, base):
    data = _folder(tmp_path / "site", {"normal": 60, "mass": 200})
    result = run_cli("check-data", "--base", base, "--data", data)
    assert error_line(result) == (
        f"error: {data} has 4 images labelled 'mass', not one of the model's classes "
        "['normal', 'abnormal']: if 'mass' is the model's 'abnormal' named otherwise, rename "
        "the folder to 'abnormal'; else to add them, adapt the model with adapt --new-classes "
        "NAME[,NAME]"
    )  # one unknown, one class unused: a trial's 'absent' was its 'normal'
    both = _folder(tmp_path / "both", {"normal": 60, "abnormal": 60, "mass": 200})
    assert "named otherwise" not in error_line(run_cli("check-data", "--base", base, "--data",
                                                        both))  # fmt: skip


def test_predict_names_the_slice_a_volume_was_scored_on(tmp_path, base):
    """A 2D model scores a volume's middle slice (``--slices middle``): the predictions say
    which one, as ``serve`` answers ``slice``; 2D images leave it empty."""
    import numpy as np
    import pandas as pd

    from tests.data.makers import write_nifti

    data = tmp_path / "mixed"
    write_picture(data / "flat.png", disc(16, 200, seed=1))
    write_nifti(data / "volume.nii.gz", np.stack([disc(16, 200, seed=s) for s in range(7)], -1))
    out = tmp_path / "p.csv"
    succeeded(run_cli("predict", "--base", base, "--data", data, "--out", out))
    table = pd.read_csv(out, keep_default_na=False).set_index("image")
    assert list(table.columns)[-3:] == ["slice", "trained_on", "model"]  # none trained: empty
    assert table["slice"].astype(str).to_dict() == {
        str(data / "flat.png"): "", str(data / "volume.nii.gz"): "3"
    }  # fmt: skip


def test_an_image_study_warns_of_a_sorted_positive_class_and_takes_positive_class(tmp_path):
    """As a table's study does: the base the study trains scores the class that sorts last
    only because it does, said in a warning line (the terminal and study.json);
    ``--positive-class`` chooses, and with ``--base`` must agree with the base's choice."""
    folder = _folder(
        tmp_path / "cases", {"bright": 200, "dark": 60}, n=36
    )  # B: 36 images, 11 held out
    rows = [f"{p.relative_to(tmp_path)},{p.parent.name},{'AB'[int(p.stem[-1]) % 2]}"
            for p in sorted(folder.rglob("*.png"))]  # fmt: skip
    (tmp_path / "sites.csv").write_text("path,label,site\n" + "\n".join(rows) + "\n")
    quick = ["--data", tmp_path / "sites.csv", "--label", "label", "--group-column", "site",
             "--image-size", "16", "--backbone-options",
             "depth=1,embed_dim=32,num_heads=2,patch_size=4", "--seeds", "1", "--fractions", "1",
             "--methods", "head_only", "--n-boot", "10"]  # fmt: skip
    said = [line for line in succeeded(run_cli(
        "study", *quick, "--groups", "A", "--group", "B", "--out", tmp_path / "s1")
    ).stdout.splitlines() if line.startswith("warning:")]  # fmt: skip
    sorted_last = (
        "class 'dark' is treated as the positive class (sensitivity and the predicted "
        "probability are about it) only because it sorts after 'bright'; choose with "
        "--positive-class: --positive-class bright if 'bright' is the outcome to detect, "
        "--positive-class dark to keep this"
    )
    assert f"warning: {sorted_last}" in said
    study = json.loads((tmp_path / "s1" / "study.json").read_text())
    assert sorted_last in [f["message"] for f in study["sufficiency"]]
    result = succeeded(run_cli("study", *quick, "--groups", "A", "--group", "B",
                               "--positive-class", "bright", "--out", tmp_path / "s2"))  # fmt: skip
    assert "sorts after" not in result.stdout
    base = next((tmp_path / "s2" / "bases").iterdir())
    assert json.loads((base / "model.json").read_text())["schema"]["classes"] == ["dark", "bright"]
    given = ["study", *quick, "--group", "B", "--base", base, "--positive-class"]
    assert error_line(run_cli(*given, "dark", "--out", tmp_path / "s3")) == (
        "error: --positive-class dark differs from the base model's --positive-class bright: "
        "study keeps the settings of --base; drop --positive-class, or train a new base with it"
    )


def test_labels_coded_another_way_are_told_to_be_renamed_not_added(tmp_path, base):
    """A trial: images labelled 'no'/'yes' for a normal/abnormal model were told "pass the new
    ones with --new-classes", which would add two classes meaning the old ones."""
    data = _folder(tmp_path / "site", {"no": 60, "yes": 200})
    result = run_cli("check-data", "--base", base, "--data", data)
    assert error_line(result) == (
        f"error: {data} has 4 images labelled 'no' (and 1 more unknown label), not one of the "
        "model's classes ['normal', 'abnormal']: if they name the model's classes otherwise "
        "('no', 'yes' for 'normal', 'abnormal'), rename them to the model's; to add them, "
        "adapt the model with adapt --new-classes NAME[,NAME]"
    )
