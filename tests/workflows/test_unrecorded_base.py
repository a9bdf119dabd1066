"""A base model that records no rows it trained on (saved from Python before it recorded them)
cannot have those rows kept out of an adapter's test set: ``adapt``, ``study --base`` and a
federated run's sites say so in a ``warning:`` line, as ``evaluate`` does, each naming what it
scores; a base that records them, or one never trained (FLamby's initial base), is not named."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import medadapt as ma
from medadapt.federated.config import FederatedRun
from medadapt.federated.sites import read_sites
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.tabular.model import TabularModelConfig
from medadapt.train.loop import TrainConfig
from tests.cli.helpers import run_cli, succeeded

QUICK = TrainConfig(epochs=2)
TINY = TabularModelConfig(d_token=16, n_blocks=1, n_heads=2)
FEATURES = ["texture", "smoothness", "symmetry", "fractal", "se_texture", "se_smoothness"]
RETRAIN = (
    "retrain it with medadapt train-base (or ma.train_base, then base.save), which records them"
)
ADAPT = (
    "the base model records no rows it trained on: they cannot be left out, so the adapter's "
    "test rows may include them and the figures on them (the adapter's, and the base model's "
    f"alone on the same patients) may be optimistic; {RETRAIN}, or adapt only on rows it never "
    "saw"
)
STUDY = (
    "the base model records no rows it trained on: they cannot be left out, so the held-out "
    "rows may include them and every strategy's figures on them may be optimistic; "
    f"{RETRAIN}, or run the study only on rows it never saw"
)
SITES = (
    "the base model records no rows it trained on: they cannot be left out, so the sites' test "
    "rows may include them and every figure on them (the federated adapter's, each "
    f"reference's, the base model's alone) may be optimistic; {RETRAIN}, or give the sites "
    "only rows it never saw"
)


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict:
    """A base trained from Python on site A, saved with its record ("base"), the same
    saved without it ("old-base"), and one never trained ("untrained"); the data as a file."""
    root = tmp_path_factory.mktemp("unrecorded")
    data = load_breast_cancer(as_frame=True).frame
    frame = data.iloc[:, [1, 4, 8, 9, 11, 14]].set_axis(FEATURES, axis=1)
    frame["malignant"] = 1 - data["target"]
    frame["site"] = np.random.default_rng(0).choice(["A", "B", "C"], len(frame), p=[0.4, 0.3, 0.3])
    source = frame[frame["site"] == "A"]
    schema = ma.TableSchema.infer(source, label="malignant", group_column="site")
    base = ma.train_base(source, schema, model_config=TINY, train_config=QUICK)
    base.save(root / "base")
    old = BaseModel.load(root / "base")  # as saved before the Python API recorded them
    del old.training["split"]
    old.side_files = {}
    old.save(root / "old-base")
    untrained = BaseModel.load(root / "old-base")
    untrained.training = {"untrained": True}
    untrained.save(root / "untrained")
    frame.to_csv(root / "bc.csv", index=False)
    return {"root": root, "data": root / "bc.csv"}


def _warnings(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if "records no rows" in line]


def _adapt(bases: dict, base: str):
    root = bases["root"]
    out = root / f"adapt-{base}.json"
    result = succeeded(run_cli(
        "adapt", "--base", root / base, "--data", bases["data"], "--label", "malignant",
        "--group-column", "site", "--group", "C", "--method", "head",
        "--out", root / f"adapter-{base}", "--json", out, "--force",
    ))  # fmt: skip
    return result, json.loads(out.read_text())


def test_adapt_says_the_base_records_no_rows_it_trained_on(bases):
    result, out = _adapt(bases, "old-base")
    assert _warnings(result) == [f"warning: {ADAPT}"]
    assert [w for w in out["warnings"] if "records no rows" in w] == [ADAPT]


@pytest.mark.parametrize("base", ["base", "untrained"])
def test_adapt_is_silent_for_a_base_that_records_them_or_was_never_trained(bases, base):
    result, out = _adapt(bases, base)
    assert _warnings(result) == []
    assert not [w for w in out["warnings"] if "records no rows" in w]


def test_study_with_a_base_that_records_no_rows_says_so(bases):
    root = bases["root"]
    for base, expected in (("old-base", [f"warning: {STUDY}"]), ("base", [])):
        result = succeeded(run_cli(
            "study", "--base", root / base, "--data", bases["data"], "--label", "malignant",
            "--group-column", "site", "--group", "C", "--seeds", "1", "--fractions", "1",
            "--methods", "base_only", "--n-boot", "10", "--workers", "1",
            "--out", root / f"study-{base}",
        ))  # fmt: skip
        assert _warnings(result) == expected


@pytest.mark.parametrize(
    ("base", "expected"), [("old-base", [SITES]), ("base", []), ("untrained", [])]
)
def test_federated_sites_say_when_the_base_records_no_rows(bases, base, expected):
    run = FederatedRun(base_dir=bases["root"] / base, data=bases["data"], label="malignant",
                       group_column="site", sites=("B", "C"), method="lora").check()  # fmt: skip
    notes = read_sites(run).notes
    assert [note for note in notes if "records no rows" in note] == expected


def test_an_image_base_that_records_no_images_names_the_image_api_too():
    """The image API records its training images now: its fix is named beside train-base's."""
    from types import SimpleNamespace

    from medadapt.modalities import modality_of
    from medadapt.workflows.splitting import unrecorded_base_warning

    [said] = unrecorded_base_warning(modality_of("image"), SimpleNamespace(training={}), None,
                                     "this evaluation", figures="its figures",
                                     instead="evaluate only on")  # fmt: skip
    assert said.startswith("the base model records no images it trained on")
    assert "retrain it with medadapt train-base (or images.train_base, then base.save)" in said
