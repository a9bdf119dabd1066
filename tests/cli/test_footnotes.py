"""A command's tables number their footnotes together: a trial's ``adapt`` printed ``[1]``
under its metrics table for "not reported: 3 patients of class '4' ..." and another ``[1]``
under the per-class table below for "the interval reaches 0.50 ...". A note said under an
earlier table keeps its number and is not said again."""

from __future__ import annotations

import contextlib

from medadapt.cli import common
from medadapt.cli.main import main


def _printed(capsys, *tables: list[list[str]]) -> str:
    capsys.readouterr()
    for rows in tables:
        common.print_table("t", ["metric", "value", "note"], rows)
    return capsys.readouterr().out


def test_footnotes_are_numbered_across_a_command_s_tables(capsys):
    few, wide = "not reported: too few patients", "the interval reaches 0.50"
    first = [["AUROC", "n/a", few], ["AUPRC", "n/a", few]]
    second = [["class 1", "0.6", wide], ["class 2", "0.5", wide], ["class 3", "n/a", few],
              ["class 4", "n/a", few]]  # fmt: skip
    common.FOOTNOTES.clear()
    said = _printed(capsys, first, second)
    assert [line for line in said.splitlines() if line.startswith("[")] == [
        f"[1] {few}",
        f"[2] {wide}",
    ]  # [1] kept under the second table, not said again
    rows = [line for line in said.splitlines() if "class" in line]
    assert "[2]" in rows[0] and "[1]" in rows[-1]


def test_each_command_starts_its_footnotes_at_one():
    common.FOOTNOTES.extend(["a note of an earlier command"])
    with contextlib.suppress(SystemExit):
        main(["--help"])
    assert common.FOOTNOTES == []
