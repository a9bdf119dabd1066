"""Adapter cards, metric parsing and diffs: what the data supports, said plainly."""

from __future__ import annotations

import pytest

from medadapt.errors import ConfigError
from medadapt.registry import Metric, render_card
from medadapt.registry.diff import flatten
from medadapt.registry.records import parse_metrics, parse_ref


def _manifest(**metadata) -> dict:
    return {
        "method": "bottleneck",
        "config": {"method": "bottleneck", "reduction_factor": 16.0},
        "layers": ["blocks.0.mlp", "blocks.1.mlp"],
        "n_parameters": 1234,
        "base_fingerprint": {
            "model_class": "FTTransformer",
            "architecture": "a" * 64,
            "weights": "b" * 64,
            "n_parameters": 99999,
        },
        "weights_sha256": "c" * 64,
        "created": "2025-03-01T10:00:00+00:00",
        "medadapt_version": "0.1.0",
        "metadata": metadata,
    }


def _card(**metadata) -> str:
    return render_card(
        name="pneumonia",
        version=3,
        parent=2,
        registered="2025-03-02T09:00:00+00:00",
        manifest=_manifest(**metadata),
    )


def test_a_card_states_use_data_metrics_and_provenance():
    card = _card(
        task="pneumonia vs normal",
        intended_use="Second reader for chest X-rays in adults at Site B.",
        data_summary={"n_train": 400, "n_positive": 150, "prevalence": 0.375, "group": "Site B"},
        metrics={"auroc": {"value": 0.9, "ci": [0.86, 0.93]}, "ci_level": 0.95, "n_test": 200},
    )
    assert card.startswith(
        "# pneumonia@3\n\nA **bottleneck** adapter for **pneumonia vs normal** on base model "
        "**FTTransformer** (weights sha256 `bbbbbbbbbbbb`).\n"
    )
    assert "Second reader for chest X-rays in adults at Site B." in card
    assert "| training rows | 400 |" in card and "| training prevalence | 0.38 |" in card
    assert "| metric | value | 95% CI |" in card
    assert "| AUROC | 0.900 | 0.860 to 0.930 |" in card
    assert "| test rows | 200 |  |" in card
    assert "| parent | pneumonia@2 |" in card and "| adapted layers | 2 |" in card
    assert "- Trained for one group (group = Site B): it is not validated for other sites" in card
    assert "fewer than 100" not in card and "wide" not in card
    assert "| config | `reduction_factor=16.0` |" in card  # no raw JSON, no nulls


def test_a_head_adapter_s_card_says_what_no_adapted_layer_means():
    """A trial read "adapted layers 0" beside "adapter parameters 65" as nothing adapted,
    below a config of raw JSON full of nulls."""
    manifest = {**_manifest(), "method": "head", "layers": [],
                "config": {"method": "head", "rank": None, "targets": []}}  # fmt: skip
    card = render_card(name="south", version=1, parent=None, registered="2025-03-02",
                       manifest=manifest)  # fmt: skip
    assert ("| adapted layers | none inside the base model (it trains a new output head only) |"
            in card)  # fmt: skip
    assert "| config | the method's defaults |" in card


def test_a_summary_value_not_recorded_gets_no_row():
    """An adapter trained on every row (no group column) recorded group None: the card said
    '| group | None |' and '| group column | None |'."""
    card = _card(data_summary={"n_train": 400, "group": None, "group_column": None})
    assert "| training rows | 400 |" in card
    assert "None" not in card and "| group" not in card


def test_a_card_says_whether_the_adapter_beat_the_base_model():
    said = "Paired on the same patients, the adapter changes AUROC by -0.030 (95% CI -0.111 to "
    said += "+0.027): no detectable difference on these patients."
    card = _card(metrics={"auroc": 0.655}, versus_base={"metric": "auroc", "in_words": said})
    assert f"\n\n**Against the base model alone on the same test patients.** {said}\n" in card
    assert "Against the base model" not in _card(metrics={"auroc": 0.655})  # not recorded
    assert "Against the base model" not in _card(versus_base={"in_words": ["not", "text"]})
    lost = "the adapter calls none of these 32 patients 'low', where the base model alone ..."
    paired = {"metric": "auroc", "in_words": said, "warnings": [lost]}
    warned = _card(metrics={"auroc": 0.655}, versus_base=paired)
    assert f"{said}\n\n**Warning:** {lost}\n" in warned  # the card says it too


