"""Every leak of a simulation, found before anything trains and refused once.

``federate simulate`` holds every site's rows on this machine, so the leak checks each step
will run (:mod:`medadapt.data.leaks`: ``train-base``'s on the base's training rows when the
run trains its base, ``adapt``'s on each site's rows) run first, together: one refusal names
every column that alone predicts the label, where it does (the base's training rows, which
sites) and the fix. Before, each step refused in turn: a user who fixed the base's column met
the first site's on the next run, then the next site's. Each step keeps its own check.

Tables only (the other modalities have no leak checks). A deployment's server cannot do this:
it never sees a site's rows; each hospital's client judges its own before it joins.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.data.leaks import (
    TRAIN_BASE_ADVICE,
    Leak,
    copies_said_once,
    copy_words,
    find_leaks,
    may_be,
    threshold_words,
)
from medadapt.data.missing_codes import read_as_missing
from medadapt.data.schema import TableSchema
from medadapt.errors import DataError
from medadapt.evaluate.report.formatting import listed
from medadapt.federated.config import FederatedRun
from medadapt.federated.sites import every_site_present
from medadapt.modalities.base import Modality, Reading, Samples, names
from medadapt.workflows.splitting import select

#: the share of the base's patients ``train_base_job`` holds out when ``federate simulate``
#: trains its base (``--base-groups``); its leak check judges the other patients' rows
BASE_TEST_FRACTION = 0.2
BASE_ROWS = "in the base's training rows"
#: the advice with ``--base``: the base's inputs are fixed (``--exclude`` is train-base's)
GIVEN_BASE_ADVICE = (
    "keep {it} with --allow-leak {names} if {genuine} measured before the outcome, or correct "
    "{whose} export of {it}"
)
#: said where a site's rows leak, as the sites' other refusals say it; only of the columns
#: found at sites alone (``for``: naming them where another column leaks in the base's rows,
#: which leaving a site out does not fix)
LEAVE_OUT = (
    "(or {for_}leave {which} out of --groups, or pass --on-site-error continue to go on "
    "without {it})"
)

Found = tuple[str, Leak]  # where (BASE_ROWS, "at site Hungary") and the leak there


def refuse_leaks_at_sites(run: FederatedRun, modality: Modality, base: Any, options: Any) -> None:
    """With ``--base``: every site's rows judged as its node will judge them, before the
    rounds; every column that alone predicts the label at some site refused in one line
    (``--on-site-error stop``; under ``continue`` each such site is left out, said by the
    sites' own checks)."""
    schema = base.schema
    if run.on_site_error != "stop" or not isinstance(schema, TableSchema):
        return
    rows = modality.read_for_model(run.data, base, options, group_column=run.group_column,
                                   label=run.label)  # fmt: skip
    every_site_present(run, rows)
    allowed = [*schema.allowed_leaks, *names(getattr(options, "allow_leak", None))]
    _refuse(_at_sites(run, schema, rows, allowed), str(schema.label), trained_here=False)


def refuse_leaks_before_the_base(
    run: FederatedRun, modality: Modality, options: Any, base_groups: Sequence[str],
    every_row: Samples,
) -> None:  # fmt: skip
    """With ``--base-groups``: the base's training rows judged as ``train-base`` will judge
    them (its split, its columns) and, under ``--on-site-error stop``, each site's rows
    (``every_row``: the file's, read for training) judged for the base it will get; every
    column found refused in one line, before the base trains."""
    if getattr(every_row, "frame", None) is None:  # not a table: no leak checks
        return
    reading = Reading(run.label, run.group_column, tuple(base_groups), run.id_column)
    rows = modality.read_training(run.data, options, reading)
    train, _test = modality.patient_split(rows, np.arange(len(rows)), BASE_TEST_FRACTION,
                                          run.seed)  # fmt: skip
    training = rows.subset(train)
    schema = _schema_to_be(modality, training, options, reading)
    if schema is None:  # train-base says why, in its own words
        return
    allowed = names(getattr(options, "allow_leak", None))
    found = [(BASE_ROWS, leak) for leak in _leaks(schema, training.frame, allowed,
                                                  group_column=run.group_column)]  # fmt: skip
    if run.on_site_error == "stop":
        found += _at_sites(run, schema, every_row, allowed)
    _refuse(found, str(schema.label), trained_here=True)


def _schema_to_be(modality: Modality, training: Samples, options: Any,
                  reading: Reading) -> TableSchema | None:  # fmt: skip
    """The schema ``train-base`` will fit on ``training`` (its columns, as it will read them),
    its leak refusal set aside (every column kept for now: all of them are judged here at
    once); None where it cannot be fitted."""
    every_column = tuple(str(column) for column in training.frame.columns)
    try:
        schema, _warnings = modality.fit_schema(
            training, dataclasses.replace(options, allow_leak=every_column), reading
        )
    except DataError:
        return None
    return schema if isinstance(schema, TableSchema) else None


def _at_sites(run: FederatedRun, schema: TableSchema, rows: Samples,
              allowed: Sequence[str]) -> list[Found]:  # fmt: skip
    """The leaks at each site of ``run``, judged on all its rows as ``adapt``'s check judges
    them (a site's training and held-out rows together)."""
    found = []
    for site in run.sites:
        chosen = select(rows, run.group_column, [site], what="--groups")
        frame = rows.subset(chosen).frame
        found += [(f"at site {site}", leak) for leak in _leaks(schema, frame, allowed)]
    return found


def _leaks(schema: TableSchema, frame: Any, allowed: Sequence[str], *,
           group_column: str | None = None) -> list[Leak]:  # fmt: skip
    """The inputs of ``schema`` that alone predict its label on ``frame`` (its "not measured"
    codes read as missing), less those kept with ``--allow-leak``."""
    judged = find_leaks(schema, read_as_missing(frame, schema.missing_codes),
                        group_column=group_column)  # fmt: skip
    return [leak for leak in judged if leak.column not in set(allowed)]


def _refuse(found: list[Found], label: str, *, trained_here: bool) -> None:
    """One :class:`DataError` naming every column of ``found``, each with where it predicts
    ``label`` and how well, and the fix in ``federate simulate``'s flags (``trained_here``:
    its base is trained by this run, so ``--exclude`` leaves a column out)."""
    if not found:
        return
    by_column: dict[str, list[Found]] = {}
    for where, leak in found:
        by_column.setdefault(leak.column, []).append((where, leak))
    one = len(by_column) == 1
    sites = list(dict.fromkeys(where.removeprefix("at site ") for where, _ in found
                               if where != BASE_ROWS))  # fmt: skip
    leaks = [leak for _where, leak in found]
    once = copies_said_once(leaks, label)  # else beside each figure that is a copy
    places = {column: " and ".join(f"{where} ({leak.measured('rows')}"
                                   f"{'' if once else copy_words(leak, label)})"
                                   for where, leak in at)
              for column, at in by_column.items()}  # fmt: skip
    fields = {
        "names": shlex.quote(",".join(by_column)),  # pasted in a shell
        "it": "it" if one else "them",
        "genuine": "it is a genuine predictor" if one else "they are genuine predictors",
        "whose": "the site's" if len(sites) == 1 else "the sites'",
    }
    advice = (TRAIN_BASE_ADVICE if trained_here else GIVEN_BASE_ADVICE).format(**fields)
    advice += _leave_out(by_column)
    if one:
        column, where = next(iter(places.items()))
        what = f"column {column!r} alone predicts {label!r} {where}"
    else:
        said = "; ".join(f"{column!r} {where}" for column, where in places.items())
        what = f"columns each alone predict {label!r}: {said}"
    raise DataError(f"{what}, {threshold_words(leaks)}: {may_be(leaks)}{once}; {advice}")


def _leave_out(by_column: dict[str, list[Found]]) -> str:
    """:data:`LEAVE_OUT` for the columns found at sites alone, naming the sites they leak at
    (and the columns, where another leaks in the base's rows too); ``""`` where none is."""
    alone = {column: [where.removeprefix("at site ") for where, _ in at]
             for column, at in by_column.items()
             if all(where != BASE_ROWS for where, _ in at)}  # fmt: skip
    if not alone:
        return ""
    sites = list(dict.fromkeys(site for at in alone.values() for site in at))
    which = f"site {sites[0]}" if len(sites) == 1 else f"sites {', '.join(sites)}"
    for_ = "" if len(alone) == len(by_column) else f"for {listed(map(repr, alone))}, "
    return " " + LEAVE_OUT.format(for_=for_, which=which, it="it" if len(sites) == 1 else "them")
