"""``medadapt federate simulate``: the federated run in Flower's simulation engine, the
references on the same splits (base alone, local-only and pooled adapters), and what it leaves
(:mod:`medadapt.federated.results`)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.federated.config import FederatedRun
from medadapt.federated.personal import PERSONAL_FOLDER, site_folder
from medadapt.federated.records import base_record
from medadapt.federated.references import reference_scores
from medadapt.federated.results import COMPARED, save_result, summarise, write_results
from medadapt.federated.sites import pre_round_notes, read_sites
from medadapt.workflows.sample_size import patient_counts

__all__ = ["COMPARED", "federate_job"]


def federate_job(run: FederatedRun, out: Path, *, progress=None,
                 notes: list[str] | None = None,
                 workers: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Simulate ``run``, score the references, and write the adapter and results to ``out``;
    ``notes``: what was said of the sites before the rounds (default: read here for the sites
    that took part, :func:`~medadapt.federated.sites.pre_round_notes`), kept in the results;
    ``workers``: sites trained at once (default: every core)."""
    from medadapt.federated.simulate import simulate

    if progress:
        progress(f"{run.rounds} rounds of {run.strategy} over {len(run.sites)} sites (Flower)")
    if run.personalise != "none":  # each site keeps its personalised adapter there
        run = replace(run, sites_out=Path(out).resolve() / PERSONAL_FOLDER)
    start = time.perf_counter()
    outcome = simulate(run, cpus=workers)
    seconds = time.perf_counter() - start
    taking_part = [entry["site"] for entry in outcome.final]  # without sites that failed
    data = read_sites(run, sites=taking_part)
    if notes is None:  # not said before the rounds: those of the sites that took part
        notes = pre_round_notes(run, sites=taking_part)
    references = reference_scores(run, data, progress)
    counts = {name: (len(site.train), len(site.test)) for name, site in data.sites.items()}
    results = summarise(run, outcome, references, seconds, counts=counts,
                        base_model=data.base.model,
                        task=data.modality.task(data.base.schema),
                        about_base={**base_record(run, data.modality, data.base, out),
                                    "test_kept_out": data.base_rows_kept_out})  # fmt: skip
    for name in data.sites:  # where a patient has several rows, both counts
        trained = patient_counts(data.modality, n_train=data.train(name))
        if "n_train_patients" in trained:
            results["sites"][name]["n_train_patients"] = trained["n_train_patients"]
    results["site_notes"] = notes  # in federated.json and the report
    rows = [np.concatenate([s.train for s in data.sites.values()]),
            np.concatenate([s.test for s in data.sites.values()])]  # fmt: skip
    results["kept"] = {
        name: f"{PERSONAL_FOLDER}/{site_folder(name)}"
        for name in taking_part
        if run.sites_out and (run.sites_out / site_folder(name)).is_dir()
    }
    save_result(run, data.modality, data.base, outcome, results, out,
                split=(data.samples, *rows))  # fmt: skip
    write_results(results, out)
    return results
