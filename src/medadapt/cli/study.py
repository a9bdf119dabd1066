"""``medadapt study``: learning curves per strategy, for every modality."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from medadapt import checks
from medadapt.cli import inputs
from medadapt.cli.common import noted, small_model_threads, status_progress, stdout, warn
from medadapt.cli.main import app
from medadapt.cli.options import Shared, build_command, options_for
from medadapt.cli.verbs import DATA, GROUP_COLUMN, ID_COLUMN, LABEL, base_group_column, probes
from medadapt.errors import ConfigError
from medadapt.modalities.base import Reading, modality_for_data

STUDY = [
    DATA, LABEL,
    replace(GROUP_COLUMN, help="Column holding the site/group (with --base and --group: "
            "default the one the base model records)."),
    Shared("groups", str | None, None, "Comma-separated source groups (the base is trained on "
           "them)."),
    Shared("group", str | None, None, "The target group (with --base: default every sample)."),
    Shared("out", Path, ..., "Output directory (re-run to resume).", ("--out",)),
    Shared("fractions", str, "0.05,0.1,0.25,0.5,1", "Training fractions, in (0, 1]."),
    Shared("seeds", int, 5, "Seeds per point."),
    Shared("methods", str | None, None, "Strategies (default: base_only, head_only, bottleneck, "
           "lora, full_finetune and, for tables, scratch_local; ia3 also available)."),
    ID_COLUMN,
    Shared("test_fraction", float, 0.3, "Share of the target's patients held out."),
    Shared("workers", int | None, None, "Parallel processes (default: the modality's)."),
    Shared("n_boot", int, 500, "Bootstrap resamples per point (evaluate and adapt use 1000, "
           "so an interval of the same model differs slightly between them, by resampling "
           "alone)."),
    Shared("base", Path | None, None, "An existing base model (else one is trained on --groups).",
           ("--base",)),
    Shared("adapter_options", str | None, None, "Settings of the adapter methods over their "
           "defaults, METHOD:KEY=VALUE,... separated by ';' (e.g. "
           "'lora:r=16,alpha=32;bottleneck:reduction_factor=8'); the options of each method as "
           "in adapt --adapter-options."),
    Shared("force", bool, False, "Write into a non-empty --out that holds no earlier study.",
           ("--force",)),
]  # fmt: skip


def _study(**values: Any) -> None:
    from medadapt.adapters.methods import parse_options_per_method
    from medadapt.fileio import check_output_dir, check_outside_registry, other_outputs
    from medadapt.workflows.strategies import adapter_methods
    from medadapt.workflows.study import StudyConfig, n_steps, run_study

    data, out = values["data"], values["out"]
    inputs.require_data(data)
    fractions = checks.numbers(values["fractions"], "--fractions")
    for value in fractions:
        checks.fraction(value, "--fractions", closed=True)
    twice = sorted({f"{v:g}" for v in fractions if fractions.count(v) > 1})
    if twice:  # a trial's 0.5,1.0,0.5 was shown as columns 50% | 100% | 50%
        raise ConfigError(
            f"--fractions names {', '.join(twice)} more than once; give each size once"
        )
    checks.at_least(values["seeds"], "--seeds")
    checks.cores(values["workers"], "--workers")
    checks.at_least(values["n_boot"], "--n-boot", 10)
    checks.fraction(values["test_fraction"], "--test-fraction")
    groups = tuple(checks.names(values["groups"], "--groups"))
    strategies = tuple(_strategy_cased(name) for name in checks.names(values["methods"],
                                                                      "--methods"))  # fmt: skip
    group = values["group"]
    if group is not None and group in groups:
        raise ConfigError(
            f"--group {group!r} is also one of --groups: the base model must not see the target "
            "group; take it out of --groups"
        )
    modality = modality_for_data(data, probes(values))
    options = options_for("study", modality, values, data)
    options.check("study", data=data, label=values["label"])
    if values["base"] is not None:
        base_group_column(values, Path(values["base"]))
    if values["base"] is None:
        why = "for a study: name the label, the group column, the source groups and the target"
        if modality.needs_label and not values["label"]:
            raise ConfigError(f"--label is required {why}")
        if not values["group_column"]:
            raise ConfigError(f"--group-column is required {why}")
        if not groups:
            raise ConfigError(f"--groups is required {why}")
        if group is None:
            raise ConfigError(f"--group is required {why}")
    config = StudyConfig(
        group_column=values["group_column"], target_group=group, source_groups=groups,
        strategies=strategies, fractions=tuple(fractions), seeds=values["seeds"],
        test_fraction=values["test_fraction"], n_boot=values["n_boot"],
        epochs=getattr(options, "epochs", None),
        base=None if values["base"] is None else str(Path(values["base"]).resolve()),
        options={k: str(v) for k, v in options.given().items()},
    ).check(modality)  # fmt: skip
    config = replace(config, method_options=parse_options_per_method(
        values["adapter_options"], adapter_methods(config.strategies)))  # fmt: skip
    inputs.check_name_length(out, "--out")
    check_outside_registry(out, "--out")  # (check_output_dir says it too, but not on resuming)
    inputs.check_not_inside(out, data, "--data")
    if values["base"] is not None:
        inputs.check_not_inside(out, values["base"], "--base")
    if not (out / "state.json").is_file():  # the same study resumes; other files are refused
        check_output_dir(out, flag="--out", force=values["force"],
                         foreign=other_outputs("study.json"))  # fmt: skip
    small_model_threads(modality)
    reading = Reading(values["label"], values["group_column"], groups, values["id_column"])
    title = f"study ({modality.title.lower()})"
    with status_progress(title, total=n_steps(modality, config)) as step:
        study = run_study(
            modality, data, config, out_dir=out, options=options, reading=reading,
            workers=values["workers"], progress=step,
        )  # fmt: skip
    _finish(study, out)


def _finish(study: dict, out: Path) -> None:
    """Curves, conclusions, study.json and the report; the findings on the terminal."""
    from medadapt.fileio import atomic_write_bytes
    from medadapt.workflows.sample_size import study_sample_size_line
    from medadapt.workflows.study_figures import held_out_needs, nothing_measured
    from medadapt.workflows.study_report import study_report
    from medadapt.workflows.study_summary import aggregate, conclusions, study_modality

    curves = aggregate(study["points"], study["task"])
    found = conclusions(study, curves)
    study["curves"] = curves
    study["conclusions"] = found
    study["notes"] = [found[k] for k in ("nothing_measured", "backwards", "too_good")
                      if found.get(k)]  # fmt: skip
    atomic_write_bytes(out / "study.json", json.dumps(study, indent=1).encode())
    study_report(study, curves, found).write(out / "report.html")
    if study.get("sample_size"):
        units = f"{getattr(study_modality(study), 'unit', 'patient')}s"  # Riley counts patients
        stdout.print(study_sample_size_line(study["sample_size"], units))
        for caveat in study["sample_size"].get("criteria_notes", []):  # as check-data says them
            noted(caveat)
        needs = held_out_needs(study)  # the held-out patients each figure needs, as the report
        if nothing_measured(study):  # what it means: said by the warning below
            needs = needs[:1]
        for line in needs:
            stdout.print(line)
    for finding in study["sufficiency"]:
        if finding["level"] == "warning":
            warn(finding["message"])
    ratios = [f["numbers"] for f in study["sufficiency"] if f["code"] == "events_per_parameter"]
    if ratios:
        from medadapt.evaluate.sufficiency import EVENTS_PER_PARAMETER
        from medadapt.workflows.labels import label

        described = "; ".join(
            f"{label(n['strategy'])} {n['events_per_parameter']:.3g}" for n in ratios
        )
        from medadapt.modalities.base import modality_of

        counted = (
            "events"
            if study["task"] != "regression"
            # every sample informs it
            else (modality_of(study["config"]["kind"]).noun)
        )
        stdout.print(
            f"{counted} per trained parameter (intercepts aside): {described} (a warning is "
            f"given below {EVENTS_PER_PARAMETER})"
        )
    _print_strategies(study, curves, found["metric"])
    for sentence in found["sentences"]:
        if sentence in (found.get("too_good"), found.get("nothing_measured"),
                        found.get("backwards")):  # fmt: skip
            warn(sentence.removeprefix("Warning: "))
        else:
            stdout.print(f"• {sentence}")
    stdout.print(f"wrote {out / 'study.json'} and {out / 'report.html'}")


def _print_strategies(study: dict, curves: dict, metric: str) -> None:
    """The main metric per strategy and size, as the report's table: a trial's terminal gave
    only sentences, every figure and interval in report.html."""
    from medadapt.cli.common import print_table
    from medadapt.evaluate.report.formatting import METRIC_LABELS
    from medadapt.workflows.study_report import base_per_seed, few_seeds_note, strategy_rows

    columns, rows = strategy_rows(study["config"]["fractions"], curves[metric])
    print_table(f"{METRIC_LABELS[metric]} by strategy and share of the target's training "
                "samples (mean over seeds, 95% CI over seeds; test CI: over test patients)",
                columns, rows)  # fmt: skip
    few = few_seeds_note(study["config"]["seeds"]).strip()  # in report.html only, before
    if few:
        noted(few)
    if study["config"].get("base") is None and "base_only" in curves[metric]:
        noted(own_base_note(study["config"]["seeds"], base_per_seed(study["config"])))


def own_base_note(seeds: int, per_seed: bool = True) -> str:
    """Whose figures the table's "base model without adapter" row gives where the study
    trained its own base (a trial read 46.97 there and 48.7 from 'adapt --base' on the same
    site, only the report saying why); ``per_seed``: whether it trained one for each seed
    (tables do; images train one, which a trial's terminal said was one per seed).

    >>> own_base_note(3)[62:100]
    '--groups (one for each of its 3 seeds)'
    >>> own_base_note(3, per_seed=False)[62:123]
    '--groups (one, shared by its 3 seeds: the row does not vary w'
    >>> own_base_note(1)[62:79]
    '--groups, not a b'
    """
    each = ""
    if seeds > 1:
        shared = f" (one, shared by its {seeds} seeds: the row does not vary with them)"
        each = f" (one for each of its {seeds} seeds)" if per_seed else shared
    return (
        f"'base model without adapter' is the base this study trains on --groups{each}, not "
        "a base given with --base: its figures are not those of 'adapt --base' (another "
        "model, perhaps other test rows)"
    )


build_command(
    app,
    "study",
    STUDY,
    _study,
    """Learning curves: each strategy on growing shares of the target group's samples.

Writes OUT/study.json and OUT/report.html; interrupted runs resume from finished points.

Example: medadapt study --data heart.csv --label num --positive-above 0 --id-column id
--missing-code chol=0,trestbps=0 --group-column dataset --groups Cleveland,Hungary
--group "VA Long Beach" --out study-va

Images, with a given base: medadapt study --data new.npz --base base/ --fractions 0.25,1
--out study-new
""",
)


def _strategy_cased(given: str) -> str:
    """A ``--methods`` strategy as its list spells it where it differs only in case (a
    trial's ``--methods LoRA`` was refused where ``adapt --method LoRA`` is taken); else as
    given, for the study's check to refuse.

    >>> _strategy_cased("LoRA"), _strategy_cased("Head_Only"), _strategy_cased("lora2")
    ('lora', 'head_only', 'lora2')
    """
    from medadapt.workflows.study_grid import known_strategies

    return next((s for s in known_strategies() if s.casefold() == given.casefold()), given)
