"""What the image commands say of inputs they used to take silently: files beside the class
sub-folders, channels-first ``.npz`` arrays, a NIfTI header without a voxel size."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from medadapt.data.image_sources import left_out_note
from medadapt.data.images import load_images
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.data.makers import disc, disc_folder, ramp_volume, write_nifti

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=32,num_heads=2,patch_size=4"]  # fmt: skip


def _warnings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("warning:")]


def test_train_base_says_which_files_of_a_class_folder_it_did_not_read(tmp_path):
    """A README and a picture beside the class sub-folders, a link to nothing in one: left
    out without a word before."""
    root = disc_folder(tmp_path / "cases", n=4)
    (root / "README.txt").write_text("the cases\n")
    (root / "b9.png").write_bytes((root / "bright" / "b0.png").read_bytes())
    (root / "dark" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    result = succeeded(run_cli("train-base", "--data", root, *TINY, "--out", tmp_path / "b"))
    assert _warnings(result.stdout) == [
        "warning: class 'dark' is treated as the positive class (sensitivity and the predicted "
        "probability are about it) only because it sorts after 'bright'; choose with "
        "--positive-class: --positive-class bright if 'bright' is the outcome to detect, "
        "--positive-class dark to keep this",
        f"warning: 3 files in {root} were not read, being outside the class sub-folders or "
        "links to nothing (1 .png, 1 .txt, 1 broken link): put each image in its class's "
        "sub-folder to use it",
        "warning: the base trains on fewer than 5 images of class 'bright' (3), 'dark' (3), of "
        "6 images in all: a model trained on so few is likely to be overfitted to them, and its "
        "test figures cannot show how it does elsewhere; collect more images",
    ]


def test_evaluate_says_which_files_of_a_class_folder_it_did_not_read(tmp_path):
    root = disc_folder(tmp_path / "cases", n=4)
    succeeded(run_cli("train-base", "--data", root, *TINY, "--out", tmp_path / "b"))
    (root / "labels.csv").write_text("path,label\n")
    result = succeeded(run_cli("evaluate", "--base", tmp_path / "b", "--data", root))
    assert _warnings(result.stdout) == [
        f"warning: 1 file in {root} was not read, being outside the class sub-folders or "
        "a link to nothing (1 .csv): put each image in its class's sub-folder to use it"
    ]


def test_the_files_left_out_of_a_class_folder_are_counted_in_words(tmp_path):
    root = disc_folder(tmp_path / "cases", n=4)
    for name in ("README", "NOTES"):
        (root / name).write_text("the cases\n")
    for name in ("gone.png", "lost.png"):
        (root / "dark" / name).symlink_to(tmp_path / name)
    assert left_out_note(root) == (
        f"4 files in {root} were not read, being outside the class sub-folders or links to "
        "nothing (2 broken links, 2 files without suffix): put each image in its class's "
        "sub-folder to use it"
    )
    for path in (root / "README", root / "NOTES", root / "dark" / "gone.png"):
        path.unlink()
    assert left_out_note(root) == (
        f"1 file in {root} was not read, being outside the class sub-folders or a link to "
        "nothing (1 broken link): put each image in its class's sub-folder to use it"
    )


def test_a_damaged_picture_in_a_class_folder_is_refused_as_predict_refuses_it(tmp_path):
    root = disc_folder(tmp_path / "cases", n=4)
    whole = (root / "bright" / "b0.png").read_bytes()
    (root / "bright" / "cut.png").write_bytes(whole[: len(whole) // 2])
    result = run_cli("train-base", "--data", root, *TINY, "--out", tmp_path / "b")
    assert error_line(result) == (
        f"error: cannot read {root / 'bright' / 'cut.png'}: unreadable (a damaged PNG file; its "
        "decoder says: image file is truncated); fix or remove the file, or pass --on-error skip "
        "to leave it out"
    )


def test_an_empty_picture_is_said_to_be_empty(tmp_path):
    """A 0-byte PNG (a copy that did not finish) read as 'UnidentifiedImageError: cannot
    identify image file', which names no cause a user can act on."""
    root = disc_folder(tmp_path / "cases", n=4)
    (root / "bright" / "empty.png").write_bytes(b"")
    result = run_cli("train-base", "--data", root, *TINY, "--out", tmp_path / "b")
    assert error_line(result) == (
        f"error: cannot read {root / 'bright' / 'empty.png'}: unreadable (an empty file, 0 "
        "bytes: a copy or download that did not finish?); fix or remove the file, or pass "
        "--on-error skip to leave it out"
    )


