"""A study that trains its own base says where the target's rows lie outside what that base
trained on, judged on the target's rows: a trial's site, 61% of it beyond the source's BMI,
was said so by check-data and study --base, not by a study training its own base (its notes
counted the source's rows too, diluting the share below a quarter)."""

from __future__ import annotations

import re

from sklearn.datasets import load_diabetes

from tests.cli.helpers import run_cli, succeeded


def test_a_study_training_its_own_base_says_the_target_lies_outside_it(tmp_path):
    frame = load_diabetes(as_frame=True, scaled=False).frame
    site = ["heavy" if bmi > 30 else "light" for bmi in frame["bmi"]]
    frame = frame.assign(site=site, outcome=(frame["target"] > 140).astype(int))
    frame = frame.drop(columns="target")
    data = tmp_path / "sites.csv"
    frame.to_csv(data, index=False)
    result = succeeded(run_cli(
        "study", "--data", data, "--label", "outcome", "--group-column", "site", "--groups",
        "light", "--group", "heavy", "--seeds", "1", "--fractions", "1", "--methods",
        "base_only,head_only", "--n-boot", "20", "--workers", "1", "--out", tmp_path / "study",
    ))  # fmt: skip
    said = result.stdout + result.stderr
    heavy = int((frame["site"] == "heavy").sum())  # every one: beyond the light site's BMI
    found = re.search(  # (those 6 SDs out: the per-row warning's)
        r"warning: a quarter or more of these rows lie outside the values the base model "
        rf"trained on: 'bmi' in (\d+) of these {heavy} rows",
        " ".join(said.split()),
    )
    assert found and int(found[1]) >= 0.9 * heavy, said
