"""A version received from another hospital is checked there on local patients before it is
served: an archive exported ``--with-base`` unpacks into ``base/`` and ``adapter/``, which
``evaluate`` and ``predict`` take. The archive carries no ``split.json`` (which rows trained
the model stay, as hashes, where the rows are): a trial's second hospital was refused by both
("its split.json ... is missing; copy the whole model directory again", which it cannot), and
given a registry as ``--base`` was told only that it "holds no model.json"."""

from __future__ import annotations

import json
import tarfile

import pandas as pd

from medadapt.modalities.bundle import REGISTRY_INDEX
from medadapt.registry.db import INDEX
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.tables import clinical_table

NOT_BESIDE = (
    "the split.json of the base model and the adapter (which rows trained them, as hashes) is "
    "not beside them: a registry's copy, or one imported from another hospital, holds none, "
    "so the rows they trained on cannot be recognised in --data, and this evaluation may "
    "include them and overstate the model if --data holds any (rows of the hospital that "
    "trained them); to leave them out, point at the directories train-base and adapt wrote"
)


def _received(registry_copy, tmp_path):
    archive = tmp_path / "site_b.tar.gz"
    succeeded(run_cli("registry", "--root", str(registry_copy), "export", "site_b@1",
                      "--with-base", "-o", str(archive)))  # fmt: skip
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "received", filter="data")
    received = tmp_path / "received"
    assert not (received / "base" / "split.json").exists()  # the hashes stayed home
    return received


def test_a_received_version_is_evaluated_and_predicts_on_local_patients(registry_copy,
                                                                        tmp_path):  # fmt: skip
    received = _received(registry_copy, tmp_path)
    local = tmp_path / "local.csv"
    rows = clinical_table(200, seed=99)
    rows[rows.site == "B"].to_csv(local, index=False)
    n_local = int((rows.site == "B").sum())
    out = tmp_path / "e.json"
    said = succeeded(run_cli("evaluate", "--base", str(received / "base"), "--adapter",
                             str(received / "adapter"), "--data", str(local), "--json",
                             str(out)))  # fmt: skip
    assert f"warning: {NOT_BESIDE}" in " ".join(said.stdout.split())
    evaluation = json.loads(out.read_text())
    assert evaluation["n"] == n_local  # every local row scored
    assert NOT_BESIDE in evaluation["data_warnings"]
    predictions = tmp_path / "p.csv"
    said = succeeded(run_cli("predict", "--base", str(received / "base"), "--adapter",
                             str(received / "adapter"), "--data", str(local), "--out",
                             str(predictions)))  # fmt: skip
    assert (
        "the split.json of the base model and adapter 'site_b' (which rows trained them, "
        "as hashes) is not beside them"
    ) in " ".join(said.stdout.split())
    # (a trial looked for the trained_on column it named, which is added only where some are)
    assert "and predict may not mark them in-sample if --data" in " ".join(said.stdout.split())
    assert "trained_on" not in pd.read_csv(predictions).columns
    assert len(pd.read_csv(predictions)) == n_local


def test_a_registry_given_as_the_base_says_how_to_use_one_of_its_versions(registry_copy,
                                                                          tmp_path):  # fmt: skip
    assert REGISTRY_INDEX == INDEX
    local = tmp_path / "local.csv"
    clinical_table(30, seed=5).to_csv(local, index=False)
    predicting = run_cli("predict", "--base", str(registry_copy), "--data", str(local),
                         "--out", str(tmp_path / "p.csv"))  # fmt: skip
    line = error_line(predicting)
    assert line == (
        f"error: --base {registry_copy} holds no model.json: {registry_copy} is a registry, not "
        f"a base model: 'medadapt serve --registry {registry_copy}' serves its versions; to "
        "evaluate or predict with one, export it with its base ('medadapt registry --root DIR "
        "export NAME@N --with-base -o version.tar.gz'), unpack it ('tar xzf version.tar.gz -C "
        "received') and pass --base received/base --adapter received/adapter"
    )
    assert not (tmp_path / "p.csv").exists()
