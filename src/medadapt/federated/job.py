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
from medadapt.federated.sites import (
    SiteData,
    SiteError,
    check_site_rows,
    read_sites,
    site_warnings,
)
from medadapt.workflows.sample_size import patient_counts

__all__ = ["COMPARED", "federate_job"]


def federate_job(run: FederatedRun, out: Path, *, progress=None) -> dict[str, Any]:
    """Simulate ``run``, score the references, and write the adapter and results to ``out``."""
    from medadapt.federated.simulate import simulate

    if progress:
        progress(f"{run.rounds} rounds of {run.strategy} over {len(run.sites)} sites (Flower)")
    if run.personalise != "none":  # each site keeps its personalised adapter there
        run = replace(run, sites_out=Path(out).resolve() / PERSONAL_FOLDER)
    start = time.perf_counter()
    outcome = simulate(run)
    seconds = time.perf_counter() - start
    taking_part = [entry["site"] for entry in outcome.final]  # without sites that failed
    data = read_sites(run, sites=taking_part)
    references = reference_scores(run, data, progress)
    counts = {name: (len(site.train), len(site.test)) for name, site in data.sites.items()}
    results = summarise(run, outcome, references, seconds, counts=counts,
                        base_model=data.base.model,
                        task=data.modality.task(data.base.schema),
                        about_base=base_record(run, data.modality, data.base, out))  # fmt: skip
    for name in data.sites:  # where a patient has several rows, both counts
        trained = patient_counts(data.modality, n_train=data.train(name))
        if "n_train_patients" in trained:
            results["sites"][name]["n_train_patients"] = trained["n_train_patients"]
    results["site_notes"] = site_notes(run, data)  # in federated.json and the report
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


#: how a site with too few samples gets more, as ``federate simulate`` says it
SITE_FIX = "give this site more {noun}, or leave it out of --groups"


def site_notes(run: FederatedRun, data: SiteData) -> list[str]:
    """What the command warned of the sites before the rounds, for ``federated.json`` and the
    report: a site that trained on one outcome, a column a site's leak checks kept, and what
    ``adapt`` says of each site's samples (a "not measured" code, too few patients ...); each
    once."""
    try:
        kept = check_site_rows(data, data.modality.options(**run.options))
    except SiteError as error:  # refused at its node too: the run went on without it
        kept = [str(error)]
    said = site_warnings(data, fix=SITE_FIX.format(noun=data.modality.noun))
    return list(dict.fromkeys([*data.notes, *kept, *said]))
