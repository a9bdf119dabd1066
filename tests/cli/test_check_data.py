"""``medadapt check-data`` on the bundled heart data: Riley et al.'s criteria for adapting a
Cleveland base at VA Long Beach, printed and as JSON, and its bad inputs."""

from __future__ import annotations

import json
import math
import re

import pytest

from medadapt.cli.check_data import CAVEAT
from medadapt.data.heart import bundled_path
from medadapt.evaluate.samplesize import binding, cox_snell_from_c, development, max_cox_snell
from medadapt.modalities.tabular import TabularOptions
from medadapt.results import ADAPTED_READING
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import run_cli, succeeded

VA = "VA Long Beach"


#: a tiny table model trained for at most 20 epochs (tests.cli.workspace.QUICK_TABLE)
QUICK = {"d_token": 16, "n_blocks": 1, "n_heads": 2, "epochs": 20}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "base"
    train_base_job(data=bundled_path(), out=out, label="num", group_column="dataset",
                   groups=["Cleveland"], id_column="id", n_boot=20,
                   options=TabularOptions(positive_above=0))  # fmt: skip
    return out


def test_check_data_prints_the_criteria_and_writes_them(base, tmp_path):
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    assert "200 patients of dataset = VA Long Beach (prevalence 0.745)" in result.stdout
    assert "LoRA adapter" in result.stdout and "calibration slope" in result.stdout
    # the prevalence far from the base's (Cleveland: 138 of 303 with the outcome), as study
    # warns it (a trial's check-data said nothing of a 42% against 58%)
    assert (
        "warning: Prevalence differs: 46% where the base model trained, 74% at dataset = VA "
        "Long Beach. Expect the base model to be mis-calibrated here;"
    ) in " ".join(result.stdout.split())
    said = " ".join(result.stdout.split())  # rich wraps long lines
    figures = json.loads(out.read_text())
    assert CAVEAT in said and figures["reading"] == ADAPTED_READING
    # one statement: the count is an upper bound (most conservative), still not sufficient
    assert said.count("necessary, not sufficient") == 1 and said.count("conservative") == 1
    assert "prevalence_interval" not in figures  # 149 of 200: no range of the needs
    # the validation table's events are the outcome's (98 of 132 at 0.745), not the rarer
    # class's as a study's are: said under it
    assert "events: test patients with the outcome (the positive class), at this prevalence" in said
    assert "n_range" not in figures["development"]["head_only"] and "rests on" not in said
    full = figures["development"]["full_finetune"]["n"]  # 70676 parameters: no real sample
    assert full >= 1_000_000 and "≥1M (i)" in result.stdout and str(full) not in result.stdout
    assert figures["n_train"] == 140 and figures["n_test"] == 60
    source = json.loads((base / "model.json").read_text())["training"]["test_metrics"]["auroc"]
    here = figures["auroc_at_site"]
    assert 0.55 < here < source  # so the site's figure is the one used, and the text says why
    from medadapt.auroc_interval import score_interval

    positives = round(figures["prevalence"] * 200)  # a trial read 0.725 here, unqualified
    low, high = score_interval(here, positives, 200 - positives)
    shown = re.fullmatch(
        rf"from the base model's AUROC at this site, on all 200 patients it never saw "
        rf"\({here:.3f}, 95% CI (0\.\d+) to (0\.\d+); {source:.3f} on its source: the lower one "
        r"is used, to be cautious\)",
        figures["r2_source"],
    )
    assert shown, figures["r2_source"]  # evaluate's interval: the wider of a bootstrap and
    assert float(shown[1]) <= round(low, 3) and float(shown[2]) >= round(high, 3)  # Newcombe's
    lora = figures["development"]["lora"]
    expected = development(parameters=lora["parameters"], prevalence=figures["prevalence"],
                           r2_cs=figures["r2_cs"])  # fmt: skip
    assert [c["n"] for c in lora["criteria"]] == [c.n for c in expected]
    head = figures["development"]["head_only"]
    assert (
        head["parameters"]
        < lora["parameters"]
        < figures["development"]["full_finetune"]["parameters"]
    )
    assert head["n"] < lora["n"] and not lora["met"]
    by_name = {c["name"]: c for c in figures["validation"]["criteria"]}
    assert set(by_name) == {"O/E", "slope", "C"}
    assert all(c["supported"] == (c["n"] <= 60) for c in by_name.values())
    said = " ".join(result.stdout.split())  # a verdict a clinician can read, also in --json
    assert (
        f"In short: 140 patients to adapt on are fewer than any strategy needs (the least, the "
        f"head-only adapter ('adapt --method head'), needs {head['n']:,}): an adapter can still "
        "be trained" in said
    )
    # why so many (a trial read "needs 4,496" for 140 without a word of why): criterion (i)
    # asks a number per trained parameter, large where the base predicts the site weakly
    per = head["n"] / head["parameters"]
    assert (
        "So many, because the base model predicts the outcome here only weakly (anticipated "
        f"Cox-Snell R-squared {figures['r2_cs']:.3f}), and criterion (i) then asks about "
        f"{per:,.0f} patients for each parameter trained (64 for the head-only adapter)" in said
    )
    # the validation's assumptions in words; the log-odds distribution only in --json; the
    # terms explained, as the study report explains them
    assert (
        "terms: Cox-Snell R-squared, how much of the outcome a model explains (for an outcome "
        "of classes its maximum is below 1, set by how common each class is); C-statistic, "
        "another name for the AUROC"
    ) in said
    assert (
        "validation assumes a model of C-statistic (AUROC) "
        f"{figures['validation']['c_statistic']:.3f} "
        f"(from {figures['validation']['c_statistic_from']}) whose risks are right on average "
        "at the prevalence 0.745 (Riley et al. 2021; the spread of risks this implies: --json)"
        in said
    )
    # only the reason that applies: the site gave its AUROC (a trial read "0.7 standing for
    # this site's where it gives none" beside a site's own 0.997)
    assert (
        figures["validation"]["c_statistic_from"].startswith(
            "the base model's AUROC at this site, "
        )
        and "standing" not in figures["validation"]["c_statistic_from"]
    )
    assert (
        "Normal(" not in said
        and "lpcstat" not in said
        and "lpcstat" in figures["validation"]["lp_from"]
    )
    short = [c for c in figures["validation"]["criteria"] if not c["supported"]]
    assert "60 patients to test it are too few for a precise observed/expected ratio" in said
    assert len(short) == 3 and figures["in_short"][1].endswith("not the single values.")


