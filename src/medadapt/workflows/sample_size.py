"""Is there enough data to adapt and check a model at a new site? Riley et al.'s criteria
(:mod:`medadapt.evaluate.samplesize`) applied to a base model and a target site's data.

**Adapters are not new models.** The development criteria assume a model fitted from data
alone, with ``p`` predictor parameters (the output layer's intercepts are not among them:
:func:`predictor_parameters`). An adapter starts from the frozen base's knowledge, so its
effective number of parameters is somewhere between none and all it trains: the count it
trains bounds it from above, and medadapt reports, for every strategy, the n that count would
need as a new model's, the most conservative reading; meeting it is still necessary, not
sufficient. Every output says so once, in the words of
:data:`~medadapt.results.ADAPTED_READING`; the learning curves of ``study`` show what the data
actually support.

Binary, continuous and multiclass outcomes each have their criteria and their anticipated
R-squared (:mod:`medadapt.evaluate.samplesize_outcomes`); the external-validation criteria
are Riley et al. 2021's, for binary outcomes. Images are samples of patients: the criteria
count patients, and the output says so. A table whose rows name no patient (no id column)
has each row taken as one patient, and the output counts rows and says so
(:data:`ROWS_AS_PATIENTS`), never calling them patients. Where the samples name their patients
(:meth:`~medadapt.modalities.samples.Samples.known_patients`: an id column, DICOM PatientID) and
a patient has several of them (repeat visits), the criteria are compared with the number of
patients, and the entries record both (``n_train`` samples, ``n_train_patients`` patients); the
prevalence (class proportions) they are read at is the patients' too
(:func:`~medadapt.evaluate.samplesize_outcomes.class_shares`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medadapt.adapters import AdapterModel, without_adapters
from medadapt.adapters.methods import default_config
from medadapt.errors import DataError
from medadapt.evaluate.bootstrap import cluster_index
from medadapt.evaluate.metrics import (
    MIN_PATIENTS,
    MIN_PER_CLASS,
    count_units,
    leak_examples,
)
from medadapt.evaluate.report.formatting import listed
from medadapt.evaluate.samplesize import binding, lp_distribution, max_cox_snell, validation
from medadapt.evaluate.samplesize_entry import (
    PATIENTS,
    ROWS_AS_PATIENTS,
    STUDY_ROWS_AS_PATIENTS,
    as_patients,
    as_patients_entry,
    cited,
    counted,
    counted_text,
    criteria_count,
    development_entry,
    development_line,
    patient_counts,
    patients_of,
    planned_outcome,
    rows_as_patients,
    trained_words,
    training_counts,
)
from medadapt.evaluate.samplesize_outcomes import (
    BASIS_DEFAULT,
    BASIS_HERE,
    BASIS_PAIRS,
    CAUTIOUS_C,
    WEAKEST_PLANNED,
    Outcome,
    name_classes,
    outcome_of,
    source_of,
)
from medadapt.evaluate.samplesize_parameters import predictor_parameters
from medadapt.evaluate.sufficiency import absent_class_note, count_patients, rare_class_note
from medadapt.modalities.base import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.results import (
    ADAPTED_READING,
    FLAT_SCORES,
    MILLION,
    VALIDATION_WORDS,
    base_kept_leak_notes,
    needed_text,
    parameters_text,
    r2_text,
)
from medadapt.train.fitting import predict
from medadapt.wording import plural
from medadapt.workflows.adapt_samples import one_class_refusal, split_group
from medadapt.workflows.labels import label
from medadapt.workflows.splitting import never_seen, select
from medadapt.workflows.strategies import is_adapter, method_of

if TYPE_CHECKING:
    from torch import nn

STRATEGIES = ("head_only", "lora", "bottleneck", "full_finetune")
"""The strategies whose trainable parameters the criteria are read for, fewest first."""


def strategy_parameters(modality: Any, base: BaseModel) -> dict[str, int]:
    """Riley et al.'s ``p`` for each adaptation strategy on ``base`` (no training): the
    parameters it trains, the output layer's intercepts aside (:func:`predictor_parameters`)."""
    return {strategy: trained_parameters(modality, base.model, strategy)
            for strategy in STRATEGIES}  # fmt: skip


def trained_parameters(modality: Any, model: nn.Module, strategy: str, *,
                       options: dict[str, Any] | None = None,
                       predictors: bool = True) -> int:  # fmt: skip
    """The parameters ``strategy`` trains on ``model`` (a throw-away copy of it, no
    training): every weight of a whole model (full fine-tuning, a new model), else an
    adapter's, added with its method's defaults and ``options`` (``--adapter-options``).
    ``predictors``: Riley et al.'s ``p``, the output layer's intercepts aside
    (:func:`predictor_parameters`); False: every trainable parameter."""
    model = without_adapters(model)
    if not is_adapter(strategy):
        if predictors:
            return predictor_parameters(modality, model)
        return sum(p.numel() for p in model.parameters())
    wrapped = AdapterModel(model)
    wrapped.add_adapter("probe", default_config(method_of(strategy), modality.family(model),
                                                heads=modality.heads(model),
                                                options=options))  # fmt: skip
    if predictors:
        return predictor_parameters(modality, wrapped, "probe")
    return wrapped.count_parameters("probe")


