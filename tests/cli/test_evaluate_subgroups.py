"""``evaluate --subgroups``: the metrics per value of the columns a user names (a trial's
``age_band`` column was neither analysed nor said to be ignored), each value scored as
scikit-learn scores its rows, in the terminal, the JSON and the report alike."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import medadapt as ma
from tests.cli.helpers import run_cli
from tests.cli.workspace import TINY_TABLE, VA


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A base trained at Cleveland and Hungary, an adapter at VA Long Beach, and the heart
    data with columns added since (an age band, a smoker column filled at other sites only, a
    column named as medadapt's own age bands)."""
    root = tmp_path_factory.mktemp("subgroups")
    heart = ma.load_heart_disease()
    heart.to_csv(root / "trained.csv", index=False)  # the models never saw the columns below
    heart["age_band"] = pd.cut(heart["age"], [0, 50, 65, 200], right=False,
                               labels=["<50", "50-64", "65+"]).astype(str)  # fmt: skip
    # filled at the other sites only, and a column named as medadapt's own age bands
    heart["smoker"] = np.where(heart["dataset"] == VA, None, heart["id"] % 2)
    heart["age band"] = heart["age_band"]
    heart["smoking"] = np.where(heart["id"] % 3 == 0, "missing", "never")  # and empty below
    heart.loc[heart["id"] % 3 == 1, "smoking"] = None
    at_va = np.flatnonzero(heart["dataset"] == VA)  # groups of 1, 99, 60 and 40 patients
    heart["ethnicity"] = "elsewhere"
    for group, rows in zip("DABC", np.split(at_va, [1, 100, 160]), strict=True):
        heart.loc[rows, "ethnicity"] = group
    for group in "AC":  # a flag of a group: "this group or not"
        heart[f"is_{group}"] = np.where(heart["ethnicity"] == group, "yes", "no")
    heart.to_csv(root / "heart.csv", index=False)
    heart[heart["dataset"] == VA].to_csv(root / "va.csv", index=False)
    result = run_cli(
        "train-base", "--data", root / "trained.csv", "--label", "num", "--positive-above",
        "0", "--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
        *TINY_TABLE, "--epochs", "5", "--out", root / "base",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    result = run_cli("adapt", "--base", root / "base", "--data", root / "trained.csv",
                     "--group-column", "dataset", "--group", VA, "--epochs", "5", "--out",
                     root / "va")  # fmt: skip
    assert result.code == 0, result.stderr
    return root


def test_each_value_of_a_named_column_is_scored_as_scikit_learn_scores_its_rows(site):
    evaluated = run_cli(
        "evaluate", "--base", site / "base", "--data", site / "heart.csv", "--group-column",
        "dataset", "--group", VA, "--subgroups", "age_band,cp", "--json", site / "e.json",
        "--report", site / "e.html",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    predicted = run_cli("predict", "--base", site / "base", "--data", site / "va.csv", "--out",
                        site / "p.csv", "--score-sparse")  # evaluate scores every row  # fmt: skip
    assert predicted.code == 0, predicted.stderr
    va = pd.read_csv(site / "va.csv")
    risk = pd.read_csv(site / "p.csv").filter(like="p_").iloc[:, 0].to_numpy()
    document = json.loads((site / "e.json").read_text())
    assert document["n"] == len(va) == 200  # the base never saw VA: every row is scored
    bands = document["subgroups"]["age_band"]
    assert set(bands) == {"<50", "50-64", "65+"}
    for band, figures in bands.items():
        rows = (va["age_band"] == band).to_numpy()
        assert figures["n"] == rows.sum()
        assert figures["n_positive"] == (va["num"][rows] > 0).sum()
        expected = roc_auc_score(va["num"][rows] > 0, risk[rows])
        assert figures["auroc"] == pytest.approx(expected, abs=1e-6)
    assert set(document["subgroups"]["cp"]) == set(va["cp"])
    typical = document["subgroups"]["cp"]["typical angina"]  # 5-9 patients: withheld
    assert "auroc" not in typical or typical["auroc"] is None
    said = [line for line in evaluated.stdout.splitlines() if "age_band =" in line]
    assert len(said) == 3 and "50-64" in evaluated.stdout, said  # one row per band
    html = (site / "e.html").read_text()
    assert "age_band with 95% CIs" in html and "<td>50-64</td>" in html
    assert "cp with 95% CIs" in html and "<td>non-anginal</td>" in html
    # each band's n, events and AUROC to 3 decimals, as the terminal's table (a trial: the
    # report had no events and 2 decimals)
    cells = html.replace("> <", "><").replace(' scope="col"', "")
    assert "<th>age_band</th><th>patients</th><th>events</th><th>AUROC (95% CI)</th>" in cells
    middle = bands["50-64"]
    assert (f"<td>50-64</td><td>{middle['n']}</td><td>{middle['n_positive']}</td>"
            f"<td>{middle['auroc']:.3f} (") in cells  # fmt: skip
    # a note of the whole row, without the key it is kept under (a trial's "rounded: ...")
    assert "figures rounded to one decimal" in html and "rounded: figures" not in html


def test_without_the_option_the_column_is_not_reported(site):
    evaluated = run_cli(
        "evaluate", "--base", site / "base", "--data", site / "heart.csv", "--group-column",
        "dataset", "--group", VA, "--json", site / "plain.json",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    document = json.loads((site / "plain.json").read_text())
    assert "age_band" not in document["subgroups"] and "cp" not in document["subgroups"]
    assert set(document["subgroups"]) == {"dataset", "sex", "age band"}


def test_naming_age_or_the_group_column_repeats_no_table(site):
    """``age`` in years is reported in bands already, the group column by group."""
    evaluated = run_cli(
        "evaluate", "--base", site / "base", "--data", site / "heart.csv", "--group-column",
        "dataset", "--group", VA, "--subgroups", "age,dataset,sex", "--json", site / "a.json",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    subgroups = json.loads((site / "a.json").read_text())["subgroups"]
    assert set(subgroups) == {"dataset", "sex", "age band"}
    assert np.isclose(subgroups["dataset"][VA]["n"], 200)
    said = (evaluated.stdout + evaluated.stderr).splitlines()
    notes = [line for line in said if line.startswith("note: --subgroups")]
    assert notes == [  # a trial's group column was left out without a word
        "note: --subgroups 'age' is an age in years: its bands ('age band') are reported "
        "without asking: not repeated",
        "note: --subgroups 'dataset' is the group column (--group-column): its table is "
        "reported without asking: not repeated",
    ]


def test_with_an_adapter_each_named_column_is_compared_with_the_base_alone(site):
    """A trial's ethnicity had the adapter's AUROC only, where sex and the age bands had the
    base's beside it; and the note on columns the model does not read listed it ("train a
    new base to use them")."""
    evaluated = run_cli(
        "evaluate", "--base", site / "base", "--adapter", site / "va", "--data",
        site / "heart.csv", "--group-column", "dataset", "--group", VA, "--subgroups",
        "age_band", "--json", site / "va.json",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    document = json.loads((site / "va.json").read_text())
    assert document["n"] == 60 and document["n_excluded_trained"] == {"adapter": 140}
    adapted, alone = document["subgroups"], document["base_comparison"]["subgroups"]
    assert {"sex", "age band", "age_band"} <= set(alone) <= set(adapted)
    assert {band: figures["n"] for band, figures in alone["age_band"].items()} == {
        band: figures["n"] for band, figures in adapted["age_band"].items()
    }
    assert "age_band" not in document["unread_columns"]
    assert "smoker" in document["unread_columns"]  # not named: still said unread
    assert "age_band" not in evaluated.stdout.split("not read by the model")[-1].split("\n")[0]


@pytest.mark.parametrize(
    "column, says",
    [
        ("smoker", "error: --subgroups 'smoker' is empty in every one of the 200 rows scored: "
         "name a column filled in at this site"),
        ("smoking", "error: --subgroups 'smoking' holds the value 'missing' and empty cells, "
         "which its table would count as one 'missing' row: write that value otherwise in "
         "--data (e.g. 'not recorded'), or fill in the empty cells"),
        ("age band", "error: --subgroups 'age band' has the name of the subgroup medadapt "
         "reports from the column 'age' (in years): rename the column in --data (its table "
         "would read as that one)"),
    ],
)  # fmt: skip
def test_a_column_the_rows_scored_cannot_group_by_is_refused(site, column, says):
    evaluated = run_cli(
        "evaluate", "--base", site / "base", "--data", site / "heart.csv", "--group-column",
        "dataset", "--group", VA, "--subgroups", column, "--json", site / "no.json",
    )  # fmt: skip
    assert evaluated.code == 2 and evaluated.stderr.strip() == says
    assert not (site / "no.json").exists()


def test_flags_of_the_other_groups_do_not_give_a_group_of_one_away(site):
    """A trial: ethnicity suppressed for its group of one, while flags of the other groups
    showed their counts exactly; with the totals, the one patient's outcome was told."""
    evaluated = run_cli(
        "evaluate", "--base", site / "base", "--data", site / "heart.csv", "--group-column",
        "dataset", "--group", VA, "--subgroups", "ethnicity,is_A,is_C", "--json",
        site / "flags.json",
    )  # fmt: skip
    assert evaluated.code == 0, evaluated.stderr
    subgroups = json.loads((site / "flags.json").read_text())["subgroups"]
    assert subgroups["ethnicity"]["D"]["n"] in ("<5", "suppressed")
    exact = [name for name in ("is_A", "is_C")
             if all(isinstance(v["n"], int) for v in subgroups[name].values())]  # fmt: skip
    assert len(exact) < 2, subgroups  # both exact: D is 200 - A - C - B's, B's from is_C
    assert "read with another subgroup table's counts" in evaluated.stdout
