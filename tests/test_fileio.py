"""Atomic writes: whole files only, with the mode the umask gives."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import pytest

from medadapt.errors import DataError
from medadapt.fileio import atomic_write, atomic_write_bytes, current_umask


def _private_writer(data: bytes):
    """Writes like safetensors does: a new file with mode 0600, whatever the umask."""

    def write(tmp):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    return write


@pytest.mark.parametrize(
    ("umask", "mode"),
    [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)],
    ids=["umask022", "umask077", "umask002"],
)
def test_atomic_writes_follow_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        assert current_umask() == umask
        atomic_write(tmp_path / "w.bin", _private_writer(b"weights"))
        atomic_write_bytes(tmp_path / "m.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "w.bin").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == mode
    assert (tmp_path / "w.bin").read_bytes() == b"weights"


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "m.json"
    atomic_write_bytes(path, b"old")

    def broken(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_a_path_inside_a_staged_directory_is_recorded_where_it_will_be(tmp_path):
    from medadapt.fileio import destination_of, staged_directory

    with staged_directory(tmp_path / "fed") as staged:
        inside = staged / "base"
        assert staged.name.startswith(".fed.tmp-")
        assert destination_of(inside) == tmp_path / "fed" / "base"
        inside.mkdir()
    assert (destination_of(inside)).is_dir()  # it is there once the output took its place
    assert destination_of(tmp_path / "plain" / "x") == tmp_path / "plain" / "x"


def test_a_report_must_be_named_as_the_html_page_it_is(tmp_path):
    from medadapt.errors import DataError
    from medadapt.fileio import check_report_file

    with pytest.raises(DataError) as refused:
        check_report_file(tmp_path / "x.pdf")
    assert str(refused.value) == (
        f"--report {tmp_path / 'x.pdf'}: the report is an HTML page; give a file name ending "
        "in .html or .htm"
    )
    with pytest.raises(DataError, match=r"--report .*: the report is an HTML page"):
        check_report_file(tmp_path / "report")  # no suffix at all
    for name in ("x.html", "x.htm", "X.HTML"):
        check_report_file(tmp_path / name)  # accepted
    check_report_file(None)
    with pytest.raises(DataError, match="is a directory; give a file name inside it"):
        check_report_file(tmp_path)  # the directory's own message, not the suffix's


def test_a_secret_file_is_one_word_and_every_refusal_names_the_flag(tmp_path):
    from medadapt.errors import DataError
    from medadapt.fileio import read_secret

    token = tmp_path / "token.txt"
    token.write_text("0123456789abcdef\n")
    token.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file only its owner reads: not a word
        assert read_secret(token, "--token-file", what="bearer token", min_length=16) == (
            "0123456789abcdef"
        )
    cases = {
        tmp_path / "missing": "does not exist; check the path",
        tmp_path: "is not a file: write the bearer token in a file and pass it",
    }
    for path, says in cases.items():
        with pytest.raises(DataError) as refused:
            read_secret(path, "--token-file", what="bearer token")
        assert str(refused.value) == f"--token-file {path} {says}"
    for text, says in [
        ("\n", f"--token-file {token} is empty: write the bearer token in it"),
        ("abc def", f"--token-file {token} holds more than one word: keep only the bearer token"),
        ("short", f"--token-file: the bearer token in {token} is shorter than 16 characters; use "
                  "a long random token (e.g. 'openssl rand -hex 32')"),
    ]:  # fmt: skip
        token.write_text(text)
        with pytest.raises(DataError) as refused:
            read_secret(token, "--token-file", what="bearer token", min_length=16)
        assert str(refused.value) == says


def test_a_secret_file_others_may_read_is_warned_of_with_the_chmod_that_mends_it(tmp_path):
    """A world-readable ``--token-file`` was taken without a word (a trial's 0644 file): the
    token is only as private as its file, so other readers are named, as ssh names a key's."""
    from medadapt.fileio import read_secret

    token = tmp_path / "token.txt"
    token.write_text("0123456789abcdef\n")
    for mode, who in [(0o644, "every user of this machine"), (0o640, "the users of its group")]:
        token.chmod(mode)
        with pytest.warns(UserWarning) as said:
            assert read_secret(token, "--token-file", what="bearer token") == "0123456789abcdef"
        assert [str(w.message) for w in said] == [
            f"--token-file {token} can be read by {who} (mode {mode:o}), and whoever reads the "
            f"bearer token can use it: restrict it with 'chmod 600 {token}'"
        ]


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_removes_the_staged_directory(tmp_path, signum, request):
    """``kill -TERM`` (or Ctrl-C) during a command left an empty ``.base.tmp-XXXX`` beside its
    output: the staged directory is removed on both, and the signal still ends the work."""
    import signal

    from medadapt.errors import Interrupted
    from medadapt.fileio import staged_directory

    before = signal.getsignal(signal.SIGTERM)
    raised = Interrupted if signum == "SIGTERM" else KeyboardInterrupt
    # Ctrl-C as a terminal's command gets it (a background job's runner may ignore SIGINT)
    was = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, was))
    with pytest.raises(raised), staged_directory(tmp_path / "base") as staged:
        (staged / "model.json").write_text("{}")
        os.kill(os.getpid(), getattr(signal, signum))  # handled before the next line runs
        raise AssertionError("the signal did not stop the work")
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is before  # put back as it was