def test_a_stray_file_in_a_class_folder_is_refused_or_skipped_with_on_error_skip(tmp_path):
    """notes.txt beside the images stopped train-base even with --on-error skip."""
    root = disc_folder(tmp_path / "cases", n=4)
    (root / "dark" / "notes.txt").write_text("scanned on the old machine\n")
    for name in (".DS_Store", "Thumbs.db"):  # passed over without a word
        (root / "dark" / name).write_bytes(b"\0")
    refused = run_cli("train-base", "--data", root, *TINY, "--out", tmp_path / "b")
    assert error_line(refused) == (
        f"error: {root / 'dark' / 'notes.txt'} has an unknown file type '.txt': medadapt reads "
        ".png, .jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz and DICOM under any name (recognised "
        "by its first bytes); remove or convert the file, or pass --on-error skip to leave it "
        "out"
    )
    result = succeeded(run_cli("train-base", "--data", root, *TINY, "--on-error", "skip",
                               "--out", tmp_path / "b"))  # fmt: skip
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if "left out" in line or line.startswith("skipped")] == [
        f"skipped {root / 'dark' / 'notes.txt'}: unknown file type '.txt' (medadapt reads .png, "
        ".jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz and DICOM under any name)",
        "1 file left out (--on-error skip): 1 not an image (unknown file type)",  # not "image"
    ]
    assert not [line for line in lines if "Thumbs" in line or "DS_Store" in line]
    summary = json.loads((tmp_path / "b" / "model.json").read_text())
    assert summary["training"]["epochs"] == 1
    # 8 images, too few to set some aside: the one epoch was "1 epochs"
    said = " ".join(result.stdout.split())  # the line is wrapped to the terminal's width
    assert "(too few patients to set some aside: 1 epoch, no early stopping)" in said


def test_volumes_for_a_2d_backbone_are_refused_naming_the_flag(tmp_path):
    """It said "load one slice per volume (spatial_dims=2)", a Python argument."""
    for label, offset in (("a", 0.0), ("b", 5.0)):
        for i in range(3):
            write_nifti(tmp_path / "vols" / label / f"{i}.nii.gz", ramp_volume(offset=offset + i))
    result = run_cli("train-base", "--data", tmp_path / "vols", "--spatial-dims", "3",
                     "--image-size", "8", "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        "error: timm:vit_tiny_patch16_224 takes 2D images but the data are 3D volumes: use "
        "--backbone monai:vit, or pass --spatial-dims 2 to train on one slice per volume"
    )


def _npz(path: Path, shape: tuple[int, ...]) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = np.arange(shape[0]) % 2
    np.savez(path, **arrays)
    return path, arrays["train_images"]


@pytest.mark.parametrize("channels", [1, 3])
def test_a_channels_first_npz_is_read_as_2d_images_not_as_volumes(tmp_path, channels):
    """(N, 3, H, W), PyTorch's order, was read as volumes 3 slices deep: the middle one (the
    green channel) became a gray image."""
    path, stored = _npz(tmp_path / "rgb.npz", (8, channels, 16, 16))
    dataset = load_images(path, image_size=16)
    assert tuple(dataset.images.shape) == (8, channels, 16, 16)
    assert np.allclose(dataset.images.numpy(), stored / 255)
    assert dataset.paths[0] == f"{path}#train/0"  # one sample per image, no slices


def test_a_channels_first_npz_is_refused_for_volumes(tmp_path):
    path, _ = _npz(tmp_path / "rgb.npz", (8, 3, 16, 16))
    result = run_cli("train-base", "--data", path, "--spatial-dims", "3", *TINY,
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        f"error: {path}: train_images has shape (8, 3, 16, 16), 2D images with their 3 "
        "channels first (PyTorch's order), but --spatial-dims 3 needs volumes: pass "
        "--spatial-dims 2, or store volumes as (N, D, H, W[, C])"
    )


@pytest.fixture
def nibabel_terminal(monkeypatch) -> io.StringIO:
    """What nibabel's own handler (``nibabel.global``, set up at import) writes to the
    terminal, captured (pytest's capture cannot see a stream the handler took at import)."""
    import nibabel  # noqa: F401 (sets up the handler)

    seen = io.StringIO()
    for handler in logging.getLogger("nibabel.global").handlers:
        monkeypatch.setattr(handler, "stream", seen)
    return seen


def _nifti_folder(root: Path, zero_axis: int) -> Path:
    """Two class folders of NIfTI volumes (0.5 x 0.5 x 2 mm); the first one's header gives
    voxel size 0 along ``zero_axis``."""
    import nibabel as nib

    for label, value in (("bright", 200), ("dark", 60)):
        (root / label).mkdir(parents=True)
        for i in range(4):
            volume = np.stack([disc(16, value, seed=10 * i + k) for k in range(5)], axis=-1)
            image = nib.Nifti1Image(volume.astype(np.float32), np.diag([0.5, 0.5, 2.0, 1.0]))
            if i == 0 and label == "bright":
                image.header["pixdim"][1 + zero_axis] = 0
            nib.save(image, root / label / f"v{i}.nii.gz")
    return root


