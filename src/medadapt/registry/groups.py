"""The group a promoted version serves, and the versions that would serve it together.

A server routes a request sent for a group (``"group": "North"``, or an instance whose group
field says so) to the promoted adapter trained for that group: the same group column and
value, on a base model of the request's kind (table or image). Two promoted adapters of
different names for one group leave it unable to choose, and it refuses every request for
that group; ``promote`` checks this before it serves a version.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from medadapt.registry.bases import base_fields, base_kind, base_outcome
from medadapt.registry.records import AdapterVersion


def served_group(v: AdapterVersion) -> tuple[str, str] | None:
    """``(group column, group)`` that ``v`` serves once promoted, as a server keys it (None:
    trained on every row, or no group recorded: served by name only)."""
    column, group = v.data_summary.get("group_column"), v.data_summary.get("group")
    if not column or group is None:
        return None
    return str(column), str(group)


def group_key(group: tuple[str, str]) -> str:
    """A served group as one string, its column named: ``site=North`` (``/healthz`` keys the
    groups several promoted adapters claim so).

    >>> group_key(("site", "North"))
    'site=North'
    """
    column, value = group
    return f"{column}={value}"


def group_rivals(
    root: str | Path, target: AdapterVersion, promoted: Iterable[AdapterVersion]
) -> list[AdapterVersion]:
    """The ``promoted`` versions of other names that serve ``target``'s group: with
    ``target`` promoted too, a server would answer no request for that group. Two on base
    models of different kinds (a table's and an image's) do not compete, nor two predicting
    different outcomes (a trial's clinic served a diabetes and a breast-cancer model: a
    request names which by its adapter, :func:`served_for_other_outcomes`); where a base's kind or
    outcome is unknown (not registered), they are taken to."""
    group = served_group(target)
    if group is None:
        return []
    rivals = []
    for v in promoted:
        if v.name != target.name and served_group(v) == group and _same_model_kind(root, target, v):
            rivals.append(v)
    return rivals


def served_for_other_outcomes(
    root: str | Path, target: AdapterVersion, promoted: Iterable[AdapterVersion]
) -> list[tuple[AdapterVersion, str]]:
    """The ``promoted`` versions of other names serving ``target``'s group for another
    outcome, each with that outcome: served side by side, a request naming only the group
    cannot say which it wants (the server answers it 409; naming the adapter works)."""
    group = served_group(target)
    if group is None:
        return []
    mine = target.base_fingerprint.get("weights", "")
    kind, wanted = base_kind(root, mine), base_outcome(root, mine)
    found = []
    for v in promoted:
        if v.name == target.name or served_group(v) != group:
            continue
        theirs = v.base_fingerprint.get("weights", "")
        outcome = base_outcome(root, theirs)
        if base_kind(root, theirs) == kind and None not in (wanted, outcome) and outcome != wanted:
            found.append((v, str(outcome)))
    return found


def _same_model_kind(root: str | Path, one: AdapterVersion, other: AdapterVersion) -> bool:
    """Whether two adapters' bases are of one kind and predict one outcome (unknown: taken
    to be, so that a doubt refuses)."""
    mine, theirs = (v.base_fingerprint.get("weights", "") for v in (one, other))
    for read in (base_kind, base_outcome):
        a, b = read(root, mine), read(root, theirs)
        if a is not None and b is not None and a != b:
            return False
    return True


def rivals_refused(target: AdapterVersion, rivals: list[AdapterVersion], command: str) -> str:
    """Why ``target`` is not promoted beside ``rivals`` (which serve its group), and the two
    ways on: stop serving them, or ``--force`` to serve ``target`` in their place
    (``command``: the registry command as the user typed it)."""
    column, group = served_group(target) or ("?", "?")
    one = len(rivals) == 1
    clear = " and ".join(f"'{command} promote {v.name} --clear'" for v in rivals)
    return (
        f"{' and '.join(v.ref for v in rivals)} already {'serves' if one else 'serve'} group "
        f"{group!r} (column {column!r}): with {target.ref} promoted too, the server would "
        f"answer no request sent for that group; stop serving {'it' if one else 'them'} "
        f"first with {clear}, or pass --force to serve {target.ref} in "
        f"{'its' if one else 'their'} place"
    )


def fields_dropped(
    root: str | Path, target: AdapterVersion, served: AdapterVersion | None
) -> tuple[list[str], list[str]]:
    """The request fields ``served`` (the version of the name served now) reads that
    ``target``'s base does not, and those it reads that ``served``'s does not: promoted on
    another base, clients sending the old fields are refused (422), a trial's 23 of 30. Both
    empty where the bases read the same fields, or either is unknown."""
    if served is None or served.ref == target.ref:
        return [], []
    old, new = (base_fields(root, v.base_fingerprint.get("weights", "")) for v in (served, target))
    if old is None or new is None:
        return [], []
    return [f for f in old if f not in new], [f for f in new if f not in old]


def fields_refused(target: AdapterVersion, served: AdapterVersion, dropped: list[str],
                   added: list[str]) -> str:  # fmt: skip
    """Why ``target`` is not promoted in the place of ``served``: it reads other fields."""
    new = f" (and reads {len(added)} it does not)" if added else ""
    return (
        f"{target.ref} is on a base model that reads other fields than {served.ref}, served "
        f"now: {len(dropped)} of {served.ref}'s fields "
        f"{'is not a field' if len(dropped) == 1 else 'are not fields'} of {target.ref} "
        f"({listed_fields(dropped)}){new}, so clients sending them would be refused (422); add "
        f"it under another --name, or pass --force to serve it in {served.ref}'s place all the "
        "same"
    )


def listed_fields(fields: list[str], most: int = 4) -> str:
    """The first ``most`` field names quoted, ``...`` for the rest.

    >>> listed_fields(["a", "b", "c", "d", "e"])
    "'a', 'b', 'c', 'd', ..."
    """
    return ", ".join(repr(f) for f in fields[:most]) + (", ..." if len(fields) > most else "")
