"""Reading clinical tables (CSV or Parquet) the way real hospital exports come.

Handled: a UTF-8 byte-order mark, CR or CRLF line endings, ``,`` ``;`` tab or ``|`` separators
(sniffed), ``?``/``.``/``NA``/empty as missing (as a whole cell), decimal commas (and ``.``
thousands, ``1.234,5``) in ``;`` files, quoted thousands (``"1,234"``) in ``,`` files, a
separator closing every row (its empty last field is dropped), Excel's ``sep=;`` first line.
An empty file, a header without rows, duplicate column names, a spreadsheet or archive (an
``.xlsx`` is a zip), rows with more values than the header has names (an unquoted ``1,234``:
pandas would silently shift every column), the header repeated as a data row (files joined
together) or a totals row at the end get a one-line :class:`~medadapt.errors.DataError` that
counts lines, never quoting a patient's value. Identifier and group columns can be read as
text, so ``000123`` stays ``000123`` and site ``2`` stays ``2`` (not ``2.0``).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from medadapt.data.option_words import PYTHON, OptionWords
from medadapt.data.table_layout import (
    Numbers,
    refuse_headerless,
    refuse_summary_rows,
    refuse_title_above_header,
    sparse_numbers,
)
from medadapt.errors import DataError
from medadapt.wording import plural

NA_VALUES = ["", "?", ".", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "#N/A"]
"""Whole cells read as missing ("." is SAS's and Stata's missing value; "2.5" stays a number)."""
THOUSANDS = re.compile(r"-?([1-9]\d{0,2}(,\d{3})+|\d+)(\.\d+)?")
"""A number with thousands commas, or none (``1,234``, ``12,345,678.5``, ``7``; not ``0,125``),
as a whole cell (``fullmatch``)."""
DECIMAL_COMMA = re.compile(r"(?=.*\d)-?(\d{1,3}(\.\d{3})+|\d*)(,\d+)?")
"""A number with a decimal comma, or none (``12,5``, ``1.234,5``, ``7``), as a whole cell
(``fullmatch``)."""


_UTF16_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}
_SAVE_AS_CSV = "export the sheet as a CSV (in Excel: Save As 'CSV UTF-8') or Parquet"
_CONTAINERS = {  # first bytes -> what the file is (none of them a text table), and the fix
    b"PK\x03\x04": ("a zip archive (as an Excel .xlsx or OpenDocument .ods workbook is)",
                     _SAVE_AS_CSV),
    b"\xd0\xcf\x11\xe0": ("an Excel 97-2003 workbook (.xls)", _SAVE_AS_CSV),
    b"\x1f\x8b": ("gzip-compressed", "decompress it (gunzip)"),
}  # fmt: skip
_EXCEL_SEPARATOR = re.compile(r'"?sep=([,;\t|])"?[ \t]*(?:\n|$)', re.IGNORECASE)
_TOTALS = re.compile(  # "Total", "TOTAL:", "Total rows: 920", "Mean 54.3": never a patient
    r"(?:grand\s+|sub)?(total|totals|sum|summe|gesamt|totaal|totale|average|mean|moyenne)"
    r"(?:\s+\w+)?\s*(?:[:=].*|\d[\d\s.,]*)?",
    re.IGNORECASE,
)


def _decode(raw: bytes, path: Path, words: OptionWords) -> str:
    """UTF-8 (with or without a byte-order mark), else Latin-1; UTF-16/32 and binary files
    are refused by name (they would decode into one garbled column)."""
    given = words.set_to("data", str(path), quote="none")
    again = "read it again" if words.python else "pass it to --data again"
    for magic, (what, fix) in _CONTAINERS.items():
        if raw.startswith(magic):
            raise DataError(f"{given} is {what}, not a text table; {fix} and {again}")
    for bom, name in _UTF16_BOMS.items():
        if raw.startswith(bom):
            raise DataError(
                f"{given} is encoded as {name}; save it as UTF-8 (in Excel: 'CSV UTF-8') and "
                f"{again}"
            )
    if _safetensors(raw):
        raise DataError(f"{given} is model weights (a safetensors file), not a table; pass the "
                        "patients' CSV or Parquet file instead")  # fmt: skip
    head = raw[:4096]
    if head.count(b"\x00") > len(head) // 10 or _control_bytes(head):
        kind = "UTF-16 text without a byte-order mark" if _wide_text(head) else ""
        raise DataError(
            f"{given} is not a text table ({kind or 'binary content'}); export it as a UTF-8 "
            f"CSV (or Parquet) and {again}"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = _single_byte(raw)
        warnings.warn(_not_utf8(raw, exc.start, given, again), UserWarning, stacklevel=3)
    if _is_json(text):
        raise DataError(f"{given} is JSON, not a table; export the patients' rows as a CSV "
                        f"(one header row, one row per sample) and {again}")  # fmt: skip
    return text


def _single_byte(raw: bytes) -> str:
    """A table that is not UTF-8, as Windows-1252 (Excel's CSV in Western Europe: Latin-1 with
    curly quotes and the euro sign), else Latin-1 (which reads every byte)."""
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_UTF8_ACCENT = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def _not_utf8(raw: bytes, start: int, given: str, again: str) -> str:
    """What a table that is not UTF-8 is read as, and where its first other byte is (a trial's
    Latin-1 file was read without a word); a file of UTF-8 accents with a stray byte, which
    this reading garbles (é as Ã©), is said to be one. Never a cell's text."""
    line = raw[:start].count(b"\n") + 1
    if _UTF8_ACCENT.search(raw):
        return (f"{given} is UTF-8 but for a byte on line {line}: it was read as Windows-1252, "
                f"which garbles its UTF-8 accents (é as Ã©) and so its categories; correct "
                f"that line and {again}")  # fmt: skip
    return (f"{given} is not UTF-8 (line {line} first): read as Windows-1252 (Latin-1), as "
            "Excel saves a CSV in Western Europe; if accented names read wrong, save it as "
            f"'CSV UTF-8' and {again}")  # fmt: skip


