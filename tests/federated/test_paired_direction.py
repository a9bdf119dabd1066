"""A federated site's paired change against the base alone says which way an error's change
points, in the words the adapter's own comparison uses (``Difference.direction``); a figure
where higher is better (AUROC, what sites send) gets no such words."""

from __future__ import annotations

from medadapt.evaluate.difference import Difference
from medadapt.federated.verdicts import paired_line


def _site(versus_base: dict) -> dict:
    return {"n_train": 300, "n_test": 100, "federated": {"n": 100.0}, "versus_base": versus_base}


def test_an_error_s_paired_change_says_which_way_is_better():
    rose = paired_line("A", _site({"mae": 1.5, "mae_low": 0.5, "mae_high": 2.5}))
    assert rose == (
        "At A, paired on the same 100 held-out patients, the federated adapter changes MAE by "
        "+1.50 (95% CI +0.50 to +2.50; a higher MAE is worse) against the base alone: the "
        "federated adapter predicts further from the measured values. Keep the base model at A."
    )
    assert Difference("mae", 1.5, (0.5, 2.5)).direction("; ") in rose  # the one wording
    fell = paired_line("B", _site({"mae": -1.5, "mae_low": -2.5, "mae_high": 0.5}))
    assert "(95% CI -2.50 to +0.50; a lower MAE is better) against the base alone: no " in fell
    alike = paired_line("C", _site({"mae": -1.0, "mae_low": -1.0, "mae_high": -1.0}))
    assert "changes MAE by -1.00 (a lower MAE is better) in every resample" in alike


def test_auroc_s_paired_change_has_no_direction_words():
    said = paired_line("A", _site({"auroc": 0.1, "auroc_low": -0.02, "auroc_high": 0.2}))
    assert said == (
        "At A, paired on the same 100 held-out patients, the federated adapter changes AUROC "
        "by +0.100 (95% CI -0.020 to +0.200) against the base alone: no detectable difference "
        "on these patients."
    )
