"""An adapter measurably worse than the base model alone on its own test patients (``adapt``
said "Keep the base model") was registered, promoted and served without a word: a trial's
``versus_base.verdict: worse`` reached neither ``list``, ``promote`` nor an answer's note."""

from __future__ import annotations

from medadapt.evaluate.report.formatting import recorded_cautions
from medadapt.results import WORSE_THAN_BASE
from medadapt.workflows.adapt import with_harm

SAID = (
    "Paired on the same patients, the adapter changes AUROC by -0.043 (95% CI -0.095 to "
    "-0.002): the adapter ranks patients by risk worse. Keep the base model for these "
    "patients, or adapt again on more of them."
)
WORSE = {"metric": "auroc", "difference": -0.043, "ci": [-0.095, -0.002], "verdict": "worse",
         "in_words": SAID}  # fmt: skip


def test_an_adapter_worse_than_the_base_carries_adapt_s_sentence_as_a_note():
    metrics = {"n": 60, "auroc": 0.65, "auroc_ci": [0.5, 0.8]}
    noted = with_harm(metrics, WORSE)
    assert noted["notes"] == {WORSE_THAN_BASE: SAID} and "notes" not in metrics
    same = {**WORSE, "verdict": "no detectable difference", "ci": [-0.09, 0.01]}
    assert with_harm(metrics, same) is metrics
    assert with_harm(metrics, None) is metrics  # a full fine-tune: no base comparison
    assert recorded_cautions(noted) == ["did worse than the base model on its test"]


def test_list_marks_it_promote_warns_and_show_says_why(cli, adapter_dir, monkeypatch):
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    metrics = with_harm({"n": 60, "auroc": 0.65, "auroc_ci": [0.5, 0.8]}, WORSE)
    cli("add", str(adapter_dir(1, meta=metadata(metrics=metrics))), "--name", "va")
    listed, _ = cli("list")
    assert "AUROC 0.650 (0.500–0.800) on 60 rows (!)" in listed
    out, err = cli("promote", "va@1")
    assert f"warning: va@1: {SAID}" in " ".join((out + err).split())
    shown, _ = cli("show", "va@1")
    assert f"(!) {SAID}" in " ".join(shown.split())


def test_predict_repeats_it_with_the_predictions():
    """``serve`` said it; ``medadapt predict`` with the same adapter did not."""
    from types import SimpleNamespace

    from medadapt.workflows.evaluate import _recorded_result

    metrics = with_harm({"n": 60, "auroc": 0.65}, WORSE)
    loaded = SimpleNamespace(adapter="va", record=SimpleNamespace(metrics=metrics))
    assert _recorded_result(loaded) == [f"the recorded test result of adapter 'va': {SAID}"]
