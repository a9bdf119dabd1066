"""The models a federated run compares at each site (the shared adapter, the personalised one,
an adapter trained on the site's rows only, one trained on every site's rows pooled, the base
alone) and the figures shown for them: their names in a table, in a sentence and in the
legend, which figures a classifier's or a regression's sites send, and a site's held-out
patients; what the report, the terminal and the warnings share."""

from __future__ import annotations

import math
from typing import Any

from medadapt.evaluate.report.formatting import METRIC_LABELS
from medadapt.federated.config import PERSONAL_LABELS, personal_meaning

SHOWN = ("accuracy", "auroc", "balanced_accuracy")
SHOWN_MEASURED = ("mae", "rmse", "r2")  # a regression's sites send these instead
LABELS = {**METRIC_LABELS, "accuracy": "accuracy at 0.5"}  # FLamby's figure names its threshold
COLUMNS = (("federated", "shared"), ("personalised", "personalised"), ("local", "local"),
           ("pooled", "pooled"), ("base", "base"))  # fmt: skip


def columns(config: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """:data:`COLUMNS`, the personalised one named by how (``recalibrated``)."""
    how = PERSONAL_LABELS.get(config.get("personalise", "none"), "personalised")
    return tuple((key, how if key == "personalised" else label) for key, label in COLUMNS)


def shown_columns(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The :func:`columns` some site has figures for (no personalised one without
    ``--personalise``), in the terminal's and the report's tables alike."""
    return [(key, label) for key, label in columns(results["config"])
            if any(site.get(key) for site in results["sites"].values())]  # fmt: skip


MEANINGS = {"federated": "shared: the federated adapter",
            "local": "local: an adapter trained at the site on its own rows only",
            "pooled": "pooled: one trained on every site's rows (what sharing the data would "
                      "give)",
            "base": "base: no adapter"}  # fmt: skip


def legend(config: dict[str, Any], shown: list[str] | None = None, task: str | None = None) -> str:
    """What each compared model is, in one sentence (the terminal's and the report's);
    ``shown``: the columns a table has (a deployment's server has no local or pooled)."""
    shown = shown if shown is not None else [key for key, _label in COLUMNS]
    parts = [MEANINGS[key] for key in MEANINGS if key in shown]
    personalise = config.get("personalise", "none")
    if personalise in PERSONAL_LABELS and "personalised" in shown:
        parts.append(f"{PERSONAL_LABELS[personalise]}: {personal_meaning(personalise, task)}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


#: what each compared model is called in a sentence
NAMED = {"federated": "the shared adapter", "local": "the local-only adapter",
         "pooled": "the pooled adapter", "base": "the base alone"}  # fmt: skip


def named(key: str, config: dict[str, Any]) -> str:
    """``the local-only adapter``: column ``key`` in a sentence (the personalised one by how,
    ``the recalibrated adapter``)."""
    if key != "personalised":
        return NAMED[key]
    how = PERSONAL_LABELS.get(config.get("personalise", "none"), "personalised")
    return f"the {how.replace(' ', '-')} adapter"


def figure_label(metric: str, results: dict[str, Any] | None = None) -> str:
    """How the federated tables and lines name ``metric``: :data:`LABELS` (accuracy at 0.5,
    FLamby's figure, names its threshold), but a model of several classes' plain accuracy
    (it calls each patient its most likely class: no threshold of 0.5; a trial's 5-class
    run read "accuracy at 0.5")."""
    several = (results or {}).get("task") == "multiclass"
    if metric == "accuracy" and several:
        return METRIC_LABELS["accuracy"]
    if metric == "brier" and several:  # a trial read 1.173 on a binary score's 0-1 scale
        return "Brier score (summed over the classes: 0 to 2)"
    return LABELS.get(metric, metric)


def measured(results: dict[str, Any]) -> bool:
    """Whether the run's outcome is a measured value (a regression): its sites sent MAE, RMSE
    and R² (:data:`SHOWN_MEASURED`), not accuracy and AUROC."""
    return any(measured_at(site) for site in results["sites"].values())


def measured_at(site: dict[str, Any]) -> bool:
    """Whether ``site`` sent a measured outcome's figures (:func:`measured`)."""
    return "mae" in (site.get("federated") or {})


def shown_metrics(results: dict[str, Any]) -> tuple[str, ...]:
    """The figures the report has a table for, in order: a classifier's or a regression's."""
    return SHOWN_MEASURED if measured(results) else SHOWN


def scored_sites(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sites that scored models on held-out patients: the tables' rows. A site that did
    not take part (refused on joining) has none; a trial's tables gave it an ``n = 0`` row of
    dashes, while the line of patients per site and its warning already said why."""
    return {name: site for name, site in results["sites"].items() if site["n_test"]}


def test_patients(site: dict[str, Any]) -> int:
    """The site's held-out patients: its test rows, or fewer where an id column groups them
    (runs from before sites counted patients: the rows)."""
    patients = (site.get("federated") or {}).get("n_patients")
    return site["n_test"] if missing(patients) else int(patients)


def training_patients(site: dict[str, Any]) -> int:
    """The patients that trained the adapters at the site: ``n_train_patients`` where some of
    them have several rows, else its training rows (each its own patient)."""
    patients = site.get("n_train_patients")
    return site["n_train"] if missing(patients) else int(patients)


def missing(value: Any) -> bool:
    """Whether a site did not report a figure: None, or NaN where it is not defined."""
    return value is None or (isinstance(value, float) and math.isnan(value))
