"""The image command line end to end: train-base, adapt (new classes, sites), evaluate,
predict, on synthetic .npz files and a CSV of PNGs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from medadapt.data.image_files import is_image_source, split_by_patient
from medadapt.data.images import ImageDataset, load_images, source_digest
from tests.train.image_data import OLD, write_npz, write_png_csv
from tests.workflows.test_cli import run

TINY = ["--image-size", "32", "--backbone-options", "depth=2,embed_dim=32,num_heads=2"]


@pytest.fixture(scope="module")
def npz_workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    old = write_npz(root / "old.npz", {c: 40 for c in OLD}, OLD)
    new = write_npz(
        root / "new.npz",
        {"normal": 10, "nodule": 10, "mass": 10, "cavity": 40},
        [*OLD, "cavity"],
        seed=7,
    )
    assert (
        run(
            "train-base",
            "--data",
            str(old),
            "--class-names",
            ",".join(OLD),
            *TINY,
            "--epochs",
            "12",
            "--out",
            str(root / "base"),
            "--json",
            str(root / "base.json"),
        )
        == 0
    )
    assert (
        run(
            "adapt",
            "--base",
            str(root / "base"),
            "--data",
            str(new),
            "--new-classes",
            "cavity",
            "--old-data",
            str(old),
            "--epochs",
            "12",
            "--out",
            str(root / "cavity"),
            "--json",
            str(root / "cavity.json"),
            "--report",
            str(root / "cavity.html"),
        )
        == 0
    )
    return root


def test_train_base_records_the_held_out_split_and_the_schema(npz_workspace):
    root = npz_workspace
    model = json.loads((root / "base" / "model.json").read_text())
    assert model["kind"] == "image" and model["schema"]["classes"] == list(OLD)
    assert model["schema"]["image_size"] == 32 and model["schema"]["channels"] == 1
    split = model["training"]["split"]
    assert len(split["train_keys"]) + len(split["test_keys"]) == 120  # one key per image
    assert not set(split["train_keys"]) & set(split["test_keys"])
    dataset = load_images(root / "old.npz", image_size=32, classes=list(OLD))
    assert split["source_sha256"] == source_digest(root / "old.npz", dataset)
    assert set(split["train_keys"]) | set(split["test_keys"]) == set(dataset.keys)
    assert model["training"]["n_skipped_files"] == 0
    summary = json.loads((root / "base.json").read_text())
    assert summary["n_test"] == 24 and summary["test"]["overall"]["auroc"] > 0.8
    assert [r["class"] for r in summary["test"]["per_class"]] == list(OLD)


def test_new_class_adapter_reports_retention_for_adapter_and_full_finetuning(npz_workspace):
    root = npz_workspace
    summary = json.loads((root / "cavity.json").read_text())
    assert summary["classes"] == [*OLD, "cavity"] and summary["new_classes"] == ["cavity"]
    kept, full = summary["retention"], summary["full_finetune"]["retention"]
    assert kept["test_set"] == (
        "the 24 images of old.npz neither the base model nor the adapter trained on"
    )
    assert full["test_set"] == (  # a trial read "adapter" in the full fine-tuning's line alone
        "the 24 images of old.npz neither the base model nor the adapter or the full "
        "fine-tuning trained on"
    )
    assert kept["trick"] == "distill" and summary["full_finetune"]["trick"] == "none"
    assert kept["n_images"] == full["n_images"] == 24
    assert kept["auroc_before"] == full["auroc_before"]
    assert kept["drop"] == pytest.approx(kept["auroc_before"] - kept["auroc_after"])
    for retention in (kept, full):  # kept: the AUROC holds and few old images are called new
        assert retention["passed"] == (
            retention["drop"] <= 0.01 and retention["base_correct_predicted_as_new"] <= 0.10
        )
        assert retention["verdict"].startswith(
            "old classes kept: " if retention["passed"] else "old classes NOT kept: "
        )
    assert full["drop"] is not None and len(full["drop_ci"]) == 2
    manifest = json.loads((root / "cavity" / "adapter.json").read_text())
    assert manifest["metadata"]["retention"] == kept
    assert manifest["config"]["head_out_features"] == 4
    page = (root / "cavity.html").read_text()
    assert (
        page.index("Summary") < page.index("Retention of the old classes") < page.index("Per class")
    )
    assert "full fine-tuning" in page and "<img" in page
    assert f"This adapter: old-class AUROC {kept['auroc_before']:.3f}" in page
    assert f"{kept['verdict']}." in page and f"{full['verdict']}." in page


def test_evaluate_scores_only_held_out_images_of_each_source(npz_workspace):
    root = npz_workspace
    out = root / "eval_new.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(root / "base"),
            "--adapter",
            str(root / "cavity"),
            "--data",
            str(root / "new.npz"),
            "--json",
            str(out),
        )
        == 0
    )
    result = json.loads(out.read_text())
    recorded = json.loads((root / "cavity" / "split.json").read_text())
    assert result["n"] == len(recorded["test_keys"]) == 21
    manifest = json.loads((root / "cavity" / "adapter.json").read_text())
    assert "test_keys" not in manifest["metadata"]["split"]  # summaries only
    assert set(recorded["test_keys"]).isdisjoint(recorded["train_keys"])
    assert result["images_used"] == (  # the others counted: they trained it
        "the adapter's 21 held-out images; of the 70 in --data, the 49 others: 49 trained the "
        "adapter"
    )
    out = root / "eval_old.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(root / "base"),
            "--adapter",
            str(root / "cavity"),
            "--data",
            str(root / "old.npz"),
            "--json",
            str(out),
            "--report",
            str(root / "eval.html"),
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["n"] == 24 and result["images_used"] == (
        "all images, minus 96 images that match images the base model trained on (by content)"
    )
    assert result["retention"]["n_images"] == 24 and result["retention"]["drop"] is not None
    assert "Retention of the old classes" in (root / "eval.html").read_text()


def test_a_class_absent_from_the_test_images_is_noted_in_images(npz_workspace, capsys):
    """The cavity adapter on old.npz (no cavity image): its notes count images, not patients."""
    root = npz_workspace
    out = root / "eval_absent.json"
    argv = ["--base", str(root / "base"), "--adapter", str(root / "cavity")]
    assert run("evaluate", *argv, "--data", str(root / "old.npz"), "--json", str(out)) == 0
    result = json.loads(out.read_text())
    [cavity] = [row for row in result["per_class"] if row["class"] == "cavity"]
    assert (cavity["n"], cavity["note"]) == (  # a trial: "not reported" beside 0.000
        0,
        "no AUROC or sensitivity: 0 images of class 'cavity' among 24 images; at least 5 are "
        "needed for a meaningful estimate; the precision is of the 6 images called 'cavity', "
        "every one wrongly: no image here is of that class",
    )
    assert cavity["precision"] == 0.0
    assert result["notes"]["auroc"] == (
        "not reported: 0 images of class 'cavity' among 24 images; at least 5 are needed for "
        "a meaningful estimate"
    )
    printed = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "not reported: 0 images of class 'cavity' among 24 images" in printed
    assert "patient" not in json.dumps(result["notes"]) + json.dumps(result["per_class"])


def test_retention_unmeasurable_at_evaluate_asks_for_other_data_not_old_data(npz_workspace):
    """evaluate has no --old-data: where one old class alone is held out, the retention note
    asks for data holding old-class images, not for a flag evaluate does not take."""
    root = npz_workspace
    normals = write_npz(root / "normals.npz", {"normal": 12, "cavity": 12}, [*OLD, "cavity"],
                        seed=21)  # fmt: skip
    out = root / "eval_normals.json"
    argv = ["--base", str(root / "base"), "--adapter", str(root / "cavity")]
    assert run("evaluate", *argv, "--data", str(normals), "--json", str(out)) == 0
    retention = json.loads(out.read_text())["retention"]
    assert retention["drop"] is None
    assert retention["note"].startswith("old-class AUROC not measurable (")
    assert retention["note"].endswith(
        ": evaluate on data holding old-class images neither model trained on"
    )
    assert "--old-data" not in retention["note"]


def test_predict_writes_probabilities_per_image(npz_workspace, capsys):
    root = npz_workspace
    out = root / "pred.csv"
    capsys.readouterr()
    assert (
        run(
            "predict",
            "--base",
            str(root / "base"),
            "--adapter",
            str(root / "cavity"),
            "--data",
            str(root / "new.npz"),
            "--out",
            str(out),
        )
        == 0
    )
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "image",
        "p_normal",
        "p_nodule",
        "p_mass",
        "p_cavity",
        "predicted",
        "outside_training",
        "note",
        "trained_on",
        "model",
    ]
    assert len(table) == 70 and np.allclose(table.filter(like="p_").sum(axis=1), 1, atol=1e-5)
    # predict reads the .npz's test images, which neither model trained on: no in-sample
    # warning (test_image_predict_in_sample: a training folder gets one)
    assert "in-sample" not in capsys.readouterr().out


def test_csv_of_pngs_with_sites_top_blocks_and_unknown_labels(tmp_path, capsys):
    csv = write_png_csv(tmp_path, {"A": {c: 12 for c in OLD}, "B": {c: 12 for c in OLD}}, list(OLD))
    assert is_image_source(csv)
    assert (
        run(
            "train-base",
            "--data",
            str(csv),
            "--group-column",
            "site",
            "--groups",
            "A",
            *TINY,
            "--epochs",
            "3",
            "--out",
            str(tmp_path / "base"),
        )
        == 0
    )
    assert (
        run(
            "adapt",
            "--base",
            str(tmp_path / "base"),
            "--data",
            str(csv),
            "--group-column",
            "site",
            "--group",
            "B",
            "--method",
            "lora",
            "--top-blocks",
            "1",
            "--epochs",
            "3",
            "--out",
            str(tmp_path / "site_b"),
            "--json",
            str(tmp_path / "b.json"),
            "--report",
            str(tmp_path / "b.html"),
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "adapters in top 1 block: trained on cached frozen features of blocks 0-0" in printed
    # no --weights: the base said its backbone started from random weights (a trial took the
    # README's vit_tiny_patch16_224 for a pretrained network)
    assert "backbone started from random weights (no --weights): this base learned only from " \
        "these " in " ".join(printed.split())  # fmt: skip
    summary = json.loads((tmp_path / "b.json").read_text())
    assert summary["name"] == "b_lora" and summary["data_summary"]["n_test"] == 11
    assert summary["base_metrics"]["n"] == 11 and summary["retention"] is None
    page = (tmp_path / "b.html").read_text()
    assert "Base model on the same images" in page and "Retention" not in page
    assert run("evaluate", "--base", str(tmp_path / "base"), "--adapter", str(tmp_path / "site_b"),
               "--data", str(csv), "--group-column", "site", "--group", "A") == 0  # fmt: skip
    assert (  # a site B adapter scored on site A's images: said, as for tables
        "warning: adapter 'b_lora' is for site = 'B', but 8 of the 8 images scored have another "
        "value of 'site': these figures describe it there, not where it was trained; to score "
        "that group only, pass --group-column site --group 'B'"
    ) in capsys.readouterr().out
    out = tmp_path / "eval.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(tmp_path / "base"),
            "--data",
            str(csv),
            "--group-column",
            "site",
            "--json",
            str(out),
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["images_used"] == (
        "all images, minus 28 images that match images the base model trained on (by content)"
    )
    # small-cell policy (as for tables): a class count below 5 in a site bands its other counts,
    # and where the bands, read with the overall class counts, would narrow it (site A's 3, 3
    # and 2 beside 10-14 of 12 each: 1 to 4, not 0 to 4), no count of the sites is shown
    sites = result["subgroups"]["site"]
    assert {k: (v["n"], v["class_counts"]) for k, v in sites.items()} == {
        "A": ("suppressed", "suppressed"),
        "B": ("suppressed", "suppressed"),
    }
    out = tmp_path / "eval_default.json"  # the group column saved with the base is the default
    assert (
        run("evaluate", "--base", str(tmp_path / "base"), "--data", str(csv), "--json", str(out))
        == 0
    )
    assert json.loads(out.read_text())["subgroups"] == result["subgroups"]
    assert (
        run(
            "predict",
            "--base",
            str(tmp_path / "base"),
            "--data",
            str(csv),
            "--out",
            str(tmp_path / "pred.csv"),
        )
        == 0
    )
    assert len(pd.read_csv(tmp_path / "pred.csv")) == 72
    table = pd.read_csv(csv)
    table.loc[0, "label"] = "cavity"
    table.to_csv(tmp_path / "cavity.csv", index=False)
    code = run(
        "adapt",
        "--base",
        str(tmp_path / "base"),
        "--data",
        str(tmp_path / "cavity.csv"),
        "--out",
        str(tmp_path / "x"),
    )
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'cavity.csv'} has 1 image labelled 'cavity', not one of the "
        "model's classes ['mass', 'nodule', 'normal']: pass the new ones with --new-classes "
        "NAME[,NAME]"
    )
    _a_blank_image_is_not_scored(tmp_path, csv.parent / table.loc[1, "path"], capsys)


def _a_blank_image_is_not_scored(tmp_path, picture: Path, capsys) -> None:
    """A black PNG got "mass 0.999": it is refused by name (or left out with --on-error
    skip), in predict as in serve."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.png").write_bytes(picture.read_bytes())
    size = Image.open(picture).size
    Image.fromarray(np.zeros(size[::-1], np.uint8)).save(incoming / "black.png")
    base, out = str(tmp_path / "base"), tmp_path / "blank.csv"
    assert run("predict", "--base", base, "--data", str(incoming), "--out", str(out)) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: cannot read {incoming / 'black.png'}: a blank image: every pixel has the same "
        "value (nothing to score); fix or remove the file, or pass --on-error skip to leave it out"
    )
    assert not out.exists()
    assert run("predict", "--base", base, "--data", str(incoming), "--out", str(out),
               "--on-error", "skip") == 0  # fmt: skip
    assert pd.read_csv(out)["image"].tolist() == [str(incoming / "a.png")]
    assert f"skipped {incoming / 'black.png'}: a blank image: every pixel has the same value" in (
        capsys.readouterr().out
    )


