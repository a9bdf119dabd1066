"""What a federated run says when it ends, on the terminal, in the report and on the adapter's
card: differential privacy and what it cost, the base alone's own figures beside the paired
differences in a deployment, and the shared adapter's figures said once to be means over
sites (a new user's trial). No Flower here: what a run's sites sent, summarised."""

from __future__ import annotations

import contextlib
import html
import io
from pathlib import Path

import torch

from medadapt.cli.federate import _print
from medadapt.federated.config import FederatedRun
from medadapt.federated.records import mean_over_sites
from medadapt.federated.results import summarise, write_results
from medadapt.federated.server import FederatedOutcome
from medadapt.registry.card import limitations
from medadapt.registry.records import parse_metrics

SITES = ("North", "South")


def _figures(accuracy: float, auroc: float, n: int = 60, positives: int = 30) -> dict:
    """One model's figures at a site, as a site sends them (with intervals)."""
    return {"n": float(n), "n_positive": float(positives), "n_patients": float(n),
            "accuracy": accuracy, "accuracy_low": accuracy - 0.1,
            "accuracy_high": accuracy + 0.1, "auroc": auroc, "auroc_low": auroc - 0.1,
            "auroc_high": auroc + 0.1, "balanced_accuracy": accuracy, "brier": 0.2}  # fmt: skip


def _deployed(tmp_path: Path, **run: object) -> dict:
    """The results of a deployment's server: each site's final reply holds the shared
    adapter's figures, the base alone's (``base/``) and their paired difference; the server
    has no references of its own (no site's rows)."""
    config = FederatedRun(base_dir=tmp_path, data=None, label=None, group_column=None,
                          sites=SITES, **run).check()  # fmt: skip
    final = []
    for name, (shared, base) in zip(SITES, ((0.80, 0.70), (0.75, 0.72)), strict=True):
        final.append({
            "round": config.rounds + 1, "site": name, **_figures(shared, 0.85),
            **{f"base/{k}": v for k, v in _figures(base, 0.8).items()},
            "versus_base/auroc": 0.05, "versus_base/auroc_low": -0.05,
            "versus_base/auroc_high": 0.15,
        })  # fmt: skip
    outcome = FederatedOutcome(weights={}, rounds=[], final=final, failures=[],
                               train_counts={name: 140 for name in SITES})  # fmt: skip
    return summarise(config, outcome, {}, 12.0, counts={n: (140, 60) for n in SITES},
                     base_model=torch.nn.Linear(2, 1), task="binary")  # fmt: skip


def _printed(results: dict, out: Path) -> str:
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        _print(results, out)
    return said.getvalue()


def test_differential_privacy_is_said_on_the_terminal_as_in_the_report(tmp_path):
    """Only report.html said that DP was on; the terminal's last lines now say it too, with
    the clipping norm, the noise multiplier, who the guarantee covers and its epsilon (a
    trial read "differential privacy was on" as "patients are protected") and where its cost
    would be measured (a run has no twin without it)."""
    results = _deployed(tmp_path, clipping_norm=1.5, noise_multiplier=0.3)
    line = (
        "Differential privacy was on: each site's update clipped to norm 1.5, Gaussian noise "
        "multiplier 0.3 (noise of that many times the clipping norm added to the sum of the "
        "updates each round; Flower's server-side fixed clipping); the guarantee covers each "
        "site as a whole (its updates), not one patient within it: epsilon 99.7 at delta 1e-05 "
        "over the 10 rounds (an epsilon above 10 promises little: a larger --dp-noise, or fewer "
        "rounds, lowers it). Its cost in accuracy at 0.5 was not measured: run the same command "
        "without --dp-clip and --dp-noise and compare the sites' figures."
    )
    printed = _printed(results, tmp_path / "fed").splitlines()
    assert line in printed  # one line, not wrapped
    after = " ".join(" ".join(printed[printed.index(line) + 1 :]).split())  # at the end
    assert after.startswith("0 bytes of adapter per site per training round (0.0% of "
                            "full-model FedAvg); 0 bytes to the sites and 0 back in all "
                            "(training and evaluation)") and "wrote" in after  # fmt: skip
    write_results(results, tmp_path)
    assert line in html.unescape((tmp_path / "report.html").read_text())  # the same words
    assert "Differential privacy" not in _printed(_deployed(tmp_path), tmp_path / "fed")


