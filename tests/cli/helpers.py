"""Run the ``medadapt`` command line in this process and capture what it prints."""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass

import pandas as pd

from medadapt.cli.main import LogFormat, main


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> CliResult:
    """``medadapt ARGV`` in-process: exit code, stdout and stderr (log records included)."""
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(LogFormat())  # as the command formats them
    root = logging.getLogger()
    root.addHandler(handler)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in argv])
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        root.removeHandler(handler)
    return CliResult(code, out.getvalue(), err.getvalue())


def succeeded(result: CliResult) -> CliResult:
    """``result`` of a command that must succeed: exit 0 and no traceback."""
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result


def error_line(result: CliResult) -> str:
    """The one ``error:`` line of a command refused for bad input (exit 2, no traceback)."""
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def base_on_heart_with(root, column: str, value) -> tuple[pd.DataFrame, CliResult]:
    """The bundled heart file in ``root/heart.csv`` with ``column`` set to ``value`` at
    Cleveland and Hungary, and a tiny base trained there into ``root/base``: the file as
    written and what ``train-base`` said (it must succeed)."""
    from medadapt.data.heart import bundled_path
    from tests.cli.workspace import QUICK_TABLE  # (the workspace imports this module)

    heart = pd.read_csv(bundled_path())
    heart.loc[heart["dataset"].isin(["Cleveland", "Hungary"]), column] = value
    heart.to_csv(root / "heart.csv", index=False)
    trained = succeeded(run_cli("train-base", "--data", root / "heart.csv", "--label", "num",
                                "--positive-above", "0", "--id-column", "id", "--group-column",
                                "dataset", "--groups", "Cleveland,Hungary", *QUICK_TABLE,
                                "--out", root / "base"))  # fmt: skip
    return heart, trained
