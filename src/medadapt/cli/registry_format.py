"""How the ``medadapt registry`` commands print: sizes, table cells, metrics and their notes
(``diff``'s with the same decimals on both sides), data summaries in words (fractions rounded
to what they rest on), the adapter against its base model, two versions predicting different
outcomes, files ``gc`` leaves or keeps, JSON, the console.

Imported by :mod:`medadapt.cli.registry`; like the other registry command modules, cheap to
import (no torch). Metrics are named and their intervals printed as in every other output
(``AUROC 0.680 (0.539–0.822)``, :func:`medadapt.evaluate.report.formatting.fmt_ci`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from medadapt.evaluate.report.formatting import fmt_ci, metric_digits, metric_with_interval
from medadapt.registry import AdapterVersion
from medadapt.registry.diff import MetricChange, VersionDiff, flatten, question_words
from medadapt.registry.groups import listed_fields
from medadapt.registry.maintenance import GC_MIN_AGE_S, VerifyReport
from medadapt.registry.records import METRIC_NAMES, Metric, parse_metrics, shown_notes
from medadapt.registry.summary_words import (
    metric_label,
    recorded_unit,
    summary_rows,
    words,
)
from medadapt.results import WHOLE_RESULT, grouped
from medadapt.wording import plural


def table_console() -> Console:
    """The console the registry commands print their tables on (no highlighting, soft wrap)."""
    return Console(highlight=False, soft_wrap=True)


def logged_time(at: str) -> str:
    """An audit log's time as ``registry log`` shows it: UTC to the second, without the
    offset and the ``T`` (``2026-12-04T03:22:07+00:00`` is ``2026-12-04 03:22:07``; the
    column says UTC); a time it cannot read, as recorded.

    >>> logged_time("2026-12-04T04:22:07+01:00"), logged_time("yesterday")
    ('2026-12-04 03:22:07', 'yesterday')
    """
    try:
        stamp = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return at
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def event_detail(action: str, detail: dict[str, Any]) -> str:
    """An audit event's detail in words for ``registry log``'s table (its ``--json`` keeps
    the recorded keys, and whole hashes): a trial read ``{"parent": null}`` and
    ``{"archive_sha256": "9f2c...", "from": "va@2", "parent": 1}``. A hash is shown by its
    first 12 characters, as ``registry show`` shows base weights (``--json`` has it whole); a
    key no action here records, as ``key: value``.

    >>> event_detail("add", {"parent": None}), event_detail("promote", {"previous": 2})
    ('', 'was serving version 2')
    >>> event_detail("import", {"archive_sha256": "9f2c41d07ab1" + "0" * 52, "from": "va@2",
    ...                         "parent": 1})
    'from va@2 in archive 9f2c41d07ab1; parent version 1'
    >>> event_detail("export", {"sha256": "ab" * 32, "path": "out/va.tar", "with_base": True})
    'to out/va.tar with its base model; archive abababababab'
    """
    detail = dict(detail)
    said: list[str] = []
    origin, archive = detail.pop("from", None), detail.pop("archive_sha256", None)
    if origin is not None:
        said.append(f"from {origin}" + (f" in archive {_short(archive)}" if archive else ""))
    if "parent" in detail and (parent := detail.pop("parent")) is not None:
        said.append(f"parent version {parent}")
    if "previous" in detail:
        previous = detail.pop("previous")
        said.append("nothing was served before" if previous is None
                    else f"was serving version {previous}")  # fmt: skip
    if "despite_warnings" in detail:  # an override of a refusal, never read as a clean one
        said.append(f"served despite warnings: {detail.pop('despite_warnings')}")
    if "replaced_by" in detail:
        said.append(f"replaced by {detail.pop('replaced_by')} for its group")
    if action == "remove":
        was = detail.pop("was_promoted", False)
        manifest = detail.pop("manifest_blob", None)
        said += ["it was the served version" if was else "",
                 f"manifest {_short(manifest)}" if manifest else ""]  # fmt: skip
    if action == "export":
        with_base = " with its base model" if detail.pop("with_base", False) else ""
        path, sha = detail.pop("path", None), detail.pop("sha256", None)
        said.append(f"to {path}{with_base}" + (f"; archive {_short(sha)}" if sha else ""))
    if "copy" in detail:
        said.append(_BASE_COPY.get(copy := detail.pop("copy"), f"copy {copy}"))
    said += [f"{key}: {cell(value)}" for key, value in sorted(detail.items())]
    return "; ".join(part for part in said if part)


_BASE_COPY = {
    "added": "its copy stored",
    "restored": "its copy stored again (it had been deleted)",
    "replaced": "its copy replaced (it was damaged)",
}


def _short(sha: Any) -> str:
    """A hash's first 12 characters (a cell never ends in "…": the log's test)."""
    return str(sha)[:12]


def human_size(n: int) -> str:
    """``n`` bytes as B, KiB, MiB or GiB (powers of 1024, named as such: 35,908 bytes are
    35.1 KiB, not 35.1 KB)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