def check_sample_size(
    base_dir: Path,
    data: Path,
    *,
    group_column: str | None = None,
    group: str | None = None,
    test_fraction: float = 0.3,
    options: Any = None,
    label: str | None = None,
) -> dict[str, Any]:
    """Development and validation criteria for adapting ``base_dir`` on ``data``'s ``group``
    and testing it on ``test_fraction`` of those samples; counts and numbers only. ``label``
    (adapt's ``--label``): an image CSV's column of labels, where it names them otherwise; a
    table's must be the base's own label (refused otherwise, as ``adapt`` refuses it)."""
    base = BaseModel.load(base_dir, flag="--base")
    modality = modality_of(base.kind)
    options = options if options is not None else modality.options()
    from medadapt.workflows.base_label import check_label

    check_label(modality, base.schema, label)  # a table's label is the base's (as adapt)
    samples = modality.read_for_model(
        data, base, options, group_column=group_column, groups=[group] if group else None,
        label=label, hint="to add them, adapt the model with adapt --new-classes NAME[,NAME]",
    )  # fmt: skip
    chosen = select(samples, group_column, [group] if group else None, what="--group")
    if len(chosen) == 0:  # every label missing: no patient to count (evaluate refuses so too)
        where = f" of {group_column} = {group}" if group else ""
        raise DataError(f"--data {data} has no labelled {modality.noun}{where} (every label is "
                        "missing): fill in the labels, or point --data at a file that has "
                        "them")  # fmt: skip
    where = f"{group_column} = {group}" if group else str(data)
    split = split_group(modality, base, base_dir, data, samples, chosen, seed=0, where=where,
                        test_fraction=test_fraction, lenient=True)  # fmt: skip
    refused = _what_adapt_refuses(modality, base, samples.subset(np.concatenate(
        [split.train, split.test])), options, where)  # fmt: skip
    if refused["adapt_refuses"] is None:  # the same refusal as adapt's, before any training
        refused["adapt_refuses"] = one_class_refusal(
            modality, base.schema, samples.subset(split.train).labels, where, group
        )
    refused["warnings"] = split.unrecognised + refused["warnings"]
    refused["skipped_files"] = samples.skipped_files()  # --on-error skip: printed, in --json
    target, noun = samples.subset(chosen), counted(modality, samples)
    refused["read_as"] = samples.reading_note()  # a table's separator and decimal commas
    # what adapt says of the rows' values (a category coded otherwise, zeros, text), before
    refused["warnings"] += modality.sample_notes(base.schema, target)
    refused["warnings"] += modality.unnamed_patients_warning(base.schema, target)
    # the columns the base kept with --allow-leak, as adapt, evaluate and predict say them (a
    # trial's check-data planned on a base AUROC of 0.991 without a word of its four)
    refused["warnings"] += base_kept_leak_notes(
        base.training, getattr(base.schema, "label", None),
        what="the base model's figures here, and the numbers planned from them")  # fmt: skip
    shift = _prevalence_against_base(modality, base, target, where)  # as study warns it
    refused["warnings"] += [shift] if shift else []
    # each input's share missing at the site (a trial: check-data said nothing of ~8% per
    # column coded '?', 'NA' and '-', read as missing without a word)
    refused["missing"] = {k: round(v, 4) for k, v in
                          modality.missing_shares(base.schema, target).items()}  # fmt: skip
    if modality.task(base.schema) != "regression":  # patients, where one has several samples
        here = count_patients(target, modality.classes(base.schema), noun)
        rare = rare_class_note(here.per_class, here.noun, where, total=here.total)
        absent = absent_class_note(here.per_class, here.noun, where)
        refused["warnings"] = [n for n in (rare, absent) if n] + refused["warnings"]
    unseen = samples.subset(never_seen(samples, chosen, split.seen))  # its patients never trained
    patients = patient_counts(modality, n=target, n_train=samples.subset(split.train),
                              n_test=samples.subset(split.test))  # fmt: skip
    risk = _scores(modality, base, unseen) if len(unseen) else None
    labels = np.asarray(target.labels)
    scored = None if risk is None else (np.asarray(unseen.labels), risk)
    outcome = outcome_of(modality.task(base.schema), labels, scored,
                         base.training.get("test_metrics"),
                         modality.noun if patients else noun,
                         modality.classes(base.schema), patients=unseen.known_patients(),
                         label_patients=target.known_patients())  # fmt: skip
    refused.update(_unread(modality, base, target))  # after the refusals, in their words
    if isinstance(outcome, str):
        check = flags_to_check(where, group, modality.outcome_words(data), noun=modality.noun,
                               columns=not Path(data).is_dir())  # fmt: skip
        return {"applies": False, "why": f"{outcome}; {check}", **refused}
    name_classes(outcome, modality.classes(base.schema))
    params = strategy_parameters(modality, base)
    n_train, n_test = len(split.train), len(split.test)
    neither = np.setdiff1d(chosen, np.concatenate([split.train, split.test]))
    result = {
        "applies": True, "source": source_of(outcome.task),
        "noun": PATIENTS if patients else noun,
        "as_patients": as_patients(modality, samples),
        "unit_note": unit_note(modality, samples), "n": len(chosen), "n_train": n_train,
        "n_test": n_test, **patients, "n_base_trained": int(split.seen[chosen].sum()),
        "n_kept_out": int(split.base_test[neither].sum()),  # the rest of neither: copies
        "no_test": split.why_no_test, **outcome.to_dict(), **refused,
    }  # fmt: skip
    source_notes = (base.training.get("test_metrics") or {}).get("notes") or {}
    result["flat_at_source"] = FLAT_SCORES in source_notes  # stalled there too, or only here
    result["development"] = _development(params, outcome, criteria_count(result, "n_train"))
    result.update(_uncertain_prevalence(outcome, result["development"],
                                        modality.classes(base.schema)))  # fmt: skip
    result["validation"] = _validation(base, outcome, risk, criteria_count(result, "n_test"))
    _mark_unreported(result["validation"], samples.subset(split.test),
                     modality.classes(base.schema), result["noun"])  # fmt: skip
    return {**result, "reading": ADAPTED_READING, "in_short": in_short(result)}


def _unread(modality: Any, base: BaseModel, target: Any) -> dict[str, Any]:
    """The columns the model does not read, and those that copy the label, as ``adapt``
    names them (a trial's check-data said nothing of a label copy and a comments column left
    in the file); names only. Read after the data's refusals: its encoding would refuse a
    label value first, in the Python API's words."""
    extras = modality.evaluation_extras(base.schema, target)
    return {"unread_columns": list(extras.get("unread_columns") or []),
            "unread_copies": dict(extras.get("unread_copies") or {})}  # fmt: skip


def _prevalence_against_base(modality: Any, base: Any, target: Any, where: str) -> str | None:
    """A yes/no outcome's prevalence in ``target`` far from that of the rows the base model
    trained on (its recorded class counts): ``study`` warned of it on a trial's clinic
    (42% against 58%) where ``check-data`` said nothing. None otherwise."""
    from medadapt.evaluate.sufficiency import prevalence_shift_words

    counts = (base.training or {}).get("label_counts")
    classes = modality.classes(base.schema)
    if modality.task(base.schema) != "binary" or not isinstance(counts, dict) or not len(target):
        return None
    total = sum(counts.values())
    labels = np.asarray(target.labels, dtype=float)
    labels = labels[np.isfinite(labels)]
    if not total or not len(labels):
        return None
    trained = counts.get(classes[1], 0) / total
    return prevalence_shift_words(trained, float(labels.mean()), "where the base model trained",
                                  f"at {where}", "here")  # fmt: skip


def flags_to_check(where: str, group: str | None, outcome: str, *, noun: str = "rows",
                   columns: bool = True) -> str:  # fmt: skip
    """The flags that choose the patients, and what reads the outcome (``outcome``: the
    modality's :meth:`~medadapt.modalities.base.Modality.outcome_words`, an image folder's
    class folders), where the criteria do not apply to them (one class only, an outcome that
    does not vary). ``columns``: whether ``--data`` has columns to choose a group by (a
    folder has none); ``noun``: what its samples are called."""
    if group:
        return f"check --group (the patients of {where}) and {outcome}"
    if not columns:
        return f"check {outcome}"
    return (f"check --group-column and --group (every {noun.removesuffix('s')} of --data was "
            f"read) and {outcome}")  # fmt: skip


