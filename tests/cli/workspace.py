"""One small workspace for the bad-input tests: tables, images, models and a registry.

Everything is tiny (a 1-block FT-Transformer of at most 20 epochs, a 1-block ViT at 32 px of
one epoch) so that the cases test what medadapt says, not how well it trains.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

import medadapt as ma
from tests.cli.helpers import run_cli
from tests.train.image_data import OLD, write_npz, write_png_csv

TINY_TABLE = ["--d-token", "16", "--n-blocks", "1", "--n-heads", "2"]
#: a tiny table model trained for at most 20 epochs (its early stopping took about 100): the
#: checks of what a command says, not of how well it trains (AUROC about 0.8 on the heart
#: data, every class called)
QUICK_TABLE = [*TINY_TABLE, "--epochs", "20"]
TINY_IMAGE = ["--image-size", "32", "--backbone-options", "depth=1,embed_dim=32,num_heads=2"]
VA = "VA Long Beach"


def _ok(*argv: str) -> None:
    result = run_cli(*argv)
    assert result.code == 0, result.stderr


def build(root: Path) -> dict[str, Path]:
    """Files and models every case can point at (never modified by a case)."""
    paths: dict[str, Path] = {}
    heart = ma.load_heart_disease()
    paths["heart"] = root / "heart.csv"
    heart.to_csv(paths["heart"], index=False)
    common = ["--data", paths["heart"], "--label", "num", "--positive-above", "0"]
    paths["base"] = root / "base"
    _ok(
        "train-base", *common, "--id-column", "id", "--group-column", "dataset",
        "--groups", "Cleveland,Hungary", *QUICK_TABLE, "--out", paths["base"],
    )  # fmt: skip
    paths["adapter"] = root / "va"
    _ok(
        "adapt", "--base", paths["base"], "--data", paths["heart"], "--label", "num",
        "--group-column", "dataset", "--group", VA, "--out", paths["adapter"],
    )  # fmt: skip
    paths["npz"] = write_npz(root / "old.npz", {c: 12 for c in OLD}, OLD)
    paths["image_base"] = root / "image_base"
    _ok(
        "train-base", "--data", paths["npz"], "--class-names", ",".join(OLD), *TINY_IMAGE,
        "--epochs", "1", "--out", paths["image_base"],
    )  # fmt: skip
    (root / "png").mkdir()
    # another seed than old.npz's: with its seed, the first normal PNGs are the very pixels of
    # the image base's training images (recognised by their pixels: too few left to test on)
    paths["png_csv"] = write_png_csv(
        root / "png", {"A": {"normal": 6, "mass": 6}}, ["normal", "mass"], seed=5
    )
    paths["png_dir"] = root / "png_folder"
    for label in ("normal", "mass"):
        (paths["png_dir"] / label).mkdir(parents=True)
        for image in sorted((root / "png" / "images").glob(f"A_{label}_*.png")):
            (paths["png_dir"] / label / image.name).write_bytes(image.read_bytes())
    record = json.loads((paths["base"] / "model.json").read_text())["training"]["split"]
    paths["train_rows"] = root / "train_rows.csv"
    heart.iloc[record["train_positions"]].to_csv(paths["train_rows"], index=False)
    paths["registry"] = root / "registry"
    _ok("registry", "--root", paths["registry"], "add", paths["adapter"], "--name", "va")
    _ok("registry", "--root", paths["registry"], "promote", "va@1")
    paths["token"] = root / "token.txt"
    paths["token"].write_text("s3cret-token-for-the-tests-0123456789\n")
    paths["token"].chmod(0o600)  # as a secret is kept: others' readable ones are warned of
    paths["text"] = root / "notes.txt"
    paths["text"].write_text("just text\n")
    _bad_tables(root, heart, paths)
    _bad_images(root, paths)
    return paths


def _bad_tables(root: Path, heart: pd.DataFrame, paths: dict[str, Path]) -> None:
    va = heart[heart["dataset"] == VA].copy()
    paths["va"] = root / "va_rows.csv"
    va.to_csv(paths["va"], index=False)
    # one cholesterol far beyond every training value, whichever rows trained the base: 603
    # (Hungary) is brought in, 700 given to a VA Long Beach patient, whom the base never sees
    far = heart.assign(chol=heart["chol"].astype(float).where(heart["chol"] != 603, 400.0))
    far.loc[far.index[(far["dataset"] == VA) & (far["chol"] > 0)][0], "chol"] = 700.0
    paths["far"] = root / "far.csv"
    far.to_csv(paths["far"], index=False)
    inf = far.copy()
    inf.loc[:3, "chol"] = [np.inf, -np.inf, 1e308, np.inf]
    paths["inf"] = root / "inf.csv"
    inf.to_csv(paths["inf"], index=False)
    paths["no_group"] = root / "no_group.csv"  # the base's group column renamed
    heart.rename(columns={"dataset": "site"}).to_csv(paths["no_group"], index=False)
    paths["weights_csv"] = root / "weights.csv"  # an adapter's weights passed as a table
    paths["weights_csv"].write_bytes((paths["adapter"] / "adapter.safetensors").read_bytes())
    paths["json"] = root / "rows.json"
    paths["json"].write_text(heart.head(5).to_json(orient="records"))
    paths["random"] = root / "random.csv"
    paths["random"].write_bytes(np.random.default_rng(0).bytes(3000))
    paths["headerless"] = root / "headerless.csv"  # exported without its header row
    paths["headerless"].write_text(heart.to_csv(index=False, header=False))
    paths["empty"] = root / "empty.csv"
    paths["empty"].write_text("")
    paths["header_only"] = root / "header_only.csv"
    paths["header_only"].write_text(",".join(heart.columns) + "\n")
    paths["dup_columns"] = root / "dup.csv"
    paths["dup_columns"].write_text("age,sex,age,num\n" + "50,M,51,0\n" * 30)
    paths["utf16"] = root / "utf16.csv"
    paths["utf16"].write_bytes(heart.head(50).to_csv(index=False).encode("utf-16"))
    paths["binary"] = root / "binary.csv"
    paths["binary"].write_bytes(bytes(range(256)) * 40)
    no_label = heart.drop(columns=["num"])
    paths["no_label"] = root / "no_label.csv"
    no_label.to_csv(paths["no_label"], index=False)
    other = pd.DataFrame({"radius": np.linspace(8, 28, 40), "num": [0, 1] * 20})
    paths["other_data"] = root / "other_data.csv"  # none of the base's features
    other.to_csv(paths["other_data"], index=False)
    paths["other_unlabelled"] = root / "other_unlabelled.csv"  # ... nor its label
    other.drop(columns=["num"]).to_csv(paths["other_unlabelled"], index=False)
    # another model's data sharing a few columns (age, sex) with the base's: most absent
    mostly_other = heart[["age", "sex", "dataset"]].head(40).assign(bmi=np.linspace(18, 40, 40))
    paths["mostly_other"] = root / "mostly_other.csv"
    mostly_other.to_csv(paths["mostly_other"], index=False)
    renamed = heart.rename(columns={"chol": "Cholesterol"})
    paths["renamed"] = root / "renamed.csv"
    renamed.to_csv(paths["renamed"], index=False)
    # the adapter's group column under another name: nothing says which rows are VA Long Beach
    paths["renamed_group"] = root / "renamed_group.csv"
    heart.rename(columns={"dataset": "hospital"}).to_csv(paths["renamed_group"], index=False)


def _bad_images(root: Path, paths: dict[str, Path]) -> None:
    arrays = dict(np.load(paths["npz"]))
    nan = {k: (v.astype(np.float32) if k.endswith("images") else v) for k, v in arrays.items()}
    nan["train_images"][0, 0, 0] = np.nan
    paths["nan_npz"] = root / "nan.npz"
    np.savez(paths["nan_npz"], **nan)
    paths["no_images_npz"] = root / "no_images.npz"
    np.savez(paths["no_images_npz"], train_labels=arrays["train_labels"])
    paths["fake_npz"] = root / "fake.npz"
    paths["fake_npz"].write_text("this is not an archive\n")
    paths["pickle_npz"] = root / "pickle.npz"
    np.savez(paths["pickle_npz"], train_images=np.array([{"a": 1}], dtype=object))
    no_label = root / "png" / "no_label.csv"
    no_label.write_text(
        "\n".join(ln.split(",")[0] for ln in paths["png_csv"].read_text().splitlines()) + "\n"
    )
    paths["png_no_label"] = no_label
    missing = root / "png" / "missing_files.csv"
    missing.write_text("path,label\nimages/nope_1.png,normal\nimages/nope_2.png,mass\n")
    paths["png_missing"] = missing
    one_class = root / "png" / "one_class.csv"  # site A's normal films only
    lines = paths["png_csv"].read_text().splitlines()
    one_class.write_text("\n".join([lines[0], *(ln for ln in lines if ",normal," in ln)]) + "\n")
    paths["png_one_class"] = one_class
    cavity = root / "png" / "cavity_only.csv"  # every training image of a new class
    cavity.write_text(
        "\n".join(
            [lines[0], *(ln.replace(",normal,", ",cavity,") for ln in lines if ",normal," in ln)]
        )
        + "\n"
    )
    paths["png_cavity_only"] = cavity
    paths["broken_base"] = root / "broken_base"
    paths["broken_base"].mkdir()
    (paths["broken_base"] / "model.json").write_text('{"format": "medadapt-base", "kind"')


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its bytes (to prove nothing changed)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[str(path.relative_to(root)) + "/"] = ""
    return out


def json_of(path: Path) -> dict:
    return json.loads(path.read_text())
