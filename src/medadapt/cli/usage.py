"""A command-line usage error as one line (:func:`usage_message`).

An unknown option or command is offered the one it most likely meant only when spelt closely
(a letter missing, added, changed or two swapped; click's own guess offered ``--report`` for
``--epochs``). An option that another command takes says where it goes instead: one chosen at
``train-base`` and kept with the model (a table's label and columns, how images are read, the
architecture), a training option given to a command that does not train, or any other
option, by naming the commands that take it.

>>> closest("--thresold", ["--threshold", "--json"]), closest("--epochs", ["--report"])
('--threshold', None)
>>> closest("--taks", ["--task", "--base"]), closest("--lr", ["--help"])
('--task', None)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence

import click

from medadapt.evaluate.report.formatting import listed

KEPT_WITH_THE_BASE = {
    "--task": "the base's task is used",
    "--positive-class": "the base's outcome is used as train-base defined it",
    "--positive-above": "the base's outcome is used as train-base defined it",  # (no
    # threshold at all for a measured value's base: a trial read "the base's threshold")
    "--missing-code": "the base's codes are read as missing, and so is an empty cell: leave a "
    "code only --data writes as empty cells there",
    "--categorical": "the base's columns are read as it read them",
    "--numeric": "the base's columns are read as it read them",
    "--exclude": "the base's columns are read as it read them",
}
"""``train-base`` options that a verb reading a trained base (:data:`READS_A_BASE`) does not
take: how the label and columns are read is kept with the model. Each: what is used instead."""
NEW_BASE_WITH = dict.fromkeys(
    ("--positive-class", "--positive-above"),
    "train-base --positive-class (a table's label of two values) or --positive-above (a "
    "table's measured one)",
)
"""How to train a base that takes ``flag``, where ``train-base FLAG`` alone may not work: a
trial's measured outcome was told "train-base --positive-class", which train-base refuses
for a label of 214 values (its fix: ``--positive-above``). Both are a table's: a trial's
image base was sent to them."""
READS_A_BASE = ("adapt", "evaluate", "predict", "check-data", "federate server", "federate client")


def kept_with_the_base(
    flag: str, verb: str, used: str, *, when: str = "", new_base: str | None = None
) -> str:
    """Why ``verb`` refuses ``train-base``'s ``flag`` (``when``: " with --base"): it is kept
    with the model, and ``used`` is used instead; ``new_base``: how to train one with it."""
    return (
        f"{flag} is chosen at train-base and kept with the model, so {verb} does not take "
        f"it{when} ({used}): drop it, or train a new base with {new_base or f'train-base {flag}'}"
    )


_ARCHITECTURE = "the base's architecture is used"
DECIDED_AT_TRAIN_BASE = {
    **KEPT_WITH_THE_BASE,
    "--label": "the base's label column is used",
    "--window": "the base reads intensities as it trained: its CT window, where it has one",
    "--image-size": "the base's image size is used",
    "--channels": "the base's channels are used",
    "--spatial-dims": "the base's 2D or 3D reading is used",
    "--slices": "the base's choice of slices is used",
    "--spacing": "the base's voxel spacing is used",
    "--bits-stored": "the base's bits stored are used",
    "--class-names": "the base's classes are used; adapt --new-classes adds classes",
    "--normalize": "the base's normalisation is used",
    "--weights": "the base's weights are used",
    **dict.fromkeys(("--backbone", "--backbone-options", "--d-token", "--n-blocks", "--n-heads"),
                    _ARCHITECTURE),
}  # fmt: skip
"""Every ``train-base`` option that a verb reading a trained base (:data:`READS_A_BASE`) does
not take, and what is used instead: the label (``predict``), how a table's label and columns
are read, how images are read (what :mod:`medadapt.modalities.images.options` gives to
``train-base`` and ``study`` only), and the model's architecture."""

TRAINING_OPTIONS = (
    "--epochs", "--lr", "--method", "--methods", "--adapter-options", "--seed", "--seeds",
    "--train-fraction", "--test-fraction", "--fractions", "--freeze-backbone", "--top-blocks",
    "--new-classes", "--compare-full", "--no-compare-full", "--old-data", "--local-epochs",
    "--rounds", "--strategy", "--proximal-mu", "--server-lr", "--dp-clip", "--dp-noise",
    "--personalise",
)  # fmt: skip
"""Options that say how to train (an adapter, a base, a study or a federation)."""

DOES_NOT_TRAIN = {
    "evaluate": "it scores a trained model",
    "predict": "it applies a trained model",
    "check-data": "it checks data before training",
    "serve": "it answers with trained models",
}
"""The verbs that train nothing, each with what it does instead."""

MISSING_SAYS = {
    ("check-data", "--base"): (
        "check-data needs --base, the base model the data would adapt (a train-base --out "
        "folder): to plan how many patients a model needs before one exists, use "
        "medadapt.sample_size in Python (sample_size.binary, sample_size.continuous, "
        "sample_size.validation), or 'medadapt study', which trains a base on --groups and "
        "applies the same criteria"
    ),
}
"""A required option left out, said with what it is and what to do without it, by ``(verb,
flag)``; any other is click's "Missing option" line."""

_NO_SUCH_COMMAND = re.compile(r"^No such command (['\"])(?P<name>.*?)\1\.")


