"""``serve`` says "loading N promoted adapters ..." before it imports torch and the models:
a trial's background script found no server after 7 s of silence (the first line waited on
``medadapt.serve.image_inputs`` importing torch through the image readers)."""

from __future__ import annotations

import subprocess
import sys


def test_what_serve_reads_before_its_first_line_does_not_import_torch():
    code = (
        "import sys\n"
        "import medadapt.cli.serve, medadapt.serve.image_inputs, medadapt.registry\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_second_server_on_the_address_is_refused_while_the_first_loads(tmp_path):
    """The address is held from the first line on: a second server started while the first
    loaded its models said "serving ..." and then failed with uvicorn's own ERROR line; a
    request sent meanwhile waits, and is answered once they are. Ctrl-C stops it cleanly
    (exit 0, no "interrupted" line: it was asked for)."""
    import os
    import signal
    import threading
    import urllib.request

    from medadapt.federated.deploy import free_port
    from medadapt.registry import Registry

    Registry(tmp_path / "reg", create=True)
    port = free_port()
    command = [sys.executable, "-m", "medadapt.cli", "serve", "--registry", str(tmp_path / "reg"),
               "--port", str(port)]  # fmt: skip
    env = {**os.environ, "MEDADAPT_TOKEN": ""}
    first = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             text=True, env=env)  # fmt: skip
    answered: list[int] = []

    def ask() -> None:  # sent while the models load
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=120) as reply:
            answered.append(reply.status)

    try:
        assert first.stderr.readline().startswith("loading 0 promoted adapters")
        waiting = threading.Thread(target=ask)
        waiting.start()
        second = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
        assert second.returncode == 2, second.stderr
        assert (second.stdout, second.stderr) == ("", (
            f"error: cannot listen on 127.0.0.1:{port} (Address already in use); choose "
            "another --port or --host\n"))  # fmt: skip
        assert first.stderr.readline().startswith("serving 0 promoted adapters")
        waiting.join(timeout=120)
        assert answered == [200]
        first.send_signal(signal.SIGINT)
        _, rest = first.communicate(timeout=60)
        assert first.returncode == 0, rest
        assert "interrupted" not in rest and "Traceback" not in rest
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
