"""What the terminal shows in words: a note several rows share is told once, under the
table, and adapt's sample-size line names each validation estimate and how many it needs."""

from __future__ import annotations

from medadapt.cli.common import print_table
from medadapt.results import ADAPTED_READING
from medadapt.workflows.sample_size import sample_size_line

ROUNDED = (
    "figures rounded to one decimal (one short of a perfect 1 to 0.9), their intervals outward "
    "(wider than measured): this subgroup's counts are shown as ranges"
)


def test_a_note_shared_by_several_rows_is_printed_once_under_the_table(capsys):
    print_table(
        "per subgroup",
        ["subgroup", "n", "note"],
        [["sex = Male", "55-59", ROUNDED], ["sex = Female", "<5", "too few"],
         ["age band = 50-64", "40-44", ROUNDED]],
    )  # fmt: skip
    out = capsys.readouterr().out
    assert out.count("figures rounded") == 1
    assert " ".join(out.split()).endswith(f"[1] {ROUNDED}")  # wrapped at 80 columns
    assert out.count("[1]") == 3  # two rows point to it, and the footnote itself
    assert "too few" in out and "[2]" not in out  # a note of one row stays in its row


def test_a_table_without_shared_notes_has_no_footnotes(capsys):
    print_table("t", ["metric", "value", "note"], [["AUROC", "0.7", ""], ["AUPRC", "0.8", ""]])
    assert "[1]" not in capsys.readouterr().out


ENTRY = {
    "source": "Riley et al. Stat Med 2019", "parameters": 8576, "intercepts": 1, "n_needed": 502849,
    "criterion": "i", "n_train": 140, "met": False, "n_test": 600,
    "test_needs": {"O/E": 132, "slope": 1820, "C": 486},
    "test_supports": {"O/E": True, "slope": False, "C": True},
}  # fmt: skip


def test_adapt_s_sample_size_line_names_each_estimate_and_what_the_test_set_supports():
    assert sample_size_line(ENTRY, "rows") == (
        "sample size (Riley et al.): its 8,576 parameters (the intercept aside) would need "
        f"502,849 rows (criterion i); 140 rows trained it: not met; {ADAPTED_READING}; "
        "precise estimates of observed/expected ratio, calibration slope and C-statistic at "
        "this site need 132, 1,820 and 486 test rows respectively: the 600 here are enough for "
        "observed/expected ratio and C-statistic only"
    )


def test_adapt_prints_the_criteria_as_two_short_lines():
    """A trial read adapt's one sample-size line, six terminal lines long, as a paragraph to
    skip; the terminal now says the training criterion and the test set apart, the reading
    for an adapter in a few words (the report and the card keep the whole sentence)."""
    from medadapt.workflows.sample_size import sample_size_lines

    assert sample_size_lines(ENTRY, "rows") == [
        "sample size (Riley et al.): not met: 140 rows to train on; its 8,576 parameters (the "
        "intercept aside) would need 502,849 rows as a new model's (criterion i): an upper "
        "bound for an adapter, which starts from the base; meeting it is necessary, not "
        "sufficient",
        "test set: the 600 here are enough for precise estimates of the observed/expected "
        "ratio and C-statistic only (132, 1,820 and 486 test rows needed for the "
        "observed/expected ratio, calibration slope and C-statistic respectively)",
    ]
    none = {**ENTRY, "n_test": 60, "test_supports": dict.fromkeys(ENTRY["test_needs"], False)}
    assert sample_size_lines(none, "rows")[1] == (
        "test set: the 60 here are too few for precise estimates of the observed/expected "
        "ratio, calibration slope and C-statistic (132, 1,820 and 486 test rows needed "
        "respectively)"
    )
    every = {**ENTRY, "n_test": 2000, "test_supports": dict.fromkeys(ENTRY["test_needs"], True)}
    assert sample_size_lines(every, "rows")[1] == (
        "test set: the 2,000 here are enough for precise estimates of the observed/expected "
        "ratio, calibration slope and C-statistic (132, 1,820 and 486 test rows needed "
        "respectively)"
    )
    assert sample_size_lines({**ENTRY, "test_needs": {}}, "rows")[1:] == []


