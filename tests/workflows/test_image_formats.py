"""Image commands on medical formats: a NIfTI volume folder with a 3D MONAI ViT, a DICOM
folder with a CT window, and predictions for single files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch
from PIL import Image
from safetensors.torch import save_file

from medadapt.backbones import create_vision_backbone
from medadapt.fileio import sha256_file
from medadapt.modalities.bundle import BaseModel
from tests.data.makers import write_dicom, write_nifti
from tests.train.image_data import OLD, write_npz
from tests.workflows.test_image_cli import run


def _blob_volume(bright: bool, seed: int, size: int = 12) -> np.ndarray:
    """A (size, size, size) HU volume: a sphere of 60 or 20 HU on -50 HU, plus noise."""
    rng = np.random.default_rng(seed)
    grid = np.indices((size,) * 3) - size / 2 + 0.5
    inside = (grid**2).sum(axis=0) < (size / 3) ** 2
    return np.where(inside, 60.0 if bright else 20.0, -50.0) + rng.normal(0, 3, (size,) * 3)


def test_nifti_volumes_train_a_3d_monai_vit_and_predict_one_file(tmp_path):
    root = tmp_path / "volumes"
    for i in range(10):
        write_nifti(root / "lesion" / f"l{i}.nii.gz", _blob_volume(True, i))
        write_nifti(root / "clear" / f"c{i}.nii.gz", _blob_volume(False, 100 + i))
    options = "hidden_size=32,mlp_dim=64,num_layers=2,num_heads=2"
    assert (
        run(
            "train-base",
            "--data",
            str(root),
            "--backbone",
            "monai:vit",
            "--spatial-dims",
            "3",
            "--window",
            "20,200",
            "--image-size",
            "12",
            "--backbone-options",
            options,
            "--epochs",
            "4",
            "--out",
            str(tmp_path / "base"),
            "--json",
            str(tmp_path / "base.json"),
        )
        == 0
    )
    base = BaseModel.load(tmp_path / "base")
    assert base.schema.spatial_dims == 3 and base.schema.window == (20.0, 200.0)
    assert base.architecture["spec"] == "monai:vit"
    assert json.loads((tmp_path / "base.json").read_text())["n_test"] == 4
    assert (
        run(
            "adapt",
            "--base",
            str(tmp_path / "base"),
            "--data",
            str(root),
            "--method",
            "bottleneck",
            "--top-blocks",
            "1",
            "--epochs",
            "2",
            "--out",
            str(tmp_path / "ad"),
        )
        == 0
    )
    out = tmp_path / "one.csv"
    assert (
        run(
            "predict",
            "--base",
            str(tmp_path / "base"),
            "--adapter",
            str(tmp_path / "ad"),
            "--data",
            str(root / "lesion" / "l0.nii.gz"),
            "--out",
            str(out),
        )
        == 0
    )
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table["image"]) == [str(root / "lesion" / "l0.nii.gz")]
    assert list(table.columns) == [
        "image",
        "p_clear",
        "p_lesion",
        "predicted",
        "outside_training",
        "note",
        "trained_on",  # the volume trained the adapter: its prediction is in-sample
        "model",
    ]
    assert table["trained_on"].str.startswith(("adapter '", "the base model")).all()


#: predict's warning for a base whose held-out images were too few for any figure (these tiny
#: bases hold out a handful)
UNMEASURED = (
    "warning: the base model has no measured performance: its held-out test set had only "
    "{held_out} (at least 10 needed); nothing says how good these predictions are: score it "
    "with medadapt evaluate on labelled images it did not train on before relying on them"
)


def test_dicom_folder_trains_a_2d_vit_and_predicts_a_flat_folder(tmp_path, capsys):
    root = tmp_path / "dicom"
    rng = np.random.default_rng(0)
    for i in range(8):
        for label, level in (("bright", 1100), ("dark", 1030)):
            pixels = np.full((16, 16), 974) + rng.integers(0, 5, (16, 16))
            pixels[5:11, 5:11] = level
            write_dicom(root / label / f"{label}{i}.dcm", pixels, intercept=-1024)
    assert (
        run(
            "train-base",
            "--data",
            str(root),
            "--window",
            "brain",
            "--image-size",
            "16",
            "--backbone-options",
            "depth=1,embed_dim=16,num_heads=2",
            "--epochs",
            "2",
            "--positive-class",  # the sorted order's, chosen: no warning that it sorts last
            "dark",
            "--out",
            str(tmp_path / "base"),
        )
        == 0
    )
    assert BaseModel.load(tmp_path / "base").schema.window == (40.0, 80.0)
    flat = tmp_path / "incoming"
    flat.mkdir()
    for name in ("bright0.dcm", "bright1.dcm"):
        (flat / name).write_bytes((root / "bright" / name).read_bytes())
    (flat / "notes.txt").write_text("not an image")
    out = tmp_path / "pred.csv"
    predict = ("predict", "--base", str(tmp_path / "base"), "--data", str(flat), "--out", str(out))
    assert run(*predict) == 2  # the text file is refused by name, as evaluate refuses it
    assert f"{flat / 'notes.txt'} has an unknown file type '.txt'" in capsys.readouterr().err
    assert run(*predict, "--on-error", "skip") == 0
    assert pd.read_csv(out)["image"].tolist() == [
        str(flat / "bright0.dcm"),
        str(flat / "bright1.dcm"),
    ]
    said = capsys.readouterr()
    lines = (said.out + said.err).splitlines()
    assert f"skipped {flat / 'notes.txt'}: unknown file type '.txt'" in " ".join(lines)
    warned = [line for line in lines if "warning" in line]
    assert warned == [  # the text file is listed as left out; nothing of the DICOM images
        UNMEASURED.format(held_out="4 images"),  # DICOM, as in training
        "warning: 2 of the 2 images predicted match images that the base model trained on (by "
        "content; column trained_on says which): their predictions are in-sample, more "
        "confident and more often right than the model is on new patients; 'medadapt "
        "evaluate' leaves them out of its figures",
    ]  # (copies of two of its training files)
    picture = tmp_path / "pictures" / "export.png"  # a PNG export: 8-bit, not windowed HU
    picture.parent.mkdir()
    Image.fromarray((np.arange(256).reshape(16, 16)).astype(np.uint8)).save(picture)
    assert run("predict", "--base", str(tmp_path / "base"), "--data", str(picture.parent),
               "--out", str(tmp_path / "png.csv")) == 0  # fmt: skip
    said = capsys.readouterr()
    assert " ".join((said.out + said.err).split()).startswith(
        f"{UNMEASURED.format(held_out='4 images')} warning: {picture}: intensities divided by "
        "their bit depth's maximum (8/16-bit "
        "pictures), but the model's training images were windowed: the predictions may be "
        "unreliable; send images prepared as the training ones were, or adapt the model on "
        "this site's images read the same way (an adapter trained on them knows their "
        "scaling)"
    )
    labelled = tmp_path / "exports"  # evaluate refuses them: its figures would mean nothing
    for label in ("bright", "dark"):
        for i in range(3):
            (labelled / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray((np.arange(256).reshape(16, 16) // (i + 1)).astype(np.uint8)).save(
                labelled / label / f"{i}.png"
            )
    assert run("evaluate", "--base", str(tmp_path / "base"), "--data", str(labelled)) == 2
    assert capsys.readouterr().err.strip() == (
        "error: the base model reads CT values through a window (level 40, width 80), but "
        f"{labelled} holds only PNG/JPEG pictures, on another scale: pass the DICOM or NIfTI "
        "images as --data"
    )  # not "drop the window": the window is the base's


def test_train_base_starts_from_local_weights_and_records_them(tmp_path, capsys):
    pretrained = create_vision_backbone(
        "timm:vit_tiny_patch16_224",
        num_classes=10,
        in_chans=1,
        image_size=32,
        depth=2,
        embed_dim=32,
        num_heads=2,
    )
    with torch.no_grad():
        for p in pretrained.parameters():
            p.add_(torch.randn_like(p))
    weights = tmp_path / "pretrained.safetensors"
    save_file({k: v.contiguous() for k, v in pretrained.state_dict().items()}, str(weights))
    data = write_npz(tmp_path / "d.npz", {c: 8 for c in OLD}, OLD)
    common = [
        "train-base",
        "--data",
        str(data),
        "--image-size",
        "32",
        "--backbone-options",
        "depth=2,embed_dim=32,num_heads=2",
        "--epochs",
        "2",
        "--freeze-backbone",
    ]
    assert run(*common, "--weights", str(weights), "--out", str(tmp_path / "base")) == 0
    base = BaseModel.load(tmp_path / "base")
    state = base.model.state_dict()
    assert torch.equal(
        state["blocks.1.attn.qkv.weight"], pretrained.state_dict()["blocks.1.attn.qkv.weight"]
    )
    assert state["head.weight"].shape == (3, 32)  # the 10-class head was replaced
    assert base.training["weights"] == {
        "file": "pretrained.safetensors",
        "sha256": sha256_file(weights),
    }
    # the pretrained mean/std (timm's pretrained_cfg) is recorded and applied in the model
    assert base.architecture["normalize"] == {"mean": [0.5], "std": [0.5]}
    assert base.training["normalize"] == base.architecture["normalize"]
    argv = [*common, "--weights", str(weights), "--normalize", "none"]
    assert run(*argv, "--out", str(tmp_path / "plain")) == 0
    assert "normalize" not in BaseModel.load(tmp_path / "plain").architecture
    missing = tmp_path / "nope.pth"
    assert run(*common, "--weights", str(missing), "--out", str(tmp_path / "b2")) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: --weights {missing} does not exist; pass a local .pth, .pt or .safetensors file"
    )
