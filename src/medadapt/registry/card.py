"""The adapter card: a markdown page that says what an adapter is for and what its data supports.

Written from the manifest at registration (and for every import), so it cannot drift from the
weights it describes. Limitations are derived from the recorded summaries with fixed, stated
thresholds (small samples, skewed prevalence, one group only, wide or missing confidence
intervals); an absent summary is called out, never papered over.
"""

from __future__ import annotations

import json
from typing import Any

from medadapt.registry.diff import flatten
from medadapt.registry.records import (
    Metric,
    other_values,
    parse_metrics,
    recorded_interval,
    recorded_number,
    shown_notes,
    summaries,
)
from medadapt.registry.summary_words import (
    in_order,
    is_sample_size,
    metric_label,
    recorded_unit,
    summary_rows,
    training_warning_lines,
)
from medadapt.results import (
    SITE_FIGURES,
    VALIDATION_WORDS,
    WHOLE_RESULT,
    AdapterRecord,
    counts_behind,
    grouped,
    metric_digits,
    needed_text,
    rounded,
)

SMALL_N = 100
"""Fewer training cases than this is called a small sample."""
SMALL_MINORITY = 20
"""Fewer training samples than this in the rarest class is called out."""
SKEWED = 0.1
"""Prevalence below this (or above 1 - this) is called skewed."""
WIDE_CI = 0.2
"""A confidence interval wider than this (on a 0-1 metric) is called wide."""


def _counts(recorded: dict[str, Any], name: str, value: float) -> str:
    """``" (44 of 45)"``, ``" (49 observed, 49.1 expected)"``: the patients behind a
    proportion or an observed/expected ratio, as every table shows them
    (:func:`~medadapt.results.counts_behind`); empty without the counts."""
    n, positives = _int(recorded.get("n")), _int(recorded.get("n_positive"))
    counts = counts_behind({name: value, "n": n, "n_positive": positives}, name)
    return f" ({counts})" if counts else ""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def limitations(summary: dict[str, Any], metrics: list[Metric]) -> list[str]:
    """Plain-language limitations derived from the data summary and the metrics."""
    return [
        *_data_limitations(
            summary["data_summary"],
            summary.get("federated_sites") or [],
            summary.get("personalised") or {},
        ),
        *_test_set_limitations(summary["data_summary"]),
        *_metric_limitations(summary["metrics"], metrics, by_site=site_metrics(summary)),
        *summary["limitations"],
        "An adapter adds no information beyond its training data: it does not replace data "
        "quality or quantity.",
    ]


def _data_limitations(
    data: dict[str, Any], sites: list[str] = (), personalised: dict[str, Any] | None = None
) -> list[str]:
    """What the training-data summary (or its absence) limits: size, balance, population
    (``sites``: a federated adapter's; ``personalised``: a site's own step after them)."""
    out: list[str] = []
    n_train = _int(data.get("n_train"))
    if not data:
        out.append(
            "No training-data summary was recorded: the size, balance and origin of the "
            "training data are unknown."
        )
    elif n_train is not None and n_train < SMALL_N and sites and data.get("site"):
        out.append(_federated_site_words(data, n_train, sites, personalised or {}))
    elif n_train is not None and n_train < SMALL_N:
        out.append(
            f"Trained on {n_train} {recorded_unit(data)} (fewer than {SMALL_N}): performance "
            "estimates are uncertain and the adapter may not generalize."
        )
    rarest = _rarest_class(data, n_train)
    if rarest is not None and rarest[1] < SMALL_MINORITY:
        out.append(f"Only {rarest[1]} {rarest[0]} (fewer than {SMALL_MINORITY}).")
    prevalence = data.get("prevalence")
    if (
        isinstance(prevalence, int | float)
        and 0 <= prevalence <= 1
        and not SKEWED <= prevalence <= 1 - SKEWED
    ):
        out.append(
            f"Skewed training data (training prevalence {prevalence:.2f}): calibration and "
            "thresholds may not transfer to a population with a different prevalence."
        )
    out += [f"When it was trained: {line.removeprefix('at training: ')}"
            for line in training_warning_lines(data)]  # fmt: skip
    if data.get("group") is not None:
        column = data.get("group_column", "group")
        out.append(
            f"Trained for one group ({column} = {data['group']}): it is not validated for "
            "other sites or patient groups."
        )
    return out


