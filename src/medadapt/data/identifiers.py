"""Record identifiers in a clinical table: columns that name a row, not describe a patient.

A record number used as a feature is one of the commonest ways a clinical table lies: exported
registries often number patients in the order they were entered, sometimes sorted by diagnosis,
so the number predicts the outcome at one site and means nothing at the next. Such a column
is not used as a feature unless the user asks for it (``--numeric COL``).

A numeric column is taken for an identifier when

* its name reads as one (``id``, ``HADM_ID``, ``PatientID``, ``MRN``, ``PID``, ``EMPI``,
  ``hospital_number``, ``Hosp No``, ``FallNr``, ``Unnamed: 0`` ...) *and* its values do: whole
  numbers, either one per row or at least ``MIN_DISTINCT_IDS`` of them repeated over no more
  than ``1 / REPEATED_SHARE`` rows each on average (several visits of each patient). A
  two-valued ``admission_code`` or a ``visit_no`` of 1-3 is a category, not an identifier; or
* it holds a distinct integer in (nearly) every row and those integers form a sequence
  (their range is at most twice their number: 1..920 with gaps is a sequence, a lab value that
  happens to be all distinct is not).

Names are compared word by word, in any case: ``rapid``, ``lipid``, ``valid``, ``humidity`` or
``number_of_vessels`` contain no identifier word.

>>> identifier_reason("patient_id", [3.0, 1.0, 2.0])
'by its name'
>>> identifier_reason("admission_code", [1.0, 2.0] * 30)
>>> identifier_reason("age", [50.0, 61.0, 70.0])
>>> identifier_reason("n", [float(i) for i in range(1, 41)])
'40 distinct integers in sequence, one per row'
>>> name_tokens("HADM_ID"), name_tokens("PatientID"), name_tokens("Hosp No")
(['hadm', 'id'], ['patient', 'id'], ['hosp', 'no'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from medadapt.data.option_words import COMMAND_LINE, OptionWords

ID_WORDS = frozenset(
    {"id", "ids", "identifier", "uid", "uuid", "guid", "mrn", "urn", "empi", "pid", "ssn",
     "nhi", "seqn", "usubjid", "subjid"}
)  # fmt: skip
"""Words that name a record wherever they stand in a column name: ``HADM_ID``, ``MRN``,
``patient MRN``, ``PID``, ``URN`` (unit record number), ``EMPI`` (enterprise master patient
index), ``NHI`` (New Zealand), ``SEQN`` (NHANES), ``USUBJID`` (CDISC)."""
WHOLE_NAMES = frozenset(
    {"index", "idx", "rowid", "rownum", "rownumber", "nhs", "accession", "patient", "record",
     "chart", "subject", "participant", "person"}
)  # fmt: skip
"""Names that are identifiers only alone (``patient``, ``chart``; ``patient_age`` is a
measurement)."""
PERSON_WORDS = ("patient", "patienten", "pat", "pt", "record", "rec", "medicalrecord", "medrec",
                "subject", "subj", "participant", "person", "case", "fall", "hospital", "hosp",
                "chart", "nhs", "chi")  # fmt: skip
"""What a ``PERSON_WORD + NUMBER_WORD`` name numbers: a patient or the patient's record
(``hospital_number``, ``chart_no``, German ``FallNr``, Scottish ``CHI number``)."""
EVENT_WORDS = ("encounter", "visit", "admission", "episode", "sample", "specimen", "accession",
               "study", "exam", "aufnahme")  # fmt: skip
"""What an ``EVENT_WORD + NUMBER_WORD`` name numbers: a visit or a sample of one patient."""
NUMBER_WORDS = ("id", "no", "nr", "num", "number", "nummer", "key", "ref")
"""The last word of a record number's name: ``_id``, ``_no``, ``Nr``, ``number`` ..."""
_COMPOUNDS = frozenset(
    {what + number for what in PERSON_WORDS + EVENT_WORDS for number in NUMBER_WORDS}
    | {who + "code" for who in PERSON_WORDS}  # patient_code; an admission_code is a category
)
_UNNAMED = re.compile(r"^unnamed\d*$")  # a data-frame index written out ("Unnamed: 0")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")  # PatientID, MRNNo
_LETTERS_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")  # id2, Unnamed0
_SEPARATORS = re.compile(r"[\W_]+")
SEQUENCE_SHARE = 0.95  # distinct values per row for a sequence of record numbers
MIN_ROWS = 20
MIN_DISTINCT_IDS = 20  # a repeated identifier holds at least this many patients (as for text)
REPEATED_SHARE = 0.1  # ... and at least one distinct value per 10 rows (as for text)


