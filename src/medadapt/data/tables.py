"""Reading clinical tables (CSV or Parquet) the way real hospital exports come.

Handled: a UTF-8 byte-order mark, CR or CRLF line endings, ``,`` ``;`` tab or ``|`` separators
(sniffed), ``?``/``NA``/empty as missing, decimal commas (and ``.`` thousands, ``1.234,5``) in
``;`` files, quoted thousands
(``"1,234"``) in ``,`` files. An empty file, a header without rows, or duplicate column names
get a one-line :class:`~medadapt.errors.DataError`. Identifier and group columns can be read as
text, so ``000123`` stays ``000123`` and site ``2`` stays ``2`` (not ``2.0``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from medadapt.data.option_words import PYTHON, OptionWords
from medadapt.errors import DataError

NA_VALUES = ["", "?", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "#N/A"]
_THOUSANDS = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^(?=.*\d)-?(\d{1,3}(\.\d{3})+|\d*)(,\d+)?$")  # 1.234,5  12,5  7


_UTF16_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}


def _decode(raw: bytes, path: Path, words: OptionWords) -> str:
    """UTF-8 (with or without a byte-order mark), else Latin-1; UTF-16/32 and binary files
    are refused by name (they would decode into one garbled column)."""
    given = words.set_to("data", str(path), quote="none")
    again = "read it again" if words.python else "pass it to --data again"
    for bom, name in _UTF16_BOMS.items():
        if raw.startswith(bom):
            raise DataError(
                f"{given} is encoded as {name}; save it as UTF-8 (in Excel: 'CSV UTF-8') and "
                f"{again}"
            )
    head = raw[:4096]
    if head.count(b"\x00") > len(head) // 10:
        kind = "UTF-16 text without a byte-order mark" if _wide_text(head) else ""
        raise DataError(
            f"{given} is not a text table ({kind or 'binary content'}); export it as a UTF-8 "
            f"CSV (or Parquet) and {again}"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _wide_text(head: bytes) -> bool:
    """Zero bytes at (nearly) every odd or every even position and nowhere else: UTF-16."""
    odd, even = head[1::2], head[0::2]

    def zeros(part: bytes) -> float:
        return part.count(0) / max(len(part), 1)

    return (zeros(odd) > 0.9 and zeros(even) < 0.05) or (zeros(even) > 0.9 and zeros(odd) < 0.05)


def _sniff_separator(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _numeric_from_text(series: pd.Series, separator: str) -> pd.Series:
    """Convert a text column of numbers written with thousands or decimal commas."""
    values = series.dropna().astype(str).str.strip()
    if values.empty:
        return series
    if separator == ";" and values.str.match(_DECIMAL_COMMA).all():
        text = series.astype("string").str.replace(".", "", regex=False)
        return pd.to_numeric(text.str.replace(",", ".", regex=False))
    has_comma = values.str.contains(",", regex=False).any()
    if separator != ";" and has_comma and values.str.match(_THOUSANDS).all():
        return pd.to_numeric(series.astype("string").str.replace(",", "", regex=False))
    return series


MISSING_LABEL = "missing"


def group_labels(series: pd.Series) -> np.ndarray:
    """Group values as text, one per row: ``2.0`` -> ``"2"``, a missing value -> ``"missing"``.

    Shape: (N,) -> (N,) of ``str``.
    """

    def text(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return MISSING_LABEL
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        return str(value).strip()

    return np.array([text(v) for v in series.tolist()], dtype=object).astype(str)


def read_table(
    path: str | Path, *, text_columns: Sequence[str | None] = (), words: OptionWords = PYTHON
) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame (column names stripped).

    ``text_columns`` (ids, groups) are read verbatim as text where the file has them.
    ``words``: how errors name the file (``path='...'``; the command line's ``--data ...``).
    """
    path = Path(path)
    as_text = [c for c in text_columns if c]
    given = words.set_to("data", str(path), quote="none")
    if path.is_dir():
        raise DataError(f"{given} is a folder, not a table; name the CSV or Parquet file in it")
    if not path.is_file():
        raise DataError(f"{given} does not exist; check the path")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise DataError(f"{given} is not a readable Parquet file ({_one_line(exc)})") from None
    else:
        raw = path.read_bytes()
        if not raw.strip():
            raise DataError(
                f"{given} is empty; export the table again with a header row and patient rows"
            )
        text = _decode(raw, path, words).replace("\r\n", "\n").replace("\r", "\n")
        separator = _sniff_separator(text)
        header = next(csv.reader(io.StringIO(text), delimiter=separator), [])
        _refuse_duplicate_names([c.strip() for c in header], given)
        present = [c for c in header if c.strip() in as_text]
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=separator,
                na_values=NA_VALUES,
                keep_default_na=False,
                skipinitialspace=True,
                dtype={c: "string" for c in present} or None,
                dtype_backend="numpy_nullable",
            )
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataError(
                f"{given} cannot be read as a table ({_one_line(exc)}); export it again "
                "as a CSV with one header row"
            ) from None
        frame = _to_plain_dtypes(frame)
        for column in frame.columns:
            if frame[column].dtype == object and column not in present:
                frame[column] = _numeric_from_text(frame[column], separator)
    frame.columns = [str(c).strip() for c in frame.columns]
    _refuse_duplicate_names(list(frame.columns), given)
    if len(frame) == 0:
        raise DataError(f"{given} has a header but no rows; export the patient rows too")
    frame.attrs["unusable_numbers"] = _blank_unusable_numbers(frame)
    return frame


