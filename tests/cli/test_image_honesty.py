"""What a new user's tiny PNG folders met: blank images trained on, byte-identical copies told
to lower --test-fraction, a misspelt class folder steered into a new class, a huge picture
answered in PIL's words."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from medadapt.data.image_io import TooManyPixels, read_picture
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.data.makers import disc, huge_png, write_picture

TINY = ["--image-size", "16", "--epochs", "1",
        "--backbone-options", "depth=1,embed_dim=16,num_heads=2"]  # fmt: skip
HUGE = "400,000,000 pixels, over the 178,956,970 an image may have"


def _folder(root: Path, n: int = 6, classes: tuple[str, ...] = ("normal", "pneumonia")) -> Path:
    for k, name in enumerate(classes):
        for i in range(n):
            write_picture(root / name / f"{i}.png", disc(16, 120 + 60 * k, seed=10 * k + i))
    return root


def _blank(path: Path, size: int = 16, value: int = 0) -> Path:
    return write_picture(path, np.full((size, size), value, np.uint8))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A base trained on normal/pneumonia (shared by the tests that only read it)."""
    tmp = tmp_path_factory.mktemp("honest")
    succeeded(run_cli("train-base", "--data", _folder(tmp / "cases"), *TINY, "--out",
                      tmp / "base"))  # fmt: skip
    return tmp / "base"


def test_blank_training_images_are_refused_by_count_or_left_out_with_a_warning(tmp_path):
    black = tmp_path / "black"
    for name in ("normal", "pneumonia"):
        for i in range(4):
            _blank(black / name / f"{i}.png", 16 + i)
    assert error_line(run_cli("train-base", "--data", black, *TINY, "--out", tmp_path / "b")) == (
        f"error: 8 of 8 image files are blank, every pixel the same value (first: "
        f"{black / 'normal' / '0.png'}): they teach the model nothing; remove them, or pass "
        "--on-error skip to leave them out"
    )
    mixed = _folder(tmp_path / "mixed")
    _blank(mixed / "normal" / "z_black.png", value=7)
    refused = run_cli("train-base", "--data", mixed, *TINY, "--out", tmp_path / "m")
    assert error_line(refused).startswith(
        "error: 1 of 13 image files is blank, every pixel the same value (first: "
    )
    result = succeeded(run_cli("train-base", "--data", mixed, *TINY, "--on-error", "skip",
                               "--out", tmp_path / "m"))  # fmt: skip
    said = result.stdout + result.stderr
    assert (f"skipped {mixed / 'normal' / 'z_black.png'}: a blank image: every pixel has the "
            "same value (nothing to learn from)") in said  # fmt: skip
    assert (
        f"warning: left out 1 of 13 image files as blank, every pixel the same value (first: "
        f"{mixed / 'normal' / 'z_black.png'}): it teaches the model nothing"
    ) in said
    # the summary counts blank files as blank, not as unreadable
    assert (
        "1 image left out (--on-error skip): 1 blank (every pixel one value)" in said.splitlines()
    )


def test_byte_identical_copies_are_said_not_a_lower_test_fraction(tmp_path):
    data = tmp_path / "same"
    for name in ("normal", "pneumonia"):
        for i in range(10):
            write_picture(data / name / f"{i}.png", disc(16, 150, seed=1))
    assert error_line(run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "b")) == (
        f"error: all 20 images are byte-identical copies of one image (first: "
        f"{data / 'normal' / '0.png'}): a model learns nothing from copies, and cannot be "
        "tested on an image it trained on; add distinct images"
    )


def test_a_misspelt_class_folder_is_called_a_typo_not_a_new_class(base, tmp_path):
    typo = _folder(tmp_path / "typo", classes=("normal", "pneumonai"))
    said = (
        f"error: {typo} has 6 images labelled 'pneumonai' (spelt like 'pneumonia': a typo?), "
        "not one of the model's classes ['normal', 'pneumonia']: "
    )
    adapt = run_cli("adapt", "--base", base, "--data", typo, "--out", tmp_path / "a")
    assert error_line(adapt) == said + "rename the folder to 'pneumonia'"  # not --new-classes
    assert error_line(run_cli("check-data", "--base", base, "--data", typo)).startswith(said)
    assert error_line(run_cli("evaluate", "--base", base, "--data", typo)).startswith(said)
    other = _folder(tmp_path / "other", classes=("normal", "effusion"))
    assert "spelt like" not in error_line(
        run_cli("adapt", "--base", base, "--data", other, "--out", tmp_path / "o")
    )
    grown = run_cli("adapt", "--base", base, "--data", typo, "--new-classes", "pneumonai",
                    "--epochs", "1", "--out", tmp_path / "g")  # fmt: skip
    assert (
        "warning: --new-classes pneumonai is spelt like the base model's class 'pneumonia': a "
        "typo? if so, rename the images' class to 'pneumonia' and drop it from --new-classes"
    ) in grown.stdout + grown.stderr