#: marks a metric that carries a warning (see :func:`headline_metric`, :func:`note_lines`)
WARNED = " (!)"


def metric_text(metric: Metric, digits: int | None = None) -> str:
    """``0.680 (0.539–0.822)``, as every other output prints a metric (an error in the
    label's unit with three significant figures: ``51.3 (40.2–63.9)``); a count as an
    integer. ``digits``: the decimals (default: :func:`metric_digits`'s)."""
    if metric.is_count:
        return grouped(int(metric.value))
    if digits is None:  # as adapt and evaluate print it (a mean error at its interval's scale)
        return metric_with_interval(metric.name, metric.value, metric.ci)
    return fmt_ci(metric.value, metric.ci, digits)


def change_cells(change: MetricChange) -> tuple[str, str, str]:
    """A metric of ``diff`` on both sides and its change, with the same decimals (an error
    in the label's unit: the fewer decimals of the two, those giving the larger side three
    significant figures: ``38.5``, ``8.2``, ``-30.3``, never ``8.17``); ``-`` on a side
    without it."""
    a, b = change.a, change.b
    digits = min(metric_digits(m.name, m.value) for m in (a, b) if m is not None)
    shown = [metric_text(m, digits) for m in (a, b) if m is not None and not m.is_count]
    more = max((_decimals(text) for text in shown), default=digits)
    if more > digits:  # a side that needed more to show its figures (a trial's Brier score
        digits = more  # read "<0.001" beside "0.0007 (0.0001–0.0020)", changed by "+0.001")
    return (
        metric_text(a, digits) if a else "-",
        metric_text(b, digits) if b else "-",
        change.format_delta(digits),
    )


def _decimals(text: str) -> int:
    """The most decimals of a number in ``text``.

    >>> _decimals("0.0007 (0.0001–0.0020)"), _decimals("<0.001"), _decimals("51.3")
    (4, 3, 1)
    """
    return max((len(part) for part in re.findall(r"\.(\d+)", text)), default=0)


def headline_metric(v: AdapterVersion) -> str:
    """The first performance metric of ``v`` with its interval (never a count), or ``-``;
    marked :data:`WARNED` when a note concerns it or the whole result (an accuracy of 0.946
    from calling every patient positive, an AUROC too good to be true), or says why the AUROC
    it stands in for was not reported (a trial's 12 test rows, 2 of them positive)."""
    scores = [m for m in v.metric_list() if not m.is_count]
    notes = shown_notes(v.metrics)
    if not scores:  # none measured: marked ('show' prints why, or that none was recorded)
        return f"-{WARNED}"
    stands_in = scores[0].name != "auroc" and "auroc" in notes  # an AUROC left out, and why
    warned = scores[0].name in notes or stands_in or any(key in notes for key in WHOLE_RESULT)
    return f"{metric_label(scores[0].name)} {metric_text(scores[0])}{WARNED if warned else ''}"


