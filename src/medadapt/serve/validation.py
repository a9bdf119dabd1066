"""Checks on the instances of a prediction request, reported as 422 errors named by field.

Pydantic checks the request's shape; these checks need the model's schema: every key must be a
feature (or the group / id column), text a CSV reads as missing ("NA", "?", "") is read as
missing (:func:`as_csv_reads`), numeric features take finite numbers or null (a number
may be written as a JSON string, "63", as CSV exports often quote them; no other text),
categorical features take a string, number, boolean or null, and an instance must carry at
least one feature. A misspelt field is refused rather than silently treated as missing, with
the field it most likely meant ("did you mean 'chol'?") and the model's fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from medadapt.checks import did_you_mean
from medadapt.data.feature_kinds import TEXT_KINDS, text_kind
from medadapt.data.schema import TableSchema
from medadapt.data.tables import LARGEST_MEASUREMENT, NA_VALUES
from medadapt.evaluate.report.formatting import listed as listed_in_words
from medadapt.registry.records import shown

#: what a numeric feature sent as text that is no number is told ("63" is read as 63)
NOT_A_NUMBER = 'text that is not a number; a number written as text, "63", is read as one'
MAX_LISTED_FIELDS = 50  # a model with more fields has the first ones listed, then " ..."
MIN_PREFIX = 3  # a field sent as a longer or shorter form of a feature ("cholesterol": "chol")


def _error(index: int, field: str | None, msg: str) -> dict[str, Any]:
    loc: list[Any] = ["body", "instances", index]
    if field is not None:
        loc.append(field)
    return {"loc": loc, "msg": msg, "type": "value_error"}


def closest_field(key: str, known: Sequence[str]) -> str | None:
    """The field of ``known`` that ``key`` most likely means: spelt closely or in another
    case (as :func:`~medadapt.checks.did_you_mean` judges), or the one it is a longer or
    shorter form of ("cholesterol", "chol"); None when none is.

    >>> closest_field("store_SR", ["dicomweb", "store_sr"]), closest_field("dicom", ["dicomweb"])
    ('store_sr', 'dicomweb')
    """
    close = did_you_mean(key, known)
    if close:
        return next(name for name in known if close == f"; did you mean {name!r}?")
    folded = key.casefold()
    forms = [
        name
        for name in known
        if min(len(name), len(folded)) >= MIN_PREFIX
        and (folded.startswith(name.casefold()) or name.casefold().startswith(folded))
    ]
    return forms[0] if len(forms) == 1 else None  # none, or several a guess would choose among


def _meant(key: str, known: list[str]) -> str:
    """``"; did you mean 'chol'?"`` for a field spelt closely like a feature, in another case,
    or as a longer or shorter form of it (:func:`closest_field`); empty when none is.

    >>> _meant("cholesterol", ["age", "chol"]), _meant("Age", ["age"]), _meant("x", ["age"])
    ("; did you mean 'chol'?", "; did you mean 'age'?", '')
    """
    meant = closest_field(key, known)
    return "" if meant is None else f"; did you mean {meant!r}?"


def unknown_field(key: str, fields: Sequence[str]) -> str:
    """What a request's field that its body does not take is told: the field meant, or the
    fields the body takes.

    >>> unknown_field("adaptr", ["adapter", "group", "dicomweb", "store_sr"])
    "unknown field 'adaptr': did you mean 'adapter'?"
    >>> unknown_field("colour", ["adapter", "group"])
    "unknown field 'colour': this request takes 'adapter', 'group'"
    """
    meant = closest_field(key, fields)
    if meant is not None:
        return f"unknown field {shown(key)}: did you mean {meant!r}?"
    return f"unknown field {shown(key)}: this request takes {', '.join(map(repr, fields))}"


def _what_was_sent(value: Any) -> str:
    """A value a numeric feature refuses, in words: "NaN", "Infinity", "a number beyond
    ±1e15" (a trial read "(got float)" of a NaN it had sent as a number; another read its
    1e+308 repeated, where the README says an answer never echoes a value), the text's
    reason for text, else its JSON kind."""
    if isinstance(value, str):
        return NOT_A_NUMBER
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number beyond ±1e15"  # not the number: an answer never repeats a value
    return {bool: "true/false", list: "a list", dict: "an object"}.get(type(value), "a value")


def _text_fix(value: Any, feature: Any) -> str:
    """What to send instead of a numeric feature's text, by the kind of text (as ``predict``
    advises of a file's cells; the text itself is never repeated): a trial's "260 mg" was
    told only that "63" is read as a number.

    >>> from medadapt.data.feature_kinds import FeatureSpec
    >>> print(_text_fix("260 mg", FeatureSpec("chol", "numeric", mean=245.68)))
    ... # doctest: +NORMALIZE_WHITESPACE
    : a number with text after it: send the number alone, in the unit the model trained on
    (mean 245.7)
    >>> _text_fix("-", FeatureSpec("chol", "numeric"))
    ": a dash (often written for 'not measured'): send null for a value not measured"
    """
    if not isinstance(value, str):
        return ""
    kind = text_kind(value)
    fixes = {
        "unit": "send the number alone, in the unit the model trained on "
        f"(mean {feature.mean:.4g})",
        "comma": "send it with a decimal point (12.5), without separators",
        "compared": "send the number measured, or null where the test gave no number",
        "dash": "send null for a value not measured",
    }
    if kind not in fixes:
        return ""
    return f": {TEXT_KINDS[kind][0]}: {fixes[kind]}"


def _finite_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return math.isfinite(number) and abs(number) <= LARGEST_MEASUREMENT


def as_csv_reads(schema: TableSchema, instance: dict[str, Any]) -> dict[str, Any]:
    """``instance`` with each feature's text that a CSV reads as missing (an empty cell,
    ``"NA"``, ``"?"``, ``"N/A"``, ... :data:`~medadapt.data.tables.NA_VALUES`, spaces aside)
    as null: a request answers as the same row of a CSV is predicted (a trial's ``"NA"`` in a
    number was refused with a 422 and its ``"?"`` in a category read as an unseen value,
    where ``predict`` read both as missing). Other fields are left as sent.

    >>> from types import SimpleNamespace as S
    >>> schema = S(features=[S(name="chol"), S(name="thal")])
    >>> as_csv_reads(schema, {"chol": "NA", "thal": " ? ", "dataset": "NA", "age": 63})
    {'chol': None, 'thal': None, 'dataset': 'NA', 'age': 63}
    """
    features = {f.name for f in schema.features}
    return {key: None if key in features and isinstance(value, str)
            and value.strip() in NA_VALUES else value
            for key, value in instance.items()}  # fmt: skip


#: more unknown fields than this, none spelt like one of the model's, are said in one error
MANY_UNKNOWN = 4


def _many_unknown(
    keys: list[str], fields_said: str, elsewhere: Mapping[str, frozenset[str]] | None
) -> str:
    """One error for an instance's many fields of another model: how many, the first few, and
    the served adapter whose fields they all are, where one's are."""
    first = ", ".join(shown(key) for key in keys[:MANY_UNKNOWN])
    owners = sorted(name for name, fields in (elsewhere or {}).items() if set(keys) <= fields)
    whose = ""
    if owners:  # (none: a review's 500, listing an empty list)
        adapters = "adapter" if len(owners) == 1 else "adapters"
        named = listed_in_words([repr(name) for name in owners])
        whose = (f"; they are the fields of {adapters} {named}: send the instance there "
                 '("adapter": NAME)')  # fmt: skip

    return (f"{len(keys)} of this instance's fields are not fields of this model ({first} "
            f"...){whose} (its fields: {fields_said})")  # fmt: skip


