"""``study`` says which columns its base leaves out as identifiers, as ``train-base`` does.

The messy-tables trial: a study without --id-column dropped 'patient_id' (repeated values:
several rows per patient, which then fall on both sides of its splits) and 'admit_date' from
its base models, and neither the terminal nor the report said so."""

from __future__ import annotations

import medadapt as ma
from tests.cli.helpers import run_cli, succeeded


def test_study_warns_of_the_identifier_its_base_leaves_out(tmp_path):
    heart = ma.load_heart_disease()
    data = tmp_path / "heart.csv"
    heart.to_csv(data, index=False)
    result = succeeded(run_cli(
        "study", "--data", data, "--label", "num", "--positive-above", "0", "--group-column",
        "dataset", "--groups", "Cleveland,Hungary", "--group", "VA Long Beach", "--seeds", "1",
        "--fractions", "1", "--methods", "head_only", "--workers", "1", "--out", tmp_path / "s",
    ))  # fmt: skip
    assert (
        "warning: column 'id' is not used as a feature: it looks like a record identifier (by "
        "its name); pass --id-column id if it identifies patients, or --numeric id to use it as "
        "a feature"
    ) in result.stdout.splitlines()