def test_the_parameters_are_riley_s_p_the_intercept_aside(base, tmp_path):
    """Riley et al.'s p counts predictor parameters, not the intercept: the head's bias was
    counted (65 for a head on 64 features, 1.6% more patients by criterion i). By hand: the
    head-only adapter trains a copy of the Linear(64 -> 1) head, 64 weights and 1 bias."""
    from medadapt.adapters import without_adapters
    from medadapt.modalities.bundle import BaseModel

    out = tmp_path / "n.json"
    assert run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                   "dataset", "--group", VA, "--json", out).code == 0  # fmt: skip
    figures = json.loads(out.read_text())
    model = without_adapters(BaseModel.load(base).model)
    head = model.get_submodule("head.linear")
    assert (head.in_features, head.out_features, head.bias is not None) == (64, 1, True)
    development_ = figures["development"]
    assert development_["head_only"]["parameters"] == 64
    every = sum(p.numel() for p in model.parameters())
    assert development_["full_finetune"]["parameters"] == every - 1 == 70676
    r2 = figures["r2_cs"]  # criterion (i) by hand: n = p / ((S - 1) ln(1 - R2 / S)), S = 0.9
    by_hand = 64 / ((0.9 - 1) * math.log(1 - r2 / 0.9))
    head_only = {c["name"]: c["n"] for c in development_["head_only"]["criteria"]}
    assert head_only["i"] == math.ceil(by_hand) < math.ceil(by_hand * 65 / 64)


