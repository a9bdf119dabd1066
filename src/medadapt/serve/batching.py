"""Micro-batching: requests that arrive together share one forward pass.

Instances from concurrent requests are queued; a collector takes the first waiting instance,
then waits at most ``max_wait_ms`` for more (up to ``max_batch``), and hands the batch to a
single worker thread, which runs one mixed-adapter forward pass per base model. Every
instance's future is resolved with its own result, so a request never waits for more than one
batch window plus one forward pass. When a shared pass fails, it is re-run request by request,
so one bad request fails alone and the others in its batch still get their answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("medadapt.serve")


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
    ) -> None:
        self.run = run
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.before_batch = before_batch
        self.on_batch = on_batch
        self.inline = inline
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medadapt-model")
        self.queue: asyncio.Queue[Item] | None = None
        self.task: asyncio.Task | None = None
        self._requests = itertools.count()

    async def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.worker.shutdown(wait=True)

    async def call_in_worker(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the model thread (e.g. a forced refresh)."""
        if self.inline:
            return fn()
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn)

    async def submit(self, keyed_payloads: Sequence[tuple[Any, Any]]) -> list[Any]:
        """Queue one request's instances; results come back in the same order."""
        assert self.queue is not None, "MicroBatcher.start() was not called"
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
            await self._dispatch(loop, batch)

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

    async def _dispatch(self, loop: asyncio.AbstractEventLoop, batch: list[Item]) -> None:
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

        try:
            results = work() if self.inline else await loop.run_in_executor(self.worker, work)
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
