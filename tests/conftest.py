"""Shared fixtures: tiny models that run in milliseconds on a CPU."""

from __future__ import annotations

from collections import Counter

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


def pytest_configure(config: pytest.Config) -> None:
    """``--dist loadgroup`` hands out the groups in :data:`LONGEST_FIRST`'s order, not
    pytest-xdist's by number of tests (the Makefile says ``--no-loadscope-reorder`` too; a
    run by hand gets the same)."""
    if config.getoption("dist", "no") == "loadgroup":
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``make test``'s ``--dist loadgroup``, a test file without an ``xdist_group`` of
    its own runs on one worker: its module-scoped fixtures (a trained base, a study, a
    server) are built once, not once on each worker. ``tryfirst``: pytest-xdist's own hook
    reads the marks (it adds ``@group`` to each test's id); without it, that hook ran first,
    no file had a group, and a file's tests went to both workers, each building its fixtures
    (measured in CHANGELOG, forty-third session)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    if getattr(config.option, "loadgroup", False):  # a worker of --dist loadgroup (its dist: no)
        items[:] = longest_first(items)


# The groups that take longest, handed out first. pytest-xdist gives a worker the next group
# in collection order when it runs dry (``make test`` passes ``--no-loadscope-reorder``: its
# own order, by number of tests, put the Flower group 22nd, so its nine minutes started late
# and one worker sat idle for minutes at the end; measured in CHANGELOG, forty-second session).
LONGEST_FIRST = ("flower", "tests/workflows/test_demo.py", "serve", "bad_inputs")


def group_of(item: pytest.Item) -> str:
    return item.get_closest_marker("xdist_group").args[0]


def longest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with the groups of :data:`LONGEST_FIRST` first, in that order, then the
    others by their number of tests (most first); a group's tests keep their order."""
    sizes = Counter(group_of(item) for item in items)
    first_seen = {group: index for index, group in reversed(list(enumerate(map(group_of, items))))}

    def rank(item: pytest.Item) -> tuple[int, int, int]:
        group = group_of(item)
        if group in LONGEST_FIRST:
            return LONGEST_FIRST.index(group), 0, 0
        return len(LONGEST_FIRST), -sizes[group], first_seen[group]

    return sorted(items, key=rank)  # stable: a group's tests, and a file's, stay in order
