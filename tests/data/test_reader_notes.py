"""What the imaging libraries log and warn while a file is read becomes that read's notes,
also when several threads read at once (``serve``'s decode pool)."""

from __future__ import annotations

import logging
import threading
import time
import warnings

from medadapt.data.reader_notes import collect_notes


def test_threads_reading_at_once_each_get_their_own_notes_and_the_hooks_come_back():
    """With one ``warnings.catch_warnings`` per read, four threads swapped the process-wide
    hooks under each other: 1,196 of 1,200 reads got another thread's notes (an upload's
    answer could carry another's), and pydicom's logger was left silenced."""
    pydicom = logging.getLogger("pydicom")
    before = (pydicom.propagate, list(pydicom.handlers), warnings.showwarning)
    wrong: list[tuple[int, list[str]]] = []

    def read(i: int) -> None:
        for _ in range(100):
            with collect_notes() as notes:
                time.sleep(0.0002)
                if i % 2 == 0:
                    warnings.warn(f"warned {i}", stacklevel=1)
                    pydicom.warning("logged %d", i)
                time.sleep(0.0002)
            if sorted(notes) != ([f"logged {i}", f"warned {i}"] if i % 2 == 0 else []):
                wrong.append((i, notes))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert (pydicom.propagate, list(pydicom.handlers), warnings.showwarning) == before


def test_a_block_inside_another_collects_its_own_and_a_warning_outside_is_shown(recwarn):
    with collect_notes() as outer:
        warnings.warn("first", stacklevel=1)
        with collect_notes() as inner:
            logging.getLogger("nibabel").warning("inner")
        logging.getLogger("pydicom").error("second")
    assert (outer, inner) == (["first", "second"], ["inner"])
    warnings.warn("after", stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["after"]


def test_a_catch_warnings_block_spanning_a_read_leaves_warnings_working(recwarn):
    """Another thread's ``catch_warnings`` begun while notes were collected and ended after
    put the collecting hook back for good: every later ``warnings.warn`` raised KeyError."""
    started, finished = threading.Event(), threading.Event()

    def other() -> None:
        with warnings.catch_warnings():
            started.set()
            finished.wait(5)

    with collect_notes():
        thread = threading.Thread(target=other)
        thread.start()
        started.wait(5)
    finished.set()
    thread.join()
    warnings.warn("after", stacklevel=1)  # raised KeyError: 'showwarning'
    assert "after" in [str(w.message) for w in recwarn]
    warnings.showwarning = warnings._showwarning_orig  # type: ignore[attr-defined]
