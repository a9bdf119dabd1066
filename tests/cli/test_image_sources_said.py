"""What the commands say of a path CSV they could not use as one: its path column named
otherwise (it was trained as a table, the file names dropped as record ids), and files listed
relative to a folder they are not in ("file not found", "check the files' format")."""

from __future__ import annotations

from pathlib import Path

import pytest

from medadapt.errors import DataError
from medadapt.modalities import modality_for_data, registered
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.data.makers import disc_folder

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=32,num_heads=2,patch_size=4"]  # fmt: skip


def _listing(csv: Path, column: str, files: list[str]) -> Path:
    """``csv`` listing ``files`` under ``column`` with a label and a site per row."""
    csv.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{f},{'bright' if '/bright/' in f else 'dark'},{'AB'[i % 2]}"
            for i, f in enumerate(files)]  # fmt: skip
    csv.write_text("\n".join([f"{column},label,site", *rows]) + "\n")
    return csv


def _files(root: Path) -> list[str]:
    """The images of class folder ``root``, relative to its parent."""
    return sorted(str(p.relative_to(root.parent)) for p in root.rglob("*.png"))


@pytest.fixture
def renamed(tmp_path) -> Path:
    """A path CSV whose path column is ``filename``."""
    return _listing(tmp_path / "fname.csv", "filename", _files(disc_folder(tmp_path / "imgs")))


NAMED = (
    "column 'filename' holds image file names (8 of 8 rows): pass --path-column filename "
    "to read the images, or --exclude filename to read the other columns as a table"
)


@pytest.mark.parametrize(
    "extra",
    [[], ["--image-size", "32"], ["--path-column", "file"]],
    ids=["plain", "an image option", "another --path-column"],
)
def test_a_path_csv_with_its_path_column_named_otherwise_is_no_table(tmp_path, renamed, extra):
    """It trained a table on 'site' (the file names dropped as record ids), exit 0; with an
    image option, the advice was to drop it."""
    out = tmp_path / "b"
    result = run_cli("train-base", "--data", renamed, "--label", "label", *extra, "--out", out)
    assert error_line(result) == f"error: --data {renamed}: {NAMED}"
    assert not out.exists()


def test_study_refuses_it_too(tmp_path, renamed):
    out = tmp_path / "s"
    result = run_cli("study", "--data", renamed, "--label", "label", "--out", out)
    assert error_line(result) == f"error: --data {renamed}: {NAMED}"
    assert not out.exists()


def _options(**tabular):
    options = {m.kind: m.options() for m in registered()}
    options["tabular"] = options["tabular"].__class__(**tabular)
    return options


def test_a_table_that_leaves_the_file_names_out_or_holds_a_few_is_a_table(tmp_path, renamed):
    assert modality_for_data(renamed, _options(exclude="filename")).kind == "tabular"
    few = tmp_path / "few.csv"  # a scan named in 1 row of 3: a table with a note column
    few.write_text("note,age,label\nscan.png,50,1\nnone,60,0\n,70,1\n")
    assert modality_for_data(few, _options()).kind == "tabular"
    text = tmp_path / "text.csv"  # names of other files
    text.write_text("report,label\na.pdf,1\nb.pdf,0\n")
    assert modality_for_data(text, _options()).kind == "tabular"


def test_given_the_path_column_it_reads_the_images(tmp_path, renamed):
    from medadapt.modalities.images.options import ImageOptions

    options = _options()
    options["image"] = ImageOptions(path_column="filename")
    assert modality_for_data(renamed, options).kind == "image"


def test_a_path_column_of_tsv_with_dicom_and_nifti_names_is_named(tmp_path):
    tsv = tmp_path / "scans.tsv"
    tsv.write_text("case\tscan file\tlabel\n1\ta/1.dcm\tx\n2\tb/2.nii.gz\ty\n3\t\tx\n")
    with pytest.raises(Exception) as refused:
        modality_for_data(tsv, _options())
    assert str(refused.value) == (
        f"--data {tsv}: column 'scan file' holds image file names (2 of 3 rows): pass "
        "--path-column 'scan file' to read the images, or --exclude 'scan file' to read the "
        "other columns as a table"
    )


# ----- item 2: the files of a path CSV are looked for beside it --------------------------------
@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """``lists/cases.csv`` naming ``imgs/...`` (beside ``lists``, not in it), run from
    ``tmp_path``, where the paths would be found."""
    files = _files(disc_folder(tmp_path / "imgs"))
    monkeypatch.chdir(tmp_path / "imgs")  # not where the files are either
    return _listing(tmp_path / "lists" / "cases.csv", "path", files)


