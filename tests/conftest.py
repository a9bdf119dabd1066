"""Shared fixtures: tiny models that run in milliseconds on a CPU."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield


@pytest.fixture(autouse=True)
def _footnotes_of_this_test():
    """A test that prints tables itself starts its footnotes at [1], as a command does
    (``main`` empties them; a test calling ``print_table`` alone left notes for the next)."""
    from medadapt.cli import common

    common.FOOTNOTES.clear()
    yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``make test``'s ``--dist loadgroup``, a test file without an ``xdist_group`` of
    its own runs on one worker: its module-scoped fixtures (a trained base, a study, a
    server) are built once, not once on each worker. (pytest-xdist reads the mark after this
    hook: its own runs last.)"""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
