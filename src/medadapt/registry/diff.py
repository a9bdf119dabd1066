"""Compare two adapter versions: what changed in the config, the data, and the metrics.

For metrics with confidence intervals on both sides, the diff says whether the intervals
overlap: overlapping intervals cannot tell the versions apart, whatever the deltas say, and are
no evidence that the versions perform the same either (a smaller difference than the intervals
resolve may be there).
It also says whether both were measured on the same test rows (the split each manifest
records): if not, a difference in metrics mixes the model and the data; and whether both
predict the same outcome (label and task, and the classes they score: an image adapter records
no label): if not, their metrics measure different things and no difference between them
means anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from medadapt.registry.records import UNIT_KEY, AdapterVersion, Metric, parse_metrics
from medadapt.results import AdapterRecord


class Question(NamedTuple):
    """What an adapter predicts: its task and label (``Question("regression",
    "progression")``), and the classes it scores, in that order (``()``: none recorded). An
    image adapter records no label: its classes say what it predicts."""

    task: str | None
    label: str | None
    classes: tuple[str, ...] = ()

    @property
    def outcome(self) -> tuple[str | None, str | None]:
        """``(task, label)``: what two adapters must share to answer the same question."""
        return self.task, self.label

    @property
    def recorded(self) -> bool:
        """Whether the manifest says anything of it (task, label or classes)."""
        return bool(self.task or self.label or self.classes)


SPLIT_KEYS = ("data_sha256", "source_sha256", "test_digest")
"""What a manifest's ``split`` records about the test rows: the data file's hash (tabular:
``data_sha256``, images: ``source_sha256``) and a digest of the test rows' positions."""


@dataclass(frozen=True)
class Change:
    """One field that differs; ``None`` on a side where the field is absent."""

    key: str
    a: Any
    b: Any


@dataclass(frozen=True)
class MetricChange:
    """One metric on both sides; ``overlap`` is None unless both sides have a CI."""

    name: str
    a: Metric | None
    b: Metric | None

    @property
    def delta(self) -> float | None:
        """``b - a``; an int for counts (``n``, ``n_test``...)."""
        if self.a is None or self.b is None:
            return None
        if self.a.is_count and self.b.is_count:
            return int(self.b.value) - int(self.a.value)
        return self.b.value - self.a.value

    def format_delta(self, digits: int = 3) -> str:
        """The change as shown: ``+0`` for counts, ``-0.007`` for a metric, ``-`` if one side
        has none. A metric's is the difference of the two values as printed with ``digits``
        decimals, so that the table adds up (a trial read 0.974 -> 0.998 "+0.025", from the
        unrounded values)."""
        delta = self.delta
        if delta is None:
            return "-"
        if isinstance(delta, int):
            return f"{delta:+d}"
        shown = round(float(f"{self.b.value:.{digits}f}") - float(f"{self.a.value:.{digits}f}"),
                      digits)  # type: ignore[union-attr]  # fmt: skip
        return f"{shown + 0.0:+.{digits}f}"  # + 0.0: never "-0.000"

    @property
    def is_same_count(self) -> bool:
        """A sample size (``n``, ``n_positive``) the same on both sides."""
        a, b = self.a, self.b
        return a is not None and b is not None and a.is_count and b.is_count and a == b

    @property
    def overlap(self) -> bool | None:
        if self.a is None or self.b is None or self.a.ci is None or self.b.ci is None:
            return None
        return self.a.ci[0] <= self.b.ci[1] and self.b.ci[0] <= self.a.ci[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "a": asdict(self.a) if self.a else None,
            "b": asdict(self.b) if self.b else None,
            "delta": self.delta,
            "ci_overlap": self.overlap,
        }