def _none_found(csv: str, folder: Path) -> str:
    return (
        f"error: none of the 8 image files listed in {csv} was found: relative paths are read "
        f"from the CSV's folder, {folder} (first: imgs/bright/b0.png, looked for as "
        f"{folder}/imgs/bright/b0.png); write the paths relative to that folder, or as "
        "absolute paths"
    )


@pytest.mark.parametrize("on_error", ["refuse", "skip"])
def test_train_base_says_where_it_looked_for_the_files_of_a_path_csv(tmp_path, elsewhere, on_error):
    """It said "cannot read ...: file not found", or "none ... could be read ...; check the
    files' format"."""
    csv = "../lists/cases.csv"
    out = tmp_path / "b"
    result = run_cli("train-base", "--data", csv, *TINY, "--on-error", on_error, "--out", out)
    assert error_line(result) == _none_found(csv, tmp_path / "lists")
    assert not out.exists()


def test_absolute_paths_none_of_which_exist_are_named(tmp_path):
    gone = [f"{tmp_path}/gone/{kind}/{i}.png" for i in range(2) for kind in ("bright", "dark")]
    csv = _listing(tmp_path / "cases.csv", "path", gone)
    result = run_cli("train-base", "--data", csv, *TINY, "--out", tmp_path / "b")
    assert error_line(result) == (
        f"error: none of the 4 image files listed in {csv} was found (first: "
        f"{tmp_path}/gone/bright/0.png): check the paths"
    )


@pytest.fixture(scope="module")
def image_base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("image_base")
    succeeded(run_cli("train-base", "--data", disc_folder(root / "cases"), *TINY,
                      "--out", root / "base"))  # fmt: skip
    return root / "base"


@pytest.mark.parametrize("on_error", ["refuse", "skip"])
def test_predict_says_where_it_looked_for_the_files_of_a_path_csv(
    tmp_path, elsewhere, image_base, on_error
):
    csv = "../lists/cases.csv"
    out = tmp_path / "p.csv"
    result = run_cli("predict", "--base", image_base, "--data", csv, "--on-error", on_error,
                     "--out", out)  # fmt: skip
    assert error_line(result) == _none_found(csv, tmp_path / "lists")
    assert not out.exists()


def test_predict_says_where_it_looked_for_one_missing_file(tmp_path, image_base):
    files = _files(disc_folder(tmp_path / "imgs"))
    csv = _listing(tmp_path / "cases.csv", "path", [*files, "imgs/dark/gone.png"])
    out = tmp_path / "p.csv"
    result = run_cli("predict", "--base", image_base, "--data", csv, "--out", out)
    assert error_line(result) == (
        f"error: 1 of {len(files) + 1} image files listed in {csv} does not exist "
        f"({tmp_path}/imgs/dark/gone.png; relative paths are read from the CSV's folder, "
        f"{tmp_path}): correct its path or restore it, or pass --on-error skip to leave it out"
    )
    assert not out.exists()


def test_a_base_trained_with_a_path_column_predicts_and_evaluates_on_such_a_csv(tmp_path, renamed):
    """``predict`` and ``evaluate`` take no ``--path-column``: the base's recorded one is used
    to recognise its CSV (they answered "--data fname.csv is not image data")."""
    base = tmp_path / "base"
    succeeded(run_cli("train-base", "--data", renamed, "--label", "label", "--path-column",
                      "filename", *TINY, "--out", base))  # fmt: skip
    succeeded(run_cli("predict", "--base", base, "--data", renamed, "--out", tmp_path / "p.csv"))
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 9  # header and 8 images
    succeeded(run_cli("evaluate", "--base", base, "--data", renamed))


def test_a_column_of_file_names_named_as_the_id_is_a_table_s_id(renamed):
    """A metadata table keyed by image file name (NIH's ``Image Index``) given as
    ``--id-column``: the command says what the column is, so it is read as a table."""
    from medadapt.cli.verbs import probes

    named = probes({"label": "label", "id_column": "filename", "exclude": None})
    assert modality_for_data(renamed, named).kind == "tabular"
    with pytest.raises(DataError, match="holds image file names"):
        modality_for_data(renamed, probes({"label": "label", "exclude": None}))
