"""What a federated adapter records, wherever it is saved (the server's shared adapter, or a
site's own copy and its personalised one): the usual adapter record, and a card saying it was
federated (sites, rounds, strategy), never the sites' data."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from medadapt.evaluate.metrics import too_good_note
from medadapt.federated.config import FederatedRun
from medadapt.federated.local import Trainable
from medadapt.fileio import destination_of
from medadapt.modalities.base import Modality
from medadapt.modalities.bundle import BaseModel
from medadapt.results import (
    ADAPTER_ROWS,
    NEVER_CALLED,
    NO_INFORMATION_SITES,
    SITE_FIGURES,
    TOO_GOOD_KEY,
    AdapterRecord,
    base_kept_leak_notes,
    base_kept_leaks,
    harm_at_sites,
    tested_unit,
    with_kept_leaks,
)
from medadapt.workflows.adapt import with_harm

#: the join reply's config key: the columns a site kept with ``--allow-leak``, as JSON
KEPT_LEAKS = "kept-leaks"


def federated_card(run: FederatedRun, trained: list[str] | None = None) -> dict[str, Any]:
    """What a federated model says of its training (never the sites' data): the sites that
    trained it (``trained``; default every site of the run), and those named that did not
    (a trial's card listed a refused 5-row site among its sites)."""
    sites = list(run.sites) if trained is None else [s for s in run.sites if s in trained]
    left_out = [s for s in run.sites if s not in sites]
    return {"sites": sites, **({"sites_left_out": left_out} if left_out else {}),
            "rounds": run.rounds, "strategy": run.strategy, "local_epochs": run.local_epochs,
            "personalise": run.personalise, "differential_privacy": run.private,
            **({"privacy": privacy_record(run)} if run.private else {})}  # fmt: skip


def privacy_record(run: FederatedRun) -> dict[str, Any]:
    """A private run's budget, as its card says it: the clipping norm and noise multiplier,
    epsilon at delta over its rounds, and what that guarantees, in ``federate``'s words (a
    trial's card said "differential privacy" of an epsilon of 20.1, which promises little)."""
    from medadapt.federated.privacy_budget import DELTA, epsilon_of, privacy_words

    epsilon = epsilon_of(run.noise_multiplier, run.rounds)
    return {"clipping_norm": run.clipping_norm, "noise_multiplier": run.noise_multiplier,
            "epsilon": round(epsilon, 3), "delta": DELTA,
            "words": privacy_words(run.noise_multiplier, run.rounds)}  # fmt: skip


def adapter_record(
    run: FederatedRun,
    modality: Modality,
    base: BaseModel,
    trained: Trainable,
    *,
    split: dict[str, Any],
    metrics: dict[str, Any],
    data_summary: dict[str, Any],
    base_metrics: dict[str, Any] | None = None,
    versus_base: dict[str, Any] | None = None,
    allowed_leaks: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    trained_sites: list[str] | None = None,
    by_site: dict[str, Any] | None = None,
) -> AdapterRecord:
    """The record saved with a federated adapter (``metrics``: the figures it is known by;
    NaN and None left out; ``allowed_leaks``: the columns kept with ``--allow-leak`` that
    alone predict the label on a site's rows, :func:`~medadapt.federated.sites.site_kept_leaks`).
    As ``adapt`` records them, ``allowed_leaks`` holds those the base did not keep already,
    and a note beside the metrics names every kept column, the base's too, so the registry
    and its cards flag the adapter. ``by_site``: each site's own figures, with its interval
    and test count (:func:`figures_by_site`), which the card lists beside the means."""
    label = getattr(base.schema, "label", None)
    base_leaks = base_kept_leaks(base.training)
    said = {leak["column"] for leak in base_leaks}
    own = [leak for leak in allowed_leaks or [] if leak.get("column") not in said]
    notes = base_kept_leak_notes(base.training, label)  # the base's first, as adapt says them
    known = _defined(metrics)
    noted = with_harm(with_kept_leaks(known, own, label, whose=ADAPTER_ROWS, base_notes=notes),
                      versus_base)  # fmt: skip
    noted = _with_site_harm(noted, by_site or _one_site(data_summary, known), versus_base,
                            tested_unit(modality.noun))  # fmt: skip
    noted = _too_good_at_sites(noted, by_site, modality.noun.removesuffix("s"))
    return AdapterRecord(
        kind=modality.kind, task=modality.task(base.schema),
        label=label, classes=modality.classes(base.schema),
        method=run.method, split=split,
        intended_use=intended_use(run, trained_sites,
                                  kept_at=((extra or {}).get("personalised") or {}).get("site")),
        metrics=noted,
        base_metrics=_defined(base_metrics) or None, versus_base=versus_base or None,
        allowed_leaks=own or None, data_summary=data_summary,
        base_model={"path": str(destination_of(Path(run.base_dir).resolve())),
                    "training_groups": base.training.get("groups"),
                    **({"allowed_leaks": base_leaks} if base_leaks else {})},
        trainable_params=trained.model.count_parameters(trained.adapter),
        extra={"federated": {**federated_card(run, trained_sites),
                             **({"by_site": by_site} if by_site else {})},
               **(extra or {})},
    )  # fmt: skip


def _one_site(data_summary: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any] | None:
    """``{site: metrics}`` for an adapter a site keeps (its ``data_summary`` names the site),
    so that its own harm there is noted as the shared adapter's is (a review: a kept adapter
    that ranked its site backwards was registered and promoted without a note)."""
    site = data_summary.get("site")
    return {str(site): metrics} if site is not None else None


def _with_site_harm(metrics: dict[str, Any], by_site: Any, versus_base: Any,
                    unit: str = "patients") -> dict[str, Any]:  # fmt: skip
    """``metrics`` with the notes of harm the adapter did at a site (ranked backwards, worse
    than the base alone there: :func:`~medadapt.results.harm_at_sites`), so that ``list``
    marks it, ``promote`` refuses it and every served answer says it, as an adapter's own."""
    harm = harm_at_sites(by_site, versus_base, unit)
    if not harm:
        return metrics
    return {**metrics, "notes": {**(metrics.get("notes") or {}), **harm}}


def _too_good_at_sites(metrics: dict[str, Any], by_site: Any, unit: str) -> dict[str, Any]:
    """``metrics`` with the too-good-to-be-true note of any site's figures (or of the means),
    so that the card, ``list`` and served answers carry it as an adapter's own (a trial's card
    showed AUROC 1.000 without the warning ``federate`` printed of that site)."""
    if TOO_GOOD_KEY in (metrics.get("notes") or {}):
        return metrics
    said = [f"at {site}: {note}" for site, figures in (by_site or {}).items()
            if isinstance(figures, dict) and (note := too_good_note(figures, unit))]  # fmt: skip
    if not said:
        mean = too_good_note(metrics, unit)
        said = [mean] if mean else []
    if not said:
        return metrics
    return {**metrics, "notes": {**(metrics.get("notes") or {}), TOO_GOOD_KEY: "; ".join(said)}}


def figures_by_site(results: dict[str, Any], sites: list[str]) -> dict[str, Any]:
    """``{site: {"n": 60, "auroc": 0.64, "auroc_ci": [0.5, 0.77], ...}}``: each of ``sites``'
    own figures for the shared adapter on its held-out patients (what ``federated.json``
    holds), so that a card shows them beside the unweighted means (a trial's card led with
    accuracy 0.853, the mean of 0.973 on 37 patients and 0.733, and said no interval was
    recorded though each site's was)."""
    out = {}
    for name in sites:
        figures = _defined((results["sites"].get(name) or {}).get("federated"))
        kept = {k: v for k, v in figures.items()  # n_positive: a site of one outcome's
                if k in ("n", "n_positive", NEVER_CALLED)
                or k.removesuffix("_ci") in SITE_FIGURES}  # fmt: skip
        if kept:
            out[name] = kept
    return out


def intended_use(
    run: FederatedRun, trained: list[str] | None = None, *, kept_at: Any = None
) -> str:
    """A federated adapter's intended use, naming its sites (a trial's card said "to the
    named group", and named none); ``kept_at``: the site a personalised adapter was made for,
    its only one (a trial's card of Gamma's recalibrated adapter named all three sites)."""
    if kept_at is not None:
        return (f"Research use: the federated adapter personalised at {kept_at}, for "
                f"{kept_at}'s patients only (made for that site, it may be miscalibrated, or "
                "worse, at the others); validate locally before any clinical use.")  # fmt: skip
    sites = federated_card(run, trained)["sites"]
    return (f"Research use: adaptation of an existing model to the sites that trained it "
            f"together ({', '.join(sites)}); validate locally at each site before any "
            "clinical use.")  # fmt: skip


def leaks_sent(leaks: list[dict[str, Any]]) -> str:
    """A site's kept columns as its join reply carries them (:data:`KEPT_LEAKS`): names,
    statistics and row counts only."""
    return json.dumps(received_leaks(leaks))


def received_leaks(given: Any) -> list[dict[str, Any]]:
    """The kept columns a site sent (JSON text, or the list), each reduced to what a model
    records of one (column, statistic, value, rows, where); anything else (one without a
    column's name or its statistic's value) is dropped."""
    if isinstance(given, str):
        try:
            given = json.loads(given)
        except ValueError:
            return []
    out = []
    for leak in given if isinstance(given, list) else []:
        if not isinstance(leak, dict) or not isinstance(leak.get("column"), str):
            continue
        value, rows = leak.get("value"), leak.get("rows")
        if not _finite(value) or isinstance(value, bool):
            continue
        out.append({
            "column": leak["column"],
            "statistic": str(leak.get("statistic") or "a statistic"),
            "value": float(value),
            "rows": rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
            "where": leak["where"] if isinstance(leak.get("where"), str) else None,
        })  # fmt: skip
    return out


def base_record(run: FederatedRun, modality: Modality, base: BaseModel,
                out: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """What ``federated.json`` and the report say of the base every site started from: where
    it is (``trained_here``: in ``out``, trained by this run on ``--base-groups``), its weights'
    hash, the groups it records training on (``{"Cleveland": 243}``: rows each; None where it
    records none) and what its outcome is (:func:`outcome_words`)."""
    folder = destination_of(Path(run.base_dir).resolve())
    here = out is not None and folder.is_relative_to(destination_of(Path(out).resolve()))
    schema = base.schema
    return {
        "folder": str(folder),
        "trained_here": here,
        "weights_sha256": base.fingerprint.weights,
        "training_groups": base.training.get("groups") or None,
        "group_column": getattr(schema, "group_column", None),
        "noun": modality.noun,
        "label": getattr(schema, "label", None),
        "outcome": outcome_words(schema, modality.task(schema), modality.classes(schema)),
        "classes": list(modality.classes(schema) or []),
        # what training it warned of its data, where this run trained it (said there too)
        "warnings": list(base.training.get("warnings") or []) if here else [],
    }


def outcome_words(schema: Any, task: str, classes: list[str]) -> str | None:
    """What the base predicts, in the words the report's figures use: ``positive means num >
    0 (the base model's --positive-above 0); negative, num 0 or less`` (a threshold), ``positive
    means diagnosis = 'M'; negative, diagnosis = 'B'`` (two values), the classes of several, a
    measured value's column; None where the base does not say.

    >>> from types import SimpleNamespace
    >>> outcome_words(SimpleNamespace(label="num", positive_above=0.0), "binary", ["0", "1"])
    "positive means num > 0 (the base model's --positive-above 0); negative, num 0 or less"
    """
    label = getattr(schema, "label", None)
    above = getattr(schema, "positive_above", None)
    if (
        task == "binary"
        and label
        and isinstance(above, int | float)
        and not isinstance(above, bool)
    ):
        return (f"positive means {label} > {above:g} (the base model's --positive-above "
                f"{above:g}); negative, {label} {above:g} or less")  # fmt: skip
    named = f"{label} = " if label else "class "
    if task == "binary" and len(classes) == 2:
        return f"positive means {named}{classes[1]!r}; negative, {named}{classes[0]!r}"
    if task == "regression" and label:
        return f"the measured value of {label}"
    if classes:
        which = f"{label}: one of" if label else "one of"
        return f"{which} {len(classes)} classes ({', '.join(map(str, classes))})"
    return None


def mean_over_sites(results: dict[str, Any], which: str = "federated") -> dict[str, Any]:
    """The shared adapter's figures (``which``: or another compared model's, ``"base"``: the
    base alone's): the sites' unweighted mean (FLamby's average), with one note for them all
    (``notes["all"]``: a mean over how many sites, each on its own held-out patients, and where
    each site's figure is with its interval and n; the mean has neither, and a reader of the
    card must not take it for one estimate) and, for a figure fewer sites had, a note naming
    the sites without it (said once, not per figure: the card lists every note)."""
    average = dict(results["average"][which])
    sites = results["sites"]
    uninformative = _no_information_at(sites, which)
    lacking = {metric: [name for name, site in sites.items()
                        if not _finite((site.get(which) or {}).get(metric))]
               for metric, value in average.items()
               if not metric.endswith("_sites") and value is not None}  # fmt: skip
    if uninformative:  # by name, for the cautions a served answer carries (a review)
        average[NO_INFORMATION_SITES] = list(_no_information_notes(sites, which))
    if not lacking:
        return {**average, "notes": uninformative} if uninformative else average
    nowhere = [name for name in sites if all(name in names for names in lacking.values())]
    fewer = {metric: names for metric, names in lacking.items() if len(names) > len(nowhere)}
    over = (f"{len(sites) - len(nowhere)} of {len(sites)} sites"
            + (f", none at {', '.join(nowhere)}" if nowhere else "")
            + ("; fewer where said" if fewer else ""))  # fmt: skip
    notes = {
        "all": "each figure is the unweighted mean of the sites' own figures, each on that "
        f"site's held-out patients ({over}), not one estimate: each site's figure, with its 95% "
        "interval and n, is in federated.json"
    }
    for metric, names in fewer.items():
        notes[metric] = (f"over {len(sites) - len(names)} of {len(sites)} sites only (none at "
                         f"{', '.join(names)})")  # fmt: skip
    for metric, said in uninformative.items():
        notes[metric] = f"{notes[metric]}; {said}" if metric in notes else said
    return {**average, "notes": notes}


def _no_information_notes(sites: dict[str, Any], which: str) -> dict[str, str]:
    """``{site: its figures' no_information note}`` for the sites whose own accuracy of
    ``which`` is no better than calling every patient one class."""
    return {name: note for name, site in sites.items()
            if isinstance(note := ((site.get(which) or {}).get("notes") or {}).get(
                "no_information"), str)}  # fmt: skip


def _no_information_at(sites: dict[str, Any], which: str) -> dict[str, str]:
    """``{"accuracy": "at Switzerland, accuracy 0.919 is no better than ..."}`` for the sites
    whose own accuracy is no better than calling every patient one class (their figures'
    note): the mean over sites hides it, and a trial's card showed accuracy 0.820 where two
    of four sites' accuracies said nothing (the report said it; the card did not)."""
    said = [f"at {name}, {note}" for name, note in _no_information_notes(sites, which).items()]
    return {"accuracy": "; ".join(said)} if said else {}


def _finite(value: Any) -> bool:
    """A site's figure that was computed (not None, not the NaN of one it could not be)."""
    return isinstance(value, int | float) and math.isfinite(value)


def _defined(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """The defined figures, each interval as ``<metric>_ci: [low, high]`` (as ``adapt``
    records them; the wire carries ``_low``/``_high``)."""
    defined = {k: v for k, v in (metrics or {}).items()
               if v is not None and not (isinstance(v, float) and math.isnan(v))}  # fmt: skip
    out = {}
    for key, value in defined.items():
        if key.endswith(("_low", "_high")):
            continue
        out[key] = value
        low, high = defined.get(f"{key}_low"), defined.get(f"{key}_high")
        if low is not None and high is not None:
            out[f"{key}_ci"] = [low, high]
    if out.get("n_patients") is not None and out.get("n_patients") == out.get("n"):
        # the wire's count where no patient has several rows: recorded as adapt records it
        # (none), not as "test patients (their rows resampled together)" (a trial's card)
        del out["n_patients"]
    return out