def _mark_unreported(checked: dict[str, Any], test: Any, classes: list[str], noun: str) -> None:
    """Mark the validation criteria whose estimate ``evaluate`` will not report at all on the
    ``test`` samples adapt holds out (``reported``: False), and say why (``not_reported``):
    no figure from fewer than :data:`~medadapt.evaluate.metrics.MIN_PATIENTS` patients, no
    AUROC or calibration slope with fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` of a class. A precise estimate is then
    beside the point: there will be none to read an interval of."""
    if len(test) == 0:
        return
    clusters = cluster_index(test.known_patients(), len(test))
    everyone = count_units(np.ones(len(test), dtype=bool), clusters)
    held = f"the test split holds {plural(everyone, noun.removesuffix('s'))}"
    if everyone < MIN_PATIENTS:  # said where no criterion is computed too (a measured outcome)
        withheld = {"O/E", "slope", "C"}
        why = f"{held}, and evaluate reports no figure from fewer than {MIN_PATIENTS}"
    elif not checked["criteria"]:
        if len(classes) > 2:  # no criteria for several classes, but the same rule of 5
            _mark_unreported_classes(checked, test, clusters, classes, held)
        return
    else:
        rarest, count = _rarest_tested(test, clusters, 2, last_on_ties=True)
        if count >= MIN_PER_CLASS:
            return
        withheld = {"slope", "C"}
        name = classes[rarest] if rarest < len(classes) else str(rarest)
        why = (f"{held}, {count} of class {name!r}, and evaluate reports no AUROC or "
               f"calibration slope with fewer than {MIN_PER_CLASS} of a class")  # fmt: skip
    for criterion in checked["criteria"]:
        criterion["reported"] = criterion["name"] not in withheld
    checked["not_reported"] = why


def _mark_unreported_classes(checked: dict[str, Any], test: Any, clusters: Any,
                             classes: list[str], held: str) -> None:  # fmt: skip
    """Several classes: where a class has fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` test patients, evaluate reports no AUROC
    or balanced accuracy (a trial learnt it only after training: "n/a ... 3 patients of class
    '4' among 60", check-data having said nothing of it)."""
    rarest, count = _rarest_tested(test, clusters, len(classes))
    if count >= MIN_PER_CLASS:
        return
    checked["not_reported"] = (
        f"{held}, {count} of class {classes[rarest]!r}, and evaluate reports no "
        f"AUROC or balanced accuracy with fewer than {MIN_PER_CLASS} of a class"
    )
    checked["not_reported_metrics"] = "the AUROC or the balanced accuracy"


def _rarest_tested(test: Any, clusters: Any, n_classes: int, *,
                   last_on_ties: bool = False) -> tuple[int, int]:  # fmt: skip
    """The class of fewest test patients among ``n_classes`` and how many it has (ties: the
    first class, or the last with ``last_on_ties``: a binary outcome's positive class)."""
    labels = np.asarray(test.labels).astype(int)
    per_class = [count_units(labels == c, clusters) for c in range(n_classes)]
    rarest = min(range(n_classes), key=lambda c: (per_class[c], -c if last_on_ties else c))
    return rarest, per_class[rarest]


def _what_adapt_refuses(modality: Any, base: BaseModel, rows: Any, options: Any, where: str):
    """What ``adapt`` would say of the rows it trains and tests on (a base feature that alone
    predicts the label): ``adapt_refuses`` (its error, or None) and ``warnings`` (leaks kept
    with the base's ``--allow-leak``). Counted, not raised: check-data reports every finding."""
    try:
        warnings = modality.check_training_rows(base.schema, rows, options, where)
    except DataError as refusal:
        return {"adapt_refuses": str(refusal), "warnings": []}
    return {"adapt_refuses": None, "warnings": list(warnings)}


def in_short(result: dict[str, Any]) -> list[str]:
    """The check in plain words, for a clinician: can the site adapt the model without
    fooling itself, and can it check the result?"""
    noun, development = result["noun"], result["development"]
    met = [label(s) for s, entry in development.items() if entry["met"]]
    least, entry = min(development.items(), key=lambda item: item[1]["n"])
    trained = counted_text(result, "n_train", noun, grouped=False)
    if result.get("as_patients"):  # rows that name no patient: said once, with the first count
        trained += f" ({result['as_patients']})"
    if met:  # necessary, not sufficient: ADAPTED_READING, printed with it, says so
        adapt = f"{trained} to adapt on are enough, by these criteria, for the {', '.join(met)}."
    else:
        tests = criteria_count(result, "n_test")
        study = ("'medadapt study' shows how far the data carry it." if tests >= MIN_PATIENTS
                 else f"'medadapt study' and evaluate need {MIN_PATIENTS} held-out {noun} to "
                 f"measure anything ({tests} here): collect more first.")  # fmt: skip
        adapt = (f"{trained} to adapt on are fewer than any strategy needs "
                 f"(the least, the {label(least)} ('adapt --method {method_of(least)}'), needs "
                 f"{needed_text(entry['n'])}): an adapter can still be trained, but expect it "
                 f"to fit these {noun} better than new ones; {study}")  # fmt: skip
        adapt += _weak_pair_words(result) or _per_parameter_words(result, least, entry)
    return [
        *_separated_words(result),
        adapt,
        *_check_words(result),
        *_flat_risks(result["validation"], noun),
    ]


