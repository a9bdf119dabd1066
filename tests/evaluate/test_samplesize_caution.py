"""Fewer patients at a site never make the sample-size answer less cautious: a site that gives
no AUROC to plan on (too few of a class, perfect separation) has Riley et al. 2020's
conservative default in its place, not the base's AUROC on its source alone; a class too rare
at the site is named up front and no pairwise AUROC rests on it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medadapt.evaluate.samplesize import cox_snell_from_c, development, max_cox_snell
from medadapt.evaluate.samplesize_outcomes import outcome_of
from medadapt.evaluate.sufficiency import rare_class_note
from medadapt.results import ADAPTED_READING
from medadapt.workflows.sample_size import _lower_auroc, in_short, study_sample_size_line

CLASSES = ["benign", "malignant"]


def _evaluated(labels, risk, patients=None) -> list[float]:
    """The interval evaluate gives the base's AUROC on these samples (check-data plans on it,
    and says it: a trial's said Newcombe's alone, narrower than evaluate's)."""
    from medadapt.evaluate.metrics import binary_metrics

    return binary_metrics(np.asarray(labels), np.asarray(risk), patients=patients)["auroc_ci"]


DEFAULT = "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)"


def _separated(positives: int, negatives: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and risks the base tells apart perfectly (AUROC 1)."""
    labels = np.r_[np.ones(positives, int), np.zeros(negatives, int)]
    return labels, np.where(labels == 1, 0.9, 0.1)


def test_eight_patients_at_a_site_ask_no_fewer_than_the_conservative_default():
    """Before: 3 malignant of 8 scored patients, a perfect AUROC there (no R-squared), so the
    base's source AUROC 0.994 alone set an R-squared of 0.67 and fewer patients than a
    full site's lower AUROC asked."""
    labels, risk = _separated(3, 5)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "patients", CLASSES)
    default = 0.15 * max_cox_snell(0.375)
    assert outcome.r2 == pytest.approx(default)
    assert outcome.r2_source == (
        f"{DEFAULT}: the base model's AUROC at this site gives no R-squared to plan on (3 of "
        "the 8 patients it never saw are of class 'malignant', fewer than the 5 an AUROC "
        f"needs); its AUROC on its source (0.994) would give "
        f"{cox_snell_from_c(0.994, 0.375):.3f}, higher: the lower one is used, to be cautious"
    )
    assert outcome.figures["auroc_at_site"] is None
    full = cox_snell_from_c(0.919, 0.375)  # all 76 patients: the site's AUROC 0.919 is used
    assert outcome.r2 < full  # so 8 of them ask more patients than 76, not fewer
    ask = development(parameters=65, prevalence=0.375, r2_cs=full)
    assert outcome.criteria(65)[1].n > ask[1].n


def test_a_perfect_auroc_on_enough_patients_is_no_r_squared_to_plan_on():
    labels, risk = _separated(6, 6)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "patients", CLASSES)
    assert outcome.r2 == pytest.approx(0.15 * max_cox_snell(0.5))
    assert (
        "(it tells the 12 patients it never saw apart perfectly, AUROC 1.000, which implies "
        "no finite R-squared)" in outcome.r2_source
    )
    assert outcome.figures["separated_at_site"] == "12 patients"


def test_check_data_says_an_adapter_may_add_nothing_where_the_base_separates_the_site():
    """A trial: check-data on a site the base told apart perfectly planned thousands of
    patients for an adapter without a word that the base may need none, or has a leak."""
    labels, risk = _separated(6, 6)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "patients", CLASSES)
    entry = {"n": 400, "development": {"head": {"n": 900, "met": False}}}
    result = {"noun": "patients", "n_train": 8, "n_test": 4, **outcome.to_dict(),
              **entry, "validation": {"criteria": []}}  # fmt: skip
    said = in_short(result)
    assert said[0] == (
        "The base model already tells the 12 patients of this site it never saw apart "
        "perfectly (AUROC 1.000): an adapter may add nothing here. Check first for a leak (a "
        "copy of the label, a record number, a value recorded after the outcome, training "
        "patients among the test patients), then 'medadapt evaluate' the base model on these "
        "patients before adapting it."
    )
    assert outcome.figures["auroc_at_site"] == 1.0  # measured and said; not planned on
    # images of named patients: counted as patients, their leaks an image model's (a trial's
    # check-data listed a table's, "a copy of the label, a record number ...")
    said = in_short({**result, "unit": "images"})[0]
    assert "Check first for a leak (the same images or near-copies among the training" in said
    del result["separated_at_site"]
    assert not in_short(result)[0].startswith("The base model already")


