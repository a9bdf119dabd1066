"""What a tabular prediction says about its inputs: the features the model could not use
(missing, or a category it did not learn, read as 'unseen': no information), a category sent
in another upper/lower case than the model learned it ("male" for "Male") or as another kind of
value (a number, ``1``, for a feature learned as true/false), and the rule that withholds a
prediction resting on too few features.

``predict`` scores such rows and warns (a case slip is a warning there, never a refusal);
``serve`` answers the same way: the prediction (or its withholding) with a ``note``. Fields
are named, and the model's own category, never a value the client sent (patient data). The
kind slips are found and said by :mod:`medadapt.modalities.tabular.kind_slips`, which
``predict`` uses too.
"""

from __future__ import annotations

from typing import Any

from medadapt.data.feature_kinds import is_missing, learned_spelling, level
from medadapt.data.missing_codes import is_missing_value, served_number
from medadapt.evaluate.report.formatting import listed
from medadapt.modalities.tabular.findings import (
    MOSTLY_MISSING,
    mostly_missing_note,
    withheld_note,
)


def missing_in_record(schema: Any, instance: dict[str, Any]) -> list[str]:
    """The features the model reads as missing in ``instance``: absent, null, or the feature's
    ``--missing-code`` ("not measured", as ``predict`` and the encoder read it)."""
    codes = schema.missing_codes
    return [f.name for f in schema.features
            if is_missing_value(instance.get(f.name), codes.get(f.name))]  # fmt: skip


def unseen_categories(schema: Any, instance: dict[str, Any]) -> list[str]:
    """The categorical features whose value the model did not learn (new, too rare in
    training, or coded otherwise: "male" for "M"): scored as "unseen", named, never echoed."""
    return [
        f.name
        for f in schema.categorical_features
        if not is_missing(instance.get(f.name)) and level(instance[f.name]) not in f.categories
    ]


def case_slips(schema: Any, instance: dict[str, Any]) -> dict[str, str]:
    """``{feature: learned category}`` for the categorical values of ``instance`` that differ
    from a category the model learned only in upper/lower case (read as 'unseen', as
    ``predict`` reads them), in the model's order.

    >>> from types import SimpleNamespace as S
    >>> schema = S(categorical_features=[S(name="sex", categories=["Female", "Male"])])
    >>> case_slips(schema, {"sex": "male"}), case_slips(schema, {"sex": "Male"})
    ({'sex': 'Male'}, {})
    """
    out = {}
    for spec in schema.categorical_features:
        value = instance.get(spec.name)
        spelt = None if is_missing(value) else learned_spelling(spec.categories, level(value))
        if spelt is not None:
            out[spec.name] = spelt
    return out


def case_slip_note(slips: dict[str, str]) -> str | None:
    """What to send instead of a category written in another case (the model's spelling of
    each field; None when there is none).

    >>> case_slip_note({"sex": "Male", "cp": "Asymptomatic"})
    "the values sent for 'sex' and 'cp' differ from a category the model learned only in \
upper/lower case, and were read as 'unseen' (no information): send the model's spelling \
('sex': 'Male', 'cp': 'Asymptomatic')"
    """
    if not slips:
        return None
    one = len(slips) == 1
    spellings = ", ".join(f"{name!r}: {learned!r}" for name, learned in slips.items())
    return (
        f"the {'value' if one else 'values'} sent for {listed(repr(n) for n in slips)} "
        f"{'differs' if one else 'differ'} from a category the model learned only in "
        f"upper/lower case, and {'was' if one else 'were'} read as 'unseen' (no information): "
        f"send the model's spelling ({spellings})"
    )


def other_unseen_note(schema: Any, unseen: list[str], said: set[str]) -> str | None:
    """What an answer says of the features in ``unseen`` (:func:`unseen_categories`) that no
    other note explains (``said``: the case and kind slips'): the model's own categories,
    never the value sent (a trial's ``"cp": "weird pain"`` was listed in unseen_categories
    without a word, beside a note for its ``"sex": "male"``); None when there is none.

    >>> from types import SimpleNamespace as S
    >>> schema = S(categorical_features=[S(name="cp", categories=["atypical", "typical"])])
    >>> print(other_unseen_note(schema, ["cp"], set()))  # doctest: +NORMALIZE_WHITESPACE
    'cp' is none of the categories the model learned for it ('atypical', 'typical'): it was
    read as 'unseen' (no information); send one of those, or null if not recorded
    """
    from medadapt.modalities.tabular.kind_slips import shown_categories

    learned = {spec.name: spec.categories for spec in schema.categorical_features}
    said_of = [
        f"{name!r} is none of the categories the model learned for it "
        f"({shown_categories(list(learned[name]))}): it was read as 'unseen' (no information); "
        "send one of those, or null if not recorded"
        for name in unseen
        if name not in said and name in learned
    ]
    return "; ".join(said_of) or None


