"""One Orthanc PACS per test session (per xdist worker), stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pacs.orthanc import Pacs, require_orthanc, start_orthanc, stop


@pytest.fixture(scope="session")
def pacs(tmp_path_factory) -> Iterator[Pacs]:
    require_orthanc()
    folder = tmp_path_factory.mktemp("orthanc")
    server, process = start_orthanc(folder)
    try:
        yield server
    finally:
        stop(process)
