"""A biostatistician's review of the sample-size entries: a test split too small for evaluate
to report an estimate says so rather than "read the intervals", and a study's line names where
its R-squared came from (no training here: the entries and the lines)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import medadapt.workflows.sample_size as sample_size
from medadapt.data.schema import TableSchema
from medadapt.evaluate.samplesize_outcomes import BASIS_DEFAULT
from medadapt.modalities.base import modality_of
from medadapt.modalities.tabular.samples import TableSamples
from medadapt.workflows.sample_size import (
    _mark_unreported,
    in_short,
    study_sample_size,
    study_sample_size_line,
)


def _patients(n: int, positive: int) -> TableSamples:
    """``n`` patients of one row each, the first ``positive`` with the outcome."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"patient": [f"P{p:03d}" for p in range(n)],
                          "age": 40 + np.arange(n) % 30, "chol": rng.integers(200, 260, n),
                          "y": (np.arange(n) < positive).astype(int)})  # fmt: skip
    return TableSamples(frame, TableSchema.infer(frame, label="y", id_column="patient"))


def _criteria() -> list[dict]:
    return [{"name": name, "n": n, "supported": False}
            for name, n in (("O/E", 132), ("slope", 3657), ("C", 512))]  # fmt: skip


def _said(n_test: int, checked: dict) -> list[str]:
    development = {"head_only": {"n": 4515, "met": False}}
    result = {"noun": "patients", "n_train": 140, "n_test": n_test,
              "development": development, "validation": checked}  # fmt: skip
    return in_short(result)


# ----- 4. a test split evaluate reports no figure from -------------------------------------------
def test_nine_test_patients_are_said_to_give_no_estimate_at_all():
    """The review: "9 patients to test it are too few for a precise ... C-statistic (AUROC):
    525 needed; read the intervals of those estimates", where evaluate reports no figure from
    fewer than 10 patients: there is no interval to read."""
    checked = {"criteria": _criteria()}
    _mark_unreported(checked, _patients(9, 6), ["0", "1"], "patients")
    assert [c["reported"] for c in checked["criteria"]] == [False, False, False]
    assert checked["not_reported"] == (
        "the test split holds 9 patients, and evaluate reports no figure from fewer than 10"
    )
    assert _said(9, checked)[1:] == [
        "9 patients to test it are too few for evaluate to report the observed/expected "
        "ratio, calibration slope and C-statistic (AUROC) at all (the test split holds 9 "
        "patients, and evaluate reports no figure from fewer than 10): precise estimates would "
        "need 132, 3,657 and 512."
    ]


def test_a_test_split_with_one_event_gives_no_auroc_or_slope_but_an_o_e_ratio():
    checked = {"criteria": _criteria()}
    _mark_unreported(checked, _patients(60, 1), ["0", "1"], "patients")
    assert [c["reported"] for c in checked["criteria"]] == [True, False, False]
    assert _said(60, checked)[1:] == [
        "60 patients to test it are too few for evaluate to report the calibration slope and "
        "C-statistic (AUROC) at all (the test split holds 60 patients, 1 of class '1', and "
        "evaluate reports no AUROC or calibration slope with fewer than 5 of a class): precise "
        "estimates would need 3,657 and 512.",
        "They are also too few for a precise observed/expected ratio (132 needed); read the "
        "intervals of those estimates, not the single values.",
    ]


def test_a_test_split_evaluate_reports_from_reads_as_before():
    checked = {"criteria": _criteria()}
    _mark_unreported(checked, _patients(60, 20), ["0", "1"], "patients")
    assert "not_reported" not in checked and all("reported" not in c for c in checked["criteria"])
    assert _said(60, checked)[1].endswith("read the intervals of those estimates, not the single "
                                          "values.")  # fmt: skip


