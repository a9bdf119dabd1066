"""The sufficiency findings' sentences read as a clinician reads counts (not a Python dict)."""

from __future__ import annotations

from medadapt.evaluate.sufficiency import _rare_classes


def test_rare_classes_are_counted_in_words_not_as_a_dict():
    train, test = _rare_classes("rows", {"0": 8, "1": 91}, {"0": 2, "1": 35}, 37)
    assert train.message.startswith(
        "Training rows per class in the target group: 8 of class '0', 91 of class '1'; class '0' "
        "has fewer than "
    )
    assert test.message.startswith(
        "Held-out rows per class: 2 of class '0', 35 of class '1'. With fewer than 5 in class "
        "'0', AUROC"
    )
    assert test.message.endswith(  # the negatives rare: the positives' rate still reported
        "'0', AUROC, balanced accuracy and specificity cannot be estimated; only accuracy, "
        "sensitivity and calibration are reported."
    )  # (a trial's study said both rates were lost while evaluate reported one)
    [few_positive] = _rare_classes("rows", {"0": 50, "1": 20}, {"0": 9, "1": 3}, 12)
    assert few_positive.message.endswith(
        "AUROC, balanced accuracy and sensitivity cannot be estimated; only accuracy, specificity "
        "and calibration are reported."
    )
    [both] = _rare_classes("images", {"a": 50, "b": 50, "c": 50}, {"a": 1, "b": 2, "c": 9}, 12)
    assert "in classes 'a' and 'b', AUROC" in both.message
    assert "{" not in train.message + test.message + both.message


def test_a_class_with_no_training_rows_is_said_unlearnable_not_overfitted():
    """A trial's FLamby demo said of Switzerland's training rows, none of them negative, "the
    rarer class has 0 of the 30 training rows ...: a base model trained on so few is likely
    to be overfitted"."""
    from medadapt.evaluate.sufficiency import new_model_note

    assert new_model_note({"0": 0, "1": 30}, 13, "rows") == (
        "the rarer class has none of the 30 training rows: a model fitted on them cannot learn "
        "it, and calls no one that class; collect more rows, or adapt an existing model to "
        "these (medadapt adapt)"
    )
    assert "likely to be overfitted" in new_model_note({"0": 20, "1": 30}, 13, "rows")


def test_events_per_parameter_names_the_rarest_class_or_says_the_classes_tie():
    """A trial's three-class image study, 14 images of each class, read "14 events (the rarer
    class's count, here class 'mass')" and "fit these few rows"."""
    from medadapt.evaluate.sufficiency import events_per_parameter

    tied = events_per_parameter("full_finetune", 5_355_267, 14, rarer="mass", n_classes=3,
                                tied=True, noun="images").message  # fmt: skip
    assert tied.startswith(
        "full_finetune: 14 events (the count of each of the 3 classes, as many each) for "
    )
    assert "fit these few images" in tied and "rows" not in tied
    rarest = events_per_parameter("lora", 74_307, 9, rarer="mass", n_classes=3).message
    assert rarest.startswith("lora: 9 events (the rarest class's count, here class 'mass') for")
    two = events_per_parameter("lora", 4_160, 36, rarer="0").message
    assert two.startswith("lora: 36 events (the rarer class's count, here class '0') for")
    tie = events_per_parameter("lora", 4_160, 28, rarer="normal", n_classes=2, tied=True,
                               unit="patients", noun="images").message  # fmt: skip
    assert tie.startswith("lora: 28 events (the count of each of the 2 classes, as many each, "
                          "in patients) for")  # fmt: skip