def _one_line(exc: Exception) -> str:
    """A library's message, first line only and without its internals ("C error: ...")."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.replace("Error tokenizing data. C error: ", "")


def _refuse_duplicate_names(names: list[str], given: str) -> None:
    """pandas would rename a second ``age`` to ``age.1`` and use both: refuse instead
    (``given``: the file as its user named it)."""
    duplicated = sorted({c for c in names if names.count(c) > 1 and c})
    if duplicated:
        raise DataError(
            f"{given} has duplicate column names ({', '.join(map(repr, duplicated))}); "
            "rename or remove the copies so each column has one name"
        )


def table_bytes(frame: pd.DataFrame, path: str | Path) -> bytes:
    """``frame`` as the file ``path`` names: Parquet for ``.parquet``/``.pq``, TSV for
    ``.tsv``, else CSV (UTF-8)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return frame.to_csv(index=False, sep="\t" if suffix == ".tsv" else ",").encode()


LARGEST_MEASUREMENT = 1e15  # beyond this no clinical value is plausible: an export error


def _blank_unusable_numbers(frame: pd.DataFrame) -> dict[str, int]:
    """Infinite numbers and magnitudes beyond 1e15 become missing (they would wreck the
    training mean and standard deviation, or give confident answers); counts per column."""
    counts = {}
    for column in frame.columns:
        if not pd.api.types.is_float_dtype(frame[column].dtype):
            continue
        values = frame[column].to_numpy()
        bad = np.isinf(values) | (np.abs(np.nan_to_num(values)) > LARGEST_MEASUREMENT)
        if bad.any():
            frame.loc[bad, column] = np.nan
            counts[str(column)] = int(bad.sum())
    return counts


def unusable_numbers_warnings(
    frame: pd.DataFrame, columns: Sequence[str] | None = None
) -> list[str]:
    """One sentence per column of ``frame`` (read by :func:`read_table`) whose infinite or
    absurdly large values were read as missing (only ``columns`` when given)."""
    counts = frame.attrs.get("unusable_numbers", {})
    return [
        f"{n} value(s) of column {column!r} are infinite or beyond {LARGEST_MEASUREMENT:g} "
        "(not a measurement): read as missing"
        for column, n in counts.items()
        if columns is None or column in columns
    ]


def _to_plain_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable extension dtypes -> float64 / object with NaN (what the rest expects)."""
    out = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.astype(object).where(series.notna(), None)
        elif pd.api.types.is_numeric_dtype(series.dtype):
            out[column] = series.astype("float64")
        else:
            out[column] = series.astype(object).where(series.notna(), None)
    return pd.DataFrame(out, index=frame.index)
