"""Feature columns: which kind each column is (numeric, categorical or dropped), and the
canonical text of category values.

A numeric column keeps its training mean/std; a categorical column keeps the levels seen in at
least ``MIN_LEVEL_ROWS`` training rows (encoded from ``FIRST_LEVEL``; index ``MISSING_INDEX``
is a missing value, ``UNSEEN_INDEX`` a level not kept). A column is dropped, with the reason,
when it is empty, constant, a record identifier (:mod:`medadapt.data.identifiers`), a date
written as a number or as text (:mod:`medadapt.data.dates`) or free text (see
:mod:`medadapt.data.schema`, which stores the result).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medadapt.checks import is_number
from medadapt.data.dates import DATE_REASON, TEXT_DATE_SHARE, date_scale, text_dates
from medadapt.data.identifiers import (
    MIN_DISTINCT_IDS,
    REPEATED_SHARE,
    SEQUENCE_SHARE,
    identifier_reason,
    name_looks_like_identifier,
    name_tokens,
)
from medadapt.data.option_words import OptionWords
from medadapt.data.tables import DECIMAL_COMMA, THOUSANDS
from medadapt.errors import DataError

MISSING_INDEX, UNSEEN_INDEX, FIRST_LEVEL = 0, 1, 2
MIN_LEVEL_ROWS = 5  # category levels seen in fewer training rows are not stored
IDENTIFIER_SHARE = 0.9  # text columns with this share of distinct values are identifiers
IDENTIFIER_REASON = "looks like a record identifier"
TEXT_IN_NUMBERS_SHARE = 0.1  # at most this share of text: a numeric column with typos
MIN_VALUES_JUDGED = 10  # fewer values in a column: its text is not judged as a share of them
# a number followed by a word or symbol ("120 mmHg", "5.2mmol/L", "38 °C", "12 %", "1001 mm2",
# "7.2 x10^9/L", "5 <"). Digits in the unit only as units write them: one after a letter
# ("mm2"), an exponent after ^ or / ("^9", "/10"), or x10: never a date ("12 Jan 2020",
# "2020-01-05", SAS's "01JAN2020")
_WITH_UNIT = re.compile(
    r"\s*[<>~]?\s*[-+]?\d+(?:[.,]\d+)?\s*((?:[^\W\d_]|[%°µ<>])"
    r"(?:[^\d]|(?<=[^\W\d_])\d(?!\d)|(?<=[\^/])\d+|(?<=[xX×])10|(?<=[xX×]\s)10){0,15})"
)
# a number after a comparison sign ("<5", "> 180", "≤0.1"): a value beyond a limit of the test
_COMPARED = re.compile(r"\s*[<>≤≥]=?\s*[-+]?\d+(?:[.,]\d+)?\s*")
# kinds of text in a cell of numbers (a cell's own text is never shown): (one, several)
TEXT_KINDS = {
    "comma": ("a number with a comma", "numbers with a comma"),
    "compared": ("a number after < or >", "numbers after < or >"),
    "unit": ("a number with text after it", "numbers with text after them"),
    "word": ("a word", "words"),
    # a trial's export wrote "-" for "not measured": said as such, the fix (--numeric) the same
    "dash": (
        "a dash (often written for 'not measured')",
        "dashes (often written for 'not measured')",
    ),
    "other": ("other text", "other text"),
}
# "<", "~ ", "+" before a number written with a comma ("< 12,5")
_BEFORE_NUMBER = re.compile(r"[<>~]?\s*\+?")
MAX_CODES = 20  # at most this many distinct values, each in many rows: codes ("1a", "2b")


def rounded_out(value: float, *, up: bool) -> float:
    """``value`` rounded away from the data's range to one significant digit: down for the
    lowest value, ``up`` for the highest (85 -> 80, 603 -> 700, 0.047 -> 0.04, -3.2 -> -4);
    0 stays 0."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10.0 ** math.floor(math.log10(abs(value)))
    return (math.ceil if up else math.floor)(value / scale) * scale


#: why a column is dropped where every training row holds one value (``TableSchema.dropped``:
#: ``constant (every value is 1)``, a text value as its repr); read back by
#: :func:`medadapt.modalities.tabular.findings.constant_columns_warnings`
CONSTANT = "constant (every value is "
ALL_MISSING = "all values missing"


