"""Micro-batching: requests that arrive together share one forward pass.

Instances from concurrent requests are queued; a collector takes the first waiting instance,
then waits at most ``max_wait_ms`` for more (up to ``max_batch``), and hands the batch to a
single worker thread, which runs one mixed-adapter forward pass per base model. Every
instance's future is resolved with its own result, so a request never waits for more than one
batch window plus one forward pass. When a shared pass fails, it is re-run request by request,
so one bad request fails alone and the others in its batch still get their answers.

The queue is bounded: a request whose instances would take it past ``max_queue`` while others
wait is refused at once with :class:`Overloaded` (HTTP 503 with ``Retry-After``), so memory
stays flat however many clients send. Work is never run on two threads at once: inline work
(on the event loop) runs only while the worker thread has nothing queued or running.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from medadapt.errors import MedadaptError

log = logging.getLogger("medadapt.serve")
RETRY_AFTER_SECONDS = 1


class Overloaded(MedadaptError):
    """The server's bounded queues are full (HTTP 503 with ``Retry-After``): try again soon."""


@dataclass
class Item:
    """One instance waiting for its prediction."""

    key: Any  # what the runner groups by (the base model)
    payload: Any  # (instance dict, adapter id)
    future: asyncio.Future = field(repr=False)
    request: int = 0  # which submit() call it came from


class MicroBatcher:
    """Bounded-wait, bounded-size batching in front of a single worker thread.

    ``inline=True`` runs the work on the event loop itself: for models whose forward pass
    takes a few milliseconds this is faster than a worker thread, which would fight the event
    loop for the GIL at every small torch op (Python hands the GIL over every 5 ms).

    ``run(key, payloads) -> results`` is called on the worker thread with instances that share
    ``key``; ``before_batch()`` (also on the worker) runs first, e.g. to pick up new adapters.
    ``offload(key)`` True: batches holding ``key`` run on the worker thread even when
    ``inline`` (a forward pass too long to hold the event loop, e.g. an image model's).
    ``max_queue``: most instances waiting (see the module docstring).
    """

    def __init__(
        self,
        run: Callable[[Any, Sequence[Any]], Sequence[Any]],
        *,
        max_batch: int = 64,
        max_wait_ms: float = 5.0,
        before_batch: Callable[[], None] | None = None,
        on_batch: Callable[[int, float], None] | None = None,
        inline: bool = False,
        offload: Callable[[Any], bool] | None = None,
        max_queue: int = 4096,
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be positive, got {max_queue=}")
        self.run = run
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.before_batch = before_batch
        self.on_batch = on_batch
        self.inline = inline
        self.offload = offload
        self.max_queue = max_queue
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medadapt-model")
        self.queue: asyncio.Queue[Item] | None = None
        self.task: asyncio.Task | None = None
        self._requests = itertools.count()
        self._in_worker: set[Future] = set()  # queued or running on the worker thread

    async def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.worker.shutdown(wait=True)

    def _worker_busy(self) -> bool:
        self._in_worker = {f for f in self._in_worker if not f.done()}
        return bool(self._in_worker)

    async def _on_worker(self, fn: Callable[[], Any]) -> Any:
        """``fn`` on the worker thread; it counts as busy until ``fn`` has returned there
        (even if the awaiting request is cancelled)."""
        future = self.worker.submit(fn)
        self._in_worker.add(future)
        return await asyncio.wrap_future(future)

    async def call_in_worker(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` where the model work runs (e.g. a forced refresh): inline, unless the
        worker thread is busy, then after its work."""
        if self.inline and not self._worker_busy():
            return fn()
        return await self._on_worker(fn)

    async def submit(self, keyed_payloads: Sequence[tuple[Any, Any]]) -> list[Any]:
        """Queue one request's instances; results come back in the same order. Raises
        :class:`Overloaded` when others wait and these would pass ``max_queue``."""
        assert self.queue is not None, "MicroBatcher.start() was not called"
        waiting = self.queue.qsize()
        if waiting and waiting + len(keyed_payloads) > self.max_queue:
            raise Overloaded(
                f"the server is busy ({waiting} instances waiting for the model); retry in "
                f"{RETRY_AFTER_SECONDS} s"
            )
        loop = asyncio.get_running_loop()
        request = next(self._requests)
        items = [
            Item(key, payload, loop.create_future(), request) for key, payload in keyed_payloads
        ]
        for item in items:
            self.queue.put_nowait(item)
        return list(await asyncio.gather(*(item.future for item in items)))

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.queue is not None
        while True:
            batch = [await self.queue.get()]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), timeout))
                except TimeoutError:
                    break
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self._dispatch(batch)

    def _run_isolated(self, key: Any, items: list[Item]) -> list[tuple[list[Item], Any]]:
        """One pass for ``items``; if it fails and they come from several requests, one pass
        per request, so that only the failing request gets the error."""
        try:
            return [(items, self.run(key, [i.payload for i in items]))]
        except Exception as exc:
            requests: dict[int, list[Item]] = {}
            for item in items:
                requests.setdefault(item.request, []).append(item)
            if len(requests) == 1:
                return [(items, exc)]
        out: list[tuple[list[Item], Any]] = []
        for own in requests.values():
            try:
                out.append((own, self.run(key, [i.payload for i in own])))
            except Exception as exc:
                out.append((own, exc))
        return out

    async def _dispatch(self, batch: list[Item]) -> None:
        groups: dict[Any, list[Item]] = {}
        for item in batch:
            groups.setdefault(item.key, []).append(item)

        def work() -> list[tuple[list[Item], Any]]:
            started = time.perf_counter()
            if self.before_batch is not None:
                try:
                    self.before_batch()
                except Exception:  # e.g. the registry briefly unreadable: serve what is loaded
                    log.exception("before_batch failed; serving the adapters already loaded")
            out = []
            for key, items in groups.items():
                out += self._run_isolated(key, items)
            if self.on_batch is not None:
                self.on_batch(len(batch), time.perf_counter() - started)
            return out

        offloaded = self.offload is not None and any(self.offload(key) for key in groups)
        try:
            if self.inline and not offloaded and not self._worker_busy():
                results = work()
            else:
                results = await self._on_worker(work)
        except Exception as exc:
            results = [(batch, exc)]
        for items, outcome in results:
            for i, item in enumerate(items):
                if item.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    item.future.set_exception(outcome)
                else:
                    item.future.set_result(outcome[i])