def test_a_base_ranking_the_site_perfectly_but_calling_everyone_positive_may_be_mended():
    """A trial: the base ranked site B's 60 images perfectly but called every one 'ring' at
    0.5; check-data said an adapter "may add nothing", and the adapter then called 24 of 24
    right. The calls are said, and an image site's leaks are an image model's (its pixels)."""
    labels, _ = _separated(6, 6)
    risk = np.where(labels == 1, 0.9, 0.6)  # ranked perfectly, every one called 'ring'
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "images",
                         ("normal", "ring"))  # fmt: skip
    assert outcome.figures["calls_at_site"] == [
        {"class": "'normal'", "called": 0, "of": 6},
        {"class": "'ring'", "called": 6, "of": 6},
    ]
    entry = {"n": 400, "development": {"head": {"n": 900, "met": False}}}
    result = {"noun": "images", "n_train": 8, "n_test": 4, **outcome.to_dict(),
              **entry, "validation": {"criteria": []}}  # fmt: skip
    assert in_short(result)[0] == (
        "The base model already ranks the 12 images of this site it never saw perfectly "
        "(AUROC 1.000), but at threshold 0.5 it calls 0 of the 6 of class 'normal' correctly: an "
        "adapter may mend its risks (where the threshold falls, calibration), not its ranking. "
        "Check first for a leak (the same images or near-copies among the training and test "
        "images, a marker or text burnt into the images that differs by class, images of one "
        "class from another scanner or site), then 'medadapt evaluate' the base model on these "
        "images before adapting it."
    )


@pytest.mark.parametrize(
    ("flip", "said"),
    [
        (1.0, "0.000, worse than chance: it ranks them backwards (are the labels, or the "
              "positive class, swapped? or are these samples unlike the base model's training "
              "ones: another scanner, export, unit or coding?)"),
        (0.5, "0.500, no better than chance"),
    ],
)  # fmt: skip
def test_an_auroc_far_below_one_half_is_said_to_rank_backwards(flip, said):
    """A trial: check-data called an AUROC of 0.086 'no better than chance'; it ranks the
    patients backwards, which usually means swapped labels or positive class. Either is
    planned as 0.55 (a worse base never needs fewer patients), and said."""
    labels, risk = _separated(6, 6)
    risk = np.full(len(risk), 0.5) if flip == 0.5 else 1 - risk
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.9}, "patients", CLASSES)
    value, words = said.split(", ", 1)
    low, high = _evaluated(labels, risk)
    assert outcome.r2_source == (
        f"from the base model's AUROC at this site, on all 12 patients it never saw ({value}, 95% "
        f"CI {low:.3f} to {high:.3f}, {words}: planned as 0.55, the weakest ranking a plan takes; "
        "0.900 on its source: the lower one is used, to be cautious)"
    )


def test_a_weak_source_is_planned_as_0_55_and_kept_where_lower_than_the_default():
    """A source AUROC of 0.6 implies an R-squared below the default's: kept (more patients, to
    be cautious); one of 0.49 was ignored, asking fewer than 0.6 did: it is planned as 0.55,
    below 0.6's, so a weaker base never needs fewer (a biostatistician's review)."""
    labels, risk = _separated(2, 10)
    prevalence = 2 / 12
    site = (
        "the base model's AUROC at this site gives no R-squared to plan on (2 of the 12 "
        "patients it never saw are of class 'malignant', fewer than the 5 an AUROC needs)"
    )
    r2 = {}
    for source in (0.49, 0.6):
        outcome = outcome_of("binary", labels, (labels, risk), {"auroc": source}, "patients",
                             CLASSES)  # fmt: skip
        r2[source] = outcome.r2
        assert outcome.r2 == pytest.approx(cox_snell_from_c(max(source, 0.55), prevalence))
        weak = ", no better than chance: planned as 0.55, the weakest ranking a plan takes"
        assert outcome.r2_source == (
            f"from the base model's AUROC on its source ({source:.3f}"
            f"{weak if source < 0.55 else ''}): {site}; the {DEFAULT} would give "
            f"{0.15 * max_cox_snell(prevalence):.3f}, higher: the lower one is used, to be "
            "cautious"
        )
    assert r2[0.49] < r2[0.6] < 0.15 * max_cox_snell(prevalence)
    above = outcome_of("binary", labels, (labels, risk), {"auroc": 0.9}, "patients", CLASSES)
    assert above.r2 == pytest.approx(0.15 * max_cox_snell(prevalence))  # the lower: default
    assert above.r2_source.endswith(
        f"its AUROC on its source (0.900) would give {cox_snell_from_c(0.9, prevalence):.3f}, "
        "higher: the lower one is used, to be cautious"
    )


