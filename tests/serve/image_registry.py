"""A registry with a tiny image base model (ViT depth 2, 32 px) and three promoted adapters,
one per site, plus a registered second version of site_c and an adapter that adds a class;
and sample files in every format the service takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medadapt.modalities.images.options import ImageOptions
from medadapt.registry import Registry
from medadapt.registry.bases import add_base
from medadapt.workflows.adapt import adapt_job
from medadapt.workflows.train_base import train_base_job
from tests.data.makers import disc, write_dicom, write_nifti, write_picture
from tests.train.image_data import write_png_csv

CLASSES = ("normal", "nodule")
SITES = {"site_a": ("A", "bottleneck"), "site_b": ("B", "lora"), "site_c": ("C", "ia3")}
TINY = ImageOptions(image_size=32, backbone_options="depth=2,embed_dim=32,num_heads=2", epochs=2)


def build_image_registry(root: Path) -> dict:
    counts = {site: {"normal": 12, "nodule": 12} for site in ("A", "B", "C")}
    counts["D"] = {"normal": 10, "nodule": 10, "mass": 12}
    data = write_png_csv(root / "data", counts, (*CLASSES, "mass"))
    base_csv = root / "data" / "base.csv"  # the base knows two classes only
    lines = data.read_text().splitlines()
    base_csv.write_text("\n".join(line for line in lines if ",mass," not in line) + "\n")
    train_base_job(data=base_csv, out=root / "base", options=TINY, label="label",
                   group_column="site", groups=["A"], n_boot=20)  # fmt: skip
    registry = Registry(root / "registry", create=True)
    add_base(registry.root, root / "base")
    adapters = {}
    quick = ImageOptions(epochs=2)
    jobs = [(name, site, method, 0) for name, (site, method) in SITES.items()]
    for name, site, method, seed in [*jobs, ("site_c", "C", "ia3", 7)]:
        out = root / "adapters" / f"{name}_{seed}"
        adapt_job(base_dir=root / "base", data=base_csv, out=out, options=quick, label="label",
                  group_column="site", group=site, method=method, name=name, seed=seed,
                  n_boot=20)  # fmt: skip
        registry.add(out, name=name)
        adapters.setdefault(name, out)
    grown = root / "adapters" / "site_d"
    adapt_job(base_dir=root / "base", data=data, out=grown, label="label", group_column="site",
              group="D", method="lora", name="site_d", n_boot=20,
              options=ImageOptions(epochs=2, new_classes="mass", compare_full=False))  # fmt: skip
    registry.add(grown, name="site_d")
    adapters["site_d"] = grown
    for name in (*SITES, "site_d"):
        registry.promote(f"{name}@1")
    return {"root": root, "base": root / "base", "registry": registry.root,
            "adapters": adapters, "second": root / "adapters" / "site_c_7",
            "files": sample_files(root / "files")}  # fmt: skip


def sample_files(folder: Path) -> dict[str, Path]:
    """A PNG, a JPEG, a DICOM file, a 2D NIfTI image and a NIfTI volume (middle slice read);
    the pictures as bright, contrasted and grainy as the base's training images (nothing said
    of their look)."""
    rng = np.random.default_rng(3)
    volume = rng.uniform(0, 100, (20, 24, 5)).astype(np.float32)
    return {
        "png": write_picture(folder / "chest.png", disc(40, 110, seed=1, noise=40)),
        "jpeg": write_picture(folder / "photo.jpg", disc(28, 90, seed=2, noise=40)),
        "dicom": write_dicom(folder / "ct.dcm", disc(36, 180, seed=3).astype(np.uint16) * 8),
        "nifti": write_nifti(folder / "slice.nii.gz", disc(30, 150, seed=4).astype(np.float32)),
        "volume": write_nifti(folder / "volume.nii", volume),
    }