def test_the_line_says_none_and_all_in_words():
    none = {**ENTRY, "n_test": 60, "test_supports": dict.fromkeys(ENTRY["test_needs"], False)}
    every = {**ENTRY, "n_test": 2000, "test_supports": dict.fromkeys(ENTRY["test_needs"], True)}
    assert sample_size_line(none).endswith("the 60 here are enough for none of them")
    assert sample_size_line(every).endswith("the 2,000 here are enough for all of them")


def test_study_s_sample_size_line_counts_in_the_modality_s_unit():
    from medadapt.workflows.sample_size import study_sample_size_line

    entry = {"source": "Riley et al. Stat Med 2019", "n_train": 140,
             "strategies": {"head_only": {"n_needed": 90}, "lora": {"n_needed": 1200}}}  # fmt: skip
    assert study_sample_size_line(entry, "images") == (
        "sample size (Riley et al., conservative R-squared): minimum images head-only adapter "
        "90; LoRA adapter 1,200; the target has 140 to train; the base this study trains is "
        "not scored yet, so Riley et al.'s cautious default R-squared is assumed; check-data "
        "--base, from a trained base's own scores at the target, may ask fewer (or more, where "
        "the base ranks the target poorly); "
        f"{ADAPTED_READING}"
    )
    given = {**entry, "base_given": True}  # --base, but no target sample it never saw
    assert study_sample_size_line(given, "images").endswith(
        "; the base given has no target samples it never saw to be scored on, so Riley et "
        f"al.'s cautious default R-squared is assumed; {ADAPTED_READING}"
    )


def test_a_criterion_needing_a_million_is_said_in_words_with_why():
    from medadapt.results import needed_text
    from medadapt.workflows.sample_size import in_short

    assert needed_text(999_999) == "999,999" and needed_text(187_381_403) == "a million or more"
    criteria = [{"name": "O/E", "n": 232, "supported": False},
                {"name": "slope", "n": 187_381_403, "supported": False}]  # fmt: skip
    result = {
        "noun": "images", "n_train": 28, "n_test": 12,
        "development": {"head_only": {"n": 1203, "met": False}},
        "validation": {"criteria": criteria, "lp_sd": 0.0042, "c_statistic": 0.55},
    }  # fmt: skip
    said = in_short(result)
    assert said[1] == (
        "12 images to test it are too few for a precise observed/expected ratio (232 needed) "
        "and calibration slope (a million or more needed); read the intervals of those "
        "estimates, not the single values."
    )
    assert said[2] == (
        "The calibration slope would need a million test images or more because the risks of "
        "a model with the anticipated C-statistic (0.55) at this prevalence hardly vary (SD of "
        "their log-odds 0.0042): no realistic test set estimates it precisely until the model "
        "ranks the patients better (an adapter trained here may change that)."
    )


def test_the_threshold_of_sensitivity_and_specificity_is_said_above_the_table(capsys):
    """A trial's ``evaluate --threshold 0.2`` printed sensitivity and specificity with no word
    of the threshold they were measured at (the report said it in its glossary only); a
    title so long that it wraps keeps the table boxed (its second line was read as a table
    line left open, and the table lost its box)."""
    from medadapt.cli.common import stdout
    from medadapt.cli.printing import print_metrics

    metrics = {"n": 86, "n_positive": 5, "threshold": 0.2, "auroc": 0.9, "auroc_ci": [0.8, 1.0],
               "sensitivity": 1.0, "sensitivity_ci": [0.478, 1.0], "notes": {}}  # fmt: skip
    width = stdout.width
    try:
        stdout.width = 100
        print_metrics("86 rows (hospital = Riverside, minus 199 rows that match rows the adapter "
                      "trained on (by content))", metrics, "binary")  # fmt: skip
    finally:
        stdout.width = width
    out = capsys.readouterr().out
    said = " ".join(out.split())
    assert "accuracy, sensitivity, specificity (balanced) at threshold 0.2" in said
    assert any(line.startswith("┏") for line in out.splitlines()), out