def test_a_site_with_enough_patients_keeps_the_lower_of_source_and_site():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    risk = np.clip(0.5 + 0.25 * (labels - 0.5) + rng.normal(scale=0.2, size=80), 0.01, 0.99)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "patients", CLASSES)
    here = outcome.figures["auroc_at_site"]
    assert 0.5 < here < 0.994 and outcome.r2 == pytest.approx(cox_snell_from_c(here, 0.5))
    low, high = _evaluated(labels, risk)
    assert outcome.r2_source == (
        f"from the base model's AUROC at this site, on all 80 patients it never saw ({here:.3f}, "
        f"95% CI {low:.3f} to {high:.3f}; 0.994 on its source: the lower one is used, to be "
        "cautious)"
    )


def test_the_validation_c_statistic_is_cautious_where_the_site_gives_none():
    labels, risk = _separated(3, 5)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "patients", CLASSES)
    base = SimpleNamespace(training={"test_metrics": {"auroc": 0.994}})
    assert _lower_auroc(base, outcome) == 0.7  # before: 0.994


def test_no_pairwise_auroc_rests_on_a_class_with_two_patients():
    """Diabetes progression binned low/mid/high, 2 'high' patients at the site: before, the
    pairs with 'high' took their AUROC from those 2 patients (2 of 3 pairs)."""
    rng = np.random.default_rng(1)
    labels = np.r_[np.full(2, 0), np.full(57, 1), np.full(31, 2)]
    proba = rng.dirichlet([1, 1, 1], size=len(labels))
    proba[np.arange(len(labels)), labels] += 0.3  # every pair told apart, better than chance
    proba /= proba.sum(axis=1, keepdims=True)
    outcome = outcome_of("multiclass", labels, (labels, proba), None, "patients",
                         ["high", "low", "mid"])  # fmt: skip
    assert outcome.pairs[(0, 1)] == pytest.approx(0.15 * max_cox_snell(2 / 59))
    assert outcome.r2_source.endswith(
        "per pair of classes: from the base model's pairwise AUROC at this site for 1 of 3 "
        "pairs, else the same default (not for class 'high': 2 patients it never saw here, "
        "fewer than the 5 an AUROC needs)"
    )


def test_a_rare_class_is_named_with_its_count_before_any_figure():
    counts = {"high": 2, "low": 57, "mid": 31}
    assert rare_class_note(counts, "patients", "site = C") == (
        "class 'high' has 2 of the 90 patients of site = C (fewer than 5, the fewest any "
        "figure about a class rests on): an adapter trained on so few is likely to be "
        "overfitted to them, and no test here can show how it does on class 'high' (accuracy "
        "can look good without it); collect more patients of class 'high'"
    )
    held = {"high": 0, "low": 17, "mid": 0}
    assert rare_class_note({**counts, "mid": 3}, "rows", "site = C", held_out=held) == (
        "classes 'high' and 'mid' have 2 and 3 of the 62 rows of site = C (fewer than 5, the "
        "fewest any figure about a class rests on; 2 and 3 to train on, 0 and 0 held out): an "
        "adapter trained on so few is likely to be overfitted to them, "
        "and no test here can show how it does on classes 'high' and 'mid' (accuracy can look "
        "good without them); collect more rows of classes 'high' and 'mid'"
    )
    assert rare_class_note({"high": 5, "low": 57}, "patients", "site = C") is None