def outside_note(names: list[str], *, predicted: bool = True) -> str | None:
    """What an answer says of the features in ``outside_training`` (a trial's negative
    tumour radius got ``probability 0.0015`` and ``"note": null``: a client showing the
    answer alone showed a confident result); None when there is none. ``predicted`` False:
    no prediction was made (withheld), so none extrapolates.

    >>> print(outside_note(["age", "bmi"]))  # doctest: +NORMALIZE_WHITESPACE
    the values sent for 'age' and 'bmi' lie far outside those the model was trained on (a
    unit or typing error?): the prediction extrapolates there and may be wrong; check them
    >>> print(outside_note(["chol"], predicted=False))  # doctest: +NORMALIZE_WHITESPACE
    the value sent for 'chol' lies far outside those the model was trained on (a unit or
    typing error?): check it
    """
    if not names:
        return None
    one = len(names) == 1
    so = ": the prediction extrapolates there and may be wrong;" if predicted else ":"
    return (
        f"the {'value' if one else 'values'} sent for {listed(repr(n) for n in names)} "
        f"{'lies' if one else 'lie'} far outside those the model was trained on (a unit or "
        f"typing error?){so} check {'it' if one else 'them'}"
    )


def too_few_used(missing: int, unseen: int, features: int) -> bool:
    """True when the features missing or not understood (an unseen category carries no
    information) are more than half of the model's: such a prediction is withheld."""
    return bool(features) and (missing + unseen) / features > MOSTLY_MISSING


def unused_note(missing: int, unseen: int, features: int, *, withheld: bool) -> str | None:
    """What a prediction resting on few of the model's features says: how many were missing
    and how many not understood (an unseen category), and whether it was ``withheld``. With
    no unseen category, in ``predict``'s and the reports' words.

    >>> unused_note(1, 1, 4, withheld=True) is None
    True
    >>> print(unused_note(1, 6, 13, withheld=True))  # doctest: +NORMALIZE_WHITESPACE
    7 of the model's 13 features were missing or not understood (1 missing, read as 'not
    measured', never imputed; 6 with a category the model never learned, read as 'unseen'): a
    prediction resting on 6 is withheld; send the missing ones, and the categories named in
    unseen_categories as the model learned them, or start the server with --score-sparse to
    answer such instances anyway
    """
    if not too_few_used(missing, unseen, features):
        return None
    if not unseen:
        return (withheld_note if withheld else mostly_missing_note)(missing, features)
    unused = missing + unseen
    parts = [f"{missing} missing, read as 'not measured', never imputed"] if missing else []
    parts.append(f"{unseen} with a category the model never learned, read as 'unseen'")
    fixes = ["send the missing ones"] if missing else []
    fixes.append("the categories named in unseen_categories as the model learned them")
    fix = ", and ".join(fixes) if missing else f"send {fixes[0]}"
    said = (
        f"{unused} of the model's {features} features were missing or not understood "
        f"({'; '.join(parts)})"
    )
    if withheld:
        return (
            f"{said}: a prediction resting on {features - unused} is withheld; {fix}, or start "
            "the server with --score-sparse to answer such instances anyway"
        )
    return f"{said}: this prediction rests on {features - unused}; {fix} before relying on it"


def coded_missing_note(instance: dict[str, Any], missing: list[str]) -> str | None:
    """Which of the ``missing`` features were sent as the model's code for "not measured"
    (its ``--missing-code``, given or found at train-base) rather than left out: a trial sent
    ``"chol": 0`` and was told to send it "if it was measured". The code is the model's,
    never another value the client sent.

    >>> coded_missing_note({"chol": 0, "age": None}, ["chol", "age", "bp"])
    "'chol' was sent as 0, this model's code for 'not measured' (recorded at train-base)"
    """
    sent = [f"{name!r} was sent as {served_number(instance[name]):g}"
            for name in missing if instance.get(name) is not None]  # fmt: skip
    if not sent:
        return None
    code = "codes" if len(sent) > 1 else "code"
    return f"{listed(sent)}, this model's {code} for 'not measured' (recorded at train-base)"


def lacking_note(missing: list[str], unseen: int, features: int) -> str | None:
    """What a prediction that lacked some of the model's features, not enough to be withheld
    or said by :func:`unused_note`, says: which (named) and how many of how many; None where
    none is missing. A trial's answer lacking 4 of 10 (log triglycerides among them) carried
    a null note, its ``missing_features`` alone saying it.

    >>> print(lacking_note(["s3", "s5"], 0, 10))  # doctest: +NORMALIZE_WHITESPACE
    scored without 's3', 's5' (2 of the model's 10 features missing, read as 'not measured',
    never imputed): send them if they were measured
    """
    if not missing or too_few_used(len(missing), unseen, features):
        return None
    them = "them if they were" if len(missing) > 1 else "it if it was"
    return (f"scored without {', '.join(map(repr, missing))} ({len(missing)} of the model's "
            f"{features} features missing, read as 'not measured', never imputed): send {them} "
            "measured")  # fmt: skip