def _wilson(events: int, n: int) -> tuple[float, float]:
    """Wilson's 95% score interval, written out (the test's own, not scipy's)."""
    z, p = 1.959963984540054, events / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_a_prevalence_from_three_events_gives_the_range_of_the_needs(base, tmp_path):
    """3 of VA Long Beach's 200 patients with the outcome: every criterion rests on a
    prevalence of 0.015 whose 95% interval runs from 0.005 to 0.043. The needs at its ends
    are given in one line and in the JSON, planned as at 0.015 (the lower of the default and
    the source's AUROC: the site gives none with 3 events)."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    site = heart["dataset"] == VA
    heart.loc[heart.index[site & (heart["num"] > 0)][3:], "num"] = 0
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", _written(tmp_path, heart), "--base", base,
                     "--group-column", "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["prevalence"] == 0.015
    interval = figures["prevalence_interval"]
    low, high = _wilson(3, 200)
    assert (interval["low"], interval["high"]) == (pytest.approx(low), pytest.approx(high))
    assert (interval["rare_count"], interval["n"], interval["rare_class"]) == (3, 200, "1")
    assert round(low, 3) == 0.005 and round(high, 3) == 0.043
    source = json.loads((base / "model.json").read_text())["training"]["test_metrics"]["auroc"]

    def r2(prevalence: float) -> float:  # no site AUROC: the lower of default and source's
        return min(0.15 * max_cox_snell(prevalence), cox_snell_from_c(source, prevalence))

    assert figures["r2_cs"] == pytest.approx(r2(0.015))
    for entry in figures["development"].values():
        ends = [binding(development(parameters=entry["parameters"], prevalence=phi,
                                    r2_cs=r2(phi))).n for phi in (high, low)]  # fmt: skip
        assert entry["n_range"] == ends and ends[0] < entry["n"] < ends[1]
    head = figures["development"]["head_only"]["n_range"]
    said = " ".join(result.stdout.split())
    assert (
        "note: the prevalence 0.015 rests on 3 patients of class '1' among 200: over its 95% "
        f"interval, 0.005 to 0.043, the head-only adapter needs {head[0]:,} to {head[1]:,} "
        "patients, the LoRA adapter " in said
    )
    adapted = run_cli("adapt", "--base", base, "--data", _written(tmp_path, heart),
                      "--group-column", "dataset", "--group", VA, "--method", "head", "--out",
                      tmp_path / "rare")  # fmt: skip
    assert adapted.code == 0, adapted.stderr  # its caveats as check-data prints them
    [caveat] = [line for line in adapted.stdout.splitlines() if "criterion (iii)" in line]
    assert caveat.startswith("note: criterion (iii) estimates the overall risk within +-0.05")


def test_at_the_bases_own_site_check_data_splits_and_scores_as_adapt_does(base, tmp_path):
    """At Cleveland, where the base trained on most rows: the counts are adapt's (tests only
    from rows the base never saw), the base's AUROC at the site is measured on those rows
    only (scikit-learn's on them), and adapt's sample-size line gives the same numbers."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from medadapt.modalities.base import modality_of
    from medadapt.modalities.bundle import BaseModel
    from medadapt.train.fitting import predict
    from medadapt.workflows.adapt import adapt_job

    out = tmp_path / "cleveland.json"
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", "Cleveland", "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    figures = json.loads(out.read_text())
    adapted = adapt_job(base_dir=base, data=bundled_path(), out=tmp_path / "adapter",
                        group_column="dataset", group="Cleveland", method="lora",
                        n_boot=10)  # fmt: skip
    summary = adapted["data_summary"]
    assert figures["n_base_trained"] == summary["n_seen_training"] > 0
    assert (figures["n_train"], figures["n_test"]) == (summary["n_train"], summary["n_test"])
    said = " ".join(result.stdout.split())
    assert (f"the base model trained on {figures['n_base_trained']} of them, so tests come only "
            "from the others;") in said  # fmt: skip
    loaded = BaseModel.load(base)
    modality = modality_of(loaded.kind)
    samples = modality.read_for_model(bundled_path(), loaded, modality.options(),
                                      group_column="dataset")  # fmt: skip
    split = json.loads((base / "model.json").read_text())["training"]["split"]
    unseen = np.flatnonzero((np.asarray(samples.groups) == "Cleveland")
                            & ~samples.frame.index.isin(split["train_positions"]))  # fmt: skip
    assert len(unseen) == figures["n"] - figures["n_base_trained"]
    scores = predict(modality, loaded.model, loaded.schema, samples.subset(unseen))
    expected = roc_auc_score(samples.labels[unseen], scores)
    assert figures["auroc_at_site"] == pytest.approx(expected, abs=1e-9)
    assert f"on all {len(unseen)} patients it never saw" in figures["r2_source"]
    lora = summary["sample_size"]
    assert lora["auroc_at_site"] == pytest.approx(expected, abs=1e-4)
    assert lora["n_needed"] == figures["development"]["lora"]["n"]


def test_check_data_refuses_an_unknown_group_in_one_line(base):
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", "Mars")  # fmt: skip
    assert result.code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --group: group 'Mars' not found")


def _checked_measured(tmp_path, frame, label: str):
    """``check-data`` on ``frame`` (written as diabetes.csv) with a base trained on all of it
    for the measured ``label``: its result, and the figures of its --json."""
    data = tmp_path / "diabetes.csv"
    frame.to_csv(data, index=False)
    base = tmp_path / "base"
    train_base_job(data=data, out=base, label=label, n_boot=20, options=TabularOptions())
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", data, "--base", base, "--json", out)
    assert result.code == 0, result.stderr
    return result, json.loads(out.read_text())


def test_check_data_continuous_outcome_uses_riley_part_one(tmp_path):
    """A regression base (scikit-learn's diabetes data): criteria (i)-(iv) for a continuous
    outcome, at the base's R-squared; no validation criteria, and it says why."""
    from sklearn.datasets import load_diabetes

    from medadapt.evaluate.samplesize_continuous import development_continuous

    result, figures = _checked_measured(
        tmp_path, load_diabetes(as_frame=True, scaled=False).frame, "target"
    )
    assert figures["task"] == "regression" and figures["r2_label"] == "R-squared"
    text = " ".join(result.stdout.split())  # rich wraps long lines
    assert (  # no patient column: each row taken as one patient, and said so
        "442 rows of --data (outcome mean 152, SD 77.1; each taken as one patient: the base "
        "names no patient column)" in text
    )
    assert "(iv) mean outcome within 10%" in text
    lora = figures["development"]["lora"]
    expected = development_continuous(parameters=lora["parameters"], r2=figures["r2"],
                                      intercept=figures["mean"], sd=figures["sd"])  # fmt: skip
    assert [c["n"] for c in lora["criteria"]] == [c.n for c in expected]
    assert [c["name"] for c in lora["criteria"]] == ["i", "ii", "iii", "iv"]
    assert figures["validation"]["criteria"] == []
    assert "validation at this site: not computed" in text


def test_a_measured_outcome_s_test_split_too_small_for_any_figure_is_said(tmp_path):
    """A trial's 30-row hospital left 9 test rows: check-data said only that no validation
    criterion is computed for a measured outcome, not that evaluate would report nothing."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["hospital"] = ["Small"] * 30 + ["Big"] * (len(frame) - 30)
    data, base, out = tmp_path / "d.csv", tmp_path / "base", tmp_path / "n.json"
    frame.to_csv(data, index=False)
    train_base_job(data=data, out=base, label="target", group_column="hospital", groups=["Big"],
                   n_boot=20, options=TabularOptions(**QUICK))  # fmt: skip
    result = run_cli("check-data", "--data", data, "--base", base, "--group", "Small",
                     "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    assert (
        "9 rows to test it are too few for evaluate to report any figure at all (the test split "
        "holds 9 rows, and evaluate reports no figure from fewer than 10). How many test "
        "rows a precise check needs is not computed for this outcome."
    ) in " ".join(result.stdout.split())
    assert json.loads(out.read_text())["validation"]["not_reported"] == (
        "the test split holds 9 rows, and evaluate reports no figure from fewer than 10"
    )  # nor is study pointed to (a trial's 8 patients were, and study refused them)
    assert (
        "'medadapt study' and evaluate need 10 held-out rows to measure anything (9 here): "
        "collect more first."
    ) in " ".join(result.stdout.split())
    assert "'medadapt study' shows what the data support" not in " ".join(result.stdout.split())
    # adapt on the same rows printed every figure as n/a and saved the adapter without a word
    adapted = run_cli("adapt", "--base", base, "--data", data, "--group", "Small", "--out",
                      tmp_path / "adapter")  # fmt: skip
    assert adapted.code == 0, adapted.stderr
    assert (
        "warning: adapter 'small_bottleneck' has no measured performance: only 9 patients (at "
        "least 10 needed); it is saved, but nothing here shows how it does on these rows; test "
        "it on more of them (a larger --test-fraction, or 'medadapt evaluate' on rows it never "
        "saw) before relying on it (the registry and serve mark it unmeasured)"
    ) in (adapted.stdout + adapted.stderr).splitlines()


def test_check_data_more_than_two_classes_uses_pate_et_al(tmp_path):
    """The heart data's five severity grades (num 0-4) at VA Long Beach: Pate et al.'s
    multiclass criteria; (iii) is every grade's proportion within +-0.05."""
    base = tmp_path / "base"
    train_base_job(data=bundled_path(), out=base, label="num", group_column="dataset",
                   groups=["Cleveland"], id_column="id", n_boot=20,
                   options=TabularOptions(**QUICK))  # fmt: skip
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["task"] == "multiclass" and len(figures["prevalences"]) == 5
    text = " ".join(result.stdout.split())  # rich wraps long lines
    # each share named by its class (a trial could not tell which "0.42/0.35/0.23" was which)
    assert "200 patients of dataset = VA Long Beach (5 classes (proportions '0' 0.26, '1' " in text
    assert "Pate et al." in text
    worst = max(p * (1 - p) for p in figures["prevalences"])
    for entry in figures["development"].values():
        by = {c["name"]: c for c in entry["criteria"]}
        assert by["iii"]["exact"] == pytest.approx((1.96 / 0.05) ** 2 * worst)
        assert entry["n"] == max(c["n"] for c in entry["criteria"])
    # VA's 60 test patients hold 3 of grade 4: evaluate will report no AUROC nor balanced
    # accuracy, said before training (a trial learnt it from adapt's "n/a")
    why = ("the test split holds 60 patients, 3 of class '4', and evaluate reports no AUROC "
           "or balanced accuracy with fewer than 5 of a class")  # fmt: skip
    assert figures["validation"]["not_reported"] == why
    assert (f"60 patients to test it are too few for evaluate to report the AUROC or the "
            f"balanced accuracy ({why})") in text  # fmt: skip
    adapted = run_cli("adapt", "--data", bundled_path(), "--base", base, "--group", VA,
                      "--method", "head", "--out", tmp_path / "a",
                      "--json", tmp_path / "a.json")  # fmt: skip
    assert adapted.code == 0, adapted.stderr
    notes = json.loads((tmp_path / "a.json").read_text())["metrics"]["notes"]
    assert notes["auroc"].startswith("not reported: 3 patients of class '4' among 60 patients")


def test_check_data_on_images_counts_patients_behind_the_images(tmp_path):
    from tests.cli.workspace import TINY_IMAGE
    from tests.train.image_data import OLD, write_npz

    npz = write_npz(tmp_path / "old.npz", {c: 12 for c in OLD}, OLD)
    base = tmp_path / "image_base"
    trained = run_cli("train-base", "--data", npz, "--class-names", ",".join(OLD), *TINY_IMAGE,
                      "--epochs", "1", "--out", base)  # fmt: skip
    assert trained.code == 0, trained.stderr
    result = run_cli("check-data", "--data", npz, "--base", base)
    assert result.code == 0, result.stderr
    text = " ".join(result.stdout.split())  # rich wraps long lines
    assert "36 images of --data (3 classes" in text
    assert "note: the criteria count patients" in text
    assert "development: minimum images to adapt" in text


@pytest.mark.parametrize("group", [VA, "Cleveland"])  # Cleveland: the base trained on it
def test_a_study_on_a_given_base_uses_the_same_r_squared_and_needs_as_check_data(
    base, tmp_path, group
):
    """Before, a study on ``--base`` assumed the conservative default R-squared and a C of
    0.75, so its minimums disagreed with check-data's for the same base and site; at the
    base's own site, the prevalence left out the base's test rows."""
    checked = tmp_path / "n.json"
    assert run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                   "dataset", "--group", group, "--json", checked).code == 0  # fmt: skip
    result = run_cli(
        "study", "--data", bundled_path(), "--label", "num", "--base", base, "--group-column",
        "dataset", "--group", group, "--methods", "base_only,head_only", "--fractions", "1",
        "--seeds", "1", "--workers", "1", "--out", tmp_path / "study",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    figures = json.loads(checked.read_text())
    study = json.loads((tmp_path / "study" / "study.json").read_text())["sample_size"]
    assert study["r2_source"] == figures["r2_source"]
    assert study["from_base"]
    assert study["r2"] == pytest.approx(figures["r2"], abs=1e-4)
    head = figures["development"]["head_only"]
    assert study["strategies"]["head_only"]["n_needed"] == head["n"]
    assert study["test_needs"] == {c["name"]: c["n"] for c in figures["validation"]["criteria"]}
    basis = "the base model's R-squared here"
    assert study["r2_basis"] == figures["r2_basis"] == basis
    assert f"sample size (Riley et al., {basis})" in " ".join(result.stdout.split())


def test_check_data_refuses_a_file_whose_labels_are_all_missing(base, tmp_path):
    """It printed numpy's "Mean of empty slice" warnings and "the 0 patients hold one class
    only", exit 0; evaluate refuses the same file."""
    import pandas as pd

    empty = tmp_path / "no_labels.csv"
    pd.read_csv(bundled_path()).assign(num=None).to_csv(empty, index=False)
    result = run_cli("check-data", "--data", str(empty), "--base", str(base))
    assert result.code == 2
    assert result.stderr.splitlines() == [
        f"error: --data {empty} has no labelled rows (every label is missing): fill in the "
        "labels, or point --data at a file that has them"
    ]
    assert "Mean of empty slice" not in result.stdout + result.stderr


def test_check_data_says_when_adapt_will_refuse_a_leak_at_the_site(base, tmp_path):
    """A base feature that copies the label at the target site: adapt refuses those rows, and
    check-data (which exits 0: it reports) says so with adapt's own words, before training."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    at_va = heart["dataset"] == VA
    heart.loc[at_va, "thalch"] = 100 + 50 * (heart.loc[at_va, "num"] > 0)
    leaky = tmp_path / "va_leak.csv"
    heart.to_csv(leaky, index=False)
    where = ("--data", leaky, "--base", base, "--group-column", "dataset", "--group", VA)
    out = tmp_path / "n.json"
    checked = run_cli("check-data", *where, "--json", out)
    adapted = run_cli("adapt", *where, "--label", "num", "--out", tmp_path / "va")
    assert adapted.code == 2 and not (tmp_path / "va").exists()
    (refusal,) = adapted.stderr.splitlines()
    assert refusal.startswith("error: ") and "'thalch'" in refusal
    assert checked.code == 0, checked.stderr
    said = [line for line in checked.stdout.splitlines() if line.startswith("warning: adapt")]
    assert said == [f"warning: adapt will refuse these data: {refusal.removeprefix('error: ')}"]
    assert json.loads(out.read_text())["adapt_refuses"] == refusal.removeprefix("error: ")


def test_adapt_takes_the_label_from_the_base(base, tmp_path):
    """The base records what it predicts: adapt on a table needs no --label (study --base,
    evaluate and check-data never asked for it)."""
    out = tmp_path / "va"
    adapted = run_cli("adapt", "--base", base, "--data", bundled_path(), "--group-column",
                      "dataset", "--group", VA, "--method", "head", "--out", out)  # fmt: skip
    assert adapted.code == 0, adapted.stderr
    assert "60 held-out rows of dataset = VA Long Beach" in " ".join(adapted.stdout.split())
    assert (out / "adapter.json").is_file()


def test_a_study_on_a_given_base_knows_its_training_rows_in_a_re_saved_copy(base, tmp_path):
    """study --base read the base's split without its split.json: on a re-saved copy of the
    source (columns reordered, other line endings) the base's training patients could be
    held out to test the adapters, as if new."""
    import pandas as pd

    copy = tmp_path / "copy.csv"
    heart = pd.read_csv(bundled_path())
    heart[heart.columns[::-1]].to_csv(copy, index=False, lineterminator="\r\n")
    seen = {}
    for name, data in (("original", bundled_path()), ("copy", copy)):
        result = run_cli(
            "study", "--data", data, "--label", "num", "--base", base, "--group-column",
            "dataset", "--group", "Cleveland", "--methods", "base_only", "--fractions", "1",
            "--seeds", "1", "--workers", "1", "--out", tmp_path / name,
        )  # fmt: skip
        assert result.code == 0, result.stderr
        study = json.loads((tmp_path / name / "study.json").read_text())
        seen[name] = study["data"]["n_target_seen_by_base"]
    assert seen["copy"] == seen["original"] > 150


def test_repeat_visits_count_the_patients_of_a_rare_class(base, tmp_path):
    """40 VA Long Beach patients seen 3 times each, 2 of them with disease (6 rows): evaluate
    would withhold the AUROC (2 positive patients), so check-data warns of the class and plans
    on the conservative default, not on the base's AUROC on those 6 rows; the same patients
    once each (2 rows) read as before."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    va = heart[heart["dataset"] == VA]
    patients = pd.concat([va[va["num"] > 0].head(2), va[va["num"] == 0].head(38)])
    visits = tmp_path / "visits.csv"
    pd.concat([patients] * 3).to_csv(visits, index=False)
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", visits, "--base", base, "--group-column",
                     "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["auroc_at_site"] is None and figures["n_patients"] == 40
    assert figures["r2_source"].startswith(
        "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020): the base model's "
        "AUROC at this site gives no R-squared to plan on (2 of the 40 patients it never saw "
        "are of class '1', fewer than the 5 an AUROC needs)"
    )
    assert figures["warnings"][0].startswith(
        f"class '1' has 2 of the 40 patients of dataset = {VA} (fewer than 5, the fewest any "
        "figure about a class rests on)"
    )
    said = " ".join(result.stdout.split())
    assert f"120 rows from 40 patients of dataset = {VA} (prevalence 0.050)" in said
    once = tmp_path / "once.csv"
    patients.to_csv(once, index=False)
    result = run_cli("check-data", "--data", once, "--base", base, "--group-column", "dataset",
                     "--group", VA, "--json", out, "--force")  # fmt: skip
    assert result.code == 0, result.stderr
    assert json.loads(out.read_text())["warnings"][0].startswith(
        f"class '1' has 2 of the 40 patients of dataset = {VA} (fewer than 5"
    )


def test_rows_that_name_no_patient_are_counted_as_rows_taken_as_patients(tmp_path):
    """A trial: a base trained without --id-column, then check-data on 40 patients seen 3
    times each printed "120 patients of site = B": rows are taken as patients, and the output
    says so instead of calling them patients."""
    import pandas as pd

    base = tmp_path / "base"
    train_base_job(data=bundled_path(), out=base, label="num", group_column="dataset",
                   groups=["Cleveland"], n_boot=20,
                   options=TabularOptions(positive_above=0, **QUICK))  # fmt: skip
    visits = tmp_path / "visits.csv"
    heart = pd.read_csv(bundled_path())
    pd.concat([heart[heart["dataset"] == VA].head(40)] * 3).to_csv(visits, index=False)
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", visits, "--base", base, "--group-column",
                     "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert (
        f"120 rows of dataset = {VA} (prevalence 0.725; each taken as one patient: the base "
        "names no patient column): 84 to adapt on, 36 to test it, as adapt would split them"
    ) in said
    assert "on all 120 rows it never saw" in said and "120 patients" not in said
    assert "development: minimum rows to adapt" in said
    assert (
        "note: the criteria count patients: the base names no patient column, so each row is "
        "taken as one patient; a patient with several rows is counted several times (train the "
        "base with --id-column to count patients)"
    ) in said
    figures = json.loads(out.read_text())
    assert figures["noun"] == "rows"
    assert figures["as_patients"] == "each taken as one patient: the base names no patient column"
    assert figures["in_short"][0].startswith(
        "84 rows (each taken as one patient: the base names no patient column) to adapt on are "
        "fewer than any strategy needs"
    )
    assert figures["in_short"][1].startswith("36 rows to test it are too few for a precise")