def _per_parameter_words(result: dict[str, Any], strategy: str, entry: dict[str, Any]) -> str:
    """Why a plan asks ten times the patients there are or more, where the criterion that
    binds asks a fixed number per trained parameter (a trial read "needs 4,496" for 140
    patients without a word of why); that the base predicts the outcome weakly only where it
    does (an anticipated R-squared under :data:`WEAK_SHARE` of the largest the outcome
    allows), never of a base of AUROC 0.94 whose criterion (ii) binds."""
    binds, r2 = entry.get("binding"), result.get("r2")
    if (
        binds not in ("i", "ii")
        or r2 is None
        or entry["n"] < 10 * criteria_count(result, "n_train")
    ):
        return ""
    per = entry["n"] / max(entry["parameters"], 1)
    asks = (f"asks about {per:,.0f} {result['noun']} for each parameter trained "
            f"({entry['parameters']:,} for the {label(strategy)})")  # fmt: skip
    prevalence = result.get("prevalence")
    largest = max_cox_snell(prevalence) if result.get("task") == "binary" and prevalence else 1.0
    if r2 >= WEAK_SHARE * largest:
        return f" So many, because criterion ({binds}) {asks}."
    if result.get("r2_basis") == BASIS_DEFAULT and result.get("separated_at_site"):
        return (  # a trial read "a base model measured to predict better asks fewer" of a
            # base that had told the site's patients apart perfectly
            f" So many, because a perfect AUROC here gives no R-squared to plan on (it implies "
            f"none finite), so the conservative default ({result['r2_label']} {r2_text(r2)}) "
            f"stands in for it, and criterion ({binds}) then {asks}."
        )
    if result.get("r2_basis") == BASIS_PAIRS:  # several classes (a trial's check-data said a
        return _pairs_words(result, binds, asks)  # base of AUROC 0.926 "predicts only weakly")
    if result.get("r2_basis") == BASIS_DEFAULT:  # nothing measured: not "predicts weakly"
        return (
            f" So many, because, with no R-squared to plan on from the base model here, the "
            f"conservative default ({result['r2_label']} {r2_text(r2)}) stands in for it, and "
            f"criterion ({binds}) then {asks}; a base model measured to predict better asks "
            "fewer."
        )
    return (
        f" So many, because the base model predicts the outcome here only weakly (anticipated "
        f"{result['r2_label']} {r2_text(r2)}), and criterion ({binds}) then {asks}; a model "
        "that predicts better asks fewer."
    )


def _pairs_words(result: dict[str, Any], binds: str, asks: str) -> str:
    """Why a plan of several classes asks so many: criterion (i) is planned for each pair of
    classes on the base model's pairwise AUROC at the site (the weakest pair named), (ii) on
    the conservative default overall R-squared (none is measured for several classes)."""
    if binds == "i":
        pair = result.get("weakest_pair") or {}
        names, auroc = pair.get("classes") or [], pair.get("auroc")
        weakest = (f" (the weakest pair, {names[0]!r} and {names[1]!r}, {auroc:.3f})"
                   if len(names) == 2 and auroc is not None else "")  # fmt: skip
        return (f" So many, because criterion (i), planned for each pair of classes on the "
                f"base model's pairwise AUROC here{weakest}, {asks}.")  # fmt: skip
    return (f" So many, because for several classes no overall R-squared is measured: the "
            f"conservative default ({result['r2_label']} {r2_text(result['r2'])}) stands in "
            f"for it, and criterion ({binds}) then {asks}.")  # fmt: skip


#: an anticipated R-squared below this share of the largest the outcome allows (Nagelkerke's
#: scale) is said to be a weak prediction
WEAK_SHARE = 0.3


def _weak_pair_words(result: dict[str, Any]) -> str:
    """Why a multiclass plan asks so many, where the pair of classes criterion (i) rests on is
    one the base barely tells apart at the site (planned as :data:`WEAKEST_PLANNED`), and what
    asks fewer: a trial's plan said only "a million or more", for every strategy."""
    pair = result.get("weakest_pair") or {}
    auroc, names = pair.get("auroc"), pair.get("classes") or []
    if auroc is None or auroc >= WEAKEST_PLANNED or len(names) != 2:
        return ""
    how = "ranks classes" if auroc < 0.5 else "barely tells classes"
    apart = "backwards" if auroc < 0.5 else "apart"  # below chance: no "barely" (a trial)
    return (
        f" So many, because the base model {how} {names[0]!r} and {names[1]!r} {apart} "
        f"here (pairwise AUROC {auroc:.3f}, planned as "
        f"{WEAKEST_PLANNED:g}), and criterion (i) asks this for such a pair; fewer classes "
        "(classes merged, or a binary outcome: train-base --positive-above) ask far fewer."
    )


def _retrain_with(unit: str) -> str:
    """How a stalled base is retrained: images take ``--lr`` and ``--epochs``; a table's
    base takes ``--epochs`` (its learning rate only in the Python API's training settings).

    >>> _retrain_with("image")
    'a lower --lr, more --epochs'
    >>> _retrain_with("patient")  # doctest: +NORMALIZE_WHITESPACE
    "more --epochs (a lower learning rate: the Python API's TrainConfig(lr=...))"
    """
    return "a lower --lr, more --epochs" if unit == "image" else (
        "more --epochs (a lower learning rate: the Python API's TrainConfig(lr=...))")  # fmt: skip


def _separated_words(result: dict[str, Any]) -> list[str]:
    """Where the base already tells the site's patients apart perfectly: an adapter may add
    nothing, and a perfect result is more often a leak than a model (a trial's check-data on
    such a site planned an adapter's thousands of patients without a word of it)."""
    seen = result.get("separated_at_site")
    if not seen:
        return []
    images = "images" in (result["noun"], result.get("unit"))  # images of named patients too
    unit = "image" if images else "patient"
    if result.get("stalled_at_site"):  # a ranking on the fifth decimal: no skill to keep
        flat = (f"The base model ranks the {seen} of this site it never saw perfectly (AUROC "
                f"1.000), but on probabilities that barely differ (the middle 90% between "
                f"{result['stalled_at_site']})")  # fmt: skip
        if result.get("flat_at_source") is False:  # its own test was not flat: this site is
            return [f"{flat}, where its own test's did differ: these {unit}s are unlike those "
                    "it trained on (see the warnings above), so its ranking here is no skill "
                    f"to keep, and adapting it to them is the step to take; 'medadapt "
                    f"evaluate' it on these {unit}s to see its calls."]  # fmt: skip
        return [f"{flat}: a stalled model's ranking, not skill, and its figures here say "
                f"nothing. 'medadapt evaluate' it on these {unit}s, and retrain it "
                f"({_retrain_with(unit)}) before adapting it."]  # fmt: skip
    leak = f"Check first for a leak ({leak_examples(unit)})"
    missed = [c for c in result.get("calls_at_site") or () if c["called"] <= c["of"] / 2]
    if missed:  # ranked perfectly, yet called wrongly at the threshold: risks to mend
        calls = ", ".join(f"{c['called']} of the {c['of']} of class {c['class']} correctly"
                          for c in missed)  # fmt: skip
        return [f"The base model already ranks the {seen} of this site it never saw "
                f"perfectly (AUROC 1.000), but at threshold 0.5 it calls {calls}: an adapter "
                "may mend its risks (where the threshold falls, calibration), not its "
                f"ranking. {leak}, then 'medadapt evaluate' the base model on these "
                f"{unit}s before adapting it."]  # fmt: skip
    return [f"The base model already tells the {seen} of this site it never saw apart "
            f"perfectly (AUROC 1.000): an adapter may add nothing here. {leak}, then "
            f"'medadapt evaluate' the base model on these {unit}s before adapting it."]  # fmt: skip