def test_limitations_follow_from_the_data():
    card = _card(
        data_summary={"n_train": 60, "n_positive": 5, "prevalence": 0.083},
        metrics={"auroc": 0.77, "auroc_ci": [0.55, 0.95], "sensitivity": 0.6},
    )
    assert "- Trained on 60 rows (fewer than 100): performance estimates are uncertain" in card
    assert "- Only 5 positive training rows, the rarer class (fewer than 20)." in card
    assert "- Skewed training data (training prevalence 0.08)" in card
    assert "- The confidence interval for AUROC is wide (0.55 to 0.95)" in card
    assert "- No confidence interval recorded for sensitivity: treat 0.600 as a point" in card
    assert "| sensitivity | 0.600 | not recorded |" in card


def test_a_card_without_metadata_says_what_is_unknown():
    card = _card()
    assert "## Intended use\n\nNot stated. Before clinical use" in card
    assert "## Training data\n\nNo summary was recorded." in card
    assert "- No training-data summary was recorded" in card
    assert "- No evaluation metrics were recorded." in card
    assert "an unstated task" in card


def test_user_limitations_and_notes_are_kept():
    card = render_card(
        name="x",
        version=1,
        parent=None,
        registered="t",
        manifest=_manifest(limitations="Not for children under 12."),
        notes="Approved by the AI committee, 2025-02.",
    )
    assert "- Not for children under 12." in card
    assert card.endswith("## Notes\n\nApproved by the AI committee, 2025-02.\n")
    assert "| parent | none |" in card


def test_metrics_parse_both_shapes_and_skip_junk():
    metrics = parse_metrics(
        {
            "auroc": 0.8,
            "auroc_ci": [0.7, 0.9],
            "brier": {"value": 0.1, "ci": {"low": 0.08, "high": 0.12}},
            "n_test": 50,
            "note": "text",
            "nan": float("nan"),
            "flag": True,
        }
    )
    assert metrics == [
        Metric("auroc", 0.8, (0.7, 0.9)),
        Metric("brier", 0.1, (0.08, 0.12)),
        Metric("n_test", 50.0, None),
    ]
    assert [m.format() for m in metrics] == ["0.800 [0.700, 0.900]", "0.100 [0.080, 0.120]", "50"]


@pytest.mark.parametrize("ref", ["a@v3", "a@V3", " a@v03 "])
def test_a_version_written_with_a_v_is_refused_naming_the_form_to_write(ref):
    """``va@v1`` was read as ``va@1``, a form no message, help or README gives (the card and
    the archive write "a v3"); one spelling, the registry's, is the one every command reads."""
    with pytest.raises(ConfigError) as refused:
        parse_ref(ref)
    assert str(refused.value) == (
        f"version reference {ref!r} is invalid: versions are plain numbers, write a@3 (the "
        "forms: NAME, NAME@N, NAME@latest or NAME@promoted)"
    )


def test_refs_and_flattening():
    assert str(parse_ref("a@3")) == "a@3" and parse_ref("a@03").version == 3
    assert parse_ref("a").selector == "default" and not parse_ref("a").explicit
    assert parse_ref("a@latest").explicit and not parse_ref("a@promoted").explicit
    assert flatten({"a": {"b": 1, "c": {}}, "d": [1]}) == {"a.b": 1, "a.c": {}, "d": [1]}


