"""What ``federate`` says of the sites' data before the rounds, as ``train-base`` and ``adapt``
say it of the same data: rows without a label, a class with too few patients at a site, too
few training patients, a feature column empty at a site, the identifiers and "not measured"
codes of a base trained here; and a measured label given to a base that makes classes by a
threshold, named as such. No Flower run: the checks come before it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.errors import DataError
from medadapt.federated.config import FederatedRun
from medadapt.federated.sites import (
    Site,
    SiteError,
    _check_both_classes,
    beyond_threshold,
    check_site_rows,
    preflight,
    read_sites,
    site_warnings,
)
from medadapt.modalities import modality_of
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import error_line, run_cli

TINY = {"d_token": 16, "n_blocks": 1, "n_heads": 2}
TINY_FLAGS = ("--d-token", "16", "--n-blocks", "1", "--n-heads", "2")
EMPTY = "2 of the model's 13 feature columns are empty in all {n} rows ('chol', 'ca')"


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    return ma.load_heart_disease()


@pytest.fixture(scope="module")
def base(heart, tmp_path_factory) -> Path:
    """A small base trained at Cleveland (``num > 0``, patients by ``id``)."""
    root = tmp_path_factory.mktemp("sites_said")
    heart.to_csv(root / "heart.csv", index=False)
    train_base_job(data=root / "heart.csv", out=root / "base", label="num",
                   group_column="dataset", groups=["Cleveland"], id_column="id",
                   options=TabularOptions(positive_above=0, **TINY))  # fmt: skip
    return root / "base"


def _small_site(heart: pd.DataFrame) -> pd.DataFrame:
    """Ten Swiss rows as site "Tiny": 4 patients without the disease, 4 with it (two of them
    seen twice); 'chol' and 'ca' empty in every row."""
    swiss = heart[heart["dataset"] == "Switzerland"]
    rows = pd.concat([swiss[swiss["num"] == 0].head(4), swiss[swiss["num"] > 0].head(6)]).copy()
    rows["id"] = [*rows["id"].iloc[:8], rows["id"].iloc[7], rows["id"].iloc[6]]  # repeat visits
    return rows.assign(dataset="Tiny", ca=np.nan, chol=np.nan)


def test_each_site_is_told_what_adapt_would_say_of_its_rows(heart, base, tmp_path):
    hungary = heart[heart["dataset"] == "Hungary"].copy()
    hungary.loc[hungary.index[:7], "num"] = np.nan  # seven rows without an outcome
    pd.concat([hungary, _small_site(heart)]).to_csv(tmp_path / "sites.csv", index=False)
    run = FederatedRun(base_dir=base, data=tmp_path / "sites.csv", label="num",
                       group_column="dataset", sites=("Hungary", "Tiny"))  # fmt: skip
    said = site_warnings(read_sites(run), fix="give this site more rows")
    assert said[0] == ("7 of the file's 304 rows have no value in label column 'num': left out "
                       "(a missing outcome is never guessed)")  # fmt: skip
    assert all(line.startswith(("site Hungary: ", "site Tiny: ")) for line in said[1:]), said
    tiny = [line.removeprefix("site Tiny: ") for line in said if line.startswith("site Tiny: ")]
    assert tiny[0].startswith(  # counted by patient: two of the ten rows are repeat visits
        "classes '0' and '1' have 4 and 4 of the 8 patients of this site (fewer than 5, the "
        "fewest any figure about a class rests on; "
    ), tiny
    assert tiny[1].startswith("only ") and " training patients (" in tiny[1], tiny
    assert tiny[1].endswith("rows): the adapter's figures will be very uncertain; give this "
                            "site more rows")  # fmt: skip
    assert any(line.startswith(EMPTY.format(n=10)) for line in tiny), tiny
    # it trains, but too few are held out for any figure there (a trial's site learnt it late)
    unscored = [line for line in tiny if "too few for any figure" in line]
    assert len(unscored) == 1 and unscored[0].endswith(
        "it trains the shared adapter, but its rounds will say nothing of how the adapter does "
        "here; give more rows"  # few to train on too: not "hold out more" (a review)
    ), unscored


def test_a_site_left_few_training_rows_by_its_test_fraction_is_told_to_hold_out_fewer(
    heart, base, tmp_path
):
    """A trial's ``--test-fraction 0.95`` left a 40-row site 2 training rows, and was told
    to give the site more rows (it had them: 38 were held out)."""
    hungary = heart[heart["dataset"] == "Hungary"]
    site = pd.concat([hungary[hungary["num"] == 0].head(20), hungary[hungary["num"] > 0].head(20)])
    site.to_csv(tmp_path / "forty.csv", index=False)
    run = FederatedRun(base_dir=base, data=tmp_path / "forty.csv", label="num",
                       group_column="dataset", sites=("Hungary",), test_fraction=0.95)  # fmt: skip
    data = read_sites(run)
    n_train, n_test = len(data.sites["Hungary"].train), len(data.sites["Hungary"].test)
    assert n_train < 10 and n_train + n_test == 40
    said = site_warnings(data, fix="give this site more rows")
    assert (
        f"site Hungary: only {n_train} training rows: the adapter's figures will be very "
        f"uncertain; hold out fewer with a lower --test-fraction ({n_test} of the 40 rows are "
        "held out), or give this site more rows"
    ) in said, said


def test_a_measured_label_given_to_a_threshold_base_is_named_as_such():
    """Blood sugar (~130) given to a base that predicts ``num > 0``: every row is class '1';
    said as the threshold and the measurement, not as a site of one outcome."""
    schema = SimpleNamespace(label="num", positive_above=0.0, task="binary", classes=["0", "1"])
    rng = np.random.default_rng(0)
    measured = SimpleNamespace(frame=pd.DataFrame({"num": rng.normal(130, 40, 60).clip(20)}))
    assert beyond_threshold(schema, measured, np.arange(60), "rows") == (
        "every value of label 'num' is above the base model's threshold 0 (it predicts num > 0), "
        "so all 60 rows are one class: this data is not what the base was trained for (60 "
        "distinct values: a measurement, not an outcome's codes); give this site the outcome "
        "the base predicts"
    )
    codes = SimpleNamespace(frame=pd.DataFrame({"num": [1.0, 2.0, 3.0, 4.0] * 10}))
    assert beyond_threshold(schema, codes, np.arange(40), "rows") is None  # all with disease
    unthresholded = SimpleNamespace(label="num", positive_above=None)
    assert beyond_threshold(unthresholded, measured, np.arange(60), "rows") is None
    samples = SimpleNamespace(labels=np.ones(60, dtype=int), frame=measured.frame)
    with pytest.raises(SiteError) as error:
        _check_both_classes(modality_of("tabular"), SimpleNamespace(schema=schema), samples,
                            Site("South", np.arange(40), np.arange(40, 60)))  # fmt: skip
    assert str(error.value).startswith("site South: every value of label 'num' is above the "
                                       "base model's threshold 0")  # fmt: skip


def test_a_hospital_hears_of_its_own_data_before_it_joins(heart, base, tmp_path):
    """``federate client``'s checks: the notes are for the hospital's terminal (its rows never
    leave); a measured label is named by the threshold."""
    swiss = heart[(heart["dataset"] == "Switzerland") & (heart["num"] > 0)]
    extra = swiss.iloc[10:14].assign(dataset="Tiny", ca=np.nan, chol=np.nan)
    site = pd.concat([_small_site(heart), extra]).drop(columns="dataset")
    site.to_csv(tmp_path / "tiny.csv", index=False)
    checked = preflight(tmp_path / "tiny.csv", base, "Tiny")
    assert checked.n == 14 and checked.unread_columns == []  # every column the base's
    notes = checked.notes
    assert notes[0].startswith("class '0' has 4 of the 12 patients of this site (fewer than 5")
    assert any(note.startswith(EMPTY.format(n=14)) for note in notes), notes
    measured = heart[heart["dataset"] == "Hungary"].assign(num=lambda f: f["age"] + 0.5)
    measured.to_csv(tmp_path / "measured.csv", index=False)
    with pytest.raises(DataError) as error:
        preflight(tmp_path / "measured.csv", base, "Hungary")
    assert str(error.value).startswith(
        f"--data {tmp_path / 'measured.csv'}: every value of label 'num' is above the base "
        "model's threshold 0 (it predicts num > 0), so all 294 rows are one class"
    )


def test_simulate_says_the_site_warnings_before_the_rounds(heart, base, tmp_path, monkeypatch):
    import medadapt.federated.job as job

    def no_rounds(*args, **kwargs):
        raise DataError("stopped before the rounds (test)")

    monkeypatch.setattr(job, "federate_job", no_rounds)
    sites = pd.concat([heart[heart["dataset"] == "Hungary"], _small_site(heart)])
    sites.to_csv(tmp_path / "sites.csv", index=False)
    said = run_cli("federate", "simulate", "--data", tmp_path / "sites.csv", "--label", "num",
                   "--group-column", "dataset", "--groups", "Hungary,Tiny", "--base", base,
                   "--out", tmp_path / "fed")  # fmt: skip
    assert said.code != 0 and "stopped before the rounds (test)" in said.stderr
    lines = said.stdout.splitlines()
    assert any(line.startswith("warning: site Tiny: classes '0' and '1' have 4 and 4 of the 8 "
                               "patients of this site") for line in lines), said.stdout  # fmt: skip
    assert any(line.startswith("warning: site Tiny: only ") for line in lines), said.stdout
    assert not (tmp_path / "fed").exists()


def test_a_base_trained_here_says_what_train_base_says(heart, tmp_path, monkeypatch):
    """``--base-groups`` trains the base as ``train-base`` would, and says the same of the
    data (an identifier left out, a "not measured" code); a run that then fails (stopped
    here after the base, before the rounds) writes nothing."""
    import medadapt.federated.job as job

    def stopped(*args, **kwargs):
        raise DataError("site Hungary: stopped by the test, after the base")

    monkeypatch.setattr(job, "federate_job", stopped)
    frame = heart.copy()
    frame.loc[frame["dataset"] == "Switzerland", "chol"] = 0.0  # "not measured", as 0
    frame.to_csv(tmp_path / "heart.csv", index=False)
    said = run_cli("federate", "simulate", "--data", tmp_path / "heart.csv", "--label", "num",
                   "--positive-above", "0", "--group-column", "dataset", "--groups",
                   "Hungary,VA Long Beach", "--base-groups", "Cleveland,Switzerland",
                   *TINY_FLAGS, "--out", tmp_path / "fed")  # fmt: skip
    assert said.code == 2, said.stderr
    assert ("warning: column 'id' is not used as a feature: it looks like a record identifier"
            in said.stdout)  # fmt: skip
    # the base's, said as its own (a trial read it with no owner)
    assert "warning: base model, on Cleveland and Switzerland's rows: column 'chol' is 0 in " in (
        " ".join(said.stdout.split()))  # fmt: skip
    assert "pass --missing-code chol=0" in said.stdout
    assert "error: site Hungary: stopped by the test, after the base" in said.stderr
    assert not (tmp_path / "fed").exists()


def test_the_readme_simulate_example_reads_the_not_measured_codes(tmp_path, monkeypatch):
    """The README's simulate example left out the ``--missing-code chol=0,trestbps=0`` the
    README says the bundled file needs, so every run of it warned of Switzerland's cholesterol
    of 0; with ``--base-groups`` the base trained here keeps the codes, and no site is warned."""
    import re
    import shlex
    import shutil

    import medadapt.federated.job as job
    from medadapt.data.heart import bundled_path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [example] = re.findall(r"^medadapt federate simulate --.*?(?<!\\)$", readme, re.M | re.S)
    words = shlex.split(example.replace("\\\n", " "))
    assert words[words.index("--missing-code") + 1] == "chol=0,trestbps=0"

    def no_rounds(*args, **kwargs):
        raise DataError("stopped before the rounds (test)")

    monkeypatch.setattr(job, "federate_job", no_rounds)
    monkeypatch.chdir(tmp_path)
    shutil.copy(bundled_path(), "heart.csv")  # as the README writes it: zeros as they are
    at = words.index("--missing-code")
    without = run_cli(*words[1:at], *words[at + 2 :], *TINY_FLAGS)  # stops before the rounds
    assert "retrain the base with --missing-code chol=0" in without.stdout, without.stdout
    said = run_cli(*words[1:], *TINY_FLAGS)
    assert said.code != 0 and "stopped before the rounds (test)" in said.stderr, said.stderr
    assert "--missing-code" not in said.stdout, said.stdout
    # a trial: the base, trained on Cleveland's rows, warned of them as Cleveland's note did
    warned = [line.removeprefix("warning: ") for line in said.stdout.splitlines()
              if line.startswith("warning: ")]  # fmt: skip
    of_sites = [line.split(": ", 1)[1] for line in warned if line.startswith("site ")]
    assert of_sites and not set(of_sites) & set(warned), warned
    assert any("the rarer class has" in line for line in warned), warned  # the base's own


LEAK = (
    "column 'oldpeak' alone predicts 'num' with AUROC 1.000 on {n} rows of this site (its "
    "values stand one for one for those of 'num' in every one of them: the label under "
    "other names), at or above the 0.98 that medadapt treats as a leak: a copy of the label; "
    "where the base trained, 'oldpeak' "
    "was not among the columns it recorded as strong predictors (0.8 or more): not a "
    "predictor the base already relies on; keep it with --allow-leak oldpeak "
    "if it is a genuine predictor measured before the outcome, or correct the site's export of it"
)
KEPT = (
    "column 'oldpeak' (AUROC 1.000) alone predicts 'num' almost perfectly; kept because of "
    "--allow-leak: results that rely on it will not hold where it is unknown"
)


def _leaky(heart: pd.DataFrame) -> pd.DataFrame:
    """Hungary's export holds the diagnosis in 'oldpeak' (a leak at one site only: the base,
    trained at Cleveland, read a genuine 'oldpeak')."""
    frame = heart[heart["dataset"].isin(["Hungary", "VA Long Beach"])].copy()
    hungary = frame["dataset"] == "Hungary"
    frame.loc[hungary, "oldpeak"] = frame.loc[hungary, "num"] * 1.5
    return frame


def test_a_leak_at_one_site_is_refused_by_name_before_the_rounds(heart, base, tmp_path):
    """``adapt``'s leak checks run on each site's rows: before, a copy of the outcome in one
    hospital's export trained the shared adapter without a word."""
    _leaky(heart).to_csv(tmp_path / "sites.csv", index=False)
    said = run_cli("federate", "simulate", "--data", tmp_path / "sites.csv", "--label", "num",
                   "--group-column", "dataset", "--groups", "Hungary,VA Long Beach", "--base",
                   base, "--out", tmp_path / "fed")  # fmt: skip
    assert said.code == 2 and not (tmp_path / "fed").exists()
    assert said.stderr.strip() == (
        "error: column 'oldpeak' alone predicts 'num' at site Hungary (AUROC 1.000 on 294 rows), "
        "at or above the 0.98 that medadapt treats as a leak: a copy of the label (the values "
        "of 'num' under other names in every row); keep it with --allow-leak oldpeak if it is "
        "a genuine predictor measured before the outcome, or "
        "correct the site's export of it (or leave site Hungary out of --groups, or pass "
        "--on-site-error continue to go on without it)"
    )
    run = FederatedRun(base_dir=base, data=tmp_path / "sites.csv", label="num",
                       group_column="dataset", sites=("Hungary", "VA Long Beach"))  # fmt: skip
    data = read_sites(run)
    tabular = modality_of("tabular")
    assert check_site_rows(data, tabular.options(allow_leak="oldpeak")) == [f"site Hungary: {KEPT}"]