@dataclass(frozen=True)
class VersionDiff:
    """``a`` and ``b`` refs; changed general fields, config keys and data-summary keys (dotted
    paths), and every metric recorded on either side."""

    a: str
    b: str
    fields: list[Change]
    config: list[Change]
    data_summary: list[Change]
    metrics: list[MetricChange]
    same_test_rows: bool | None = None
    """True: both measured on the same rows of the same data; False: on different rows (or
    data); None: a side does not record its test rows."""
    other_file: bool = False
    """Where :attr:`same_test_rows` is False: their test rows sit at the same positions of two
    different data files (the same patients if one file is a re-saved copy of the other, which
    the registry cannot tell: it keeps no test row's content)."""
    questions: tuple[Question, Question] = (Question(None, None), Question(None, None))
    """What ``a`` and ``b`` predict (:class:`Question`), as their manifests record it."""
    same_base: bool = True
    """Whether both were trained on the same base model (the same weights)."""
    request_fields: tuple[list[str], list[str]] | None = None
    """On different bases, the request fields only ``a``'s base reads and only ``b``'s
    (a client of one sends fields the other refuses: ``promote`` refuses such a swap); None
    where the bases read the same fields, or either does not say."""
    training: list[Change] = field(default_factory=list)
    """How two federated adapters' trainings differ (``strategy``, ``rounds``, ``sites``...:
    :func:`federated_training`); empty where neither is federated or they were trained alike."""
    site_metrics: dict[str, list[MetricChange]] = field(default_factory=dict)
    """Each site's own figures on both sides, for federated adapters (whose :attr:`metrics`
    are unweighted means over sites, without intervals): ``{"Hungary": [auroc, ...]}``; for
    a federated adapter against one trained at one of its sites, that site's."""
    one_site_against_means: str | None = None
    """Where one version is federated (its :attr:`metrics` are means over its sites) and the
    other was trained and tested at one place: why their metrics' change is not shown."""
    federated_refs: tuple[str, ...] = ()
    """Those of the two whose metrics are means over sites (a federated adapter's, not one a
    site kept): their test patients are held at their sites."""

    @property
    def identical_weights(self) -> bool:
        """Whether both versions hold the same weights file, byte for byte, whatever their
        bases; only with :attr:`same_base` too do they give every patient the same answer
        (what ``registry diff`` then says)."""
        return not any(c.key == "weights_sha256" for c in self.fields)

    @property
    def same_question(self) -> bool | None:
        """False when ``a`` and ``b`` predict different outcomes (another label or task, or
        other classes: two image adapters record no label): their metrics then measure
        different things; None when a side records none of these. One that appended classes
        to the other's, in order, asks the same question (as ``add`` takes it for the next
        version: :func:`scores_in_order`)."""
        qa, qb = self.questions
        if not (qa.recorded and qb.recorded):
            return None
        ca, cb = qa.classes, qb.classes
        return qa.outcome == qb.outcome and (scores_in_order(ca, cb) or scores_in_order(cb, ca))

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "fields": [asdict(c) for c in self.fields],
            "config": [asdict(c) for c in self.config],
            "data_summary": [asdict(c) for c in self.data_summary],
            "metrics": [m.to_dict() for m in self.metrics],
            "same_test_rows": self.same_test_rows,
            "other_file": self.other_file,
            "same_question": self.same_question,
            "questions": [
                {"task": q.task, "label": q.label, "classes": list(q.classes) or None}
                for q in self.questions
            ],
            "same_base": self.same_base,
            "identical_weights": self.identical_weights,
            "request_fields": None if self.request_fields is None else
            {"only_a": self.request_fields[0], "only_b": self.request_fields[1]},
            "training": [asdict(c) for c in self.training],
            "site_metrics": {site: [m.to_dict() for m in changes]
                             for site, changes in self.site_metrics.items()},
            "one_site_against_means": self.one_site_against_means,
            "means_over_sites": list(self.federated_refs),
        }  # fmt: skip


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists are kept as values)."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            out.update(flatten(item, path))
        else:
            out[path] = item
    return out


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Keys whose values differ; a key set to None and an absent key are the same."""
    fa, fb = flatten(a), flatten(b)
    keys = list(fa) + [k for k in fb if k not in fa]
    return [Change(k, fa.get(k), fb.get(k)) for k in keys if fa.get(k) != fb.get(k)]


def _counted(summary: dict[str, Any]) -> dict[str, Any]:
    """A data summary without the word for what it counts (versions registered before it was
    recorded lack it: not a change in the data)."""
    return {k: v for k, v in summary.items() if k != UNIT_KEY}


def recorded(manifest_path: Path) -> AdapterRecord:
    """The metadata an adapter manifest records (empty when it cannot be read)."""
    try:
        meta = json.loads(manifest_path.read_bytes()).get("metadata")
    except (OSError, ValueError, AttributeError):
        meta = None
    return AdapterRecord.from_json(meta)


def federated_training(record: AdapterRecord) -> dict[str, Any]:
    """How a federated adapter was trained, as its record says it (its sites, strategy,
    rounds, local epochs, personalisation, privacy), without its sites' figures; ``{}`` for
    an adapter trained at one place."""
    federated = record.extra.get("federated")
    if not isinstance(federated, dict):
        return {}
    return {k: v for k, v in federated.items() if k != "by_site"}


def site_figures(record: AdapterRecord) -> dict[str, dict[str, Any]]:
    """A federated adapter's figures at each site (``{"Hungary": {"n": 89, "auroc": 0.87,
    "auroc_ci": [...]}}``), as its record keeps them; ``{}`` for any other adapter."""
    by_site = (record.extra.get("federated") or {}).get("by_site")
    return by_site if isinstance(by_site, dict) else {}


def _site_changes(
    a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]
) -> dict[str, list[MetricChange]]:
    """Each site's figures on both sides (a site of one side only: its figures against none);
    none unless both adapters are federated (one trained at one place has no site figures)."""
    out: dict[str, list[MetricChange]] = {}
    if not (a and b):
        return out
    for site in list(a) + [s for s in b if s not in a]:
        out[site] = _metric_changes(a.get(site) or {}, b.get(site) or {})
    return out


def _metric_changes(a: dict[str, Any], b: dict[str, Any]) -> list[MetricChange]:
    """Every metric recorded on either side of two metrics records, ``a``'s order first."""
    ma = {m.name: m for m in parse_metrics(a)}
    mb = {m.name: m for m in parse_metrics(b)}
    return [
        MetricChange(n, ma.get(n), mb.get(n)) for n in list(ma) + [n for n in mb if n not in ma]
    ]