def test_a_label_the_base_does_not_predict_is_refused(tmp_path):
    """A review: ``check-data --label`` (taken for image CSVs) was ignored on tables, so the
    criteria of the base's own label were printed for another without a word."""
    base = tmp_path / "base"
    train_base_job(data=bundled_path(), out=base, label="num", group_column="dataset",
                   groups=["Cleveland"], id_column="id", n_boot=20,
                   options=TabularOptions(positive_above=0, **QUICK))  # fmt: skip
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", VA, "--label", "age")  # fmt: skip
    assert result.code == 2
    said = (
        "error: the base model predicts 'num', not 'age'; pass --label num (the base's "
        "outcome), or train a base that predicts 'age' (train-base --label age)"
    )
    assert result.stderr.strip() == said


# ----- a biostatistician's review --------------------------------------------------------------
def _written(tmp_path, frame, name: str = "heart.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_a_test_split_too_small_for_any_estimate_says_none_will_be_reported(base, tmp_path):
    """The review: 30 VA Long Beach patients, 9 held out to test, and check-data said "too few
    for a precise ... C-statistic (AUROC): 525 needed; read the intervals of those estimates",
    where evaluate reports no figure at all from fewer than 10 patients."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    tiny = pd.concat([heart[heart["dataset"] != VA], heart[heart["dataset"] == VA].head(30)])
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", _written(tmp_path, tiny), "--base", base,
                     "--group-column", "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["n_test"] == 9
    checked = figures["validation"]
    assert [c["reported"] for c in checked["criteria"]] == [False, False, False]
    why = "the test split holds 9 patients, and evaluate reports no figure from fewer than 10"
    assert checked["not_reported"] == why
    needs = [f"{c['n']:,}" for c in checked["criteria"]]
    assert figures["in_short"][1:] == [
        "9 patients to test it are too few for evaluate to report the observed/expected ratio, "
        f"calibration slope and C-statistic (AUROC) at all ({why}): precise estimates would "
        f"need {needs[0]}, {needs[1]} and {needs[2]}."
    ]
    said = " ".join(result.stdout.split())
    assert said.count("no: 9, not reported") == 3 and "read the intervals" not in said
    assert f"note: evaluate will not report the estimates marked 'not reported': {why}" in said


def test_a_category_coded_otherwise_at_the_site_is_said_before_adapting(base, tmp_path):
    """A trial's site wrote sex as M/F: adapt and evaluate warned "200 of 200 rows have a
    'sex' value the model never learned" without the model's own spelling, check-data not
    at all."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    heart["sex"] = heart["sex"].map({"Male": "M", "Female": "F"})
    result = run_cli("check-data", "--data", _written(tmp_path, heart), "--base", base,
                     "--group-column", "dataset", "--group", VA)  # fmt: skip
    assert result.code == 0, result.stderr
    assert (
        "warning: 200 of 200 rows have a 'sex' value the model never learned (rare in its "
        "training rows, or coded otherwise) and are scored as 'unseen'; every row: the model "
        "learned 'Female', 'Male'; if these are those written otherwise, recode 'sex' as in "
        "training (if they are other categories, the model cannot use them)"
    ) in result.stdout.splitlines()
    assert "'M'" not in result.stdout and "'F'" not in result.stdout  # the file's values: never


def test_a_site_of_one_class_names_the_flags_to_check(base, tmp_path):
    """The review: "the criteria do not apply: the 200 patients hold one class only", exit 0,
    and no flag named."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    heart.loc[heart["dataset"] == VA, "num"] = 2
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", _written(tmp_path, heart), "--base", base,
                     "--group-column", "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    why = ("the 200 patients hold one class only (all of class '1'); check --group (the "
           f"patients of dataset = {VA}) and --label (the outcome read)")  # fmt: skip
    # a warning, as a trial expected of a site without the outcome (it read as a plain line)
    assert f"warning: the sample-size criteria do not apply: {why}" in result.stdout.splitlines()
    assert json.loads(out.read_text())["why"] == why
    # and that adapt will refuse them, in adapt's own words (a trial's check-data said only
    # that the criteria do not apply, and adapt then refused)
    refusal = ("the training rows of dataset = VA Long Beach have only one class of 'num' "
               "('1'); an adapter needs at least two classes: pick a --group with more than "
               "one class or add rows to --data")  # fmt: skip
    assert f"warning: adapt will refuse these data: {refusal}" in result.stdout.splitlines()
    assert json.loads(out.read_text())["adapt_refuses"] == refusal
    adapted = run_cli("adapt", "--data", _written(tmp_path, heart), "--base", base,
                      "--group", VA, "--out", tmp_path / "a")  # fmt: skip
    assert adapted.code != 0 and adapted.stderr.strip().splitlines()[-1] == f"error: {refusal}"


def test_a_centred_outcome_leaves_criterion_iv_out_and_says_why(tmp_path):
    """The review: a centred score (mean 0.005, SD 0.05) made criterion (iv), the mean within
    10% of itself, the binding one (33,278 patients)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.drop(columns="target")
    result, figures = _checked_measured(tmp_path, frame, "bmi")
    assert abs(figures["mean"]) < figures["sd"]
    said = (f"the outcome's values lie on both sides of 0 and its mean within one SD of 0 "
            f"(mean {figures['mean']:.3g}, SD {figures['sd']:.3g}): a margin of 10% of the mean "
            "is no clinical margin; criterion (iv) not applied")  # fmt: skip
    assert figures["criteria_notes"][0] == said
    # then the R-squared planned on, measured on the 89 held-out rows, with its interval
    assert [n.split(" has a 95% CI")[0] for n in figures["criteria_notes"][1:]] == [
        f"the base model's R-squared here ({figures['r2']:.3f}, on 89 rows)"
    ]
    assert all([c["name"] for c in e["criteria"]] == ["i", "ii", "iii"]
               for e in figures["development"].values())  # fmt: skip
    text = " ".join(result.stdout.split())
    assert f"note: {said}" in text and "(iv) mean outcome within 10%" not in text
    assert "(iii) the residual SD estimated within 10%" in text


def test_an_image_folder_of_one_class_names_its_class_folders_not_label(tmp_path):
    """Images read from a folder take their class from its sub-folders: there is no --label
    to check (the message named it, and --group-column, which a folder cannot have)."""
    from tests.data.makers import disc, write_picture

    def folder(root, classes):
        for k, name in enumerate(classes):
            for i in range(6):
                write_picture(root / name / f"{i}.png", disc(16, 120 + 60 * k, seed=10 * k + i))
        return root

    tiny = ["--image-size", "16", "--epochs", "1",
            "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]  # fmt: skip
    trained = run_cli("train-base", "--data", folder(tmp_path / "cases", ("normal", "pneumonia")),
                      *tiny, "--out", tmp_path / "base")  # fmt: skip
    assert trained.code == 0, trained.stderr
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", folder(tmp_path / "only", ("normal",)), "--base",
                     tmp_path / "base", "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    why = (
        "the 6 images hold one class only (all of class 'normal'); check the class folders of "
        "--data (one sub-folder per class, each image's class its folder's name)"
    )
    assert json.loads(out.read_text())["why"] == why
    assert "--label" not in result.stdout and "--group" not in result.stdout


def test_check_data_without_base_says_what_to_do_without_a_model():
    """It said only click's "Missing option '--base'"; the way to plan before a model exists
    it names must exist."""
    from medadapt import sample_size
    from medadapt.cli.study import STUDY
    from tests.cli.helpers import error_line

    said, see = error_line(run_cli("check-data", "--data", bundled_path(), "--label",
                                   "num")).split(" (see ")  # fmt: skip
    assert said == (
        "error: check-data needs --base, the base model the data would adapt (a train-base "
        "--out folder): to plan how many patients a model needs before one exists, use "
        "medadapt.sample_size in Python (sample_size.binary, sample_size.continuous, "
        "sample_size.validation), or 'medadapt study', which trains a base on --groups and "
        "applies the same criteria"
    )
    assert see.endswith(" check-data --help')")  # the program's name, as it was started
    assert all(callable(getattr(sample_size, f)) for f in ("binary", "continuous", "validation"))
    study = {option.name: option for option in STUDY}
    assert study["base"].default is None and "groups" in study  # study trains one without it
    missing = error_line(run_cli("evaluate", "--data", bundled_path()))  # others: click's
    assert missing.startswith("error: Missing option '--base'. (see ")


def test_a_group_column_without_a_group_says_every_group_is_counted(base):
    """A trial's ``check-data --group-column hospital`` (no --group) ran on "569 patients of
    --data", all three hospitals pooled, without a word that no site was chosen."""
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset")  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "note: --group-column dataset without --group: these figures count every row of "
        "--data, all its groups together; pass --group NAME for one site's"
    )
    assert "920 patients of --data" in result.stdout
    named = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group", VA)
    assert "without --group" not in named.stdout  # the base's column taken: a site chosen


