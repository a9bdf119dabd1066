"""A site whose labels are swapped is said to be one at adapt, not recommended an adapter.

The images trial: at site B with its two classes exchanged, adapt printed "base model alone
on the same 60 images: AUROC 0.270 (0.135-0.480)" and "the adapter changes AUROC by +0.721
... ranks patients by risk better" without a word on the base ranking the site backwards,
which check-data and evaluate say."""

from __future__ import annotations

import re

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE
from tests.tables import clinical_table


def test_adapt_says_the_base_ranks_the_site_backwards(tmp_path):
    frame = clinical_table(600, seed=4)
    at_b = frame["site"] == "B"
    frame.loc[at_b, "outcome"] = 1 - frame.loc[at_b, "outcome"]  # the classes exchanged at B
    data = tmp_path / "swapped.csv"
    frame.to_csv(data, index=False)
    common = ["--data", data, "--label", "outcome", "--id-column", "patient_id",
              "--group-column", "site"]  # fmt: skip
    succeeded(run_cli("train-base", *common, "--groups", "A", *QUICK_TABLE,
                      "--out", tmp_path / "base"))  # fmt: skip
    adapted = succeeded(run_cli("adapt", "--base", tmp_path / "base", *common[:2], "--group-column",
                                "site", "--group", "B", "--out", tmp_path / "b"))  # fmt: skip
    lines = adapted.stdout.splitlines()
    [said] = [line for line in lines if "ranks these" in line and "base model alone" in line]
    assert re.fullmatch(
        r"warning: the base model alone ranks these \d+ rows backwards \(AUROC 0\.\d{3}, 95% CI "
        r"up to 0\.[0-4]\d\d\), worse than chance: are the labels, or the positive class, "
        r"swapped here\? An adapter that does better than the base may only have learnt the "
        r"swap: check the labels before using it",
        said,
    ), said
    base_line = next(i for i, line in enumerate(lines) if line.startswith("base model alone"))
    assert lines[base_line + 1] == said  # right under the base's figure