def test_a_study_on_a_base_that_gives_no_site_auroc_says_which_r_squared_it_used():
    entry = {"source": "Riley et al. Stat", "strategies": {"head_only": {"n_needed": 900}},
             "n_train": 5, "from_base": False, "base_given": True, "no_site_auroc": "...",
             "r2_label": "Cox-Snell R-squared", "r2": 0.11,
             "r2_source": f"{DEFAULT}: why"}  # fmt: skip
    assert study_sample_size_line(entry).endswith(
        f"to train; anticipated Cox-Snell R-squared 0.110, {DEFAULT}: why; {ADAPTED_READING}"
    )
    # --methods base_only: no strategy trains (a trial's line read "minimum patients ;")
    assert study_sample_size_line({**entry, "strategies": {}}) == (
        "sample size (Riley et al., conservative R-squared): no strategy this study runs "
        "trains on the target (--methods), so no training minimum applies"
    )


def _visits(patients: int = 40, visits: int = 3, positive: int = 2):
    """``visits`` rows per patient, the first ``positive`` patients with the outcome, and
    risks the base ranks well (its AUROC on these rows about 0.93)."""
    ids = np.repeat(np.arange(patients), visits)
    labels = (ids < positive).astype(int)
    noise = np.random.default_rng(0).normal(0, 0.2, len(ids))
    return ids, labels, np.clip(np.where(labels == 1, 0.6, 0.3) + noise, 0.01, 0.99)


def test_a_class_of_two_patients_seen_three_times_each_is_two_patients_not_six():
    """A review: 40 patients seen 3 times, 2 of them positive (6 positive rows). evaluate
    withheld the AUROC ("2 positives among 40 patients"), but the sample-size check counted
    6 positive rows and planned on the site's AUROC 0.928 (R-squared 0.156, not the default's
    0.049): a third of the patients the conservative default asks."""
    ids, labels, risk = _visits()
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.8}, "rows", ["0", "1"],
                         patients=ids)  # fmt: skip
    assert outcome.r2 == pytest.approx(0.15 * max_cox_snell(0.05))
    assert outcome.figures["auroc_at_site"] is None
    assert outcome.r2_source == (
        f"{DEFAULT}: the base model's AUROC at this site gives no R-squared to plan on (2 of "
        "the 40 patients it never saw are of class '1', fewer than the 5 an AUROC needs); its "
        f"AUROC on its source (0.800) would give {cox_snell_from_c(0.8, 0.05):.3f}, higher: the "
        "lower one is used, to be cautious"
    )
    assert outcome.criteria(65)[0].n > 3 * 3614  # the site's AUROC asked 3,614 for 65


def test_without_repeats_or_patients_the_rows_are_counted_as_before():
    _, labels, risk = _visits()
    for patients in (None, np.arange(len(labels))):  # not named, or one row each
        outcome = outcome_of("binary", labels, (labels, risk), None, "patients", ["0", "1"],
                             patients=patients)  # fmt: skip
        here = outcome.figures["auroc_at_site"]
        assert here == pytest.approx(0.928, abs=1e-3)
        low, high = _evaluated(labels, risk)
        assert outcome.r2_source == (
            "from the base model's AUROC at this site, on all 120 patients it never saw "
            f"({here:.3f}, 95% CI {low:.3f} to {high:.3f})"
        )


def test_a_patient_whose_visits_disagree_counts_in_both_classes():
    """4 patients with only positive visits and one with a positive and a negative visit:
    5 positive patients, enough for an AUROC (a patient counts in each class they have)."""
    ids, labels, risk = _visits(positive=4)
    labels[ids == 4] = [1, 0, 0]
    outcome = outcome_of("binary", labels, (labels, risk), None, "rows", ["0", "1"],
                         patients=ids)  # fmt: skip
    assert outcome.figures["auroc_at_site"] is not None
    labels[ids == 4] = 0  # 4 positive patients: too few
    outcome = outcome_of("binary", labels, (labels, risk), None, "rows", ["0", "1"],
                         patients=ids)  # fmt: skip
    assert "(4 of the 40 patients it never saw are of class '1'" in outcome.r2_source


