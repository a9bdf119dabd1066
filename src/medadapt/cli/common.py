"""Helpers shared by the command modules: progress display and tables on the terminal."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from rich.box import HEAVY_HEAD, SIMPLE_HEAD, Box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from medadapt.results import grouped

console = Console(stderr=True)
PENDING_NOTES: list[tuple[str, str]] = []
"""Notes held until the command's work shows (:func:`noted_once_working`), each with what an
error must name for the note to be said in it."""


class _Stdout(Console):
    """Standard output, which first says the notes held until the command's checks passed
    (:func:`noted_once_working`), also before a table is measured in a capture (a review:
    the note went into the capture and was lost, the table folded)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        said_pending_notes()
        super().print(*objects, **kwargs)

    def capture(self) -> Any:
        said_pending_notes()
        return super().capture()


stdout = _Stdout()


@contextlib.contextmanager
def status_progress(
    title: str, total: int | None = None, *, said_after: float = 0.0
) -> Iterator[Any]:
    """A progress bar (or spinner without ``total``) on stderr; yields ``step(message)``.

    With a ``total`` the bar shows done/total and the time remaining; ``step(message,
    already=n)`` counts ``n`` steps found finished (a resumed run) without letting them speed up
    the estimate of the time left. The bar disappears
    when the work ends; on success one line says how long it took, so an error leaves only its
    own one-line message; ``said_after``: only where the work took at least that many
    seconds (a step of a command, such as a PACS look-up, is said where it was slow: a
    trial's clinical lines were interleaved with "fetch (DICOMweb) done in 0.0 s").
    """
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *([MofNCompleteColumn()] if total is not None else []),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        *([TextColumn("left"), TimeRemainingColumn()] if total is not None else []),
    ]
    started = time.perf_counter()
    if not console.is_terminal:  # a log file or a pipe: no bar (it would leave blank lines)
        yield _LogProgress(title, total, started) if _real_stream() else _silent
    else:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(title, total=total, message="")

            def step(message: str, advance: int | None = None, already: int = 0) -> None:
                if already:  # a fresh start of the clock: only work done now estimates the rest
                    progress.reset(task, completed=already, message=message)
                    return
                progress.update(task, advance=_steps(advance, total, message), message=message)

            yield step
    took = time.perf_counter() - started
    said_pending_notes()  # the work is done: before its "done" line
    if took >= said_after:
        console.print(f"[bold]{title}[/bold] done in {took:.1f} s")


def _steps(advance: int | None, total: int | None, message: str) -> int:
    """How many steps a ``step(message, advance)`` call counts, for the bar and the log
    alike: ``advance`` as given, else one (none without a total, and none for an epoch's
    update, which changes the message only)."""
    if advance is not None:
        return advance
    return 1 if total is not None and not message.startswith("epoch ") else 0


LOG_EVERY = 60.0
"""Seconds between the progress lines of a run whose stderr is a log file or a pipe (a
trial's image study printed nothing for five minutes, as if hung)."""


def _silent(message: str, advance: int | None = None, already: int = 0) -> None:
    """No progress at all: output captured in-process (tests, a notebook)."""


def _real_stream() -> bool:
    """Whether stderr is an operating-system stream (a log file, a pipe), not captured."""
    try:
        console.file.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


class _LogProgress:
    """``step(message, advance, already)`` without a bar: one plain line every
    :data:`LOG_EVERY` seconds, ``study: 3 of 24 done, 2 min 10 s so far (about 15 min
    left)``, the estimate from the steps done in this run only (a resumed run's ``already``
    ones took no time now)."""

    def __init__(self, title: str, total: int | None, started: float) -> None:
        self.title, self.total, self.started = title, total, started
        self.done = self.already = 0
        self.said = started
        self.first: float | None = None  # when this run's first step ended

    def __call__(self, message: str, advance: int | None = None, already: int = 0) -> None:
        if already:
            self.done = self.already = already
            self.started = time.perf_counter()
            return
        self.done += _steps(advance, self.total, message)
        now = time.perf_counter()
        if self.first is None and self.done > self.already:
            self.first = now
        if now - self.said < LOG_EVERY:
            return
        self.said = now
        spent = now - self.started
        if self.total is None:
            line = f"{self.title}: working, {_duration(spent)} so far"
        else:
            line = f"{self.title}: {self.done} of {self.total} done, {_duration(spent)} so far"
            left = self._left(now, spent)
            line += f" (about {_duration(left)} left)" if left is not None else ""
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _left(self, now: float, spent: float) -> float | None:
        """The time left at the pace of the steps after this run's first (which often holds
        the set-up: a base model trained first; a trial's first of 106 said "about 5 h 10 min
        left", where the rest took 38 min); from every step only where a tenth are done and
        fewer than 3, and none before."""
        new, total = self.done - self.already, self.total or 0
        if new <= 0 or self.done >= total:
            return None
        if new >= 3 and self.first is not None:
            return (now - self.first) / (new - 1) * (total - self.done)
        return spent / new * (total - self.done) if new >= 0.1 * total else None


