"""A tiny image base trained once per session on the synthetic square films (8 'normal', 8
'mass', site A), for the tests of what is said of images unlike its training ones."""

from __future__ import annotations

import pytest

from tests.train.image_data import write_png_csv
from tests.workflows.test_image_cli import TINY, run


@pytest.fixture(scope="session")
def films_base(tmp_path_factory):
    """The folder holding ``base/`` (written by ``train-base``) and the films it trained on."""
    root = tmp_path_factory.mktemp("films")
    csv = write_png_csv(root, {"A": {"normal": 8, "mass": 8}}, ["normal", "mass"])
    assert run("train-base", "--data", str(csv), *TINY, "--epochs", "1",
               "--out", str(root / "base")) == 0  # fmt: skip
    return root
