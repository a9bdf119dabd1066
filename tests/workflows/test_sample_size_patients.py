"""Riley et al.'s criteria count patients: with repeat visits (several rows per patient), the
sample-size entries compare the criteria with the distinct patients and say both counts; data
of one row per patient read as before (no training here: the entries, the lines, the card)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medadapt.data.schema import TableSchema
from medadapt.evaluate.samplesize import binding, development
from medadapt.modalities.base import modality_of
from medadapt.modalities.tabular.samples import TableSamples
from medadapt.registry import render_card
from medadapt.workflows.sample_size import (
    CONSERVATIVE_WHY,
    sample_size_line,
    study_sample_size,
    study_sample_size_line,
)

SOURCE = ("Riley et al. Stat Med 2019;38:1276-96 and BMJ 2020;368:m441 (development); "
          "Riley et al. Stat Med 2021;40:4230-51 (external validation)")  # fmt: skip


def _visits(n_patients: int, visits: int) -> pd.DataFrame:
    """``visits`` rows per patient; half the patients have the outcome."""
    rng = np.random.default_rng(0)
    rows = [{"patient": f"P{p:03d}", "age": 40 + p % 30 + v,
             "chol": 200 + int(rng.integers(0, 60)), "y": p % 2}
            for p in range(n_patients) for v in range(visits)]  # fmt: skip
    return pd.DataFrame(rows)


def _samples(frame: pd.DataFrame, id_column: str | None) -> TableSamples:
    schema = TableSchema.infer(frame, label="y", id_column=id_column)
    return TableSamples(frame, schema)


@pytest.fixture(scope="module")
def tabular():
    return modality_of("tabular")


def test_a_study_compares_the_criteria_with_patients_not_visits(tabular):
    """450 training rows from 150 patients: by rows the criteria (385 needed) were met, by
    patients they are not; the test rows likewise (60 rows, 20 patients)."""
    train, test = _samples(_visits(150, 3), "patient"), _samples(_visits(20, 3), "patient")
    entry = study_sample_size(tabular, train.schema, {"head_only": 1}, train, test)
    assert entry is not None
    needed = binding(development(parameters=1, prevalence=0.5, r2_cs=entry["r2_cs"])).n
    assert needed == 385 and 150 < needed <= 450  # rows alone would have met it
    assert entry["strategies"]["head_only"] == {
        "parameters": 1, "criterion": "iii", "n_needed": 385, "met": False}  # fmt: skip
    assert (entry["n_train"], entry["n_train_patients"]) == (450, 150)
    assert (entry["n_test"], entry["n_test_patients"]) == (60, 20)
    assert entry["unit"] == "rows"
    assert study_sample_size_line(entry, "patients") == (
        "sample size (Riley et al., conservative R-squared): minimum patients head-only "
        "adapter 385; the target has 450 rows from 150 patients to train (necessary, not "
        f"sufficient); {CONSERVATIVE_WHY}"
    )
    from medadapt.evaluate.report.html import Report
    from medadapt.workflows.study_report import _sample_size

    report = Report(title="study")
    _sample_size(report, {"sample_size": entry, "config": {"kind": "tabular"}})
    html = " ".join(report.render().split())
    assert "no (450 rows from 150 patients)" in html
    assert "this study holds out 60 rows from 20 patients." in html
    assert "What this means: 20 held-out patients are fewer than needed" in html


def test_one_row_per_patient_reads_as_before(tabular):
    """With an id column but one row each, or no id column, nothing changes: rows are the
    patients, no patient keys are added, and 450 patients meet the 385."""
    for id_column in ("patient", None):
        train, test = _samples(_visits(450, 1), id_column), _samples(_visits(60, 1), id_column)
        entry = study_sample_size(tabular, train.schema, {"head_only": 1}, train, test)
        assert entry["strategies"]["head_only"]["met"] is True
        assert not {"n_train_patients", "n_test_patients", "unit"} & set(entry)
        assert study_sample_size_line(entry, "patients") == (
            "sample size (Riley et al., conservative R-squared): minimum patients head-only "
            f"adapter 385; the target has 450 to train (necessary, not sufficient); "
            f"{CONSERVATIVE_WHY}"
        )


def test_patient_counts_only_where_a_patient_has_several_samples(tabular):
    from medadapt.workflows.sample_size import patient_counts

    repeated, single = _samples(_visits(10, 2), "patient"), _samples(_visits(10, 1), "patient")
    assert patient_counts(tabular, n_train=repeated) == {"n_train_patients": 10, "unit": "rows"}
    assert patient_counts(tabular, n_train=single) == {}
    assert patient_counts(tabular, n_train=_samples(_visits(10, 2), None)) == {}  # not named


ENTRY = {"parameters": 8577, "n_needed": 408297, "criterion": "i", "n_train": 140, "n_test": 60,
         "met": False, "test_needs": {"O/E": 136, "slope": 1884, "C": 444},
         "test_supports": {"O/E": False, "slope": False, "C": False}, "source": SOURCE}  # fmt: skip
PATIENTS = {"n_train_patients": 70, "n_test_patients": 30, "unit": "rows"}


def test_adapts_line_says_rows_and_patients():
    assert sample_size_line({**ENTRY, **PATIENTS}, "rows") == (
        "sample size (Riley et al.): read as a new model, its 8,577 parameters would need "
        "408,297 patients (criterion i); 140 rows from 70 patients trained it (not met: "
        "necessary, not sufficient); precise estimates of observed/expected ratio, calibration "
        "slope and C-statistic at this site need 136, 1,884 and 444 test patients "
        "respectively: the 30 patients (60 rows) here are enough for none of them"
    )
    assert sample_size_line(ENTRY, "rows") == (  # one row per patient: as before
        "sample size (Riley et al.): read as a new model, its 8,577 parameters would need "
        "408,297 rows (criterion i); 140 trained it (not met: necessary, not sufficient); "
        "precise estimates of observed/expected ratio, calibration slope and C-statistic at "
        "this site need 136, 1,884 and 444 test rows respectively: the 60 here are enough for "
        "none of them"
    )


def _card(sample_size: dict) -> str:
    manifest = {"method": "bottleneck", "metadata": {
        "task": "binary", "data_summary": {"n_train": 140, "n_test": 60,
                                           "sample_size": sample_size}}}  # fmt: skip
    return render_card(name="va", version=1, parent=None,
                       registered="2025-03-02T09:00:00+00:00", manifest=manifest)  # fmt: skip


def test_the_card_says_the_patients_behind_the_rows():
    card = _card({**ENTRY, **PATIENTS})
    assert (
        "| sample size | read as a new model, its 8,577 parameters would need 408,297 patients "
        "(criterion i); 140 rows from 70 patients trained it (not met: necessary, not "
        "sufficient) |" in card
    )
    assert (
        "- Tested on 60 rows from 30 patients: too few for a precise observed/expected ratio "
        "(136 needed), calibration slope (1,884 needed) and C-statistic (444 needed); read "
        "the intervals of those estimates, not the single values." in card
    )
    before = _card(ENTRY)  # one row per patient: as before
    assert "140 trained it (not met" in before and "- Tested on 60 patients: too few" in before


def test_a_measured_outcomes_assumed_r_squared_is_said_as_medadapts_own():
    """An audit: study said "Riley et al.'s cautious default R-squared is assumed" for a
    measured outcome, where the 0.1 assumed is medadapt's (Riley et al. give a default for
    binary outcomes only)."""
    entry = {"task": "regression", "r2": 0.1, "n_train": 37, "source": "Riley et al. Stat Med",
             "strategies": {"head_only": {"n_needed": 5359}}}  # fmt: skip
    line = study_sample_size_line(entry, "patients")
    assert line.endswith(
        "the base this study trains is not scored yet, so an R-squared of 0.1 is assumed "
        "(medadapt's cautious choice: Riley et al. give a default for binary outcomes only); "
        "check-data --base, from a trained base's own scores at the target, usually asks fewer"
    )
    assert "Riley et al.'s cautious default" not in line