def usage_message(exc: click.ClickException) -> str:
    """``exc`` as one line, with where to read the command's options; an unknown option or
    command offered the one meant only when spelt closely; a ``train-base`` option given to a
    verb that reads the base says where it is chosen, a training option given to a verb that
    does not train says which verbs take it; a required option left out says what to do
    without it where :data:`MISSING_SAYS` knows."""
    context = getattr(exc, "ctx", None)
    command = context.command_path if context is not None else "medadapt"
    see = f"(see '{command} --help')"
    if isinstance(exc, click.NoSuchOption):
        flag = exc.option_name
        meant = _meant(flag, _flags(context))
        return _unknown_option(flag, context) or (
            f"No such option {flag!r}{meant or _taken_elsewhere(flag, context)} {see}"
        )
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        said = next((MISSING_SAYS[(_verb(context), flag)] for flag in exc.param.opts
                     if (_verb(context), flag) in MISSING_SAYS), None)  # fmt: skip
        if said is not None:
            return f"{said} {see}"
    message = " ".join(exc.format_message().split())
    unknown = _NO_SUCH_COMMAND.match(message)
    if unknown is not None and context is not None:
        name = unknown.group("name")
        commands = getattr(context.command, "commands", {})
        return f"No such command {name!r}{_meant(name, commands)} {see}"
    return f"{message} {see}"


def _unknown_option(flag: str, context: click.Context | None) -> str | None:
    """Where ``flag`` goes, when another command takes it (None: said as unknown)."""
    verb = _verb(context)
    if verb in READS_A_BASE and flag in DECIDED_AT_TRAIN_BASE:
        return kept_with_the_base(flag, verb, DECIDED_AT_TRAIN_BASE[flag],
                                  new_base=NEW_BASE_WITH.get(flag))  # fmt: skip
    if verb in DOES_NOT_TRAIN and flag in TRAINING_OPTIONS:
        takers = _taking(flag, context)
        return (
            f"{flag} is a training option, and {verb} does not train ({DOES_NOT_TRAIN[verb]}): "
            f"drop it{_takers_said(takers)}{_for_one_modality(flag, takers)}"
        )
    return None


def _for_one_modality(flag: str, takers: list[str]) -> str:
    """``" (train-base, adapt and study: for images only)"``: the verbs of ``takers`` (those
    taking ``flag``, :func:`_taking`) where one modality alone declares it (``--epochs``: a
    table's model takes none, and a trial told "train-base takes it" was refused there), else
    empty."""
    from medadapt.cli.options import modality_fields
    from medadapt.modalities import registered

    name = flag.removeprefix("--").replace("-", "_")
    owners = {verb: {m.noun for m, _ in modality_fields(verb).get(name, [])} for verb in takers}
    only = [verb for verb in takers if len(owners[verb]) == 1]
    if not only or len(registered()) < 2:
        return ""
    nouns = {noun for verb in only for noun in owners[verb]}
    return f" ({listed(only)}: for {' or '.join(sorted(nouns))} only)"


def _taken_elsewhere(flag: str, context: click.Context | None) -> str:
    """``" for adapt; train-base and federate simulate take it"`` (``adapt
    --freeze-backbone``: the option exists, at other verbs) where commands other than this
    one take ``flag``, else empty."""
    verb = _verb(context)
    takers = _takers(flag, context)
    return f" for {verb}{takers}" if takers and verb is not None else ""


def _taking(flag: str, context: click.Context | None) -> list[str]:
    """The commands that take ``flag`` (the running one does not, or it would not be
    unknown)."""
    return [name for name, flags in _commands(context) if flag in flags]


def _takers(flag: str, context: click.Context | None) -> str:
    """``"; train-base and federate simulate take it"``: the commands that take ``flag``,
    else empty."""
    return _takers_said(_taking(flag, context))


def _takers_said(takers: list[str]) -> str:
    """``takers`` (:func:`_taking`) as :func:`_takers` says them."""
    return f"; {listed(takers)} take{'s' if len(takers) == 1 else ''} it" if takers else ""


def _verb(context: click.Context | None) -> str | None:
    """The command's words below the program ("adapt", "federate server"), however the
    program was started (``medadapt``, ``python -m medadapt.cli``)."""
    words: list[str] = []
    while context is not None and context.parent is not None:
        words.insert(0, context.info_name or "")
        context = context.parent
    return " ".join(words) or None


def _flags(context: click.Context | None) -> list[str]:
    """The option flags of ``context``'s command, ``--help`` included."""
    if context is None:
        return []
    params = context.command.get_params(context)
    return [o for p in params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)]


def _commands(context: click.Context | None) -> Iterator[tuple[str, set[str]]]:
    """Each command of the program (``federate simulate`` too) with its option flags, in the
    order they were registered."""
    if context is None:
        return
    root = context.find_root()

    def walk(group: click.Command, words: Sequence[str]) -> Iterator[tuple[str, set[str]]]:
        for name, command in getattr(group, "commands", {}).items():
            if isinstance(command, click.Group):
                yield from walk(command, [*words, name])
            else:
                flags = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
                yield " ".join([*words, name]), flags

    yield from walk(root.command, [])


def _meant(given: str, names: Iterable[str]) -> str:
    """``"; did you mean '--threshold'?"`` where ``given`` is spelt closely like one of
    ``names``, else empty."""
    close = closest(given, names)
    return f"; did you mean {close!r}?" if close else ""


def closest(given: str, names: Iterable[str]) -> str | None:
    """The one of ``names`` that ``given`` most likely meant: the same but for case, one
    letter missing, added, changed or two swapped (names of 4 letters or more, dashes left
    out), or as alike as difflib's ratio 0.8; else None. A far guess misleads more than none."""
    bare = {name.lstrip("-").casefold(): name for name in names}
    word = given.lstrip("-").casefold()
    if word in bare:
        return bare[word]
    near = [b for b in bare if len(word) >= 4 and _one_edit(word, b)]
    near = near or difflib.get_close_matches(word, list(bare), n=1, cutoff=0.8)
    if not near:
        return None
    best = max(near, key=lambda b: difflib.SequenceMatcher(None, word, b).ratio())
    return bare[best]


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap of two
    neighbouring letters."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = sorted((a, b), key=len)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1 :]
