"""``adapt`` for every modality: train an adapter (or a fully fine-tuned copy) on one group's
samples, score it on held-out patients the base never saw, record its split, save it.

With new classes (modalities that can grow), the retention of the old classes is measured on
old-class samples neither the base nor the adapter trained on (``old_data``: the base's
training source, usually; without it, the old-class samples held out from ``data``), for the
adapter and (with ``compare_full``) for full fine-tuning on the same samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.adapters import AdapterModel
from medadapt.errors import DataError
from medadapt.evaluate.ignored_classes import unlearnt_new_classes
from medadapt.evaluate.retention import with_forgetting
from medadapt.evaluate.samplesize_parameters import trained_intercepts
from medadapt.evaluate.small_cells import mask_subgroups
from medadapt.evaluate.sufficiency import adapter_sample_notes, lower_test_fraction_fix
from medadapt.evaluate.versus_base import FEWER_FOUND, UNPREDICTED, versus_base_harms
from medadapt.fileio import atomic_write_bytes
from medadapt.modalities.base import ADAPTED_TO, Modality, Samples, modality_of, names
from medadapt.modalities.bundle import BaseModel
from medadapt.results import (
    ADAPTER_ROWS,
    FEWER_THAN_BASE,
    LARGER_ERROR_THAN_BASE,
    TRAINING_WARNINGS,
    WORSE_THAN_BASE,
    AdapterRecord,
    base_kept_leak_notes,
    base_kept_leaks,
    recordable_warnings,
    with_kept_leaks,
)
from medadapt.train.data_summary import data_summary
from medadapt.train.fitting import Adaptation, adapt, training_config_for
from medadapt.workflows import growth
from medadapt.workflows.adapt_samples import GroupSamples, one_class_refusal, pick_samples
from medadapt.workflows.base_label import check_label
from medadapt.workflows.evaluate import scored_though_withheld
from medadapt.workflows.naming import slug
from medadapt.workflows.sample_size import adapter_sample_size
from medadapt.workflows.scoring import evaluate_model, versus_base_on
from medadapt.workflows.train_base import Progress, epoch_reporter

SPLIT_FILE = "split.json"


def default_name(
    group: str | None, method: str, new_classes: Sequence[str] = (), data: Any = None
) -> str:
    """``<group>_<method>`` (or the new classes, or the name of the ``data`` file or folder,
    or ``images``) as an adapter name: ASCII, accents dropped (``Zürich`` ->
    ``zurich_bottleneck``), at most 64 characters. Every image adapter of a folder without
    groups was ``images_bottleneck`` (a trial's two hospitals' adapters had one name)."""
    local = data is not None and "://" not in str(data) and Path(str(data)).stem
    what = group or ("_".join(new_classes) if new_classes else local or "images")
    return f"{slug(what)}_{method}"[:64]


BOOTSTRAP_SEED = 0
"""The resamples behind the held-out intervals, as ``evaluate`` draws them: the adapter's
record and ``evaluate`` on the same held-out samples give the same intervals and the same
paired difference, whatever ``--seed`` trained and split it."""


def adapt_job(
    *,
    base_dir: Path,
    data: Path,
    out: Path,
    options: Any = None,
    label: str | None = None,
    group_column: str | None = None,
    group: str | None = None,
    method: str = "bottleneck",
    method_options: dict[str, Any] | None = None,
    name: str | None = None,
    train_fraction: float = 1.0,
    test_fraction: float = 0.3,
    seed: int = 0,
    n_boot: int = 1000,
    report: Path | None = None,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train a ``method`` adapter (or a full fine-tune) on ``data``'s ``group`` and save it.

    The test samples come only from patients the base model never trained on (its training
    samples may train the adapter; ``n_seen_by_base`` counts them)."""
    base, modality, options, new_classes = _open_base(base_dir, options, label)
    picked = pick_samples(
        modality, base, base_dir, data, options, new_classes, label=label,
        group_column=group_column, group=group, train_fraction=train_fraction,
        test_fraction=test_fraction, seed=seed,
    )  # fmt: skip
    _refuse_absent_new_classes(modality, base, picked, new_classes, data)
    _refuse_one_class(modality, base, picked, new_classes, group)
    used_rows = picked.samples.subset(np.concatenate([picked.used, picked.test_idx]))
    warnings = modality.check_training_rows(base.schema, used_rows, options, picked.where)
    # the base's kept columns are said as the base's (its rows, its figures), never twice
    said = {leak["column"] for leak in base_kept_leaks(base.training)}
    found_here = modality.kept_leaks(base.schema, used_rows, options)
    allowed = [leak for leak in found_here if leak["column"] not in said]
    within_chance = modality.taken_within_chance(base.schema, used_rows, options)
    name = name or default_name(group, method, new_classes, data)
    result, config = _train(
        modality, base, picked.train, options, method=method, name=name,
        new_classes=new_classes, group=group, seed=seed, progress=progress,
        method_options=method_options,
    )  # fmt: skip
    evaluation, scores, base_scores, base_predictions = _evaluate(
        modality, base, result, picked.test, method=method, n_boot=n_boot, seed=BOOTSTRAP_SEED
    )
    summary, record, raw, extension = _split_and_growth(
        modality, base, data, result, picked, options, config, group=group,
        test_fraction=test_fraction, seed=seed, n_boot=n_boot, progress=progress,
    )  # fmt: skip
    notes = _rare_class(modality, base, picked, result.classes)
    notes += _warnings(modality, picked, group, train_fraction)
    kept = base_kept_leak_notes(base.training, getattr(base.schema, "label", None),
                                said_here={leak["column"] for leak in found_here})  # fmt: skip
    of_group = picked.samples.subset(picked.chosen)
    warnings = (notes + picked.notes + kept + warnings
                + _training_notes(modality, base.schema, picked)
                + modality.copies_warning(picked.train)
                + modality.copies_warning(picked.test, held_out=True)
                + modality.unnamed_patients_warning(base.schema, of_group))  # fmt: skip
    warnings += _held_out_notes(modality, base.schema, picked, options, warnings)
    if result.new_classes:  # a class it added and never predicts is said, not only counted
        warnings += unlearnt_new_classes(picked.test.labels, scores, result.classes,
                                         len(modality.classes(base.schema)),
                                         unit=modality.noun.removesuffix("s"))  # fmt: skip
    warnings += unmeasured_warning(evaluation["overall"], modality.task(base.schema), name,
                                   modality.noun)  # fmt: skip
    adapter = None if result.method == "full" else result.name  # full: every weight trained
    intercepts = trained_intercepts(modality, result.model, adapter)  # not among Riley's p
    sample_size = adapter_sample_size(modality, base, result.trainable_params - intercepts,
                                      picked.train, picked.test, picked.unseen,
                                      intercepts=intercepts)  # fmt: skip
    adapter_record = _adapter_record(
        modality, base, base_dir, result, picked, options, method=method, group=group,
        train_fraction=train_fraction, evaluation=evaluation, base_scores=base_scores,
        extension=extension, split=summary, sample_size=sample_size, allowed_leaks=allowed,
        within_chance=within_chance, warnings=warnings,
    )  # fmt: skip
    output = _save_and_describe(
        modality, out, base_dir, base, result, adapter_record, record, raw,
        warnings=warnings, evaluation=evaluation,
    )  # fmt: skip
    output["skipped_files"] = picked.samples.skipped_files()  # printed and in --json only
    output["epochs_asked"] = getattr(options, "epochs", None)  # --epochs, where given
    output["unread_columns"] = modality.unread_columns(base.schema, picked.test)  # names only
    extras = modality.evaluation_extras(base.schema, used_rows)  # said as evaluate says them
    for key in ("absent_columns", "renamed_columns", "unread_copies", "read_as"):  # names
        if extras.get(key):
            output[key] = extras[key]
    if report is not None:
        _write_report(report, output, modality, base.schema, picked.test, scores,
                      base_predictions)  # fmt: skip
    return output