def _leaky_everywhere(heart: pd.DataFrame) -> pd.DataFrame:
    """Every step of a run leaks: Cleveland's rows (the base's) hold the diagnosis in
    'trestbps', Hungary's and VA Long Beach's in 'oldpeak', VA Long Beach's also in 'thalch'."""
    frame = heart[heart["dataset"].isin(["Cleveland", "Hungary", "VA Long Beach"])].copy()
    site = frame["dataset"]
    frame.loc[site == "Cleveland", "trestbps"] = 120 + frame["num"] * 7
    frame.loc[site != "Cleveland", "oldpeak"] = frame["num"] * 1.5
    frame.loc[site == "VA Long Beach", "thalch"] = 100 + frame["num"] * 10
    return frame


def test_every_leak_of_a_simulation_is_refused_at_once_before_anything_trains(
    heart, base, tmp_path, monkeypatch
):
    """The trial: the base's leak was refused first; fixed, the first site's; then the next
    site's. A simulation holds every site's rows: all are judged before the base trains, and
    one refusal names every column with where it leaks and the fix (``--exclude`` is there
    when the run trains its base)."""
    import medadapt.workflows.train_base as train_base

    def no_base(*args, **kwargs):
        raise AssertionError("the base trained before the leaks were refused")

    monkeypatch.setattr(train_base, "train_base_job", no_base)
    _leaky_everywhere(heart).to_csv(tmp_path / "sites.csv", index=False)
    common = ("federate", "simulate", "--data", tmp_path / "sites.csv", "--label", "num",
              "--group-column", "dataset", "--groups", "Hungary,VA Long Beach")  # fmt: skip
    said = run_cli(*common, "--positive-above", "0", "--base-groups", "Cleveland", *TINY_FLAGS,
                   "--out", tmp_path / "fed")  # fmt: skip
    assert said.code == 2 and not (tmp_path / "fed").exists(), said.stderr
    assert said.stderr.strip() == (
        "error: columns each alone predict 'num': 'trestbps' in the base's training rows "
        "(AUROC 1.000 on 242 rows); 'oldpeak' at site Hungary (AUROC 1.000 on 294 rows) and at "
        "site VA Long Beach (AUROC 1.000 on 200 rows); 'thalch' at site VA Long Beach (AUROC "
        "1.000 on 200 rows), at or above the 0.98 that medadapt treats as a leak: copies of the "
        "label (each the values of 'num' under other names in every row); leave them out with "
        "--exclude trestbps,oldpeak,thalch, or keep them with "
        "--allow-leak trestbps,oldpeak,thalch if they are genuine predictors measured before the "
        "outcome (or for 'oldpeak' and 'thalch', leave sites Hungary, VA Long Beach out of "
        "--groups, or pass --on-site-error continue to go on without them)"
    )  # 'trestbps' leaks in the base's rows: leaving a site out does not fix it
    given = run_cli(*common, "--base", base, "--out", tmp_path / "fed")  # a base given: the
    # sites' columns, with the flags that apply there
    assert given.code == 2 and not (tmp_path / "fed").exists()
    assert given.stderr.strip().startswith(
        "error: columns each alone predict 'num': 'oldpeak' at site Hungary (AUROC 1.000 on 294 "
        "rows) and at site VA Long Beach (AUROC 1.000 on 200 rows); 'thalch' at site VA Long "
        "Beach (AUROC 1.000 on 200 rows), "
    ), given.stderr
    assert given.stderr.strip().endswith(
        "keep them with --allow-leak oldpeak,thalch if they are genuine predictors measured "
        "before the outcome, or correct the sites' export of them (or leave sites Hungary, VA "
        "Long Beach out of --groups, or pass --on-site-error continue to go on without them)"
    )


