"""Notes held until a command's work shows (``noted_once_working``): said once, in order,
before any output (a table measured in a capture too), or inside the one error line that
names what they are about, and dropped with any other error."""

from __future__ import annotations

from medadapt.cli import common


def test_held_notes_come_in_order_before_a_captured_table(capsys):
    """A review: a table measured in a capture took the note into the capture (lost, and the
    table folded); and notes said one by one came out last first."""
    common.PENDING_NOTES.clear()
    common.noted_once_working("first", about="x")
    common.noted_once_working("second", about="y")
    with common.stdout.capture() as captured:
        common.stdout.print("inside")
    assert capsys.readouterr().out.splitlines() == ["note: first", "note: second"]
    assert captured.get().strip() == "inside" and common.PENDING_NOTES == []


def test_an_error_says_the_held_notes_about_what_it_names_and_drops_the_others():
    common.PENDING_NOTES.clear()
    common.noted_once_working("--group-column dataset, the base model's", about="'dataset'")
    common.noted_once_working("unrelated", about="'other'")
    said = common.pending_notes_for("--group-column 'dataset' is not in the table")
    assert said == "; --group-column dataset, the base model's" and common.PENDING_NOTES == []
