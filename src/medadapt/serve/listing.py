"""The entries of ``GET /v1/adapters`` (each promoted version, loaded or not) and
``GET /v1/bases`` (the base models answering), built when the server reads the registry.

Each says what a binary model's ``probability`` is the probability of (an image model's, the
second of its ``probabilities``): the positive class, and where the base was trained with
``--positive-above`` the rule that made it (``num > 0``), read from the base's record (a base
that cannot be loaded still records it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medadapt.evaluate.report.formatting import spelled_cautions
from medadapt.registry.records import AdapterVersion, metric_notes
from medadapt.results import recorded_metrics

WEIGHTS_CHARS = 16  # an entry's ``weights``: sha256: and this many hex digits
BASE_CHARS = 12  # an entry's ``base``: this many hex digits of the base's weights hash
OTHER_TASKS = ("multiclass", "regression")  # an adapter's recorded task with no positive class


def _get(schema: Any, key: str) -> Any:
    return schema.get(key) if isinstance(schema, Mapping) else getattr(schema, key, None)


def answer_class(schema: Any) -> dict[str, Any]:
    """What a model's answers predict, from its base's ``schema`` (the object, or the dict a
    base records; None: not known): ``label``, and for a binary task the ``positive_class``
    that ``probability`` is the probability of, with the ``positive_rule`` that made it
    (``--positive-above``), else None.

    >>> answer_class({"task": "binary", "label": "num", "classes": ["0", "1"],
    ...               "positive_above": 0.0})
    {'label': 'num', 'positive_class': '1', 'positive_rule': 'num > 0'}
    >>> answer_class({"task": "binary", "label": "dx", "classes": ["B", "M"]})["positive_rule"]
    >>> answer_class({"classes": ["normal", "nodule"], "channels": 1})  # an image base's
    {'label': None, 'positive_class': 'nodule', 'positive_rule': None}
    """
    label = _get(schema, "label") if schema is not None else None
    label = label if isinstance(label, str) and label else None
    classes = _get(schema, "classes") if schema is not None else None
    out: dict[str, Any] = {"label": label, "positive_class": None, "positive_rule": None}
    if not classes or len(classes) != 2 or _get(schema, "task") not in ("binary", None):
        return out  # an image base records no task: two classes are its binary one
    out["positive_class"] = str(list(classes)[-1])
    above = _get(schema, "positive_above")
    if label and isinstance(above, int | float) and not isinstance(above, bool):
        out["positive_rule"] = f"{label} > {above:g}"
    return out


def positive_words(schema: Any) -> str | None:
    """What a binary answer's ``probability`` is the probability of: ``"1 (num > 0)"``, the
    positive class with the rule that made it (a trial's answers read ``"predicted": "1"``
    with no word of what 1 means); None where no positive class is known.

    >>> positive_words({"task": "binary", "label": "num", "classes": ["0", "1"],
    ...                 "positive_above": 0.0})
    '1 (num > 0)'
    >>> positive_words({"task": "binary", "label": "dx", "classes": ["B", "M"]})
    "dx = 'M'"
    """
    said = answer_class(schema)
    positive, rule, label = said["positive_class"], said["positive_rule"], said["label"]
    if positive is None:
        return None
    if rule:
        return f"{positive} ({rule})"
    return f"{label} = {positive!r}" if label else positive


def adapter_entry(
    v: AdapterVersion, *, kind: str | None, schema: Any, failed: str | None = None,
    despite: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``/v1/adapters``' entry for the promoted version ``v`` on a base of ``kind`` whose
    ``schema`` says what it predicts (an adapter that added classes to an image base's two
    predicts no positive class); ``failed``: why it cannot be loaded (None: served);
    ``despite``: the recorded harm it was promoted despite (``--despite-warnings``)."""
    summary = v.data_summary
    answers = answer_class(schema)
    if v.task in OTHER_TASKS:  # its own task, unlike its base's (classes added)
        answers.update(positive_class=None, positive_rule=None)
    return {
        "name": v.name,
        "version": v.version,
        "method": v.method,
        "weights": f"sha256:{v.weights_blob[:WEIGHTS_CHARS]}",
        "base": v.base_fingerprint["weights"][:BASE_CHARS],
        "group": summary.get("group"),
        "group_column": summary.get("group_column"),
        "task": v.task,
        "kind": kind,
        **answers,
        "metrics": {k: val for k, val in v.metrics.items() if not isinstance(val, dict)},
        "notes": metric_notes(v.metrics),
        "cautions": spelled_cautions(v.metrics),
        "failed": failed,
        "served_despite_warnings": despite,
    }


def base_entry(key: str, base: Any, *, groups: set[str], alone: bool) -> dict[str, Any]:
    """``/v1/bases``' entry for the served base model ``base`` (weights hash ``key``) trained
    on ``groups``; ``alone``: it answers requests routed to no adapter."""
    metrics = recorded_metrics(base.training) or {}
    return {
        "base": key[:BASE_CHARS],
        "weights": f"sha256:{key[:WEIGHTS_CHARS]}",
        "kind": base.kind,
        "task": _get(base.schema, "task"),
        **answer_class(base.schema),
        "classes": [str(c) for c in _get(base.schema, "classes") or []],
        "groups": sorted(groups),
        "answers_alone": alone,
        "metrics": {k: val for k, val in metrics.items() if not isinstance(val, dict)},
        "notes": metric_notes(metrics),
        "cautions": spelled_cautions(metrics),
    }
