"""Honest by default, on the bundled heart data: a copy of the label, record numbers and a
re-saved training file are caught; results too good to be true say so."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from tests.cli.helpers import run_cli
from tests.cli.workspace import TINY_TABLE

VA = "VA Long Beach"


@pytest.fixture(scope="module")
def heart_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("honest")
    heart = ma.load_heart_disease()
    heart["disease"] = np.where(heart["num"] > 0, "yes", "no")
    leaky = root / "heart_with_num.csv"
    heart.to_csv(leaky, index=False)
    clean = root / "heart.csv"
    heart.drop(columns=["num"]).to_csv(clean, index=False)
    return root, clean, leaky


@pytest.fixture(scope="module")
def base_and_adapter(heart_files):
    root, clean, _ = heart_files
    common = ["--data", str(clean), "--label", "disease", "--group-column", "dataset"]
    result = run_cli(
        "train-base", *common, "--groups", "Cleveland,Hungary", "--out", str(root / "base")
    )
    assert result.code == 0, result.stderr
    result = run_cli(
        "adapt", "--base", str(root / "base"), *common, "--group", VA, "--out", str(root / "va")
    )
    assert result.code == 0, result.stderr
    return root


def test_a_copy_of_the_label_stops_train_base_before_training(heart_files):
    root, _, leaky = heart_files
    result = run_cli(
        "train-base", "--data", str(leaky), "--label", "disease", "--id-column", "id",
        "--group-column", "dataset", "--groups", "Cleveland,Hungary", "--out", str(root / "b1"),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "error: column 'num' alone predicts 'disease' with AUROC 1.000 on 477 training rows, "
        "at or above the 0.98 that medadapt treats as a leak: a strong predictor on few rows, "
        "or a leak (a copy of the label, a value recorded after the outcome); leave it out "
        "with --exclude num, or keep it with --allow-leak num if it is a genuine predictor "
        "measured before the outcome"
    ]
    assert not (root / "b1").exists()


def test_a_copy_of_the_label_stops_study_before_any_point(heart_files):
    root, _, leaky = heart_files
    result = run_cli(
        "study", "--data", str(leaky), "--label", "disease", "--id-column", "id",
        "--group-column", "dataset", "--groups", "Cleveland,Hungary", "--group", VA,
        "--seeds", "1", "--fractions", "1", "--out", str(root / "s1"),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.splitlines()[-1].startswith("error: column 'num' alone predicts")
    assert not (root / "s1").exists()


def test_allow_leak_keeps_it_and_every_result_warns(heart_files, tmp_path):
    _, _, leaky = heart_files
    base = tmp_path / "leaky_base"
    result = run_cli(
        "train-base", "--data", str(leaky), "--label", "disease", "--id-column", "id",
        "--group-column", "dataset", "--groups", "Cleveland,Hungary", "--allow-leak", "num",
        *TINY_TABLE, "--out", str(base),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "warning: column 'num' (AUROC 1.000) alone predicts 'disease' almost perfectly; kept "
        "because of --allow-leak: results that rely on it will not hold where it is unknown"
    ) in lines
    assert any(line.startswith("warning: AUROC 1.000 and accuracy 1.0 on") for line in lines)
    record = json.loads((base / "model.json").read_text())
    assert record["schema"]["allowed_leaks"] == ["num"]
    assert "too good to be true" in record["training"]["test_metrics"]["notes"]["too_good"]
    out, report = tmp_path / "e.json", tmp_path / "e.html"
    result = run_cli(
        "evaluate", "--base", str(base), "--data", str(leaky), "--group-column", "dataset",
        "--group", VA, "--json", str(out), "--report", str(report),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    evaluation = json.loads(out.read_text())
    assert evaluation["notes"]["too_good"].startswith("AUROC 1.000")
    summary = report.read_text().split('<div class="summary">')[1].split("</ul>")[0]
    assert "<li>Warning: AUROC 1.000" in summary
    assert any(
        line.startswith("warning: column 'num' (AUROC 1.000) alone predicts 'disease' almost "
                        "perfectly in the rows scored")
        for line in result.stdout.splitlines()
    )  # fmt: skip
    # check-data plans on the base's AUROC at the site: a trial's said nothing of its leaks
    planned = tmp_path / "check.json"
    result = run_cli("check-data", "--base", str(base), "--data", str(leaky), "--group", VA,
                     "--json", str(planned))  # fmt: skip
    assert result.code == 0, result.stderr
    kept = ("warning: column 'num' was kept deliberately (--allow-leak / allow_leak=) although "
            "on the base model's training rows")  # fmt: skip
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith(kept)]
    assert len(said) == 1 and said[0].endswith(
        "the base model's figures here, and the numbers planned from them may rest on a leak"
    )
    assert said[0].removeprefix("warning: ") in json.loads(planned.read_text())["warnings"]


def test_numeric_record_ids_are_not_features_and_say_so(base_and_adapter):
    record = json.loads((base_and_adapter / "base" / "model.json").read_text())
    features = [f["name"] for f in record["schema"]["features"]]
    assert "id" not in features and "age" in features
    assert record["schema"]["identifiers"] == ["id"]


def test_the_id_warning_is_one_line_naming_both_fixes(heart_files, tmp_path):
    _, clean, _ = heart_files
    result = run_cli(
        "train-base", "--data", str(clean), "--label", "disease", "--group-column", "dataset",
        "--groups", "Switzerland,Hungary", "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    said = (
        "column 'id' is not used as a feature: it looks like a record identifier (by its "
        "name); pass --id-column id if it identifies patients, or --numeric id to use it as a "
        "feature"
    )
    assert f"warning: {said}" in result.stdout.splitlines()
    record = json.loads((tmp_path / "b" / "model.json").read_text())
    assert record["schema"]["identifiers"] == ["id"]  # kept with the model, as is
    warned = {line.removeprefix("warning: ") for line in result.stdout.splitlines()}
    kept = record["training"]["warnings"]  # what it warned of its data, not only said
    assert kept and set(kept) <= warned and any("lacks more than half" in w for w in kept)


def test_a_site_where_a_base_feature_spells_the_label_stops_adapt(
    base_and_adapter, heart_files, tmp_path
):
    _, clean, _ = heart_files
    frame = pd.read_csv(clean)
    va = frame["dataset"] == VA
    frame.loc[va, "chol"] = np.where(frame.loc[va, "disease"] == "yes", 300.0, 180.0)
    odd = tmp_path / "odd_export.csv"
    frame.to_csv(odd, index=False)
    result = run_cli(
        "adapt", "--base", str(base_and_adapter / "base"), "--data", str(odd), "--label",
        "disease", "--group-column", "dataset", "--group", VA, "--out", str(tmp_path / "a"),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "error: column 'chol' alone predicts 'disease' with AUROC 1.000 on 200 rows adapt "
        "trains and tests on (dataset = VA Long Beach) (its values stand one for one for those "
        "of 'disease' in every one of them: the label under other names), at or above "
        "the 0.98 that medadapt treats as a leak: a copy of the label; where the base "
        "trained, 'chol' was not among the "
        "columns it recorded as strong predictors (0.8 or more): not a predictor the base "
        "already relies on; keep it with --allow-leak chol if it is a genuine "
        "predictor measured before the outcome, remove it from --data and pass "
        "--allow-absent-columns (the base model then reads it as missing), or retrain the base "
        "model without it (train-base --exclude chol)"
    ]
    assert not (tmp_path / "a").exists()
    # 14 training rows are too few to judge a column on; the group's 200 rows are not
    result = run_cli(
        "adapt", "--base", str(base_and_adapter / "base"), "--data", str(odd), "--label",
        "disease", "--group-column", "dataset", "--group", VA, "--train-fraction", "0.1",
        "--out", str(tmp_path / "a"),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.splitlines()[-1].startswith("error: column 'chol' alone predicts")
    assert not (tmp_path / "a").exists()
    # study --base: the fix is a new base (its --exclude is refused with --base), and
    # --allow-leak keeps the column deliberately, with a warning
    study = ["study", "--base", str(base_and_adapter / "base"), "--data", str(odd), "--label",
             "disease", "--group-column", "dataset", "--group", VA, "--seeds", "1",
             "--fractions", "1", "--methods", "base_only", "--n-boot", "10", "--workers",
             "1", "--out", str(tmp_path / "s")]  # fmt: skip
    result = run_cli(*study)
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: column 'chol' alone predicts 'disease' with AUROC 1.000 on 200 rows of the "
        "target group (its values stand one for one for those of 'disease' in every one "
        "of them: the label under other names), at or above the 0.98 that medadapt treats as a "
        "leak: a copy of the label; where the base trained, 'chol' was not among the columns "
        "it recorded as strong predictors "
        "(0.8 or more): not a predictor the base already relies on; keep "
        "it with --allow-leak chol if it is a genuine predictor measured before the outcome, or "
        "retrain the base model without it (train-base --exclude chol)"
    )
    assert not (tmp_path / "s").exists()
    result = run_cli(*study, "--allow-leak", "chol")
    assert result.code == 0, result.stderr
    assert "kept because of --allow-leak" in " ".join(result.stdout.split())


def test_a_resaved_training_file_is_recognised_by_content(base_and_adapter, heart_files, tmp_path):
    root = base_and_adapter
    _, clean, _ = heart_files
    frame = pd.read_csv(clean)
    resaved = tmp_path / "resaved.csv"
    frame[list(reversed(frame.columns))].assign(note="x").to_csv(
        resaved, index=False, lineterminator="\r\n"
    )  # other bytes: CRLF, columns reversed, one column more
    original, copy = tmp_path / "original.json", tmp_path / "copy.json"
    assert run_cli(
        "evaluate", "--base", str(root / "base"), "--adapter", str(root / "va"),
        "--data", str(clean), "--json", str(original),
    ).code == 0  # fmt: skip
    result = run_cli(
        "evaluate", "--base", str(root / "base"), "--adapter", str(root / "va"),
        "--data", str(resaved), "--group-column", "dataset", "--group", VA, "--json", str(copy),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    held_out, recognised = json.loads(original.read_text()), json.loads(copy.read_text())
    used = held_out["rows_used"]  # the others counted (a trial's 116 others went unsaid)
    assert used.startswith("the adapter's 60 held-out rows; of the ")
    total, others, *counts = map(int, re.findall(r"(\d+) (?:in --data|others|trained|the base"
                                                 r"|neither)", used))  # fmt: skip
    assert others == total - 60 and sum(counts) == others and counts[0] == 140
    assert recognised["rows_used"] == (
        "dataset = VA Long Beach, minus 140 rows that match rows the adapter trained on (by "
        "content)"
    )
    assert recognised["n_excluded_trained"] == {"adapter": 140}
    assert (recognised["n"], recognised["auroc"]) == (held_out["n"], held_out["auroc"])
    split = (root / "va" / "split.json").read_text()
    assert "Cleveland" not in split and "typical angina" not in split  # hashes, not values


def test_rows_a_fully_fine_tuned_model_trained_on_are_said_to_be_its_own(
    base_and_adapter, heart_files, tmp_path
):
    """``evaluate --base`` of a fully fine-tuned model said the rows left out matched rows
    "the adapter" trained on: there is none, the fine-tuned model trained on them."""
    root = base_and_adapter
    _, clean, _ = heart_files
    full = tmp_path / "va_full"
    common = ["--data", str(clean), "--label", "disease", "--group-column", "dataset"]
    result = run_cli("adapt", "--base", str(root / "base"), *common, "--group", VA,
                     "--method", "full", "--out", str(full))  # fmt: skip
    assert result.code == 0, result.stderr
    said = tmp_path / "e.json"
    result = run_cli("evaluate", "--base", str(full), "--data", str(clean), "--group-column",
                     "dataset", "--group", VA, "--json", str(said))  # fmt: skip
    assert result.code == 0, result.stderr
    rows_used = json.loads(said.read_text())["rows_used"]
    assert rows_used.startswith("dataset = VA Long Beach, minus ")
    assert rows_used.endswith("rows that match rows the fine-tuned model trained on (by content)")
    assert "adapter" not in rows_used
    # predict's model column named it "base model ID alone": not the base, nor alone
    predicted = tmp_path / "p.csv"
    result = run_cli("predict", "--base", str(full), "--data", str(clean), "--out",
                     str(predicted))  # fmt: skip
    assert result.code == 0, result.stderr
    weights = json.loads((full / "model.json").read_text())["fingerprint"]["weights"]
    name = json.loads((full / "model.json").read_text())["training"]["adapted"]["name"]
    assert set(pd.read_csv(predicted)["model"]) == {
        f"fully fine-tuned model {weights[:12]} ({name})"
    }


@pytest.mark.parametrize("copy", ["float32 parquet", "rounding noise"])
def test_a_training_row_stored_with_other_precision_is_still_recognised(
    base_and_adapter, heart_files, tmp_path, copy
):
    """A Parquet export with float32 columns (2.3 becomes 2.29999995) or values off in their
    ninth significant digit are the same patients: numbers are compared at 6 significant
    digits."""
    root = base_and_adapter
    _, clean, _ = heart_files
    frame = pd.read_csv(clean)
    if copy == "float32 parquet":
        changed = tmp_path / "copy.parquet"
        numeric = frame.select_dtypes("number").columns
        frame.astype({c: "float32" for c in numeric}).to_parquet(changed)
        assert (frame.astype({c: "float32" for c in numeric})["oldpeak"].astype(float)
                != frame["oldpeak"]).any()  # fmt: skip
    else:
        changed = tmp_path / "copy.csv"
        noisy = frame.assign(oldpeak=frame["oldpeak"] * (1 + 1e-9), chol=frame["chol"] * (1 - 1e-9))
        noisy.to_csv(changed, index=False)
    out = tmp_path / "copy.json"
    result = run_cli(
        "evaluate", "--base", str(root / "base"), "--adapter", str(root / "va"),
        "--data", str(changed), "--group-column", "dataset", "--group", VA, "--json", str(out),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    recognised = json.loads(out.read_text())
    assert recognised["n_excluded_trained"] == {"adapter": 140}
    assert recognised["n"] == 60


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--label", "age"), "error: the base model predicts 'disease', not 'age'; pass --label "
         "disease (the base's outcome), or train a base that predicts 'age' (train-base --label "
         "age)"),
        (("--label", "disease", "--groups", "Cleveland"), "error: --groups names the groups "
         "study trains its own base on, but --base gives one: drop --groups (the base's "
         "training rows are known from the base)"),
    ],
)  # fmt: skip
def test_study_with_a_base_refuses_a_label_or_groups_it_would_ignore(
    base_and_adapter, heart_files, tmp_path, flags, expected
):
    """study --base --label age ran 46 s on 'num' and exited 0; --groups was ignored."""
    _, clean, _ = heart_files
    result = run_cli(
        "study", "--base", str(base_and_adapter / "base"), "--data", str(clean), *flags,
        "--group-column", "dataset", "--group", VA, "--out", str(tmp_path / "s"),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == expected
    assert not (tmp_path / "s").exists()


def test_evaluate_without_a_group_column_says_it_blends_internal_and_external_patients(
    base_and_adapter, heart_files
):
    """A trial: the base trained on Cleveland and Hungary, evaluated on the whole file
    without --group-column, gave one AUROC over its own held-out rows and two sites it never
    saw, with no word; now a warning counts both and says how to see each site."""
    root, clean, _ = heart_files
    out = root / "all.json"
    result = run_cli("evaluate", "--base", str(root / "base"), "--data", str(clean),
                     "--json", str(out))  # fmt: skip
    assert result.code == 0, result.stderr
    scored = json.loads(out.read_text())
    heart = pd.read_csv(clean)
    training = json.loads((root / "base" / "model.json").read_text())["training"]
    held_out = int(heart["dataset"].isin(["Cleveland", "Hungary"]).sum()) - (
        training["n_train"] + training["n_val"]
    )  # the base's test rows at its own sites
    external = int((~heart["dataset"].isin(["Cleveland", "Hungary"])).sum())
    [said] = [w for w in scored["data_warnings"] if "blend" in w]
    assert said == (
        f"the {scored['n']} rows scored mix {scored['n'] - external} of dataset = 'Cleveland' "
        "or 'Hungary', where the base model trained (its held-out rows: internal validation), "
        f"with {external} of other groups it never saw (external validation): the overall "
        "figures blend the two; read each group's figures by dataset below, or add "
        "--group NAME to score one"
    )
    assert set(scored["subgroups"]["dataset"]) == set(
        heart["dataset"].unique()
    )  # the table, without --group-column
    assert scored["n"] - external == held_out > 0
    grouped = run_cli("evaluate", "--base", str(root / "base"), "--data", str(clean),
                      "--group-column", "dataset")  # fmt: skip
    assert grouped.code == 0 and "blend" not in grouped.stdout + grouped.stderr
    assert "dataset = VA Long Beach" in grouped.stdout