def test_diff_reports_config_data_and_ci_overlap(registry, adapter_dir):
    from tests.registry.helpers import metadata

    registry.add(adapter_dir(1), name="heart")
    better = metadata(
        metrics={"auroc": 0.95, "auroc_ci": [0.91, 0.98], "f1": 0.7},
        data_summary={"n_train": 240, "n_positive": 80, "prevalence": 0.33},
    )
    registry.add(adapter_dir(2, r=4, meta=better), name="heart")
    d = registry.diff("heart@1", "heart@2")
    assert [(c.key, c.a, c.b) for c in d.config] == [("r", 2, 4)]
    assert [(c.key, c.a, c.b) for c in d.data_summary] == [
        ("group", "VA Long Beach", None),
        ("group_column", "dataset", None),
        ("n_train", 120, 240),
        ("prevalence", 0.67, 0.33),
    ]
    assert {c.key for c in d.fields} == {"parent", "n_parameters", "weights_sha256"}
    by_name = {m.name: m for m in d.metrics}
    assert round(by_name["auroc"].delta, 6) == 0.14 and by_name["auroc"].overlap is False
    assert by_name["f1"].a is None and by_name["f1"].delta is None
    assert by_name["n_test"].b is None
    assert d.to_dict()["metrics"][0]["ci_overlap"] is False
    assert registry.diff("heart@1", "heart@1").config == []


def test_counts_and_bookkeeping_from_evaluate_are_not_called_metrics():
    import numpy as np

    from medadapt.evaluate.metrics import binary_metrics

    y = np.array([0] * 40 + [1] * 20)
    scores = np.r_[np.linspace(0.05, 0.6, 40), np.linspace(0.4, 0.95, 20)]
    card = _card(metrics=binary_metrics(y, scores, n_boot=50), data_summary={"n_train": 400})
    table = card.split("## Metrics")[1].split("## Limitations")[0]
    assert "| test rows | 60 |  |" in table and "| positive test rows | 20 |  |" in table
    assert "| AUROC | 0.925 | " in table and "| calibration error (ECE) | " in table
    for name in ("prevalence", "threshold", "notes"):
        assert f"| {name} |" not in table
    assert (
        "Also recorded with the metrics (not performance measures): test prevalence 0.333, "
        "threshold 0.5." in table
    )
    assert "point estimate" not in card and "for n:" not in card
    assert "prevalence 0.33" not in card.split("## Limitations")[1]


def test_metrics_evaluate_could_not_report_are_named_in_the_limitations():
    import numpy as np

    from medadapt.evaluate.metrics import binary_metrics

    y = np.array([0] * 27 + [1] * 3)
    card = _card(metrics=binary_metrics(y, np.linspace(0.05, 0.95, 30), n_boot=50))
    assert (
        "- AUROC: not reported: 3 positives among 30 patients; at least 5 are needed for a "
        "meaningful estimate.\n" in card
    )
    assert "| AUROC |" not in card and "| accuracy | 0.600 (18 of 30) |" in card


def test_the_metric_allow_list_covers_every_metric_evaluate_reports():
    from medadapt.evaluate.metrics import METRIC_NAMES
    from medadapt.registry.records import METRIC_NAMES as SHOWN

    assert set().union(*METRIC_NAMES.values()) <= set(SHOWN)
    assert {"n", "prevalence", "threshold", "notes", "class_counts", "mean_target"}.isdisjoint(
        SHOWN
    )


def test_local_paths_are_stripped_from_metadata():
    from medadapt.registry.records import strip_local_paths

    meta = {
        "base_model": {"path": "/home/ana/runs/base", "training_groups": {"A": 10}},
        "split": {"positions_file": "split.json", "source": "C:\\data\\x.csv"},
        "runs": [{"out_dir": "runs/3", "seed": 1}],
        "task": "binary",
    }
    clean, removed = strip_local_paths(meta)
    assert clean == {
        "base_model": {"training_groups": {"A": 10}},
        "split": {"positions_file": "split.json"},
        "runs": [{"seed": 1}],
        "task": "binary",
    }
    assert removed == ["base_model.path", "split.source", "runs[0].out_dir"]


def test_a_diff_treats_null_and_absent_config_keys_as_equal(registry, adapter_dir):
    import dataclasses

    from medadapt.registry.diff import diff_versions

    a = registry.add(adapter_dir(1), name="heart").version
    b = registry.add(adapter_dir(2), name="heart").version
    a = dataclasses.replace(a, config={**a.config, "d_hidden": None})
    b = dataclasses.replace(b, config={k: v for k, v in b.config.items() if k != "d_hidden"})
    assert diff_versions(a, b).config == []
    b = dataclasses.replace(b, config={**b.config, "d_hidden": 8})
    assert [(c.key, c.a, c.b) for c in diff_versions(a, b).config] == [("d_hidden", None, 8)]
    older = dataclasses.replace(a, data_summary={"n_train": 60})  # registered before "unit"
    newer = dataclasses.replace(a, data_summary={"n_train": 60, "unit": "rows"})
    assert diff_versions(older, newer).data_summary == []


