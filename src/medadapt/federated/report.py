"""The federated run's HTML report (the style of medadapt's other reports): what each site
gets from the federated adapter, beside the base alone, an adapter trained on its own rows
only, and one trained on every site's rows pooled; per-round curves per site; what crossed
the network. The sentences it shares with the terminal are in :mod:`.verdicts`,
:mod:`.figure_warnings` and :mod:`.site_lines`; its tables and curves in :mod:`.site_figures`."""

from __future__ import annotations

from typing import Any

from medadapt.evaluate.metrics import LOWER_IS_BETTER
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt, listed, metric_digits
from medadapt.evaluate.report.html import Report
from medadapt.federated.compared import (
    SHOWN_MEASURED,
    columns,
    figure_label,
    legend,
    measured,
    missing,
    shown_columns,
    shown_metrics,
)
from medadapt.federated.config import PERSONAL_LABELS
from medadapt.federated.figure_warnings import held_out_unit, no_information
from medadapt.federated.site_figures import ROUND_PANELS, round_figure, site_table
from medadapt.federated.site_lines import (
    failure_lines,
    no_auroc_line,
    privacy_line,
    run_lines,
)
from medadapt.federated.verdicts import verdict_lines
from medadapt.wording import plural


def _title(results: dict[str, Any]) -> str:
    """The report's title; one that does not call an adapter trained at one site federated."""
    method = results["config"]["method"]
    trained = results.get("sites_trained")  # absent from runs before sites were counted
    if trained is not None and len(trained) < 2:
        return f"A {method} adapter trained at {trained[0] if trained else 'no site'} alone"
    taking_part = [n for n, s in results["sites"].items() if s["n_test"]]
    return f"Federated {method} adapter over {plural(len(taking_part), 'site')}"


def _how(config: dict[str, Any]) -> str:
    """``fedavg, 3 rounds of 2 local epochs``: how the run trained; ``fedprox (proximal mu
    0.1), ...`` and ``fedadam (server learning rate 0.05), ...``: the setting its strategy
    used, default or not (a trial found them in federated.json only; another read "1 rounds").

    >>> _how({"strategy": "fedavg", "rounds": 1, "local_epochs": 2})
    'fedavg, 1 round of 2 local epochs'
    """
    tuned = [f"{words} {config[key]:g}" for key, words in
             (("proximal_mu", "proximal mu"), ("server_lr", "server learning rate"))
             if isinstance(config.get(key), int | float)]  # fmt: skip
    strategy = f"{config['strategy']} ({', '.join(tuned)})" if tuned else config["strategy"]
    rounds, epochs = config["rounds"], config["local_epochs"]
    return (f"{strategy}, {rounds} round{'s' * (rounds != 1)} of {epochs} local "
            f"epoch{'s' * (epochs != 1)}")  # fmt: skip


def what_ran(results: dict[str, Any]) -> str:
    """The run in one line, as the report's title and subtitle say it (a trial's terminal
    never said what was trained: ``Federated lora adapter over 4 sites (fedavg, 3 rounds of
    2 local epoch(s))``)."""
    return f"{_title(results)} ({_how(results['config'])})"


def federated_report(results: dict[str, Any]) -> Report:
    config = results["config"]
    report = Report(
        title=_title(results),
        subtitle=f"{_how(config)}; only adapter weights, counts and metrics left the sites",
    )
    shown = [key for key, _label in shown_columns(results)]
    report.summary(run_lines(results), heading="This run")
    said = legend(config, shown, results.get("task"))
    report.summary(verdict_lines(results) + summary_lines(results) + [said]
                   + kept_lines(results))  # fmt: skip
    if results["failures"]:
        report.warnings(
            failure_lines(
                results["failures"],
                config["rounds"],
                results.get("sites_trained", []),
                results.get("site_notes", []),
            )
        )
    trained_here = _base_warnings(results)
    if trained_here:  # what the terminal warned as this run trained the base
        groups = ", ".join((results.get("base_model") or {}).get("training_groups") or {})
        whose = f"base model, on {groups}'s rows" if groups else "base model"  # (a trial read
        report.warnings([f"{whose}: {warning}" for warning in trained_here])  # "4 of 303 rows"
        # beside "trained on 242 rows": the group's rows, its held-out ones too)
    if results.get("site_notes"):  # what the terminal warned of the sites before the rounds
        report.warnings(results["site_notes"])
    for metric in shown_metrics(results):
        lower = " (lower is better)" if metric in LOWER_IS_BETTER else ""
        report.section(f"Per site: {figure_label(metric, results)}{lower}")
        report.table(*site_table(results, metric))
    report.section("Per round")
    panels = ROUND_PANELS[measured(results)]
    report.figure(round_figure(results["rounds"], config["sites"], panels,
                               [figure_label(panel, results) for panel in panels]),
                  caption=f"Each site's {figure_label(panels[0], results)} and "
                  f"{figure_label(panels[1], results)} on its own "
                  f"held-out {held_out_unit(results)} after each round (no intervals: the "
                  "final round's are in the tables).")  # fmt: skip
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