def check_instance(
    schema: TableSchema,
    index: int,
    instance: dict[str, Any],
    routing_fields: Iterable[str] = (),
    elsewhere: Mapping[str, frozenset[str]] | None = None,
) -> list[dict[str, Any]]:
    """Field errors of instance ``index`` (an empty list when it can be scored). Fields that
    route to an adapter (``routing_fields``: other models' group columns) are let through
    unsaid; many unknown fields with no field meant among them are one error, naming the
    served adapter whose fields they are (``elsewhere``: each other served adapter's fields)
    where one has them all (a trial's breast-cancer row sent to a diabetes adapter got 20
    near-alike errors of a kilobyte each, and "more_errors": 10)."""
    features = {f.name for f in schema.features}
    own = sorted({c for c in (schema.group_column, schema.id_column) if c})
    allowed = features | set(own) | set(routing_fields)
    errors = []
    known = sorted(features)
    fields_said = ", ".join(known[:MAX_LISTED_FIELDS]) + (
        " ..." if len(known) > MAX_LISTED_FIELDS else ""
    )
    fields_said += f"; also read: {', '.join(own)}" if own else ""  # this model's, not routing's
    strangers = [key for key in instance if key not in allowed
                 and key != getattr(schema, "label", None)
                 and closest_field(key, known + own) is None]  # fmt: skip
    if len(strangers) > MANY_UNKNOWN:
        errors.append(_error(index, None, _many_unknown(strangers, fields_said, elsewhere)))
    for key in instance:
        if key in strangers and len(strangers) > MANY_UNKNOWN:
            continue
        if key == getattr(schema, "label", None):  # a trial sent its whole CSV row
            errors.append(
                _error(
                    index,
                    key,
                    f"{shown(key)} is the outcome this model "
                    "predicts, not one of its fields: leave it out of the request",
                )
            )
        elif key not in allowed:  # the group and id fields too: a trial's "datset" was
            # told neither its spelling nor the field
            said = f"{shown(key)} is not a field of this model{_meant(key, known + own)}"
            errors.append(_error(index, key, f"{said} (its fields: {fields_said})"))
    for feature in schema.numeric_features:
        value = instance.get(feature.name)
        if value is not None and not _finite_number(value):
            got = _what_was_sent(value)
            errors.append(
                _error(
                    index,
                    feature.name,
                    f"{feature.name} must be a finite number within ±1e15 or null (got {got})"
                    + _text_fix(value, feature),
                )
            )
    for feature in schema.categorical_features:
        value = instance.get(feature.name)
        if value is not None and not isinstance(value, str | int | float | bool):
            errors.append(
                _error(
                    index,
                    feature.name,
                    f"{feature.name} must be a text, number or boolean category or null, "
                    f"got {type(value).__name__}",
                )
            )
    if not errors and not features & set(instance):
        errors.append(
            _error(index, None, "the instance has none of the model's features; send at least one")
        )
    return errors