def name_tokens(name: object) -> list[str]:
    """The words of a column name, lower case: split at separators, at a lower-to-upper case
    change (``PatientID``) and between letters and digits (``Unnamed: 0``)."""
    spaced = _LETTERS_DIGITS.sub(" ", _CAMEL.sub(" ", str(name).strip()))
    return [word.casefold() for word in _SEPARATORS.split(spaced) if word]


def name_looks_like_identifier(name: object) -> bool:
    """Whether a column name reads as a record identifier (``id``, ``*_ID``, ``MRN``, ``PID``,
    ``hospital_number``, ``Hosp No`` ...), compared word by word in any case, so that ``acid``,
    ``lipid``, ``rapid`` or ``COVID`` are not identifiers. A data frame's columns may be
    numbers (0, 1, ...)."""
    words = name_tokens(name)
    squashed = "".join(words)
    if squashed in WHOLE_NAMES or _UNNAMED.match(squashed):
        return True
    if any(word in ID_WORDS for word in words):
        return True
    return any("".join(words[start:]) in _COMPOUNDS for start in range(len(words)))


def _whole_numbers(values: Sequence[float] | np.ndarray) -> np.ndarray | None:
    """The finite values, or None unless every one is a whole number."""
    present = np.asarray(values, dtype=float)
    present = present[np.isfinite(present)]
    return present if np.all(present == np.round(present)) else None


def identifier_values(values: Sequence[float] | np.ndarray) -> bool:
    """Whether ``values`` (missing removed) can be record numbers: whole numbers, one per row,
    or repeated (several rows per patient) but at least ``MIN_DISTINCT_IDS`` of them and at
    least one per ``1 / REPEATED_SHARE`` rows. A code of a few values (1 = emergency,
    2 = elective) or a visit number of 1-3 is not."""
    present = _whole_numbers(values)
    if present is None or len(present) == 0:
        return False
    distinct = len(np.unique(present))
    if distinct >= SEQUENCE_SHARE * len(present):
        return distinct > 1
    return distinct >= MIN_DISTINCT_IDS and distinct >= REPEATED_SHARE * len(present)


def integer_sequence(values: Sequence[float] | np.ndarray) -> str | None:
    """How ``values`` (in file order, missing removed) form a sequence of record numbers:
    distinct integers in nearly every row that either span a range at most twice their number
    (1..920 with gaps) or rise row after row; else None. The reason is stored with the base
    model, so it never quotes a value."""
    present = _whole_numbers(values)
    if present is None or len(present) < MIN_ROWS:
        return None
    distinct = np.unique(present)
    if len(distinct) < SEQUENCE_SHARE * len(present):
        return None
    low, high = int(distinct[0]), int(distinct[-1])
    if high - low + 1 <= 2 * len(distinct):
        # never the range itself: its ends are two patients' record numbers
        return f"{len(present)} distinct integers in sequence, one per row"
    if np.all(np.diff(present) > 0):
        return f"{len(present)} distinct integers rising row after row"
    return None


def identifier_reason(name: str, values: Sequence[float] | np.ndarray) -> str | None:
    """Why numeric column ``name`` looks like a record identifier, or None: its name, when its
    values can be record numbers too; else a sequence of integers, whatever its name."""
    if name_looks_like_identifier(name):
        return "by its name" if identifier_values(values) else None
    return integer_sequence(values)


# ----- a label that names records, not a finding ------------------------------------------------
FEW_PER_VALUE = 2
"""The most samples per value of an identifier given as the label: a patient's pair of images
(frontal and lateral, left and right) or two visits. A label of at least
:data:`MIN_DISTINCT_IDS` values, half of them on no more samples than this, is nearly one value
per patient or sample: no class of it can have :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS`
(5) samples, the fewest any figure about a class rests on, nor appear on both sides of a split."""
OUTCOME_WORDS = frozenset(
    {"label", "labels", "class", "classes", "target", "outcome", "diagnosis", "dx", "finding",
     "findings", "y", "disease", "category", "grade", "result", "status"}
)  # fmt: skip
"""Words that name a finding or an outcome wherever they stand in a column name (``label``,
``diagnosis``, ``finding_label``): the columns a refused ``--label`` is pointed to."""


