"""The typed results round-trip through the JSON the files hold, and are what the commands
write: an evaluation's ``--json``, an adapter's ``metadata``, a study's points."""

from __future__ import annotations

import json

import pytest

from medadapt.errors import DataError
from medadapt.results import AdapterRecord, Evaluation, StudyPoint


def _evaluation(**changes) -> Evaluation:
    fields = dict(
        metrics={"n": 60, "auroc": 0.8, "auroc_ci": [0.7, 0.9], "notes": {}},
        used="held-out rows of VA", noun="rows", n_excluded_trained=140, task="binary",
        kind="tabular", classes=["0", "1"], adapter="va", method="lora", trainable_params=10,
        adapter_bytes=100, subgroups={}, per_class=None, recorded_retention=None,
        full_finetune=None, skipped_files=[], data_warnings=[], leak_warnings=[],
        extras={"absent_columns": []}, base_comparison={"overall": {"auroc": 0.7}},
        adapter_training={"n_train": 140}, intended_use="research",
    )  # fmt: skip
    return Evaluation(**{**fields, **changes})


def test_evaluation_json_is_flat_and_round_trips():
    result = _evaluation()
    document = result.to_json()
    assert document["auroc"] == 0.8 and document["rows_used"] == "held-out rows of VA"
    assert document["absent_columns"] == [] and "curves" not in document
    assert list(document)[:4] == ["n", "auroc", "auroc_ci", "notes"]
    again = Evaluation.from_json(json.loads(json.dumps(document)))
    assert again.to_json() == document
    assert again.used == result.used and again.base_comparison == result.base_comparison


def test_evaluation_json_reads_its_intervals_in_words_as_the_terminal_does():
    """A trial's ``evaluate --json`` held AUROC 0.616 (0.447-0.779) and nothing else: the
    terminal and the report said "not shown to be better than chance"."""
    document = _evaluation().to_json()
    assert document["in_words"] == {
        "auroc": "at least moderate (the whole interval is at or above 0.70)"
    }
    chance = _evaluation(metrics={"n": 60, "auroc": 0.616, "auroc_ci": [0.447, 0.779],
                                  "notes": {}}).to_json()  # fmt: skip
    assert chance["in_words"] == {
        "auroc": "not shown to be better than chance (the interval reaches 0.50)"
    }
    again = Evaluation.from_json(json.loads(json.dumps(chance)))
    assert "in_words" not in again.metrics and again.to_json() == chance
    measured = {"n": 40, "r2": 0.12, "r2_ci": [-0.05, 0.3], "mae": 50.0, "notes": {}}
    assert _evaluation(metrics=measured, task="regression").to_json()["in_words"] == {
        "r2": "not shown to predict better than giving every patient the average value (the "
        "interval reaches 0)"
    }
    unmeasured = {"n": 8, "auroc": None, "auroc_ci": None, "notes": {}}
    assert _evaluation(metrics=unmeasured).to_json()["in_words"] == {}
    # a trial's "moderate" for AUROC 1.000 (0.797-1.000), beside the note calling it too good
    too_good = {"n": 60, "auroc": 1.0, "auroc_ci": [0.797, 1.0],
                "notes": {"too_good": "AUROC 1.000: too good to be true"}}  # fmt: skip
    assert _evaluation(metrics=too_good).to_json()["in_words"] == {
        "auroc": "too good to be true: no reading of the model's skill until a leak is ruled "
        "out (notes.too_good)"
    }
    flat = {**too_good, "notes": {**too_good["notes"], "flat_scores": "nearly the same"}}
    assert (
        _evaluation(metrics=flat)
        .to_json()["in_words"]["auroc"]
        .startswith("says nothing: the probabilities barely differ")
    )


def test_evaluation_of_a_base_alone_has_no_comparison_keys_and_images_count_images():
    document = _evaluation(adapter=None, base_comparison=None, noun="images").to_json()
    assert "base_comparison" not in document and "intended_use" not in document
    assert document["images_used"] == document["rows_used"]
    assert Evaluation.from_json(document).noun == "images"


def test_adapter_record_keeps_what_it_does_not_know_and_tolerates_what_it_lacks():
    record = AdapterRecord.from_json({"task": "binary", "limitations": ["small"], "x": 1})
    assert record.task == "binary" and record.metrics is None
    assert record.extra == {"limitations": ["small"], "x": 1}
    assert AdapterRecord.from_json(record.to_json()) == record
    assert AdapterRecord.from_json(None) == AdapterRecord()  # not a dict: nothing recorded


def test_study_point_round_trips_and_omits_absent_details():
    point = StudyPoint(strategy="lora", fraction=0.5, seed=1, n_train=40, trainable_params=9,
                       metrics={"auroc": 0.7}, seconds=1.5)  # fmt: skip
    assert "curves" not in point.to_json() and "subgroups" not in point.to_json()
    assert StudyPoint.from_json(point.to_json()) == point


def test_a_study_point_missing_fields_is_refused_with_the_fix():
    with pytest.raises(DataError) as error:
        StudyPoint.from_json({"strategy": "lora"}, where="points/lora_50_1.json")
    assert str(error.value) == (
        "points/lora_50_1.json lacks fraction, seed, n_train, trainable_params, metrics, "
        "seconds: it was not written by this version of medadapt's study; delete it and re-run "
        "the study to recompute it"
    )


def test_counts_read_with_their_thousands_grouped_in_every_table_and_the_card():
    """The demo's strategy table printed "70741" trainable parameters beside "0.75"."""
    from medadapt.cli.common import print_table, stdout
    from medadapt.evaluate.report.formatting import fmt
    from medadapt.results import grouped

    assert [grouped(v) for v in (70741, 999, True, 0.5, "x")] == ["70,741", "999", "True",
                                                                   "0.5", "x"]  # fmt: skip
    assert (fmt(70741), fmt(None), fmt(0.1234)) == ("70,741", "–", "0.123")
    with stdout.capture() as captured:
        print_table("sizes", ["strategy", "trainable params"], [["full", 70741], ["head", None]])
    assert "70,741" in captured.get() and "70741" not in captured.get()


def test_a_report_reads_no_interval_of_a_result_too_good_to_be_true():
    """A trial's report: "too good to be true: no reading of the model's skill ...
    (notes.too_good); the true value is likely between 0.83 and 1.00": a reading after "no
    reading", and a JSON key in a clinician's page."""
    from medadapt.results import auroc_reading

    too_good = {"auroc": 1.0, "auroc_ci": [0.83, 1.0], "notes": {"too_good": "AUROC 1.000"}}
    assert auroc_reading(too_good) == (
        "too good to be true: no reading of the model's skill until a leak is ruled out",
        False,
    )
    assert auroc_reading({"auroc": 0.92, "auroc_ci": [0.77, 1.0], "notes": {}}) == (
        "at least moderate (the whole interval is at or above 0.70)",
        True,
    )  # (a trial read "0.92 ... moderate" as a grade of 0.92)
