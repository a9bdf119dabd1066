"""What ``show``, ``diff`` and ``add`` print: figures with the decimals the data support, the
adapter against the base model, two versions that predict different outcomes, and the next
step when a base model is missing."""

from __future__ import annotations

import json
import re

import pytest

from medadapt.registry import Registry
from tests.registry.helpers import DATA_SUMMARY, metadata


def _rows(out: str) -> list[list[str]]:
    """A printed table's rows (its header too), as lists of cell texts."""
    return [[c.strip() for c in re.split("[│┃]", line)[1:-1]] for line in out.splitlines()]


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # no wrapped cells


def test_diff_gives_a_change_the_decimals_of_its_values(cli, adapter_dir):
    """A trial: 'diff east@1 east@2' showed the change of an MAE from 38.5 to 36.8 as
    -1.681; another's AUROC 0.974 -> 0.998 as +0.025 (from the unrounded values): the change
    is that of the values as printed, so the row adds up."""
    for seed, (mae, ci) in enumerate(((38.54, [31.2, 45.9]), (36.86, [29.9, 44.0])), 1):
        meta = metadata(task="regression", label="progression",
                        metrics={"mae": mae, "mae_ci": ci, "n": 60})  # fmt: skip
        cli("add", str(adapter_dir(seed, meta=meta)), "--name", "east")
    out, _ = cli("diff", "east@1", "east@2")
    assert [r for r in _rows(out) if r and r[0] == "MAE"] == [
        ["MAE", "38.5 (31.2–45.9)", "36.9 (29.9–44.0)", "-1.6", "yes"]  # unrounded: -1.68
    ]
    for seed, auroc in ((3, 0.7812), (4, 0.8034)):  # a score between 0 and 1: three decimals
        meta = metadata(metrics={"auroc": auroc, "auroc_ci": [0.7, 0.9]})
        cli("add", str(adapter_dir(seed, meta=meta)), "--name", "heart")
    out, _ = cli("diff", "heart@1", "heart@2")
    assert [r for r in _rows(out) if r and r[0] == "AUROC"] == [
        ["AUROC", "0.781 (0.700–0.900)", "0.803 (0.700–0.900)", "+0.022", "yes"]
    ]
    for seed, auroc in ((5, 0.9736), (6, 0.9984)):  # unrounded: +0.0248
        meta = metadata(metrics={"auroc": auroc, "auroc_ci": [0.9, 1.0]})
        cli("add", str(adapter_dir(seed, meta=meta)), "--name", "south")
    out, _ = cli("diff", "south@1", "south@2")
    assert [r for r in _rows(out) if r and r[0] == "AUROC"] == [
        ["AUROC", "0.974 (0.900–1.000)", "0.998 (0.900–1.000)", "+0.024", "yes"]
    ]


def test_show_rounds_the_prevalence_and_the_anticipated_r_squared(cli, adapter_dir):
    """A trial: 'show' printed "training prevalence 0.7429" (26 of 35 rows) and "Cox-Snell
    R-squared 0.1194"."""
    sample_size = {
        "parameters": 120, "n_needed": 300, "criterion": "i", "n_train": 35, "met": False,
        "r2": 0.1194, "r2_label": "Cox-Snell R-squared", "r2_source": "anticipated",
    }  # fmt: skip
    summary = {**DATA_SUMMARY, "n_train": 35, "n_positive": 26, "prevalence": 0.7429,
               "sample_size": sample_size}  # fmt: skip
    cli("add", str(adapter_dir(1, meta=metadata(data_summary=summary))), "--name", "east")
    rows = {r[0]: r[1] for r in _rows(cli("show", "east@1")[0]) if len(r) == 2}
    assert rows["data: training prevalence"] == "0.74"
    assert rows["data: sample size basis"] == "Cox-Snell R-squared 0.119, anticipated"
    meta = metadata(data_summary={**summary, "n_positive": 25, "prevalence": 0.7143})
    cli("add", str(adapter_dir(2, meta=meta)), "--name", "east")
    changed = {r[0]: r[1:] for r in _rows(cli("diff", "east@1", "east@2")[0]) if len(r) == 3}
    assert changed["data: training prevalence"] == ["0.74", "0.71"]
    # from the counts, not the stored share rounded again (a trial's card: 5 of 87 printed
    # 0.058 from 0.0575, beside the sample-size line's 0.057)
    rare = {**summary, "n_train": 87, "n_positive": 5, "prevalence": 0.0575}
    cli("add", str(adapter_dir(3, meta=metadata(data_summary=rare))), "--name", "rare")
    rows = {r[0]: r[1] for r in _rows(cli("show", "rare@1")[0]) if len(r) == 2}
    assert rows["data: training prevalence"] == "0.057"


