"""A base and an adapter trained and saved from the Python API record their training rows as
the command line's do (keyed hashes in ``split.json``, never values), so ``medadapt evaluate``
leaves those rows out of any file and says how many; a model that records none is named in a
``warning:`` line (and in the JSON's ``data_warnings``): its figures may include them."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

import medadapt as ma
from medadapt.adapters import AdapterModel
from medadapt.adapters.state import load_adapter
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.tabular.model import TabularModelConfig
from medadapt.train.loop import TrainConfig
from tests.cli.helpers import run_cli, succeeded

QUICK = TrainConfig(epochs=2)
TINY = TabularModelConfig(d_token=16, n_blocks=1, n_heads=2)
FEATURES = ["texture", "smoothness", "symmetry", "fractal", "se_texture", "se_smoothness"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """569 breast tumours, 6 features none of which alone gives away the label, 3 sites."""
    data = load_breast_cancer(as_frame=True).frame
    table = data.iloc[:, [1, 4, 8, 9, 11, 14]].set_axis(FEATURES, axis=1)
    table["malignant"] = 1 - data["target"]
    table["site"] = np.random.default_rng(0).choice(
        ["A", "B", "C"], len(table), p=[0.45] * 2 + [0.1]
    )
    return table


@pytest.fixture(scope="module")
def saved(frame, tmp_path_factory) -> dict:
    """A base trained on sites A and B and an adapter on two thirds of site C, saved from
    Python as the README shows; the data written to a file with its columns reordered."""
    root = tmp_path_factory.mktemp("python_rows")
    source = frame[frame["site"] != "C"]
    schema = ma.TableSchema.infer(source, label="malignant", group_column="site")
    base = ma.train_base(source, schema, model_config=TINY, train_config=QUICK)
    base.save(root / "base")
    site_c = frame[frame["site"] == "C"]
    rows = site_c.iloc[: len(site_c) * 2 // 3]
    adapted = ma.adapt(base, rows, method="bottleneck", name="c", train_config=QUICK)
    adapted.model.save_adapter("c", root / "adapter")
    data = root / "bc.csv"
    frame[frame.columns[::-1]].to_csv(data, index=False)  # another file: matched by content
    return {"root": root, "data": data, "n_source": len(source), "n_c": len(site_c),
            "n_adapted": len(rows)}  # fmt: skip


def _evaluate(saved: dict, base: str, *args: str):
    out = saved["root"] / f"{base}-{len(args)}.json"
    result = succeeded(run_cli("evaluate", "--base", saved["root"] / base, "--data",
                               saved["data"], *args, "--json", out, "--force"))  # fmt: skip
    return result, json.loads(out.read_text())


def _warnings(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("warning: ")]


def test_python_saved_models_record_their_training_rows_as_hashes_only(saved, frame):
    for model in ("base", "adapter"):
        text = (saved["root"] / model / "split.json").read_text()
        assert set(json.loads(text)) == {"train_rows"}
        assert not any(f"{value:.4f}" in text for value in frame["texture"])  # no values
    summary = json.loads((saved["root"] / "adapter" / "adapter.json").read_text())
    assert set(summary["metadata"]["split"]) == {"positions_file", "positions_sha256"}


def test_evaluate_leaves_out_the_rows_a_python_saved_adapter_trained_on(saved):
    result, out = _evaluate(saved, "base", "--adapter", saved["root"] / "adapter",
                            "--group-column", "site", "--group", "C")  # fmt: skip
    n = saved["n_adapted"]
    assert out["rows_used"] == (
        f"site = C, minus {n} rows that match rows the adapter trained on (by content)"
    )
    assert out["n_excluded_trained"] == {"adapter": n}
    assert out["n"] == saved["n_c"] - n
    assert not [w for w in _warnings(result) if "records no rows" in w]
    assert not [w for w in out["data_warnings"] if "records no rows" in w]


def test_evaluate_leaves_out_the_rows_a_python_saved_base_trained_on(saved):
    result, out = _evaluate(saved, "base")
    n = saved["n_source"]
    assert out["rows_used"] == (
        f"all rows, minus {n} rows that match rows the base model trained on (by content)"
    )
    assert out["n_excluded_trained"] == {"base": n}
    assert out["n"] == saved["n_c"]
    assert not [w for w in _warnings(result) if "records no rows" in w]


def test_a_loaded_adapter_saved_again_keeps_its_record_until_trained_again(saved, tmp_path: Path):
    """Loading an adapter keeps what it was saved with (the rows it trained on, as hashes, and
    its manifest's metadata), so saving it elsewhere keeps them; training it again makes the
    record untrue, so it is dropped and the next save records none (evaluate then warns)."""
    root = saved["root"]
    model = AdapterModel(BaseModel.load(root / "base").model)
    load_adapter(model, root / "adapter")
    model.save_adapter("c", tmp_path / "copy")
    assert (tmp_path / "copy" / "split.json").read_bytes() == (
        root / "adapter" / "split.json"
    ).read_bytes()
    original = json.loads((root / "adapter" / "adapter.json").read_text())["metadata"]
    assert json.loads((tmp_path / "copy" / "adapter.json").read_text())["metadata"] == original
    model.train_adapter("c")
    model.save_adapter("c", tmp_path / "retrained")
    assert not (tmp_path / "retrained" / "split.json").exists()
    assert json.loads((tmp_path / "retrained" / "adapter.json").read_text())["metadata"] == {}


def test_a_loaded_base_saved_again_keeps_its_record(saved, tmp_path: Path):
    BaseModel.load(saved["root"] / "base").save(tmp_path / "copy")
    assert (tmp_path / "copy" / "split.json").read_bytes() == (
        saved["root"] / "base" / "split.json"
    ).read_bytes()


def test_models_that_record_no_training_rows_are_named_in_a_warning(saved):
    root = saved["root"]
    base = BaseModel.load(root / "base")  # as saved before the Python API recorded them
    del base.training["split"]
    base.side_files = {}
    base.save(root / "old-base")
    model = AdapterModel(base.model)
    load_adapter(model, root / "adapter")
    model.adapter_metadata.pop("c"), model.adapter_files.pop("c")  # as saved before records
    model.save_adapter("c", root / "old-adapter")
    assert not (root / "old-base" / "split.json").exists()
    assert not (root / "old-adapter" / "split.json").exists()

    result, out = _evaluate(saved, "old-base", "--adapter", root / "old-adapter",
                            "--group-column", "site", "--group", "C")  # fmt: skip
    expected = [
        "the base model records no rows it trained on: they cannot be left out, so this "
        "evaluation may include them and its figures may be optimistic; retrain it with "
        "medadapt train-base (or ma.train_base, then base.save), which records them, or "
        "evaluate only on rows it never saw",
        "adapter 'c' records no rows it trained on: they cannot be left out, so this evaluation "
        "may include them and its figures may be optimistic; retrain it with medadapt adapt (or "
        "ma.adapt, then save_adapter), which records them, or evaluate only on rows it never "
        "saw",
    ]
    assert [w for w in _warnings(result) if "records no rows" in w] == [
        f"warning: {line}" for line in expected
    ]
    assert [w for w in out["data_warnings"] if "records no rows" in w] == expected
    assert out["rows_used"] == "site = C" and out["n"] == saved["n_c"]  # all scored: said

    result, out = _evaluate(saved, "old-base")  # the base alone: only it is named
    assert [w for w in out["data_warnings"] if "records no rows" in w] == expected[:1]


def test_python_predict_says_which_rows_the_base_or_the_adapter_trained_on(saved, frame):
    """A trial scored an adapter's 120 training rows with ``ma.predict`` and got AUROC 0.991
    with no word that they were in-sample; loaded from disk, the same. Now a warning counts
    them (by content: another column order, an extra column), and names which model."""
    base = BaseModel.load(saved["root"] / "base")
    model = AdapterModel(base.model)
    model.load_adapter(saved["root"] / "adapter")
    site_c = frame[frame["site"] == "C"]
    shuffled = site_c[site_c.columns[::-1]].assign(note="x")
    n, c = saved["n_adapted"], saved["n_c"]
    with pytest.warns(UserWarning) as said:
        ma.predict(model, base.schema, shuffled, adapter="c")
    assert [str(w.message) for w in said if "trained on (by content)" in str(w.message)] == [
        f"{n} of the {c} rows of frame match rows that adapter 'c' trained on (by content): "
        "their scores are in-sample, more confident and more often right than the model is on "
        "new patients; leave them out of any figure (medadapt evaluate does)"
    ]
    source = frame[frame["site"] != "C"]
    with pytest.warns(UserWarning) as said:  # the base alone, in a mixed batch: each its own
        ma.predict(model, base.schema, pd.concat([source.head(3), site_c]),
                   adapter_ids=[None] * 3 + ["c"] * n + [None] * (c - n))  # fmt: skip
    in_sample = [str(w.message) for w in said if "(by content)" in str(w.message)]
    assert len(in_sample) == 1 and in_sample[0].startswith(
        f"{3 + n} of the {3 + c} rows of frame match rows that the base model or adapter 'c' "
        "trained on"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a row of either: nothing said
        ma.predict(model, base.schema, site_c.iloc[n:], adapter="c")


def test_a_loaded_base_loads_its_adapters_itself(saved, frame, tmp_path: Path):
    """A trial's ``BaseModel.load(...).model.load_adapter(...)`` met the network's own
    AttributeError. ``base.load_adapter`` wraps the network once and returns the same
    AdapterModel for every adapter loaded; its scores equal the wrapper's built by hand."""
    root = saved["root"]
    base = BaseModel.load(root / "base")
    model = base.load_adapter(root / "adapter")
    assert isinstance(model, AdapterModel) and model.adapter_names == ["c"]
    with pytest.raises(ma.errors.ConfigError, match="already carries adapters"):
        AdapterModel(base.model)  # a network takes one AdapterModel: hence the same one again
    assert base.load_adapter(root / "adapter", name="c2") is model
    assert model.adapter_names == ["c", "c2"]
    site_c = frame[frame["site"] == "C"].iloc[saved["n_adapted"] :]
    by_hand = AdapterModel(BaseModel.load(root / "base").model)
    by_hand.load_adapter(root / "adapter")
    expected = ma.predict(by_hand, base.schema, site_c, adapter="c")
    np.testing.assert_array_equal(ma.predict(model, base.schema, site_c, adapter="c"), expected)
    np.testing.assert_array_equal(ma.predict(model, base.schema, site_c, adapter="c2"), expected)
