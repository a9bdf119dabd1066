"""A federated regression (a measured outcome: cholesterol in the bundled heart data): each
site sends MAE, RMSE and R² with their intervals, the report and the terminal name them with
their direction and say nothing of AUROC or accuracy, and the site's paired comparison with the
base alone is on MAE, computed from both models' predictions on its held-out rows."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest

from medadapt.adapters import AdapterModel
from medadapt.data.heart import bundled_path
from medadapt.evaluate.paired_difference import paired_difference
from medadapt.evaluate.report.formatting import metric_digits
from medadapt.federated.config import FederatedRun
from medadapt.federated.local import REGRESSION_METRICS, paired_with_base
from medadapt.federated.results import RESULTS
from medadapt.federated.site_lines import measured_line
from medadapt.federated.sites import read_sites
from medadapt.train.fitting import predict
from tests.cli.helpers import run_cli, succeeded

# one Ray at a time; a further simulation (a measured outcome): make test-slow
pytestmark = [pytest.mark.xdist_group("flower"), pytest.mark.slow]
SITES = ("Hungary", "VA Long Beach")
N_BOOT = 50


@pytest.fixture(scope="module")
def regression(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("regression") / "fed"
    said = succeeded(run_cli(
        "federate", "simulate", "--data", bundled_path(), "--label", "chol", "--id-column", "id",
        "--group-column", "dataset", "--groups", ",".join(SITES), "--base-groups", "Cleveland",
        "--rounds", "1", "--local-epochs", "1", "--n-boot", N_BOOT, "--out", out,
    ))  # fmt: skip
    return {"out": out, "stdout": said.stdout, "results": json.loads((out / RESULTS).read_text())}


def _held_out(out: Path) -> dict[str, tuple]:
    """Each site's held-out samples and both models' predictions there, as this process
    computes them from the saved adapter and base (the site's split, as ``adapt`` makes it)."""
    run = FederatedRun(base_dir=out / "base", data=Path(bundled_path()), label="chol",
                       group_column="dataset", sites=SITES, id_column="id")  # fmt: skip
    data = read_sites(run)
    model = AdapterModel(data.base.model)
    assert model.load_adapter(out) == "federated"
    held_out = {}
    for name in SITES:
        test = data.test(name)
        adapted, base = (data.modality.task_scores(data.base.schema, predict(
            data.modality, m, data.base.schema, test, adapter=a))
            for m, a in ((model, "federated"), (data.base.model, None)))  # fmt: skip
        held_out[name] = (test, adapted, base, data.modality.unit)
    return held_out


def test_each_site_sends_mae_rmse_and_r2_with_their_intervals(regression):
    results = regression["results"]
    assert results["task"] == "regression"
    for name in SITES:
        for key in ("federated", "local", "pooled", "base"):
            figures = results["sites"][name][key]
            assert "accuracy" not in figures and "auroc" not in figures, (name, key)
            for metric in REGRESSION_METRICS:
                low, value, high = (figures[f"{metric}{end}"] for end in ("_low", "", "_high"))
                assert low <= value <= high, (name, key, metric)
    shared = [results["sites"][name]["federated"]["mae"] for name in SITES]
    assert results["average"]["federated"]["mae"] == pytest.approx(np.mean(shared))
    assert results["average"]["federated"]["mae_sites"] == len(SITES)


def test_the_figures_and_the_paired_mae_are_those_of_the_held_out_rows(regression):
    """The site's MAE is the saved adapter's on the site's held-out rows; the paired
    difference a site computes (:func:`paired_with_base`) is the adapter's MAE minus the base
    alone's there, with :func:`paired_difference`'s interval."""
    results = regression["results"]
    for name, (test, adapted, base, unit) in _held_out(regression["out"]).items():
        site, y = results["sites"][name], np.asarray(test.labels, dtype=float)
        assert site["federated"]["mae"] == pytest.approx(np.abs(y - adapted).mean(), rel=1e-5)
        assert site["base"]["mae"] == pytest.approx(np.abs(y - base).mean(), rel=1e-5)
        paired = paired_with_base("regression", test.labels, adapted, base, n_boot=N_BOOT,
                                  seed=0, unit=unit, patients=test.known_patients())  # fmt: skip
        assert paired["mae"] == pytest.approx(site["federated"]["mae"] - site["base"]["mae"],
                                              rel=1e-4)  # fmt: skip
        diff = paired_difference(test.labels, adapted, base, metric="mae", n_boot=N_BOOT, seed=0,
                                 unit=unit, patients=test.known_patients())  # fmt: skip
        assert (paired["mae_low"], paired["mae_high"]) == pytest.approx(diff.ci)


def test_each_site_sends_its_paired_mae_difference(regression):
    results = regression["results"]
    for name, (test, adapted, base, unit) in _held_out(regression["out"]).items():
        paired = paired_with_base("regression", test.labels, adapted, base, n_boot=N_BOOT,
                                  seed=0, unit=unit, patients=test.known_patients())  # fmt: skip
        assert results["sites"][name]["versus_base"] == pytest.approx(paired), name


def test_the_report_and_the_terminal_name_the_regression_s_figures(regression):
    results, stdout = regression["results"], " ".join(regression["stdout"].split())
    report = html.unescape((regression["out"] / "report.html").read_text())
    for title in ("Per site: MAE (lower is better)", "Per site: RMSE (lower is better)",
                  "Per site: R²"):  # fmt: skip
        assert title in report
    assert "No AUROC" not in report and "No AUROC" not in stdout
    assert "accuracy at 0.5</h2>" not in report and "mean accuracy" not in report
    for name in SITES:
        site = results["sites"][name]
        line = measured_line(name, site)
        assert line.startswith(f"At {name}, on its {site['n_test']} held-out patients: MAE shared ")
        base, shared = site["base"]["mae"], site["federated"]["mae"]
        assert f"base {base:.{metric_digits('mae', base)}f} (lower is better)" in line
        assert " ".join(line.split()) in stdout  # the terminal wraps its lines
        assert f"{shared:.{metric_digits('mae', shared)}f} (" in report  # a cell, with its CI


def test_a_run_of_one_round_is_warned_of_before_the_rounds(regression):
    """A trial's one-round run was reported as a federated adapter without a word: with one
    round, the shared adapter is an average of local adapters, never trained from it."""
    said = " ".join(regression["stdout"].split())
    assert ("warning: --rounds 1: each site trains once from the base model alone and the "
            "shared adapter is the average of those local adapters, never trained again from "
            "the average; pass --rounds 5 or more (the default is 10) for a federated "
            "adapter") in said  # fmt: skip