def _duration(seconds: float) -> str:
    """``45 s``, ``2 min 10 s``, ``1 h 5 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


FOOTNOTES: list[str] = []
"""The footnotes this command has printed, in order: a later table's ``[1]`` is the same
note as an earlier one's, and a new note takes the next number (a trial's three tables each
had a ``[1]`` of its own meaning). Emptied as each command starts."""


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout; a "note" column's text that several rows share is printed once,
    under the table, and the rows point to it ("[1]"), numbered across the command's tables
    (:data:`FOOTNOTES`)."""
    cells = [["–" if v is None else grouped(v) for v in row] for row in rows]
    earlier = set(FOOTNOTES)  # said under an earlier table: pointed to, not said again
    footnotes = _shared_notes(cells, columns.index("note")) if "note" in columns else []
    table = _table(title, columns, cells, wrap_figures_between_words=True)
    if not _whole(table):  # rich narrowed a figure: the words columns give way instead
        table = _table(title, columns, cells, wrap_figures_between_words=True, fixed=True)
    if not _whole(table):  # two characters short: no padding at the table's outer edges
        table = _table(title, columns, cells, wrap_figures_between_words=True, fixed=True,
                       pad_edge=False)  # fmt: skip
    if not _whole(table):  # no lines between the columns ("bottlene/ck" at 80 columns)
        table = _table(title, columns, cells, wrap_figures_between_words=True, fixed=True,
                       pad_edge=False, box=SIMPLE_HEAD)  # fmt: skip
    if not _whole(table):  # too narrow for whole words: fold them
        table = _table(title, columns, cells, wrap_figures_between_words=False)
    stdout.print(table)
    for text in footnotes:
        if text not in earlier:
            stdout.print(f"[{FOOTNOTES.index(text) + 1}] {text}", markup=False)


def _whole(table: Table) -> bool:
    """Whether ``table`` prints within the terminal's width with every line closed by its
    border (rich crops a table whose columns cannot shrink enough)."""
    with stdout.capture() as captured:
        stdout.print(table)
    lines = captured.get().splitlines()
    top = next((i for i, line in enumerate(lines) if line.startswith("┏")), 1)
    lines = lines[top:]  # the title's lines are padded text (a long title wraps)
    if table.box is SIMPLE_HEAD:  # no border to close, and rich crops what does not fit:
        # every cell's longest word must fit (a review: a last column cut off at 72 columns)
        unbounded = stdout.options.update_width(10 * stdout.width)  # (measures are clamped)
        closed = Measurement.get(stdout, unbounded, table).minimum <= stdout.width
    else:
        closed = all(line.rstrip()[-1:] in "┓┃┩│┘" for line in lines if line.strip())
    return closed and _figures_whole(table)


def _figures_whole(table: Table) -> bool:
    """Whether every column keeps the width its longest figure asks (``min_width``): rich
    narrows a column below it to fit the terminal, and a trial's per-class table folded an
    interval as ``(0.025–0.556`` over ``)`` at 80 columns, its border closed."""
    inside = stdout.options.update_width(stdout.width - table._extra_width)  # the borders
    widths = table._calculate_column_widths(stdout, inside)  # rich < 15 (the lock)
    padding = table.padding[1] + table.padding[3]
    return all(
        column.min_width is None or width >= column.min_width + padding - _edge(table, i)
        for i, (column, width) in enumerate(zip(table.columns, widths, strict=True))
    )


def _edge(table: Table, i: int) -> int:
    """The padding a column lacks at the table's outer edge (``pad_edge=False``)."""
    outer = i == 0 or i == len(table.columns) - 1
    return 0 if table.pad_edge or not outer else table.padding[1]


def _table(
    title: str,
    columns: Sequence[str],
    cells: list[list[str]],
    *,
    wrap_figures_between_words: bool,
    fixed: bool = False,
    pad_edge: bool = True,
    box: Box = HEAVY_HEAD,
) -> Table:
    """``fixed``: each figures column as wide as its longest word, no wider (rich narrows
    only the words columns to fit). ``wrap_figures_between_words``: the first column's words
    whole too (a name: "bottleneck", never "bottlene" over "ck"); a "note" column's are
    folded where they must be."""
    table = Table(title=title, title_justify="left", pad_edge=pad_edge, box=box)
    for i, column in enumerate(columns):
        # fold, never cut: "0.58 (0.46–0.7…" would hide the interval's end on a narrow terminal
        left = i == 0 or column == "note"  # words read from the left, figures from the right
        whole = wrap_figures_between_words and column != "note"
        # the heading's words whole too ("eno" over "ugh?" above "no: 150")
        width = _longest_word([column, *(row[i] for row in cells)]) if whole else None
        table.add_column(column, justify="left" if left else "right", overflow="fold",
                         min_width=width, width=width if fixed and not left else None)  # fmt: skip
    for row in cells:
        table.add_row(*row)
    return table


