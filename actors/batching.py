"""Many small calls to one Ray actor travel together.

While a batch is on its way, new items wait and leave together in the next one: a caller alone
pays no delay, and 64 concurrent callers share a few Ray calls instead of 64 (each Ray call costs
about a millisecond of CPU here, whatever it carries). A batch holds at most ``max_size`` items
and at most ``max_inflight`` batches travel at once. Each item gets its own answer or error.
With ``max_waiting``, a submit that would make more items wait than that is refused at once
(``Overloaded``), so a burst larger than the runtime can take never queues without bound. With a
``timeout``, a submit not answered within it fails with ``TimedOut``: an item that had not left yet
is taken out (nothing of it is done), one already on its way may still be done.

Used by the gateway for creates and status queries (gateway -> request host) and by request hosts
for activities (host -> process actor).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import Overloaded, TimedOut

Send = Callable[[list[Any]], Awaitable[list[Any]]]


class Batcher:
    def __init__(self, send: Send, max_size: int = 64, max_inflight: int = 2, max_waiting: int | None = None):
        self.send = send
        self.max_waiting = max_waiting
        self.max_size = max_size
        self.max_inflight = max_inflight
        self.pending: list[tuple[Any, asyncio.Future]] = []
        self.inflight = 0
        self._tasks: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks

    async def submit(self, item: Any, timeout: float | None = None) -> Any:
        if self.max_waiting is not None and len(self.pending) >= self.max_waiting:
            raise Overloaded(f"{len(self.pending)} items are already waiting; retry shortly")
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.pending.append((item, fut))
        if self.inflight < self.max_inflight:
            self._flush()
        if timeout is None:
            result = await fut
        else:
            expiry = loop.call_later(timeout, self._expire, fut, timeout)
            try:
                result = await fut
            finally:
                expiry.cancel()
        if isinstance(result, Exception):
            raise result
        return result

    def _expire(self, fut: asyncio.Future, timeout: float) -> None:
        if fut.done():
            return
        for n, (_, waiting) in enumerate(self.pending):
            if waiting is fut:  # not sent yet: it never will be
                del self.pending[n]
                fut.set_result(TimedOut(f"no answer within {timeout:g} s; it was still waiting to be sent, "
                                        "so nothing was done; retry shortly"))
                return
        fut.set_result(TimedOut(f"no answer within {timeout:g} s; it was sent, so it may still be done "
                                "(a create sent again with the same Idempotency-Key is answered with the "
                                "request it made)"))

    def _flush(self) -> None:
        batch, self.pending = self.pending[: self.max_size], self.pending[self.max_size:]
        self.inflight += 1
        task = asyncio.get_running_loop().create_task(self._travel(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _travel(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        try:
            results = await self.send([item for item, _ in batch])
        except Exception as exc:  # the call itself failed: every item in it gets the error
            results = [exc] * len(batch)
        finally:
            self.inflight -= 1
            if self.pending:
                self._flush()
        if not isinstance(results, list) or len(results) != len(batch):  # never leave a caller waiting
            results = [RuntimeError(f"a batch of {len(batch)} items got another number of answers")] * len(batch)
        for (_, fut), result in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(result)
