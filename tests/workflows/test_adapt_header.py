"""``adapt``'s default name and held-out header for groups that are not plain ASCII words."""

from __future__ import annotations

import pytest

from medadapt.cli.main import main
from tests.tables import clinical_table


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("header")
    table = clinical_table(360)
    table["site"] = table["site"].replace({"C": "Zürich"})
    table["sex"] = table["sex"].map({"F": 2.0, "M": 1.0})
    table.to_csv(root / "sites.csv", index=False)
    main(["train-base", "--data", str(root / "sites.csv"), "--label", "outcome",
          "--id-column", "patient_id", "--group-column", "site", "--groups", "A,B",
          "--out", str(root / "base")])  # fmt: skip
    return root


@pytest.mark.parametrize(
    ("column", "group", "header"),
    [("site", "Zürich", "zurich_bottleneck: {n} held-out rows of site = Zürich"),
     ("sex", "2.0", "2_0_bottleneck: {n} held-out rows of sex = 2.0")],
)  # fmt: skip
def test_adapt_names_the_adapter_in_ascii_and_the_group_with_its_column(
    base, capsys, column, group, header
):
    import json

    out = base / f"adapter_{column}"
    main(["adapt", "--base", str(base / "base"), "--data", str(base / "sites.csv"),
          "--label", "outcome", "--group-column", column, "--group", group,
          "--out", str(out), "--json", str(base / f"{column}.json")])  # fmt: skip
    summary = json.loads((base / f"{column}.json").read_text())
    assert summary["name"] == header.split(":")[0]
    printed = " ".join(capsys.readouterr().out.split())  # the title may wrap
    title = header.format(n=summary["data_summary"]["n_test"])  # then the threshold
    threshold = "accuracy, sensitivity, specificity (balanced) at threshold 0.5"
    assert f"{title}; {threshold} ┏" in printed