def _held_out_notes(modality: Modality, schema: Any, picked: GroupSamples, options: Any,
                    said: list[str]) -> list[str]:  # fmt: skip
    """What ``evaluate`` warns of the held-out samples the figures rest on, here too (a
    trial's ``adapt`` said only the training rows' "36 of 140 rows lack ...", and
    ``evaluate`` of the same figures "17 of 60 rows lack more than half ..., yet these
    figures include them"), each after what it is about; none already ``said``, nor what is
    said of samples as a whole (:func:`_training_notes` says it of the site's)."""
    test = picked.test
    notes = scored_though_withheld(modality, schema, test, options,
                                   modality.sample_notes(schema, test))  # fmt: skip
    whole = modality.whole_notes(schema, test)  # said of the site's, with the training ones
    return [f"the {len(test)} held-out {modality.noun} scored: {note}"
            for note in notes if note not in said and note not in whole]  # fmt: skip


def _training_notes(modality: Modality, schema: Any, picked: GroupSamples) -> list[str]:
    """What is said of the samples that train the adapter, but what is said of samples as a
    whole (images: their look against the base's training images), which is said once of
    the site's samples the adapter trains and is tested on together (a trial's adapt said it
    of the 28 training images and again of the 12 held-out ones)."""
    own = modality.whole_notes(schema, picked.train)
    both = picked.samples.subset(np.concatenate([picked.used, picked.test_idx]))
    notes = [note for note in modality.sample_notes(schema, picked.train) if note not in own]
    return notes + modality.whole_notes(schema, both)


