"""A category written as another kind of value than the model learned it: ``1`` or ``"yes"``
for a feature learned as true/false, a number for one learned as text. The model reads such a
value as 'unseen' (no information); ``serve`` (each answer's ``note``) and ``predict`` (a
warning per column) say so in the same words, naming the model's own categories and never the
value sent (patient data). One implementation for both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from medadapt.checks import is_number
from medadapt.data.feature_kinds import is_missing, level

MAX_SHOWN_CATEGORIES = 12  # a kind slip's note lists at most these of the model's categories
#: how a note names the kind of a category value (one, several)
KIND_WORDS = {"boolean": "a boolean", "number": "a number", "text": "text"}
KIND_PLURALS = {"boolean": "booleans", "number": "numbers", "text": "text"}


def value_kind(value: Any) -> str:
    """What kind of category ``value`` (sent, or a learned level) is: ``boolean`` (true/false,
    however written), ``number`` (``1``, ``"1"``, ``1.0``) or ``text``.

    >>> value_kind(True), value_kind("TRUE"), value_kind(1.0), value_kind("1"), value_kind("M")
    ('boolean', 'boolean', 'number', 'number', 'text')
    """
    if isinstance(value, bool):
        return "boolean"
    text = level(value)
    if text in ("True", "False"):
        return "boolean"
    return "number" if is_number(text) else "text"


def slipped_kind(categories: Iterable[Any], value: Any) -> str | None:
    """The kind of ``value`` when the model did not learn it and none of its learned
    ``categories`` is of that kind (a kind slip); None when ``value`` is missing, learned, or
    of a kind the model knows (then merely unseen).

    >>> slipped_kind(["False", "True"], 1), slipped_kind(["False", "True"], "TRUE")
    ('number', None)
    >>> slipped_kind(["Female", "Male"], "other"), slipped_kind(["Female", "Male"], 0)
    (None, 'number')
    """
    learned = list(categories)
    if is_missing(value) or level(value) in learned:
        return None
    sent = value_kind(value)
    return None if sent in {value_kind(category) for category in learned} else sent


def shown_categories(categories: list[str]) -> str:
    """The model's categories as a client writes them: true/false as JSON writes them,
    numbers bare, text quoted (at most :data:`MAX_SHOWN_CATEGORIES`, then how many in all).

    >>> shown_categories(["False", "True"]), shown_categories(["1", "2"])
    ('true, false', '1, 2')
    >>> shown_categories(["Female", "Male"])
    "'Female', 'Male'"
    """
    if set(categories) == {"True", "False"}:
        return "true, false"
    shown = [c.lower() if value_kind(c) == "boolean" else c if value_kind(c) == "number"
             else repr(c) for c in categories[:MAX_SHOWN_CATEGORIES]]  # fmt: skip
    more = f" ... ({len(categories)} in all)" if len(categories) > MAX_SHOWN_CATEGORIES else ""
    return ", ".join(shown) + more


def learned_as(categories: list[str], feature: str = "it") -> str:
    """``the model learned it as one of true, false``: what a kind slip's note says of the
    ``feature`` (named, or ``it``)."""
    return f"the model learned {feature} as one of {shown_categories(categories)}"


def kind_slips(schema: Any, instance: dict[str, Any]) -> dict[str, str]:
    """``{feature: kind sent}`` for the categorical values of ``instance`` (one record) that
    are kind slips (:func:`slipped_kind`), in the model's order.

    >>> from types import SimpleNamespace as S
    >>> schema = S(categorical_features=[S(name="exang", categories=["False", "True"])])
    >>> kind_slips(schema, {"exang": 1}), kind_slips(schema, {"exang": "TRUE"})
    ({'exang': 'number'}, {})
    """
    out = {}
    for spec in schema.categorical_features:
        sent = slipped_kind(spec.categories, instance.get(spec.name))
        if sent is not None:
            out[spec.name] = sent
    return out


def kind_slip_note(schema: Any, slips: dict[str, str]) -> str | None:
    """What one record's answer says of its kind slips (:func:`kind_slips`): the model's
    own categories to send, never the value sent; None when there is none.

    >>> from types import SimpleNamespace as S
    >>> schema = S(categorical_features=[S(name="exang", categories=["False", "True"])])
    >>> print(kind_slip_note(schema, {"exang": "number"}))  # doctest: +NORMALIZE_WHITESPACE
    'exang' was sent as a number, but the model learned it as one of true, false: send one of
    those (it was read as 'unseen': no information)
    """
    learned = {spec.name: spec.categories for spec in schema.categorical_features}
    said = [
        f"{name!r} was sent as {KIND_WORDS[sent]}, but {learned_as(list(learned[name]))}: send "
        "one of those (it was read as 'unseen': no information)"
        for name, sent in slips.items()
    ]
    return "; ".join(said) or None


def column_kind_slips(categories: list[str], values: Iterable[Any]) -> tuple[int, str] | None:
    """``(rows, kind)`` for a column's ``values`` (a file's) that are kind slips: how many,
    and the commonest kind among them; None when none is.

    >>> column_kind_slips(["False", "True"], [1, 0, True, None, "yes"])
    (3, 'number')
    """
    kinds = Counter(k for k in (slipped_kind(categories, v) for v in values) if k is not None)
    if not kinds:
        return None
    return sum(kinds.values()), kinds.most_common(1)[0][0]


def column_kind_slip_note(column: str, categories: list[str], rows: int, kind: str) -> str:
    """What a file's column with kind slips says (after its count of unseen values), in the
    words of :func:`kind_slip_note`.

    >>> print(column_kind_slip_note("exang", ["False", "True"], 3, "number"))
    ... # doctest: +NORMALIZE_WHITESPACE
    3 of them were written as numbers, but the model learned 'exang' as one of true, false:
    recode 'exang' as one of those, as in training
    """
    words = KIND_PLURALS[kind] if rows != 1 else KIND_WORDS[kind]
    learned = learned_as(categories, repr(column))
    return (
        f"{rows} of them {'were' if rows != 1 else 'was'} written as {words}, but {learned}: "
        f"recode {column!r} as one of those, as in training"
    )
