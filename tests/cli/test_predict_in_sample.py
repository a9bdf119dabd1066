"""What ``predict`` says of rows it was not meant for: rows the base model or the adapter
trained on (recognised by content, with or without the label), the outcome column left in
the file, and the adapter's group column, which it reads (a trial was told "train a new
base to use it")."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from medadapt.data.heart import bundled_path
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

SITE = "VA Long Beach"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("in_sample")
    heart = pd.read_csv(bundled_path())
    data, source = root / "heart.csv", root / "source.csv"
    heart.to_csv(data, index=False)
    main = heart[heart["dataset"].isin(["Cleveland", "Hungary"])].drop(columns=["dataset"])
    main.to_csv(source, index=False)  # the main hospital's export: no site column
    succeeded(run_cli("train-base", "--data", source, "--label", "num", "--positive-above", "0",
                      "--id-column", "id", *QUICK_TABLE, "--out", root / "base"))  # fmt: skip
    succeeded(run_cli("adapt", "--base", root / "base", "--data", data, "--group-column",
                      "dataset", "--group", SITE, "--out", root / "adapter"))  # fmt: skip
    return root, heart


def _lines(result) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def _warnings(result) -> list[str]:
    return [line for line in _lines(result) if "in-sample" in line]


def test_rows_the_models_trained_on_are_counted_with_or_without_the_label(models):
    root, heart = models
    split = json.loads((root / "base" / "model.json").read_text())["training"]
    adapter = json.loads((root / "adapter" / "adapter.json").read_text())
    n_adapter = adapter["metadata"]["data_summary"]["n_train"]
    trained = split["n_train"] + split["n_val"] + n_adapter
    site = heart[heart["dataset"] == SITE].sample(frac=1, random_state=1)  # another order
    for name, frame in [("with.csv", site), ("without.csv", site.drop(columns=["num"]))]:
        frame.to_csv(root / name, index=False)
        said = succeeded(run_cli("predict", "--base", root / "base", "--adapter",
                                 root / "adapter", "--data", root / name, "--out",
                                 root / f"p_{name}"))  # fmt: skip
        assert _warnings(said) == [
            f"warning: {n_adapter} of the {len(site)} rows predicted match rows that adapter "
            f"'{adapter['name']}' trained on (by content; column trained_on says which): their "
            "predictions are in-sample, more confident and more often right than the model is "
            "on new patients; 'medadapt evaluate' leaves them out of its figures"
        ]
        written = pd.read_csv(root / f"p_{name}", keep_default_na=False)
        assert written["trained_on"].value_counts().to_dict() == {
            f"adapter '{adapter['name']}'": n_adapter,
            "": len(site) - n_adapter,
        }
    whole = succeeded(run_cli("predict", "--base", root / "base", "--adapter", root / "adapter",
                              "--data", root / "heart.csv", "--out", root / "all.csv"))  # fmt: skip
    assert (
        f"warning: {trained} of the {len(heart)} rows predicted match rows that the base model or "
        f"adapter '{adapter['name']}' trained on (by content"
    ) in " ".join(whole.stdout.split())


def test_the_outcome_left_in_the_file_is_said_to_be_unread(models):
    root, heart = models
    new = heart[heart["dataset"] == "Switzerland"]  # no model trained on these
    new.to_csv(root / "swiss.csv", index=False)
    said = succeeded(run_cli("predict", "--base", root / "base", "--data", root / "swiss.csv",
                             "--out", root / "swiss_p.csv"))  # fmt: skip
    assert (
        "note: column 'num' (the outcome the model predicts) is in --data and not read: "
        "predictions never use it; to measure the model on these labelled rows, run 'medadapt "
        "evaluate' (it leaves out the rows the model trained on)"
    ) in _lines(said)
    assert not _warnings(said)
    new.drop(columns=["num"]).to_csv(root / "swiss_nolabel.csv", index=False)
    quiet = succeeded(run_cli("predict", "--base", root / "base", "--data",
                              root / "swiss_nolabel.csv", "--out", root / "q.csv"))  # fmt: skip
    assert "outcome the model predicts" not in quiet.stdout + quiet.stderr
    # the column is there, empty, where none trained on a row (a trial's image predictions
    # had it in one file and not in the next)
    for written in ("swiss_p.csv", "q.csv"):
        marked = pd.read_csv(root / written, keep_default_na=False)["trained_on"]
        assert marked.tolist() == [""] * len(new)


def test_the_adapters_group_column_is_not_said_to_be_unread(models):
    root, heart = models
    frame = heart[heart["dataset"] == SITE].assign(ward="A")  # a column no model reads
    frame.to_csv(root / "ward.csv", index=False)
    said = succeeded(run_cli("predict", "--base", root / "base", "--adapter", root / "adapter",
                             "--data", root / "ward.csv", "--out", root / "w.csv"))  # fmt: skip
    [unread] = [line for line in _lines(said) if "not read by the model" in line]
    assert unread.startswith("note: 1 column of --data is not read by the model: 'ward' (")


def test_adapt_records_the_warnings_it_said_with_the_adapter(models):
    """Said once at adapt, they were lost: now ``registry show`` and the card repeat them."""
    root, _ = models
    recorded = json.loads((root / "adapter" / "adapter.json").read_text())["metadata"]
    said = recorded["data_summary"]["training_warnings"]
    assert any(w.startswith("column 'chol' is 0 in ") for w in said)
    assert len(said) == len(set(said))


def test_a_sites_own_export_without_a_site_column_is_told_how_to_adapt_on_it(models, tmp_path):
    """A trial's site export had no site column: adapt asked for --group, then for
    --group-column, and nothing said to add a column naming the site."""
    root, heart = models
    site = tmp_path / "site_export.csv"
    heart[heart["dataset"] == SITE].drop(columns=["dataset"]).to_csv(site, index=False)
    said = error_line(run_cli("adapt", "--base", root / "base", "--data", site, "--out",
                              tmp_path / "a"))  # fmt: skip
    assert said == (
        "error: --group is required to adapt on a table: name the group column and the target "
        "group (where every row is the new site's, add a column holding its name on every "
        "row, e.g. site, and pass --group-column site --group NAME)"
    )
    named = ("--group-column", "site", "--group", "VA")
    said = error_line(run_cli("adapt", "--base", root / "base", "--data", site, "--out",
                              tmp_path / "a", *named))  # fmt: skip
    assert said.endswith(
        "; if every row is one site's, add a column 'site' holding its name on every row"
    )


def test_the_label_in_another_case_is_said_to_be_the_label_not_an_unread_column(models):
    """A trial's 'Malignant' column (the label 'malignant' in another case) was called a
    column the model does not read: "train a new base to use it"."""
    root, heart = models
    new = heart[heart["dataset"] == "Switzerland"].rename(columns={"num": "NUM"})
    new.to_csv(root / "swiss_upper.csv", index=False)
    said = succeeded(run_cli("predict", "--base", root / "base", "--data",
                             root / "swiss_upper.csv", "--out", root / "u.csv"))  # fmt: skip
    lines = _lines(said)
    assert not [line for line in lines if "not read by the model" in line and "NUM" in line]
    assert any(line.startswith("note: column 'NUM' (the outcome the model predicts)")
               for line in lines)  # fmt: skip


def test_one_image_predicted_in_sample_is_an_image():
    """A trial: "1 of the 3 images predicted matches a image that ..."."""
    from medadapt.workflows.evaluate import in_sample_sentence

    assert in_sample_sentence(1, 3, "images", "adapter 'h2'").startswith(
        "1 of the 3 images predicted matches an image that adapter 'h2' trained on (by content;"
    )
    assert in_sample_sentence(1, 3, "rows", "the base model").startswith(
        "1 of the 3 rows predicted matches a row that the base model trained on"
    )


def test_in_sample_predictions_of_a_measured_value_are_said_to_be_closer_not_more_often_right():
    """A trial's diabetes predictions were said "more confident and more often right"."""
    from medadapt.workflows.evaluate import in_sample_sentence

    assert in_sample_sentence(3, 9, "rows", "adapter 'east'", measured=True) == (
        "3 of the 9 rows predicted match rows that adapter 'east' trained on (by content; "
        "column trained_on says which): their predictions are in-sample, closer to the "
        "measured values than the model is on new patients; 'medadapt evaluate' leaves them "
        "out of its figures"
    )


