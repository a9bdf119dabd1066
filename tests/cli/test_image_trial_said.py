"""What a new user's trial on images found: a test fraction that leaves (nearly) nothing to
train on, an image size no machine holds, ``--bits-stored`` on 8-bit pictures, an ``.npz``
whose new class is numbered as an old one, a one-class refusal naming a ``--group`` never
given, and an output folder left behind by ``kill -TERM``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.data.makers import disc, write_picture
from tests.train.image_data import OLD, write_npz

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=32,num_heads=2,patch_size=4"]  # fmt: skip


def _folder(root: Path, n: int, size: int = 16, seed: int = 0) -> Path:
    """``root/{normal,lesion}/*.png``: ``n`` 8-bit discs per class."""
    for k, (name, value) in enumerate({"normal": 60, "lesion": 200}.items()):
        for i in range(n):
            pixels = disc(size, value, seed=seed + 100 * k + i)
            write_picture(root / name / f"{name}{i}.png", pixels)
    return root


def _warnings(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("warning:")]


def test_a_test_fraction_that_leaves_a_handful_to_train_on_is_refused_or_said(tmp_path):
    """--test-fraction 0.95 trained a base on 2 of 50 images without a word; it is refused
    (fewer than 10 left to train on), and a class left fewer than 5 is said."""
    data = _folder(tmp_path / "cases", 25)
    said = error_line(run_cli("train-base", "--data", data, *TINY, "--test-fraction", "0.95",
                              "--out", tmp_path / "b"))  # fmt: skip
    assert said == (
        "error: --test-fraction 0.95 holds out 48 of the 50 images and leaves 2 to train the "
        "base model on, fewer than 10: lower --test-fraction (0.2 keeps four fifths to train on)"
    )
    assert not (tmp_path / "b").exists()
    for i in range(25, 45):  # 45 'normal', 25 'lesion': 0.85 leaves 10 to train on
        write_picture(data / "normal" / f"normal{i}.png", disc(16, 60, seed=i))
    result = succeeded(run_cli("train-base", "--data", data, *TINY, "--test-fraction", "0.85",
                               "--out", tmp_path / "c"))  # fmt: skip
    assert _warnings(result)[0] == (
        "warning: --test-fraction 0.85 holds out 60 of the 70 images and leaves 10 to train the "
        "base model on, fewer than 5 of class 'lesion' (4): a model trained on so few learns "
        "next to nothing, and its test figures say little of one trained on more; lower "
        "--test-fraction (0.2 keeps four fifths to train on)"
    )
    quiet = succeeded(run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "d"))
    assert not any("--test-fraction" in line for line in _warnings(quiet))


def test_a_test_fraction_that_leaves_fewer_than_the_classes_is_refused_for_tables():
    """The same sklearn traceback ended a table's train-base at --test-fraction 0.99."""
    from medadapt.data.splits import stratified_split
    from medadapt.errors import DataError

    labels = np.array([0, 1] * 50)
    with pytest.raises(DataError, match=r"holds out 99 of the 100 rows, leaving 1 to train on, "
                       r"fewer than the 2 classes"):  # fmt: skip
        stratified_split(labels, test_fraction=0.99, seed=0)
    with pytest.raises(DataError, match=r"holds out 50 of the 50 rows, leaving none to train"):
        stratified_split(labels[:50], test_fraction=0.99, seed=0)


def test_images_that_would_not_fit_in_memory_are_refused_before_reading(tmp_path, monkeypatch):
    """Within the upper bound, an image size whose images exceed the free memory is refused
    by its flag before any file is read (it ended in the allocator's traceback)."""
    import medadapt.data.images as images
    import medadapt.data.memory as memory

    data = _folder(tmp_path / "cases", 3)
    monkeypatch.setattr(memory, "available_memory", lambda: 10_000_000)  # 10 MB free
    read = []
    monkeypatch.setattr(images, "read_all", lambda *a, **k: read.append(a))
    result = run_cli("train-base", "--data", data, "--image-size", "512", "--epochs", "1",
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (  # 6 gray images of 512 x 512 float32, twice: 12.6 MB
        "error: image_size (--image-size) 512: the 6 images would take at least 13 MB of "
        "memory at 512x512 px each, more than the 10 MB this machine has free; choose a "
        "smaller --image-size, or read fewer images"
    )
    assert read == [] and not (tmp_path / "b").exists()


def test_an_npz_that_would_not_fit_in_memory_is_refused_before_resizing(tmp_path, monkeypatch):
    """The memory check covered folders of files only: an .npz's images were resized into a
    tensor however large, and ended in the allocator's traceback."""
    import medadapt.data.memory as memory

    data = write_npz(tmp_path / "cases.npz", {c: 2 for c in OLD}, OLD)
    monkeypatch.setattr(memory, "available_memory", lambda: 10_000_000)  # 10 MB free
    result = run_cli("train-base", "--data", data, "--class-names", ",".join(OLD),
                     "--image-size", "512", "--epochs", "1", "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (  # 6 gray train images of 512 x 512 float32, twice
        "error: image_size (--image-size) 512: the 6 images would take at least 13 MB of "
        "memory at 512x512 px each, more than the 10 MB this machine has free; choose a "
        "smaller --image-size, or read fewer images"
    )
    assert not (tmp_path / "b").exists()


def test_the_memory_check_counts_what_is_free():
    from medadapt.data.memory import available_memory, check_memory
    from medadapt.errors import ConfigError

    free = available_memory()
    assert free is None or free > 0
    check_memory(10, 224, 2, 3)  # 10 images of 224 px: a few MB
    if free is not None:
        side = int((free / 2 / 4) ** 0.5) + 1  # one such image is more than is free
        with pytest.raises(ConfigError, match=r"^image_size \(--image-size\) \d+: the 1 images"):
            check_memory(1, side, 2, 1)


def test_bits_stored_on_8_bit_pictures_is_said_at_train_base_only(tmp_path):
    """--bits-stored 12 on 8-bit PNGs was recorded silently; later, predict on 16-bit PNGs
    refused every file. Said when the base is trained, not again when an adapter reads
    8-bit images for it (the user gave no such flag there)."""
    data = _folder(tmp_path / "cases", 6)
    base = tmp_path / "b"
    result = succeeded(run_cli("train-base", "--data", data, *TINY, "--bits-stored", "12",
                               "--out", base))  # fmt: skip
    assert _warnings(result)[0] == (
        "warning: --bits-stored 12 applies to 16-bit PNG pictures, but none of the 12 files in "
        "cases is one: it changes nothing here, yet it is recorded with the base model, which "
        "will divide every 16-bit picture it scores by 4095 and refuse one holding a value "
        "above it; drop --bits-stored unless the images the model will score are 12-bit data "
        "in 16-bit files"
    )
    new = _folder(tmp_path / "new", 8, seed=1000)  # other images than the base's
    adapted = succeeded(run_cli("adapt", "--base", base, "--data", new, "--epochs", "1",
                                "--out", tmp_path / "a"))  # fmt: skip
    assert not any("--bits-stored" in line for line in _warnings(adapted))


def test_bits_stored_on_16_bit_pictures_is_not_said(tmp_path):
    for k, name in enumerate(("normal", "lesion")):
        for i in range(6):
            pixels = disc(16, 60 + 100 * k, seed=10 * k + i).astype(np.uint16) * 16
            write_picture(tmp_path / "cases" / name / f"{i}.png", pixels)
    result = succeeded(run_cli("train-base", "--data", tmp_path / "cases", *TINY,
                               "--bits-stored", "12", "--out", tmp_path / "b"))  # fmt: skip
    assert not any("--bits-stored" in line for line in _warnings(result))


@pytest.fixture(scope="module")
def npz_base(tmp_path_factory) -> Path:
    """A base trained on normal, nodule, mass (labels 0, 1, 2 of its .npz)."""
    root = tmp_path_factory.mktemp("npz")
    data = write_npz(root / "old.npz", {c: 12 for c in OLD}, OLD)
    succeeded(run_cli("train-base", "--data", data, "--class-names", ",".join(OLD),
                      "--image-size", "32", "--backbone-options",
                      "depth=1,embed_dim=32,num_heads=2", "--epochs", "1",
                      "--out", root / "base"))  # fmt: skip
    return root / "base"


def test_an_npz_that_numbers_its_new_class_as_an_old_one_is_told_its_index(tmp_path, npz_base):
    """The README's new-class example failed on an .npz labelling its new class 0: it read as
    one class ('normal'), refused with "pick a --group" though no --group was given."""
    one = write_npz(tmp_path / "new.npz", {"normal": 20}, OLD, seed=3)  # every label 0
    result = run_cli("adapt", "--base", npz_base, "--data", one, "--new-classes", "cavity",
                     "--epochs", "1", "--out", tmp_path / "a")  # fmt: skip
    assert error_line(result) == (
        f"error: --new-classes: {one} has no images of new class 'cavity': an .npz's labels are "
        "indexes into the base model's classes followed by the new ones (0 normal, 1 nodule, "
        "2 mass, 3 cavity), so 'cavity' is label 3, but the labels of new.npz are 0; label "
        "the images of 'cavity' 3 (an old class's images by its own index)"
    )
    result = run_cli("adapt", "--base", npz_base, "--data", one, "--epochs", "1",
                     "--out", tmp_path / "a")  # fmt: skip
    assert error_line(result) == (
        f"error: the training images of {one} have only one class ('normal'); an adapter needs "
        "at least two classes: add images of another class to --data"
    )


def test_the_readme_says_how_an_npz_numbers_new_classes():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.index("--new-classes cavity --old-data old.npz")
    said = " ".join(readme[example:].split())
    assert "new.npz` labels its cavity images `3`" in said
    assert "the new ones numbered after them" in " ".join(readme.split())


def test_kill_term_during_train_base_leaves_no_temporary_folder(tmp_path):
    """``kill -TERM`` during ``train-base --out m/base_int`` left an empty hidden
    ``m/.base_int.tmp-XXXX``: the real process removes it, and says it was interrupted."""
    data = _folder(tmp_path / "cases", 30, size=32)
    out = tmp_path / "m" / "base_int"
    command = [sys.executable, "-m", "medadapt.cli", "train-base", "--data", str(data),
               "--image-size", "32", "--backbone-options", "depth=2,embed_dim=48,num_heads=3",
               "--epochs", "500", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.parent.glob(".base_int.tmp-*")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted; ")
    assert not out.parent.exists()  # nor the folder made for it
    assert "Traceback" not in stderr


def test_no_temporary_folder_is_left_by_a_refusal_during_the_work(tmp_path):
    """A refusal after --out was staged (here the test fraction) leaves nothing behind."""
    data = _folder(tmp_path / "cases", 25)
    result = run_cli("train-base", "--data", data, *TINY, "--test-fraction", "0.99",
                     "--out", tmp_path / "m" / "b")  # fmt: skip
    assert "(--test-fraction) holds out 50 of the 50 image files" in error_line(result)
    assert not (tmp_path / "m").exists()  # nor the folder made for it
