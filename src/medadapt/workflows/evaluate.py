"""``evaluate`` and ``predict`` for every modality.

``evaluate`` never scores a sample the base model or the adapter trained on, whatever file
holds it (see :mod:`medadapt.workflows.splitting`), and says so where the file lacks the
model columns that recognise them or a model records none; on the adapter's own source it
scores the adapter's held-out samples. With an adapter, the base model alone is scored on
the same patients (the before/after view); for an adapter that added classes, the old
classes' retention is measured on these samples instead. An adapter trained for one group is
not scored on a table without that group's column unless asked (``--all-groups``): every
group's rows would pass for that group's; ``predict`` scores them and says so.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.adapters import AdapterModel
from medadapt.data.tables import MISSING_LABEL, predictions_bytes
from medadapt.errors import DataError
from medadapt.evaluate.ignored_classes import unlearnt_new_classes
from medadapt.evaluate.report.formatting import (
    AVERAGE_ONLY_WORDS,
    UNCALIBRATED_WORDS,
    UNRANKED_TOO_WORDS,
    UNRANKED_WORDS,
    calibration_sentence,
    fmt_metric,
    measured,
    outcome_unit,
    spelled_cautions,
)
from medadapt.evaluate.retention import EVALUATE_FIX, old_class_retention
from medadapt.evaluate.small_cells import mask_subgroups
from medadapt.fileio import atomic_write_bytes, make_parent
from medadapt.modalities.base import Modality, modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.results import (
    ADAPTER_ROWS,
    ALLOWED_LEAK,
    BACKWARDS,
    FEWER_THAN_BASE,
    IN_SAMPLE,
    LARGER_ERROR_THAN_BASE,
    MISSED_CLASS,
    NEAR_COPY,
    NO_BETTER_THAN_MEAN,
    NONE_OF_A_CLASS_AT_SITE,
    TOO_GOOD_KEY,
    WHOLE_RESULT,
    WHOLE_RESULT_WORDS,
    WITHIN_CHANCE_LEAK,
    WORSE_THAN_BASE,
    AdapterRecord,
    Evaluation,
    absent_kept_leak_note,
    base_kept_leak_notes,
    base_kept_leaks,
    kept_leak_notes,
    recorded_metrics,
    recorded_model,
    within_chance_notes,
)
from medadapt.train.fitting import predict
from medadapt.workflows.base_label import check_label
from medadapt.workflows.loading import attach_adapter
from medadapt.workflows.scoring import score_samples, versus_base_on
from medadapt.workflows.splitting import (
    near_copies_sentence,
    select,
    to_score,
    unknown_split_warning,
    unrecognised_warning,
    unrecorded_base_warning,
    unrecorded_warning,
)


@dataclass(frozen=True)
class Loaded:
    """A base model ready to score: with its adapter attached when one was given."""

    modality: Modality
    base: BaseModel
    model: Any  # the base's model, or an AdapterModel over it
    adapter: str | None  # the adapter's name inside ``model``
    manifest: dict[str, Any] | None  # the adapter's manifest
    classes: list[str]  # the model's outputs (an adapter may add classes)
    record: AdapterRecord = field(default_factory=AdapterRecord)  # what the adapter recorded


def load_for_inference(base_dir: Path, adapter_dir: Path | None) -> Loaded:
    """The base model of ``base_dir``, with the adapter of ``adapter_dir`` attached."""
    base = BaseModel.load(base_dir, flag="--base")
    modality = modality_of(base.kind)
    if adapter_dir is None:
        return Loaded(modality, base, base.model, None, None, modality.classes(base.schema))
    model, name, manifest = attach_adapter(base.model, adapter_dir, base_dir)
    record = AdapterRecord.from_json(manifest.get("metadata"))
    classes = record.classes or modality.classes(base.schema)
    if record.inputs_seen:  # inputs like the adapter's training ones are not said as unlike
        base = replace(base, schema=modality.with_inputs_seen(base.schema, record.inputs_seen))
    return Loaded(modality, base, model, name, manifest, list(classes), record)


def _own_split(loaded: Loaded, adapter_dir, data, samples):
    """The adapter's split (or a fully fine-tuned model's adaptation split), with its side
    file when that is needed here."""
    if loaded.record.split is not None:
        return loaded.modality.read_split(Path(adapter_dir), loaded.record.split, data,
                                          "adapter", samples)  # fmt: skip
    return loaded.base.training.get("adapted", {}).get("split")


def evaluate_job(
    *,
    base_dir: Path,
    data: Path,
    adapter_dir: Path | None = None,
    options: Any = None,
    label: str | None = None,
    group_column: str | None = None,
    group: str | None = None,
    all_groups: bool = False,
    threshold: float = 0.5,
    n_boot: int = 1000,
    report: Path | None = None,
) -> Evaluation:
    """Metrics of the base (+ adapter) on ``data`` with 95 % CIs, overall and per subgroup
    (per class for classifiers that list classes); only samples neither trained on.
    ``all_groups``: score ``data`` even where it has no column for the group the adapter was
    trained for (refused otherwise: every group's samples would be scored as that group's)."""
    loaded = load_for_inference(base_dir, adapter_dir)
    modality, schema = loaded.modality, loaded.base.schema
    options = options if options is not None else modality.options()
    check_label(modality, schema, label)
    samples = modality.read_for_model(
        data, loaded.base, options, classes=loaded.classes, group_column=group_column,
        groups=[group] if group else None,
        label=label, hint="evaluate a model that knows these classes (medadapt adapt "
        "--new-classes)",
    )  # fmt: skip
    group_column = getattr(getattr(samples, "info", None), "group_column", group_column)
    if group_column is None and not all_groups:
        _refuse_without_group_column(loaded, data, samples)
    test, used, excluded, unrecognised = _samples_to_score(
        loaded, base_dir, adapter_dir, data, samples, group_column, group
    )
    by_column = group_column or _base_group_column(loaded, test)
    # the columns named by --subgroups, judged on the rows scored (the base alone too)
    how = {"classes": loaded.classes, "group_column": by_column, "threshold": threshold,
           "n_boot": n_boot,
           "subgroups": modality.chosen_subgroups(schema, test, options, by_column)}  # fmt: skip
    scores = predict(modality, loaded.model, schema, test, adapter=loaded.adapter)
    evaluation = score_samples(modality, schema, test, scores, **how)
    members = _members(modality, test, how)  # the subgroup tables are read together
    trainable, size = _size(loaded.base, base_dir, loaded.manifest, adapter_dir)
    record = loaded.record
    extras = modality.evaluation_extras(schema, test)
    result = Evaluation(
        metrics=evaluation["overall"], used=used, noun=modality.noun,
        n_excluded_trained=excluded,
        task=evaluation["overall"].get("task") or modality.task(schema), kind=modality.kind,
        label=getattr(schema, "label", None),
        classes=list(loaded.classes), adapter=loaded.adapter,
        method=record.method or loaded.base.training.get("adapted", {}).get("method"),
        trainable_params=trainable, adapter_bytes=size,
        subgroups=mask_subgroups(evaluation["subgroups"], members, how["subgroups"]),
        per_class=evaluation.get("per_class"),
        recorded_retention=record.retention, full_finetune=record.full_finetune,
        skipped_files=samples.skipped_files(),
        data_warnings=(scored_though_withheld(modality, schema, test, options,
                                               modality.sample_notes(schema, test))
                       + modality.unnamed_patients_warning(schema, test)
                       + unrecognised
                       + _other_groups(loaded, test, evaluating=True, named=group_column,
                                       chosen=group)
                       + _patients_forgotten(loaded, test)
                       + _internal_and_external(loaded, test, group_column)
                       + _subgroups_written_alike(evaluation["subgroups"])),
        leak_warnings=(kept_leak_warnings(loaded, absent=extras.get("absent_columns") or ())
                       + _forgotten(loaded) + modality.scored_notes(schema, test)),
        extras=_without_read_columns(loaded, extras, how["subgroups"]),
        curves={"y": test.labels, "scores": modality.task_scores(schema, scores),
                "proba": scores if modality.per_class() else None},
    )  # fmt: skip
    result = _before_and_after(loaded, test, scores, result, how, members)
    if report is not None:
        from medadapt.workflows.reports import evaluation_report

        evaluation_report(result.to_json(), result.curves).write(report)
    return result


def _members(modality: Modality, test, how: dict[str, Any]) -> dict[str, Any]:
    """Each scored sample's value of each subgroup variable, as the metrics were computed
    per subgroup: to read the subgroup tables together before showing them (the columns a
    user names may relate, as a flag of one group relates to the group)."""
    return modality.subgroups(test, how["group_column"], extra=how["subgroups"])


def _samples_to_score(loaded: Loaded, base_dir, adapter_dir, data, samples, group_column, group):
    """``(samples to score, which ones in words, how many were left out as trained on,
    warnings where those trained on cannot be recognised or were not recorded)``: never a
    sample the base or the adapter trained on, as far as they can be told."""
    modality, base = loaded.modality, loaded.base
    base_split = modality.read_split(base_dir, base.training.get("split") or {}, data, "base",
                                     samples)  # fmt: skip
    own = _own_split(loaded, adapter_dir, data, samples)
    chosen = select(samples, group_column, [group] if group else None, what="--group")
    own_name = "the adapter" if loaded.adapter else "the fine-tuned model"
    scored, used, excluded = to_score(
        modality, data, samples, chosen, base_split=base_split, own_split=own, group=group,
        group_column=group_column, own_name=own_name,
    )  # fmt: skip
    near = _near_copies_warning(modality, data, samples, scored, [base_split, own])
    if own and own.get("_unknown"):
        used += (  # "; ": a trial read "(all rows (the adapter's ...))", the warning's why
            f"; {modality.noun} {own_name} trained on could not be left out"
        )
    if len(scored) == 0 and excluded:
        raise DataError(
            f"every labelled {modality.noun[:-1]} of --data {data} ({used}) was used in "
            "training; evaluate on patients the model never saw"
        )
    if len(scored) == 0:
        raise DataError(f"--data {data} has no labelled {modality.noun} to evaluate ({used})")
    warnings = _unrecorded(loaded, base_split, own)
    warnings += unrecognised_warning({"the base model": base_split, own_name: own})
    splits = {"the base model": base_split, own_name: own}  # the adapter's: in used too
    warnings += unknown_split_warning(splits, noun=modality.noun)
    return samples.subset(scored), used, excluded, warnings + near


#: a predicted sample's ``trained_on`` where it looks like a near-identical copy of a training
#: sample (no exact match: said, never acted on)


def _near_copies_warning(
    modality: Modality, data, samples, scored, splits, *, scored_as: str = "scored",
    figures: str = "these figures", near: np.ndarray | None = None, marked: bool = False,
) -> list[str]:  # fmt: skip
    """A warning naming how many of the ``scored`` samples look like near-identical copies of
    a training sample of ``splits`` (a JPEG re-save of a training PNG: its values differ a
    little, so no exact key matches). Scored all the same, and said
    (:func:`~medadapt.workflows.splitting.near_copies_sentence`); ``scored_as`` and
    ``figures``: what was done with them ("predicted": a trial's 22 near-copies were warned
    of by ``evaluate`` and not by ``predict``)."""
    near = modality.near_copies(data, samples, splits, scored) if near is None else near
    if near is None or not near[scored].any():
        return []
    noun = modality.noun
    said = near_copies_sentence(
        int(near[scored].sum()), f"the {noun} {scored_as}", f"{noun} the model trained on", figures
    )
    return [f"{said}; column trained_on marks {'it' if near[scored].sum() == 1 else 'them'}"
            if marked else said]  # fmt: skip


def _unrecorded(loaded: Loaded, base_split, own) -> list[str]:
    """A warning for the base and for the adapter that record no samples they trained on
    (saved from the Python API before it recorded them, or built by hand): those cannot be
    left out, and nothing else would say so. A base that was never trained is not judged."""
    modality, noun = loaded.modality, loaded.modality.noun
    warnings = unrecorded_base_warning(
        modality, loaded.base, base_split, "this evaluation", figures="its figures",
        instead="evaluate only on",
    )  # fmt: skip
    if loaded.adapter is not None and not own:
        python = " (or ma.adapt, then save_adapter)" if modality.kind == "tabular" else ""
        how = f"medadapt adapt{python}"
        warnings.append(unrecorded_warning(f"adapter {loaded.adapter!r}", how, noun))
    return warnings


def _before_and_after(
    loaded: Loaded, test, scores, result: Evaluation, how, members: dict[str, Any]
) -> Evaluation:
    """An adapter's evaluation with the base alone on the same samples, or, for one that
    added classes, the old classes' retention."""
    modality, schema, model = loaded.modality, loaded.base.schema, loaded.model
    if len(loaded.classes) > len(modality.classes(schema)) and isinstance(model, AdapterModel):
        with model.disabled():
            before = predict(modality, model.base_model, schema, test)
        old = modality.classes(schema)
        retention = old_class_retention(test.labels, before, scores, old,
                                        n_boot=how["n_boot"], fix=EVALUATE_FIX)  # fmt: skip
        unlearnt = unlearnt_new_classes(test.labels, scores, loaded.classes, len(old),
                                        unit=modality.noun.removesuffix("s"))  # fmt: skip
        return replace(result, retention=retention,
                       data_warnings=result.data_warnings + unlearnt)  # fmt: skip
    if loaded.adapter is None:
        return result
    base_scores = predict(modality, model, schema, test, adapter=None)
    before = score_samples(modality, schema, test, base_scores, **how)
    curves = {**result.curves, "base_scores": modality.task_scores(schema, base_scores)}
    paired = versus_base_on(modality, schema, test, result.metrics, scores, base_scores,
                            n_boot=how["n_boot"])  # fmt: skip
    compared = {
        **before,
        "subgroups": mask_subgroups(before["subgroups"], members, how["subgroups"]),
    }
    return replace(
        result, base_comparison={**compared, **({"versus_base": paired} if paired else {})},
        adapter_training=loaded.record.data_summary, intended_use=loaded.record.intended_use,
        curves=curves,
    )  # fmt: skip