def test_no_pairwise_auroc_rests_on_a_class_of_two_patients_seen_often():
    rng = np.random.default_rng(1)
    per_patient = np.r_[np.full(2, 0), np.full(30, 1), np.full(20, 2)]
    ids = np.repeat(np.arange(len(per_patient)), 4)  # 8 'high' rows from 2 patients
    labels = per_patient[ids]
    proba = rng.dirichlet([1, 1, 1], size=len(labels))
    proba[np.arange(len(labels)), labels] += 0.3
    proba /= proba.sum(axis=1, keepdims=True)
    outcome = outcome_of("multiclass", labels, (labels, proba), None, "rows",
                         ["high", "low", "mid"], patients=ids)  # fmt: skip
    assert outcome.r2_source.endswith(
        "for 1 of 3 pairs, else the same default (not for class 'high': 2 patients it never saw "
        "here, fewer than the 5 an AUROC needs)"
    )
    rows = outcome_of("multiclass", labels, (labels, proba), None, "rows", ["high", "low", "mid"])
    assert rows.r2_source.endswith("for every pair")  # as before (not "3 of 3, else ...")


def test_a_rare_class_note_counting_patients_says_how_many_patients_in_all():
    """A patient with visits of both classes counts in each, but once among the patients."""
    assert rare_class_note({"0": 39, "1": 2}, "patients", "site = B", total=40) == (
        "class '1' has 2 of the 40 patients of site = B (fewer than 5, the fewest any figure "
        "about a class rests on): an adapter trained on so few is likely to be overfitted to "
        "them, and no test here can show how it does on class '1' (accuracy can look good "
        "without it); collect more patients of class '1'"
    )


# ----- a site's AUROC is planned on only where evaluate would report it ------------------------
def _risks(labels: np.ndarray) -> np.ndarray:
    """Risks the base ranks well but not perfectly."""
    noise = np.random.default_rng(0).normal(0, 0.25, len(labels))
    return np.clip(np.where(labels == 1, 0.65, 0.35) + noise, 0.01, 0.99)


def test_a_site_auroc_evaluate_withholds_is_not_planned_on():
    """A trial: check-data planned on an AUROC of 0.934 measured at the site on 32 images of
    few patients, and said "on 32 images". 8 patients, each with 2 images of each class: 8 of
    each class, but 8 in all, fewer than the 10 evaluate reports any figure from, so evaluate
    withholds the AUROC and the plan takes the next figure, saying why."""
    from medadapt.evaluate.metrics import binary_metrics

    ids = np.repeat(np.arange(8), 4)
    labels = np.tile([1, 1, 0, 0], 8)
    risk = _risks(labels)
    withheld = binary_metrics(labels, risk, unit="image", patients=ids, n_boot=20)
    assert withheld["auroc"] is None  # evaluate: "not reported: only 8 patients (32 images ..."
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.95}, "images", CLASSES,
                         patients=ids, label_patients=ids)  # fmt: skip
    assert outcome.figures["auroc_at_site"] is None
    assert outcome.r2 == pytest.approx(0.15 * max_cox_snell(0.5))
    assert outcome.r2_source == (
        f"{DEFAULT}: the base model's AUROC at this site gives no R-squared to plan on (it "
        "would rest on 32 images of 8 patients it never saw, fewer than the 10 patients "
        f"evaluate reports an AUROC from); its AUROC on its source (0.950) would give "
        f"{cox_snell_from_c(0.95, 0.5):.3f}, higher: the lower one is used, to be cautious"
    )


def test_a_site_auroc_evaluate_reports_is_said_with_its_patients():
    """16 patients of 2 images each, 8 of each class: evaluate reports this AUROC, so it is
    planned on, and the sentence counts the patients behind the images."""
    from medadapt.evaluate.metrics import binary_metrics

    ids = np.repeat(np.arange(16), 2)
    labels = (ids < 8).astype(int)
    risk = _risks(labels)
    reported = binary_metrics(labels, risk, unit="image", patients=ids, n_boot=20)["auroc"]
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.99}, "images", CLASSES,
                         patients=ids, label_patients=ids)  # fmt: skip
    here = outcome.figures["auroc_at_site"]
    assert here == pytest.approx(reported) and 0.5 < here < 0.99
    low, high = _evaluated(labels, risk, ids)  # resampled by patient, as evaluate does
    assert outcome.r2_source == (
        f"from the base model's AUROC at this site, on all 32 images of 16 patients it never saw "
        f"({here:.3f}, 95% CI {low:.3f} to {high:.3f}; 0.990 on its source: the lower one is "
        "used, to be cautious)"
    )