def test_the_verdict_comes_before_the_tables_and_the_criteria_are_said_in_plain_words(base):
    """A trial: "the 'In short' paragraphs are good and should come first"; the legend was
    "expected shrinkage", "optimism in Nagelkerke R-squared": jargon a clinician cannot act on."""
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", VA)  # fmt: skip
    lines = result.stdout.splitlines()
    short = next(i for i, line in enumerate(lines) if line.startswith("In short: "))
    table = next(i for i, line in enumerate(lines) if line.strip().startswith("development:"))
    assert short < table
    said = " ".join(result.stdout.split())
    assert ("(i) predictions that need shrinking by at most 10% toward the average (expected "
            "shrinkage >= 0.9); (ii) a fit on these patients that overstates the fit on new ones "
            "by at most 0.05 (optimism in Nagelkerke R-squared); (iii) the overall risk estimated "
            "within +-0.05") in said  # fmt: skip


def test_each_input_s_missing_share_at_the_site_is_said_and_written(base, tmp_path):
    """A trial's table had ~8% missing per column, coded '?', 'NA' and '-': check-data, the
    natural place to look, said nothing of it."""
    import pandas as pd

    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", VA, "--json", out)  # fmt: skip
    missing = json.loads(out.read_text())["missing"]
    va = pd.read_csv(bundled_path()).query("dataset == @VA")
    assert missing["ca"] == round(float(va["ca"].isna().mean()), 4) and missing["ca"] > 0.9
    assert list(missing) == sorted(missing, key=lambda name: -missing[name])  # largest first
    assert "age" not in missing  # none missing: not listed
    said = " ".join(result.stdout.split())
    assert (f"missing values, share of these rows (read as 'not measured', never imputed): "
            f"'ca' {missing['ca']:.0%}, ") in said  # fmt: skip