def _size(base, base_dir, manifest, adapter_dir) -> tuple[int, int]:
    """``(trainable parameters, bytes)`` of the adapter, of a fully fine-tuned model (every
    parameter, the whole weights file), or ``(0, 0)`` for a base model alone."""
    if manifest is not None:
        return manifest["n_parameters"], (Path(adapter_dir) / "adapter.safetensors").stat().st_size
    adapted = base.training.get("adapted", {})
    if adapted.get("method") == "full":
        n_params = adapted.get("trainable_params") or sum(
            p.numel() for p in base.model.parameters()
        )
        return n_params, (Path(base_dir) / "model.safetensors").stat().st_size
    return 0, 0


def predict_job(
    *,
    base_dir: Path,
    data: Path,
    out: Path,
    adapter_dir: Path | None = None,
    options: Any = None,
) -> dict[str, Any]:
    """Write one prediction per sample of ``data`` to ``out`` (CSV, TSV or Parquet by its
    suffix): the id column (tables without one: each row's number, ``row``), ``p_<class>``...,
    ``predicted``, the modality's flags, ``trained_on`` where known and, last, ``model``
    (:meth:`~medadapt.data.dicom_sr.ModelIdentity.described`)."""
    loaded = load_for_inference(base_dir, adapter_dir)
    modality, base, model, name = loaded.modality, loaded.base, loaded.model, loaded.adapter
    classes = loaded.classes
    options = options if options is not None else modality.options()
    schema = base.schema
    samples = modality.read_unlabelled(data, base, options)
    scores = predict(modality, model, schema, samples, adapter=name)
    columns: dict[str, Any] = {}
    predicted = modality.predictions(schema, scores, classes)
    withheld = modality.withheld(schema, samples, options)
    if withheld is not None:  # left blank, as serve withholds them (--score-sparse: not)
        predicted = {column: pd.Series(values).astype(object).where(~withheld.rows, None)
                     for column, values in predicted.items()}  # fmt: skip
    columns.update(predicted)
    columns.update(modality.prediction_flags(schema, samples))
    in_sample, trained_on = _predicted_in_sample(loaded, base_dir, adapter_dir, data, samples)
    if trained_on is not None:  # which rows: a trial could not tell them from the others
        columns["trained_on"] = trained_on
    # which model gave them, as the DICOM SR and the server name it (a trial's predictions
    # of the base alone and of the adapter had the same columns, nothing to tell them apart)
    from medadapt.workflows.model_identity import model_identity

    columns["model"] = model_identity(base_dir, adapter_dir).described()
    ids = modality.ids(schema, samples)
    if ids is not None:
        _refuse_an_id_named_as_ours(ids[0], columns)
        columns = {ids[0]: ids[1], **columns}
    table = pd.DataFrame(columns, index=np.arange(len(scores)))
    warnings = _unmeasured(loaded) + _recorded_result(loaded) + _uncalibrated(loaded)
    extras = modality.prediction_extras(schema, samples)
    absent = extras.get("absent_columns") or ()
    warnings += kept_leak_warnings(loaded, "these predictions", absent) + _forgotten(loaded)
    notes = modality.sample_notes(schema, samples)
    if withheld is not None:  # in the place of the warning that said they were predicted
        notes = [withheld.warning if n == withheld.replaces else n for n in notes]
        notes += [] if withheld.warning in notes else [withheld.warning]
    warnings += notes + in_sample
    warnings += _all_one_class(modality, classes, predicted.get("predicted"))
    warnings += _flat_predictions(modality, schema, scores)
    make_parent(out)
    probabilities = [c for c in predicted if c.startswith("p_")]
    atomic_write_bytes(out, predictions_bytes(table, out, probabilities))
    return {
        "predictions": str(out),
        "n": len(table),
        "n_withheld": 0 if withheld is None else int(withheld.rows.sum()),
        "adapter": name,
        "warnings": warnings + _other_groups(loaded, samples),
        "typical_error": _typical_error(loaded, _lacking(table)),
        "skipped_files": getattr(samples, "skipped", []),
        **_without_read_columns(loaded, extras, ()),
    }


