"""The base model alone trains on no target rows: a study scores it once (stored at 100%), and
its summary and its too-good warning both say it is the same at every size, never that it
reached a figure "with N target rows" or "at 100%"."""

from __future__ import annotations

from medadapt.workflows.study_summary import aggregate, conclusions


def _points(curves: dict[str, dict[float, list[float]]], n: int = 54) -> list[dict]:
    """Points from ``curves[strategy][fraction] = [AUROC per seed]``; an AUROC of 1 flagged
    too good to be true, as scoring flags it."""
    points = []
    for strategy, by_fraction in curves.items():
        for fraction, values in by_fraction.items():
            for seed, value in enumerate(values):
                metrics = {"auroc": value, "auroc_ci": [value - 0.05, min(value + 0.05, 1.0)],
                           "brier": 1 - value, "brier_ci": [0.0, 0.1], "n": 40}  # fmt: skip
                if value >= 0.99:
                    metrics["notes"] = {"too_good": "too good to be true"}
                points.append({"strategy": strategy, "fraction": fraction, "seed": seed,
                               "n_train": 0 if strategy == "base_only" else round(fraction * n),
                               "metrics": metrics})  # fmt: skip
    return points


def _found(points) -> dict:
    curves = aggregate(points, "binary")
    return conclusions({"task": "binary", "points": points, "config": {"kind": "tabular"}},
                       curves)  # fmt: skip


def test_the_base_alone_is_said_to_be_the_same_at_every_size_in_summary_and_warning():
    found = _found(_points({
        "base_only": {1.0: [1.0, 1.0]},
        "head_only": {0.5: [0.95, 0.96], 1.0: [0.97, 0.98]},
        "lora": {0.5: [0.96, 0.95], 1.0: [0.99, 1.0]},
    }))  # fmt: skip
    assert found["too_good"] == (
        "Warning: results too good to be true (AUROC >= 0.99, perfect accuracy or R² >= 0.99) "
        "for the base model without adapter (which trains on no target rows: the same figure "
        "at every size); the LoRA adapter at 100%: check for a leak (a copy of the label, a "
        "record number, a value recorded after the outcome, training rows among the test rows) "
        "before trusting any of them."
    )
    leads = [s for s in found["sentences"] if s.startswith("With ")]
    assert leads[0] == (
        "With 27 target rows (50%) for the strategies that train, the base model without "
        "adapter (which trains on no target rows: the same figure at every size) has the best "
        "mean AUROC (1.000), but its interval (over seeds and test patients) overlaps the "
        "head-only adapter and LoRA adapter: no conclusion can be drawn between them."
    )
    assert not [s for s in found["sentences"] if "(50%), the base model" in s]


def test_a_size_where_one_seed_is_too_good_says_how_many_and_images_get_image_leaks():
    """A trial's study averaged a backwards seed and a perfect one into a plain mean, and
    called the mean "too good", with the tables' leak advice for images."""
    points = _points({"base_only": {1.0: [0.80, 0.80]},
                      "lora": {0.5: [0.20, 1.0], 1.0: [1.0, 1.0]}})  # fmt: skip
    found = conclusions({"task": "binary", "points": points, "config": {"kind": "image"}},
                        aggregate(points, "binary"))  # fmt: skip
    assert found["too_good"] == (
        "Warning: results too good to be true (AUROC >= 0.99, perfect accuracy or R² >= 0.99) "
        "for the LoRA adapter at 50% (1 of 2 seeds), 100%: check for a leak (the same images "
        "or near-copies among the training and test images, a marker or text burnt into the "
        "images that differs by class, images of one class from another scanner or site) "
        "before trusting any of them."
    )


def test_a_trained_strategy_keeps_its_size():
    found = _found(_points({"base_only": {1.0: [0.80, 0.80]},
                            "lora": {0.5: [0.90, 0.91], 1.0: [0.92, 0.93]}}))  # fmt: skip
    assert found["sentences"][0].startswith("With 27 target rows (50%), the LoRA adapter")
    assert found["too_good"] is None


