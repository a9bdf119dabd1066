"""More of a notebook user's mistakes, tables and images: each is one MedadaptError line in
Python words (never a torch traceback, a CLI flag or a pixel/cell value), and nothing is
trained or compared on inputs that would give a silently wrong number."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import brier_score_loss, roc_auc_score

import medadapt as ma
from medadapt import images
from medadapt.errors import MedadaptError
from medadapt.train.loop import TrainConfig

QUICK = TrainConfig(epochs=2)
TINY = {"depth": 1, "embed_dim": 32, "num_heads": 2}


def _refusal(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "--" not in message, message
    return message


# ----- paired_difference -----------------------------------------------------------------------
_Y = np.r_[np.zeros(20, dtype=int), np.ones(20, dtype=int)]
_A, _B = np.random.default_rng(0).uniform(size=(2, 40))


def test_paired_difference_matches_scikit_learn():
    auroc = ma.paired_difference(_Y, _A, _B, n_boot=50)
    assert auroc.value == pytest.approx(roc_auc_score(_Y, _A) - roc_auc_score(_Y, _B))
    brier = ma.paired_difference(list(_Y), list(_A), list(_B), metric="brier", n_boot=50)
    assert brier.value == pytest.approx(brier_score_loss(_Y, _A) - brier_score_loss(_Y, _B))
    logits = ma.paired_difference(_Y, np.log(_A / (1 - _A)), _B, n_boot=50)  # AUROC ranks
    assert logits.value == pytest.approx(auroc.value)


_BAD_PAIRS = {  # each was compared without a word (or a raw ValueError for the metric)
    "score_b one short": ((_Y, _A, _B[:-1]), {}, "score_b: labels and scores must have one "
                          "value per patient each; got 40 labels and 39 scores"),
    "text labels": ((np.where(_Y == 1, "yes", "no"), _A, _B), {}, "labels must be numbers"),
    "NaN in score_a": ((_Y, np.r_[_A[:-1], np.nan], _B), {},
                       "score_a: 1 of 40 scores are missing (NaN) or infinite"),
    "labels 0-4": ((np.arange(40) % 5, _A, _B), {}, "labels must be 0 (negative) or 1"),
    # a trial's measured outcome was told to use compute_metrics('regression', ...)
    "a measured outcome": ((np.linspace(50, 300, 40), _A, _B), {},
                           "(40 distinct values in all): metric='auroc' compares two models on "
                           "a binary outcome; for a measured outcome pass metric='mae' or "
                           "metric='rmse'"),
    "logits for Brier": ((_Y, _A, np.linspace(-3, 3, 40)), {"metric": "brier"},
                         "score_b: scores must be probabilities between 0 and 1"),
    "unknown metric": ((_Y, _A, _B), {"metric": "AUC"},
                       "metric must be one of auroc, auprc, accuracy, balanced_accuracy, "
                       "brier, mae, rmse; got 'AUC'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(_BAD_PAIRS))
def test_paired_difference_refuses_what_it_cannot_compare(case):
    arguments, options, says = _BAD_PAIRS[case]
    with pytest.raises(MedadaptError) as err:
        ma.paired_difference(*arguments, n_boot=20, **options)
    message = _refusal(err)
    assert says in message and "yes" not in message


# ----- tables ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def heart():
    frame = ma.load_heart_disease()
    source = frame[frame["dataset"].isin(["Cleveland", "Hungary"])]
    schema = ma.TableSchema.infer(
        source, label="num", positive_above=0, id_column="id", group_column="dataset"
    )
    base = ma.train_base(source, schema, train_config=QUICK)
    return base, schema, frame[frame["dataset"] == "VA Long Beach"]


def test_arguments_of_the_wrong_type_are_refused_by_name_before_training(heart):
    """A notebook trial: ``train_config={"epochs": 2}`` failed in ``dataclasses.replace``,
    ``label=["num"]`` with "unhashable type: 'list'", ``seed="0"`` after the data's
    warnings; each is now one line naming the argument and what to pass."""
    frame = ma.load_heart_disease().head(120)
    base, schema, _ = heart
    calls = {
        "label=['num']": (lambda: ma.TableSchema.infer(frame, label=["num"]),
                          "label must be a column's name (label='...'), not a list"),
        "id_column=0": (lambda: ma.TableSchema.infer(frame, label="num", id_column=0),
                        "id_column must be a column's name (id_column='...'), not a int"),
        "seed='0'": (lambda: ma.train_base(frame, schema, seed="0"),
                     "seed must be a whole number (seed=0), not a str"),
        "seed=True": (lambda: ma.adapt(base, frame, method="head", name="a", seed=True),
                      "seed must be a whole number (seed=0), not a bool"),
        "train_config dict": (lambda: ma.adapt(base, frame, method="head", name="a",
                                               train_config={"epochs": 2}),
                              "train_config must be a TrainConfig (ma.TrainConfig(epochs=50, "
                              "lr=1e-3)) or None, not a dict"),
        "images seed": (lambda: images.train_base(None, seed=1.5),
                        "seed must be a whole number (seed=0), not a float"),
    }  # fmt: skip
    for name, (call, says) in calls.items():
        with warnings.catch_warnings(record=True) as said, pytest.raises(MedadaptError) as err:
            warnings.simplefilter("always")
            call()
        assert _refusal(err) == says, name
        assert not said, (name, [str(w.message) for w in said])  # refused before any reading


def test_predict_refuses_the_base_model_object_for_its_network(heart):
    base, schema, va = heart
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any warning about the rows
        with pytest.raises(MedadaptError) as err:  # was AttributeError: ... attribute 'eval'
            ma.predict(base, schema, va.assign(chol=0))
    assert _refusal(err) == (
        "model must be the network to score, not BaseModel: pass its .model (base.model, or the "
        ".model of ma.adapt's result)"
    )


def test_predict_scores_a_compiled_table_network_as_the_network_it_wraps(heart):
    """A torch.compile'd model was refused as "model is a OptimizedModule, not a table
    model", and a compiled adaptation's adapter as absent (the eager backend: no compiler
    needed)."""
    base, schema, target = heart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # what adapt and predict say of the rows
        adapted = ma.adapt(base, target, method="lora", name="va", train_config=QUICK)
        for model, options in ((base.model, {}), (adapted.model, {"adapter": "va"}),
                               (adapted.model, {})):  # fmt: skip
            compiled = torch.compile(model, backend="eager")
            assert compiled._orig_mod is model  # the wrapper, not the network itself
            np.testing.assert_allclose(ma.predict(compiled, schema, target, **options),
                                       ma.predict(model, schema, target, **options))  # fmt: skip
        base_alone = ma.predict(base.model, schema, target)
        through = ma.predict(torch.compile(adapted.model, backend="eager"), schema, target,
                             adapter="va")  # fmt: skip
        assert not np.allclose(through, base_alone)  # the adapter was applied
        with pytest.raises(MedadaptError) as err:  # another network, compiled, still refused
            ma.predict(torch.compile(torch.nn.Linear(2, 2), backend="eager"), schema, target)
    assert _refusal(err).startswith("model is a Linear, not a table model")


def test_predict_warns_once_about_categories_the_model_never_learned(heart):
    base, schema, va = heart
    coded = va.assign(sex=(va["sex"] == "Male").astype(int))  # 0/1 for 'Female'/'Male'
    lower = va.assign(sex=va["sex"].str.lower())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = ma.predict(base.model, schema, va)
    assert not [w for w in caught if "never learned" in str(w.message)]
    for frame, slip in ((coded, False), (lower, True)):
        with pytest.warns(UserWarning) as caught:
            scores = ma.predict(base.model, schema, frame)  # scored as 'unseen': not the same
        ours = [str(w.message) for w in caught if "never learned" in str(w.message)]
        assert ours[0].startswith(
            f"{len(va)} of {len(va)} rows have a 'sex' value the model never learned (rare in "
            "its training rows, or coded otherwise) and are scored as 'unseen'"
        )
        assert len(ours) == 1 and ("(e.g. 'Male'): recode 'sex' as in training" in ours[0]) == slip
        assert {w.filename for w in caught if "never learned" in str(w.message)} == {__file__}
        assert not np.allclose(scores, plain)


def test_a_column_name_that_starts_with_a_vowel_takes_an(heart):
    """A trial: "200 of 200 rows have a 'exang' value the model never learned"."""
    base, schema, va = heart
    coded = va.assign(exang=va["exang"].map({True: "Y", False: "N"}))
    with pytest.warns(UserWarning) as caught:
        ma.predict(base.model, schema, coded)
    ours = [str(w.message) for w in caught if "never learned" in str(w.message)]
    assert ours == [
        f"{va['exang'].notna().sum()} of {len(va)} rows have an 'exang' value the model never "
        "learned (rare in its training rows, or coded otherwise) and are scored as 'unseen'; "
        f"{va['exang'].notna().sum()} of them were written as text, but the model learned "
        "'exang' as one of true, false: recode 'exang' as one of those, as in training"
    ]  # Y/N for true/false: said as a kind slip, as serve says it


def test_one_row_of_an_unseen_category_is_not_said_to_be_coded_otherwise(heart):
    """A review: one row scored alone, of a category rare in training, read "every row, so
    'sex' may be coded otherwise here: recode"."""
    base, schema, va = heart
    one = va.head(1).assign(sex="Other")
    with pytest.warns(UserWarning) as caught:
        ma.predict(base.model, schema, one)
    [said] = [str(w.message) for w in caught if "never learned" in str(w.message)]
    assert said.endswith(
        "1 of 1 rows has a 'sex' value the model never learned (rare in its "
        "training rows, or coded otherwise) and is scored as 'unseen'"
    )
    assert "recode" not in said