def test_show_says_how_the_adapter_did_against_the_base_model(cli, adapter_dir):
    """A trial: 'show --card' and 'adapt' said "Paired on the same patients, the adapter
    changes AUROC by ...", 'show' did not."""
    said = (
        "Paired on the same patients, the adapter changes AUROC by +0.046 (95% CI +0.010 to "
        "+0.080): it ranks them better than the base model alone."
    )
    ignored = "the adapter calls no patient positive, where the base model alone called 3"
    paired = {"metric": "auroc", "difference": 0.046, "ci": [0.01, 0.08], "verdict": "better",
              "in_words": said, "warnings": [ignored]}  # fmt: skip
    cli("add", str(adapter_dir(1, meta=metadata(versus_base=paired))), "--name", "east")
    rows = [r for r in _rows(cli("show", "east@1")[0]) if len(r) == 2]
    assert [r for r in rows if "base model" in r[0] and r[0] != "base model"] == [
        ["against the base model alone", said],
        ["(!) against the base model", ignored],
    ]
    assert said in " ".join(cli("show", "east@1", "--card")[0].split())  # what the card says
    cli("add", str(adapter_dir(2)), "--name", "older")  # recorded none: no such row
    assert "against the base" not in cli("show", "older@1")[0]
    # promote repeats it (a trial's "calls none of these 37 negative" reached show only)
    out, err = cli("promote", "east@1")
    assert f"warning: east@1: {ignored}" in " ".join((out + err).split())


def test_diff_of_two_outcomes_says_so_and_shows_no_change(cli, adapter_dir):
    """A trial: 'diff east@1 riverside@1' (a regression on progression, a yes/no on diagnosis,
    on two base models) printed a change column and warned only of other test rows."""
    east = metadata(task="regression", label="progression",
                    metrics={"mae": 38.5, "mae_ci": [31.2, 45.9], "n": 60})  # fmt: skip
    riverside = metadata(task="binary", label="diagnosis",
                         metrics={"auroc": 0.81, "auroc_ci": [0.72, 0.89], "n": 60})  # fmt: skip
    cli("add", str(adapter_dir(1, meta=east)), "--name", "east")
    cli("add", str(adapter_dir(2, base_seed=1, meta=riverside)), "--name", "riverside")
    out, _ = cli("diff", "east@1", "riverside@1")
    assert out.splitlines()[0] == (
        "east@1 and riverside@1 predict different outcomes, on different base models: east@1 "
        "predicts 'progression' (regression), riverside@1 'diagnosis' (binary); their figures "
        "measure different things and are listed side by side, not compared"
    )
    header = next(r for r in _rows(out) if r and r[0] == "metric")
    assert header == ["metric", "east@1", "riverside@1"]
    assert [r for r in _rows(out) if r and r[0] in ("MAE", "AUROC")] == [
        ["MAE", "38.5 (31.2–45.9)", "-"],
        ["AUROC", "-", "0.810 (0.720–0.890)"],
    ]
    assert "change" not in out and "overlapping" not in out and "different test rows" not in out
    said = json.loads(cli("diff", "east@1", "riverside@1", "--json")[0])
    assert (said["same_question"], said["same_base"]) == (False, False)
    assert said["questions"] == [
        {"task": "regression", "label": "progression", "classes": None},
        {"task": "binary", "label": "diagnosis", "classes": None},
    ]