def _safetensors(raw: bytes) -> bool:
    """Whether ``raw`` is a safetensors file: an 8-byte little-endian header length, then
    that much JSON (a trial passed an adapter's weights as --data)."""
    size = int.from_bytes(raw[:8], "little") if len(raw) > 8 else 0
    return raw[8:9] == b"{" and 0 < size <= len(raw) - 8


def _control_bytes(head: bytes) -> bool:
    """Whether ``head`` holds a zero byte, or control bytes (not tab, line feed, carriage
    return, form feed) in more than 1 in 100: no text table does (random or compressed bytes
    read as a garbled one-column table; a trial's was refused as "Expected 1 fields")."""
    control = sum(b < 32 and b not in (9, 10, 12, 13) for b in head)
    return b"\x00" in head or control * 100 > len(head)


def _is_json(text: str) -> bool:
    """Whether ``text`` is one JSON object or array (a trial's read as "a header but no
    rows")."""
    import json

    stripped = text.strip()
    if stripped[:1] not in ("{", "[") or stripped[-1:] not in ("}", "]"):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


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
    """Convert a text column of numbers written with thousands or decimal commas. Where other
    values are not such numbers ("n.d." at one site, "120 mmHg" in a few cells), the numbers
    are converted and the rest kept as text, for the feature checks to count (a trial's ";"
    file with 11 cells of "120 mmHg" among 133 decimal commas was refused as "a decimal comma
    in 144 of 144 values" and told to separate its columns with ";", which they were)."""
    values = series.dropna().astype(str)
    if values.empty or (separator != ";" and not values.str.contains(",", regex=False).any()):
        return series  # (a comma file's column without a comma: nothing to read as numbers)
    values = values.str.strip()
    if separator == ";":
        numbers = values.str.fullmatch(DECIMAL_COMMA)
        converted = values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        numbers = values.str.fullmatch(THOUSANDS)
        if not values[numbers].str.contains(",", regex=False).any():
            return series
        converted = values.str.replace(",", "", regex=False)
    if numbers.all():
        return pd.to_numeric(converted.reindex(series.index))
    if not numbers.any():
        return series
    out = series.copy()
    out[numbers[numbers].index] = pd.to_numeric(converted[numbers]).to_numpy()
    return out


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