ONE_CLASS_PREDICTED_FROM = 20  # predictions of 3+ classes: this many, all one, is said


def _all_one_class(modality: Modality, classes, called) -> list[str]:
    """A warning where every one of :data:`ONE_CLASS_PREDICTED_FROM` or more samples is
    predicted the same one of three or more classes (a trial's 75 images of a site with
    inverted contrast were all 'mass', p 0.98, without a word; ``evaluate`` says it of a
    labelled set). Not for two classes: a rare outcome is often predicted absent for all."""
    if called is None or len(classes) < 3:
        return []
    made = [c for c in pd.Series(called).tolist() if c is not None]
    if len(made) < ONE_CLASS_PREDICTED_FROM or len(set(made)) != 1:
        return []
    noun = modality.noun
    return [
        f"every one of the {len(made)} {noun} predicted is called {made[0]!r}, one of "
        f"{len(classes)} classes: a model that calls every {noun[:-1]} one class has often met "
        f"{noun} unlike those it trained on (another site's equipment, units or patients); "
        f"evaluate it on labelled {noun} of this site ('medadapt evaluate') before relying on "
        "these calls"
    ]


def _flat_predictions(modality: Modality, schema: Any, scores: Any) -> list[str]:
    """A warning where :data:`ONE_CLASS_PREDICTED_FROM` or more samples are given nearly
    the same probability (:func:`~medadapt.evaluate.metrics.flat_spread`): a trial's file
    held 0.47565100 for each of 60 images, from an adapter whose evaluation said so, while
    predict said nothing of it."""
    from medadapt.evaluate.metrics import flat_spread, spread_text

    if modality.task(schema) == "regression" or len(scores) < ONE_CLASS_PREDICTED_FROM:
        return []
    spread = flat_spread(modality.task_scores(schema, scores))
    if spread is None:
        return []
    noun = modality.noun
    return [
        f"the model gives nearly the same probability to every one of the {len(scores)} {noun} "
        f"predicted (the middle 90% between {spread_text(*spread)}): these "
        f"probabilities do not tell the {noun} apart, whatever their digits; evaluate it on "
        f"labelled {noun} of this site ('medadapt evaluate') before relying on them"
    ]