def test_a_warning_about_the_whole_result_reads_as_a_sentence_not_a_key():
    note = ("accuracy 0.717 at threshold 0.5 is no better than calling every patient positive "
            "(0.750, the no-information rate); judge the model by AUROC and balanced "
            "accuracy")  # fmt: skip
    card = _card(metrics={"accuracy": 0.717, "accuracy_ci": [0.6, 0.83],
                          "notes": {"one_class": note}})  # fmt: skip
    assert "- Accuracy 0.717 at threshold 0.5 is no better than calling every patient" in card
    assert "one_class" not in card


def test_a_card_names_its_metrics_plainly_with_the_patients_behind_them_and_a_small_test_set():
    """VA Long Beach: 60 test patients, 45 with the outcome; specificity rests on 15 and the
    test set is too small for any precise validation estimate (adapt recorded that)."""
    sample_size = {"parameters": 8577, "n_needed": 502849, "criterion": "i", "n_train": 140,
                   "n_test": 60, "met": False,
                   "test_needs": {"O/E": 132, "slope": 1820, "C": 486},
                   "test_supports": {"O/E": False, "slope": False, "C": False}}  # fmt: skip
    card = _card(
        data_summary={"n_train": 140, "n_test": 60, "n_positive": 104, "sample_size": sample_size},
        metrics={
            "n": 60,
            "n_positive": 45,
            "auroc": 0.68,
            "auroc_ci": [0.54, 0.82],
            "sensitivity": 44 / 45,
            "sensitivity_ci": [0.929, 1.0],
            "specificity": 1 / 15,
            "specificity_ci": [0.0, 0.222],
            "balanced_accuracy": 0.522,
            "balanced_accuracy_ci": [0.47, 0.605],
            "brier": 0.192,
            "brier_ci": [0.126, 0.267],
        },
    )
    assert "| sensitivity | 0.978 (44 of 45) | 0.929 to 1.000 |" in card
    assert "| specificity | 0.067 (1 of 15) | 0.000 to 0.222 |" in card
    assert "| balanced accuracy | 0.522 | 0.470 to 0.605 |" in card
    assert "| Brier score | 0.192 | 0.126 to 0.267 |" in card
    assert "| balanced_accuracy |" not in card and "| brier |" not in card
    assert (
        "- Tested on 60 patients: too few for a precise observed/expected ratio (132 needed), "
        "calibration slope (1,820 needed) and C-statistic (486 needed); read the "
        "intervals of those estimates, not the single values.\n" in card
    )


def test_a_card_says_which_estimates_evaluate_reports_none_of():
    """9 test patients: "read the intervals of those estimates" where evaluate reports none
    (a biostatistician's review); adapt records which it will not report, and why."""
    why = "the test split holds 9 patients, and evaluate reports no figure from fewer than 10"
    sample_size = {"parameters": 8577, "n_needed": 685890, "criterion": "i", "n_train": 21,
                   "n_test": 9, "met": False, "test_needs": {"O/E": 166, "slope": 4150},
                   "test_supports": {"O/E": False, "slope": False},
                   "test_reported": {"O/E": False, "slope": False},
                   "not_reported": why}  # fmt: skip
    card = _card(data_summary={"n_train": 21, "n_test": 9, "sample_size": sample_size})
    assert (
        "- Tested on 9 patients: too few for a precise observed/expected ratio (166 needed) and "
        "calibration slope (4,150 needed), and too few for evaluate to report the "
        f"observed/expected ratio and calibration slope at all ({why}).\n"
    ) in card
    assert "read the intervals" not in card
    assert "observed/expected ratio: 166 (too few here to report at all)" in card