def test_diff_of_two_image_adapters_scoring_other_classes_says_they_ask_other_questions(
    cli, adapter_dir
):
    """A review: two binary image adapters (no label recorded), one for normal/pneumonia, one
    for normal/covid, were said to ask the same question, and their figures compared."""
    from medadapt.registry import Registry

    def scan(*classes: str) -> dict:
        return metadata(task="binary", classes=list(classes))

    cli("add", str(adapter_dir(1, meta=scan("normal", "pneumonia"))), "--name", "pneumonia")
    cli("add", str(adapter_dir(2, meta=scan("normal", "covid"))), "--name", "covid")
    out, _ = cli("diff", "pneumonia@1", "covid@1")
    assert out.splitlines()[0] == (
        "pneumonia@1 and covid@1 predict different outcomes: pneumonia@1 predicts the classes "
        "'normal', 'pneumonia' (binary), covid@1 the classes 'normal', 'covid' (binary); their "
        "figures measure different things and are listed side by side, not compared"
    )
    assert "change" not in out
    said = json.loads(cli("diff", "pneumonia@1", "covid@1", "--json")[0])
    assert said["same_question"] is False
    assert said["questions"][1] == {"task": "binary", "label": None, "classes": ["normal", "covid"]}
    # a version that appended a class asks the same question, as 'add' takes it for the next
    grown = scan("normal", "pneumonia", "covid")
    cli("add", str(adapter_dir(3, meta=grown)), "--name", "pneumonia")
    assert Registry(cli.root).diff("pneumonia@1", "pneumonia@2").same_question is True
    # one label, the classes swapped (another positive class): named, or the words would agree
    for seed, name, classes in ((4, "dx", ["no", "yes"]), (5, "xd", ["yes", "no"])):
        meta = metadata(label="dx", classes=classes)
        cli("add", str(adapter_dir(seed, meta=meta)), "--name", name)
    assert cli("diff", "dx@1", "xd@1")[0].startswith(
        "dx@1 and xd@1 predict different outcomes: dx@1 predicts 'dx' (heart disease (binary) "
        "scoring 'no', 'yes'), xd@1 'dx' (heart disease (binary) scoring 'yes', 'no'); "
    )


def test_add_says_to_keep_the_base_model_before_promoting(cli, adapter_dir, tmp_path):
    """A trial: 'add' said riverside@1 "cannot be served yet" for want of its base model,
    then "serve it with: ... promote riverside@1"."""
    from tests.registry.helpers import make_adapter_on_base, make_base

    out, _ = cli("add", str(adapter_dir(1)), "--name", "riverside")
    assert out.splitlines()[-1] == (
        f"to serve it: first keep its base model with 'medadapt registry --root {cli.root} "
        "add-base BASE_DIR' (the directory 'medadapt train-base' wrote), then 'medadapt "
        f"registry --root {cli.root} promote riverside@1'"
    )
    base = make_base(tmp_path / "base")
    cli("add", str(make_adapter_on_base(tmp_path / "east", base)), "--name", "east")
    out, _ = cli("add", str(make_adapter_on_base(tmp_path / "east2", base, seed=2)),
                 "--name", "east")  # fmt: skip
    assert out.splitlines()[-1] == f"serve it with: medadapt registry --root {cli.root} " + (
        "promote east@2"
    )


def test_diff_of_a_version_with_itself_says_so_and_compares_nothing(cli, adapter_dir):
    """A trial's 'diff south@1 south@1' printed the whole metrics table and "these intervals
    cannot tell south@1 and south@1 apart"."""
    cli("add", str(adapter_dir(1)), "--name", "south")
    out, _ = cli("diff", "south@1", "south@latest")
    assert " ".join(out.split()) == (
        "south@1 and south@latest are the same version (south@1): nothing to compare; "
        f"'medadapt registry --root {cli.root} show south@1' shows it"
    )