def test_the_node_of_a_leaky_site_refuses_too(heart, base, tmp_path):
    """A site left out by the command (``--on-site-error continue``) is refused by its own
    node as well, so it does not train the shared adapter; a column the run keeps is kept
    there too (simulation: the run's options; deployment: the client's node config)."""
    from medadapt.federated import client

    _leaky(heart).to_csv(tmp_path / "sites.csv", index=False)
    run = FederatedRun(base_dir=base, data=tmp_path / "sites.csv", label="num",
                       group_column="dataset", sites=("Hungary", "VA Long Beach"))  # fmt: skip
    node = SimpleNamespace(node_config={"partition-id": 0}, run_config={})
    with pytest.raises(SiteError) as error:
        client.local_site(run, node)
    assert str(error.value) == f"site Hungary: {LEAK.format(n=294)}"
    kept = FederatedRun(**{**run.__dict__, "options": {"allow_leak": "oldpeak"}})
    assert client.local_site(kept, node).name == "Hungary"
    hospital = SimpleNamespace(node_config={"site": "Hungary", "data": str(tmp_path / "sites.csv"),
                                            "base": str(base), "allow_leak": "oldpeak"},
                               run_config={})  # fmt: skip
    assert client.local_site(run, hospital).name == "Hungary"
    del hospital.node_config["allow_leak"]  # deployment: the server says it, in the site's flag
    with pytest.raises(SiteError) as error:
        client.local_site(run, hospital)
    assert str(error.value).endswith(
        "leak: a copy of the label; where the base trained, 'oldpeak' was not among "
        "the columns it recorded as strong predictors (0.8 or more): not a predictor the base "
        "already relies on; the site's client keeps it with 'federate client "
        "--allow-leak oldpeak' if it is a genuine predictor measured before the outcome; or "
        "correct the site's export of it"
    )