def _without_read_columns(
    loaded: Loaded, extras: dict[str, Any], subgroups: Sequence[str]
) -> dict[str, Any]:
    """``extras`` without the columns evaluate reads among those said to be unread by the
    model: the adapter's group column (a trial was told "train a new base to use it" of the
    column its adapter picks rows by) and the ``--subgroups`` (a trial was told it of the
    ethnicity it asked the metrics by)."""
    trained = _trained_for(loaded)
    read = {*subgroups, *([trained[1]] if trained is not None else [])}
    if not read & set(extras.get("unread_columns", ())):
        return extras
    return {**extras, "unread_columns": [c for c in extras["unread_columns"] if c not in read]}


def _refuse_an_id_named_as_ours(id_column: str, columns: dict[str, Any]) -> None:
    """An id column named as one of the columns ``predict`` writes (``model``, ``trained_on``,
    ``predicted``, ...) is refused: written side by side, one would replace the other and the
    predictions lose their patients (a review)."""
    if id_column in columns:
        raise DataError(
            f"the id column {id_column!r} of --data has the name of a column predict writes "
            f"({', '.join(map(repr, columns))}), which would replace it: rename it in --data "
            f"(a base model trained with --id-column {id_column} is retrained with the new "
            "name)"
        )


def _predicted_in_sample(
    loaded: Loaded, base_dir, adapter_dir, data, samples
) -> tuple[list[str], list[str] | None]:
    """A warning counting the samples predicted that the base model or the adapter trained
    on (by content): their predictions are in-sample, better than the model is on new
    patients (a trial predicted 154 rows, 107 of which had trained the adapter, without a
    word, where ``evaluate`` leaves such rows out); and, per sample, which trained on it
    (the predictions' ``trained_on`` column: "adapter 'va'", "the base model" or empty; None
    where none did and nothing could say so: no split recorded, one not beside its model or
    not readable in ``--data``, or this modality cannot tell). The column is there, empty
    where none trained on a sample, whenever they could be recognised (a trial's image
    predictions had it in one file and not in the next: a hospital's pipeline reads one set
    of columns)."""
    modality = loaded.modality
    base_split = loaded.base.training.get("split") or {}
    records = {"the base model": modality.read_split(base_dir, base_split, data, "base", samples)}
    if loaded.adapter:
        records[f"adapter {loaded.adapter!r}"] = _own_split(loaded, adapter_dir, data, samples)
    every = all(records.values())  # each model loaded records its split (an older one: not)
    records = {who: record for who, record in records.items() if record}
    found = modality.trained_among(data, samples, list(records.values()))
    masks = {who: mask for who, mask in zip(records, found or (), strict=False) if mask.any()}
    matched = np.logical_or.reduce([np.zeros(len(samples), dtype=bool), *masks.values()])
    unseen = np.flatnonzero(~matched)
    copied = modality.near_copies(data, samples, list(records.values()), unseen)
    copies = np.zeros(len(samples), dtype=bool) if copied is None else copied & ~matched
    near = _near_copies_warning(modality, data, samples, unseen, list(records.values()),
                                scored_as="predicted", figures="their predictions",
                                near=copied, marked=True)  # fmt: skip
    unmarked = "may not mark them in-sample"  # (no trained_on column where none is known)
    outcome = getattr(loaded.base.schema, "label", None)
    unsure = unrecognised_warning(
        records, "predict", unmarked, outcome=outcome
    ) + unknown_split_warning(records, "predict", unmarked, noun=modality.noun)
    near = unsure + near  # recoded, absent, or their split.json not beside them
    told = every and not unsure and (found is not None or copied is not None)
    if not masks and not copies.any() and not told:  # none, and nothing could tell them
        return near, None
    trained_on = np.full(len(samples), "", dtype=object)
    # which ones (a trial's warning of 4 near-copies named none of them)
    trained_on[copies] = NEAR_COPY
    for who, mask in masks.items():  # the adapter named last: it trained on the row here
        trained_on[mask] = who
    if not masks:
        return near, trained_on.tolist()
    n = int(matched.sum())
    measured = modality.task(loaded.base.schema) == "regression"
    said = in_sample_sentence(n, len(samples), modality.noun, " or ".join(masks),
                              measured=measured)  # fmt: skip
    return [said, *near], trained_on.tolist()


