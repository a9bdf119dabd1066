"""Run independent jobs in spawned worker processes, and stop them cleanly when asked to.

Ctrl-C in a terminal sends SIGINT to the whole process group: the workers ignore it (they are
started with SIGINT ignored, and their initializer ignores it again), so only the main process
sees ``KeyboardInterrupt``. SIGTERM sent to the main process alone raises
:class:`~medadapt.errors.Interrupted` there. Either way the main process cancels what has not
started, terminates the workers (no orphans) and re-raises; finished jobs were already handled.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from medadapt.fileio import sigterm_interrupts  # SIGTERM raises Interrupted (site_node too)


@dataclass(frozen=True)
class Job:
    """``fn(arg)`` in a worker; ``fn`` must be a module-level function (it is pickled)."""

    fn: Callable[[Any], Any]
    arg: Any


def _ignore_sigint() -> None:  # worker initializer
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Workers are spawned inside ``submit``: started with SIGINT ignored, a worker never
    raises KeyboardInterrupt, not even while it is still importing (before its initializer)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _terminate(pool: ProcessPoolExecutor, running: Iterable[Future]) -> None:
    for future in running:
        future.cancel()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=10)
    # let the pool's manager thread finish closing its wake-up pipe: racing the interpreter's
    # exit, concurrent.futures' exit hook could write to it half-closed ("Bad file descriptor")
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(timeout=10)
        # on a loaded machine the join can time out; then the exit hook must not write to a
        # pipe the manager is closing: forget this pool's wake-up (the pool is shut down and
        # woken already; the interpreter still waits for the thread to end)
        from concurrent.futures import process as futures_process

        getattr(futures_process, "_threads_wakeups", {}).pop(manager, None)


def run_jobs(
    jobs: Iterable[Job],
    *,
    workers: int,
    on_done: Callable[[Job, Any], Iterable[Job]],
) -> None:
    """Run ``jobs``; ``on_done(job, result)`` runs in this process as each one finishes and
    returns follow-up jobs (that depended on it). ``workers <= 1``: in this process, in order."""
    with sigterm_interrupts():
        if workers <= 1:
            queue = deque(jobs)
            while queue:
                job = queue.popleft()
                queue.extend(on_done(job, job.fn(job.arg)))
            return
        context = multiprocessing.get_context("spawn")  # no fork after torch threads started
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_ignore_sigint
        )
        running: dict[Future, Job] = {}

        def submit(job: Job) -> None:
            with _sigint_ignored():
                running[pool.submit(job.fn, job.arg)] = job

        try:
            for job in jobs:
                submit(job)
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    for follow in on_done(job, future.result()):
                        submit(follow)
        except BaseException:
            _terminate(pool, running)
            raise
        pool.shutdown(wait=True)