def test_a_measured_value_s_errors_are_said_in_the_outcome_s_unit(capsys):
    """The terminal's MAE 60.8 read as a bare number (a proportion? a percentage?); the
    report said "in the outcome's unit", the terminal now says it too, and no more where the
    figure is not reported."""
    from medadapt.cli.printing import print_metrics

    metrics = {"n": 59, "mae": 60.8, "mae_ci": [50.4, 71.5], "rmse": 73.2, "rmse_ci": [61.7, 84.3],
               "r2": 0.04, "r2_ci": [-0.36, 0.287], "calibration_in_the_large": -5.03,
               "calibration_in_the_large_ci": [-23.2, 13.3], "calibration_slope": None,
               "notes": {}}  # fmt: skip
    print_metrics("base model on 59 held-out rows", metrics, "regression")
    rows: dict[str, str] = {}
    key = ""
    for line in capsys.readouterr().out.splitlines():
        if line.count("│") == 4:  # a row's first line has its value; the next go on its note
            _, name, value, note, _ = (cell.strip() for cell in line.split("│"))
            key = name if value else key
            rows[key] = f"{rows.get(key, '')} {note}".strip()
    assert rows["MAE"] == "in the outcome's unit"
    assert rows["RMSE"] == "in the outcome's unit; large errors weigh more"
    # no direction where the interval includes 0 (-23.2 to 13.3): that would read as a finding
    assert rows["mean observed −"] == "in the outcome's unit; 0 is ideal"
    assert rows["R²"] == (
        "share of the outcome's variation explained: 1 is perfect, 0 no better than the average"
    )
    assert rows["calibration slope"] == ""


def test_an_auroc_whose_interval_reaches_chance_is_said_so_in_the_terminal(capsys):
    """A trial's VA adapter, AUROC 0.616 (0.447–0.779), was "not shown to be better than
    chance" in its HTML report only; the terminal, which most users read, said nothing."""
    from medadapt.cli.printing import print_metrics

    metrics = {"n": 60, "auroc": 0.616, "auroc_ci": [0.447, 0.779], "notes": {}}
    print_metrics("va: 60 held-out rows", metrics, "binary")
    out = capsys.readouterr().out
    assert (
        "AUROC 0.616 (0.447–0.779): not shown to be better than chance (the interval reaches 0.50)"
    ) in out.splitlines()
    print_metrics("va: 60 held-out rows", {**metrics, "auroc_ci": [0.52, 0.78]}, "binary")
    assert "chance" not in capsys.readouterr().out  # above 0.50: the table says enough


def test_the_subgroup_table_names_its_metric_and_counts_events_only_for_binary(capsys):
    from medadapt.cli.printing import print_subgroups

    group = {"sex": {"F": {"n": 30, "mae": 4.2, "mae_ci": [3.1, 5.6], "notes": {}}}}
    print_subgroups(group, "regression")
    out = capsys.readouterr().out
    assert "MAE (95% CI)" in out and "events" not in out
    group = {"sex": {"F": {"n": 30, "n_positive": 12, "auroc": 0.71, "auroc_ci": [0.5, 0.9]}}}
    print_subgroups(group, "binary")
    out = capsys.readouterr().out
    assert "AUROC (95% CI)" in out and "events" in out and "auroc" not in out


def test_a_subgroup_too_good_to_be_true_says_so_beside_its_rounding(capsys):
    """A trial's subgroup of AUROC 1.0 on 18 patients was "too good to be true" in the report
    and the JSON; the terminal's note cell held its rounding alone."""
    from medadapt.cli.printing import print_subgroups
    from medadapt.evaluate.metrics import too_good_note
    from medadapt.evaluate.small_cells import ROUNDED

    exact = {"n": 18, "n_positive": 9, "auroc": 1.0, "accuracy": 1.0}
    leak = too_good_note(exact)
    group = {"ethnicity": {"B": {"n": "15-19", "n_positive": "5-9", "auroc": 1.0,
                                 "auroc_ci": [1.0, 1.0],
                                 "notes": {"too_good": leak, "rounded": ROUNDED}}}}  # fmt: skip
    print_subgroups(group, "binary")
    said = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert " ".join(f"{leak}; {ROUNDED}".split()) in said