def test_diff_repeats_each_version_s_warnings_about_its_whole_result(cli, adapter_dir):
    """A trial's 'diff south@1 south@2' left out south@2's "too good to be true", the figure
    one looks at before promoting it."""
    from medadapt.results import TOO_GOOD_KEY

    said = "AUROC 0.998 is too good to be true: check for leaks."
    cli("add", str(adapter_dir(1)), "--name", "south")
    meta = metadata(
        metrics={"auroc": 0.998, "auroc_ci": [0.99, 1.0], "notes": {TOO_GOOD_KEY: said}}
    )
    cli("add", str(adapter_dir(2, meta=meta)), "--name", "south")
    out, _ = cli("diff", "south@1", "south@2")
    assert out.splitlines()[-1] == f"warning: south@2: {said}"


def test_adding_an_adapter_registered_under_another_name_says_so(cli, adapter_dir):
    """A trial added one adapter as east_ia3, Esat and eastsite without a word; the copies
    later clashed at promote as rivals for one group."""
    directory = str(adapter_dir(1))
    cli("add", directory, "--name", "east")
    out, _ = cli("add", directory, "--name", "eastsite")
    assert "note: the same adapter (the same weights) is also registered as east@1" in out
    other, _ = cli("add", str(adapter_dir(2)), "--name", "west")
    assert "also registered" not in other
    # without --name (forgotten), under the name it was saved with: refused, nothing added
    # (a trial's second 'add va' registered va@1 again as va_long_beach_bottleneck@1)
    versions = len(Registry(cli.root).list())
    out, err = cli("add", directory, ok=False)
    own = json.loads((adapter_dir(1) / "adapter.json").read_text())["name"]
    assert " ".join(err.split()) == (
        f"error: {directory} holds the adapter registered as east@1, eastsite@1 (the same "
        f"weights); nothing added, as it is registered already: use east@1, eastsite@1, or "
        f"pass --name {own} to register it under the name it was saved with ({own}) as well, "
        "deliberately"
    )
    assert len(Registry(cli.root).list()) == versions


def test_a_version_on_a_base_reading_other_fields_is_not_served_in_place_without_force(
    cli, tmp_path
):
    """A trial promoted small@3, on another base reading 7 of small@1's 30 fields, with a
    note only; its clients' requests were then refused for 23 fields. A version that would
    drop fields the served one reads is refused (--force serves it, with a warning); one that
    only adds fields is served with a note."""
    from tests.registry.helpers import make_adapter_on_base, make_base

    narrow = make_base(tmp_path / "narrow", seed=1, columns=("age", "bp"))
    wide = make_base(tmp_path / "wide", seed=2, columns=("age", "bp", "chol"))
    cli("add", str(make_adapter_on_base(tmp_path / "a1", narrow)), "--name", "small")
    cli("add", str(make_adapter_on_base(tmp_path / "a2", wide)), "--name", "small")
    cli("promote", "small@1")
    out, _ = cli("promote", "small@2")
    assert out.splitlines()[1] == (
        "note: small@2 reads 1 field small@1 did not ('chol'): a request without them is "
        "scored with them missing, its note naming them"
    )
    listed = cli("list")[0]
    out, err = cli("promote", "small@1", ok=False)
    assert (out, " ".join(err.split())) == ("", (
        "error: small@1 is on a base model that reads other fields than small@2, served now: "
        "1 of small@2's fields is not a field of small@1 ('chol'), so clients sending them "
        "would be refused (422); add it under another --name, or pass --force to serve it in "
        "small@2's place all the same"
    ))  # fmt: skip
    assert cli("list")[0] == listed  # small@2 still served
    out, err = cli("promote", "small@1", "--force")
    assert "promoted small@1" in out
    assert ("warning: clients of small that send small@2's fields 'chol' (1) are now refused "
            "(422): small@1 does not read them") in " ".join((out + err).split())  # fmt: skip
    # diff says it too (a trial's diff was silent on it), and its --json records it
    out, _ = cli("diff", "small@1", "small@2")
    assert out.splitlines()[0] == (  # only the way promote refuses: small@1 over small@2
        "small@1 and small@2 are on base models that read other request fields ('chol' only "
        "small@2's): 'registry promote' refuses small@1 while small@2 is served (its clients' "
        "requests would be refused, 422) unless --force"
    )
    out, _ = cli("diff", "small@1", "small@2", "--json")
    assert json.loads(out)["request_fields"] == {"only_a": [], "only_b": ["chol"]}


