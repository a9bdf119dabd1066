"""SIGKILL during ``add`` and ``import``: whatever the moment, the registry stays consistent.

Each run forks a child (torch and medadapt already imported, so a run costs milliseconds) that
adds or imports one new adapter, and SIGKILLs it either after a random delay (spread over how
long complete runs take right now) or at the N-th line it executes in medadapt.registry (a
sweep over every stage: staging, blob renames, fsyncs, the transaction, the commit). After
each kill the registry must open, pass SQLite's integrity check, list every version completed
before plus at most the one in flight, and every listed version must verify; a retry must then
succeed. At the end, gc leaves exactly the referenced files.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import medadapt.registry
from medadapt.adapters import AdapterModel
from medadapt.registry import Registry
from tests.registry.helpers import make_adapter, tiny_base

REGISTRY_CODE = str(Path(medadapt.registry.__file__).parent)
WIDTH = 64


def _trace_lines(kill_at: int | None, counter: list[int]) -> None:
    """Count lines run in medadapt.registry; SIGKILL this process at line ``kill_at``."""

    def local(frame, event, arg):
        if event == "line":
            counter[0] += 1
            if kill_at is not None and counter[0] >= kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return local

    def start(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(REGISTRY_CODE) else None

    sys.settrace(start)


def run_in_child(
    action,
    *,
    kill_after: float | None = None,
    kill_at_line: int | None = None,
    count_lines: bool = False,
):
    """Run ``action()`` in a forked child; returns (outcome, lines traced).

    outcome: "killed" (SIGKILL arrived before it finished), "done" or "failed".
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            counter = [0]
            if kill_at_line is not None or count_lines:
                _trace_lines(kill_at_line, counter)
            os.write(write_end, b"s")
            action()
            sys.settrace(None)
            os.write(write_end, str(counter[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        assert os.read(read_end, 1) == b"s"
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)  # a zombie ignores it: it finished first
        _, status = os.waitpid(pid, 0)
        tail = os.read(read_end, 64)
    finally:
        os.close(read_end)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return "killed", None
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return "done", int(tail or 0)
    return "failed", None


def _manifest_blob(adapter_dir: Path) -> str:
    return hashlib.sha256((adapter_dir / "adapter.json").read_bytes()).hexdigest()


def check_consistent(root: Path, complete: dict[str, str], in_flight: str) -> str | None:
    """Assert the registry after a kill; returns the in-flight version's ref if it landed."""
    reg = Registry(root)
    with reg.index.read() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    listed = {v.ref: v.manifest_blob for v in reg.list()}
    assert {r: listed.get(r) for r in complete} == complete  # nothing completed is lost
    extra = {r: blob for r, blob in listed.items() if r not in complete}
    assert len(extra) <= 1 and all(blob == in_flight for blob in extra.values())
    report = reg.verify()
    assert report.ok, report.problems
    assert sorted(report.checked) == sorted(listed)
    return next(iter(extra), None)


def kill_loop(root: Path, jobs, plan) -> Counter:
    """For each (action, retry, manifest blob) in ``jobs``: run in a child, kill it as
    ``plan(i, durations)`` says, check, then retry in-process (so the next run starts from a
    registry holding that version). ``durations``: how long recent complete runs took (the
    retries), so random delays follow the machine's current speed."""
    complete: dict[str, str] = {ref: v.manifest_blob for ref, v in _listed(root).items()}
    outcomes: Counter = Counter()
    durations: list[float] = []
    for i, (action, retry, blob) in enumerate(jobs):
        outcome, _ = run_in_child(action, **plan(i, durations))
        assert outcome != "failed"
        landed = check_consistent(root, complete, blob)
        if outcome == "killed":
            outcome += " after commit" if landed else " before commit"
        outcomes[outcome] += 1
        started = time.perf_counter()
        version = retry()
        if not landed:
            durations.append(time.perf_counter() - started)
        assert version.manifest_blob == blob
        assert landed in (None, version.ref)  # a landed version is found again, not re-added
        complete[version.ref] = blob
    print(f"\n{dict(outcomes)}")
    reg = Registry(root)
    reg.gc(min_age_s=0)
    report = reg.verify()
    assert report.ok and report.orphans == [] and report.leftovers == 0
    used = {v.manifest_blob for v in reg.list()} | {v.weights_blob for v in reg.list()}
    assert set(reg.objects.digests()) == used
    model = AdapterModel(tiny_base(width=WIDTH))
    for v in reg.list()[-3:]:
        model.load_adapter(reg.open_adapter(v.ref, base=model.fingerprint), name=f"a{v.version}")
    return outcomes


def _listed(root: Path):
    return {v.ref: v for v in Registry(root).list()}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Distinct adapters (fresh blobs for every run), wider than the other tests' so each
    write has some bytes to move."""
    base = tmp_path_factory.mktemp("kill-sources")
    return [make_adapter(base / f"a{i}", seed=i, r=8, width=WIDTH) for i in range(100)]


@pytest.fixture(scope="module")
def archives(sources, tmp_path_factory):
    base = tmp_path_factory.mktemp("kill-archives")
    source = Registry(base / "sender", create=True)
    out = []
    for i, adapter in enumerate(sources[:46]):
        v = source.add(adapter, name="sent", parent=None).version
        out.append(source.export(v.ref, base / f"x{i}.tar.gz").path)
    return out


def _add_jobs(root: Path, adapters: list[Path]):
    def job(adapter: Path):
        def action():
            Registry(root, create=True).add(adapter, name="heart")

        def retry():
            return Registry(root, create=True).add(adapter, name="heart").version

        return action, retry, _manifest_blob(adapter)

    return [job(a) for a in adapters]


def _import_jobs(root: Path, paths: list[Path], adapters: list[Path]):
    def job(path: Path, adapter: Path):
        def action():
            Registry(root, create=True).import_(path)

        def retry():
            return Registry(root, create=True).import_(path).version

        return action, retry, _manifest_blob(adapter)

    return [job(p, a) for p, a in zip(paths, adapters, strict=True)]


def _count_lines(jobs) -> int:
    """Lines of registry code a complete run executes (the first run creates the registry)."""
    counts = []
    for action, _, _ in jobs:
        outcome, lines = run_in_child(action, count_lines=True)
        assert outcome == "done"
        counts.append(lines)
    return counts[-1]


def _random_times(seed: int):
    """Delays uniform over [0, the median duration of the last five complete runs]."""
    rng = random.Random(seed)

    def plan(i: int, durations: list[float]) -> dict:
        recent = sorted(durations[-5:]) or [0.05]
        return {"kill_after": rng.uniform(0.0, recent[len(recent) // 2])}

    return plan


def _line_sweep(n_lines: int, n: int, seed: int):
    """``n`` kill points spread over [1, n_lines], each jittered inside its slice; the last
    is the last line (after the commit)."""
    rng = random.Random(seed)
    edges = [1 + (n_lines - 1) * i / (n - 1) for i in range(n)]
    points = [rng.randint(int(a), max(int(a), int(b) - 1)) for a, b in itertools.pairwise(edges)]
    points.append(n_lines)
    return lambda i, durations: {"kill_at_line": points[i]}


def test_add_survives_sigkill_at_random_moments(tmp_path, sources):
    root = tmp_path / "reg"
    jobs = _add_jobs(root, sources[:41])
    jobs[0][1]()  # create the registry
    outcomes = kill_loop(root, jobs[1:], _random_times(seed=1))
    assert outcomes["killed before commit"] >= 40 // 4, outcomes  # most die part-way through
    assert len(Registry(root).list()) == 41


def test_add_survives_sigkill_at_every_stage(tmp_path, sources):
    root = tmp_path / "reg"
    jobs = _add_jobs(root, sources[41:71])
    n_lines = _count_lines(jobs[:2])
    print(f"\nan add runs {n_lines} lines of registry code")
    outcomes = kill_loop(root, jobs[2:], _line_sweep(n_lines, 28, seed=2))
    assert outcomes["killed before commit"] >= 14 and outcomes["killed after commit"] >= 1, outcomes
    assert outcomes["done"] == 0


def test_import_survives_sigkill_at_random_moments(tmp_path, sources, archives):
    root = tmp_path / "reg"
    jobs = _import_jobs(root, archives[:31], sources[:31])
    jobs[0][1]()
    outcomes = kill_loop(root, jobs[1:], _random_times(seed=3))
    assert outcomes["killed before commit"] >= 30 // 4, outcomes


def test_import_survives_sigkill_at_every_stage(tmp_path, sources, archives):
    root = tmp_path / "reg"
    jobs = _import_jobs(root, archives[31:46], sources[31:46])
    n_lines = _count_lines(jobs[:2])
    print(f"\nan import runs {n_lines} lines of registry code")
    outcomes = kill_loop(root, jobs[2:], _line_sweep(n_lines, 13, seed=4))
    assert outcomes["killed before commit"] >= 7 and outcomes["killed after commit"] >= 1, outcomes
    assert outcomes["done"] == 0


def test_the_first_add_survives_sigkill_while_the_registry_is_created(tmp_path, sources):
    """Killed while making a new registry: the next add finishes the creation."""
    n_lines = _count_lines(_add_jobs(tmp_path / "probe", sources[71:72]))
    for i, kill in enumerate(_line_sweep(n_lines, 10, seed=5)(j, []) for j in range(10)):
        root = tmp_path / f"reg{i}"
        [(action, retry, blob)] = _add_jobs(root, sources[72 + i : 73 + i])
        assert run_in_child(action, **kill)[0] == "killed"
        if (root / "registry.sqlite").exists():
            check_consistent(root, {}, blob)
        assert retry().manifest_blob == blob
        assert Registry(root).verify().ok


@pytest.fixture(scope="module")
def based_sources(tmp_path_factory):
    """Adapters that record the path of their own (tiny tabular) base, as 'adapt' outputs
    do: each CLI add below must also copy a base."""
    from tests.registry.helpers import make_adapter_on_base, make_base

    root = tmp_path_factory.mktemp("kill-based")
    return [
        make_adapter_on_base(root / f"a{i}", make_base(root / f"base{i}", seed=i), seed=i)
        for i in range(12)
    ]


def _stored_blob(adapter: Path) -> str:
    """The manifest blob the registry stores for ``adapter`` (local paths stripped)."""
    from medadapt.adapters.state import read_manifest
    from medadapt.registry.transfer import _without_local_paths

    data = (adapter / "adapter.json").read_bytes()
    return hashlib.sha256(_without_local_paths(read_manifest(adapter), data)[1]).hexdigest()


def _cli_add_jobs(root: Path, adapters: list[Path], *, kill_after_commit: bool = False):
    from medadapt.cli.main import main

    def job(i: int, adapter: Path):
        argv = ["registry", "--root", str(root), "add", str(adapter), "--name", f"site{i}"]

        def action():
            if kill_after_commit:  # the moment a base copied after the commit was lost
                from medadapt.registry import transfer

                register = transfer.register

                def register_then_die(*args, **kwargs):
                    register(*args, **kwargs)
                    os.kill(os.getpid(), signal.SIGKILL)

                transfer.register = register_then_die
            main(argv)

        def retry():
            main(argv)
            return Registry(root).get(f"site{i}@latest")

        return action, retry, _stored_blob(adapter)

    return [job(i, a) for i, a in enumerate(adapters)]


def test_cli_add_survives_sigkill_and_the_retry_keeps_its_base(tmp_path, based_sources, capsys):
    """``medadapt registry add`` killed at random moments, at points spread over its run and
    right after its index commit: after the retry, every adapter has its base model."""
    from medadapt.registry.bases import find_base

    root = tmp_path / "reg"
    jobs = _cli_add_jobs(root, based_sources)
    n_lines = _count_lines(jobs[:1])  # also creates the registry with site0@1
    sweep, times = _line_sweep(n_lines, 6, seed=6), _random_times(seed=7)
    plans = [{}] + [sweep(i, []) for i in range(6)] + [None] * 4
    jobs[1] = _cli_add_jobs(root, based_sources[:2], kill_after_commit=True)[1]
    complete = {v.ref: v.manifest_blob for v in Registry(root).list()}
    durations: list[float] = []
    outcomes: Counter = Counter()
    for i, (action, retry, blob) in enumerate(jobs[1:], start=1):
        plan = plans[i - 1] if plans[i - 1] is not None else times(i, durations)
        outcome, _ = run_in_child(action, **plan)
        assert outcome != "failed"
        landed = check_consistent(root, complete, blob)
        outcomes[f"{outcome} {'after' if landed else 'before'} commit"] += 1
        capsys.readouterr()
        started = time.perf_counter()
        version = retry()
        durations.append(time.perf_counter() - started)
        out = capsys.readouterr().out
        assert version.manifest_blob == blob and "cannot be served yet" not in out, out
        find_base(root, version.base_fingerprint["weights"])
        complete[version.ref] = blob
    print(f"\n{dict(outcomes)}")
    assert outcomes["killed after commit"] >= 1 and outcomes["killed before commit"] >= 4
    report = Registry(root).verify()
    assert report.ok and len(report.checked) == len(report.bases) == len(based_sources)
