"""A study whose held-out test set is too small for any figure is refused before anything
trains: a trial's study of a 15-row site trained every strategy at every size, then said
that nothing could be measured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from tests.cli.helpers import error_line, run_cli

VA = "VA Long Beach"


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    """Cleveland's rows (the study's base) and the first ``n`` of VA Long Beach's, for n in
    (20, 8)."""
    root = tmp_path_factory.mktemp("tiny_site")
    heart = ma.load_heart_disease()
    heart["disease"] = np.where(heart["num"] > 0, "yes", "no")
    heart = heart.drop(columns=["num"])
    paths = {}
    for n in (20, 8):
        va = heart[heart["dataset"] == VA].head(n)
        paths[n] = root / f"va_{n}.csv"
        pd.concat([heart[heart["dataset"] == "Cleveland"], va]).to_csv(paths[n], index=False)
    return paths


def _study(data, out) -> list:
    return ["study", "--data", data, "--label", "disease", "--id-column", "id",
            "--group-column", "dataset", "--groups", "Cleveland", "--group", VA, "--seeds", "1",
            "--fractions", "1", "--out", out]  # fmt: skip


def test_a_test_set_too_small_for_any_figure_is_refused_before_training(small_site, tmp_path):
    out = tmp_path / "s"
    assert error_line(run_cli(*_study(small_site[20], out))) == (
        "error: the held-out test set would hold 6 patients, fewer than the 10 any figure "
        "needs: the study would train every strategy and measure none; raise --test-fraction "
        f"(now 0.3 of the 20 patients of {VA}), or give more target data"
    )
    assert not out.exists()
    assert error_line(run_cli(*_study(small_site[8], out))) == (
        "error: the held-out test set would hold 3 patients, fewer than the 10 any figure "
        f"needs: the study would train every strategy and measure none; {VA} holds 8 "
        "patients in all, fewer than that however they are split: give more target data, or "
        "pick a larger --group"
    )
    assert not out.exists()
    # raised as advised, the test set is large enough and the study runs its points
    raised = run_cli(*_study(small_site[20], out), "--test-fraction", "0.5", "--methods",
                     "base_only", "--n-boot", "20", "--workers", "1")  # fmt: skip
    assert raised.code == 0, raised.stderr