def _test_set_limitations(data: dict[str, Any]) -> list[str]:
    """The validation estimates the test set was too small for, as ``adapt`` recorded them
    (Riley et al.'s external-validation criteria): said in the limitations, not only in a
    table row."""
    entry = data.get("sample_size")
    if not is_sample_size(entry):
        return []
    needs, supports = entry.get("test_needs") or {}, entry.get("test_supports") or {}
    reported = entry.get("test_reported") or {}
    short = [
        f"{VALIDATION_WORDS.get(k, k)} ({needed_text(needs[k])} needed)"
        for k in in_order(needs)
        if supports.get(k) is False
    ]
    if not short:
        return []
    unreported = [VALIDATION_WORDS.get(k, k) for k in in_order(needs) if reported.get(k) is False]
    listed = short[0] if len(short) == 1 else f"{', '.join(short[:-1])} and {short[-1]}"
    n_test, patients = _int(entry.get("n_test")), _int(entry.get("n_test_patients"))
    unit = recorded_unit(data)
    tested = "The test set was"
    if n_test is not None and patients is not None:  # repeat visits: the criteria count patients
        tested = f"Tested on {n_test:,} {entry.get('unit', unit)} from {patients:,} patients:"
    elif n_test is not None and entry.get("as_patients"):  # rows that name no patient
        tested = f"Tested on {n_test:,} rows ({entry['as_patients']}):"
    elif n_test is not None:  # each its own patient: rows with an id column, or images
        tested = f"Tested on {n_test:,} {'patients' if unit == 'rows' else unit}:"
    if unreported:  # no interval to read at all (evaluate reports none of them)
        withheld = unreported[0] if len(unreported) == 1 else (
            f"{', '.join(unreported[:-1])} and {unreported[-1]}")  # fmt: skip
        return [
            f"{tested} too few for a precise {listed}, and too few for evaluate to report the "
            f"{withheld} at all ({entry.get('not_reported', 'too few test patients')})."
        ]
    return [
        f"{tested} too few for a precise {listed}; read the intervals of those estimates, not "
        "the single values."
    ]


def _federated_site_words(
    data: dict[str, Any], n_train: int, sites: list[str], personalised: dict[str, Any]
) -> str:
    """A federated adapter kept at a site counts that site's rows only (a trial's card read
    "Trained on 39 rows" of an adapter trained at every site, then recalibrated at one)."""
    unit, site = recorded_unit(data), data["site"]
    every = f"trained federatedly over the run's sites ({', '.join(sites)})"
    if personalised:
        how = personalised.get("how") or "personalised"
        return (f"Personalised ({how}) at {site} on its {n_train} {unit} (fewer than "
                f"{SMALL_N}), from the shared adapter {every}: that step's estimates are "
                "uncertain, and its figures rest on this site's few test cases.")  # fmt: skip
    return (
        f"The shared adapter, {every}; {site}'s own training {unit} were {n_train} (fewer "
        f"than {SMALL_N}), and its figures here rest on this site's few test cases."
    )


def _rarest_class(data: dict[str, Any], n_train: int | None) -> tuple[str, int] | None:
    """The training samples of the rarest class, in words that name it (``training rows of
    class '0', the rarer class``: "6 cases in the minority class" read as 6 patients with the
    disease, where they were 6 without it), and their count; by the recorded class counts,
    else the positives (negatives: ``n_train - n_positive`` if not recorded)."""
    unit = recorded_unit(data)
    recorded = data.get("train_class_counts")
    counts = {str(k): _int(v) for k, v in recorded.items()} if isinstance(recorded, dict) else {}
    known = {k: n for k, n in counts.items() if n is not None}
    if len(counts) >= 2 and len(known) == len(counts):
        name, n = min(known.items(), key=lambda item: item[1])
        rarer = "the rarer class" if len(counts) == 2 else "the rarest class"
        return f"training {unit} of class {_cell(name)!r}, {rarer}", n
    pos, neg = _int(data.get("n_positive")), _int(data.get("n_negative"))
    if neg is None and pos is not None and n_train is not None:
        neg = n_train - pos
    if pos is None or neg is None:
        return None
    which, n = ("positive", pos) if pos <= neg else ("negative", neg)
    return f"{which} training {unit}, the rarer class", n


