"""What a study says about a target group's table beyond class counts: features it records
far less often than the source, and category values the source never had."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medadapt.data.schema import TableSchema

MISSING_JUMP = 0.30  # share of rows: a feature this much more often missing in the target


def target_findings(schema: TableSchema, source, target_train, target_test) -> list[tuple]:
    """Features far more often missing in the target than in the source, and category
    values the source never had."""
    import pandas as pd

    findings = []
    target = pd.concat([target_train.frame, target_test.frame])
    jumps = {}
    for feature in schema.features if source is not None else []:
        frame = source.frame
        in_source = float(frame[feature.name].isna().mean()) if feature.name in frame else 1.0
        in_target = float(target[feature.name].isna().mean()) if feature.name in target else 1.0
        if in_target - in_source >= MISSING_JUMP or (in_target == 1.0 and in_source < 1.0):
            jumps[feature.name] = {"source": round(in_source, 3), "target": round(in_target, 3)}
    if jumps:
        described = ", ".join(
            f"{name} ({v['target']:.0%} vs {v['source']:.0%})" for name, v in jumps.items()
        )
        findings.append((
            "features_missing_in_target",
            "warning",
            f"Features far more often missing in the target group than in the source: "
            f"{described}. The model handles missing values natively, but it cannot use "
            "information the target group does not record.",
            {"missing_share": jumps},
        ))  # fmt: skip
    unseen = schema.encode(target_train.frame, with_labels=False).unseen
    if unseen:
        findings.append((
            "unseen_categories",
            "info",
            f"Category values never seen in the source groups (rows per feature): {unseen}. "
            "They are encoded as 'unseen'; the adapter can learn what they mean here.",
            {"unseen": unseen},
        ))  # fmt: skip
    return findings
