"""``check-data`` on an image folder accounts for every image: the count it states is the
images adapt would train on, test on, or neither (with why), and every file of the folder
is one of those, left out with its reason, outside the class sub-folders, or hidden. Before,
it stated "16 images of --data: ... 12 to adapt on, 2 to test it" of a folder whose other 2
were the base model's test images, kept out of training without a word, and a hidden image
(``.x.png``, or in ``.trash/``) was passed over unsaid."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from medadapt.data.image_sources import hidden_images_note
from tests.cli.helpers import run_cli, succeeded
from tests.data.makers import disc, write_picture

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]  # fmt: skip
CLASSES = ("normal", "pneumonia")


def _folder(root: Path, n: int, seed: int = 0) -> Path:
    for k, name in enumerate(CLASSES):
        for i in range(n):
            write_picture(root / name / f"{i}.png", disc(16, 120 + 60 * k, seed=seed + 10 * k + i))
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """The folder a base trained on (16 images, 4 of them its test split) and the base."""
    tmp = tmp_path_factory.mktemp("accounts")
    cases = _folder(tmp / "cases", 8)
    succeeded(run_cli("train-base", "--data", cases, *TINY, "--out", tmp / "base"))
    return cases, tmp / "base"


def _said(result) -> str:
    return " ".join((result.stdout + result.stderr).split())  # rich wraps long lines


def _headline(said: str) -> tuple[int, int, int, int, str]:
    """``(n, to adapt on, to test it, used for neither, why)`` of check-data's first line."""
    found = re.search(r"(\d+) images of --data .*?(\d+) to adapt on, (\d+) to test it"
                      r"(?:, (\d+) images? used for neither \((.*?)\))?, as adapt",
                      said)  # fmt: skip
    assert found, said
    n, train, test, neither, why = found.groups()
    return int(n), int(train), int(test), int(neither or 0), why or ""


def test_the_images_adapt_uses_for_neither_side_are_counted_with_why(trained, tmp_path):
    cases, base = trained
    said = _said(succeeded(run_cli("check-data", "--data", cases, "--base", base)))
    n, train, test, neither, why = _headline(said)
    assert n == 16 and neither > 0 and train + test + neither == n
    assert why == f"{neither} in the base model's test split, kept out of an adapter's training"


def test_every_file_of_a_messy_folder_is_counted_somewhere(trained, tmp_path):
    _, base = trained
    site = _folder(tmp_path / "site", 10, seed=100)
    (site / "normal" / "broken.png").write_bytes(b"not a png")  # unreadable
    (site / "normal" / "notes.txt").write_text("seen by Dr X")  # no image
    write_picture(site / "pneumonia" / "black.png", np.zeros((16, 16), np.uint8))  # blank
    shutil.copy(site / "normal" / "0.png", site / "normal" / "copy.png")  # read, said a copy
    write_picture(site / "normal" / "nested" / "n.png", disc(16, 120, seed=7))  # read
    write_picture(site / "loose.png", disc(16, 120, seed=8))  # outside the class folders
    write_picture(site / "normal" / ".hidden.png", disc(16, 120, seed=9))  # hidden
    write_picture(site / ".trash" / "old.png", disc(16, 120, seed=10))  # in a hidden folder
    (site / ".DS_Store").write_bytes(b"\0")  # the system's own: no image
    (site / "normal" / "._0.png").write_bytes(b"\0")  # macOS's resource file: no image
    (site / "pneumonia" / "Thumbs.db").write_bytes(b"\0")
    result = succeeded(run_cli("check-data", "--data", site, "--base", base, "--on-error",
                               "skip"))  # fmt: skip
    said = _said(result)
    n, train, test, neither, _ = _headline(said)
    assert train + test + neither == n == 22  # 20 + the copy + the nested one
    assert "3 files left out (--on-error skip): 1 not an image (unknown file type), 1 " \
           "unreadable, 1 blank (every pixel one value)" in said  # fmt: skip
    assert f"warning: 1 file in {site} was not read, being outside the class sub-folders" in said
    assert (
        f"warning: 2 hidden image files in {site} were not read (2 .png; their names, or "
        "folders above them, start with '.'): rename or move them to use them"
    ) in said
    images = [p for p in site.rglob("*") if p.is_file() and p.name.lower() != "thumbs.db"
              and p.name not in (".DS_Store", "._0.png")]  # fmt: skip
    assert len(images) == n + 3 + 1 + 2  # read, left out, outside, hidden: none unsaid
    assert "seen by Dr X" not in said and ".hidden.png" not in said  # counted, not named


def test_a_hidden_image_is_counted_by_suffix_and_the_system_files_are_not(tmp_path):
    root = _folder(tmp_path / "data", 1)
    assert hidden_images_note(root) is None
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "normal" / "._0.png").write_bytes(b"\0")
    assert hidden_images_note(root) is None
    write_picture(root / "normal" / ".scan.png", disc(16, 120, seed=1))
    assert hidden_images_note(root) == (
        f"1 hidden image file in {root} was not read (1 .png; its name, or a folder above it, "
        "starts with '.'): rename or move it to use it"
    )
    (root / ".old" / "series").mkdir(parents=True)
    (root / ".old" / "series" / "a.dcm").write_bytes(b"\0")
    (root / ".old" / "b.nii.gz").write_bytes(b"\0")
    assert hidden_images_note(root).startswith(
        f"3 hidden image files in {root} were not read (1 .dcm, 1 .nii.gz, 1 .png; "
    )
    assert hidden_images_note(root / "normal" / "0.png") is None  # no folder