def _metric_limitations(recorded: dict[str, Any], metrics: list[Metric], *,
                        by_site: frozenset[str] = frozenset()) -> list[str]:  # fmt: skip
    """Missing metrics, the notes recorded with them, and missing or wide intervals (a
    federated adapter's means of the figures ``by_site`` lists have none: each site's has its
    own)."""
    out: list[str] = []
    scores = [m for m in metrics if not m.is_count]
    if not scores:
        out.append("No evaluation metrics were recorded.")
    for name, note in shown_notes(recorded).items():
        if name in WHOLE_RESULT:  # a warning about the whole result, not about one metric
            out.append(f"{note[0].upper()}{note[1:].rstrip('.')}.")
            continue
        out.append(f"{'All metrics' if name == 'all' else metric_label(name)}: {note.rstrip('.')}.")
    bare = [m for m in scores if m.ci is None and m.name not in by_site]
    if len(bare) == 1:
        out.append(
            f"No confidence interval recorded for {metric_label(bare[0].name)}: treat "
            f"{bare[0].value:.3f} as a point estimate of unknown precision."
        )
    elif bare:  # said once, not once per metric (a federated mean has none for any)
        named = [f"{metric_label(m.name)} ({m.value:.3f})" for m in bare]
        out.append(
            f"No confidence interval recorded for {', '.join(named[:-1])} and {named[-1]}: "
            "treat each as a point estimate of unknown precision."
        )
    for metric in scores:
        if metric.ci is None:
            continue
        if metric.ci[1] - metric.ci[0] > WIDE_CI and -1 <= metric.value <= 1:
            out.append(
                f"The confidence interval for {metric_label(metric.name)} is wide "
                f"({metric.ci[0]:.2f} to {metric.ci[1]:.2f}): the data do not pin down its "
                "performance."
            )
    return out


def _config_words(config: Any) -> str:
    """The method's settings as ``rank=8; alpha=16``, the unset ones left out (a trial's card
    showed the raw JSON, ``null`` for each), or that the method's defaults were used."""
    if not isinstance(config, dict):
        return f"`{_cell(config)}`"
    items = [(k, v) for k, v in flatten(config).items()
             if k != "method" and v is not None and v != {} and v != []]  # fmt: skip
    if not items:
        return "the method's defaults"
    return "`" + _cell("; ".join(f"{k}={json.dumps(v)}" for k, v in items)) + "`"


def _layers_words(n: int) -> str:
    """How many layers of the base the adapter changes; none said as what it means (a trial
    read "adapted layers 0" beside "adapter parameters 65" as nothing adapted)."""
    return str(n) if n else "none inside the base model (it trains a new output head only)"


def render_card(
    *,
    name: str,
    version: int,
    parent: int | None,
    registered: str,
    manifest: dict[str, Any],
    notes: str | None = None,
    origin: dict[str, Any] | None = None,
    positive: str | None = None,
) -> str:
    """The markdown card for ``name@version`` registered from ``manifest`` (``positive``: what
    its positive class means, from its base model: ``1 means num > 0``)."""
    summary = summaries(manifest)
    metrics = parse_metrics(summary["metrics"])
    fp = manifest.get("base_fingerprint", {})
    unit = recorded_unit(summary["data_summary"])
    classes = AdapterRecord.from_json(manifest.get("metadata")).classes
    lines = [
        *_intro(name, version, manifest, summary, fp, positive),
        "",
        *_data_section(summary["data_summary"]),
        "",
        *_metrics_section(
            summary["metrics"], metrics, unit, classes, by_site=site_metrics(summary)
        ),
        *_sites_section(summary["by_site"], unit),
        *_versus_base(summary["versus_base"], unit),
        "",
        *_limitations_section(summary, metrics, fp),
        "",
        *_provenance_section(
            name=name,
            version=version,
            parent=parent,
            registered=registered,
            manifest=manifest,
            base=summary["base_model"],
            origin=origin,
        ),
    ]
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    return "\n".join(lines) + "\n"


