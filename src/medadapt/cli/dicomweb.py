"""``--data dicomweb+http(s)://...``: ``train-base``, ``adapt``, ``evaluate`` and ``predict`` on
images in a PACS.

Before anything is fetched, the reference, ``--dicomweb-token-file``, ``--labels`` and the
outputs are checked (one-line errors). The images are fetched into a temporary folder (removed
after the run, after an error too) or into ``--dicomweb-cache DIR`` (kept; a series already
there is not fetched again, though the PACS still lists it: a study may have gained instances
since, and the line says how many images came from the cache), joined to ``--labels`` as a
path CSV, and the verb runs on that as on local files. ``predict`` names its rows by UIDs;
with ``--store-sr`` it first looks for the medadapt reports the studies hold (a series one of
this very model reports on is not reported again unless ``--store-sr-again``; others are
counted in a note), then stores one SR per predicted series and prints one line per report
(its SOPInstanceUID, no patient data).
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from medadapt.cli import inputs
from medadapt.cli.common import noted, rewriting, status_progress, stdout
from medadapt.data.dicomweb import DicomwebReference, is_reference, parse_reference
from medadapt.errors import ConfigError, DataError, MedadaptError
from medadapt.evaluate.report.formatting import listed
from medadapt.fileio import (
    check_json_file,
    check_output_dir,
    check_output_file,
    check_report_file,
    others_may_read,
    read_secret,
)
from medadapt.wording import plural

PREDICT = "predict"
#: the options that only --data dicomweb+... takes, by parameter name
PACS_OPTIONS = {
    "labels": "--labels",
    "dicomweb_token_file": "--dicomweb-token-file",
    "dicomweb_ca_bundle": "--dicomweb-ca-bundle",
    "dicomweb_timeout": "--dicomweb-timeout",
    "dicomweb_cache": "--dicomweb-cache",
    "store_sr": "--store-sr",
    "store_sr_again": "--store-sr-again",
}
#: options about local files that a PACS reference has no use for
LOCAL_OPTIONS = {"path_column": "--path-column", "split": "--split"}
FLAG_LABELS = PACS_OPTIONS["labels"]
ANY_PACS = "dicomweb+http(s)://HOST[:PORT]/dicom-web[/studies/UID[/series/UID]]"


def pacs_aware(
    verb: str, run: Callable[..., None], *, markers: dict[str, str] | None = None
) -> Callable[..., None]:
    """``run`` (a verb's body) taking ``--data dicomweb+...`` too; ``markers``: what an
    existing ``--out`` directory may hold (checked before fetching)."""

    def command(**values: Any) -> None:
        inputs.refuse_bare_url(values["data"])  # before its options are judged by it
        text = inputs.reference_text(values["data"])
        if not is_reference(text):
            _refuse_pacs_options(values)
            run(**values)
            return
        _run_on_pacs(verb, run, values, parse_reference(text), markers)

    return command


def _refuse_pacs_options(values: dict[str, Any]) -> None:
    if values.get("store_sr"):
        raise ConfigError(
            f"--store-sr stores the predictions in the PACS the images came from: pass --data "
            f"{ANY_PACS}, or drop --store-sr"
        )
    for name, flag in PACS_OPTIONS.items():
        if values.get(name) not in (None, False):
            raise ConfigError(
                f"{flag} applies to --data {ANY_PACS}, but --data {values['data']} is a local "
                "path: drop the option"
            )


def _run_on_pacs(
    verb: str,
    run: Callable[..., None],
    values: dict[str, Any],
    reference: DicomwebReference,
    markers: dict[str, str] | None,
) -> None:
    for name, flag in LOCAL_OPTIONS.items():
        if values.get(name) is not None:
            raise ConfigError(
                f"{flag} applies to local files, but --data {reference} is a PACS: drop the option"
            )
    if values.get("store_sr_again") and not values.get("store_sr"):
        raise ConfigError(
            "--store-sr-again says to store a report again, but nothing is stored without "
            "--store-sr: add --store-sr, or drop --store-sr-again"
        )
    from medadapt import checks

    checks.finite(values.get("dicomweb_timeout"), PACS_OPTIONS["dicomweb_timeout"])
    checks.positive(values.get("dicomweb_timeout"), PACS_OPTIONS["dicomweb_timeout"])
    schema = _image_schema(values.get("base"), reference)
    token = read_token(values.get("dicomweb_token_file"))
    ca_bundle = _ca_bundle(values.get("dicomweb_ca_bundle"), reference)
    labels = _labels(verb, values, schema, reference)
    _check_outputs(verb, values, markers)
    from medadapt.data.dicomweb import DEFAULT_TIMEOUT, DicomwebSource

    timeout = values.get("dicomweb_timeout") or DEFAULT_TIMEOUT
    source = DicomwebSource.for_reference(reference, token=token, ca_bundle=ca_bundle,
                                          timeout=timeout)  # fmt: skip
    earlier = None
    if verb == PREDICT and values.get("store_sr"):
        earlier = _reports_before(values, reference, source, labels)
    local = {**values, **{name: None for name in PACS_OPTIONS if name in values}}
    for name in ("store_sr", "store_sr_again"):
        if name in values:
            local[name] = False
    columns = ["path"]
    if verb == PREDICT and schema is not None:
        columns = list(dict.fromkeys(["path", schema.get("path_column") or "path"]))
    elif verb != "train-base":
        local["path_column"] = "path"
    with _folder(values.get("dicomweb_cache")) as folder:
        fetched = _fetch(reference, source, folder, labels, columns, values.get("dicomweb_cache"))
        with _naming_pacs(folder, fetched.data, labels, reference):
            run(**{**local, "data": fetched.data})
        if verb == PREDICT:
            _after_predict(values, fetched, source, schema or {}, earlier)


def _image_schema(base: Path | None, reference: DicomwebReference) -> dict[str, Any] | None:
    """The schema of ``--base`` (refused unless it is an image model)."""
    if base is None:
        return None
    from medadapt.modalities.base import modality_of

    kind = inputs.base_kind(base)
    if kind != "image":
        scope = modality_of(kind).scope
        raise DataError(
            f"--base {base} is a model for {scope}, but --data {reference} is image data from "
            "a PACS: pass a --base trained on images"
        )
    return json.loads((base / "model.json").read_text()).get("schema") or {}


def read_token(path: Path | None) -> str | None:
    """The bearer token (or ``USER:PASSWORD``) in ``--dicomweb-token-file`` (one word),
    never echoed."""
    if path is None:
        return None
    return read_secret(path, PACS_OPTIONS["dicomweb_token_file"],
                       what="PACS's bearer token (or USER:PASSWORD)")  # fmt: skip


def _ca_bundle(path: Path | None, reference: DicomwebReference) -> Path | None:
    """``--dicomweb-ca-bundle``, checked: a readable PEM file, for an https PACS only."""
    if path is None:
        return None
    from medadapt.data.dicomweb import CA_FLAG, check_ca_bundle

    if not reference.base_url.lower().startswith("https://"):
        raise ConfigError(
            f"{CA_FLAG} applies to an https PACS, but --data {reference} is plain http: "
            "drop the option or use dicomweb+https://"
        )
    return check_ca_bundle(path)


def _labels(
    verb: str, values: dict[str, Any], schema: dict[str, Any] | None, reference: Any
) -> Any:
    """``--labels`` read and checked (required but to predict a study or series)."""
    from medadapt.workflows.dicomweb import studies_to_fetch

    path = values.get("labels")
    if path is None:
        if verb != PREDICT:
            raise ConfigError(
                f"--labels is required to {verb} on --data {reference}: a CSV of "
                "StudyInstanceUID (or SeriesInstanceUID, SOPInstanceUID) and label columns"
            )
        studies_to_fetch(reference, None)  # a server root needs the studies listed
        return None
    from medadapt.checks import names
    from medadapt.data.dicomweb_labels import read_labels

    columns = [(f, values.get(n)) for f, n in (("--group-column", "group_column"),
                                               ("--id-column", "id_column"))]  # fmt: skip
    label = values.get("label") or (schema or {}).get("label_column") or "label"
    if verb != PREDICT:
        columns.append(("--label", label))
    table = read_labels(path, columns=columns)
    groups = [values["group"]] if values.get("group") else names(values.get("groups"), "--groups")
    if values.get("group_column") and groups:  # only the chosen groups' studies are fetched
        table = table.only(values["group_column"], groups)
    studies_to_fetch(reference, table)
    if verb in UNKNOWN_LABEL_HINTS and schema is not None:
        _check_label_values(verb, values, schema, table, label)
    return table


#: what ``evaluate`` and ``adapt`` say of a label that is not one of the model's classes (as
#: their image readers say it once the images are fetched)
UNKNOWN_LABEL_HINTS = {
    "evaluate": "evaluate a model that knows these classes (medadapt adapt --new-classes)",
    "adapt": "pass the new ones with --new-classes NAME[,NAME]",
}


def _check_label_values(
    verb: str, values: dict[str, Any], schema: dict[str, Any], table: Any, label: str
) -> None:
    """The labels of ``--labels`` checked against the model's classes before anything is
    fetched: a class spelt in another case or spacing, or a label it does not know (a typo),
    is refused as the image readers would refuse it after fetching every image."""
    from medadapt.data.image_files import check_known_labels
    from medadapt.modalities.images.classes import refuse_respelt, spelt_alike

    classes = _classes_to_label(verb, values, schema)
    if classes is None:  # an adapter that cannot be read: its own check says why
        return
    counts = Counter(str(row[label]).strip() for row in table.rows.values())
    labels = sorted(set(counts) - {""})
    where = f"{FLAG_LABELS} {table.path}"
    refuse_respelt(Path(where), labels, classes)
    check_known_labels(where, labels, classes, hint=UNKNOWN_LABEL_HINTS[verb], alike=spelt_alike,
                       counts=counts, noun="row")  # fmt: skip


def _classes_to_label(
    verb: str, values: dict[str, Any], schema: dict[str, Any]
) -> list[str] | None:
    """The classes the labels may name: the adapter's (which may have added some) or the
    base's for ``evaluate``; the base's and ``--new-classes`` for ``adapt``. None when the
    adapter cannot be read (the verb refuses it, naming why)."""
    from medadapt.modalities.samples import names

    classes = [str(c) for c in schema.get("classes") or []]
    adapter = values.get("adapter")
    if verb == "evaluate" and adapter is not None:
        try:
            manifest = json.loads((Path(adapter) / "adapter.json").read_text())
            recorded = manifest["metadata"].get("classes") or classes
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return [str(c) for c in recorded]
    if verb == "adapt":
        return classes + [c for c in names(values.get("new_classes")) if c not in classes]
    return classes


def _check_outputs(verb: str, values: dict[str, Any], markers: dict[str, str] | None) -> None:
    """The outputs, checked before anything is fetched (the verb checks them again)."""
    force = bool(values.get("force"))
    files = {"--json": values.get("json_out"), "--report": values.get("report")}
    out = ("--out", values.get("out"))
    if verb == PREDICT:  # its --out is a file, not a directory
        files, out = {"--out": values.get("out"), **files}, None
    inputs.check_outputs(
        files,
        {"--base": values.get("base"), "--adapter": values.get("adapter"),
         "--labels": values.get("labels")},
        out,
    )  # fmt: skip
    check_json_file(values.get("json_out"), force=force)
    check_report_file(values.get("report"), force=force)
    if verb == PREDICT:
        check_output_file(values["out"], flag="--out", force=force)
        inputs.check_predictions_name(values["out"])
    elif values.get("out") is not None:
        check_output_dir(values["out"], flag="--out", force=force, markers=markers)


def _warn_if_others_may_read(cache: Path) -> None:
    """Warn where other users of the machine may read ``--dicomweb-cache`` (its images hold
    the patients' names and ids; what this run writes there is its owner's alone, what was
    there is not: a trial's cache in a 755 folder kept them readable by every user)."""
    who = others_may_read(cache)
    if who is not None:
        warnings.warn(
            f"--dicomweb-cache {cache} can be read by {who}, and the images kept there hold "
            f"patients' names and ids: restrict it with 'chmod -R go-rwx {cache}'",
            UserWarning,
            stacklevel=2,
        )


@contextlib.contextmanager
def _folder(cache: Path | None) -> Iterator[Path]:
    """``--dicomweb-cache`` (kept), else a private temporary folder removed afterwards."""
    if cache is None:
        with tempfile.TemporaryDirectory(prefix="medadapt-dicomweb-") as tmp:
            yield Path(tmp)
        return
    if cache.exists() and not cache.is_dir():
        raise DataError(f"--dicomweb-cache {cache} is a file; give a directory")
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    _warn_if_others_may_read(cache)
    from medadapt.data.dicomweb_labels import CSV_NAME

    try:
        yield cache
    finally:  # the images are kept; the run's copy of --labels (its patient column) is not
        (cache / CSV_NAME).unlink(missing_ok=True)


@contextlib.contextmanager
def _naming_pacs(folder: Path, data: Path, labels: Any, reference: Any) -> Iterator[None]:
    """Errors, warnings and notes about the path CSV joined from ``--labels`` (a private file
    whose line numbers are not the user's) name ``--labels`` instead; those about a fetched
    file name the PACS instance (its UIDs), not a temporary path gone once the run ends."""
    rewrite = _pacs_words(folder, data, labels, reference)
    try:
        with rewriting(rewrite):
            yield
    except MedadaptError as exc:
        exc.args = (rewrite(str(exc)),)
        raise


def _pacs_words(folder: Path, data: Path, labels: Any, reference: Any) -> Callable[[str], str]:
    # the CSV of the fetched images: --labels where it was joined from it, else the --data
    # reference it lists (a trial's predict read "1 of 1 images in dicomweb.csv")
    where = f"{FLAG_LABELS} {labels.path}" if labels is not None else f"--data {reference}"
    # a fetched file, by its full path or relative to the folder: STUDY/SERIES/SOP.dcm
    inside = rf"(?:{re.escape(str(folder))}/)?\b([0-9.]+)/([0-9.]+)/([0-9.]+)\.dcm"

    def rewrite(text: str) -> str:
        text = re.sub(rf"line \d+ of {re.escape(str(data))}", where, text)
        text = text.replace(f"--data {data}", where)  # not "--data --labels X"
        text = text.replace(str(data), where)
        text = re.sub(rf"(?<![\w/.-]){re.escape(data.name)}(?![\w.-])", where, text)
        text, named = re.subn(inside, r"instance \3 of series \2 (study \1)", text)
        if named:
            text = text.replace("fix or remove the file", "check it on the PACS")
        return text.replace(str(folder), f"the images fetched from {reference}")

    return rewrite


def _fetch(
    reference: Any, source: Any, folder: Path, labels: Any, columns: list[str], cache: Path | None
) -> Any:
    from medadapt.workflows.dicomweb import fetch_images

    with (
        status_progress("fetch (DICOMweb)", said_after=1.0) as step,
        _listed_studies(reference, labels),
    ):
        fetched = fetch_images(
            reference, source, folder, labels=labels, path_columns=columns,
            progress=lambda done, total: step(f"series {done}/{total}"),
        )  # fmt: skip
    stdout.print(_fetched_line(fetched.counts(), reference, cache), markup=False,
                 highlight=False, soft_wrap=True)  # fmt: skip
    if fetched.passed_over:
        noted(_passed_over(fetched.passed_over))
    if fetched.n_unlabelled:
        noted(
            f"{fetched.n_unlabelled} fetched images have no row in --labels (matched by "
            f"{labels.key}): left out"
        )
    return fetched


def _passed_over(counts: dict[str, int]) -> str:
    """What the fetch left out as no image, counted (a clinical run must not lose scans
    unsaid: an image-class instance without pixel data is one).

    >>> print(_passed_over({"series": 2, "instances": 1}))  # doctest: +NORMALIZE_WHITESPACE
    passed over as no image: 2 series of a non-image kind (a report, a document, ...) and 1
    instance without pixel data in an image series
    >>> print(_passed_over({"medadapt_series": 1, "series": 1}))  # doctest: +NORMALIZE_WHITESPACE
    passed over as no image: 1 series of medadapt reports and 1 series of another
    non-image kind (a report, a document, ...)
    """
    said = []
    if counts.get("medadapt_series"):  # a rerun's: its own reports (a trial read them as others)
        said.append(f"{counts['medadapt_series']} series of medadapt reports")
    if counts.get("series"):
        n = counts["series"]
        another = "another " if counts.get("medadapt_series") else "a "
        said.append(f"{n} series of {another}non-image kind (a report, a document, ...)")
    if counts.get("instances"):
        n = counts["instances"]
        said.append(f"{n} instance{'s' * (n != 1)} without pixel data in an image series")
    return f"passed over as no image: {listed(said)}"


def _fetched_line(counts: dict[str, int], reference: Any, cache: Path | None) -> str:
    """What a fetch brought: the images, and how many of them came from ``--dicomweb-cache``
    (listed on the PACS all the same: a study may have gained instances since).

    >>> counts = {"images": 12, "series": 12, "studies": 12, "cached": 0}
    >>> _fetched_line(counts, "dicomweb+http://pacs/dicom-web", None)
    'fetched 12 images (12 series, 12 studies) from dicomweb+http://pacs/dicom-web'
    >>> _fetched_line({**counts, "cached": 11}, "dicomweb+http://pacs/dicom-web", Path("c"))
    '12 images (12 series, 12 studies) from dicomweb+http://pacs/dicom-web: 11 read from the \
cache (c), 1 fetched'
    """
    images, studies = (f"{counts[k]} {k if counts[k] != 1 else one}"
                       for k, one in (("images", "image"), ("studies", "study")))  # fmt: skip
    what = f"{images} ({counts['series']} series, {studies}) from {reference}"
    if not counts["cached"]:
        return f"fetched {what}"
    fetched = counts["images"] - counts["cached"]
    return f"{what}: {counts['cached']} read from the cache ({cache}), {fetched} fetched"


@contextlib.contextmanager
def _listed_studies(reference: Any, labels: Any) -> Iterator[None]:
    """A study that ``--labels`` lists and the PACS does not have names its line of
    ``--labels`` (a series UID in the StudyInstanceUID column, a study of another PACS)."""
    from medadapt.data.dicomweb import NotFoundError

    try:
        yield
    except NotFoundError as exc:
        if labels is None or reference.study_uid is not None or exc.uid not in labels.studies:
            raise
        rows = enumerate(labels.rows.values(), start=2)  # the header is line 1
        line = next(n for n, row in rows if row.get("StudyInstanceUID") == exc.uid)
        raise DataError(
            f"study {exc.uid} on line {line} of {FLAG_LABELS} {labels.path} is not on "
            f"{reference}: check that the StudyInstanceUID column holds study UIDs (a series "
            "UID goes under SeriesInstanceUID), and that --data names the PACS that has them"
        ) from None


def _reports_before(values: dict[str, Any], reference: Any, source: Any, labels: Any) -> Any:
    """``--store-sr``: the medadapt reports the studies hold already
    (:class:`~medadapt.data.dicomweb_reports.EarlierReports`), looked for before anything is
    fetched; a series one of this very model reports on is not reported again (unless
    ``--store-sr-again``: :func:`_already_reported`). Nothing is looked for when the model
    cannot be read (the verb refuses it, saying why)."""
    from medadapt.workflows.dicomweb import EarlierReports, model_identity, reports_before

    try:
        model_identity(values["base"], values.get("adapter"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return EarlierReports()
    with (
        status_progress("look for earlier reports (DICOMweb)", said_after=1.0),
        _listed_studies(reference, labels),
    ):
        return reports_before(reference, source, labels)


def _already_reported(held: dict[str, str], model: Any) -> str:
    """Why series are not reported again: a report of this very ``model`` covers them (a rerun
    after a failed store, or of the same study: another report would say the same again).

    >>> from types import SimpleNamespace as S
    >>> print(_already_reported({"1.2.3": "9.9"}, S(described=lambda: "base model abc alone")))
    ... # doctest: +NORMALIZE_WHITESPACE
    series 1.2.3 already holds a report from this model version, base model abc alone (SR
    9.9): not stored again; pass --store-sr-again to store another
    """
    first, uid = next(iter(held.items()))
    which = f"series {first} already holds"
    if len(held) > 1:
        which = f"{len(held)} series (first: {first}) already hold"
    return (
        f"{which} a report from this model version, {model.described()} (SR {uid}): not "
        "stored again; pass --store-sr-again to store another"
    )


def _earlier_note(earlier: Any, model: Any, n_stored: int) -> str:
    """What the studies held before this run stored its ``n_stored`` reports (one per series),
    from ``earlier`` (:class:`~medadapt.data.dicomweb_reports.EarlierReports`): counts and
    versions only.

    >>> from types import SimpleNamespace as S
    >>> one = S(study_uid="1.2", model=S(same_version=lambda m: False))
    >>> two = S(reports=[one, one], unreadable=[])
    >>> print(_earlier_note(two, None, 1))  # doctest: +NORMALIZE_WHITESPACE
    study 1.2 already held 2 earlier medadapt reports (of other model versions): the new
    report is stored beside them
    >>> unread = S(reports=[one], unreadable=["1.2"])
    >>> print(_earlier_note(unread, None, 3))  # doctest: +NORMALIZE_WHITESPACE
    study 1.2 already held 2 earlier medadapt reports (1 of other model versions; 1 could not
    be read, an older or edited report whose model version is unknown): the 3 new reports are
    stored beside them
    """
    unreadable = len(earlier.unreadable)
    studies = sorted({r.study_uid for r in earlier.reports} | set(earlier.unreadable))
    same = sum(r.model.same_version(model) for r in earlier.reports)
    other = len(earlier.reports) - same
    n = len(earlier.reports) + unreadable
    held = (f"study {studies[0]} already held" if len(studies) == 1
            else f"{len(studies)} of the studies already held")  # fmt: skip
    said = []
    if same:
        said.append(f"{same} of this very model version, stored again with --store-sr-again")
    elif other:
        said.append(f"{other} of other model versions" if unreadable else "of other model versions")
    if unreadable:
        said.append(f"{unreadable} could not be read, an older or edited report whose model "
                    "version is unknown")  # fmt: skip
    new = "the new report is" if n_stored == 1 else f"the {n_stored} new reports are"
    return (
        f"{held} {n} earlier medadapt report{'s' * (n != 1)} ({'; '.join(said)}): {new} stored "
        f"beside {'it' if n == 1 else 'them'}"
    )


def _after_predict(
    values: dict[str, Any], fetched: Any, source: Any, schema: dict, earlier: Any
) -> None:
    """Name the predictions by UIDs; with ``--store-sr`` store one SR per series, each image's
    notes as its cautions (the words ``serve`` answers), and say how many medadapt reports
    the studies held before (``earlier``). A report the PACS refuses is one line saying what
    was stored before it, and that the predictions are in ``--out`` all the same (they were
    written, and said to be, before storing)."""
    from medadapt.workflows.dicomweb import (
        model_identity,
        pacs_predictions,
        store_reports,
        with_image_notes,
    )

    volumes = schema.get("spatial_dims") == 3
    predictions = pacs_predictions(values["out"], fetched, volumes=volumes)
    if not values.get("store_sr"):
        return
    base, adapter = values["base"], values.get("adapter")
    model = model_identity(base, adapter)
    predictions = with_image_notes(predictions, base, adapter)
    held = {} if values.get("store_sr_again") else earlier.covered_by(model)
    if held:  # reported already by this very model: said, not stored twice
        noted(_already_reported(held, model))
        predictions = [p for p in predictions if p.series_uid not in held]
        earlier = type(earlier)([r for r in earlier.reports if not r.model.same_version(model)],
                                earlier.unreadable)  # fmt: skip
    stored: list[Any] = []
    try:
        store_reports(source, predictions, model, stored)
    except DataError as exc:
        series = len({p.series_uid for p in predictions})
        raise DataError(f"{exc}; {_not_all_stored(len(stored), series, values['out'])}") from None
    finally:  # the reports stored, a failure after them too
        for report in stored:
            stdout.print(
                f"stored SR {report.sop_uid} for series {report.series_uid} "
                f"({plural(report.n_findings, 'prediction')})",
                markup=False, highlight=False, soft_wrap=True,
            )  # fmt: skip
    if earlier and stored:
        noted(_earlier_note(earlier, model, len(stored)))


def _not_all_stored(n_stored: int, n_series: int, out: Path) -> str:
    """What a failed ``--store-sr`` left: the reports stored before it, the predictions file.

    >>> print(_not_all_stored(2, 3, Path("pred.csv")))  # doctest: +NORMALIZE_WHITESPACE
    only 2 of 3 reports were stored (listed above), but the predictions were written to --out
    pred.csv (rerun with --force to replace it: the series reported already are not reported
    again)
    """
    stored = (f"only {n_stored} of {n_series} reports were stored (listed above)" if n_stored
              else "no report was stored")  # fmt: skip
    return (
        f"{stored}, but the predictions were written to --out {out} (rerun with --force to "
        "replace it: the series reported already are not reported again)"
    )