# ----- 6. a study's line names where its R-squared came from -------------------------------------
def _ranked(modality, base, samples) -> np.ndarray:
    """Risks a base ranks its samples by (AUROC about 0.93)."""
    labels = np.asarray(samples.labels, dtype=float)
    noise = np.random.default_rng(0).normal(0, 0.2, len(labels))
    return np.clip(0.3 + 0.3 * labels + noise, 0.01, 0.99)


@pytest.mark.parametrize(
    ("positive", "source", "basis", "why"),
    [
        (6, 0.8, "the base model's R-squared on its source", "from the base model's AUROC on its "
         "source (0.800"),
        (6, 0.97, "the base model's R-squared here", "from the base model's AUROC at this site"),
        (2, 0.95, "conservative R-squared", "conservative default"),
        (2, 0.6, "the base model's R-squared on its source", "from the base model's AUROC on its "
         "source (0.600"),
    ],
)  # fmt: skip
def test_a_study_line_names_where_its_r_squared_came_from(monkeypatch, positive, source, basis,
                                                         why):  # fmt: skip
    """The review: "(Riley et al., conservative R-squared)" where the R-squared came from the
    base's AUROC on its source. 6 positive patients give a site AUROC (0.93): the lower of it
    and the source's is used. 2 give none: the default, or the source's where lower."""
    monkeypatch.setattr(sample_size, "_scores", _ranked)
    every = _patients(120, positive)
    train, test = every.subset(np.arange(84)), every.subset(np.arange(84, 120))
    base = SimpleNamespace(training={"test_metrics": {"auroc": source}})
    entry = study_sample_size(modality_of("tabular"), every.schema, {"head_only": 65}, train,
                              test, base=base, unseen=every)  # fmt: skip
    assert entry["from_base"] is (positive == 6)
    assert entry["r2_basis"] == basis and entry["r2_source"].startswith(why)
    assert study_sample_size_line(entry).startswith(
        f"sample size (Riley et al., {basis}): minimum "
        f"patients head-only adapter {entry['strategies']['head_only']['n_needed']:,}; "
    )


def test_adapt_s_line_says_which_estimates_evaluate_will_not_report():
    """The review's item 4 at adapt: "the 9 here are enough for none of them" beside a result
    table of n/a; it now says evaluate reports none of them at all, and why."""
    from medadapt.workflows.sample_size import sample_size_line

    why = "the test split holds 9 patients, and evaluate reports no figure from fewer than 10"
    entry = {"parameters": 65, "n_needed": 4515, "criterion": "i", "n_train": 21, "n_test": 9,
             "met": False, "source": "Riley et al.", "test_needs": {"O/E": 166, "slope": 4150},
             "test_supports": {"O/E": False, "slope": False},
             "test_reported": {"O/E": False, "slope": False}, "not_reported": why}  # fmt: skip
    assert sample_size_line(entry).endswith(
        "precise estimates of observed/expected ratio and calibration slope at this site need "
        "166 and 4,150 test patients respectively: the 9 here are enough for none of them; "
        "too few for evaluate to report the observed/expected ratio and calibration slope at "
        f"all ({why})"
    )
    entry["test_reported"] = {"O/E": True, "slope": True}  # enough to report, not precise
    assert sample_size_line(entry).endswith("the 9 here are enough for none of them")
    # a second review: O/E precise enough (a common outcome needs few), the slope withheld
    few = "the test split holds 50 patients, 3 of class '0', and evaluate reports no AUROC ..."
    entry.update(n_test=50, test_needs={"O/E": 40, "slope": 900},
                 test_supports={"O/E": True, "slope": False},
                 test_reported={"O/E": True, "slope": False}, not_reported=few)  # fmt: skip
    assert sample_size_line(entry).endswith(
        "the 50 here are enough for observed/expected ratio only; too few for evaluate to "
        f"report the calibration slope at all ({few})"
    )


class _Held:
    """Test samples as ``_mark_unreported`` reads them: labels, their patients, a length."""

    def __init__(self, labels, patients):
        self.labels, self._patients = np.asarray(labels), np.asarray(patients)

    def __len__(self) -> int:
        return len(self.labels)

    def known_patients(self):
        return self._patients