def label_identifier_reason(
    name: object,
    values: Sequence[object],
    *,
    noun: str = "rows",
    numeric: bool = False,
    roles: dict[str, str] | None = None,
    by_values: bool = True,
) -> str | None:
    """Why column ``name``, given as the label, names records (patients, files) rather than a
    finding, ending the sentence "column 'name' ..."; None when it may be a finding. Never a
    value: it is said on the terminal and kept nowhere.

    ``values``: the column's present values (text stripped, or numbers when ``numeric``);
    ``noun``: what a value is counted on ("rows", "images"); a number is judged by its name
    only (a measured value may be distinct in every row, and sorted); ``roles``: the columns
    known to name something else (the path CSV's patient column, its column of image paths), with
    what they name; ``by_values``: whether many values of a few samples each (an identifier,
    a file name, free text) are reason enough without the name (not for a measured value).

    >>> label_identifier_reason("mrn", [f"M{i}" for i in range(30)])
    'reads as a record identifier by its name and holds 30 distinct values on 30 rows'
    >>> label_identifier_reason("diagnosis", ["normal", "mass"] * 30)
    >>> label_identifier_reason("code", [f"C{i // 2}" for i in range(60)], noun="images")[:30]
    'holds 30 distinct values on 60'
    >>> label_identifier_reason("id", [float(i) for i in range(30)], numeric=True)[:22]
    'reads as a record iden'
    """
    column = str(name)
    if roles and column in roles:
        return roles[column]
    kept = np.asarray(values, dtype=float) if numeric else np.asarray(values, dtype=str)
    counts = np.unique(kept, return_counts=True)[1]
    distinct, n = len(counts), int(counts.sum())
    said = f"{distinct} distinct values on {n} {noun}"
    if numeric:  # a measured value's many values, even in sequence (sorted), are no reason
        named = name_looks_like_identifier(column) and identifier_values(kept)
        return f"reads as a record identifier by its name and holds {said}" if named else None
    if distinct < MIN_DISTINCT_IDS:
        return None
    if name_looks_like_identifier(column) and distinct >= REPEATED_SHARE * n:
        return f"reads as a record identifier by its name and holds {said}"
    if by_values and float(np.median(counts)) <= FEW_PER_VALUE:
        return (
            f"holds {said}, half of them or more on at most {FEW_PER_VALUE} {noun} each: "
            "nearly one value per patient or file, as an identifier, a file name or free text "
            "has"
        )
    return None


def outcome_columns(columns: Sequence[object], taken: Sequence[object | None] = ()) -> list[str]:
    """The columns (not ``taken``) whose name reads as a finding or an outcome (a word of
    :data:`OUTCOME_WORDS`) and not as a record identifier, in their order.

    >>> outcome_columns(["path", "label", "patient_id", "site"], ["path"])
    ['label']
    """
    return [str(c) for c in columns if c not in taken and not name_looks_like_identifier(c)
            and OUTCOME_WORDS & set(name_tokens(c))]  # fmt: skip


def identifier_label_error(
    column: str, reason: str, findings: Sequence[str], words: OptionWords = COMMAND_LINE
) -> str:
    """The refusal of label ``column`` that names records (``reason``, from
    :func:`label_identifier_reason`): a model would learn to tell them apart and keep their
    values as its class names. The fix names ``findings`` (:func:`outcome_columns`) as the
    label to pass, in ``words`` (``--label label``, or ``label='label'``)."""
    if not findings:
        fix = (f"pass {words.name('label')} naming the column that holds the finding or outcome "
               "to predict")  # fmt: skip
    elif len(findings) == 1:
        fix = (f"pass {words.set_to('label', findings[0])} (its column {findings[0]!r} reads "
               "as the finding)")  # fmt: skip
    else:
        fix = (f"pass {words.set_to('label', findings[0])} (columns that read as a finding: "
               f"{', '.join(map(repr, findings))})")  # fmt: skip
    return (
        f"{words.set_to('label', column)}: column {column!r} {reason}, so it names records, "
        "not a finding to predict: a model would learn only to tell them apart, and a "
        f"classifier would keep their values as its class names; {fix}"
    )