# ----- a multiclass outcome says why a pair has no pairwise AUROC -------------------------------
THREE = ["high", "low", "mid"]


def _three(scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """30 patients of each of 3 classes, and probabilities that tell every class apart
    perfectly (or ``scores``)."""
    labels = np.repeat([0, 1, 2], 30)
    return labels, np.eye(3)[labels] * 0.8 + 0.2 / 3 if scores is None else scores


def test_pairs_told_apart_perfectly_are_said_to_give_no_r_squared():
    """A trial: "for 0 of 3 pairs, else the same default", and not why; another's wine base
    told every pair apart at the site, and its plan said "a base model measured to predict
    better asks fewer" (every pair perfect: the site is separated, as a binary one)."""
    labels, proba = _three()
    outcome = outcome_of("multiclass", labels, (labels, proba), None, "patients", THREE)
    assert outcome.r2_source.endswith(
        "per pair of classes: the same default (not for 'high' vs 'low', 'high' vs 'mid' and "
        "'low' vs 'mid': told apart perfectly (AUROC 1.000), which implies no finite R-squared)"
    )
    assert outcome.figures["separated_at_site"] == f"{len(labels)} patients"


def test_a_pair_ranked_no_better_than_chance_is_named_with_its_auroc():
    labels, proba = _three()
    swapped = proba.copy()
    swapped[:, [1, 2]] = proba[:, [2, 1]]  # 'low' and 'mid' ranked backwards
    outcome = outcome_of("multiclass", labels, (labels, swapped), None, "patients", THREE)
    assert outcome.r2_source.endswith(
        "for 1 of 3 pairs, else the same default (not for 'high' vs 'low' and 'high' vs "
        "'mid': told apart perfectly (AUROC 1.000), which implies no finite R-squared; 'low' "
        "vs 'mid' (0.000) planned as 0.55, the weakest ranking a plan takes)"
    )  # a pair ranked backwards asks as many patients as one barely told apart, never fewer


@pytest.mark.parametrize(
    ("scored", "said"),
    [
        ((np.zeros(0, int), np.zeros((0, 3))), "it trained on every one of these patients"),
        ((np.repeat([0, 1, 2], 30), np.full(90, 0.5)),
         "a two-class base model gives no score for each of these classes"),
        (None, "the base model is not scored at this site"),
    ],
)  # fmt: skip
def test_no_pairwise_auroc_at_all_says_why(scored, said):
    labels, _ = _three()
    outcome = outcome_of("multiclass", labels, scored, None, "patients", THREE)
    assert outcome.r2_source.endswith(f"per pair of classes: the same default ({said})")
    assert "separated_at_site" not in outcome.figures


def test_too_few_patients_in_all_give_no_pairwise_auroc():
    """3 patients, each with 2 images of every class: 3 of each class, 3 in all."""
    ids = np.repeat(np.arange(3), 6)
    labels = np.tile(np.repeat([0, 1, 2], 2), 3)
    proba = np.eye(3)[labels] * 0.5 + np.random.default_rng(0).dirichlet([1, 1, 1], len(ids)) / 2
    outcome = outcome_of("multiclass", labels, (labels, proba), None, "images", THREE,
                         patients=ids)  # fmt: skip
    assert outcome.r2_source.endswith(
        "per pair of classes: the same default (it would rest on 18 images of 3 patients it "
        "never saw, fewer than the 10 patients evaluate reports an AUROC from)"
    )


def test_one_patient_of_a_class_among_those_never_seen_is_said_in_the_singular():
    """A trial's tiny site: "1 of the 10 rows it never saw are of class 'benign'"."""
    labels, risk = _separated(1, 9)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.9}, "rows", CLASSES)
    assert "(1 of the 10 rows it never saw is of class " in outcome.r2_source