def test_diff_shows_both_sides_and_the_change_with_the_decimals_either_side_needs():
    """A trial's diff read "Brier score │ <0.001 │ 0.0007 (0.0001–0.0020) │ +0.001": the side
    that needed four decimals to show its interval had them, the other side and the change
    three. Both sides and the change now have the decimals either needs."""
    from medadapt.cli.registry_format import change_cells
    from medadapt.registry.diff import MetricChange
    from medadapt.registry.records import Metric

    change = MetricChange("brier", Metric("brier", 0.0004, (0.0001, 0.0009)),
                          Metric("brier", 0.0007, (0.0001, 0.0020)))  # fmt: skip
    assert change_cells(change) == ("0.0004 (0.0001–0.0009)", "0.0007 (0.0001–0.0020)", "+0.0003")
    usual = MetricChange("auroc", Metric("auroc", 0.68, (0.54, 0.82)), Metric("auroc", 0.7))
    assert change_cells(usual) == ("0.680 (0.540–0.820)", "0.700", "+0.020")


def test_show_marks_the_metric_a_too_good_note_is_about(cli, adapter_dir):
    """A trial's ``show`` printed "metric: AUROC 1.000 (0.770–1.000)" unmarked, its first (!)
    note "AUROC 1.000: too good to be true ..." below (``list`` marked the same figure)."""
    from medadapt.results import TOO_GOOD_KEY
    from tests.registry.helpers import metadata

    too_good = {"n": 18, "auroc": 1.0, "auroc_ci": [0.77, 1.0], "accuracy": 0.9,
                "accuracy_ci": [0.7, 0.99], "notes": {TOO_GOOD_KEY: "AUROC 1.000: too good to "
                "be true for most clinical questions; check for a leak"}}  # fmt: skip
    cli("add", str(adapter_dir(1, meta=metadata(metrics=too_good))), "--name", "small")
    out, _ = cli("show", "small@1")
    assert "│ 1.000 (0.770–1.000) (!)" in out
    assert "0.900 (0.700–0.990) (!)" not in out and "0.900 (0.700–0.990)" in out


def test_a_version_with_the_same_weights_as_another_is_said_at_add_and_diff(cli, adapter_dir):
    """A trial retrained an adapter with another --lr, added and promoted it: its weights
    were byte for byte those of version 1, and neither add, promote nor diff said so (diff
    showed only the parent and +0.000 everywhere)."""
    cli("add", str(adapter_dir(1)), "--name", "site_b")
    other = metadata(notes_field="retrained", metrics={"auroc": 0.8, "auroc_ci": [0.7, 0.9]})
    out, err = cli("add", str(adapter_dir(1, meta=other)), "--name", "site_b")
    said = " ".join((out + err).split())
    assert ("its weights are byte for byte those of site_b@1: it gives every patient the same "
            "answer; if its training was meant to change them, check its settings (e.g. "
            "--epochs, --lr) took effect") in said  # fmt: skip
    out, _ = cli("diff", "site_b@1", "site_b@2")
    assert (
        "site_b@1 and site_b@2 have the same weights, byte for byte: they give every "
        "patient the same answer; only their records differ"
    ) in " ".join(out.split())
    out, _ = cli("diff", "site_b@1", "site_b@2", "--json")
    assert json.loads(out)["identical_weights"] is True
    out, err = cli("add", str(adapter_dir(2)), "--name", "site_b")  # other weights: not said
    assert "byte for byte" not in out + err
    out, _ = cli("diff", "site_b@1", "site_b@3")
    assert "byte for byte" not in out


