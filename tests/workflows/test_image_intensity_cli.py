"""12-bit values in 16-bit PNGs on the command line: said once, in the JSON output too; and
``--bits-stored 12``, recorded with the base, so that predict reads as train-base did."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from medadapt.modalities.bundle import BaseModel
from tests.data.makers import disc, write_picture
from tests.workflows.test_image_cli import run

TINY = ["--image-size", "16", "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]


def _twelve_bit_folder(root):
    """Two classes of four 16-bit PNGs each, holding 12-bit values (at most 4095)."""
    for i in range(4):
        for label, value in (("bright", 200), ("dark", 60)):
            pixels = (disc(16, value, seed=i).astype(np.int64) * 4095 // 255).astype(np.uint16)
            write_picture(root / label / f"{label}{i}.png", pixels)
    return root


def test_twelve_bit_pngs_are_said_once_and_bits_stored_is_recorded(tmp_path, capsys):
    data = _twelve_bit_folder(tmp_path / "exports")
    common = ["--data", str(data), *TINY, "--epochs", "1"]
    assert run("train-base", *common, "--out", str(tmp_path / "plain"),
               "--json", str(tmp_path / "plain.json")) == 0  # fmt: skip
    printed = capsys.readouterr()
    said = [line for line in (printed.out + printed.err).splitlines() if "16-bit" in line]
    note = (
        "all 8 16-bit pictures in exports hold values of at most 4095, as 12-bit detector data "
        "does: divided by 65535 they reach the model at most 0.0625 bright (nearly black), "
        "unlike 8-bit or full 16-bit pictures of the same scene; if they are 12-bit data, "
        "train the base with --bits-stored 12 (train-base or study) so that every command "
        "divides by 4095"
    )
    assert said == [f"warning: {note}"]
    assert note in json.loads((tmp_path / "plain.json").read_text())["warnings"]

    base = tmp_path / "twelve"
    assert run("train-base", *common, "--bits-stored", "12", "--out", str(base),
               "--json", str(tmp_path / "twelve.json")) == 0  # fmt: skip
    assert "16-bit" not in "".join(capsys.readouterr())
    assert BaseModel.load(base).schema.bits_stored == 12
    wide = write_picture(tmp_path / "incoming" / "wide.png", np.full((16, 16), 60000, np.uint16))
    write_picture(tmp_path / "incoming" / "ok.png", disc(16, 200, seed=1).astype(np.uint16) * 16)
    out = tmp_path / "pred.csv"
    assert run("predict", "--base", str(base), "--data", str(tmp_path / "incoming"),
               "--out", str(out)) == 2  # fmt: skip
    assert "".join(capsys.readouterr()).strip() == (
        f"error: {wide}: 16-bit pixels up to 60000 exceed 4095, the highest value 12 bits "
        "stored hold (--bits-stored 12): export it with 12 bits, or train the base with a "
        "higher --bits-stored; fix or remove the file, or pass --on-error skip to leave it out"
    )
    assert run("predict", "--base", str(base), "--data", str(tmp_path / "incoming"),
               "--out", str(out), "--on-error", "skip") == 0  # fmt: skip
    assert pd.read_csv(out)["image"].tolist() == [str(tmp_path / "incoming" / "ok.png")]
    assert "16-bit pictures" not in "".join(capsys.readouterr())  # read as the base was


def test_bits_stored_is_refused_for_an_npz_but_a_base_recording_it_reads_one(tmp_path, capsys):
    """``--bits-stored`` given for an ``.npz`` is refused by flag (its arrays are divided by
    their type's maximum); a base that recorded it for its PNGs still reads an ``.npz``, and
    ``study --base`` accepts the base's own value and names it otherwise."""
    from medadapt.data.images import load_images
    from medadapt.modalities import modality_of
    from tests.data.makers import write_npz

    rng = np.random.default_rng(0)
    arrays = {f"{split}_{kind}": (rng.integers(0, 256, (8, 16, 16), dtype=np.uint8)
                                  if kind == "images" else np.arange(8) % 2)
              for split in ("train", "val", "test") for kind in ("images", "labels")}  # fmt: skip
    npz = write_npz(tmp_path / "scans.npz", **arrays)
    assert run("train-base", "--data", str(npz), *TINY, "--bits-stored", "12",
               "--out", str(tmp_path / "base")) == 2  # fmt: skip
    assert capsys.readouterr().err.strip() == (
        f"error: --bits-stored applies to 16-bit PNG pictures, not to the arrays of {npz} "
        "(divided by their type's maximum); drop the option"
    )
    assert not (tmp_path / "base").exists()
    read = load_images(npz, image_size=16, bits_stored=12, split="test")  # as a base's options
    assert read.images.shape == (8, 1, 16, 16) and "bits_stored" not in read.source
    base = tmp_path / "twelve"
    assert run("train-base", "--data", str(_twelve_bit_folder(tmp_path / "exports")), *TINY,
               "--epochs", "1", "--bits-stored", "12", "--out", str(base)) == 0  # fmt: skip
    images = modality_of("image")
    assert images.differs_from_base(BaseModel.load(base), "--bits-stored", 12) is None
    assert images.differs_from_base(BaseModel.load(base), "--bits-stored", 10) == "--bits-stored 12"