def level(value: Any) -> str:
    """Canonical text of a category or class value (1 and 1.0 and '1' agree)."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.upper() in ("TRUE", "FALSE"):
        return text.capitalize()
    return text


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


@dataclass
class FeatureSpec:
    """One feature column: numeric (with training mean/std) or categorical (with levels)."""

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    categories: list[str] = field(default_factory=list)
    # numeric: how far (in whole SDs, rounded up) the training value furthest from the mean
    # lies: values beyond it, and over 6 SDs out, are extrapolation (data/extrapolation.py).
    # A bound, not a value: the extreme patient's value is known only to within one SD.
    reach: float | None = None
    # numeric: the training range rounded outward to one significant digit (85 -> 80, 603 ->
    # 700: bounds, never a patient's value; a positive lowest value stays positive, so "always
    # positive" is kept); a value far beyond it in a unit slip's way is flagged. None: saved
    # before.
    low: float | None = None
    high: float | None = None
    # numeric: a column of two values in training (a code: sex 1/2, a 0/1 flag) keeps both, as
    # a categorical keeps its levels (a code, never a measurement): any other value is named
    # outside (a trial's served "sex": 3 was scored without a word). None: more values, or
    # saved before.
    codes: list[float] | None = None

    @property
    def cardinality(self) -> int:
        """Embedding rows: missing + unseen + the training levels."""
        return FIRST_LEVEL + len(self.categories)


def natural_key(text: str) -> tuple:
    """Sort key: numbers by value first, then text (so "2" sorts before "10")."""
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def infer_feature(
    series: pd.Series,
    name: str,
    force_categorical: bool,
    force_numeric: bool,
    words: OptionWords,
) -> tuple[FeatureSpec | None, str]:
    """The feature ``series`` gives, or None and why the column is dropped (the options that
    keep it, in ``words``)."""
    present = series.dropna()
    present = present[[not is_missing(v) for v in present]]
    if present.empty:
        return None, ALL_MISSING
    if force_numeric or (not force_categorical and pd.api.types.is_numeric_dtype(series.dtype)):
        values = pd.to_numeric(present, errors="coerce")  # --numeric: text -> missing
        values = values[np.isfinite(values)]  # an infinity is no measurement (read as missing)
        if values.empty:
            return None, "declared numeric but holds no numbers"
        if values.nunique() <= 1:
            return None, f"{CONSTANT}{level(values.iloc[0])})"
        not_a_feature = None if force_numeric else _date_or_identifier(values, name, words)
        if not_a_feature is not None:
            return None, not_a_feature
        spec = FeatureSpec(name=name, kind="numeric")
        spec.mean = float(values.mean())
        spec.std = float(values.std(ddof=0)) or 1.0
        spec.reach = float(math.ceil(float(np.abs(values - spec.mean).max()) / spec.std))
        spec.low = rounded_out(float(values.min()), up=False)
        spec.high = rounded_out(float(values.max()), up=True)
        if values.nunique() == 2:
            spec.codes = sorted(float(v) for v in values.unique())
        return spec, ""
    counts = Counter(level(v) for v in present)
    if len(counts) <= 1:
        return None, f"{CONSTANT}{next(iter(counts))!r})"
    if not force_categorical:
        not_a_feature = _identifier_or_date_with_text(present, name, words)
        if not_a_feature is not None:
            return None, not_a_feature
        dated = _text_date_advice(counts, name, words)
        if dated is not None:
            return None, dated
        _refuse_numbers_with_text(present, name, words)
        _refuse_numbers_with_units(present, name, words)
        if _repeated_identifier(name, len(counts), len(present)):
            return None, _identifier_advice(
                name, "by its name", (len(counts), len(present)), "categorical", words
            )
        many = len(counts) > 50 and len(counts) > 0.5 * len(present)
        nearly_unique = len(present) >= 20 and len(counts) >= IDENTIFIER_SHARE * len(present)
        if (many or nearly_unique) and name_looks_like_identifier(name):  # patient_id, MRN
            return None, _identifier_advice(
                name, "by its name", (len(counts), len(present)), "categorical", words
            )
        if many or nearly_unique:
            return None, (
                f"{IDENTIFIER_REASON} or free text ({len(counts)} distinct values); pass "
                f"{words.set_to('categorical', name)} to use it as a feature"
            )
        free = _free_text_advice(counts, name, words)
        if free is not None:
            return None, free
    levels = sorted((v for v, n in counts.items() if n >= MIN_LEVEL_ROWS), key=natural_key)
    if not levels:
        return None, (
            f"every value occurs in fewer than {MIN_LEVEL_ROWS} rows (too rare to learn, and "
            "it could identify patients)"
        )
    return FeatureSpec(name=name, kind="categorical", categories=levels), ""


FREE_TEXT_REASON = "looks like free text"
FREE_TEXT_WORDS = frozenset({"comment", "comments", "note", "notes", "remark", "remarks",
                             "narrative", "description", "memo", "freetext", "text"})  # fmt: skip
SENTENCE_WORDS = 4  # a value of this many words or more is a sentence, not a category


def _free_text_why(name: str, counts: Counter[str], what: str) -> str | None:
    """Why a column (a feature's values, a label's classes: ``what``) looks like free text:
    named so (``comment``, ``notes``), or most of its ``counts`` sentences; None otherwise."""
    if set(name_tokens(name)) & FREE_TEXT_WORDS:
        return "by its name"
    sentences = sum(n for value, n in counts.items() if len(value.split()) >= SENTENCE_WORDS)
    if not counts or sentences * 2 <= sum(counts.values()):
        return None
    return f"most {what} are {SENTENCE_WORDS} words or more"


def _free_text_advice(counts: Counter[str], name: str, words: OptionWords) -> str | None:
    """Why a text column of few distinct values is dropped as free text: named so
    (``comment``, ``notes``) or most of its rows a sentence. A trial's ``comment`` column of
    7 template remarks was read as a category and flipped 22 of 154 predictions when the
    remark alone changed ("follow-up" against "seen by Dr Smith"); who wrote what, and when,
    can stand in for the outcome."""
    why = _free_text_why(name, counts, "values")
    if why is None:
        return None
    return (
        f"{FREE_TEXT_REASON} ({why}; {len(counts)} distinct values): a model would read each "
        "wording as a category, and who wrote what, or when, can stand in for the outcome; "
        f"pass {words.set_to('categorical', name)} to use it as a feature"
    )


def free_text_label_warning(label: str, classes: Sequence[str], words: OptionWords) -> str | None:
    """The warning for a label of classes that look like free text (named so, or most of its
    classes sentences): refused as a feature, such a column was taken as the outcome without
    a word (a trial's ``--label notes``: four wordings became the classes). None otherwise;
    names the label's classes' count only."""
    why = _free_text_why(label, Counter(classes), "of its classes")
    if why is None:
        return None
    return (f"label column {label!r} {FREE_TEXT_REASON} ({why}; {len(classes)} classes): each "
            f"wording becomes a class the model predicts; check that {words.name('label')} "
            "names the finding or outcome to predict")  # fmt: skip


def spelling_warnings(features: list[FeatureSpec]) -> list[str]:
    """One warning per categorical feature whose learnt categories differ only in upper/lower
    case ("Male" and "male", often one site's spelling) or where one is the other shortened
    ("F" and "Female"): learnt as different categories, they let the model tell the sites
    apart by spelling. Names the model's own categories only."""
    notes = []
    for spec in features:
        doubled = written_alike(spec.categories)
        if doubled:
            notes.append(
                f"column {spec.name!r} writes a category in several ways ({ways_said(doubled)}) "
                "and each is learnt as its own category; write each one way in the file"
            )
    return notes


DASHES = ("-", "--", "—", "–")
"""Whole cells that exports write for "not measured" (never a category unless the column is a
+/- scale, as a dipstick's "-", "+", "++")."""


def dash_category_warnings(features: list[FeatureSpec], frame: Any) -> list[str]:
    """One warning per categorical feature that learnt a dash (:data:`DASHES`) as a category
    of its own, beside no "+" category: read as missing in a numeric column, it was learnt
    here as a value (a trial's 'thal' held "-" in 268 of 607 rows, and a site writing those
    cells empty got other predictions). Counts and the model's own categories only."""
    notes = []
    for spec in features:
        dashes = [c for c in spec.categories if c in DASHES]
        if not dashes or any("+" in c for c in spec.categories) or spec.name not in frame:
            continue
        cells = frame[spec.name].map(lambda v: level(v) if not is_missing(v) else None)
        n = int(cells.isin(dashes).sum())
        notes.append(
            f"column {spec.name!r} holds {dashes[0]!r} in {n} of the {len(frame)} training rows, "
            "often written for 'not measured': it is learnt as a category of its own, and a "
            "site that leaves such cells empty gets other predictions; if it means not "
            "measured, leave those cells empty in --data and train again"
        )
    return notes


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


SHORTENED_UP_TO = 3  # letters: "F" for "Female", "pos" for "positive"


def _shortened(short: str, word: str) -> bool:
    """Whether ``short`` (a letter or three) is ``word`` cut short: ``F``/``Female``,
    ``pos``/``Positive``; never a code in capitals (``A``/``AB``, a blood group)."""
    s, w = short.casefold(), word.casefold()
    return (s.isalpha() and len(s) <= SHORTENED_UP_TO and len(w) > len(s) and w.isalpha()
            and not word.isupper() and w.startswith(s))  # fmt: skip


def written_alike(values: Sequence[str]) -> list[list[str]]:
    """The groups of ``values`` (a column's categories) that look like one category written
    several ways: the same word in other cases (``Male``/``male``), or cut short
    (``M``/``Male``); groups of two or more, in the order first met."""
    groups: list[list[str]] = []

    def alike(a: str, b: str) -> bool:
        return a.casefold() == b.casefold() or _shortened(a, b) or _shortened(b, a)

    for value in map(str, values):
        home = next((g for g in groups if any(alike(value, v) for v in g)), None)
        if home is None:
            groups.append([value])
        else:
            home.append(value)
    return [g for g in groups if len(g) > 1]


def ways_said(doubled: list[list[str]]) -> str:
    """``'Male' and 'male': they differ only in upper/lower case`` (or ``...: the same word
    in other cases, or cut short``), three groups at most, then how many more."""
    shown = "; ".join(_and(list(map(repr, names))) for names in doubled[:3])
    more = f" and {len(doubled) - 3} more" if len(doubled) > 3 else ""
    case_only = all(len({n.casefold() for n in names}) == 1 for names in doubled)
    why = ("they differ only in upper/lower case" if case_only
           else "the same word in other cases, or cut short")  # fmt: skip
    return f"{shown}{more}: {why}"


def _repeated_identifier(name: str, distinct: int, rows: int) -> bool:
    """A text column named like an identifier (``patient``, ``MRN``, ``visit_id``) whose many
    values repeat: rows of the same patients, to be kept together, never learnt from."""
    many = distinct >= MIN_DISTINCT_IDS and distinct >= REPEATED_SHARE * rows
    return many and distinct < rows and name_looks_like_identifier(name)


def _identifier_advice(
    name: str, why: str, counts: tuple[int, int], keep: str, words: OptionWords
) -> str:
    """Why column ``name`` is dropped as a record identifier (``why``: by its name, or as a
    sequence) and how to keep it: ``--id-column`` first, to keep each patient's rows together
    when its values repeat (``counts``: distinct values, rows), else ``keep`` (``numeric`` or
    ``categorical``) to use it as a feature. Names are quoted to be pasted into a shell
    (``'Unnamed: 0'``)."""
    distinct, rows = counts
    as_feature = f"{words.set_to(keep, name)} to use it as a feature"
    if distinct >= SEQUENCE_SHARE * rows:
        return (
            f"{IDENTIFIER_REASON} ({why}); pass {words.set_to('id_column', name)} if it "
            f"identifies patients, or {as_feature}"
        )
    return (
        f"{IDENTIFIER_REASON} ({why}) with repeated values ({distinct} distinct in {rows} rows: "
        f"several rows per patient?); pass {words.set_to('id_column', name)} so that each "
        f"patient's rows stay on one side of every split, or {as_feature}"
    )


def _date_advice(name: str, scale: str, words: OptionWords) -> str:
    """Why numeric column ``name`` is dropped as a date written as a number (``scale``: how it
    is written, never a value) and what to do instead."""
    return (
        f"{DATE_REASON} (by its name, with values that read as {scale}); a date lets a model "
        "learn the period or the site a patient came from rather than the patient, and a birth "
        "date identifies a patient: to use what it measures, derive it as a column of its own "
        f"(an age, a length of stay); pass {words.set_to('exclude', name)} to leave it out "
        f"without this warning, or {words.set_to('numeric', name)} to use it as a feature"
    )


def _text_date_advice(counts: Counter[str], name: str, words: OptionWords) -> str | None:
    """Why text column ``name`` (``counts``: rows per distinct value) is dropped as dates
    written as text, and what to do instead; None unless most of its values are dates. Never
    ``--categorical``: a date as a category is the period, or a patient, learnt by name."""
    values = list(counts)
    dates = text_dates(values)
    rows = sum(counts[value] for value, date in zip(values, dates, strict=True) if date)
    if not rows or rows < TEXT_DATE_SHARE * sum(counts.values()):
        return None
    return (
        f"{DATE_REASON} ({int(dates.sum())} distinct values written as dates); a date lets a "
        "model learn the period or the site a patient came from rather than the patient, and a "
        "birth date identifies a patient: to use what it measures, derive it as a numeric column "
        "of its own (an age, a length of stay, days since an index date); pass "
        f"{words.set_to('exclude', name)} to leave it out without this warning"
    )


def _date_or_identifier(values: pd.Series, name: str, words: OptionWords) -> str | None:
    """Why numeric column ``name`` (its finite ``values``) is no feature: a date written as
    a number or a record identifier; None when it is a feature."""
    numbers = values.to_numpy(dtype=float)
    scale = date_scale(name, numbers)
    if scale is not None:
        return _date_advice(name, scale, words)
    why = identifier_reason(name, numbers)
    if why is None:
        return None
    return _identifier_advice(name, why, (values.nunique(), len(values)), "numeric", words)


def _identifier_or_date_with_text(present: pd.Series, name: str, words: OptionWords) -> str | None:
    """Why a column of record numbers or of dates written as numbers, with a few text entries
    (``unknown``), is no feature; None for any other column. Refused as a measurement with
    typos, it would be given that advice (``--numeric COL``), which makes it a feature."""
    numbers = pd.to_numeric(present, errors="coerce").dropna()
    n_text = len(present) - len(numbers)
    if len(present) < MIN_VALUES_JUDGED or not 0 < n_text <= TEXT_IN_NUMBERS_SHARE * len(present):
        return None
    return _date_or_identifier(numbers, name, words)


def count_text_values(series: pd.Series) -> int:
    """Non-missing values that are not numbers (read as missing under ``--numeric``)."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return 0
    present = series[[not is_missing(v) for v in series]]
    return int(pd.to_numeric(present, errors="coerce").isna().sum())


def _refuse_numbers_with_text(present: pd.Series, name: str, words: OptionWords) -> None:
    """A column of numbers with a few text entries (``n.d.``, ``>180``) needs a decision; the
    entries are described by kind and line, never shown (``12,5`` is a patient's value)."""
    if len(present) < MIN_VALUES_JUDGED:
        return
    numbers = pd.to_numeric(present, errors="coerce")
    n_text = int(numbers.isna().sum())
    if 0 < n_text <= TEXT_IN_NUMBERS_SHARE * len(present):
        as_read = _as_read(present, n_text)
        said = text_values_said(present[numbers.isna()], lines=as_read)
        source = _of_source(present) if as_read else _changed_since(present)
        where = "in the file" if as_read else "in the frame"  # a frame of the caller's
        raise TextInNumbers(
            f"column {name!r}{source} holds numbers except {said}; fix them {where}, or "
            f"pass {words.set_to('numeric', name)} to read them as missing, or "
            f"{words.set_to('categorical', name)} to keep them as categories",
            name=name, said=said, source=source,
        )  # fmt: skip


class TextInNumbers(DataError):
    """A numeric column with a few text cells (:func:`_refuse_numbers_with_text`): its
    ``name``, its text cells in words (``said``) and `` of --data FILE`` (``source``), so that
    every such column of a table is refused in one error."""

    def __init__(self, message: str, *, name: str, said: str, source: str) -> None:
        super().__init__(message)
        self.name, self.said, self.source = name, said, source


def texts_in_numbers_error(found: list[TextInNumbers], words: OptionWords) -> DataError:
    """One error for every numeric column with a few text cells (a trial needed three runs,
    a column each), with one flag value naming them all."""
    if len(found) == 1:
        return found[0]
    names = [f.name for f in found]
    each = "; ".join(f"{f.name!r}: {f.said.removesuffix(MISSING_SAID)})" for f in found)
    sources = {f.source for f in found}  # a review's: one column the file's, one the frame's
    source = found[0].source if len(sources) == 1 else ""
    where = _in_what(source) if len(sources) == 1 else "in the file or the frame, where written"
    return DataError(
        f"columns {', '.join(map(repr, names))}{source} hold numbers except a few "
        f"text values ({each}{MISSING_SAID}; fix them {where}, or pass "
        f"{words.set_all('numeric', names)} to read them as missing, or "
        f"{words.set_all('categorical', names)} to keep them as categories"
    )


def _in_what(source: str) -> str:
    """Where text cells said with ``source`` (:func:`_of_source`) are to be fixed."""
    return "in the file" if source and "changed since" not in source else "in the frame"


def _as_read(values: pd.Series, n_text: int) -> bool:
    """Whether the text cells of ``values`` can be the file's: it has no more of them than
    :func:`~medadapt.data.tables.read_table` counted in its column (a trial's frame, edited in
    memory after reading a clean file, was sent to fix lines of that file)."""
    counted = (values.attrs.get("text_counts") or {}).get(str(values.name))
    return values.attrs.get("source") is not None and counted is not None and n_text <= counted


def _changed_since(values: pd.Series) -> str:
    """`` of the frame (changed since it was read from --data FILE)``, or nothing for a frame
    no file was read into."""
    source = values.attrs.get("source")
    return f" of the frame (changed since it was read from {source})" if source else ""


def _of_source(values: pd.Series) -> str:
    """`` of --data FILE`` for a column read by :func:`~medadapt.data.tables.read_table`
    (which notes the file in ``attrs``), else nothing."""
    source = values.attrs.get("source")
    return f" of {source}" if source else ""


def text_kind(value: Any) -> str:
    """The kind (a key of :data:`TEXT_KINDS`) of a text cell of a numeric column."""
    text = str(value).strip()
    if "," in text and _with_comma(_number_part(text)):
        return "comma"
    if _COMPARED.fullmatch(text):
        return "compared"
    if _WITH_UNIT.fullmatch(text):
        return "unit"
    if re.fullmatch(r"[^\W\d_]+(?:[\s./'-]*[^\W\d_]+)*[.]?", text):
        return "word"
    if re.fullmatch(r"[-‐‑‒–—―]+", text):
        return "dash"
    return "other"


def text_kinds_said(values: pd.Series) -> str:
    """``numbers with text after them, the unit 'mmHg'; `` for a numeric column's text cells
    read as missing (a trial's blood pressures written "120 mmHg" were "text values", and it
    could not tell measurements from junk): their kinds, and a unit written in at least
    :data:`MIN_LEVEL_ROWS` cells (a unit, never one patient's words); empty where none."""
    present = values[[not is_missing(v) for v in values]]
    texts = [v for v in present if not is_number(str(v).strip())]
    if not texts:
        return ""
    said = kinds_said(texts, counted=False)
    written = written_numbers(present.astype(str))
    common = written.units if written else []
    unit = "" if not common else f", the unit{'s' if len(common) > 1 else ''} " + ", ".join(
        map(repr, common))  # fmt: skip
    return f"{said}{unit}; "


def text_values_said(texts: pd.Series, *, lines: bool = True) -> str:
    """``2 text values (lines 14 and 88: a number with a comma, a word; ...)``: how many cells
    ``texts`` (a column's text cells, as read) are, where (the file's lines, where
    :func:`~medadapt.data.tables.read_table` noted them) and of which kinds; never a cell's
    text. Empty, ``?`` and ``NA`` cells are missing, not text."""
    n = len(texts)
    noted = texts.attrs.get("lines") if lines else None  # each row's line (int64s), as
    # read_table notes them; ``lines`` False: the cells may not be the file's
    lines = None if noted is None else np.frombuffer(noted, dtype=np.int64)
    labels = list(texts.index)
    counted = all(isinstance(i, int | np.integer) and i >= 0 for i in labels)
    if counted and lines is not None and all(i < len(lines) for i in labels):
        noun, where = "line", sorted(int(lines[i]) for i in labels)
    else:  # a frame of the caller's: its index may be patient ids, never shown
        noun, where = "", []
    shown = [str(w) for w in where[:3]]
    if not shown:
        places = ""
    elif n > 3:
        places = f"{noun}s {', '.join(shown)} and {n - 3} more: "
    elif n > 1:
        places = f"{noun}s {', '.join(shown[:-1])} and {shown[-1]}: "
    else:
        places = f"{noun} {shown[0]}: "
    values = "value" if n == 1 else "values"
    return f"{n} text {values} ({places}{kinds_said(texts)}{MISSING_SAID}"


MISSING_SAID = "; empty, '?', '.', 'NA', 'n/a' and 'NULL' cells are read as missing)"
"""What a text value's description adds of the cells read as missing (as
:data:`~medadapt.data.tables.NA_VALUES`, their commonest), closing its parenthesis."""


def kinds_said(texts: Iterable[Any], *, counted: bool = True, whole: bool = False) -> str:
    """The kinds of text cells ``texts`` (``a number with a comma, 2 words``), most first;
    ``counted=False``: without the counts (``a number with a comma, words``); ``whole``: where
    every one is of one kind, ``all 40 words`` (``both words``), for a sentence that counted
    them already (a trial read "in 40 of its 193 values (40 words)" as unexplained).

    >>> kinds_said(["high", "n.d.", "12,5"]), kinds_said(["high", "low"], whole=True)
    ('2 words, a number with a comma', 'both words')
    """
    kinds = Counter(text_kind(v) for v in texts)
    if whole and len(kinds) == 1 and sum(kinds.values()) > 1:
        ((kind, count),) = kinds.items()
        return f"{'both' if count == 2 else f'all {count}'} {TEXT_KINDS[kind][1]}"
    return ", ".join(
        TEXT_KINDS[kind][0]
        if count == 1
        else f"{count} {TEXT_KINDS[kind][1]}"
        if counted
        else TEXT_KINDS[kind][1]
        for kind, count in sorted(kinds.items(), key=lambda item: -item[1])
    )


def text_cells(values: pd.Series) -> tuple[pd.Series, int]:
    """The present cells of ``values`` (a column as read) that are not numbers, and how many
    cells are present."""
    present = values[[not is_missing(v) for v in values]]
    return present[pd.to_numeric(present, errors="coerce").isna()], len(present)


def _refuse_numbers_with_units(present: pd.Series, name: str, words: OptionWords) -> None:
    """A measurement written with its unit in every cell ("120 mmHg") or with decimal commas
    in a comma-separated file ("12,5") would become a category per value: refuse, naming the
    units (a unit is no patient's value; the numbers are)."""
    if len(present) < MIN_VALUES_JUDGED:
        return
    written = written_numbers(present)
    if written is None or written.count + written.plain < (1 - TEXT_IN_NUMBERS_SHARE) * written.of:
        return
    keep = ""
    if written.codes:  # "1a", "2b": few values, each in many rows, are codes more than numbers
        keep = f", or pass {words.set_to('categorical', name)} to keep each value as a category"
    place = "the frame" if words.python else "the file"
    raise DataError(f"{written.said(name)}; {written.fix(place=place)}{keep}")


@dataclass(frozen=True)
class WrittenNumbers:
    """The values of a column that are numbers written with a unit, a percent sign or other
    text after them ("120 mmHg", "11.8%") or with a comma ("12,5" or "1,234", where the file's
    separator is a comma); counts and units only, never a patient's value."""

    count: int  # values written so
    of: int  # non-empty values
    plain: int  # values that are plain numbers
    units: list[str]  # the suffixes written in MIN_LEVEL_ROWS values or more ("%", "mmHg")
    commas: int  # of ``count``: numbers written with a comma
    codes: bool  # few distinct values, each in MIN_LEVEL_ROWS rows or more ("1a", "2b")
    thousands: bool = False  # every comma followed by three digits ("1,234"): which comma?

    def said(self, name: str) -> str:
        """What column ``name`` holds: ``column 'bp' holds numbers written with ...``."""
        comma = "a comma (decimal or thousands?)" if self.thousands else "a decimal comma"
        if self.commas == self.count:
            how, shown = comma, f" (as in {'1,234' if self.thousands else '12,5'})"
        else:
            how = "a unit or other text" + (f" or {comma}" if self.commas else "")
            shown = f" ({', '.join(repr(u) for u in self.units[:3])})" if self.units else ""
        return (
            f"column {name!r} holds numbers written with {how} in {self.count} of {self.of} "
            f"values{shown}"
        )

    def fix(self, mean: float | None = None, *, place: str = "the file") -> str:
        """How to write them (``mean``: the model's training mean, where a model reads them;
        ``place``: where they are written, ``the frame`` for a Python user's data frame)."""
        fixes = []
        if self.count > self.commas:
            if mean is None:
                fixes.append(
                    f"write the numbers alone in {place} (the unit can go in the column name)"
                )
            else:
                percent = (
                    "; a spreadsheet writes 0.125 formatted as a percentage as 12.5%"
                    if "%" in self.units
                    else ""
                )
                fixes.append(
                    f"write the numbers alone in {place}, in the unit the model trained on "
                    f"(mean {mean:.4g}{percent})"
                )
        if self.thousands:  # 1,234 may be 1234 or 1.234: the file's writer knows which
            fixes.append("write them as plain numbers without separators (12.5 or 1234)")
        elif self.commas and place == "the frame":  # a Python user's frame, read already
            fixes.append(
                "write them with a decimal point (12.5): read the file with ma.read_table(path) "
                "(which reads decimal commas in a ';'-separated file) or "
                "pd.read_csv(path, decimal=',')"
            )
        elif self.commas:
            fixes.append(
                "write them with a decimal point (12.5), or separate the file's columns with "
                "';' (then decimal commas are read)"
            )
        return ", and ".join(fixes)


def written_numbers(values: pd.Series) -> WrittenNumbers | None:
    """How many of ``values`` (a column as read) are numbers written with a unit or a comma
    (decimal or thousands); None when none is (or the column is read as numbers)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return None
    texts = [str(v).strip() for v in values if not is_missing(v)]
    words = [t for t in texts if not is_number(t)]  # "5e3" is a number, not 5 and a unit
    units = [m.group(1).strip() for m in map(_WITH_UNIT.fullmatch, words) if m]
    with_comma = [n for n in map(_number_part, texts) if "," in n and _with_comma(n)]
    commas = len(with_comma)
    if not units and not commas:
        return None
    plain = int(pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").notna().sum())
    # a suffix in many cells is a unit ("mmHg"); one in a cell or two may be a patient's words
    common = sorted(u for u, n in Counter(units).items() if n >= MIN_LEVEL_ROWS)
    counts = Counter(texts)
    codes = (
        not commas
        and "%" not in common
        and len(counts) <= MAX_CODES
        and min(counts.values()) >= MIN_LEVEL_ROWS
    )
    thousands = bool(with_comma) and all(THOUSANDS.fullmatch(n) for n in with_comma)
    return WrittenNumbers(len(units) + commas, len(texts), plain, common, commas, codes, thousands)


def _number_part(text: str) -> str:
    """``text`` without a comparison or plus sign before its number ("< 12,5" -> "12,5")."""
    return text[_BEFORE_NUMBER.match(text).end() :]


def _with_comma(number: str) -> bool:
    """``number`` is written with a decimal comma ("12,5", "1.234,5") or thousands commas
    ("1,234", "12,345,678"), as :mod:`~medadapt.data.tables` reads them in a file separated
    by ";" or a quoted cell of one separated by ","."""
    return bool(DECIMAL_COMMA.fullmatch(number) or THOUSANDS.fullmatch(number))


def learned_spelling(categories: Sequence[Any], value: Any) -> str | None:
    """The learned category that ``value`` (a level, :func:`level`) differs from only in
    upper/lower case ("male" for "Male": a coding slip, read as 'unseen'); None when it is
    learned as written, or differs otherwise. Only the model's own category is returned."""
    if value in categories:
        return None
    return {str(c).casefold(): str(c) for c in categories}.get(str(value).casefold())