def test_a_deployment_shows_the_base_alone_beside_the_shared_adapter(tmp_path):
    """The server's table showed the shared adapter's accuracy and a paired difference with
    the base, never the base's own figure, which every site had sent; now it is a column, as
    in the simulation's table (and the report's per-site tables and the adapter's record)."""
    results = _deployed(tmp_path)
    assert results["sites"]["North"]["base"]["accuracy"] == 0.70
    assert results["average"]["base"]["accuracy"] == (0.70 + 0.72) / 2
    printed = _printed(results, tmp_path / "fed")
    header = next(line for line in printed.splitlines() if "site" in line and "shared" in line)
    assert "base" in header, printed
    north = next(line for line in printed.splitlines() if "North" in line and "0.800" in line)
    assert "0.700" in north, printed
    assert "base: no adapter" in " ".join(printed.split())  # the legend names the column
    write_results(results, tmp_path)
    report = html.unescape((tmp_path / "report.html").read_text())
    assert "<th>base</th>" in report and "0.700 (0.600" in report


def test_the_terminal_shows_every_compared_model_s_auroc_not_only_the_shared_one(tmp_path):
    """The terminal's table had each model's accuracy at 0.5 and the shared adapter's AUROC
    only (the base's was in the report): a second table gives every model's AUROC on the same
    patients, in the accuracy table's columns."""
    printed = _printed(_deployed(tmp_path), tmp_path / "fed").splitlines()
    assert printed[0].endswith(
        " local epochs). Each site's held-out patients, with 95% intervals:"
    )  # what ran first (a trial's terminal never said)
    assert printed[0].startswith(("Federated lora adapter over ", "A lora adapter trained at "))
    at = next(i for i, line in enumerate(printed) if line.strip() == "AUROC")
    assert any(line.strip() == "accuracy at 0.5" for line in printed[:at])
    header = next(line for line in printed[at:] if "site" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["site", "n", "shared", "base"]
    north = next(line for line in printed[at:] if "North" in line)
    assert [cell.strip() for cell in north.split("│")[1:-1]][:3] == [
        "North", "60", "0.850 (0.750–0.950)"]  # fmt: skip
    assert _cells(north) == ["North", "60", "0.850", "0.800"]
    accuracy = next(line for line in printed[:at] if "North" in line)
    assert _cells(accuracy) == ["North", "60", "0.800", "0.700"]


def _cells(line: str) -> list[str]:
    """A table line's cells without their intervals (a trial: the terminal's tables had
    none, a 19-patient AUROC as bare as any other)."""
    return [cell.strip().split(" (")[0] for cell in line.split("│")[1:-1]]


def test_a_measured_value_s_tables_show_mae_and_r2_not_dashes_of_accuracy(tmp_path):
    """A regression's sites send MAE, RMSE and R²: its two tables were columns of dashes
    (accuracy and AUROC); they are MAE and R² now."""
    config = FederatedRun(base_dir=tmp_path, data=None, label=None, group_column=None,
                          sites=SITES).check()  # fmt: skip

    def measured(mae: float) -> dict:
        return {"n": 60.0, "n_patients": 60.0, "mae": mae, "mae_low": mae - 5,
                "mae_high": mae + 5, "rmse": mae + 9, "rmse_low": mae, "rmse_high": mae + 20,
                "r2": 0.41, "r2_low": 0.2, "r2_high": 0.6}  # fmt: skip

    pairs = zip(SITES, ((48.91, 55.12), (50.2, 51.0)), strict=True)
    final = [{"round": config.rounds + 1, "site": name, **measured(shared),
              **{f"base/{k}": v for k, v in measured(base).items()}}
             for name, (shared, base) in pairs]  # fmt: skip
    outcome = FederatedOutcome(weights={}, rounds=[], final=final, failures=[],
                               train_counts={name: 140 for name in SITES})  # fmt: skip
    results = summarise(config, outcome, {}, 12.0, counts={n: (140, 60) for n in SITES},
                        base_model=torch.nn.Linear(2, 1), task="regression")  # fmt: skip
    printed = _printed(results, tmp_path / "fed").splitlines()
    titles = [line.strip() for line in printed if line.strip().startswith(("MAE", "R²", "acc"))]
    assert titles[:2] == ["MAE (lower is better)", "R²"]
    north = [line for line in printed if line.startswith("│ North")]
    assert [cell.strip() for cell in north[0].split("│")[1:-1]] == [
        "North", "60", "48.9 (43.9–53.9)", "55.1 (50.1–60.1)"]  # fmt: skip
    assert _cells(north[1]) == ["North", "60", "0.410", "0.410"]


def test_the_card_says_once_that_the_shared_figures_are_means_without_an_interval():
    """The card of a federated adapter said per figure that it was a mean over sites with no
    interval, and again per figure that no interval was recorded: each is said once now; a
    figure fewer sites had names them."""
    sites = {"A": {"federated": {"accuracy": 0.8, "auroc": 0.85, "balanced_accuracy": 0.7,
                                 "brier": 0.1}},
             "B": {"federated": {"accuracy": 0.7, "auroc": float("nan"),
                                 "balanced_accuracy": 0.6, "brier": 0.2}}}  # fmt: skip
    average = {"accuracy": 0.75, "accuracy_sites": 2, "auroc": 0.85, "auroc_sites": 1,
               "balanced_accuracy": 0.65, "balanced_accuracy_sites": 2, "brier": 0.15,
               "brier_sites": 2}  # fmt: skip
    shared = mean_over_sites({"sites": sites, "average": {"federated": average}})
    assert shared["notes"] == {
        "all": "each figure is the unweighted mean of the sites' own figures, each on that "
        "site's held-out patients (2 of 2 sites; fewer where said), not one estimate: each "
        "site's figure, with its 95% interval and n, is in federated.json",
        "auroc": "over 1 of 2 sites only (none at B)",
    }
    said = limitations({"data_summary": {"n_train": 300, "n_test": 120}, "metrics": shared,
                        "limitations": []}, parse_metrics(shared))  # fmt: skip
    assert sum("unweighted mean" in line for line in said) == 1, said
    bare = [line for line in said if "interval recorded" in line]
    assert bare == [
        "No confidence interval recorded for AUROC (0.850), accuracy (0.750), balanced accuracy "
        "(0.650) and Brier score (0.150): treat each as a point estimate of unknown precision."
    ], said


def test_what_ran_names_the_setting_its_strategy_used(tmp_path):
    """A trial's fedprox and fedadam runs said neither mu nor the server's learning rate
    (federated.json alone recorded them)."""
    from medadapt.federated.report import what_ran

    for strategy, said in (("fedprox", "(fedprox (proximal mu 0.1), 10 rounds of "),
                           ("fedadam", "(fedadam (server learning rate 0.05), 10 rounds of "),
                           ("fedavg", "(fedavg, 10 rounds of ")):  # fmt: skip
        results = _deployed(tmp_path, strategy=strategy)
        assert said in what_ran(results), what_ran(results)


def test_a_run_past_its_timeout_names_the_sites_that_had_not_joined(tmp_path):
    """A trial's `federate server --timeout 5` said "are all sites connected?" and named
    none (the join window, half of --timeout, had not closed); with the events the server
    read, it names them."""
    import json

    from medadapt.federated.deploy import _timed_out
    from medadapt.federated.site_events import SiteEvents

    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"event": "joined", "site": "Royal North", "n": 1, "of": 2}) + "\n")
    events = SiteEvents(path)
    events.new()
    assert _timed_out(5, events, ["Royal North", "Clinique Alpes"]) == (
        "the federated run did not finish within --timeout 5 s: Clinique Alpes had not joined "
        "(joined: Royal North); start its client, or raise --timeout"
    )
    assert _timed_out(5, None, ["A", "B"]).startswith(
        "the federated run did not finish within --timeout 5 s: A and B had not joined (none "
        "joined); start their clients"
    )
    path.write_text(path.read_text() + json.dumps({"event": "round", "round": 1, "of": 3}) + "\n")
    events.new()
    assert _timed_out(60, events, ["Royal North", "Clinique Alpes"]) == (
        "the federated run did not finish within --timeout 60 s (round 1 of 3 done): raise "
        "--timeout"
    )
