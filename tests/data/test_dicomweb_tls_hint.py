"""``dicomweb+http://`` to a port that speaks TLS: the connection closes without an HTTP
answer, and the error says to write ``https://`` (a trial's was told only to check that the
server is running). A loopback socket that closes every connection stands in for it."""

from __future__ import annotations

import socket
import threading

import pytest

from medadapt.data.dicomweb import DicomwebSource, UnreachableError


@pytest.fixture
def closing_port():
    """A loopback port whose server closes each connection at once, answering nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            connection.recv(1024)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_http_to_a_port_that_answers_no_http_says_to_try_https(closing_port):
    url = f"http://127.0.0.1:{closing_port}/dicom-web"
    source = DicomwebSource(url, retries=1, backoff=0.01, timeout=5)
    with pytest.raises(UnreachableError) as err:
        source.check_root()
    said = str(err.value)
    assert said.startswith(f"cannot reach the DICOMweb server {url} (ConnectionError, 2 tries)")
    assert said.endswith(
        "(it closed the connection without an HTTP answer, as a port that speaks TLS does: if "
        "it does, write dicomweb+https:// in --data)"
    )


def test_a_port_nobody_listens_on_gets_no_tls_hint():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: refused, not closed without an answer
    source = DicomwebSource(f"http://127.0.0.1:{port}/dicom-web", retries=0, timeout=5)
    with pytest.raises(UnreachableError) as err:
        source.check_root()
    assert "TLS" not in str(err.value)


def test_a_server_that_answered_before_gets_no_tls_hint_when_it_drops_a_request(closing_port):
    """A review: an HTTP server that drops a connection mid-run (a crash, a body too large)
    is no TLS port: once it has answered, no hint."""
    source = DicomwebSource(f"http://127.0.0.1:{closing_port}/dicom-web", retries=0, timeout=5)
    source._answered = True  # as after an earlier call of the run was answered
    with pytest.raises(UnreachableError) as err:
        source.check_root()
    assert "TLS" not in str(err.value)