def test_a_missing_share_counts_text_read_as_missing(base, tmp_path):
    """A trial's 'Resting BP' was "28%" beside a warning that 11 more of its cells (written
    "120 mmHg") were read as missing: the share is what the model reads, text included."""
    import pandas as pd

    va = pd.read_csv(bundled_path()).query("dataset == @VA").astype({"trestbps": object})
    rows = va.index[va["trestbps"].notna()][:11]
    va.loc[rows, "trestbps"] = [f"{v:g} mmHg" for v in va.loc[rows, "trestbps"]]
    data = tmp_path / "units.csv"
    va.to_csv(data, index=False)
    out = tmp_path / "n.json"
    succeeded(run_cli("check-data", "--data", data, "--base", base, "--json", out))
    expected = (va["trestbps"].isna().sum() + 11) / len(va)
    assert json.loads(out.read_text())["missing"]["trestbps"] == round(float(expected), 4)


def test_columns_the_model_does_not_read_are_named_as_adapt_names_them(base, tmp_path):
    """A trial's check-data said nothing of a copy of the label and a comments column left in
    the file, where adapt and evaluate name them: the same notes, names only."""
    import pandas as pd

    heart = pd.read_csv(bundled_path())
    heart["diagnosis_code"] = (heart["num"] > 0).astype(int)
    heart["comments"] = "seen in clinic"
    heart.to_csv(tmp_path / "extra.csv", index=False, sep=";", decimal=",")
    said = succeeded(run_cli("check-data", "--base", base, "--data", tmp_path / "extra.csv",
                             "--group-column", "dataset", "--group", VA,
                             "--json", tmp_path / "c.json"))  # fmt: skip
    notes = [line for line in said.stdout.splitlines() if line.startswith("note: column")
             or line.startswith("note: 1 column")]  # fmt: skip
    assert notes == [
        "note: column 'diagnosis_code' of --data is not read by the model, and must not be: it "
        "is the classes of 'num' under other names in every row, a copy of the label (never "
        "train a model on it)",
        "note: 1 column of --data is not read by the model: 'comments' (it was not among the "
        "features the base trained on; train a new base to use it)",
    ]
    read = f"read --data {tmp_path / 'extra.csv'} with semicolons between columns and decimal "
    assert said.stdout.splitlines()[0].startswith(read)  # as train-base says it
    written = json.loads((tmp_path / "c.json").read_text())
    assert written["unread_columns"] == ["diagnosis_code", "comments"]
    assert "seen in clinic" not in said.stdout + (tmp_path / "c.json").read_text()