def _federated(strategy: str, hungary: float) -> dict:
    """A federated adapter's metadata: unweighted means over two sites and each site's own
    figures with their intervals, as ``federate simulate`` records them."""
    by_site = {
        "Hungary": {"n": 89, "n_positive": 32, "auroc": hungary, "auroc_ci": [0.77, 0.94]},
        "VA": {"n": 60, "n_positive": 45, "auroc": 0.759, "auroc_ci": [0.58, 0.91]},
    }
    return metadata(metrics={"auroc": (hungary + 0.759) / 2, "auroc_sites": 2},
                    federated={"sites": ["Hungary", "VA"], "rounds": 2, "strategy": strategy,
                               "local_epochs": 2, "personalise": "none",
                               "differential_privacy": False, "by_site": by_site})  # fmt: skip


def test_diff_of_federated_adapters_says_how_they_were_trained_and_each_site_s_figures(
    cli, adapter_dir
):
    """A trial's fedavg and fedprox runs of one federation: diff showed their parent and
    weights, means without intervals ("CIs overlap -"), neither strategy nor any site's
    own figure with its interval."""
    cli("add", str(adapter_dir(1, meta=_federated("fedavg", 0.875))), "--name", "fed")
    cli("add", str(adapter_dir(2, meta=_federated("fedprox", 0.862))), "--name", "fed")
    out, _ = cli("diff", "fed@1", "fed@2")
    rows = _rows(out)
    assert ["federated: strategy", "fedavg", "fedprox"] in rows
    assert not [r for r in rows if r and r[0].startswith("federated: rounds")]  # the same
    assert (
        "the metrics above are unweighted means of the sites' own figures (no interval); "
        "each site's, with its 95% interval, on its own held-out patients:"
    ) in out
    at_sites = out[out.index("metrics at each site") :]
    site_rows = [r for r in _rows(at_sites) if r and r[0]]
    assert site_rows[1:] == [
        ["Hungary (89 rows, 32 positive)", "", "", "", ""],
        ["AUROC", "0.875 (0.770–0.940)", "0.862 (0.770–0.940)", "-0.013", "yes"],
        ["VA (60 rows, 45 positive)", "", "", "", ""],
        ["AUROC", "0.759 (0.580–0.910)", "0.759 (0.580–0.910)", "+0.000", "yes"],
    ]  # each site's count beside its name, not as rows of "+0"
    said = json.loads(cli("diff", "fed@1", "fed@2", "--json")[0])
    assert said["training"] == [{"key": "strategy", "a": "fedavg", "b": "fedprox"}]
    hungary = {m["name"]: m for m in said["site_metrics"]["Hungary"]}
    assert hungary["auroc"]["delta"] == pytest.approx(-0.013) and hungary["auroc"]["ci_overlap"]
    assert hungary["n"]["delta"] == 0
    fewer = _federated("fedavg", 0.9)  # a deployment of two of the sites, one new
    fewer["federated"]["sites"] = ["Hungary", "Basel"]
    fewer["federated"]["by_site"] = {
        "Hungary": fewer["federated"]["by_site"]["Hungary"],
        "Basel": {"n": 40, "auroc": 0.7, "auroc_ci": [0.5, 0.9]},
    }
    cli("add", str(adapter_dir(4, meta=fewer)), "--name", "fed")
    out, _ = cli("diff", "fed@1", "fed@3")
    assert ("warning: the figures of fed@1 and fed@3 are means over different sites (VA in "
            "fed@1 only; Basel in fed@3 only): their change would compare other patients, not "
            "the models, and is not shown; compare the sites both hold, below"
            ) in " ".join(out.split())  # fmt: skip
    means = out[out.index("metrics\n") : out.index("metrics at each site")]
    assert "change" not in means and "AUROC" in means  # side by side only (a trial: "+0.005")
    cli("add", str(adapter_dir(3)), "--name", "fed", "--force")  # trained at one place
    out, _ = cli("diff", "fed@1", "fed@4")
    assert "metrics at each site" not in out  # figures at sites on one side only
    assert ["federated: strategy", "fedavg", "-"] in _rows(out)
    assert (  # its site is none of fed@1's: nothing to compare
        "warning: the figures of fed@1 are unweighted means over its sites (Hungary, VA), "
        "those of fed@4 are at VA Long Beach: their change would compare other patients, not "
        "the models, and is not shown"
    ) in " ".join(out.split())