def _refuse_one_class(
    modality: Modality,
    base: BaseModel,
    picked: GroupSamples,
    new_classes: Sequence[str],
    group: str | None,
) -> None:
    """An adapter trained on one class learns to call everyone that class (any modality;
    the labels index the base's classes followed by ``new_classes``)."""
    schema = modality.grown_schema(base.schema, modality.grown_classes(base.schema, new_classes))
    refusal = one_class_refusal(modality, schema, picked.train.labels, picked.where, group)
    if refusal:
        raise DataError(refusal)


def _refuse_absent_new_classes(
    modality: Modality,
    base: BaseModel,
    picked: GroupSamples,
    new_classes: Sequence[str],
    data: Path,
) -> None:
    """Refuse ``--new-classes`` of which the chosen samples hold none, saying for an ``.npz``
    which label each new class is: its labels index the base's classes, then the new ones (a
    README example once failed on an .npz that labelled its new class 0)."""
    if not new_classes:
        return
    classes = modality.grown_classes(base.schema, new_classes)
    n_old = len(classes) - len(new_classes)
    chosen = picked.samples.subset(picked.chosen)
    counts = chosen.class_counts(classes)
    lone = next((c for c in classes[n_old:] if counts.get(c, 0) == 1), None)
    if lone is not None:  # a trial's 1 image went to the test split: "no images in the data"
        one = modality.noun.removesuffix("s")
        raise DataError(
            f"--new-classes: {picked.where} has only 1 {one} of new class {lone!r}: too few to "
            f"learn a class and test it (some {modality.noun} must train it, others test it); "
            f"add its {modality.noun} or leave it out of --new-classes"
        )
    absent = [c for c in classes[n_old:] if counts.get(c, 0) == 0]
    if not absent:
        return
    noun, named = modality.noun, " and ".join(map(repr, absent))
    said = f"--new-classes: {picked.where} has no {noun} of new class {named}"
    if Path(data).suffix.lower() != ".npz":
        raise DataError(f"{said}: add {'its' if len(absent) == 1 else 'their'} {noun} or leave "
                        f"{'it' if len(absent) == 1 else 'them'} out of --new-classes")  # fmt: skip
    numbered = ", ".join(f"{i} {c}" for i, c in enumerate(classes))
    wanted = " and ".join(f"{c!r} is label {classes.index(c)}" for c in absent)
    found = ", ".join(str(label) for label in sorted(set(np.asarray(chosen.labels).tolist())))
    fix = " and ".join(f"the {noun} of {c!r} {classes.index(c)}" for c in absent)
    raise DataError(
        f"{said}: an .npz's labels are indexes into the base model's classes followed by the "
        f"new ones ({numbered}), so {wanted}, but the labels of {Path(data).name} are "
        f"{found}; label {fix} (an old class's {noun} by its own index)"
    )


