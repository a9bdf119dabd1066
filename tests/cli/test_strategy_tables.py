"""The demo's strategy tables keep every strategy's name whole on a narrow terminal: rich
folded "fine-tuning" into "fine-tunin" over "g" at 76 columns, "bottleneck" at 70."""

from __future__ import annotations

import pytest

from medadapt.cli.printing import print_strategy_table
from medadapt.workflows.labels import STRATEGY_LABELS

COLUMNS = ["strategy", "n train", "AUROC (95% CI)", "accuracy", "balanced acc.",
           "trainable params"]  # fmt: skip


def _rows() -> list[list]:
    return [[label, 120, "0.63 (0.48–0.75)", "0.71 (0.60–0.81)", "0.51 (0.45–0.59)", 70741]
            for label in STRATEGY_LABELS.values()]  # fmt: skip


@pytest.mark.parametrize("width", [60, 70, 74, 76, 80, 100])
def test_strategy_names_wrap_between_words_only(width):
    from medadapt.cli.common import stdout

    before = stdout.width
    stdout.width = width
    try:
        with stdout.capture() as captured:
            print_strategy_table("VA Long Beach: held-out test patients", COLUMNS, _rows())
    finally:
        stdout.width = before
    lines = captured.get().splitlines()[1:]
    assert all(len(line) <= width and line[-1] in "┓┃┩│┘" for line in lines)  # whole
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("┡")) + 1 : -1]
    names, name = [], []
    for line in body:  # a name's lines end where the next row's figures begin
        cell, figures = line.split("│")[1].strip(), line.split("│")[3].strip()
        if figures.startswith("0.63") and name:
            names.append(" ".join(name))
            name = []
        name += [cell] if cell else []
    names.append(" ".join(name))
    assert names == list(STRATEGY_LABELS.values())  # every word whole, none split
    if width >= 80:
        assert "(0.48–0.75)" in captured.get()  # and the intervals whole