def test_a_hospital_with_a_leak_is_refused_before_it_joins(heart, base, tmp_path):
    hungary = _leaky(heart).query("dataset == 'Hungary'")
    hungary.to_csv(tmp_path / "hungary.csv", index=False)
    with pytest.raises(DataError) as error:
        preflight(tmp_path / "hungary.csv", base, "Hungary")
    assert str(error.value) == LEAK.format(n=294)
    checked = preflight(tmp_path / "hungary.csv", base, "Hungary", allow_leak="oldpeak")
    assert checked.n == 294 and checked.notes[0] == f"this site: {KEPT}"
    said = run_cli("federate", "client", "--server", "127.0.0.1:9", "--site", "Hungary",
                   "--data", tmp_path / "hungary.csv", "--base", base, "--insecure")  # fmt: skip
    assert said.code == 2 and said.stderr.strip() == f"error: {LEAK.format(n=294)}"


def test_a_hospital_s_file_of_every_site_s_rows_is_refused_before_it_joins(heart, base,
                                                                           tmp_path):  # fmt: skip
    """A trial's Switzerland client passed the whole heart file: warned on its own terminal,
    it joined, and the server reported 787 training and 133 test patients as Switzerland's,
    most of them other hospitals' (and VA Long Beach's rows trained at two sites)."""
    heart.to_csv(tmp_path / "all.csv", index=False)
    said = (
        f"--data {tmp_path / 'all.csv'}: column 'dataset' holds 'Switzerland' (123 of the "
        f"{len(heart)} rows) and 3 other values: all {len(heart)} would train and test this "
        "site's adapter, and the server would report them as Switzerland's; pass a file of "
        "this site's rows only (those where dataset is 'Switzerland')"
    )
    with pytest.raises(DataError) as error:
        preflight(tmp_path / "all.csv", base, "Switzerland")
    assert str(error.value) == said
    result = run_cli("federate", "client", "--server", "127.0.0.1:9", "--site", "Switzerland",
                     "--data", tmp_path / "all.csv", "--base", base, "--insecure")  # fmt: skip
    assert result.code == 2 and result.stderr.strip() == f"error: {said}"
    own = heart[heart["dataset"] == "Switzerland"]
    own.to_csv(tmp_path / "switzerland.csv", index=False)  # one value in the column: its own
    assert preflight(tmp_path / "switzerland.csv", base, "Switzerland").n == len(own)
    # another hospital's file, every row saying so (a trial's Royal North client joined with
    # 40 rows of Clinique Alpes)
    with pytest.raises(DataError) as error:
        preflight(tmp_path / "switzerland.csv", base, "Hungary")
    assert str(error.value) == (
        f"--data {tmp_path / 'switzerland.csv'}: column 'dataset' names every row "
        "'Switzerland', never 'Hungary' (--site): these are another site's rows; pass this "
        "site's own file, or the --site its rows name"
    )
    assert preflight(tmp_path / "switzerland.csv", base, "switzerland").n == len(own)  # its case