def test_diff_of_a_site_s_adapter_and_a_federated_one_compares_them_at_that_site(cli, adapter_dir):
    """A trial's ``diff va@1 fedva@1`` showed accuracy +0.120: 0.733 at VA against the mean
    of 0.973 at Switzerland and 0.733 at VA (the same at VA), and said the test rows were
    "not recorded" of versions that record them."""
    from tests.registry.helpers import DATA_SUMMARY

    at_va = {**DATA_SUMMARY, "group": "VA"}
    own = metadata(metrics={"n": 60, "n_positive": 45, "auroc": 0.7, "auroc_ci": [0.55, 0.83]},
                   data_summary=at_va)  # fmt: skip
    cli("add", str(adapter_dir(5, meta=own)), "--name", "va")
    cli("add", str(adapter_dir(6, meta=_federated("fedavg", 0.875))), "--name", "fedva")
    out, _ = cli("diff", "va@1", "fedva@1")
    said = " ".join(out.split())
    assert (
        "warning: the figures of fedva@1 are unweighted means over its sites (Hungary, VA), "
        "those of va@1 are at VA: their change would compare other patients, not the models, "
        "and is not shown; both at VA, below"
    ) in said
    means = out[out.index("metrics\n") : out.index("at VA, each on its own")]
    assert "change" not in means
    at_site = [r for r in _rows(out[out.index("metrics at VA") :]) if r and r[0]]
    assert ["AUROC", "0.700 (0.550–0.830)", "0.759 (0.580–0.910)", "+0.059", "yes"] in at_site
    assert (
        "note: fedva@1 was tested at its sites, on held-out patients the registry holds no "
        "record of: whether both versions were measured on the same patients cannot be told, "
        "and a change may mix model and data"
    ) in said
    assert "are not recorded" not in said
    as_json = json.loads(cli("diff", "va@1", "fedva@1", "--json")[0])
    assert as_json["one_site_against_means"].endswith("; both at VA, below")
    assert {m["name"] for m in as_json["site_metrics"]["VA"]} >= {"auroc", "n"}
    assert as_json["means_over_sites"] == ["fedva@1"]
    # the federated adapter VA kept (its figures VA's own, no sites' means): compared as is
    kept = metadata(metrics={"n": 60, "n_positive": 45, "auroc": 0.74, "auroc_ci": [0.6, 0.86]},
                    data_summary={**DATA_SUMMARY, "group": None, "site": "VA"},
                    federated={"sites": ["Hungary", "VA"], "rounds": 2, "strategy": "fedavg",
                               "local_epochs": 2, "personalise": "recalibrate"})  # fmt: skip
    cli("add", str(adapter_dir(7, meta=kept)), "--name", "fedva_kept")
    out, _ = cli("diff", "va@1", "fedva_kept@1")
    said = " ".join(out.split())
    assert "unweighted means" not in said and "was tested at its sites" not in said
    assert ["AUROC", "0.700 (0.550–0.830)", "0.740 (0.600–0.860)", "+0.040", "yes"] in _rows(out)


def test_a_mean_error_near_zero_is_shown_at_its_interval_s_digits_as_adapt_prints_it():
    """A trial read -1.7 (-21.8 to 19.7) from adapt and -1.67 (-21.81 to 19.69) from
    ``registry show`` for the same figure."""
    from medadapt.cli.registry_format import metric_text
    from medadapt.evaluate.report.formatting import fmt_metric
    from medadapt.registry.records import Metric

    figures = {"calibration_in_the_large": -1.6742, "calibration_in_the_large_ci": [-21.81, 19.69]}
    shown = metric_text(Metric("calibration_in_the_large", -1.6742, (-21.81, 19.69)))
    assert shown == fmt_metric(figures, "calibration_in_the_large") == "-1.7 (-21.8 to 19.7)"
    assert metric_text(Metric("mae", 48.612, (38.5, 58.81))) == "48.6 (38.5–58.8)"