def _check_words(result: dict[str, Any]) -> list[str]:
    """Whether the test patients can check the adapted model: enough for precise estimates,
    too few for precise ones (read their intervals), or too few for evaluate to report them
    at all (then no interval is there to read)."""
    checked = result["validation"]["criteria"]
    tested = counted_text(result, "n_test", result["noun"])
    if not checked:
        unreported = result["validation"].get("not_reported")
        said = (f"How many test {result['noun']} a precise check needs is not computed for "
                "this outcome.")  # fmt: skip
        what = result["validation"].get("not_reported_metrics", "any figure at all")
        if unreported:  # a trial's 9 test rows of a measured outcome went unsaid
            return [f"{tested} to test it are too few for evaluate to report {what} "
                    f"({unreported}). {said}"]  # fmt: skip
        return [said]
    withheld = [c for c in checked if c.get("reported") is False]
    short = [f"{estimate_name(c['name'])} ({needed_text(c['n'])} needed)"
             for c in checked if not c["supported"] and c.get("reported", True)]  # fmt: skip
    said = []
    if withheld:
        names = listed(estimate_name(c["name"]) for c in withheld)
        needs = listed(needed_text(c["n"]) for c in withheld)
        said.append(f"{tested} to test it are too few for evaluate to report the {names} at "
                    f"all ({result['validation']['not_reported']}): precise estimates would "
                    f"need {needs}.")  # fmt: skip
    if short:
        start = "They are also too few" if withheld else f"{tested} to test it are too few"
        said.append(f"{start} for a precise {listed(short)}; read the intervals of those "
                    "estimates, not the single values.")  # fmt: skip
    return said or [f"{tested} to test it are enough for precise estimates."]


def _flat_risks(validation: dict[str, Any], noun: str) -> list[str]:
    """Why a criterion needs a million samples or more: the anticipated risks hardly vary."""
    huge = [c for c in validation["criteria"] if c["n"] >= MILLION]
    if not huge:
        return []
    names = listed(estimate_name(c["name"]) for c in huge)
    it = "them" if len(huge) > 1 else "it"
    return [f"The {names} would need a million test {noun} or more because the risks of a "
            f"model with the anticipated C-statistic ({validation['c_statistic']:.2f}) at this "
            f"prevalence hardly vary (SD of their log-odds {validation['lp_sd']:.2g}): no "
            f"realistic test set estimates {it} precisely until the model ranks the patients "
            "better (an adapter trained here may change that)."]  # fmt: skip


_ESTIMATES = {**VALIDATION_WORDS, "C": "C-statistic (AUROC)"}  # the C-statistic glossed


def estimate_name(key: str) -> str:
    """A validation estimate in words, from its recorded key (``"C (assumed 0.7)"``, as a
    study records it, -> ``"C-statistic (AUROC)"``)."""
    return next((words for k, words in _ESTIMATES.items() if key.split(" ")[0] == k), key)


UNIT_NOTE = {"images": (
    "the criteria count patients: with several images of one patient, the images are not "
    "independent, so compare the numbers with the patients behind the images")}  # fmt: skip
ROWS_NOTE = (
    "the criteria count patients: the base names no patient column, so each row is taken as "
    "one patient; a patient with several rows is counted several times (train the base with "
    "--id-column to count patients)"
)


def unit_note(modality: Any, samples: Any) -> str | None:
    """What check-data notes of what its counts count: images (:data:`UNIT_NOTE`), or rows
    that name no patient (:data:`ROWS_NOTE`)."""
    return ROWS_NOTE if rows_as_patients(modality, samples) else UNIT_NOTE.get(modality.noun)


def _development(params: dict[str, int], outcome: Outcome, available: int) -> dict:
    out = {}
    for strategy, p in params.items():
        criteria = outcome.criteria(p)
        final = binding(criteria)
        out[strategy] = {"parameters": p, "criteria": [c.to_dict() for c in criteria],
                         "binding": final.name, "n": final.n,
                         "met": available >= final.n}  # fmt: skip
    return out


def _uncertain_prevalence(outcome: Outcome, development: dict[str, Any],
                          classes: list[str]) -> dict[str, Any]:  # fmt: skip
    """Where a binary outcome's prevalence rests on few patients of a class
    (:meth:`~medadapt.evaluate.samplesize_outcomes.Outcome.few_events`: fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS`, as the warning that names the class),
    the needs over its 95% Wilson interval: each strategy's ``n_range`` in ``development``
    (the lowest and the highest n of its binding criterion at :func:`prevalence_grid`'s
    prevalences, planned from the same AUROC or default) and ``{"prevalence_interval": ...}``
    (the interval and the counts it rests on); ``{}`` otherwise. Every criterion is driven by
    the prevalence, and 3 events in 200 put it anywhere from 0.005 to 0.043."""
    if not outcome.few_events():
        return {}
    low, high = outcome.prevalence_ci()
    planned = [outcome.at_prevalence(p) for p in prevalence_grid(
        low, high, outcome.figures["prevalence"])]  # fmt: skip
    for entry in development.values():
        needs = [binding(at.criteria(entry["parameters"])).n for at in planned]
        entry["n_range"] = [min(needs), max(needs)]
    rare = min((0, 1), key=lambda c: (outcome.counts[c], -c))
    return {"prevalence_interval": {
        "low": low, "high": high, "method": "Wilson 95%", "rare_class": _class_named(classes, rare),
        "rare_count": outcome.counts[rare], "n": sum(outcome.counts)}}  # fmt: skip


GRID_POINTS = 41
"""How many evenly spaced prevalences :func:`prevalence_grid` reads an interval at."""


def prevalence_grid(low: float, high: float, estimate: float) -> np.ndarray:
    """:data:`GRID_POINTS` prevalences from ``low`` to ``high``, ends included, and the point
    ``estimate``, in order. The needs are not monotone in the prevalence (criterion iii's need
    peaks at 0.5, the anticipated R-squared varies with it), so the ends alone do not bracket
    them: 4 of 8 patients ask a head on 65 features 5,696 at both ends, 4,868 at 0.5.

    >>> grid = prevalence_grid(0.1, 0.3, 0.123)
    >>> len(grid), 0.123 in grid, grid[[0, -1]].tolist()
    (42, True, [0.1, 0.3])
    """
    return np.unique(np.append(np.linspace(low, high, GRID_POINTS), estimate))


def _class_named(classes: list[str], index: int) -> str:
    return classes[index] if index < len(classes) else str(index)