def test_a_hospital_hears_which_of_its_columns_the_base_does_not_read(heart, base, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    """A client's columns that the base does not use were left out without a word: the
    client names them (names only, never a value) in one note before it joins, as evaluate
    and predict do; the base's group column is not among them."""
    from medadapt.federated.site_node import SiteNode

    monkeypatch.setattr(SiteNode, "run", lambda node, command, env: None)  # no Flower here
    node = tmp_path / "node"  # (the node's private folder, which its run would remove)
    monkeypatch.setattr(SiteNode, "private_folder", classmethod(lambda cls: node))
    hungary = heart[heart["dataset"] == "Hungary"].assign(comment="DOE^JOHN follow-up")
    hungary.to_csv(tmp_path / "hungary.csv", index=False)
    said = run_cli("federate", "client", "--server", "127.0.0.1:9", "--site", "Hungary",
                   "--data", tmp_path / "hungary.csv", "--base", base, "--insecure")  # fmt: skip
    assert said.code == 0, said.stderr
    notes = [line for line in said.stdout.splitlines() if line.startswith("note: ")]
    assert notes == [
        "note: 1 column of --data is not read by the model: 'comment' (it was not among the "
        "features the base trained on; train a new base to use it)"
    ], said.stdout
    assert "DOE^JOHN" not in said.stdout + said.stderr


def test_a_site_of_one_outcome_is_said_to_be_refused_where_sites_are_described():
    """Refusing a site whose rows all have one outcome is deliberate: said in the help of the
    commands that name the sites, and in the README's federated section."""
    sentence = ("A site whose labelled rows all have the same outcome is refused whole, "
                "deliberately: it could only pull the shared adapter toward that answer, and "
                "none of its figures could show it.")  # fmt: skip
    for command in ("simulate", "client"):
        shown = run_cli("federate", command, "--help").stdout
        flat = " ".join(shown.replace("│", " ").split())
        assert sentence in flat, (command, flat)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    federated = readme.split("### Federated")[1].split("\n### ")[0]
    assert "refused whole" in " ".join(federated.split())


def test_a_site_of_five_rows_is_refused_by_simulate_as_by_its_client(heart, base, tmp_path):
    """A trial's simulation trained a 5-row site that ``federate client`` refuses on the same
    rows (at least 10): both refuse it now, naming the site and the fix."""
    five = _small_site(heart).head(5)
    pd.concat([heart[heart["dataset"] == "Hungary"], five]).to_csv(tmp_path / "sites.csv",
                                                                    index=False)  # fmt: skip
    run = FederatedRun(base_dir=base, data=tmp_path / "sites.csv", label="num",
                       group_column="dataset", sites=("Hungary", "Tiny"))  # fmt: skip
    with pytest.raises(SiteError) as raised:
        read_sites(run)
    assert str(raised.value) == (
        "site Tiny: only 5 labelled rows: too few to train and test an adapter at this site "
        "(at least 10)"
    )
    five.to_csv(tmp_path / "tiny.csv", index=False)
    with pytest.raises(DataError, match="has 5 labelled rows: too few to train and test an "
                                        r"adapter at this site \(at least 10\)"):  # fmt: skip
        preflight(tmp_path / "tiny.csv", base)


def _simulate_on_a_base_of_cleveland(tmp_path, sites: str):
    """``federate simulate`` of ``tmp_path/sites.csv``'s ``sites``, its base trained here on
    Cleveland (one round, written to ``tmp_path/run``)."""
    return run_cli("federate", "simulate", "--data", tmp_path / "sites.csv", "--label", "num",
                   "--positive-above", "0", "--group-column", "dataset", "--groups", sites,
                   "--base-groups", "Cleveland", "--rounds", "1",
                   "--out", tmp_path / "run")  # fmt: skip


def test_a_five_row_site_is_refused_before_a_base_is_trained_for_the_run(heart, tmp_path):
    """A trial's --base-groups run trained its base (seconds for a table, minutes for
    images), then refused the 5-row site: the sites' sizes are checked first now."""
    five = _small_site(heart).head(5)
    pd.concat([heart[heart["dataset"].isin(["Cleveland", "Hungary"])], five]).to_csv(
        tmp_path / "sites.csv", index=False
    )
    result = _simulate_on_a_base_of_cleveland(tmp_path, "Hungary,Tiny")
    assert error_line(result) == (
        "error: site Tiny: only 5 labelled rows: too few to train and test an adapter at this "
        "site (at least 10) (or leave the site out of --groups, or pass --on-site-error "
        "continue to go on without it)"
    )
    assert "base model on" not in result.stdout + result.stderr  # no base was trained
    assert not (tmp_path / "run").exists()


def test_a_site_of_one_outcome_is_refused_before_a_base_is_trained_for_the_run(
    heart, tmp_path, monkeypatch
):
    """A trial's all-benign site was refused after the base had trained (29 s), as "its
    training rows have only one class" though none of its rows had another."""
    import medadapt.workflows.train_base as train_base

    def no_base(*args, **kwargs):
        raise AssertionError("the base trained before the one-outcome site was refused")

    monkeypatch.setattr(train_base, "train_base_job", no_base)
    healthy = heart[(heart["dataset"] == "VA Long Beach") & (heart["num"] == 0)]
    frame = pd.concat([heart, healthy.assign(dataset="Healthy", id=healthy["id"] + 10_000)])
    frame.to_csv(tmp_path / "sites.csv", index=False)
    result = _simulate_on_a_base_of_cleveland(tmp_path, "Hungary,Healthy")
    assert error_line(result) == (
        "error: site Healthy: all its labelled rows have only one class of 'num' ('0'); a site "
        "needs at least two to train the adapter (or leave the site out of --groups, or pass "
        "--on-site-error continue to go on without it)"
    )
    assert not (tmp_path / "run").exists()


def test_the_server_says_which_columns_a_site_kept_with_allow_leak(base, tmp_path, monkeypatch):
    """A trial's deployed run: a client kept two columns with --allow-leak, and the server's
    terminal, its operator's (who registers the result), never said so: only federated.json
    and report.html did."""
    import medadapt.cli.federate as cli_federate
    import medadapt.federated.deploy as deploy

    kept = "site South: column 'worst_area' (AUROC 0.995) alone predicts 'num' almost perfectly"
    monkeypatch.setattr(deploy, "run_server", lambda *a, **k: {"site_notes": [kept]})
    monkeypatch.setattr(cli_federate, "_print", lambda results, out: None)
    said = run_cli("federate", "server", "--base", base, "--groups", "Hungary,South",
                   "--insecure", "--out", tmp_path / "fed")  # fmt: skip
    assert said.code == 0, said.stderr
    assert f"warning: {kept}" in said.stdout.splitlines()
