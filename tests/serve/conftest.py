"""A registry with a base model and promoted adapters, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medadapt.registry import Registry
from medadapt.registry.bases import add_base
from medadapt.workflows.adapt import adapt_job
from medadapt.workflows.train_base import train_base_job
from tests.tables import clinical_table

ADAPTERS = {"site_c": ("C", "bottleneck"), "site_b": ("B", "lora"), "site_a": ("A", "head")}


def build_registry(root: Path, *, extra_versions: int = 0) -> dict:
    data = root / "sites.csv"
    clinical_table(360, seed=11).to_csv(data, index=False)
    base_dir = root / "base"
    train_base_job(
        data=data,
        label="outcome",
        out=base_dir,
        id_column="patient_id",
        group_column="site",
        groups=["A", "B"],
        n_boot=50,
    )
    registry = Registry(root / "registry", create=True)
    add_base(registry.root, base_dir)
    adapters = {}
    for name, (group, method) in ADAPTERS.items():
        out = root / "adapters" / name
        adapt_job(
            base_dir=base_dir,
            data=data,
            label="outcome",
            group_column="site",
            group=group,
            out=out,
            method=method,
            name=name,
            n_boot=50,
        )
        registry.add(out, name=name)
        registry.promote(f"{name}@1")
        adapters[name] = out
    # a second version of site_c (another seed), registered but not promoted, and a second
    # adapter for group C (registered, not promoted: promoting it would make "C" ambiguous)
    second = root / "adapters" / "site_c_v2"
    adapt_job(
        base_dir=base_dir,
        data=data,
        label="outcome",
        group_column="site",
        group="C",
        out=second,
        method="bottleneck",
        name="site_c",
        seed=7,
        n_boot=50,
    )
    registry.add(second, name="site_c")
    other = root / "adapters" / "site_c_ia3"
    adapt_job(
        base_dir=base_dir,
        data=data,
        label="outcome",
        group_column="site",
        group="C",
        out=other,
        method="ia3",
        name="site_c_ia3",
        n_boot=50,
    )
    registry.add(other, name="site_c_ia3")
    return {
        "root": root,
        "data": data,
        "base": base_dir,
        "registry": registry.root,
        "adapters": adapters,
        "second": second,
    }


@pytest.fixture(scope="session")
def served_registry(tmp_path_factory) -> dict:
    return build_registry(tmp_path_factory.mktemp("serve"))


@pytest.fixture
def registry_copy(served_registry, tmp_path):
    """A private copy of the served registry (for tests that change it)."""
    root = tmp_path / "registry"
    shutil.copytree(served_registry["registry"], root)
    return root


@pytest.fixture(scope="session")
def image_registry(tmp_path_factory) -> dict:
    from tests.serve.image_registry import build_image_registry

    return build_image_registry(tmp_path_factory.mktemp("serve-images"))