def uncertain_prevalence_line(result: dict[str, Any]) -> str | None:
    """``check-data``'s one line on a prevalence read from few patients of a class: the
    interval, and the range of each strategy's need over it (None where the prevalence is
    not so)."""
    interval = result.get("prevalence_interval")
    if interval is None:
        return None
    needs = [f"the {label(s)} {_span(e['n_range'])}" if i else
             f"the {label(s)} needs {_span(e['n_range'])} {result['noun']}"
             for i, (s, e) in enumerate(result["development"].items())]  # fmt: skip
    rare = plural(interval["rare_count"], result["noun"][:-1])  # "1 row", not "1 rows"
    return (f"the prevalence {result['prevalence']:.3f} rests on {rare} "
            f"of class {interval['rare_class']!r} among {interval['n']:,}: over "
            f"its 95% interval, {interval['low']:.3f} to {interval['high']:.3f}, "
            f"{listed(needs)}")  # fmt: skip


def _span(needs: list[int]) -> str:
    """``"1,234 to 5,678"``, the lowest and the highest need (an ``n_range``); one figure
    where both read the same (equal, or a million or more)."""
    low, high = (needed_text(n) for n in needs)
    return low if low == high else f"{low} to {high}"


def _scores(modality: Any, base: BaseModel, samples: Any) -> np.ndarray:
    """The base's scores per sample: P(outcome) (binary), class probabilities, or values."""
    scores = predict(modality, base.model, base.schema, samples)
    return np.asarray(modality.task_scores(base.schema, scores), dtype=float)


def _validation(base: BaseModel, outcome: Outcome, risk: np.ndarray | None,
                n_test: int) -> dict[str, Any]:  # fmt: skip
    """Riley et al. 2021's criteria (binary outcomes) for ``risk``, the base's on the target's
    patients it never saw (None: none). The anticipated C-statistic is the lower of the
    base's AUROC on the source and here (:func:`_lower_auroc`), within :data:`C_RANGE`; the
    linear predictor's distribution is the one that agrees with it and the prevalence
    (:func:`~medadapt.evaluate.samplesize.lp_distribution`), as Riley et al. require: the
    base's own log-odds here imply another prevalence and C-statistic (on the heart data at
    VA Long Beach, 0.696 and 0.788 against 0.745 and 0.726), and asked 2,305 patients for the
    calibration slope where a consistent distribution asks about 3,660."""
    if outcome.task != "binary":
        return {"criteria": [], "why": VALIDATION_NOT_COMPUTED}
    if risk is None:
        return {"criteria": [], "why": "the base model trained on every patient here"}
    prevalence, anticipated = outcome.figures["prevalence"], _lower_auroc(base, outcome)
    source = (base.training.get("test_metrics") or {}).get("auroc")
    used = min(max(anticipated, C_RANGE[0]), C_RANGE[1])
    lp_mean, lp_sd = lp_distribution(prevalence, used)
    criteria = validation(prevalence=prevalence, c_statistic=used, lp_mean=lp_mean,
                          lp_sd=lp_sd)  # fmt: skip
    perfect = bool(outcome.figures.get("separated_at_site"))
    out = {
        "lp_mean": lp_mean, "lp_sd": lp_sd, "lp_from": LP_FROM.format(p=prevalence),
        "c_statistic": used, "c_statistic_anticipated": anticipated,
        "c_statistic_from": _c_statistic_from(anticipated, source, _planned_here(outcome),
                                              perfect=perfect),
        "criteria": [{**c.to_dict(), "supported": n_test >= c.n} for c in criteria],
    }  # fmt: skip
    if used != anticipated:
        out["c_statistic_clipped"] = _clipped_words(anticipated, used)
    return out


C_RANGE = (WEAKEST_PLANNED, 0.95)
"""The C-statistics the validation criteria are computed for: an anticipated one outside is
taken at the nearer end (and the entry says so)."""
LP_FROM = (
    "derived from the prevalence {p:.3f} and that C-statistic: the normal log-odds of a "
    "calibrated model with both (Riley et al. 2021's consistency condition; pmvalsampsize's "
    "lpcstat), not the base model's own log-odds here"
)


def _clipped_words(anticipated: float, used: float) -> str:
    """Why the validation criteria use a C-statistic other than the anticipated one."""
    if used > anticipated:
        return (f"the anticipated C-statistic {anticipated:.3f} is taken as {used:g}, the lowest "
                "the criteria are computed for: nearer 0.5 a model barely ranks the patients, "
                "and no realistic test set estimates its calibration slope")  # fmt: skip
    return (f"the anticipated C-statistic {anticipated:.3f} is taken as {used:g}, the highest "
            "the criteria are computed for: a discrimination above it is seldom kept at a new "
            "site, and would ask fewer test patients than a cautious plan should")  # fmt: skip


VALIDATION_NOT_COMPUTED = (
    "the external-validation criteria implemented are Riley et al. 2021's for binary outcomes; "
    "for continuous (Archer et al. 2021) and multiclass outcomes they are not computed here"
)


def _lower_auroc(base: BaseModel, outcome: Outcome) -> float:
    """The C-statistic the validation criteria assume: the lower of the source's and this
    site's, as measured (a weak one too: it asks more test patients, as it should); where the
    site gives none to plan on (too few patients), a cautious :data:`CAUTIOUS_C` takes its
    place: fewer patients never assume a better model than the source's."""
    source = (base.training.get("test_metrics") or {}).get("auroc")
    here = _planned_here(outcome)
    return min(a for a in (source, CAUTIOUS_C if here is None else here) if a is not None)


def _planned_here(outcome: Outcome) -> float | None:
    """The base's AUROC at the site to plan on: None where there is none, or it is perfect
    (no test set is planned on a perfect ranking)."""
    if outcome.figures.get("separated_at_site"):
        return None
    return outcome.figures.get("auroc_at_site")


