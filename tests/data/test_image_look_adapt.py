"""``adapt`` says once that a site's images look unlike the base's training images on the
whole: a trial's adapt said it of the 28 training images and again, as a second line, of the
12 held-out ones of the same site."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from medadapt.data.demo_images import make_dataset
from tests.workflows.test_image_cli import run

WHOLE = "look unlike the base model's training images on the whole"


def _bright_site(root, n: int = 20):
    """``root/site.csv``: ``n`` 'normal' and ``n`` 'mass' films, brighter than site A's."""
    films = make_dataset({"normal": n, "mass": n}, ("normal", "mass"), seed=9)
    rows = ["path,label"]
    (root / "bright").mkdir(parents=True)
    for i, film in enumerate((0.5 + 0.3 * films.images).clamp(0, 1)):
        label = ("normal", "mass")[int(films.y[i])]
        pixels = (film[0].numpy() * 255).round().astype(np.uint8)
        Image.fromarray(pixels).save(root / "bright" / f"{label}{i}.png")
        rows.append(f"bright/{label}{i}.png,{label}")
    (root / "site.csv").write_text("\n".join(rows) + "\n")
    return root / "site.csv"


def test_adapt_says_a_site_s_look_once_for_its_training_and_held_out_images(films_base, tmp_path):
    site = _bright_site(tmp_path)
    out, report = str(tmp_path / "adapter"), str(tmp_path / "a.json")
    assert run("adapt", "--base", str(films_base / "base"), "--data", str(site),
               "--method", "lora", "--name", "bright", "--epochs", "1",
               "--out", out, "--json", report) == 0  # fmt: skip
    warnings = json.loads((tmp_path / "a.json").read_text())["warnings"]
    said = [w for w in warnings if WHOLE in w]
    assert len(said) == 1, said
    assert said[0].startswith(f"these 40 images {WHOLE}: brighter on average")