def test_a_huge_picture_is_refused_in_our_words(base, tmp_path):
    huge = huge_png(tmp_path / "huge.png")
    with pytest.raises(TooManyPixels, match=f"^{HUGE}$"):
        read_picture(huge)
    out = tmp_path / "p.csv"
    assert error_line(run_cli("predict", "--base", base, "--data", huge, "--out", out)) == (
        f"error: {huge}: {HUGE}; fix or remove the file, or pass --on-error skip to leave it out"
    )
    data = _folder(tmp_path / "cases")
    shutil.copy(huge, data / "normal" / "huge.png")
    assert error_line(run_cli("train-base", "--data", data, *TINY, "--out", tmp_path / "b")) == (
        f"error: {data / 'normal' / 'huge.png'}: {HUGE}; fix or remove the file, or pass "
        "--on-error skip to leave it out"
    )


def test_a_csv_without_the_path_column_named_is_said_so(base, tmp_path):
    """'--path-column nosuch' got "--base ... is a model for image data, but --data is not
    image data (it reads as a table)": the column and the flag are named now."""
    cases = tmp_path / "cases.csv"
    cases.write_text("file,label,site\na.png,normal,A\nb.png,pneumonia,B\n")
    said = run_cli("evaluate", "--base", base, "--data", cases, "--path-column", "nosuch")
    assert error_line(said) == (
        f"error: --data {cases} has no column 'nosuch' of image paths; its column 'file' holds "
        "image files: pass --path-column file"
    )
    table = tmp_path / "table.csv"  # measurements, no image files: the general refusal
    table.write_text("age,label\n61,normal\n70,pneumonia\n")
    said = run_cli("evaluate", "--base", base, "--data", table)
    assert error_line(said).startswith(f"error: --base {base} is a model for image data, but ")


def test_the_skipped_summary_counts_unreadable_and_blank_files_apart(capsys):
    from medadapt.cli.printing import print_skipped
    from medadapt.data.read_errors import BLANK_REASON

    skipped = [{"path": "a.png", "reason": "unreadable (truncated)"},
               {"path": "b.png", "reason": BLANK_REASON}]  # fmt: skip
    print_skipped({"skipped_files": skipped})
    assert capsys.readouterr().out.splitlines() == [
        "skipped a.png: unreadable (truncated)",
        f"skipped b.png: {BLANK_REASON}",
        "2 images left out (--on-error skip): 1 unreadable, 1 blank (every pixel one value)",
    ]
    many = [{"path": f"m.npz#train/{i}", "reason": BLANK_REASON} for i in range(12)]
    print_skipped({"skipped_files": many})  # an .npz may hold thousands: ten named
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12 and lines[9] == f"skipped m.npz#train/9: {BLANK_REASON}"
    assert lines[10:] == [
        "... and 2 more (--json lists them all)",
        "12 images left out (--on-error skip): 12 blank (every pixel one value)",
    ]
    print_skipped({"skipped_files": many}, listed_by=None)  # a command without --json
    assert capsys.readouterr().out.splitlines()[10] == "... and 2 more"


def test_predict_says_where_every_file_left_out_shows(base, tmp_path):
    """predict has no --json, yet its "... and N more" pointed to it."""
    incoming = _folder(tmp_path / "incoming", n=2)
    for i in range(12):
        _blank(incoming / "normal" / f"black{i}.png")
    result = succeeded(run_cli("predict", "--base", base, "--data", incoming, "--on-error",
                               "skip", "--out", tmp_path / "p.csv"))  # fmt: skip
    assert "... and 2 more (the files of --data without a row in --out's predictions are the " \
        "ones left out)" in result.stdout.splitlines()  # fmt: skip


