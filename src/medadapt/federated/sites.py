"""Each site's samples, split into the rows that train the adapter there and the rows that
test it, exactly as ``medadapt adapt`` would split that site (so the federated adapter, the
local-only adapters and the pooled adapter are scored on the same held-out patients). A site's
samples never leave this module's caller: only their counts do."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medadapt.adapters import AdapterModel, without_adapters
from medadapt.adapters.methods import default_config
from medadapt.data.group_columns import columns_holding
from medadapt.data.schema import TableSchema
from medadapt.errors import ConfigError, DataError
from medadapt.evaluate.sufficiency import lower_test_fraction_fix
from medadapt.federated.config import FederatedRun
from medadapt.federated.local import Trainable
from medadapt.modalities.base import Modality, Samples, modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.wording import plural
from medadapt.workflows.splitting import (
    adapter_split,
    base_split_warnings,
    select,
)

MIN_SITE_SAMPLES = 10
"""Fewer labelled samples cannot both train and test an adapter: a site of fewer is refused
alike by ``federate client`` (:func:`preflight`) and ``federate simulate`` (:func:`read_sites`;
a trial's simulation trained a 5-row site that a client of the same rows refused)."""


class SiteError(DataError):
    """A site that cannot take part (too few samples to split, ...): its one-line error,
    naming it."""

    def __init__(self, site: str, reason: str):
        super().__init__(f"site {site}: {reason}")
        self.site = site


@dataclass
class Site:
    """One site's training and held-out samples (indices into the samples read)."""

    name: str
    train: np.ndarray
    test: np.ndarray


@dataclass
class SiteData:
    """The base model and the samples of the sites one process may read."""

    modality: Modality
    base: BaseModel
    samples: Samples
    sites: dict[str, Site]
    notes: list[str] = field(default_factory=list)  # what a site can and cannot add, said once
    # no site's test samples are among the base's training samples as its split recorded them
    # (False: the split was not recognised in this file, or one was chosen with --split-column)
    base_rows_kept_out: bool = True

    def train(self, site: str) -> Samples:
        return self.samples.subset(self.sites[site].train)

    def test(self, site: str) -> Samples:
        return self.samples.subset(self.sites[site].test)


def too_few_to_take_part(n: int, noun: str) -> str:
    """Why a site of ``n`` labelled samples cannot take part."""
    return (f"only {n} labelled {noun}: too few to train and test an adapter at this site "
            f"(at least {MIN_SITE_SAMPLES})")  # fmt: skip


def read_sites(run: FederatedRun, data: Path | None = None, sites=None) -> SiteData:
    """``sites`` (default: every site of ``run``) of ``data`` (default ``run.data``), split."""
    data = Path(data or run.data)
    base = BaseModel.load(run.base_dir, flag="--base")
    modality = modality_of(base.kind)
    options = modality.options(**run.options)
    samples = modality.read_for_model(data, base, options, group_column=run.group_column,
                                      label=run.label)  # fmt: skip
    base_split = modality.read_split(run.base_dir, base.training.get("split") or {}, data,
                                     "base", samples)  # fmt: skip
    seen = modality.in_split(data, samples, base_split, "train")
    scored = f"the sites' test {modality.noun}"
    unrecognised = base_split_warnings(
        modality, base, base_split, scored, instead="give the sites only",
        figures="every figure on them (the federated adapter's, each reference's, the base "
        "model's alone)",
    )  # fmt: skip
    notes = list(unrecognised)
    clean = np.zeros(len(samples), dtype=bool)
    if modality.base_test_stays_clean:
        clean = modality.in_split(data, samples, base_split, "test")
    split = {}
    every_site_present(run, samples, sites)
    for site in sites or run.sites:
        wanted = [site] if run.group_column else None  # no column: the file is one site's
        chosen = select(samples, run.group_column, wanted, what="--groups")
        if len(chosen) < MIN_SITE_SAMPLES:
            raise SiteError(site, too_few_to_take_part(len(chosen), modality.noun))
        if run.split_column is not None:
            train, test = _given_split(samples, run.split_column, chosen)
        else:
            where = f"{run.group_column} = {site}"
            try:
                train, test = adapter_split(modality, samples, chosen, seen,
                                            test_fraction=run.test_fraction, seed=run.seed,
                                            where=where)  # fmt: skip
            except DataError as error:
                raise SiteError(site, str(error)) from None
        split[site] = Site(site, train[~clean[train]], test)
        notes += _check_both_classes(modality, base, samples, split[site])
    kept_out = not unrecognised and not any(seen[s.test].any() for s in split.values())
    return SiteData(modality, base, samples, split, notes, kept_out)


def every_site_present(run: FederatedRun, samples: Samples, sites: Any = None) -> None:
    """Under ``--on-site-error stop``, every site of ``sites`` (default: the run's) missing
    from the group column named in one error, each with its hint (a trial's two misspelt
    sites were refused one at a time); under ``continue`` each is left out on its own."""
    if run.group_column and run.on_site_error == "stop":
        select(samples, run.group_column, list(sites or run.sites), what="--groups")


def one_outcome_words(words: str, noun: str) -> str:
    """Why a site whose labelled samples all have one outcome (``words``: "only one class of
    'num' ('0')") cannot take part, as ``simulate`` says it before and after a base trains."""
    return f"all its labelled {noun} have {words}; a site needs at least two to train the adapter"


def _check_both_classes(
    modality: Modality, base: BaseModel, samples: Samples, site: Site
) -> list[str]:
    """A site whose samples all have one outcome is refused, as 'adapt' refuses such a
    group: its local adapter could learn only that class, its updates pull the shared adapter
    toward it, and nothing there could show it (its 'local' column read 1.000). A site whose
    training samples alone have one outcome (FLamby's Switzerland: 30 of 30 with disease)
    takes part, with a note saying what it can and cannot add (returned)."""
    labels = np.asarray(samples.labels)
    only = modality.only_class(base.schema, labels[site.train])
    if only is None:
        return []
    words, noun = modality.one_class_words(base.schema, only), modality.noun
    every = np.r_[site.train, site.test]
    if modality.only_class(base.schema, labels[every]) is not None:
        beyond = beyond_threshold(base.schema, samples, every, noun)
        raise SiteError(site.name, beyond or one_outcome_words(words, noun))
    return [
        f"site {site.name}: its {len(site.train)} training {noun} have {words}: it can only "
        f"pull the shared adapter toward that answer, and its local-only adapter calls "
        f"everyone {only!r}"
    ]


CODES = 10  # more distinct whole numbers than this: a measurement, not an outcome's codes


def beyond_threshold(schema: Any, samples: Samples, rows: np.ndarray, noun: str) -> str | None:
    """Why ``rows`` all fall in one class, where the base makes its classes of a number by a
    threshold (``train-base --positive-above``) and every value, a measurement rather than an
    outcome's codes (a fraction, or more than :data:`CODES` distinct values), lies on one side
    of it: blood sugar ~130 given to a base that predicts ``diagnosis > 0``. None otherwise,
    as for a site whose patients all have the disease (codes 1-4). Counts and the threshold
    only, never a value."""
    threshold = getattr(schema, "positive_above", None)
    label = getattr(schema, "label", None)
    frame = getattr(samples, "frame", None)
    if threshold is None or frame is None or label not in frame or not len(rows):
        return None
    import pandas as pd

    values = pd.to_numeric(frame[label].iloc[rows], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return None
    distinct = np.unique(values)
    if len(distinct) <= CODES and (distinct == np.round(distinct)).all():
        return None  # an outcome's codes (0-4): a site of one outcome, said as such
    if (values > threshold).all():
        side = "above"
    elif (values <= threshold).all():
        side = "at or below"
    else:
        return None
    return (
        f"every value of label {label!r} is {side} the base model's threshold {threshold:g} (it "
        f"predicts {label} > {threshold:g}), so all {len(rows)} {noun} are one class: this "
        f"data is not what the base was trained for ({len(distinct)} distinct values: a "
        "measurement, not an outcome's codes); give this site the outcome the base predicts"
    )


def site_warnings(data: SiteData, *, fix: str) -> list[str]:
    """What ``adapt`` says of a group's samples, said of each site before the rounds (counts
    and column names, never a value): a class with too few patients, too few training
    patients (``fix``: how to give more, in the caller's words), and the modality's notes on
    the site's samples (tables: a feature column empty there, rows lacking most features, a
    category the model never learned), each prefixed with the site's name; the reader's notes
    about the whole file (rows without a label ...) once, first."""
    modality, schema, samples = data.modality, data.base.schema, data.samples
    whole = set(getattr(samples, "notes", ()))
    once: list[str] = []
    per_site: list[str] = []
    for name, site in data.sites.items():
        own = too_few_notes(modality, schema, data.train(name), data.test(name),
                            fix=lower_test_fraction_fix(fix, len(site.train), len(site.test),
                                                        modality.noun))  # fmt: skip
        for note in modality.sample_notes(schema, samples.subset(np.r_[site.train, site.test])):
            if note not in whole:
                own.append(note)
            elif note not in once:
                once.append(note)
        per_site += [f"site {name}: {note}" for note in own]
    return once + per_site


#: the advice of a leak at a site, in ``federate simulate``'s and ``federate client``'s flags
SITE_LEAK_ADVICE = (
    "keep {it} with --allow-leak {names} if {genuine} measured before the outcome, or correct "
    "the site's export of {it}"
)
#: the same, as the server of a deployment says it (the flag is the site's client's)
HOSPITAL_LEAK_ADVICE = (
    "the site's client keeps {it} with 'federate client --allow-leak {names}' if {genuine} "
    "measured before the outcome; or correct the site's export of {it}"
)


def check_site_rows(data: SiteData, options: Any, *, fix: str = SITE_LEAK_ADVICE) -> list[str]:
    """``adapt``'s checks of the rows an adapter trains and is tested on, run on each site's:
    a base input that alone predicts the label at one site (a copy of the outcome in one
    hospital's export) would train the shared adapter on it and flatter that site's figures;
    it is refused naming the site (:class:`SiteError`), unless kept with ``--allow-leak``.
    Returns the warnings of the inputs kept so."""
    said: list[str] = []
    for name, site in data.sites.items():
        rows = data.samples.subset(np.r_[site.train, site.test])
        try:
            kept = data.modality.check_training_rows(
                data.base.schema, rows, options, name, judged="rows of this site", fix=fix
            )
        except DataError as error:
            raise SiteError(name, str(error)) from None
        said += [f"site {name}: {note}" for note in kept]
    return said


def site_kept_leaks(data: SiteData, options: Any) -> list[dict[str, Any]]:
    """The columns kept with ``--allow-leak`` (the base's, and the run's or the site's
    client's) that alone predict the label on each site's rows, as a model records them
    (:meth:`~medadapt.data.leaks.Leak.to_json`: name, statistic, row count; never a value),
    each ``where`` its site: recorded with every adapter those rows trained."""
    kept = []
    for name, site in data.sites.items():
        rows = data.samples.subset(np.r_[site.train, site.test])
        kept += [{**leak, "where": f"site {name}"}
                 for leak in data.modality.kept_leaks(data.base.schema, rows, options)]  # fmt: skip
    return kept


#: how a site with too few samples gets more, as ``federate simulate`` says it
SITE_FIX = "give this site more {noun}, or leave it out of --groups"


def pre_round_notes(run: FederatedRun, options: Any = None, sites=None) -> list[str]:
    """Every site's samples read and checked as its node reads them, before the rounds: the
    warnings to say (what each site can add, a column its leak checks kept, what ``adapt``
    would say of its samples), each once. A site that cannot take part raises its
    :class:`SiteError` (``--on-site-error stop``), or, with ``continue``, is said to be left
    out and the other sites are read. ``options``: the modality's (default: the run's);
    ``sites``: those to read (default: the run's)."""
    sites, said = list(sites or run.sites), []
    while sites:
        try:
            data = read_sites(run, sites=sites)
            chosen = options if options is not None else data.modality.options(**run.options)
            kept = check_site_rows(data, chosen)  # adapt's leak checks, on each site's rows
        except SiteError as error:
            if run.on_site_error == "stop":
                raise
            said.append(f"{error}; the run goes on without it (--on-site-error continue)")
            sites.remove(error.site)
            continue
        notes = site_warnings(data, fix=SITE_FIX.format(noun=data.modality.noun))
        return list(dict.fromkeys([*said, *data.notes, *kept, *notes]))
    return said


def too_few_notes(modality: Modality, schema: Any, train: Samples, test: Samples | None, *,
                  fix: str | None) -> list[str]:  # fmt: skip
    """``adapt``'s warnings on how many samples train and test an adapter at a site
    (:func:`~medadapt.evaluate.sufficiency.adapter_sample_notes`). ``test`` None: ``train``
    is every sample (nothing held out yet)."""
    from medadapt.evaluate.sufficiency import FEW_TRAINING_SAMPLES, adapter_sample_notes

    classes = modality.classes(schema) if modality.task(schema) != "regression" else ()
    notes = adapter_sample_notes(train, test, classes, modality.noun, "this site", fix=fix)
    few_train = len(train) < FEW_TRAINING_SAMPLES  # then "give more", not "hold out more"
    return notes + _unscored_note(test, classes, modality.noun, few_train=few_train)


def _unscored_note(test: Samples | None, classes: Any, noun: str, *,
                   few_train: bool = False) -> list[str]:  # fmt: skip
    """Where a site holds out too few samples for any figure: it trains the shared adapter
    but will learn nothing of how it does there (a trial's site of 12 rows joined, 4 held
    out, and read "figures with their intervals" sent, where the server had none)."""
    from medadapt.evaluate.metrics import MIN_PATIENTS
    from medadapt.evaluate.sufficiency import count_patients

    if test is None or not len(test):
        return []
    counted = count_patients(test, classes, noun)
    if counted.total >= MIN_PATIENTS:
        return []
    fix = (f"give more {noun}" if few_train  # (a review: "hold out more" beside "fewer")
           else f"hold out more with a higher --test-fraction, or give more {noun}")  # fmt: skip
    return [
        f"only {counted.total} held-out {counted.noun} at this site, too few for any figure "
        f"(at least {MIN_PATIENTS} needed): it trains the shared adapter, but its rounds will "
        f"say nothing of how the adapter does here; {fix}"
    ]


def _given_split(samples: Samples, column: str, chosen: np.ndarray):
    """Train and test samples as the table's ``column`` says ("train" / "test")."""
    from medadapt.checks import did_you_mean

    frame = getattr(samples, "frame", None)
    if frame is None or column not in frame:
        meant = did_you_mean(column, list(frame.columns)) if frame is not None else ""
        raise DataError(f"--split-column {column!r} is not a column of --data (tables "
                        f"only){meant}")  # fmt: skip
    part = frame[column].astype(str).to_numpy()[chosen]
    other = ~np.isin(part, ["train", "test"])
    if other.any():  # counted, never shown: a wrong column holds record numbers or values
        rows = int(other.sum())
        raise DataError(
            f"--split-column {column!r} holds values other than 'train' and 'test' in "
            f"{rows:,} of these {len(part):,} rows ({len(set(part[other])):,} distinct, not "
            "shown): name a column whose every value is train or test, or drop "
            "--split-column to hold out --test-fraction of each site's patients"
        )
    return chosen[part == "train"], chosen[part == "test"]


def trainable(run: FederatedRun, modality: Modality, base: BaseModel) -> Trainable:
    """What the run trains at every site: the base with a fresh adapter ``run.adapter_name``
    (seeded: the server's initial weights and each site's container for those it receives),
    or, for ``method="full"`` (full-model FedAvg), a copy of the whole base model."""
    torch.manual_seed(run.seed)
    if run.method == "full":
        return Trainable(without_adapters(base.model), None)
    model = AdapterModel(without_adapters(base.model))
    config = default_config(run.method, modality.family(model), heads=modality.heads(model),
                            options=run.adapter_options)  # fmt: skip
    model.add_adapter(run.adapter_name, config)
    model.set_active(None)
    model.eval()
    return Trainable(model, run.adapter_name)


@dataclass(frozen=True)
class SiteCheck:
    """What a hospital's checks found before it joins (:func:`preflight`), for its own
    terminal: how many labelled samples, what ``adapt`` would warn about them, and the columns
    of its table the base does not read (names only, never a value)."""

    n: int
    notes: list[str]
    unread_columns: list[str] = field(default_factory=list)
    noun: str = "samples"  # what the base reads: rows, images


def preflight(data: Path, base_dir: Path, site: str | None = None,
              allow_leak: str | None = None) -> SiteCheck:  # fmt: skip
    """A hospital's checks before it joins: the base loads, the file has what the base reads
    (label and features), enough labelled samples, and no base input that alone predicts the
    label there (unless kept with ``allow_leak``: the site's ``--allow-leak``). Returns how
    many, what ``adapt`` would warn about them and the columns the base does not read (said
    on the hospital's own terminal: the data never leaves); raises the one-line error
    otherwise, as for a column naming ``site`` beside other values (a file of every site's
    rows: all of them would train here, reported as this site's)."""
    base = BaseModel.load(base_dir, flag="--base")
    modality = modality_of(base.kind)
    options = modality.options()
    if allow_leak is not None:
        if not hasattr(options, "allow_leak"):
            raise ConfigError(f"--allow-leak applies to tables; --base {base_dir} reads "
                              f"{modality.noun}: drop it")  # fmt: skip
        options = modality.options(allow_leak=allow_leak)
    samples = modality.read_for_model(data, base, options)
    if len(samples) < MIN_SITE_SAMPLES:
        raise DataError(
            f"--data {data} has {len(samples)} labelled {modality.noun}: too few to train and "
            f"test an adapter at this site (at least {MIN_SITE_SAMPLES})"
        )
    present = np.unique(np.asarray(samples.labels))
    if modality.task(base.schema) != "regression" and len(present) < 2:
        only = modality.classes(base.schema)[int(present[0])]
        every = np.arange(len(samples))
        beyond = beyond_threshold(base.schema, samples, every, modality.noun)
        raise DataError(  # it would join, then fail in round 1 at the server
            f"--data {data}: "
            + (beyond or f"every labelled {modality.noun[:-1]} has the same outcome ({only!r}): "
               "this site can neither train the adapter nor test it; add its other patients")
        )  # fmt: skip
    # the split is the server's to choose (its --test-fraction, --seed): judged on them all
    notes = [f"this site: {note}" for note in modality.check_training_rows(
        base.schema, samples, options, site or "", judged="rows of this site",
        fix=SITE_LEAK_ADVICE)]  # fmt: skip
    notes += too_few_notes(modality, base.schema, samples, None, fix=None)
    notes += modality.sample_notes(base.schema, samples)
    frame = getattr(samples, "frame", None)
    found = _site_column(frame, site)
    if found is not None:  # a trial's: warned here, the server then reported them as the
        column, others = found  # site's own, its test patients mostly another hospital's
        own = int((frame[column].astype(str).str.strip() == str(site).strip()).sum())
        raise DataError(
            f"--data {data}: column {column!r} holds {site!r} ({own} of the "
            f"{len(samples)} {modality.noun}) and {plural(others, 'other value')}: all "
            f"{len(samples)} would train and test this site's adapter, and the server would "
            f"report them as {site}'s; pass a file of this site's {modality.noun} only (those "
            f"where {column} is {site!r})"
        )
    _refuse_another_site(data, frame, getattr(base.schema, "group_column", None), site)
    schema = base.schema
    unread = (
        schema.unread_columns(frame)
        if isinstance(schema, TableSchema) and frame is not None
        else []
    )
    return SiteCheck(len(samples), notes, unread, noun=modality.noun)


def _refuse_another_site(data: Path, frame: Any, column: str | None, site: str | None) -> None:
    """Refuse a file whose group column (the base's, recorded at its training) names other
    sites only, none of them ``site``: another hospital's rows would train and test this
    site's adapter, reported as this site's (a trial's Royal North client joined with 40 rows
    of Clinique Alpes, each saying so in column 'hospital')."""
    if frame is None or not site or not column or column not in frame:
        return
    values = frame[column].dropna().astype(str).str.strip()
    named = sorted(set(values) - {""})
    if not named or str(site).strip().casefold() in {v.casefold() for v in named}:
        return  # (its own name, in another case: its rows)
    shown = ", ".join(repr(v) for v in named[:3]) + (" ..." if len(named) > 3 else "")
    rows, whose = (
        ("its rows", "other sites'") if len(named) > 1 else ("every row", "another site's")
    )
    raise DataError(
        f"--data {data}: column {column!r} names {rows} {shown}, never {site!r} (--site): these "
        f"are {whose} rows; pass this site's own file, or the --site its rows name"
    )


def _site_column(frame: Any, site: str | None) -> tuple[str, int] | None:
    """A text column of ``frame`` with ``site`` among a few other values, and how many."""
    if frame is None or not site:
        return None
    holding = columns_holding(frame, site)
    return holding[0] if holding else None
