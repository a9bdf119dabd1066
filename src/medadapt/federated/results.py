"""What a federated run leaves: ``federated.json`` (counts, metrics and bytes only), the
report, and the adapter saved like any other (its card says it was federated: sites, rounds,
strategy; never the sites' data), for a simulation and a deployment alike."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.evaluate.metrics import headline_metric
from medadapt.federated.config import FederatedRun
from medadapt.federated.local import (
    BASE_ALONE,
    PERSONAL_VERSUS_BASE,
    ROUND_METRICS,
    VERSUS_BASE,
    never_called_names,
    sent_metrics,
)
from medadapt.federated.records import (
    adapter_record,
    base_record,
    federated_card,
    figures_by_site,
    mean_over_sites,
    privacy_record,
)
from medadapt.federated.server import FederatedOutcome
from medadapt.federated.sites import trainable
from medadapt.federated.strategies import PATIENTS_NAMED, site_named
from medadapt.federated.verdicts import versus_base_over_sites
from medadapt.federated.wire import full_model_bytes
from medadapt.fileio import atomic_write_bytes
from medadapt.modalities.base import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.results import NEVER_CALLED
from medadapt.workflows.adapt import SPLIT_FILE

RESULTS = "federated.json"
OUTCOME = "outcome.json"  # a deployment's server: "ok", or the error that stopped it
COMPARED = ("federated", "personalised", "base", "local", "pooled")


def write_results(results: dict[str, Any], out: Path) -> None:
    """``federated.json`` and ``report.html`` in ``out``."""
    from medadapt.federated.report import federated_report

    atomic_write_bytes(out / RESULTS, json.dumps(finite(results), indent=2).encode())
    federated_report(results).write(out / "report.html")


def write_deployment_outcome(run: FederatedRun, outcome: FederatedOutcome, out: Path) -> None:
    """The server's side of a deployment: no site's rows here, so no references and no
    ``split.json``; each site's counts come from its replies."""
    base = BaseModel.load(run.base_dir, flag="--base")
    modality = modality_of(base.kind)
    counts = {site: (outcome.train_counts.get(site, 0), int(entry.get("num-examples", 0)))
              for entry in outcome.final for site in [entry["site"]]}  # fmt: skip
    results = summarise(run, outcome, {}, outcome.seconds, counts=counts, base_model=base.model,
                        task=modality.task(base.schema),
                        about_base=base_record(run, modality, base))  # fmt: skip
    # what each site's client kept with --allow-leak, as its join reply said it
    results["site_notes"] = kept_leak_lines(outcome.kept_leaks, getattr(base.schema, "label", None),
                                            getattr(base.schema, "allowed_leaks", ()))  # fmt: skip
    save_result(run, modality, base, outcome, results, out)
    write_results(results, out)
    (out / OUTCOME).write_text(json.dumps({"ok": True}))


def kept_leak_lines(kept: dict[str, list[dict[str, Any]]], label: Any,
                    base_kept: Any = ()) -> list[str]:  # fmt: skip
    """What a deployment's server says of the columns each site's client kept (names and
    statistics, as the sites sent them), as the simulation says them of each site before the
    rounds: by the client's ``--allow-leak``, or by the base's own (``base_kept``, the
    columns it recorded: a trial's server blamed a client that had given none)."""
    from medadapt.data.leaks import Leak, kept_leaks_warning
    from medadapt.modalities.tabular.modality import BASE_KEPT_IT

    by_base = set(base_kept or ())
    lines = []
    for site, leaks in kept.items():
        found = [Leak(leak["column"], leak["statistic"], leak["value"], rows=leak.get("rows"))
                 for leak in leaks]  # fmt: skip
        for keep, which in (("its client's --allow-leak", False), (BASE_KEPT_IT, True)):
            these = [leak for leak in found if (leak.column in by_base) is which]
            if these:
                lines.append(f"site {site}: {kept_leaks_warning(these, str(label), keep=keep)}")
    return lines


