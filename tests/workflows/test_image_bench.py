"""The image benchmark scripts still run (tiny settings; slow: not in the default run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_image_adapter_benchmark_prints_its_tables(tmp_path):
    out = tmp_path / "table.md"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run(
        [
            sys.executable,
            "bench_image_adapters.py",
            "--images",
            "32",
            "--depth",
            "3",
            "--top",
            "1",
            "--embed",
            "48",
            "--size",
            "32",
            "--epochs",
            "1",
            "--repeats",
            "1",
            "--out",
            str(out),
        ],
        cwd=ROOT / "bench",
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    text = out.read_text()
    assert text.startswith("machine: ") and "command: python bench_image_adapters.py" in text
    assert "| 8 bottleneck adapters mixed in each batch |" in text
    assert "| head only (cache: all blocks) |" in text