def test_a_nifti_without_a_voxel_size_is_refused_in_one_line(tmp_path, nibabel_terminal):
    """nibabel printed "pixdim[1,2,3] should be non-zero; setting 0 dims to 1" straight to
    the terminal, and the volume was resampled as if 1 mm wide."""
    root = _nifti_folder(tmp_path / "vols", zero_axis=0)
    nibabel_terminal.seek(0), nibabel_terminal.truncate()  # said while writing the files
    result = run_cli("train-base", "--data", root, *TINY, "--out", tmp_path / "b")
    assert error_line(result) == (
        f"error: cannot read {root / 'bright' / 'v0.nii.gz'}: its NIfTI header gives voxel "
        "size 0 along axis 0 (pixdim[1]), so its spacing is unknown and it cannot be "
        "resampled to a voxel size (--spacing): write the voxel sizes in mm into the header; "
        "fix or remove the file, or pass --on-error skip to leave it out"
    )
    assert nibabel_terminal.getvalue() == ""


def test_nibabel_s_words_on_a_nifti_header_become_one_note(tmp_path, nibabel_terminal):
    """Without resampling (--spacing none) the file is read; what nibabel logged is a note."""
    root = _nifti_folder(tmp_path / "vols", zero_axis=1)
    nibabel_terminal.seek(0), nibabel_terminal.truncate()
    result = succeeded(run_cli("train-base", "--data", root, "--spacing", "none", *TINY,
                               "--out", tmp_path / "b"))  # fmt: skip
    said = [line for line in result.stderr.splitlines() if "pixdim" in line]
    assert said == [
        f"note: {root / 'bright' / 'v0.nii.gz'}: pixdim[1,2,3] should be non-zero; setting 0 "
        "dims to 1"
    ]
    assert nibabel_terminal.getvalue() == ""


def test_a_path_csv_with_a_header_only_is_said_to_list_no_images(tmp_path):
    """A trial's header-only CSV given to ``predict`` was refused as "no image in casesB.csv
    could be read; check the files' format", and the user went looking for corrupt images:
    it is said as a labelled one's is."""
    from medadapt.data.image_files import load_unlabelled
    from medadapt.data.image_schema import ImageSchema

    listed = tmp_path / "cases.csv"
    listed.write_text("path,label\n")
    with pytest.raises(Exception) as labelled:
        load_images(listed, image_size=32)
    assert str(labelled.value) == f"{listed} has no rows: add one row per image (path,label)"
    schema = ImageSchema(classes=["normal", "nodule"], image_size=32, channels=1)
    with pytest.raises(Exception) as unlabelled:
        load_unlabelled(listed, schema)
    assert str(unlabelled.value) == f"{listed} has no rows: add one row per image (a path column)"


def test_a_misspelt_class_name_is_said_to_be_the_class_name(tmp_path):
    """A trial's ``--class-names normal,nodlue`` was told "add it to classes or remove those
    images": the data were right, the class name was misspelt."""
    from PIL import Image

    for name in ("normal", "nodule"):
        (tmp_path / name).mkdir()
        for i in range(6):
            pixels = np.full((16, 16), 40 * i, dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    with pytest.raises(Exception) as err:
        load_images(tmp_path, image_size=16, classes=["normal", "nodlue"])
    assert str(err.value) == (
        f"label 'nodule' in {tmp_path} is not one of the classes named ('normal', 'nodlue'): "
        "the class name 'nodlue' looks like a misspelling of it; correct the class names "
        "(--class-names; classes= in Python)"
    )
    with pytest.raises(Exception) as err:
        load_images(tmp_path, image_size=16, classes=["normal", "mass"])
    assert str(err.value) == (  # the flag named (a trial's said "add it to classes")
        f"label 'nodule' in {tmp_path} is not one of the classes named ('normal', 'mass'): add "
        "it to the class names (--class-names; classes= in Python) or remove those images"
    )


def test_a_listed_file_that_cannot_be_read_is_named_with_its_line_of_the_listing(tmp_path):
    """A trial's listing of 60 images named a text file posing as a PNG by its path only; the
    refusal gives the CSV line to fix too."""
    root = disc_folder(tmp_path / "imgs")
    (root / "dark" / "d2.png").write_text("not a picture\n")
    files = sorted(root.rglob("*.png"))
    listing = tmp_path / "images.csv"
    listing.write_text("path,label\n" + "".join(f"{p},{p.parent.name}\n" for p in files))
    line = 2 + files.index(root / "dark" / "d2.png")
    result = run_cli("train-base", "--data", listing, "--label", "label", *TINY,
                     "--out", tmp_path / "b")  # fmt: skip
    said = error_line(result)
    assert said.startswith(f"error: cannot read {root / 'dark' / 'd2.png'} (line {line} of "
                           f"{listing}): ")  # fmt: skip
    assert said.endswith("; fix or remove the file, or pass --on-error skip to leave it out")