# ----- images ----------------------------------------------------------------------------------
def _pictures(n: int = 40, seed: int = 0, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n - n // 2)].astype(np.int64)
    x = rng.uniform(0, 0.5, size=(n, 1, size, size)).astype(np.float32)
    x[y == 1, :, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] += 0.4  # a bright square
    return x, y


def _dataset(x, y, classes=("normal", "lesion")) -> images.ImageDataset:
    as_tensor = (lambda a: torch.from_numpy(a)) if isinstance(x, np.ndarray) else (lambda a: a)
    return images.ImageDataset(images=as_tensor(x), y=torch.as_tensor(y), classes=list(classes))


@pytest.fixture(scope="module")
def image_base():
    x, y = _pictures()
    return images.train_base(_dataset(x, y), backbone_options=TINY, train_config=QUICK)


_X, _LABELS = _pictures()
_NAN = _X.copy()
_NAN[3, 0, 0, 0] = np.nan
_BAD_DATASETS = {  # what each was: a torch/numpy error, or a model trained without a word
    "numpy arrays": (images.ImageDataset(images=_X, y=_LABELS, classes=["normal", "lesion"]),
                     "dataset.images must be a torch tensor, not ndarray: convert it with "
                     "torch.from_numpy(array).float()"),
    "no channel axis": (_dataset(_X[:, 0], _LABELS), "got (40, 32, 32): add the channel axis "
                        "with .unsqueeze(1)"),
    "channels last": (_dataset(np.repeat(_X, 3, 1).transpose(0, 2, 3, 1).copy(), _LABELS),
                      "the channels come last, use .permute(0, 3, 1, 2)"),
    "not square": (_dataset(_X[..., :16].copy(), _LABELS), "must be square"),
    "float64": (_dataset(_X.astype(np.float64), _LABELS), "float32 in [0, 1], got torch.float64"),
    "0-255 pixels": (_dataset(_X * 255, _LABELS), "40 of 40 images (dataset.images) have pixels "
                     "outside [0, 1]"),
    "NaN pixels": (_dataset(_NAN, _LABELS), "1 of 40 images (dataset.images) hold NaN or "
                   "infinite pixels: fix or drop those images"),
    "labels out of range": (_dataset(_X, _LABELS + 1), "dataset.y must hold class indices 0 to "
                            "1 (one per name in dataset.classes); 20 of 40 labels are not"),
    "float labels": (_dataset(_X, _LABELS.astype(np.float32)), "got torch.float32: use .long()"),
    "fewer labels": (_dataset(_X, _LABELS[:30]), "dataset has 40 images but 30 labels"),
    "one class": (_dataset(_X, np.zeros(40, dtype=np.int64)), "dataset holds images of only one "
                  "class ('normal'); a model trained on them would call every image that class"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(_BAD_DATASETS))
def test_images_train_base_refuses_a_dataset_it_cannot_learn_from(case):
    dataset, says = _BAD_DATASETS[case]
    with pytest.raises(MedadaptError) as err:
        images.train_base(dataset, backbone_options=TINY, train_config=QUICK)
    assert says in _refusal(err)


def test_images_options_are_named_as_python_arguments():
    dataset = _dataset(_X, _LABELS)
    with pytest.raises(MedadaptError) as err:
        images.train_base(dataset, backbone_options={"depth": 1, "embed_dim": 30, "num_heads": 4})
    assert _refusal(err).startswith("backbone_options embed_dim=30 cannot be shared by")
    with pytest.raises(MedadaptError) as err:
        images.train_base(dataset, backbone="timm:resnet18")
    assert _refusal(err).startswith("backbone timm:resnet18 is not a VisionTransformer")


def test_images_train_base_warns_when_only_sorting_chose_the_positive_class():
    """Two classes in sorted order, neither read as the negative one: the last is positive,
    said as a table's two-valued label says it, in the Python argument's words."""
    x, y = _pictures()
    dataset = _dataset(x, y, ("cyst", "tumour"))
    with pytest.warns(UserWarning) as caught:
        base = images.train_base(dataset, backbone_options=TINY, train_config=QUICK)
    said = [w for w in caught if "sorts after" in str(w.message)]
    assert [str(w.message) for w in said] == [
        "class 'tumour' is treated as the positive class (sensitivity and the predicted "
        "probability are about it) only because it sorts after 'cyst'; choose with "
        "positive_class: positive_class='cyst' if 'cyst' is the outcome to detect, "
        "positive_class='tumour' to keep this"
    ]
    assert {w.filename for w in said} == {__file__}
    assert list(base.schema.classes) == ["cyst", "tumour"]
    with pytest.warns(UserWarning) as chosen:  # chosen: no such warning, the order as asked
        base = images.train_base(dataset, backbone_options=TINY, train_config=QUICK,
                                 positive_class="cyst")  # fmt: skip
        warnings.warn("(at least one warning, for pytest.warns)", UserWarning, stacklevel=1)
    assert not [w for w in chosen if "sorts after" in str(w.message)]
    assert list(base.schema.classes) == ["tumour", "cyst"]


def test_images_adapt_refuses_one_class_unless_allowed_and_names_its_arguments(image_base):
    x, y = _pictures(seed=1)
    with pytest.raises(MedadaptError) as err:
        images.adapt(image_base, _dataset(x, y), method="lora2", name="b")  # ("LoRA": LoRA)
    assert _refusal(err).startswith("method must be one of bottleneck, lora")
    with pytest.raises(MedadaptError) as err:
        images.adapt(image_base, _dataset(_NAN, y), method="lora", name="b")
    assert "NaN" in _refusal(err)
    normal = _dataset(x, np.zeros(40, dtype=np.int64))
    with pytest.raises(MedadaptError) as err:  # was trained: an adapter calling every image normal
        images.adapt(image_base, normal, method="lora", name="b", train_config=QUICK)
    assert _refusal(err).endswith(
        "pass images of at least two classes (allow_one_class=True trains it all the same)"
    )
    kept = images.adapt(image_base, normal, method="lora", name="b", train_config=QUICK,
                        allow_one_class=True)  # fmt: skip
    assert images.predict_proba(kept.model, torch.from_numpy(x), adapter="b").shape == (40, 2)


def test_images_predict_proba_refuses_what_the_model_cannot_take(image_base):
    x, _ = _pictures(n=8, seed=2)
    model = image_base.model
    cases = {  # each was a torch error (or, for the adapter, the base's scores without a word)
        "the BaseModel": (lambda: images.predict_proba(image_base, torch.from_numpy(x)),
                          "model must be the network to score, not BaseModel"),
        "3 channels": (lambda: images.predict_proba(model, torch.from_numpy(np.repeat(x, 3, 1))),
                       "images have 3 channels but the model takes 1"),
        "16 x 16": (lambda: images.predict_proba(model, torch.from_numpy(_pictures(4, size=16)[0])),
                    "images have sides (16, 16) but the model takes (32, 32)"),
        "an adapter": (lambda: images.predict_proba(model, torch.from_numpy(x), adapter="b"),
                       "adapter='b' was given, but the model has no adapters"),
    }  # fmt: skip
    for call, says in cases.values():
        with pytest.raises(MedadaptError) as err:
            call()
        assert says in _refusal(err)
    proba = images.predict_proba(model, torch.from_numpy(x))
    assert proba.shape == (8, 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_score_images_refuses_probabilities_that_are_not_a_column_per_class():
    """1-D probabilities ended in an IndexError from deep inside the scoring."""
    y = np.r_[np.zeros(10), np.ones(10)]
    with pytest.raises(MedadaptError) as err:
        images.score_images(y, np.full(20, 0.5), ["normal", "lesion"])
    assert _refusal(err) == (
        "proba must be (N, K) probabilities, a column per class in classes (K = 2); got shape (20,)"
    )
    with pytest.raises(MedadaptError, match=r"\(K = 3\); got shape \(20, 2\)"):
        images.score_images(y, np.full((20, 2), 0.5), ["normal", "lesion", "other"])


def test_score_images_reads_a_dataset_s_labels_by_class_name():
    """A trial's folders ``lesion/`` and ``normal/`` were read alphabetically, the model's
    classes are ('normal', 'lesion'): scoring ``held_out.y`` against them, as the README did,
    gave AUROC 0.05 for a model of 0.95. A dataset is scored by its class names now (against
    scikit-learn), its patients resampled together; a class the model lacks is refused."""
    rng = np.random.default_rng(0)
    y = torch.tensor(np.r_[np.zeros(12), np.ones(12)], dtype=torch.long)  # 0: lesion
    held_out = images.ImageDataset(images=torch.zeros(24, 1, 4, 4), y=y,
                                   classes=["lesion", "normal"],
                                   subjects=[f"p{i // 2}" for i in range(24)])  # fmt: skip
    lesion = np.r_[rng.uniform(0.5, 1, 12), rng.uniform(0, 0.6, 12)]  # a good model's
    p = np.c_[1 - lesion, lesion]  # columns: the model's ('normal', 'lesion')
    scored = images.score_images(held_out, p, ("normal", "lesion"), n_boot=50)["overall"]
    assert scored["auroc"] == pytest.approx(roc_auc_score(y.numpy() == 0, lesion))
    assert scored["auroc"] > 0.9 and scored["n_patients"] == 12
    as_indices = images.score_images(y.numpy(), p, ("normal", "lesion"), n_boot=0)["overall"]
    assert as_indices["auroc"] == pytest.approx(1 - scored["auroc"])  # indices: the caller's
    other = images.ImageDataset(images=torch.zeros(24, 1, 4, 4), y=y, classes=["lesion", "cyst"])
    with pytest.raises(MedadaptError) as err:
        images.score_images(other, p, ("normal", "lesion"))
    assert _refusal(err) == (
        "the images' classes ['lesion', 'cyst'] include ['cyst'], which the model does not "
        "score (its classes: ['normal', 'lesion']): score them with a model that has that "
        "class (images.adapt(..., new_classes=...))"
    )


@pytest.mark.parametrize(
    ("classes", "positive", "scored"),
    [
        (("abnormal", "normal"), None, ["normal", "abnormal"]),  # sorted: 'normal' is negative
        (("lesion", "normal"), "normal", ["lesion", "normal"]),  # as asked
        (("normal", "lesion"), None, ["normal", "lesion"]),  # an order of its own: kept
    ],
)
def test_images_train_base_chooses_the_positive_class_as_the_command_line(
    classes, positive, scored
):
    x, y = _pictures(n=12, size=16)
    config = TrainConfig(epochs=1)
    base = images.train_base(_dataset(x, y, classes), backbone_options=TINY,
                             train_config=config, positive_class=positive)  # fmt: skip
    assert list(base.schema.classes) == scored