def refuse_group_spellings(
    groups: Sequence[str], values: Sequence[str], *, column: str | None, what: str
) -> None:
    """Refuse choosing ``values`` among ``groups`` (one label per row, :func:`group_labels`)
    when the column also writes a chosen group otherwise ("hungary" for "Hungary"): its rows
    would be left out without a word. ``what``: the option that chose (``--groups``)."""
    chosen = {v.casefold(): v for v in values}
    others: dict[str, int] = {}
    for group in groups:
        if group not in values and group.casefold() in chosen:
            others[group] = others.get(group, 0) + 1
    if others:
        group, n = next(iter(others.items()))
        raise DataError(
            f"{what}: column {column!r} also writes group {chosen[group.casefold()]!r} as "
            f"{group!r} ({n} rows; they differ only in upper/lower case), and those rows would "
            "be left out; write each group one way in the file"
        )


def warn_group_spellings(
    groups: Sequence[str], values: Sequence[str], *, column: str | None, what: str
) -> None:
    """Warn where a group left out (one label per row, :func:`group_labels`) is spelt like one
    of the chosen ``values`` ("St Marys" beside "St Mary"): a typo in the file leaves its rows
    out without a word (a trial's 4 rows). Counts of rows only; several such groups in one
    warning."""
    from medadapt.data.spelling import spelt_alike

    counts: dict[str, int] = {}
    for group in groups:
        if group not in values:
            counts[group] = counts.get(group, 0) + 1
    alike = [(group, n, next(v for v in values if spelt_alike(group, v)))
             for group, n in sorted(counts.items())
             if any(spelt_alike(group, v, folded_alike=False) for v in values)]  # fmt: skip
    if not alike:
        return
    said = ", ".join(f"{group!r} ({n} row{'' if n == 1 else 's'}, spelt like {chosen!r})"
                     for group, n, chosen in alike)  # fmt: skip
    warnings.warn(
        f"{what}: column {column!r} also holds {said}, not chosen: "
        f"{'its' if len(alike) == 1 else 'their'} rows are left out; if "
        f"{'it is' if len(alike) == 1 else 'they are'} the same group misspelt, write each "
        "group one way in the file",
        UserWarning,
        stacklevel=3,
    )


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
        frame = _missing_text_as_missing(frame)
        lines, read_as = None, None
    else:
        raw = path.read_bytes()
        if not raw.strip():
            raise DataError(
                f"{given} is empty; export the table again with a header row and patient rows"
            )
        text = _decode(raw, path, words).replace("\r\n", "\n").replace("\r", "\n")
        hint = _EXCEL_SEPARATOR.match(text)  # Excel's "sep=;" line names the separator
        text = text[hint.end() :] if hint else text
        separator = hint.group(1) if hint else _sniff_separator(text)
        above = 1 if hint else 0
        reader = csv.reader(io.StringIO(text), delimiter=separator)
        first = [(reader.line_num + above, row) for row in itertools.islice(reader, 20)]
        header = first[0][1] if first else []
        refuse_title_above_header(first, given)
        refuse_headerless(header, given)
        _refuse_duplicate_names([c.strip() for c in header], given)
        present = [c for c in header if c.strip() in as_text]
        try:
            with warnings.catch_warnings():  # a dropped empty last field: said in _check_rows
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                frame = pd.read_csv(
                    io.StringIO(text),
                    sep=separator,
                    na_values=NA_VALUES,
                    keep_default_na=False,
                    skipinitialspace=True,
                    dtype={c: "string" for c in present} or None,
                    dtype_backend="numpy_nullable",
                    index_col=False,  # never a first column as the index (it shifts the rest)
                )
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataError(
                f"{given} cannot be read as a table ({_one_line(exc)}); export it again "
                "as a CSV with one header row (no title lines above it)"
            ) from None
        _check_rows(text, separator, header, given, above=above)
        lines = _record_lines(text, separator, above)
        frame = _to_plain_dtypes(frame)
        commas, converted = [], []  # columns written with decimal commas: all, some values
        for column in frame.columns:
            if frame[column].dtype == object and column not in present:
                before = frame[column]
                after = _numeric_from_text(before, separator)
                frame[column] = after
                commas += [column] if pd.api.types.is_numeric_dtype(after) else []
                if after is not before and _commas_read_as_numbers(before, after):
                    converted.append(column)  # (not "fever, cough", nor a plain 233)
        if separator == ";" and commas:
            _warn_thousands_dots(frame, commas, given)
        read_as = reading_note(path, separator, converted, given)
    frame.columns = [str(c).strip() for c in frame.columns]
    _refuse_duplicate_names(list(frame.columns), given)
    if len(frame) == 0:
        raise DataError(f"{given} has a header but no rows; export the patient rows too")
    frame.attrs["unusable_numbers"] = blank_unusable_numbers(frame)
    frame.attrs["source"] = given  # for messages: "column 'bp' of --data FILE"
    if read_as:
        frame.attrs["read_as"] = read_as  # train-base says it (one line, names only)
    frame.attrs["text_counts"] = {  # a frame changed since: its text is not the file's
        str(c): int(pd.to_numeric(frame[c].dropna(), errors="coerce").isna().sum())
        for c in frame.columns
        if frame[c].dtype == object
    }
    if lines is not None and len(lines) == len(frame):  # each row's line, to say where
        frame.attrs["lines"] = lines.tobytes()  # bytes: copied and compared cheaply by pandas
    return frame