def test_a_subgroup_whose_counts_are_hidden_says_why_once_in_the_terminal(capsys):
    """Where the totals would give a small count away every count of the subgroup reads
    'suppressed'; the note column holds the metric's note, so why is said once below."""
    from medadapt.cli.printing import print_subgroups
    from medadapt.evaluate.small_cells import COUNTS_HIDDEN, mask_subgroups

    def cell(n, positives, auroc):
        return {"n": n, "n_positive": positives, "auroc": auroc, "auroc_ci": [0.5, 0.9],
                "notes": {}}  # fmt: skip

    masked = mask_subgroups({"sex": {"F": cell(4, 2, 0.7), "M": cell(59, 30, 0.8)}})
    assert masked["sex"]["M"]["n"] == "suppressed"  # 63 in all: 59 would give the 4 back
    print_subgroups(masked, "binary")
    out = capsys.readouterr().out
    said = " ".join(out.split())
    assert said.count(f"note: sex: counts {COUNTS_HIDDEN}") == 1


def _four_negatives(n: int) -> dict:
    """A subgroup of ``n`` patients, 4 without the outcome, as metrics.py reports it."""
    few = f"not reported: 4 negatives among {n} patients; at least 5 are needed"
    return {"n": n, "n_positive": n - 4, "auroc": None, "auroc_ci": None, "accuracy": 0.8,
            "accuracy_ci": [0.6, 0.9], "sensitivity": 0.8, "specificity": None,
            "notes": {"auroc": few, "specificity": few}}  # fmt: skip


def test_a_subgroup_table_withheld_whole_says_why_in_its_place(capsys):
    """Two sites, each with "fewer than 5 negatives", under 8 in all: 4 each, whatever their
    counts read, so no row of the site is printed, only why, once."""
    from medadapt.cli.printing import print_subgroups
    from medadapt.evaluate.small_cells import TABLE_WITHHELD, mask_subgroups

    masked = mask_subgroups({"site": {"A": _four_negatives(21), "B": _four_negatives(12)}})
    shown = {"n": 40, "n_positive": 20, "auroc": 0.7, "auroc_ci": [0.5, 0.9]}
    masked["age"] = {"<50": shown, ">=50": shown}
    print_subgroups(masked, "binary")
    said = " ".join(capsys.readouterr().out.split())
    assert "site =" not in said and "age = <50" in said and "age = >=50" in said
    assert said.count(TABLE_WITHHELD.format(name="site")) == 1


def test_a_proportion_of_patients_shows_the_count_it_rests_on():
    from medadapt.evaluate.report.formatting import counts_behind, fmt_metric

    m = {"n": 60, "n_positive": 45, "sensitivity": 44 / 45, "sensitivity_ci": [0.93, 1.0],
         "specificity": 1 / 15, "accuracy": 45 / 60, "auroc": 0.68}  # fmt: skip
    assert fmt_metric(m, "sensitivity") == "0.978 (0.930–1.000); 44 of 45"
    assert counts_behind(m, "specificity") == "1 of 15"
    assert counts_behind(m, "accuracy") == "45 of 60"
    assert counts_behind(m, "auroc") is None  # not a share of patients
    assert counts_behind({"n": 30, "accuracy": 0.9}, "sensitivity") is None  # no counts
    assert fmt_metric({"n": 30, "mae": 4.2}, "mae") == "4.20"  # three significant figures


