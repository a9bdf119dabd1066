"""Which subgroups the reports break figures down by: age bands only from ages in years, sex
only from categories or codes (a trial's study of scikit-learn's diabetes set, whose age and
sex are standardised, reported 13 patients "<50" and sex groups named -0.0446 and 0.0507)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

import medadapt as ma
from medadapt.modalities.tabular.samples import subgroup_columns


def test_standardised_age_and_sex_are_no_subgroups():
    diabetes = load_diabetes(as_frame=True).frame
    found = subgroup_columns(diabetes)
    assert "age band" not in found and "sex" not in found
    coded = diabetes.assign(sex=np.where(diabetes["sex"] > 0, 2, 1), age=diabetes["age"] * 200 + 50)
    found = subgroup_columns(coded)
    assert set(found["sex"]) == {"1", "2"}  # codes: groups, as written
    assert set(found["age band"]) <= {"<50", "50-64", ">=65"}


def test_ages_in_years_are_banded_and_sexes_named():
    heart = ma.load_heart_disease()
    found = subgroup_columns(heart, group_column="dataset")
    assert set(found["sex"]) == {"Female", "Male"}
    bands = pd.Series(found["age band"]).value_counts().to_dict()
    assert bands == {
        label: int(((heart["age"] >= low) & (heart["age"] < high)).sum())
        for low, high, label in ((0, 50, "<50"), (50, 65, "50-64"), (65, 200, ">=65"))
    }