def _intro(
    name: str,
    version: int,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    fp: dict[str, Any],
    positive: str | None = None,
) -> list[str]:
    """The title, what the adapter is (``positive``: what its positive class means), and its
    intended use."""
    base = summary["base_model"]
    base_label = base.get("name") or base.get("backbone") or fp.get("model_class", "?")
    task = _task_words(manifest, summary["task"], positive)
    return [
        f"# {name}@{version}",  # as every command names it (a trial typed the "v2" of "south v2")
        "",
        f"A **{manifest.get('method', '?')}** adapter for **{task}** on base model "
        f"**{base_label}** (weights sha256 `{str(fp.get('weights', ''))[:12]}`).",
        "",
        "## Intended use",
        "",
        summary["intended_use"]
        or "Not stated. Before clinical use, record the population, setting and decision this "
        "adapter is meant to support.",
    ]


def _task_words(manifest: dict[str, Any], task: str | None, positive: str | None = None) -> str:
    """What the adapter predicts: ``a binary outcome (num; 1 means num > 0)`` (``positive``:
    what its positive class means, when its base model says), ``3 classes (normal, nodule,
    mass)``, ``a measured value (progression)``; a task recorded in other words as it is."""
    record = AdapterRecord.from_json(manifest.get("metadata"))
    label = f" ({record.label})" if isinstance(record.label, str) and record.label else ""
    classes = [str(c) for c in record.classes or []]
    if task == "binary":
        if positive and label:
            return f"a binary outcome ({record.label}; {_cell(positive)})"
        return f"a binary outcome{label}"
    if task == "multiclass" and classes:
        return f"{len(classes)} classes ({', '.join(classes)})"
    if task == "regression":
        return f"a measured value{label}"
    return task or "an unstated task"


def _data_section(data: dict[str, Any]) -> list[str]:
    """The training-data summary as a table, counts first, in words (as ``show`` says it)."""
    lines = ["## Training data", ""]
    if data:
        lines += ["| field | value |", "|---|---|"]
        lines += [f"| {_cell(field)} | {_cell(said)} |" for field, said in summary_rows(data)]
    else:
        lines.append("No summary was recorded.")
    return lines


def _metrics_section(
    recorded: dict[str, Any], metrics: list[Metric], unit: str, classes: Any = None, *,
    by_site: frozenset[str] = frozenset(),
) -> list[str]:  # fmt: skip
    """The metrics with their confidence intervals, and the other values recorded with them
    (``unit``: what the test counts count; ``classes``: the adapter's, to name an image
    adapter's two in its counts; ``by_site``: the figures a federated adapter's means are of,
    whose intervals are each site's, listed below)."""
    named = [str(c) for c in classes] if isinstance(classes, list | tuple) else None
    lines = ["## Metrics", ""]
    if metrics and by_site:
        lines += ["The unweighted means of the sites' own figures, each on that site's held-out "
                  f"{unit}: no single estimate, and no interval; each site's, with its "
                  "interval and count, is under **By site**.", ""]  # fmt: skip
    if metrics:
        level = recorded.get("ci_level")
        ci_head = f"{level:.0%} CI" if isinstance(level, float) else "CI"
        lines += [f"| metric | value | {ci_head} |", "|---|---|---|"]
        for m in metrics:
            places = metric_digits(m.name, m.value)  # an error in the label's unit: 3 figures
            ci = (f"{rounded(m.ci[0], places)} to {rounded(m.ci[1], places)}" if m.ci
                  else "by site, below" if m.name in by_site else "not recorded")  # fmt: skip
            value = (
                grouped(int(m.value))
                if m.is_count
                else f"{rounded(m.value, places)}{_counts(recorded, m.name, m.value)}"
            )
            shown = metric_label(m.name, unit, named)
            lines.append(f"| {_cell(shown)} | {value} | {'' if m.is_count else ci} |")
    else:
        lines.append("No metrics were recorded.")
    extra = other_values(recorded)
    if extra:
        listed = ", ".join(f"{_cell(_OTHER_WORDS.get(k, k))} {_cell(v)}" for k, v in extra.items())
        lines += ["", f"Also recorded with the metrics (not performance measures): {listed}."]
    return lines