def test_a_pair_the_base_barely_tells_apart_is_planned_as_0_55_not_a_million():
    """Several classes: one pair the base barely tells apart at the site (pairwise AUROC
    0.507) drove criterion (i) to tens of millions, where a pair at 0.491 took the
    conservative default; both are now planned as 0.55, the weakest ranking a plan takes,
    and the sentence says so with the pair's AUROC."""
    import numpy as np

    from medadapt.evaluate.samplesize import cox_snell_from_c
    from medadapt.evaluate.samplesize_outcomes import outcome_of
    from medadapt.workflows.sample_size import in_short, sample_size_line

    rng = np.random.default_rng(2)  # pair (1, 2): AUROC 0.507
    labels = np.repeat([0, 1, 2], 60)
    proba = np.full((180, 3), 0.25) + rng.normal(scale=0.1, size=(180, 3))
    proba[labels == 0, 0] += 0.3  # class 0 told apart from the others; 1 and 2 barely
    proba = np.clip(proba, 0.01, None)
    outcome = outcome_of("multiclass", labels, (labels, proba))
    assert outcome.pairs[(1, 2)] == cox_snell_from_c(0.55, 0.5)
    assert outcome.figures["weakest_pair"]["classes"] == [1, 2]
    assert outcome.r2_source.endswith(
        "for every pair ('1' vs '2' (0.507) planned as 0.55, the weakest ranking a plan takes)"
    )
    least = outcome.criteria(85)[0].n
    assert least == 145848  # before: a million or more
    result = {"noun": "patients", "n_train": 126, "n_test": 54,
              "development": {"head_only": {"n": least, "met": False}},
              "validation": {"criteria": []}}  # fmt: skip
    said = in_short(result)
    assert "(the least, the head-only adapter ('adapt --method head'), needs 145,848)" in said[0]
    assert len(said) == 2
    entry = {"source": "Pate et al. Stat", "parameters": 85, "n_needed": 1_000_000,
             "criterion": "i", "n_train": 126, "met": False, "test_needs": {}}  # fmt: skip
    assert "would need a million or more patients (criterion i)" in sample_size_line(entry)


def test_the_card_s_sample_size_basis_says_outcome_once_for_a_measured_value():
    from medadapt.registry.summary_words import sample_size_rows

    entry = {"parameters": 313, "n_needed": 4798, "criterion": "i", "n_train": 144,
             "n_test": 60, "met": False, "r2": 0.4406, "r2_label": "R-squared",
             "test_needs": {}, "outcome": "outcome mean 156, SD 78.5"}  # fmt: skip
    basis = dict(sample_size_rows(entry))["sample size basis"]
    assert basis.endswith(", outcome mean 156, SD 78.5") and "outcome outcome" not in basis
    entry["outcome"] = "prevalence 0.935"
    assert dict(sample_size_rows(entry))["sample size basis"].endswith(
        "; in the adapter's training and test patients together, outcome prevalence 0.935"
    )
    entry["n_test"] = 0  # ma.adapt's: every row of its frame trained the adapter
    assert dict(sample_size_rows(entry))["sample size basis"].endswith(
        "; in the adapter's training patients, outcome prevalence 0.935"
    )


def test_an_adapter_worse_than_the_base_is_a_warning_and_no_difference_a_plain_line(capsys):
    from medadapt.cli.printing import print_versus_base

    before = {"auroc": 0.812, "auroc_ci": [0.701, 0.9], "n": 60, "n_positive": 45}
    worse = {"metric": "auroc", "verdict": "worse", "in_words": "Paired ...: the adapter ranks "
             "patients by risk worse. Keep the base model for these patients, or adapt again "
             "on more of them."}  # fmt: skip
    print_versus_base(before, worse, "binary", "60 rows")
    assert capsys.readouterr().out.splitlines() == [
        "base model alone on the same 60 rows: AUROC 0.812 (0.701–0.900)",
        "warning: Paired ...: the adapter ranks patients by risk worse. Keep the base model for "
        "these patients, or adapt again on more of them.",
    ]
    print_versus_base(before, {**worse, "verdict": "no detectable difference"}, "binary", "60 rows")
    assert (
        capsys.readouterr()
        .out.splitlines()[1]
        .startswith("Paired ...: the adapter ranks patients by risk worse.")
    )  # a plain line, not a warning
    print_versus_base(None, worse, "binary", "60 rows")  # a model that added classes: nothing
    assert capsys.readouterr() == ("", "")