def in_sample_sentence(n: int, total: int, noun: str, who: str, *, measured: bool = False) -> str:
    """``2 of the 9 rows predicted match rows that adapter 'va' trained on ...``; one
    ``matches an image`` (a trial's said "matches a image"); ``measured``: predictions of a
    measured value, closer to the truth rather than "more confident and more often right"
    (a trial's diabetes predictions were said so)."""
    one = noun.removesuffix("s")
    article = "an" if one[:1] in "aeiou" else "a"
    match = f"matches {article} {one} that" if n == 1 else f"match {noun} that"
    return (
        f"{n} of the {total} {noun} predicted {match} {who} trained on (by content; column "
        f"trained_on says which): their predictions are in-sample, {IN_SAMPLE[measured]} "
        "the model is on new patients; 'medadapt evaluate' leaves them out of its figures"
    )


def kept_leak_warnings(
    loaded: Loaded, what: str = "these figures", absent: Collection[str] = ()
) -> list[str]:
    """The columns the base model, a fully fine-tuned model or the adapter kept with
    ``--allow-leak``, as they recorded them: every result on the model says so. Those the
    data lacks (``absent``: its feature columns missing for every row) are said apart
    (:func:`~medadapt.results.absent_kept_leak_note`): the result cannot rest on them."""
    label = getattr(loaded.base.schema, "label", None)
    recorded = loaded.record.allowed_leaks if isinstance(loaded.record.allowed_leaks, list) else []
    adapter_leaks = [leak for leak in recorded if isinstance(leak, dict)]
    kept = [leak["column"] for leak in base_kept_leaks(loaded.base.training)]
    kept += [leak.get("column") for leak in adapter_leaks]
    missing = [column for column in dict.fromkeys(kept) if column in set(absent)]
    said = absent_kept_leak_note(missing, what)
    return [  # each column once; the missing ones left to their own note
        *base_kept_leak_notes(loaded.base.training, label, what=what, said_here=missing),
        *kept_leak_notes(
            [leak for leak in adapter_leaks if leak.get("column") not in missing],
            label,
            what=what,
            whose=ADAPTER_ROWS,
        ),
        *within_chance_notes(loaded.record.strong_within_chance, label, what=what),
        *([said] if said else []),
    ]


