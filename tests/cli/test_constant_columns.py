"""A column the base dropped as constant where it trained, holding other values at a new site.

A trial trained on two sites whose patients were all of one sex (``sex`` dropped: "constant
(every value is 1)") and adapted to a third whose patients were all of the other: nothing at
``check-data``, ``adapt``, ``evaluate`` or ``predict`` said the model could not tell them
apart by it. Here the heart data's ``fbs`` is False at Cleveland and Hungary (the base's
sites) and True in 68 of VA Long Beach's 200 rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import base_on_heart_with, run_cli, succeeded

VA = "VA Long Beach"
SAID = (
    "warning: column 'fbs' was 'False' in every row the model trained on (so it is not one of "
    "its features) and is another value in {n} of {of} rows here: the model cannot tell these "
    "patients apart by it, and its results here rest on patients unlike those it learned from "
    "in this respect"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("constant")
    heart, trained = base_on_heart_with(root, "fbs", False)
    assert "dropped column 'fbs': constant (every value is 'False')" in trained.stdout
    assert "was 'False' in every row" not in trained.stdout  # its own rows: all False
    true_at_va = int((heart.loc[heart["dataset"] == VA, "fbs"] == True).sum())  # noqa: E712
    return {"root": root, "data": root / "heart.csv", "base": root / "base", "va": true_at_va}


def _warned(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if "column 'fbs' was" in line]


def test_every_command_on_the_new_site_says_the_model_never_saw_the_other_value(world):
    site = ("--data", world["data"], "--group-column", "dataset", "--group", VA)
    checked = succeeded(run_cli("check-data", "--base", world["base"], *site))
    assert _warned(checked) == [SAID.format(n=world["va"], of=200)]
    adapted = succeeded(run_cli("adapt", "--base", world["base"], *site, "--method", "head",
                                "--out", world["root"] / "va"))  # fmt: skip
    # once, of the site's rows the adapter trains and is tested on (it was said of the
    # training rows, then again of the held-out ones)
    assert _warned(adapted) == [SAID.format(n=world["va"], of=200)]
    evaluated = succeeded(run_cli("evaluate", "--base", world["base"], "--adapter",
                                  world["root"] / "va", *site))  # fmt: skip
    assert len(_warned(evaluated)) == 1
    va = pd.read_csv(world["data"]).query("dataset == @VA")
    va.drop(columns="num").to_csv(world["root"] / "va.csv", index=False)
    predicted = succeeded(
        run_cli(
            "predict",
            "--base",
            world["base"],
            "--data",
            world["root"] / "va.csv",
            "--out",
            world["root"] / "p.csv",
        )
    )
    assert _warned(predicted) == [SAID.format(n=world["va"], of=200)]