def test_intervals_wrap_between_words_and_a_too_wide_table_is_still_whole(capsys):
    """A figure column wrapped inside its interval ("(0.864–1.000" over ")") when the table
    was narrower than its figures; where whole words cannot fit, the table folds them but
    still closes every line (rich crops a table whose columns cannot shrink)."""
    from medadapt.cli.common import stdout

    row = ["normal", "9", "0.951 (0.864–1.000)", "0.222 (0.028–0.600)", "n/a",
           "no precision: 2 images called 'normal' (at least 5 needed)"]  # fmt: skip
    columns = ["class", "n", "AUROC (95% CI)", "sensitivity (95% CI)", "precision (95% CI)",
               "note"]  # fmt: skip
    width = stdout.width
    try:
        for stdout.width in (80, 76, 72, 60, 100):
            print_table("per class", columns, [row])
            out = capsys.readouterr().out
            if stdout.width >= 80:
                assert "(0.864–1.000)" in out and "(0.028–0.600)" in out
            table = out.splitlines()[1:]
            assert all(len(line) <= stdout.width for line in table), out
            boxed = table[0].startswith("┏")  # else without lines between the columns, and
            if boxed:  # every word whole ("(0.864–1.000)" at 72 columns), none cut off
                assert all(line[-1] in "┓┃┩│┘" for line in table if line.strip()), out
            else:
                words = set(out.split())
                assert all(w in words for cell in row for w in cell.split()), out
    finally:
        stdout.width = width


def test_a_name_in_the_first_column_is_never_cut_within_a_word(capsys):
    """A trial's regression check-data table at 80 columns printed "bottlene" over "ck" and
    "fine-tun" over "ing": the names now keep their words whole, the table printed without
    lines between its columns where that is what makes room."""
    from medadapt.cli.common import stdout

    columns = ["strategy", "params", "(i)", "(ii)", "(iii)", "(iv)", "needs", "enough?"]
    rows = [["head-only adapter", "64", "1,748", "933", "298", "77", "1,748 (i)", "no: 150"],
            ["bottleneck adapter", "8,576", "242,640", "124,877", "8,810", "8,578",
             "242,640 (i)", "no: 150"],
            ["full fine-tuning", "69,076", "≥1M", "≥1M", "69,310", "69,078", "≥1M (i)",
             "no: 150"]]  # fmt: skip
    width = stdout.width
    try:
        stdout.width = 80
        print_table("development", columns, rows)
        out = capsys.readouterr().out
    finally:
        stdout.width = width
    words = set(out.replace("│", " ").replace("┃", " ").split())
    assert {"bottleneck", "fine-tuning", "head-only", "enough?", "242,640"} <= words, out
    assert all(w in words for cells in rows for cell in cells for w in cell.split()), out
    for stdout.width in (72, 60):  # narrower: nothing cut off (folded, boxed, at worst)
        try:
            print_table("development", columns, rows)
            out = capsys.readouterr().out
        finally:
            stdout.width = width
        if not out.splitlines()[1].startswith("┏"):
            assert all(w in out.split() for cells in rows for cell in cells
                       for w in cell.split()), out  # fmt: skip
        else:
            assert all(line.rstrip()[-1] in "┓┃┩│┘" for line in out.splitlines()[1:]), out


def test_a_per_class_note_of_every_class_is_said_once_and_no_interval_folds(capsys):
    """A trial's four-class table repeated "the interval reaches 0.50: not shown to tell
    'normal' from the rest" in every row, folded over five lines each; with the note said
    once below, rich narrowed the sensitivity column instead and folded its interval
    ("(0.025–0.556" over ")") at 80 columns, every border closed."""
    from medadapt.cli.common import stdout
    from medadapt.cli.printing import print_per_class

    def row(name: str, note: str) -> dict:
        return {"class": name, "n": 10, "auroc": 0.53, "auroc_ci": [0.332, 0.739],
                "sensitivity": 0.2, "sensitivity_ci": [0.025, 0.556], "precision": 0.25,
                "precision_ci": [0.032, 0.651], "note": note}  # fmt: skip

    chance = "the interval reaches 0.50: not shown to tell {!r} from the rest"
    rows = [row(c, chance.format(c)) for c in ("normal", "pneumonia", "other")]
    rows.append(row("covid", "only 'covid' here"))
    width = stdout.width
    try:
        stdout.width = 80
        print_per_class(rows, "images")
    finally:
        stdout.width = width
    out = capsys.readouterr().out
    assert out.count("(0.025–0.556)") == 4 and out.count("(0.332–0.739)") == 4, out
    assert out.count("[1]") == 4  # three rows and the note under the table
    assert out.splitlines()[-1] == (
        "[1] the interval reaches 0.50: not shown to tell this class from the rest"
    )
    assert "'normal'" not in out.split("[1]")[-1]


