"""Data-sufficiency checks, run before any training, with the numbers behind each warning.

PEFT does not create data: these checks tell the user what the target group's data can
support. Each :class:`Finding` carries a code, a level (``warning`` or ``info``), a plain
sentence and the numbers it rests on (counts and shares only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.schema import TableSchema

MIN_EVENTS_TRAIN = 10  # per class, in the training rows
MIN_EVENTS_TEST = 5  # per class, in the test rows (below: AUROC not reported)
EVENTS_PER_FEATURE = 10  # the classical events-per-variable rule of thumb
PREVALENCE_GAP = 0.15
SMALL_GROUP_SHARE = 0.10
MISSING_JUMP = 0.30


@dataclass
class Finding:
    code: str
    level: str
    message: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _class_counts(schema: TableSchema, rows: pd.DataFrame) -> dict[str, int]:
    labels = schema.encode_labels(rows).numpy()
    counts = np.bincount(labels, minlength=len(schema.classes))
    return {c: int(n) for c, n in zip(schema.classes, counts, strict=True)}


def check_sufficiency(
    schema: TableSchema,
    *,
    source: pd.DataFrame,
    target_train: pd.DataFrame,
    target_test: pd.DataFrame,
    trainable_params: dict[str, int] | None = None,
) -> list[Finding]:
    """Findings about the target group's data, compared with the source groups'."""
    findings: list[Finding] = []
    n_source, n_target = len(source), len(target_train) + len(target_test)
    share = n_target / max(n_source + n_target, 1)
    if share < SMALL_GROUP_SHARE:
        findings.append(
            Finding(
                "small_group",
                "warning",
                f"The target group has {n_target} rows against {n_source} in the source groups "
                f"({share:.0%} of all rows): its estimates will be much less certain.",
                {"n_target": n_target, "n_source": n_source, "share": round(share, 3)},
            )
        )
    if schema.task != "regression":
        train_counts = _class_counts(schema, target_train)
        test_counts = _class_counts(schema, target_test)
        rare_train = {c: n for c, n in train_counts.items() if n < MIN_EVENTS_TRAIN}
        if rare_train:
            findings.append(
                Finding(
                    "few_training_events",
                    "warning",
                    f"Training rows per class in the target group: {train_counts}; classes "
                    f"{sorted(rare_train)} have fewer than {MIN_EVENTS_TRAIN}. An adapter can fit "
                    "them, but what it learns about them is mostly noise.",
                    {"train_class_counts": train_counts},
                )
            )
        rare_test = {c: n for c, n in test_counts.items() if n < MIN_EVENTS_TEST}
        if rare_test:
            findings.append(
                Finding(
                    "few_test_events",
                    "warning",
                    f"Held-out rows per class: {test_counts}. With fewer than {MIN_EVENTS_TEST} "
                    f"in {sorted(rare_test)}, AUROC, balanced accuracy and sensitivity/specificity "
                    "cannot be estimated; only accuracy and calibration are reported.",
                    {"test_class_counts": test_counts},
                )
            )
        events = min(train_counts.values())
        n_features = len(schema.features)
        if events < EVENTS_PER_FEATURE * n_features:
            findings.append(
                Finding(
                    "events_per_feature",
                    "info",
                    f"{events} events in the smallest class for {n_features} features "
                    f"({events / n_features:.1f} per feature; the usual rule for fitting a new "
                    f"model is >= {EVENTS_PER_FEATURE}). Training a new model on this group alone "
                    "is risky; reusing the base model through an adapter is the safer route.",
                    {"events": events, "n_features": n_features},
                )
            )
        for strategy, params in (trainable_params or {}).items():
            findings.append(
                Finding(
                    "events_per_parameter",
                    "info",
                    f"{strategy}: {params} trainable parameters, {events / max(params, 1):.3f} "
                    "events per parameter. Small adapters rely on the frozen base and early "
                    "stopping, not on the data alone.",
                    {"strategy": strategy, "trainable_params": params, "events": events},
                )
            )
        if schema.task == "binary":
            p_source = _prevalence(schema, source)
            p_target = _prevalence(schema, pd.concat([target_train, target_test]))
            if abs(p_target - p_source) > PREVALENCE_GAP:
                findings.append(
                    Finding(
                        "prevalence_shift",
                        "warning",
                        f"Prevalence differs: {p_source:.0%} in the source groups, "
                        f"{p_target:.0%} in the target group. Expect the base model to be "
                        "mis-calibrated there; accuracy at a fixed threshold can look good or "
                        "bad for that reason alone.",
                        {
                            "source_prevalence": round(p_source, 3),
                            "target_prevalence": round(p_target, 3),
                        },
                    )
                )
    findings += _missing_features(schema, source, pd.concat([target_train, target_test]))
    unseen = schema.encode(target_train, with_labels=False).unseen
    if unseen:
        findings.append(
            Finding(
                "unseen_categories",
                "info",
                f"Category values never seen in the source groups (rows per feature): {unseen}. "
                "They are encoded as 'unseen'; the adapter can learn what they mean here.",
                {"unseen": unseen},
            )
        )
    return findings


def _prevalence(schema: TableSchema, rows: pd.DataFrame) -> float:
    return float(schema.encode_labels(rows).float().mean())


def _missing_features(
    schema: TableSchema, source: pd.DataFrame, target: pd.DataFrame
) -> list[Finding]:
    jumps = {}
    for feature in schema.features:
        in_source = float(source[feature.name].isna().mean()) if feature.name in source else 1.0
        in_target = float(target[feature.name].isna().mean()) if feature.name in target else 1.0
        if in_target - in_source >= MISSING_JUMP or (in_target == 1.0 and in_source < 1.0):
            jumps[feature.name] = {"source": round(in_source, 3), "target": round(in_target, 3)}
    if not jumps:
        return []
    described = ", ".join(
        f"{name} ({v['target']:.0%} vs {v['source']:.0%})" for name, v in jumps.items()
    )
    return [
        Finding(
            "features_missing_in_target",
            "warning",
            f"Features far more often missing in the target group than in the source: {described}. "
            "The model handles missing values natively, but it cannot use information the target "
            "group does not record.",
            {"missing_share": jumps},
        )
    ]
