"""A base written over with ``train-base --force``: its adapters' refusal said to "pass
--base" the very folder passed (a trial's self-contradictory error)."""

from __future__ import annotations

from medadapt.data.heart import bundled_path
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE


def test_an_adapter_of_a_base_written_over_says_so(tmp_path):
    base, adapter = tmp_path / "base", tmp_path / "ch"
    train = ("train-base", "--data", bundled_path(), "--label", "num", "--positive-above", "0",
             "--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
             *QUICK_TABLE, "--out", base)  # fmt: skip
    succeeded(run_cli(*train))
    succeeded(run_cli("adapt", "--base", base, "--data", bundled_path(), "--group",
                      "Switzerland", "--out", adapter))  # fmt: skip
    succeeded(run_cli(*train, "--seed", "2", "--force"))
    said = error_line(run_cli("evaluate", "--base", base, "--adapter", adapter, "--data",
                              bundled_path(), "--group", "Switzerland"))  # fmt: skip
    assert said.endswith(
        f"load the base model it was trained on (the one then in {base}, since written over "
        "by another base model: adapt again on this one, or restore that base)"
    )
    assert "pass --base" not in said