def test_several_classes_planned_on_the_default_overall_are_not_said_to_be_predicted_weakly():
    """A trial's image check-data: "the base model predicts the outcome here only weakly
    (anticipated Cox-Snell R-squared 0.133)", a conservative default (several classes have
    no overall R-squared measured), of a base of AUROC 0.926 at the site."""
    from medadapt.evaluate.samplesize_outcomes import BASIS_PAIRS
    from medadapt.workflows.sample_size import _per_parameter_words

    result = {"r2": 0.1333, "r2_basis": BASIS_PAIRS, "r2_label": "Cox-Snell R-squared",
              "noun": "images", "task": "multiclass", "n_train": 42,
              "weakest_pair": {"classes": ["nodule", "mass"], "auroc": 0.875}}  # fmt: skip
    entry = {"binding": "i", "n": 15011, "parameters": 577}
    assert _per_parameter_words(result, "head_only", entry) == (  # (i): per pair, measured
        " So many, because criterion (i), planned for each pair of classes on the base model's "
        "pairwise AUROC here (the weakest pair, 'nodule' and 'mass', 0.875), asks about 26 "
        "images for each parameter trained (577 for the head-only adapter)."
    )
    entry["binding"] = "ii"  # (ii): on the overall R-squared, the default
    assert _per_parameter_words(result, "head_only", entry) == (
        " So many, because for several classes no overall R-squared is measured: the "
        "conservative default (Cox-Snell R-squared 0.133) stands in for it, and criterion (ii) "
        "then asks about 26 images for each parameter trained (577 for the head-only adapter)."
    )


def test_the_events_a_validation_needs_are_rounded_up_as_its_patients_are(capsys):
    """A trial: ``--json`` said 120.5 events, the terminal 120 (half to even), where the
    patients needed are rounded up."""
    from medadapt.cli.check_data import _print_validation

    criterion = {"description": "observed/expected ratio, 95% CI width 0.2", "n": 175,
                 "events": 120.5, "exact": 174.24, "supported": False}  # fmt: skip
    result = {"noun": "patients", "prevalence": 0.69,
              "validation": {"criteria": [criterion], "c_statistic": 0.7}}  # fmt: skip
    _print_validation(result, n_test=32)
    row = next(line for line in capsys.readouterr().out.splitlines() if "observed/exp" in line)
    assert [cell.strip() for cell in row.split("│")][2:4] == ["175", "121"]
