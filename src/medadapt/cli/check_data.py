"""``medadapt check-data``: is there enough data to adapt and check this model here? The
sample-size criteria of Riley et al., before any adapting (exit 0 even when data are short)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from medadapt import checks
from medadapt.cli import inputs
from medadapt.cli.common import noted, print_table, stdout, warn, write_outputs
from medadapt.cli.main import app
from medadapt.cli.options import Shared, build_command, options_for
from medadapt.cli.printing import print_reading, print_skipped, print_unread
from medadapt.cli.verbs import BASE_GROUP_COLUMN, DATA, LABEL, _dumps, base_group_column, probes
from medadapt.fileio import check_json_file
from medadapt.results import ADAPTED_READING_SENTENCE, MILLION, needed_text, r2_text
from medadapt.workflows.labels import label

CHECK = [
    DATA,
    Shared("base", Path, ..., "The base model to adapt (train-base --out).", ("--base",)),
    replace(
        LABEL,
        help="Label column: a table's is the base's own (default; given, it is "
        "checked against the base's), an image CSV's names its labels (default 'label').",
    ),
    BASE_GROUP_COLUMN,
    Shared("group", str | None, None, "The target group (default: every row of --data)."),
    Shared("test_fraction", float, 0.3, "Share of the target's patients to be held out."),
    Shared("json_out", Path | None, None, "Also write the figures as JSON.", ("--json",)),
    Shared("force", bool, False, "Replace an existing --json.", ("--force",)),
]
CAVEAT = f"{ADAPTED_READING_SENTENCE}: 'medadapt study' shows what the data support."
"""The statement every sample-size output makes once (:data:`~medadapt.results.ADAPTED_READING`),
with where to see what the data support."""


def _check_data(**values: Any) -> None:
    inputs.require_data(values["data"])
    checks.fraction(values["test_fraction"], "--test-fraction")
    inputs.check_outputs({"--json": values["json_out"]},
                         {"--data": values["data"], "--base": values["base"]})  # fmt: skip
    check_json_file(values["json_out"], force=values["force"])
    modality = inputs.modality_of_base(values["base"], values["data"], probes(values))
    base_group_column(values, values["base"])
    options = options_for("check-data", modality, values, values["data"])
    options.check("check-data", data=values["data"])
    from medadapt.workflows.sample_size import check_sample_size

    result = check_sample_size(values["base"], values["data"],
                               group_column=values["group_column"], group=values["group"],
                               test_fraction=values["test_fraction"],
                               options=options, label=values["label"])  # fmt: skip
    print_skipped(result, values["data"])  # --on-error skip: the files left out, if any
    print_reading(result)  # as train-base says it
    if values["group_column"] and not values["group"]:  # a trial's was read as one site's
        noted(f"--group-column {values['group_column']} without --group: these figures count "
              "every row of --data, all its groups together; pass --group NAME for one "
              "site's")  # fmt: skip
    for note in result["warnings"]:
        warn(note)
    print_unread(result.get("unread_columns") or [], result.get("unread_copies"))
    if result["adapt_refuses"]:
        warn(f"adapt will refuse these data: {result['adapt_refuses']}")
    if not result["applies"]:
        warn(f"the sample-size criteria do not apply: {result['why']}")  # not a plain line
    else:
        _print(result, values, keeps_base_test=modality.base_test_stays_clean)
    if values["json_out"] is not None:
        write_outputs([(values["json_out"], _dumps(result))])


LEGEND = {  # the criteria in plain words first (a trial: jargon a clinician cannot act on)
    "binary": "(i) predictions that need shrinking by at most 10% toward the average (expected "
    "shrinkage >= 0.9); (ii) a fit on these patients that overstates the fit on new ones by at "
    "most 0.05 (optimism in Nagelkerke R-squared); (iii) the overall risk estimated within "
    "+-0.05",
    "multiclass": "(i) predictions that need shrinking by at most 10% in every pair of classes "
    "(expected shrinkage >= 0.9); (ii) a fit on these patients that overstates the fit on new "
    "ones by at most 0.05 (optimism in Nagelkerke R-squared); (iii) every class's proportion "
    "estimated within +-0.05",
    "regression": "(i) predictions that need shrinking by at most 10% toward the average "
    "(expected shrinkage >= 0.9); (ii) a fit on these patients that overstates the fit on new "
    "ones by at most 0.05 (optimism in R-squared); (iii) the residual SD estimated within 10%",
}
MEAN_LEGEND = "; (iv) mean outcome within 10%"
"""A continuous outcome's criterion (iv), in the legend where it is applied (it is not where
the outcome's values lie on both sides of 0 and its mean within one SD of 0, and a note says
why)."""


def terms_line(task: str, r2_label: str) -> str:
    """The terms the tables use, in a clinician's words, as the study report explains them (a
    trial: "Cox-Snell" and "C-statistic" unexplained in the terminal, and the C-statistic
    not said to be the AUROC that evaluate reports).

    >>> terms_line("regression", "R-squared")
    "terms: R-squared, the share of the outcome's variation a model explains"
    """
    if "Cox-Snell" not in r2_label:
        return "terms: R-squared, the share of the outcome's variation a model explains"
    said = (
        "terms: Cox-Snell R-squared, how much of the outcome a model explains (for an outcome "
        "of classes its maximum is below 1, set by how common each class is)"
    )
    return said + ("; C-statistic, another name for the AUROC" if task == "binary" else "")


def legend(task: str, names: list[str]) -> str:
    """The criteria's legend for ``task``, for the criteria ``names`` the table shows."""
    return LEGEND[task] + (MEAN_LEGEND if task == "regression" and "iv" in names else "")


