"""Data-sufficiency checks, run before any training, with the numbers behind each warning.

PEFT does not create data: these checks tell the user what the target group's data can
support. Each :class:`Finding` carries a code, a level (``warning`` or ``info``), a plain
sentence and the numbers it rests on (counts and shares only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from medadapt.evaluate.bootstrap import cluster_index
from medadapt.evaluate.metrics import MIN_PATIENTS
from medadapt.evaluate.report.formatting import listed
from medadapt.modalities.base import Modality, Samples
from medadapt.results import grouped, per_parameter_text, share_text

MIN_EVENTS_TRAIN = 10  # per class, in the training rows
MIN_EVENTS_TEST = 5  # per class, in the test rows (below: AUROC not reported)
EVENTS_PER_FEATURE = 10  # the classical events-per-variable rule of thumb
PREVALENCE_GAP = 0.15
SMALL_GROUP_SHARE = 0.10
# Events (rows of the smallest class) per trainable parameter below which a strategy is flagged.
# The classical rule for fitting a model from the data alone asks for >= 10 events per estimated
# parameter (Peduzzi et al., J Clin Epidemiol 1996; Riley et al., BMJ 2020). Adapters start from
# a frozen base and are stopped early, so they can work far below that; medadapt tolerates a
# hundred times less (one event per ten parameters) before warning. Below it, most trainable
# parameters are set by their start and by early stopping rather than by the target rows, and
# results swing from seed to seed.
EVENTS_PER_PARAMETER = 0.1
PATIENTS = "patients"  # what the minimums count where a patient has several samples


@dataclass
class Finding:
    code: str
    level: str
    message: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_sufficiency(
    modality: Modality,
    schema: Any,
    *,
    source: Samples | None,
    target_train: Samples,
    target_test: Samples,
    trainable_params: dict[str, int] | None = None,
) -> list[Finding]:
    """Findings about the target group's data, compared with the source groups' (``source``
    None: a given base model, its data unknown here)."""
    noun = modality.noun
    findings = _small_group(noun, source, target_train, target_test)
    task, classes = modality.task(schema), modality.classes(schema)
    if task != "regression":
        train = count_patients(target_train, classes, noun)
        test = count_patients(target_test, classes, noun)
        counted = PATIENTS if train.by_patient or test.by_patient else noun
        findings += _rare_classes(counted, train.per_class, test.per_class, test.total)
        events = min(train.per_class.values())
        findings += _events_per_feature(events, modality.n_features(schema))
        unit = PATIENTS if counted == PATIENTS else None
        rarer = min(train.per_class, key=train.per_class.__getitem__)
        tied = classes_tie(train.per_class)
        for strategy, params in (trainable_params or {}).items():
            findings.append(events_per_parameter(strategy, params, events, unit=unit,
                                                 rarer=str(rarer), n_classes=len(classes),
                                                 tied=tied, noun=noun))  # fmt: skip
        if task == "binary" and source is not None:
            findings += _prevalence_shift(source, target_train, target_test)
    for code, level, message, numbers in modality.data_findings(
        schema, source, target_train, target_test
    ):
        findings.append(Finding(code, level, message, numbers))
    return findings


class Counted(NamedTuple):
    """Samples counted as the minimums count them (see :func:`count_patients`)."""

    per_class: dict[str, int]  # per class (none for a measured outcome)
    total: int  # in all
    noun: str  # what is counted: "patients", or the samples' noun
    by_patient: bool  # whether a patient has several of the samples (then ``noun`` is patients)


def count_patients(samples: Samples, classes: Sequence[str], noun: str) -> Counted:
    """``samples`` counted as the evaluation counts them against its minimums: by distinct
    patient where the samples name their patients and one has several (repeat visits, several
    images of one patient; ``noun`` "patients"), else by sample (``noun`` as given, as before).
    Per class, a patient counts once in each class among their samples (samples that disagree
    count the patient in both: a minimum is never met by splitting one patient's visits);
    ``classes`` empty: no per-class counts (a measured outcome)."""
    clusters = cluster_index(samples.known_patients(), len(samples))
    per_class = samples.class_counts(classes) if classes else {}
    if clusters is None:
        return Counted(per_class, len(samples), noun, False)
    labels = np.asarray(samples.labels, dtype=int)
    per_class = {name: int(np.unique(clusters[labels == index]).size)
                 for index, name in enumerate(per_class)}  # fmt: skip
    return Counted(per_class, int(clusters.max()) + 1, PATIENTS, True)


def _small_group(
    noun: str, source: Samples | None, target_train: Samples, target_test: Samples
) -> list[Finding]:
    """A warning when the target group is a small share of all rows (none without a source)."""
    n_source = 0 if source is None else len(source)
    n_target = len(target_train) + len(target_test)
    share = n_target / max(n_source + n_target, 1)
    if source is None or share >= SMALL_GROUP_SHARE:
        return []
    return [
        Finding(
            "small_group",
            "warning",
            f"The target group has {n_target} {noun} against {n_source} in the source "
            f"groups ({share:.0%} of all {noun}): its estimates will be much less certain.",
            {"n_target": n_target, "n_source": n_source, "share": round(share, 3)},
        )
    ]


def _per_class(counts: dict[str, int]) -> str:
    """``{'0': 2, '1': 35}`` as a clinician reads it: ``2 of class '0', 35 of class '1'``."""
    return ", ".join(f"{n} of class {c!r}" for c, n in counts.items())


def _classes(names: dict[str, int]) -> str:
    """``class '0'`` or ``classes '0' and '2'``."""
    shown = [repr(c) for c in sorted(names)]
    if len(shown) == 1:
        return f"class {shown[0]}"
    return f"classes {', '.join(shown[:-1])} and {shown[-1]}"


def _rare_classes(
    noun: str, train_counts: dict[str, int], test_counts: dict[str, int], n_test: int
) -> list[Finding]:
    """Warnings for classes with too few training rows, and too few held-out rows (of
    ``n_test`` in all: fewer than :data:`~medadapt.evaluate.metrics.MIN_PATIENTS` leave no
    figure at all, not even accuracy)."""
    findings = []
    rare_train = {c: n for c, n in train_counts.items() if n < MIN_EVENTS_TRAIN}
    if rare_train:
        findings.append(
            Finding(
                "few_training_events",
                "warning",
                f"Training {noun} per class in the target group: {_per_class(train_counts)}; "
                f"{_classes(rare_train)} {'has' if len(rare_train) == 1 else 'have'} fewer than "
                f"{MIN_EVENTS_TRAIN}. An adapter can fit them, but what it learns about them is "
                "mostly noise.",
                {"train_class_counts": train_counts},
            )
        )
    rare_test = {c: n for c, n in test_counts.items() if n < MIN_EVENTS_TEST}
    if rare_test:
        lost = _rate_lost(test_counts, rare_test)
        findings.append(
            Finding(
                "few_test_events",
                "warning",
                f"Held-out {noun} per class: {_per_class(test_counts)}. With fewer than "
                f"{MIN_EVENTS_TEST} in {_classes(rare_test)}, AUROC, balanced accuracy and "
                f"{lost} cannot be estimated; "
                f"{_what_is_left(n_test, noun, _OTHER_RATE.get(lost))}.",
                {"test_class_counts": test_counts},
            )
        )
    return findings


def too_few_per_feature(events: int, n_features: int | None) -> bool:
    """Whether ``events`` (the smallest class's count) are too few to fit a new model on
    ``n_features`` features: fewer than :data:`EVENTS_PER_FEATURE` each."""
    return bool(n_features) and events < EVENTS_PER_FEATURE * n_features


def _events_per_feature(events: int, n_features: int) -> list[Finding]:
    """A note when the smallest class has too few events to fit a new model on the features."""
    if not too_few_per_feature(events, n_features):
        return []
    return [
        Finding(
            "events_per_feature",
            "info",
            f"{grouped(events)} events (the rarer class's count) for {n_features} features "
            f"({events / n_features:.1f} per feature; the usual rule for fitting a new "
            f"model is >= {EVENTS_PER_FEATURE}). Training a new model on this group alone "
            "is risky; reusing the base model through an adapter is the safer route.",
            {"events": events, "n_features": n_features},
        )
    ]


def new_model_note(
    counts: dict[str, int], n_features: int | None, noun: str, adapt: str = "medadapt adapt"
) -> str | None:
    """``train-base``'s warning when its training ``noun`` have too few events (the smallest
    class's count in ``counts``) for a new model on ``n_features`` features: the base is a model
    fitted from these data alone, which the events-per-feature rule is about. ``adapt``: how
    the caller's words name adapting (the Python API: ``ma.adapt``)."""
    events = min(counts.values(), default=0)
    if not too_few_per_feature(events, n_features):
        return None
    rarest = "rarer" if len(counts) == 2 else "rarest"
    if events == 0:  # not too few: none (a trial's FLamby Switzerland, "likely overfitted")
        return (
            f"the {rarest} class has none of the {grouped(sum(counts.values()))} training "
            f"{noun}: a model fitted on them cannot learn it, and calls no one that class; "
            f"{_new_model_fix(noun, adapt)}"
        )
    return (
        f"the {rarest} class has {grouped(events)} of the {grouped(sum(counts.values()))} "
        f"training {noun} for {n_features} features ({events / n_features:.1f} per feature; a "
        f"new model usually needs at least {EVENTS_PER_FEATURE} per feature, Peduzzi et al. "
        "1996, and Riley et al.'s criteria often more): a base model trained on so few is "
        f"likely to be overfitted; {_new_model_fix(noun, adapt)}"
    )


def _new_model_fix(noun: str, adapt: str) -> str:
    return f"collect more {noun}, or adapt an existing model to these ({adapt})"


def as_demo_base(note: str, noun: str = "rows", adapt: str = "ma.adapt") -> str:
    """A :func:`new_model_note` raised where a demo trains its own base model on a benchmark's
    fixed rows: its advice to collect more or adapt (``ma.adapt``, a Python call a trial was
    shown by a command) said as what the demo does. Any other note unchanged.

    >>> as_demo_base("... likely to be overfitted; collect more rows, or adapt an existing "
    ...              "model to these (ma.adapt)")
    "... likely to be overfitted; the demo trains it on the benchmark's rows all the same: \
read the base model's figures with that in mind"
    """
    fix = _new_model_fix(noun, adapt)
    if not note.endswith(fix):
        return note
    return note.removesuffix(fix) + (
        "the demo trains it on the benchmark's rows all the same: read the base model's "
        "figures with that in mind"
    )


def as_comparison(note: str, noun: str = "rows", adapt: str = "ma.adapt") -> str:
    """A :func:`new_model_note` raised where the new model is a comparison arm (a demo's "new
    model on the target data only", beside adapters of the same rows), with its advice to
    adapt instead said as what the comparison shows: a trial's demo told the user to "adapt
    an existing model to these (ma.adapt)", a Python call, under the adapters' own table.
    Any other note unchanged.

    >>> as_comparison("... likely to be overfitted; collect more rows, or adapt an existing "
    ...               "model to these (ma.adapt)")
    '... likely to be overfitted; it is shown for comparison: the adapters reuse the base model'
    """
    fix = _new_model_fix(noun, adapt)
    if not note.endswith(fix):
        return note
    note = note.replace("a base model trained on so few", "a new model trained on so few")  # not
    # the base (a trial read the comparison arm as the base model)
    return note.removesuffix(fix) + "it is shown for comparison: the adapters reuse the base model"


FEW_TRAINING_SAMPLES = 10  # fewer training samples for an adapter: its figures are said uncertain


def few_training_note(n_train: int, noun: str, fix: str, *, behind: str = "") -> str | None:
    """``adapt``'s warning when an adapter trains on fewer than :data:`FEW_TRAINING_SAMPLES`
    ``noun`` (``fix``: how to give it more, in the caller's words; ``behind``: the samples
    of ``n_train`` patients in words, ``"24 rows"``, where a patient has several); None
    otherwise."""
    if n_train >= FEW_TRAINING_SAMPLES:
        return None
    behind = f" ({behind})" if behind else ""
    return (f"only {n_train} training {noun}{behind}: the adapter's figures will be very "
            f"uncertain; {fix}")  # fmt: skip


def lower_test_fraction_fix(fix: str, n_train: int, n_test: int, noun: str) -> str:
    """``fix`` led by holding out fewer, where the held-out samples outnumber the training
    ones (a trial's ``--test-fraction 0.95`` left a site 2 training rows, and the warning
    asked for more rows)."""
    if n_test <= n_train:
        return fix
    return (f"hold out fewer with a lower --test-fraction ({n_test} of the {n_train + n_test} "
            f"{noun} are held out), or {fix}")  # fmt: skip


def adapter_sample_notes(
    train: Samples,
    test: Samples | None,
    classes: Sequence[str],
    noun: str,
    where: str,
    *,
    fix: str | None,
) -> list[str]:
    """``adapt``'s warnings on how many samples train and test an adapter, counted as the
    minimums count them (:func:`count_patients`): a class of ``where`` with too few
    (:func:`rare_class_note`; ``classes`` empty: a measured outcome, none), then, where ``fix``
    says how to give more, too few training samples (:func:`few_training_note`). ``test``
    None: ``train`` is every sample (nothing held out yet). The command line's ``adapt``,
    ``ma.adapt`` and each federated site say them alike."""
    notes = []
    if classes:
        trained = count_patients(train, classes, noun)
        held = count_patients(test, classes, noun) if test is not None else None
        by_patient = trained.by_patient or (held is not None and held.by_patient)
        counts = {c: trained.per_class[c] + (held.per_class[c] if held else 0) for c in classes}
        rare = rare_class_note(
            counts, PATIENTS if by_patient else noun, where,
            held_out=held.per_class if held else None,
            total=trained.total + (held.total if held else 0),
        )  # fmt: skip
        notes += [rare] if rare else []
        absent = absent_class_note(counts, PATIENTS if by_patient else noun, where)
        notes += [absent] if absent else []
    if fix is not None:
        counted = count_patients(train, (), noun)
        behind = f"{len(train)} {noun}" if counted.by_patient else ""
        few = few_training_note(counted.total, counted.noun, fix, behind=behind)
        notes += [few] if few else []
    return notes


def rare_class_note(
    counts: dict[str, int],
    noun: str,
    where: str,
    held_out: dict[str, int] | None = None,
    *,
    total: int | None = None,
) -> str | None:
    """``check-data``'s and ``adapt``'s warning, before any figure, when a class has fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` of ``where``'s ``noun`` (``counts``: per
    class, patients where they are counted (:func:`count_patients`); ``held_out``: those of
    them held out for testing; ``total``: how many in all, by default the counts' sum, which
    counts twice a patient with samples of two classes); the class named, with its count
    (counts only). None when every class present has enough."""
    from medadapt.evaluate.metrics import MIN_PER_CLASS

    rare = {c: n for c, n in counts.items() if 0 < n < MIN_PER_CLASS}
    if not rare:
        return None
    ordered = sorted(rare)
    named = _classes(rare)
    all_of = sum(counts.values()) if total is None else total
    has = f"{'has' if len(rare) == 1 else 'have'} {listed(str(rare[c]) for c in ordered)}"
    split = ""
    if held_out is not None:
        split = (f"; {listed(str(rare[c] - held_out.get(c, 0)) for c in ordered)} to train on, "
                 f"{listed(str(held_out.get(c, 0)) for c in ordered)} held out")  # fmt: skip
    return (
        f"{named} {has} of the {grouped(all_of)} {noun} of {where} (fewer than "
        f"{MIN_PER_CLASS}, the fewest any figure about a class rests on{split}): an adapter "
        f"trained on so few is likely to be overfitted to them, and no test here can show how "
        f"it does on {named} (accuracy can look good without {'it' if len(rare) == 1 else 'them'});"
        f" collect more {noun} of {named}"
    )


def absent_class_note(counts: dict[str, int], noun: str, where: str) -> str | None:
    """``adapt``'s and ``check-data``'s warning where a class of several (``counts``, per
    class) has none of ``where``'s ``noun``: the adapter learns nothing of it, may learn to
    call it less (every sample it trains on is of another class), and no figure here can
    say how it does on it. A trial's hospital without one of three cultivars was adapted
    without a word, its only trace a per-class footnote. None for two classes (one of them
    absent is refused, or allowed, elsewhere) or when every class has some.

    >>> absent_class_note({"A": 40, "B": 30, "C": 0}, "rows", "hospital = East")[:66]
    "class 'C' has none of the 70 rows of hospital = East: an adapter t"
    """
    absent = sorted(c for c, n in counts.items() if n == 0)
    if len(counts) <= 2 or not absent or len(absent) == len(counts):
        return None
    named = _classes(dict.fromkeys(absent, 0))
    it = "it" if len(absent) == 1 else "them"
    return (
        f"{named} {'has' if len(absent) == 1 else 'have'} none of the "
        f"{grouped(sum(counts.values()))} {noun} of {where}: an adapter trained here learns "
        f"nothing of {it}, and may learn to call {it} less (every {noun.removesuffix('s')} it "
        f"trains on is of another class), and no figure here can show how it does on {it}; "
        f"add {noun} of {named}, or check the adapter on {it} elsewhere before relying on it"
    )


def _prevalence_shift(
    source: Samples, target_train: Samples, target_test: Samples
) -> list[Finding]:
    """A warning when the target group's prevalence differs from the source groups'."""
    p_source = float(np.mean(source.labels))
    p_target = float(np.mean(np.r_[target_train.labels, target_test.labels]))
    said = prevalence_shift_words(p_source, p_target)
    if said is None:
        return []
    numbers = {"source_prevalence": round(p_source, 3), "target_prevalence": round(p_target, 3)}
    return [Finding("prevalence_shift", "warning", said, numbers)]


def prevalence_shift_words(
    p_source: float, p_target: float, source: str = "in the source groups",
    target: str = "in the target group", there: str = "there",
) -> str | None:  # fmt: skip
    """Why a prevalence more than :data:`PREVALENCE_GAP` away from the base's matters (what
    ``study`` warns, and ``check-data`` against the base's recorded training rows); None
    within it.

    >>> prevalence_shift_words(0.42, 0.58, "where the base model trained", "here", "here")
    ... # doctest: +NORMALIZE_WHITESPACE
    'Prevalence differs: 42% where the base model trained, 58% here. Expect the base model
    to be mis-calibrated here; accuracy at a fixed threshold can look good or bad for that
    reason alone.'
    """
    if abs(p_target - p_source) <= PREVALENCE_GAP:
        return None
    return (
        f"Prevalence differs: {p_source:.0%} {source}, {p_target:.0%} {target}. Expect the "
        f"base model to be mis-calibrated {there}; accuracy at a fixed threshold can look good "
        "or bad for that reason alone."
    )


def classes_tie(counts: dict[str, int]) -> bool:
    """Whether every class has as many as the others: none is "the rarer" (a radiology
    trial's 28 images of each of two classes read "the rarer class's count, here class
    'normal'"; three classes of 14 each, earlier).

    >>> classes_tie({"normal": 28, "nodule": 28}), classes_tie({"0": 27, "1": 28})
    (True, False)
    """
    return len(counts) > 1 and len(set(counts.values())) == 1


def events_per_parameter(
    strategy: str,
    params: int,
    events: int,
    *,
    name: str | None = None,
    where: str = "",
    unit: str | None = None,
    measured: str | None = None,
    rarer: str | None = None,
    n_classes: int = 2,
    tied: bool = False,
    noun: str = "rows",
) -> Finding:
    """Events in the smallest class per trained parameter of ``strategy`` (``params``: the
    output layer's intercepts aside, as Peduzzi et al. count predictors and ``check-data``
    Riley et al.'s ``p``); a warning below :data:`EVENTS_PER_PARAMETER`, worded for what the
    strategy trains. ``unit``: what ``events`` count where it is not the samples
    ("patients", where one has several);
    ``measured``: for a measured outcome, what ``events`` count instead ("rows": every one
    informs the fit, as events do for a yes/no outcome)."""
    name = name or strategy
    ratio = events / max(params, 1)
    numbers = {
        "strategy": strategy,
        "trainable_params": params,
        "intercepts_aside": True,  # Riley et al.'s p (a study.json of before: with them)
        "events": events,
        "events_per_parameter": float(f"{ratio:.3g}"),
    }
    counted = f", in {unit}" if unit else ""
    which = f", here class {rarer!r}" if rarer is not None else ""  # a trial read "36 events"
    whose = "the rarer class's count" if n_classes <= 2 else "the rarest class's count"
    if tied:  # a trial's three classes of 14 each read "the rarer class's, here 'mass'"
        whose, which = f"the count of each of the {n_classes} classes, as many each", ""
    what = measured or f"events ({whose}{which}{counted})"  # as with disease
    head = (
        f"{name}: {grouped(events)} {what}{where} for {grouped(params)} trained "
        f"parameters, intercepts aside ({per_parameter_text(ratio)} per parameter"
    )
    if ratio >= EVENTS_PER_PARAMETER:
        tail = {
            "full_finetune": "every weight of the base is trained; only early stopping keeps it "
            "close to what the base learned.",
            "scratch_local": "a new model from a random start, fitted to the target rows alone.",
        }.get(
            strategy,
            "small adapters rely on the frozen base and early stopping, not on the data alone.",
        )
        return Finding("events_per_parameter", "info", f"{head}): {tail}", numbers)
    rule = (
        f", below {EVENTS_PER_PARAMETER}; a model fitted from data alone usually needs >= 10 "
        "per parameter, Peduzzi et al. 1996)"
        if measured is None
        else f", below {EVENTS_PER_PARAMETER}; a model fitted from data alone usually needs "
        "10 to 20 per parameter, Harrell 2015)"
    )
    samples = unit or noun
    tail = {
        "full_finetune": f"every weight of the base can move to fit these few {samples}: expect "
        "it to overfit this group and lose what the base learned; prefer an adapter.",
        "scratch_local": "nothing is reused from the source groups, so the model is shaped by its "
        f"random start and these few {samples}: expect wide swings between seeds.",
    }.get(
        strategy,
        "the adapter leans on the frozen base and on early stopping more than on the "
        "data: expect results to vary between seeds and trust intervals, not single runs.",
    )
    return Finding("events_per_parameter", "warning", f"{head}{rule}: {tail}", numbers)


def size_findings(
    modality: Modality,
    schema: Any,
    subsets: dict[float, Samples],
    trainable_params: dict[str, int],
    *,
    names: dict[str, str] | None = None,
) -> list[Finding]:
    """Class counts and events per trainable parameter at each training size of a study
    (``subsets``: fraction -> the samples used), a warning for the sizes where a class has
    fewer than :data:`MIN_EVENTS_TRAIN`, and the events-per-parameter finding of each strategy
    at the largest size (the smaller sizes have fewer events still). Counted as the minimums
    count them (:func:`count_patients`): patients, where a patient has several samples."""
    names = names or {}
    noun, task = modality.noun, modality.task(schema)
    sizes, rare, by_patient = _size_entries(modality, schema, task, subsets, trainable_params)
    findings = [
        Finding(
            "training_sizes",
            "info",
            f"Training {noun} at each size: "
            + "; ".join(f"{share_text(e['fraction'])}: {_size_count(e)}" for e in sizes)
            + ".",
            {"sizes": sizes},
        )
    ]
    if rare:
        counted = PATIENTS if by_patient else noun
        findings.append(_few_samples_at_sizes(noun, rare, counted) if task == "regression"
                        else _few_events_at_sizes(noun, rare, counted))  # fmt: skip
    if task != "regression" and sizes:
        largest = sizes[-1]
        events = min(largest["class_counts"].values())
        counts = largest["class_counts"]
        rarer = min(counts, key=counts.__getitem__)
        tied = classes_tie(counts)
        where = f" at {share_text(largest['fraction'])} of the target training {noun}"
        for strategy, params in trainable_params.items():
            findings.append(
                events_per_parameter(
                    strategy,
                    params,
                    events,
                    name=names.get(strategy),
                    where=where,
                    unit=PATIENTS if by_patient else None,
                    rarer=str(rarer),
                    n_classes=len(counts),
                    tied=tied,
                    noun=noun,
                )
            )
    elif sizes:  # a measured outcome: every sample informs the fit, as events do for yes/no
        fraction = max(subsets)
        where = f" at {share_text(fraction)} of the target training {noun}"
        for strategy, params in trainable_params.items():
            findings.append(events_per_parameter(strategy, params, len(subsets[fraction]),
                                                 name=names.get(strategy), where=where,
                                                 measured=noun, noun=noun))  # fmt: skip
    return findings


def _size_entries(
    modality: Modality,
    schema: Any,
    task: str,
    subsets: dict[float, Samples],
    trainable_params: dict[str, int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """Samples (``n_rows``), the patients behind them (``n_patients``, where a patient has
    several samples at some size), class counts and events per parameter at each training
    size (smallest first), counted as :func:`count_patients` counts them (a patient once in
    each class among their samples); the sizes below the full one where a class has fewer than
    :data:`MIN_EVENTS_TRAIN`; and whether patients are counted."""
    classes = modality.classes(schema) if task != "regression" else ()
    counted = {f: count_patients(rows, classes, modality.noun) for f, rows in subsets.items()}
    by_patient = any(c.by_patient for c in counted.values())
    sizes, rare = [], []
    for fraction, rows in sorted(subsets.items()):
        here = counted[fraction]  # where no patient has several here, patients are the rows
        entry: dict[str, Any] = {"fraction": fraction, "n_rows": len(rows)}
        if by_patient:
            entry["n_patients"] = here.total
        if task != "regression":
            events = min(here.per_class.values())
            entry["class_counts"] = here.per_class
            entry["events_per_parameter"] = {
                s: float(f"{events / max(p, 1):.3g}") for s, p in trainable_params.items()
            }
            if events < MIN_EVENTS_TRAIN and fraction < 1.0:
                rare.append(entry)
        elif here.total < FEW_TRAINING_SAMPLES and fraction < 1.0:  # a measured outcome's
            rare.append(entry)
        sizes.append(entry)
    return sizes, rare, by_patient


def _size_count(entry: dict[str, Any], noun: str = "") -> str:
    """``"30 rows"`` (``noun``; none: ``"30"``), or where patients are counted ``"30 rows
    from 10 patients"``."""
    one = noun.removesuffix("s") if entry["n_rows"] == 1 else noun
    n = f"{entry['n_rows']} {one}" if noun else str(entry["n_rows"])
    if "n_patients" not in entry:
        return n
    who = PATIENTS.removesuffix("s") if entry["n_patients"] == 1 else PATIENTS
    return f"{n} from {entry['n_patients']} {who}"


def _few_events_at_sizes(noun: str, rare: list[dict[str, Any]], counted: str) -> Finding:
    """A warning naming the training sizes where a class has almost no samples (``counted``:
    what the class counts count, the samples' ``noun`` or patients)."""
    described = ", ".join(
        f"{share_text(e['fraction'])} ({_size_count(e, noun)}: "
        + ", ".join(f"{n} of class {c}" for c, n in e["class_counts"].items())
        + ")"
        for e in rare
    )
    return Finding(
        "few_training_events_at_size",
        "warning",
        f"At {described} of the target training {noun} a class has fewer than "
        f"{MIN_EVENTS_TRAIN} {counted}: points at those sizes show what a strategy does "
        "with almost no data, not how well it would work.",
        {"fractions": [e["fraction"] for e in rare]},
    )


def _few_samples_at_sizes(noun: str, few: list[dict[str, Any]], counted: str) -> Finding:
    """A measured outcome's warning naming the training sizes of fewer than
    :data:`FEW_TRAINING_SAMPLES` ``counted`` (a trial's study trained and reported an adapter
    of 1 row at 1% without a word)."""
    described = ", ".join(f"{share_text(e['fraction'])} ({_size_count(e, noun)})" for e in few)
    return Finding(
        "few_training_samples_at_size",
        "warning",
        f"At {described} of the target training {noun} there are fewer than "
        f"{FEW_TRAINING_SAMPLES} {counted} to train on: points at those sizes show what a "
        "strategy does with almost no data, not how well it would work.",
        {"fractions": [e["fraction"] for e in few]},
    )


def _rate_lost(counts: dict[str, int], rare: dict[str, int]) -> str:
    """Which of sensitivity and specificity a rare held-out class leaves unestimated: two
    classes (the positive last), the rare one's rate only (a trial's study said both while
    ``evaluate`` reported a specificity on 9 negatives); several classes, both."""
    if len(counts) != 2 or len(rare) != 1:
        return "sensitivity/specificity"
    _, positive = counts
    return "sensitivity" if positive in rare else "specificity"


#: the rate still reported where :func:`_rate_lost` loses the other (None: neither)
_OTHER_RATE = {"sensitivity": "specificity", "specificity": "sensitivity"}


def _what_is_left(n_test: int, noun: str, kept: str | None = None) -> str:
    """What is still reported from ``n_test`` held-out samples with a class too rare
    (``kept``: the rate of the other class, still reported).

    >>> _what_is_left(40, "patients")
    'only accuracy and calibration are reported'
    >>> _what_is_left(12, "patients", "specificity")
    'only accuracy, specificity and calibration are reported'
    >>> _what_is_left(5, "patients")
    'with 5 held-out patients in all (fewer than 10), no figure is reported'
    """
    if n_test < MIN_PATIENTS:
        return (f"with {n_test} held-out {noun} in all (fewer than {MIN_PATIENTS}), no figure "
                "is reported")  # fmt: skip
    return f"only accuracy, {kept} and calibration are reported" if kept else (
        "only accuracy and calibration are reported")  # fmt: skip
