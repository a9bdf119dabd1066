"""A column the base dropped as empty where it trained, recorded at a new site.

A trial's federated site held a column complete that the base model, trained at another
site where nobody recorded it, had dropped as empty: nothing said the model could not read
it there. Here the heart data's ``thalch`` (maximum heart rate) is blanked at Cleveland and
Hungary (the base's sites); VA Long Beach records it in 147 of its 200 rows."""

from __future__ import annotations

import pandas as pd
import pytest

from medadapt.data.schema import TableSchema
from medadapt.modalities.tabular.findings import empty_where_trained_warnings
from tests.cli.helpers import base_on_heart_with, run_cli, succeeded

VA = "VA Long Beach"
SAID = (
    "column 'thalch' was empty in every row the model trained on (so it is not one of its "
    "features) and is recorded in {n} of {of} rows here: the model does not read it; to use "
    "it, train a base model on rows that record it"
)


def test_only_a_column_recorded_here_is_said():
    source = pd.DataFrame({"lab": [None] * 6, "age": [40, 50, 60, 45, 55, 65],
                           "y": [0, 1, 0, 1, 0, 1]})  # fmt: skip
    schema = TableSchema.infer(source, label="y")
    assert schema.dropped == {"lab": "all values missing"}
    here = pd.DataFrame({"lab": [1.5, None, float("nan"), 2.0], "age": [1, 2, 3, 4]})
    assert empty_where_trained_warnings(schema, here) == [
        SAID.replace("thalch", "lab").format(n=2, of=4)
    ]
    assert empty_where_trained_warnings(schema, here.assign(lab=None)) == []
    assert empty_where_trained_warnings(schema, here.drop(columns="lab")) == []


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("empty_where_trained")
    heart, trained = base_on_heart_with(root, "thalch", None)
    assert "was empty in every row" not in trained.stdout  # its own rows: all empty
    recorded = int(heart.loc[heart["dataset"] == VA, "thalch"].notna().sum())
    return root, recorded


def test_check_data_and_adapt_at_the_new_site_say_the_model_does_not_read_it(world):
    root, recorded = world
    site = ("--data", root / "heart.csv", "--group-column", "dataset", "--group", VA)
    checked = succeeded(run_cli("check-data", "--base", root / "base", *site))
    assert f"warning: {SAID.format(n=recorded, of=200)}" in checked.stdout.splitlines()
    adapted = succeeded(run_cli("adapt", "--base", root / "base", *site, "--method", "head",
                                "--out", root / "va"))  # fmt: skip
    said = [line for line in adapted.stdout.splitlines() if "'thalch' was empty" in line]
    assert said == [f"warning: {SAID.format(n=recorded, of=200)}"]  # once, of the site's rows
