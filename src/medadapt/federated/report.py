"""The federated run's HTML report (the style of medadapt's other reports): what each site
gets from the federated adapter, beside the base alone, an adapter trained on its own rows
only, and one trained on every site's rows pooled; per-round curves per site; what crossed
the network."""

from __future__ import annotations

import math
from typing import Any

from matplotlib import pyplot as plt

from medadapt.evaluate.difference import Difference
from medadapt.evaluate.ignored_classes import accuracy_caveat
from medadapt.evaluate.metrics import (
    LOWER_IS_BETTER,
    MIN_PATIENTS,
    MIN_PER_CLASS,
    TOO_GOOD,
    too_good_note,
)
from medadapt.evaluate.report.formatting import (
    METRIC_LABELS,
    fmt,
    fmt_ci,
    listed,
    metric_digits,
)
from medadapt.evaluate.report.html import Report
from medadapt.federated.config import PERSONAL_LABELS, PERSONAL_MEANINGS

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


def legend(config: dict[str, Any], shown: list[str] | None = None) -> str:
    """What each compared model is, in one sentence (the terminal's and the report's);
    ``shown``: the columns a table has (a deployment's server has no local or pooled)."""
    shown = shown if shown is not None else [key for key, _label in COLUMNS]
    parts = [MEANINGS[key] for key in MEANINGS if key in shown]
    personalise = config.get("personalise", "none")
    if personalise in PERSONAL_LABELS and "personalised" in shown:
        parts.append(f"{PERSONAL_LABELS[personalise]}: {PERSONAL_MEANINGS[personalise]}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def measured(results: dict[str, Any]) -> bool:
    """Whether the run's outcome is a measured value (a regression): its sites sent MAE, RMSE
    and R² (:data:`SHOWN_MEASURED`), not accuracy and AUROC."""
    return any(_measured_at(site) for site in results["sites"].values())


def _measured_at(site: dict[str, Any]) -> bool:
    return "mae" in (site.get("federated") or {})


def shown_metrics(results: dict[str, Any]) -> tuple[str, ...]:
    """The figures the report has a table for, in order: a classifier's or a regression's."""
    return SHOWN_MEASURED if measured(results) else SHOWN


def _title(results: dict[str, Any]) -> str:
    """The report's title; one that does not call an adapter trained at one site federated."""
    method = results["config"]["method"]
    trained = results.get("sites_trained")  # absent from runs before sites were counted
    if trained is not None and len(trained) < 2:
        return f"A {method} adapter trained at {trained[0] if trained else 'no site'} alone"
    taking_part = [n for n, s in results["sites"].items() if s["n_test"]]
    return f"Federated {method} adapter over {len(taking_part)} sites"


def federated_report(results: dict[str, Any]) -> Report:
    config = results["config"]
    report = Report(
        title=_title(results),
        subtitle=f"{config['strategy']}, {config['rounds']} rounds of {config['local_epochs']} "
        f"local epoch(s); only adapter weights, counts and metrics left the sites",
    )
    shown = [key for key, _label in shown_columns(results)]
    report.summary(verdict_lines(results) + summary_lines(results) + [legend(config, shown)]
                   + kept_lines(results))  # fmt: skip
    if results["failures"]:
        report.warnings(failure_lines(results["failures"], config["rounds"]))
    if results.get("site_notes"):  # a site that trained on one outcome
        report.warnings(results["site_notes"])
    for metric in shown_metrics(results):
        lower = " (lower is better)" if metric in LOWER_IS_BETTER else ""
        report.section(f"Per site: {LABELS[metric]}{lower}")
        report.table(*site_table(results, metric))
    report.section("Per round")
    panels = ROUND_PANELS[measured(results)]
    report.figure(round_figure(results["rounds"], config["sites"], panels),
                  caption=f"Each site's {LABELS[panels[0]]} and {LABELS[panels[1]]} on its own "
                  "held-out patients after each round (no intervals: the final round's are in "
                  "the tables).")  # fmt: skip
    report.section("What crossed the network", bytes_text(results["bytes"]))
    return report


def kept_lines(results: dict[str, Any]) -> list[str]:
    """Where each site's personalised adapter was saved (a simulation's folder)."""
    kept = results.get("kept") or {}
    if not kept:
        return []
    how = PERSONAL_LABELS.get(results["config"]["personalise"], "personalised")
    where = "; ".join(f"{site}: {folder}/" for site, folder in kept.items())
    return [f"Each site's {how} adapter is saved beside this report ({where}); use it with "
            "--adapter like any adapter, at that site."]  # fmt: skip


def failure_lines(failures: list[dict[str, Any]], rounds: int) -> list[str]:
    """One line per site that failed (its first failure), naming the round."""
    first: dict[str, dict[str, Any]] = {}
    for failure in failures:
        first.setdefault(failure["error"].split(":", 1)[0], failure)
    lines = []
    for failure in first.values():
        when = "the final round" if failure["round"] > rounds else f"round {failure['round']}"
        lines.append(f"{when}: {failure['error']} (this site did not take part)")
    return lines


def summary_lines(results: dict[str, Any]) -> list[str]:
    average, config = results["average"], results["config"]
    regression = measured(results)
    averaged = SHOWN_MEASURED if regression else ("accuracy", "auroc")
    lines = []
    for key, label in columns(config):
        mean = average.get(key, {})
        if mean.get(averaged[0]) is None:
            continue
        said = [f"mean {METRIC_LABELS[m]} {fmt(mean.get(m), metric_digits(m, mean.get(m)))} "
                f"over {mean.get(f'{m}_sites', 0)} sites" for m in averaged]  # fmt: skip
        lines.append(f"{label.capitalize()}: {'; '.join(said)}.")
    if not regression:  # a measured outcome has no AUROC anywhere: nothing to explain
        lines += [no_auroc_line(name, site) for name, site in results["sites"].items()
                  if site["n_test"] and _missing(site["federated"].get("auroc"))]  # fmt: skip
    share = results["bytes"].get("share_of_full_model")
    if share is not None:
        lines.append(f"Each round sent each site {share:.1%} of what full-model FedAvg sends.")
    if config.get("noise_multiplier"):
        lines.append(
            f"Differential privacy: updates clipped to norm {config['clipping_norm']}, Gaussian "
            f"noise multiplier {config['noise_multiplier']} (Flower's server-side fixed "
            "clipping); compare with a run without it to see the cost in accuracy."
        )
    how = ("a bootstrap over patients" if regression else "exact binomial for accuracy, "
           "sensitivity and specificity, for AUROC the wider of a bootstrap and Newcombe's "
           "score interval, a bootstrap for the others")  # fmt: skip
    lines.append(
        f"Brackets are 95% intervals over each site's held-out patients ({how}); averages are "
        "unweighted means over sites (FLamby's convention). Pooled is what sharing the data "
        "would give: a federation cannot train it."
    )
    return lines


def no_auroc_line(name: str, site: dict[str, Any]) -> str:
    """Why a site has no AUROC: too few held-out patients for any figure, one outcome only,
    or too few patients of the rarer one; for a measured outcome (a regression, which has no
    AUROC or accuracy), the figures it has instead (:func:`measured_line`)."""
    n, positive = site["federated"].get("n"), site["federated"].get("n_positive")
    if not _missing(n) and n < MIN_PATIENTS:
        return (f"No figures at {name}: only {int(n)} held-out patients, too few for any "
                f"(medadapt reports none below {MIN_PATIENTS}).")  # fmt: skip
    if _measured_at(site):
        return measured_line(name, site)
    if _missing(n) or _missing(positive):
        why = "too few patients of one outcome among its held-out patients"
    elif positive in (0, n):
        why = "all its held-out patients have the same outcome"
    else:
        rarer = min(int(positive), int(n - positive))
        kind = "without" if positive > n - positive else "with"
        why = (f"only {rarer} of its {int(n)} held-out patients are {kind} the outcome, too "
               f"few for an AUROC (medadapt reports none below {MIN_PER_CLASS})")  # fmt: skip
    return f"No AUROC at {name}: {why}; accuracy is reported there."


def measured_line(name: str, site: dict[str, Any]) -> str:
    """A regression site's MAE, RMSE and R² for each model compared there, in one line (the
    terminal's, where the table has a classifier's columns): ``At South, on its 44 held-out
    patients: MAE shared 48.9, ..., base 55.1 (lower is better); ...``."""
    compared = [(key, label) for key, label in COLUMNS if site.get(key)]
    said = []
    for metric in SHOWN_MEASURED:
        values = [(label, site[key].get(metric)) for key, label in compared]
        figures = ", ".join(f"{label} {_figure(metric, value)}" for label, value in values)
        way = "lower" if metric in LOWER_IS_BETTER else "higher"
        said.append(f"{METRIC_LABELS[metric]} {figures} ({way} is better)")
    return f"At {name}, on its {test_patients(site)} held-out patients: {'; '.join(said)}."


def _figure(metric: str, value: Any) -> str:
    """A figure as the tables print it (an error in the label's unit: three significant
    figures); n/a where it was not reported."""
    return "n/a" if _missing(value) else fmt(float(value), metric_digits(metric, value))


def site_table(results: dict[str, Any], metric: str) -> tuple[list[str], list[list[str]]]:
    shown = shown_columns(results)
    header = ["site", "test patients"] + [label for _key, label in shown]
    rows = []
    for name, site in results["sites"].items():
        row = [name, str(test_patients(site))]
        for key, _label in shown:
            values = site.get(key) or {}
            low, high = values.get(f"{metric}_low"), values.get(f"{metric}_high")
            interval = None if _missing(low) or _missing(high) else (low, high)
            value = values.get(metric)
            digits = metric_digits(metric, value)  # MAE 48.9, not 48.912
            row.append("n/a" if _missing(value) else fmt_ci(value, interval, digits))
        rows.append(row)
    return header, rows


def test_patients(site: dict[str, Any]) -> int:
    """The site's held-out patients: its test rows, or fewer where an id column groups them
    (runs from before sites counted patients: the rows)."""
    patients = (site.get("federated") or {}).get("n_patients")
    return site["n_test"] if _missing(patients) else int(patients)


#: the per-round panels: a classifier's (False) and a regression's (True)
ROUND_PANELS = {False: ("auroc", "accuracy"), True: ("mae", "r2")}


def round_figure(rounds: list[dict[str, Any]], sites: list[str],
                 metrics: tuple[str, str] = ROUND_PANELS[False]):  # fmt: skip
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    colours = {site: f"C{i}" for i, site in enumerate(sites)}  # a site keeps its colour
    for ax, metric in zip(axes, metrics, strict=True):
        for site in sites:
            points = [(e["round"], e.get(metric)) for e in rounds if e["site"] == site]
            points = [(r, v) for r, v in points if not _missing(v)]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=site, color=colours[site])
        ax.set_xlabel("round")
        ax.set_ylabel(LABELS[metric])
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
        else:  # matplotlib would warn of an empty legend, in the user's terminal
            ax.text(0.5, 0.5, "no site has enough held-out\npatients for it", ha="center",
                    va="center", transform=ax.transAxes, color="0.4")  # fmt: skip
    fig.tight_layout()
    return fig


