"""A study whose target group holds one class, or one value of a measured outcome, ran every
strategy and said "more data of this kind would likely help" (a trial), where check-data said
the criteria do not apply: it is refused in one line before any training."""

from __future__ import annotations

import pandas as pd

from medadapt.data.heart import bundled_path
from tests.cli.helpers import error_line, run_cli

VA = "VA Long Beach"
WHERE = ("--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
         "--group", VA, "--seeds", "1")  # fmt: skip
CHECK = f"check --group (the rows of dataset = {VA}) and --label (the outcome read)"


def test_a_target_group_of_one_class_is_refused(tmp_path):
    heart = pd.read_csv(bundled_path())
    heart.loc[heart["dataset"] == VA, "num"] = 0
    heart.to_csv(tmp_path / "h.csv", index=False)
    result = run_cli("study", "--data", tmp_path / "h.csv", "--label", "num", "--positive-above",
                     "0", *WHERE, "--out", tmp_path / "s")  # fmt: skip
    assert error_line(result) == (
        f"error: the 200 rows of dataset = {VA} hold only one class of 'num' ('0'): a study "
        "would train and test every strategy on one answer for all, and no figure could tell "
        f"them apart; {CHECK}"
    )
    assert not (tmp_path / "s").exists()


def test_a_measured_outcome_that_never_varies_at_the_target_is_refused(tmp_path):
    heart = pd.read_csv(bundled_path())
    heart.loc[heart["dataset"] == VA, "age"] = 50
    heart.to_csv(tmp_path / "h.csv", index=False)
    result = run_cli("study", "--data", tmp_path / "h.csv", "--label", "age", *WHERE,
                     "--out", tmp_path / "s")  # fmt: skip
    assert error_line(result) == (
        f"error: the outcome is the same for all 200 rows of dataset = {VA}: there is nothing "
        f"for a study to learn or to measure there; {CHECK}"
    )
    assert not (tmp_path / "s").exists()


def test_a_study_of_a_measured_outcome_speaks_of_rows_and_its_own_intervals(tmp_path):
    """A trial: a regression study printed "events per trainable parameter" and captioned
    its MAE table with accuracy's and AUROC's interval methods."""
    import html

    result = run_cli("study", "--data", bundled_path(), "--label", "age", *WHERE,
                     "--methods", "base_only,head_only", "--fractions", "1", "--workers", "1",
                     "--n-boot", "20", "--out", tmp_path / "s")  # fmt: skip
    assert result.code == 0, result.stderr
    printed = " ".join(result.stdout.split())
    assert "rows per trained parameter (intercepts aside): head-only adapter" in printed
    assert "events per trained parameter" not in printed
    # its base-alone row is the base it trained (a trial compared it with adapt's)
    said = " ".join((result.stdout + result.stderr).split())
    assert ("note: 'base model without adapter' is the base this study trains on --groups, "
            "not a base given with --base: its figures are not those of 'adapt --base' "
            "(another model, perhaps other test rows)") in said  # fmt: skip
    report = html.unescape((tmp_path / "s" / "report.html").read_text())
    assert ("the mean of each seed's 95% CI over test patients: a bootstrap over the patients "
            "(in the outcome's unit))") in report  # fmt: skip
    assert "exact binomial" not in report and "Newcombe" not in report
