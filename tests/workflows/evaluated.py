"""What the image-key tests read back: an ``evaluate --json`` run's result, and the training
splits a base and its adapter recorded (``root/base``, ``root/adapter``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import run_cli, succeeded


def evaluate_json(root: Path, data: Path, name: str, *, adapter: bool = True) -> dict:
    """``medadapt evaluate`` of ``root/base`` (with ``root/adapter`` unless ``adapter`` is
    False) on ``data``: its JSON result, written to ``root/NAME.json``."""
    out = root / f"{name}.json"
    argv = ["evaluate", "--base", root / "base", "--data", data, "--json", out]
    if adapter:
        argv[3:3] = ["--adapter", root / "adapter"]
    succeeded(run_cli(*argv))
    return json.loads(out.read_text())


def recorded_splits(root: Path) -> tuple[dict, dict]:
    """The split ``root/base`` recorded in its model.json, and ``root/adapter``'s split.json."""
    base = json.loads((root / "base" / "model.json").read_text())["training"]["split"]
    return base, json.loads((root / "adapter" / "split.json").read_text())
