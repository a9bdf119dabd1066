"""The examples in the docstrings are run: an example that no longer holds is a defect (one
said "(1..40)" after the identifier reason stopped giving record-number ranges)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
WITH_EXAMPLES = sorted(
    ".".join(path.relative_to(SOURCE).with_suffix("").parts)
    for path in (SOURCE / "medadapt").rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8")
)


def test_the_modules_with_examples_are_found():
    assert "medadapt.evaluate.report.formatting" in WITH_EXAMPLES and len(WITH_EXAMPLES) >= 20


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_the_docstring_examples_hold(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail"