def summary_lines(results: dict[str, Any]) -> list[str]:
    average, config = results["average"], results["config"]
    regression = measured(results)
    averaged = SHOWN_MEASURED if regression else ("accuracy", "auroc")
    lines = []
    for key, label in columns(config):
        mean = average.get(key, {})
        if mean.get(averaged[0]) is None:
            continue
        said = [f"mean {METRIC_LABELS[m]} {_figure(m, mean.get(m))} over "
                f"{plural(mean.get(f'{m}_sites', 0), 'site')}" for m in averaged]  # fmt: skip
        if not regression:
            said[0] += _uninformative(
                results["sites"], key, (results.get("base_model") or {}).get("classes")
            )
        lines.append(f"{label.capitalize()}: {'; '.join(said)}.")
    if not regression:  # a measured outcome has no AUROC anywhere: nothing to explain
        classes = (results.get("base_model") or {}).get("classes")
        lines += [no_auroc_line(name, site, classes) for name, site in results["sites"].items()
                  if site["n_test"] and missing(site["federated"].get("auroc"))]  # fmt: skip
    share = results["bytes"].get("share_of_full_model")
    if share is not None:
        lines.append(f"Each round sent each site {share:.1%} of what full-model FedAvg sends.")
    if said := privacy_line(results):
        lines.append(said)
    unit = held_out_unit(results)
    how = (f"a bootstrap over {unit}" if regression else "exact binomial for accuracy, "
           "for AUROC the wider of a bootstrap and Newcombe's score interval, a bootstrap for "
           "balanced accuracy")  # fmt: skip
    brier = "" if regression else (" federated.json also gives each model's Brier score per "
                                   "site, with its interval (a bootstrap).")  # fmt: skip
    pooled = (" Pooled is what sharing the data would give: a federation cannot train it."
              if any(site.get("pooled") for site in results["sites"].values())
              else "")  # fmt: skip  # (a deployment's server has no pooled column)
    lines.append(
        f"Brackets are 95% intervals over each site's held-out {unit} ({how}); averages are "
        f"unweighted means over sites (FLamby's convention{_alike(results['sites'], unit)}) and "
        "carry no interval, so they rank no model above another: the paired verdicts at each site "
        f"do.{pooled}{brier}"
    )
    return lines


def _alike(sites: dict[str, dict], unit: str = "patients") -> str:
    """``: a site of 19 held-out patients counts as much as one of 88`` where the sites' test
    sets differ in size (a trial read "Local: mean accuracy 0.824" above "Shared: 0.788" as a
    ranking); empty where they do not."""
    sizes = [int(site["n_test"]) for site in sites.values() if site.get("n_test")]
    if len(set(sizes)) < 2:
        return ""
    return f": a site of {min(sizes)} held-out {unit} counts as much as one of {max(sizes)}"


def _figure(metric: str, value: float | None) -> str:
    return fmt(value, metric_digits(metric, value))


def _uninformative(sites: dict[str, dict], key: str, classes: list[str] | None = None) -> str:
    """What the mean accuracy of column ``key`` includes: the sites where that model's accuracy
    is no better than calling every patient the commoner outcome, named, with the mean over
    the others (`` (at Switzerland no better than calling every patient positive; 0.741 over
    the other 3)``); "" where there are none."""
    scored = {name: site[key] for name, site in sites.items()
              if site.get(key) and not missing(site[key].get("accuracy"))}  # fmt: skip
    found = {name: info for name, values in scored.items()
             if (info := no_information(values, classes))}  # fmt: skip
    if not found:
        return ""
    by_outcome: dict[str, list[str]] = {}
    for name, (_accuracy, _rate, common) in found.items():
        by_outcome.setdefault(common, []).append(name)
    said = "; ".join(f"at {listed(names)} no better than calling every patient {common}"
                     for common, names in by_outcome.items())  # fmt: skip
    others = [float(values["accuracy"]) for name, values in scored.items() if name not in found]
    if others:
        other = f"the other {len(others)}" if len(others) > 1 else "the other site"
        said += f"; {_figure('accuracy', sum(others) / len(others))} over {other}"
    return f" ({said})"


def bytes_text(sizes: dict[str, Any]) -> str:
    """What crossed the network, in the report: per training round and site, each way,
    beside full-model FedAvg; then each evaluation's copy of the adapter and the whole run's
    totals (runs from before they were counted: the first sentence alone)."""
    share = sizes.get("share_of_full_model")
    said = (
        f"Per training round, each site received {sizes['adapter_to_site']:,.0f} bytes of adapter "
        f"weights and sent back {sizes['adapter_from_site']:,.0f} ({sizes['dtype']}, counted by "
        f"Flower); full-model FedAvg on the same base would send {sizes['full_model_fedavg']:,} "
        f"bytes each way ({'' if share is None else f'{share:.1%}; '}records on the wire: "
        f"{', '.join(sizes['record_keys'])})."
    )
    return said + run_bytes(sizes)


def run_bytes(sizes: dict[str, Any]) -> str:
    """`` Each evaluation sent a site the adapter again (8,576 bytes) to score it; in all,
    ... bytes went to the sites and ... came back, in 62 messages.``; empty where a run did
    not count them."""
    if "run_to_sites" not in sizes:
        return ""
    again = sizes.get("adapter_to_site_per_evaluation") or 0
    scored = (f" Each evaluation sent a site the adapter again ({again:,.0f} bytes) to score "
              "it on its held-out patients; in all," if again else " In all,")  # fmt: skip
    return (f"{scored} {sizes['run_to_sites']:,} bytes went to the sites and "
            f"{sizes['run_from_sites']:,} came back, in {sizes['run_messages']} messages "
            "(every record: weights, settings, counts and metrics).")  # fmt: skip


def _base_warnings(results: dict[str, Any]) -> list[str]:
    """What training the base in this run warned of its data, but what a site's own
    warning says too (a trial read "4 of 304 rows have a 'restecg' value ..." as the base
    model's, then as site Cleveland's: the base's site's rows, said once, of the site)."""
    of_sites = {note.split(": ", 1)[-1] for note in results.get("site_notes") or []}
    warned = (results.get("base_model") or {}).get("warnings") or []
    return [warning for warning in warned if warning not in of_sites]