def measured_on(v: AdapterVersion) -> str | None:
    """How many test samples ``v``'s metrics were measured on: ``37 rows``, ``120 images``,
    ``40 rows from 20 patients`` (None when not recorded): what an interval in ``list`` rests
    on."""
    counts = {m.name: int(m.value) for m in v.metric_list() if m.is_count}
    n = counts.get("n", counts.get("n_test"))
    if n is None:
        recorded = v.data_summary.get("n_test")
        n = recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else None
    if n is None:
        return None
    said = f"{grouped(n)} {recorded_unit(v.data_summary)}"
    patients = counts.get("n_patients")
    return (
        said if patients is None or patients == n else f"{said} from {grouped(patients)} patients"
    )


def listed_metric(v: AdapterVersion) -> str:
    """The headline metric as ``list`` prints it: with the test samples it was measured on
    (``accuracy 0.946 (0.818–0.993) on 37 rows (!)``)."""
    headline, n = headline_metric(v), measured_on(v)
    if headline.startswith("-"):
        return headline
    warned = headline.endswith(WARNED)
    over = _over_sites(v)
    if over is not None:  # a federated mean: not one estimate on every site's patients
        return f"mean {headline.removesuffix(WARNED)} over {over}{WARNED if warned else ''}"
    if n is None:
        return headline
    return f"{headline.removesuffix(WARNED)} on {n}{WARNED if warned else ''}"


def _over_sites(v: AdapterVersion) -> str | None:
    """``2 of 3 sites`` for a federated adapter's headline metric (the unweighted mean of
    the sites' own figures, over those that had it), else None: a trial's ``list`` said
    "AUROC 0.775 on 116 rows" of a mean over two sites' 79 patients, the third's 37 having
    no AUROC."""
    sites = v.data_summary.get("sites")
    scores = [m for m in v.metric_list() if not m.is_count]
    if not isinstance(sites, dict) or not sites or not scores:
        return None
    counted = v.metrics.get(f"{scores[0].name}_sites")
    if not isinstance(counted, int) or isinstance(counted, bool):
        return None
    return f"{counted} of {len(sites)} sites" if counted != len(sites) else f"{counted} sites"


def metric_rows(v: AdapterVersion, classes: list[str] | None = None) -> list[tuple[str, str]]:
    """The metrics as ``show`` prints them: ``("metric: AUROC", "0.680 (0.539–0.822)")``,
    marked :data:`WARNED` when a note concerns the metric (:func:`note_lines` says which): its
    own, or a note on the whole result that opens with it (a trial's ``show`` left "AUROC
    1.000" unmarked, its note "AUROC 1.000: too good to be true ..."); ``classes``: an image
    adapter's, to name its two in the test counts."""
    notes, unit = shown_notes(v.metrics), recorded_unit(v.data_summary)
    whole = [notes[key] for key in WHOLE_RESULT if key in notes]

    def warned(m: Metric) -> bool:
        return m.name in notes or any(n.startswith(f"{metric_label(m.name)} ") for n in whole)

    return [
        (
            f"metric: {metric_label(m.name, unit, classes)}",
            metric_text(m) + (WARNED if not m.is_count and warned(m) else ""),
        )
        for m in v.metric_list()
    ]


def versus_base_rows(versus_base: dict[str, Any]) -> list[tuple[str, str]]:
    """Whether the adapter beat the base model alone on the same test patients, as ``show``
    prints it: the sentence ``adapt`` printed and the card holds ("Paired on the same
    patients, the adapter changes AUROC by ..."), then each warning recorded with it (an
    adapter trained before medadapt recorded it: nothing)."""
    said = versus_base.get("in_words")
    if not isinstance(said, str) or not said.strip():
        return []
    return [
        ("against the base model alone", " ".join(said.split())),
        *((f"{WARNED.strip()} against the base model", w)
          for w in versus_base_warnings(versus_base)),
    ]  # fmt: skip


def versus_base_warnings(versus_base: dict[str, Any]) -> list[str]:
    """The warnings recorded with the comparison against the base model alone, one line
    each (what ``show`` lists under it and ``promote`` repeats)."""
    return [" ".join(w.split()) for w in versus_base.get("warnings") or [] if isinstance(w, str)]


