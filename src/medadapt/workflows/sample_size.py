"""Is there enough data to adapt and check a model at a new site? Riley et al.'s criteria
(:mod:`medadapt.evaluate.samplesize`) applied to a base model and a target site's data.

**Adapters are not new models.** The development criteria assume a model fitted from data
alone, with ``p`` parameters. An adapter starts from the frozen base's knowledge, so its
effective number of parameters is somewhere between none and all it trains: medadapt bounds it
by the head-only count (the fewest an adaptation trains) and reports, for every strategy, the
n its trainable-parameter count would need as if it were a new model (the most conservative
reading). A criterion met is necessary, not sufficient: the learning curves of ``study`` show
what the data actually supports.

The anticipated Cox-Snell R-squared comes from the base's held-out AUROC on its source (the
R-squared a model with that C-statistic implies), or, without one, Riley et al. 2020's
conservative default: a Nagelkerke R-squared of 0.15 (R2cs = 0.15 x its maximum).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medadapt.adapters import AdapterModel, without_adapters
from medadapt.adapters.methods import default_config
from medadapt.evaluate.samplesize import (
    binding,
    cox_snell_from_c,
    development,
    max_cox_snell,
    validation,
)
from medadapt.modalities.base import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.train.fitting import predict
from medadapt.workflows.splitting import select

STRATEGIES = {"head_only": "head", "lora": "lora", "bottleneck": "bottleneck",
              "full_finetune": None}  # fmt: skip
SOURCE = ("Riley et al. Stat Med 2019;38:1276-96 and BMJ 2020;368:m441 (development); "
          "Riley et al. Stat Med 2021;40:4230-51 (external validation)")  # fmt: skip
NAGELKERKE_DEFAULT = 0.15


def strategy_parameters(modality: Any, base: BaseModel) -> dict[str, int]:
    """Trainable parameters of each adaptation strategy on ``base`` (no training)."""
    out = {}
    for strategy, method in STRATEGIES.items():
        model = without_adapters(base.model)
        if method is None:
            out[strategy] = sum(p.numel() for p in model.parameters())
            continue
        wrapped = AdapterModel(model)
        wrapped.add_adapter("probe", default_config(method, modality.family(wrapped),
                                                    heads=modality.heads(wrapped)))  # fmt: skip
        out[strategy] = wrapped.count_parameters("probe")
    return out


def anticipated_r2(base: BaseModel, prevalence: float,
                   target_auroc: float | None = None) -> tuple[float, str]:  # fmt: skip
    """The R-squared the criteria assume: from the base's AUROC (the lower of its held-out
    AUROC on the source and, when known, its AUROC on the target's samples), else the
    conservative default."""
    source = (base.training.get("test_metrics") or {}).get("auroc")
    known = [(a, w) for a, w in ((source, "on its source"), (target_auroc, "at this site"))
             if a is not None and 0.5 < a < 1]  # fmt: skip
    if known:
        auroc, where = min(known)
        return cox_snell_from_c(auroc, prevalence), (
            f"from the base model's AUROC {where} ({auroc:.3f}, the lower of what is known)"
        )
    return NAGELKERKE_DEFAULT * max_cox_snell(prevalence), (
        "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)"
    )


def check_sample_size(
    base_dir: Path,
    data: Path,
    *,
    group_column: str | None = None,
    group: str | None = None,
    test_fraction: float = 0.3,
) -> dict[str, Any]:
    """Development and validation criteria for adapting ``base_dir`` on ``data``'s ``group``
    and testing it on ``test_fraction`` of those patients; counts and numbers only."""
    base = BaseModel.load(base_dir)
    modality = modality_of(base.kind)
    if modality.kind != "tabular":
        return {"applies": False, "why": (
            f"check-data reads tables; for {modality.scope} the development criteria apply to "
            "the adapter's parameters in the same way (see 'medadapt adapt', which records "
            "them for binary classifiers), and the validation criteria need the model's scores "
            "on the site's samples")}  # fmt: skip
    if modality.task(base.schema) != "binary":
        return {"applies": False, "why": "Riley et al.'s criteria here are for binary "
                f"outcomes; this model's task is {modality.task(base.schema)}"}  # fmt: skip
    samples = modality.read_for_model(data, base, modality.options(), group_column=group_column)
    chosen = select(samples, group_column, [group] if group else None, what="--group")
    target = samples.subset(chosen)
    labels = np.asarray(target.labels)
    prevalence = float(np.mean(labels == 1))
    n, n_test = len(labels), round(test_fraction * len(labels))
    if not 0 < prevalence < 1:
        return {"applies": False, "why": f"the {n} {modality.noun} hold one class only"}
    risk = _risk(modality, base, target)
    target_auroc = _auroc(target, risk)
    r2, r2_source = anticipated_r2(base, prevalence, target_auroc)
    params = strategy_parameters(modality, base)
    return {
        "applies": True, "source": SOURCE, "n": n, "n_train": n - n_test, "n_test": n_test,
        "prevalence": prevalence, "r2_cs": r2, "r2_source": r2_source,
        "development": _development(params, prevalence, r2, n - n_test),
        "validation": _validation(base, risk, prevalence, n_test, target_auroc),
    }  # fmt: skip


def _development(params: dict[str, int], prevalence: float, r2: float, available: int) -> dict:
    out = {}
    for strategy, p in params.items():
        criteria = development(parameters=p, prevalence=prevalence, r2_cs=r2)
        final = binding(criteria)
        out[strategy] = {"parameters": p, "criteria": [c.to_dict() for c in criteria],
                         "binding": final.name, "n": final.n,
                         "met": available >= final.n}  # fmt: skip
    return out


def _auroc(samples: Any, risk: np.ndarray) -> float | None:
    """The AUROC of ``risk`` (the base's) on ``samples`` (None with one class)."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(samples.labels) == 1
    if labels.all() or not labels.any():
        return None
    return float(roc_auc_score(labels, risk))


def _risk(modality: Any, base: BaseModel, samples: Any) -> np.ndarray:
    """The base's predicted probability of the outcome (class 1) per sample."""
    scores = predict(modality, base.model, base.schema, samples)
    return np.asarray(modality.task_scores(base.schema, scores), dtype=float)


def _validation(base: BaseModel, risk: np.ndarray, prevalence: float, n_test: int,
                target_auroc: float | None = None) -> dict[str, Any]:  # fmt: skip
    """The base's linear predictor on the target's patients (``risk``: its probabilities)
    gives the LP distribution; the lower of its AUROC on the source and here the anticipated
    C-statistic."""
    scores = np.clip(risk, 1e-6, 1 - 1e-6)
    lp = np.log(scores / (1 - scores))
    source = (base.training.get("test_metrics") or {}).get("auroc")
    auroc = min([a for a in (source, target_auroc) if a is not None] or [0.7])
    criteria = validation(prevalence=prevalence, c_statistic=min(max(auroc, 0.55), 0.95),
                          lp_mean=float(lp.mean()), lp_sd=float(lp.std()))  # fmt: skip
    return {
        "lp_mean": float(lp.mean()), "lp_sd": float(lp.std()), "c_statistic": auroc,
        "criteria": [{**c.to_dict(), "supported": n_test >= c.n} for c in criteria],
    }  # fmt: skip


def adapter_sample_size(modality: Any, base: BaseModel, parameters: int, train: Any,
                        test: Any) -> dict[str, Any] | None:  # fmt: skip
    """What ``adapt`` records and prints: the development criteria for this adapter read as
    a new model with its trainable ``parameters``, and whether its test samples support
    precise O/E, calibration slope and C-statistic; None when the criteria do not apply
    (not a binary outcome, or one class only)."""
    if modality.task(base.schema) != "binary" or not parameters:
        return None
    labels = np.concatenate([np.asarray(train.labels), np.asarray(test.labels)])
    prevalence = float(np.mean(labels == 1))
    if not 0 < prevalence < 1 or len(test) == 0:
        return None
    risk = _risk(modality, base, test)
    target_auroc = _auroc(test, risk)
    r2, r2_source = anticipated_r2(base, prevalence, target_auroc)
    final = binding(development(parameters=parameters, prevalence=prevalence, r2_cs=r2))
    checked = _validation(base, risk, prevalence, len(test))
    return {
        "parameters": parameters, "prevalence": round(prevalence, 4), "r2_cs": round(r2, 4),
        "r2_source": r2_source, "criterion": final.name, "n_needed": final.n,
        "n_train": len(train), "met": len(train) >= final.n,
        "test_supports": {c["name"]: c["supported"] for c in checked["criteria"]},
        "test_needs": {c["name"]: c["n"] for c in checked["criteria"]}, "source": SOURCE,
    }  # fmt: skip


def sample_size_line(entry: dict[str, Any], noun: str = "patients") -> str:
    """The one line ``adapt`` prints about it."""
    needs = ", ".join(f"{k} {v}" for k, v in entry["test_needs"].items())
    return (
        f"sample size (Riley et al.): read as a new model, its {entry['parameters']} parameters "
        f"would need {entry['n_needed']} {noun} (criterion {entry['criterion']}); "
        f"{entry['n_train']} trained it ({'met' if entry['met'] else 'not met'}: necessary, "
        f"not sufficient); precise O/E, slope, C need {needs} test {noun}, "
        f"{sum(entry['test_supports'].values())} of 3 supported by this test set"
    )


ASSUMED_C = 0.75  # a study trains its own base: the C-statistic it will reach is not known yet


def study_sample_size(modality: Any, schema: Any, parameters: dict[str, int], train: Any,
                      test: Any) -> dict[str, Any] | None:  # fmt: skip
    """For ``study``: each strategy's development criteria at the conservative default
    R-squared (the study's base is not trained yet), and whether the target's test samples
    support precise O/E and C-statistic (at an assumed C of 0.75); None when they do not
    apply."""
    if modality.task(schema) != "binary":
        return None
    labels = np.concatenate([np.asarray(train.labels), np.asarray(test.labels)])
    prevalence = float(np.mean(labels == 1))
    if not 0 < prevalence < 1:
        return None
    r2 = NAGELKERKE_DEFAULT * max_cox_snell(prevalence)
    strategies = {}
    for strategy, p in parameters.items():
        final = binding(development(parameters=p, prevalence=prevalence, r2_cs=r2))
        strategies[strategy] = {"parameters": p, "criterion": final.name, "n_needed": final.n,
                                "met": len(train) >= final.n}  # fmt: skip
    oe, _slope, c = validation(prevalence=prevalence, c_statistic=ASSUMED_C,
                               lp_mean=0.0, lp_sd=1.0)  # fmt: skip
    return {
        "prevalence": prevalence, "r2_cs": r2,
        "r2_source": "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)",
        "n_train": len(train), "n_test": len(test), "strategies": strategies,
        "test_needs": {"O/E": oe.n, f"C (assumed {ASSUMED_C})": c.n}, "source": SOURCE,
    }  # fmt: skip