def _patients_forgotten(loaded: Loaded, test) -> list[str]:
    """A warning when the base (or the adapter) was trained with its samples grouped by
    patient but nothing in ``test`` names a patient: each sample is then resampled as a patient
    of its own, and a patient's several samples make the intervals too narrow."""
    column, whose = getattr(loaded.base.schema, "id_column", None), "the base model"
    if not column and loaded.adapter:
        summary = loaded.record.data_summary or {}
        column, whose = summary.get("patient_column"), f"adapter {loaded.adapter!r}"
    return loaded.modality.patients_forgotten(test, column, whose)  # as adapt says it


def _forgotten(loaded: Loaded) -> list[str]:
    """The adapter's recorded failure to keep the old classes when it learnt new ones: every
    later result on it says so, as it says a kept leak."""
    from medadapt.evaluate.retention import forgetting_warning

    if not loaded.adapter:
        return []
    said = forgetting_warning(loaded.record.retention, f"adapter {loaded.adapter!r}")
    return [said] if said else []


def _unmeasured(loaded: Loaded) -> list[str]:
    """A warning when the model making the predictions has no measured performance: its
    held-out test set was too small for any figure (a base trained on 12 patients held out
    3). Nothing then says how good the predictions are. Models that recorded no test
    metrics at all (saved by an older medadapt) are not judged."""
    metrics, model = _recorded(loaded)
    if not metrics:
        return []
    if measured(metrics):
        return []
    notes = metrics.get("notes") or {}
    own = [note for key, note in notes.items() if key not in WHOLE_RESULT]  # not a leak kept
    why = str(notes.get("all") or next(iter(own), "no figure could be computed"))
    why = why.removeprefix("not reported: ")
    noun = loaded.modality.noun
    return [
        f"{model} has no measured performance: its held-out test set had {why}; nothing says "
        f"how good these predictions are: score it with medadapt evaluate on labelled {noun} "
        "it did not train on before relying on them"
    ]


def _lacking(table: pd.DataFrame) -> int:
    """How many predicted rows were read with features missing (``missing_features``)."""
    if "missing_features" not in table:
        return 0
    return int(table["missing_features"].fillna("").astype(str).str.len().gt(0).sum())


def _typical_error(loaded: Loaded, lacking: int = 0) -> str | None:
    """How far a measured value's predictions are typically off, from the model's recorded
    test MAE and its interval (a trial's diabetes predictions, written to five decimals, were
    typically off by about 53, which nothing beside them said); None for classes or where no
    MAE was measured."""
    metrics, model = _recorded(loaded)
    mae = (metrics or {}).get("mae")
    if not isinstance(mae, int | float):
        return None
    # patients where an id column named them (some repeat), else its rows (a trial's adapter
    # said "33 held-out rows" and its predictions "its 33 test patients")
    patients = "n_patients" in metrics
    n = metrics.get("n_patients", metrics.get("n"))
    unit = "patients" if patients else loaded.modality.noun
    on = f"its {n:,} test {unit}" if isinstance(n, int) else f"its test {unit}"
    off = fmt_metric(metrics, "mae")
    unit = outcome_unit(getattr(loaded.base.schema, "label", None))
    # (a trial's rows without 'bmi' were off by 47.6 where the note quoted 43.3)
    more = (f"; the {lacking:,} read with features missing (column missing_features) may be off "
            "by more" if lacking else "")  # fmt: skip
    return (f"{model} was off by {off} on average (MAE, {unit}) on {on}: read each predicted "
            f"value as give or take about that much{more}")  # fmt: skip


def _recorded(loaded: Loaded) -> tuple[dict[str, Any] | None, str]:
    """The recorded test figures of the model making the predictions, and its name."""
    if loaded.adapter:
        return loaded.record.metrics, f"adapter {loaded.adapter!r}"
    training = loaded.base.training
    return recorded_metrics(training), recorded_model(training, " in --base")


def _uncalibrated(loaded: Loaded) -> list[str]:
    """A warning where the model's recorded test could not measure its calibration (too few
    patients of an outcome for a calibration slope): its probabilities are written all the
    same, and a trial read "0.99981230" as a near-certain risk from an adapter tested on 3
    positives. Binary models measured otherwise only (an unmeasured one is said already)."""
    metrics, model = _recorded(loaded)
    said = calibration_sentence(metrics or {})
    return [f"the recorded test of {model} {said}"] if said else []