def _open_base(
    base_dir: Path, options: Any, label: str | None
) -> tuple[BaseModel, Modality, Any, list[str]]:
    """The base model, its modality, the options (the modality's defaults when none are given)
    and the new classes they ask for, once ``label`` and ``--old-data`` are checked."""
    base = BaseModel.load(base_dir, flag="--base")
    modality = modality_of(base.kind)
    options = options if options is not None else modality.options()
    check_label(modality, base.schema, label)
    new_classes = names(getattr(options, "new_classes", None))
    growth.check_old_data(getattr(options, "old_data", None), new_classes)
    return base, modality, options, new_classes


def _train(
    modality: Modality,
    base: BaseModel,
    train: Samples,
    options: Any,
    *,
    method: str,
    name: str,
    new_classes: Sequence[str],
    group: str | None,
    seed: int,
    progress: Progress,
    method_options: dict[str, Any] | None = None,
) -> tuple[Adaptation, Any]:
    """The adaptation trained on ``train``, and the training configuration it used."""
    config = training_config_for(modality, "full" if method == "full" else "adapter", options)
    if progress:
        progress(f"{method} on {len(train)} {modality.noun}" + (f" of {group}" if group else ""))
    result = adapt(
        modality, base, train, method=method, name=name, new_classes=new_classes,
        top_blocks=getattr(options, "top_blocks", None), train_config=config, seed=seed,
        on_epoch=epoch_reporter(progress, method if modality.reports_epochs else None),
        method_options=method_options,
    )  # fmt: skip
    return result, config


def _evaluate(
    modality: Modality,
    base: BaseModel,
    result: Adaptation,
    test: Samples,
    *,
    method: str,
    n_boot: int,
    seed: int,
) -> tuple[dict[str, Any], Any, dict[str, Any] | None, Any]:
    """The adapted model's evaluation and scores on ``test``, and (without new classes) the
    base model's evaluation and scores on the same patients, for before and after."""
    adapter = None if method == "full" else result.name
    evaluation, scores = evaluate_model(
        modality, result.model, base.schema, test, adapter=adapter, classes=result.classes,
        by_group=False, n_boot=n_boot, seed=seed,
    )  # fmt: skip
    base_evaluation, base_predictions = None, None
    if not result.new_classes:  # the base alone on the same patients: before and after
        base_evaluation, base_predictions = evaluate_model(
            modality, base.model, base.schema, test, by_group=False, n_boot=n_boot, seed=seed
        )
        base_evaluation["versus_base"] = versus_base_on(
            modality, base.schema, test, evaluation["overall"], scores, base_predictions,
            n_boot=n_boot, seed=seed,
        )  # fmt: skip
    return evaluation, scores, base_evaluation, base_predictions


def _split_and_growth(
    modality: Modality,
    base: BaseModel,
    data: Path,
    result: Adaptation,
    picked: GroupSamples,
    options: Any,
    config: Any,
    *,
    group: str | None,
    test_fraction: float,
    seed: int,
    n_boot: int,
    progress: Progress,
) -> tuple[Any, Any, bytes, dict[str, Any]]:
    """The adapter's split (summary, full record, ``split.json`` bytes) and what adding classes
    did (``retention``, ``full_finetune``: None without new classes)."""
    summary, record, raw = modality.adapter_split(
        data, picked.samples, picked.used, picked.test_idx, seed=seed,
        test_fraction=test_fraction, group_column=picked.group_column, group=group,
        **modality.split_extras(options),
    )  # fmt: skip
    extension = growth.measure(
        modality, base, result, picked.train, picked.test, options=options, record=record,
        seed=seed, n_boot=n_boot, config=config, progress=progress,
    )  # fmt: skip
    return summary, record, raw, extension


