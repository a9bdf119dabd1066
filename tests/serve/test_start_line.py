"""``serve`` says "loading N promoted adapter(s) ..." before it imports torch and the models:
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