def test_a_blank_image_left_out_of_predict_is_counted_as_blank(base, tmp_path):
    """predict's reason ("... (nothing to score)") was not the training data's, so its blank
    image was summed up as "1 unreadable"; Thumbs.db was named as a file not read."""
    incoming = _folder(tmp_path / "incoming", n=2)
    _blank(incoming / "normal" / "black.png")
    (incoming / "normal" / "Thumbs.db").write_bytes(b"\0")
    result = succeeded(run_cli("predict", "--base", base, "--data", incoming, "--on-error",
                               "skip", "--out", tmp_path / "p.csv"))  # fmt: skip
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if "skip" in line or "not read" in line] == [
        f"skipped {incoming / 'normal' / 'black.png'}: a blank image: every pixel has the same "
        "value (nothing to score)",
        "1 image left out (--on-error skip): 1 blank (every pixel one value)",
    ]


def test_every_reason_a_blank_image_is_left_out_is_counted_as_blank(capsys):
    from medadapt.cli.printing import print_skipped
    from medadapt.data.image_dataset import describe_skipped

    skipped = [
        ("a.png", "a blank image: every pixel has the same value (nothing to score)"),
        ("b.dcm", "a blank image: every pixel has the same value after the intensity window "
                  "(nothing to score)"),
        ("c.png", "unreadable (truncated)"),
    ]  # fmt: skip
    print_skipped({"skipped_files": [{"path": p, "reason": r} for p, r in skipped]})
    assert capsys.readouterr().out.splitlines()[-1] == (
        "3 images left out (--on-error skip): 1 unreadable, 2 blank (every pixel one value)"
    )
    assert describe_skipped(skipped) == (
        "1 unreadable file, first: c.png: unreadable (truncated); 2 blank images, first: a.png"
    )
    # a notes.txt among the images: a file, counted as no image (was "1 unreadable" image)
    stray = [("notes.txt", "unknown file type '.txt' (medadapt reads .png ...)"), skipped[2]]
    print_skipped({"skipped_files": [{"path": p, "reason": r} for p, r in stray]})
    assert capsys.readouterr().out.splitlines()[-1] == (
        "2 files left out (--on-error skip): 1 not an image (unknown file type), 1 unreadable"
    )
    assert describe_skipped(stray) == (
        "1 file of no image type, first: notes.txt: unknown file type '.txt' (medadapt reads "
        ".png ...); 1 unreadable file, first: c.png: unreadable (truncated)"
    )


def test_the_tally_and_the_refusal_read_one_table_of_skipped_kinds(capsys):
    """The kinds' words lived in two tables (the CLI's tally, a refusal's description): one
    table now, every kind in both, in the same order."""
    from medadapt.cli import printing
    from medadapt.data import read_errors
    from medadapt.data.image_dataset import describe_skipped

    assert printing.SKIPPED_KINDS is read_errors.SKIPPED_KINDS
    assert [k.kind for k in read_errors.SKIPPED_KINDS] == ["not an image", "unreadable", "blank"]
    skipped = [("a.png", "a blank image: every pixel has the same value (nothing to learn from)"),
               ("notes.txt", "unknown file type '.txt'"), ("c.png", "unreadable (truncated)"),
               ("d.png", "unreadable (no header)")]  # fmt: skip
    printing.print_skipped({"skipped_files": [{"path": p, "reason": r} for p, r in skipped]})
    assert capsys.readouterr().out.splitlines()[-1] == (
        "4 files left out (--on-error skip): 1 not an image (unknown file type), 2 unreadable, "
        "1 blank (every pixel one value)"
    )
    assert describe_skipped(skipped) == (
        "1 file of no image type, first: notes.txt: unknown file type '.txt'; 2 unreadable "
        "files, first: c.png: unreadable (truncated); 1 blank image, first: a.png"
    )


def test_a_reader_note_is_said_once_per_command():
    """study reads its images twice: its conversion note was printed twice."""
    import logging

    from medadapt.cli import main

    def record(message: str, name: str = "medadapt.notes") -> logging.LogRecord:
        return logging.LogRecord(name, logging.WARNING, __file__, 1, message, None, None)

    main._SAID.clear()
    said = "4 colour images were converted to gray"
    assert main._said_once(record(said)) and not main._said_once(record(said))
    assert main._said_once(record("another note"))
    assert main._said_once(record(said, name="medadapt")) and main._said_once(record(said, "x"))
    main._SAID.clear()  # the next command says it again
    assert main._said_once(record(said))
