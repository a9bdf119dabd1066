"""FLamby's Fed-Heart-Disease, federated: ``medadapt demo --protocol flamby-federated``.

FLamby's preprocessing and per-centre train/test splits (:func:`medadapt.data.heart.
flamby_frame`), the four centres as four Flower nodes, five seeds, two settings:

* **(a) base at one site**: the base model is trained on Cleveland's training rows; an
  adapter is then federated over all four centres;
* **(b) base trained federatedly**: the whole FT-Transformer is trained from scratch by
  full-model FedAvg over the four centres; an adapter is then federated over them.

Each centre's test rows score every model: accuracy at 0.5 (FLamby's figure), AUROC and
balanced accuracy, beside the same splits' references (base alone, local-only adapters, a
pooled adapter) and FLamby's published accuracies.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data import heart
from medadapt.evaluate.sufficiency import as_demo_base
from medadapt.federated.config import PERSONAL_LABELS, FederatedRun
from medadapt.federated.job import COMPARED, federate_job
from medadapt.modalities.bundle import BaseModel
from medadapt.tables import train_base
from medadapt.wording import plural
from medadapt.workflows.flamby import flamby_schema

METRICS = ("accuracy", "auroc", "balanced_accuracy")
SETTINGS = {
    "a": "base trained at Cleveland, adapter federated over the 4 centres",
    "b": "base trained by full-model FedAvg, adapter federated over the 4 centres",
}


def run_federated_flamby(out: Path, *, seeds: int = 5, rounds: int = 10, base_rounds: int = 30,
                         method: str = "bottleneck", strategy: str = "fedavg",
                         personalise: str = "recalibrate", n_boot: int = 200,
                         progress=None) -> dict[str, Any]:  # fmt: skip
    """Both settings for ``seeds`` seeds; per-seed runs under ``out/seed_N/``. ``progress(message,
    advance)``: each phase said as it starts (``advance`` 0), one step counted as each seed
    ends (1): steps of one size, so that the time left is estimated from whole seeds (a
    trial's estimate, from a seed's quick first half, was far off, and its bar full for the
    last seed's five silent minutes)."""
    say = progress or (lambda message, advance=None: None)

    def phase(message: str) -> None:
        say(message, 0)

    started = time.perf_counter()
    frame = heart.flamby_frame()
    data = out / "flamby.csv"
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(data, index=False)
    common = dict(data=data, label="disease", group_column=heart.GROUP, sites=heart.CENTRES,
                  split_column="split", method=method, strategy=strategy, rounds=rounds,
                  local_epochs=2, n_boot=n_boot, personalise=personalise)  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for seed in range(seeds):
        where = out / f"seed_{seed}"
        phase(f"seed {seed}: (a) base at Cleveland")
        base_a = cleveland_base(frame, seed, where / "base_cleveland")
        run_a = FederatedRun(base_dir=base_a, seed=seed, **common).check()
        phase(f"seed {seed}: (a) adapter federated, {rounds} rounds, and its references")
        runs["a"].append(federate_job(run_a, where / "a_adapter"))
        phase(f"seed {seed}: (b) base by full-model FedAvg, {base_rounds} rounds")
        initial = _untrained_base(frame, seed, where / "base_initial")
        full = {
            **common,
            "method": "full",
            "rounds": base_rounds,
            "lr": 1e-3,
            "personalise": "none",
        }
        federate_job(FederatedRun(base_dir=initial, seed=seed, **full).check(),
                     where / "base_federated")  # fmt: skip
        run_b = FederatedRun(base_dir=where / "base_federated", seed=seed, **common).check()
        phase(f"seed {seed}: (b) adapter federated, {rounds} rounds, and its references")
        runs["b"].append(federate_job(run_b, where / "b_adapter"))
        say(f"seed {seed} done", 1)
    return {
        "protocol": "flamby-federated",
        "seeds": seeds,
        "method": method,
        "strategy": strategy,
        "personalise": personalise,
        "rounds": rounds,
        "base_rounds": base_rounds,
        "settings": {k: {"description": SETTINGS[k], **aggregate(v)} for k, v in runs.items()},
        "bytes": runs["a"][0]["bytes"] if runs["a"] else None,
        "flamby_published_accuracy": heart.FLAMBY_PUBLISHED,
        "site_notes": sorted({note for run in runs["a"] for note in run.get("site_notes", [])}),
        "seconds": round(time.perf_counter() - started, 1),
    }


def cleveland_base(frame, seed: int, out: Path) -> Path:
    train = frame[frame["split"] == "train"]
    with warnings.catch_warnings(record=True) as caught:  # its advice said as the demo's
        warnings.simplefilter("always")
        base = train_base(train[train[heart.GROUP] == "Cleveland"], flamby_schema(train),
                          seed=seed)  # fmt: skip
    for said in caught:
        warnings.warn(as_demo_base(str(said.message)), said.category, stacklevel=2)
    base.training["groups"] = {"Cleveland": int((train[heart.GROUP] == "Cleveland").sum())}
    base.save(out, overwrite=True)  # a re-run replaces the demo's own output
    return out


def _untrained_base(frame, seed: int, out: Path) -> Path:
    """An FT-Transformer with FLamby's features, initialised with ``seed`` and never trained
    (the schema only names the columns: FLamby's features are already standardised)."""
    import torch

    from medadapt.modalities import modality_of
    from medadapt.modalities.tabular.model import TabularModelConfig

    modality = modality_of("tabular")
    schema = flamby_schema(frame[frame["split"] == "train"])
    torch.manual_seed(seed)
    model = modality.new_model(schema, TabularModelConfig(), seed)
    BaseModel(model=model, kind="tabular", architecture=modality.architecture(model),
              schema=schema, training={"untrained": True}).save(out, overwrite=True)  # fmt: skip
    return out


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per centre and on average over centres: mean and sd over seeds of each metric, for the
    federated adapter and each reference."""
    centres: dict[str, dict[str, Any]] = {}
    for centre in heart.CENTRES:
        centres[centre] = {which: _mean_sd([r["sites"][centre].get(which) or {} for r in runs])
                           for which in COMPARED}  # fmt: skip
    average = {which: _mean_sd([r["average"].get(which) or {} for r in runs])
               for which in COMPARED}  # fmt: skip
    return {"centres": centres, "average": average}


def _mean_sd(entries: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric in METRICS:
        values = [e.get(metric) for e in entries]
        values = [float(v) for v in values if v is not None and np.isfinite(v)]
        out[metric] = {
            "mean": float(np.mean(values)) if values else None,
            "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
            "seeds": len(values),
        }
    return out


def column_labels(personalise: str) -> dict[str, str]:
    """What each compared model is called in the tables, for a run's ``personalise`` (no
    personalised column for ``none``)."""
    personal = PERSONAL_LABELS.get(personalise)
    labels = {"federated": "federated adapter (shared)",
              "personalised": personal and f"federated adapter, {personal} at each centre",
              "local": "local-only adapter", "pooled": "pooled adapter (data shared)",
              "base": "base alone"}  # fmt: skip
    return {k: v for k, v in labels.items() if v is not None}


def setting_lines(results: dict[str, Any]) -> list[str]:
    """What settings (a) and (b) are, for the terminal (a trial's never said; the report's
    summary does)."""
    return [f"({key}) {setting['description']}." for key, setting in results["settings"].items()]


def reading_lines(results: dict[str, Any]) -> list[str]:
    """What the terminal's and the report's tables need said beside them: a model whose
    accuracy beats the shared adapter's only as its balanced accuracy falls (it calls more
    patients the commoner outcome, which accuracy at 0.5 rewards), and that the means carry
    no interval."""
    labels = column_labels(results.get("personalise", "finetune"))
    lines = []
    for key, setting in results["settings"].items():
        shared = setting["average"].get("federated") or {}
        for which, values in setting["average"].items():
            if which == "federated" or which not in labels:
                continue
            accuracy = _means(values, shared, "accuracy")
            balanced = _means(values, shared, "balanced_accuracy")
            if (
                accuracy
                and balanced
                and accuracy[0] > accuracy[1]
                and balanced[0] < balanced[1] - BALANCED_DROP
            ):
                lines.append(
                    f"({key}) {labels[which]}: accuracy {accuracy[0]:.3f} against the shared "
                    f"adapter's {accuracy[1]:.3f}, but balanced accuracy {balanced[0]:.3f} "
                    f"against {balanced[1]:.3f}: it gains by calling more patients the commoner "
                    "outcome at each centre, which accuracy at 0.5 rewards; judge it by "
                    "balanced accuracy and AUROC."
                )
        lines += _base_above_shared(key, setting.get("average") or {})
    seeds = results["seeds"]
    lines.append(
        f"Means over {plural(seeds, 'seed')}, without 95% intervals: FLamby's "
        "test sets are small (16 to 96 patients a centre), so rows a few points apart may "
        "differ by chance; each seed's per-centre figures with their intervals, and the "
        "federated adapter against the base alone on the same patients, are in "
        "seed_N/a_adapter/ and seed_N/b_adapter/ (report.html, federated.json)."
    )
    return lines


BALANCED_DROP = 0.01  # a fall in balanced accuracy worth a word beside a rise in accuracy
_NAMES = {"accuracy": "accuracy at 0.5", "auroc": "AUROC", "balanced_accuracy": "balanced accuracy"}


def _base_above_shared(key: str, average: dict[str, Any]) -> list[str]:
    """A line where, in a setting, the base model alone scores above the shared adapter on
    every figure shown (a trial's setting (b): 0.748 / 0.813 / 0.731 against 0.729 / 0.802 /
    0.705, with no word beside its comparison with FLamby's published accuracy)."""
    base, shared = average.get("base") or {}, average.get("federated") or {}
    pairs = {metric: _means(base, shared, metric) for metric in _NAMES}
    if not all(pair and round(pair[0], 3) > round(pair[1], 3) for pair in pairs.values()):
        return []  # (above as printed: "0.802 against 0.802" is no line)
    said = ", ".join(f"{_NAMES[m]} {pair[0]:.3f} against {pair[1]:.3f}"  # type: ignore[index]
                     for m, pair in pairs.items())  # fmt: skip
    return [f"({key}) the base model alone scores above the shared adapter on every figure "
            f"({said}): in this setting the federated adapter does not beat the base alone on "
            "these means (no intervals: see each seed's), whatever its place beside FLamby's "
            "published accuracy."]  # fmt: skip


def _means(
    values: dict[str, Any], shared: dict[str, Any], metric: str
) -> tuple[float, float] | None:
    """``(this model's mean, the shared adapter's)`` of ``metric``, or None where either is
    missing."""
    mine, theirs = (values.get(metric) or {}).get("mean"), (shared.get(metric) or {}).get("mean")
    return None if mine is None or theirs is None else (mine, theirs)


def flamby_federated_report(results: dict[str, Any]):
    """The demo's report: both settings, averaged over centres and per centre, beside
    FLamby's published accuracies."""
    from medadapt.evaluate.report.html import Report

    report = Report(
        title="FLamby Fed-Heart-Disease, federated on Flower",
        subtitle=f"{plural(results['seeds'], 'seed')}; "
        f"{results['method']} adapter, {results['strategy']}, "
        f"{results['rounds']} rounds; only adapter weights, counts and metrics left the centres",
    )
    published = results["flamby_published_accuracy"]
    labels = column_labels(results.get("personalise", "finetune"))
    report.summary([
        f"({key}) {setting['description']}: shared adapter accuracy "
        f"{_cell(setting['average']['federated']['accuracy'])}{_personal(setting, labels)} "
        "(mean over centres and seeds)."
        for key, setting in results["settings"].items()
    ] + ["FLamby published (accuracy at 0.5, average of 4 centres): "
         + ", ".join(f"{k} {v:.1%}" for k, v in published.items()) + ".",
         "Accuracy is at a 0.5 threshold (FLamby's figure); AUROC and balanced accuracy are "
         "undefined at Switzerland's test set in some seeds (one class), so they average over "
         "the centres where they are defined.",
         *reading_lines(results),
         *results.get("site_notes", [])])  # fmt: skip
    for key, setting in results["settings"].items():
        report.section(f"Setting ({key}): {setting['description']}")
        report.table(["model (average over centres)", *METRICS], _average_rows(setting, labels))
        report.table(["centre: accuracy", *labels.values()], _centre_rows(setting, labels))
    return report


def _personal(setting: dict[str, Any], labels: dict[str, str]) -> str:
    if "personalised" not in labels:
        return ""
    personal = labels["personalised"].removeprefix("federated adapter, ")
    return f", {personal} {_cell(setting['average']['personalised']['accuracy'])}"


def _cell(entry: dict[str, Any]) -> str:
    if entry.get("mean") is None:
        return "n/a"
    sd = "" if entry.get("sd") is None else f" ± {entry['sd']:.3f}"
    return f"{entry['mean']:.3f}{sd}"


def _average_rows(setting: dict[str, Any], labels: dict[str, str]) -> list[list[str]]:
    shown = {k: v for k, v in setting["average"].items()
             if v["accuracy"]["seeds"] and k in labels}  # fmt: skip
    return [[labels[which], *(_cell(values[m]) for m in METRICS)]
            for which, values in shown.items()]  # fmt: skip


def _centre_rows(setting: dict[str, Any], labels: dict[str, str]) -> list[list[str]]:
    return [[centre, *(_cell(values[w]["accuracy"]) for w in labels)]
            for centre, values in setting["centres"].items()]  # fmt: skip
