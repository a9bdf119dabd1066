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