def test_an_image_adapter_s_card_counts_images_and_says_what_it_predicts_in_words():
    """An image adapter's card read "| n_train | 7 |", "| n | 3 |", "for **multiclass**",
    "Trained on 7 cases" and the base model as JSON."""
    card = _card(
        kind="image",
        task="multiclass",
        classes=["normal", "nodule", "mass"],
        data_summary={"n_train": 1400, "n_test": 3, "group_column": "site", "group": "B",
                      "train_class_counts": {"normal": 3, "nodule": 0, "mass": 1397}},
        metrics={"n": 3},
        versus_base={"in_words": "cannot be compared"},
        base_model={"classes": ["normal", "nodule", "mass"], "training_groups": ["A"]},
    )  # fmt: skip
    assert "adapter for **3 classes (normal, nodule, mass)** on base model" in card
    assert "| training images | 1,400 |" in card and "| test images | 3 |  |" in card
    assert "| training images per class | normal: 3, nodule: 0, mass: 1,397 |" in card
    assert "| group column | site |" in card and "n_train" not in card
    assert "**Against the base model alone on the same test images.**" in card
    assert "| base model | classes: normal, nodule, mass; trained on groups A |" in card
    # a base that recorded nothing more than its weights (named above): no "not recorded" row
    # (a trial's federated card said "base model | not recorded" of a registered base)
    bare = _card(task="binary", label="num", data_summary={"n_train": 60}, metrics={"n": 20},
                 base_model={"training_groups": None})  # fmt: skip
    assert "| base model |" not in bare and "weights sha256" in bare
    table = _card(task="binary", label="num", data_summary={"n_train": 60}, metrics={"n": 20})
    assert "adapter for **a binary outcome (num)**" in table
    assert "| training rows | 60 |" in table and "- Trained on 60 rows (fewer than 100)" in table


def test_a_binary_image_adapter_s_counts_read_by_class_not_as_positives():
    """Two image findings (normal, mass) have no positive class: the card said "positive
    training images" and "positive test images"."""
    card = _card(
        kind="image", task="binary", classes=["normal", "mass"],
        data_summary={"n_train": 40, "n_positive": 12, "prevalence": 0.3,
                      "train_class_counts": {"normal": 28, "mass": 12}},
        metrics={"auroc": 0.8, "auroc_ci": [0.7, 0.9], "n": 30, "n_positive": 9},
    )  # fmt: skip
    assert "positive" not in card
    assert "| training images per class | normal: 28, mass: 12 |" in card
    assert "| test images of class 'mass' | 9 |  |" in card
    unnamed = _card(kind="image", task="binary", data_summary={"n_train": 40},
                    metrics={"auroc": 0.8, "n": 30, "n_positive": 9})  # fmt: skip
    assert "| test images of the second class | 9 |  |" in unnamed  # classes not recorded


def test_a_regression_card_prints_errors_with_three_figures_and_its_bookkeeping_in_words():
    """The card printed "MAE | 44.730 | 37.805 to 52.322" (the terminal: 44.7 (37.8–52.3)) and
    "mean_target 157"."""
    import numpy as np

    from medadapt.evaluate.metrics import regression_metrics

    rng = np.random.default_rng(0)
    y = rng.normal(157, 78, 65)
    metrics = regression_metrics(y, y + rng.normal(0, 50, 65), n_boot=50)
    card = _card(task="regression", label="target", metrics=metrics,
                 data_summary={"n_train": 150})  # fmt: skip
    mae = metrics["mae"]
    places = 1 if 10 <= mae < 100 else 2
    assert f"| MAE | {mae:.{places}f} | " in card and "| calibration slope | " in card
    assert "| mean observed − predicted | " in card
    assert "mean outcome 1" in card and "mean_target" not in card
    assert "adapter for **a measured value (target)**" in card


def test_a_card_names_every_metric_as_registry_show_does():
    """A metric the reports do not compute (an F1 score, PPV registered from Python) reads as
    ``registry show`` prints it, never as its key; an unknown key in words."""
    from medadapt.cli.registry_format import metric_label

    card = _card(metrics={"n": 40, "f1": 0.71, "ppv": 0.64})
    assert "| F1 score | 0.710 | not recorded |" in card and "| PPV | 0.640 |" in card
    assert "| f1 |" not in card and "| ppv |" not in card
    assert [metric_label(k) for k in ("f1", "ppv", "net_benefit")] == [
        "F1 score", "PPV", "net benefit"]  # fmt: skip


