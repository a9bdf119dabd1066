"""Fixtures: a fresh registry and a factory of distinct tiny adapters."""

from __future__ import annotations

import pytest

from medadapt.registry import Registry
from tests.registry.helpers import make_adapter


@pytest.fixture
def registry(tmp_path) -> Registry:
    return Registry(tmp_path / "registry", create=True)


@pytest.fixture
def adapter_dir(tmp_path):
    """``adapter_dir(seed, **kw)``: a saved adapter whose weights depend on ``seed``."""
    made = {}

    def make(seed: int = 1, **kwargs):
        key = repr((seed, sorted(kwargs.items())))
        if key not in made:
            made[key] = make_adapter(tmp_path / f"adapter-{len(made)}", seed=seed, **kwargs)
        return made[key]

    return make