def test_a_class_absent_at_the_site_is_named_by_check_data():
    """check-data's reason no criterion applies named a class by its index ("class 1")."""
    import numpy as np

    from medadapt.evaluate.samplesize_outcomes import outcome_of

    labels = np.array([0, 2] * 20)
    why = outcome_of("multiclass", labels, classes=["normal", "mass", "nodule"])
    assert why == "class 'mass' has no samples here (the criteria need every class)"
    assert outcome_of("multiclass", labels).startswith("class 1 has no samples here")


def test_adapting_every_block_says_only_the_patch_embeddings_are_cached():
    """--top-blocks equal to the depth said "cached frozen features of blocks 0--1"."""
    from medadapt.workflows.reports import cache_sentence

    cache = {"split_block": 0, "tokens_mib": 1.5, "seconds": 0.4}
    assert cache_sentence(cache, 2) == (
        "adapters in top 2 blocks: trained on cached patch embeddings (every block is adapted) "
        "(1.5 MiB, computed once in 0.4 s)"
    )
    assert cache_sentence({**cache, "split_block": 3}, 1).startswith(
        "adapters in top 1 block: trained on cached frozen features of blocks 0-2 ("
    )


def test_the_base_summary_names_the_sizes_backbone_options_changed():
    """--backbone-options depth=2 built another model than the name alone says."""
    from medadapt.cli.verbs import backbone_name

    summary = {"backbone": "timm:vit_tiny_patch16_224",
               "architecture": {"kwargs": {"depth": 2, "embed_dim": 48}}}  # fmt: skip
    assert backbone_name(summary) == "timm:vit_tiny_patch16_224 (depth=2, embed_dim=48)"
    assert backbone_name({"backbone": "timm:x", "architecture": {}}) == "timm:x"


def test_a_table_two_characters_too_wide_drops_its_edge_padding_before_splitting_intervals():
    """The demo's strategy table at 80 columns printed "(0.46–0.70" over ")"."""
    from medadapt.cli.common import print_table, stdout

    columns = ["strategy", "n train", "AUROC (95% CI)", "accuracy", "balanced acc.",
               "trainable params"]  # fmt: skip
    rows = [["base model without adapter", "0", "0.66 (0.53–0.79)", "0.68 (0.56–0.78)",
             "0.58 (0.46–0.70)", "0"], ["full fine-tuning", "120", "0.65 (0.52–0.78)",
             "0.75 (0.64–0.84)", "0.58 (0.49–0.68)", "70741"]]  # fmt: skip
    width = stdout.width
    stdout.width = 80
    try:
        with stdout.capture() as captured:
            print_table("VA Long Beach: held-out test patients", columns, rows)
    finally:
        stdout.width = width
    lines = captured.get().splitlines()[1:]
    assert all(len(line) <= 80 and line[-1] in "┓┃┩│┘" for line in lines)
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("┡")) :]
    assert all(line.count("(") == line.count(")") for line in body)  # intervals whole
    assert "(0.46–0.70)" in captured.get()