def note_lines(metrics: dict[str, Any]) -> list[str]:
    """The notes recorded with the metrics, one line each, as the reader of a :data:`WARNED`
    mark needs them: those about the whole result first (too good to be true, one class for
    every patient), then those about all metrics, then each metric's (why it is missing, why
    its interval is only a rough range), in the order ``show`` lists the metrics."""
    notes = shown_notes(metrics)
    order = {name: i for i, name in enumerate(["all", *METRIC_NAMES])}
    whole = [k for k in WHOLE_RESULT if k in notes]
    named = sorted(
        (k for k in notes if k not in WHOLE_RESULT), key=lambda k: order.get(k, len(order))
    )
    said = {k: " ".join(note.split()) for k, note in notes.items()}  # one line each
    mark = WARNED.strip()
    unmeasured = not any(not m.is_count for m in parse_metrics(metrics))  # said with any
    # other note too (a trial's federated site adapter showed only its kept leak's)
    first = [f"{mark} {NOTHING_MEASURED}"] if unmeasured else []
    return [
        *first,
        *(f"{mark} {said[k]}" for k in whole),
        *(f"{mark} {'all metrics' if k == 'all' else metric_label(k)}: {said[k]}" for k in named),
    ]


NOTHING_MEASURED = (
    "no performance figure was recorded for this version: nothing says how well it predicts"
)


def strangers_line(objects: Path, names: list[str]) -> str:
    """What ``verify`` and ``gc`` say of files in ``objects/`` the registry did not write (an
    archive exported there): not counted as unreferenced, since ``gc`` never deletes what it
    cannot tell is its own; their owner moves them out."""
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    them = "it" if len(names) == 1 else "them"
    return (
        f"{plural(len(names), 'file')} in {objects} the registry did not write ({listed}): "
        f"gc leaves {them}; move {them} out of the registry"
    )


def tmp_lines(report: VerifyReport, tmp: Path, gc: str) -> list[str]:
    """What ``verify`` says of what ``gc`` (``gc``: the command, as it runs) would remove:
    unreferenced files and leftovers of interrupted writes, saying which leftovers ``gc``
    keeps (younger than its default ``--min-age``) and how to remove them now; and the
    damaged base copies ``add-base`` set aside in ``tmp``, named as such."""
    lines = []
    orphans, leftovers, young = len(report.orphans), report.leftovers, report.young
    if orphans or leftovers:  # exactly what gc removes, at once or (young ones) later
        said = (
            f"{plural(orphans, 'unreferenced file')} and {plural(leftovers, 'leftover')} of "
            "interrupted writes (harmless; "
        )
        it = "it" if young == 1 else "them"
        if not young:
            said += f"'{gc}' removes them)"
        elif orphans + leftovers == young:  # nothing gc removes at its default --min-age
            said += (
                f"{'it is' if young == 1 else 'they are'} younger than gc's --min-age of "
                f"{GC_MIN_AGE_S:g} s, so '{gc}' keeps {it} in case a write is still running; "
                f"once none is, '{gc} --min-age 0' removes {it} now)"
            )
        else:
            said += (
                f"'{gc}' removes them but for {plural(young, 'leftover')} younger than its "
                f"--min-age of {GC_MIN_AGE_S:g} s, kept in case a write is still running; once "
                f"none is, '{gc} --min-age 0' removes {it} too)"
            )
        lines.append(said)
    if report.set_aside:
        n = len(report.set_aside)
        it = "it" if n == 1 else "them"
        lines.append(
            f"{base_copies(n)} set aside by add-base in {tmp} ({', '.join(report.set_aside)}), "
            f"replaced by an intact copy: harmless; '{gc}' removes {it}"
        )
    return lines