def test_no_empty_trained_on_column_where_a_model_records_no_split(models, tmp_path):
    """A base saved before splits were recorded, with an adapter that records its own: an
    empty ``trained_on`` would say that no model trained on the rows, which nothing can say
    of the base's (a review of the column written whenever rows could be recognised)."""
    import shutil

    from medadapt.fileio import RECORD_SHA256

    root, heart = models
    older = tmp_path / "older_base"
    shutil.copytree(root / "base", older)
    manifest = json.loads((older / "model.json").read_text())
    manifest["training"].pop("split")
    manifest.pop(RECORD_SHA256)  # as saved before either was recorded
    (older / "model.json").write_text(json.dumps(manifest))
    (older / "split.json").unlink()
    heart[heart["dataset"] == "Switzerland"].to_csv(tmp_path / "swiss.csv", index=False)
    for base, column in ((root / "base", True), (older, False)):
        succeeded(
            run_cli(
                "predict",
                "--base",
                base,
                "--adapter",
                root / "adapter",
                "--data",
                tmp_path / "swiss.csv",
                "--out",
                tmp_path / "p.csv",
                "--force",
            )
        )
        written = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
        assert ("trained_on" in written.columns) is column, base


def test_an_id_column_named_as_a_column_predict_writes_is_refused(tmp_path):
    """A review: an id column named ``model`` (or ``trained_on``) would have been replaced by
    predict's own column, its patients lost from the file."""
    heart = pd.read_csv(bundled_path()).rename(columns={"id": "model"})
    heart.to_csv(tmp_path / "heart.csv", index=False)
    succeeded(run_cli("train-base", "--data", tmp_path / "heart.csv", "--label", "num",
                      "--positive-above", "0", "--id-column", "model", *QUICK_TABLE, "--out",
                      tmp_path / "base"))  # fmt: skip
    said = run_cli("predict", "--base", tmp_path / "base", "--data", tmp_path / "heart.csv",
                   "--out", tmp_path / "p.csv")  # fmt: skip
    assert error_line(said) == (
        "error: the id column 'model' of --data has the name of a column predict writes "
        "('p_1', 'predicted', 'outside_training', 'missing_features', 'trained_on', 'model'), "
        "which would replace it: rename it in --data (a base model trained with --id-column "
        "model is retrained with the new name)"
    )
    assert not (tmp_path / "p.csv").exists()
