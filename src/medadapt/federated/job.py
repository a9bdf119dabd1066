"""``medadapt federate simulate``: the federated run, its references, the adapter saved like
any other (its card says it was federated: sites, rounds, strategy; never the sites' data),
``federated.json`` and ``report.html``."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.federated.config import FederatedRun
from medadapt.federated.local import ROUND_METRICS
from medadapt.federated.references import reference_scores
from medadapt.federated.server import FederatedOutcome
from medadapt.federated.sites import SiteData, read_sites, trainable
from medadapt.federated.wire import full_model_bytes
from medadapt.fileio import atomic_write_bytes
from medadapt.results import AdapterRecord

RESULTS = "federated.json"
SPLIT_FILE = "split.json"
COMPARED = ("federated", "personalised", "base", "local", "pooled")


def federate_job(run: FederatedRun, out: Path, *, progress=None) -> dict[str, Any]:
    """Simulate ``run``, score the references, and write the adapter and results to ``out``."""
    from medadapt.federated.simulate import simulate

    if progress:
        progress(f"{run.rounds} rounds of {run.strategy} over {len(run.sites)} sites (Flower)")
    start = time.perf_counter()
    outcome = simulate(run)
    seconds = time.perf_counter() - start
    data = read_sites(run)
    references = reference_scores(run, data, progress)
    results = summarise(run, data, outcome, references, seconds)
    save_result(run, data, outcome, results, out)
    atomic_write_bytes(out / RESULTS, json.dumps(_finite(results), indent=2).encode())
    from medadapt.federated.report import federated_report

    federated_report(results).write(out / "report.html")
    return results


def summarise(run: FederatedRun, data: SiteData, outcome: FederatedOutcome,
              references: dict[str, dict], seconds: float) -> dict[str, Any]:  # fmt: skip
    """Everything the report and ``federated.json`` show: counts, metrics and bytes only."""
    final = {entry["site"]: entry for entry in outcome.final}
    sites = {}
    for name in run.sites:
        entry = final.get(name, {})
        sites[name] = {
            "n_train": len(data.sites[name].train),
            "n_test": len(data.sites[name].test),
            "federated": _unprefixed(entry, ""),
            "personalised": _unprefixed(entry, "personal/") or None,
            **references.get(name, {}),
        }
    return {
        "config": _config(run),
        "sites": sites,
        "average": {k: _site_mean(sites, k) for k in COMPARED},
        "rounds": [_round_entry(e) for e in outcome.rounds],
        "bytes": _bytes(outcome, data),
        "failures": outcome.failures,
        "seconds": round(seconds, 1),
    }


def _round_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in ("round", "site", *ROUND_METRICS)}


def _config(run: FederatedRun) -> dict[str, Any]:
    keep = ("sites", "method", "strategy", "rounds", "local_epochs", "lr", "proximal_mu",
            "server_lr", "personalise", "test_fraction", "seed", "clipping_norm",
            "noise_multiplier", "group_column", "label")  # fmt: skip
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(run).items()
            if k in keep}  # fmt: skip


def _unprefixed(entry: dict[str, Any], prefix: str) -> dict[str, float]:
    if not prefix:
        return {k: v for k, v in entry.items() if "/" not in k and k not in ("round", "site")}
    return {k[len(prefix) :]: v for k, v in entry.items() if k.startswith(prefix)}


def _site_mean(sites: dict[str, dict], which: str) -> dict[str, float | None]:
    """Unweighted mean over sites (FLamby's average), for each metric defined at a site."""
    out: dict[str, float | None] = {}
    for metric in ROUND_METRICS:
        values = [s[which].get(metric) for s in sites.values() if s.get(which)]
        values = [v for v in values if v is not None and math.isfinite(v)]
        out[metric] = float(np.mean(values)) if values else None
        out[f"{metric}_sites"] = len(values)
    return out


def _bytes(outcome: FederatedOutcome, data: SiteData) -> dict[str, Any]:
    """Adapter bytes per training round per site, each way, beside full-model FedAvg."""
    train = [s for s in outcome.messages if s.kind == "train"]
    to_site = [s.records["arrays"][1] for s in train if s.direction == "to_site"]
    from_site = [s.records["arrays"][1] for s in train if s.direction == "from_site" and
                 "arrays" in s.records]  # fmt: skip
    full = full_model_bytes(data.base.model)
    per_round = float(np.mean(to_site)) if to_site else 0.0
    return {
        "adapter_to_site": per_round,
        "adapter_from_site": float(np.mean(from_site)) if from_site else 0.0,
        "all_records_per_round_per_site": float(np.mean([s.bytes for s in train])) if train else 0,
        "full_model_fedavg": full,
        "share_of_full_model": per_round / full if full else None,
        "dtype": "float32",
        "record_keys": sorted({k for s in outcome.messages for k in s.records}),
    }


def save_result(run: FederatedRun, data: SiteData, outcome: FederatedOutcome,
                 results: dict[str, Any], out: Path) -> None:  # fmt: skip
    """The federated adapter in ``out``, registrable like any adapter (``split.json``: which
    rows trained and test it, known here because the simulation holds every site); for
    full-model FedAvg, a base model."""
    modality, base = data.modality, data.base
    trained = trainable(run, modality, base)
    trained.load(outcome.weights)
    if run.method == "full":  # full-model FedAvg: a base model, trained federatedly
        _save_base(run, data, trained.model, out)
        return
    model = trained.model
    train = np.concatenate([s.train for s in data.sites.values()])
    test = np.concatenate([s.test for s in data.sites.values()])
    summary, _record, raw = modality.adapter_split(
        run.data, data.samples, train, test, seed=run.seed, test_fraction=run.test_fraction,
        group_column=run.group_column, group=None,
    )  # fmt: skip
    record = AdapterRecord(
        kind=modality.kind, task=modality.task(base.schema),
        label=getattr(base.schema, "label", None), classes=modality.classes(base.schema),
        method=run.method, split=summary, intended_use=modality.intended_use,
        metrics={k: v for k, v in results["average"]["federated"].items() if v is not None},
        data_summary={"n_train": len(train), "n_test": len(test),
                      "sites": {n: {"n_train": s["n_train"], "n_test": s["n_test"]}
                                for n, s in results["sites"].items()}},
        base_model={"path": str(Path(run.base_dir).resolve()),
                    "training_groups": base.training.get("groups")},
        trainable_params=model.count_parameters(run.adapter_name),
        extra={"federated": _card(run)},
    )  # fmt: skip
    model.save_adapter(run.adapter_name, out, metadata=record.to_json())
    atomic_write_bytes(out / SPLIT_FILE, raw)


def _card(run: FederatedRun) -> dict[str, Any]:
    """What a federated model says of its training (never the sites' data)."""
    return {"sites": list(run.sites), "rounds": run.rounds, "strategy": run.strategy,
            "local_epochs": run.local_epochs, "personalise": run.personalise,
            "differential_privacy": run.private}  # fmt: skip


def _save_base(run: FederatedRun, data: SiteData, model, out: Path) -> None:
    from medadapt.modalities.bundle import BaseModel

    groups = {name: len(site.train) for name, site in data.sites.items()}
    BaseModel(model=model, kind=data.modality.kind,
              architecture=data.modality.architecture(model), schema=data.base.schema,
              training={"groups": groups, "federated": _card(run)}).save(out)  # fmt: skip


def _finite(value: Any) -> Any:
    """NaN (a metric not defined at a site) as null in JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
