"""``medadapt study``: how much target data is enough, per strategy, for every modality.

For one target group, every strategy is trained on nested fractions of the group's training
samples over several seeds and scored on the same held-out target samples (split once, by
patient, only among patients the base model never trained on). The base model is trained on
the source groups (one per seed when the modality's models are cheap, else one shared), or
given. Points are written as they finish (``DIR/points``), so an interrupted study resumes;
:mod:`medadapt.workflows.study_summary` turns them into curves and plain-language
conclusions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data.leaks import UNNEEDED_FLAG
from medadapt.errors import ConfigError, DataError
from medadapt.evaluate.sufficiency import check_sufficiency
from medadapt.fileio import atomic_write_bytes, read_json
from medadapt.modalities.base import Modality, Reading
from medadapt.modalities.bundle import BaseModel
from medadapt.results import StudyPoint, base_kept_leak_notes
from medadapt.workflows import study_points
from medadapt.workflows.base_label import check_label
from medadapt.workflows.sample_size import study_sample_size
from medadapt.workflows.splitting import (
    adapter_split,
    base_split_warnings,
    never_seen,
    select,
    shared_patients_warning,
)
from medadapt.workflows.study_grid import (
    FRACTIONS,
    GIVEN_BASE,
    STRATEGIES,
    StudyConfig,
    StudyData,
)

__all__ = ["FRACTIONS", "STRATEGIES", "StudyConfig", "StudyData", "run_study"]


def _base_kept_leaks(base: BaseModel, schema: Any, at_target: list[str]) -> list[str]:
    """What ``adapt`` and ``evaluate`` say of the columns a given base kept with
    ``--allow-leak``, for every strategy's figures; a column the target's own check names
    (``at_target``) is said there, with its figure on these rows."""
    label = getattr(schema, "label", None)
    named = " ".join(at_target)
    said = {leak.get("column") for leak in base.training.get("allowed_leaks") or []
            if isinstance(leak, dict) and f"'{leak.get('column')}'" in named}  # fmt: skip
    return base_kept_leak_notes(base.training, label, what="every strategy's figures",
                                said_here=said)  # fmt: skip


def needed_at_the_target(warning: str, at_target: list[str]) -> str:
    """The study's own base's warning that an ``--allow-leak`` column needed no flag, said
    of the base's rows only where the target's rows keep that column because of the flag (a
    trial was told "the flag was not needed", then "kept because of --allow-leak", of one
    column).

    >>> base = ("--allow-leak 'x': it does not alone predict 'y' on these training rows (the "
    ...         "leak check did not flag it), so the model uses it as any other feature: "
    ...         "the flag was not needed")
    >>> needed_at_the_target(base, ["column 'x' (AUROC 0.986) alone predicts 'y' almost "
    ...                             "perfectly; kept because of --allow-leak: ..."])[-91:]
    "not needed on the rows the base trains on; the target's rows keep 'x' because of it (below)"
    """
    if not (warning.startswith("--allow-leak ") and warning.endswith(UNNEEDED_FLAG)):
        return warning
    named = re.findall(r"'([^']*)'", warning.split(": ", 1)[0])  # the columns it names
    kept = [w for w in at_target if "kept because of --allow-leak" in w]
    here = [n for n in named if any(f"'{n}' (" in w for w in kept)]
    if not here:
        return warning
    kept_here = ", ".join(map(repr, here))
    return (f"{warning} on the rows the base trains on; the target's rows keep {kept_here} "
            "because of it (below)")  # fmt: skip


def prepare(
    modality: Modality, data: Path, options: Any, reading: Reading, config: StudyConfig
) -> StudyData:
    """Source samples and schema (or the given base's), and the target group split once
    into training and held-out samples (by patient, never on patients the base saw)."""
    source, warnings = None, []
    base_split: dict[str, Any] = {}
    if config.base is not None:
        base = BaseModel.load(config.base, flag="--base")
        if base.kind != modality.kind:
            raise ConfigError(
                f"--base {config.base} is a {base.kind} model, not one for {modality.noun}"
            )
        schema = base.schema
        check_label(modality, schema, reading.label)
        if config.source_groups:
            raise ConfigError(
                "--groups names the groups study trains its own base on, but --base gives "
                "one: drop --groups (the base's training rows are known from the base)"
            )
        refuse_options_of_a_new_base(modality, options, base)
    else:
        source_reading = Reading(reading.label, reading.group_column, config.source_groups,
                                 reading.id_column)  # fmt: skip
        source = modality.read_training(data, options, source_reading)
        schema, warnings = modality.fit_schema(source, options, source_reading)
        warnings = _dropped_identifiers(schema) + warnings  # as train-base says them
    target = modality.read_for_model(
        data, _Model(schema), options, classes=modality.classes(schema),
        group_column=reading.group_column, label=reading.label,
        hint="the study's data must use the base model's classes",
    )  # fmt: skip
    if config.base is not None:  # with its split.json: its training rows in any file
        base_split = modality.read_split(Path(config.base), base.training.get("split") or {},
                                         data, "base", target)  # fmt: skip
        scored = f"the held-out {modality.noun}"
        warnings += base_split_warnings(
            modality, base, base_split, scored, figures="every strategy's figures on them",
            instead="run the study only on",
        )  # fmt: skip
    groups = [config.target_group] if config.target_group is not None else None
    chosen = select(target, reading.group_column, groups, what="--group")
    _refuse_one_outcome(modality, schema, target.subset(chosen), reading, config, data)
    seen = modality.in_split(data, target, base_split, "train")
    where = config.target_group or "the data"
    train, test = adapter_split(modality, target, chosen, seen, test_fraction=config.test_fraction,
                                seed=0, where=where)  # fmt: skip
    if modality.base_test_stays_clean and base_split:
        train = train[~modality.in_split(data, target, base_split, "test")[train]]
    pool = never_seen(target, chosen, seen)  # the samples a test set may be drawn from
    _refuse_nothing_measurable(modality, target, pool, test, where, config.test_fraction,
                               seen_any=len(pool) < len(chosen))  # fmt: skip
    warnings += shared_patients_warning(modality, target, chosen, seen, where)
    # what the target's rows say, counted among them as check-data and adapt count them (a
    # trial read "1 of 569 rows", source and target together, beside their "1 of 114"); the
    # source groups' rows are said as train-base says them, when the schema is fitted
    warnings += modality.sample_notes(schema, target.subset(chosen))
    if config.base is not None:  # a base the study trains itself gets its id column or warns
        warnings += modality.unnamed_patients_warning(schema, target.subset(chosen))
    scored = target.subset(np.concatenate([train, test]))  # a leak in either flatters the study
    at_target = modality.check_study_target(schema, scored, options,
                                            given_base=config.base is not None)  # fmt: skip
    if config.base is not None:  # the columns the base kept (a trial's study never named
        warnings += _base_kept_leaks(base, schema, at_target)  # them; adapt and evaluate did)
    else:
        warnings = [needed_at_the_target(w, at_target) for w in warnings]
    warnings += at_target
    unseen = target.subset(pool) if config.base is not None else None
    return StudyData(schema, source, target.subset(train), target.subset(test),
                     int(seen[chosen].sum()), warnings, unseen,
                     np.asarray(target.subset(chosen).labels),
                     target.subset(chosen).known_patients())  # fmt: skip


def _refuse_nothing_measurable(modality: Modality, target: Any, pool: np.ndarray,
                               test: np.ndarray, where: str, fraction: float, *,
                               seen_any: bool) -> None:  # fmt: skip
    """A held-out test set of fewer patients than any figure needs (:data:`MIN_PATIENTS`) is
    refused before anything trains: a trial's study of a 15-row site trained every strategy
    at every size, then said that nothing could be measured. ``pool``: the samples a test
    set is drawn from (those of patients the base never trained on, ``seen_any`` where the
    base trained on some of the group's)."""
    from medadapt.evaluate.metrics import MIN_PATIENTS

    def counted(indices: np.ndarray) -> int:
        patients = target.subset(indices).known_patients()
        return len(indices) if patients is None else len(np.unique(patients))

    tested, unit = counted(test), "patients" if target.known_patients() is not None else None
    if tested >= MIN_PATIENTS:
        return
    unit = unit or modality.noun
    in_all = counted(pool)
    unseen = " the base never trained on" if seen_any else ""
    if in_all < MIN_PATIENTS:
        fix = (f"{where} holds {in_all} {unit}{unseen} in all, fewer than that however they are "
               "split: give more target data, or pick a larger --group")  # fmt: skip
    else:
        fix = (f"raise --test-fraction (now {fraction:g} of the {in_all} {unit} of {where}"
               f"{unseen}), or give more target data")  # fmt: skip
    raise DataError(
        f"the held-out test set would hold {tested} {unit}, fewer than the {MIN_PATIENTS} any "
        f"figure needs: the study would train every strategy and measure none; {fix}"
    )


def _dropped_identifiers(schema: Any) -> list[str]:
    """The columns the study's base leaves out as record identifiers or dates, each in the
    warning ``train-base`` prints (a trial's study said nothing of 'patient_id', whose repeated
    values meant several rows per patient, nor of 'admit_date')."""
    from medadapt.data.schema import dropped_warning

    dropped = getattr(schema, "dropped", None) or {}  # a table's schema; images drop none
    return [dropped_warning(c, dropped[c]) for c in getattr(schema, "identifiers", None) or []
            if c in dropped]  # fmt: skip


def _refuse_one_outcome(
    modality: Modality, schema: Any, chosen: Any, reading: Reading, config: StudyConfig, data: Path
) -> None:
    """A target group whose samples hold one class, or one value of a measured outcome, is
    refused as ``check-data`` refuses it: every strategy would be trained and tested on one
    answer for all (a trial's study then said "more data would likely help")."""
    labels = np.asarray(chosen.labels, dtype=float)
    where = (f"{reading.group_column} = {config.target_group}" if config.target_group is not None
             else str(data))  # fmt: skip
    check = f"check --group (the {modality.noun} of {where}) and {modality.outcome_words(data)}"
    only = modality.only_class(schema, labels.astype(int)) if len(labels) else None
    if only is not None:
        raise DataError(
            f"the {len(labels)} {modality.noun} of {where} hold "
            f"{modality.one_class_words(schema, only)}: a study would train and test every "
            f"strategy on one answer for all, and no figure could tell them apart; {check}"
        )
    if modality.task(schema) == "regression" and len(labels) and np.ptp(labels) == 0:
        raise DataError(
            f"the outcome is the same for all {len(labels)} {modality.noun} of {where}: there "
            f"is nothing for a study to learn or to measure there; {check}"
        )


def refuse_options_of_a_new_base(modality: Modality, options: Any, base: Any) -> None:
    """Options that shape a new base model, given with ``--base`` and differing from what
    the base decided (they would be ignored silently), refused by flag."""
    for flag, value in options.shaping_a_new_base().items():
        decided = modality.differs_from_base(base, flag, value)
        if decided is None:
            continue
        if not decided:
            raise ConfigError(
                f"{flag} shapes a new base model, but --base gives one, whose own settings "
                f"study keeps: drop {flag}"
            )
        shown = f"{value:g}" if isinstance(value, float) else value
        raise ConfigError(
            f"{flag} {shown} differs from the base model's {decided}: study keeps the settings "
            f"of --base; drop {flag}, or train a new base with it"
        )


@dataclass
class _Model:
    """What reading samples for a model needs of it: its schema."""

    schema: Any


def data_digest(data: StudyData) -> str:
    """Identifies the samples and the label definition (the schema, every sample used)."""
    digest = hashlib.sha256(json.dumps(_schema_dict(data.schema), sort_keys=True).encode())
    for part in (data.source, data.target_train, data.target_test):
        if part is not None:
            digest.update(part.fingerprint())
    return digest.hexdigest()[:16]


def _schema_dict(schema: Any) -> dict[str, Any]:
    return schema.to_dict() if hasattr(schema, "to_dict") else asdict(schema)


def open_study_dir(out_dir: str | Path, digest: str, data: str | None = None) -> Path:
    """Create (or reopen, for the same grid and data only) a study directory with its points
    folder. A directory of another study is refused, never mixed or silently overwritten: its
    finished points stay as they are."""
    out = Path(out_dir)
    state = out / "state.json"
    if state.is_file():
        recorded = read_json(state, missing=f"{state} is missing",
                             invalid=f"{state} is damaged (not JSON): choose a new --out "
                             f"directory, or delete {out} to start the study again")  # fmt: skip
        if recorded.get("config") != digest:
            raise ConfigError(
                f"{out} holds a study with other settings; choose a new --out directory "
                "(or delete that one) to start a different study"
            )
        if recorded.get("data") != data:
            raise ConfigError(
                f"{out} holds a study of other data (the rows or the label definition "
                "changed); choose a new --out directory (or delete that one) to start a "
                "study of this data"
            )
    (out / "points").mkdir(parents=True, exist_ok=True)
    record = {"config": digest} if data is None else {"config": digest, "data": data}
    atomic_write_bytes(state, json.dumps(record).encode())
    return out


def run_study(
    modality: Modality,
    data: Path,
    config: StudyConfig,
    *,
    out_dir: str | Path,
    options: Any = None,
    reading: Reading | None = None,
    workers: int | None = None,
    progress: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the study grid; returns every point (JSON-ready).

    ``progress(message)`` is called as each base model or point finishes, and once as
    ``progress(message, already=n)`` when a resumed study finds ``n`` of them already done.
    """
    options = options if options is not None else modality.options()
    reading = reading or Reading(group_column=config.group_column)
    config = config.check(modality)
    say = progress or (lambda message, already=0: None)
    prepared = prepare(modality, data, options, reading, config)
    out = open_study_dir(out_dir, config.digest(), data_digest(prepared))
    findings = check_sufficiency(
        modality, prepared.schema, source=prepared.source, target_train=prepared.target_train,
        target_test=prepared.target_test,
    )  # fmt: skip
    findings += study_points.size_findings_of(modality, prepared, config, options)
    findings += study_points.warning_findings(prepared.warnings)
    bases, points = study_points.plan(modality, prepared, config, options, out)
    finished = n_steps(modality, config) - len(bases) - sum(map(len, points.values()))
    if finished:
        say(f"resumed: {finished} finished steps kept", already=finished)
    workers = workers if workers is not None else modality.study_workers
    study_points.run(bases, points, out, workers or os.cpu_count() or 1, say)
    done = [_read_point(p).to_json() for p in sorted((out / "points").glob("*.json"))]
    classes = modality.classes(prepared.schema)
    return {
        "config": {**asdict(config), "digest": config.digest(), "kind": modality.kind},
        "task": modality.task(prepared.schema),
        "label": getattr(prepared.schema, "label", None) or "class",
        "data": {
            "n_source": 0 if prepared.source is None else len(prepared.source),
            "n_target_train": len(prepared.target_train),
            "n_target_test": len(prepared.target_test),
            "n_target_seen_by_base": prepared.n_seen_by_base,
            "source_groups": list(config.source_groups) or [GIVEN_BASE],
            "target_group": config.target_group or f"(all {modality.noun})",
            "classes": classes,
        },
        "sufficiency": [f.to_dict() for f in findings],
        "sample_size": _sample_size(modality, prepared, config, options),
        "points": done,
    }


def _sample_size(modality: Modality, prepared: StudyData, config: StudyConfig, options: Any):
    """Riley et al.'s criteria for each strategy on the target (None where they do not
    apply); with a given base, at the R-squared it anticipates there, as ``check-data``."""
    params = study_points.parameter_counts(modality, prepared.schema, config, options,
                                           predictors=True)  # fmt: skip
    base = BaseModel.load(config.base, flag="--base") if config.base is not None else None
    return study_sample_size(modality, prepared.schema, params, prepared.target_train,
                             prepared.target_test, base=base, unseen=prepared.unseen,
                             labels=prepared.target_labels,
                             label_patients=prepared.target_patients)  # fmt: skip


def n_steps(modality: Modality, config: StudyConfig) -> int:
    """Base models plus points: what the progress bar counts."""
    strategies = config.strategies or modality.study_strategies(STRATEGIES)
    per_seed = sum(1 for s in strategies if s != "base_only") * len(config.fractions)
    points = config.seeds * (per_seed + ("base_only" in strategies))
    if config.base is not None:
        return points
    return points + (config.seeds if modality.study_base_per_seed else 1)


def _read_point(path: Path) -> StudyPoint:
    """A finished point, small subgroup counts suppressed (again: points written by older
    versions too)."""
    from medadapt.evaluate.small_cells import mask_subgroups

    point = StudyPoint.from_json(json.loads(path.read_text()), where=str(path))
    if point.subgroups:
        return replace(point, subgroups=mask_subgroups(point.subgroups))
    return point