def test_tables_refuse_image_options_and_need_a_label(tmp_path, capsys):
    table = tmp_path / "t.csv"
    pd.DataFrame({"age": [1, 2, 3], "y": [0, 1, 0]}).to_csv(table, index=False)
    assert not is_image_source(table)
    assert run("train-base", "--data", str(table), "--out", str(tmp_path / "b")) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --label is required for a table: name the column holding the outcome"
    )
    assert (
        run(
            "train-base",
            "--data",
            str(table),
            "--label",
            "y",
            "--backbone",
            "monai:vit",
            "--out",
            str(tmp_path / "b"),
        )
        == 2
    )
    assert capsys.readouterr().err.strip() == (
        f"error: --backbone applies to image data, but --data {table} is a table: drop the option "
        "or pass an image folder, path CSV or .npz"
    )


def test_source_digest_changes_with_the_listing_and_split_keeps_files_together(tmp_path):
    csv = write_png_csv(tmp_path, {"A": {"normal": 3, "mass": 3}}, ["normal", "mass"])
    ds = load_images(csv, image_size=32)
    digest = source_digest(csv, ds)
    assert digest == source_digest(csv, load_images(csv, image_size=32))
    first = ds.paths[0]
    with open(first, "ab") as handle:
        handle.write(b"\0")  # the size of one listed file changes
    assert source_digest(csv, ds) != digest
    volumes = ImageDataset(
        images=torch.zeros(8, 1, 4, 4),
        y=torch.tensor([0, 0, 1, 1, 0, 0, 1, 1]),
        classes=["a", "b"],
        paths=["v1", "v1", "v2", "v2", "v3", "v3", "v4", "v4"],
    )
    train, test = split_by_patient(volumes, range(8), test_fraction=0.5, seed=0)
    assert sorted([*train, *test]) == list(range(8))
    assert {volumes.paths[i] for i in train}.isdisjoint({volumes.paths[i] for i in test})