def _print(result: dict[str, Any], values: dict[str, Any], *, keeps_base_test: bool) -> None:
    from medadapt.workflows.sample_size import (
        counted_text,
        criteria_count,
        uncertain_prevalence_line,
    )

    where = f"{values['group_column']} = {values['group']}" if values["group"] else "--data"
    noun = result["noun"]
    seen = result["n_base_trained"]
    trained = (f"the base model trained on {seen} of them, so tests come only from the others; "
               if seen else "")  # fmt: skip
    n_train, n_test = criteria_count(result, "n_train"), criteria_count(result, "n_test")
    stdout.print(
        f"{counted_text(result, 'n', noun, grouped=False)} of {where} ({result['outcome']}"
        f"{'; ' + result['as_patients'] if result.get('as_patients') else ''}): "
        f"{trained}{counted_text(result, 'n_train', grouped=False)} to adapt on, "
        f"{counted_text(result, 'n_test', grouped=False)} to test it"
        f"{for_neither(result, keeps_base_test=keeps_base_test)}, as adapt would split them "
        f"(--test-fraction {values['test_fraction']:g}); anticipated {result['r2_label']} "
        f"{r2_text(result['r2'])}, {result['r2_source']}"
    )
    if result["no_test"]:
        warn(result["no_test"])
    if result.get("missing"):
        stdout.print(missing_line(result["missing"]), markup=False, highlight=False)
    # the verdict before the tables it sums up (a trial: "the 'In short' paragraphs are good
    # and should come first")
    stdout.print("In short: " + " ".join(result["in_short"]), markup=False, highlight=False)
    names = [c["name"] for c in next(iter(result["development"].values()))["criteria"]]
    rows = []
    for strategy, entry in result["development"].items():
        by = {c["name"]: c["n"] for c in entry["criteria"]}
        rows.append([label(strategy), entry["parameters"],
                     *(_needed_cell(by[name]) for name in names),
                     f"{_needed_cell(entry['n'])} ({entry['binding']})",
                     "yes" if entry["met"] else f"no: {n_train}"])  # fmt: skip
    print_table(f"development: minimum {noun} to adapt (criteria {names[0]}-{names[-1]}; "
                "params: those trained, intercepts aside)",
                ["strategy", "params", *(f"({n})" for n in names), "needs", "enough?"],
                rows)  # fmt: skip
    uncertain = uncertain_prevalence_line(result)
    if uncertain:
        stdout.print(f"note: {uncertain}", markup=False, highlight=False)
    _print_validation(result, n_test)
    stdout.print(legend(result["task"], names))
    stdout.print(terms_line(result["task"], result["r2_label"]), markup=False, highlight=False)
    for note in result.get("criteria_notes", []):
        stdout.print(f"note: {note}")
    if result.get("unit_note"):
        stdout.print(f"note: {result['unit_note']}")
    from medadapt.evaluate.metrics import MIN_PATIENTS  # study needs as many to test

    stdout.print(CAVEAT if n_test >= MIN_PATIENTS else f"{ADAPTED_READING_SENTENCE}.")
    stdout.print(f"source: {result['source']}")


def missing_line(missing: dict[str, float], shown: int = 8) -> str:
    """The model's inputs without a value at the site, the largest shares first.

    >>> missing_line({"ca": 0.664, "thal": 0.525, "chol": 0.005})
    "missing values, share of these rows (read as 'not measured', never imputed): 'ca' 66%, \
'thal' 52%, 'chol' 0.5%"
    """

    def share(value: float) -> str:
        return f"{value:.0%}" if value >= 0.01 else f"{value:.1%}"

    items = list(missing.items())
    said = ", ".join(f"{name!r} {share(value)}" for name, value in items[:shown])
    more = f", and {len(items) - shown} more (--json)" if len(items) > shown else ""
    return (f"missing values, share of these rows (read as 'not measured', never imputed): "
            f"{said}{more}")  # fmt: skip


KEPT_OUT = "in the base model's test split, kept out of an adapter's training"
COPIES = "identical to a training {unit}, left out of the test"