def with_harm(metrics: dict[str, Any], paired: dict[str, Any] | None) -> dict[str, Any]:
    """``metrics`` with a note (:data:`~medadapt.results.WORSE_THAN_BASE`) where, paired on
    the same test patients (``paired``: the comparison with the base model alone, as
    :func:`~medadapt.evaluate.versus_base.versus_base` gives it), the adapter did worse: the
    sentence ``adapt`` printed, so that ``promote``, the registry and every served answer say
    it (a federated adapter's too)."""
    notes = dict(metrics.get("notes") or {})
    fewer = paired and (paired.get(UNPREDICTED) or paired.get(FEWER_FOUND))  # none first
    if fewer:  # its own warning, carried to every prediction (a trial's adapter that called
        notes[FEWER_THAN_BASE] = fewer[0]  # none of 37 patients negative was served silent)
    if paired and versus_base_harms(paired):
        error = paired.get("mean_error") or {}
        if paired.get("verdict") == "worse" or not error.get("in_words"):
            said = paired.get("in_words") or "the adapter did worse than the base model alone here"
            notes[WORSE_THAN_BASE] = said
        if error.get("in_words") and versus_base_harms({"mean_error": error}):
            notes[LARGER_ERROR_THAN_BASE] = error["in_words"]  # its bias, said as such
    return {**metrics, "notes": notes} if notes != (metrics.get("notes") or {}) else metrics


def _adapter_record(
    modality: Modality,
    base: BaseModel,
    base_dir: Path,
    result: Adaptation,
    picked: GroupSamples,
    options: Any,
    *,
    method: str,
    group: str | None,
    train_fraction: float,
    evaluation: dict[str, Any],
    base_scores: dict[str, Any] | None,
    extension: dict[str, Any],
    split: Any,
    sample_size: dict[str, Any] | None = None,
    allowed_leaks: list[dict[str, Any]] | None = None,
    within_chance: list[dict[str, Any]] | None = None,
    warnings: list[str] = (),
) -> AdapterRecord:
    """What is recorded beside the adapter: its task, data counts, the warnings said about
    its data, metrics and split (and the columns kept with ``--allow-leak``, its own and its
    base's, with a note beside the metrics that says the base's first)."""
    schema = base.schema
    label = getattr(schema, "label", None)
    base_leaks = base_kept_leaks(base.training)
    said = base_kept_leak_notes(base.training, label)  # the base's first, as evaluate says them
    metrics = with_kept_leaks(
        evaluation["overall"],
        allowed_leaks or [],
        label,
        whose=ADAPTER_ROWS,
        base_notes=said,
        within_chance=within_chance,
    )
    return AdapterRecord(
        kind=modality.kind,
        task=evaluation["overall"].get("task") or modality.task(schema),
        label=label,
        classes=result.classes,
        old_classes=modality.classes(schema),
        new_classes=result.new_classes,
        method=method,
        data_summary=_data_summary(
            modality,
            schema,
            picked.train,
            picked.test,
            result.classes,
            group_column=picked.group_column,
            group=group,
            train_fraction=train_fraction,
            n_seen=picked.n_seen,
            n_seen_training=int(picked.seen[picked.used].sum()),
            n_kept_out=int(picked.base_test[picked.chosen].sum()),
            **_patient_column(modality, picked.samples),
            **({"sample_size": sample_size} if sample_size else {}),
            **({TRAINING_WARNINGS: recordable_warnings(list(warnings))} if warnings else {}),
        ),
        n_skipped_files=len(picked.samples.skipped_files()),
        metrics=with_harm(
            with_forgetting(metrics, extension.get("retention")),
            None if base_scores is None else base_scores["versus_base"],
        ),
        per_class=evaluation.get("per_class"),
        base_metrics=None if base_scores is None else base_scores["overall"],
        versus_base=None if base_scores is None else base_scores["versus_base"],
        **extension,
        top_blocks=getattr(options, "top_blocks", None),
        feature_cache=result.feature_cache,
        split=split,
        intended_use=modality.intended_use.format(target=_adapted_to(picked, group, result)),
        base_model={
            "path": str(Path(base_dir).resolve()),
            "training_groups": base.training.get("groups"),
            "classes": modality.classes(schema),
            **({"allowed_leaks": base_leaks} if base_leaks else {}),
        },
        train_seconds=round(result.fit.seconds, 2),
        trainable_params=result.trainable_params,
        inputs_seen=modality.inputs_seen(schema, picked.train),
        allowed_leaks=allowed_leaks or None,
        strong_within_chance=within_chance or None,
    )