def base_copies(n: int) -> str:
    """``1 damaged base copy``, ``2 damaged base copies``."""
    return plural(n, "damaged base copy", "damaged base copies")


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def cell(value: Any) -> str:
    """A value for a table cell: ``-`` for None, JSON for a dict or list."""
    if value is None:
        return "-"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def config_items(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The method config as dotted keys, without the unset ones and the method itself."""
    items = flatten(config).items()
    return [(k, c) for k, c in items if k != "method" and c is not None and c != {} and c != []]


#: the general fields a diff compares, in the words of ``show``
_FIELD_WORDS = {
    "method": "method",
    "task": "task",
    "base_model": "base model",
    "parent": "parent",
    "n_parameters": "adapter parameters",
    "weights_sha256": "weights sha256",
    "intended_use": "intended use",
}


def diff_rows(
    diff: VersionDiff, a_summary: dict[str, Any], b_summary: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """``(field, A, B)`` for what differs, named as ``show`` names it: general fields, then
    ``config: r``, then the data summary in words (``data: training rows``; the sample-size
    entry as sentences), counts grouped, never the recorded keys."""
    rows = []
    for c in diff.fields:
        a, b = _side(c.a), _side(c.b)
        if c.key == "parent":  # a version of the same name, as show says it
            a, b = (f"{ref.rsplit('@', 1)[0]}@{v}" if v is not None else "none"
                    for ref, v in ((diff.a, c.a), (diff.b, c.b)))  # fmt: skip
        rows.append((_FIELD_WORDS.get(c.key, words(c.key)), a, b))
    rows += [(f"config: {c.key}", cell(c.a), cell(c.b)) for c in diff.config
             if c.key != "method"]  # the method's own row says it  # fmt: skip
    # how federated adapters were trained (a trial's fedavg and fedprox runs differed by
    # their weights only)
    rows += [(f"federated: {words(c.key)}", cell(c.a), cell(c.b)) for c in diff.training]
    told_a, told_b = (
        {f"data: {field}": said for field, said in summary_rows(summary)}
        for summary in (a_summary, b_summary)
    )
    fields = list(told_a) + [k for k in told_b if k not in told_a]
    rows += [(k, told_a.get(k, "-"), told_b.get(k, "-")) for k in fields
             if told_a.get(k) != told_b.get(k)]  # fmt: skip
    return rows


def other_outcomes(diff: VersionDiff) -> str:
    """That the two versions of ``diff`` predict different outcomes (naming both), on
    different base models where they are: their figures measure different things, so
    ``diff`` lists them side by side with no change between them."""
    on = "" if diff.same_base else ", on different base models"
    said_a, said_b = (question_words(q) for q in diff.questions)
    if said_a == said_b:  # one label, other classes (a positive class swapped): name them
        said_a, said_b = (question_words(q, name_classes=True) for q in diff.questions)
    return (
        f"{diff.a} and {diff.b} predict different outcomes{on}: {diff.a} predicts {said_a}, "
        f"{diff.b} {said_b}; their figures measure different things and are listed side by "
        "side, not compared"
    )


def other_fields(diff: VersionDiff) -> str:
    """That the two versions of ``diff`` are on bases that read other request fields, named,
    and, for two versions of one name, which of them ``promote`` would refuse in the other's
    place (the one that does not read fields the other's clients send: a trial's diff said
    nothing of it)."""
    only_a, only_b = diff.request_fields or ([], [])
    said = [f"{listed_fields(fields)} only {ref}'s" for fields, ref in
            ((only_a, diff.a), (only_b, diff.b)) if fields]  # fmt: skip
    line = (f"{diff.a} and {diff.b} are on base models that read other request fields "
            f"({'; '.join(said)})")  # fmt: skip
    if diff.a.rsplit("@", 1)[0] != diff.b.rsplit("@", 1)[0]:
        return line
    pairs = ((diff.b, diff.a, only_a), (diff.a, diff.b, only_b))  # new, served, fields sent
    refused = [(new, old) for new, old, dropped in pairs if dropped]
    clauses = [f"'registry promote' refuses {new} while {old} is served (its clients' requests "
               "would be refused, 422) unless --force" for new, old in refused]  # fmt: skip
    return f"{line}: {'; and '.join(clauses)}" if clauses else line


def _side(value: Any) -> str:
    """One side of a general field: a count grouped, nothing as ``-``."""
    return grouped(value) if isinstance(value, int) else cell(value)