def _recorded_result(loaded: Loaded) -> list[str]:
    """The warnings recorded about the model's whole test result (too good to be true, a
    class it almost never calls, no better than the average value, ranked backwards, worse
    than the base model alone, at most half the cases of a class the base found), repeated
    with its predictions, as ``serve`` says them: a trial predicted with a base whose AUROC of
    1.000 had been warned about at train-base, without a word. (An accuracy no better than one
    answer for all is a figure at one threshold, said where the figures are.)"""
    return recorded_result_warnings(*_recorded(loaded), said_whole=True)


def recorded_result_warnings(
    metrics: dict[str, Any] | None, model: str, *, said_whole: bool = False
) -> list[str]:
    """The cautions a model's recorded test ``metrics`` carry about its whole result, each
    as "the recorded test result of <model>: ...", for the commands that use or pass on the
    model (``predict``, ``export-peft``)."""
    notes = (metrics or {}).get("notes") or {}
    said = (TOO_GOOD_KEY, MISSED_CLASS, NO_BETTER_THAN_MEAN, BACKWARDS, WORSE_THAN_BASE,
            LARGER_ERROR_THAN_BASE, FEWER_THAN_BASE, NONE_OF_A_CLASS_AT_SITE)  # fmt: skip
    out = [f"the recorded test result of {model}: {notes[key]}"
           for key in said if notes.get(key)]  # fmt: skip
    # and the other cautions a served answer carries, in its words (a trial's predict said
    # one where the service said three: everyone called positive, not better than chance)
    # the others: those whose notes were not said above, each by its key (a review: said in
    # the recorded words, a missed class came back as "also carries" after its own line)
    untold = {**(metrics or {}), "notes": {k: v for k, v in notes.items() if k not in said}}
    # predict says these whole (its own warnings): not again in a few words (``said_whole``)
    own = {UNCALIBRATED_WORDS, AVERAGE_ONLY_WORDS, UNRANKED_WORDS, UNRANKED_TOO_WORDS,
           *(WHOLE_RESULT_WORDS[k] for k in (ALLOWED_LEAK, WITHIN_CHANCE_LEAK))}  # fmt: skip
    more = [c for c in spelled_cautions(untold) if not (said_whole and c in own)]
    if more and measured(metrics or {}):
        also = "these cautions" if len(more) > 1 else "this caution"  # (a trial read "also
        them = "them" if len(more) > 1 else "it"  # carries, as served answers say it")
        out.append(f"the recorded test result of {model} also carries {also}, as served "
                   f"answers say {them}: {'; '.join(more)}")  # fmt: skip
    return out


def _trained_for(loaded: Loaded) -> tuple[str, str, str] | None:
    """``(the model in words, group column, group)`` the adapter (or fine-tuned model) was
    trained for; None when it records no group."""
    summary = loaded.record.data_summary
    if summary is None:
        summary = loaded.base.training.get("adapted", {}).get("data_summary") or {}
    column, group = summary.get("group_column"), summary.get("group")
    if not column or group is None:
        return None
    model = f"adapter {loaded.adapter!r}" if loaded.adapter else "the fine-tuned model in --base"
    return model, column, str(group)


def _refuse_without_group_column(loaded: Loaded, data, samples) -> None:
    """Refuse to evaluate an adapter trained for one group on ``data`` that has no column
    for that group (renamed, ``site`` for ``dataset``): its samples of every group would be
    scored and the figures read as the adapter's, without a word."""
    trained = _trained_for(loaded)
    if trained is None or not loaded.modality.lacks_group_column(samples, trained[1]):
        return
    model, column, group = trained
    noun = loaded.modality.noun
    raise DataError(
        f"{model} is for {column} = {group!r}, but --data {data} has no column {column!r} to "
        f"pick that group's {noun} by: every {noun[:-1]} would be scored, whatever its group; "
        f"pass --group-column COL --group {group!r} naming the column that holds the group in "
        f"this file{samples.group_column_hint([group], say_flag=False)}, or --all-groups to "
        f"score every {noun[:-1]} deliberately"
    )


def _other_groups(
    loaded: Loaded,
    samples,
    evaluating: bool = False,
    named: str | None = None,
    chosen: str | None = None,
) -> list[str]:
    """A warning when the adapter (or fine-tuned model) was trained for one group and
    ``samples`` hold others, or (tables) hold no column to tell: scored all the same (a user
    may mean it), but said (``evaluating``: its figures then describe the other groups).
    ``named``: the group column named for this data (``--group-column``), read where the
    recorded one is absent (renamed); ``chosen``: the ``--group`` evaluated there (a site
    written otherwise, ``LB``: the warning must not send the user to a value the file lacks)."""
    trained = _trained_for(loaded)
    if trained is None:
        return []
    model, column, group = trained
    modality, noun = loaded.modality, loaded.modality.noun
    here = column
    values = modality.group_values(samples, column)
    if values is None and named:
        here, values = named, modality.group_values(samples, named)
    if values is None:
        return _no_group_column(loaded, samples, model, column, group, evaluating=evaluating)
    n_other = int(np.sum((values != group) & (values != MISSING_LABEL)))
    if n_other == 0:
        return []
    if evaluating and chosen is not None and here != column:  # --group under another column
        return [
            f"{model} is for {column} = {group!r}, and these figures are of {here} = "
            f"{chosen!r}: if that is the same group written otherwise in this file, they are "
            "the adapter's own; if not, they describe it on another group"
        ]
    if evaluating:
        return [
            f"{model} is for {column} = {group!r}, but {n_other} of the {len(values)} {noun} "
            f"scored have another value of {here!r}: these figures describe it there, not "
            f"where it was trained; to score that group only, pass --group-column {here} "
            f"--group {group!r}"
        ]
    return [
        f"{model} is for {column} = {group!r}, but {n_other} of {len(values)} {noun} have "
        f"another value of {column!r}: they are scored with it too; to score only that "
        f"group, keep only its {noun} in --data"
    ]


