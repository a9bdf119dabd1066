"""The ``evaluate`` report: before/after per group, the adapter card, notes once, no small
cells."""

from __future__ import annotations

import html
import re

import numpy as np

from medadapt.evaluate.groups import evaluate_groups
from medadapt.evaluate.versus_base import versus_base
from medadapt.workflows.reports import evaluation_report


def _scored(seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 80
    y = (rng.random(n) < 0.6).astype(int)
    sex = np.where(np.arange(n) < 3, "Female", "Male")  # three women: a small cell
    age = np.where(np.arange(n) % 4 == 0, ">=65", np.where(np.arange(n) % 4 == 1, "<50", "50-64"))
    age[(age == ">=65") & (y == 0)] = "50-64"  # no negatives aged >=65: AUROC n/a there
    subgroups = {"sex": sex, "age band": age}
    after = np.clip(y * 0.35 + rng.random(n) * 0.6, 0, 1)
    before = np.clip(y * 0.15 + rng.random(n) * 0.8, 0, 1)
    adapted = evaluate_groups("binary", y, after, subgroups, n_boot=100)
    base = evaluate_groups("binary", y, before, subgroups, n_boot=100)
    base["versus_base"] = versus_base(y, after, before, metric="auroc", n_boot=100)  # as evaluate
    result = {
        **adapted["overall"],
        "rows_used": "the adapter's 80 held-out rows",
        "task": "binary",
        "adapter": "site_c_bottleneck",
        "trainable_params": 8577,
        "adapter_bytes": 40000,
        "unseen_categories": {},
        "missing_values": {"marker": 8},
        "subgroups": adapted["subgroups"],
    }
    return result, {"y": y, "scores": after, "base_scores": before}, base


def _text(report) -> str:
    """The page's text (tags and images dropped, entities decoded)."""
    page = re.sub(r'src="data:[^"]+"', "", report.render())
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_report_compares_the_base_and_the_adapter_per_group():
    result, curves, base = _scored()
    text = " ".join(_text(evaluation_report(result, curves, base_scores=base)).split())
    assert "AUROC base model AUROC with the adapter" in text
    assert "base model (95% CI) with the adapter (95% CI)" in text
    assert "Before the adapter, the base model alone scores AUROC" in text
    assert re.search(
        r"Paired on the same patients, the adapter changes AUROC by \+0\.\d{3} \(95% CI "
        r"\+0\.\d{3} to \+0\.\d{3}\): the adapter ranks patients by risk better\.",
        text,
    )
    html = evaluation_report(result, curves, base_scores=base).render()
    assert html.count("before and after the adapter.</figcaption>") == 2
    from medadapt.workflows.reports import EXPLORATORY

    assert EXPLORATORY.startswith("These figures are exploratory: among several subgroups")
    assert text.count(EXPLORATORY) == 2  # under each subgrouping's table (sex, age band)


def test_the_report_has_an_adapter_card_with_use_data_metrics_and_limitations():
    result, curves, _ = _scored()
    text = " ".join(_text(evaluation_report(result, curves)).split())
    card = text[text.index("Adapter card: site_c_bottleneck") :]
    for field in ("Intended use", "Data", "Metrics", "Limitations", "Trainable parameters"):
        assert field in card
    assert "evaluated here on 80 patients (the adapter's 80 held-out rows)" in card


def test_a_note_shared_by_several_metrics_is_written_once():
    result, curves, base = _scored()
    note = result["subgroups"]["age band"][">=65"]["notes"]["auroc"]
    assert result["subgroups"]["age band"][">=65"]["notes"]["auprc"] == note
    text = _text(evaluation_report(result, curves, base_scores=base))
    row = text[text.index(" >=65 ") :].split("Subgroup counts")[0]
    assert row.count("at least 5 are needed") == 1
    assert (  # a zero cell reads like a small one: "0 negatives" gave everyone's outcome away
        "AUROC, AUPRC, balanced accuracy, specificity, calibration slope: not reported: fewer "
        "than 5 negatives" in row
    )


def test_subgroups_of_fewer_than_five_patients_show_no_count():
    result, curves, base = _scored()
    assert result["subgroups"]["sex"]["Female"]["n"] == 3
    html = evaluation_report(result, curves, base_scores=base).render()
    female = html[html.index("<td>Female</td>") :].split("</tr>")[0]
    assert "<td>suppressed</td>" in female and "<td>3</td>" not in female
    male = html[html.index("<td>Male</td>") :].split("</tr>")[0]
    # 77 men, 43 with the event: "75-79" and "40-44" beside "<5" under 80 and 45 left the
    # women 1 to 4 events, not 0 to 4, so no count of either is shown
    assert "<td>suppressed</td>" in male and "the overall totals would give that count away" in male


def test_a_subgroup_table_withheld_whole_is_a_sentence_in_its_place():
    """Sites whose figures alone would give a count away (each "fewer than 5 negatives",
    under as many as they can hold): no table, no figure, the reason where they stood."""
    from medadapt.evaluate.small_cells import TABLE_WITHHELD, mask_subgroups
    from medadapt.workflows.reports import EXPLORATORY

    result, curves, base = _scored()
    y = np.r_[[1] * 17 + [0] * 4, [1] * 8 + [0] * 4]  # as evaluate stores them: masked
    site = np.array(["A"] * 21 + ["B"] * 12)
    scores = np.random.default_rng(1).random(len(y))
    sites = evaluate_groups("binary", y, scores, {"site": site}, n_boot=50)["subgroups"]
    result["subgroups"] = {**result["subgroups"], **mask_subgroups(sites)}
    text = " ".join(_text(evaluation_report(result, curves, base_scores=base)).split())
    said = TABLE_WITHHELD.format(name="site")
    assert f"By site {said[0].upper()}{said[1:]}." in text
    assert "AUROC by site" not in text  # no figure either
    assert text.count(EXPLORATORY) == 2  # sex and age band keep theirs


def test_a_base_model_figure_without_an_interval_carries_its_own_note():
    """The base model's calibration slope, without an interval (its predictions separate most
    resamples), was shown bare: the note column held the adapter's notes only."""
    from medadapt.evaluate.metrics import binary_metrics

    result, curves, base = _scored()
    y = curves["y"]
    near = np.where(y == 1, 0.9, 0.1) + np.r_[0.85, np.zeros(len(y) - 1)] * (y[0] == 0)
    separated = binary_metrics(y, np.clip(near, 0, 1), n_boot=100)  # all but one in order
    assert (separated["calibration_slope"], separated["calibration_slope_ci"]) == (None, None)
    note = separated["notes"]["calibration_slope"]
    assert note == (  # the value was printed bare (1.251), then "very uncertain" (28.8)
        "not reported: in more than 1 in 10 bootstrap resamples of these patients it cannot be "
        "computed (the predictions separate the resample's outcomes perfectly, so no slope can "
        "be fitted, or it lacks one of the classes), so the value on these patients is too "
        "unstable to report"
    )
    base = {**base, "overall": separated}
    page = html.unescape(evaluation_report(result, curves, base_scores=base).render())
    row = page[page.index("<td>calibration slope</td>") :].split("</tr>")[0]
    assert f"base model: {note}" in row