def test_full_finetuning_saves_an_extended_base_that_evaluates_on_held_out_images(
    npz_workspace,
):
    root = npz_workspace
    assert (
        run(
            "adapt",
            "--base",
            str(root / "base"),
            "--data",
            str(root / "new.npz"),
            "--new-classes",
            "cavity",
            "--method",
            "full",
            "--epochs",
            "3",
            "--out",
            str(root / "full"),
        )
        == 0
    )
    model = json.loads((root / "full" / "model.json").read_text())
    assert model["schema"]["classes"] == [*OLD, "cavity"]
    assert model["architecture"]["num_classes"] == 4
    assert model["training"]["adapted"]["retention"]["trick"] == "distill"
    out = root / "eval_full.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(root / "full"),
            "--data",
            str(root / "new.npz"),
            "--json",
            str(out),
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["images_used"] == (
        "the fine-tuned model's 21 held-out images; of the 70 in --data, the 49 others: 49 "
        "trained the fine-tuned model"
    )
    assert result["n"] == 21 and result["classes"] == [*OLD, "cavity"]


def test_evaluate_on_the_adapters_source_needs_its_split_file(npz_workspace, tmp_path, capsys):
    root = npz_workspace
    copy = tmp_path / "cavity"
    shutil.copytree(root / "cavity", copy)
    (copy / "split.json").unlink()
    code = run(
        "evaluate",
        "--base",
        str(root / "base"),
        "--adapter",
        str(copy),
        "--data",
        str(root / "new.npz"),
    )
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: this adapter was trained on images of this very source, but split.json (which "
        "images) is not beside it; point --adapter at the directory 'medadapt adapt' wrote, or "
        "evaluate on other images"
    )