def bytes_text(sizes: dict[str, Any]) -> str:
    share = sizes.get("share_of_full_model")
    return (
        f"Per training round, each site received {sizes['adapter_to_site']:,.0f} bytes of adapter "
        f"weights and sent back {sizes['adapter_from_site']:,.0f} ({sizes['dtype']}, counted by "
        f"Flower); full-model FedAvg on the same base would send {sizes['full_model_fedavg']:,} "
        f"bytes each way ({'' if share is None else f'{share:.1%}; '}records on the wire: "
        f"{', '.join(sizes['record_keys'])})."
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def verdict_lines(results: dict[str, Any]) -> list[str]:
    """In plain words, per site: the federated adapter against the base alone, paired on the
    same held-out patients (computed at the site: only the difference and its 95% interval
    were sent), and where the data cannot tell them apart; first, the warnings about the whole
    run (:func:`warning_lines`)."""
    lines = warning_lines(results)
    for name, site in results["sites"].items():
        line = paired_line(name, site) if site["n_test"] else None
        if line:
            lines.append(line)
    small = [f"{n} ({s['n_test']} of {s['n_train'] + s['n_test']})"
             for n, s in results["sites"].items()
             if s["n_test"] and s["n_test"] < 0.2 * (s["n_train"] + s["n_test"])]  # fmt: skip
    if small:
        lines.append("Few test patients at " + ", ".join(small) + ": a site's test patients "
                     "come only from patients the base model never trained on.")  # fmt: skip
    return lines + no_information_lines(results)


def warning_lines(results: dict[str, Any]) -> list[str]:
    """``Warning: ...`` lines, each once: fewer than two sites trained the shared adapter
    (``federated.json``'s ``notes``), and each site's figures too good to be true."""
    notes = results.get("notes") or {}
    lines = [f"Warning: {notes[ONE_SITE]}."] if notes.get(ONE_SITE) else []
    return lines + too_good_lines(results)


ONE_SITE = "one_site"  # the note's key in federated.json


def one_site_note(sites: list[str], trained: list[str]) -> str | None:
    """What a run trained by fewer than two of its ``sites`` is (``trained``: the sites that
    trained the shared adapter in every round): not a federated adapter. None otherwise."""
    if len(trained) >= 2:
        return None
    dropped = listed([site for site in sites if site not in trained])
    if not trained:
        return (f"no site trained the shared adapter in every round ({dropped} dropped out): "
                "it is not a federated adapter")  # fmt: skip
    return (f"only {trained[0]} trained the shared adapter ({dropped} dropped out): it is an "
            f"adapter trained at one site, not a federated one; compare it with the local-only "
            f"adapter at {trained[0]}")  # fmt: skip


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


def site_notes(site: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each compared model's warnings about its figures at ``site``, by column, as
    ``federated.json`` keeps them: ``too_good`` (``evaluate``'s rule,
    :func:`~medadapt.evaluate.metrics.too_good_note`) and ``no_information`` (its accuracy no
    better than calling every patient the commoner outcome)."""
    out: dict[str, dict[str, str]] = {}
    for key, _label in COLUMNS:
        values = site.get(key) or {}
        notes = {}
        if note := _too_good(values):
            notes["too_good"] = note
        if found := _no_information(values):
            accuracy, rate, common = found
            notes["no_information"] = (
                f"accuracy {accuracy:.3f} is no better than calling every patient {common} "
                f"({rate:.3f}, the no-information rate)"
            )
        if notes:
            out[key] = notes
    return out


def _too_good(values: dict[str, Any]) -> str | None:
    """:func:`~medadapt.evaluate.metrics.too_good_note` of one model's figures at a site."""
    figures = {m: float(values[m]) for m in ("auroc", "accuracy", "r2")
               if not _missing(values.get(m))}  # fmt: skip
    patients = values.get("n_patients", values.get("n"))
    figures["n"] = 0 if _missing(patients) else int(patients)
    return too_good_note(figures)


def too_good_lines(results: dict[str, Any]) -> list[str]:
    """A warning for each site where a model's figures are too good to be true (AUROC or R²
    of 0.99 or more, every one of 20 or more patients right), naming each such model."""
    config, lines = results.get("config") or {}, []
    for name, site in results["sites"].items():
        notes = {key: _too_good(site.get(key) or {}) for key, _label in COLUMNS}
        found = {key: note for key, note in notes.items() if note}
        if not found:
            continue
        said = [f"{named(key, config)}'s {note.partition(f': {TOO_GOOD}')[0]}"
                for key, note in found.items()]  # fmt: skip
        why = next(iter(found.values())).partition(f": {TOO_GOOD}")[2]
        lines.append(f"Warning: at {name}, {'; '.join(said)}: {TOO_GOOD}{why}.")
    return lines


def paired_line(name: str, site: dict[str, Any]) -> str | None:
    """The federated adapter's figure minus the base alone's at site ``name`` (accuracy at
    0.5, or MAE for a regression, as sites send it), paired on the same held-out patients,
    with its verdict and, for an error such as MAE, its direction as ``versus_base`` words
    them ("no detectable difference" whenever the interval contains 0); where the rarer
    outcome is under a quarter of the patients, ``evaluate``'s caveat that accuracy rewards
    ignoring it (and, with fewer than 5 of them, no call that either model is better on
    accuracy). None where not compared (too few patients, or a run from before sites
    compared them)."""
    paired = site.get("versus_base") or {}
    metric = next((k for k in paired if not k.endswith(("_low", "_high"))), "accuracy")
    value, low, high = (paired.get(k) for k in (metric, f"{metric}_low", f"{metric}_high"))
    if _missing(value) or _missing(low) or _missing(high):
        return None
    diff = Difference(metric, float(value), (float(low), float(high)))
    label, n = LABELS.get(metric, metric), test_patients(site)
    d = _signed_digits(diff.digits(), value, low, high)
    rare = _rarer_outcome(site) if metric == "accuracy" else None
    caveat = f" {rare[1]}" if rare and rare[1] else ""
    start = f"At {name}, paired on the same {n} held-out patients,"
    if high - low <= 1e-12:  # every resample alike: no interval, not certainty
        if abs(value) <= 1e-12:
            return (f"{start} the federated adapter and the base alone have the same {label} "
                    "in every resample of these patients: no difference can be shown, and none "
                    f"ruled out, without more patients.{caveat}")  # fmt: skip
        way = f" ({diff.direction()})" if diff.direction() else ""
        return (f"{start} the federated adapter changes {label} by {_signed(value, d)}{way} in "
                "every resample of these patients, so the change has no interval: judge it on "
                f"more patients.{caveat}")  # fmt: skip
    if diff.verdict == "better" and rare and rare[0] < MIN_PER_CLASS:
        verdict = (f"too few of these patients have the rarer outcome ({rare[0]}) to call "
                   "either model better on accuracy")  # fmt: skip
    elif diff.verdict in ("better", "worse"):
        verdict = f"the federated adapter {diff.verdict_in_words()}"
    else:
        ends = [end for end, bound in (("lower", low), ("upper", high)) if bound == 0]
        verdict = "no detectable difference on these patients" + (
            f" (the interval's {ends[0]} end is 0)" if ends else "")  # fmt: skip
    said = (f"{start} the federated adapter changes {label} by {_signed(value, d)} (95% CI "
            f"{_signed(low, d)} to {_signed(high, d)}{diff.direction('; ')}) against the base "
            f"alone: {verdict}.{caveat}")  # fmt: skip
    if diff.verdict == "worse":  # the adapter did harm here: say what to do
        return f"{said} Keep the base model at {name}."
    return said


def _signed_digits(digits: int, *values: float) -> int:
    """``digits``, or up to three more where a value other than 0 would print as 0 (an
    interval's end of +0.000 that is not 0 would hide which side of 0 it lies; as
    :func:`~medadapt.evaluate.report.formatting.fmt_ci` adds digits to an interval that
    would print as one number)."""
    for more in range(4):
        if all(v == 0 or round(v, digits + more) != 0 for v in values):
            return digits + more
    return digits + 3


def _signed(value: float, digits: int) -> str:
    """``+0.034``, ``-0.020``; exactly 0 without a sign (``0.000``: the interval reaches 0)."""
    return f"{0.0:.{digits}f}" if value == 0 else f"{value:+.{digits}f}"


def _rarer_outcome(site: dict[str, Any]) -> tuple[int, str | None] | None:
    """How many of the site's held-out patients have its rarer outcome, and ``evaluate``'s
    caveat about accuracy there (:func:`~medadapt.evaluate.ignored_classes.accuracy_caveat`:
    the rarer outcome under a quarter of them); None without the counts (several classes, a
    run from before sites sent them)."""
    shared = site.get("federated") or {}
    n, positives = shared.get("n"), shared.get("n_positive")
    if _missing(n) or _missing(positives) or not n:
        return None
    n, positives = int(n), int(positives)
    rare = min(positives, n - positives)
    caveat = accuracy_caveat([1] * positives + [0] * (n - positives), ("negative", "positive"))
    if caveat is None and 0 < rare < MIN_PER_CLASS:  # a quarter or more of very few patients
        kind = "with" if positives == rare else "without"
        caveat = (f"Accuracy is no comparison of the two on so few patients {kind} the outcome "
                  f"({rare} of these {n}): it counts every patient alike.")  # fmt: skip
    return rare, caveat


def no_information_lines(results: dict[str, Any]) -> list[str]:
    """Where a compared model's accuracy (the shared adapter's, a reference's, the base
    alone's) is no better than calling every patient the commoner outcome (the
    no-information rate): its accuracy says little there."""
    config, lines = results.get("config") or {}, []
    for name, site in results["sites"].items():
        found = [(key, info) for key, _label in COLUMNS
                 if (info := _no_information(site.get(key) or {}))]  # fmt: skip
        if not found:
            continue
        _accuracy, rate, common = found[0][1]
        if len(found) == 1:
            key, (accuracy, _rate, _common) = found[0]
            who, it = f"{named(key, config)}'s accuracy ({accuracy:.3f})", "it"
        else:
            models = [f"{named(key, config)} ({info[0]:.3f})" for key, info in found]
            who, it = f"the accuracy of {listed(models)}", "them"
        said = (f"At {name}, {who} is no better than calling every patient {common} "
                f"({rate:.3f}, the no-information rate)")  # fmt: skip
        values = site[found[0][0]]
        rare = min(values["n_positive"], values["n"] - values["n_positive"])
        if rare >= MIN_PER_CLASS:
            lines.append(f"{said}: judge {it} there by AUROC and balanced accuracy.")
        else:  # neither is reported there: too few patients of the rarer outcome
            whose = "its" if it == "it" else "their"
            lines.append(f"{said}, and too few of its held-out patients have the rarer "
                         "outcome for an AUROC or balanced accuracy: "
                         f"{whose} figures there say little.")  # fmt: skip
    return lines


def _no_information(values: dict[str, Any]) -> tuple[float, float, str] | None:
    """``(accuracy, no-information rate, the commoner outcome)`` where one model's accuracy
    at a site is no better than calling every patient that outcome; None otherwise."""
    n, positives, accuracy = values.get("n"), values.get("n_positive"), values.get("accuracy")
    if not n or _missing(positives) or _missing(accuracy):
        return None
    rate = max(positives, n - positives) / n
    if accuracy > rate:
        return None
    return accuracy, rate, "positive" if positives >= n - positives else "negative"
