"""``train-base``, ``adapt``, ``evaluate``, ``predict``: one command each, for every modality.

Each command takes the shared options (below) and every registered modality's own (their
``--help`` panels); the data, or the base model, says which modality runs, and an option of
another modality is refused by name. Outputs are checked before any work and never replaced
without ``--force``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from medadapt import checks
from medadapt.cli import inputs
from medadapt.cli.common import (
    new_directory,
    noted,
    noted_once_working,
    small_model_threads,
    status_progress,
    stdout,
    write_outputs,
)
from medadapt.cli.dicomweb import pacs_aware
from medadapt.cli.main import app
from medadapt.cli.options import ADAPTER_OPTIONS, Shared, build_command, options_for
from medadapt.cli.printing import (
    PREDICTED_LISTS,
    print_absent,
    print_cache,
    print_dropped,
    print_features,
    print_metrics,
    print_reading,
    print_result,
    print_retention,
    print_skipped,
    print_subgroups,
    print_versus_base,
    task_line,
    warn_all,
)
from medadapt.data.group_columns import describe_values, group_column_hint
from medadapt.data.tables import MISSING_LABEL, group_labels, read_table
from medadapt.errors import ConfigError, MedadaptError
from medadapt.fileio import check_json_file, check_output_file, check_report_file, other_outputs
from medadapt.wording import plural

DATA = Shared(
    "data",
    Path,
    ...,
    "CSV or Parquet table, or images: a class folder, a CSV with a path column, a DICOM/NIfTI "
    "folder or file, a MedMNIST .npz, or a PACS: dicomweb+http(s)://HOST/dicom-web/studies/UID "
    "(a study; add /series/UID for one series; the root alone: the studies --labels lists).",
)
LABEL = Shared("label", str | None, None, "Label column (tables: required to train a base; "
               "with --base, the base's label: --label only checks it; image CSVs: default "
               "'label').")  # fmt: skip
SEED = Shared("seed", int, 0, "Random seed (splits, initialisation, shuffling).")
GROUP_COLUMN = Shared("group_column", str | None, None, "Column holding the site/group.")
#: a verb on a base model: with --group alone, the base's recorded column is taken
BASE_GROUP_COLUMN = replace(GROUP_COLUMN, help="Column holding the site/group (default with "
                            "--group: the one the base model records).")  # fmt: skip
ID_COLUMN = Shared("id_column", str | None, None, "Patient id column (never a feature; keeps "
                   "a patient's rows or images on one side of every split).")  # fmt: skip
FORCE = Shared("force", bool, False, "Replace an existing output instead of refusing to (never "
               "partly).", ("--force",))  # fmt: skip
JSON = Shared("json_out", Path | None, None, "Also write the results as JSON.", ("--json",))
REPORT = Shared("report", Path | None, None, "Write an HTML report.", ("--report",))
BASE = Shared("base", Path, ..., "Base model directory (train-base --out).", ("--base",))
ADAPTER = Shared("adapter", Path | None, None, "Adapter directory (adapt --out).", ("--adapter",))
BASE_MARKERS = {"model.json": "a base model"}
ADAPTER_MARKERS = {"adapter.json": "an adapter", "model.json": "a model"}


#: what ``train-base --force`` may not write into: an adapter (whose ``split.json`` a base
#: model's would replace, breaking it)
OTHER_RUNS = other_outputs("model.json", "adapter.json")
"""Outputs of other commands that ``train-base`` and ``adapt`` never write into, even with
``--force`` (a trial's ``adapt --out study1 --force`` mixed an adapter into a study)."""
NOT_A_BASE = other_outputs("model.json")


def _adapt_outputs(method: str) -> tuple[dict[str, str], dict[str, str]]:
    """What ``adapt --force`` replaces (the same kind of output: an adapter, or for ``full``
    a whole model) and what it may not write into (the other kind, whose ``split.json`` it
    would replace)."""
    own, other = ("model.json", "adapter.json") if method == "full" else ("adapter.json",
                                                                          "model.json")  # fmt: skip
    return {own: ADAPTER_MARKERS[own]}, {other: ADAPTER_MARKERS[other], **OTHER_RUNS}


def probes(values: dict[str, Any]) -> dict[str, Any]:
    """Each modality's options from a command's values (to recognise the data by). The
    columns the command names (label, id, group) count as left out of the features there: an
    id column of image file names (NIH's ``Image Index``) is meant as one."""
    named = [values.get(k) for k in ("label", "id_column", "group_column")]
    left_out = ",".join(c for c in [values.get("exclude"), *named] if c) or None
    values = {**values, "exclude": left_out}
    return {m.kind: options_for_probe(m, values) for m in inputs.registered()}


def _modality_for_data(verb: str, data: Path, values: dict[str, Any]):
    from medadapt.modalities.base import modality_for_data

    return modality_for_data(data, probes(values))


def options_for_probe(modality, values: dict[str, Any]):
    """The options a modality needs to recognise its data (unchecked)."""
    from dataclasses import fields

    return modality.options(**{f.name: values[f.name] for f in fields(modality.options)
                               if f.name in values})  # fmt: skip


def _train_base(**values: Any) -> None:
    data, out, force = values["data"], values["out"], values["force"]
    inputs.require_data(data)
    checks.fraction(values["test_fraction"], "--test-fraction")
    groups = checks.names(values["groups"], "--groups")
    checks.distinct_columns({"--label": values["label"], "--id-column": values["id_column"],
                             "--group-column": values["group_column"]})  # fmt: skip
    inputs.check_not_inside(out, data, "--data")
    inputs.check_outputs({"--json": values["json_out"]}, {"--data": data}, ("--out", out))
    check_json_file(values["json_out"], force=force)
    staged = new_directory(out, force=force, markers=BASE_MARKERS, foreign=NOT_A_BASE)
    modality = _modality_for_data("train-base", data, values)
    options = options_for("train-base", modality, values, data)
    options.check("train-base", data=data, label=values["label"])
    if modality.needs_label and not values["label"]:
        raise ConfigError(
            f"--label is required for {modality.source_name}: name the column holding the outcome"
        )
    small_model_threads(modality)
    from medadapt.workflows.train_base import train_base_job

    with staged as staged_out, status_progress(f"train-base ({modality.title.lower()})") as step:
        summary = train_base_job(
            modality=modality, data=data, out=staged_out, options=options,
            label=values["label"], group_column=values["group_column"], groups=groups,
            id_column=values["id_column"], test_fraction=values["test_fraction"],
            seed=values["seed"], progress=step,
        )  # fmt: skip
    summary["base"] = str(out)
    if modality.needs_label:  # the task comes from the label column (tables)
        line = task_line(
            summary["task"], summary["classes"], label=values["label"],
            chosen_task=getattr(options, "task", None),
            positive_above=getattr(options, "positive_above", None),
        )  # fmt: skip
        if getattr(options, "positive_class", None) is not None:
            line = positive_class_line(summary["classes"], values["label"])
        stdout.print(line, markup=False, highlight=False, soft_wrap=True)
        if getattr(options, "task", None) is None:  # a trial's num, 0 to 4, left out of
            counted = _counted_classes(summary, values["label"])  # --positive-above: five
            if counted:  # classes, said in that line only (the Python API warns of it)
                warn_all([counted])
        if summary["task"] != "regression":
            from medadapt.data.feature_kinds import free_text_label_warning
            from medadapt.data.option_words import COMMAND_LINE

            free = free_text_label_warning(values["label"], list(summary["classes"]),
                                           COMMAND_LINE)  # fmt: skip
            if free:
                warn_all([free])
    elif summary.get("task_line"):  # images: which class is positive, and why
        stdout.print(summary["task_line"], markup=False, highlight=False, soft_wrap=True)
    print_skipped(summary, data)
    print_reading(summary)
    if "dropped_columns" in summary:
        print_dropped(summary["dropped_columns"], summary["identifiers"])
    if summary.get("features"):
        print_features(summary["features"])
    warn_all(summary["warnings"])
    title = f"base model on {summary['n_test']} held-out {modality.noun}"
    print_result(title, summary["test"], summary["task"], modality.noun)
    if summary.get("feature_cache"):
        stdout.print("backbone frozen: the head trained on cached features (computed once)")
    if summary.get("normalize"):
        norm = summary["normalize"]
        stdout.print(f"inputs normalised in the model: mean {norm['mean']}, std {norm['std']}")
    what = (
        f"{backbone_name(summary)}: {', '.join(summary['classes'])}; " if "backbone" in summary
        else ""
    )  # fmt: skip
    epochs, best = summary.get("epochs_run"), summary.get("best_epoch")
    asked = summary.get("epochs_asked")  # a trial's --epochs 60 ran 15 without a word
    capped = (f"; --epochs {asked} is capped at {epochs} without it"
              if asked and epochs and asked > epochs else "")  # fmt: skip
    validated = summary["n_val"] or (  # none set aside: no early stopping either
        f"none (too few patients to set some aside: {epochs} epoch{'s' * (epochs != 1)}, "
        f"no early stopping{capped})"
    )
    if summary["n_val"] and epochs and best:  # a trial could not tell that training stalled
        validated = f"{validated}{_epochs_said(summary)}"
    stdout.print(
        f"{what}trained on {summary['n_train']} {modality.noun}, validated on {validated}; "
        f"saved {out}"
    )
    if summary.get("patients_unnamed"):  # a class folder: a trial's 3 images a patient
        noted(  # were split and counted as 24 patients without a word
            f"--data names no patient: each of its {modality.noun} was counted as a patient of "
            f"its own (a patient's several {modality.noun} may have fallen on both sides of the "
            "split, and narrowed the intervals); where patients have several, list them in a "
            "path CSV with a patient column (--id-column)"
        )
    elif summary.get("unnamed_patient_samples"):
        n, of = summary["unnamed_patient_samples"], summary["n_read"]
        noted(
            f"{n} of the {of} {modality.noun} read name{'s' if n == 1 else ''} no patient (no "
            "patient column, no DICOM PatientID): each was counted as a patient of its own (a "
            f"patient's several "
            f"{modality.noun} may have fallen on both sides of the split, and narrowed the "
            "intervals); list them all in a path CSV with a patient column (--id-column)"
        )
    if "backbone" in summary and getattr(options, "weights", None) is None:  # a trial read
        noted(  # "vit_tiny_patch16_224" as a pretrained network; none is downloaded
            f"the {summary['backbone']} backbone started from random weights (no --weights): "
            f"this base learned only from these {summary['n_train']} {modality.noun}, and "
            "adapters on it inherit no pretrained knowledge; pass --weights FILE (a checkpoint "
            "of this architecture) to start from pretrained weights"
        )
    _json(values["json_out"], summary)


def _group_hint(data: Path, values: dict[str, Any]) -> str:
    """For a refusal of a missing ``--group``/``--group-column``: the values of the column
    given, or the column holding the group given (or named like a site), where ``data`` is
    a table that reads; empty otherwise (a folder, a PACS, a file that does not read)."""
    if not data.is_file() or data.suffix.lower() not in (".csv", ".tsv", ".txt", ".parquet"):
        return ""
    column = values["group_column"]
    try:
        frame = read_table(data, text_columns=[column])
    except MedadaptError:
        return ""
    if column:
        if column not in frame:
            return ""
        present = set(group_labels(frame[column]).tolist()) - {MISSING_LABEL}
        return f"; column {column!r} holds: {describe_values(present)}"
    groups = [values["group"]] if values["group"] else []
    return group_column_hint(frame, groups, exclude=(values["label"], values.get("id_column")))


def base_group_column(values: dict[str, Any], base: Path) -> None:
    """``--group`` alone: the base's recorded group column taken, in a note; the base's id
    column refused as one."""
    inputs.refuse_id_as_group(values, base)
    taken = inputs.group_column_of_base(values, base)
    if taken:
        noted_once_working(f"--group-column {taken}, the base model's (train-base --group-column)",
                           about=f"--group-column {taken!r}")  # fmt: skip


def positive_class_line(classes: list[str], label: str) -> str:
    """What ``train-base`` says first when ``--positive-class`` chose the positive class."""
    import shlex

    return (f"task: binary, positive class {classes[-1]!r} (of {', '.join(map(repr, classes))}) "
            f"set by --positive-class for --label {shlex.quote(label)}")  # fmt: skip


def _adapt(**values: Any) -> None:
    data, base, out, force = values["data"], values["base"], values["out"], values["force"]
    inputs.require_data(data)
    checks.fraction(values["train_fraction"], "--train-fraction", closed=True)
    checks.fraction(values["test_fraction"], "--test-fraction")
    values["method"] = inputs.method_cased(values["method"])  # LoRA, as the README writes it
    checks.one_of(values["method"], "--method", inputs.methods())
    method_options = inputs.method_options(values["method"], values["adapter_options"])
    modality = inputs.modality_of_base(base, data, probes(values))
    base_group_column(values, base)
    options = options_for("adapt", modality, values, data).check("adapt", data=data)
    inputs.check_not_inside(out, data, "--data")
    inputs.check_not_inside(out, base, "--base")
    inputs.check_outputs({"--json": values["json_out"], "--report": values["report"]},
                         {"--data": data, "--base": base}, ("--out", out))  # fmt: skip
    check_json_file(values["json_out"], force=force)
    check_report_file(values["report"], force=force)
    replaced, kept = _adapt_outputs(values["method"])
    staged = new_directory(out, force=force, markers=replaced, foreign=kept)
    recorded = inputs.recorded_group_column(base)
    held = (
        ""
        if values["group"] or values["group_column"] or not recorded
        else _group_hint(data, {**values, "group_column": recorded})
    )  # the base's column, in this file
    if modality.needs_label and held:  # only the group is missing (a trial was asked for
        raise ConfigError(  # --group-column, which the base already names)
            f"--group is required to adapt on {modality.source_name}: name the group to adapt "
            f"to, a value of the base model's group column {recorded!r} (train-base "
            f"--group-column){held}"
        )
    if modality.needs_label:  # the label is the base's (--label only checks it)
        why = (f"to adapt on {modality.source_name}: name the group column and the target "
               "group (where every row is the new site's, add a column holding its name on "
               "every row, e.g. site, and pass --group-column site --group NAME)")  # fmt: skip
        for flag, name in (("--group", "group"), ("--group-column", "group_column")):
            if not values[name]:
                raise ConfigError(f"{flag} is required {why}{_group_hint(data, values)}")
    small_model_threads(modality)
    from medadapt.workflows.adapt import adapt_job

    with staged as staged_out, status_progress(f"adapt ({modality.title.lower()})") as step:
        summary = adapt_job(
            base_dir=base, data=data, out=staged_out, options=options, label=values["label"],
            group_column=values["group_column"], group=values["group"],
            method=values["method"], method_options=method_options, name=values["name"],
            train_fraction=values["train_fraction"], test_fraction=values["test_fraction"],
            seed=values["seed"], report=values["report"], progress=step,
        )  # fmt: skip
    summary["adapter"] = str(out)
    info = summary["data_summary"]
    if info.get("sample_size"):
        from medadapt.workflows.sample_size import sample_size_lines

        for line in sample_size_lines(info["sample_size"], modality.noun):
            stdout.print(line)
        for caveat in info["sample_size"].get("criteria_notes", []):  # as check-data says them
            noted(caveat)
    print_skipped(summary, data)
    print_absent(summary)  # and the columns not read
    warn_all(summary["warnings"])
    group, column = values["group"], info.get("group_column") or values["group_column"]
    where = f" of {column} = {group}" if group and column else f" of {group}" if group else ""
    title = f"{summary['name']}: {info['n_test']} held-out {modality.noun}{where}"
    print_result(title, summary["test"], summary["task"], modality.noun)
    planned = info.get("sample_size")  # its AUROC at the site, beside the held-out one's
    print_versus_base(summary.get("base_metrics"), summary.get("versus_base"), summary["task"],
                      f"{info['n_test']} {modality.noun}",
                      planned if values["train_fraction"] == 1 else None)  # fmt: skip
    print_cache(summary["feature_cache"], getattr(options, "top_blocks", None))
    print_retention(summary)
    saved = (  # a full fine-tune is a whole model, used as --base; the registry holds adapters
        f"saved {out}, a fully fine-tuned model (use it as --base; the registry holds "
        "adapters, not whole models)" if summary.get("method") == "full"
        else f"saved {out} as adapter {summary['name']!r} (the name registry add gives it "
        "unless --name says another)"
    )  # fmt: skip
    stdout.print(
        f"trained on {info['n_train']:,} {modality.noun}{_set_aside(summary)}"
        f"{_epochs_said(summary)}; "
        f"{summary['trainable_params']:,} trainable parameters; {summary['adapter_bytes']:,} "
        f"bytes; {saved}"
    )
    if values["report"] is not None:
        stdout.print(f"wrote {values['report']}")
    _json(values["json_out"], summary)


def _set_aside(summary: dict[str, Any]) -> str:
    """``, 6 of them set aside to choose when to stop``: the adapter's training samples that
    only decided the epoch kept (a trial read "trained on 29 rows" of 23 it learned from)."""
    n_val = summary.get("n_val")
    return f", {n_val:,} of them set aside to choose when to stop" if n_val else ""


def _epochs_said(summary: dict[str, Any]) -> str:
    """`` (12 epochs; the model of epoch 4 kept, its validation loss the lowest)``, as
    ``train-base`` says it; `` (12 epochs, no early stopping)`` where none were set aside;
    empty where the summary does not say. Tables take ``--epochs`` too (a trial was told of
    the Python API's ``TrainConfig`` where the command line had no flag)."""
    epochs, best = summary.get("epochs_run"), summary.get("best_epoch")
    if not epochs:
        return ""
    run = f"{epochs} epoch{'s' * (epochs != 1)}"
    if not summary.get("n_val") or not best:
        asked = summary.get("epochs_asked")  # capped where none was set aside (a trial)
        capped = (f"; --epochs {asked} is capped at {epochs} without a validation set"
                  if not summary.get("n_val") and asked and asked > epochs else "")  # fmt: skip
        return f" ({run}, no early stopping{capped})"
    if summary.get("val_loss_measured") is False:  # every one NaN (a diverged run, --lr 10)
        return (f" ({run}; no validation loss was a number: training diverged, the last "
                "epoch's model kept; a lower --lr may help)")  # fmt: skip
    if best == epochs > 1 and summary.get("val_loss_measured"):  # a trial's "the model of
        # epoch 200 kept": stopped by --epochs (a record without the flag: as it was said)
        return (f" ({run}; its validation loss still falling at the last: stopped at its most "
                "epochs (--epochs sets it), not by early stopping; more --epochs may give a "
                "better model)")  # fmt: skip
    return f" ({run}; the model of epoch {best} kept, its validation loss the lowest)"


def _evaluate(**values: Any) -> None:
    data, base, adapter, force = values["data"], values["base"], values["adapter"], values["force"]
    inputs.require_data(data)
    threshold = values["threshold"]
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError(
            f"--threshold must be a probability between 0 and 1 (the operating point for "
            f"sensitivity and specificity); got {threshold:g}"
        )
    if values["group"] is not None and not values["group"].strip():
        raise ConfigError("--group is empty; name the group to evaluate, or leave it out")
    if values["all_groups"] and values["group"] is not None:
        raise ConfigError("--all-groups scores every group and --group only one: pass one of them")
    modality = inputs.modality_of_base(base, data, probes(values))
    base_group_column(values, base)
    if threshold is not None:
        inputs.check_threshold_applies(base, adapter, modality)
    options = options_for("evaluate", modality, values, data).check("evaluate", data=data)
    inputs.check_outputs(
        {"--json": values["json_out"], "--report": values["report"]},
        {"--data": data, "--base": base, "--adapter": adapter},
    )
    check_json_file(values["json_out"], force=force)
    check_report_file(values["report"], force=force)
    small_model_threads(modality)
    from medadapt.workflows.evaluate import evaluate_job
    from medadapt.workflows.reports import evaluation_report

    result = evaluate_job(
        base_dir=base, data=data, adapter_dir=adapter, options=options, label=values["label"],
        group_column=values["group_column"], group=values["group"],
        all_groups=values["all_groups"], threshold=0.5 if threshold is None else threshold,
    )  # fmt: skip
    document = result.to_json()
    print_skipped(document, data)
    print_absent(result.extras)
    warn_all(result.data_warnings + result.leak_warnings)
    print_metrics(
        f"{result.metrics['n']} {modality.noun} ({result.used})",
        result.metrics,
        result.task,
        modality.noun,
    )
    compared = result.base_comparison or {}
    print_versus_base(compared.get("overall"), compared.get("versus_base"), result.task,
                      f"{result.metrics['n']} {modality.noun}")  # fmt: skip
    print_subgroups(result.subgroups, result.task)
    from medadapt.cli.printing import print_per_class

    print_per_class(result.per_class, modality.noun)
    print_retention({"retention": result.retention})
    html = None
    if values["report"] is not None:
        html = evaluation_report(document, result.curves).render().encode()
    write_outputs([(values["json_out"], _dumps(document)), (values["report"], html)])


def _predict(**values: Any) -> None:
    data, base, adapter, out = values["data"], values["base"], values["adapter"], values["out"]
    inputs.require_data(data)
    modality = inputs.modality_of_base(base, data, probes(values))
    options = options_for("predict", modality, values, data).check("predict", data=data)
    inputs.check_not_an_input({"--out": out}, {"--data": data, "--base": base,
                                               "--adapter": adapter})  # fmt: skip
    check_output_file(out, flag="--out", force=values["force"])
    inputs.check_predictions_name(out)
    small_model_threads(modality)
    from medadapt.workflows.evaluate import predict_job

    summary = predict_job(base_dir=base, data=data, out=out, adapter_dir=adapter, options=options)
    print_skipped(summary, data, listed_by=PREDICTED_LISTS)  # predict has no --json
    print_absent(summary)
    if summary.get("label_read_not"):
        noted(
            f"column {summary['label_read_not']!r} (the outcome the model predicts) is in --data "
            "and not read: predictions never use it; to measure the model on these labelled "
            "rows, run 'medadapt evaluate' (it leaves out the rows the model trained on)"
        )
    warn_all(summary["warnings"])  # values the model never learned among them
    n, blank = summary["n"], summary.get("n_withheld", 0)
    said = plural(n, "prediction")
    if blank:
        made = n - blank
        said = (f"{n} rows: {plural(made, 'prediction')}, {blank} left blank "
                "(see above)")  # fmt: skip
    stdout.print(f"wrote {said} to {out}")
    if summary.get("typical_error"):
        noted(summary["typical_error"])


def _dumps(result: dict[str, Any]) -> bytes:
    return json.dumps(result, indent=2, default=str).encode()


def backbone_name(summary: dict[str, Any]) -> str:
    """``timm:vit_tiny_patch16_224 (depth=2, embed_dim=32)``: the name alone would describe
    a model other than the one --backbone-options built."""
    sizes = (summary.get("architecture") or {}).get("kwargs") or {}
    shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
    return f"{summary['backbone']} ({shown})" if shown else summary["backbone"]


def _json(path: Path | None, result: dict[str, Any]) -> None:
    if path is not None:
        write_outputs([(path, _dumps(result))])


TRAIN_BASE = [
    DATA, replace(LABEL, help="Label column (required for a table; image CSVs: default 'label')."),
    Shared("out", Path, ..., "Directory for the base model.", ("--out",)),
    GROUP_COLUMN,
    Shared("groups", str | None, None, "Comma-separated groups to train on."),
    ID_COLUMN,
    Shared("test_fraction", float, 0.2, "Share of patients held out for testing."),
    SEED, JSON, FORCE,
]  # fmt: skip
ADAPT = [
    BASE, DATA, LABEL, BASE_GROUP_COLUMN,
    Shared("group", str | None, None, "The target group to adapt to."),
    Shared("out", Path, ..., "Directory for the adapter.", ("--out",)),
    Shared("method", str, "bottleneck", "bottleneck | lora | dora | ia3 | head | full (and any "
           "registered adapter method)."),
    ADAPTER_OPTIONS,
    Shared("name", str | None, None, "Adapter name (default: <group>_<method>)."),
    Shared("train_fraction", float, 1.0, "Use this share of the group's training samples."),
    Shared("test_fraction", float, 0.3, "Share of the group's patients held out for testing."),
    SEED, JSON, REPORT, FORCE,
]  # fmt: skip
EVALUATE = [
    BASE, DATA, LABEL, ADAPTER, BASE_GROUP_COLUMN,
    Shared("group", str | None, None, "Evaluate only this group's samples."),
    Shared("all_groups", bool, False, "Score every sample whatever its group (those the "
           "model trained on are still left out; on the file an adapter was trained from, "
           "that adapter's held-out samples only), even where the adapter was trained for one "
           "group and --data has no column saying which (a file of that group alone); refused "
           "without it.", ("--all-groups",)),
    JSON, REPORT,
    Shared("threshold", float | None, None, "Operating point for sensitivity/specificity of a "
           "binary outcome (default 0.5)."),
    FORCE,
]  # fmt: skip
PREDICT = [
    BASE, DATA,
    Shared("out", Path, ..., "File for the predictions: .csv (default), .tsv or .parquet.",
           ("--out",)),
    ADAPTER, FORCE,
]  # fmt: skip

build_command(
    app,
    "train-base",
    TRAIN_BASE,
    pacs_aware("train-base", _train_base, markers=BASE_MARKERS),
    """Train a base model: an FT-Transformer on a table, or a ViT on images.

Example: medadapt train-base --data heart.csv --label num --positive-above 0 --id-column id
--group-column dataset --groups Cleveland,Hungary --missing-code chol=0,trestbps=0 --out base

Images: medadapt train-base --data chest.npz --backbone timm:vit_small_patch16_224 --weights
vit_small.safetensors --image-size 64 --out base/
""",
)
build_command(
    app,
    "adapt",
    ADAPT,
    pacs_aware("adapt", _adapt, markers=ADAPTER_MARKERS),
    """Train a small adapter on one group's samples (or on new images); the base stays frozen.

Example: medadapt adapt --base base/ --data heart.csv --label num --group-column dataset
--group "VA Long Beach" --method bottleneck --out adapters/va

Images, new classes: medadapt adapt --base base/ --data new_cases/ --new-classes cavity
--method bottleneck --out adapters/cavity --report cavity.html
""",
)
build_command(
    app,
    "evaluate",
    EVALUATE,
    pacs_aware("evaluate", _evaluate),
    """Score a model (and adapter) with 95% CIs, overall and per subgroup.

On the file the model or adapter was trained from, only its held-out samples are used; in any
other, samples identical to training samples are left out. The label column is the one the
base model predicts (--label only checks it).

Example: medadapt evaluate --base base/ --adapter adapters/va --data heart.csv --json va.json

Images: medadapt evaluate --base base/ --adapter adapters/cavity --data new_cases/
--report cavity_eval.html
""",
)
build_command(
    app,
    "predict",
    PREDICT,
    pacs_aware("predict", _predict),
    """Write one prediction per row or image: probabilities and predicted class, or a value.

Its columns: first the id column (a table without one: a column train-base left out as a
record identifier, else "row", each row's number under the header; images: "image"), the
probabilities and "predicted"; for a table, then "outside_training": the columns whose
value lies over 6 SDs from the mean of the model's training rows and further than any of
them, or, for a measurement always positive in training, at or below 0, under a third of
its lowest or over three times its highest (a slip of unit: it extrapolates there), empty
for most, and "missing_features": the features read as missing; for images,
"outside_training": how the image is unlike the training images, "note": what was done to
read it, and, where a 2D model scored a volume, "slice": the slice it scored; then
"trained_on": which model trained on the row or image, recognised by its content ("adapter
'NAME'" or "the base model"; or that it looks like a near-copy of a training image), empty
for the others, absent where the models' training rows are not known (no split.json beside
them); last "model": which model gave the predictions ("adapter NAME (sha256:...) on base
model ID", "base model ID alone", or "fully fine-tuned model ID (NAME)" for a model adapt
--method full wrote), as the DICOM SR names it.

Example: medadapt predict --base base/ --adapter adapters/va --data new.csv --out pred.csv

Images: medadapt predict --base base/ --data scans/ --out pred.csv (a file, a folder, a path
CSV or an .npz's test split)

PACS: medadapt predict --base base/ --data dicomweb+https://pacs/dicom-web/studies/1.2.3
--dicomweb-token-file token.txt --store-sr --out pred.csv
""",
)


def _counted_classes(summary: dict[str, Any], label: str) -> str | None:
    """The warning for a label of a few whole numbers taken as classes
    (:func:`~medadapt.data.schema.counted_classes_warning`, in the command line's words)."""
    from types import SimpleNamespace

    from medadapt.data.option_words import COMMAND_LINE
    from medadapt.data.schema import counted_classes_warning

    schema = SimpleNamespace(task=summary["task"], classes=list(summary["classes"]), label=label)
    return counted_classes_warning(schema, COMMAND_LINE)  # type: ignore[arg-type]
