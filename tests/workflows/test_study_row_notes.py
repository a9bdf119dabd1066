"""What ``study`` says of the values of the rows it uses counts them among the target
group's rows, as ``check-data`` and ``adapt`` do; the source groups' rows are said apart."""

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


def test_the_source_groups_rows_are_said_apart_and_named(tmp_path):
    """Where the study trains its own base, what the source groups' rows say is said with
    their names (not counted among the target's)."""
    frame = pd.read_csv(bundled_path())
    in_hungary = frame.index[frame["dataset"] == "Hungary"]
    sparse = ["trestbps", "chol", "fbs", "restecg", "thalch", "exang", "oldpeak", "slope"]
    frame.loc[in_hungary[:2], sparse] = None
    notes = _notes(tmp_path, frame)
    source = frame["dataset"].isin(["Cleveland", "Hungary"]).sum()
    said = [n for n in notes if "lack more than half" in n]
    assert said[-1].startswith(
        f"among the rows of --groups Cleveland, Hungary (the base's): 2 of {source} rows lack "
        "more than half of the model's 13 features"
    )
    assert not any(n.startswith("among") for n in said[:-1])
