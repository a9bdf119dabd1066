"""Columns kept together with ``--allow-leak`` are one decision, said in one line by every
command: three genuine predictors of the breast-cancer trial were three warnings at ``adapt``
and three more, with a figure rounded differently (0.982 then 0.983), at ``evaluate``."""

from __future__ import annotations

import json
import re

import numpy as np

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE
from tests.tables import clinical_table


def _kept_lines(result) -> list[str]:
    said = result.stdout.splitlines() + result.stderr.splitlines()
    return [line for line in said if "kept deliberately" in line or "kept because of" in line]


def test_columns_kept_together_are_one_line_with_the_same_figures_everywhere(tmp_path):
    frame = clinical_table(300)
    rng = np.random.default_rng(3)
    for k, name in enumerate(["copy_a", "copy_b"]):  # two noisy copies of the label
        frame[name] = frame["outcome"] * (10 + k) + rng.normal(0, 1, len(frame))
    data = tmp_path / "clinic.csv"
    frame.to_csv(data, index=False)
    common = ["--data", data, "--label", "outcome", "--id-column", "patient_id",
              "--group-column", "site"]  # fmt: skip
    keep = ["--allow-leak", "copy_a,copy_b"]
    trained = succeeded(run_cli("train-base", *common, "--groups", "A,B", *QUICK_TABLE, *keep,
                                "--out", tmp_path / "base"))  # fmt: skip
    [said] = _kept_lines(trained)
    assert re.fullmatch(
        r"warning: columns 'copy_a' \(AUROC 1\.000\), 'copy_b' \(AUROC 1\.000\) each "
        r"alone predict 'outcome' almost perfectly; kept because of --allow-leak: results that "
        r"rely on them will not hold where they are unknown",
        said,
    ), said
    shown = re.findall(r"'(copy_\w)' \(AUROC ([\d.]+)\)", said)
    evaluated = succeeded(run_cli("evaluate", "--base", tmp_path / "base", "--data", data,
                                  "--group-column", "site", "--group", "C",
                                  "--json", tmp_path / "e.json"))  # fmt: skip
    [kept] = [line for line in _kept_lines(evaluated) if "kept deliberately" in line]
    figures = ", ".join(f"'{column}' (AUROC {value})" for column, value in shown)
    assert kept == (
        f"warning: columns {figures} were kept deliberately (--allow-leak / allow_leak=) "
        "although on the base model's training rows each alone predicts 'outcome': these "
        "figures may rest on a leak"
    )
    scored = [line for line in evaluated.stdout.splitlines() if "in the rows scored" in line]
    assert len(scored) == 1 and "columns 'copy_a' (AUROC" in scored[0], scored
    assert scored[0].endswith("check they are not copies of the label or values recorded after "
                              "the outcome")  # fmt: skip
    recorded = json.loads((tmp_path / "e.json").read_text())["leak_warnings"]
    assert sorted(recorded) == sorted(line.removeprefix("warning: ") for line in [kept, *scored])
    adapted = succeeded(run_cli("adapt", "--base", tmp_path / "base", "--data", data,
                                "--group-column", "site", "--group", "C", "--method", "head",
                                "--out", tmp_path / "a"))  # fmt: skip
    # a trial's client, given no --allow-leak, read "kept because of --allow-leak"
    said = (
        "almost perfectly; kept because of the base model's --allow-leak (chosen when the "
        "base was trained): results"
    )  # (not "at train-base": simulate trains bases too)
    assert any(said in line for line in _kept_lines(adapted))
