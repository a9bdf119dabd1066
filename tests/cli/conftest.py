"""The bad-input workspace, built once per session (both bad-input modules share it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.workspace import build


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("bad_inputs")
    return root, build(root)