def test_a_card_shows_the_events_behind_the_observed_expected_ratio():
    card = _card(metrics={"n": 120, "n_positive": 49, "oe_ratio": 0.997,
                          "oe_ratio_ci": [0.845, 1.139], "accuracy": 0.85})  # fmt: skip
    assert "| observed/expected events | 0.997 (49 observed, 49.1 expected) | 0.845 to 1.139 |" in (
        card
    )
    assert "| accuracy | 0.850 (102 of 120) |" in card


def test_the_card_counts_a_test_set_as_what_it_holds():
    """ "Tested on 36 patients" was written of 36 rows of a table naming no patient and of 36
    images: the card now counts what the test set holds, and says when rows are taken as
    patients."""
    needs = {"parameters": 8577, "n_needed": 502849, "criterion": "i", "n_train": 84,
             "met": False, "test_needs": {"O/E": 132}, "test_supports": {"O/E": False},
             "n_test": 36}  # fmt: skip
    rows = {
        "n_train": 84,
        "n_test": 36,
        "sample_size": {
            **needs,
            "as_patients": "each taken as one patient: the base names no patient column",
        },
    }
    images = {"n_train": 84, "n_test": 36, "unit": "images", "sample_size": needs}
    by_id = {"n_train": 84, "n_test": 36, "sample_size": needs}  # fmt: skip
    said = {name: _card(task="binary", data_summary=data)
            for name, data in (("rows", rows), ("images", images), ("by_id", by_id))}  # fmt: skip
    assert (
        "- Tested on 36 rows (each taken as one patient: the base names no patient column): too "
        "few for a precise observed/expected ratio (132 needed)"
    ) in said["rows"]
    assert "- Tested on 36 images: too few for a precise observed/expected" in said["images"]
    assert "- Tested on 36 patients: too few for a precise observed/expected" in said["by_id"]


def test_a_card_names_the_rare_class_and_which_set_each_prevalence_is_of():
    """A clinician read "Only 6 cases in the minority class" as 6 patients with the disease
    (they were 6 without it), and met three unlabelled prevalences (0.9302, 0.935, 0.946)."""
    sample_size = {"parameters": 4161, "n_needed": 747502, "criterion": "i", "n_train": 86,
                   "n_test": 37, "met": False, "r2": 0.0487, "r2_label": "Cox-Snell R-squared",
                   "outcome": "prevalence 0.935"}  # fmt: skip
    card = render_card(
        name="ch", version=1, parent=None, registered="t",
        manifest=_manifest(
            kind="tabular", task="binary", label="num", classes=["0", "1"],
            data_summary={"n_train": 86, "n_test": 37, "n_positive": 80, "prevalence": 0.9302,
                          "train_class_counts": {"0": 6, "1": 80}, "n_seen_by_base": 5,
                          "n_seen_training": 4, "sample_size": sample_size},
            metrics={"accuracy": 0.946, "accuracy_ci": [0.818, 0.993], "n": 37,
                     "n_positive": 35, "prevalence": 0.946},
        ),
        positive="1 means num > 0",
    )  # fmt: skip
    assert "adapter for **a binary outcome (num; 1 means num > 0)** on base model" in card
    limits = card.split("## Limitations")[1]
    assert "- Only 6 training rows of class '0', the rarer class (fewer than 20).\n" in limits
    assert "- Trained on 86 rows (fewer than 100)" in limits and "cases" not in card
    assert "| training prevalence | 0.93 |" in card  # two figures, as show prints it
    assert (
        "| sample size basis | Cox-Snell R-squared 0.049; in the adapter's training and test "
        "rows together, outcome prevalence 0.935 |" in card
    )
    assert "(not performance measures): test prevalence 0.946." in card
    assert "- Skewed training data (training prevalence 0.93)" in limits
    # two counts of rows the base model saw, said apart ("rows the base model trained on 0"
    # beside "training rows the base model trained on 0")
    assert "| rows given to adapt that the base model trained on | 5 |" in card
    assert "| adapter training rows the base model also trained on | 4 |" in card


