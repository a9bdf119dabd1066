"""The federated run's HTML report (the style of medadapt's other reports): what each site
gets from the federated adapter, beside the base alone, an adapter trained on its own rows
only, and one trained on every site's rows pooled; per-round curves per site; what crossed
the network."""

from __future__ import annotations

import math
from typing import Any

from matplotlib import pyplot as plt

from medadapt.evaluate.difference import Difference
from medadapt.evaluate.metrics import MIN_PATIENTS, MIN_PER_CLASS
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt, fmt_ci
from medadapt.evaluate.report.html import Report
from medadapt.federated.config import PERSONAL_LABELS, PERSONAL_MEANINGS

SHOWN = ("accuracy", "auroc", "balanced_accuracy")
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


def federated_report(results: dict[str, Any]) -> Report:
    config = results["config"]
    taking_part = [n for n, s in results["sites"].items() if s["n_test"]]
    report = Report(
        title=f"Federated {config['method']} adapter over {len(taking_part)} sites",
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
    for metric in SHOWN:
        report.section(f"Per site: {LABELS[metric]}")
        report.table(*site_table(results, metric))
    report.section("Per round")
    report.figure(round_figure(results["rounds"], config["sites"]),
                  caption="Each site's AUROC and accuracy on its own held-out patients after "
                  "each round (no intervals: the final round's are in the tables).")  # fmt: skip
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
    lines = []
    for key, label in columns(config):
        accuracy = average.get(key, {}).get("accuracy")
        if accuracy is None:
            continue
        auroc = average[key].get("auroc")
        lines.append(
            f"{label.capitalize()}: mean accuracy {fmt(accuracy)} over "
            f"{average[key]['accuracy_sites']} sites; mean AUROC {fmt(auroc)} over "
            f"{average[key]['auroc_sites']} sites."
        )
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
    lines.append(
        "Brackets are 95% intervals over each site's held-out patients (exact binomial for "
        "accuracy, sensitivity and specificity, for AUROC the wider of a bootstrap and "
        "Newcombe's score interval, a bootstrap for the others); averages are "
        "unweighted means over sites (FLamby's convention). Pooled is what sharing the data "
        "would give: a federation cannot train it."
    )
    return lines


def no_auroc_line(name: str, site: dict[str, Any]) -> str:
    """Why a site has no AUROC: too few held-out patients for any figure, one outcome only,
    or too few patients of the rarer one."""
    n, positive = site["federated"].get("n"), site["federated"].get("n_positive")
    if not _missing(n) and n < MIN_PATIENTS:
        return (f"No figures at {name}: only {int(n)} held-out patients, too few for any "
                f"(medadapt reports none below {MIN_PATIENTS}).")  # fmt: skip
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
            row.append("n/a" if _missing(value) else fmt_ci(value, interval, 3))
        rows.append(row)
    return header, rows


def test_patients(site: dict[str, Any]) -> int:
    """The site's held-out patients: its test rows, or fewer where an id column groups them
    (runs from before sites counted patients: the rows)."""
    patients = (site.get("federated") or {}).get("n_patients")
    return site["n_test"] if _missing(patients) else int(patients)


def round_figure(rounds: list[dict[str, Any]], sites: list[str]):
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    colours = {site: f"C{i}" for i, site in enumerate(sites)}  # a site keeps its colour
    for ax, metric in zip(axes, ("auroc", "accuracy"), strict=True):
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
    were sent), and where the data cannot tell them apart."""
    lines = []
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


def paired_line(name: str, site: dict[str, Any]) -> str | None:
    """The federated adapter's figure minus the base alone's at site ``name`` (accuracy at
    0.5, as sites send it), paired on the same held-out patients, with its verdict and, for an
    error such as MAE, its direction as ``versus_base`` words them ("no detectable difference"
    whenever the interval contains 0); None where not compared (a regression, too few
    patients, or a run from before sites compared them)."""
    paired = site.get("versus_base") or {}
    metric = next((k for k in paired if not k.endswith(("_low", "_high"))), "accuracy")
    value, low, high = (paired.get(k) for k in (metric, f"{metric}_low", f"{metric}_high"))
    if _missing(value) or _missing(low) or _missing(high):
        return None
    diff = Difference(metric, float(value), (float(low), float(high)))
    d, label, n = diff.digits(), LABELS.get(metric, metric), test_patients(site)
    start = f"At {name}, paired on the same {n} held-out patients,"
    if high - low <= 1e-12:  # every resample alike: no interval, not certainty
        if abs(value) <= 1e-12:
            return (f"{start} the federated adapter and the base alone have the same {label} "
                    "in every resample of these patients: no difference can be shown, and none "
                    "ruled out, without more patients.")  # fmt: skip
        way = f" ({diff.direction()})" if diff.direction() else ""
        return (f"{start} the federated adapter changes {label} by {value:+.{d}f}{way} in every "
                "resample of these patients, so the change has no interval: judge it on more "
                "patients.")  # fmt: skip
    verdict = ("no detectable difference on these patients"
               if diff.verdict not in ("better", "worse")
               else f"the federated adapter {diff.verdict_in_words()}")  # fmt: skip
    said = (f"{start} the federated adapter changes {label} by {value:+.{d}f} (95% CI "
            f"{low:+.{d}f} to {high:+.{d}f}{diff.direction('; ')}) against the base alone: "
            f"{verdict}.")  # fmt: skip
    if diff.verdict == "worse":  # the adapter did harm here: say what to do
        return f"{said} Keep the base model at {name}."
    return said


def no_information_lines(results: dict[str, Any]) -> list[str]:
    """Where the shared adapter's accuracy is no better than calling every patient the
    commoner outcome (the no-information rate): its accuracy says little there."""
    lines = []
    for name, site in results["sites"].items():
        fed = site.get("federated") or {}
        n, positives, accuracy = fed.get("n"), fed.get("n_positive"), fed.get("accuracy")
        if not n or _missing(positives) or _missing(accuracy):
            continue
        rate = max(positives, n - positives) / n
        if accuracy <= rate:
            common = "positive" if positives >= n - positives else "negative"
            said = (f"At {name}, the shared adapter's accuracy ({accuracy:.3f}) is no better "
                    f"than calling every patient {common} ({rate:.3f}, the no-information "
                    "rate)")  # fmt: skip
            if min(positives, n - positives) >= MIN_PER_CLASS:
                lines.append(f"{said}: judge it there by AUROC and balanced accuracy.")
            else:  # neither is reported there: too few patients of the rarer outcome
                lines.append(f"{said}, and too few of its held-out patients have the rarer "
                             "outcome for an AUROC or balanced accuracy: its figures there say "
                             "little.")  # fmt: skip
    return lines
