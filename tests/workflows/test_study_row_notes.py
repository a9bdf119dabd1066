"""What ``study`` says of the values of the rows it uses counts them among the target
group's rows, as ``check-data`` and ``adapt`` do; the source groups' rows, which its base
trains on, are said as train-base says them (its schema's fitting), not counted again."""

from __future__ import annotations

import pandas as pd

from medadapt.data.heart import bundled_path
from medadapt.modalities import Reading
from medadapt.modalities.base import modality_of
from medadapt.workflows.study import StudyConfig, prepare


def _notes(tmp_path, frame: pd.DataFrame) -> list[str]:
    path = tmp_path / "heart.csv"
    frame.to_csv(path, index=False)
    modality = modality_of("tabular")
    config = StudyConfig(group_column="dataset", source_groups=("Cleveland", "Hungary"),
                         target_group="VA Long Beach", strategies=("head_only",),
                         fractions=(1.0,)).check(modality)  # fmt: skip
    reading = Reading(label="num", group_column="dataset", id_column="id")
    options = modality.options()
    return prepare(modality, path, options, reading, config).warnings


def test_a_far_value_at_the_target_is_counted_among_the_target_s_rows(tmp_path):
    """A trial's study read "1 of 569 rows has a value over 6 SDs" (source and target rows
    together) where check-data read "1 of 114" for the same row."""
    frame = pd.read_csv(bundled_path())
    at_va = frame.index[frame["dataset"] == "VA Long Beach"]
    frame.loc[at_va[3], "chol"] = 40_000.0  # a unit slip
    notes = [n for n in _notes(tmp_path, frame) if "over 6 SDs" in n]
    assert len(notes) == 1
    assert notes[0].startswith(f"1 of {len(at_va)} rows has a value over 6 SDs from the mean ")


def test_the_source_groups_rows_are_not_counted_among_the_target_s(tmp_path):
    """Rows of the base's own groups lacking most features are no part of the target's
    count (the first version said them again, judged against the base they trained)."""
    frame = pd.read_csv(bundled_path())
    in_hungary = frame.index[frame["dataset"] == "Hungary"]
    at_va = frame["dataset"] == "VA Long Beach"
    sparse = ["trestbps", "chol", "fbs", "restecg", "thalch", "exang", "oldpeak", "slope"]
    before = [n for n in _notes(tmp_path, frame) if "lack more than half" in n]
    frame.loc[in_hungary[:2], sparse] = None
    after = [n for n in _notes(tmp_path, frame) if "lack more than half" in n]
    assert after == before and len(after) == 1
    assert after[0].startswith(f"53 of {at_va.sum()} rows lack more than half")