def test_a_card_names_the_rarest_of_several_classes():
    card = _card(
        kind="image",
        task="multiclass",
        data_summary={
            "n_train": 400,
            "train_class_counts": {"normal": 300, "mass": 88, "cavity": 12},
        },
    )
    assert "- Only 12 training images of class 'cavity', the rarest class (fewer than 20)." in card


def test_a_federation_of_one_round_is_said_in_the_singular():
    """A trial's card read "1 rounds of fedavg"."""
    from medadapt.registry.card import federated_words

    assert federated_words({"sites": ["A", "B"], "rounds": 1, "strategy": "fedavg"}) == (
        "sites A, B; 1 round of fedavg"
    )
    assert federated_words({"sites": ["A"], "rounds": 3, "strategy": "fedyogi"}).endswith(
        "3 rounds of fedyogi"
    )
    shared = {"sites": ["A", "B"], "rounds": 3, "strategy": "fedprox", "personalise": "head"}
    assert federated_words(shared) == (  # a trial read the shared adapter as recalibrated
        "sites A, B; 3 rounds of fedprox; this is the shared adapter (each site also kept its "
        "own, personalised: head)"
    )


def test_a_site_that_did_not_take_part_is_not_among_the_sites():
    """A trial's 5-row site, left out with --on-site-error continue, was listed among the
    sites of the federated adapter's card, with 0 rows in its data summary."""
    from types import SimpleNamespace

    from medadapt.federated.records import federated_card
    from medadapt.registry.card import federated_words

    run = SimpleNamespace(sites=("Hungary", "VA", "Tiny"), rounds=2, strategy="fedavg",
                          local_epochs=2, personalise="none", private=False)  # fmt: skip
    card = federated_card(run, ["Hungary", "VA"])
    assert card["sites"] == ["Hungary", "VA"] and card["sites_left_out"] == ["Tiny"]
    assert federated_words(card) == "sites Hungary, VA; 2 rounds of fedavg; Tiny did not take part"
    assert "sites_left_out" not in federated_card(run)  # every site trained it


def test_a_bound_too_small_to_show_is_written_as_the_terminal_writes_it():
    """A trial's R² interval was ``<0.001–0.522`` on the terminal, ``0.000 to 0.522`` on the
    card: a bound above 0 is not 0."""
    card = _card(metrics={"n": 33, "r2": 0.325, "r2_ci": [0.0002, 0.522], "mae": 53.3,
                          "mae_ci": [39.9, 67.5]})  # fmt: skip
    assert "| R² | 0.325 | <0.001 to 0.522 |" in card, card


def test_a_private_federation_s_card_gives_its_budget_and_what_it_guarantees():
    """A trial's card said "differential privacy" of a run whose epsilon, 20.1 at delta
    1e-05, promises little; the adapter's record held only "differential_privacy": true."""
    from types import SimpleNamespace

    from medadapt.federated.records import federated_card
    from medadapt.registry.card import federated_words

    run = SimpleNamespace(sites=("A", "B", "C"), rounds=3, strategy="fedavg", local_epochs=1,
                          personalise="none", private=True, clipping_norm=1.0,
                          noise_multiplier=0.5)  # fmt: skip
    card = federated_card(run)
    assert round(card["privacy"]["epsilon"], 1) == 20.1 and card["privacy"]["delta"] == 1e-5
    assert (card["privacy"]["clipping_norm"], card["privacy"]["noise_multiplier"]) == (1.0, 0.5)
    assert federated_words(card) == (
        "sites A, B, C; 3 rounds of fedavg; differential privacy: the guarantee covers each "
        "site as a whole (its updates), not one patient within it: epsilon 20.1 at delta 1e-05 "
        "over the 3 rounds (an epsilon above 10 promises little: a larger --dp-noise, or fewer "
        "rounds, lowers it); --dp-clip 1.0, --dp-noise 0.5"
    )
    older = {k: v for k, v in card.items() if k != "privacy"}  # recorded before the budget
    assert federated_words(older).endswith("; differential privacy")