def test_unreported_estimates_count_patients_in_their_words_and_cells_say_both():
    """A second review: "the test split holds 7 images" counted patients; "holds 1 patients";
    and a supported but unreported criterion showed "yes"."""
    from medadapt.cli.check_data import _supported_cell
    from medadapt.workflows.sample_size import _mark_unreported

    def checked():
        return {"criteria": [{"name": n, "n": 8, "supported": True} for n in ("O/E", "slope")]}

    seven = _Held(np.r_[np.ones(14, int), np.zeros(6, int)], np.repeat(np.arange(7), [3] * 6 + [2]))
    validated = checked()
    _mark_unreported(validated, seven, ["0", "1"], "patients")
    assert validated["not_reported"].startswith("the test split holds 7 patients, and evaluate")
    validated = checked()
    _mark_unreported(validated, _Held([1, 0], [0, 0]), ["0", "1"], "patients")
    assert validated["not_reported"].startswith("the test split holds 1 patient, and")
    assert _supported_cell(validated["criteria"][0], 2) == "yes, not reported"
    assert _supported_cell({"supported": True}, 60) == "yes"
    assert _supported_cell({"supported": False, "reported": False}, 9) == "no: 9, not reported"


def test_many_patients_per_parameter_are_not_blamed_on_a_strong_base():
    """A new user's breast-cancer base (AUROC 0.94, anticipated Cox-Snell R-squared 0.491 of
    at most 0.713) was said to predict "only weakly" where criterion (ii) binds; a weak base
    (0.119 of at most 0.679, the heart data at VA Long Beach) is said to."""
    from medadapt.workflows.sample_size import _per_parameter_words

    entry = {"binding": "ii", "n": 1265, "parameters": 64}
    strong = {"task": "binary", "prevalence": 0.316, "r2": 0.491, "n_train": 53,
              "r2_label": "Cox-Snell R-squared", "noun": "patients"}  # fmt: skip
    assert _per_parameter_words(strong, "head_only", entry) == (
        " So many, because criterion (ii) asks about 20 patients for each parameter trained "
        "(64 for the head-only adapter)."
    )
    weak = {**strong, "prevalence": 0.745, "r2": 0.119, "n_train": 140}
    said = _per_parameter_words(weak, "head_only", {**entry, "binding": "i", "n": 4496})
    weakly = ("weakly (anticipated Cox-Snell R-squared 0.119), and criterion (i) then asks "
              "about 70 patients for each parameter trained")  # fmt: skip
    assert said == f" So many, because the base model predicts the outcome here only {weakly} " \
        "(64 for the head-only adapter); a model that predicts better asks fewer."  # fmt: skip
    # the conservative default, where the site gives no R-squared to plan on (a trial's base
    # ranked the site perfectly and was then said to predict "only weakly")
    default = {**weak, "r2_basis": BASIS_DEFAULT}
    said = _per_parameter_words(default, "head_only", {**entry, "binding": "i", "n": 4496})
    assert said == (
        " So many, because, with no R-squared to plan on from the base model here, the "
        "conservative default (Cox-Snell R-squared 0.119) stands in for it, and criterion (i) "
        "then asks about 70 patients for each parameter trained (64 for the head-only "
        "adapter); a base model measured to predict better asks fewer."
    )
    separated = {**default, "separated_at_site": "76 patients"}  # a perfect AUROC there: a
    said = _per_parameter_words(separated, "head_only", {**entry, "binding": "i", "n": 4496})
    assert said == (  # trial read "a base measured to predict better asks fewer" of it
        " So many, because a perfect AUROC here gives no R-squared to plan on (it implies none "
        "finite), so the conservative default (Cox-Snell R-squared 0.119) stands in for it, and "
        "criterion (i) then asks about 70 patients for each parameter trained (64 for the "
        "head-only adapter)."
    )