def _c_statistic_from(
    anticipated: float, source: float | None, here: float | None, *, perfect: bool = False
) -> str:
    """Where the anticipated C-statistic comes from, only the reason that applies (a trial's
    read "0.7 standing for this site's where it gives none" beside the site's own 0.997);
    ``perfect``: the site's was a perfect 1.000, said so (a trial read "which gives none"
    two lines after "tells them apart perfectly (AUROC 1.000)").

    >>> _c_statistic_from(0.726, 0.94, 0.726)
    "the base model's AUROC at this site, 0.726, lower than its 0.940 on its source"
    >>> _c_statistic_from(0.8001, 0.8004, 0.8001)
    "the base model's AUROC at this site, 0.800, the same as on its source"
    >>> _c_statistic_from(0.7, 0.994, None)
    "a cautious value standing for the base model's AUROC at this site, which gives none to \
plan on; lower than its 0.994 on its source"
    >>> _c_statistic_from(0.7, None, None, perfect=True)
    "a cautious value standing for the base model's AUROC at this site, whose perfect 1.000 is \
no figure to plan a test set on"
    """
    at_site, on_source = (
        "the base model's AUROC at this site",
        "the base model's AUROC on its source",
    )
    if here is None:
        none = ("whose perfect 1.000 is no figure to plan a test set on" if perfect
                else "which gives none to plan on")  # fmt: skip
        said = f"a cautious value standing for {at_site}, {none}"  # (its figure said before:
        # a trial read "C-statistic (AUROC) 0.700 (from 0.7, standing for ...")
        if source is None:
            return said
        if anticipated == source:
            return (f"{on_source}, {source:.3f}, lower than the {CAUTIOUS_C:g} standing for this "
                    f"site's, {none}")  # fmt: skip
        return f"{said}; lower than its {source:.3f} on its source"
    if source is None:
        return f"{at_site}, {here:.3f}"
    if f"{here:.3f}" == f"{source:.3f}":  # (a review: "0.800, lower than its 0.800")
        return f"{at_site}, {here:.3f}, the same as on its source"
    if anticipated == here:
        return f"{at_site}, {here:.3f}, lower than its {source:.3f} on its source"
    return f"{on_source}, {source:.3f}, lower than its {here:.3f} at this site"


def adapter_sample_size(modality: Any, base: BaseModel, parameters: int, train: Any,
                        test: Any, unseen: Any, *,
                        intercepts: int = 0) -> dict[str, Any] | None:  # fmt: skip
    """What ``adapt`` records and prints: the development criteria for this adapter read as
    a new model with ``parameters`` (Riley et al.'s ``p``: those it trains, the ``intercepts``
    of its output layer aside, :func:`predictor_parameters`), and (binary outcomes) whether
    its test samples support precise O/E, calibration slope and C-statistic; None when the
    criteria do not apply (one class only, no test samples). The base is scored on ``unseen``
    (its training and test samples the base never trained on), as ``check-data`` does."""
    if not parameters or len(test) == 0:
        return None
    labels = np.concatenate([np.asarray(train.labels), np.asarray(test.labels)])
    risk = _scores(modality, base, unseen)
    counts = training_counts(modality, train, n_test=test)
    patients = "n_train_patients" in counts
    outcome = planned_outcome(modality, base, labels, counts, (np.asarray(unseen.labels), risk),
                              patients=unseen.known_patients(),
                              label_patients=patients_of(train, test))  # fmt: skip
    if isinstance(outcome, str):
        return None
    validated = _validation(base, outcome, risk, criteria_count(counts, "n_test"))
    _mark_unreported(
        validated, test, modality.classes(base.schema), PATIENTS if patients else modality.noun
    )  # as count_units counts them
    checked = validated["criteria"]
    unreported = {"not_reported": validated["not_reported"]} if "not_reported" in validated else {}
    return {
        **development_entry(outcome, parameters, intercepts, counts),
        "test_supports": {c["name"]: c["supported"] for c in checked},
        "test_reported": {c["name"]: c.get("reported", True) for c in checked},
        "test_needs": {c["name"]: c["n"] for c in checked},
        **unreported,
    }


def sample_size_line(entry: dict[str, Any], noun: str = "patients") -> str:
    """The sentence the report and the card hold about it (``noun``: what the samples are
    called; where the entry records patients, the needs are in patients and the samples are
    counted both ways); ``adapt``'s terminal says it shorter (:func:`sample_size_lines`)."""
    noun, trained = trained_words(entry, noun)
    line = (
        f"sample size ({cited(entry)}): its {parameters_text(entry)} would need "
        f"{needed_text(entry['n_needed'])} {noun} (criterion {entry['criterion']}); {trained} "
        f"trained it: {'met' if entry['met'] else 'not met'}; {ADAPTED_READING}"
    )
    test = _test_words(entry, noun)
    if test is None:
        return line
    return (f"{line}; precise estimates of {test.named} at this site need {test.counts} test "
            f"{noun}{test.respectively}: the {test.here} here are enough for {test.told}"
            f"{test.unreported}")  # fmt: skip


def sample_size_lines(entry: dict[str, Any], noun: str = "patients") -> list[str]:
    """What ``adapt`` prints about it: the training criterion, then the test set, each a
    line of its own, and the reading of the criteria for an adapter in a few words (the
    report and the card say it whole, :func:`sample_size_line`): a trial read the one line of
    six terminal lines as a paragraph, and its "a million or more" as absurd.

    (``tests/cli/test_terminal_wording.py`` has examples.)
    """
    lines = [development_line(entry, noun)]
    noun = trained_words(entry, noun)[0]
    test = _test_words(entry, noun)
    if test is not None:
        of = ""
        if not test.enough:
            enough = f"too few for precise estimates of the {test.named}"
        elif test.every:
            enough = f"enough for precise estimates of the {test.named}"
        else:  # which it is enough for, and all it would take for every one
            enough, of = (
                f"enough for precise estimates of the {test.told}",
                f" for the {test.named}",
            )
        lines.append(f"test set: the {test.here} here are {enough} ({test.counts} test {noun} "
                     f"needed{of}{test.respectively}){test.unreported}")  # fmt: skip
    return lines


@dataclass(frozen=True)
class _TestWords:
    """What a test set supports, in words: the estimates ``named`` (listed), the ``counts``
    they need, the test samples ``here``, those it is ``enough`` for (some, all or none of
    ``named``), and what ``unreported`` adds of those too few to be reported at all."""

    named: str
    counts: str
    respectively: str
    here: str
    enough: list[str]
    every: bool
    unreported: str

    @property
    def told(self) -> str:
        """``none of them``, ``all of them`` or ``'...' only``."""
        if not self.enough:
            return "none of them"
        return "all of them" if self.every else f"{listed(self.enough)} only"


def _test_words(entry: dict[str, Any], noun: str) -> _TestWords | None:
    """What the test set of ``entry`` supports (None where nothing was judged)."""
    if not entry["test_needs"]:
        return None
    needs, supports = entry["test_needs"], entry["test_supports"]
    reported = entry.get("test_reported", {})
    named = [VALIDATION_WORDS.get(k, k) for k in needs]
    withheld = [VALIDATION_WORDS.get(k, k) for k in needs if reported.get(k) is False]
    enough = [VALIDATION_WORDS.get(k, k) for k in needs
              if supports.get(k) and reported.get(k) is not False]  # fmt: skip
    counts = listed(needed_text(v) for v in needs.values())
    respectively = " respectively" if len(needs) > 1 else ""
    here = f"{entry['n_test']:,}"
    if "n_train_patients" in entry:
        here = f"{entry['n_test_patients']:,} {PATIENTS} ({entry['n_test']:,} {entry['unit']})"
    unreported = (f"; too few for evaluate to report the {listed(withheld)} at all "
                  f"({entry['not_reported']})" if withheld else "")  # fmt: skip
    return _TestWords(listed(named), counts, respectively, here, enough,
                      len(enough) == len(needs), unreported)  # fmt: skip