_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}


def reading_note(path: Path, separator: str, converted: Sequence[str], given: str) -> str | None:
    """How a CSV was read where it is not the plain way its name implies (commas between
    columns, tabs in a ``.tsv``; a point before decimals): its separator, and the columns
    whose numbers were written with decimal commas (``;`` files) or thousands commas
    (``converted``), names only. None for a plain file. A trial's ``;`` file with decimal
    commas was read right without a word: a user could not tell whether medadapt had.

    >>> print(reading_note(Path("a.csv"), ";", ["oldpeak"], "--data a.csv"))
    read --data a.csv with semicolons between columns and decimal commas in 'oldpeak' (1,5 ...
    >>> reading_note(Path("a.csv"), ",", [], "--data a.csv") is None
    True
    """
    expected = "\t" if path.suffix.lower() == ".tsv" else ","
    parts = []
    if separator != expected:
        parts.append(f"{_SEPARATOR_NAMES.get(separator, repr(separator))} between columns")
    if converted:
        shown = ", ".join(map(repr, converted[:4]))
        more = f" and {len(converted) - 4} more" if len(converted) > 4 else ""
        if separator == ";":
            parts.append(f"decimal commas in {shown}{more} (1,5 read as 1.5)")
        else:
            parts.append(f"thousands commas in {shown}{more} (1,234 read as 1234)")
    return f"read {given} with " + " and ".join(parts) if parts else None


def _commas_read_as_numbers(before: pd.Series, after: pd.Series) -> bool:
    """Whether a cell written with a comma (``12,5``, ``1,234``) is a number after
    :func:`_numeric_from_text`: a text column whose notes hold commas ("fever, cough") is
    not one (a review: the note named it)."""
    had_comma = before.map(lambda v: isinstance(v, str) and "," in v)
    return bool(after[had_comma].map(lambda v: not isinstance(v, str) and v == v).any())


def _missing_text_as_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """A Parquet file's text cells that a CSV's reading takes as missing (:data:`NA_VALUES`,
    as whole cells: "", "NA", "?"), missing there too: a trial's export stored every column as
    text, and its 56 empty strings were refused as "56 other text" in a numeric column."""
    for column in frame.columns:
        if not pd.api.types.is_string_dtype(frame[column].dtype):  # object or str columns
            continue
        stripped = frame[column].map(lambda v: v.strip() if isinstance(v, str) else v)
        blank = stripped.isin(NA_VALUES)
        if blank.any():
            frame[column] = frame[column].mask(blank)
    return frame


def _warn_thousands_dots(frame: pd.DataFrame, commas: list[str], given: str) -> None:
    """A warning where a file whose numbers have decimal commas (``commas``: such columns)
    holds a column read with '.' as the decimal point whose values all have three digits
    after it (``278.037``): in such an export the '.' more likely separates thousands, and
    the values would be read a thousand times too small (a trial's platelet counts)."""
    for column in frame.columns:
        values = frame[column]
        if column in commas or not pd.api.types.is_float_dtype(values):
            continue
        finite = values.dropna().to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        if len(finite) < 5 or (np.abs(finite) >= 1000).any():
            continue
        thousandths = np.round(np.abs(finite) * 1000)
        three = np.isclose(np.abs(finite) * 1000, thousandths) & (thousandths % 10 != 0)
        if three.mean() < 0.8:  # most need all three digits (a trailing 0 drops one)
            continue
        warnings.warn(
            f"column {column!r} of {given} is read with '.' as the decimal point (three digits "
            f"after it in most rows), while {', '.join(map(repr, commas[:3]))} "
            f"{'uses' if len(commas) == 1 else 'use'} decimal commas: if '.' separates "
            "thousands there (278.037 for 278037), write those numbers without it",
            UserWarning,
            stacklevel=4,
        )


