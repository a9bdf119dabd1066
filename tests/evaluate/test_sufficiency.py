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
    assert test.message.endswith("cannot be estimated; only accuracy and calibration are reported.")
    [both] = _rare_classes("images", {"a": 50, "b": 50, "c": 50}, {"a": 1, "b": 2, "c": 9}, 12)
    assert "in classes 'a' and 'b', AUROC" in both.message
    assert "{" not in train.message + test.message + both.message
