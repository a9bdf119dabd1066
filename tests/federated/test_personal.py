"""A site's recalibrated adapter (``--personalise recalibrate``) carries the recalibration in
its own head's bias: its predictions equal the shared adapter's recalibrated in the large
(:mod:`medadapt.evaluate.recalibration`), for binary, multiclass and regression tables and for
images (softmax over two classes: a shift per class), and the personalisation leaves the
shared adapter as it was. No Flower here: the functions the site runs in its final round."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import medadapt as ma
from medadapt.errors import ConfigError
from medadapt.evaluate.recalibration import fit_in_the_large
from medadapt.federated.config import FederatedRun
from medadapt.federated.personal import fold_into_head, personalise, site_folder
from medadapt.federated.sites import trainable
from medadapt.modalities.base import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.images import ImageOptions
from medadapt.modalities.tabular import TabularOptions
from medadapt.train.fitting import predict
from medadapt.workflows.train_base import train_base_job
from tests.train.image_data import write_npz

TINY = dict(d_token=16, n_blocks=1, n_heads=2)


def _tabular_base(root: Path, name: str, label: str, **options) -> tuple[BaseModel, Path]:
    data = root / "heart.csv"
    if not data.exists():
        ma.load_heart_disease().to_csv(data, index=False)
    train_base_job(data=data, out=root / name, label=label, group_column="dataset",
                   groups=["Cleveland"], id_column="id", n_boot=0,
                   options=TabularOptions(**TINY, **options))  # fmt: skip
    return BaseModel.load(root / name), data


def _samples(base: BaseModel, data: Path, site: str | None):
    modality = modality_of(base.kind)
    samples = modality.read_for_model(data, base, modality.options(),
                                      group_column="dataset" if site else None)  # fmt: skip
    if site is None:
        return samples
    return samples.subset(np.flatnonzero(np.asarray(samples.groups) == site))


def _recalibrated_equals_folded(base: BaseModel, base_dir: Path, train, test) -> float:
    """The largest gap between the folded adapter's scores and the shared adapter's
    recalibrated ones on ``test`` (relative to the scores' scale: a regression's values are
    in the hundreds); checks the shared adapter is left as it was."""
    modality, schema = modality_of(base.kind), base.schema
    run = FederatedRun(base_dir=base_dir, data=None, label=None, group_column=None,
                       sites=("a", "b"), personalise="recalibrate").check()  # fmt: skip
    trained = trainable(run, modality, base)
    generator = torch.Generator().manual_seed(1)
    trained.load(
        {
            k: v + 0.05 * torch.randn(v.shape, generator=generator)
            for k, v in trained.weights().items()
        }
    )  # a trained-looking adapter
    before = trained.weights()
    shared_train = predict(modality, trained.model, schema, train, adapter=trained.adapter)
    shared_test = predict(modality, trained.model, schema, test, adapter=trained.adapter)
    scale = ("regression" if modality.task(schema) == "regression"
             else "binary" if shared_train.ndim == 1 else "classes")  # fmt: skip
    shift = fit_in_the_large(shared_train, train.labels, scale)
    personalised = personalise(run, modality, schema, trained, train, 0)
    for key, value in trained.weights().items():
        assert torch.equal(value, before[key]), key  # the shared adapter is untouched
    assert personalised.details["how"] == "recalibrate"
    trained.load(personalised.weights)
    folded = predict(modality, trained.model, schema, test, adapter=trained.adapter)
    folded_train = predict(modality, trained.model, schema, train, adapter=trained.adapter)
    if scale == "regression":
        assert folded_train.mean() == pytest.approx(np.mean(train.labels), abs=1e-3)
    elif scale == "binary":
        rate = (train.labels.sum() + 0.5) / (len(train) + 1)
        assert folded_train.mean() == pytest.approx(rate, abs=1e-5)
    assert np.abs(shift.offset).max() > 0.05  # there was something to recalibrate
    expected = shift.apply(shared_test)  # float32 model vs float64 shift: relative to the scale
    return float(np.abs(folded - expected).max() / max(1.0, np.abs(expected).max()))


@pytest.mark.parametrize(
    ("label", "options"),
    [("num", {"positive_above": 0}), ("num", {"task": "multiclass"}), ("chol", {})],
    ids=["binary", "multiclass", "regression"],
)
def test_a_recalibrated_table_adapter_predicts_the_recalibrated_scores(tmp_path, label, options):
    base, data = _tabular_base(tmp_path, "base", label, **options)
    train, test = _samples(base, data, "Hungary"), _samples(base, data, "VA Long Beach")
    assert _recalibrated_equals_folded(base, tmp_path / "base", train, test) <= 1e-5


def test_a_recalibrated_image_adapter_moves_the_positive_class_logit(tmp_path):
    classes = ("normal", "mass")
    npz = write_npz(tmp_path / "two.npz", {"normal": 30, "mass": 6}, classes)
    options = ImageOptions(class_names=",".join(classes), image_size=32, epochs=1,
                           backbone_options="depth=1,embed_dim=32,num_heads=2")  # fmt: skip
    train_base_job(data=npz, out=tmp_path / "base", n_boot=0, options=options)
    base = BaseModel.load(tmp_path / "base")
    samples = _samples(base, npz, None)
    half = len(samples) // 2
    train, test = samples.subset(np.arange(half)), samples.subset(np.arange(half, len(samples)))
    assert _recalibrated_equals_folded(base, tmp_path / "base", train, test) <= 1e-5


def test_a_head_without_bias_or_of_another_width_is_refused_by_flag():
    weights = {"head.linear.weight": torch.zeros(2, 4), "head.linear.bias": torch.zeros(2)}
    folded = fold_into_head(weights, "head.linear", np.array([0.0, 1.5]))
    assert folded["head.linear.bias"].tolist() == [0.0, 1.5]
    assert weights["head.linear.bias"].tolist() == [0.0, 0.0]  # a new dict, not an edit
    with pytest.raises(ConfigError, match=r"has 2 outputs, the recalibration 1: choose another "
                       r"--personalise"):  # fmt: skip
        fold_into_head(weights, "head.linear", np.array([1.0]))
    with pytest.raises(ConfigError, match=r"head 'head.linear' has no bias to recalibrate"):
        fold_into_head({"head.linear.weight": torch.zeros(1, 4)}, "head.linear", np.ones(1))


def test_site_folders_are_plain_names():
    assert site_folder("VA Long Beach") == "va_long_beach"
    assert site_folder("../etc") == "etc"
    assert site_folder("Zürich/Ost") == "zurich_ost"
    assert site_folder("..") == "group"


def test_a_kept_adapter_without_a_measured_figure_is_said_to_have_none():
    """A trial's 8-patient site's personalised adapter was offered beside the others, its
    first warning at ``registry promote``."""
    from medadapt.cli.federate import _unmeasured_kept

    measured = {"n": 54, "n_positive": 20, "auroc": 0.97, "accuracy": 0.93}
    unmeasured = {"n": 8, "n_positive": 3, "auroc": None, "accuracy": None}
    results = {"kept": {"South": "personalised/south", "Small": "personalised/small"},
               "sites": {"South": {"n_test": 54, "personalised": measured},
                         "Small": {"n_test": 8, "personalised": unmeasured}}}  # fmt: skip
    assert _unmeasured_kept(results) == (
        "; Small's (8 held-out patients) has no measured performance (too few patients for "
        "any figure): check it on more patients before use"
    )
    results["sites"]["Small"]["personalised"] = measured
    assert _unmeasured_kept(results) == ""