def question(record: AdapterRecord) -> Question:
    """What an adapter predicts (:class:`Question`), from its recorded metadata."""
    classes = record.classes if isinstance(record.classes, list | tuple) else ()
    return Question(record.task, record.label, tuple(map(str, classes)))


def scores_in_order(before: tuple[str, ...], after: tuple[str, ...]) -> bool:
    """Whether an adapter scoring the classes ``after`` scores ``before``'s in the same order
    (it may append new ones); True where either side records none.

    >>> scores_in_order(("normal", "pneumonia"), ("normal", "pneumonia", "covid"))
    True
    >>> scores_in_order(("normal", "pneumonia"), ("pneumonia", "normal"))
    False
    """
    return not before or not after or after[: len(before)] == before


def question_words(asked: Question, *, name_classes: bool = False) -> str:
    """What an adapter predicts, in words: ``'progression' (regression)``; by its classes
    where it records no label (an image adapter), or with them too (``name_classes``).

    >>> question_words(Question("binary", "diagnosis"))
    "'diagnosis' (binary)"
    >>> question_words(Question("binary", None, ("normal", "pneumonia")))
    "the classes 'normal', 'pneumonia' (binary)"
    """
    task = asked.task or "task not recorded"
    classes = ", ".join(map(repr, asked.classes))
    if asked.label:
        scored = f" scoring {classes}" if name_classes and classes else ""
        return f"{asked.label!r} ({task}{scored})"
    if classes:
        return f"the classes {classes} ({task})"
    return asked.task or "an unknown task"