def _record_lines(text: str, separator: str, above: int) -> np.ndarray | None:
    """The line of the file where each row under the header starts (blank lines skipped, as
    pandas skips them; ``above``: lines removed before ``text``); None when unreadable."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    starts = []
    try:
        next(reader, None)
        end = reader.line_num
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                starts.append(end + 1 + above)
            end = reader.line_num
    except csv.Error:
        return None
    return np.asarray(starts, dtype=np.int64)


def _check_rows(text: str, separator: str, header: list[str], given: str, above: int = 0) -> None:
    """Refuse rows that pandas would misread without a word: more values than the header has
    names (unless only empty ones: a separator closing every row), the header repeated as a
    data row, and a totals row at the end (a word such as "Total", or only a column's sum or count:
    :mod:`~medadapt.data.table_layout`). Messages give line numbers (``above``: lines of
    the file before ``text``) and counts only."""
    names = [c.strip() for c in header]
    width = len(names)
    longer: list[int] = []
    repeats: list[int] = []
    last: tuple[int, list[str]] | None = None
    shapes: list[tuple[int, Numbers]] = []  # (line, numbers of a row holding nothing else)
    missing = set(NA_VALUES)
    for line, fields in _data_rows(text, separator, above):
        last = (line, fields)
        shapes.append((line, sparse_numbers(fields, width, missing)))
        if len(fields) > width and any(fields[width:]):
            longer.append(line)
        elif width > 1 and fields[:width] == names:
            repeats.append(line)
    rows, have = plural(len(longer), "row"), "has" if len(longer) == 1 else "have"
    if longer and width == 1:
        raise DataError(
            f"{given}: its first line has one column name, but {rows} below {have} more values "
            f"(first at line {longer[0]}): a title above the header row? delete the lines above "
            "the header"
        )
    if longer:
        raise DataError(
            f"{given}: {rows} {have} more values than the header's {width} column names (first "
            f"at line {longer[0]}): a value holding an unquoted {separator!r} (a thousands "
            "separator or decimal comma?), or a column without a name; quote those values or "
            "export the file again"
        )
    if repeats:
        raise DataError(
            f"{given} repeats its header row as data {plural(len(repeats), 'time')} (first at "
            f"line {repeats[0]}; files joined together?); delete those lines, they would turn "
            "every numeric column into text"
        )
    if last is not None:
        total = _TOTALS.fullmatch(next((f for f in last[1] if f), ""))
        if total:
            raise DataError(
                f"{given} ends with a summary row, not a patient (line {last[0]} starts with "
                f"{total.group(1)!r}); delete it"
            )
    refuse_summary_rows(
        shapes,
        width,
        given,
        cells=_data_rows(text, separator, above),
        number=lambda cell: cell_number(cell, separator),
        missing=missing,
        names=names,
    )


def _data_rows(text: str, separator: str, above: int) -> Iterator[tuple[int, list[str]]]:
    """Each non-empty row under the column names as (line number, stripped cells)."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    next(reader, None)
    for row in reader:
        fields = [f.strip() for f in row]
        if any(fields):
            yield reader.line_num + above, fields


def cell_number(cell: str, separator: str) -> float | None:
    """The finite number a stripped cell of a file separated by ``separator`` holds, as
    :func:`read_table` reads it (``1,234`` quoted in a ``,`` file; ``1.234,5`` in a ``;``
    file); None for anything else."""
    try:
        value = float(cell)
    except ValueError:
        written = DECIMAL_COMMA if separator == ";" else THOUSANDS
        if not written.fullmatch(cell):
            return None
        if separator == ";":
            cell = cell.replace(".", "").replace(",", ".")
        value = float(cell.replace(",", ""))
    return value if np.isfinite(value) else None


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


