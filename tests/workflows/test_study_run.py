"""Running a study: Ctrl-C and SIGTERM, exit codes, the progress bar, parallel jobs."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import typer
from rich.console import Console

from medadapt.cli import common
from medadapt.cli.main import app, interrupted_message, main
from medadapt.workflows.parallel import Job, run_jobs
from tests.tables import clinical_table
from tests.terminal import sigint_as_in_a_terminal

STUDY = [
    "--label",
    "outcome",
    "--group-column",
    "site",
    "--groups",
    "A,B",
    "--group",
    "C",
    "--fractions",
    "0.25,0.5,0.75,1",
    "--seeds",
    "4",
    "--methods",
    "base_only,head_only,bottleneck,lora",
    "--n-boot",
    "50",
    "--workers",
    "2",
]


def test_ctrl_c_exits_130_with_a_one_line_resume_hint(monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("medadapt.workflows.study.run_study", interrupted)
    data = tmp_path / "sites.csv"
    clinical_table(120).to_csv(data, index=False)
    with pytest.raises(SystemExit) as exit_:
        main(["study", "--data", str(data), "--out", str(tmp_path / "out"), *STUDY])
    assert exit_.value.code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "interrupted; re-run the same command to resume"
    )


def test_a_command_s_exit_code_becomes_the_process_exit_status():
    @app.command("exit-three-for-test")
    def _exit_three() -> None:
        raise typer.Exit(3)

    try:
        with pytest.raises(SystemExit) as exit_:
            main(["exit-three-for-test"])
        assert exit_.value.code == 3
    finally:
        app.registered_commands.pop()


def test_other_commands_say_what_an_interruption_leaves():
    assert interrupted_message(["train-base", "--data", "x.csv"]) == (
        "interrupted; files already finished were kept; re-run the command"
    )
    assert interrupted_message(["demo"]) == "interrupted; re-run the command to start it again"
    assert interrupted_message(["federate", "client", "--site", "Hungary"]) == (
        "interrupted; this site left the federation; the adapters of the runs it finished are "
        "kept in --out, if one was given"
    )
    assert interrupted_message(["federate", "server", "--base", "b"]) == (
        "interrupted; nothing was written (--out is written only when the run finishes); "
        "re-run the command"
    )


def _workers(pid: int) -> list[int]:
    """The spawned pool workers of ``pid`` (not the resource tracker)."""
    found = []
    for child in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True
    ).stdout.split():
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                if b"multiprocessing.spawn" in handle.read():
                    found.append(int(child))
        except FileNotFoundError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(
    ("sent", "to_group", "code"),
    [
        (signal.SIGINT, True, 130),
        # the same study again, stopped another way: make test-slow
        pytest.param(signal.SIGTERM, False, 143, marks=pytest.mark.slow),
    ],
)
def test_a_signal_stops_the_study_its_workers_and_says_how_to_resume(
    tmp_path, sent, to_group, code
):
    """Ctrl-C reaches the whole process group; SIGTERM (a scheduler, kill) the main process
    only. Either way: one line, no traceback from any worker, no orphan, finished points kept."""
    data = tmp_path / "sites.csv"
    clinical_table(400, seed=3).to_csv(data, index=False)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "medadapt.cli", "study", "--data", str(data), "--out"]
    proc = subprocess.Popen(
        [*command, str(out), *STUDY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        preexec_fn=sigint_as_in_a_terminal,  # Ctrl-C as a terminal's command gets it
    )
    deadline = time.monotonic() + 120
    while not list((out / "points").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = _workers(proc.pid)
    assert len(workers) == 2 and proc.poll() is None
    if to_group:
        os.killpg(proc.pid, sent)
    else:
        os.kill(proc.pid, sent)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "interrupted; re-run the same command to resume"
    time.sleep(0.5)
    assert [w for w in workers if _alive(w)] == []
    assert len(list((out / "points").glob("*.json"))) >= 1


def test_status_progress_shows_done_of_total_and_time_left(monkeypatch):
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=160, color_system=None)
    monkeypatch.setattr(common, "console", console)
    with common.status_progress("study", total=10) as step:
        step("resumed", already=4)
        step("one point")
    text = stream.getvalue()
    assert "4/10 resumed" in text and "5/10 one point" in text and " left " in text
    assert re.search(r"study done in \d+\.\d s$", text.rstrip().splitlines()[-1])


def test_a_log_file_gets_a_progress_line_now_and_then(monkeypatch, tmp_path):
    """A trial's image study, its output going to a file, printed nothing for five minutes,
    as if hung: without a terminal, a plain line every LOG_EVERY seconds; captured output
    (tests, a notebook: no operating-system stream) gets none."""
    clock = iter([0.0, 10.0, 70.0, 75.0, 140.0, 200.0])
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    with (tmp_path / "log.txt").open("w") as log:
        monkeypatch.setattr(common, "console", Console(file=log, width=200, color_system=None))
        with common.status_progress("study", total=10) as step:
            step("resumed", already=4)  # at 10 s: the clock starts again
            step("a point")  # 70 s: 60 s since the start, a line
            step("epoch 3")  # 75 s: too soon
            step("a point")  # 140 s: a line
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert lines == [
        "study: 5 of 10 done, 1 min 0 s so far (about 5 min 0 s left)",
        "study: 6 of 10 done, 2 min 10 s so far (about 4 min 20 s left)",
        "study done in 200.0 s",
    ]
    clock = iter([0.0, 178.0, 300.0, 400.0, 500.0])  # a trial's first of 106 said "5 h 10 min"
    with (tmp_path / "few.txt").open("w") as log:
        monkeypatch.setattr(common, "console", Console(file=log, width=200, color_system=None))
        with common.status_progress("study", total=106) as step:
            step("a point")  # 178 s: 1 of 106, no estimate yet
            step("a point")  # 300 s: 2
            step("a point")  # 400 s: 3 done, an estimate
    assert (tmp_path / "few.txt").read_text().splitlines()[:3] == [
        "study: 1 of 106 done, 2 min 58 s so far",
        "study: 2 of 106 done, 5 min 0 s so far",
        "study: 3 of 106 done, 6 min 40 s so far (about 3 h 10 min left)",  # after the first
    ]
    captured = io.StringIO()  # no fileno: nothing but the closing line
    monkeypatch.setattr(common, "console", Console(file=captured, width=200, color_system=None))
    clock = iter([0.0, 500.0])
    with common.status_progress("study", total=10) as step:
        step("a point")
    assert captured.getvalue().splitlines() == ["study done in 500.0 s"]
    for took, said in ((0.02, []), (3.0, ["fetch (DICOMweb) done in 3.0 s"])):
        captured = io.StringIO()  # a step said only where it was slow (a trial's PACS
        monkeypatch.setattr(common, "console", Console(file=captured, color_system=None))
        clock = iter([0.0, took])  # predict: "fetch (DICOMweb) done in 0.0 s")
        with common.status_progress("fetch (DICOMweb)", said_after=1.0):
            pass
        assert captured.getvalue().splitlines() == said


def _square(x: int) -> int:
    return x * x


def test_run_jobs_starts_follow_up_jobs_when_their_parent_is_done():
    finished = []

    def on_done(job: Job, result: int) -> list[Job]:
        finished.append(result)
        return [Job(_square, result)] if result < 100 else []

    run_jobs([Job(_square, 2), Job(_square, 3)], workers=2, on_done=on_done)
    assert sorted(finished) == [4, 9, 16, 81, 256, 6561]
    assert finished.index(16) > finished.index(4) and finished.index(81) > finished.index(9)
