"""Synthetic chest-film-like images with known class differences (no real data, no download),
for trying the image commands as the README writes them (:func:`write_demo`) and for tests.

Each class is a pattern at a random position on a noisy background, with overlapping sizes
and brightness so a tiny ViT separates them well but not perfectly:

* ``normal``: background only (faint blobs);
* ``nodule``: a small bright disc (radius 2-4);
* ``mass``: a larger disc (radius 4-7);
* ``cavity`` (new): a ring (bright rim, dark centre);
* ``effusion`` (new): a bright band along the bottom edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from medadapt.data.images import ImageDataset

OLD = ("normal", "nodule", "mass")
NEW = ("cavity", "effusion")


def _image(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    image = 0.15 + 0.08 * rng.random((size, size), dtype=np.float32)
    for _ in range(2):  # faint distractor blobs in every class
        cy, cx = rng.uniform(4, size - 4, 2)
        image += 0.12 * ((yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(1, 3) ** 2)
    cy, cx = rng.uniform(size * 0.25, size * 0.75, 2)
    dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    level = rng.uniform(0.35, 0.6)
    if kind == "nodule":
        image += level * (dist < rng.uniform(2.0, 4.5))
    elif kind == "mass":
        image += level * (dist < rng.uniform(4.0, 7.0))
    elif kind == "cavity":
        radius = rng.uniform(4.0, 7.0)
        image += level * ((dist < radius) & (dist > radius - 2.0))
    elif kind == "effusion":
        image += level * (yy > size * rng.uniform(0.7, 0.85))
    elif kind != "normal":
        raise ValueError(kind)
    image += 0.05 * rng.standard_normal((size, size)).astype(np.float32)
    return np.clip(image, 0.0, 1.0)


def make_dataset(
    counts: dict[str, int],
    classes: Sequence[str],
    *,
    size: int = 32,
    seed: int = 0,
    group: str | None = None,
) -> ImageDataset:
    """``counts[class]`` images per class, labelled by their index in ``classes``."""
    rng = np.random.default_rng(seed)
    images, labels, paths = [], [], []
    for kind, n in counts.items():
        for i in range(n):
            images.append(_image(kind, size, rng))
            labels.append(list(classes).index(kind))
            paths.append(f"synthetic/{seed}/{kind}/{i}")
    return ImageDataset(
        images=torch.from_numpy(np.stack(images))[:, None].contiguous(),
        y=torch.tensor(labels),
        classes=list(classes),
        groups=None if group is None else [group] * len(labels),
        paths=paths,
        source={"kind": "synthetic", "image_size": size, "spatial_dims": 2, "fit": "pad"},
    )


def write_npz(path: Path, counts: dict[str, int], classes: Sequence[str], seed: int = 0) -> Path:
    """A MedMNIST-style .npz (uint8, train/val/test) with labels indexing ``classes``."""
    arrays = {}
    for split, offset in (("train", 0), ("val", 1000), ("test", 2000)):
        ds = make_dataset(counts, classes, seed=seed + offset)
        arrays[f"{split}_images"] = (ds.images[:, 0].numpy() * 255).round().astype(np.uint8)
        arrays[f"{split}_labels"] = ds.y.numpy()[:, None]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def write_png_csv(
    root: Path, counts_by_site: dict[str, dict[str, int]], classes: Sequence[str], seed: int = 0
) -> Path:
    """PNG files under ``root/images`` and ``root/cases.csv`` (path,label,site)."""
    from PIL import Image

    rows = ["path,label,site"]
    for s, (site, counts) in enumerate(counts_by_site.items()):
        ds = make_dataset(counts, classes, seed=seed + 10 * s)
        for i in range(len(ds)):
            label = classes[int(ds.y[i])]
            name = f"images/{site}_{label}_{i}.png"
            (root / "images").mkdir(parents=True, exist_ok=True)
            pixels = (ds.images[i, 0].numpy() * 255).round().astype(np.uint8)
            Image.fromarray(pixels).save(root / name)
            rows.append(f"{name},{label},{site}")
    (root / "cases.csv").write_text("\n".join(rows) + "\n")
    return root / "cases.csv"


def write_demo(out: str | Path = ".") -> list[Path]:
    """The files the README's image example reads, in ``out``: ``old.npz`` (40 training images
    of each of normal, nodule, mass, and as many to validate and test), ``new.npz`` (cavity
    images, label 3, with some of the old classes) and ``cases.csv`` with PNGs of two sites,
    A and B (30 and 20 images of each old class). Returns their paths.

    >>> import tempfile
    >>> [p.name for p in write_demo(tempfile.mkdtemp())]
    ['old.npz', 'new.npz', 'cases.csv']
    """
    out = Path(out)
    old = write_npz(out / "old.npz", dict.fromkeys(OLD, 40), OLD)
    new = write_npz(out / "new.npz", {"normal": 10, "nodule": 10, "mass": 10, "cavity": 40},
                    [*OLD, "cavity"], seed=7)  # fmt: skip
    cases = write_png_csv(out, {"A": dict.fromkeys(OLD, 30), "B": dict.fromkeys(OLD, 20)}, OLD,
                          seed=3)  # fmt: skip
    return [old, new, cases]
