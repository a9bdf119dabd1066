"""One clinic served two models of different outcomes (a trial's diabetes and breast-cancer
adapters for one clinic): ``promote`` refused the second as "already serving the group", and
``--force`` would have stopped the first. Adapters of different outcomes claim nothing of
each other: both are served, a request names the one it wants, and a request naming only
the group cannot say which and is refused (409) saying so."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.registry.bases import add_base
from medadapt.serve.app import create_app
from medadapt.workflows.adapt import adapt_job
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import run_cli, succeeded

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def two_outcomes(served_registry, tmp_path_factory):
    """The served registry (site_c@1 for group C, outcome 'outcome') and a second base
    predicting 'readmitted', with an adapter for group C too."""
    import shutil

    root = tmp_path_factory.mktemp("two-outcomes")
    registry = root / "registry"
    shutil.copytree(served_registry["registry"], registry)
    frame = pd.read_csv(served_registry["data"]).drop(columns=["outcome"])
    rng = np.random.default_rng(3)
    logit = 0.06 * (frame["age"] - 60) + np.where(frame["sex"] == "M", 0.7, -0.7)
    frame["readmitted"] = (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)
    data = root / "readmissions.csv"
    frame.to_csv(data, index=False)
    train_base_job(data=data, label="readmitted", out=root / "base", id_column="patient_id",
                   group_column="site", groups=["A", "B"], n_boot=50)  # fmt: skip
    add_base(registry, root / "base")
    adapt_job(base_dir=root / "base", data=data, label="readmitted", group_column="site",
              group="C", out=root / "readmit_c", method="head", name="readmit_c",
              n_boot=50)  # fmt: skip
    Registry(registry).add(root / "readmit_c", name="readmit_c")
    return registry, frame


def test_a_second_outcome_for_a_served_group_is_promoted_beside_the_first(two_outcomes):
    registry, _ = two_outcomes
    said = succeeded(run_cli("registry", "--root", registry, "promote", "readmit_c@1")).stdout
    assert (
        "note: site_c@1 also serves group 'C', for another outcome ('outcome'): a request "
        "naming only the group cannot say which it wants and is refused (409); name the "
        "adapter in 'adapter'"
    ) in " ".join(said.split())
    assert {"site_c", "readmit_c"} <= set(Registry(registry).promoted_versions())


def test_each_is_answered_by_name_and_the_group_alone_is_refused_saying_why(two_outcomes):
    registry, frame = two_outcomes
    Registry(registry).promote("readmit_c@1")
    row = frame[frame["site"] == "C"].head(1).drop(columns=["readmitted"])
    (instance,) = json.loads(row.to_json(orient="records"))
    with TestClient(create_app(registry, token=TOKEN)) as client:
        health = client.get("/healthz", headers=AUTH).json()
        assert health["n_conflicting_groups"] == 0  # by design, not a clash
        for name in ("site_c", "readmit_c"):
            reply = client.post("/v1/predict", headers=AUTH,
                                json={"adapter": name, "instances": [instance]})  # fmt: skip
            assert reply.status_code == 200, reply.text
            assert reply.json()["predictions"][0]["adapter"] == name
        reply = client.post("/v1/predict", headers=AUTH, json={"instances": [instance]})
    assert reply.status_code == 409, reply.text
    assert (
        "group 'C' is served by adapters of different outcomes (readmit_c, site_c: 'outcome', "
        "'readmitted'); name the one wanted in 'adapter'"
    ) in reply.text