def _save_and_describe(
    modality: Modality,
    out: Path,
    base_dir: Path,
    base: BaseModel,
    result: Adaptation,
    adapter: AdapterRecord,
    record: Any,
    raw: bytes,
    *,
    warnings: list[str],
    evaluation: dict[str, Any],
) -> dict[str, Any]:
    """Save the adapter under ``out``; return what ``adapt`` reports about it."""
    metadata = adapter.to_json()
    size = _save(modality, out, base_dir, base, result, adapter, record, raw)
    return {
        "adapter": str(out),
        "name": result.name,
        "method": adapter.method,
        "trainable_params": result.trainable_params,
        "adapter_bytes": size,
        # how long it trained, as train-base says it (a trial's two runs, another --lr each,
        # gave the same weights, and nothing said both stopped at the same epoch)
        "epochs_run": result.fit.epochs_run,
        "best_epoch": result.fit.best_epoch,
        "val_loss_measured": result.fit.best_val_loss is not None,
        "n_val": result.n_val,
        **metadata,
        "warnings": warnings,
        # small cells masked, as train-base's, evaluate's and the study's are (a trial's
        # adapt.json held one woman's diagnosis: "n 1, n_positive 1")
        "test": {**evaluation, "subgroups": mask_subgroups(evaluation.get("subgroups") or {})},
    }


def _write_report(
    report: Path, output: dict[str, Any], modality: Modality, schema: Any, test: Samples,
    scores, base_scores=None,
) -> None:  # fmt: skip
    """Write the adapter's HTML report to ``report`` and note its path in ``output``;
    ``base_scores``: the base model's on the same samples (drawn beside the adapter's, as
    ``evaluate``'s report draws them; kept in memory only)."""
    from medadapt.workflows.reports import adapt_report

    curves = {
        "y": test.labels,
        "scores": modality.task_scores(schema, scores),
        "proba": scores if modality.per_class() else None,
    }
    if base_scores is not None:
        curves["base_scores"] = modality.task_scores(schema, base_scores)
    adapt_report(output, curves, modality).write(report)
    output["report"] = str(report)


def _rare_class(modality: Modality, base: BaseModel, picked: GroupSamples,
                classes: Sequence[str]) -> list[str]:  # fmt: skip
    """A class with too few samples here to train on or test (named, with its count): too
    few patients where a patient has several samples, as the evaluation counts them."""
    if modality.task(base.schema) == "regression":
        return []
    return adapter_sample_notes(picked.train, picked.test, classes, modality.noun, picked.where,
                                fix=None)  # fmt: skip