def test_a_perfect_auroc_on_probabilities_that_barely_differ_is_no_skill():
    """A trial's stalled image base gave 48 images 0.4675 to 0.4679 and ranked them
    perfectly: study said it "tells the 48 images ... apart perfectly"."""
    labels = np.r_[np.ones(6, int), np.zeros(6, int)]
    risk = np.where(labels == 1, 0.4678, 0.4676) + np.linspace(0, 0.00005, 12)
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.994}, "patients", CLASSES)
    assert (
        "(it ranks the 12 patients it never saw perfectly, AUROC 1.000, on probabilities that "
        "barely differ (a ranking on differences too small to act on, not skill: its figures "
        "say nothing), which implies no finite R-squared)" in outcome.r2_source
    ), outcome.r2_source
    # and "In short" says it stalled, not that an adapter may add nothing (a review)
    assert outcome.figures["stalled_at_site"] == "0.4676 and 0.4678"
    entry = {"n": 400, "development": {"head": {"n": 900, "met": False}}}
    result = {"noun": "patients", "n_train": 8, "n_test": 4, **outcome.to_dict(),
              **entry, "validation": {"criteria": []}}  # fmt: skip
    said = in_short(result)
    assert said[0].startswith(
        "The base model ranks the 12 patients of this site it never saw perfectly (AUROC "
        "1.000), but on probabilities that barely differ (the middle 90% between 0.4676 and "
        "0.4678): a stalled model's ranking, not skill"
    ), said[0]
    assert "may add nothing" not in " ".join(said)
    assert said[0].endswith("and retrain it (more --epochs (a lower learning rate: the Python "
                            "API's TrainConfig(lr=...))) before adapting it.")  # fmt: skip
    images = in_short({**result, "unit": "images"})  # images of named patients: --lr
    assert images[0].endswith("'medadapt evaluate' it on these images, and retrain it (a lower "
                              "--lr, more --epochs) before adapting it.")  # fmt: skip
    # a base whose own test was not flat: these patients are unlike its own, and adapting it
    # is the step (a radiology trial's darker site was told to retrain the base first)
    shifted = in_short({**result, "flat_at_source": False})
    assert shifted[0].endswith(
        "0.4678), where its own test's did differ: these patients are unlike those it trained "
        "on (see the warnings above), so its ranking here is no skill to keep, and adapting it "
        "to them is the step to take; 'medadapt evaluate' it on these patients to see its calls."
    ), shifted[0]
    assert "retrain" not in shifted[0]


def test_an_auroc_on_probabilities_that_barely_differ_is_not_planned_on():
    """A radiology trial's stalled base (every probability 0.5730 to 0.5732) had AUROC 0.665
    at the site, and the plan rested on it."""
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(20, int), np.zeros(20, int)]
    risk = 0.5731 + rng.normal(0, 0.00005, 40) + 0.00002 * labels
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": 0.7}, "patients", CLASSES)
    assert outcome.figures["no_site_auroc"].startswith("it ranks the 40 patients it never saw ")
    assert outcome.figures["no_site_auroc"].endswith(
        "on probabilities that barely differ (a ranking on differences too small to act on, "
        "not skill: its figures say nothing)"
    )
    assert "AUROC at this site gives no R-squared to plan on" in outcome.r2_source


def test_a_measured_outcome_s_r_squared_is_said_once_with_the_other_beside_it():
    """A trial's check-data read "anticipated R-squared 0.238, the base model's R-squared at
    this site, on all 155 patients it never saw (0.238; 0.249 on its source ...)", and a
    study "anticipated R-squared 0.100, assumed 0.1": each figure once."""
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    predicted = 0.6 * truth + rng.normal(scale=0.5, size=200)  # R-squared about 0.6 here
    outcome = outcome_of("regression", truth, (truth, predicted), {"r2": 0.9}, "patients")
    here = outcome.r2
    assert 0 < here < 0.9 and outcome.r2_source == (
        "the base model's R-squared at this site, on all 200 patients it never saw (0.900 on its "
        "source: the lower one is used, to be cautious)"
    )
    default = outcome_of("regression", truth, None, {"r2": -0.2}, "patients")
    assert (default.r2, default.r2_source) == (
        0.1,
        "a conservative default (no positive R-squared of the base is known)",
    )
