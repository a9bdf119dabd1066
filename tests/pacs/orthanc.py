"""Start a throwaway Orthanc PACS (Debian packages orthanc + orthanc-dicomweb) for a test.

Its own configuration in a temporary folder: a free loopback HTTP port, no DICOM port, its own
storage, HTTP basic auth with credentials made here, the DICOMweb plug-in at ``/dicom-web/``.
Absent Orthanc skips the tests, or fails them when ``MEDADAPT_REQUIRE_ORTHANC=1`` (CI).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path

import pytest

ORTHANC = Path(shutil.which("Orthanc") or "/usr/sbin/Orthanc")
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
STARTUP_S = 30.0


@dataclass(frozen=True)
class Pacs:
    """A running Orthanc: its DICOMweb root and the credentials it accepts."""

    host: str
    port: int
    user: str
    password: str

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT/dicom-web`` (no credentials)."""
        return f"http://{self.host}:{self.port}/dicom-web"

    def reference(self, *parts: str, auth: bool = True) -> str:
        """``dicomweb+http://USER:PASSWORD@127.0.0.1:PORT/dicom-web[/PARTS...]``."""
        who = f"{self.user}:{self.password}@" if auth else ""
        return "/".join([f"dicomweb+http://{who}{self.host}:{self.port}/dicom-web", *parts])


def require_orthanc() -> None:
    """Fail (CI sets MEDADAPT_REQUIRE_ORTHANC=1) or skip with the reason when absent."""
    if ORTHANC.exists() and PLUGIN.exists():
        return
    message = (
        f"Orthanc and its DICOMweb plug-in are needed ({ORTHANC}, {PLUGIN}: Debian packages "
        "orthanc and orthanc-dicomweb; .ci/run installs them)"
    )
    if os.environ.get("MEDADAPT_REQUIRE_ORTHANC") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(pacs: Pacs) -> bool:
    request = urllib.request.Request(f"http://{pacs.host}:{pacs.port}/system")
    token = b64encode(f"{pacs.user}:{pacs.password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_orthanc(folder: Path) -> tuple[Pacs, subprocess.Popen]:
    """Orthanc on a free loopback port, its storage and log under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pacs = Pacs("127.0.0.1", _free_port(), "medadapt", secrets.token_hex(8))
    config = {
        "Name": "medadapt-test",
        "HttpPort": pacs.port,
        "DicomServerEnabled": False,
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {pacs.user: pacs.password},
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "StableAge": 1,
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = (folder / "orthanc.log").open("wb")
    process = subprocess.Popen(
        [str(ORTHANC), str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + STARTUP_S
    while not _answers(pacs):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            tail = (folder / "orthanc.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"Orthanc did not start within {STARTUP_S:.0f} s; its log ends:\n{tail}")
        time.sleep(0.1)
    return pacs, process


def stop(process: subprocess.Popen) -> None:
    """Terminate, then kill after 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
