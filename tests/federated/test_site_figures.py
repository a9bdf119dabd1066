"""A site with too few held-out rows for any figure (NaN in its results): the report's table
says n/a where it raised (a trial's measured outcome with 7 held-out rows at one site ended
in a traceback after the rounds had run)."""

from __future__ import annotations

import math

from medadapt.federated.site_figures import figure_cell, site_table
from medadapt.results import metric_digits


def test_a_figure_a_site_could_not_have_is_n_a_in_the_table():
    nan = float("nan")
    assert figure_cell({"mae": nan, "mae_low": nan, "mae_high": nan}, "mae") == "n/a"
    assert figure_cell({"mae": 48.912, "mae_low": 40.04, "mae_high": 57.5}, "mae") == (
        "48.9 (40.0–57.5)"
    )
    assert metric_digits("mae", nan) == 3 and metric_digits("mae", math.inf) == 3
    results = {
        "config": {"personalise": "none"},
        "sites": {
            "South": {"n_train": 135, "n_test": 7, "federated": {"mae": nan, "r2": nan}},
            "East": {"n_train": 65, "n_test": 28, "federated": {"mae": 44.71, "r2": 0.532}},
        },
    }
    header, rows = site_table(results, "mae")
    assert header[:3] == ["site", "training patients", "test patients"]
    assert [row[0] for row in rows] == ["South", "East"]
    assert rows[0][3] == "n/a" and rows[1][3] == "44.7"