def for_neither(result: dict[str, Any], *, keeps_base_test: bool) -> str:
    """``", 2 images used for neither (...)"``: the samples of the count that adapt would
    neither train nor test on, and why (``keeps_base_test``: the modality keeps the base's
    test samples out of training; ``result["n_kept_out"]`` counts those), so
    that the numbers add up to the count; empty when there are none.

    >>> for_neither({"n": 16, "n_train": 12, "n_test": 3, "noun": "rows"},
    ...             keeps_base_test=False)
    ', 1 row used for neither (1 identical to a training row, left out of the test)'
    >>> for_neither({"n": 16, "n_train": 12, "n_test": 1, "noun": "images", "n_kept_out": 2},
    ...             keeps_base_test=True)  # doctest: +NORMALIZE_WHITESPACE
    ", 3 images used for neither (2 in the base model's test split, kept out of an adapter's
    training; 1 identical to a training image, left out of the test)"
    """
    left = result["n"] - result["n_train"] - result["n_test"]
    if left <= 0:
        return ""
    units = result.get("unit") or result["noun"]  # the samples, where patients are counted
    unit = units.removesuffix("s")
    copies = COPIES.format(unit=unit)
    kept = result.get("n_kept_out", 0) if keeps_base_test else 0
    why = "; ".join(f"{n} {words}" for n, words in ((kept, KEPT_OUT), (left - kept, copies))
                    if n)  # fmt: skip
    return f", {left} {unit if left == 1 else units} used for neither ({why})"


def _needed_cell(n: int) -> str:
    """A criterion's number in a table cell: a million or more is no realistic sample, and
    its digits would read as precision (the line under the table says why)."""
    return "≥1M" if n >= MILLION else f"{n:,}"


def _print_validation(result: dict[str, Any], n_test: int) -> None:
    """The validation table; ``n_test``: the test patients the criteria are compared with."""
    checked = result["validation"]
    if not checked["criteria"]:
        stdout.print(f"validation at this site: not computed: {checked['why']}")
        return
    # events needed, up as the patients are (a trial: 120.5 in --json printed 120)
    rows = [[c["description"], needed_text(c["n"]), needed_text(math.ceil(c["events"])),
             _supported_cell(c, n_test)] for c in checked["criteria"]]  # fmt: skip
    print_table(f"validation at this site: test {result['noun']} for precise estimates",
                ["estimate", "needs", "events", "supported?"], rows)  # fmt: skip
    source = checked.get("c_statistic_from") or "the lower of the base model's AUROC on its "
    source += "" if checked.get("c_statistic_from") else "source and at this site"
    assumed = ASSUMES.format(c=checked["c_statistic"], p=result["prevalence"], source=source)
    stdout.print(f"{assumed}; {EVENTS_ARE.format(noun=result['noun'])}")
    for key in ("c_statistic_clipped", "not_reported"):
        if checked.get(key):
            said = checked[key]
            if key == "not_reported":
                said = f"evaluate will not report the estimates marked 'not reported': {said}"
            stdout.print(f"note: {said}")


#: what the validation criteria assume, in a clinician's words: the distribution of the
#: log-odds it implies (Riley et al. 2021's consistency condition) is in --json, where a trial
#: read "log-odds Normal(1.250, 0.906)" and "pmvalsampsize's lpcstat" as jargon
ASSUMES = (
    "validation assumes a model of C-statistic (AUROC) {c:.3f} (from {source}) whose risks "
    "are right on average at the prevalence {p:.3f} (Riley et al. 2021; the spread of risks "
    "this implies: --json)"
)


#: what the validation table's events are: Riley et al. 2021's, the outcome's count (a study's
#: "events" elsewhere count the rarer class, Peduzzi's events per variable)
EVENTS_ARE = "events: test {noun} with the outcome (the positive class), at this prevalence"


def _supported_cell(criterion: dict[str, Any], n_test: int) -> str:
    """Whether the test patients support a precise estimate; "not reported" where evaluate
    will give no estimate at all on them."""
    unreported = ", not reported" if criterion.get("reported") is False else ""
    return f"yes{unreported}" if criterion["supported"] else f"no: {n_test}{unreported}"


build_command(
    app, "check-data", CHECK, _check_data,
    """How much data is enough? Riley et al.'s sample-size criteria, before any adapting.

    It reads the base model (--base, from train-base) and the new site's data, and trains
    nothing.

    For each adaptation strategy: the minimum patients to adapt (expected shrinkage >= 0.9,
    optimism in R-squared <= 0.05, overall risk within +-0.05; continuous outcomes: residual
    SD and mean within 10%, the mean's not where values of both signs centre near 0; more than
    two classes: Pate et al. 2023), and for the site's test set (binary outcomes) the patients
    needed for precise O/E, calibration slope and C-statistic, and which of them evaluate will
    not report at all on so few. Tables and images; exits 0 even when the data are short;
    --json writes the figures.

    Example: medadapt check-data --data heart.csv --base base/ --group-column dataset
    --group "VA Long Beach"
    """,
)  # fmt: skip