def test_a_new_class_the_adapter_never_predicts_is_warned_of(npz_workspace, tmp_path, capsys):
    """A trial's adapter added 'cavity' and called no image 'cavity': only the per-class row
    ("0 images called") showed it. An adapter whose new class can never win (its head's bias
    for it far below the others) is warned of by name, with the counts."""
    import hashlib

    from safetensors.torch import load_file, save

    from medadapt.adapters.state import _manifest_digest

    root, muted = npz_workspace, tmp_path / "muted"
    shutil.copytree(npz_workspace / "cavity", muted)
    tensors = load_file(muted / "adapter.safetensors")
    tensors["head.bias"][3] = -1e4  # 'cavity' never the most probable class
    weights = save(tensors, metadata={"format": "medadapt-adapter"})
    (muted / "adapter.safetensors").write_bytes(weights)
    manifest = json.loads((muted / "adapter.json").read_text())
    manifest.update(weights_bytes=len(weights), weights_sha256=hashlib.sha256(weights).hexdigest())
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    (muted / "adapter.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(muted),
               "--data", str(root / "new.npz")) == 0  # fmt: skip
    said = " ".join(capsys.readouterr().out.split())
    assert (
        "warning: the adapter calls none of these 21 images 'cavity', a class it added, though "
        "12 of them are: it has not learnt it (train on more 'cavity' images, or more epochs), "
        "and its figures for 'cavity' describe a class it never predicts"
    ) in said
    capsys.readouterr()
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(root / "cavity"),
               "--data", str(root / "new.npz")) == 0  # fmt: skip
    assert "a class it added" not in capsys.readouterr().out
