"""A federated run in Flower's simulation engine on the bundled heart data (three sites): what
travels is only the adapter's tensors, counts and metrics; each site's held-out patients are
the ones ``medadapt adapt`` would hold out there; the adapter is saved like any other; a site
that cannot take part is reported by name."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from medadapt.adapters import AdapterModel
from medadapt.data.heart import bundled_path
from medadapt.errors import DataError
from medadapt.federated.config import FederatedRun
from medadapt.federated.job import federate_job
from medadapt.federated.personal import site_folder
from medadapt.federated.simulate import simulate
from medadapt.federated.sites import read_sites, trainable
from medadapt.modalities.bundle import BaseModel
from tests.cli.helpers import run_cli
from tests.federated.conftest import SITES

pytestmark = pytest.mark.xdist_group("flower")  # one Ray at a time
METRIC_KEYS = {"num-examples", "train-loss", "site-index", "patients-named", "n", "n_positive",
               "n_patients", "auroc", "accuracy", "balanced_accuracy", "sensitivity",
               "specificity", "brier", "shares_brier"}  # fmt: skip


@pytest.fixture(scope="module")
def federated(tmp_path_factory, cleveland_base) -> dict:
    """``medadapt federate simulate`` as a user runs it (what it printed, ``stdout``), and
    the run it made (``run``, ``results`` as federated.json holds them)."""
    root = tmp_path_factory.mktemp("federated")
    data = Path(bundled_path())
    run = FederatedRun(base_dir=cleveland_base, data=data, label="num", group_column="dataset",
                       sites=SITES, id_column="id", method="lora", rounds=2, local_epochs=1,
                       n_boot=50, personalise="head", adapter_options={"r": 8}).check()  # fmt: skip
    ray = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # where Ray keeps its sessions
    # (short: its sockets live there); a trial's three runs left three under /tmp/ray
    before, os.environ["RAY_TMPDIR"] = os.environ.get("RAY_TMPDIR"), str(ray)
    try:
        said = run_cli("federate", "simulate", "--data", data, "--label", "num",
                       "--positive-above", "0", "--id-column", "id", "--group-column",
                       "dataset", "--groups", ",".join(SITES), "--base", cleveland_base,
                       "--method", "lora", "--adapter-options", "r=8", "--personalise", "head",
                       "--rounds", "2", "--local-epochs", "1", "--n-boot", "50", "--workers",
                       "1", "--out", root / "out")  # fmt: skip
    finally:
        if before is None:
            del os.environ["RAY_TMPDIR"]
        else:
            os.environ["RAY_TMPDIR"] = before
        left = sorted(path.name for path in ray.iterdir())
        shutil.rmtree(ray, ignore_errors=True)
    assert said.code == 0, said.stderr
    assert "Traceback" not in said.stdout + said.stderr
    results = json.loads((root / "out" / "federated.json").read_text())
    return {"root": root, "run": run, "results": results, "stdout": said.stdout,
            "ray_left": left}  # fmt: skip


def test_a_simulation_leaves_nothing_in_ray_s_temporary_folder(federated):
    """Ray's session files (sockets, logs) go to a folder of the run's own, removed at its
    end: nothing is left where Ray keeps them."""
    assert federated["ray_left"] == []


def _metric(key: str) -> str:
    """``personal/auroc_low`` -> ``auroc``: which figure a metric key carries."""
    key = key.split("/", 1)[-1]
    return key.removesuffix("_low").removesuffix("_high")


def test_only_adapter_tensors_counts_and_metrics_travel(one_round):
    run, outcome = one_round.run, one_round.outcome
    data = read_sites(run)
    adapter_keys = set(trainable(run, data.modality, data.base).weights())
    assert outcome.messages
    for sent in outcome.messages:
        assert set(sent.records) <= {"arrays", "config", "metrics"}, sent
        if "arrays" in sent.records:
            assert set(sent.records["arrays"][0]) == adapter_keys  # no base weight, no row
        if "metrics" in sent.records:
            assert {_metric(k) for k in sent.records["metrics"][0]} <= METRIC_KEYS, sent
        if "config" in sent.records:
            assert set(sent.records["config"][0]) <= {"server-round", "local-epochs", "final",
                                                       "join"}  # fmt: skip
    n_params = sum(v.numel() for v in data.base.model.state_dict().values())
    arrays = [s.records["arrays"][1] for s in outcome.messages if "arrays" in s.records]
    assert max(arrays) < 0.1 * 4 * n_params  # kilobytes, not the model
    assert {s.direction for s in outcome.messages} == {"to_site", "from_site"}
    assert len([s for s in outcome.messages if s.kind == "train"]) == 2 * len(SITES)
    # what the report says crossed: evaluation sends the adapter again, and the run's totals
    # count every message (the report's per-round figure alone left out the evaluations)
    from medadapt.federated.report import bytes_text
    from medadapt.federated.results import _bytes

    sizes = _bytes(outcome, data.base.model)
    assert sizes["adapter_to_site_per_evaluation"] == sizes["adapter_to_site"] > 0
    trained = len(SITES) * run.rounds * (sizes["adapter_to_site"] + sizes["adapter_from_site"])
    assert sizes["run_to_sites"] + sizes["run_from_sites"] > trained + sizes["adapter_to_site"]
    assert sizes["run_messages"] == len(outcome.messages)
    assert bytes_text(sizes).endswith(
        f" Each evaluation sent a site the adapter again ({sizes['adapter_to_site']:,.0f} bytes) "
        f"to score it on its held-out patients; in all, {sizes['run_to_sites']:,} bytes went to "
        f"the sites and {sizes['run_from_sites']:,} came back, in {len(outcome.messages)} "
        "messages (every record: weights, settings, counts and metrics)."
    )
    # differential privacy (server-side clipping and noise): the same run, another adapter
    private = simulate(replace(run, rounds=1, personalise="none", clipping_norm=0.1,
                               noise_multiplier=1.0), cpus=1)  # fmt: skip
    noise = max(float((private.weights[k] - outcome.weights[k]).abs().max()) for k in adapter_keys)
    assert noise > 1e-4 and all(bool(v.isfinite().all()) for v in private.weights.values())


def test_each_site_is_scored_on_the_patients_adapt_would_hold_out(federated):
    from medadapt.workflows.adapt import adapt_job

    results, root, run = federated["results"], federated["root"], federated["run"]
    adapted = adapt_job(base_dir=run.base_dir, data=run.data, out=root / "hungary",
                        group_column="dataset", group="Hungary", method="lora",
                        test_fraction=run.test_fraction, seed=run.seed, n_boot=10)  # fmt: skip
    site = results["sites"]["Hungary"]
    assert site["n_test"] == adapted["data_summary"]["n_test"]
    assert site["federated"]["n"] == site["n_test"] == site["local"]["n"]
    # every model's counts whole numbers (a trial's federated.json held 19 beside 19.0)
    assert {type(site[model]["n"]) for model in ("federated", "local", "pooled", "base")} == {int}
    assert site["n_train"] == adapted["data_summary"]["n_train"]


def test_results_report_and_adapter_are_written(federated):
    out, results = federated["root"] / "out", federated["results"]
    written = json.loads((out / "federated.json").read_text())
    assert written["config"]["sites"] == list(SITES) and written["config"]["rounds"] == 2
    assert [e["round"] for e in written["rounds"]] == [1, 1, 1, 2, 2, 2]
    assert results["bytes"]["dtype"] == "float32"
    assert 0 < results["bytes"]["share_of_full_model"] < 0.1
    for name in SITES:
        site = written["sites"][name]
        for key in ("federated", "personalised", "local", "pooled", "base"):
            assert 0 <= site[key]["accuracy"] <= 1, (name, key)
        assert site["federated"]["accuracy_low"] <= site["federated"]["accuracy"]
    manifest = json.loads((out / "adapter.json").read_text())
    recorded = manifest["metadata"]["federated"]
    assert set(recorded.pop("by_site")) == set(SITES)  # each site's own figures (the card's)
    assert recorded == {
        "sites": list(SITES), "rounds": 2, "strategy": "fedavg", "local_epochs": 1,
        "personalise": "head", "differential_privacy": False,
    }  # fmt: skip
    assert "Hungary" in (out / "report.html").read_text()
    model = AdapterModel(BaseModel.load(federated["run"].base_dir).model)
    assert model.load_adapter(out) == "federated"
    registry = federated["root"] / "registry"
    assert run_cli("registry", "--root", registry, "add", out, "--name", "fed").code == 0
    card = run_cli("registry", "--root", registry, "show", "fed", "--card").stdout
    assert "| federated | sites Cleveland, Hungary, VA Long Beach; 2 rounds of fedavg; " in card
    table = run_cli("registry", "--root", registry, "show", "fed").stdout
    shown = " ".join(re.sub(r"[│┌┐└┘├┤─┬┴┼]", " ", table).split())  # a wrapped cell, joined
    assert "federated sites Cleveland, Hungary, VA Long Beach; 2 rounds of fedavg;" in shown


def test_the_run_records_its_base_outcome_patients_and_the_site_warnings(federated):
    """A new user's trial: federated.json and report.html said neither what the outcome is,
    nor where the base was trained, nor how many patients trained at each site, and
    ``site_notes`` was [] although the terminal had warned of VA Long Beach's cholesterol of
    0 ("retrain the base with --missing-code chol=0")."""
    out, run = federated["root"] / "out", federated["run"]
    written = json.loads((out / "federated.json").read_text())
    weights = BaseModel.load(run.base_dir).fingerprint.weights
    assert written["base_model"] == {
        "folder": str(run.base_dir.resolve()), "trained_here": False, "weights_sha256": weights,
        "training_groups": {"Cleveland": 243}, "group_column": "dataset", "noun": "rows",
        "label": "num", "outcome": "positive means num > 0 (the base model's --positive-above "
        "0); negative, num 0 or less", "classes": ["0", "1"], "warnings": [],
        "test_kept_out": True,  # its split
        # recognised here; its warnings were said where it was trained
    }  # fmt: skip
    chol = [n for n in written["site_notes"] if n.startswith("site VA Long Beach: column 'chol'")]
    assert chol and "retrain the base with --missing-code chol=0" in chol[0], chol
    report = html.unescape((out / "report.html").read_text())
    counts = "; ".join(f"{name} {site['n_train']} / {site['federated']['n_patients']:.0f}"
                       for name, site in written["sites"].items())  # fmt: skip
    for line in (
        "Outcome: positive means num > 0 (the base model's --positive-above 0); negative, num 0 "
        "or less.",
        f"The base model is --base {run.base_dir.resolve()} (weights sha256 {weights[:12]}); "
        "it records training on 243 rows whose dataset is Cleveland. Cleveland is also a site "
        "here: scored only on patients the base never trained on.",
        f"Patients per site (training / held-out test): {counts}.",
        chol[0],
    ):
        assert line in report, line
    # an id column names the patients at every site: no sentence takes rows for patients
    assert all(site["patients_named"] is True for site in written["sites"].values())
    assert "No id column names the patients" not in report


def test_each_site_sends_the_paired_difference_and_the_report_states_it(federated):
    """Each site's final reply carries the difference and its interval (never scores); the
    difference is the shared adapter's AUROC (the Brier score where a class is too small for
    AUROC) minus the base alone's on the same held-out patients, and the report's verdict is
    the paired one."""
    from medadapt.federated.verdicts import paired_line, verdict_lines

    out = federated["root"] / "out"
    written = json.loads((out / "federated.json").read_text())
    lines = verdict_lines(written)
    compared = set()
    for name, site in written["sites"].items():
        paired = site["versus_base"]
        metric = "auroc" if "auroc" in paired else "brier"
        compared.add(metric)
        assert set(paired) == {metric, f"{metric}_low", f"{metric}_high"}
        shared, base = site["federated"][metric], site["base"][metric]
        assert paired[metric] == pytest.approx(shared - base, abs=1e-9), name
        assert paired[f"{metric}_low"] <= paired[metric] <= paired[f"{metric}_high"]
        assert paired_line(name, site) in lines
        # the adapter the site keeps, compared the same way (a trial's had no verdict)
        own = site["personalised_versus_base"]
        assert own[metric] == pytest.approx(site["personalised"][metric] - base, abs=1e-9), name
        said = paired_line(name, site, key="personalised_versus_base",
                           model=f"{name}'s own head adapter")  # fmt: skip
        assert said in lines and said.startswith(f"At {name}, paired on the same ")
    assert "auroc" in compared  # every site with 5 of each outcome held out
    assert federated["results"]["sites"].keys() == written["sites"].keys()
    report = (out / "report.html").read_text()
    assert "paired on the same" in report and "interval is above the base" not in report


def test_each_site_keeps_its_personalised_adapter_as_an_ordinary_adapter(federated, tmp_path):
    """``--personalise head``: each site's adapter (the shared one with the head it trained on
    its own rows) is saved in ``personalised/<site>/`` with its split; ``evaluate`` scores it on
    exactly the site's held-out patients, with the figures the run reported; the registry's
    card says where and how it was personalised."""
    from safetensors.torch import load_file

    out, results, run = federated["root"] / "out", federated["results"], federated["run"]
    assert results["kept"] == {n: f"personalised/{site_folder(n)}" for n in SITES}
    shared = load_file(out / "adapter.safetensors")
    for name in SITES:
        folder = out / results["kept"][name]
        manifest = json.loads((folder / "adapter.json").read_text())
        assert manifest["name"] == f"federated_{name.lower().replace(' ', '_')}_head"
        metadata = manifest["metadata"]
        assert metadata["data_summary"]["group_column"] == "dataset"
        assert metadata["data_summary"]["group"] == name  # as adapt records it
        assert metadata["personalised"]["site"] == name
        low, high = metadata["metrics"]["accuracy_ci"]  # intervals as adapt records them
        assert low <= metadata["metrics"]["accuracy"] <= high
        assert metadata["personalised"]["how"] == "head"
        assert metadata["intended_use"].startswith(  # a trial's named every site
            f"Research use: the federated adapter personalised at {name}, for {name}'s "
            "patients only")  # fmt: skip
        assert metadata["data_summary"]["n_test"] == results["sites"][name]["n_test"]
        assert metadata["metrics"]["accuracy"] == results["sites"][name]["personalised"]["accuracy"]
        paired = metadata["versus_base"]  # its own comparison, not the shared adapter's
        own = results["sites"][name]["personalised_versus_base"]
        assert paired["difference"] == pytest.approx(own[paired["metric"]], abs=1e-9), name
        assert paired["in_words"].startswith(f"At {name}, paired on the same ")
        assert f"{name}'s own head adapter " in paired["in_words"]
        own = load_file(folder / "adapter.safetensors")
        changed = {k for k in shared if not torch.equal(shared[k], own[k])}
        assert changed and all(k.startswith("head.") for k in changed), name  # its head only
    hungary = results["sites"]["Hungary"]
    result = run_cli("evaluate", "--base", run.base_dir, "--adapter", out / "personalised" /
                     "hungary", "--data", run.data, "--group-column", "dataset", "--group",
                     "Hungary", "--json", tmp_path / "ev.json")  # fmt: skip
    assert result.code == 0, result.stderr
    evaluated = json.loads((tmp_path / "ev.json").read_text())
    assert evaluated["n"] == hungary["n_test"]  # its training rows recognised and left out
    assert evaluated["n_excluded_trained"]["adapter"] == hungary["n_train"]
    for key in ("accuracy", "auroc", "brier"):
        assert evaluated[key] == pytest.approx(hungary["personalised"][key], abs=1e-9), key
    registry = tmp_path / "registry"
    for site in SITES:  # each its own adapter, named by its site, not versions of one
        assert run_cli("registry", "--root", registry, "add", out / results["kept"][site]).code == 0
    listed = run_cli("registry", "--root", registry, "list", "--json").stdout
    for site in ("cleveland", "hungary", "va_long_beach"):
        assert f'"federated_{site}_head"' in listed, listed
    card = " ".join(run_cli("registry", "--root", registry, "show", "federated_hungary_head",
                            "--card").stdout.split())  # fmt: skip
    assert ("2 rounds of fedavg; personalised at Hungary: the shared adapter with a head the "
            "site trained on its own rows |") in card  # fmt: skip


@pytest.mark.slow  # two more simulations (Ray started twice): make test-slow
def test_a_site_that_cannot_take_part_is_named(federated):
    """A site that cannot join stops the run by name, unless ``--on-site-error continue``;
    then, with every other site dropped out, federated.json, the terminal's lines and the
    report say that one site trained the adapter (one simulation each: a third run of two
    sites that took part gave no more than :func:`test_results_report_and_adapter_are_written`
    sees)."""
    from medadapt.federated.site_figures import site_table
    from medadapt.federated.site_lines import run_lines
    from medadapt.federated.verdicts import verdict_lines

    run = replace(federated["run"], sites=("Hungary", "Nowhere"), rounds=1, personalise="none")
    with pytest.raises(DataError) as error:
        simulate(run)
    message = str(error.value)
    assert message.startswith("1 site failed: on joining: site Nowhere: --groups: group "
                              "'Nowhere' not found in column 'dataset'")  # fmt: skip
    assert message.endswith("pass --on-site-error continue to go on without it")
    out = federated["root"] / "hungary_alone"
    results = federate_job(replace(run, on_site_error="continue"), out)
    assert results["sites"]["Nowhere"]["n_test"] == 0 and "local" not in results["sites"]["Nowhere"]
    assert results["sites"]["Hungary"]["federated"]["n"] == results["sites"]["Hungary"]["n_test"]
    assert results["failures"] and "site Nowhere" in results["failures"][0]["error"]
    assert (out / "adapter.json").is_file()
    # a trial: an n = 0 row of dashes for the site, its reason said around it already
    assert [row[0] for row in site_table(results, "auroc")[1]] == ["Hungary"]
    assert run_lines(results)[-1].endswith(
        "; Nowhere none (it did not take part: see the warning about it)."
    )
    assert results["sites_trained"] == ["Hungary"]
    note = results["notes"]["one_site"]
    assert note == ("only Hungary trained the shared adapter (Nowhere dropped out): it is an "
                    "adapter trained at one site, not a federated one; compare it with the "
                    "local-only adapter at Hungary")  # fmt: skip
    written = json.loads((out / "federated.json").read_text())
    assert written["notes"] == {"one_site": note}
    assert verdict_lines(written)[0] == f"Warning: {note}."  # printed by the command
    report = html.unescape((out / "report.html").read_text())
    assert "<h1>A lora adapter trained at Hungary alone</h1>" in report
    assert f"Warning: {note}." in report and "Federated lora adapter" not in report
    # every site trained it: no such note, and the report calls it federated
    assert "one_site" not in federated["results"]["notes"]
    shared = html.unescape((federated["root"] / "out" / "report.html").read_text())
    assert "Federated lora adapter" in shared and "alone</h1>" not in shared


def test_recalibration_at_each_site_shifts_the_shared_adapter_to_its_outcome_rate(one_round):
    """``--personalise recalibrate``: each site's personalised figures are the shared adapter's
    predictions recalibrated in the large on its own training patients, as computed here from
    the weights the run ended with; the ranking (AUROC) is the shared adapter's."""
    from medadapt.evaluate.recalibration import fit_in_the_large
    from medadapt.federated.local import site_metrics
    from medadapt.train.fitting import predict

    run, outcome = one_round.run, one_round.outcome
    data = read_sites(run)
    model = trainable(run, data.modality, data.base)
    model.load(outcome.weights)
    model.freeze()
    classes = data.modality.classes(data.base.schema)
    for entry in outcome.final:
        name = entry["site"]
        train, test = data.train(name), data.test(name)
        fitted = predict(data.modality, model.model, data.base.schema, train,
                         adapter=model.adapter)  # fmt: skip
        shift = fit_in_the_large(fitted, train.labels, "binary")
        scores = shift.apply(predict(data.modality, model.model, data.base.schema, test,
                                     adapter=model.adapter))  # fmt: skip
        expected = site_metrics(data.modality, data.base.schema, test, scores, classes=classes,
                                n_boot=0, seed=run.seed)  # fmt: skip
        for key in ("accuracy", "brier", "auroc"):
            assert entry[f"personal/{key}"] == pytest.approx(expected[key], abs=1e-6), name
        assert entry["personal/auroc"] == pytest.approx(entry["auroc"], abs=1e-9)
        shared = predict(data.modality, model.model, data.base.schema, train,
                         adapter=model.adapter)  # fmt: skip
        plain = site_metrics(data.modality, data.base.schema, test, predict(
            data.modality, model.model, data.base.schema, test, adapter=model.adapter),
            classes=classes, n_boot=0, seed=run.seed)  # fmt: skip
        assert entry["accuracy"] == pytest.approx(plain["accuracy"], abs=1e-9)
        rate = (train.labels.sum() + 0.5) / (len(train) + 1)
        assert abs(shared.mean() - rate) > 0.01  # there was something to recalibrate