def same_test_rows(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool | None:
    """Whether two recorded splits (``metadata.split``) name the same test rows of the same
    data: None when either side records no test rows."""
    ka = {k: a[k] for k in SPLIT_KEYS if isinstance(a, dict) and a.get(k) is not None}
    kb = {k: b[k] for k in SPLIT_KEYS if isinstance(b, dict) and b.get(k) is not None}
    if "test_digest" not in ka or "test_digest" not in kb:
        return None
    return ka == kb


def same_positions_of_other_files(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two recorded splits name test rows at the same positions (the same digest) of
    two different data files: a trial's two adapters of one site, the second trained on a
    re-saved copy of the first's file, were said to be measured on "different test rows"."""
    if same_test_rows(a, b) is not False:
        return False
    return (a or {}).get("test_digest") == (b or {}).get("test_digest")


def diff_versions(
    a: AdapterVersion,
    b: AdapterVersion,
    *,
    splits: tuple[dict[str, Any] | None, dict[str, Any] | None] = (None, None),
    questions: tuple[Question, Question] = (Question(None, None), Question(None, None)),
    records: tuple[AdapterRecord, AdapterRecord] | None = None,
) -> VersionDiff:
    """``splits``: each version's recorded split, to tell whether the metrics compare;
    ``questions``: what each predicts (:func:`question`), to tell whether they measure the
    same thing; ``records``: their metadata, for how federated adapters were trained and
    their figures at each site."""
    ra, rb = records or (AdapterRecord.from_json(None), AdapterRecord.from_json(None))
    general = {
        "method": (a.method, b.method),
        "task": (a.task, b.task),
        "base_model": (a.base_short, b.base_short),
        "parent": (a.parent, b.parent),
        "n_parameters": (a.n_parameters, b.n_parameters),
        "weights_sha256": (a.weights_blob, b.weights_blob),
        "intended_use": (a.intended_use, b.intended_use),
    }
    fields = [Change(k, va, vb) for k, (va, vb) in general.items() if va != vb]
    federated = tuple(v.ref for v, r in ((a, ra), (b, rb)) if _means_over_sites(v, r))
    site_metrics = _site_changes(site_figures(ra), site_figures(rb))
    scopes = None
    if len(federated) == 1:  # a federated adapter against one of one place
        scopes, site_metrics = _one_site_against_means(a, b, ra, rb)
    return VersionDiff(
        a=a.ref,
        b=b.ref,
        fields=fields,
        config=_changes(a.config, b.config),
        data_summary=_changes(_counted(a.data_summary), _counted(b.data_summary)),
        metrics=_metric_changes(a.metrics, b.metrics),
        same_test_rows=same_test_rows(*splits),
        other_file=same_positions_of_other_files(*splits),
        questions=questions,
        same_base=a.base_fingerprint.get("weights") == b.base_fingerprint.get("weights"),
        training=_changes(federated_training(ra), federated_training(rb)),
        site_metrics=site_metrics,
        one_site_against_means=scopes,
        federated_refs=federated,
    )


def _means_over_sites(version: AdapterVersion, record: AdapterRecord) -> bool:
    """Whether ``version``'s metrics are unweighted means over its sites: a federated
    adapter's with its sites' own figures, not one a site kept (the shared adapter at that
    site, or its personalised one: its ``data_summary`` names the site, its figures are
    that site's)."""
    summary = version.data_summary if isinstance(version.data_summary, dict) else {}
    return bool(site_figures(record)) and summary.get("site") is None


def _place(version: AdapterVersion) -> str | None:
    """Where a version's figures were measured: its group, or the site that kept it."""
    summary = version.data_summary if isinstance(version.data_summary, dict) else {}
    place = summary.get("group") or summary.get("site")
    return None if place is None else str(place)


def _one_site_against_means(
    a: AdapterVersion, b: AdapterVersion, ra: AdapterRecord, rb: AdapterRecord
) -> tuple[str, dict[str, list[MetricChange]]]:
    """Why the metrics of a federated adapter (means over its sites) and of one trained at
    one place are not compared (a trial's ``diff`` showed accuracy +0.120: 0.733 at VA
    against the mean of 0.973 at Switzerland and 0.733 at VA, the same at VA), and, where
    the other was trained at one of its sites (its ``group``), both versions' figures there."""
    means_b = _means_over_sites(b, rb)
    one, fed, by_site = (a, b, site_figures(rb)) if means_b else (b, a, site_figures(ra))
    group = _place(one)
    sites = list(by_site)
    said = (f"the figures of {fed.ref} are unweighted means over its sites ({', '.join(sites)}), "
            f"those of {one.ref} are {f'at {group}' if group else 'at one place'}: their "
            "change would compare other patients, not the models, and is not shown")  # fmt: skip
    if group is None or group not in by_site:
        return said, {}
    mine, theirs = dict(one.metrics), by_site[group]
    pair = (mine, theirs) if one is a else (theirs, mine)
    return f"{said}; both at {group}, below", {group: _metric_changes(*pair)}