def study_sample_size_line(entry: dict[str, Any], noun: str = "patients") -> str:
    """The one line ``study`` prints about it: each strategy's minimum by the criteria."""
    needs = "; ".join(
        f"{label(s)} {needed_text(e['n_needed'])}" for s, e in entry["strategies"].items()
    )
    r2 = entry.get("r2_basis") or (BASIS_HERE if entry.get("from_base") else BASIS_DEFAULT)
    if not entry["strategies"]:  # --methods base_only: a trial's line read "minimum patients ;"
        return (f"sample size ({cited(entry)}, {r2}): no strategy this study runs trains on the "
                "target (--methods), so no training minimum applies")  # fmt: skip
    noun = PATIENTS if "n_train_patients" in entry else noun
    has = counted_text(entry, "n_train")
    if entry.get("as_patients"):
        has += f" rows ({entry['as_patients']})"
    line = f"sample size ({cited(entry)}, {r2}): minimum {noun} {needs}; the target has {has}"
    line += " to train"
    return f"{line}{_anticipated(entry)}; {ADAPTED_READING}"


def _anticipated(entry: dict[str, Any]) -> str:
    """What the study line says of the anticipated R-squared, where it is no base's here."""
    if entry.get("from_base"):
        return ""
    if entry.get("no_site_auroc") or entry.get("no_site_r2"):  # scored, nothing to plan on
        return f"; anticipated {entry['r2_label']} {r2_text(entry['r2'])}, {entry['r2_source']}"
    assumed = RILEY_DEFAULT
    if entry.get("task") == "regression":  # Riley et al. give a default for binary outcomes only
        assumed = MEASURED_DEFAULT.format(r2=entry["r2"])
    why = UNSCORED_BASE_WHY if entry.get("base_given") else CONSERVATIVE_WHY
    return f"; {why.replace(RILEY_DEFAULT, assumed)}"


RILEY_DEFAULT = "Riley et al.'s cautious default R-squared is assumed"
#: a measured outcome's assumed R-squared (``sample_size_outcomes.CONTINUOUS_DEFAULT``): medadapt's
#: own choice, as Riley et al. publish a default for binary outcomes only
MEASURED_DEFAULT = (
    "an R-squared of {r2:g} is assumed (medadapt's cautious choice: Riley et al. give a default "
    "for binary outcomes only)"
)
#: why a study that trains its own base asks more than ``check-data --base`` (found confusing:
#: 4,880 against 972 for the same head-only adapter); built on :data:`RILEY_DEFAULT`, which a
#: measured outcome's line replaces
CONSERVATIVE_WHY = (
    f"the base this study trains is not scored yet, so {RILEY_DEFAULT}; check-data --base, from "
    "a trained base's own scores at the target, may ask fewer (or more, where the base ranks "
    "the target poorly)"
)
#: the same for a study given a base (``--base``) that no target sample it never saw could score
UNSCORED_BASE_WHY = (
    f"the base given has no target samples it never saw to be scored on, so {RILEY_DEFAULT}"
)


def study_sample_size(modality: Any, schema: Any, parameters: dict[str, int], train: Any,
                      test: Any, *, base: BaseModel | None = None, unseen: Any = None,
                      labels: Any = None,
                      label_patients: Any = None) -> dict[str, Any] | None:  # fmt: skip
    """For ``study``: each strategy's development criteria for its ``parameters`` (Riley et
    al.'s ``p``, the output layer's intercepts aside: ``parameter_counts(...,
    predictors=True)``), and (binary outcomes) how many test samples precise validation
    estimates need; None when they do not apply. A study that
    trains its own base knows neither its R-squared nor its C-statistic yet: the conservative
    default R-squared and the cautious C of 0.7 ``check-data`` assumes are taken. With a given
    ``base``, they come from its scores on ``unseen`` (the target's samples it never saw), as
    ``check-data`` and ``adapt`` compute them, and the calibration slope is checked too.
    ``labels``: every target sample's (the outcome as ``check-data`` reads it; by default the
    training and test samples'), and ``label_patients`` their patients (None: each its own;
    by default, with the default labels, those of the training and test samples), so that the
    prevalence is the patients'."""
    if labels is None:
        labels = np.concatenate([np.asarray(train.labels), np.asarray(test.labels)])
        label_patients = patients_of(train, test)
    scored = base is not None and unseen is not None and len(unseen) > 0
    risk = _scores(modality, base, unseen) if scored else None
    counts = {"n_train": len(train), "n_test": len(test),
              **patient_counts(modality, n_train=train, n_test=test)}  # fmt: skip
    words = ROWS_AS_PATIENTS if base is not None else STUDY_ROWS_AS_PATIENTS
    counts.update(as_patients_entry(modality, train, words))
    outcome = outcome_of(modality.task(schema), labels,
                         (np.asarray(unseen.labels), risk) if scored else None,
                         base.training.get("test_metrics") if scored else None,
                         modality.noun if "unit" in counts else counted(modality, train),
                         modality.classes(schema),
                         patients=unseen.known_patients() if scored else None,
                         label_patients=label_patients)  # fmt: skip
    if isinstance(outcome, str):
        return None
    strategies = {}
    for strategy, p in parameters.items():
        final = binding(outcome.criteria(p))
        strategies[strategy] = {"parameters": p, "criterion": final.name, "n_needed": final.n,
                                "met": criteria_count(counts, "n_train") >= final.n}  # fmt: skip
    needs = {}
    if outcome.task == "binary" and scored:
        checked = _validation(base, outcome, risk, criteria_count(counts, "n_test"))["criteria"]
        needs = {c["name"]: c["n"] for c in checked}
    elif outcome.task == "binary":
        prevalence = outcome.figures["prevalence"]
        oe, slope, c = validation(prevalence=prevalence, c_statistic=CAUTIOUS_C)
        # the slope's too: it is the one that binds (a trial planned on the C-statistic's 547
        # where the calibration slope asks about 4,500)
        needs = {"O/E": oe.n, f"slope (assumed C {CAUTIOUS_C:g})": slope.n,
                 f"C (assumed {CAUTIOUS_C:g})": c.n}  # fmt: skip
    return {
        **outcome.to_dict(), **counts,
        "strategies": strategies, "intercepts_aside": True, "test_needs": needs,
        "source": source_of(outcome.task),
        "from_base": scored and not {"no_site_auroc", "no_site_r2"} & outcome.figures.keys(),
        "base_given": base is not None,
    }  # fmt: skip