def test_adapter_options_set_the_adapter_every_site_trains(federated):
    """``--adapter-options r=2`` (lora): the adapter that travels is built with it at every
    site and in the references; it is carried by the run's JSON to deployed sites."""
    run = federated["run"]
    small_run = replace(run, adapter_options={"r": 2})
    assert FederatedRun.from_json(small_run.to_json()).adapter_options == {"r": 2}
    data = read_sites(run)
    sizes = {}
    for r, which in ((8, run), (2, small_run)):
        built = trainable(which, data.modality, data.base)
        assert built.model.configs[built.adapter].r == r
        sizes[r] = sum(v.numel() for k, v in built.weights().items() if "lora" in k)
    assert sizes[2] * 4 == sizes[8] > 0


def test_the_command_line_runs_a_simulation_and_names_the_personalisation(federated):
    """What ``federate simulate`` prints (the fixture's run): each model's accuracy at 0.5,
    then AUROC, with intervals; what the personalised column means; where each site's own
    adapter is kept; the bytes that travelled. (Recalibration's words: :data:`one_round`
    and the deployment.)"""
    stdout, root = federated["stdout"], federated["root"]
    headers = [line for line in stdout.splitlines() if line.startswith("┃")]
    assert len(headers) == 4  # accuracy at 0.5, then AUROC, of every model, with intervals:
    for header, models in zip(
        headers, [["shared", "own head"], ["local", "pooled", "base"]] * 2, strict=True
    ):  # the federated ones, then the references
        assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["site", "n", *models]
    titles = [line.strip() for line in stdout.splitlines()
              if line.startswith(("accuracy at 0.5", "AUROC"))]  # fmt: skip
    assert titles == ["accuracy at 0.5: federated", "accuracy at 0.5: references",
                      "AUROC: federated", "AUROC: references"]  # fmt: skip
    written = json.loads((root / "out" / "federated.json").read_text())
    assert written["config"]["adapter_options"] == {"r": 8}
    assert written["config"]["personalise"] == "head"
    shared = written["sites"]["Hungary"]["federated"]["accuracy"]
    own = written["sites"]["Hungary"]["personalised"]["accuracy"]
    assert f"{shared:.3f}" in stdout and f"{own:.3f}" in stdout
    report = html.unescape((root / "out" / "report.html").read_text())
    meaning = "own head: the shared adapter with a head the site trained on its own rows."
    assert meaning in " ".join(stdout.split()) and meaning in report
    assert "<th>own head</th>" in report.replace(' scope="col"', "")
    assert "bytes of adapter per site per training round" in stdout
    said = "".join(stdout.split())  # a long path may wrap anywhere
    out = root / "out"
    assert (
        f"eachsite'sownheadadapteriskept(useitwith--adapter):{out}/personalised/cleveland/,"
        f"{out}/personalised/hungary/,{out}/personalised/va_long_beach/"
    ) in said
    assert written["kept"] == {"Cleveland": "personalised/cleveland", "Hungary":
                               "personalised/hungary", "VA Long Beach":
                               "personalised/va_long_beach"}  # fmt: skip
    assert "Each site's own head adapter is saved beside this report (Cleveland: " in report
    kept = json.loads((out / "personalised" / "hungary" / "adapter.json").read_text())
    assert kept["metadata"]["personalised"]["how"] == "head"
    assert kept["metadata"]["metrics"]["accuracy"] == own