def _longest_word(texts: Iterable[str], most: int = 16) -> int:
    """The width a figures column needs to wrap only between words: ``0.951`` over
    ``(0.864–1.000)``, never ``(0.864–1.000`` over ``)`` (at most ``most``)."""
    return min(most, max((len(word) for text in texts for word in text.split()), default=1))


def _shared_notes(cells: list[list[str]], column: int) -> list[str]:
    """Replace, in place, each note that two or more rows share by its footnote marker;
    return the footnotes' texts in order of first use."""
    counts = Counter(row[column] for row in cells if row[column])
    shared = [text for text in dict.fromkeys(row[column] for row in cells) if counts[text] > 1]
    FOOTNOTES.extend(text for text in shared if text not in FOOTNOTES)
    for row in cells:
        if row[column] in shared:
            row[column] = f"[{FOOTNOTES.index(row[column]) + 1}]"
    return shared


def new_directory(
    out: Any,
    *,
    force: bool,
    markers: dict[str, str],
    foreign: dict[str, str] | None = None,
    owned: Sequence[str] = (),
) -> contextlib.AbstractContextManager[Any]:
    """Check ``--out`` now, before any work (refused: a file, an earlier ``what`` or other
    files, without ``--force``; an output of another kind, ``foreign``, even with it: by
    default every other command's, :func:`~medadapt.fileio.other_outputs`, as a trial's
    ``federate simulate --out BASE --force`` overwrote a base's ``split.json``); the
    context gives a staged directory that takes ``out``'s place only when the work
    succeeds (an earlier output's ``owned`` files go, even those this one does not write)."""
    from medadapt.cli.inputs import check_name_length
    from medadapt.fileio import check_output_dir, other_outputs, staged_directory

    if foreign is None:
        foreign = other_outputs(*markers)
    check_name_length(out, "--out")
    check_output_dir(out, flag="--out", force=force, markers=markers, foreign=foreign)
    return staged_directory(out, owned)


def write_outputs(files: Sequence[tuple[Any, bytes]]) -> None:
    """Write every rendered output, each atomically, and say so (the work is done and each
    output was checked before it started: nothing is written when rendering one failed)."""
    from medadapt.fileio import atomic_write_bytes, make_parent

    for path, data in files:
        if path is None:
            continue
        make_parent(path)
        atomic_write_bytes(path, data)
        stdout.print(f"wrote {path}")


_REWRITES: list[Callable[[str], str]] = []


@contextlib.contextmanager
def rewriting(rewrite: Callable[[str], str]) -> Iterator[None]:
    """Every line :func:`note`, :func:`warn` and the log print goes through ``rewrite`` for the
    block (a run on a PACS names the private files it read as the user knows them)."""
    _REWRITES.append(rewrite)
    try:
        yield
    finally:
        _REWRITES.remove(rewrite)


def rewritten(message: str) -> str:
    """``message`` as the active :func:`rewriting` blocks say it."""
    for rewrite in _REWRITES:
        message = rewrite(message)
    return message


def warn(message: str) -> None:
    """One ``warning: ...`` line on stdout: never wrapped, never read as rich markup."""
    note(f"warning: {message}")


def note(message: str) -> None:
    """One yellow line on stdout: never wrapped, never read as rich markup."""
    stdout.print(rewritten(message), style="yellow", markup=False, highlight=False,
                 soft_wrap=True)  # fmt: skip


def noted(message: str) -> None:
    """One ``note: ...`` line on stdout, as the log's notes and ``check-data``'s read (a
    :func:`note` says what it is by its own words: ``skipped FILE: ...``)."""
    note(f"note: {message}")


def noted_once_working(message: str, about: str) -> None:
    """:func:`noted`, held until the command's first output or its end; where the command
    ends in an error, said inside that one line if the error names ``about``, else dropped
    (a trial's refused ``--group`` printed the note on the group column taken from the
    base, then the error: two lines for one refusal)."""
    PENDING_NOTES.append((message, about))


def said_pending_notes() -> None:
    """The notes held by :func:`noted_once_working`, said now (in order, once)."""
    held = list(PENDING_NOTES)
    PENDING_NOTES.clear()
    for message, _ in held:
        noted(message)


def pending_notes_for(error: str) -> str:
    """The held notes about what ``error`` names, as a clause to end it with (``; --group-column
    dataset, the base model's (...)``); the held notes are dropped."""
    held = list(PENDING_NOTES)
    PENDING_NOTES.clear()
    return "".join(f"; {message}" for message, about in held if about in error)


def required(value: Any, option: str, why: str) -> Any:
    """``value``, or a one-line error that ``option`` is needed (None or empty text)."""
    if value is None or value == "":
        from medadapt.errors import DataError

        raise DataError(f"{option} is required {why}")
    return value


def small_model_threads(modality=None) -> None:
    """The modality's torch threads (one for the small tabular models: faster than two, no
    sync overhead; ``None``: torch's default); ``MEDADAPT_THREADS`` overrides."""
    import os

    threads = os.environ.get("MEDADAPT_THREADS") or getattr(modality, "threads", 1)
    if threads is None:
        return
    import torch

    torch.set_num_threads(int(threads))