def numbers_where_chosen(frame: pd.DataFrame, keep_text: Sequence[str | None] = ()) -> pd.DataFrame:
    """``frame`` (rows chosen from a table, e.g. by group) with each text column whose present
    values are all numbers read as numbers: a column is text for the whole file when any row
    holds text ("n.d." at one site, a repeated header), and the chosen rows' numbers would
    otherwise become one category per value. ``keep_text``: columns kept as they are (ids,
    groups). A copy when a column changes."""
    changed = {}
    for column in frame.columns:
        series = frame[column]
        if column in keep_text or series.dtype != object:
            continue
        present = series[series.notna()]
        if present.empty or any(isinstance(v, bool | np.bool_) for v in present):
            continue
        if pd.to_numeric(present, errors="coerce").notna().all():
            changed[column] = pd.to_numeric(series, errors="coerce").astype("float64")
    return frame.assign(**changed) if changed else frame


def table_bytes(frame: pd.DataFrame, path: str | Path) -> bytes:
    """``frame`` as the file ``path`` names: Parquet for ``.parquet``/``.pq``, TSV for
    ``.tsv``, else CSV (UTF-8)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return frame.to_csv(index=False, sep="\t" if suffix == ".tsv" else ",").encode()


#: decimals of a probability in a predictions CSV or TSV: a float32 score differs from 1 by
#: 6e-8 at the least, so 8 keep such scores apart (``0.99999905``, ``0.00000093``)
PROBABILITY_DECIMALS = 8


def predictions_bytes(frame: pd.DataFrame, path: str | Path, probabilities: Sequence[str]) -> bytes:
    """``frame`` (``predict``'s) as :func:`table_bytes` writes it, its ``probabilities``
    columns with :data:`PROBABILITY_DECIMALS` fixed decimals in a CSV or TSV, tables and
    images alike (never ``9.333494e-07`` beside ``0.99999905``); Parquet keeps the numbers.

    >>> frame = pd.DataFrame({"p_yes": np.float32([0.99999905, 9.333494e-07]), "n": [1, 2]})
    >>> print(predictions_bytes(frame, "pred.csv", ["p_yes"]).decode(), end="")
    p_yes,n
    0.99999905,1
    0.00000093,2
    """
    if Path(path).suffix.lower() not in (".parquet", ".pq"):
        fixed = {
            column: ["" if pd.isna(v) else f"{v:.{PROBABILITY_DECIMALS}f}" for v in frame[column]]
            for column in probabilities
        }
        frame = frame.assign(**fixed)
    return table_bytes(frame, path)


LARGEST_MEASUREMENT = 1e15  # beyond this no clinical value is plausible: an export error


def blank_unusable_numbers(frame: pd.DataFrame) -> dict[str, int]:
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


def read_as_a_file(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """A copy of ``frame`` as :func:`read_table` reads a file's rows (infinite numbers and
    magnitudes beyond 1e15 read as missing: :func:`blank_unusable_numbers`), its ``attrs``
    counting them with those counted already (pandas carries ``attrs`` over to a slice or a
    copy of a frame ``read_table`` gave); and those found here, per column. ``frame`` itself
    is left as it is."""
    copy = frame.copy()
    found = blank_unusable_numbers(copy)
    counts = dict(frame.attrs.get("unusable_numbers") or {})
    for column, n in found.items():
        counts[column] = counts.get(column, 0) + n
    copy.attrs["unusable_numbers"] = counts
    return copy, found


def unusable_numbers_warnings(
    frame: pd.DataFrame, columns: Sequence[str] | None = None
) -> list[str]:
    """One sentence per column of ``frame`` (read by :func:`read_table`) whose infinite or
    absurdly large values were read as missing (only ``columns`` when given)."""
    return unusable_numbers_notes(frame.attrs.get("unusable_numbers", {}), columns)


def unusable_numbers_notes(
    counts: Mapping[str, int], columns: Sequence[str] | None = None
) -> list[str]:
    """:func:`unusable_numbers_warnings` for ``counts`` (column -> values read as missing, as
    :func:`blank_unusable_numbers` gives them)."""
    return [
        f"{n} {'value' if n == 1 else 'values'} of column {column!r} {'is' if n == 1 else 'are'}"
        f" infinite or beyond {LARGEST_MEASUREMENT:g} (not a measurement): read as missing"
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
