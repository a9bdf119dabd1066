"""Tests that share a PACS, a Flower simulation or a served registry carry an ``xdist_group``
mark so that ``make test`` (``--dist loadgroup``) runs each group on one worker, one Ray or
one Orthanc at a time and their module fixtures built once. pytest-xdist does this by
suffixing the test's node id with ``@<group>``; pytest 9.2 reads node ids from elsewhere, so
the suffix was silently lost and every group split over both workers (fixtures built twice,
two Ray clusters at once). This fails if that happens again."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("worker_groups_probe")
def test_a_grouped_test_is_scheduled_with_its_group(request):
    if getattr(request.config.option, "loadgroup", False):  # `make test`: -n 2 --dist loadgroup
        assert request.node.nodeid.endswith("@worker_groups_probe"), request.node.nodeid
    else:
        assert "@" not in request.node.nodeid


def test_make_test_hands_out_the_longest_groups_first(request):
    """``make test`` starts the groups of ``LONGEST_FIRST`` first (the Flower group, nine
    minutes, had started 22nd by pytest-xdist's own order and ended a run alone)."""
    from tests.conftest import LONGEST_FIRST, group_of

    if getattr(request.config.option, "loadgroup", False):
        groups = list(dict.fromkeys(group_of(item) for item in request.session.items))
        present = [group for group in LONGEST_FIRST if group in groups]
        assert groups[: len(present)] == present, groups[:6]


def test_a_file_without_a_group_of_its_own_is_one_group(request):
    """The file's own group (tests/conftest.py) reaches pytest-xdist's node ids: added after
    pytest-xdist had read the marks, it never did, and a file's tests went to both workers,
    each building the file's module fixtures (a study, a trained base, twice)."""
    if getattr(request.config.option, "loadgroup", False):
        assert request.node.nodeid.endswith("@tests/test_worker_groups.py"), request.node.nodeid
    else:
        assert "@" not in request.node.nodeid
