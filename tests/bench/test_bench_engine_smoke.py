"""The engine benchmark script runs end to end on a tiny config (so it cannot rot)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_engine.py"


@pytest.fixture(scope="module")
def bench_engine():
    spec = importlib.util.spec_from_file_location("bench_engine", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.mark.timeout(60)
def test_tiny_run_prints_every_row_and_ratio(bench_engine, tmp_path, capsys):
    argv = "--model tiny --steps 1 --warmup 0 --train-batch 2 --infer-batch 8 --n-adapters 3"
    argv = [*argv.split(), "--json", str(tmp_path / "r.json")]
    result = bench_engine.main(argv)

    table = capsys.readouterr().out
    for key in ("machine:", "date:", "command: `python bench/bench_engine.py --model tiny"):
        assert key in table
    for label in bench_engine.TRAIN_ROWS.values():
        assert f"| {label} |" in table
    for label in bench_engine.INFER_ROWS.values():
        assert f"| {label.format(n=3)} |" in table
    expected = {f"train/{k}" for k in bench_engine.TRAIN_ROWS}
    expected |= {f"infer/{k}" for k in bench_engine.INFER_ROWS}
    assert set(result["rows"]) == expected
    assert all(row["img_per_s"] > 0 for row in result["rows"].values())
    assert all(result["rows"][k]["peak_bytes"] > 0 for k in expected if k.startswith("train/"))

    ratios = result["ratios"]
    assert set(ratios) == {name for name, *_ in bench_engine.RATIOS}
    for name, ratio in ratios.items():
        assert ratio["value"] is not None and ratio["value"] > 0, name
        assert ratio["verdict"] in ({"pass", "miss"} if ratio["target"] else {"info"}), name
        assert f"| {name}: " in table
    assert json.loads((tmp_path / "r.json").read_text())["ratios"] == ratios