def test_a_base_whose_auroc_is_not_reported_is_shown_by_its_accuracy_beside_the_reason(capsys):
    """Five grades, one of 3 patients: AUROC is withheld for both models, so the base model's
    line shows what was measured (accuracy, with its count), not "AUROC n/a"; the next line
    says why the two cannot be compared."""
    from medadapt.cli.printing import print_versus_base

    before = {"auroc": None, "auroc_ci": None, "accuracy": 19 / 59,
              "accuracy_ci": [0.206, 0.456], "n": 59,
              "notes": {"auroc": "not reported: 3 patients of class '4' among 59"}}  # fmt: skip
    withheld = {"metric": "auroc", "difference": None, "ci": None, "verdict": "not estimable",
                "in_words": "The adapter and the base model cannot be compared on AUROC (not "
                "reported: 3 patients of class '4' among 59)."}  # fmt: skip
    print_versus_base(before, withheld, "multiclass", "59 rows")
    first, *rest = capsys.readouterr().out.splitlines()
    assert first == "base model alone on the same 59 rows: accuracy 0.322 (0.206–0.456); 19 of 59"
    assert " ".join(" ".join(rest).split()) == withheld["in_words"]  # folded to the width


def test_a_warning_line_is_said_once_per_command(capsys):
    """The demo scores one site's rows once per strategy: the same note (a column empty in
    every row there) was printed 18 times; each distinct line is said once per command."""
    from medadapt.cli import main as cli_main

    cli_main._SAID.clear()
    for text in ["column 'ca' is empty", "column 'ca' is empty", "column 'chol' is empty"]:
        cli_main._one_line_warning(UserWarning(text), UserWarning, __file__, 1)
    assert capsys.readouterr().err.splitlines() == [
        "warning: column 'ca' is empty",
        "warning: column 'chol' is empty",
    ]


def test_the_card_counts_the_sample_size_as_adapt_counted_it():
    """A trial's adapt said "would need 71,642 patients" (an id column names them), its
    registry show "71,642 rows"."""
    from medadapt.registry.summary_words import sample_size_rows
    from medadapt.workflows.sample_size import sample_size_line

    entry = {"source": "Riley et al. BMJ 2020", "parameters": 313, "n_needed": 71642,
             "criterion": "i", "n_train": 53,
             "met": False, "test_needs": {}, "counted": "patients"}  # fmt: skip
    row = dict(sample_size_rows(entry, "rows"))["sample size"]
    assert row.startswith("its 313 parameters would need 71,642 patients (criterion i); "
                          "53 patients trained it: not met")  # fmt: skip
    assert "would need 71,642 patients (criterion i); 53 patients trained it" in sample_size_line(
        entry, "rows")  # fmt: skip
    without = {k: v for k, v in entry.items() if k != "counted"}  # recorded before: as it was
    assert "would need 71,642 rows (criterion i); 53 rows" in dict(
        sample_size_rows(without, "rows"))["sample size"]  # fmt: skip


def test_the_base_alone_s_own_warnings_follow_its_figure():
    """A radiology trial's base, 0.015 for every image of a darker site and none of its 12
    nodules found, read "base model alone on the same 24 images: AUROC 1.000 (0.832-1.000)"
    with no warning, beside the adapter's "no difference can be shown". Its own warnings now
    follow the figure, "too good to be true" left to the flat probabilities' note."""
    from medadapt.cli.printing import base_alone_warnings

    notes = {"one_class": "every image is called class 'normal' at threshold 0.5",
             "flat_scores": "the model gives nearly the same probability to every image",
             "too_good": "AUROC 1.000 from probabilities that barely differ",
             "ece": "no interval"}  # fmt: skip
    assert base_alone_warnings({"auroc": 1.0, "notes": notes}, "24 images") == [
        "the base model alone on the same 24 images: every image is called class 'normal' at "
        "threshold 0.5",
        "the base model alone on the same 24 images: the model gives nearly the same "
        "probability to every image",
    ]
    too_good = {"too_good": "AUROC 1.000: too good to be true"}  # not flat: said
    assert base_alone_warnings({"notes": too_good}, "60 rows") == [
        "the base model alone on the same 60 rows: AUROC 1.000: too good to be true"
    ]
    assert base_alone_warnings({"auroc": 0.8}, "60 rows") == []
    # ranked backwards: the swapped-labels warning under the figure says it, not again
    backwards = {"auroc": 0.27, "auroc_ci": [0.135, 0.48], "notes": {"backwards": "ranks ..."}}
    assert base_alone_warnings(backwards, "60 rows") == []