def summarise(
    run: FederatedRun,
    outcome: FederatedOutcome,
    references: dict[str, dict],
    seconds: float,
    *,
    counts: dict[str, tuple[int, int]],
    base_model: Any,
    task: str,
    about_base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the report and ``federated.json`` show: counts, metrics and bytes only
    (``counts``: each site's training and held-out samples; ``task``: the base's, which says
    what the sites sent; ``about_base``: where the base is, what it records of its training
    and what its outcome is, :func:`~medadapt.federated.records.base_record`), with the
    warnings about them (each model's ``notes`` at a site; the run's ``notes``: fewer than two
    sites trained the shared adapter)."""
    from medadapt.federated.figure_warnings import ONE_SITE, one_site_note, site_notes
    from medadapt.results import tested_unit

    final = {entry["site"]: entry for entry in outcome.final}
    classes = (about_base or {}).get("classes")  # several: the commonest named in the notes
    unit = tested_unit((about_base or {}).get("noun"))
    sites = {}
    for name in run.sites:
        entry = final.get(name, {})
        sites[name] = {
            "n_train": counts.get(name, (0, 0))[0],
            "n_test": counts.get(name, (0, 0))[1],
            # whether its figures count patients (an id column) or take each row for one
            "patients_named": _named(entry),
            "federated": _unprefixed(entry, ""),
            "personalised": _unprefixed(entry, "personal/") or None,
            # the shared adapter minus the base alone, paired at the site on its held-out
            # patients (only the difference and its interval crossed the network); None
            # where the site compared nothing
            "versus_base": _compared(_unprefixed(entry, VERSUS_BASE)),
            # the site's personalised adapter minus the base alone, the same way
            "personalised_versus_base": _compared(_unprefixed(entry, PERSONAL_VERSUS_BASE)),
            # the base alone, as the site scored it in the final round (a deployment's only
            # figures of it); a simulation's references score it on the same patients
            "base": _unprefixed(entry, BASE_ALONE) or None,
            **{model: _counted(figures) for model, figures in references.get(name, {}).items()},
        }
        _name_never_called(sites[name], classes or [])
        for key, notes in site_notes(sites[name], classes, unit).items():
            sites[name][key]["notes"] = notes
    trained = sites_trained(run, outcome)
    alone = one_site_note(list(run.sites), trained)
    return {
        "config": _config(run),
        "task": task,
        "base_model": about_base,
        "sites": sites,
        "sites_trained": trained,
        "notes": {ONE_SITE: alone} if alone else {},
        "average": {k: _site_mean(sites, k, sent_metrics(task)) for k in COMPARED},
        "rounds": [_round_entry(e) for e in outcome.rounds],
        "bytes": _bytes(outcome, base_model),
        "failures": outcome.failures,
        "seconds": round(seconds, 1),
    }


def _name_never_called(site: dict[str, Any], classes: list[str]) -> None:
    """Each model's classes it called none of at ``site`` (sent as a number), by name, as an
    adapter's own result records them (:data:`~medadapt.results.NEVER_CALLED`); the key
    left out where there is none."""
    for figures in site.values():
        if isinstance(figures, dict) and NEVER_CALLED in figures:
            names = never_called_names(figures.pop(NEVER_CALLED), classes)
            if names:
                figures[NEVER_CALLED] = names


def sites_trained(run: FederatedRun, outcome: FederatedOutcome) -> list[str]:
    """The sites that trained the shared adapter in every round: each sent its weights back,
    and none failed before the final round's scoring (``--on-site-error continue`` goes on
    without a site that fails or leaves: it is not asked again). A refusal on joining is a
    client's that never took part (the site may have joined with another, or a second
    client of it was left out): a site refused alone has no training counts anyway."""
    dropped = {site_named(run.sites, failure["error"]) for failure in outcome.failures
               if 1 <= failure["round"] <= run.rounds}  # fmt: skip
    return [site for site in run.sites if site in outcome.train_counts and site not in dropped]


def _named(entry: dict[str, Any]) -> bool | None:
    """Whether a site's final reply said its data names its patients; None where it sent
    no final reply (or came from a medadapt that did not say)."""
    named = entry.get(PATIENTS_NAMED)
    return None if named is None else bool(named)


def _round_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in ("round", "site", *ROUND_METRICS)}


def _config(run: FederatedRun) -> dict[str, Any]:
    keep = ("sites", "method", "adapter_options", "strategy", "rounds", "local_epochs", "lr",
            "proximal_mu", "server_lr", "personalise", "test_fraction", "seed", "clipping_norm",
            "noise_multiplier", "group_column", "label")  # fmt: skip
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(run).items()
              if k in keep}  # fmt: skip
    for name, strategies in USED_BY.items():  # a default the strategy never read: not "used"
        if run.strategy not in strategies:
            config[name] = None
    if run.private:  # its budget beside its flags (a trial's federated.json held no epsilon)
        config["privacy"] = privacy_record(run)
    return config


#: the strategies that read each tuning value (any other's record shows None)
USED_BY = {"proximal_mu": ("fedprox",), "server_lr": ("fedadam", "fedyogi")}


#: what a site's final reply carries for Flower, not a figure (its count is ``n``)
FLOWER_KEYS = ("round", "site", "num-examples", "site-index", PATIENTS_NAMED)
COUNTS = (
    "n",
    "n_positive",
    "n_patients",
    "n_commonest",
    "commonest",
    "n_fewest",
    "fewest",
)  # whole numbers, though Flower's records hold floats


def _unprefixed(entry: dict[str, Any], prefix: str) -> dict[str, float]:
    """A site's figures of one model (``prefix``: which), its counts as whole numbers."""
    if not prefix:
        found = {k: v for k, v in entry.items() if "/" not in k and k not in FLOWER_KEYS}
    else:
        found = {k[len(prefix) :]: v for k, v in entry.items() if k.startswith(prefix)}
    return {k: _whole(v) if k in COUNTS else v for k, v in found.items()}