def unmeasured_warning(metrics: dict[str, Any], task: str, name: str, noun: str) -> list[str]:
    """That the adapter just saved has no measured performance (its test split too small for
    any figure), and what to do: a trial's 9 test rows printed every metric as n/a and saved
    the adapter without a word; only ``predict`` said it later."""
    from medadapt.evaluate.metrics import headline_metric

    if metrics.get(headline_metric(task, metrics)) is not None:
        return []
    notes = metrics.get("notes") or {}
    why = " ".join(str(notes.get("all") or notes.get(headline_metric(task)) or "").split())
    return [
        f"adapter {name!r} has no measured performance"
        + (f": {why.removeprefix('not reported: ')};" if why else ":")
        + f" it is saved, but nothing here shows how it does on these {noun}; test it on more "
        f"of them (a larger --test-fraction, or 'medadapt evaluate' on {noun} it never saw) "
        "before relying on it (the registry and serve mark it unmeasured)"
    ]


def _warnings(
    modality: Modality, picked: GroupSamples, group, train_fraction: float = 1.0
) -> list[str]:
    noun, train = modality.noun, picked.train
    where = f" of this group (--group {group})" if group else " (--data)"  # a trial: "give
    fix = (f"use a larger --train-fraction or more {noun}{where}" if train_fraction < 1
           else f"give more {noun}{where}")  # more images given"  # fmt: skip
    held = len(picked.test)  # against the group's others: --train-fraction may have cut them
    fix = lower_test_fraction_fix(fix, len(picked.chosen) - held, held, noun)
    out = adapter_sample_notes(train, None, (), noun, "", fix=fix)  # patients, where repeated
    if picked.n_seen:
        out.append(
            f"the base model trained on {picked.n_seen} of these {len(picked.chosen)} {noun}; "
            "they may train the adapter, never test it"
        )
    return out


def _adapted_to(picked: GroupSamples, group: str | None, result: Adaptation) -> str:
    """What the card's intended use says the adapter was adapted to: its group, or the new
    classes it adds (a trial's new-class card read "adaptation ... to the named group")."""
    if result.new_classes:
        named = ", ".join(map(repr, result.new_classes))
        return f"new classes ({named}) beside the base model's"
    return f"the patients of {picked.where}" if group else ADAPTED_TO


def _data_summary(modality, schema, train, test, classes, *, n_seen, **summary) -> dict:
    return data_summary(modality, schema, train, test, classes, **summary, n_seen_by_base=n_seen)


def _patient_column(modality, samples) -> dict[str, str]:
    """The column that named the patients the adapter was trained on (its name, never its
    values), so that ``evaluate`` can say when scored data names none."""
    column = modality.patient_column(samples)
    return {"patient_column": column} if column else {}


def _save(modality, out, base_dir, base, result, adapter: AdapterRecord, record, raw) -> int:
    """The adapter (``adapter.json``/``.safetensors`` + ``split.json``) or, for ``full``, a
    whole model that records its adaptation; returns the weights file's size."""
    metadata = adapter.to_json()
    if adapter.method == "full":
        split, side_files = modality.full_model_split(base_dir, base, record)
        out.mkdir(parents=True, exist_ok=True)
        for file, data in side_files.items():
            atomic_write_bytes(out / file, data)
        BaseModel(
            model=result.model,
            kind=modality.kind,
            architecture=modality.architecture(result.model),
            schema=modality.grown_schema(base.schema, result.classes),
            training={
                **base.training,
                "split": {**base.training.get("split", {}), **split},
                # its name too (an adapter's is in adapter.json): predict and a DICOM SR
                # name the model by it
                "adapted": {
                    **metadata,
                    "name": result.name,
                    "split": modality.inline_split(record),
                },
            },
        ).save(out, overwrite=True)  # beside the side files just written
        return (out / "model.safetensors").stat().st_size
    model: AdapterModel = result.model
    model.save_adapter(result.name, out, metadata=metadata)
    # which samples trained it stays beside the adapter (the registry ships summaries only)
    atomic_write_bytes(out / SPLIT_FILE, raw)
    return (out / "adapter.safetensors").stat().st_size