def site_metrics(summary: dict[str, Any]) -> frozenset[str]:
    """The figures a federated adapter records per site (``summary["by_site"]``): its means
    of them have no interval of their own, each site's has one."""
    by_site = summary.get("by_site") or {}
    return frozenset(m for m in SITE_FIGURES
                     if any(isinstance(f, dict) and m in f for f in by_site.values()))  # fmt: skip


def _sites_section(by_site: dict[str, Any], unit: str) -> list[str]:
    """A federated adapter's own figures at each site, with their intervals and test counts:
    the means above hide a site whose figure rests on few patients, or none."""
    if not by_site:
        return []
    metrics = sorted(site_metrics({"by_site": by_site}), key=SITE_FIGURES.index)
    lines = ["", "### By site", "",
             f"| site | test {unit} | {' | '.join(metric_label(m) for m in metrics)} |",
             "|---|---|" + "---|" * len(metrics)]  # fmt: skip
    for site, figures in by_site.items():
        cells = []
        for m in metrics:
            value = recorded_number(figures.get(m))
            ci = recorded_interval(figures.get(f"{m}_ci"))
            if value is None:
                cells.append("none")
                continue
            places = metric_digits(m, value)
            shown = rounded(value, places)
            if ci is not None:
                shown += f" ({rounded(ci[0], places)} to {rounded(ci[1], places)})"
            cells.append(shown)
        n = _int(figures.get("n"))
        lines.append(f"| {_cell(site)} | {'?' if n is None else grouped(n)} | "
                     f"{' | '.join(cells)} |")  # fmt: skip
    return lines


#: values recorded beside the metrics, in words (``prevalence``: the test samples', not the
#: training prevalence of the data table)
_OTHER_WORDS = {"mean_target": "mean outcome", "prevalence": "test prevalence"}


def _versus_base(paired: dict[str, Any], unit: str) -> list[str]:
    """Whether the adapter beat the base model alone on the same test patients (``unit``:
    images for an image adapter), in words (adapters trained before medadapt recorded it:
    nothing)."""
    said = paired.get("in_words")
    if not isinstance(said, str) or not said:
        return []
    tested = "patients" if unit == "rows" else unit
    warned = [
        f"**Warning:** {_cell(w)}" for w in paired.get("warnings") or [] if isinstance(w, str)
    ]
    return ["", f"**Against the base model alone on the same test {tested}.** {_cell(said)}",
            *(line for w in warned for line in ("", w))]  # fmt: skip


def _limitations_section(
    summary: dict[str, Any], metrics: list[Metric], fp: dict[str, Any]
) -> list[str]:
    """The limitations, and the base model the adapter works with only."""
    return [
        "## Limitations",
        "",
        *(f"- {item}" for item in limitations(summary, metrics)),
        f"- Works only with the base model it was trained on ({fp.get('model_class', '?')}, "
        f"{grouped(fp.get('n_parameters', '?'))} parameters, weights sha256 "
        f"`{fp.get('weights', '?')}`); "
        "the registry refuses to load it onto any other.",
    ]