def _counted(figures: Any) -> Any:
    """A reference model's figures at a site, its counts as whole numbers as the shared
    adapter's are (a trial's ``federated.json`` held ``19`` beside ``19.0``)."""
    if not isinstance(figures, dict):
        return figures
    return {k: _whole(v) if k in COUNTS else v for k, v in figures.items()}


def _whole(value: Any) -> Any:
    """``19.0`` -> ``19``; anything else (NaN: not counted) as it is."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _compared(paired: dict[str, float]) -> dict[str, float] | None:
    """A site's paired difference with the base alone, or None where every value is NaN
    (not compared: too few patients, or no resamples)."""
    return paired if any(math.isfinite(v) for v in paired.values()) else None


def _site_mean(sites: dict[str, dict], which: str,
               metrics: tuple[str, ...]) -> dict[str, float | None]:  # fmt: skip
    """Unweighted mean over sites (FLamby's average), for each of ``metrics`` defined at a
    site."""
    out: dict[str, float | None] = {}
    for metric in metrics:
        values = [s[which].get(metric) for s in sites.values() if s.get(which)]
        values = [v for v in values if v is not None and math.isfinite(v)]
        out[metric] = float(np.mean(values)) if values else None
        out[f"{metric}_sites"] = len(values)
    return out


def _bytes(outcome: FederatedOutcome, base_model) -> dict[str, Any]:
    """Adapter bytes per training round per site, each way, beside full-model FedAvg; what
    each evaluation sends a site (the adapter again, to score it); and the whole run's
    bytes each way, every message and record counted (training, evaluation, joining)."""
    train = [s for s in outcome.messages if s.kind == "train"]
    to_site = [s.records["arrays"][1] for s in train if s.direction == "to_site"]
    from_site = [s.records["arrays"][1] for s in train if s.direction == "from_site" and
                 "arrays" in s.records]  # fmt: skip
    scored = [s.records["arrays"][1] for s in outcome.messages if s.kind == "evaluate"
              and s.direction == "to_site" and "arrays" in s.records]  # fmt: skip
    full = full_model_bytes(base_model)
    per_round = float(np.mean(to_site)) if to_site else 0.0
    return {
        "adapter_to_site": per_round,
        "adapter_from_site": float(np.mean(from_site)) if from_site else 0.0,
        "all_records_per_round_per_site": float(np.mean([s.bytes for s in train])) if train else 0,
        "adapter_to_site_per_evaluation": float(np.mean(scored)) if scored else 0.0,
        "run_to_sites": sum(s.bytes for s in outcome.messages if s.direction == "to_site"),
        "run_from_sites": sum(s.bytes for s in outcome.messages if s.direction == "from_site"),
        "run_messages": len(outcome.messages),
        "full_model_fedavg": full,
        "share_of_full_model": per_round / full if full else None,
        "dtype": "float32",
        "record_keys": sorted({k for s in outcome.messages for k in s.records}),
    }


def save_result(run: FederatedRun, modality, base, outcome: FederatedOutcome,
                results: dict[str, Any], out: Path, split=None) -> None:  # fmt: skip
    """The federated adapter in ``out``, registrable like any adapter, or, for full-model
    FedAvg, a base model. ``split``: ``(samples, train, test)`` when this process knows which
    rows trained and test it (a simulation holds every site; a deployment's server does not,
    and writes no ``split.json``)."""
    trained = trainable(run, modality, base)
    trained.load(outcome.weights)
    if run.method == "full":  # full-model FedAvg: a base model, trained federatedly
        _save_base(run, modality, base, trained.model, results, out)
        return
    summary: dict[str, Any] = {"federated": True}
    raw = None
    if split is not None:
        samples, train, test = split
        summary, _record, raw = modality.adapter_split(
            run.data, samples, train, test, seed=run.seed, test_fraction=run.test_fraction,
            group_column=run.group_column, group=None,
        )  # fmt: skip
    trained_sites = _took_part(results)
    took_part = {n: s for n, s in results["sites"].items() if n in trained_sites}
    n_train = sum(s["n_train"] for s in took_part.values())
    n_test = sum(s["n_test"] for s in took_part.values())
    shared = mean_over_sites(results)
    record = adapter_record(
        run, modality, base, trained, split=summary, metrics=shared,
        base_metrics=mean_over_sites(results, "base") if results["average"].get("base") else None,
        versus_base=versus_base_over_sites(results, headline_metric(results["task"], shared)),
        allowed_leaks=[leak for leaks in outcome.kept_leaks.values() for leak in leaks],
        data_summary={"n_train": n_train, "n_test": n_test,
                      "sites": {n: {"n_train": s["n_train"], "n_test": s["n_test"]}
                                for n, s in took_part.items()}},
        trained_sites=trained_sites, by_site=figures_by_site(results, trained_sites),
    )  # fmt: skip
    # beside the sites' personalised/ folder, or over a demo's earlier run
    trained.model.save_adapter(run.adapter_name, out, metadata=record.to_json(), overwrite=True)
    if raw is not None:
        atomic_write_bytes(out / SPLIT_FILE, raw)


def _took_part(results: dict[str, Any]) -> list[str]:
    """The sites that trained the run's model (every site named, in a result without that
    record), never one left out (``--on-site-error continue``)."""
    return results.get("sites_trained", list(results["sites"]))


def _save_base(run: FederatedRun, modality, base, model, results, out: Path) -> None:
    trained = _took_part(results)
    groups = {name: site["n_train"] for name, site in results["sites"].items() if name in trained}
    training = {"groups": groups, "federated": federated_card(run, trained)}
    BaseModel(model=model, kind=modality.kind, architecture=modality.architecture(model),
              schema=base.schema, training=training).save(out, overwrite=True)  # fmt: skip


def finite(value: Any) -> Any:
    """NaN (a metric not defined at a site) as null in JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value