def test_an_adapter_tied_with_the_base_is_said_to_be_compared_side_by_side_not_paired():
    """A trial's adapt found the LoRA adapter's Brier score clearly better than the base's
    (paired), and its study said "no conclusion can be drawn" (intervals side by side)."""
    found = _found(_points({
        "base_only": {1.0: [0.80, 0.80]},
        "lora": {0.5: [0.70, 0.90], 1.0: [0.78, 0.92]},
    }))  # fmt: skip
    leads = [s for s in found["sentences"] if s.startswith("With ") and "overlaps" in s]
    assert leads and all(s.endswith(
        "no conclusion can be drawn between them (side by side, not paired: 'medadapt adapt' "
        "compares one adapter with the base model on the same test patients, a paired "
        "comparison that can find a difference this one cannot)."
    ) for s in leads), leads  # fmt: skip


def test_a_size_whose_seeds_split_differently_says_its_rows_are_a_mean():
    """A trial's warning said 28 rows at 50% and its summary "With 25 target rows (50%)": the
    seeds' splits (a patient's rows together) gave 28, 23 and 25."""
    from medadapt.workflows.study_summary import size_words

    assert size_words(25.33, 0.5, "rows", (23, 28)) == (
        "25 target rows (50%; 23 to 28 across seeds, a mean)"
    )
    assert size_words(25.0, 0.5, "rows", (25, 25)) == "25 target rows (50%)"
    assert size_words(25.0, 0.5, "rows", None) == "25 target rows (50%)"  # a study run before


def test_too_good_results_from_probabilities_that_barely_differ_are_said_to_say_nothing():
    """A trial's study of a base whose probabilities ran 0.4675 to 0.4679 read "results too
    good to be true ... check for a leak": its stalled training went unsaid (study.json
    alone held the flat-scores note)."""
    points = _points({"base_only": {1.0: [1.0, 1.0]},
                      "lora": {0.5: [1.0, 0.9], 1.0: [1.0, 1.0]}})  # fmt: skip
    for point in points:
        first_at_half = point["seed"] == 0 and point["fraction"] == 0.5
        if point["strategy"] == "base_only" or first_at_half:
            point["metrics"]["notes"]["flat_scores"] = "nearly the same probability"
    found = conclusions({"task": "binary", "points": points, "config": {"kind": "image"}},
                        aggregate(points, "binary"))  # fmt: skip
    assert found["too_good"].endswith(
        "before trusting any of them. For the base model without adapter (which trains on no "
        "target images: the same figure at every size); the LoRA adapter at 50% (1 of 2 "
        "seeds), they rest on probabilities that barely differ: a model whose training "
        "stalled gives such figures, as does one scoring images unlike those it trained on, or "
        "a leak; they say nothing of how it does."
    ), found["too_good"]
    assert found["too_good"] in found["sentences"]


def test_an_adapter_stalled_at_every_size_is_read_for_no_curve():
    """A trial's study said "The LoRA adapter gets within 0.01 of its best AUROC from 14
    images" of an adapter whose probabilities barely differed at every size."""
    points = _points({"base_only": {1.0: [0.80, 0.80]},
                      "lora": {0.5: [0.90, 0.91], 1.0: [0.92, 0.93]}})  # fmt: skip
    for point in points:
        if point["strategy"] == "lora":
            point["metrics"].setdefault("notes", {})["flat_scores"] = "nearly the same"
    found = conclusions({"task": "binary", "points": points, "config": {"kind": "image"}},
                        aggregate(points, "binary"))  # fmt: skip
    assert found["plateau"] is None and found["more_data"] is None
    said = [s for s in found["sentences"] if "LoRA" in s and "stalled" in s]
    assert said == [
        "The LoRA adapter gives nearly the same probability to every test image at every size "
        "and seed (its training stalled): how its AUROC grows with data says nothing, and none "
        "is read from it."
    ]
    assert not [s for s in found["sentences"] if "of its best" in s]
