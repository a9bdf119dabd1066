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

from medadapt.registry.bases import base_kind
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
    models of different kinds (a table's and an image's) do not compete; where a base's kind
    is unknown (not registered), they are taken to."""
    group = served_group(target)
    if group is None:
        return []
    kind = base_kind(root, target.base_fingerprint.get("weights", ""))
    rivals = []
    for v in promoted:
        if v.name == target.name or served_group(v) != group:
            continue
        other = base_kind(root, v.base_fingerprint.get("weights", ""))
        if kind is None or other is None or kind == other:
            rivals.append(v)
    return rivals


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