WITHHELD_BUT_SCORED = (
    "; predict leaves {them} blank and serve withholds {them} (unless --score-sparse), yet "
    "these figures include {them}: they describe {n} more {noun} than the service answers; "
    "fill in the others before relying on them"
)


def scored_though_withheld(modality, schema, test, options, notes: list[str]) -> list[str]:
    """``notes`` with the warning on samples lacking most of the model's features saying
    that ``predict`` and ``serve`` would give them no answer, though these figures count them
    (a trial's VA figures included 17 of 60 rows the deployed service withholds)."""
    held = modality.withheld(schema, test, options)
    if held is None or held.replaces is None or held.replaces not in notes:
        return notes
    n = int(held.rows.sum())
    said = held.replaces.removesuffix("; fill in the others before relying on them")
    said += WITHHELD_BUT_SCORED.format(them="it" if n == 1 else "them", n=n,
                                       noun=modality.noun if n != 1 else
                                       modality.noun.removesuffix("s"))  # fmt: skip
    return [said if note == held.replaces else note for note in notes]


def _subgroups_written_alike(subgroups: dict[str, dict[str, Any]]) -> list[str]:
    """A warning per subgroup whose values look like one written several ways (a trial's
    per-group table had 'sex = F', 'Female' and 'female' as three rows, with no word)."""
    from medadapt.data.feature_kinds import ways_said, written_alike

    out = []
    for name, values in subgroups.items():
        doubled = written_alike(list(values))
        if doubled:
            out.append(f"the per-group table lists {name} values written several ways apart "
                       f"({ways_said(doubled)}): their rows are split between them; write "
                       "each one way in the file for one row per group")  # fmt: skip
    return out


def _base_group_column(loaded: Loaded, samples) -> str | None:
    """The base model's group column where the samples hold it: without ``--group-column``,
    ``evaluate``'s per-group table is by the groups the base was trained with (a trial's
    heart file was scored over four sites with no per-site row until the flag was passed)."""
    column = getattr(loaded.base.schema, "group_column", None)
    if not column or loaded.modality.group_values(samples, column) is None:
        return None
    return column


def _internal_and_external(loaded: Loaded, samples, group_column: str | None) -> list[str]:
    """A warning where, without ``--group-column``, the samples scored mix groups the base
    trained on (its held-out samples there: internal validation) with groups it never saw
    (external validation): one overall figure blends two questions (a trial: 443 heart rows,
    120 of Cleveland and Hungary, 323 of VA and Switzerland, with AUROC 0.810 and no word).
    Each group's figures are in the per-group table (by the base's group column)."""
    column = _base_group_column(loaded, samples)
    trained = loaded.base.training.get("groups") or {}
    if group_column is not None or not column or not trained or _trained_for(loaded):
        return []
    values = loaded.modality.group_values(samples, column)
    inside = np.isin(values, [str(g) for g in trained])
    n_in, n_out = int(inside.sum()), int((~inside & (values != MISSING_LABEL)).sum())
    if not n_in or not n_out:
        return []
    noun = loaded.modality.noun
    groups = " or ".join(map(repr, sorted(str(g) for g in trained)))
    return [
        f"the {len(values)} {noun} scored mix {n_in} of {column} = {groups}, where the base "
        f"model trained (its held-out {noun}: internal validation), with {n_out} of other "
        f"groups it never saw (external validation): the overall figures blend the two; read "
        f"each group's figures by {column} below, or add --group NAME to score one"
    ]


def _no_group_column(
    loaded: Loaded, samples, model: str, column: str, group: str, *, evaluating: bool
) -> list[str]:
    """The warning when ``samples``' data has no column for the group ``model`` was trained
    for (a table's or an image CSV's renamed, ``hospital`` for ``dataset``): nothing tells
    its groups apart, so all its samples are scored (``evaluating``: as ``--all-groups``
    asked)."""
    if not loaded.modality.lacks_group_column(samples, column):  # or nothing tells it is
        return []
    noun = loaded.modality.noun
    said = f"{model} is for {column} = {group!r}, but --data has no column {column!r}"
    if evaluating:
        return [
            f"{said}: every {noun[:-1]} was scored (--all-groups), so these figures describe "
            f"it on whichever groups --data holds; to score that group only, pass "
            f"--group-column COL --group {group!r} naming the column that holds the group"
        ]
    return [
        f"{said}: {noun} of other groups cannot be told apart and may be scored with it; to "
        f"score only that group, keep only its {noun} in --data"
    ]