def test_a_sigterm_is_not_swallowed_by_an_except_exception(tmp_path):
    """A reader's ``except Exception`` (trying a file's format) once caught the SIGTERM and
    the command ran on to the end: it derives from BaseException, as Ctrl-C's does."""
    import contextlib
    import signal

    from medadapt.errors import Interrupted, MedadaptError
    from medadapt.fileio import staged_directory

    assert not issubclass(Interrupted, Exception) and not issubclass(Interrupted, MedadaptError)
    reader = contextlib.suppress(Exception)  # what a reader trying a file's format does
    with pytest.raises(Interrupted), staged_directory(tmp_path / "base"), reader:
        os.kill(os.getpid(), signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def test_an_output_whose_folder_is_missing_is_said_when_it_is_made(tmp_path, caplog):
    """A trial's mistyped --out /nonexistent/dir/p.csv made a folder tree without a word: it
    is still made (as users expect of --out results/p.csv), when the output is written, and
    said, naming the first folder made; a refused command makes none and says nothing."""
    from medadapt.fileio import check_output_file, make_parent

    target = tmp_path / "new" / "deeper" / "p.csv"
    with caplog.at_level("WARNING", logger="medadapt.notes"):
        check_output_file(target, flag="--out")  # checked before the work: nothing said yet
        assert not caplog.records and not (tmp_path / "new").exists()
        make_parent(target)
        make_parent(tmp_path / "p.csv")  # its folder exists: no word
    assert [r.getMessage() for r in caplog.records] == [
        f"made the folder {tmp_path / 'new'} and the folders in it down to {target.parent} to "
        f"write {target} (it did not exist; check the path if that is not what you meant)"
    ]
    assert target.parent.is_dir()


@pytest.mark.parametrize("check", ["file", "dir"])
def test_an_output_that_would_make_a_folder_at_the_top_of_the_file_system_is_refused(check):
    """A trial (running as root): ``predict --out /nonexistent/dir/x.csv`` made /nonexistent
    with only a note; the folder is checked before any work, like every output path."""
    from medadapt.fileio import check_output_dir, check_output_file

    target = Path("/medadapt-no-such-folder/dir/x.csv")
    with pytest.raises(DataError) as error:
        if check == "file":
            check_output_file(target, flag="--out")
        else:
            check_output_dir(target.parent, flag="--out")
    named = target if check == "file" else target.parent
    made = target.parent if check == "file" else target.parent.parent
    assert str(error.value) == (
        f"--out {named}: /medadapt-no-such-folder does not exist, and medadapt makes no folder "
        "at the top of the file system: check the path (a relative one has no leading /), or "
        f"make the folder first (mkdir -p {made})"
    )
    assert not Path("/medadapt-no-such-folder").exists()


def test_a_relative_output_path_may_make_its_folders(tmp_path, monkeypatch):
    """Only a path written from the root is refused so: ``--out runs/va/p.csv`` makes runs/."""
    from medadapt.fileio import check_output_file

    monkeypatch.chdir(tmp_path)
    check_output_file(Path("runs/va/p.csv"), flag="--out")  # no refusal


def test_force_removes_an_earlier_outputs_own_files_this_one_does_not_write(tmp_path, caplog):
    """A trial's federated run with --personalise, replaced with --force by one without it,
    kept the old personalised/ adapters byte for byte beside the new run's files: the earlier
    output's own files go (said), the user's files stay."""
    import logging

    from medadapt.fileio import staged_directory

    out = tmp_path / "run"
    (out / "personalised" / "north").mkdir(parents=True)
    (out / "personalised" / "north" / "adapter.json").write_text("{}")
    (out / "federated.json").write_text('{"old": true}')
    (out / "notes.txt").write_text("mine")
    owned = ("federated.json", "personalised")
    with (
        caplog.at_level(logging.WARNING, logger="medadapt.notes"),
        staged_directory(out, owned=owned) as staged,
    ):
        (staged / "federated.json").write_text('{"old": false}')
    assert sorted(p.name for p in out.iterdir()) == ["federated.json", "notes.txt"]
    assert (out / "federated.json").read_text() == '{"old": false}'
    assert (out / "notes.txt").read_text() == "mine"
    assert [r.getMessage() for r in caplog.records] == [
        f"removed the earlier output's personalised/ from {out} (--force; this run wrote none)"
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]  # nothing left


def test_a_federated_run_replaces_its_own_folder_but_writes_into_no_other_output(tmp_path):
    """A trial's ``federate simulate --out BASE --force`` overwrote a base's split.json; a
    run's own folder holds an adapter.json beside federated.json, and stays replaceable."""
    from medadapt.fileio import check_output_dir, other_outputs

    own = {"federated.json": "a run"}
    run = tmp_path / "run"
    run.mkdir()
    (run / "federated.json").write_text("{}")
    (run / "adapter.json").write_text("{}")
    check_output_dir(run, flag="--out", force=True, markers=own,
                     foreign=other_outputs("federated.json"))  # fmt: skip
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter.json").write_text("{}")  # an adapt output: another kind
    with pytest.raises(DataError, match=r"holds an adapter \(adapter.json\), which writing"):
        check_output_dir(adapter, flag="--out", force=True, markers=own,
                         foreign=other_outputs("federated.json"))  # fmt: skip