def _provenance_section(
    *,
    name: str,
    version: int,
    parent: int | None,
    registered: str,
    manifest: dict[str, Any],
    base: dict[str, Any],
    origin: dict[str, Any] | None,
) -> list[str]:
    """Where the version comes from: lineage, method, hashes, dates, and an import's source."""
    lines = [
        "## Provenance",
        "",
        "| field | value |",
        "|---|---|",
        f"| version | {name}@{version} |",
        f"| parent | {f'{name}@{parent}' if parent else 'none'} |",
        f"| method | {_cell(manifest.get('method', '?'))} |",
        f"| config | {_config_words(manifest.get('config') or {})} |",
        f"| adapted layers | {_layers_words(len(manifest.get('layers') or []))} |",
        f"| adapter parameters | {grouped(manifest.get('n_parameters', '?'))} |",
        f"| weights sha256 | `{manifest.get('weights_sha256', '?')}` |",
        f"| trained | {manifest.get('created', '?')} (medadapt "
        f"{manifest.get('medadapt_version', '?')}) |",
        f"| registered | {registered} |",
    ]
    said = _base_words(base) if base else None
    if said and said != "not recorded":  # nothing more than its weights, named above: no row
        lines.append(f"| base model | {_cell(said)} |")
    extra = AdapterRecord.from_json(manifest.get("metadata")).extra
    if isinstance(extra.get("federated"), dict):
        said = federated_words(extra["federated"], extra.get("personalised"))
        lines.append(f"| federated | {_cell(said)} |")
    if origin:  # "exported": an archive an older medadapt wrote (newer ones carry no time)
        said = "".join(
            f", {word} {origin[key]}"
            for key, word in (("registered", "registered there"), ("exported", "exported"))
            if origin.get(key)
        )
        lines.append(
            f"| imported from | {origin.get('name')}@{origin.get('version')} of registry "
            f"`{str(origin.get('registry_id', '?'))[:12]}`{said} |"
        )
    return lines


def _privacy_words(privacy: Any) -> str:
    """``: the guarantee covers each site as a whole ...: epsilon 20.1 at delta 1e-05 over
    the 3 rounds (an epsilon above 10 promises little ...); --dp-clip 1, --dp-noise 0.5``, as
    the run recorded it; nothing where it recorded no budget."""
    if not isinstance(privacy, dict) or not privacy.get("words"):
        return ""
    return (f": {privacy['words']}; --dp-clip {privacy.get('clipping_norm')}, --dp-noise "
            f"{privacy.get('noise_multiplier')}")  # fmt: skip


def federated_words(federated: dict[str, Any], personalised: Any = None) -> str:
    """``sites A, B, C; 10 rounds of fedavg`` (never the sites' data), as the card and
    ``registry show`` say it; a site's personalised adapter says which site and how."""
    sites = ", ".join(map(str, federated.get("sites", [])))
    rounds = federated.get("rounds", "?")
    text = (f"sites {sites}; {rounds} round{'' if rounds == 1 else 's'} of "
            f"{federated.get('strategy', '?')}")  # fmt: skip
    left_out = federated.get("sites_left_out") or []
    if left_out:  # named for the run, never trained it (too few samples, failed)
        text += f"; {', '.join(map(str, left_out))} did not take part"
    if federated.get("differential_privacy"):
        text += "; differential privacy" + _privacy_words(federated.get("privacy"))
    if isinstance(personalised, dict):
        text += f"; personalised at {personalised.get('site', '?')}"
        if personalised.get("meaning"):
            text += f": {personalised['meaning']}"
    elif federated.get("personalise") not in (None, "none"):
        text += (f"; this is the shared adapter (each site also kept its own, personalised: "
                 f"{federated['personalise']})")  # fmt: skip
    return text


def _base_words(base: dict[str, Any]) -> str:
    """What the adapter records of its base model, in words: ``classes: normal, mass; trained
    on groups Cleveland, Hungary; kept with --allow-leak: copy`` (other fields as ``field:
    value``)."""
    said = []
    for key, value in base.items():
        if value is None or value == [] or value == {}:
            continue
        if key == "training_groups":
            groups = value if isinstance(value, list) else list(value)
            said.append(f"trained on groups {', '.join(map(str, groups))}")
        elif key == "allowed_leaks" and isinstance(value, list):  # as registry bases says them
            columns = [str(leak.get("column")) for leak in value if isinstance(leak, dict)]
            said.append(f"kept with --allow-leak: {', '.join(columns)}")
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else _cell(value)
            said.append(f"{key.replace('_', ' ')}: {shown}")
    return "; ".join(said) or "not recorded"
