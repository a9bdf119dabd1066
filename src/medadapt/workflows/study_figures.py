"""What a study's held-out test set is too small to show, said in the figures' place.

A trial's study held out 5 patients: no figure could be estimated, yet its report said "read
their intervals" (there were none), drew a calibration "curve" of a few patients and a ROC
panel without curves. Here each figure is drawn only from enough held-out samples; where it
is not, the report says what is missing and how to get it, and the terminal gives the same
test-set needs as the report.
"""

from __future__ import annotations

from typing import Any

from medadapt.evaluate.metrics import MIN_PATIENTS, MIN_PER_CLASS
from medadapt.evaluate.report.formatting import listed
from medadapt.evaluate.report.plots import CALIBRATION_PER_BIN
from medadapt.results import grouped
from medadapt.workflows.sample_size import estimate_name
from medadapt.workflows.study_summary import METRICS, study_noun

CALIBRATION_BINS = 5
CALIBRATION_MIN = CALIBRATION_BINS * CALIBRATION_PER_BIN
"""The fewest held-out samples a study's calibration plot is drawn from: its 5 quantile bins
of :data:`~medadapt.evaluate.report.plots.CALIBRATION_PER_BIN` each, as every report's, and
at least :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` with and without the outcome."""


def nothing_measured(study: dict[str, Any]) -> bool:
    """Whether no point of the study has any figure: its held-out test set was too small for
    every one."""
    points = study.get("points") or []
    names = METRICS.get(study.get("task") or "") or {m for ms in METRICS.values() for m in ms}
    return bool(points) and not any(
        p["metrics"].get(name) is not None for p in points for name in names
    )


def why_not(study: dict[str, Any], metric: str) -> str:
    """Why ``metric`` has no figure, from the points' notes: "the held-out test set has only 5
    patients (at least 10 needed)"."""
    for point in study.get("points") or []:
        if point["metrics"].get(metric) is not None:
            continue
        notes = point["metrics"].get("notes") or {}
        note = notes.get(metric) or notes.get("all")
        if note:
            said = str(note)
            if said.startswith("not reported: "):
                return f"the held-out test set has {said.removeprefix('not reported: ')}"
            return said
    return "the held-out test set is too small for it"


def more_data_sentence(study: dict[str, Any], needed: int, what: str) -> str:
    """How to get a held-out test set of ``needed`` samples (what ``what`` needs): a larger
    ``--test-fraction`` or more target samples; only the latter where the whole target group
    is smaller than that, however it is split."""
    data, noun = study["data"], study_noun(study)
    total = int(data.get("n_target_train") or 0) + int(data.get("n_target_test") or 0)
    if total < needed:
        return (f"The target group holds {total} {noun} in all, fewer than the {needed} {what} "
                f"needs however they are split: give more target {noun}.")  # fmt: skip
    fraction = (study.get("config") or {}).get("test_fraction")
    now = f" (now {fraction:g})" if isinstance(fraction, int | float) else ""
    return f"Raise --test-fraction{now}, or give more target {noun}."


def held_out_counts(study: dict[str, Any]) -> tuple[int, int | None]:
    """The held-out samples every point is scored on, and those with the outcome (binary)."""
    metrics = next((p["metrics"] for p in study.get("points") or [] if p.get("metrics")), {})
    n = metrics.get("n")
    n = int(n) if isinstance(n, int | float) else int(study["data"]["n_target_test"])
    positives = metrics.get("n_positive")
    return n, int(positives) if isinstance(positives, int | float) else None


def roc_missing(study: dict[str, Any], drawn: bool) -> str | None:
    """What the report says in the ROC curves' place where none is drawn (``drawn``: some
    point has one, with its AUROC estimated; then None)."""
    if drawn:
        return None
    return (
        f"No ROC curve, as AUROC could not be estimated: {why_not(study, 'auroc')}. A curve from "
        f"so few would mislead. {more_data_sentence(study, MIN_PATIENTS, 'any figure')}"
    )


def calibration_missing(study: dict[str, Any], drawn: bool) -> str | None:
    """What the report says in the calibration plot's place where its held-out samples are
    too few (fewer than :data:`CALIBRATION_MIN`, or fewer than 5 with or without the
    outcome), or no point has a curve (``drawn`` False); None where it is drawn."""
    n, positives = held_out_counts(study)
    noun = study_noun(study)
    few_of_one = positives is not None and min(positives, n - positives) < MIN_PER_CLASS
    if drawn and n >= CALIBRATION_MIN and not few_of_one:
        return None
    of_one = ""
    if few_of_one and positives is not None:
        fewer = [w for w, k in (("with", positives), ("without", n - positives))
                 if k < MIN_PER_CLASS]  # fmt: skip
        of_one = f", fewer than {MIN_PER_CLASS} of them {' and '.join(fewer)} the outcome"
    return (
        f"No calibration plot: it needs at least {CALIBRATION_MIN} held-out {noun} "
        f"({CALIBRATION_BINS} bins of {CALIBRATION_PER_BIN}), at least {MIN_PER_CLASS} of them "
        f"with the outcome and {MIN_PER_CLASS} without; this study holds out {n}{of_one}. A "
        f"plot from fewer shows a few {people(noun)}' outcomes, not how well the predicted "
        f"risks match. {more_data_sentence(study, CALIBRATION_MIN, 'a calibration plot')}"
    )


def people(noun: str) -> str:
    """Who a test set counts: patients for a table's rows, images for images."""
    return "patients" if noun == "rows" else noun


def with_patients(n: int, patients: int | None, noun: str) -> str:
    """``60``, or ``60 rows from 30 patients`` where patients have several (the criteria
    count patients)."""
    return f"{n:,}" if patients is None else f"{n:,} {noun} from {patients:,} patients"


def held_out_needs(study: dict[str, Any]) -> list[str]:
    """The held-out test patients each figure needs (Riley et al.'s external-validation
    criteria) against what the study holds out, and what that means: the report's paragraphs
    and the terminal's lines (empty where the criteria do not apply)."""
    entry = study.get("sample_size") or {}
    wanted = entry.get("test_needs") or {}
    if not wanted:
        return []
    noun = study_noun(study)
    needs = "; ".join(f"{k}: {grouped(v) if isinstance(v, int) else v}"
                      for k, v in wanted.items())  # fmt: skip
    sloped = any(k.split(" ")[0] == "slope" for k in wanted)  # "slope (assumed C 0.7)"
    widths = "0.2 (O/E, calibration slope)" if sloped else "0.2 (O/E)"
    tested = entry.get("n_test_patients") or entry["n_test"]  # the criteria count patients
    held = with_patients(entry["n_test"], entry.get("n_test_patients"), noun)
    lines = [f"Test patients for a 95% CI of width {widths} and 0.1 (C-statistic): {needs}; "
             f"this study holds out {held}."]  # fmt: skip
    short = [k for k, v in wanted.items() if isinstance(v, int | float) and tested < v]
    precise = listed(estimate_name(k) for k in short) if short else None
    if nothing_measured(study):
        lines.append(
            f"What this means: {why_not(study, 'all')}: too few for any figure, so this study "
            "reports no estimate and no interval to read"
            + (f", and a precise {precise} would need the numbers above" if precise else "")
            + f". {more_data_sentence(study, MIN_PATIENTS, 'any figure')}"
        )
    elif short:
        lines.append(
            f"What this means: {tested} held-out patients are fewer than needed for a precise "
            f"{precise}: read their intervals, not the single values."
        )
    return lines
