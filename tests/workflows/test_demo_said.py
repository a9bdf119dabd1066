"""What the demo says, without running it: each warning names its centre and strategies; a
centre's held-out counts are the same in every place of the report; the paired comparison
and the side-by-side ranking each say which they are.

From a trial of ``medadapt demo``: eight warnings naming no hospital; ">45 with heart
disease" in the summary beside "47 observed" in a note and 47 in results.json; a paired Brier
gain of the bottleneck adapter next to "none can be called better"."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from medadapt.workflows.demo_report import _centre_sentences, strategy_notes
from medadapt.workflows.demo_warnings import tagged_warnings

STRATEGIES = ("base_only", "head_only", "lora", "scratch_local")


def _run(steps: list[tuple[str, list[str]]]) -> tuple[list[str], list[str], list]:
    """The steps' progress messages and the warnings raised in each; returns the messages
    passed on, the warnings said afterwards and the recorded entries."""
    passed: list[str] = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with tagged_warnings(passed.append, centres=("VA Long Beach", "Switzerland"),
                             strategies=STRATEGIES) as (step, found):  # fmt: skip
            for message, raised in steps:
                step(message)
                for text in raised:
                    warnings.warn(text, UserWarning, stacklevel=1)
    return passed, [str(w.message) for w in said], found


def test_each_demo_warning_names_its_centre_and_strategies_once():
    empty = "1 of the model's 13 feature columns is empty in all 80 rows ('ca')"
    rarer = "the rarer class has 30 of the 120 training rows for 13 features"
    steps = [
        ("training the base model on Cleveland, Hungary", ["a source row is odd"]),
        *[(f"VA Long Beach: {s}", [empty]) for s in STRATEGIES[:3]],
        ("VA Long Beach: scratch_local", [empty, rarer]),
        ("Switzerland: head_only", ["9 of 50 rows lack more than half"]),
        ("Switzerland: lora", ["9 of 50 rows lack more than half"]),
    ]
    passed, said, found = _run(steps)
    assert passed == [message for message, _ in steps]  # the progress bar still advances
    assert said == [
        "Cleveland, Hungary (base model): a source row is odd",
        f"VA Long Beach (every strategy): {empty}",
        f"VA Long Beach (new model on the target data only): {rarer}",
        "Switzerland (every strategy): 9 of 50 rows lack more than half",
    ]
    assert found[1].where == "VA Long Beach" and found[1].strategies == list(STRATEGIES)
    assert found[3].to_json()["strategies"] == ["head_only", "lora"]


def test_a_warning_names_the_rows_it_is_about_and_they_are_no_progress_step():
    """A trial: the demo's Switzerland warned of 'chol' empty in all 50 rows and in all 73
    rows under one name; which were the test rows and which the training rows went unsaid."""
    steps = [
        ("Switzerland: base_only", []),
        ("Switzerland: base_only: 50 test rows", ["chol empty in all 50 rows"]),
        ("Switzerland: lora", []),
        ("Switzerland: lora: 73 training rows", ["chol empty in all 73 rows"]),
        ("Switzerland: lora: 50 test rows", ["chol empty in all 50 rows"]),
        ("Switzerland: lora: 400 source test rows", ["a source row is odd"]),
    ]
    passed, said, found = _run(steps)
    assert passed == ["Switzerland: base_only", "Switzerland: lora"]  # the bar's steps only
    assert said == [
        "Switzerland, 50 test rows (every strategy): chol empty in all 50 rows",
        "Switzerland, 73 training rows (LoRA adapter): chol empty in all 73 rows",
        "Switzerland, 400 source test rows (LoRA adapter): a source row is odd",
    ]
    assert [w.where for w in found] == [
        "Switzerland, 50 test rows",
        "Switzerland, 73 training rows",
        "Switzerland, 400 source test rows",
    ]


def test_a_new_model_s_size_warning_in_the_demo_is_said_as_a_comparison():
    """A trial: the demo's "new model on the target data only" warned that its 30 rows were
    too few and told the user to "adapt an existing model to these (ma.adapt)", a Python call
    from the command line, about a comparison the demo draws beside its own adapters."""
    rarer = ("the rarer class has 30 of the 120 training rows for 13 features (2.3 per "
             "feature; ...): a base model trained on so few is likely to be overfitted; collect "
             "more rows, or adapt an existing model to these (ma.adapt)")  # fmt: skip
    steps = [("VA Long Beach: head_only", [rarer]), ("VA Long Beach: scratch_local", [rarer])]
    _, said, _ = _run(steps)
    kept, compared = (  # the demo's base: trained on the benchmark's rows all the same
        rarer.replace(
            "collect more rows, or adapt an existing model to these (ma.adapt)",
            "the demo trains it on the benchmark's rows all the same: read the base model's "
            "figures with that in mind",
        ),
        rarer.replace(
            "collect more rows, or adapt an existing model to these (ma.adapt)",
            "it is shown for comparison: the adapters reuse the base model",
        ).replace("a base model trained", "a new model trained"),  # not read as the base
    )
    assert said == [f"VA Long Beach (head-only adapter): {kept}",
                    f"VA Long Beach (new model on the target data only): {compared}"]  # fmt: skip


def test_a_warning_of_some_strategies_names_them():
    steps = [("Switzerland: base_only", []), ("Switzerland: head_only", ["73 rows: chol empty"]),
             ("Switzerland: lora", ["73 rows: chol empty"])]  # fmt: skip
    _, said, _ = _run(steps)
    assert said == ["Switzerland (head-only adapter and LoRA adapter): 73 rows: chol empty"]


def _switzerland() -> tuple[dict, dict]:
    """50 held-out patients, 47 with disease (3 without: no AUROC), as the demo's
    Switzerland; the bottleneck adapter's risks closer to what happened than the base's."""
    y = np.array([1] * 47 + [0] * 3)
    rng = np.random.default_rng(0)
    base = np.clip(0.55 + rng.normal(0, 0.05, 50), 0, 1)
    adapter = np.where(y == 1, 0.9, 0.6)
    notes = {"auroc": "not reported: 3 negatives among 50 patients; at least 5 are needed for a "
                      "meaningful estimate",
             "oe_ratio": "the model predicts too few events: 47 observed against 36.9 expected "
                         "from its risks"}  # fmt: skip
    strategies = {
        name: {"n": 50, "n_positive": 47, "auroc": None, "brier": brier,
               "brier_ci": [brier - 0.05, brier + 0.05], "notes": notes}
        for name, brier in (("base_only", 0.13), ("bottleneck", 0.10), ("lora", 0.09))
    }  # fmt: skip
    return strategies, {"y": y, "base_only": base, "bottleneck": adapter}


def test_a_centre_s_counts_are_exact_wherever_the_report_gives_them():
    strategies, curves = _switzerland()
    lines = _centre_sentences("Switzerland", strategies, curves)
    assert lines[0] == "Switzerland: 50 held-out test patients, 47 with heart disease."
    assert lines[1].startswith(
        "Switzerland: only 3 test patients without disease (at least 5 are needed), too few to "
        "estimate AUROC"
    )
    notes = strategy_notes(strategies)
    assert any("47 observed against 36.9 expected" in note for note in notes)
    assert any("3 negatives among 50 patients" in note for note in notes)
    assert not any("fewer than 5" in line or ">" in line for line in lines + notes)


def test_the_paired_and_the_side_by_side_comparisons_say_which_they_are():
    strategies, curves = _switzerland()
    lines = _centre_sentences("Switzerland", strategies, curves)
    paired = next(line for line in lines if " vs " in line)
    assert paired.startswith(
        "Switzerland: the bottleneck adapter vs the base model, paired on the same 50 patients: "
        "Brier score -"
    )
    assert paired.endswith("the bottleneck adapter gives risks closer to what happened "
                           "(lower Brier score).")  # fmt: skip
    assert lines[-1] == (
        "Switzerland: Brier score 0.09 to 0.13 across the strategies; compared side by side "
        "(not paired), every strategy's 95% interval overlaps the best one's, so that "
        "comparison calls none better on these 50 patients. The paired comparison above "
        "scores both models on the same patients, so it can detect smaller differences, and it "
        "does find the bottleneck adapter better than the base model."
    )
    assert not any("none can be called better" in line for line in lines)


def test_no_paired_difference_adds_nothing_to_the_side_by_side_sentence():
    strategies, curves = _switzerland()
    curves["bottleneck"] = curves["base_only"].copy()  # the same risks: no difference
    ranking = _centre_sentences("Switzerland", strategies, curves)[-1]
    assert ranking.endswith("so that comparison calls none better on these 50 patients.")


def test_the_warnings_are_said_even_where_a_step_fails():
    def failing() -> None:
        with tagged_warnings(None, centres=("Switzerland",), strategies=STRATEGIES) as (step, _):
            step("Switzerland: lora")
            warnings.warn("73 rows: chol empty", UserWarning, stacklevel=1)
            raise RuntimeError("training failed")

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="training failed"):
            failing()
    assert [str(w.message) for w in said] == ["Switzerland (LoRA adapter): 73 rows: chol empty"]


def test_a_far_value_in_flamby_s_standardised_features_is_said_in_sds():
    """A trial was told to "check for a unit or typing error" of "trained on 0 ± 0.965", a
    standardised feature; the table API's own warning, rewritten."""
    from types import SimpleNamespace

    import numpy as np

    from medadapt.data.extrapolation import Outside, far_outside_warning
    from medadapt.workflows.flamby import as_standardised

    specs = {"chol": SimpleNamespace(name="chol", mean=0.0, std=0.965, codes=None)}
    warned = far_outside_warning(Outside({"chol": np.array([True] + [False] * 103)}), specs,
                                 python=True)  # as ma.predict words it  # fmt: skip
    said = as_standardised(warned)
    assert said != warned and "check for a unit" not in said
    assert said.endswith(
        "FLamby's preprocessing standardised the features, so these values are in standard "
        "deviations: a value over 6 SDs out is a rare patient or an error in the source file, "
        "not a unit slip"
    )
